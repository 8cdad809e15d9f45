"""The MAC array's drain: emits a bank's results lane by lane, or applies the weight update."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.mac import MAX_LEARNING_SHIFT
from fdcnn.hdl.fixed import round_shift, round_shift_by, saturate
from fdcnn.hdl.mac.lane import accumulator_layout
from fdcnn.hdl.shapes import index_range
from fdcnn.hdl.stream import complex_layout

__all__ = ["Drain", "DRAIN_CYCLES"]

#: Cycles from a drain read's issue to its word in the output register slice: the RAM read,
#: the lane's register after it, the lane multiplexer's register, the output arithmetic's
#: register.
DRAIN_CYCLES = 4


class Drain(wiring.Component):
    """Reads a bank's words lane by lane into the output: the rounded, saturated sums, or
    (weight update) the new weights ``sat(W − round(dW / 2**s))``, written back too.

    Lane 0's word ``k`` leaves as soon as its final write is done, so a bank drains while its
    tile's last frame is still accumulating; the other lanes follow once it is complete. A
    weight update drains only once complete: it reads and writes the operand RAM. A read is
    issued only while the output FIFO has room for it and the words in flight.

    Parameters
    ----------
    lanes, bins : int
    accumulator_frames : int
        Frames a bank holds.
    accumulator_width, weight_width, output_width, output_shift : int
    rounding : str
    update : bool
        The weight update is built.
    output_depth : int
        Entries of the output FIFO.

    Members
    -------
    final_write : In(valid, final, bank)
        The accumulation's write: a word's final write in its tile is counted.
    bank_frames : In(array of 2), bank_update : In(2), learning_shift : In
        From the tile control.
    output_level : In(range(output_depth + 1))
        Words in the output FIFO.
    read : Out(bank, address)
        The accumulator word read in every lane.
    update_read : Out(1)
        The operand RAM reads ``read.address`` for the update (instead of the stream's).
    words : In(array of lanes accumulator words), operands : In(array of lanes operands)
        The lanes' reads, registered: two cycles after ``read``.
    write_back : Out(en, lane, address, data)
        The new weight for lane ``lane``'s operand RAM.
    release : Out(1), release_bank : Out(1)
        The bank is emitted.
    update_in_flight : Out(1)
        A weight update's words are between the read and the write-back.
    result : Out(complex_layout(output_width)), result_valid : Out(1), result_overflow : Out(1)
        Into the output FIFO (registers).
    """

    def __init__(self, *, lanes: int, bins: int, accumulator_frames: int,
                 accumulator_width: int, weight_width: int, output_width: int,
                 output_shift: int, rounding: str, update: bool, output_depth: int):
        self.lanes, self.bins, self.update, self.output_depth = lanes, bins, update, output_depth
        self.output_shift, self.rounding = output_shift, rounding
        depth = accumulator_frames * bins
        self.accumulator_depth = depth
        super().__init__({
            "final_write": In(data.StructLayout({"valid": 1, "final": 1, "bank": 1})),
            "bank_frames": In(data.ArrayLayout(range(accumulator_frames + 1), 2)),
            "bank_update": In(2), "learning_shift": In(range(MAX_LEARNING_SHIFT + 1)),
            "output_level": In(range(output_depth + 1)),
            "read": Out(data.StructLayout({"bank": 1, "address": index_range(depth)})),
            "update_read": Out(1),
            "words": In(data.ArrayLayout(accumulator_layout(accumulator_width), lanes)),
            "operands": In(data.ArrayLayout(complex_layout(weight_width), lanes)),
            "write_back": Out(data.StructLayout({"en": 1, "lane": index_range(lanes),
                                                 "address": index_range(depth),
                                                 "data": complex_layout(weight_width)})),
            "release": Out(1), "release_bank": Out(1), "update_in_flight": Out(1),
            "result": Out(complex_layout(output_width)), "result_valid": Out(1),
            "result_overflow": Out(1)})
        self._lane = Signal(index_range(lanes), name="drain_lane")
        self._in_flight = Signal(range(DRAIN_CYCLES + 1), name="in_flight")

    def elaborate(self, platform):
        m = Module()
        issue, update_drain = self._sequencer(m)
        # The RAM read, the lane's register after it, the lane multiplexer into a register,
        # then the output arithmetic into a register of its own.
        tags = data.StructLayout({"valid": 1, "update": 1, "lane": index_range(self.lanes),
                                  "address": index_range(self.accumulator_depth)})
        reading, fetched, drained = stages = [Signal(tags, name=name)
                                              for name in ("reading", "fetched", "drained")]
        m.d.sync += [reading.valid.eq(issue), reading.update.eq(update_drain),
                     reading.lane.eq(self._lane), reading.address.eq(self.read.address),
                     fetched.eq(reading), drained.eq(fetched)]
        m.d.comb += self._in_flight.eq(sum(stage.valid for stage in stages) + self.result_valid)
        m.d.comb += self.update_in_flight.eq(
            Cat(stage.valid & stage.update for stage in stages).any())
        word = Signal(self.words.shape().elem_shape)
        weight = Signal(self.operands.shape().elem_shape)
        with m.Switch(fetched.lane):
            for lane in range(self.lanes):
                last = lane == self.lanes - 1       # the default: every case covered
                with m.Default() if last else m.Case(lane):
                    m.d.sync += [word.eq(self.words[lane]), weight.eq(self.operands[lane])]
        self._results(m, word, weight, drained)
        return m

    def _sequencer(self, m):
        """The bank, lane and address read next; returns "a read is issued" and "it is for
        the weight update"."""
        depth = self.accumulator_depth
        bank, lane, address = self.read.bank, self._lane, self.read.address
        final_written = [Signal(range(depth + 1), name=f"bank{index}_final_written")
                         for index in range(2)]
        words = Signal(range(depth + 1))
        m.d.comb += words.eq(Mux(bank, self.bank_frames[1], self.bank_frames[0]) * self.bins)
        with m.If(self.final_write.valid & self.final_write.final):
            for index, count in enumerate(final_written):
                with m.If(self.final_write.bank == index):
                    m.d.sync += count.eq(count + 1)
        written = Mux(bank, final_written[1], final_written[0])
        complete = written == words
        draining_update = self.bank_update.bit_select(bank, 1)
        update_drain = draining_update & complete
        issue = (((lane != 0) | Mux(draining_update, complete, address < written))
                 & (self.output_level + self._in_flight < self.output_depth))
        last = (address == words - 1) & (lane == self.lanes - 1)
        m.d.comb += [self.update_read.eq(update_drain), self.release.eq(issue & last),
                     self.release_bank.eq(bank)]
        with m.If(issue):
            with m.If(address == words - 1):
                m.d.sync += [address.eq(0), lane.eq(lane + 1)]
                with m.If(lane == self.lanes - 1):
                    m.d.sync += [lane.eq(0), bank.eq(~bank)]
                    for index, count in enumerate(final_written):
                        with m.If(bank == index):
                            m.d.sync += count.eq(0)
            with m.Else():
                m.d.sync += address.eq(address + 1)
        return issue, update_drain

    def _results(self, m, word, weight, drained):
        """The rounded, saturated sum, or the updated weight (and its write-back), into the
        result register."""
        width = len(self.result.real)
        result = Signal.like(self.result, name="drained_result")
        saturated = []
        for part in ("real", "imag"):
            value, value_saturated = saturate(round_shift(word[part], self.output_shift,
                                                          self.rounding), width)
            m.d.comb += result[part].eq(value)
            saturated.append(value_saturated)
        result_saturated = Signal()
        m.d.comb += result_saturated.eq(saturated[0] | saturated[1])
        if self.update:
            updated = self.write_back.data
            update_saturated = []
            for part in ("real", "imag"):
                step = round_shift_by(word[part], self.learning_shift, self.rounding)
                value, value_saturated = saturate(weight[part] - step, len(updated.real))
                m.d.comb += updated[part].eq(value)
                update_saturated.append(value_saturated)
            m.d.comb += [self.write_back.en.eq(drained.valid & drained.update),
                         self.write_back.lane.eq(drained.lane),
                         self.write_back.address.eq(drained.address)]
            with m.If(drained.update):
                m.d.comb += [result.real.eq(updated.real), result.imag.eq(updated.imag),
                             result_saturated.eq(update_saturated[0] | update_saturated[1])]
        m.d.sync += [self.result.eq(result), self.result_valid.eq(drained.valid),
                     self.result_overflow.eq(word.overflow | result_saturated)]
