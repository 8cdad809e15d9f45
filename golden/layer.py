"""The composed spectral layer: its configuration and its golden model, the composition of
the blocks' golden models, with a float reference of the same mathematics.

A layer takes ``C_in`` real ``H × W`` channel images and computes, per image::

    X[c]  = FFT2(x[c]) / (H·W)                  2-D FFT, transposed stream order
    Y[o]  = Σ_c X[c] · W[o][c]                 spectral MAC, forward mode
    P[o]  = crop(Y[o])                         crop pooling to h × w frequencies
    Z[o]  = (P[o] − mean) / std                frame normalization (optional; without it,
                                               Z = g·P, g = LayerConfig.spectral_gain)
    A[o]  = f(Re Z[o]) + j f(Im Z[o])          split-complex PWL activation
    out[o] = IFFT2(A[o])                       inverse 2-D FFT (optional), h × w row-major

Spectra stream in the 2-D FFT's order: column by column (``X.T``), each axis bit-reversed, or
natural when the layer ends with the inverse transform (which takes natural order; the forward
transform then spends an ``H``-word reorder RAM). Weights ``W[o][c]`` are given per bin in the
same stream order (:meth:`LayerConfig.bin_frequencies` says which frequency each bin is).
"""

import dataclasses
import math

import numpy as np

from fdcnn.golden.checks import (codes_in_range, integer_in, one_of, shape_pair,
                                 shape_text)
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fft import bit_reverse
from fdcnn.golden.fft2d import FFT2DConfig, FFT2DModel
from fdcnn.golden.fixed import checked_format, pair_text
from fdcnn.golden.mac import MACConfig, SpectralMACModel
from fdcnn.golden.norm import FrameNormModel, NormConfig
from fdcnn.golden.pool import NYQUIST_POLICIES, PoolConfig, SpectralPoolModel
from fdcnn.golden.pwl import PiecewiseLinearModel, PWLConfig

__all__ = ["LayerConfig", "LayerModel"]


@dataclasses.dataclass(frozen=True)
class LayerConfig(BlockConfig):
    """Parameters of one spectral layer, validated, with each block's configuration."""

    shape: tuple = parameter((16, 16), "H×W of an input channel image (powers of two from 4)",
                             parse=shape_text)
    in_channels: int = parameter(4, "input channels C_in (1 … 256)")
    out_channels: int = parameter(4, "output channels C_out, a multiple of lanes (1 … 256)")
    lanes: int = parameter(4, "MAC lanes: output channels computed per pass over the input")
    pooled: tuple = parameter((8, 8), "h×w frequencies kept by the crop (powers of two from 4 "
                                      "with the inverse transform)", parse=shape_text)
    normalize: bool = parameter(True, "frame normalization before the activation", flag=True)
    activation: str = parameter("sigmoid", "sigmoid, tanh, relu, leaky_relu[:alpha], silu, "
                                           "gelu, softplus")
    segments: int = parameter(16, "PWL segments (fitted breakpoints)")
    inverse: bool = parameter(True, "end with the inverse 2-D FFT (images out; else spectra)",
                              flag=True)
    data_width: int = parameter(16, "bits per component of images and spectra (8 … 24)")
    weight_width: int = parameter(16, "bits per weight component, Q1.(width−1)")
    twiddle_width: int = parameter(18, "FFT twiddle bits")
    activation_format: tuple = parameter(
        (16, 12), "width,fraction of the activation's input: the normalization's output, or "
                  "without it how the pooled spectra's codes are read (width = data width; a "
                  "fraction below data width − 1 amplifies them by 2**(data width − 1 − "
                  "fraction))", parse=pair_text)
    nyquist: str = parameter("crop", "crop, fold or zero: the Nyquist bins of the crop")
    multiplier: str = parameter("4mult", "4mult or 3mult in the MAC")
    rounding: str = parameter("convergent", "truncate, half_up or convergent, everywhere")

    def __post_init__(self):
        integer_in("Input channels", self.in_channels, 1, 256)
        integer_in("Output channels", self.out_channels, 1, 256)
        integer_in("Lanes", self.lanes, 1, 64)
        if self.out_channels % self.lanes:
            raise ValueError(f"Output channels must be a multiple of lanes ({self.lanes}), not "
                             f"{self.out_channels}")
        integer_in("Data width", self.data_width, 8, 24)
        one_of("Nyquist policy", self.nyquist, NYQUIST_POLICIES)
        if not isinstance(self.normalize, bool) or not isinstance(self.inverse, bool):
            raise TypeError("Normalize and inverse must be True or False")
        self._set("activation_format", checked_format("Activation format",
                                                      self.activation_format))
        if not self.normalize and self.activation_format.width != self.data_width:
            raise ValueError(f"Activation format width must be the data width "
                             f"({self.data_width}) without normalization, not "
                             f"{self.activation_format.width}")
        pooled = shape_pair("Pooled", self.pooled)
        if not all(4 <= kept <= size and kept & (kept - 1) == 0
                   for kept, size in zip(pooled, self.fft_config.shape)):
            raise ValueError(f"Pooled must be powers of two from 4 up to the shape "
                             f"{self.shape[0]}x{self.shape[1]}, not {pooled[0]}x{pooled[1]}")
        for name in ("mac_config", "pool_config", "norm_config", "pwl_config",
                     "inverse_config"):
            getattr(self, name)          # each block checks its own parameters

    # The blocks -----------------------------------------------------------------------------

    @property
    def order(self) -> str:
        """Stream order of the spectra on both axes."""
        return "natural" if self.inverse else "bit_reversed"

    @property
    def tiles(self) -> int:
        """Passes over an image: one per group of ``lanes`` output channels."""
        return self.out_channels // self.lanes

    @property
    def load_words(self) -> int:
        """Weight words every pass loads: ``lanes·C_in·H·W`` when ``tiles > 1``, else none
        (the weights stay)."""
        return self.lanes * self.in_channels * self.bins if self.tiles > 1 else 0

    @property
    def cycles_per_image(self) -> int:
        """Clock cycles between images streamed back to back without gaps or stalls (the
        layer's test measures it): per pass ``H·W·max(C_in, lanes)``, plus, when passes reload
        weights (``tiles > 1``), their words."""
        return self.tiles * (self.bins * max(self.in_channels, self.lanes) + self.load_words)

    @property
    def bins(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def pooled_bins(self) -> int:
        return self.pooled[0] * self.pooled[1]

    @property
    def fft_config(self) -> FFT2DConfig:
        return FFT2DConfig(shape=self.shape, data_width=self.data_width,
                           twiddle_width=self.twiddle_width, rounding=self.rounding,
                           output_order=self.order)

    @property
    def mac_config(self) -> MACConfig:
        return MACConfig(lanes=self.lanes, modes=("forward",), bins=self.bins,
                         max_in_channels=self.in_channels, max_out_channels=self.out_channels,
                         data_width=self.data_width, weight_width=self.weight_width,
                         rounding=self.rounding, multiplier=self.multiplier)

    @property
    def pool_config(self) -> PoolConfig:
        """The crop on the transposed spectrum: ``(W, H)`` to ``(w, h)``."""
        return PoolConfig(spectrum_shape=self.shape[::-1], pooled_shape=self.pooled[::-1],
                          data_width=self.data_width, order=self.order, nyquist=self.nyquist,
                          fold_growth=False)

    @property
    def norm_config(self) -> NormConfig | None:
        if not self.normalize:
            return None
        return NormConfig(frame=self.pooled_bins, data_width=self.data_width,
                          output_format=self.activation_format, rounding=self.rounding)

    @property
    def pwl_config(self) -> PWLConfig:
        return PWLConfig(function=self.activation,
                         input_format=(self.activation_format.width,
                                       self.activation_format.fraction),
                         output_format="auto", segments=self.segments, breakpoints="fit",
                         rounding=self.rounding, complex=True)

    @property
    def inverse_config(self) -> FFT2DConfig | None:
        """The inverse transform of the transposed pooled spectrum ``(w, h)``: ``h × w``
        images out, row-major."""
        if not self.inverse:
            return None
        return FFT2DConfig(shape=self.pooled[::-1],
                           data_width=self.pwl_config.output_format.width,
                           twiddle_width=self.twiddle_width, rounding=self.rounding,
                           direction="inverse", output_order="natural")

    @property
    def spectral_gain(self) -> float:
        """Without normalization, the factor the activation's reading of the pooled spectra
        applies: ``2**(data_width − 1 − fraction)``."""
        return 2.0 ** (self.data_width - 1 - self.activation_format.fraction)

    @property
    def output_width(self) -> int:
        if self.inverse:
            return self.inverse_config.output_width
        return self.pwl_config.output_format.width

    def bin_frequencies(self) -> np.ndarray:
        """``(ky, kx)`` of each stream position of a spectrum, shape (H·W, 2)."""
        rows, columns = self.shape
        kx, ky = np.arange(columns), np.arange(rows)
        if self.order == "bit_reversed":
            kx = bit_reverse(kx, columns.bit_length() - 1)
            ky = bit_reverse(ky, rows.bit_length() - 1)
        return np.stack([np.tile(ky, columns), np.repeat(kx, rows)], axis=1)


class LayerModel(BlockModel):
    """The layer's golden model (each block's model in turn) and its float reference."""

    config_class = LayerConfig

    def _check(self, images, weights):
        config = self.config
        images = np.asarray(images, dtype=np.int64).reshape(-1, config.in_channels, config.bins)
        codes_in_range("Image samples", config.data_width, images)
        weights = tuple(np.asarray(part, dtype=np.int64) for part in weights)
        shape = (config.out_channels, config.in_channels, config.bins)
        if any(part.shape != shape for part in weights):
            raise ValueError(f"Weights must have shape {shape}")
        return images, weights

    def stages(self, images, weights) -> dict:
        """Every block's integer results for a batch, each a (real, imag) pair of arrays
        shaped (images, channels, samples): ``spectra`` (C_in, H·W), ``products`` (C_out,
        H·W), ``pooled``, ``normalized`` (with normalization) and ``activated`` (C_out, h·w),
        ``output`` (the layer's output frames); and ``overflow``, the last block's flag per
        output frame (images, C_out). Arguments as :meth:`forward`'s."""
        config = self.config
        images, weights = self._check(images, weights)
        count = len(images)

        def batch(real, imag):
            return tuple(part.reshape(count, -1, part.shape[-1]) for part in (real, imag))

        flat = images.reshape(-1, config.bins)
        stages = {"spectra": batch(*FFT2DModel(config.fft_config).transform(
            flat, np.zeros_like(flat))[:2])}
        mac = SpectralMACModel(config.mac_config)
        products = [mac.forward((stages["spectra"][0][b], stages["spectra"][1][b]), weights)
                    for b in range(count)]
        stages["products"] = tuple(np.stack([product[part] for product in products])
                                   for part in range(2))
        frames = [part.reshape(-1, config.bins) for part in stages["products"]]
        real, imag, overflow = SpectralPoolModel(config.pool_config).transform(*frames)
        stages["pooled"] = batch(real, imag)
        if config.normalize:
            real, imag, overflow = FrameNormModel(config.norm_config).normalize(real, imag)
            stages["normalized"] = batch(real, imag)
        activation = PiecewiseLinearModel(config.pwl_config)
        (real, real_saturated), (imag, imag_saturated) = (activation.evaluate(part)
                                                          for part in (real, imag))
        overflow = real_saturated.any(axis=1) | imag_saturated.any(axis=1)
        stages["activated"] = batch(real, imag)
        if config.inverse:
            real, imag, overflow = FFT2DModel(config.inverse_config).transform(real, imag)
        stages["output"] = batch(real, imag)
        stages["overflow"] = overflow.reshape(count, -1)
        return stages

    def forward(self, images, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run images through the layer's arithmetic.

        Parameters
        ----------
        images : array_like of int, shape (images, C_in, H·W) or (images, C_in, H, W)
            Real channel images, row-major.
        weights : (real, imag), each array_like of int, shape (C_out, C_in, H·W)
            Spectral weights in stream order.

        Returns
        -------
        real, imag : ndarray of int, shape (images, C_out, samples)
            The layer's output frames (images ``h·w`` row-major, or pooled spectra).
        overflow : ndarray of bool, shape (images, C_out)
            The last block's flag per output frame.
        """
        stages = self.stages(images, weights)
        return (*stages["output"], stages["overflow"])

    def reference(self, images, weights) -> np.ndarray:
        """The same mathematics in float, without quantization, for a batch at once (NumPy's
        FFTs): complex output frames in the output's units, shape (images, C_out, samples)."""
        config = self.config
        images, weights = self._check(images, weights)
        pool = SpectralPoolModel(config.pool_config)
        function = config.pwl_config.function
        rows, columns = config.shape
        weight = (weights[0] + 1j * weights[1]) / 2 ** (config.weight_width - 1)
        positions = config.bin_frequencies()
        count = len(images)
        pixels = images.reshape(count, -1, rows, columns) / 2 ** (config.data_width - 1)
        spectra = (np.fft.fft2(pixels) / config.bins)[:, :, positions[:, 0], positions[:, 1]]
        products = np.einsum("ock,bck->bok", weight, spectra)
        pooled = pool.map_stream(products.reshape(-1, config.bins))
        if config.normalize:
            centred = pooled - pooled.mean(axis=1, keepdims=True)
            pooled = centred / np.sqrt(np.mean(np.abs(centred) ** 2, axis=1, keepdims=True))
        else:
            pooled = pooled * config.spectral_gain
        activated = function(pooled.real) + 1j * function(pooled.imag)
        if config.inverse:
            height, width = config.pooled
            activated = np.fft.ifft2(activated.reshape(-1, width, height).transpose(0, 2, 1))
        return activated.reshape(count, config.out_channels, -1)

    def output_lsb(self) -> float:
        """Real value of one output LSB."""
        config = self.config
        fraction = config.pwl_config.output_format.fraction
        return 2.0 ** -(fraction if not config.inverse
                        else config.inverse_config.output_format.fraction)

    def error_db(self, images, weights) -> float:
        """Signal-to-error ratio (dB) of the golden layer against the float reference."""
        real, imag, _ = self.forward(images, weights)
        got = (real + 1j * imag) * self.output_lsb()
        truth = self.reference(images, weights)
        return 10 * math.log10(np.sum(np.abs(truth) ** 2) / np.sum(np.abs(got - truth) ** 2))
