"""Fixed-point rounding and saturation as Amaranth expressions.

The semantics are defined once in :mod:`golden.fixed`. Rounding is the very same function there
(it is written with operators that Amaranth values and NumPy arrays share); saturation needs a
multiplexer here where NumPy uses ``where``.
"""

from amaranth.hdl import Const, Mux

from fdcnn.golden.fixed import check_rounding, round_shift, signed_bounds

__all__ = ["round_shift", "round_shift_by", "rounding_constant", "round_bias_by", "rounded_sum",
           "saturate", "DSP_OPERAND_BITS", "product_parts", "product_part_count"]

#: Operand bits of the smallest DSP multipliers targeted (18×18: MULT18X18D, and DSP48E1's B
#: port); :func:`product_parts` splits wider operands.
DSP_OPERAND_BITS = 18


def rounding_constant(amount, rounding):
    """What :func:`round_bias_by` adds for a run-time ``amount`` besides the lowest kept bit: a
    function of the amount alone (``2**(amount − 1)``, one less for ``convergent`` when the
    amount is not 0), so a pipeline may form it in a register ahead of the value."""
    check_rounding(rounding)
    if rounding == "truncate":
        return Const(0, 1)
    half = (Const(1, 1) << amount) >> 1         # 2**(amount − 1); 0 for amount 0
    if rounding == "half_up":
        return half
    return half - (amount != 0)                 # convergent: as round_shift, none for 0


def round_bias_by(value, amount, rounding, constant=None):
    """``value`` plus what :func:`round_shift_by` adds before its shift, so that
    ``round_bias_by(value, amount, rounding) >> amount`` is the rounded result: the two halves
    of the operation, for a pipeline register between them. ``constant`` is
    :func:`rounding_constant`'s value for ``amount``, where the caller has it in a register
    (then the sum is one adder whose carry-in is the kept bit)."""
    if constant is None:
        constant = rounding_constant(amount, rounding)
    if rounding != "convergent":
        return value + constant
    odd = value.bit_select(amount, 1) & (amount != 0)      # the lowest kept bit
    return value + constant + odd


def round_shift_by(value, amount, rounding):
    """:func:`golden.fixed.round_shift` by a run-time ``amount`` (an unsigned value): the same
    result for every amount, 0 included. Costs barrel shifters; use ``round_shift`` for a
    constant shift."""
    return round_bias_by(value, amount, rounding) >> amount


def rounded_sum(a, b, shift, rounding, add=None):
    """``round_shift(a + b, shift, rounding)`` with one adder for ``shift = 1``: the rounding
    increment is the adder's carry-in, 1 for ``half_up`` and, for ``convergent``, bit 1 of
    ``a + b`` (``a₁ ⊕ b₁ ⊕ a₀b₀``: it only matters when the sum is odd, a tie). Other shifts
    build the sum, then the rounding. ``add(carry)``, where given, forms ``a + b + carry``
    (a carry chain of :mod:`fdcnn.hdl.carry`, which forms ``b`` itself: ``b`` is then only read
    for its two lowest bits)."""
    if add is None:
        def add(carry):
            return a + b + carry
    if shift != 1 or rounding == "truncate":
        return round_shift(add(0), shift, rounding)
    check_rounding(rounding)
    carry = 1 if rounding == "half_up" else a[1] ^ b[1] ^ (a[0] & b[0])
    return add(carry) >> 1


def saturate(value, width, possible=True):
    """Clamp ``value`` to ``width`` signed bits; returns ``(clamped, saturated)``. Where the
    caller has proven the value always fits (``possible=False``) it is only narrowed: no
    multiplexer, never ``saturated``.

    Whether it is above or below the range is read off its upper bits, not compared (which a
    synthesis tool may build as one more carry chain): a signed value fits when its bits from
    ``width − 1`` up all equal its sign; it is above when the sign is 0 and one of them is set,
    below when the sign is 1 and one of them is clear."""
    low, high = signed_bounds(width)
    if value.shape().width <= width:
        return value, 0
    if not possible:
        return value[:width].as_signed(), 0
    if value.shape().signed:
        sign, upper = value[-1], value[width - 1:-1]
        above, below = ~sign & upper.any(), sign & ~upper.all()
    else:
        above, below = value[width - 1:].any(), 0
    return Mux(above, high, Mux(below, low, value)), above | below


def _operand_part_count(width):
    """Parts of at most :data:`DSP_OPERAND_BITS` bits that :func:`_operand_parts` splits a
    ``width``-bit operand into."""
    return 1 if width <= DSP_OPERAND_BITS else 2


def _operand_parts(value):
    """``value`` as ``(part, shift)`` pairs of at most :data:`DSP_OPERAND_BITS` bits: itself,
    or (wider) ``H = value >> 17`` (signed like ``value``) and its low 17 bits (unsigned)."""
    low_bits = DSP_OPERAND_BITS - 1
    if _operand_part_count(len(value)) == 1:
        return [(value, 0)]
    high = value[low_bits:]
    return [(high.as_signed() if value.shape().signed else high, low_bits),
            (value[:low_bits], 0)]


def product_parts(a, b=None):
    """``(product, shift)`` pairs whose shifted products add up to ``a·b`` (``a²`` without
    ``b``), each product of operands of at most :data:`DSP_OPERAND_BITS` bits while ``a`` and
    ``b`` have at most 35: an operand wider than 18 bits is split into its upper part and its
    low 17 bits. A square's two cross products are one, counted twice (one more shift). Give
    each product its own register, so that the DSP blocks hold them and the additions come a
    cycle later."""
    a_parts = _operand_parts(a)
    if b is None:
        return [(x * y, x_shift + y_shift + (index != other))
                for index, (x, x_shift) in enumerate(a_parts)
                for other, (y, y_shift) in enumerate(a_parts) if index <= other]
    return [(x * y, x_shift + y_shift)
            for x, x_shift in a_parts for y, y_shift in _operand_parts(b)]


def product_part_count(a_width, b_width=None):
    """How many products :func:`product_parts` forms for operands of ``a_width`` and
    ``b_width`` bits (a square of an ``a_width``-bit value without ``b_width``)."""
    a_parts = _operand_part_count(a_width)
    if b_width is None:
        return a_parts * (a_parts + 1) // 2
    return a_parts * _operand_part_count(b_width)
