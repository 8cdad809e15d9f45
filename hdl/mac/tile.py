"""Tile control of the MAC array: takes a tile's configuration, loads the lanes' operands,
counts the streamed samples and tags each one for the accumulation."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.mac import MAX_LEARNING_SHIFT, MODES
from fdcnn.hdl.shapes import index_range

__all__ = ["TileMode", "tile_config_layout", "sample_tags_layout", "TileControl"]


class TileMode(enum.Enum, shape=2):
    """A tile's ``mode`` field (:data:`fdcnn.golden.mac.MODES`, in that order)."""
    FORWARD = 0
    BACKWARD_DATA = 1
    WEIGHT_GRAD = 2
    WEIGHT_UPDATE = 3


assert [mode.name.lower() for mode in TileMode] == list(MODES)

#: Width of a tile's ``passes`` field.
PASSES_BITS = 16


def tile_config_layout(max_frames: int) -> data.StructLayout:
    """One beat of the ``config`` channel, least significant field first."""
    return data.StructLayout({"mode": TileMode, "frames": range(max_frames + 1),
                              "passes": PASSES_BITS, "load": 1,
                              "learning_shift": range(MAX_LEARNING_SHIFT + 1)})


def sample_tags_layout(accumulator_depth: int) -> data.StructLayout:
    """What the accumulation needs to know of a streamed sample: ``first`` (its word starts a
    new sum), ``final`` (its write is the word's last in the tile), the accumulator ``bank``,
    ``conjugate`` (the stored operand) and the accumulator ``address`` within the bank."""
    return data.StructLayout({"first": 1, "final": 1, "bank": 1, "conjugate": 1,
                              "address": index_range(accumulator_depth)})


class _State(enum.Enum):
    CONFIG = 0
    LOAD = 1
    STREAM = 2


class TileControl(wiring.Component):
    """The tile state machine (configuration, operand load, streaming) and the two
    accumulator banks' bookkeeping.

    A configuration is taken off the ``config`` channel into a register (``ready`` is that
    register being empty, so no combinational path runs into the channel's ready), and the
    tile it describes starts in ``CONFIG``, or together with the current tile's last sample
    (so back-to-back tiles leave no bubble), when the next bank is free and no weight update
    is still being written back. A mode that was not built runs forward.

    Parameters
    ----------
    lanes, bins, max_frames : int
        Lanes, samples per frame, the larger channel maximum.
    modes : tuple of str
        The modes built.
    accumulator_frames : int
        Frames an accumulator bank holds.
    gradient_base : int
        Operand RAM address of the gradient modes' ``X``.

    Members
    -------
    config : In(stream.Signature(tile_config_layout(max_frames)))
    weight_valid : In(1)
    weight_ready : Out(1)
        An operand word is taken (``loading``) for lane ``load_lane`` at ``load_address``.
    sample_valid : In(1)
    sample_ready : Out(1)
        A streamed sample is taken (``taking``), with ``tags`` and its operand's
        ``operand_address``.
    learning_shift : Out
        The weight update's ``s``.
    bank_frames : Out(array of 2)
        Frames the tile in each bank writes.
    bank_update : Out(2)
        The bank's tile is a weight update.
    update_in_flight : In(1)
        A weight update's write-back is still on its way.
    release : In(1), release_bank : In(1)
        The drain has emitted the bank: it is free again.
    """

    def __init__(self, *, lanes: int, bins: int, max_frames: int, modes: tuple,
                 accumulator_frames: int, gradient_base: int):
        self.lanes, self.bins, self.max_frames, self.modes = lanes, bins, max_frames, modes
        self.gradient_base = gradient_base
        words = index_range(gradient_base + max_frames * bins)
        super().__init__({
            "config": In(stream.Signature(tile_config_layout(max_frames))),
            "weight_valid": In(1), "weight_ready": Out(1), "loading": Out(1),
            "load_lane": Out(index_range(lanes)), "load_address": Out(words),
            "sample_valid": In(1), "sample_ready": Out(1), "taking": Out(1),
            "tags": Out(sample_tags_layout(accumulator_frames * bins)),
            "operand_address": Out(words),
            "learning_shift": Out(range(MAX_LEARNING_SHIFT + 1)),
            "bank_frames": Out(data.ArrayLayout(range(accumulator_frames + 1), 2)),
            "bank_update": Out(2), "update_in_flight": In(1),
            "release": In(1), "release_bank": In(1)})
        words = index_range(self.max_frames * bins)
        self.state = Signal(_State)
        self.mode = Signal(TileMode)          # a built mode: requests for others run forward
        self.load = Signal()
        self.passes_left = Signal(PASSES_BITS)   # passes after the current one
        self.last_pass = Signal(init=1)       # passes_left == 0, kept in a register
        self.first_pass = Signal()
        self.stream_last = Signal(words, name="stream_last")     # a pass's last word
        self.final_start = Signal(words, name="final_start")     # its last frame's first
        self.operand_last = Signal(words, name="operand_last")   # a lane's last operand word
        self.load_word = Signal(words, name="load_word")
        self.stream_word = Signal(words, name="stream_word")
        self.pass_end = Signal()              # stream_word == stream_last, kept in a register
        self.stream_bin = Signal(index_range(self.bins))
        self.bank = Signal()                  # accumulator bank of the tile being streamed
        self.bank_free = Signal(2, init=0b11)

    def elaborate(self, platform):
        m = Module()
        self._load(m)
        tile_end = self._stream(m)
        self._accept(m, tile_end)
        self._tag(m)
        return m

    @property
    def _gradient(self):
        """``weight_grad`` or ``weight_update``: the stored operand is ``X``."""
        return self.mode.as_value()[1]

    def _load(self, m):
        m.d.comb += [self.weight_ready.eq(self.state == _State.LOAD),
                     self.loading.eq(self.weight_valid & self.weight_ready),
                     self.load_address.eq(Mux(self._gradient, self.gradient_base + self.load_word,
                                              self.load_word))]
        with m.If(self.loading):
            with m.If(self.load_word == self.operand_last):
                m.d.sync += [self.load_word.eq(0), self.load_lane.eq(self.load_lane + 1)]
                with m.If(self.load_lane == self.lanes - 1):
                    m.d.sync += [self.load_lane.eq(0), self.state.eq(_State.STREAM)]
            with m.Else():
                m.d.sync += self.load_word.eq(self.load_word + 1)

    def _stream(self, m):
        """Count the streamed samples; returns "the tile's last sample" (when taken)."""
        m.d.comb += [self.sample_ready.eq(self.state == _State.STREAM),
                     self.taking.eq(self.sample_valid & self.sample_ready)]
        pass_end = self.pass_end
        tile_end = pass_end & self.last_pass
        with m.If(self.taking):
            m.d.sync += [
                self.stream_word.eq(Mux(pass_end, 0, self.stream_word + 1)),
                self.pass_end.eq(Mux(pass_end, self.stream_last == 0,
                                     self.stream_word + 1 == self.stream_last)),
                self.stream_bin.eq(Mux(self.stream_bin == self.bins - 1, 0, self.stream_bin + 1))]
            with m.If(tile_end):
                m.d.sync += [self.state.eq(_State.CONFIG), self.bank.eq(~self.bank)]
            with m.Elif(pass_end):
                m.d.sync += [self.passes_left.eq(self.passes_left - 1),
                             self.last_pass.eq(self.passes_left == 1), self.first_pass.eq(0),
                             self.state.eq(Mux(self.load, _State.LOAD, _State.STREAM))]
        return tile_end

    def _accept(self, m, tile_end):
        """Take the next tile's configuration into a register, start its tile; free a bank
        the drain has released."""
        pending = Signal(name="config_pending")
        payload = Signal.like(self.config.payload, name="config_held", reset_less=True)
        m.d.comb += self.config.ready.eq(~pending)
        next_bank = Mux(self.state == _State.CONFIG, self.bank, ~self.bank)
        updating = self.bank_update.any() | self.update_in_flight
        start = (pending & ((self.state == _State.CONFIG) | (self.taking & tile_end))
                 & self.bank_free.bit_select(next_bank, 1) & ~updating)
        with m.If(self.config.valid & ~pending):
            m.d.sync += [pending.eq(1), payload.eq(self.config.payload)]
        with m.If(start):
            m.d.sync += pending.eq(0)
            built = payload.mode.as_value().matches(*(MODES.index(name) for name in self.modes))
            mode = Mux(built, payload.mode.as_value(), TileMode.FORWARD)
            frames = Mux(payload.frames == 0, 1, payload.frames)
            words = frames * self.bins
            m.d.sync += [
                self.mode.eq(mode), self.stream_last.eq(words - 1),
                self.final_start.eq(words - self.bins),
                self.operand_last.eq(Mux(mode[1], self.bins, words) - 1),
                self.passes_left.eq(Mux(payload.passes == 0, 0, payload.passes - 1)),
                self.last_pass.eq(payload.passes <= 1),
                self.first_pass.eq(1), self.load.eq(payload.load),
                self.learning_shift.eq(payload.learning_shift),
                self.bank_free.bit_select(next_bank, 1).eq(0),
                self.bank_update.bit_select(next_bank, 1).eq(mode == TileMode.WEIGHT_UPDATE),
                self.load_lane.eq(0), self.load_word.eq(0), self.stream_word.eq(0),
                self.pass_end.eq(words == 1),
                self.stream_bin.eq(0),
                self.state.eq(Mux(payload.load, _State.LOAD, _State.STREAM))]
            for index in range(2):
                with m.If(next_bank == index):
                    m.d.sync += self.bank_frames[index].eq(Mux(mode[1], frames, 1))
        with m.If(self.release):
            m.d.sync += [self.bank_free.bit_select(self.release_bank, 1).eq(1),
                         self.bank_update.bit_select(self.release_bank, 1).eq(0)]

    def _tag(self, m):
        """The taken sample's tags. ``final`` marks the last write to an accumulator word in
        its tile: the tile's last frame (last pass in the gradient modes), which writes the
        words in address order."""
        gradient = self._gradient
        m.d.comb += [
            self.tags.first.eq(Mux(gradient, self.first_pass, self.stream_word < self.bins)),
            self.tags.final.eq(Mux(gradient, self.last_pass,
                                   self.stream_word >= self.final_start)),
            self.tags.bank.eq(self.bank),
            self.tags.conjugate.eq(self.mode != TileMode.FORWARD),
            self.tags.address.eq(Mux(gradient, self.stream_word, self.stream_bin)),
            self.operand_address.eq(Mux(gradient, self.gradient_base + self.stream_bin,
                                        self.stream_word))]
