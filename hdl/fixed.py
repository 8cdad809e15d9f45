"""Fixed-point rounding and saturation as Amaranth expressions.

The semantics are defined once in :mod:`golden.fixed`. Rounding is the very same function there
(it is written with operators that Amaranth values and NumPy arrays share); saturation needs a
multiplexer here where NumPy uses ``where``.
"""

from amaranth.hdl import Mux

from golden.fixed import round_shift, signed_bounds

__all__ = ["round_shift", "saturate"]


def saturate(value, width):
    """Clamp signed ``value`` to ``width`` bits; returns ``(clamped, saturated)``."""
    low, high = signed_bounds(width)
    if value.shape().width <= width:
        return value, 0
    above, below = value > high, value < low
    return Mux(above, high, Mux(below, low, value)), above | below
