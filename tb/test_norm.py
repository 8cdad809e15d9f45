"""Verification of the frame normalization unit.

* cocotb tests (``norm_*``) on :class:`tb.bench.StreamBench`: bit-exact against
  :class:`~fdcnn.golden.norm.FrameNormModel` under random gaps and stalls, frames back to back;
  one sample per clock with the exact latency; a paused source; sustained backpressure; reset
  mid-frame; tlast checks.
* golden model: every ``z`` within :meth:`~fdcnn.golden.norm.FrameNormModel.error_bound` of
  the exact ``(v − mean) / std``, and parameter messages.
"""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from fdcnn.golden.norm import FrameNormModel, NormConfig
from tb.bench import StreamBench, beats_for
from tb.checks import assert_parameter_error
from tb.runner import case_id, simulate_case


def stimulus(model, seed):
    """Random full-range frames, small-range frames, a real frame, a constant frame (``D = 0``)
    and a single spike (``|z| = √(N−1)``, which saturates a narrow output)."""
    rng = np.random.default_rng(seed)
    frame, (low, high) = model.frame, (-(1 << (model.data_width - 1)),
                                       (1 << (model.data_width - 1)) - 1)
    real = rng.integers(low, high + 1, (6, frame))
    imag = rng.integers(low, high + 1, (6, frame))
    real[2:4], imag[2:4] = real[2:4] // 997, imag[2:4] // 991
    imag[4] = 0
    real[5], imag[5] = high, low
    spike = np.zeros((2, frame), dtype=np.int64)
    spike[:, frame // 3] = high
    return np.concatenate([real, spike[:1]]), np.concatenate([imag, spike[1:]])


class NormBench(StreamBench):
    def __init__(self, dut, parameters):
        self.model = FrameNormModel(NormConfig.from_mapping(parameters))
        super().__init__(dut, parameters, self.model.frame)

    async def collect(self, count):
        return await super().collect(count, settle=2 * self.model.frame + 50)


@cocotb.test()
async def norm_matches_golden(dut):
    from tb.runner import case
    bench = NormBench(dut, case())
    real, imag = stimulus(bench.model, bench.parameters.get("seed", 1))
    await bench.start()
    bench.source.send(beats_for(real, imag))
    bench.check(await bench.collect(real.size), *bench.model.normalize(real, imag))


@cocotb.test()
async def norm_full_rate_and_latency(dut):
    """No gaps or stalls: a sample per clock in and out, frames back to back, the first
    result ``latency`` cycles after the first input; then a one-cycle pause between frames
    costs one cycle."""
    from tb.runner import case
    parameters = case()
    bench = NormBench(dut, dict(parameters, gap=0.0, stall=0.0))
    bench.source.pause = parameters.get("pause", 0)
    real, imag = stimulus(bench.model, 3)
    await bench.start()
    bench.source.send(beats_for(real, imag))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.normalize(real, imag))
    frame = bench.model.frame
    for cycles in ([beat.cycle for beat in bench.source.sent], [beat.cycle for beat in beats]):
        frames = np.reshape(cycles, (-1, frame))
        assert np.all(np.diff(frames, axis=1) == 1), "bubbles inside a frame"
        assert np.all(frames[1:, 0] - frames[:-1, -1] == 1 + bench.source.pause)
    assert beats[0].cycle - bench.source.sent[0].cycle == parameters["latency"]


@cocotb.test()
async def norm_sustained_backpressure(dut):
    """The output held off for three frames' time mid-stream: nothing lost or repeated."""
    from tb.runner import case
    bench = NormBench(dut, case())
    real, imag = stimulus(bench.model, 4)
    await bench.start()
    bench.source.send(beats_for(real, imag))
    hold = 3 * bench.model.frame
    cocotb.start_soon(bench.hold_output(bench.model.frame // 2, hold))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.normalize(real, imag))
    assert max(np.diff([beat.cycle for beat in beats])) >= hold, "the output was never held"


@cocotb.test()
async def norm_reset_mid_frame(dut):
    from tb.runner import case
    bench = NormBench(dut, case())
    real, imag = stimulus(bench.model, 5)
    frame = bench.model.frame
    await bench.start()
    bench.source.send(beats_for(real, imag)[: 3 * frame // 2])
    while len(bench.source.sent) < frame + frame // 4:
        await RisingEdge(dut.clk)
    bench.source.clear()
    await bench.reset()
    bench.sink.beats.clear()
    bench.source.send(beats_for(real, imag))
    bench.check(await bench.collect(real.size), *bench.model.normalize(real, imag))


@cocotb.test()
async def norm_tlast_errors(dut):
    from tb.runner import case
    bench = NormBench(dut, case())
    frame = bench.model.frame
    real, imag = stimulus(bench.model, 6)
    tlast = np.zeros(real.size, dtype=bool)
    tlast[frame - 1] = tlast[frame + 2] = tlast[2 * frame - 1] = True
    tlast[4 * frame - 1:] = np.arange(real.size - 4 * frame + 1) % frame == 0
    await bench.start()
    bench.source.send(beats_for(real, imag, tlast=tlast))
    bench.check(await bench.collect(real.size), *bench.model.normalize(real, imag))
    sent = bench.source.sent
    assert bench.pulses["tlast_unexpected"] == [sent[frame + 2].cycle + 2]
    assert bench.pulses["tlast_missing"] == [sent[3 * frame - 1].cycle + 2]


def _case(frame, **overrides):
    parameters = dict(frame=frame, data_width=16, output_format=(16, 12), rsqrt_bits=10,
                      rsqrt_width=18, rounding="convergent")
    parameters.update(overrides)
    return parameters


RTL_CASES = [
    _case(9),                                                   # the seed's toy frame
    pytest.param(_case(256), marks=pytest.mark.quick),          # the default
    _case(64, output_format=(12, 8), rsqrt_bits=6, rsqrt_width=12, rounding="truncate"),
    _case(32, data_width=20, output_format=(18, 14), rounding="half_up", x_ram=True),
    _case(16, data_width=12, output_format=(12, 8)),   # S within 18 bits: |S|² one product
]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.norm import FrameNorm
    simulate_case(FrameNorm(NormConfig.from_mapping(parameters)), test_module="tb.test_norm",
                  testcase=testcase, parameters=parameters, **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=case_id)
def test_rtl_matches_golden(parameters):
    _run(parameters, "norm_matches_golden", gap=0.3, stall=0.3, seed=parameters["frame"])


@pytest.mark.parametrize("pause", [0, 1])
def test_rtl_full_rate_and_latency(pause):
    _run(_case(16), "norm_full_rate_and_latency", pause=pause)


def test_rtl_sustained_backpressure():
    _run(_case(16), "norm_sustained_backpressure", gap=0.2, stall=0.2, seed=6)


def test_rtl_reset_mid_frame():
    _run(_case(16), "norm_reset_mid_frame", gap=0.2, stall=0.2, seed=3)


def test_rtl_tlast_errors():
    _run(_case(16), "norm_tlast_errors")


# Golden model against the exact normalization ------------------------------------------------

@pytest.mark.parametrize("frame, rsqrt_bits", [(9, 10), (64, 10), (256, 10), (1024, 12),
                                               (256, 6)])
def test_golden_within_the_error_bound(frame, rsqrt_bits):
    model = FrameNormModel(frame=frame, rsqrt_bits=rsqrt_bits)
    rng = np.random.default_rng(frame)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 16, frame))
    real[:4] //= 1000
    imag[4] = 0
    got_real, got_imag, _ = model.normalize(real, imag)
    values = real + 1j * imag
    centred = values - values.mean(axis=1, keepdims=True)
    exact = centred / np.sqrt(np.mean(np.abs(centred) ** 2, axis=1, keepdims=True))
    exact *= 2 ** model.output_format.fraction
    for got, want in ((got_real, exact.real), (got_imag, exact.imag)):
        error = np.abs(got - want)
        excess = error - model.error_bound(want)
        assert np.all(excess <= 0), float(np.max(excess))
    assert np.all(got_imag[4] == 0)


def test_golden_constant_frame_is_zero():
    model = FrameNormModel(frame=16)
    real, imag, overflow = model.normalize(np.full((1, 16), 1234), np.full((1, 16), -5))
    assert not real.any() and not imag.any() and not overflow.any()


@pytest.mark.parametrize("parameters, error, message", [
    (dict(frame=4), ValueError, "Frame must be from 8 to 65536, not 4"),
    (dict(rsqrt_bits=9), ValueError, "Rsqrt bits must be even, not 9"),
    (dict(rsqrt_width=10), ValueError, "Rsqrt width must be at least the output fraction (12), "
                                       "not 10"),
    (dict(output_format=(40, 12)), ValueError, "Output format width must be from 2 to 32, "
                                               "not 40"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error([FrameNormModel], parameters, error, message)


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 13, 49])
def test_bit_length_tree(width):
    """The leading-one search's tree equals ``int.bit_length`` (every value up to 8 bits, the
    edges and random values above)."""
    from amaranth.hdl import Module, Signal
    from fdcnn.hdl.norm import bit_length
    from tb.simulation import run_cycles
    rng = np.random.default_rng(width)
    values = sorted({*range(min(1 << width, 256)), (1 << width) - 1, 1 << (width - 1),
                     *(int(rng.integers(0, 1 << min(width, 62))) << max(0, width - 62)
                       for _ in range(100))})
    value, length = Signal(width), Signal(8)
    m = Module()
    m.d.comb += length.eq(bit_length(value))
    m.d.sync += value.eq(value)     # a clock domain for run_cycles
    got = run_cycles(m, len(values), lambda ctx, cycle: ctx.set(value, values[cycle]),
                     lambda ctx, cycle: ctx.get(length))
    assert got == [number.bit_length() for number in values]
