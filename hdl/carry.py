"""Additions whose operand logic rides in the carry chain's own LUTs.

An ECP5 carry cell (``CCU2C``) is two LUT4s on a carry chain: each bit's LUT forms the
propagate ``P`` (the sum bit is ``P ⊕ carry``) from four inputs, and a LUT2 of its first two
inputs the generate, which carries out where ``P`` is 0. Yosys maps every addition there with
the LUT forming ``A ⊕ B`` only, so logic in front of an operand (a multiplexer, a gate) costs a
LUT4 per bit of its own. The additions here put that logic into the chain's LUTs: for
``family="ecp5"`` they are ``CCU2C`` chains instantiated with the truth tables worked out
below; for any other family they are Amaranth expressions, which give the same integers.

Both are sums ``X + Y + carry_in`` of two operands that are functions of the bits of ``a`` and
``b`` and one ``control`` bit, bit by bit: ``P = X ⊕ Y``, and the generate must be ``X`` (which
equals ``Y`` where ``P`` is 0) as a function of the cell's first two inputs alone.
"""

from amaranth.hdl import Const, Instance, Mux, Signal, signed

__all__ = ["CARRY_FAMILIES", "gated_sum", "selected_difference"]

#: Families whose carry cells take operand logic: for the others the sums are expressions.
CARRY_FAMILIES = ("ecp5",)


def gated_sum(m, name, a, b, gate, carry_in, family):
    """``a + (b if gate else 0) + carry_in``: signed, one bit wider than the wider operand."""
    width = max(len(a), len(b)) + 1
    if family not in CARRY_FAMILIES:
        return (a + Mux(gate, b, 0) + carry_in)[:width].as_signed()
    # cell inputs (first, second, third) = (a, b, gate): P = a ⊕ (b ∧ gate), generate a
    return _chain(m, name, width, a, b, gate, carry_in,
                  propagate=lambda first, second, third: first ^ (second & third),
                  generate=lambda first, second: first)


def selected_difference(m, name, a, b, select, family):
    """``a − b`` where ``select``, else ``b``: signed, one bit wider than the wider operand."""
    width = max(len(a), len(b)) + 1
    if family not in CARRY_FAMILIES:
        return Mux(select, a - b, b)[:width].as_signed()
    # X = select ∧ a, Y = b ⊕ select, carry in = select (−b = ~b + 1). Cell inputs (first,
    # second, third) = (select, a, b): P = (select ∧ a) ⊕ b ⊕ select, generate select ∧ a.
    return _chain(m, name, width, a, b, select, select, operands=("control", "a", "b"),
                  propagate=lambda first, second, third: (first & second) ^ third ^ first,
                  generate=lambda first, second: first & second)


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


def _chain(m, name, width, a, b, control, carry_in, *, propagate, generate,
           operands=("a", "b", "control")):
    """``width`` sum bits from ``CCU2C`` cells, two bits each; ``operands`` says which of
    ``a``, ``b`` and ``control`` each cell's A, B and C inputs take."""
    extended = {"a": Signal(signed(width + 1), name=f"{name}_a"),
                "b": Signal(signed(width + 1), name=f"{name}_b")}
    m.d.comb += [extended["a"].eq(a), extended["b"].eq(b)]
    init = Const(_truth_table(propagate, generate), 16)
    total = Signal(signed(width + width % 2), name=name)
    carry = carry_in
    for cell in range(0, width, 2):
        inputs = {}
        for half in (0, 1):
            bit = {"a": extended["a"][cell + half], "b": extended["b"][cell + half],
                   "control": control}
            for port, operand in zip("ABC", operands):
                inputs[f"i_{port}{half}"] = bit[operand]
            inputs[f"i_D{half}"] = 1
        carry_out = Signal(name=f"{name}_carry{cell // 2}")
        m.submodules[f"{name}_cell{cell // 2}"] = Instance(
            "CCU2C", p_INIT0=init, p_INIT1=init, p_INJECT1_0="NO", p_INJECT1_1="NO",
            i_CIN=carry, o_S0=total[cell], o_S1=total[cell + 1], o_COUT=carry_out, **inputs)
        carry = carry_out
    return total[:width].as_signed()
