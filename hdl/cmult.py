"""Pipelined complex multiplier, shared by the FFT's twiddle stages and the MAC array's lanes.

The product is exact: :func:`fdcnn.golden.cmult.complex_product` is its model.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.checks import integer_in, one_of
from fdcnn.golden.cmult import MULTIPLIERS, product_width, real_multipliers
from fdcnn.golden.fft import FAMILIES
from fdcnn.hdl.stream import complex_layout

__all__ = ["ComplexMultiplier", "PRESUM_OPERANDS", "MAC16_WIDTH"]

#: The operands Gauss's form may sum twice (:class:`ComplexMultiplier`'s ``presum_operand``).
PRESUM_OPERANDS = ("c", "a")

#: Bits of each operand of iCE40's ``SB_MAC16`` multiplier.
MAC16_WIDTH = 16


class ComplexMultiplier(wiring.Component):
    """``p = a · c``, or ``a · conj(c)``, exactly, three enabled cycles later.

    Pipeline (each step a register that moves when ``en`` is high), in the shape DSP blocks
    (DSP48E1, MULT18X18D, SB_MAC16) take with their own registers: the operands; the real
    products; their sums. ``4mult`` forms ``ac ∓ bd`` and ``bc ± ad`` from four products;
    ``3mult`` (Gauss) forms ``k1 = a(c − d)``, ``k2 = d(a − b)``, ``k3 = b(c + d)`` (conjugated:
    ``k1 = a(c + d)``, ``k2 = d(b − a)``, ``k3 = b(c − d)``), real ``k1 + k2`` and imaginary
    ``k2 + k3``: the same integers, and only additions after the products, which a DSP48E1's
    post-adder takes (and its pre-adder each product's one addition or subtraction). Its
    pre-adders sit before the operand registers, so each multiplier's inputs come straight
    from registers, as a DSP block wants them.

    That form sums ``c`` twice (``presum_operand="c"``). With ``presum_operand="a"`` it sums
    ``a`` twice instead: ``k1 = b(c − d)``, ``k2 = c(a − b)``, ``k3 = d(a + b)`` (conjugated:
    ``k1 = b(c + d)``), real ``k1 + k2``, imaginary ``k1 + k3`` (conjugated: ``k1 − k3``). A
    sum is one bit wider than its operand, so the choice decides which products outgrow an
    18×18 block: with a 17-bit ``a`` and an 18-bit ``c`` (the FFT's data and twiddles) the
    ``c`` form has two 17×19 products, the ``a`` form one (ECP5: 17 LUT4 fewer, the 19th
    bit's partial product), while on iCE40's 16×16 blocks the ``c`` form takes one block
    fewer.

    On iCE40 (``family="ice40"``) a 17-bit operand ``x`` times one wider than a block's 16
    bits is formed as ``2·(x >> 1)·y + (y if x[0] else 0)``: the same integer. Yosys splits a
    17 × 19 product into two ``SB_MAC16`` and 60 LUTs (17 × 18: 57) of partial-product sums,
    while ``(x >> 1)·y`` takes the same two blocks and 19 LUTs; the gated term is a register
    beside the operands whose synchronous reset clears it (no LUT), so the whole product is
    36 LUTs (35). The 18 × 18 product of a sum stays whole (three blocks and 29 LUTs: split
    the same way, it takes two blocks and 105 LUTs). Yosys's ``synth_ice40 -dsp`` rewrites
    every ``SB_MAC16`` it finds from the logic around it (its ``ice40_dsp`` pass), so the
    blocks, and the additions they might take, are left to inference.

    Parameters
    ----------
    a_width, c_width : int
        Bits per component of the operands ``a`` and ``c`` (2 … 64).
    multiplier : str
        ``"4mult"`` or ``"3mult"``.
    presum_operand : str
        ``"c"`` or ``"a"``: the operand ``3mult`` sums twice before its products (ignored by
        ``4mult``).
    conjugation : bool
        Build the ``conjugate`` input (otherwise the product is never conjugated, and no
        sign logic is built).
    family : str
        The FPGA family (:data:`~fdcnn.golden.fft.FAMILIES`) whose DSP blocks the products
        are shaped for: ``"ice40"`` splits 17-bit operands as above; the others take the
        products whole.

    Members
    -------
    en : In(1)
        Clock enable of the whole pipeline.
    a : In(complex_layout(a_width))
    c : In(complex_layout(c_width))
    conjugate : In(1)
        With ``conjugation`` only; sampled with the operands: multiply by ``conj(c)``.
    p : Out(complex_layout(product_width))
        ``a_width + c_width + 1`` bits per component: every product, conjugated or not, fits.
    """

    #: Enabled cycles from the operands to their product.
    latency = 3

    def __init__(self, *, a_width: int, c_width: int, multiplier: str = "4mult",
                 presum_operand: str = "c", conjugation: bool = False,
                 family: str = "generic"):
        integer_in("Operand width", a_width, 2, 64)
        integer_in("Operand width", c_width, 2, 64)
        one_of("Multiplier", multiplier, MULTIPLIERS)
        one_of("Pre-summed operand", presum_operand, PRESUM_OPERANDS)
        one_of("Family", family, FAMILIES)
        self.a_width, self.c_width, self.multiplier = a_width, c_width, multiplier
        self.presum_operand = presum_operand
        self.conjugation = conjugation
        self.family = family
        members = {"en": In(1), "a": In(complex_layout(a_width)),
                   "c": In(complex_layout(c_width)),
                   "p": Out(complex_layout(self.product_width))}
        if conjugation:
            members["conjugate"] = In(1)
        super().__init__(members)

    @property
    def product_width(self) -> int:
        return product_width(self.a_width, self.c_width)

    @property
    def multipliers(self) -> int:
        """Real multipliers: 4 or 3."""
        return real_multipliers(self.multiplier)

    def elaborate(self, platform):
        m = Module()
        if self.multiplier == "4mult":
            real, imag = self._four(m)
        elif self.presum_operand == "c":
            real, imag = self._three_summing_c(m)
        else:
            real, imag = self._three_summing_a(m)
        with m.If(self.en):
            m.d.sync += [self.p.real.eq(real), self.p.imag.eq(imag)]
        return m

    def _registered(self, m, values):
        """Each ``(name, value)`` in a register that moves with ``en``."""
        registers = []
        for name, value in values:
            register = Signal(value.shape(), name=name, reset_less=True)
            with m.If(self.en):
                m.d.sync += register.eq(value)
            registers.append(register)
        return registers

    def _products(self, m, operands, pairs, width):
        """The product of each ``(name, name)`` of ``pairs`` in a ``width``-bit register, after
        the ``operands`` (``(name, value)``) in registers of their own; on iCE40 a 17-bit
        operand is split off its lowest bit (see the class)."""
        values = dict(operands)
        registers = dict(zip(values, self._registered(m, operands)))
        results = []
        for x, y in pairs:
            split = self._split(values[x], values[y])
            if split is None:
                results.append(registers[x] * registers[y])
                continue
            if split == 1:
                x, y = y, x
            term, = self._registered(m, [(f"{x}_lsb_{y}", Mux(values[x][0], values[y], 0))])
            results.append((registers[x][1:].as_signed() * registers[y] << 1) + term)
        products = [Signal(signed(width), name=f"product{index}", reset_less=True)
                    for index in range(len(results))]
        with m.If(self.en):
            m.d.sync += [product.eq(value) for product, value in zip(products, results)]
        return products

    def _split(self, x, y):
        """Which of ``x`` and ``y`` (0 or 1) iCE40 splits off its lowest bit: a 17-bit one
        times one wider than a block's operand; ``None`` for neither."""
        if self.family != "ice40":
            return None
        for index, (narrow, wide) in enumerate(((x, y), (y, x))):
            if len(narrow) == MAC16_WIDTH + 1 and len(wide) > MAC16_WIDTH:
                return index
        return None

    def _select(self, conjugate, conjugated, plain):
        """``conjugated`` where the product is conjugated, else ``plain``."""
        return Mux(conjugate, conjugated, plain) if self.conjugation else plain

    def _four(self, m):
        # (a + jb)(c ± jd) = (ac ∓ bd) + j(bc ± ad)
        conjugated = [Signal(name=f"conjugate{step}") for step in range(2)]
        with m.If(self.en):
            m.d.sync += conjugated[1].eq(conjugated[0])
            if self.conjugation:
                m.d.sync += conjugated[0].eq(self.conjugate)
        conjugate = conjugated[1]
        ac, bd, ad, bc = self._products(
            m, [("operand_a", self.a.real), ("operand_b", self.a.imag),
                ("operand_c", self.c.real), ("operand_d", self.c.imag)],
            [("operand_a", "operand_c"), ("operand_b", "operand_d"),
             ("operand_a", "operand_d"), ("operand_b", "operand_c")],
            self.a_width + self.c_width)
        return (self._select(conjugate, ac + bd, ac - bd),
                self._select(conjugate, bc - ad, bc + ad))

    def _three_summing_c(self, m):
        # (a + jb)(c ± jd): k1 = a(c ∓ d), k2 = ±d(a − b), k3 = b(c ± d); k1 + k2, k2 + k3
        (a, b), (c, d) = (self.a.real, self.a.imag), (self.c.real, self.c.imag)
        conjugate = self.conjugate if self.conjugation else 0
        k1, k2, k3 = self._products(m, [
            ("operand_a", a), ("operand_b", b), ("operand_d", d),
            ("sum_k1", self._select(conjugate, c + d, c - d)),
            ("difference_k2", self._select(conjugate, b - a, a - b)),
            ("sum_k3", self._select(conjugate, c - d, c + d))],
            [("sum_k1", "operand_a"), ("difference_k2", "operand_d"), ("sum_k3", "operand_b")],
            self.a_width + self.c_width + 2)
        return k1 + k2, k2 + k3

    def _three_summing_a(self, m):
        # (a + jb)(c ± jd): k1 = b(c ∓ d), k2 = c(a − b), k3 = d(a + b); k1 + k2, k1 ± k3
        (a, b), (c, d) = (self.a.real, self.a.imag), (self.c.real, self.c.imag)
        conjugate = self.conjugate if self.conjugation else 0
        k1, k2, k3 = self._products(m, [
            ("operand_b", b), ("operand_c", c), ("operand_d", d),
            ("difference_k1", self._select(conjugate, c + d, c - d)),
            ("difference_k2", a - b), ("sum_k3", a + b)],
            [("difference_k1", "operand_b"), ("difference_k2", "operand_c"),
             ("sum_k3", "operand_d")],
            self.a_width + self.c_width + 2)
        if self.conjugation:        # beside the operands, then beside the products
            conjugate, = self._registered(m, [("conjugate_operands", conjugate)])
            conjugate, = self._registered(m, [("conjugate_products", conjugate)])
        return k1 + k2, self._select(conjugate, k1 - k3, k1 + k3)
