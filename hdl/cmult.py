"""Pipelined complex multiplier, shared by the FFT's twiddle stages and the MAC array's lanes.

The product is exact: :func:`fdcnn.golden.cmult.complex_product` is its model.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.checks import integer_in, one_of
from fdcnn.golden.cmult import MULTIPLIERS, product_width, real_multipliers
from fdcnn.hdl.stream import complex_layout

__all__ = ["ComplexMultiplier"]


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

    Parameters
    ----------
    a_width, c_width : int
        Bits per component of the operands ``a`` and ``c`` (2 … 64).
    multiplier : str
        ``"4mult"`` or ``"3mult"``.
    conjugation : bool
        Build the ``conjugate`` input (otherwise the product is never conjugated, and no
        sign logic is built).

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
                 conjugation: bool = False):
        integer_in("Operand width", a_width, 2, 64)
        integer_in("Operand width", c_width, 2, 64)
        one_of("Multiplier", multiplier, MULTIPLIERS)
        self.a_width, self.c_width, self.multiplier = a_width, c_width, multiplier
        self.conjugation = conjugation
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
        real, imag = self._four(m) if self.multiplier == "4mult" else self._three(m)
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

    def _products(self, m, values, width):
        products = [Signal(signed(width), name=f"product{index}", reset_less=True)
                    for index in range(len(values))]
        with m.If(self.en):
            m.d.sync += [product.eq(value) for product, value in zip(products, values)]
        return products

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
        a, b, c, d = self._registered(m, [("operand_a", self.a.real), ("operand_b", self.a.imag),
                                          ("operand_c", self.c.real), ("operand_d", self.c.imag)])
        ac, bd, ad, bc = self._products(m, [a * c, b * d, a * d, b * c],
                                        self.a_width + self.c_width)
        return (self._select(conjugate, ac + bd, ac - bd),
                self._select(conjugate, bc - ad, bc + ad))

    def _three(self, m):
        # (a + jb)(c ± jd): k1 = a(c ∓ d), k2 = ±d(a − b), k3 = b(c ± d); k1 + k2, k2 + k3
        (a, b), (c, d) = (self.a.real, self.a.imag), (self.c.real, self.c.imag)
        conjugate = self.conjugate if self.conjugation else 0
        a, b, d, sum_k1, difference_k2, sum_k3 = self._registered(m, [
            ("operand_a", a), ("operand_b", b), ("operand_d", d),
            ("sum_k1", self._select(conjugate, c + d, c - d)),
            ("difference_k2", self._select(conjugate, b - a, a - b)),
            ("sum_k3", self._select(conjugate, c - d, c + d))])
        k1, k2, k3 = self._products(m, [sum_k1 * a, difference_k2 * d, sum_k3 * b],
                                    self.a_width + self.c_width + 2)
        return k1 + k2, k2 + k3
