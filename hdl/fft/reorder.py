"""Bit-reversed to natural order in one RAM (:func:`fdcnn.golden.fft.bit_reverse`)."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.buffers import ReadFirstBuffer
from fdcnn.hdl.fft.sample import sample_layout

__all__ = ["ReorderBuffer"]


class ReorderBuffer(wiring.Component):
    """Frames of ``size`` samples in bit-reversed order in, natural order out, ``size + 1``
    enabled cycles later.

    One ``size``-word RAM read and written in place: each word is read as the next frame's
    sample goes in its place, addressed linearly one frame and bit-reversed the next.

    Parameters
    ----------
    size : int
        Frame length, a power of two.
    width : int
        Component bits.
    offset : int
        Enabled cycles after reset at which ``i`` first carries a frame's first sample.

    Members
    -------
    en : In(1)
    i : In(sample_layout(width))
    o : Out(sample_layout(width))
    """

    def __init__(self, *, size: int, width: int, offset: int):
        self.size, self.offset = size, offset
        super().__init__({"en": In(1), "i": In(sample_layout(width)),
                          "o": Out(sample_layout(width))})

    @staticmethod
    def delay(size: int) -> int:
        """Enabled cycles from a frame's first sample in to its first sample out."""
        return size + 1

    def elaborate(self, platform):
        m = Module()
        bits = self.size.bit_length() - 1
        position = Signal(range(2 * self.size), init=(-1 - self.offset) % (2 * self.size))
        with m.If(self.en):
            m.d.sync += position.eq(position + 1)
        linear = position[:bits]
        reversed_ = Cat(*(linear[bit] for bit in reversed(range(bits))))
        m.submodules.buffer = buffer = ReadFirstBuffer(self.i.shape(), self.size)
        m.d.comb += [buffer.en.eq(self.en), buffer.i.eq(self.i), self.o.eq(buffer.o),
                     buffer.addr.eq(Mux(position[bits], reversed_, linear))]
        return m
