"""Delay lines for stall-able (clock-enabled) pipelines, and the fresh flag between elements.

A delay line moves only on cycles where ``en`` is high, and carries a ``valid`` field in its
sample layout that is never stale after reset: RAM contents survive a reset, so a RAM's output
``valid`` is masked until every word has been written since.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.shapes import index_range

__all__ = ["RAM_MIN_DEPTH", "DelayLine", "fresh_flag"]

#: Default of :class:`DelayLine`'s ``ram_min_depth``: delay lines at least this long are written
#: as RAM (block RAM, or LUT RAM where Yosys finds it cheaper); shorter ones as shift registers
#: without reset on the data (SRLs on Xilinx parts).
RAM_MIN_DEPTH = 64


class DelayLine(wiring.Component):
    """Delays ``i`` by ``depth`` enabled cycles: ``o`` shows what ``i`` was ``depth`` steps ago.

    ``depth ≥ ram_min_depth`` (at least 4) uses a simple dual-port RAM of ``depth − 1`` words:
    each enabled cycle writes ``i`` at the pointer and reads the word after it (the oldest) into
    the RAM's read register; an output register is the last step, keeping the block RAM's slow
    clock-to-output out of the logic that follows. Read and write addresses never meet, so no
    read-during-write logic is needed around the RAM. Shorter delays use a shift register
    whose data is not reset and whose ``valid`` bits are. Either way ``o.valid`` is low until
    ``depth`` enabled cycles have passed since reset: RAM contents survive a reset.
    """

    def __init__(self, layout, depth, ram_min_depth=RAM_MIN_DEPTH):
        if depth < 1:
            raise ValueError(f"Delay depth must be at least 1, not {depth}")
        if ram_min_depth < 4:
            raise ValueError(f"RAM delay lines must be at least 4 deep, not {ram_min_depth}")
        self.depth, self.ram_min_depth = depth, ram_min_depth
        super().__init__({"en": In(1), "i": In(layout), "o": Out(layout)})

    def elaborate(self, platform):
        m = Module()
        if self.depth >= self.ram_min_depth:
            self._ram_form(m)
            return m
        taps = [Signal(self.i.shape(), reset_less=True, name=f"tap{index}")
                for index in range(self.depth)]
        valid = Signal(self.depth)
        with m.If(self.en):
            m.d.sync += [taps[0].eq(self.i), valid.eq((valid << 1) | self.i.valid)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(taps, taps[1:])]
        m.d.comb += [self.o.eq(taps[-1]), self.o.valid.eq(valid[-1])]
        return m

    def _ram_form(self, m):
        words = self.depth - 1
        m.submodules.memory = memory = Memory(shape=self.i.shape(), depth=words, init=[])
        write, read = memory.write_port(), memory.read_port(transparent_for=())
        pointer = Signal(range(words))
        last = pointer == words - 1
        following = Mux(last, 0, pointer + 1)
        wrapped = Signal()                  # every word has been written since reset
        read_written = Signal()             # the read register holds a word written since reset
        output = Signal(self.i.shape(), reset_less=True)
        valid = Signal()
        with m.If(self.en):
            m.d.sync += [pointer.eq(following), read_written.eq(wrapped | last),
                         output.eq(read.data), valid.eq(read.data.valid & read_written)]
            with m.If(last):
                m.d.sync += wrapped.eq(1)
        m.d.comb += [write.addr.eq(pointer), write.data.eq(self.i), write.en.eq(self.en),
                     read.addr.eq(following), read.en.eq(self.en),
                     self.o.eq(output), self.o.valid.eq(valid)]


def fresh_flag(m, name, advance, stall):
    """Whether the register an element writes when it ``advance``s holds a sample the next
    element has not seen: set by the advance, kept through a stall."""
    fresh = Signal(name=name)
    with m.If(~stall):
        m.d.sync += fresh.eq(advance)
    return fresh
