"""Bit-exact integer model of fdcnn's crop-based spectral pooling unit and its adjoint.

Spectral pooling (Rippel et al. 2015) keeps the low-frequency ``h × w`` region of an ``H × W``
spectrum. Spectra arrive uncentred (DC at index 0, as an FFT emits them), so along an axis of
size ``N`` cropped to ``n`` the kept indices are ``0 … ⌈n/2⌉−1`` and ``N−⌊n/2⌋ … N−1``: output
index ``j`` takes input index ``j`` for ``j < ⌈n/2⌉`` and ``N − n + j`` otherwise.

Nyquist policy (even ``n < N`` only; such an axis has a Nyquist output bin ``n/2``):

``crop``
    ``Y[n/2] = X[N − n/2]``, the plain crop.
``fold``
    ``Y[n/2] = X[n/2] + X[N − n/2]``, which is what ``scipy.signal.resample`` does.
``zero``
    ``Y[n/2] = 0``, which keeps a Hermitian spectrum Hermitian.

Each axis is thus a 0/1 matrix ``A`` (``n × N``); the forward unit computes ``A_r · X · A_cᵀ``
on each complex component, exactly, then saturates to the output width (the fold widens by one
bit per folded axis with ``fold_growth=True``, so it never saturates then). The backward unit
(``direction="backward"``) computes ``A_rᵀ · Y · A_c``: zero-fill, and fold's adjoint copies the
Nyquist value to both positions. It is the exact adjoint of the forward map.

Stream order: ``natural`` is row-major. ``bit_reversed`` is row-major over bit-reversed row and
column positions (as fdcnn's FFT emits each axis), on both sides: position ``p`` of an axis
holds index ``bit_reverse(p)``. The kept bins are exactly the positions whose low
``log2(N/n) + 1`` bits are all zeros or all ones, and in stream order they already form the
bit-reversed order of size ``n``: the FFT's native bit-reversed output pools with no reorder,
and the pooled spectrum is ready for an inverse transform that takes bit-reversed input.
"""

import dataclasses
import functools

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import integer_in, one_of, shape_pair, shape_text
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fft import bit_reverse
from fdcnn.golden.fixed import saturate

__all__ = ["PoolConfig", "SpectralPoolModel", "crop_matrix", "NYQUIST_POLICIES", "ORDERS",
           "DIRECTIONS"]

NYQUIST_POLICIES = ("crop", "fold", "zero")
ORDERS = ("natural", "bit_reversed")
DIRECTIONS = ("forward", "backward")
DATA_WIDTH_RANGE = (2, 32)
MAX_AXIS = 65536


def has_nyquist(size, pooled):
    """Whether an axis cropped from ``size`` to ``pooled`` has a Nyquist output bin."""
    return pooled % 2 == 0 and pooled < size


def crop_matrix(size, pooled, nyquist):
    """The 0/1 crop matrix of one axis, shape ``(pooled, size)``."""
    matrix = np.zeros((pooled, size), dtype=np.int64)
    for index in range(pooled):
        matrix[index, index if index < (pooled + 1) // 2 else size - pooled + index] = 1
    if has_nyquist(size, pooled):
        half = pooled // 2
        if nyquist == "fold":
            matrix[half, half] = 1
        elif nyquist == "zero":
            matrix[half] = 0
    return matrix


def _shape(name, value):
    shape_pair(name, value)
    if not all(1 <= size <= MAX_AXIS for size in value):
        raise ValueError(f"{name} must have sizes from 1 to {MAX_AXIS}, not {value}")
    return value


def _shape_text(text):
    """``HxW`` (or ``N`` for a 1-D frame, ``1xN``) from the command line; anything else is left
    for the check."""
    sizes = shape_text(text)
    return (1, *sizes) if isinstance(sizes, tuple) and len(sizes) == 1 else sizes


@dataclasses.dataclass(frozen=True)
class PoolConfig(BlockConfig):
    """Parameters of the pooling unit, validated, with the figures they imply."""

    spectrum_shape: tuple = parameter((32, 32), "H×W of the full spectrum, e.g. 32x32, or N for "
                                                "a 1-D frame (1×N)", parse=_shape_text)
    pooled_shape: tuple = parameter((16, 16), "h×w kept, e.g. 16x16 (h ≤ H, w ≤ W)",
                                    parse=_shape_text)
    data_width: int = parameter(16, "bits per input component (2 … 32)")
    order: str = parameter("natural", "natural or bit_reversed (power-of-two sizes), both sides")
    nyquist: str = parameter("crop", "crop, fold or zero: what the Nyquist bin of an even crop "
                                     "holds")
    fold_growth: bool = parameter(True, "with fold: widen the output by one bit per folded axis "
                                        "(default), or saturate and flag overflow", flag=True)
    direction: str = parameter("forward", "forward (pool: H·W in, h·w out) or backward "
                                          "(unpool: h·w in, H·W out)")

    def __post_init__(self):
        spectrum_shape = _shape("Spectrum shape", self.spectrum_shape)
        pooled_shape = _shape("Pooled shape", self.pooled_shape)
        if any(pooled > size for pooled, size in zip(pooled_shape, spectrum_shape)):
            raise ValueError(f"Pooled shape must not exceed the spectrum shape on either axis, "
                             f"not {pooled_shape} from {spectrum_shape}")
        integer_in("Data width", self.data_width, *DATA_WIDTH_RANGE)
        one_of("Order", self.order, ORDERS)
        one_of("Nyquist policy", self.nyquist, NYQUIST_POLICIES)
        one_of("Direction", self.direction, DIRECTIONS)
        if not isinstance(self.fold_growth, bool):
            raise TypeError(f"Fold growth must be True or False, not {self.fold_growth!r}")
        if self.order == "bit_reversed":
            for size in spectrum_shape + pooled_shape:
                if size & (size - 1):
                    raise ValueError(f"Bit-reversed order needs power-of-two sizes, not "
                                     f"{spectrum_shape} → {pooled_shape}")

    @property
    def folded_axes(self) -> int:
        """Axes whose Nyquist bin sums two inputs."""
        if self.nyquist != "fold":
            return 0
        return sum(has_nyquist(size, pooled)
                   for size, pooled in zip(self.spectrum_shape, self.pooled_shape))

    @property
    def output_width(self) -> int:
        if self.direction == "forward" and self.fold_growth:
            return self.data_width + self.folded_axes
        return self.data_width

    @property
    def input_shape(self) -> tuple:
        return self.spectrum_shape if self.direction == "forward" else self.pooled_shape

    @property
    def output_shape(self) -> tuple:
        return self.pooled_shape if self.direction == "forward" else self.spectrum_shape


class SpectralPoolModel(BlockModel):
    """Integer model of the pooling unit, built from a :class:`PoolConfig` (or its fields as
    keywords); the config's fields and derived figures read as the model's attributes."""

    config_class = PoolConfig

    @functools.cached_property
    def matrices(self) -> tuple:
        """The row and column crop matrices (made when first used: ``h·H + w·W`` words)."""
        return tuple(crop_matrix(size, pooled, self.nyquist)
                     for size, pooled in zip(self.spectrum_shape, self.pooled_shape))

    def _to_natural(self, frames, shape):
        if self.order == "natural":
            return frames
        rows, columns = (bit_reverse(np.arange(size), size.bit_length() - 1) for size in shape)
        return frames[:, rows][:, :, columns]

    # Bit reversal is an involution: the same permutation maps natural order back to stream order.
    _to_stream = _to_natural

    def map_natural(self, frames: np.ndarray) -> np.ndarray:
        """The linear map on frames in natural order, shape (frames, rows, columns), any dtype
        (complex floats included): ``A_r · X · A_cᵀ`` forward, ``A_rᵀ · Y · A_c`` backward."""
        row_matrix, column_matrix = self.matrices
        if self.direction == "backward":
            row_matrix, column_matrix = row_matrix.T, column_matrix.T
        return np.einsum("ij,fjk,lk->fil", row_matrix, frames, column_matrix)

    def map_stream(self, frames: np.ndarray) -> np.ndarray:
        """:meth:`map_natural` on frames in stream order, shape (frames, rows × columns), any
        dtype, without saturation: the float reference of :meth:`transform`."""
        rows, columns = self.input_shape
        out_rows, out_columns = self.output_shape
        natural = self._to_natural(np.asarray(frames).reshape(-1, rows, columns), (rows, columns))
        return self._to_stream(self.map_natural(natural),
                               (out_rows, out_columns)).reshape(-1, out_rows * out_columns)

    def transform(self, real: ArrayLike,
                  imag: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pool (or unpool) frames given in stream order.

        Parameters
        ----------
        real, imag : array_like of int, shape (frames, rows × columns) of ``input_shape``

        Returns
        -------
        real, imag : ndarray of int, shape (frames, rows × columns) of ``output_shape``
        overflow : ndarray of bool, shape (frames,)
        """
        rows, columns = self.input_shape
        out_rows, out_columns = self.output_shape
        real = np.asarray(real, dtype=np.int64).reshape(-1, rows, columns)
        imag = np.asarray(imag, dtype=np.int64).reshape(-1, rows, columns)
        overflow = np.zeros(real.shape[0], dtype=bool)
        results = []
        for component in (real, imag):
            pooled = self.map_natural(self._to_natural(component, (rows, columns)))
            pooled, saturated = saturate(pooled, self.output_width)
            overflow |= saturated.reshape(saturated.shape[0], -1).any(axis=1)
            results.append(self._to_stream(pooled, (out_rows, out_columns))
                           .reshape(-1, out_rows * out_columns))
        return results[0], results[1], overflow
