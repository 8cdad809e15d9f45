"""Additions whose operand logic rides in the carry chain's own LUTs.

Synthesis tools map an addition onto a carry chain whose LUTs form ``A ⊕ B`` only, so logic in
front of an operand (a multiplexer, a gate, an inversion) costs a LUT per bit of its own. The
two sums here take that logic into the chain's LUTs. They work on ones' complements
(``~v = −v − 1``), which cost nothing where a LUT forms or reads the value: a butterfly that
keeps the complement of what it stores (:class:`~fdcnn.hdl.fft.butterfly.ButterflyStage`) then
forms both of its sums in one chain each, on both families with such chains:

* **ECP5** (``CCU2C``): two LUT4s on a carry chain; each bit's LUT forms the propagate ``P``
  (the sum bit is ``P ⊕ carry``) from three inputs, and a LUT2 of the first two the generate,
  which carries out where ``P`` is 0. A sum ``X + Y + carry_in`` of operands that are functions
  of one bit of each input is one cell per two bits: ``P = X ⊕ Y``, generate ``X`` (which
  equals ``Y`` where ``P`` is 0), as long as ``X`` depends on the first two inputs alone.
* **iCE40** (``SB_CARRY`` beside an ``SB_LUT4``): the carry takes the LUT's inputs ``I1`` and
  ``I2`` as its operands and ``I3`` as its carry in; ``I0`` is free. The operands must be
  signals, but the sum bit may be any function of ``I0 … I3``: a multiplexer on ``I0`` whose
  other side needs no carry, or an inverted output.

Any other family gets Amaranth expressions, which give the same integers.
"""

from amaranth.hdl import Const, Instance, Mux, Signal, Value, signed

__all__ = ["CARRY_FAMILIES", "complement_gated_sum", "sum_or_complement"]

#: Families whose carry chains these sums build as cells; the others get expressions.
CARRY_FAMILIES = ("ecp5", "ice40")


def complement_gated_sum(m, name, complement, addend, gate, carry_in, family):
    """``~complement + (addend if gate else 0) + carry_in``: signed, one bit wider than the
    wider operand."""
    width = max(len(complement), len(addend)) + 1
    if family == "ecp5":
        # cell inputs (first, second, third) = (complement, addend, gate):
        # X = ~complement, Y = addend ∧ gate
        return _ccu2c_chain(m, name, width, (complement, addend, gate), (True, True, False),
                            carry_in,
                            propagate=lambda first, second, third: (1 - first) ^ (second & third),
                            generate=lambda first, second: 1 - first)
    if family == "ice40":
        # ~c + y + k = ~(c + ~y + (1 − k)): the carry's operands are c and ~y, the LUT inverts
        return _ice40_chain(m, name, width, complement, ~Mux(gate, addend, 0),
                            _inverted(carry_in), 0,
                            lambda control, first, second, carry: 1 ^ first ^ second ^ carry)
    return (~complement + Mux(gate, addend, 0) + carry_in)[:width].as_signed()


def sum_or_complement(m, name, first, second, select, width, family):
    """``first + second`` where ``select``, else ``~second``: signed, ``width`` bits (the sum
    modulo ``2**width``). A butterfly keeping complements writes ``~(d − x) = ~d + x`` or
    ``~x`` with it."""
    if family == "ecp5":
        # cell inputs (select, first, second): X = select ∧ first, Y = second ⊕ ¬select
        return _ccu2c_chain(m, name, width, (select, first, second), (False, True, True), 0,
                            propagate=lambda sel, a, b: (sel & a) ^ b ^ (1 - sel),
                            generate=lambda sel, a: sel & a)
    if family == "ice40":
        return _ice40_chain(m, name, width, first, second, 0, select,
                            lambda sel, a, b, carry: a ^ b ^ carry if sel else 1 - b)
    return Mux(select, first + second, ~second)[:width].as_signed()


def _inverted(bit):
    """``1 − bit`` for a carry in that is a constant or a one-bit value."""
    return 1 - bit if isinstance(bit, int) else ~Value.cast(bit)


def _extended(m, name, value, width):
    """``value`` sign-extended to a ``width``-bit signal (cells take bits of signals)."""
    extended = Signal(signed(width), name=name)
    m.d.comb += extended.eq(value)
    return extended


def _ice40_chain(m, name, width, first, second, carry_in, control, sum_bit):
    """``width`` bits, one ``SB_LUT4`` each, ``SB_CARRY`` cells carrying ``first + second``
    between them: bit ``i`` is ``sum_bit(control, first[i], second[i], carry[i])``."""
    first, second = (_extended(m, f"{name}_{operand}", value, width)
                     for operand, value in (("first", first), ("second", second)))
    init = 0
    for index in range(16):
        init |= sum_bit(index & 1, index >> 1 & 1, index >> 2 & 1, index >> 3 & 1) << index
    total = Signal(signed(width), name=name)
    carry = carry_in
    for bit in range(width):
        m.submodules[f"{name}_lut{bit}"] = Instance(
            "SB_LUT4", p_LUT_INIT=Const(init, 16), i_I0=control, i_I1=first[bit],
            i_I2=second[bit], i_I3=carry, o_O=total[bit])
        if bit < width - 1:
            carry_out = Signal(name=f"{name}_carry{bit}")
            m.submodules[f"{name}_carry_cell{bit}"] = Instance(
                "SB_CARRY", i_I0=first[bit], i_I1=second[bit], i_CI=carry, o_CO=carry_out)
            carry = carry_out
    return total


def _truth_table(propagate, generate):
    """A CCU2C half's ``INIT``: the LUT4 (inputs A, B, C and D, D tied high) holds
    ``propagate(A, B, C)`` in its upper eight entries; its lowest four, which the cell also
    reads as the LUT2 of A and B, hold ``generate(A, B)`` (D is never low, so the LUT4 never
    reads them)."""
    init = 0
    for index in range(8):
        first, second, third = index & 1, index >> 1 & 1, index >> 2 & 1
        init |= propagate(first, second, third) << (8 + index)
    for index in range(4):
        init |= generate(index & 1, index >> 1 & 1) << index
    return init


def _ccu2c_chain(m, name, width, inputs, per_bit, carry_in, *, propagate, generate):
    """``width`` sum bits from ``CCU2C`` cells, two bits each; each cell half's A, B and C
    take the three ``inputs``: bit ``i`` of those ``per_bit`` says (sign-extended), the others
    whole (a control bit)."""
    bits = [_extended(m, f"{name}_in{index}", value, width + 1) if spread else value
            for index, (value, spread) in enumerate(zip(inputs, per_bit))]
    init = Const(_truth_table(propagate, generate), 16)
    total = Signal(signed(width + width % 2), name=name)
    carry = carry_in
    for cell in range(0, width, 2):
        ports = {}
        for half in (0, 1):
            for port, value, spread in zip("ABC", bits, per_bit):
                ports[f"i_{port}{half}"] = value[cell + half] if spread else value
            ports[f"i_D{half}"] = 1
        carry_out = Signal(name=f"{name}_carry{cell // 2}")
        m.submodules[f"{name}_cell{cell // 2}"] = Instance(
            "CCU2C", p_INIT0=init, p_INIT1=init, p_INJECT1_0="NO", p_INJECT1_1="NO",
            i_CIN=carry, o_S0=total[cell], o_S1=total[cell + 1], o_COUT=carry_out, **ports)
        carry = carry_out
    return total[:width].as_signed()
