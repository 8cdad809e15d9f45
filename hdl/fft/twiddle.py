"""Twiddle ROM and twiddle multiplier (:func:`fdcnn.golden.fft.twiddle_stage`)."""

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fft import twiddle_codes
from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.cmult import ComplexMultiplier
from fdcnn.hdl.fft.sample import copy_sample, sample_layout
from fdcnn.hdl.fixed import round_shift, saturate

__all__ = ["TwiddleROM", "TwiddleMultiplier"]


class TwiddleROM(wiring.Component):
    """The ``span`` twiddle codes of :func:`~fdcnn.golden.fft.twiddle_codes`, read with a
    registered output: ``cos``/``sin`` show ``W[index]`` one enabled cycle after ``index``.

    Members
    -------
    en : In(1)
    index : In(range(span))
    cos, sin : Out(signed(width))
    """

    def __init__(self, *, span: int, width: int):
        self.span, self.width = span, width
        super().__init__({"en": In(1), "index": In(range(span)), "cos": Out(signed(width)),
                          "sin": Out(signed(width))})

    def elaborate(self, platform):
        m = Module()
        cos, sin = twiddle_codes(self.span, self.width)
        mask = (1 << self.width) - 1
        m.submodules.twiddles = rom = Memory(
            shape=unsigned(2 * self.width), depth=self.span,
            init=[(int(c) & mask) | ((int(s) & mask) << self.width) for c, s in zip(cos, sin)])
        read = rom.read_port()
        m.d.comb += [read.addr.eq(self.index), read.en.eq(self.en),
                     self.cos.eq(read.data[:self.width].as_signed()),
                     self.sin.eq(read.data[self.width:].as_signed())]
        return m


class TwiddleMultiplier(wiring.Component):
    """``o = i · W[index]`` when ``rotate``, else ``i``, :attr:`latency` enabled cycles later.

    The product is shifted right by ``twiddle_width − 1`` with ``rounding`` and saturated to
    ``width`` bits (saturation ORed into the sample's ``overflow``). Pipeline: the sample
    registered beside the ROM's read register (so a block RAM's slow clock-to-output reaches
    only a register), the :class:`~fdcnn.hdl.cmult.ComplexMultiplier`, then the rounding and
    saturation into ``o``'s register. ``W = 1`` (``rotate`` low) goes through the multiplier's
    unity path, so every sample has the same latency. ``multiplier``: ``4mult`` or ``3mult``
    (Gauss's form, the same integers with three real multipliers).

    Members
    -------
    en : In(1)
    i : In(sample_layout(width))
    index : In(range(span))
    rotate : In(1)
    o : Out(sample_layout(width))
    """

    def __init__(self, *, span: int, width: int, twiddle_width: int, rounding: str,
                 multiplier: str = "4mult"):
        check_rounding(rounding)
        self.span, self.twiddle_width, self.rounding = span, twiddle_width, rounding
        self.multiplier = multiplier
        super().__init__({"en": In(1), "i": In(sample_layout(width)), "index": In(range(span)),
                          "rotate": In(1), "o": Out(sample_layout(width))})

    #: Enabled cycles from ``i`` to ``o``: fetch, the multiplier, rounding.
    latency = 1 + ComplexMultiplier.latency + 1

    def elaborate(self, platform):
        m = Module()
        width = len(self.i.real)
        m.submodules.rom = rom = TwiddleROM(span=self.span, width=self.twiddle_width)
        m.submodules.multiplier = multiplier = ComplexMultiplier(
            a_width=width, c_width=self.twiddle_width, multiplier=self.multiplier)
        tags = [Signal(sample_layout(width), name=f"tags{step}")
                for step in range(ComplexMultiplier.latency + 1)]
        fetched_rotate = Signal()
        with m.If(self.en):
            m.d.sync += [*copy_sample(tags[0], self.i), fetched_rotate.eq(self.rotate)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(tags, tags[1:])]
        m.d.comb += [rom.en.eq(self.en), rom.index.eq(self.index), multiplier.en.eq(self.en),
                     multiplier.a.real.eq(tags[0].real), multiplier.a.imag.eq(tags[0].imag),
                     multiplier.c.real.eq(rom.cos), multiplier.c.imag.eq(rom.sin),
                     multiplier.unity.eq(~fetched_rotate)]
        unity = self.twiddle_width - 1
        real, real_saturated = saturate(round_shift(multiplier.p.real, unity, self.rounding), width)
        imag, imag_saturated = saturate(round_shift(multiplier.p.imag, unity, self.rounding), width)
        with m.If(self.en):
            m.d.sync += copy_sample(self.o, tags[-1], real=real, imag=imag,
                                    overflow=real_saturated | imag_saturated)
        return m
