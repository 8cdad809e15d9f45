"""Verification of the spectral pooling unit and its adjoint.

* cocotb tests (``pool_*``) on the shared :class:`tb.bench.StreamBench`: bit-exact against
  :mod:`golden.pool` under random ``tvalid`` gaps and ``tready`` stalls, frames back to back;
  one sample per clock where the direction promises it; reset mid-frame; ``tlast`` checks.
* pytest runners (``test_rtl_*``), one build directory per parameter set.
* golden model tests: ``scipy.signal.resample`` equality for ``fold``, adjointness for every
  policy and order, the bit-reversed crop rule, parameter messages.
"""

import cocotb
import numpy as np
import pytest
import scipy.signal
from cocotb.triggers import RisingEdge

from fdcnn.golden.pool import NYQUIST_POLICIES, PoolConfig, SpectralPoolModel
from tb.bench import StreamBench, beats_for
from tb.checks import assert_parameter_error
from tb.runner import case_id, simulate_case



def _model(parameters):
    return SpectralPoolModel(PoolConfig.from_mapping(parameters))


def stimulus(model, frames, seed):
    """Random full-range frames, then one all-maximum and one all-minimum frame (these
    saturate a fold that may not grow)."""
    rng = np.random.default_rng(seed)
    rows, columns = model.input_shape
    low, high = -(1 << (model.data_width - 1)), (1 << (model.data_width - 1)) - 1
    real = rng.integers(low, high + 1, (frames, rows * columns))
    imag = rng.integers(low, high + 1, (frames, rows * columns))
    extremes = np.array([[high], [low]]) * np.ones((1, rows * columns), dtype=np.int64)
    return np.concatenate([real, extremes]), np.concatenate([imag, extremes[::-1]])


class PoolBench(StreamBench):
    def __init__(self, dut, parameters):
        self.model = _model(parameters)
        rows, columns = self.model.output_shape
        super().__init__(dut, parameters, rows * columns)

    async def collect(self, count):
        rows, columns = self.model.spectrum_shape
        return await super().collect(count, settle=2 * rows * columns + 50)


@cocotb.test()
async def pool_matches_golden(dut):
    from tb.runner import case
    bench = PoolBench(dut, case())
    real, imag = stimulus(bench.model, 3, bench.parameters.get("seed", 1))
    want = bench.model.transform(real, imag)
    await bench.start()
    bench.source.send(beats_for(real, imag))
    bench.check(await bench.collect(want[0].size), *want)


@cocotb.test()
async def pool_full_rate_and_latency(dut):
    """No gaps, no stalls: forward takes an input sample every clock, backward emits an output
    sample every clock, frames back to back; the first result comes ``latency`` cycles after
    the first input."""
    from tb.runner import case
    parameters = case()
    bench = PoolBench(dut, dict(parameters, gap=0.0, stall=0.0))
    real, imag = stimulus(bench.model, 2, 9)
    want = bench.model.transform(real, imag)
    await bench.start()
    bench.source.send(beats_for(real, imag))
    beats = await bench.collect(want[0].size)
    bench.check(beats, *want)
    busy = [beat.cycle for beat in (bench.source.sent if bench.model.direction == "forward"
                                    else beats)]
    assert np.all(np.diff(busy) == 1), "not one sample per clock"
    assert beats[0].cycle - bench.source.sent[0].cycle == parameters["latency"]


@cocotb.test()
async def pool_reset_mid_frame(dut):
    from tb.runner import case
    bench = PoolBench(dut, case())
    real, imag = stimulus(bench.model, 2, 13)
    frame = real.shape[1]
    await bench.start()
    bench.source.send(beats_for(real, imag)[: frame + frame // 2])
    while len(bench.source.sent) < frame + frame // 3:
        await RisingEdge(dut.clk)
    bench.source.clear()
    await bench.reset()
    bench.sink.beats.clear()
    want = bench.model.transform(real, imag)
    bench.source.send(beats_for(real, imag))
    bench.check(await bench.collect(want[0].size), *want)


@cocotb.test()
async def pool_tlast_errors(dut):
    from tb.runner import case
    bench = PoolBench(dut, case())
    real, imag = stimulus(bench.model, 2, 17)        # 4 frames
    frame = real.shape[1]
    tlast = np.zeros(real.size, dtype=bool)
    tlast[frame - 1] = True
    tlast[frame + 1] = tlast[2 * frame - 1] = True   # frame 1: one early tlast
    tlast[4 * frame - 1] = True                      # frame 2: tlast missing at its end
    want = bench.model.transform(real, imag)
    await bench.start()
    bench.source.send(beats_for(real, imag, tlast=tlast))
    bench.check(await bench.collect(want[0].size), *want)
    # A pulse comes the cycle after the sample is taken in: forward (no stalls), the cycle after
    # its handshake; backward, when its output position comes, within an output frame.
    sent = bench.source.sent
    slack = 1 if bench.model.direction == "forward" else bench.output_frame
    for name, index in (("tlast_unexpected", frame + 1), ("tlast_missing", 3 * frame - 1)):
        pulses = bench.pulses[name]
        assert len(pulses) == 1, f"{name}: pulses at {pulses}"
        assert sent[index].cycle + 2 <= pulses[0] < sent[index].cycle + 2 + slack, \
            f"{name} at cycle {pulses[0]}, sample handshake at {sent[index].cycle}"


# pytest runners ------------------------------------------------------------------------------

def _case(spectrum, pooled, order="natural", nyquist="crop", direction="forward",
          data_width=16, fold_growth=True):
    return dict(spectrum_shape=list(spectrum), pooled_shape=list(pooled), data_width=data_width,
                order=order, nyquist=nyquist, fold_growth=fold_growth, direction=direction)


SHAPES = {"natural": [((16, 16), (8, 4)), ((9, 12), (5, 6)), ((1, 9), (1, 5))],
          "bit_reversed": [((8, 8), (4, 4)), ((32, 32), (16, 16)), ((1, 16), (1, 8))]}
RTL_CASES = [_case(spectrum, pooled, order, nyquist, direction)
             for direction in ("forward", "backward") for nyquist in NYQUIST_POLICIES
             for order, shapes in SHAPES.items() for spectrum, pooled in shapes]
RTL_CASES += [pytest.param(_case((32, 32), (16, 16)), marks=pytest.mark.quick),  # the default
              pytest.param(dict(_case((32, 32), (16, 16)), x_ram=True),     # RAMs start as X
                           marks=pytest.mark.quick),
              _case((16, 16), (8, 4), nyquist="fold", fold_growth=False, data_width=12),
              # rows fold into a row buffer of pooled columns, more than pooled rows
              _case((8, 16), (4, 8), nyquist="fold"),
              _case((8, 16), (4, 8), nyquist="fold", direction="backward"),
              _case((8, 8), (4, 4), "bit_reversed", "fold", fold_growth=False),
              _case((9, 9), (5, 5), nyquist="fold", data_width=8)]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.pool import SpectralPool
    simulate_case(SpectralPool(PoolConfig.from_mapping(parameters)), test_module="tb.test_pool",
                  testcase=testcase, parameters=parameters, **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=case_id)
def test_rtl_matches_golden(parameters):
    _run(parameters, "pool_matches_golden", gap=0.3, stall=0.3, seed=5)


@pytest.mark.parametrize("parameters", [
    _case((16, 16), (8, 4), nyquist="fold"),
    _case((16, 16), (8, 4), "bit_reversed", "fold", "backward"),
    _case((9, 12), (5, 6), nyquist="zero", direction="backward"),
], ids=case_id)
def test_rtl_full_rate_and_latency(parameters):
    _run(parameters, "pool_full_rate_and_latency")


@pytest.mark.parametrize("parameters", [_case((16, 16), (8, 4), nyquist="fold"),
                                        _case((8, 8), (4, 4), "bit_reversed", "fold",
                                              "backward")], ids=case_id)
def test_rtl_reset_mid_frame(parameters):
    _run(parameters, "pool_reset_mid_frame", gap=0.2, stall=0.2, seed=8)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_rtl_tlast_errors(direction):
    _run(_case((8, 8), (4, 4), nyquist="fold", direction=direction), "pool_tlast_errors",
         gap=0.2, stall=0.0, seed=2)


# Golden model ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spectrum, pooled", [((16, 16), (8, 4)), ((9, 12), (5, 6)),
                                              ((8, 8), (4, 4)), ((1, 16), (1, 8)),
                                              ((10, 7), (4, 3)), ((32, 32), (16, 16)),
                                              ((12, 9), (12, 4))])
def test_golden_fold_equals_scipy_resample(spectrum, pooled):
    """``ifft2(pool(fft2(x))) · (h·w)/(H·W)`` is ``scipy.signal.resample`` along both axes."""
    rng = np.random.default_rng(sum(spectrum))
    model = SpectralPoolModel(spectrum_shape=spectrum, pooled_shape=pooled, nyquist="fold")
    scale = pooled[0] * pooled[1] / (spectrum[0] * spectrum[1])
    for x in (rng.standard_normal((4,) + spectrum),
              rng.standard_normal((4,) + spectrum) + 1j * rng.standard_normal((4,) + spectrum)):
        pooled_x = np.fft.ifft2(model.map_natural(np.fft.fft2(x))) * scale
        want = scipy.signal.resample(scipy.signal.resample(x, pooled[0], axis=1),
                                     pooled[1], axis=2)
        assert np.max(np.abs(pooled_x - want)) < 1e-12


@pytest.mark.parametrize("nyquist", NYQUIST_POLICIES)
@pytest.mark.parametrize("order, spectrum, pooled", [("natural", (9, 12), (5, 6)),
                                                     ("natural", (16, 16), (8, 4)),
                                                     ("bit_reversed", (16, 8), (4, 4))])
def test_golden_backward_is_the_adjoint(nyquist, order, spectrum, pooled):
    """⟨P x, y⟩ = ⟨x, Pᵀ y⟩ on integer frames in stream order, both components."""
    rng = np.random.default_rng(3)
    forward, backward = (SpectralPoolModel(spectrum_shape=spectrum, pooled_shape=pooled,
                                           order=order, nyquist=nyquist, direction=direction)
                         for direction in ("forward", "backward"))
    x = rng.integers(-2 ** 14, 2 ** 14, (2, 5, spectrum[0] * spectrum[1]))
    y = rng.integers(-2 ** 14, 2 ** 14, (2, 5, pooled[0] * pooled[1]))
    px, py = forward.transform(*x)[:2], backward.transform(*y)[:2]
    for component in range(2):
        assert np.array_equal(np.sum(px[component] * y[component], axis=1),
                              np.sum(x[component] * py[component], axis=1))


@pytest.mark.parametrize("size, pooled", [(16, 8), (16, 4), (64, 2), (32, 32), (4, 2), (8, 1)])
def test_golden_bit_reversed_crop_is_an_in_order_filter(size, pooled):
    """Derivation in golden/pool.py: for n ≥ 2, in bit-reversed order the kept positions are
    those whose low log2(N/n)+1 bits are all zeros or all ones, and in arrival order they are
    already the bit-reversed order of size n (crop policy; fold and zero change only the
    Nyquist value). For n = 1 only DC, position 0, is kept."""
    model = SpectralPoolModel(spectrum_shape=(1, size), pooled_shape=(1, pooled),
                              order="bit_reversed")
    codes = np.arange(size)[None, :] * 7 - 50
    real, _, _ = model.transform(codes, codes)
    positions = np.arange(size)
    mask = (1 << (size // pooled).bit_length()) - 1
    kept = (((positions & mask) == 0) | ((positions & mask) == mask) if pooled > 1
            else positions == 0)
    assert kept.sum() == pooled
    assert np.array_equal(real[0], codes[0][kept])


def test_golden_fold_saturation_is_flagged():
    model = SpectralPoolModel(spectrum_shape=(8, 8), pooled_shape=(4, 4), nyquist="fold",
                              fold_growth=False)
    real, imag = stimulus(model, 2, 1)
    real[:2] //= 4      # random frames within a quarter of the range: a 4-way fold fits
    imag[:2] //= 4
    assert list(model.transform(real, imag)[2]) == [False, False, True, True]
    grown = SpectralPoolModel(spectrum_shape=(8, 8), pooled_shape=(4, 4), nyquist="fold")
    assert grown.output_width == 18 and not grown.transform(real, imag)[2].any()


@pytest.mark.parametrize("parameters, error, message", [
    (dict(spectrum_shape=(8, 8), pooled_shape=(16, 4)), ValueError,
     "Pooled shape must not exceed the spectrum shape on either axis, not (16, 4) from (8, 8)"),
    (dict(spectrum_shape=(12, 12), pooled_shape=(6, 6), order="bit_reversed"), ValueError,
     "Bit-reversed order needs power-of-two sizes, not (12, 12) → (6, 6)"),
    (dict(spectrum_shape=(8, 8), pooled_shape=(4, 4), nyquist="average"), ValueError,
     "Nyquist policy must be one of 'crop', 'fold', 'zero', not 'average'"),
    (dict(spectrum_shape=(8, 8), pooled_shape=(4, 4), order="reversed"), ValueError,
     "Order must be one of 'natural', 'bit_reversed', not 'reversed'"),
    (dict(spectrum_shape=(8, 8), pooled_shape=(4, 4), direction="up"), ValueError,
     "Direction must be one of 'forward', 'backward', not 'up'"),
    (dict(spectrum_shape=[8, 8], pooled_shape=(4, 4)), TypeError,
     "Spectrum shape must be a (rows, columns) tuple of integers, not [8, 8]"),
    (dict(spectrum_shape=(8, 0), pooled_shape=(4, 0)), ValueError,
     "Spectrum shape must have sizes from 1 to 65536, not (8, 0)"),
    (dict(spectrum_shape=(8, 8), pooled_shape=(4, 4), data_width=40), ValueError,
     "Data width must be from 2 to 32, not 40"),
    (dict(spectrum_shape=(8, 8), pooled_shape=(4, 4), fold_growth="yes"), TypeError,
     "Fold growth must be True or False, not 'yes'"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error((PoolConfig, SpectralPoolModel), parameters, error, message)
