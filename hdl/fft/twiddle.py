"""Twiddle ROM and twiddle multiplier (:func:`fdcnn.golden.fft.twiddle_stage`)."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fft import Rotation, clipped_unity_exact, twiddle_codes
from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.buffers import output_register, read_latency
from fdcnn.hdl.cmult import ComplexMultiplier
from fdcnn.hdl.fft.sample import TAGS, copy_sample, sample_layout
from fdcnn.hdl.fixed import round_shift, saturate
from fdcnn.hdl.stream import complex_layout

__all__ = ["TwiddleROM", "TwiddleMultiplier", "BLOCK_ROM_MIN_DEPTH", "EXPONENT_REGISTER_MIN_DEPTH",
           "rotation_latency"]

#: Twiddle ROMs of at least this many words ask for block RAM (``rom_style = "block"``);
#: smaller ones are left to the synthesis tool (LUTs, usually).
BLOCK_ROM_MIN_DEPTH = 128

#: Twiddle ROMs of fewer words keep their registered word even when asked to register their
#: exponent instead: such a table is a function of two exponent bits, and Yosys folds it,
#: through the 3mult pre-adders, into the operand registers as synchronous resets, which keeps
#: them out of the DSP blocks' input registers (seen on ECP5 with a 4-word table).
EXPONENT_REGISTER_MIN_DEPTH = 8


class TwiddleROM(wiring.Component):
    """The codes of ``W = exp(−2πj·e / period)`` for ``e = 1 … size − 1``
    (:func:`~fdcnn.golden.fft.twiddle_codes`), read with a registered output: ``cos``/``sin``
    show ``W`` :attr:`latency` enabled cycles after ``exponent``. Entry 0 (``W = 1``, which
    Q1.(width−1) cannot hold) holds the largest code (``halved_unity=False``) or ``½``
    (``2**(width − 2)``, 0: a product with it is exact and scaled by one bit less). Tables of
    :data:`BLOCK_ROM_MIN_DEPTH` words and more are marked for block RAM.

    A table that may be block RAM (:func:`~fdcnn.hdl.buffers.output_register`) has an output
    register after
    the read register, one that takes the read data as it is: the block RAM holds it as its
    own output register, and the logic after the ROM (a multiplier's operand registers, or
    the 3mult pre-adders) does not meet the block RAM's slow clock-to-output. A smaller table
    is logic, whose read register is fast enough on its own; with ``registered_exponent`` it
    registers the exponent instead (a few bits rather than ``2·width``) and is read
    combinationally after it: the same latency, and the word's logic then feeds what follows
    directly (the 3mult pre-adders, see :class:`TwiddleMultiplier`). Tables with an output
    register, and those under :data:`EXPONENT_REGISTER_MIN_DEPTH` words, ignore
    ``registered_exponent``.

    Members
    -------
    en : In(1)
    exponent : In(range(size))
    cos, sin : Out(signed(width))
    """

    def __init__(self, *, period: int, size: int, width: int, halved_unity: bool = True,
                 registered_exponent: bool = False):
        self.period, self.size, self.width = period, size, width
        self.halved_unity = halved_unity
        self.registered_exponent = (registered_exponent and size >= EXPONENT_REGISTER_MIN_DEPTH
                                    and not output_register(size))
        super().__init__({"en": In(1), "exponent": In(range(max(size, 2))),
                          "cos": Out(signed(width)), "sin": Out(signed(width))})

    def elaborate(self, platform):
        m = Module()
        cos, sin = twiddle_codes(range(self.size), self.period, self.width)
        if self.halved_unity:
            cos[0], sin[0] = 1 << (self.width - 2), 0
        mask = (1 << self.width) - 1
        m.submodules.twiddles = rom = Memory(
            shape=unsigned(2 * self.width), depth=self.size,
            init=[(int(c) & mask) | ((int(s) & mask) << self.width) for c, s in zip(cos, sin)],
            attrs={"rom_style": "block"} if self.size >= BLOCK_ROM_MIN_DEPTH else None)
        word = self._read(m, rom)
        m.d.comb += [self.cos.eq(word[:self.width].as_signed()),
                     self.sin.eq(word[self.width:].as_signed())]
        return m

    def _read(self, m, rom):
        """The word at ``exponent``, :attr:`latency` enabled cycles later: read combinationally
        after an exponent register (``registered_exponent``), or into a read register (and an
        output register, where the table has one)."""
        if self.registered_exponent:
            exponent = Signal.like(self.exponent, reset_less=True)
            with m.If(self.en):
                m.d.sync += exponent.eq(self.exponent)
            read = rom.read_port(domain="comb")
            m.d.comb += read.addr.eq(exponent)
            return read.data
        read = rom.read_port()
        m.d.comb += [read.addr.eq(self.exponent), read.en.eq(self.en)]
        if not output_register(self.size):
            return read.data
        output = Signal.like(read.data, reset_less=True)
        with m.If(self.en):
            m.d.sync += output.eq(read.data)
        return output

    @property
    def latency(self) -> int:
        """Enabled cycles from ``exponent`` to ``cos``/``sin``
        (:func:`~fdcnn.hdl.buffers.read_latency`)."""
        return read_latency(self.size)


def rotation_latency(rotation: Rotation) -> int:
    """Enabled cycles through a :class:`TwiddleMultiplier` for ``rotation``: the ROM
    (:func:`~fdcnn.hdl.buffers.read_latency`), the :class:`~fdcnn.hdl.cmult.ComplexMultiplier`,
    the rounding."""
    return read_latency(rotation.table_size) + ComplexMultiplier.latency + 1


class TwiddleMultiplier(wiring.Component):
    """A :class:`~fdcnn.golden.fft.Rotation` (:func:`~fdcnn.golden.fft.twiddle_stage`):
    ``o = i · W``, :attr:`latency` enabled cycles later.

    The multiplier counts the valid samples it takes (``en`` with ``i.valid``) modulo the
    rotation's period: that count is the sample's position ``p = q·part + k`` in its block,
    and ``W = exp(−2πj·e / period)`` with ``e = k·factors[q]`` (a shift and at most one
    addition per factor), read from a :class:`TwiddleROM` of ``max(e) + 1`` words. The
    product is shifted right by ``twiddle_width − 1`` with ``rounding`` and saturated to
    ``width`` bits (saturation ORed into the sample's ``overflow``). Pipeline: the sample
    registered beside the ROM's read (or exponent) register (and its output register, where
    it has one: :func:`~fdcnn.hdl.buffers.output_register`), the
    :class:`~fdcnn.hdl.cmult.ComplexMultiplier`, then the rounding and saturation into ``o``'s
    register. ``e = 0`` (``W = 1``, which Q1.(T−1)
    cannot hold) goes through the multiplier too, so only the sample's tags travel beside it:
    as the largest code where the rounded product is then ``i`` itself
    (:func:`~fdcnn.golden.fft.clipped_unity_exact`: convergent rounding, ``width ≤ T − 1``,
    the default), otherwise as ``½``, taking the exact product shifted by ``T − 2`` instead of
    the rounded one (a multiplexer more). ``multiplier``: ``4mult`` or ``3mult`` (Gauss's
    form, the same integers with three real multipliers; ``presum_operand`` says whether it
    sums the twiddle, ``"c"``, or the data, ``"a"``, twice). With ``3mult`` summing the
    twiddle, a ROM small enough to be logic, and not tiny
    (:data:`EXPONENT_REGISTER_MIN_DEPTH`), registers its exponent rather than its word
    (``registered_exponent``): the word's logic then runs into the pre-adders, which sit
    before the operand registers anyway (xc7: 47 flip-flops and 62 LUTs fewer at N = 1024,
    radix-2²). ``4mult``, and ``3mult`` summing the data, keep the registered word: their
    operand registers take the word directly, and Yosys would fold part of a combinational
    ROM into them as synchronous resets, which keeps them out of the DSP blocks' input
    registers (ECP5, radix-2², 3mult: 35 LUT4 more for 47 flip-flops fewer).
    ``saturation=False`` where the products are proven to fit ``width``
    (:attr:`~fdcnn.golden.fft.FFTConfig.saturation_points`): no saturation logic then.
    ``family`` shapes the products for that FPGA family's DSP blocks
    (:class:`~fdcnn.hdl.cmult.ComplexMultiplier`).

    Members
    -------
    en : In(1)
    i : In(sample_layout(width))
    o : Out(sample_layout(width))
    """

    def __init__(self, *, rotation: Rotation, width: int, twiddle_width: int, rounding: str,
                 multiplier: str = "4mult", presum_operand: str = "c", saturation: bool = True,
                 family: str = "generic"):
        check_rounding(rounding)
        self.rotation, self.twiddle_width, self.rounding = rotation, twiddle_width, rounding
        self.multiplier, self.presum_operand = multiplier, presum_operand
        self.saturation, self.family = saturation, family
        super().__init__({"en": In(1), "i": In(sample_layout(width)),
                          "o": Out(sample_layout(width))})

    @property
    def latency(self) -> int:
        """Enabled cycles from ``i`` to ``o`` (:func:`rotation_latency`)."""
        return rotation_latency(self.rotation)

    def elaborate(self, platform):
        m = Module()
        width = len(self.i.real)
        rotation = self.rotation
        halved_unity = not clipped_unity_exact(width, self.twiddle_width, self.rounding)
        summing_twiddles = self.multiplier == "3mult" and self.presum_operand == "c"
        m.submodules.rom = rom = TwiddleROM(period=rotation.period, size=rotation.table_size,
                                            width=self.twiddle_width, halved_unity=halved_unity,
                                            registered_exponent=summing_twiddles)
        m.submodules.multiplier = multiplier = ComplexMultiplier(
            a_width=width, c_width=self.twiddle_width, multiplier=self.multiplier,
            presum_operand=self.presum_operand, family=self.family)
        exponent = self._exponent(m)
        fetch = [Signal(complex_layout(width), reset_less=True, name=f"fetch{step}")
                 for step in range(rom.latency)]       # beside the ROM's registers
        operand = fetch[-1]
        tags = [Signal(TAGS, name=f"tags{step}")
                for step in range(rom.latency + ComplexMultiplier.latency)]
        with m.If(self.en):
            m.d.sync += [fetch[0].real.eq(self.i.real), fetch[0].imag.eq(self.i.imag)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(fetch, fetch[1:])]
            m.d.sync += [getattr(tags[0], name).eq(getattr(self.i, name)) for name in TAGS.members]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(tags, tags[1:])]
        m.d.comb += [rom.en.eq(self.en), rom.exponent.eq(exponent), multiplier.en.eq(self.en),
                     multiplier.a.eq(operand),
                     multiplier.c.real.eq(rom.cos), multiplier.c.imag.eq(rom.sin)]
        rotated = self._delayed(m, exponent != 0, len(tags)) if halved_unity else 1
        one = self.twiddle_width - 1
        parts = []
        for product in (multiplier.p.real, multiplier.p.imag):
            rounded, saturated = saturate(round_shift(product, one, self.rounding), width,
                                          self.saturation)
            if halved_unity:
                rounded = Mux(rotated, rounded, product[one - 1:one - 1 + width].as_signed())
            parts.append((rounded, rotated & saturated))
        (real, real_saturated), (imag, imag_saturated) = parts
        with m.If(self.en):
            m.d.sync += copy_sample(self.o, tags[-1], real=real, imag=imag,
                                    overflow=real_saturated | imag_saturated)
        return m

    def _delayed(self, m, value, steps):
        """``value`` (one bit) ``steps`` enabled cycles later."""
        delayed = Signal(steps)
        with m.If(self.en):
            m.d.sync += delayed.eq(Cat(value, delayed[:-1]))
        return delayed[-1]

    def _exponent(self, m):
        """The exponent ``e`` of the sample on ``i``, from the count of valid samples taken."""
        rotation = self.rotation
        position = Signal(range(rotation.period))
        with m.If(self.en & self.i.valid):
            m.d.sync += position.eq(position + 1)       # wraps: the period is a power of two
        part_bits = (rotation.period // len(rotation.factors)).bit_length() - 1
        offset, quarter = position[:part_bits], position[part_bits:]
        exponent = Signal(range(max(rotation.table_size, 2)))
        with m.Switch(quarter):
            for index, factor in enumerate(rotation.factors):
                with m.Case(index):
                    m.d.comb += exponent.eq(sum((offset << bit for bit in range(factor.bit_length())
                                                 if factor >> bit & 1), start=0))
        return exponent
