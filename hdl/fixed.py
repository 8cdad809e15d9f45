"""Fixed-point rounding and saturation as Amaranth expressions.

The semantics are defined once in :mod:`golden.fixed`. Rounding is the very same function there
(it is written with operators that Amaranth values and NumPy arrays share); saturation needs a
multiplexer here where NumPy uses ``where``.
"""

from amaranth.hdl import Const, Mux

from fdcnn.golden.fixed import check_rounding, round_shift, signed_bounds

__all__ = ["round_shift", "round_shift_by", "round_bias_by", "rounded_sum", "saturate"]


def round_bias_by(value, amount, rounding):
    """``value`` plus what :func:`round_shift_by` adds before its shift, so that
    ``round_bias_by(value, amount, rounding) >> amount`` is the rounded result: the two halves
    of the operation, for a pipeline register between them."""
    check_rounding(rounding)
    if rounding == "truncate":
        return value
    half = (Const(1, 1) << amount) >> 1         # 2**(amount − 1); 0 for amount 0
    if rounding == "half_up":
        return value + half
    shifting = amount != 0                      # convergent: as round_shift, none for 0
    odd = value.bit_select(amount, 1)           # the lowest kept bit
    return value + half - shifting + (odd & shifting)


def round_shift_by(value, amount, rounding):
    """:func:`golden.fixed.round_shift` by a run-time ``amount`` (an unsigned value): the same
    result for every amount, 0 included. Costs barrel shifters; use ``round_shift`` for a
    constant shift."""
    return round_bias_by(value, amount, rounding) >> amount


def rounded_sum(a, b, shift, rounding):
    """``round_shift(a + b, shift, rounding)`` with one adder for ``shift = 1``: the rounding
    increment is the adder's carry-in, 1 for ``half_up`` and, for ``convergent``, bit 1 of
    ``a + b`` (``a₁ ⊕ b₁ ⊕ a₀b₀``: it only matters when the sum is odd, a tie). Other shifts
    build the sum, then the rounding."""
    if shift != 1 or rounding == "truncate":
        return round_shift(a + b, shift, rounding)
    check_rounding(rounding)
    carry = 1 if rounding == "half_up" else a[1] ^ b[1] ^ (a[0] & b[0])
    return (a + b + carry) >> 1


def saturate(value, width, possible=True):
    """Clamp signed ``value`` to ``width`` bits; returns ``(clamped, saturated)``. Where the
    caller has proven the value always fits (``possible=False``) it is only narrowed: no
    comparators, no multiplexer, never ``saturated``."""
    low, high = signed_bounds(width)
    if value.shape().width <= width:
        return value, 0
    if not possible:
        return value[:width].as_signed(), 0
    above, below = value > high, value < low
    return Mux(above, high, Mux(below, low, value)), above | below
