"""Delay lines and read-first buffers for stall-able (clock-enabled) pipelines.

Every buffer here moves only on cycles where ``en`` is high, and carries a ``valid`` field in
its sample layout that is never stale after reset: RAM contents survive a reset, so a RAM's
output ``valid`` is masked until every word has been written since.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.shapes import index_range

__all__ = ["RAM_MIN_DEPTH", "ReadFirstBuffer", "DelayLine", "fresh_flag"]

#: Delay lines at least this long are written as RAM (block RAM, or LUT RAM where Yosys finds it
#: cheaper); shorter ones as shift registers without reset on the data (SRLs on Xilinx parts).
RAM_MIN_DEPTH = 64


class ReadFirstBuffer(wiring.Component):
    """A RAM whose single port reads the old word and writes a new one at ``addr`` together.

    On an enabled cycle ``o`` becomes the word stored at ``addr`` and ``i`` replaces it.
    ``o.valid`` stays low until ``depth`` enabled cycles have passed since reset.

    Parameters
    ----------
    layout : data.Layout
        Sample layout; must have a one-bit ``valid`` field.
    depth : int
        Number of words.
    """

    def __init__(self, layout, depth):
        self.depth = depth
        super().__init__({"en": In(1), "addr": In(index_range(depth)), "i": In(layout),
                          "o": Out(layout)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.memory = memory = Memory(shape=self.i.shape(), depth=self.depth, init=[])
        write = memory.write_port()
        read = memory.read_port(transparent_for=())
        written = Signal(range(self.depth + 1))
        read_whole = Signal()
        m.d.comb += [
            write.addr.eq(self.addr), write.data.eq(self.i), write.en.eq(self.en),
            read.addr.eq(self.addr), read.en.eq(self.en),
            self.o.eq(read.data),
            self.o.valid.eq(read.data.valid & read_whole),
        ]
        with m.If(self.en):
            m.d.sync += read_whole.eq(written == self.depth)
            with m.If(written != self.depth):
                m.d.sync += written.eq(written + 1)
        return m


class DelayLine(wiring.Component):
    """Delays ``i`` by ``depth`` enabled cycles: ``o`` shows what ``i`` was ``depth`` steps ago.

    ``depth ≥ RAM_MIN_DEPTH`` uses a read-first RAM of ``depth − 2`` words whose read register
    and an output register are the last two steps: the output register keeps the block RAM's
    slow clock-to-output out of the logic that follows. Shorter delays use a shift register
    whose data is not reset and whose ``valid`` bits are.
    """

    def __init__(self, layout, depth):
        if depth < 1:
            raise ValueError(f"Delay depth must be at least 1, not {depth}")
        self.depth = depth
        super().__init__({"en": In(1), "i": In(layout), "o": Out(layout)})

    def elaborate(self, platform):
        m = Module()
        if self.depth >= RAM_MIN_DEPTH:
            words = self.depth - 2
            m.submodules.buffer = buffer = ReadFirstBuffer(self.i.shape(), words)
            pointer = Signal(range(words))
            output = Signal(self.i.shape(), reset_less=True)
            valid = Signal()
            with m.If(self.en):
                m.d.sync += [pointer.eq(Mux(pointer == words - 1, 0, pointer + 1)),
                             output.eq(buffer.o), valid.eq(buffer.o.valid)]
            m.d.comb += [buffer.en.eq(self.en), buffer.addr.eq(pointer),
                         buffer.i.eq(self.i), self.o.eq(output), self.o.valid.eq(valid)]
            return m
        taps = [Signal(self.i.shape(), reset_less=True, name=f"tap{index}")
                for index in range(self.depth)]
        valid = Signal(self.depth)
        with m.If(self.en):
            m.d.sync += [taps[0].eq(self.i), valid.eq((valid << 1) | self.i.valid)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(taps, taps[1:])]
        m.d.comb += [self.o.eq(taps[-1]), self.o.valid.eq(valid[-1])]
        return m


def fresh_flag(m, name, advance, stall):
    """Whether the register an element writes when it ``advance``s holds a sample the next
    element has not seen: set by the advance, kept through a stall."""
    fresh = Signal(name=name)
    with m.If(~stall):
        m.d.sync += fresh.eq(advance)
    return fresh
