"""One RAM that reorders back-to-back frames by a bit permutation of the stream position
(:mod:`fdcnn.golden.permute`): the FFT's bit-reversal buffer, the 2-D FFT's corner turn, a
frame delay (the identity)."""

from amaranth.hdl import Array, Const, Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.buffers import (checked_constants, fresh_flag, output_register, read_latency,
                               stored_fields)
from fdcnn.hdl.shapes import index_range

__all__ = ["PermutationBuffer"]


class PermutationBuffer(wiring.Component):
    """Frames of ``2**b`` samples in, the same frames reordered out, :meth:`delay` advances
    later (``2**b`` plus the RAM's :func:`~fdcnn.hdl.buffers.read_latency`), in one
    ``2**b``-word RAM. Without a ``permutation`` it is a frame delay of ``size`` samples (any
    size from 2), in the same order.

    Frame ``f``'s sample at stream position ``n`` is written at address ``P^f(n)``, ``P`` being
    the bit permutation ``permutation`` (address bit ``i`` is position bit ``π[i]``; the
    composed permutation is a register of ``b`` bit indices, advanced once per frame), and frame
    ``f`` is read at the addresses frame ``f + 1`` writes, in the same order: so each word is
    read just before (or as) the next frame's sample replaces it. Reading and writing have
    their own position and permutation: a complete frame is read out on every cycle without
    ``stall``, whether or not the next frame is arriving, so the last frame leaves on its own
    and a pause between frames costs that pause only. Writes never overtake reads: a frame is
    read out in ``2**b`` cycles, no faster than the next one can be written.

    Writes pass through a register (address, data, enable) on their way into the RAM, so a
    word is written one cycle after it is taken, while its address was read (for the frame
    before) no later than the cycle it was taken: a read and a write never meet at one
    address in one cycle. The RAM says so to the synthesis tool (``no_rw_check``), which then
    builds no collision logic around it. The last word of a frame is written in the cycle its
    frame starts to be read, at another address (the frame's first read is position 0's, its
    last write position ``2**b − 1``'s, which every bit permutation leaves in place).

    A buffer that may be block RAM (:func:`~fdcnn.hdl.buffers.output_register`) has an
    output register after the RAM's read register, one that takes the read data as it is (no
    reset, one enable): it can be a block RAM's own output register, so that what follows the
    buffer does not meet the block RAM's slow clock-to-output. Then ``advance`` is the output
    register's: a read word moves into it on the next cycle without ``stall``.

    Members
    -------
    stall : In(1)
        Hold everything.
    i : In(layout)
        A sample; ``layout`` must have a one-bit ``valid`` field.
    fresh : In(1)
        ``i`` has not been seen by the buffer before: taken when valid and not ``stall``.
    advance : Out(1)
        A word moved into ``o``.
    o : Out(layout)
        The word that moved at the last ``advance`` (``valid`` once one has).

    ``constants`` names fields of ``i`` that always hold the given value: the RAM does not
    store them (:func:`~fdcnn.hdl.buffers.stored_fields`).
    """

    def __init__(self, *, layout, permutation: tuple | None = None, size: int | None = None,
                 constants: dict | None = None):
        if (permutation is None) == (size is None):
            raise TypeError("Give a permutation or (for a frame delay) a size")
        if permutation is not None:
            bits = len(permutation)
            if sorted(permutation) != list(range(bits)):
                raise ValueError(f"Permutation must order the bits 0 … {bits - 1}, not "
                                 f"{permutation!r}")
            size = 1 << bits
        if size < 2:
            raise ValueError(f"Frames must have at least 2 samples, not {size}")
        self.permutation = permutation
        self.size = size
        self.constants = checked_constants(layout, constants)
        super().__init__({"stall": In(1), "i": In(layout), "fresh": In(1),
                          "advance": Out(1), "o": Out(layout)})

    @staticmethod
    def delay(size: int) -> int:
        """Advances from a frame's first sample in to its first sample out."""
        return size + read_latency(size)

    def elaborate(self, platform):
        m = Module()
        stored_in, stored_out = stored_fields(m, self.i, self.o, self.constants)
        m.submodules.memory = memory = Memory(shape=stored_in.shape(), depth=self.size, init=[],
                                              attrs={"no_rw_check": 1})
        write, read = memory.write_port(), memory.read_port(transparent_for=())
        complete = Signal(range(3))          # frames written and not yet read out
        taking = self.fresh & self.i.valid & ~self.stall
        reading = Signal()
        m.d.comb += reading.eq(~self.stall & (complete != 0))
        write_address, write_last = self._addressing(m, "write", taking, first_power=0)
        read_address, read_last = self._addressing(m, "read", reading, first_power=1)
        m.d.sync += complete.eq(complete + write_last - read_last)
        # The write register: what is taken now is written in the next cycle.
        write_data = Signal(stored_in.shape(), reset_less=True, name="write_data")
        write_register_address = Signal.like(write_address, reset_less=True)
        write_enable = Signal(name="write_enable")
        m.d.sync += [write_data.eq(stored_in), write_register_address.eq(write_address),
                     write_enable.eq(taking)]
        m.d.comb += [write.addr.eq(write_register_address), write.data.eq(write_data),
                     write.en.eq(write_enable),
                     read.addr.eq(read_address), read.en.eq(reading)]
        self._output(m, reading, read.data, stored_out)
        return m

    def _output(self, m, reading, read_data, stored_out):
        """``stored_out`` and ``advance``: the read register itself, or (a buffer that may be
        block RAM) an output register after it, which takes a read word on the next cycle
        without ``stall``."""
        output, advance = read_data, reading
        if output_register(self.size):
            output = Signal.like(read_data, reset_less=True, name="output")
            advance = ~self.stall & fresh_flag(m, "read_fresh", reading, self.stall)
            with m.If(advance):
                m.d.sync += output.eq(read_data)
        output_valid = Signal()             # o holds a word that was read (not a reset filler)
        with m.If(advance):
            m.d.sync += output_valid.eq(1)
        m.d.comb += [self.advance.eq(advance), stored_out.eq(output),
                     stored_out.valid.eq(output_valid)]

    def _addressing(self, m, name, step, *, first_power):
        """A frame position counter and the permutation ``P^k`` of its frame (``k`` counted
        from ``first_power``): the address for the position, and whether this ``step`` ends a
        frame."""
        position = Signal(index_range(self.size), name=f"{name}_position")
        last = step & (position == self.size - 1)
        if self.permutation is None:
            with m.If(step):
                m.d.sync += position.eq(Mux(last, 0, position + 1))
            return position, last
        bits = len(self.permutation)
        composed = self._power(first_power)
        sources = [Signal(index_range(bits), init=source, name=f"{name}_source{bit}")
                   for bit, source in enumerate(composed)]
        index_width = Shape.cast(index_range(bits)).width      # padded: every index decodes
        padded = list(self.permutation) + [0] * ((1 << index_width) - bits)
        table = Array(Const(source, index_range(bits)) for source in padded)
        with m.If(step):
            m.d.sync += position.eq(position + 1)
        with m.If(last):
            m.d.sync += [source.eq(table[source]) for source in sources]
        address = Signal(index_range(self.size), name=f"{name}_address")
        m.d.comb += [address[bit].eq(position.bit_select(source, 1))
                     for bit, source in enumerate(sources)]
        return address, last

    def _power(self, power):
        """``P^power``'s bit sources."""
        sources = list(range(len(self.permutation)))
        for _ in range(power):
            sources = [self.permutation[source] for source in sources]
        return sources
