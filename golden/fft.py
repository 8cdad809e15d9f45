"""Bit-exact integer model of fdcnn's single-path delay feedback FFT, radix-2 (R2SDF) or
radix-2² (R22SDF).

The model computes, frame by frame, exactly what ``hdl.fft.StreamingFFT`` emits: the same
butterflies, the same twiddle codes, the same rounding and saturation, in the same order.

Arithmetic (``N = size = 2**m``, ``B = data_width``, ``T = twiddle_width``)
--------------------------------------------------------------------------
* Input components are ``B``-bit signed integers; they enter the pipeline sign-extended to
  ``B + 1`` bits. The extra bit is headroom for the ``√2`` growth a component can see when a
  full-scale complex value is rotated by a twiddle factor.
* Decimation in frequency. Stage ``s`` (``0 ≤ s < m``) pairs samples ``L = N / 2**(s+1)``
  apart: ``sum = a + b`` and ``diff = a − b``, each divided by ``2**shift[s]`` with the chosen
  rounding and saturated to ``width[s+1] = width[s] + 1 − shift[s]`` bits. In a ``−j`` stage
  (:attr:`FFTConfig.minus_j_stages`) the exact ``diff`` at ``n ≥ L/2`` is first multiplied by
  ``−j`` (a swap and a negation), so it is rounded once. Then ``diff`` at butterfly index
  ``n`` is multiplied by the twiddle ``W = exp(−2πj·n / (2L))`` where the stage has a
  multiplier.
* Twiddle codes: ``round(2**(T−1) · cos θ)`` and ``round(−2**(T−1) · sin θ)`` (round half
  to even), so the twiddle format is Q1.(T−1). ``W = 1`` (``n = 0``) cannot be represented and
  bypasses the multiplier; every other value, ``−j`` included, is represented and exact where
  the cosine and sine are 0 or −1. The complex product ``(a + jb)(c + jd)`` is computed
  exactly as ``ac − bd`` and ``ad + bc``, shifted right by ``T − 1`` with the chosen rounding
  and saturated to ``width[s+1]`` bits.
* The inverse transform uses conjugated twiddles (``d → −d``); nothing else changes.
* Guard bits ``G`` (``guard_bits``): the input enters shifted left by ``G`` (``width[0] = B +
  1 + G``), every stage keeps those ``G`` extra LSBs, and the output is rounded by ``G`` bits
  (the chosen rounding) once. ``G = 0`` is the plain pipeline.
* Output: ``scaling="none"`` keeps the full ``B + m + 1`` bits; otherwise the last stage's
  ``width[m]``-bit result (rounded by ``G``) is saturated to ``B`` bits.
* A frame's ``overflow`` flag is set when any of its sums, differences, products or outputs
  saturated.

With ``scaling="stage"`` (every ``shift`` is 1) the output is ``DFT(x) / N`` (forward) or
``IDFT(x)`` = ``numpy.fft.ifft(x)`` (inverse) in the input's format. In general it is
``DFT(x) / 2**sum(shift)``.

Output order: ``bit_reversed`` emits ``X[bit_reverse(p)]`` at position ``p``; ``natural``
emits ``X[p]``.
"""

import dataclasses
import functools
import math

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import codes_in_range, integer_in, one_of
from fdcnn.golden.cmult import MULTIPLIERS, complex_product, real_multipliers
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fixed import (FixedFormat, check_rounding, integer_array, round_shift, saturate,
                                signed_bounds)

__all__ = ["FFTConfig", "Rotation", "StreamingFFTModel", "bit_reverse", "twiddle_codes",
           "clipped_unity_exact", "rotation_exponents", "butterfly_stage", "rotate_minus_j",
           "twiddle_stage", "predicted_rms_error", "ARCHITECTURES", "DIRECTIONS",
           "OUTPUT_ORDERS", "FAMILIES", "FAMILY_DELAY_RAM_DEPTHS"]

ARCHITECTURES = ("r2sdf", "r22sdf")
DIRECTIONS = ("forward", "inverse", "runtime")
OUTPUT_ORDERS = ("bit_reversed", "natural")
SIZE_RANGE = (4, 65536)
DATA_WIDTH_RANGE = (4, 32)
TWIDDLE_WIDTH_RANGE = (4, 27)
SHIFT_CHOICES = (0, 1, 2)
GUARD_BITS_MAX = 8

#: The FPGA families the ``family`` parameter knows (``generic`` is none in particular), each
#: with the default ``delay_ram_depth`` it picks: 256 on xc7, whose SRLs hold a register delay
#: line in LUT RAM (32 words per LUT), so lines up to 255 words are cheaper there than another
#: block RAM and its registers; 128 elsewhere, where such a line is flip-flops (at N = 1024,
#: radix-2² 3mult, 256 would cost ECP5 and iCE40 about 4700 flip-flops to save one block RAM
#: on ECP5, three on iCE40).
FAMILY_DELAY_RAM_DEPTHS = {"generic": 128, "ice40": 128, "ecp5": 128, "xc7": 256}
FAMILIES = tuple(FAMILY_DELAY_RAM_DEPTHS)


def bit_reverse(indices, bits):
    """Reverse the low ``bits`` bits of every index."""
    indices = np.asarray(indices)
    result = np.zeros_like(indices)
    for bit in range(bits):
        result |= ((indices >> bit) & 1) << (bits - 1 - bit)
    return result


def _scaling(text):
    """``stage``, ``none`` or comma-separated shifts, from the command line."""
    if text in ("stage", "none"):
        return text
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        return text


@dataclasses.dataclass(frozen=True)
class Rotation:
    """The twiddle factors applied after a stage, per position ``p`` in blocks of ``period``
    samples: ``p = q·(period / len(factors)) + k`` is multiplied by ``exp(−2πj·e / period)``
    with ``e = k·factors[q]``; ``e = 0`` passes unchanged."""

    period: int
    factors: tuple

    @property
    def exponents(self) -> np.ndarray:
        """``e`` for every position of a block."""
        return rotation_exponents(self.period, self.factors)

    @property
    def table_size(self) -> int:
        """Distinct exponents a twiddle ROM holds: ``0 … max(e)``."""
        return int(self.exponents.max()) + 1

    def largest_gain(self, twiddle_width: int) -> float:
        """The largest magnitude of the rotation's ``W ≠ 1`` as quantized to ``twiddle_width``
        bits (a little over 1 where rounding pushes a code outward)."""
        exponents = self.exponents
        cos, sin = twiddle_codes(exponents[exponents != 0], self.period, twiddle_width)
        magnitude = np.sqrt(cos.astype(float) ** 2 + sin.astype(float) ** 2)
        return float(magnitude.max()) / 2.0 ** (twiddle_width - 1)


def rotation_exponents(period: int, factors) -> np.ndarray:
    """Per-position twiddle exponents of :class:`Rotation` (``period`` positions)."""
    part = period // len(factors)
    position = np.arange(period)
    return (position % part) * np.asarray(factors)[position // part]


#: Rotation factors by quarter of a radix-2² pair's block (``e = k·(k1 + 2·k2)`` where the
#: quarter ``q = 2·k1 + k2``), and by half of a radix-2 stage's block.
R22_FACTORS = (0, 2, 1, 3)
R2_FACTORS = (0, 1)


@dataclasses.dataclass(frozen=True)
class FFTConfig(BlockConfig):
    """Parameters of the streaming FFT, validated, with the figures they imply."""

    size: int = parameter(1024, "transform size N, a power of two from 4 to 65536")
    data_width: int = parameter(16, "input bits per component (4 … 32)")
    twiddle_width: int = parameter(18, "twiddle bits per component (4 … 27), format Q1.(T−1)")
    scaling: str | tuple = parameter(
        "stage", "'stage' (÷2 per stage), 'none' (full growth) or one right shift per stage, "
                 "each 0, 1 or 2, first stage first (e.g. 1,1,0,1,…)", parse=_scaling)
    rounding: str = parameter("convergent", "truncate, half_up or convergent, at every scaling "
                                            "and twiddle product")
    direction: str = parameter("forward", "forward, inverse or runtime (chosen per frame)")
    output_order: str = parameter("bit_reversed", "bit_reversed or natural")
    guard_bits: int = parameter(0, "extra LSBs carried through the stages, rounded away once at "
                                   "the output (0 … 8)")
    multiplier: str = parameter("4mult", "4mult or 3mult twiddle products (same results; 3mult "
                                         "uses three real multipliers)")
    architecture: str = parameter("r2sdf", "r2sdf (radix-2) or r22sdf (radix-2²: ⌈log4 N⌉ − 1 "
                                           "twiddle multipliers instead of log2 N − 2)")
    family: str = parameter("generic", "generic, ice40, ecp5 or xc7: the FPGA family the "
                                       "hardware is for, which picks the hardware-only "
                                       "defaults (delay_ram_depth, what 3mult sums twice, "
                                       "on ECP5 and iCE40 carry chains that take the "
                                       "butterflies' multiplexers, on iCE40 RAM delay lines "
                                       "rounding on exit and twiddle products split for its "
                                       "16×16 blocks). Results do not change")
    delay_ram_depth: int | None = parameter(
        None, "butterfly delay lines this long or longer are RAM (block or LUT RAM), shorter "
              "ones registers (SRLs on Xilinx); 4 … 65536 (default by family: 256 on xc7, 128 "
              "otherwise). Hardware only: results do not change", parse=int)

    def __post_init__(self):
        size = self.size
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Transform size must be an integer, not {size!r}")
        if not (SIZE_RANGE[0] <= size <= SIZE_RANGE[1] and size & (size - 1) == 0):
            raise ValueError(f"Transform size must be a power of two from {SIZE_RANGE[0]} to "
                             f"{SIZE_RANGE[1]}, not {size}")
        integer_in("Data width", self.data_width, *DATA_WIDTH_RANGE)
        integer_in("Twiddle width", self.twiddle_width, *TWIDDLE_WIDTH_RANGE)
        check_rounding(self.rounding)
        one_of("Direction", self.direction, DIRECTIONS)
        one_of("Output order", self.output_order, OUTPUT_ORDERS)
        integer_in("Guard bits", self.guard_bits, 0, GUARD_BITS_MAX)
        one_of("Multiplier", self.multiplier, MULTIPLIERS)
        one_of("Architecture", self.architecture, ARCHITECTURES)
        one_of("Family", self.family, FAMILIES)
        if self.delay_ram_depth is None:
            self._set("delay_ram_depth", FAMILY_DELAY_RAM_DEPTHS[self.family])
        integer_in("Delay RAM depth", self.delay_ram_depth, 4, SIZE_RANGE[1])
        self._check_scaling()

    def _check_scaling(self):
        scaling = self.scaling
        if scaling in ("stage", "none"):
            return
        if isinstance(scaling, (list, tuple)) and len(scaling) == self.stages and all(
                isinstance(shift, int) and not isinstance(shift, bool) and shift in SHIFT_CHOICES
                for shift in scaling):
            self._set("scaling", tuple(scaling))
            return
        raise ValueError(f"Scaling must be 'stage', 'none' or a list of {self.stages} per-stage "
                         f"shifts, each 0, 1 or 2, not {scaling!r}")

    # Derived figures -----------------------------------------------------------------------

    @property
    def shifts(self) -> tuple:
        """Right shift of each stage."""
        if self.scaling == "stage":
            return (1,) * self.stages
        if self.scaling == "none":
            return (0,) * self.stages
        return self.scaling

    @property
    def stages(self) -> int:
        """Number of radix-2 stages, ``log2(size)``."""
        return self.size.bit_length() - 1

    @property
    def stage_widths(self) -> tuple:
        """Component width entering each stage, and leaving the last (``stages + 1`` values)."""
        widths = [self.data_width + 1 + self.guard_bits]
        for shift in self.shifts:
            widths.append(widths[-1] + 1 - shift)
        return tuple(widths)

    @property
    def output_width(self) -> int:
        """Bits per output component."""
        if self.scaling == "none":
            return self.data_width + self.stages + 1
        return self.data_width

    @property
    def input_format(self) -> FixedFormat:
        """Q1.(B−1): input codes are fractions of full scale."""
        return FixedFormat(self.data_width, self.data_width - 1)

    @property
    def output_format(self) -> FixedFormat:
        """Output codes share the input's LSB; the value is ``DFT(x) / 2**total_shift``."""
        return FixedFormat(self.output_width, self.data_width - 1)

    @property
    def total_shift(self) -> int:
        return sum(self.shifts)

    @property
    def minus_j_stages(self) -> tuple:
        """Stages whose differences at ``n ≥ L/2`` leave multiplied by ``−j`` (trivial: a swap
        and a negation in the butterfly): the ``L = 2`` stage (r2sdf), or the first stage of
        every pair (r22sdf)."""
        if self.architecture == "r22sdf":
            return tuple(range(0, self.stages - 1, 2))
        return tuple(stage for stage in range(self.stages) if self.stage_span(stage) == 2)

    @functools.cached_property
    def rotations(self) -> dict:
        """``{stage: Rotation}`` for the stages followed by a twiddle multiplier: every stage
        with ``L ≥ 4`` (r2sdf), or the second stage of every pair whose block exceeds 4
        samples (r22sdf)."""
        if self.architecture == "r22sdf":
            return {stage: Rotation(4 * self.stage_span(stage), R22_FACTORS)
                    for stage in range(1, self.stages, 2) if self.stage_span(stage) > 1}
        return {stage: Rotation(2 * self.stage_span(stage), R2_FACTORS)
                for stage in range(self.stages) if self.stage_span(stage) >= 4}

    @property
    def multiplier_stages(self) -> tuple:
        """Stages with a twiddle multiplier, first first."""
        return tuple(self.rotations)

    @property
    def multipliers(self) -> int:
        """Real multipliers of the twiddle stages: 4 each, or 3 with ``3mult``."""
        return real_multipliers(self.multiplier) * len(self.multiplier_stages)

    def presum_operand(self, stage: int) -> str:
        """The operand a ``3mult`` twiddle multiplier after ``stage`` sums twice (hardware only:
        :class:`~fdcnn.hdl.cmult.ComplexMultiplier`'s ``presum_operand``, the same results):
        on ECP5 the data (``"a"``) where it is narrower than the twiddles, so that two of the
        three products, a data sum (one bit wider) times a twiddle, fit its 18×18 blocks at
        the default widths (17 × 18) and only one is 17 × 19; the twiddles (``"c"``)
        otherwise: iCE40's 16×16 blocks split every product, and summing the twiddles takes
        one block fewer; xc7's 25×18 blocks take either whole."""
        narrower = self.stage_widths[stage + 1] < self.twiddle_width
        return "a" if self.family == "ecp5" and narrower else "c"

    def stage_span(self, stage: int) -> int:
        """Butterfly span ``L`` of a stage, which is also its delay line length."""
        return self.size >> (stage + 1)

    @functools.cached_property
    def saturation_points(self) -> tuple:
        """Per stage, ``(butterfly, rotation)``: whether its sums and differences (and the
        ``−j`` negation), or its twiddle products, can exceed the stage's width at all.

        A bound on every sample's complex magnitude is carried through the pipeline: the input's
        ``√2·2**(B−1+G)``; a butterfly at most doubles it, divides it by ``2**shift`` and its
        rounding adds under one LSB per component (``√2`` in magnitude); a rotation multiplies it
        by the largest twiddle code's magnitude (``≈ 1``) and adds its rounding's ``√2``; ``−j``
        keeps it. A component never exceeds the magnitude, so where the bound stays within the
        width's largest code nothing can saturate, and the hardware builds no saturation there
        (the model still applies it: a no-op). With the sign-extension bit every stage carries,
        that holds in every stage for 8-bit data and wider with any scaling, so there only the
        output's narrowing to ``B`` bits can saturate; narrower data keeps saturation where the
        bound reaches the width.
        """
        bound = math.sqrt(2) * 2.0 ** (self.data_width - 1 + self.guard_bits)
        points = []
        for stage, shift in enumerate(self.shifts):
            largest = 2.0 ** (self.stage_widths[stage + 1] - 1) - 1
            bound = 2 * bound / 2 ** shift + math.sqrt(2)
            butterfly = bound > largest
            rotation = stage in self.rotations
            if rotation:
                gain = self.rotations[stage].largest_gain(self.twiddle_width)
                bound = bound * gain + math.sqrt(2)
                rotation = bound > largest
            points.append((butterfly, rotation))
        return tuple(points)


def twiddle_codes(exponents, period: int, width: int):
    """Twiddle codes ``(cos, sin)`` of ``W = exp(−2πj·e / period)`` for each exponent ``e``,
    in Q1.(width−1), round half to even.

    ``W = 1`` (``e = 0``) cannot be represented: its code here is clipped to the largest one.
    The model passes such samples unchanged; the hardware multiplies them by that code where
    this is exact (:func:`clipped_unity_exact`) and by ``½`` otherwise
    (:class:`~fdcnn.hdl.fft.twiddle.TwiddleROM`).
    """
    scale = float(1 << (width - 1))
    angle = -2.0 * math.pi * np.asarray(exponents) / period
    low, high = signed_bounds(width)
    cos = np.clip(np.round(scale * np.cos(angle)), low, high).astype(np.int64)
    sin = np.clip(np.round(scale * np.sin(angle)), low, high).astype(np.int64)
    return cos, sin


def clipped_unity_exact(width: int, twiddle_width: int, rounding: str) -> bool:
    """Whether ``W = 1``'s clipped code ``2**(T−1) − 1`` acts as ``1``: every ``width``-bit
    ``x`` times it, shifted right by ``T − 1`` with ``rounding``, is ``x`` again.

    The product is ``x − x·2**−(T−1)``: off by less than ½ LSB while ``|x| < 2**(T−2)``, which
    round-to-nearest takes back to ``x``, and by exactly ½ at ``x = −2**(T−2)``, which only
    convergent rounding resolves towards ``x`` (it is even). The offset grows with ``|x|``, so
    the two ends of the range decide (truncation fails at the positive end): true for
    convergent rounding with ``width ≤ T − 1`` and for half-up with ``width ≤ T − 2``.
    """
    code = signed_bounds(twiddle_width)[1]         # where twiddle_codes clips W = 1
    return all(round_shift(x * code, twiddle_width - 1, rounding) == x
               for x in signed_bounds(width))


def _narrow(values, shift, width, rounding, overflow):
    """Round away ``shift`` bits, saturate to ``width`` bits, OR saturation into ``overflow``
    (one flag per frame: the first axis)."""
    values, saturated = saturate(round_shift(values, shift, rounding), width)
    overflow |= saturated.reshape(saturated.shape[0], -1).any(axis=1)
    return values


def _blocks(values, span):
    """Frames split into blocks of ``2·span``: shape (frames, blocks, 2, span)."""
    return values.reshape(values.shape[0], -1, 2, span)


def butterfly_stage(real, imag, span, shift, width, rounding, overflow, *, inverse=None):
    """One radix-2 butterfly stage on frames (integer arrays, shape (frames, size)).

    In each block of ``2·span`` samples, ``a`` (first half) and ``b`` (second half) become
    ``a + b`` then ``a − b``, each divided by ``2**shift`` with ``rounding`` and saturated to
    ``width`` bits: the order in which the delay-feedback stage emits them (all sums of a
    block, then all its differences). Saturation is ORed into ``overflow`` per frame.

    With ``inverse`` (one flag per frame) the stage is a ``−j`` stage: the differences at
    ``n ≥ span/2`` are multiplied by ``−j`` (``j`` in inverse frames) exactly, before their
    rounding (:func:`rotate_minus_j`).
    """
    (a_re, b_re), (a_im, b_im) = (np.moveaxis(_blocks(part, span), 2, 0) for part in (real, imag))
    d_re, d_im = a_re - b_re, a_im - b_im
    if inverse is not None:
        d_re, d_im = rotate_minus_j(d_re, d_im, inverse)
    results = [_narrow(value, shift, width, rounding, overflow)
               for value in (a_re + b_re, a_im + b_im, d_re, d_im)]
    frames = real.shape[0]
    real = np.stack([results[0], results[2]], axis=2).reshape(frames, -1)
    imag = np.stack([results[1], results[3]], axis=2).reshape(frames, -1)
    return real, imag


def rotate_minus_j(real, imag, inverse):
    """The trivial rotation on differences of shape (frames, blocks, span): the last ``span/2``
    of each block become ``x · (−j)`` = ``(im, −re)``, or ``x · j`` = ``(−im, re)`` in the
    frames flagged ``inverse``. Exact: a swap and a negation."""
    half = real.shape[-1] // 2
    backward = np.asarray(inverse, dtype=bool)[:, None, None]
    re, im = real[..., half:], imag[..., half:]
    rotated_re, rotated_im = np.where(backward, -im, im), np.where(backward, re, -re)
    real, imag = real.copy(), imag.copy()
    real[..., half:], imag[..., half:] = rotated_re, rotated_im
    return real, imag


def twiddle_stage(real, imag, rotation, twiddle_width, width, rounding, overflow, inverse):
    """A :class:`Rotation` on frames (integer arrays, shape (frames, size)): in each block of
    ``rotation.period`` samples, the sample at a position with exponent ``e ≠ 0`` becomes
    ``x · W``, the exact complex product with :func:`twiddle_codes` shifted right by
    ``twiddle_width − 1`` with ``rounding`` and saturated to ``width`` bits; ``e = 0`` passes.
    Frames with ``inverse`` set use the conjugate. Saturation is ORed into ``overflow`` per
    frame.
    """
    exponents = rotation.exponents
    cos, sin = (part[None, None, :] for part in
                twiddle_codes(exponents, rotation.period, twiddle_width))
    if real.dtype == object:
        cos, sin = cos.astype(object), sin.astype(object)
    frames, period = real.shape[0], rotation.period
    real, imag = real.reshape(frames, -1, period), imag.reshape(frames, -1, period)
    products = (_narrow(part, twiddle_width - 1, width, rounding, overflow)
                for part in complex_product((real, imag), (cos, sin), inverse[:, None, None]))
    rotated = exponents != 0
    real, imag = (np.where(rotated, product, part) for product, part in
                  zip(products, (real, imag)))
    return real.reshape(frames, -1), imag.reshape(frames, -1)


class StreamingFFTModel(BlockModel):
    """Integer model of the streaming FFT, built from an :class:`FFTConfig` (or its fields as
    keywords); the config's fields and derived figures read as the model's attributes."""

    config_class = FFTConfig

    # The model -----------------------------------------------------------------------------

    def transform(self, real: ArrayLike, imag: ArrayLike,
                  inverse: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        codes_in_range("Input samples", self.data_width, real, imag)
        frames = real.shape[0]
        inverse = self._frame_directions(inverse, frames)

        bits = max(self.stage_widths) + self.twiddle_width + 2
        real = integer_array(real, bits) << self.guard_bits
        imag = integer_array(imag, bits) << self.guard_bits
        overflow = np.zeros(frames, dtype=bool)
        for real, imag, saturated in self.stages_of(real, imag, inverse):
            overflow |= saturated.any(axis=1)
        widths = self.stage_widths
        if self.output_width != widths[-1] or self.guard_bits:
            real = _narrow(real, self.guard_bits, self.output_width, self.rounding, overflow)
            imag = _narrow(imag, self.guard_bits, self.output_width, self.rounding, overflow)
        if self.output_order == "natural":
            order = bit_reverse(np.arange(self.size), self.stages)
            real, imag = real[:, order], imag[:, order]
        return real, imag, overflow

    def stages_of(self, real, imag, inverse):
        """The pipeline stage by stage on integer frames (input already extended by the guard
        bits): yields each stage's ``(real, imag, saturated)`` after its butterfly and
        rotations, ``saturated`` of shape (frames, 2) for the butterfly (with its ``−j``) and
        the rotation."""
        frames = real.shape[0]
        for stage, shift in enumerate(self.shifts):
            span, width = self.stage_span(stage), self.stage_widths[stage + 1]
            butterfly, rotation = np.zeros(frames, bool), np.zeros(frames, bool)
            rotated = inverse if stage in self.minus_j_stages else None
            real, imag = butterfly_stage(real, imag, span, shift, width, self.rounding, butterfly,
                                         inverse=rotated)
            if stage in self.rotations:
                real, imag = twiddle_stage(real, imag, self.rotations[stage], self.twiddle_width,
                                           width, self.rounding, rotation, inverse)
            yield real, imag, np.stack([butterfly, rotation], axis=1)

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


def predicted_rms_error(size: int, guard_bits: int = 0, architecture: str = "r2sdf") -> float:
    """Complex RMS error (output LSB) of the stage-scaled, convergent-rounded model against
    ``DFT(x) / N``, for full-range random input.

    Additive-noise model: halving an integer rounds away one bit, ±½ LSB on the half of the
    values that are odd: variance 1/8 per component. A twiddle product's rounding is ~uniform,
    1/12, on the share ``r`` of a multiplier stage's samples with a non-trivial ``W`` (``e``
    not a multiple of ``period/4``): about ½ (r2sdf) or ¾ (r22sdf, on every other stage).
    Every later stage halves two independent errors' sum, so a stage's noise reaches the output
    with variance ×2^−(stages after it). Summing, per component:
    ``σ² = Σ_s 2^−(m−1−s) · (1/8 + r_s/12)``; complex RMS = ``√(2σ²)``. With ``G`` guard bits
    those roundings happen ``G`` bits lower (``σ²·4^−G``, in output LSB) and the output's one
    rounding adds the uniform ``1/12``.
    """
    config = FFTConfig(size=size, architecture=architecture)
    stages = config.stages
    variance = 0.0
    for stage in range(stages):
        rotated = 0.0
        if stage in config.rotations:
            rotation = config.rotations[stage]
            rotated = np.mean(rotation.exponents % (rotation.period // 4) != 0)
        variance += 2.0 ** -(stages - 1 - stage) * (1 / 8 + rotated / 12)
    variance *= 4.0 ** -guard_bits
    if guard_bits:
        variance += 1 / 12
    return math.sqrt(2 * variance)
