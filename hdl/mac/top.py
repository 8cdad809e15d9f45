"""Spectral multiply-accumulate array: forward, backward-data, weight-gradient and weight-update
modes.

The arithmetic is exactly :class:`golden.mac.SpectralMACModel`'s (read its docstring). The
array has ``lanes`` complex MAC units. Each cycle one streamed sample (``i``) is broadcast to
every lane, meets that lane's stored operand for the same bin (conjugated in the backward
modes), and the product accumulates into the lane's accumulator memory.

Tiles and their schedule
------------------------
Work comes in tiles, each announced by one beat on the ``config`` channel (``s_axis_config``):
``mode`` (0 forward, 1 backward_data, 2 weight_grad, 3 weight_update), ``frames`` (streamed
frames per pass), ``passes`` (weight_grad, weight_update: the batch; otherwise 1), ``load`` (each
pass starts by loading the stored operands from ``weight``; 0 keeps the previous ones) and
``learning_shift`` (weight_update's ``s``, 0 … 63). ``frames`` must not exceed the
streamed side's channel maximum (``max_in_channels`` forward, ``max_out_channels`` backward);
0 counts as 1, and so does ``passes`` 0. Lane ``l`` of tile ``t`` works on
channel ``t·lanes + l``; with more channels than lanes, the caller runs one tile per group of
``lanes`` channels, streaming the input again for each.

===============  ==================================  =================  ======================
mode             stored operand of lane l (``load``) streamed frames     output, lane by lane
===============  ==================================  =================  ======================
forward          ``W[o_l][c][k]``, c then k           ``X[c]``, c = 0…   ``Y[o_l]``: 1 frame
backward_data    ``W[o][c_l][k]``, o then k           ``dY[o]``, o = 0…  ``dX[c_l]``: 1 frame
weight_grad      ``X_b[c_l][k]``, k (every pass b)    ``dY_b[o]``, o = 0…  ``dW[o][c_l]``, o = 0…
weight_update    ``X_b[c_l][k]``, k (every pass b)    ``dY_b[o]``, o = 0…  new ``W[o][c_l]``, o = 0…
===============  ==================================  =================  ======================

The weight update (built only when ``modes`` has it) is a weight_grad tile whose drain also
applies ``W ← W − 2**−s·dW`` in place (:meth:`golden.mac.SpectralMACModel.weight_update`) to
the weights the lane holds in backward_data order, and emits the new weights (so the caller's
copy, e.g. for the forward pass, stays exact). So a training step per group of ``lanes`` input
channels is: backward_data with ``load`` (emits ``dX``), weight_update (emits the new ``W``),
and the next step's backward_data without ``load``. Built with the update, the gradient modes
keep ``X`` in ``bins`` more words after the weights, so no tile but a load overwrites them. The
tile after a weight update starts when the update is written.

Operands load lane by lane (lane 0's frames first). Results leave lane by lane as frames of
``bins`` samples, ``last`` on each. Lanes beyond the channel count compute with whatever they
hold (load zeros to get zeros).

Accumulators are double-banked: a tile's results drain from one bank while the next tile
accumulates into the other, and lane 0's results start to leave while the tile's last frame
(last pass in ``weight_grad``) still accumulates, each word as soon as its final sum is written;
the other lanes follow. A tile waits to start only while its bank still holds results not yet
drained, so the input runs at one sample per clock with no bubbles, across tiles too (the next
configuration is taken with a tile's last sample), when each tile streams at least
``(lanes − 1)·F + 7`` samples, ``F`` being the previous tile's last frame (``bins``; in
``weight_grad`` its pass of ``frames·bins``): in forward and backward_data, ``frames ≥ lanes``
for ``bins ≥ 7``. The accumulation pipeline never stalls; the input is held only while
operands load and while the output is backpressured long enough to fill both banks.

Pipeline per lane: operand RAM read (registered), multiplier operand registers, products, their
sums, then the saturating add with its write. The accumulator word is read two cycles before
its write and registered, so neither RAM output feeds an adder; with one or two bins the same
word comes round sooner, and the two writes before are forwarded. The drain's read is
registered, then the lane multiplexer, then the output rounding. 4 real multipliers per lane,
or 3 with ``multiplier="3mult"``.
"""


from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.mac import MAX_LEARNING_SHIFT, MODES, MACConfig, SpectralMACModel
from fdcnn.hdl.fixed import round_shift, round_shift_by, saturate
from fdcnn.hdl.mac.lane import ACCUMULATE_STAGES, MACLane
from fdcnn.hdl.mac.lane import accumulator_layout as lane_accumulator_layout
from fdcnn.hdl.stream import FramedOutput, complex_layout, complex_stream

__all__ = ["SpectralMAC"]

#: Cycles from a drain read's issue (the cycle after the final write it waits for) to its
#: word in the output register slice: the RAM read, the lane multiplexer's register.
DRAIN_STAGES = 2
#: Up to this many bins the accumulator can be read again before its last two writes land,
#: so those writes are forwarded.
FORWARDED_BINS = 2


class _State(enum.Enum):
    CONFIG = 0
    LOAD = 1
    STREAM = 2


class SpectralMAC(wiring.Component):
    """The MAC array.

    Parameters
    ----------
    config : MACConfig
        The array (validated when it was made).

    Members
    -------
    config : In(stream of the tile configuration)
    weight : In(complex_stream(weight_width))
        Stored operands, in the order of the table above.
    i : In(complex_stream(data_width))
        Streamed frames; ``last`` is not checked.
    o : Out(complex_stream(output_width))
        Results, ``last`` on each frame.
    overflow : Out(1)
        With each output sample: its accumulation or output saturated (complete on ``last``).
    """

    def __init__(self, config: MACConfig):
        self.model = SpectralMACModel(config)
        self.lanes = config.lanes
        self.modes = config.modes
        model = self.model
        self.max_frames = max(model.max_in_channels, model.max_out_channels)
        self.config_layout = data.StructLayout({
            "mode": 2, "frames": range(self.max_frames + 1), "passes": 16, "load": 1,
            "learning_shift": range(MAX_LEARNING_SHIFT + 1)})
        super().__init__({
            "config": In(stream.Signature(self.config_layout)),
            "weight": In(complex_stream(model.weight_width)),
            "i": In(complex_stream(model.data_width)),
            "o": Out(complex_stream(model.output_width)),
            "overflow": Out(1),
        })

    @property
    def multipliers(self):
        return self.lanes * (3 if self.model.multiplier == "3mult" else 4)

    @property
    def latency(self):
        """Cycles from accepting the first sample of a tile's last frame (of its last pass in
        ``weight_grad``) to its first result's handshake, with no other tile draining: the
        accumulation pipeline, the drain's RAM read and lane register, and the output register
        slice."""
        return (ACCUMULATE_STAGES + 1 + DRAIN_STAGES + FramedOutput.latency)

    def describe(self):
        return {
            "parameters": self.model.config.parameters(),
            "latency_cycles": self.latency,
            "throughput": "1 streamed sample per clock, across tiles of at least `lanes` "
                          "frames",
            "multipliers": self.multipliers,
            "config_fields": {"mode": "bits 0-1: 0 forward, 1 backward_data, 2 weight_grad, "
                                      "3 weight_update",
                              "frames": f"next {self.config_layout['frames'].width} bits",
                              "passes": "next 16 bits", "load": "next bit",
                              "learning_shift": "next 6 bits (weight_update)"},
            "port_descriptions": {
                "s_axis_config_tdata": "tile configuration: mode, frames, passes, load, "
                                       "learning_shift (LSB first, see config_fields)",
                "s_axis_config_tvalid": "configuration valid",
                "s_axis_config_tready": "configuration taken: a tile starts",
                "s_axis_weight_tdata": "stored operand, packed as s_axis_tdata",
                "overflow": "with each m_axis beat: its accumulation or output saturated",
            },
        }

    @property
    def _accumulator_frames(self):
        gradient = {"weight_grad", "weight_update"} & set(self.modes)
        return self.model.max_out_channels if gradient else 1

    @property
    def _gradient_base(self):
        """Operand RAM address of the gradient modes' ``X``: after the weights when the weight
        update is built (so that they survive), else 0."""
        return self.max_frames * self.model.bins if "weight_update" in self.modes else 0

    @property
    def _operand_depth(self):
        extra = self.model.bins if "weight_update" in self.modes else 0
        return self.max_frames * self.model.bins + extra

    def elaborate(self, platform):
        m = Module()
        model, lanes, bins = self.model, self.lanes, self.model.bins
        accumulator_depth = self._accumulator_frames * bins
        updating_built = "weight_update" in self.modes

        m.submodules.output = output = FramedOutput(model.output_width, bins, depth=4)
        wiring.connect(m, wiring.flipped(self.o), output.o)
        m.d.comb += self.overflow.eq(output.overflow)

        # Tile control ----------------------------------------------------------------------
        state = Signal(_State)
        mode = Signal(2)                     # a built mode: requests for others run forward
        load = Signal()
        learning_shift = Signal(self.config_layout["learning_shift"].shape)
        passes_left = Signal(16)             # passes after the current one
        first_pass = Signal()
        words_range = range(self.max_frames * bins)
        stream_last = Signal(words_range)    # the last streamed word of a pass
        final_start = Signal(words_range)    # the first word of a pass's last frame
        operand_last = Signal(words_range)   # the last operand word of a lane
        bank = Signal()                      # accumulator bank of the tile being streamed
        bank_free = Signal(2, init=0b11)
        bank_update = Signal(2)              # the bank's tile is a weight update
        bank_frames = [Signal(range(self._accumulator_frames + 1), name=f"bank{index}_frames")
                       for index in range(2)]
        weight_grad = mode[1]                # weight_grad or weight_update
        conjugate = mode != 0

        load_lane = Signal(range(lanes))
        load_address = Signal(range(self.max_frames * bins))
        stream_address = Signal(range(self.max_frames * bins))
        stream_bin = Signal(range(bins))

        m.d.comb += self.weight.ready.eq(state == _State.LOAD)
        loading = self.weight.valid & self.weight.ready
        with m.If(loading):
            with m.If(load_address == operand_last):
                m.d.sync += [load_address.eq(0), load_lane.eq(load_lane + 1)]
                with m.If(load_lane == lanes - 1):
                    m.d.sync += [load_lane.eq(0), state.eq(_State.STREAM)]
            with m.Else():
                m.d.sync += load_address.eq(load_address + 1)

        m.d.comb += self.i.ready.eq(state == _State.STREAM)
        taking = self.i.valid & self.i.ready
        pass_end = stream_address == stream_last
        tile_end = pass_end & (passes_left == 0)
        with m.If(taking):
            m.d.sync += [stream_address.eq(Mux(pass_end, 0, stream_address + 1)),
                         stream_bin.eq(Mux(stream_bin == bins - 1, 0, stream_bin + 1))]
            with m.If(tile_end):
                m.d.sync += [state.eq(_State.CONFIG), bank.eq(~bank)]
            with m.Elif(pass_end):
                m.d.sync += [passes_left.eq(passes_left - 1), first_pass.eq(0),
                             state.eq(Mux(load, _State.LOAD, _State.STREAM))]

        # The next tile's configuration is taken in CONFIG, or together with the current tile's
        # last sample, so back-to-back tiles leave no bubble; after a weight update, only once
        # the update is written (the update uses the operand RAM's ports).
        next_bank = Mux(state == _State.CONFIG, bank, ~bank)
        updating = Signal()                  # a weight update is not yet written back
        m.d.comb += self.config.ready.eq(
            ((state == _State.CONFIG) | (taking & tile_end)) & bank_free.bit_select(next_bank, 1)
            & ~updating)
        with m.If(self.config.valid & self.config.ready):
            payload = self.config.payload
            built = payload.mode.matches(*(MODES.index(name) for name in self.modes))
            mode_value = Mux(built, payload.mode, 0)
            frames_value = Mux(payload.frames == 0, 1, payload.frames)
            words = frames_value * bins
            m.d.sync += [mode.eq(mode_value), stream_last.eq(words - 1),
                         final_start.eq(words - bins),
                         operand_last.eq(Mux(mode_value[1], bins, words) - 1),
                         passes_left.eq(Mux(payload.passes == 0, 0, payload.passes - 1)),
                         first_pass.eq(1),
                         load.eq(payload.load), learning_shift.eq(payload.learning_shift),
                         bank_free.bit_select(next_bank, 1).eq(0),
                         bank_update.bit_select(next_bank, 1).eq(mode_value == 3),
                         load_lane.eq(0), load_address.eq(0), stream_address.eq(0),
                         stream_bin.eq(0),
                         state.eq(Mux(payload.load, _State.LOAD, _State.STREAM))]
            for index, count in enumerate(bank_frames):
                with m.If(next_bank == index):
                    m.d.sync += count.eq(Mux(mode_value[1], frames_value, 1))

        # Accumulation pipeline (never stalls; samples carry a valid bit) -------------------
        # ``final`` marks the last write to an accumulator word in its tile: the tile's last
        # frame (last pass in the gradient modes), which writes the words in address order.
        first = Mux(weight_grad, first_pass, stream_address < bins)
        final = Mux(weight_grad, passes_left == 0, stream_address >= final_start)
        accumulator_offset = Mux(weight_grad, stream_address, stream_bin)
        operand_address = Mux(weight_grad, self._gradient_base + stream_bin, stream_address)
        operand_load_address = Mux(weight_grad, self._gradient_base + load_address, load_address)
        tags = data.StructLayout({"valid": 1, "first": 1, "final": 1, "bank": 1,
                                  "conjugate": 1, "address": range(accumulator_depth)})
        stages = [Signal(tags, name=f"accumulate{index}") for index in range(ACCUMULATE_STAGES)]
        m.d.sync += [stages[0].valid.eq(taking), stages[0].first.eq(first),
                     stages[0].final.eq(final), stages[0].bank.eq(bank),
                     stages[0].conjugate.eq(conjugate), stages[0].address.eq(accumulator_offset)]
        m.d.sync += [later.eq(earlier) for earlier, later in zip(stages, stages[1:])]
        streamed = Signal(complex_layout(model.data_width))
        m.d.sync += streamed.eq(self.i.payload.data)

        # Drain sequencer ----------------------------------------------------------------------
        # Lane 0's word k leaves as soon as its final write is done, so a bank drains while its
        # tile's last frame is still accumulating; the other lanes follow once it is complete.
        # A weight update drains only once complete: it reads and writes the operand RAM.
        drain_bank = Signal()                # the bank drained now, or next
        drain_lane = Signal(range(lanes))
        drain_address = Signal(range(accumulator_depth))
        drain_words = Signal(range(accumulator_depth + 1))
        final_written = [Signal(range(accumulator_depth + 1), name=f"bank{index}_final_written")
                         for index in range(2)]
        m.d.comb += drain_words.eq(Mux(drain_bank, bank_frames[1], bank_frames[0]) * bins)
        with m.If(stages[-1].valid & stages[-1].final):
            for index, count in enumerate(final_written):
                with m.If(stages[-1].bank == index):
                    m.d.sync += count.eq(count + 1)
        written = Mux(drain_bank, final_written[1], final_written[0])
        complete = written == drain_words
        draining_update = bank_update.bit_select(drain_bank, 1)
        update_drain = draining_update & complete
        in_flight = Signal(range(3))
        issue = (((drain_lane != 0) | Mux(draining_update, complete, drain_address < written))
                 & (output.w_level + in_flight < output.depth))
        with m.If(issue):
            with m.If(drain_address == drain_words - 1):
                m.d.sync += [drain_address.eq(0), drain_lane.eq(drain_lane + 1)]
                with m.If(drain_lane == lanes - 1):
                    m.d.sync += [drain_lane.eq(0), drain_bank.eq(~drain_bank),
                                 bank_free.bit_select(drain_bank, 1).eq(1),
                                 bank_update.bit_select(drain_bank, 1).eq(0)]
                    for index, count in enumerate(final_written):
                        with m.If(drain_bank == index):
                            m.d.sync += count.eq(0)
            with m.Else():
                m.d.sync += drain_address.eq(drain_address + 1)
        # Two stages after the issue: the RAM read (then the lane multiplexer into a register),
        # then the output arithmetic. Words in flight reserve their place in the output FIFO.
        drain_tags = data.StructLayout({"valid": 1, "update": 1, "lane": range(lanes),
                                        "address": range(accumulator_depth)})
        read_stage, drained = Signal(drain_tags), Signal(drain_tags)
        m.d.sync += [read_stage.valid.eq(issue), read_stage.update.eq(update_drain),
                     read_stage.lane.eq(drain_lane), read_stage.address.eq(drain_address),
                     drained.eq(read_stage)]

        # Lanes ----------------------------------------------------------------------------
        accumulator_layout = lane_accumulator_layout(model.accumulator_width)
        updated = Signal(complex_layout(model.weight_width))
        operand_read_address = Mux(update_drain, drain_address, operand_address)
        m.d.comb += [in_flight.eq(read_stage.valid + drained.valid),
                     updating.eq(bank_update.any() | (read_stage.valid & read_stage.update)
                                 | (drained.valid & drained.update))]
        accumulators, operands = [], []
        for lane in range(lanes):
            unit = MACLane(data_width=model.data_width, weight_width=model.weight_width,
                           accumulator_width=model.accumulator_width,
                           multiplier=model.multiplier, operand_depth=self._operand_depth,
                           accumulator_depth=accumulator_depth,
                           forwarded=bins <= FORWARDED_BINS)
            m.submodules[f"lane{lane}"] = unit
            reading, writing = stages[-3], stages[-1]
            m.d.comb += [
                unit.streamed.eq(streamed), unit.operand_address.eq(operand_read_address),
                unit.conjugate.eq(stages[0].conjugate),
                unit.read.bank.eq(reading.bank), unit.read.address.eq(reading.address),
                unit.write.valid.eq(writing.valid), unit.write.first.eq(writing.first),
                unit.write.bank.eq(writing.bank), unit.write.address.eq(writing.address),
                unit.operand_write.en.eq(
                    (loading & (load_lane == lane))
                    | (drained.valid & drained.update & (drained.lane == lane))),
                unit.operand_write.addr.eq(Mux(drained.update, drained.address,
                                               operand_load_address)),
                unit.operand_write.data.eq(Mux(drained.update, updated,
                                               self.weight.payload.data)),
                unit.drain.bank.eq(drain_bank), unit.drain.address.eq(drain_address)]
            accumulators.append(unit.drained)
            operands.append(unit.operand)
        word = Signal(accumulator_layout)
        weight = Signal(complex_layout(model.weight_width))
        with m.Switch(read_stage.lane):
            for lane, (accumulator, operand) in enumerate(zip(accumulators, operands)):
                with m.Case(lane):
                    m.d.sync += [word.eq(accumulator), weight.eq(operand)]

        # Output stage: the rounded, saturated sum, or the updated weight ---------------------
        result = Signal(complex_layout(model.output_width))
        saturated = []
        for part in ("real", "imag"):
            value, value_saturated = saturate(round_shift(word[part], model.output_shift,
                                                          model.rounding), model.output_width)
            m.d.comb += result[part].eq(value)
            saturated.append(value_saturated)
        result_saturated = Signal()
        m.d.comb += result_saturated.eq(saturated[0] | saturated[1])
        if updating_built:
            update_saturated = []
            for part in ("real", "imag"):
                step = round_shift_by(word[part], learning_shift, model.rounding)
                value, value_saturated = saturate(weight[part] - step, model.weight_width)
                m.d.comb += updated[part].eq(value)
                update_saturated.append(value_saturated)
            with m.If(drained.update):
                m.d.comb += [result.real.eq(updated.real), result.imag.eq(updated.imag),
                             result_saturated.eq(update_saturated[0] | update_saturated[1])]
        m.d.comb += [output.w_en.eq(drained.valid), output.w_data.eq(result),
                     output.w_overflow.eq(word.overflow | result_saturated)]
        return m
