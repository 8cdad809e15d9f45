# amaranth: UnusedElaboratable=no
"""Blocks composed by wiring: FFT → spectral pooling → split-complex activation, bit-exact
against the golden models applied one after the other, under random gaps and stalls.

A rejected chain's blocks are never elaborated (the first line silences Amaranth's
warning about that).
"""

import cocotb
import numpy as np
import pytest

from fdcnn.golden.fft import FFTConfig, StreamingFFTModel
from fdcnn.golden.pool import PoolConfig, SpectralPoolModel
from fdcnn.golden.pwl import PiecewiseLinearModel, PWLConfig
from tb.bench import StreamBench, beats_for

SIZE, POOLED = 64, 16
FFT = FFTConfig(size=SIZE, output_order="bit_reversed")
POOL = PoolConfig(spectrum_shape=(1, SIZE), pooled_shape=(1, POOLED), order="bit_reversed",
                  nyquist="zero")
PWL = PWLConfig(function="tanh", input_format=(16, 12), output_format=(16, 15), segments=16,
                breakpoints="fit", complex=True)


def _blocks():
    from fdcnn.hdl.fft import StreamingFFT
    from fdcnn.hdl.pool import SpectralPool
    from fdcnn.hdl.pwl import PiecewiseLinear
    return [("fft", StreamingFFT(FFT)), ("pool", SpectralPool(POOL)),
            ("activation", PiecewiseLinear(PWL))]


def golden_chain(real, imag):
    """The three golden models in series; the last one's overflow per output frame."""
    real, imag, _ = StreamingFFTModel(FFT).transform(real, imag)
    real, imag, _ = SpectralPoolModel(POOL).transform(real, imag)
    activation = PiecewiseLinearModel(PWL)
    (real, real_saturated), (imag, imag_saturated) = (activation.evaluate(values)
                                                      for values in (real, imag))
    return real, imag, (real_saturated | imag_saturated).any(axis=1)


@cocotb.test()
async def chain_matches_golden(dut):
    from tb.runner import case
    bench = StreamBench(dut, case(), POOLED)
    rng = np.random.default_rng(12)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 6, SIZE))
    real[5], imag[5] = 2 ** 15 - 1, -2 ** 15          # a DC frame that saturates tanh
    want = golden_chain(real, imag)
    await bench.start()
    bench.source.send(beats_for(real, imag))
    bench.check(await bench.collect(want[0].size, settle=4 * SIZE), *want)


def test_rtl_chain_matches_golden():
    from fdcnn.hdl.chain import Chain
    from tb.runner import SIM_ROOT, simulate
    simulate(Chain(_blocks()), toplevel="chain", test_module="tb.test_chain",
             testcase="chain_matches_golden", build_dir=SIM_ROOT / "chain_fft_pool_tanh",
             parameters=dict(gap=0.3, stall=0.3, seed=21))


def test_chain_rejects_mismatched_neighbours():
    from fdcnn.hdl.chain import Chain
    from fdcnn.hdl.fft import StreamingFFT
    from fdcnn.hdl.pool import SpectralPool
    with pytest.raises(ValueError) as raised:
        Chain([("fft", StreamingFFT(FFTConfig(size=64, scaling="none"))),
               ("pool", SpectralPool(POOL))])
    assert str(raised.value) == ("fft emits 23-bit complex samples but pool takes "
                                 "16-bit complex samples")


def test_chain_exposes_every_block_port():
    from fdcnn.hdl.axis import describe, emit
    from fdcnn.hdl.chain import Chain
    chain = Chain(_blocks())
    ports = {port["name"] for port in describe(chain, "chain")["ports"]}
    assert {"s_axis_tdata", "m_axis_tdata", "overflow", "fft_overflow", "fft_tlast_missing",
            "pool_overflow", "pool_tlast_unexpected"} <= ports
    verilog = emit(chain, "chain")
    assert all(f" {port};" in verilog for port in ports - {"clk", "rst"})
    assert chain.latency == sum(block.latency for _, block in chain.blocks)
