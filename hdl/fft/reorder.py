"""Bit-reversed to natural order in one RAM (:func:`fdcnn.golden.fft.bit_reverse`)."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.buffers import ReadFirstBuffer
from fdcnn.hdl.fft.sample import sample_layout

__all__ = ["ReorderBuffer"]


class ReorderBuffer(wiring.Component):
    """Frames of ``size`` samples in bit-reversed order in, natural order out, ``size + 1``
    advances later.

    One ``size``-word RAM read and written in place: each word is read as the next frame's
    sample goes in its place, addressed linearly one frame and bit-reversed the next. The
    buffer advances (``advance``) when it takes a valid input, or, after a frame and once
    ``upstream_idle`` says no sample is on its way, to flush: ``size`` advances with invalid
    filler read the last frame out. Once begun a flush runs to its end; a frame cannot
    arrive before (everything upstream takes more than ``size`` cycles).

    Members
    -------
    stall : In(1)
    i : In(sample_layout(width))
    fresh : In(1)
        ``i`` has not been seen by the buffer before.
    upstream_idle : In(1)
        No accepted sample is upstream of the buffer.
    advance : Out(1)
    o : Out(sample_layout(width))
        The word read at the last advance.
    """

    def __init__(self, *, size: int, width: int):
        self.size = size
        super().__init__({"stall": In(1), "i": In(sample_layout(width)), "fresh": In(1),
                          "upstream_idle": In(1), "advance": Out(1),
                          "o": Out(sample_layout(width))})

    @staticmethod
    def delay(size: int) -> int:
        """Advances from a frame's first sample in to its first sample out."""
        return size + 1

    def elaborate(self, platform):
        m = Module()
        size, bits = self.size, self.size.bit_length() - 1
        position = Signal(range(2 * size))          # the top bit picks the addressing
        flush_left = Signal(range(size + 1))       # advances until the last frame is out
        in_flush = Signal()                         # a flush has begun
        taking = self.fresh & self.i.valid
        begin = (flush_left == size) & self.upstream_idle      # right after a frame only
        flushing = ~taking & (flush_left != 0) & (in_flush | begin)
        m.d.comb += self.advance.eq(~self.stall & (taking | flushing))
        with m.If(self.advance):
            m.d.sync += [position.eq(position + 1), in_flush.eq(flushing & (flush_left != 1))]
            with m.If(taking & (position[:bits] == size - 1)):     # a frame's last sample
                m.d.sync += flush_left.eq(size)
            with m.Elif(flush_left != 0):
                m.d.sync += flush_left.eq(flush_left - 1)
        linear = position[:bits]
        reversed_ = Cat(*(linear[bit] for bit in reversed(range(bits))))
        m.submodules.buffer = buffer = ReadFirstBuffer(self.i.shape(), size)
        m.d.comb += [buffer.en.eq(self.advance), buffer.i.eq(self.i),
                     buffer.i.valid.eq(taking), self.o.eq(buffer.o),
                     buffer.addr.eq(Mux(position[bits], reversed_, linear))]
        return m
