"""Verification of the composed spectral layer (:class:`fdcnn.hdl.layer.Layer`).

* cocotb: images and weights in, the layer's output frames bit for bit equal to
  :class:`~fdcnn.golden.layer.LayerModel` (the blocks' golden models in turn), under random
  gaps and stalls on every port, with a second weight set loaded by ``tuser``; paused frames
  with the output held off for several images; a reset mid-image; without gaps and stalls,
  the exact latency and cycles per image.
* golden: the layer against its float reference (error in dB, a floor per configuration), the
  config file reader and the parameter checks.
"""

import json
from pathlib import Path

import cocotb
import numpy as np
import pytest

from fdcnn.golden.config import load_config_file
from fdcnn.golden.layer import LayerConfig, LayerModel
from cocotb.triggers import RisingEdge

from tb.axis import AxisSource, Beat
from tb.bench import StreamBench
from tb.runner import case_id, simulate_case


def stimulus(config, images, seed):
    """Random images (the last one a saturating constant) and random weights of a quarter of
    full scale."""
    rng = np.random.default_rng(seed)
    low, high = -(1 << (config.data_width - 1)), (1 << (config.data_width - 1)) - 1
    pixels = rng.integers(low, high + 1, (images, config.in_channels, config.bins))
    pixels[-1] = high
    weight_high = 1 << (config.weight_width - 3)
    weights = rng.integers(-weight_high, weight_high, (2, config.out_channels,
                                                       config.in_channels, config.bins))
    return pixels, (weights[0], weights[1])


def image_beats(config, pixels, load_first=True):
    """Each image once per pass, channel frames with ``last``; ``user`` on an image's first
    sample asks for new weights (the first image only, with ``load_first``)."""
    beats = []
    for index, image in enumerate(pixels):
        for _ in range(config.tiles):
            for number, channel in enumerate(image):
                for position, value in enumerate(channel):
                    first = position == 0 and number == 0
                    beats.append(Beat(int(value), 0, position == config.bins - 1,
                                      int(first and load_first and index == 0)))
    return beats


def weight_beats(config, weights, images):
    """A loading pass's weights, lane by lane, ``c`` then ``k``: every pass of every image when
    ``tiles > 1``, else once."""
    beats = []
    for _ in range(images if config.tiles > 1 else 1):
        for tile in range(config.tiles):
            for lane in range(config.lanes):
                output = tile * config.lanes + lane
                beats += [Beat(int(real), int(imag), False, 0) for real, imag in
                          zip(weights[0][output].ravel(), weights[1][output].ravel())]
    return beats


class LayerBench(StreamBench):
    def __init__(self, dut, parameters):
        self.config = LayerConfig.from_mapping(parameters)
        self.model = LayerModel(self.config)
        super().__init__(dut, parameters, self.config.pooled_bins)
        seed = parameters.get("seed", 1)
        self.source = AxisSource(dut, gap=parameters.get("gap", 0.0), seed=seed, components=1)
        self.weights = AxisSource(dut, "s_axis_weight", gap=parameters.get("gap", 0.0),
                                  seed=seed + 2)

    async def start(self):
        await super().start()
        cocotb.start_soon(self.weights.run())

    def send(self, pixels, weights, load=True):
        """Queue ``pixels`` and the ``weights`` they are computed with (``load``: the first
        image asks for them with ``tuser``); returns the golden output frames and flags."""
        self.weights.send(weight_beats(self.config, weights, len(pixels)))
        self.source.send(image_beats(self.config, pixels, load_first=load))
        real, imag, overflow = self.model.forward(pixels, weights)
        frames = self.config.out_channels * len(pixels)
        return (real.reshape(frames, -1), imag.reshape(frames, -1), overflow.reshape(frames))

    def send_groups(self, groups):
        """:meth:`send` for ``(pixels, weights)`` groups one after the other, each loading its
        weights; returns the expected frames of all of them."""
        wanted = [self.send(pixels, weights) for pixels, weights in groups]
        return tuple(np.concatenate([want[index] for want in wanted]) for index in range(3))


def weight_sets(config, seed):
    """Three images and two weight sets: the first image with the first set, the next two
    with the second, which the second image's ``tuser`` loads."""
    pixels, first = stimulus(config, 3, seed)
    _, second = stimulus(config, 1, seed + 1)
    return [(pixels[:1], first), (pixels[1:], second)]


@cocotb.test()
async def layer_matches_golden(dut):
    """Two weight sets (the second loaded by an image's ``tuser``), three images."""
    from tb.runner import case
    bench = LayerBench(dut, case())
    await bench.start()
    want = bench.send_groups(weight_sets(bench.config, bench.parameters.get("seed", 1)))
    bench.check(await bench.collect(want[0].size, settle=4 * bench.config.bins), *want)


@cocotb.test()
async def layer_backpressure_and_pauses(dut):
    """A pause after every channel frame, and the output held off for three images' output
    time mid-stream: nothing lost or repeated."""
    from tb.runner import case
    bench = LayerBench(dut, case())
    bench.source.pause = 1
    config = bench.config
    await bench.start()
    want = bench.send_groups(weight_sets(config, 5))
    frame = config.out_channels * config.pooled_bins
    cocotb.start_soon(bench.hold_output(frame // 2, 3 * frame))
    beats = await bench.collect(want[0].size, settle=4 * config.bins)
    bench.check(beats, *want)
    assert max(np.diff([beat.cycle for beat in beats])) >= 3 * frame, "never held"


@cocotb.test()
async def layer_reset_mid_image(dut):
    """A reset in the middle of an image (weights partly loaded, pipeline full): the images
    after it, with their weights sent again, come out as if nothing had happened."""
    from tb.runner import case
    bench = LayerBench(dut, case())
    config = bench.config
    groups = weight_sets(config, 7)
    await bench.start()
    bench.send_groups(groups)
    while len(bench.source.sent) < config.tiles * config.in_channels * config.bins // 2:
        await RisingEdge(dut.clk)
    bench.source.clear()
    bench.weights.clear()
    await bench.reset()
    bench.sink.beats.clear()
    want = bench.send_groups(groups)
    bench.check(await bench.collect(want[0].size, settle=4 * config.bins), *want)


@cocotb.test()
async def layer_latency_and_cycles_per_image(dut):
    """No gaps or stalls: once the weights are in and the pipeline is full, images follow
    each other every ``cycles_per_image`` clocks (the last two intervals), and an image arriving
    at an idle layer sees its first result ``latency`` clocks after its first sample."""
    from tb.runner import case
    parameters = case()
    bench = LayerBench(dut, dict(parameters, gap=0.0, stall=0.0))
    config = bench.config
    pixels, weights = stimulus(config, 9, 4)
    await bench.start()
    want = bench.send(pixels[:1], weights)
    await bench.collect(want[0].size, settle=4 * config.bins)
    alone = bench.sink.beats[0].cycle - bench.source.sent[0].cycle
    bench.sink.beats.clear()
    bench.source.sent.clear()
    bench.source.send(image_beats(config, pixels[1:], load_first=False))
    if config.tiles > 1:
        bench.weights.send(weight_beats(config, weights, len(pixels) - 1))
    real, imag, overflow = bench.model.forward(pixels[1:], weights)
    beats = await bench.collect(real.size, settle=4 * config.bins)
    bench.check(beats, real.reshape(-1, config.pooled_bins), imag.reshape(-1, config.pooled_bins),
                overflow.ravel())
    samples = config.tiles * config.in_channels * config.bins
    starts = [bench.source.sent[image * samples].cycle for image in range(len(pixels) - 1)]
    intervals = list(np.diff(starts))
    assert intervals[-2:] == [parameters["cycles_per_image"]] * 2, intervals
    first = beats[0].cycle - bench.source.sent[0].cycle
    if parameters.get("report"):            # benchmarks/layer.py reads the measured figures
        Path(parameters["report"]).write_text(json.dumps(
            {"cycles_per_image": int(intervals[-1]), "latency_cycles": int(first)}))
    assert first == parameters["latency"] and (config.tiles > 1 or alone > first), (alone, first)


def _case(**overrides):
    parameters = {field: value for field, value in LayerConfig().parameters().items()}
    parameters.update(overrides)
    return parameters


RTL_CASES = [
    pytest.param(_case(), marks=pytest.mark.quick),                    # the default layer
    _case(shape=(8, 8), in_channels=2, out_channels=4, lanes=2, pooled=(4, 4), normalize=False,
          inverse=False, activation="tanh", nyquist="zero", multiplier="3mult"),
    _case(shape=(8, 8), in_channels=1, out_channels=2, lanes=2, pooled=(4, 4), normalize=False,
          segments=32, rounding="half_up"),
    _case(shape=(8, 4), in_channels=3, out_channels=2, lanes=1, pooled=(4, 4),
          activation="relu", activation_format=(12, 8)),
]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.layer import Layer
    layer = Layer(LayerConfig.from_mapping(parameters))
    simulate_case(layer, test_module="tb.test_layer", testcase=testcase,
                  parameters=dict(parameters, cycles_per_image=layer.cycles_per_image), **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=lambda parameters: case_id(
    {key: parameters[key] for key in ("shape", "in_channels", "out_channels", "lanes")}))
def test_rtl_matches_golden(parameters):
    _run(parameters, "layer_matches_golden", gap=0.2, stall=0.2, seed=5)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=lambda parameters: case_id(
    {key: parameters[key] for key in ("shape", "in_channels", "out_channels", "lanes")}))
def test_rtl_latency_and_cycles_per_image(parameters):
    _run(parameters, "layer_latency_and_cycles_per_image")


@pytest.mark.parametrize("testcase", ["layer_backpressure_and_pauses", "layer_reset_mid_image"])
@pytest.mark.parametrize("parameters", [RTL_CASES[2], RTL_CASES[3]], ids=["one_pass",
                                                                         "two_passes"])
def test_rtl_backpressure_pauses_and_reset(parameters, testcase):
    _run(parameters, testcase, gap=0.2, stall=0.2, seed=3)


# Golden model against the float reference ------------------------------------------------------

@pytest.mark.parametrize("overrides, floor_db", [
    ({}, 50), (dict(inverse=False), 50), (dict(normalize=False), 50),
    (dict(normalize=False, activation_format=(16, 15)), 65),
    (dict(shape=(8, 8), pooled=(4, 4), in_channels=2, out_channels=2, lanes=2,
          segments=64), 55)])
def test_golden_error_against_float(overrides, floor_db):
    """The quantized layer against the same mathematics in float: the signal-to-error ratio
    stays above a floor set by the activation's fit (16 segments: ~2·10⁻³ of full scale) and
    the normalization's table (2⁻¹⁰ relative), the 16-bit datapath being finer than both;
    without normalization and gain (Q1.15 read as is) the activation's input is small and the
    fit's error with it."""
    model = LayerModel(LayerConfig(**overrides))
    pixels, weights = stimulus(model.config, 3, 8)
    assert model.error_db(pixels[:2], weights) >= floor_db


def test_golden_is_the_blocks_in_turn():
    """The layer's forward pass equals the blocks' golden models applied by hand."""
    from fdcnn.golden.fft2d import FFT2DModel
    from fdcnn.golden.mac import SpectralMACModel
    from fdcnn.golden.norm import FrameNormModel
    from fdcnn.golden.pool import SpectralPoolModel
    from fdcnn.golden.pwl import PiecewiseLinearModel
    config = LayerConfig(shape=(8, 8), pooled=(4, 4), in_channels=2, out_channels=2, lanes=2)
    pixels, weights = stimulus(config, 1, 9)
    spectrum = FFT2DModel(config.fft_config).transform(pixels[0], 0 * pixels[0])[:2]
    values = SpectralMACModel(config.mac_config).forward(spectrum, weights)[:2]
    values = SpectralPoolModel(config.pool_config).transform(*values)[:2]
    values = FrameNormModel(config.norm_config).normalize(*values)[:2]
    activation = PiecewiseLinearModel(config.pwl_config)
    values = [activation.evaluate(part)[0] for part in values]
    want = FFT2DModel(config.inverse_config).transform(*values)[:2]
    got = LayerModel(config).forward(pixels, weights)[:2]
    assert all(np.array_equal(part[0], expected) for part, expected in zip(got, want))


def test_config_file_round_trip(tmp_path):
    toml = tmp_path / "layer.toml"
    toml.write_text('shape = [8, 8]\npooled = [4, 4]\nin_channels = 2\nnormalize = false\n')
    assert LayerConfig.from_mapping(load_config_file(toml, LayerConfig)) == LayerConfig(
        shape=(8, 8), pooled=(4, 4), in_channels=2, normalize=False)
    json_file = tmp_path / "layer.json"
    json_file.write_text('{"activation": "tanh", "lanes": 2}')
    assert LayerConfig.from_mapping(load_config_file(json_file, LayerConfig)).lanes == 2


@pytest.mark.parametrize("name, text, message", [
    ("layer.toml", "shap = [8, 8]\n", "has unknown parameter 'shap'; known: shape, "),
    ("layer.toml", "shape = [8, 8\n", "does not parse"),
    ("layer.yaml", "", "Config file must end in .toml or .json, not"),
    ("layer.json", "[1, 2]", "must hold a table of parameters"),
])
def test_config_file_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config_file(path, LayerConfig)


@pytest.mark.parametrize("parameters, error, message", [
    (dict(out_channels=6), ValueError, "Output channels must be a multiple of lanes (4), not 6"),
    (dict(pooled=(8, 3)), ValueError, "Pooled must be powers of two from 4 up to the shape "
                                      "16x16, not 8x3"),
    (dict(pooled=(32, 8)), ValueError, "Pooled must be powers of two from 4 up to the shape "
                                       "16x16, not 32x8"),
    (dict(shape=(16, 12)), ValueError, "Shape must be powers of two from 4 on each axis and at "
                                       "most 65536 samples, not 16x12"),
    (dict(activation="swish"), ValueError, "Function must be one of"),
])
def test_parameter_errors(parameters, error, message):
    with pytest.raises(error) as raised:
        LayerConfig(**parameters)
    assert str(raised.value).startswith(message)
