"""The shared fixed-point helpers: the circuit's run-time rounding shift equals the golden
model's rounding for every shift amount and rounding mode."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from fdcnn.golden.fixed import ROUNDING_MODES, round_shift
from fdcnn.hdl.fixed import round_shift_by, rounded_sum


@pytest.mark.parametrize("rounding", ROUNDING_MODES)
def test_round_shift_by_equals_round_shift(rounding):
    value, amount = Signal(signed(10)), Signal(range(13))
    result = Signal(signed(11))
    m = Module()
    m.d.comb += result.eq(round_shift_by(value, amount, rounding))
    values = np.arange(-512, 512, dtype=object)
    mismatches = []

    async def bench(context):
        for shift in range(13):
            expected = round_shift(values, shift, rounding)
            for code, want in zip(values, expected):
                context.set(value, int(code))
                context.set(amount, shift)
                if context.get(result) != want:
                    mismatches.append((int(code), shift, context.get(result), int(want)))

    simulator = Simulator(m)
    simulator.add_testbench(bench)
    simulator.run()
    assert not mismatches, f"first mismatches (value, shift, got, expected): {mismatches[:3]}"


@pytest.mark.parametrize("rounding", ROUNDING_MODES)
@pytest.mark.parametrize("shift", [0, 1, 2])
def test_rounded_sum_equals_round_shift_of_the_sum(rounding, shift):
    """Every pair of 5-bit operands: the one-adder form gives ``round_shift(a + b)``."""
    a, b = Signal(signed(5)), Signal(signed(5))
    result = Signal(signed(7))
    m = Module()
    m.d.comb += result.eq(rounded_sum(a, b, shift, rounding))
    codes = range(-16, 16)
    mismatches = []

    async def bench(context):
        for left in codes:
            for right in codes:
                context.set(a, left)
                context.set(b, right)
                want = int(round_shift(np.array([left + right], dtype=object), shift,
                                       rounding)[0])
                if context.get(result) != want:
                    mismatches.append((left, right, context.get(result), want))

    simulator = Simulator(m)
    simulator.add_testbench(bench)
    simulator.run()
    assert not mismatches, f"first mismatches (a, b, got, expected): {mismatches[:3]}"


@pytest.mark.parametrize("value_shape", [signed(7), signed(5), unsigned(6)])
@pytest.mark.parametrize("width", [2, 4])
def test_saturate_clamps_every_value(value_shape, width):
    """Every value of the shape: clamped to ``width`` signed bits, flagged when it was out of
    range (the upper-bit test against the bounds)."""
    from fdcnn.golden.fixed import signed_bounds
    from fdcnn.hdl.fixed import saturate
    value, result, flag = Signal(value_shape), Signal(signed(width)), Signal()
    clamped, saturated = saturate(value, width)
    m = Module()
    m.d.comb += [result.eq(clamped), flag.eq(saturated)]
    low, high = signed_bounds(width)
    bits = value_shape.width
    codes = range(-(1 << (bits - 1)), 1 << (bits - 1)) if value_shape.signed else range(1 << bits)
    mismatches = []

    async def bench(context):
        for code in codes:
            context.set(value, code)
            want = (min(max(code, low), high), not low <= code <= high)
            if (context.get(result), bool(context.get(flag))) != want:
                mismatches.append((code, context.get(result), context.get(flag), want))

    simulator = Simulator(m)
    simulator.add_testbench(bench)
    simulator.run()
    assert not mismatches, f"first mismatches (value, got, flag, expected): {mismatches[:3]}"


@pytest.mark.parametrize("a_width, b_width", [(18, 18), (25, 18), (35, 20), (30, None)])
def test_product_parts_add_up_to_the_product(a_width, b_width):
    """The shifted parts of ``a·b`` (``a²`` without ``b``) add up to it for random signed
    operands, each part's operands fit an 18×18 block, and ``product_part_count`` says how
    many there are from the widths alone."""
    from fdcnn.hdl.fixed import DSP_OPERAND_BITS, product_part_count, product_parts
    a = Signal(signed(a_width))
    b = Signal(signed(b_width)) if b_width else None
    parts = product_parts(a, b)
    assert len(parts) == product_part_count(a_width, b_width)
    assert all(len(part.operands[0]) <= DSP_OPERAND_BITS >= len(part.operands[1])
               for part, _ in parts)
    total = Signal(signed(2 * max(a_width, b_width or 0) + 2))
    m = Module()
    m.d.comb += total.eq(sum(part << shift for part, shift in parts))
    rng = np.random.default_rng(a_width)
    mismatches = []

    async def bench(context):
        for _ in range(200):
            x = int(rng.integers(-(1 << (a_width - 1)), 1 << (a_width - 1)))
            y = int(rng.integers(-(1 << (b_width - 1)), 1 << (b_width - 1))) if b_width else x
            context.set(a, x)
            if b is not None:
                context.set(b, y)
            if context.get(total) != x * y:
                mismatches.append((x, y, context.get(total)))

    simulator = Simulator(m)
    simulator.add_testbench(bench)
    simulator.run()
    assert not mismatches, f"first mismatches (a, b, sum of parts): {mismatches[:3]}"
