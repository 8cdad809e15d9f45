"""Bit-exact integer model of fdcnn's frame normalization unit.

The seed's spectral activation starts with ``(v − mean(v)) / std(v)`` over each frame, taken at
run time. For a frame of ``N`` complex codes ``v`` the unit computes exactly

``S = Σ v`` (complex), ``Q = Σ |v|²``, ``D = N·Q − |S|²`` (``= N²·var``, population variance),

so that ``z = (v − S/N) / √(D/N²) = (N·v − S) / √D``: the numerator ``a = N·v − S`` is exact,
and only ``1/√D`` is approximated, by one table lookup:

* ``D = 0`` (a constant frame): ``z = 0``.
* Otherwise let ``L`` be the bit length of ``D``, ``s = L − T`` rounded up to even (``T =
  rsqrt_bits``, even), and ``j = ⌊D / 2**s⌋`` (a left shift for ``s < 0``), so
  ``2**(T−2) ≤ j < 2**T``. The table holds ``R[j] = round(2**Wr · √(2**(T−2) / (j + ½)))``
  (``Wr = rsqrt_width`` bits, unsigned), so ``1/√D ≈ R[j] · 2**−(Wr + (T−2)/2 + s/2)``.
* ``z`` code ``= sat(round((a · R[j]) / 2**k))`` with ``k = Wr + (T−2)/2 + s/2 − Fo`` (≥ 0),
  the chosen rounding, saturated to the output width; a frame's ``overflow`` is set when any
  of its outputs saturated.

The real and imaginary parts share the frame's statistics (complex mean, ``|·|²`` variance, as
MATLAB's ``std`` of a complex vector, but over ``N``, not ``N − 1``): a real frame (imaginary
parts 0) normalizes as the real formula, and its imaginary outputs stay 0.

Error against the exact ``z`` (each component, in output LSB): ``j`` stands for ``D/2**s`` to
within half a step about the table's midpoint, so ``R`` is within a relative ``2**−T`` of
``2**(…)/√D``, and its rounding adds ``2**(1−Wr)``; the output rounding adds ½ LSB:
``|error| ≤ ½ + |z|·2**Fo·(2**−T + 2**(1−Wr))`` (:meth:`FrameNormModel.error_bound`).
"""

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import codes_in_range, integer_in
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fixed import (FixedFormat, check_rounding, checked_format, integer_array,
                                pair_text, round_shift, saturate, signed_bounds)

__all__ = ["NormConfig", "FrameNormModel", "rsqrt_table"]


@dataclasses.dataclass(frozen=True)
class NormConfig(BlockConfig):
    """Parameters of the frame normalization unit, validated, with the figures they imply."""

    frame: int = parameter(256, "samples per frame (8 … 65536)")
    data_width: int = parameter(16, "bits per input component (2 … 32); the input's scale does "
                                     "not matter, z is scale-free")
    output_format: FixedFormat = parameter((16, 12), "width,fraction of z", parse=pair_text)
    rsqrt_bits: int = parameter(10, "index bits T of the 1/√ table (even, 4 … 14): 2**T words")
    rsqrt_width: int = parameter(18, "bits Wr of each table word (8 … 27), at least the output "
                                     "fraction")
    rounding: str = parameter("convergent", "truncate, half_up or convergent, for the output")

    def __post_init__(self):
        integer_in("Frame", self.frame, 8, 65536)
        integer_in("Data width", self.data_width, 2, 32)
        fmt = checked_format("Output format", self.output_format)
        self._set("output_format", fmt)
        integer_in("Rsqrt bits", self.rsqrt_bits, 4, 14)
        if self.rsqrt_bits % 2:
            raise ValueError(f"Rsqrt bits must be even, not {self.rsqrt_bits}")
        integer_in("Rsqrt width", self.rsqrt_width, 8, 27)
        if self.rsqrt_width < fmt.fraction:
            raise ValueError(f"Rsqrt width must be at least the output fraction "
                             f"({fmt.fraction}), not {self.rsqrt_width}")
        check_rounding(self.rounding)

    @property
    def sum_width(self) -> int:
        """Bits of ``S``'s components: ``B + ⌈log2 N⌉``."""
        return self.data_width + math.ceil(math.log2(self.frame))

    @property
    def energy_width(self) -> int:
        """Bits of ``Q`` (unsigned): ``2B − 1 + ⌈log2 N⌉``, the square of the most negative
        code on both parts being the largest term."""
        return 2 * self.data_width - 1 + math.ceil(math.log2(self.frame))

    @property
    def variance_width(self) -> int:
        """Bits of ``D = N·Q − |S|²`` (unsigned, at most ``N·Q``)."""
        return (self.frame * ((1 << self.energy_width) - 1)).bit_length()

    @property
    def numerator_width(self) -> int:
        """Bits of ``a = N·v − S`` (signed)."""
        low, high = signed_bounds(self.data_width)
        return max((self.frame * high - self.frame * low).bit_length() + 1,
                   (self.frame * low - self.frame * high).bit_length() + 1)

    @property
    def shift_offset(self) -> int:
        """``Wr + (T−2)/2 − Fo``: the output shift is this plus ``s/2``."""
        return self.rsqrt_width + (self.rsqrt_bits - 2) // 2 - self.output_format.fraction


def rsqrt_table(bits: int, width: int) -> np.ndarray:
    """``R[j] = round(2**width · √(2**(bits−2) / (j + ½)))`` for ``2**(bits−2) ≤ j < 2**bits``,
    0 below (``j = 0`` is the constant frame's; the rest is never read)."""
    j = np.arange(1 << bits)
    table = np.zeros(1 << bits, dtype=np.int64)
    used = j >= 1 << (bits - 2)
    table[used] = np.round((1 << width) * np.sqrt((1 << (bits - 2)) / (j[used] + 0.5)))
    return np.minimum(table, (1 << width) - 1)


class FrameNormModel(BlockModel):
    """Integer model of the normalization unit (see the module docstring)."""

    config_class = NormConfig

    def statistics(self, real: ArrayLike, imag: ArrayLike) -> tuple:
        """``(S_real, S_imag, D, table index j, shift s)`` of one frame (Python integers)."""
        real = [int(value) for value in np.asarray(real).ravel()]
        imag = [int(value) for value in np.asarray(imag).ravel()]
        sum_real, sum_imag = sum(real), sum(imag)
        energy = sum(x * x for x in real) + sum(y * y for y in imag)
        variance = self.frame * energy - sum_real ** 2 - sum_imag ** 2
        bits = self.rsqrt_bits
        if variance == 0:
            return sum_real, sum_imag, 0, 0, 2 - bits
        shift = variance.bit_length() - bits
        shift += shift % 2
        index = variance >> shift if shift >= 0 else variance << -shift
        return sum_real, sum_imag, variance, index, shift

    def normalize(self, real: ArrayLike,
                  imag: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalize frames (shape (frames, frame)): ``z`` codes and per-frame overflow."""
        real = np.atleast_2d(np.asarray(real, dtype=np.int64))
        imag = np.atleast_2d(np.asarray(imag, dtype=np.int64))
        if real.shape != imag.shape or real.shape[-1] != self.frame:
            raise ValueError(f"Frames must have shape (frames, {self.frame}), not {real.shape} "
                             f"and {imag.shape}")
        codes_in_range("Input samples", self.data_width, real, imag)
        table = rsqrt_table(self.rsqrt_bits, self.rsqrt_width)
        outputs = [np.zeros(real.shape, dtype=np.int64) for _ in range(2)]
        overflow = np.zeros(len(real), dtype=bool)
        for frame, (frame_real, frame_imag) in enumerate(zip(real, imag)):
            sum_real, sum_imag, _, index, shift = self.statistics(frame_real, frame_imag)
            gain = int(table[index])
            for part, total, out in ((frame_real, sum_real, outputs[0]),
                                     (frame_imag, sum_imag, outputs[1])):
                numerator = integer_array(self.frame * part - total,
                                          self.numerator_width + self.rsqrt_width + 1)
                scaled = round_shift(numerator * gain, self.shift_offset + shift // 2,
                                     self.rounding)
                out[frame], saturated = saturate(scaled, self.output_format.width)
                overflow[frame] |= bool(np.any(saturated))
        return outputs[0], outputs[1], overflow

    def error_bound(self, z: ArrayLike) -> np.ndarray:
        """The largest error (output LSB) the arithmetic allows where the exact value is
        ``z`` (module docstring)."""
        relative = 2.0 ** -self.rsqrt_bits + 2.0 ** (1 - self.rsqrt_width)
        return 0.5 + np.abs(z) * 2.0 ** self.output_format.fraction * relative
