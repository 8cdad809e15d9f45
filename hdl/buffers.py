"""Delay lines for stall-able (clock-enabled) pipelines, and the fresh flag between elements.

A delay line moves only on cycles where ``en`` is high, and carries a ``valid`` field in its
sample layout that is never stale after reset: RAM contents survive a reset, so a RAM's output
``valid`` is masked until every word has been written since.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


__all__ = ["RAM_MIN_DEPTH", "REGISTERED_RAM_MIN_DEPTH", "COUNTED_REFILL_MIN_DEPTH",
           "output_register", "read_latency", "DelayLine", "ram_words", "checked_constants",
           "stored_layout", "stored_fields", "fresh_flag", "BLOCK_RAM_SHAPES", "block_ram_count"]

#: Default of :class:`DelayLine`'s ``ram_min_depth``: delay lines at least this long are written
#: as RAM (block RAM, or LUT RAM where Yosys finds it cheaper); shorter ones as shift registers
#: without reset on the data (SRLs on Xilinx parts).
RAM_MIN_DEPTH = 64

#: Memories (RAM or ROM) of at least this many words have an output register after their read
#: register: a synthesis tool may put them in block RAM even unasked (Yosys does on ECP5 from
#: 64 words), whose clock-to-output is slow, and the register can be the block RAM's own.
REGISTERED_RAM_MIN_DEPTH = 64

#: Shift-register delay lines with at least this many taps count the enabled cycles since reset
#: (a few bits) to know when their taps are trustworthy, instead of resetting a ``valid`` bit
#: in every tap.
COUNTED_REFILL_MIN_DEPTH = 16


#: Per family whose block RAM is modelled, its shapes (depth, width) from the shallowest:
#: iCE40's 4-kbit SB_RAM40_4K.
BLOCK_RAM_SHAPES = {"ice40": ((256, 16), (512, 8), (1024, 4), (2048, 2))}


def block_ram_count(family: str, depth: int, width: int) -> int | None:
    """Block RAMs of ``family`` that a ``depth``-word memory of ``width``-bit words takes, in
    the narrowest shape as deep as it (or deeper ones side by side); ``None`` for a family
    without :data:`BLOCK_RAM_SHAPES`."""
    shapes = BLOCK_RAM_SHAPES.get(family)
    if shapes is None:
        return None
    for shape_depth, shape_width in shapes:
        if depth <= shape_depth:
            return -(-width // shape_width)
    shape_depth, shape_width = shapes[-1]
    return -(-depth // shape_depth) * -(-width // shape_width)


def output_register(depth: int) -> bool:
    """Whether a memory of ``depth`` words has an output register after its read register
    (:data:`REGISTERED_RAM_MIN_DEPTH`)."""
    return depth >= REGISTERED_RAM_MIN_DEPTH


def read_latency(depth: int) -> int:
    """Cycles from a memory's read to its word on the far side of its registers: the read
    register, and the output register where it has one (:func:`output_register`)."""
    return 1 + output_register(depth)


class DelayLine(wiring.Component):
    """Delays ``i`` by ``depth`` enabled cycles: ``o`` shows what ``i`` was ``depth`` steps ago.

    ``depth ≥ ram_min_depth`` (at least 4) uses a simple dual-port RAM (:func:`ram_words`: a
    power of two, at least ``depth − 2`` words) between two registers: each enabled cycle ``i``
    enters the write register, whose sample is written at the write address, and the word
    written ``depth − 3`` cycles before is read into the RAM's read register; an output
    register is the last step. The read address is a free-running counter, a register
    straight into the RAM, and the write address trails it by a constant: no wrap logic. The
    write register keeps the route to the block RAM out of the logic that forms ``i``, and the
    output register the block RAM's slow clock-to-output out of the logic that follows. It takes the read data as it is (the
    ``valid`` mask comes after it), so it can be the block RAM's own output register
    (``REGMODE = "OUTREG"`` on ECP5, see :mod:`fdcnn.scripts.ecp5_pack`). Read and write
    addresses never meet, so no read-during-write logic is needed around the RAM. Shorter
    delays use a shift register whose data is not reset; its ``valid`` bits are, in a register
    of their own, or (from :data:`COUNTED_REFILL_MIN_DEPTH` taps) they are not, and a count of
    the enabled cycles since reset masks them. Either way ``o.valid`` is low until ``depth``
    enabled cycles have passed since reset: RAM contents and unreset taps survive a reset.

    With ``registered_input``, ``i`` is already one enabled cycle late: it comes from the
    caller's register (whose ``valid`` bit is reset), which counts as the first of the
    ``depth`` steps and stands in for the write register or the first shift-register tap, so
    the caller may put a little logic between its register and ``i`` (``depth ≥ 2``).

    ``constants`` names fields of ``i`` that always hold the given value: they are not stored
    (:func:`stored_fields`), and ``o`` shows the value.
    """

    def __init__(self, layout, depth, ram_min_depth=RAM_MIN_DEPTH, constants=None, *,
                 registered_input=False):
        if depth < 1 + registered_input:
            raise ValueError(f"Delay depth must be at least {1 + registered_input}, not {depth}")
        if ram_min_depth < 4:
            raise ValueError(f"RAM delay lines must be at least 4 deep, not {ram_min_depth}")
        self.depth, self.ram_min_depth = depth, ram_min_depth
        self.registered_input = registered_input
        self.constants = checked_constants(layout, constants)
        super().__init__({"en": In(1), "i": In(layout), "o": Out(layout)})

    def elaborate(self, platform):
        m = Module()
        line_in, line_out = stored_fields(m, self.i, self.o, self.constants)
        if self.depth >= self.ram_min_depth:
            self._ram_form(m, line_in, line_out)
        else:
            self._register_form(m, line_in, line_out)
        return m

    def _register_form(self, m, line_in, line_out):
        registers = self.depth - self.registered_input
        taps = [Signal(line_in.shape(), reset_less=True, name=f"tap{index}")
                for index in range(registers)]
        with m.If(self.en):
            m.d.sync += [taps[0].eq(line_in)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(taps, taps[1:])]
        m.d.comb += [line_out.eq(taps[-1]),
                     line_out.valid.eq(self._tap_valid(m, registers, line_in.valid, taps[-1]))]

    def _tap_valid(self, m, registers, valid_in, last_tap):
        """``valid`` of the last tap, low until ``registers`` enabled cycles have passed since
        reset. Short lines shift the ``valid`` bits in a reset register of their own; from
        :data:`COUNTED_REFILL_MIN_DEPTH` taps on, the taps carry them and a counter (its top
        bit) masks them until then, so no tap is reset and a long line is one shift register
        (SRLs on Xilinx parts)."""
        if registers < COUNTED_REFILL_MIN_DEPTH:
            valid = Signal(registers)
            with m.If(self.en):
                m.d.sync += valid.eq((valid << 1) | valid_in)
            return valid[-1]
        bits = (registers - 1).bit_length()
        count = Signal(bits + 1, init=(1 << bits) - registers, name="refill_count")
        with m.If(self.en & ~count[-1]):
            m.d.sync += count.eq(count + 1)
        return last_tap.valid & count[-1]

    def _ram_form(self, m, line_in, line_out):
        span = self.depth - 3               # cycles from a word's write to its read
        words = ram_words(self.depth)
        m.submodules.memory = memory = Memory(shape=line_in.shape(), depth=words, init=[])
        staged = line_in                    # the write register (reset: its valid bit counts)
        if not self.registered_input:
            staged = Signal(line_in.shape())
            with m.If(self.en):
                m.d.sync += staged.eq(line_in)
        write, read = memory.write_port(), memory.read_port(transparent_for=())
        # One free-running counter, the read address; the write address trails it by the
        # constant ``words − span``, so the word read was written ``span`` cycles before and
        # the addresses never meet (which Yosys proves, so it adds no collision logic). The
        # read address goes straight from its register to the RAM, with no wrap logic.
        read_address = Signal(range(words), init=words - span, name="read_address")
        write_address = (read_address - (words - span))[:len(read_address)]
        following = read_address + 1
        wrapped = Signal()                  # the read address has wrapped: its word is written
        read_written = Signal()             # the read register holds a word written since reset
        output_written = Signal()           # and the output register, one step later
        output = Signal(line_in.shape(), reset_less=True)
        with m.If(self.en):
            m.d.sync += [read_address.eq(following),
                         wrapped.eq(wrapped | following[-1]), read_written.eq(wrapped),
                         output_written.eq(read_written), output.eq(read.data)]
        m.d.comb += [write.addr.eq(write_address), write.data.eq(staged), write.en.eq(self.en),
                     read.addr.eq(read_address), read.en.eq(self.en),
                     line_out.eq(output), line_out.valid.eq(output.valid & output_written)]


def ram_words(depth: int) -> int:
    """Words of a RAM delay line ``depth`` long (:class:`DelayLine`): the power of two that
    holds the ``depth − 2`` words between its write register and its read register, so that
    its addresses are free-running counters (``depth`` itself for a power of two from 8)."""
    return 1 << (depth - 3).bit_length()


def checked_constants(layout, constants):
    """``constants`` (field name → value, or ``None``) as a dict, its names checked against
    ``layout``'s fields."""
    constants = dict(constants or {})
    unknown = set(constants) - set(layout.members)
    if unknown:
        raise ValueError(f"Constant fields must be fields of the layout, not {sorted(unknown)}")
    return constants


def stored_layout(layout, constants):
    """What a buffer of ``layout`` samples stores of each: every field but those in
    ``constants`` (names)."""
    return data.StructLayout({name: shape for name, shape in layout.members.items()
                              if name not in constants})


def stored_fields(m, i, o, constants):
    """What a buffer between ``i`` and ``o`` (the same struct layout) needs to store: every field
    but those in ``constants`` (name → the value it always holds; :func:`stored_layout`).
    Returns ``(stored_in, stored_out)`` in that narrower layout: ``stored_in`` shows ``i``'s
    fields, and ``o`` shows ``stored_out``'s with the constants filled in."""
    kept = stored_layout(i.shape(), constants)
    stored_in, stored_out = Signal(kept, name="stored_in"), Signal(kept, name="stored_out")
    m.d.comb += [stored_in[name].eq(i[name]) for name in kept.members]
    m.d.comb += [o[name].eq(stored_out[name]) for name in kept.members]
    m.d.comb += [o[name].eq(value) for name, value in constants.items()]
    return stored_in, stored_out


def fresh_flag(m, name, advance, stall):
    """Whether the register an element writes when it ``advance``s holds a sample the next
    element has not seen: set by the advance, kept through a stall."""
    fresh = Signal(name=name)
    with m.If(~stall):
        m.d.sync += fresh.eq(advance)
    return fresh
