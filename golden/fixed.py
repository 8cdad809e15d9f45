"""Fixed-point formats and the integer arithmetic every fdcnn block shares.

The hardware (``hdl/fixed.py``) and the golden models implement exactly the semantics written
here; a golden model is an integer model, so every function works on NumPy integer arrays
(``int64``, or ``object`` arrays of Python integers when a product would not fit in 63 bits).

Rounding of a right shift by ``k`` bits (division by ``2**k``):

``truncate``
    ``floor(x / 2**k)``: an arithmetic shift; error in ``(-1, 0]`` LSB, biased by -0.5 LSB.
``half_up``
    ``floor(x / 2**k + 1/2)``: round to nearest, ties toward +infinity.
``convergent``
    round to nearest, ties to even (unbiased).

Saturation clamps to the signed range of the target width and reports where it did so; no
fdcnn block ever wraps around.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ROUNDING_MODES", "FixedFormat", "check_rounding", "checked_format", "pair_text",
           "round_shift", "saturate", "signed_bounds", "integer_array", "FRACTION_LIMIT"]

ROUNDING_MODES = ("truncate", "half_up", "convergent")
#: Fraction bits of a format lie within ±this.
FRACTION_LIMIT = 64


def check_rounding(rounding):
    """Raise :class:`ValueError` unless ``rounding`` names one of :data:`ROUNDING_MODES`."""
    if rounding not in ROUNDING_MODES:
        allowed = ", ".join(repr(mode) for mode in ROUNDING_MODES)
        raise ValueError(f"Rounding must be one of {allowed}, not {rounding!r}")


def signed_bounds(width):
    """Smallest and largest value of a ``width``-bit two's complement number."""
    return -(1 << (width - 1)), (1 << (width - 1)) - 1


@dataclass(frozen=True)
class FixedFormat:
    """A signed two's complement fixed-point format.

    A code ``c`` of this format stands for the real value ``c / 2**fraction``.

    Parameters
    ----------
    width : int
        Total bits, sign included.
    fraction : int
        Bits right of the binary point (may exceed ``width`` or be negative).
    """

    width: int
    fraction: int = 0

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 1:
            raise ValueError(f"Fixed-point width must be a positive integer, not {self.width!r}")
        if not isinstance(self.fraction, int):
            raise TypeError(f"Fixed-point fraction must be an integer, not {self.fraction!r}")

    @property
    def min_code(self):
        return signed_bounds(self.width)[0]

    @property
    def max_code(self):
        return signed_bounds(self.width)[1]

    @property
    def lsb(self):
        """Real value of one least significant bit."""
        return 2.0 ** -self.fraction

    @property
    def padded_width(self):
        """Width after sign extension to a byte boundary, as AXI4-Stream ``tdata`` carries it."""
        return -(-self.width // 8) * 8

    def to_real(self, codes):
        return np.asarray(codes, dtype=np.float64) * self.lsb

    def __str__(self):
        return f"Q{self.width - self.fraction}.{self.fraction} ({self.width} bits)"


def integer_array(values, bits_needed):
    """``values`` as an integer array able to hold ``bits_needed``-bit intermediate results."""
    dtype = np.int64 if bits_needed <= 62 else object
    array = np.asarray(values)
    if array.dtype == dtype:
        return array
    if dtype is object:
        return np.vectorize(int, otypes=[object])(array) if array.size else array.astype(object)
    return array.astype(np.int64)


def round_shift(values, shift, rounding):
    """Divide by ``2**shift`` with the given rounding; ``shift`` ≥ 0.

    Written with ``+``, ``>>`` and ``&`` only, so the same function builds the circuit from
    Amaranth values (``hdl``) and computes the result on NumPy integer arrays (``golden``).
    """
    check_rounding(rounding)
    if shift == 0:
        return values
    if rounding == "truncate":
        return values >> shift
    half = 1 << (shift - 1)
    if rounding == "half_up":
        return (values + half) >> shift
    # convergent: add half - 1, plus one when the kept part is odd (ties go to even).
    return (values + (half - 1) + ((values >> shift) & 1)) >> shift


def saturate(values, width):
    """Clamp to the ``width``-bit signed range; returns ``(clamped, saturated_mask)``."""
    low, high = signed_bounds(width)
    saturated = (values < low) | (values > high)
    return np.where(values < low, low, np.where(values > high, high, values)), saturated


def checked_format(name, value):
    """A ``(width, fraction)`` tuple as a :class:`FixedFormat`, checked: width 2 … 32, fraction
    within ±:data:`FRACTION_LIMIT`; errors name ``name``."""
    from fdcnn.golden.checks import integer_in
    if isinstance(value, FixedFormat):
        value = (value.width, value.fraction)
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)):
        raise TypeError(f"{name} must be a (width, fraction) tuple of integers, not {value!r}")
    integer_in(f"{name} width", value[0], 2, 32)
    integer_in(f"{name} fraction", value[1], -FRACTION_LIMIT, FRACTION_LIMIT)
    return FixedFormat(*value)


def pair_text(text):
    """``16,12`` → (16, 12); ``-8,8.5`` → (-8, 8.5), from the command line; anything else is
    left for the check."""
    def number(part):
        try:
            return int(part)
        except ValueError:
            return float(part)
    try:
        return tuple(number(part) for part in text.split(","))
    except ValueError:
        return text
