"""Verification of the streaming FFT.

* cocotb tests (``fft_*``): stimulus → golden model → AXI4-Stream driver → DUT → monitor →
  scoreboard that demands sample-for-sample equality with :mod:`golden.fft`, under random
  ``tvalid`` gaps and ``tready`` stalls, frames back to back.
* pytest runners (``test_rtl_*``): one build directory per parameter set.
* golden model tests (``test_golden_*``): the integer model against ``numpy.fft`` with error
  bounds derived in :func:`fdcnn.golden.fft.predicted_rms_error`, and parameter checking.
"""

import itertools
import math

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ClockCycles, RisingEdge

from fdcnn.golden.fft import (ARCHITECTURES, FFTConfig, StreamingFFTModel, bit_reverse,
                              predicted_rms_error)
from fdcnn.golden.fft2d import FFT2DConfig, FFT2DModel
from tb.bench import StreamBench, beats_for
from tb.checks import assert_parameter_error
from tb.runner import case_id, simulate_case



# Stimulus -------------------------------------------------------------------------------------

def stimulus(model, kinds, seed):
    """Frames of integer samples, one or more per kind, and a per-frame inverse flag.

    Kinds: ``random`` (both components uniform over the whole input range), ``impulses``
    (full-scale impulse at positions 0, 1, N/2, N−1), ``tones`` (a full-scale complex tone on
    every bin, N ≤ 64), ``dc``, ``alternating`` (±full scale), ``saturating`` (components
    ±full scale following the signs of a bin-1 tone, which drives the bin-1 output to about
    4/π of full scale per component and so saturates a stage-scaled output).
    """
    rng = np.random.default_rng(seed)
    size = model.size
    low, high = model.input_format.min_code, model.input_format.max_code
    n = np.arange(size)
    frames = []
    for kind in kinds:
        if kind == "random":
            frames += [rng.integers(low, high + 1, (2, size)) for _ in range(2)]
        elif kind == "impulses":
            for position in sorted({0, 1, size // 2, size - 1}):
                frame = np.zeros((2, size), dtype=np.int64)
                frame[:, position] = (high, low)
                frames.append(frame)
        elif kind == "tones":
            for k in range(size):
                tone = np.exp(2j * np.pi * k * n / size) * high
                frames.append(np.round(np.stack([tone.real, tone.imag])).astype(np.int64))
        elif kind == "dc":
            frames.append(np.stack([np.full(size, high), np.full(size, low)]))
        elif kind == "alternating":
            signs = np.where(n % 2 == 0, 1, -1)
            frames.append(np.stack([np.where(signs > 0, high, low), np.where(signs > 0, low, high)]))
        elif kind == "saturating":
            angle = 2 * np.pi * n / size
            frames.append(np.stack([np.where(np.cos(angle) >= 0, high, low),
                                    np.where(np.sin(angle) >= 0, high, low)]))
        else:
            raise ValueError(f"unknown stimulus kind {kind!r}")
    frames = np.array(frames, dtype=np.int64)
    inverse = (rng.integers(0, 2, len(frames)).astype(bool) if model.direction == "runtime"
               else None)
    return frames[:, 0], frames[:, 1], inverse


# cocotb testbench ------------------------------------------------------------------------------

def model_for(parameters):
    """The golden model of the transform ``parameters`` describe: the 2-D FFT's when they have
    a ``shape`` (``tb/test_fft2d.py`` runs these benches on it), else the 1-D FFT's."""
    if "shape" in parameters:
        return FFT2DModel(FFT2DConfig.from_mapping(parameters))
    return StreamingFFTModel(FFTConfig.from_mapping(parameters))


class FFTBench(StreamBench):
    """The generic bench with the transform's golden model (1-D or 2-D)."""

    def __init__(self, dut, parameters):
        self.model = model_for(parameters)
        super().__init__(dut, parameters, self.model.size)

    async def collect(self, count):
        return await super().collect(count, settle=2 * self.model.size + 50)


@cocotb.test()
async def fft_matches_golden(dut):
    """Every stimulus kind, back to back, with random gaps and stalls: bit-exact."""
    from tb.runner import case
    bench = FFTBench(dut, case())
    real, imag, inverse = stimulus(bench.model, bench.parameters["stimuli"],
                                   bench.parameters.get("seed", 1))
    want = bench.model.transform(real, imag, inverse)
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse))
    bench.check(await bench.collect(real.size), *want)


@cocotb.test()
async def fft_zero_bubbles_and_latency(dut):
    """With no gaps or stalls, frames stream at one sample per clock after ``latency``."""
    from tb.runner import case
    parameters = case()
    bench = FFTBench(dut, dict(parameters, gap=0.0, stall=0.0))
    real, imag, inverse = stimulus(bench.model, ["random", "impulses"], 7)
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.transform(real, imag, inverse))
    inputs = [beat.cycle for beat in bench.source.sent]
    outputs = [beat.cycle for beat in beats]
    assert np.all(np.diff(inputs) == 1), "input was not accepted on every cycle"
    assert np.all(np.diff(outputs) == 1), "output has bubbles"
    assert outputs[0] - inputs[0] == parameters["latency"], \
        f"latency {outputs[0] - inputs[0]} cycles, property says {parameters['latency']}"


@cocotb.test()
async def fft_paused_source(dut):
    """A source that pauses one cycle after every frame: each pause costs that cycle and
    nothing more, at the input and at the output (ideal throughput ``N/(N + 1)``)."""
    from tb.runner import case
    bench = FFTBench(dut, dict(case(), gap=0.0, stall=0.0))
    bench.source.pause = 1
    size = bench.model.size
    real, imag, inverse = stimulus(bench.model, ["random", "random"], 3)     # 4 frames
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.transform(real, imag, inverse))
    ideal = size / (size + 1)
    for name, cycles in (("input", [beat.cycle for beat in bench.source.sent]),
                         ("output", [beat.cycle for beat in beats])):
        throughput = len(cycles) / (cycles[-1] - cycles[0] + 2)     # + the last pause
        assert throughput >= 0.99 * ideal, f"{name} throughput {throughput:.4f} of {ideal:.4f}"
        frames = np.reshape(cycles, (-1, size))
        assert np.all(np.diff(frames, axis=1) == 1), f"{name} has bubbles inside a frame"
        pauses = frames[1:, 0] - frames[:-1, -1] - 1       # the last frame may close one up
        assert np.all(pauses == 1) if name == "input" else np.all(pauses <= 1), \
            f"{name} pauses between frames of {list(pauses)} cycles"


@cocotb.test()
async def fft_latency_after_idle(dut):
    """The last frame of a burst leaves without a following frame, and a frame arriving at an
    idle core sees the ``latency`` property."""
    from tb.runner import case
    parameters = dict(case(), gap=0.0, stall=0.0)
    bench = FFTBench(dut, parameters)
    size = bench.model.size
    real, imag, inverse = stimulus(bench.model, ["random"], 9)     # 2 frames
    await bench.start()
    bench.source.send(beats_for(real[:1], imag[:1], None if inverse is None else inverse[:1]))
    await bench.collect(size)
    await ClockCycles(dut.clk, 3 * size)
    bench.source.send(beats_for(real[1:], imag[1:], None if inverse is None else inverse[1:]))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.transform(real, imag, inverse))
    latency = beats[size].cycle - bench.source.sent[size].cycle
    assert latency == parameters["latency"], \
        f"latency after idle {latency} cycles, property says {parameters['latency']}"


@cocotb.test()
async def fft_sustained_backpressure(dut):
    """The output held off for three frames' time in the middle of a stream (with random gaps
    and stalls around it): nothing is lost, repeated or reordered."""
    from tb.runner import case
    bench = FFTBench(dut, case())
    real, imag, inverse = stimulus(bench.model, ["random", "random", "dc"], 13)
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse))
    hold = 3 * bench.model.size
    cocotb.start_soon(bench.hold_output(bench.model.size // 2, hold))
    beats = await bench.collect(real.size)
    bench.check(beats, *bench.model.transform(real, imag, inverse))
    assert max(np.diff([beat.cycle for beat in beats])) >= hold, "the output was never held"


@cocotb.test()
async def fft_reset_mid_frame(dut):
    """A reset in the middle of a frame leaves no trace on the frames after it."""
    from tb.runner import case
    bench = FFTBench(dut, case())
    real, imag, inverse = stimulus(bench.model, ["random", "dc"], 11)
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse)[: 3 * bench.model.size // 2])
    while len(bench.source.sent) < bench.model.size + bench.model.size // 4:
        await RisingEdge(dut.clk)
    bench.source.clear()
    await bench.reset()
    bench.sink.beats.clear()
    bench.source.send(beats_for(real, imag, inverse))
    bench.check(await bench.collect(real.size), *bench.model.transform(real, imag, inverse))


@cocotb.test()
async def fft_tlast_errors(dut):
    """``tlast`` early in one frame and missing at the end of another each pulse once."""
    from tb.runner import case
    bench = FFTBench(dut, case())
    size = bench.model.size
    real, imag, inverse = stimulus(bench.model, ["random", "random"], 5)   # 4 frames
    tlast = np.zeros(real.size, dtype=bool)
    tlast[size - 1] = True                          # frame 0: correct
    tlast[size + 2] = tlast[2 * size - 1] = True    # frame 1: one early tlast
    # frame 2: tlast missing at its end; frame 3 correct again
    tlast[4 * size - 1] = True
    await bench.start()
    bench.source.send(beats_for(real, imag, inverse, tlast))
    bench.check(await bench.collect(real.size), *bench.model.transform(real, imag, inverse))
    sent = bench.source.sent
    # Without output stalls a sample enters the pipeline the cycle after its handshake, and
    # the pulse is seen one cycle after that.
    assert bench.pulses["tlast_unexpected"] == [sent[size + 2].cycle + 2]
    assert bench.pulses["tlast_missing"] == [sent[3 * size - 1].cycle + 2]


# pytest runners ------------------------------------------------------------------------------

def _rtl_case(size, **overrides):
    parameters = dict(size=size, data_width=16, twiddle_width=18, scaling="stage",
                      rounding="convergent", direction="forward", output_order="bit_reversed",
                      guard_bits=0, multiplier="4mult", architecture="r2sdf",
                      delay_ram_depth=128)
    parameters.update(overrides)
    return parameters


ALL_STIMULI = ["random", "impulses", "dc", "alternating", "saturating"]

#: (generator parameters, extra stimuli) covering sizes, widths, every rounding and scaling
#: kind, every direction and both output orders, in pairs rather than the full product.
RTL_CASES = [
    _rtl_case(4, data_width=18),
    _rtl_case(8, direction="inverse", output_order="natural"),
    _rtl_case(16),
    _rtl_case(16, rounding="truncate", scaling="none"),
    _rtl_case(16, rounding="half_up", scaling=[0, 1, 0, 1], direction="runtime"),
    _rtl_case(16, data_width=8, twiddle_width=8, scaling="none", direction="inverse"),
    _rtl_case(64),
    _rtl_case(64, rounding="truncate", direction="runtime", output_order="natural"),
    _rtl_case(64, rounding="half_up", scaling=[1, 0, 1, 0, 2, 1]),
    _rtl_case(64, data_width=8, twiddle_width=10, scaling=[0] * 6, output_order="natural"),
    _rtl_case(64, data_width=32, twiddle_width=27, scaling="none", rounding="half_up"),
    _rtl_case(256, data_width=18, direction="runtime"),
    _rtl_case(256, rounding="truncate", scaling="none", output_order="natural"),
    _rtl_case(64, guard_bits=3, rounding="half_up", direction="runtime"),
    _rtl_case(16, guard_bits=1, scaling="none", output_order="natural"),
    _rtl_case(256, multiplier="3mult", direction="runtime", guard_bits=2),
    pytest.param(_rtl_case(1024), marks=pytest.mark.quick),   # the default configuration
    pytest.param(_rtl_case(1024, x_ram=True), marks=pytest.mark.quick),   # RAMs start as X
    _rtl_case(1024, output_order="natural", direction="inverse", rounding="half_up"),
    # radix-2²: even and odd log2 N, every scaling kind, both orders and multipliers
    _rtl_case(4, architecture="r22sdf", direction="runtime"),
    _rtl_case(8, architecture="r22sdf", output_order="natural"),
    _rtl_case(16, architecture="r22sdf", rounding="truncate", scaling="none"),
    _rtl_case(32, architecture="r22sdf", rounding="half_up", scaling=[1, 0, 2, 1, 1],
              direction="inverse"),
    _rtl_case(128, architecture="r22sdf", multiplier="3mult", guard_bits=2, direction="runtime"),
    # ECP5: 3mult summing the data twice (a block ROM and a logic one), and the butterflies'
    # carry chains over complements, on X-initialised RAM; then the chains with the other
    # roundings and shifts. iCE40's chains (SB_LUT4 and SB_CARRY) the same way
    _rtl_case(256, architecture="r22sdf", multiplier="3mult", direction="runtime", family="ecp5",
              x_ram=True),
    _rtl_case(64, rounding="half_up", scaling=[1, 0, 2, 1, 0, 1], direction="runtime",
              family="ecp5"),
    _rtl_case(32, architecture="r22sdf", rounding="truncate", family="ecp5"),
    _rtl_case(256, architecture="r22sdf", multiplier="3mult", direction="runtime", family="ice40",
              x_ram=True, delay_ram_depth=32),       # RAM delay lines rounding on exit
    _rtl_case(64, rounding="half_up", scaling=[2, 0, 1, 0, 1, 1], direction="runtime",
              family="ice40", guard_bits=1),
    # xc7's family default: its 256-word delay line in RAM, the 128-word one in registers
    _rtl_case(512, architecture="r22sdf", output_order="natural", data_width=12, twiddle_width=14,
              family="xc7", delay_ram_depth=None),
    # 4-bit data: saturation built inside the pipeline where the magnitude bound allows it
    _rtl_case(64, architecture="r22sdf", data_width=4, twiddle_width=4, direction="runtime"),
    pytest.param(_rtl_case(1024, architecture="r22sdf"), marks=pytest.mark.quick),
    # every delay line of 4 words and more in RAM, and none
    _rtl_case(64, delay_ram_depth=4, direction="runtime", x_ram=True),
    _rtl_case(256, architecture="r22sdf", delay_ram_depth=65536),
]
#: ECP5's 3mult form and carry chains, for the benches of timing, reset and backpressure.
ECP5_CASE = _rtl_case(64, architecture="r22sdf", multiplier="3mult", family="ecp5")
#: iCE40's carry chains, and a RAM delay line rounding on exit, for the benches of timing,
#: reset and backpressure.
ICE40_CASE = _rtl_case(64, architecture="r22sdf", family="ice40", delay_ram_depth=16)
SLOW_CASES = [_rtl_case(4096), _rtl_case(16384, output_order="natural")]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.fft import StreamingFFT
    simulate_case(StreamingFFT(FFTConfig.from_mapping(parameters)), test_module="tb.test_fft",
                  testcase=testcase, parameters=parameters, **bench)


def _stimuli(parameters):
    return ALL_STIMULI + (["tones"] if parameters["size"] <= 16 else [])


@pytest.mark.parametrize("parameters", RTL_CASES, ids=case_id)
def test_rtl_matches_golden(parameters):
    _run(parameters, "fft_matches_golden", stimuli=_stimuli(parameters),
         gap=0.3, stall=0.3, seed=parameters["size"])


@pytest.mark.slow
@pytest.mark.parametrize("parameters", SLOW_CASES, ids=case_id)
def test_rtl_matches_golden_large(parameters):
    _run(parameters, "fft_matches_golden", stimuli=["random", "impulses", "saturating"],
         gap=0.1, stall=0.1, seed=3)


@pytest.mark.parametrize("parameters", [_rtl_case(64), _rtl_case(64, output_order="natural",
                                                                 direction="runtime"),
                                        _rtl_case(128, architecture="r22sdf"), ECP5_CASE,
                                        ICE40_CASE],
                         ids=case_id)
def test_rtl_zero_bubbles_and_latency(parameters):
    _run(parameters, "fft_zero_bubbles_and_latency")


@pytest.mark.parametrize("parameters", [_rtl_case(16, output_order="natural"),
                                        _rtl_case(256, direction="runtime"),
                                        _rtl_case(64, architecture="r22sdf"),
                                        _rtl_case(64, multiplier="3mult"), ECP5_CASE,
                                        ICE40_CASE],
                         ids=case_id)
def test_rtl_reset_mid_frame(parameters):
    _run(parameters, "fft_reset_mid_frame", gap=0.2, stall=0.2, seed=4)


@pytest.mark.parametrize("parameters", [_rtl_case(1024), _rtl_case(64, output_order="natural",
                                                                   direction="runtime"),
                                        _rtl_case(1024, architecture="r22sdf"), ECP5_CASE,
                                        ICE40_CASE],
                         ids=case_id)
@pytest.mark.parametrize("testcase", ["fft_paused_source", "fft_latency_after_idle"])
def test_rtl_paused_and_idle_sources(parameters, testcase):
    _run(parameters, testcase)


def test_rtl_tlast_errors():
    _run(_rtl_case(16), "fft_tlast_errors", gap=0.2, stall=0.0, seed=6)


@pytest.mark.parametrize("parameters", [_rtl_case(64), _rtl_case(32, output_order="natural",
                                                                 guard_bits=2),
                                        _rtl_case(32, architecture="r22sdf"), ECP5_CASE,
                                        ICE40_CASE],
                         ids=case_id)
def test_rtl_sustained_backpressure(parameters):
    _run(parameters, "fft_sustained_backpressure", gap=0.2, stall=0.2, seed=8)


# Golden model against the float truth ----------------------------------------------------------

def complex_rms(error):
    return math.sqrt(np.mean(np.abs(error) ** 2))


#: The bound asked of convergent rounding; the model above predicts at most 0.735.
RMS_BOUND = 0.75
#: Floor: rounding the exact output once, uniform error, √(2/12) complex RMS.
RMS_FLOOR = math.sqrt(2 / 12)


def error_table(sizes=(16, 64, 256, 1024, 4096), rounding="convergent", samples=1 << 16,
                seed=2026, architecture="r2sdf"):
    """Rows of (N, RMS error in LSB, max error in LSB, SQNR in dB) for random full-range input."""
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        model = StreamingFFTModel(size=size, data_width=16, twiddle_width=18,
                                  rounding=rounding, output_order="natural",
                                  architecture=architecture)
        frames = max(samples // size, 4)
        real = rng.integers(-2 ** 15, 2 ** 15, (frames, size))
        imag = rng.integers(-2 ** 15, 2 ** 15, (frames, size))
        out_real, out_imag, overflow = model.transform(real, imag)
        assert not overflow.any()
        truth = np.fft.fft(real + 1j * imag, axis=1) / size
        error = out_real + 1j * out_imag - truth
        rms = complex_rms(error)
        sqnr = 10 * math.log10(np.mean(np.abs(truth) ** 2) / rms ** 2)
        rows.append((size, rms, float(np.max(np.abs(error))), sqnr))
    return rows


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_golden_error_table_against_numpy(architecture):
    rows = error_table(sizes=(16, 32, 64, 256, 512, 1024, 4096), architecture=architecture)
    print("\n   N   RMS err (LSB)  max err (LSB)  SQNR (dB)  predicted RMS")
    for size, rms, peak, sqnr in rows:
        predicted = predicted_rms_error(size, architecture=architecture)
        print(f"{size:5d}  {rms:13.3f}  {peak:13.3f}  {sqnr:9.1f}  {predicted:13.3f}")
        assert RMS_FLOOR < rms <= RMS_BOUND, f"N={size}: RMS error {rms:.3f} LSB"
        assert rms <= predicted + 0.02, f"N={size}: above the noise model"


def test_golden_guard_bits_error_table():
    """Guard bits against ``fft(x)/N`` at N = 1024, full-range random input: the error falls
    with every guard bit to the floor of rounding the output once (√(2/12) = 0.408 LSB), each
    within 20 % of the noise model, and 3 guard bits are the fewest that reach 0.45 LSB."""
    rng = np.random.default_rng(11)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 64, 1024))
    truth = np.fft.fft(real + 1j * imag, axis=1) / 1024
    errors = []
    print("\nguard bits  RMS err (LSB)  predicted")
    for guard in range(9):
        model = StreamingFFTModel(size=1024, guard_bits=guard, output_order="natural")
        got_real, got_imag, overflow = model.transform(real, imag)
        errors.append(complex_rms(got_real + 1j * got_imag - truth))
        predicted = predicted_rms_error(1024, guard)
        print(f"{guard:10d}  {errors[-1]:13.3f}  {predicted:9.3f}")
        assert not overflow.any() and abs(errors[-1] / predicted - 1) < 0.2
    assert all(later < earlier + 1e-3 for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < RMS_FLOOR + 0.002
    assert [guard for guard, error in enumerate(errors) if error <= 0.45][0] == 3


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_golden_inverse_matches_numpy_ifft(architecture):
    rng = np.random.default_rng(3)
    for size in (16, 128, 256):
        model = StreamingFFTModel(size=size, direction="inverse", output_order="natural",
                                  architecture=architecture)
        real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 64, size))
        out_real, out_imag, _ = model.transform(real, imag)
        error = complex_rms(out_real + 1j * out_imag - np.fft.ifft(real + 1j * imag, axis=1))
        assert error <= RMS_BOUND, f"N={size}: inverse RMS error {error:.3f} LSB"


def test_golden_runtime_direction_equals_fixed_directions():
    rng = np.random.default_rng(4)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 6, 64))
    inverse = np.array([0, 1, 1, 0, 1, 0], dtype=bool)
    runtime = StreamingFFTModel(size=64, direction="runtime").transform(real, imag, inverse)
    for direction, frames in (("forward", ~inverse), ("inverse", inverse)):
        fixed = StreamingFFTModel(size=64, direction=direction).transform(real[frames],
                                                                         imag[frames])
        for got, want in zip(runtime, fixed):
            assert np.array_equal(got[frames], want)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_golden_inverse_is_swapped_forward(architecture):
    """The identity the hardware's inverse relies on holds bit for bit, saturation included."""
    rng = np.random.default_rng(5)
    for scaling, rounding in (("stage", "truncate"), ("none", "half_up"), ([0] * 5, "convergent")):
        forward = StreamingFFTModel(size=32, scaling=scaling, rounding=rounding,
                                    architecture=architecture)
        inverse = StreamingFFTModel(size=32, scaling=scaling, rounding=rounding,
                                    direction="inverse", architecture=architecture)
        real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 8, 32))
        real[0], imag[0] = 2 ** 15 - 1, -2 ** 15
        swapped_imag, swapped_real, swapped_overflow = forward.transform(imag, real)
        got_real, got_imag, got_overflow = inverse.transform(real, imag)
        assert np.array_equal(got_real, swapped_real) and np.array_equal(got_imag, swapped_imag)
        assert np.array_equal(got_overflow, swapped_overflow)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_golden_round_trip(architecture):
    """Full-growth forward, then stage-scaled inverse at the forward's width, returns x.

    Bound: the forward's only rounding is at its twiddle products, and the stage-scaled inverse
    divides that error by N on its way out; what is left is the inverse's own error, which is
    the forward table's: at most ``RMS_BOUND``. Max error bound: 4 LSB.
    """
    rng = np.random.default_rng(6)
    for size in (16, 256, 512, 1024):
        forward = StreamingFFTModel(size=size, scaling="none", architecture=architecture)
        inverse = StreamingFFTModel(size=size, data_width=forward.output_width,
                                    direction="inverse", output_order="natural",
                                    architecture=architecture)
        real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 16, size))
        spectrum_real, spectrum_imag, _ = forward.transform(real, imag)
        order = bit_reverse(np.arange(size), forward.stages)
        back_real, back_imag, overflow = inverse.transform(spectrum_real[:, order],
                                                           spectrum_imag[:, order])
        error = back_real + 1j * back_imag - (real + 1j * imag)
        assert not overflow.any()
        assert complex_rms(error) <= RMS_BOUND, f"N={size}: {complex_rms(error):.3f} LSB"
        assert np.max(np.abs(error)) <= 4


def test_golden_full_growth_is_exact_but_for_twiddles():
    """``scaling="none"``: the only errors come from twiddle products.

    Per rotated sample and component (half of a multiplier stage's samples): the product's
    rounding, variance 1/12, and the coefficient's quantization (each of cos and sin uniform
    within ±q/2, q = 2^−(T−1)), variance ``P_s · q²/12`` for signal power ``P_s`` per complex
    sample at stage ``s`` (``P_s = P_0 · 2^(s+1)`` without scaling). Without scaling every later
    stage doubles the variance.
    """
    rng = np.random.default_rng(7)
    size = 256
    model = StreamingFFTModel(size=size, scaling="none", output_order="natural")
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 32, size))
    out_real, out_imag, overflow = model.transform(real, imag)
    error = complex_rms(out_real + 1j * out_imag - np.fft.fft(real + 1j * imag, axis=1))
    stages = model.stages
    input_power = 2 * (2.0 ** 32 - 1) / 12
    coefficient_step = 2.0 ** -(model.twiddle_width - 1)
    variance = sum(2.0 ** (stages - 1 - stage)
                   * (1 / 24 + input_power * 2.0 ** (stage + 1) * coefficient_step ** 2 / 24)
                   for stage in range(stages - 2))
    bound = math.sqrt(2 * variance)
    assert not overflow.any()
    assert error <= bound, f"RMS error {error:.2f} LSB above the model's {bound:.2f}"


def test_golden_saturation_is_flagged():
    for size in (8, 64, 1024):
        model = StreamingFFTModel(size=size)
        real, imag, _ = stimulus(model, ["random", "saturating"], 1)
        _, _, overflow = model.transform(real, imag)
        assert list(overflow) == [False, False, True], f"N={size}: {list(overflow)}"
    wide = StreamingFFTModel(size=64, scaling="none")
    real, imag, _ = stimulus(wide, ALL_STIMULI, 1)
    assert not wide.transform(real, imag)[2].any()


@pytest.mark.parametrize("parameters", [
    dict(size=64), dict(size=64, architecture="r22sdf", direction="runtime"),
    dict(size=32, scaling="none", guard_bits=2), dict(size=64, scaling=[1, 0, 1, 0, 2, 1]),
    dict(size=16, data_width=8, twiddle_width=6, scaling=[0, 1, 0, 1]),
    dict(size=64, data_width=4, twiddle_width=4, architecture="r22sdf")], ids=case_id)
def test_golden_saturation_only_where_the_bound_allows(parameters):
    """Where :attr:`FFTConfig.saturation_points` says a stage cannot saturate (and the
    hardware builds no saturation), the model's saturation never acts, under full-scale
    impulses, tones, DC, alternating and sign-of-tone frames and random ones; the narrow
    configuration keeps saturation where its bound reaches the width."""
    model = StreamingFFTModel(**parameters)
    points = np.array(model.saturation_points)
    real, imag, inverse = stimulus(model, ALL_STIMULI + ["tones"], 12)
    inverse = np.zeros(len(real), bool) if inverse is None else inverse
    reached = np.zeros_like(points)
    for stage, (_, _, saturated) in enumerate(model.stages_of(
            real << model.guard_bits, imag << model.guard_bits, inverse)):
        reached[stage] = saturated.any(axis=0)
    assert not (reached & ~points).any(), f"saturated where the bound says it cannot: {reached}"
    assert points.any() == (parameters.get("data_width", 16) == 4)


def test_golden_output_orders_agree():
    rng = np.random.default_rng(8)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 3, 64))
    natural = StreamingFFTModel(size=64, output_order="natural").transform(real, imag)
    reversed_ = StreamingFFTModel(size=64).transform(real, imag)
    order = bit_reverse(np.arange(64), 6)
    assert np.array_equal(natural[0], reversed_[0][:, order])
    assert np.array_equal(natural[1], reversed_[1][:, order])


@pytest.mark.parametrize("parameters, error, message", [
    (dict(size=100), ValueError, "Transform size must be a power of two from 4 to 65536, not 100"),
    (dict(size=2), ValueError, "Transform size must be a power of two from 4 to 65536, not 2"),
    (dict(size=131072), ValueError,
     "Transform size must be a power of two from 4 to 65536, not 131072"),
    (dict(size="64"), TypeError, "Transform size must be an integer, not '64'"),
    (dict(size=64, data_width=3), ValueError, "Data width must be from 4 to 32, not 3"),
    (dict(size=64, data_width=16.0), TypeError, "Data width must be an integer, not 16.0"),
    (dict(size=64, twiddle_width=28), ValueError, "Twiddle width must be from 4 to 27, not 28"),
    (dict(size=64, scaling="block"), ValueError,
     "Scaling must be 'stage', 'none' or a list of 6 per-stage shifts, each 0, 1 or 2, "
     "not 'block'"),
    (dict(size=16, scaling=[1, 1, 3, 1]), ValueError,
     "Scaling must be 'stage', 'none' or a list of 4 per-stage shifts, each 0, 1 or 2, "
     "not [1, 1, 3, 1]"),
    (dict(size=16, scaling=[1, 1, 1]), ValueError,
     "Scaling must be 'stage', 'none' or a list of 4 per-stage shifts, each 0, 1 or 2, "
     "not [1, 1, 1]"),
    (dict(size=64, rounding="nearest"), ValueError,
     "Rounding must be one of 'truncate', 'half_up', 'convergent', not 'nearest'"),
    (dict(size=64, direction="backward"), ValueError,
     "Direction must be one of 'forward', 'inverse', 'runtime', not 'backward'"),
    (dict(size=64, output_order="reversed"), ValueError,
     "Output order must be one of 'bit_reversed', 'natural', not 'reversed'"),
    (dict(size=64, architecture="r4sdf"), ValueError,
     "Architecture must be one of 'r2sdf', 'r22sdf', not 'r4sdf'"),
    (dict(size=64, delay_ram_depth=2), ValueError,
     "Delay RAM depth must be from 4 to 65536, not 2"),
    (dict(size=64, family="xcvu9p"), ValueError,
     "Family must be one of 'generic', 'ice40', 'ecp5', 'xc7', not 'xcvu9p'"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error((FFTConfig, StreamingFFTModel), parameters, error, message)


@pytest.mark.parametrize("family, depth", [("generic", 128), ("ice40", 128), ("ecp5", 128),
                                           ("xc7", 256)])
def test_family_picks_the_delay_ram_depth_unless_it_is_given(family, depth):
    """The family sets ``delay_ram_depth``'s default, which the sidecar's parameters show
    resolved; a depth given wins."""
    assert FFTConfig(family=family).parameters()["delay_ram_depth"] == depth
    assert FFTConfig(family=family, delay_ram_depth=64).delay_ram_depth == 64


@pytest.mark.parametrize("family, guard_bits, operand", [
    ("ecp5", 0, "a"), ("ecp5", 1, "c"), ("generic", 0, "c"), ("ice40", 0, "c"), ("xc7", 0, "c")])
def test_family_picks_what_3mult_sums_twice(family, guard_bits, operand):
    """ECP5 sums the data twice where it is narrower than the twiddles (17 against 18 bits
    without guard bits, 18 with one); every other family sums the twiddles."""
    config = FFTConfig(family=family, guard_bits=guard_bits, multiplier="3mult")
    assert {config.presum_operand(stage) for stage in config.multiplier_stages} == {operand}


def test_stimulus_kinds_are_all_exercised():
    model = StreamingFFTModel(size=16)
    real, imag, _ = stimulus(model, ALL_STIMULI + ["tones"], 1)
    kinds_frames = 2 + 4 + 1 + 1 + 1 + 16
    assert real.shape == (kinds_frames, 16)
    assert real.max() == 2 ** 15 - 1 and real.min() == -2 ** 15
    assert list(itertools.islice(real[3], 3)) == [0, 2 ** 15 - 1, 0]


# Synthesis -------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, multiplier, architecture", [
    (8, "4mult", "r2sdf"), (16, "4mult", "r2sdf"), (64, "4mult", "r2sdf"), (256, "4mult", "r2sdf"),
    (64, "3mult", "r2sdf"), (4, "4mult", "r22sdf"), (8, "4mult", "r22sdf"),
    (32, "4mult", "r22sdf"), (256, "4mult", "r22sdf"), (512, "3mult", "r22sdf")])
def test_synthesis_has_the_minimum_multipliers(size, multiplier, architecture, tmp_path):
    """Before any techmap there are exactly 4·(log2 N − 2) multipliers for r2sdf and
    4·(⌈log4 N⌉ − 1) for r22sdf (3·… with 3mult)."""
    from fdcnn.hdl.axis import emit
    from fdcnn.hdl.fft import StreamingFFT
    from fdcnn.scripts.synth import synthesize
    block = StreamingFFT(FFTConfig(size=size, multiplier=multiplier, architecture=architecture))
    row = synthesize(emit(block, "fft", zero_ram_init=False), "fft", "generic", tmp_path)
    per_stage = {"4mult": 4, "3mult": 3}[multiplier]
    log2_size = size.bit_length() - 1
    stages = log2_size - 2 if architecture == "r2sdf" else (log2_size + 1) // 2 - 1
    assert row["DSP"] == block.multipliers == per_stage * stages


def test_synthesis_smoke_generic_and_ice40(tmp_path, capsys):
    import json

    from fdcnn.scripts.cli import main
    assert main(["synth", "fft", "--size", "16", "--target", "generic", "--target", "ice40",
                 "--build-dir", str(tmp_path), "--json", str(tmp_path / "table.json")]) == 0
    table = capsys.readouterr().out
    assert "generic" in table and "ice40" in table
    rows = {row["target"]: row for row in json.loads((tmp_path / "table.json").read_text())
            ["utilization"]}
    assert rows["generic"]["DSP"] == 8 and rows["generic"]["FF"] > 0
    assert rows["ice40"]["LUT"] > 0 and rows["ice40"]["FF"] > 0 and rows["ice40"]["DSP"] > 0


def test_synthesis_breakdown_by_stage(tmp_path, capsys):
    """``--breakdown`` gives one row per stage (the pipeline looked through) and their sum,
    whose multipliers are the design's."""
    from fdcnn.scripts.cli import main
    assert main(["synth", "fft", "--size", "16", "--target", "generic", "--breakdown",
                 "--build-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    parts = {}
    for line in out[:out.index("total (flattened)")].splitlines():
        fields = line.replace("all parts", "all_parts").split()
        if fields[:1] == ["generic"]:
            parts[fields[1]] = int(fields[5])            # target, part, LUT, FF, BRAM, DSP
    assert {"stage0", "stage0_twiddle", "stage1_twiddle", "stage3", "output"} <= set(parts)
    assert parts["stage0_twiddle"] == parts["stage1_twiddle"] == 4 and parts["all_parts"] == 8
