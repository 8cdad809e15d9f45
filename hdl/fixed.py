"""Fixed-point rounding and saturation as Amaranth expressions.

These are the circuits for the semantics defined once in :mod:`golden.fixed` (see there for
the exact definition of each rounding mode); the golden models call the NumPy twins.
"""

from amaranth.hdl import Mux

from golden.fixed import check_rounding, signed_bounds

__all__ = ["round_shift", "saturate"]


def round_shift(value, shift, rounding):
    """Signed ``value`` divided by ``2**shift`` with the given rounding."""
    check_rounding(rounding)
    if shift == 0:
        return value
    if rounding == "truncate":
        return value >> shift
    half = 1 << (shift - 1)
    if rounding == "half_up":
        return (value + half) >> shift
    return (value + (half - 1) + value[shift]) >> shift


def saturate(value, width):
    """Clamp signed ``value`` to ``width`` bits; returns ``(clamped, saturated)``."""
    low, high = signed_bounds(width)
    if value.shape().width <= width:
        return value, 0
    above, below = value > high, value < low
    return Mux(above, high, Mux(below, low, value)), above | below
