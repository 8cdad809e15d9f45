"""The spectral MAC array's golden model (the hardware generator is still to come).

* exact against NumPy's complex arithmetic in every mode;
* forward is circular convolution (full spectra against ``ifft``, Hermitian halves against
  ``irfft``) within a bound derived from the spectra's quantization;
* both backward modes are the exact adjoints of forward (the gradients of a real loss);
* saturation of a narrow accumulator and of the output is flagged;
* Gauss's three-multiplier product is the same integer as the four-multiplier one.
"""

import math

import numpy as np
import pytest

from golden.mac import SpectralMACModel
from tb.checks import assert_parameter_error


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
    rng = np.random.default_rng(4)
    extremes = [-2 ** 15, -2 ** 15 + 1, -1, 0, 1, 2 ** 15 - 1]
    values = np.array(extremes + list(rng.integers(-2 ** 15, 2 ** 15, 200)), dtype=object)
    a, b, c, d = (rng.permutation(values) for _ in range(4))
    for d_sign in (1, -1):       # and with the stored operand conjugated
        dd = d_sign * d
        k1, k2, k3 = c * (a + b), a * (dd - c), b * (c + dd)
        assert np.array_equal(k1 - k3, a * c - b * dd)
        assert np.array_equal(k1 + k2, a * dd + b * c)


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
    assert_parameter_error((SpectralMACModel,), parameters, error, message)
