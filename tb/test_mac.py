"""Verification of the spectral MAC array and its golden model.

* cocotb test ``mac_tiles_match_golden``: a sequence of tiles (modes switched and operands
  reloaded between them, channels above and below the lane count) bit-exact against
  :mod:`golden.mac` under random gaps and stalls on every channel;
* golden model: exact against NumPy's complex arithmetic in every mode;
* forward is circular convolution (full spectra against ``ifft``, Hermitian halves against
  ``irfft``) within a bound derived from the spectra's quantization;
* both backward modes are the exact adjoints of forward (the gradients of a real loss);
* saturation of a narrow accumulator and of the output is flagged;
* Gauss's three-multiplier product is the same integer as the four-multiplier one.
"""

import math

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from fdcnn.golden.mac import MODES, MACConfig, SpectralMACModel
from tb.axis import AxisSource, Beat
from tb.bench import StreamBench
from tb.checks import assert_parameter_error
from tb.runner import simulate_case



def _pad(values, axis, size):
    """Zero-pad ``values`` along ``axis`` to ``size``."""
    padding = [(0, 0)] * values.ndim
    padding[axis] = (0, size - values.shape[axis])
    return np.pad(values, padding)


def swing_weights(model, w):
    """Forward weights against a full-scale ``X`` whose first product saturates the
    accumulator and whose second brings the sum back into range: the overflow flag must stay
    set through a later term that does not saturate."""
    real = np.array(w[0])
    real[:, 1::2, :] = -((1 << (model.accumulator_width - 1)) // ((1 << (model.data_width - 1))
                                                                  - 1))
    return real, np.zeros_like(real)


def tile_plan(model, lanes, mode, channels_in, channels_out, batch, rng, full_scale):
    """One layer's tiles in ``mode``: (config (mode, frames, passes, load, learning_shift),
    operand beats, streamed beats, expected frames as real/imag arrays (frames, bins), overflow
    per frame). A ``weight_update`` layer is, per group of lanes, a backward_data tile that loads
    ``W``, the update, and a backward_data tile on the updated ``W`` without loading it."""
    width_d, width_w = model.data_width, model.weight_width
    bins = model.bins

    def draw(width, shape):
        low, high = -(1 << (width - 1)), (1 << (width - 1))
        if full_scale == "swing":   # see swing_weights
            return np.full(shape, high - 1), np.zeros(shape, dtype=np.int64)
        if full_scale:
            return tuple(rng.choice([low, high - 1], shape) for _ in range(2))
        return tuple(rng.integers(low, high, shape) for _ in range(2))

    tiles = []
    if mode in ("forward", "unbuilt_update"):      # a mode not built runs forward
        requested = 3 if mode == "unbuilt_update" else 0
        x, w = draw(width_d, (channels_in, bins)), draw(width_w, (channels_out, channels_in, bins))
        if full_scale == "swing":
            w = swing_weights(model, w)
        groups = math.ceil(channels_out / lanes)
        for group in range(groups):
            lane_w = tuple(_pad(part[group * lanes:(group + 1) * lanes], 0, lanes) for part in w)
            real, imag, overflow = model.forward(x, lane_w)
            tiles.append(((requested, channels_in, 1, 1, 0), [lane_w], [x], real, imag, overflow))
    elif mode == "backward_data":
        w, dy = draw(width_w, (channels_out, channels_in, bins)), draw(width_d, (channels_out, bins))
        for group in range(math.ceil(channels_in / lanes)):
            lane_w = tuple(_pad(part[:, group * lanes:(group + 1) * lanes], 1, lanes) for part in w)
            tiles.append(_backward_data_tile(model, lane_w, dy, load=True))
    elif mode == "weight_update":
        w = draw(width_w, (channels_out, channels_in, bins))
        x, dy = draw(width_w, (batch, channels_in, bins)), draw(width_d, (batch, channels_out, bins))
        shift = 10 if full_scale else int(rng.integers(14, 20))
        for group in range(math.ceil(channels_in / lanes)):
            lanes_of = slice(group * lanes, (group + 1) * lanes)
            lane_w = tuple(_pad(part[:, lanes_of], 1, lanes) for part in w)
            lane_x = tuple(_pad(part[:, lanes_of], 1, lanes) for part in x)
            tiles.append(_backward_data_tile(model, lane_w, draw(width_d, (channels_out, bins)),
                                             load=True))
            *new_w, overflow = model.weight_update(lane_w, lane_x, dy, shift)
            tiles.append(((3, channels_out, batch, 1, shift),
                          [tuple(part[b] for part in lane_x) for b in range(batch)],
                          [tuple(part[b] for part in dy) for b in range(batch)],
                          *(part.transpose(1, 0, 2).reshape(-1, bins) for part in new_w),
                          overflow.T.reshape(-1)))
            tiles.append(_backward_data_tile(model, new_w, draw(width_d, (channels_out, bins)),
                                             load=False))
    else:
        x, dy = draw(width_w, (batch, channels_in, bins)), draw(width_d, (batch, channels_out, bins))
        for group in range(math.ceil(channels_in / lanes)):
            lane_x = tuple(_pad(part[:, group * lanes:(group + 1) * lanes], 1, lanes) for part in x)
            real, imag, overflow = model.weight_grad(lane_x, dy)
            stored = [tuple(part[b] for part in lane_x) for b in range(batch)]
            streamed = [tuple(part[b] for part in dy) for b in range(batch)]
            tiles.append(((2, channels_out, batch, 1, 0), stored, streamed,
                          real.transpose(1, 0, 2).reshape(-1, bins),
                          imag.transpose(1, 0, 2).reshape(-1, bins),
                          overflow.T.reshape(-1)))
    return tiles


def _backward_data_tile(model, lane_w, dy, load):
    real, imag, overflow = model.backward_data(lane_w, dy)
    stored = [tuple(part.transpose(1, 0, 2) for part in lane_w)] if load else []
    return (1, len(dy[0]), 1, int(load), 0), stored, [dy], real, imag, overflow


async def _run_tiles(dut, parameters, tiles):
    """Queue every tile's configuration, operands and frames; return the output beats."""
    import random
    bench = StreamBench(dut, parameters, parameters["bins"])
    weights = AxisSource(dut, "s_axis_weight", gap=parameters.get("gap", 0.0),
                         seed=parameters["seed"] + 5)
    dut.s_axis_config_tvalid.value = 0
    await bench.start()
    cocotb.start_soon(weights.run())
    cocotb.start_soon(drive_config(dut, [tile[0] for tile in tiles], parameters["frames_bits"],
                                   random.Random(parameters["seed"]),
                                   parameters.get("gap", 0.0)))
    sent = 0
    for _, stored, streamed, *_ in tiles:
        for operands in stored:
            weights.send(_beats(operands))
            sent += np.asarray(operands[0]).size
        for frames in streamed:
            bench.source.send(_beats(frames))
            sent += np.asarray(frames[0]).size
    real = np.concatenate([tile[3] for tile in tiles])
    imag = np.concatenate([tile[4] for tile in tiles])
    overflow = np.concatenate([tile[5] for tile in tiles])
    beats = await bench.collect(real.size, settle=200, limit=10 * (sent + real.size) + 1000)
    bench.check(beats, real, imag, overflow)
    return bench, beats


def _beats(parts):
    real, imag = (np.asarray(part).reshape(-1) for part in parts)
    return [Beat(int(r), int(i)) for r, i in zip(real, imag)]


async def drive_config(dut, configs, frames_bits, gap_rng, gap):
    """Send tile configurations on s_axis_config (mode, frames, passes, load, learning_shift;
    LSB first)."""
    for mode, frames, passes, load, learning_shift in configs:
        while gap_rng.random() < gap:
            dut.s_axis_config_tvalid.value = 0
            await RisingEdge(dut.clk)
        word = (mode | (frames << 2) | (passes << (2 + frames_bits))
                | (load << (18 + frames_bits)) | (learning_shift << (19 + frames_bits)))
        dut.s_axis_config_tdata.value = word
        dut.s_axis_config_tvalid.value = 1
        await RisingEdge(dut.clk)
        while not dut.s_axis_config_tready.value:
            await RisingEdge(dut.clk)
    dut.s_axis_config_tvalid.value = 0


@cocotb.test()
async def mac_tiles_match_golden(dut):
    from tb.runner import case
    parameters = case()
    model = SpectralMACModel(MACConfig.from_mapping(parameters))
    rng = np.random.default_rng(parameters["seed"])
    tiles = []
    for mode, full_scale in parameters["layers"]:
        tiles += tile_plan(model, parameters["lanes"], mode, parameters["channels_in"],
                           parameters["channels_out"], parameters["batch"], rng, full_scale)
    await _run_tiles(dut, parameters, tiles)


@cocotb.test()
async def mac_full_rate_and_latency(dut):
    """Forward tiles back to back on the same weights (load only first), ``lanes`` frames each
    (the documented condition), no gaps or stalls: a streamed sample every clock across tile
    boundaries, and the first result ``latency`` cycles after the first sample of a tile's last
    frame."""
    from tb.runner import case
    parameters = dict(case(), gap=0.0, stall=0.0)
    model = SpectralMACModel(MACConfig.from_mapping(parameters))
    rng = np.random.default_rng(5)
    lanes, channels = parameters["lanes"], parameters["channels_in"]
    tiles = tile_plan(model, lanes, "forward", channels, lanes, 1, rng, False)
    weights = tiles[0][1]
    for _ in range(2):                                  # two more images, same weights
        x = tuple(rng.integers(-2 ** 15, 2 ** 15, (channels, model.bins)) for _ in range(2))
        real, imag, overflow = model.forward(x, weights[0])
        tiles.append(((0, channels, 1, 0, 0), [], [x], real, imag, overflow))
    bench, beats = await _run_tiles(dut, parameters, tiles)
    taken = [beat.cycle for beat in bench.source.sent]
    assert np.all(np.diff(taken) == 1), "the streamed input had bubbles"
    last_frame_start = taken[(channels - 1) * model.bins]
    assert beats[0].cycle - last_frame_start == parameters["latency"]


def _complex(parts):
    return np.asarray(parts[0], dtype=np.float64) + 1j * np.asarray(parts[1], dtype=np.float64)


def _random(rng, width, shape):
    return tuple(rng.integers(-(1 << (width - 1)), 1 << (width - 1), shape) for _ in range(2))


def _exact_model(bins, channels, width=16):
    """No rounding, no saturation: shift 0 and an output as wide as the accumulator."""
    probe = SpectralMACModel(bins=bins, max_in_channels=channels, max_out_channels=channels,
                             data_width=width, weight_width=width)
    return SpectralMACModel(bins=bins, max_in_channels=channels, max_out_channels=channels,
                            data_width=width, weight_width=width, output_shift=0,
                            output_width=probe.accumulator_width)


def test_modes_equal_complex_arithmetic():
    rng = np.random.default_rng(1)
    model = _exact_model(bins=33, channels=6)
    x = _random(rng, 16, (6, 33))
    w = _random(rng, 16, (5, 6, 33))
    dy = _random(rng, 16, (5, 33))
    y = model.forward(x, w)
    assert np.array_equal(_complex(y[:2]), np.einsum("ck,ock->ok", _complex(x), _complex(w)))
    dx = model.backward_data(w, dy)
    assert np.array_equal(_complex(dx[:2]),
                          np.einsum("ock,ok->ck", np.conj(_complex(w)), _complex(dy)))
    xb, dyb = _random(rng, 16, (3, 6, 33)), _random(rng, 16, (3, 5, 33))
    dw = model.weight_grad(xb, dyb)
    assert np.array_equal(_complex(dw[:2]),
                          np.einsum("bck,bok->ock", np.conj(_complex(xb)), _complex(dyb)))
    assert not (y[2].any() or dx[2].any() or dw[2].any())


@pytest.mark.parametrize("hermitian", [False, True])
def test_forward_is_circular_convolution(hermitian):
    """Spectra quantized with ``2**scale``: each product's error is at most
    ``|X||ΔW| + |W||ΔX| + |ΔX||ΔW|`` with ``|Δ| ≤ √2/2 · 2**−scale``; summed over channels that
    bounds every bin, and ``ifft`` (``irfft``) of an error is at most its largest bin (twice it)."""
    rng = np.random.default_rng(2)
    size, channels, outputs, scale = 32, 4, 3, 10
    x = rng.integers(-8, 8, (channels, size)).astype(np.float64)
    kernels = rng.integers(-8, 8, (outputs, channels, size)).astype(np.float64)
    transform = np.fft.rfft if hermitian else np.fft.fft
    spectra, weights = transform(x), transform(kernels)
    bins = spectra.shape[-1]
    assert bins == (size // 2 + 1 if hermitian else size)

    def quantize(values):
        codes = np.round(values * 2 ** scale)
        return codes.real.astype(np.int64), codes.imag.astype(np.int64)

    model = _exact_model(bins=bins, channels=channels, width=20)
    y = model.forward(quantize(spectra), quantize(weights))
    pooled = _complex(y[:2]) / 2.0 ** (2 * scale)
    step = math.sqrt(2) / 2 * 2.0 ** -scale
    bin_error = (np.abs(spectra).sum(axis=0)[None, :] + np.abs(weights).sum(axis=1)) * step \
        + channels * step ** 2
    if hermitian:
        got, bound = np.fft.irfft(pooled, n=size), 2 * bin_error.max()
    else:
        got, bound = np.fft.ifft(pooled), bin_error.max()
    circular = np.array([[sum(np.sum(x[c][(n - np.arange(size)) % size] * kernels[o, c])
                              for c in range(channels)) for n in range(size)]
                         for o in range(outputs)])
    error = np.max(np.abs(got - circular))
    assert error <= bound, f"error {error:.2e} above the bound {bound:.2e}"
    assert bound < 0.5       # small enough that an integer-valued convolution is pinned down


def test_backward_modes_are_the_adjoints_of_forward():
    """With ⟨u, v⟩ = Σ u·conj(v): ⟨F(X; W), G⟩ = ⟨X, B_data(W; G)⟩ = ⟨W, B_weight(X; G)⟩,
    so the backward modes are the gradients of the real loss Re⟨F(X; W), G⟩. Exact."""
    rng = np.random.default_rng(3)
    model = _exact_model(bins=8, channels=5)
    x, w, g = (_random(rng, 16, (5, 8)), _random(rng, 16, (4, 5, 8)),
               _random(rng, 16, (4, 8)))
    y = _complex(model.forward(x, w)[:2])
    dx = _complex(model.backward_data(w, g)[:2])
    dw = _complex(model.weight_grad(tuple(part[None] for part in x),
                                    tuple(part[None] for part in g))[:2])
    forward_pairing = np.sum(y * np.conj(_complex(g)))
    assert forward_pairing == np.sum(_complex(x) * np.conj(dx))
    assert forward_pairing == np.sum(_complex(w) * np.conj(dw))


def test_saturation_is_flagged():
    full = (np.full((8, 4), -2 ** 15), np.full((8, 4), -2 ** 15))
    weights = (np.full((2, 8, 4), -2 ** 15), np.full((2, 8, 4), 2 ** 15 - 1))
    narrow = SpectralMACModel(bins=4, max_in_channels=8, max_out_channels=2,
                              accumulator_width=34, output_shift=0, output_width=40)
    assert narrow.accumulator_width < SpectralMACModel(
        bins=4, max_in_channels=8, max_out_channels=2).accumulator_width
    assert narrow.forward(full, weights)[2].all()
    exact = SpectralMACModel(bins=4, max_in_channels=8, max_out_channels=2)
    real, imag, overflow = exact.forward(full, weights)
    assert overflow.all() and real.max() == 2 ** 15 - 1     # the 16-bit output saturates
    small = (np.full((8, 4), 3), np.zeros((8, 4), dtype=np.int64))
    assert not exact.forward(small, weights)[2].any()


def test_gauss_three_multiplications_give_the_same_integers():
    """The circuit's forms, plain and conjugated (``d → −d`` folded into its pre-adders)."""
    rng = np.random.default_rng(4)
    extremes = [-2 ** 15, -2 ** 15 + 1, -1, 0, 1, 2 ** 15 - 1]
    values = np.array(extremes + list(rng.integers(-2 ** 15, 2 ** 15, 200)), dtype=object)
    a, b, c, d = (rng.permutation(values) for _ in range(4))
    k1, k2, k3 = c * (a + b), a * (d - c), b * (c + d)
    assert np.array_equal(k1 - k3, a * c - b * d)
    assert np.array_equal(k1 + k2, a * d + b * c)
    k2_conjugate, k3_conjugate = a * (c + d), b * (c - d)
    assert np.array_equal(k1 - k3_conjugate, a * c + b * d)
    assert np.array_equal(k1 - k2_conjugate, b * c - a * d)


def test_weight_update_is_a_rounded_gradient_step():
    """With an exact accumulator and no saturation, ``W − round(dW/2**s)`` is within half an
    LSB of the real step ``W − dW/2**s`` (a tie rounds either way), for every shift."""
    rng = np.random.default_rng(6)
    model = SpectralMACModel(bins=8, max_in_channels=3, max_out_channels=2)
    w = _random(rng, 12, (2, 3, 8))                 # room below the 16-bit weights
    x, dy = _random(rng, 16, (4, 3, 8)), _random(rng, 16, (4, 2, 8))
    exact = _complex(_exact_model(bins=8, channels=3).weight_grad(x, dy)[:2])
    for shift in (18, 22, 30):
        *new, overflow = model.weight_update(w, x, dy, shift)
        step = _complex(w) - exact / 2.0 ** shift
        error = _complex(new) - step
        assert not overflow.any()
        assert max(np.abs(error.real).max(), np.abs(error.imag).max()) <= 0.5
    *new, overflow = model.weight_update(w, x, dy, 2)        # a huge step saturates
    assert overflow.all() and np.abs(new[0]).max() == 2 ** 15


@pytest.mark.parametrize("parameters, error, message", [
    (dict(bins=0, max_in_channels=4, max_out_channels=4), ValueError,
     "Bins must be from 1 to 65536, not 0"),
    (dict(bins=64, max_in_channels=4, max_out_channels=4, multiplier="2mult"), ValueError,
     "Multiplier must be one of '4mult', '3mult', not '2mult'"),
    (dict(bins=64, max_in_channels=4, max_out_channels=4, rounding="up"), ValueError,
     "Rounding must be one of 'truncate', 'half_up', 'convergent', not 'up'"),
    (dict(bins=64, max_in_channels=4.0, max_out_channels=4), TypeError,
     "Input channels must be an integer, not 4.0"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error((MACConfig, SpectralMACModel), parameters, error, message)


@pytest.mark.parametrize("parameters, message", [
    (dict(modes=["forward", "sgd"]), "Modes must be a non-empty list from forward, "
     "backward_data, weight_grad, weight_update, not ['forward', 'sgd']"),
    (dict(modes=list(MODES), output_width=12), "Output width must be at least the weight "
     "width (16) to carry updated weights, not 12"),
])
def test_generator_parameter_errors(parameters, message):
    assert_parameter_error((MACConfig,), dict(bins=8, max_in_channels=2, max_out_channels=2,
                                                **parameters), ValueError, message)


def test_learning_shift_error():
    model = SpectralMACModel(bins=1, max_in_channels=1, max_out_channels=1)
    zeros = (np.zeros((1, 1, 1), dtype=np.int64),) * 2
    with pytest.raises(ValueError) as raised:
        model.weight_update(zeros, zeros, zeros, 64)
    assert str(raised.value) == "Learning-rate shift must be from 0 to 63, not 64"


# pytest runners ------------------------------------------------------------------------------

def _case(lanes, bins, channels_in, channels_out, layers, multiplier="4mult", batch=2,
          accumulator_width=None, output_shift=None):
    """A parameter set; the weight update is built when a layer uses it, else the default
    modes."""
    from fdcnn.hdl.mac import DEFAULT_MODES
    updating = any(mode == "weight_update" for mode, _ in layers)
    return dict(lanes=lanes, modes=list(MODES if updating else DEFAULT_MODES),
                bins=bins, max_in_channels=max(channels_in, 1),
                max_out_channels=max(channels_out, 1), channels_in=channels_in,
                channels_out=channels_out, batch=batch, layers=layers, data_width=16,
                weight_width=16, accumulator_width=accumulator_width, output_shift=output_shift,
                rounding="convergent", multiplier=multiplier)


ALL_MODES = [[mode, False] for mode in MODES]
RTL_CASES = [
    _case(1, 8, 3, 2, ALL_MODES),
    _case(2, 1, 5, 3, ALL_MODES),      # one bin: the same accumulator on consecutive cycles
    _case(1, 2, 3, 2, ALL_MODES),      # two bins: forwarded from two cycles before
    _case(2, 3, 2, 3, ALL_MODES, multiplier="3mult"),     # three bins: no forwarding
    _case(2, 33, 3, 5, ALL_MODES, multiplier="3mult"),
    _case(4, 64, 2, 3, ALL_MODES),
    pytest.param(_case(4, 64, 16, 16, [["forward", False]]), marks=pytest.mark.quick),
    pytest.param(dict(_case(4, 64, 16, 16, [["forward", False]]), x_ram=True),
                 marks=pytest.mark.quick),                 # the default with RAMs starting as X
    _case(4, 8, 6, 9, [["forward", True], ["backward_data", True], ["unbuilt_update", False]]),
    _case(2, 8, 4, 3, [["weight_grad", True], ["forward", True]], accumulator_width=34,
          output_shift=2, multiplier="3mult"),
    _case(2, 8, 3, 2, [["weight_update", True], ["weight_update", False]], batch=3),
    _case(2, 4, 2, 2, [["forward", "swing"]], accumulator_width=24),    # overflow is sticky
]


def _case_id(parameters):
    return (f"L{parameters['lanes']}-bins{parameters['bins']}-c{parameters['channels_in']}"
            f"-o{parameters['channels_out']}-{parameters['multiplier']}-"
            + "+".join(mode + ("!" if full else "") for mode, full in parameters["layers"])
            + (f"-acc{parameters['accumulator_width']}" if parameters["accumulator_width"] else "")
            + ("-xram" if parameters.get("x_ram") else ""))


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.mac import SpectralMAC
    block = SpectralMAC(MACConfig.from_mapping(parameters))
    simulate_case(block, test_module="tb.test_mac", testcase=testcase, parameters=parameters,
                  frames_bits=block.config_layout["frames"].width, **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=_case_id)
def test_rtl_tiles_match_golden(parameters):
    _run(parameters, "mac_tiles_match_golden", gap=0.3, stall=0.3, seed=7)


@pytest.mark.parametrize("parameters", [_case(4, 16, 4, 4, []), _case(4, 8, 4, 4, []),
                                        _case(2, 8, 2, 2, [], multiplier="3mult"),
                                        _case(1, 8, 1, 1, [])],
                         ids=_case_id)
def test_rtl_full_rate_and_latency(parameters):
    _run(parameters, "mac_full_rate_and_latency", seed=3)
