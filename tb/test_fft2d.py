"""Verification of the streaming 2-D FFT.

* RTL: the 1-D FFT's cocotb benches (``tb.test_fft``: every stimulus kind under random gaps and
  stalls, zero bubbles and exact latency, paused and idle sources, sustained backpressure,
  mid-frame reset, tlast errors) run on :class:`~fdcnn.hdl.fft2d.FFT2D` against :class:`~fdcnn.golden.fft2d.FFT2DModel`
  (their bench picks the model by the ``shape`` parameter).
* Golden model: against ``numpy.fft.fft2 / (H·W)`` within
  :func:`~fdcnn.golden.fft2d.predicted_rms_error_2d`, the inverse against ``ifft2``, a forward
  and inverse round trip, and parameter checking.
"""

import math

import numpy as np
import pytest

from fdcnn.golden.fft import bit_reverse
from fdcnn.golden.fft2d import FFT2DConfig, FFT2DModel, predicted_rms_error_2d
from tb.checks import assert_parameter_error
from tb.runner import case_id, simulate_case


def _case(shape, **overrides):
    parameters = dict(shape=shape, data_width=16, twiddle_width=18, scaling="stage",
                      rounding="convergent", direction="forward", output_order="bit_reversed")
    parameters.update(overrides)
    return parameters


RTL_CASES = [
    _case((4, 4)),
    _case((4, 16), direction="runtime", output_order="natural"),
    _case((16, 8), rounding="truncate", scaling="none", direction="inverse"),
    pytest.param(_case((32, 32)), marks=pytest.mark.quick),        # the layer's default
    _case((8, 8), rounding="half_up", data_width=12, twiddle_width=12, x_ram=True),
]
STIMULI = ["random", "impulses", "dc", "alternating", "saturating"]


def _run(parameters, testcase, **bench):
    from fdcnn.hdl.fft2d import FFT2D
    simulate_case(FFT2D(FFT2DConfig.from_mapping(parameters)), test_module="tb.test_fft",
                  testcase=testcase, parameters=parameters, **bench)


@pytest.mark.parametrize("parameters", RTL_CASES, ids=case_id)
def test_rtl_matches_golden(parameters):
    _run(parameters, "fft_matches_golden", stimuli=STIMULI, gap=0.3, stall=0.3, seed=7)


@pytest.mark.parametrize("testcase", ["fft_zero_bubbles_and_latency", "fft_paused_source",
                                      "fft_latency_after_idle"])
def test_rtl_streams_without_bubbles(testcase):
    _run(_case((8, 16), direction="runtime", output_order="natural"), testcase)


def test_rtl_reset_mid_frame():
    _run(_case((8, 8), direction="runtime"), "fft_reset_mid_frame", gap=0.2, stall=0.2, seed=4)


def test_rtl_sustained_backpressure():
    _run(_case((8, 16), output_order="natural"), "fft_sustained_backpressure", gap=0.2,
         stall=0.2, seed=9)


def test_rtl_tlast_errors():
    _run(_case((4, 8)), "fft_tlast_errors", gap=0.2, stall=0.0, seed=6)


# Golden model against the float truth ----------------------------------------------------------

def _complex_rms(error):
    return math.sqrt(np.mean(np.abs(error) ** 2))


def _stream_order(spectrum, config):
    """``X`` (frames, H, W) as the unit emits it: ``X.T``, each axis in ``output_order``."""
    turned = spectrum.transpose(0, 2, 1)
    if config.output_order == "bit_reversed":
        turned = turned[:, bit_reverse(np.arange(config.columns), config.columns.bit_length() - 1)]
        turned = turned[:, :, bit_reverse(np.arange(config.rows), config.rows.bit_length() - 1)]
    return turned.reshape(len(spectrum), -1)


@pytest.mark.parametrize("shape", [(4, 4), (8, 32), (32, 8), (32, 32), (64, 64)])
@pytest.mark.parametrize("output_order", ["bit_reversed", "natural"])
def test_golden_matches_numpy_fft2(shape, output_order):
    """Full-range random frames: complex RMS error within the noise model's prediction (+2 %),
    and above the floor of rounding the output once."""
    config = FFT2DConfig(shape=shape, output_order=output_order)
    rng = np.random.default_rng(shape[0] * shape[1])
    frames = max((1 << 15) // config.size, 4)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, frames, *shape))
    out_real, out_imag, overflow = FFT2DModel(config).transform(real, imag)
    truth = _stream_order(np.fft.fft2(real + 1j * imag) / config.size, config)
    rms = _complex_rms(out_real + 1j * out_imag - truth)
    assert not overflow.any()
    assert math.sqrt(2 / 12) < rms <= 1.02 * predicted_rms_error_2d(*shape), f"{rms:.3f} LSB"


def test_golden_inverse_matches_numpy_ifft2():
    """The inverse of a (columns × rows)-shaped X.T, natural order, is IDFT2(X) row-major."""
    rows, columns = 8, 16
    config = FFT2DConfig(shape=(columns, rows), direction="inverse", output_order="natural")
    rng = np.random.default_rng(2)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 16, rows, columns))
    spectrum = real + 1j * imag
    out_real, out_imag, _ = FFT2DModel(config).transform(
        *(part.transpose(0, 2, 1) for part in (real, imag)))
    truth = np.fft.ifft2(spectrum).reshape(16, -1)
    assert _complex_rms(out_real + 1j * out_imag - truth) <= predicted_rms_error_2d(columns, rows)


def test_golden_round_trip():
    """Full-growth forward (natural order), then the stage-scaled inverse at its width returns
    the image. The forward rounds only its twiddle products, which the inverse divides by
    ``H·W``; what is left is the inverse's own error, bounded as the forward's."""
    rows, columns = 16, 8
    forward = FFT2DConfig(shape=(rows, columns), scaling="none", output_order="natural")
    inverse = FFT2DConfig(shape=(columns, rows), data_width=forward.output_width,
                          direction="inverse", output_order="natural")
    rng = np.random.default_rng(3)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 16, rows, columns))
    spectrum = FFT2DModel(forward).transform(real, imag)
    assert not spectrum[2].any()
    back_real, back_imag, overflow = FFT2DModel(inverse).transform(*spectrum[:2])
    error = back_real + 1j * back_imag - (real + 1j * imag).reshape(16, -1)
    assert not overflow.any()
    assert _complex_rms(error) <= predicted_rms_error_2d(columns, rows)
    assert np.max(np.abs(error)) <= 4


def test_golden_runtime_direction_equals_fixed_directions():
    rng = np.random.default_rng(4)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, 4, 64))
    inverse = np.array([0, 1, 1, 0], dtype=bool)
    runtime = FFT2DModel(shape=(8, 8), direction="runtime").transform(real, imag, inverse)
    for direction, frames in (("forward", ~inverse), ("inverse", inverse)):
        fixed = FFT2DModel(shape=(8, 8), direction=direction).transform(real[frames],
                                                                        imag[frames])
        for got, want in zip(runtime, fixed):
            assert np.array_equal(got[frames], want)


SHAPE_RULE = "Shape must be powers of two from 4 on each axis and at most 65536 samples"


@pytest.mark.parametrize("parameters, error, message", [
    (dict(shape=(4, 6)), ValueError, f"{SHAPE_RULE}, not 4x6"),
    (dict(shape=(512, 256)), ValueError, f"{SHAPE_RULE}, not 512x256"),
    (dict(shape=32), TypeError, "Shape must be a (rows, columns) tuple of integers, not 32"),
    (dict(scaling=(1, 1)), ValueError, "Scaling must be one of 'stage', 'none', not (1, 1)"),
    (dict(scaling="none", data_width=28), ValueError,
     "Data width 28 grows to 34 bits in the row transforms without scaling; the column "
     "transforms take at most 32"),
    (dict(output_order="transposed"), ValueError,
     "Output order must be one of 'bit_reversed', 'natural', not 'transposed'"),
])
def test_parameter_errors(parameters, error, message):
    assert_parameter_error([FFT2DModel], parameters, error, message)
