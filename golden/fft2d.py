"""Bit-exact integer model of fdcnn's streaming 2-D FFT: row transforms, a corner turn, column
transforms.

A frame is an ``H × W`` array streamed row-major (``H = rows``, ``W = columns``, powers of two
from 4). Each row goes through the 1-D model (:class:`~fdcnn.golden.fft.StreamingFFTModel`,
``W`` points, bit-reversed order), the results are saturated to the row transform's output
width, and each column of that goes through the 1-D model again (``H`` points, the row
transform's output width as its data width). The unit emits the spectrum **column by column**
(the corner turn's order): stream position ``i·H + j`` holds ``X[ky, kx]`` with ``kx`` the
``i``-th column and ``ky`` the ``j``-th row, each axis in ``output_order`` (``bit_reversed`` or
``natural``). So a ``rows × columns`` unit emits ``X.T`` (``columns × rows``), row-major.

That is the order :mod:`fdcnn.golden.pool` (``order="bit_reversed"``, spectrum shape
``(columns, rows)``) and the MAC (any fixed order, the weights stored alike) take; the crop is
the same on either axis order. An inverse unit of shape ``(columns', rows')`` takes the pooled
``X.T`` in natural order and emits ``IDFT2(X)`` row-major: the transposes cancel.

With ``scaling="stage"`` the output is ``DFT2(x) / (H·W)`` (forward) or ``IDFT2(x)``
(inverse), in the input's format; with ``"none"`` it grows by ``log2(H·W) + 2`` bits. The
inverse uses conjugated twiddles on both axes (the hardware swaps real and imaginary parts at
the input and the output, which is the same integer computation). A frame's ``overflow`` is
set when any of its row or column transforms saturated, or the row results did.

Error against ``numpy.fft.fft2(x) / (H·W)`` (convergent rounding, stage scaling): the column
transform adds its own ``predicted_rms_error(H)`` and divides the row transforms' noise power
by ``H``: complex RMS ``√(e(H)² + e(W)²/H)`` LSB (:func:`predicted_rms_error_2d`).
"""

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import (codes_in_range, integer_in, one_of, shape_pair,
                                 shape_text)
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fft import (DIRECTIONS, OUTPUT_ORDERS, FFTConfig, StreamingFFTModel,
                              bit_reverse, predicted_rms_error)
from fdcnn.golden.fixed import FixedFormat
from fdcnn.golden.permute import buffer_permutation, transpose_order

__all__ = ["FFT2DConfig", "FFT2DModel", "predicted_rms_error_2d", "MAX_SAMPLES"]

#: Largest frame (``H·W`` samples): the corner turn is one RAM of this many words.
MAX_SAMPLES = 1 << 16
AXIS_RANGE = (4, 4096)


@dataclasses.dataclass(frozen=True)
class FFT2DConfig(BlockConfig):
    """Parameters of the 2-D FFT, validated, with the 1-D transforms they imply."""

    shape: tuple = parameter((32, 32), "H×W of a frame (rows × columns), powers of two from 4, "
                                       "at most 65536 samples, e.g. 32x32", parse=shape_text)
    data_width: int = parameter(16, "input bits per component (4 … 32)")
    twiddle_width: int = parameter(18, "twiddle bits per component (4 … 27)")
    scaling: str = parameter("stage", "'stage' (÷2 per stage: DFT2/(H·W)) or 'none' (full "
                                      "growth)")
    rounding: str = parameter("convergent", "truncate, half_up or convergent")
    direction: str = parameter("forward", "forward, inverse or runtime (chosen per frame)")
    output_order: str = parameter("bit_reversed", "bit_reversed or natural, on both axes")

    def __post_init__(self):
        shape = shape_pair("Shape", self.shape)
        if not all(AXIS_RANGE[0] <= size <= AXIS_RANGE[1] and size & (size - 1) == 0
                   for size in shape) or shape[0] * shape[1] > MAX_SAMPLES:
            raise ValueError(f"Shape must be powers of two from {AXIS_RANGE[0]} on each axis and "
                             f"at most {MAX_SAMPLES} samples, not {shape[0]}x{shape[1]}")
        integer_in("Data width", self.data_width, 4, 32)
        one_of("Scaling", self.scaling, ("stage", "none"))
        one_of("Direction", self.direction, DIRECTIONS)
        one_of("Output order", self.output_order, OUTPUT_ORDERS)
        row_width = self.row_config.output_width          # validates the rest
        if row_width > 32:
            raise ValueError(f"Data width {self.data_width} grows to {row_width} bits in the "
                             f"row transforms without scaling; the column transforms take at "
                             f"most 32")

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def columns(self) -> int:
        return self.shape[1]

    @property
    def size(self) -> int:
        """Samples per frame, ``H·W``."""
        return self.rows * self.columns

    @property
    def row_config(self) -> FFTConfig:
        """The ``W``-point transform of each row (bit-reversed: the corner turn reorders)."""
        return FFTConfig(size=self.columns, data_width=self.data_width,
                         twiddle_width=self.twiddle_width, scaling=self.scaling,
                         rounding=self.rounding, direction=self.direction,
                         output_order="bit_reversed")

    @property
    def column_config(self) -> FFTConfig:
        """The ``H``-point transform of each column, taking the row results' width."""
        return FFTConfig(size=self.rows, data_width=self.row_config.output_width,
                         twiddle_width=self.twiddle_width, scaling=self.scaling,
                         rounding=self.rounding, direction=self.direction,
                         output_order=self.output_order)

    @property
    def output_width(self) -> int:
        return self.column_config.output_width

    @property
    def input_format(self) -> FixedFormat:
        return self.row_config.input_format

    @property
    def output_format(self) -> FixedFormat:
        """Output codes share the input's LSB."""
        return FixedFormat(self.output_width, self.data_width - 1)

    @property
    def corner_turn(self) -> tuple:
        """The corner turn's bit permutation (:func:`~fdcnn.golden.permute.buffer_permutation`):
        rows arrive with their bins bit-reversed, columns leave in stream order."""
        rows, columns = self.rows, self.columns
        arriving = (np.arange(rows)[:, None] * columns
                    + bit_reverse(np.arange(columns), columns.bit_length() - 1)[None, :])
        return buffer_permutation(arriving.ravel(), transpose_order(
            rows, columns, reversed_columns=self.output_order == "bit_reversed"))

    @property
    def column_order(self) -> np.ndarray:
        """Column index ``kx`` of each output column, in stream order."""
        columns = np.arange(self.columns)
        return (bit_reverse(columns, columns.size.bit_length() - 1)
                if self.output_order == "bit_reversed" else columns)


def predicted_rms_error_2d(rows: int, columns: int) -> float:
    """Complex RMS error (LSB) of the stage-scaled, convergent 2-D model against
    ``fft2(x) / (H·W)``: the column transform's own noise plus the row transforms' divided by
    ``H`` in power."""
    return math.sqrt(predicted_rms_error(rows) ** 2 + predicted_rms_error(columns) ** 2 / rows)


class FFT2DModel(BlockModel):
    """Integer model of the 2-D FFT (see the module docstring)."""

    config_class = FFT2DConfig

    def transform(self, real: ArrayLike, imag: ArrayLike,
                  inverse: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Transform frames.

        Parameters
        ----------
        real, imag : array_like of int, shape (frames, H·W) or (frames, H, W)
            Input components, row-major.
        inverse : array_like of bool, shape (frames,), optional
            Per-frame direction for ``direction="runtime"``.

        Returns
        -------
        real, imag : ndarray of int, shape (frames, H·W)
            The spectrum in stream order (column by column, each axis in ``output_order``).
        overflow : ndarray of bool, shape (frames,)
        """
        rows, columns = self.rows, self.columns
        real = np.asarray(real).reshape(-1, rows * columns)
        imag = np.asarray(imag).reshape(-1, rows * columns)
        codes_in_range("Input samples", self.data_width, real, imag)
        frames = real.shape[0]
        directions = ({} if inverse is None or self.direction != "runtime"
                      else {"inverse": np.asarray(inverse, dtype=bool)})
        row_model = StreamingFFTModel(self.row_config)
        row_real, row_imag, row_overflow = row_model.transform(
            real.reshape(-1, columns), imag.reshape(-1, columns),
            **{key: np.repeat(value, rows) for key, value in directions.items()})
        # Corner turn: the row results' bins arrive bit-reversed; columns leave in stream order.
        natural = bit_reverse(np.arange(columns), columns.bit_length() - 1)
        turned = [part.reshape(frames, rows, columns)[:, :, np.argsort(natural)]
                  [:, :, self.column_order].transpose(0, 2, 1).reshape(-1, rows)
                  for part in (row_real, row_imag)]
        column_model = StreamingFFTModel(self.column_config)
        out_real, out_imag, column_overflow = column_model.transform(
            *turned, **{key: np.repeat(value, columns) for key, value in directions.items()})
        overflow = (row_overflow.reshape(frames, rows).any(axis=1)
                    | column_overflow.reshape(frames, columns).any(axis=1))
        return (out_real.reshape(frames, -1), out_imag.reshape(frames, -1), overflow)
