"""Verification of the piecewise-linear activation unit and its fitter.

* cocotb test ``pwl_matches_golden`` on :class:`tb.bench.StreamBench`: every input code for
  8- to 12-bit inputs, random plus edge codes (range ends, each breakpoint ± 1) for 16-bit,
  bit-exact against :mod:`golden.pwl` under random gaps and stalls (and, in gradient mode, on
  both input streams).
* pytest runners over functions, segment kinds, real and complex, and the three modes.
* fitter tests: error against the exact function within the bound derived from theory; fitted
  breakpoints against uniform ones; parameter messages.
"""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from fdcnn.golden.pwl import ACTIVATIONS, PiecewiseLinearModel, PWLConfig
from tb.axis import AxisSource, Beat
from tb.bench import StreamBench, beats_for
from tb.checks import assert_parameter_error
from tb.runner import case_id, simulate_case

FRAME = 64


def _model(parameters):
    return PiecewiseLinearModel(PWLConfig.from_mapping(parameters))


def channel_table(model, seed):
    """Per-channel (gain, offset) codes: even channels from a mean and a standard deviation
    (the seed's normalization), odd ones random over the whole code range (they saturate)."""
    rng = np.random.default_rng(seed)
    table = []
    for channel in range(model.channels):
        if channel % 2 == 0:
            table.append(model.normalization(rng.uniform(-1, 1), rng.uniform(0.3, 3)))
        else:
            table.append((int(rng.integers(model.gain_format.min_code,
                                           model.gain_format.max_code + 1)),
                          int(rng.integers(model.input_format.min_code,
                                           model.input_format.max_code + 1))))
    return np.array(table, dtype=np.int64)


def stimulus(model, complex_, seed):
    """Input codes (and dY codes): every code up to 12 bits, else random codes plus the edges;
    a whole number of ``FRAME``-sample frames."""
    rng = np.random.default_rng(seed)
    fmt = model.input_format
    if fmt.width <= 12:
        codes = np.arange(fmt.min_code, fmt.max_code + 1)
    else:
        edges = [fmt.min_code, fmt.max_code, model.low - 1, model.low, model.high,
                 model.high + 1] + [point + delta for point in model.breakpoints
                                    for delta in (-1, 0, 1)]
        codes = np.concatenate([np.clip(edges, fmt.min_code, fmt.max_code),
                                rng.integers(fmt.min_code, fmt.max_code + 1, 3000)])
    codes = np.concatenate([codes, rng.integers(fmt.min_code, fmt.max_code + 1,
                                                (-len(codes)) % FRAME)])
    imag = rng.permutation(codes) if complex_ else np.zeros_like(codes)
    out = model.output_format
    gradient = rng.integers(out.min_code, out.max_code + 1, (2, len(codes)))
    return codes, imag, gradient


def expected(model, real, imag, gradient, table=None, channels=None):
    outputs, saturated = [], []
    for lane, values in enumerate((real, imag)):
        pre_saturated = np.zeros(len(values), dtype=bool)
        if model.affine:
            values, pre_saturated = model.pre_stage(values, table[channels, 0],
                                                    table[channels, 1])
        codes, lane_saturated = model.evaluate(values, gradient[lane])
        outputs.append(codes)
        saturated.append(lane_saturated | pre_saturated)
    overflow = (saturated[0] | saturated[1]).reshape(-1, FRAME).any(axis=1)
    return outputs[0].reshape(-1, FRAME), outputs[1].reshape(-1, FRAME), overflow


async def load_channel_table(dut, table):
    """Once ``coef_ready`` rises, write every channel's gain and offset through the coef_*
    interface, one per cycle."""
    while not dut.coef_ready.value:
        await RisingEdge(dut.clk)
    for channel, (gain, offset) in enumerate(table):
        dut.coef_write.value, dut.coef_channel.value = 1, channel
        dut.coef_gain.value, dut.coef_offset.value = int(gain), int(offset)
        await RisingEdge(dut.clk)
    dut.coef_write.value = 0


@cocotb.test()
async def pwl_matches_golden(dut):
    from tb.runner import case
    parameters = case()
    model = _model(parameters)
    complex_ = parameters["complex"]
    components = 2 if complex_ else 1
    bench = StreamBench(dut, parameters, FRAME, components)
    seed = parameters.get("seed", 1)
    real, imag, gradient = stimulus(model, complex_, seed)
    if not complex_:
        imag, gradient[1] = np.zeros_like(real), 0
    table = channel_table(model, seed)
    channels = np.random.default_rng(seed).integers(0, model.channels, len(real))
    want_real, want_imag, overflow = expected(model, real, imag, gradient, table, channels)
    if not complex_:
        want_imag = np.zeros_like(want_imag)
    await bench.start()
    if model.affine:
        await load_channel_table(dut, table)
    if model.mode == "gradient":
        grad_source = AxisSource(dut, "s_axis_grad", gap=parameters.get("gap", 0.0),
                                 seed=parameters.get("seed", 1) + 7, components=components)
        cocotb.start_soon(grad_source.run())
        grad_source.send([Beat(int(g0), int(g1)) for g0, g1 in zip(*gradient)])
    beats = beats_for(real.reshape(-1, FRAME), imag.reshape(-1, FRAME))
    for beat, channel in zip(beats, channels):
        beat.user = int(channel)
    bench.source.send(beats)
    beats = await bench.collect(len(real), settle=50)
    bench.check(beats, want_real, want_imag, overflow)


@cocotb.test()
async def pwl_full_rate_and_latency(dut):
    """No gaps, no stalls: a sample in and a result out every clock, ``latency`` apart."""
    from tb.runner import case
    parameters = dict(case(), gap=0.0, stall=0.0)
    model = _model(parameters)
    components = 2 if parameters["complex"] else 1
    bench = StreamBench(dut, parameters, FRAME, components)
    real, imag, gradient = stimulus(model, parameters["complex"], 4)
    imag = imag if parameters["complex"] else np.zeros_like(real)
    table = np.array([[1 << model.gain_format.fraction, 0]] * model.channels)   # after reset
    channels = np.zeros(len(real), dtype=np.int64)
    want = expected(model, real, imag, gradient, table, channels)
    await bench.start()
    bench.source.send(beats_for(real.reshape(-1, FRAME), imag.reshape(-1, FRAME)))
    beats = await bench.collect(len(real), settle=50)
    bench.check(beats, want[0], want[1] if parameters["complex"] else np.zeros_like(want[1]),
                want[2])
    for cycles in ([beat.cycle for beat in bench.source.sent], [beat.cycle for beat in beats]):
        assert np.all(np.diff(cycles) == 1), "not one sample per clock"
    assert beats[0].cycle - bench.source.sent[0].cycle == parameters["latency"]


@cocotb.test()
async def pwl_reset_restores_the_table(dut):
    """A loaded channel table, then ``rst``: every channel has gain 1 and offset 0 again (not
    only at power-on), whatever the RAM held."""
    from tb.runner import case
    parameters = case()
    model = _model(parameters)
    bench = StreamBench(dut, parameters, FRAME, 1)
    real, imag, gradient = stimulus(model, False, 6)
    await bench.start()
    await load_channel_table(dut, channel_table(model, 6))
    await bench.reset()
    unity = np.array([[1 << model.gain_format.fraction, 0]] * model.channels)
    channels = np.arange(len(real)) % model.channels
    want = expected(model, real, np.zeros_like(real), gradient, unity, channels)
    beats = beats_for(real.reshape(-1, FRAME), np.zeros_like(real).reshape(-1, FRAME))
    for beat, channel in zip(beats, channels):
        beat.user = int(channel)
    bench.source.send(beats)
    bench.check(await bench.collect(len(real), settle=50), want[0], np.zeros_like(want[1]),
                want[2])


# pytest runners ------------------------------------------------------------------------------

def _case(function, breakpoints=None, segments=16, input_format=(10, 6), output_format=None,
          mode="value", complex_=False, rounding="convergent", affine=False, channels=1):
    if output_format is None:
        output_format = {"value": (16, 15) if function in ("sigmoid", "tanh") else (16, 11),
                         "derivative": (16, 14), "gradient": (16, 14)}[mode]
    return dict(function=function, input_format=list(input_format),
                output_format=list(output_format), segments=segments, breakpoints=breakpoints,
                rounding=rounding, mode=mode, complex=complex_, affine=affine, channels=channels)


FUNCTIONS = [name for name in ACTIVATIONS]
RTL_CASES = [_case(name, breakpoints) for name in FUNCTIONS for breakpoints in (None, "fit")]
RTL_CASES += [
    _case("sigmoid", "fit", 8, (12, 8), complex_=True),
    _case("tanh", None, 32, (12, 8), complex_=True, rounding="truncate"),
    _case("relu", None, 4, (8, 4), rounding="half_up"),
    _case("sigmoid", None, 16, mode="derivative"),
    _case("silu", "fit", 16, (12, 8), mode="derivative", complex_=True),
    _case("tanh", None, 16, mode="gradient"),
    _case("sigmoid", "fit", 8, (12, 8), mode="gradient", complex_=True, rounding="half_up"),
    pytest.param(_case("sigmoid", None, 16, (16, 12)), marks=pytest.mark.quick),  # the default
    pytest.param(dict(_case("sigmoid", None, 16, (16, 12), affine=True, channels=4),
                      x_ram=True), marks=pytest.mark.quick),          # RAMs start as X
    _case("sigmoid", None, 64, (16, 12)),
    _case("silu", "fit", 32, (16, 12), complex_=True),
    _case("sigmoid", None, 16, (12, 8), affine=True, channels=4),
    _case("tanh", "fit", 16, (16, 12), complex_=True, affine=True, channels=3),
    _case("silu", None, 16, (10, 6), mode="derivative", affine=True, channels=1,
          rounding="truncate"),
    dict(_case("tanh", None, 8, (10, 6)), input_range=[-3.0, 5.0]),    # uniform, not centred
]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.pwl import PiecewiseLinear
    simulate_case(PiecewiseLinear(PWLConfig.from_mapping(parameters)), test_module="tb.test_pwl",
                  testcase=testcase, parameters=parameters, **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=case_id)
def test_rtl_matches_golden(parameters):
    _run(parameters, "pwl_matches_golden", gap=0.3, stall=0.3, seed=3)


@pytest.mark.parametrize("parameters", [_case("sigmoid", None, 16, (12, 8)),
                                        _case("tanh", "fit", 8, (10, 6), complex_=True,
                                              affine=True, channels=2)], ids=case_id)
def test_rtl_full_rate_and_latency(parameters):
    _run(parameters, "pwl_full_rate_and_latency")


def test_rtl_reset_restores_the_table():
    _run(_case("sigmoid", None, 16, (12, 8), affine=True, channels=8),
         "pwl_reset_restores_the_table", gap=0.2, stall=0.2, seed=8, x_ram=True)


@pytest.mark.parametrize("parameters", [dict(), dict(complex=True), dict(mode="derivative"),
                                        dict(complex=True, affine=True, channels=2)], ids=str)
def test_synthesis_has_the_stated_multipliers(parameters, tmp_path):
    """The ``multipliers`` property (and the sidecar's figure) is what Yosys finds before any
    techmap."""
    from fdcnn.hdl.axis import emit
    from fdcnn.hdl.pwl import PiecewiseLinear
    from fdcnn.scripts.synth import synthesize
    config = PWLConfig(output_format="auto", **parameters)
    block = PiecewiseLinear(config)
    multipliers = block.multipliers
    row = synthesize(emit(block, "pwl", zero_ram_init=False), "pwl", "generic", tmp_path)
    assert row["DSP"] == multipliers


# Fitter --------------------------------------------------------------------------------------

SMOOTH = ("sigmoid", "tanh", "silu", "gelu", "softplus")
OUTPUT = {"sigmoid": (16, 15), "tanh": (16, 15), "silu": (16, 11), "gelu": (16, 11),
          "softplus": (16, 11)}


@pytest.mark.parametrize("function", SMOOTH)
@pytest.mark.parametrize("segments", [8, 16, 32, 64])
def test_fit_error_within_theory(function, segments):
    """Max error over every 16-bit input code ≤ h²/8·max|f″| + coefficient quantization +
    output rounding (PiecewiseLinearModel.error_bound); fitted breakpoints do no worse."""
    uniform = PiecewiseLinearModel(function=function, input_format=(16, 12),
                                   output_format=OUTPUT[function], segments=segments)
    fitted = PiecewiseLinearModel(function=function, input_format=(16, 12),
                                  output_format=OUTPUT[function], segments=segments,
                                  breakpoints="fit")
    uniform_errors, fitted_errors = uniform.errors(), fitted.errors()
    assert uniform_errors["max"] <= uniform.error_bound()
    assert fitted_errors["max"] <= fitted.error_bound()
    assert fitted_errors["max"] <= uniform_errors["max"] + 1


def test_piecewise_linear_functions_need_no_interpolation():
    """ReLU and leaky ReLU break at 0, a uniform segment boundary, so no interpolation error:
    ReLU's slopes (0, 1) are exact and only the output rounding remains; leaky ReLU's 0.01 is
    quantized and stays within the bound."""
    relu, leaky = (PiecewiseLinearModel(function=name, input_format=(12, 8),
                                        output_format=(16, 11), segments=4)
                   for name in ("relu", "leaky_relu"))
    assert relu.errors()["max"] <= 0.5
    assert leaky.errors()["max"] <= leaky.error_bound() < 1.5


def test_callable_and_range_clamp():
    model = PiecewiseLinearModel(function=lambda x: np.sin(x) / 2, input_format=(12, 8),
                                 output_format=(12, 10), input_range=(-3.0, 3.0), segments=32)
    assert model.errors()["max"] <= model.error_bound()
    codes, _ = model.evaluate([-2048, 2047])       # −8 and +8 clamp to ∓3
    assert list(codes) == list(model.evaluate([model.low, model.high])[0])


def test_normalization_matches_the_seed():
    """Gain and offset from mean and std make z = (x − mean)/std, to within rounding."""
    model = PiecewiseLinearModel(input_format=(16, 12), affine=True, gain_format=(18, 12))
    gain, offset = model.normalization(mean=0.75, std=1.5)
    x = np.arange(-4000, 4000, 37)
    z, saturated = model.pre_stage(x, gain, offset)
    want = (x * model.input_format.lsb - 0.75) / 1.5
    assert not saturated.any()
    assert np.max(np.abs(z * model.input_format.lsb - want)) < 3 * model.input_format.lsb


def test_outputs_saturate_instead_of_wrapping():
    """tanh(8) = 0.99999977 rounds to 32768 in Q1.15: it saturates to 32767 (and is flagged);
    sigmoid(−8) stays a small positive value."""
    tanh = PiecewiseLinearModel(function="tanh", input_format=(16, 12), output_format=(16, 15))
    codes, saturated = tanh.evaluate(np.array([-32768, 32767]))
    assert list(codes) == [-32768, 32767] and saturated[1]
    sigmoid = PiecewiseLinearModel(function="sigmoid", input_format=(16, 12),
                                   output_format=(16, 15))
    assert 0 <= sigmoid.evaluate(np.array([-32768]))[0][0] <= 20


@pytest.mark.parametrize("parameters, error, message", [
    (dict(segments=12), ValueError, "Uniform segments must be a power of two, not 12"),
    (dict(segments=16, input_range=(0.0, 0.001)), ValueError,
     "Input range (0.0, 0.0009765625) holds 5 input codes, fewer than the 16 segments"),
    (dict(input_range=(2.0, -2.0)), ValueError,
     "Input range must be an increasing pair within the input format's [-8.0, 7.999755859375], "
     "not (2.0, -2.0)"),
    (dict(function="relu", output_format=(16, 15)), ValueError,
     "Output format Q1.15 (16 bits) cannot hold the values of relu on the input range: "
     "[0, 8]"),
    (dict(function="swish"), ValueError,
     "Function must be one of 'sigmoid', 'tanh', 'relu', 'silu', 'gelu', 'softplus', "
     "'leaky_relu', not 'swish'"),
    (dict(mode="both"), ValueError,
     "Mode must be one of 'value', 'derivative', 'gradient', not 'both'"),
    (dict(input_format=(16,)), TypeError,
     "Input format must be a (width, fraction) tuple of integers, not (16,)"),
    (dict(affine=True, channels=0), ValueError, "Channels must be from 1 to 4096, not 0"),
    (dict(affine=True, gain_format=(40, 12)), ValueError,
     "Gain format width must be from 2 to 32, not 40"),
    (dict(segments=4, breakpoints=[1.0, -1.0, 2.0]), ValueError,
     "Breakpoints must be 3 ascending values inside the input range, not [1.0, -1.0, 2.0]"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error((PWLConfig, PiecewiseLinearModel), parameters, error, message)
