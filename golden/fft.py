"""Bit-exact integer model of fdcnn's radix-2 single-path delay feedback FFT.

The model computes, frame by frame, exactly what ``hdl.fft.StreamingFFT`` emits: the same
butterflies, the same twiddle codes, the same rounding and saturation, in the same order.

Arithmetic (``N = size = 2**m``, ``B = data_width``, ``T = twiddle_width``)
--------------------------------------------------------------------------
* Input components are ``B``-bit signed integers; they enter the pipeline sign-extended to
  ``B + 1`` bits. The extra bit is headroom for the ``√2`` growth a component can see when a
  full-scale complex value is rotated by a twiddle factor.
* Decimation in frequency. Stage ``s`` (``0 ≤ s < m``) pairs samples ``L = N / 2**(s+1)``
  apart: ``sum = a + b`` and ``diff = a − b``, each divided by ``2**shift[s]`` with the chosen
  rounding and saturated to ``width[s+1] = width[s] + 1 − shift[s]`` bits. Then ``diff`` at
  butterfly index ``n`` is multiplied by the twiddle ``W = exp(−2πj·n / (2L))``.
* Twiddle codes: ``round(2**(T−1) · cos θ)`` and ``round(−2**(T−1) · sin θ)`` (round half
  to even), so the twiddle format is Q1.(T−1). ``W = 1`` (``n = 0``) cannot be represented and
  bypasses the multiplier; every other value, ``−j`` included, is represented and exact where
  the cosine and sine are 0 or −1. The complex product ``(a + jb)(c + jd)`` is computed
  exactly as ``ac − bd`` and ``ad + bc``, shifted right by ``T − 1`` with the chosen rounding
  and saturated to ``width[s+1]`` bits.
* The inverse transform uses conjugated twiddles (``d → −d``); nothing else changes.
* Output: ``scaling="none"`` keeps the full ``B + m + 1`` bits; otherwise the last stage's
  ``width[m]``-bit result is saturated to ``B`` bits.
* A frame's ``overflow`` flag is set when any of its sums, differences, products or outputs
  saturated.

With ``scaling="stage"`` (every ``shift`` is 1) the output is ``DFT(x) / N`` (forward) or
``IDFT(x)`` = ``numpy.fft.ifft(x)`` (inverse) in the input's format. In general it is
``DFT(x) / 2**sum(shift)``.

Output order: ``bit_reversed`` emits ``X[bit_reverse(p)]`` at position ``p``; ``natural``
emits ``X[p]``.
"""

import math

import numpy as np

from fdcnn.golden.checks import integer_in, one_of
from fdcnn.golden.fixed import (FixedFormat, check_rounding, integer_array, round_shift, saturate,
                          signed_bounds)

__all__ = ["StreamingFFTModel", "bit_reverse", "DIRECTIONS", "OUTPUT_ORDERS"]

DIRECTIONS = ("forward", "inverse", "runtime")
OUTPUT_ORDERS = ("bit_reversed", "natural")
SIZE_RANGE = (4, 65536)
DATA_WIDTH_RANGE = (4, 32)
TWIDDLE_WIDTH_RANGE = (4, 27)
SHIFT_CHOICES = (0, 1, 2)


def bit_reverse(indices, bits):
    """Reverse the low ``bits`` bits of every index."""
    indices = np.asarray(indices)
    result = np.zeros_like(indices)
    for bit in range(bits):
        result |= ((indices >> bit) & 1) << (bits - 1 - bit)
    return result


class StreamingFFTModel:
    """Parameters, derived figures and integer model of the streaming FFT.

    Parameters
    ----------
    size : int
        Transform size ``N``, a power of two from 4 to 65536.
    data_width : int
        Bits per input component (4 … 32).
    twiddle_width : int
        Bits per twiddle component (4 … 27), format Q1.(T−1).
    scaling : str or sequence of int
        ``"stage"`` (÷2 per stage), ``"none"`` (full growth) or one right shift per stage,
        each 0, 1 or 2, first stage first.
    rounding : str
        ``"truncate"``, ``"half_up"`` or ``"convergent"``, applied at every scaling and
        twiddle product.
    direction : str
        ``"forward"``, ``"inverse"`` or ``"runtime"`` (chosen per frame).
    output_order : str
        ``"bit_reversed"`` or ``"natural"``.
    """

    def __init__(self, *, size, data_width=16, twiddle_width=18, scaling="stage",
                 rounding="convergent", direction="forward", output_order="bit_reversed"):
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Transform size must be an integer, not {size!r}")
        if not (SIZE_RANGE[0] <= size <= SIZE_RANGE[1] and size & (size - 1) == 0):
            raise ValueError(f"Transform size must be a power of two from {SIZE_RANGE[0]} to "
                             f"{SIZE_RANGE[1]}, not {size}")
        integer_in("Data width", data_width, *DATA_WIDTH_RANGE)
        integer_in("Twiddle width", twiddle_width, *TWIDDLE_WIDTH_RANGE)
        check_rounding(rounding)
        one_of("Direction", direction, DIRECTIONS)
        one_of("Output order", output_order, OUTPUT_ORDERS)
        self.size = size
        self.data_width = data_width
        self.twiddle_width = twiddle_width
        self.rounding = rounding
        self.direction = direction
        self.output_order = output_order
        self.shifts = self._stage_shifts(scaling)
        self.scaling = scaling if isinstance(scaling, str) else list(self.shifts)

    def _stage_shifts(self, scaling):
        stages = self.stages
        if scaling == "stage":
            return (1,) * stages
        if scaling == "none":
            return (0,) * stages
        if isinstance(scaling, (list, tuple)) and len(scaling) == stages and all(
                isinstance(shift, int) and not isinstance(shift, bool) and shift in SHIFT_CHOICES
                for shift in scaling):
            return tuple(scaling)
        raise ValueError(f"Scaling must be 'stage', 'none' or a list of {stages} per-stage "
                         f"shifts, each 0, 1 or 2, not {scaling!r}")

    # Derived figures -----------------------------------------------------------------------

    @property
    def stages(self):
        """Number of radix-2 stages, ``log2(size)``."""
        return self.size.bit_length() - 1

    @property
    def stage_widths(self):
        """Component width entering each stage, and leaving the last (``stages + 1`` values)."""
        widths = [self.data_width + 1]
        for shift in self.shifts:
            widths.append(widths[-1] + 1 - shift)
        return tuple(widths)

    @property
    def output_width(self):
        """Bits per output component."""
        if self.scaling == "none":
            return self.data_width + self.stages + 1
        return self.data_width

    @property
    def input_format(self):
        """Q1.(B−1): input codes are fractions of full scale."""
        return FixedFormat(self.data_width, self.data_width - 1)

    @property
    def output_format(self):
        """Output codes share the input's LSB; the value is ``DFT(x) / 2**total_shift``."""
        return FixedFormat(self.output_width, self.data_width - 1)

    @property
    def total_shift(self):
        return sum(self.shifts)

    @property
    def multiplier_stages(self):
        """Stages with a twiddle multiplier: those with ``L ≥ 4`` (all but the last two)."""
        return tuple(range(max(self.stages - 2, 0)))

    def stage_span(self, stage):
        """Butterfly span ``L`` of a stage, which is also its delay line length."""
        return self.size >> (stage + 1)

    def twiddles(self, stage):
        """Twiddle codes ``(cos, sin)`` for butterfly indices ``0 … L−1`` of a stage.

        Entry 0 (``W = 1``) is stored but bypassed. Codes saturate to the ``T``-bit range,
        which only changes that entry.
        """
        span = self.stage_span(stage)
        scale = float(1 << (self.twiddle_width - 1))
        angle = -2.0 * math.pi * np.arange(span) / (2 * span)
        low, high = signed_bounds(self.twiddle_width)
        cos = np.clip(np.round(scale * np.cos(angle)), low, high).astype(np.int64)
        sin = np.clip(np.round(scale * np.sin(angle)), low, high).astype(np.int64)
        return cos, sin

    # The model -----------------------------------------------------------------------------

    def transform(self, real, imag, inverse=None):
        """Transform frames of integer samples.

        Parameters
        ----------
        real, imag : array_like of int, shape (frames, size) or (size,)
            Input components, each within the ``data_width``-bit signed range.
        inverse : array_like of bool, shape (frames,), optional
            Per-frame direction for ``direction="runtime"`` (default: all forward).

        Returns
        -------
        real, imag : ndarray of int, shape (frames, size)
            Output components, in ``output_order``.
        overflow : ndarray of bool, shape (frames,)
            Whether anything saturated while computing each frame.
        """
        real = np.atleast_2d(np.asarray(real))
        imag = np.atleast_2d(np.asarray(imag))
        if real.shape != imag.shape or real.shape[-1] != self.size:
            raise ValueError(f"Frames must have shape (frames, {self.size}), not {real.shape} "
                             f"and {imag.shape}")
        low, high = signed_bounds(self.data_width)
        if real.size and (min(real.min(), imag.min()) < low or max(real.max(), imag.max()) > high):
            raise ValueError(f"Input samples must lie in the {self.data_width}-bit signed range")
        frames = real.shape[0]
        inverse = self._frame_directions(inverse, frames)

        bits = max(self.stage_widths) + self.twiddle_width + 2
        real, imag = integer_array(real, bits), integer_array(imag, bits)
        overflow = np.zeros(frames, dtype=bool)
        widths = self.stage_widths
        for stage, shift in enumerate(self.shifts):
            span = self.stage_span(stage)
            width = widths[stage + 1]
            a_re, b_re = self._halves(real, span)
            a_im, b_im = self._halves(imag, span)
            sum_re, sum_im, diff_re, diff_im = (
                self._narrow(value, shift, width, overflow)
                for value in (a_re + b_re, a_im + b_im, a_re - b_re, a_im - b_im))
            if span > 1:
                cos, sin = self.twiddles(stage)
                sin = np.where(inverse[:, None], -sin[None, :], sin[None, :])[:, None, :]
                cos = cos[None, None, :]
                if bits > 62:
                    cos, sin = cos.astype(object), sin.astype(object)
                product_re = self._narrow(diff_re * cos - diff_im * sin,
                                          self.twiddle_width - 1, width, overflow)
                product_im = self._narrow(diff_re * sin + diff_im * cos,
                                          self.twiddle_width - 1, width, overflow)
                # W = 1 at n = 0 bypasses the multiplier.
                diff_re[..., 1:], diff_im[..., 1:] = product_re[..., 1:], product_im[..., 1:]
            real = np.stack([sum_re, diff_re], axis=2).reshape(frames, self.size)
            imag = np.stack([sum_im, diff_im], axis=2).reshape(frames, self.size)
        if self.output_width != widths[-1]:
            real = self._narrow(real, 0, self.output_width, overflow)
            imag = self._narrow(imag, 0, self.output_width, overflow)
        if self.output_order == "natural":
            order = bit_reverse(np.arange(self.size), self.stages)
            real, imag = real[:, order], imag[:, order]
        return real, imag, overflow

    def _frame_directions(self, inverse, frames):
        if self.direction != "runtime":
            if inverse is not None:
                raise ValueError("A per-frame direction is only taken with direction='runtime'")
            return np.full(frames, self.direction == "inverse")
        if inverse is None:
            return np.zeros(frames, dtype=bool)
        inverse = np.asarray(inverse, dtype=bool)
        if inverse.shape != (frames,):
            raise ValueError(f"Per-frame directions must have shape ({frames},)")
        return inverse

    @staticmethod
    def _halves(values, span):
        grouped = values.reshape(values.shape[0], -1, 2, span)
        return grouped[:, :, 0, :], grouped[:, :, 1, :]

    def _narrow(self, values, shift, width, overflow):
        """Round away ``shift`` bits, saturate to ``width`` bits, note saturation per frame."""
        values, saturated = saturate(round_shift(values, shift, self.rounding), width)
        overflow |= saturated.reshape(saturated.shape[0], -1).any(axis=1)
        return values
