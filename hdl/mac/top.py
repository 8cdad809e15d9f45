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
``(lanes − 1)·F + 8`` samples, ``F`` being the previous tile's last frame (``bins``; in
``weight_grad`` its pass of ``frames·bins``): in forward and backward_data, ``frames ≥ lanes``
for ``bins ≥ 8``. The accumulation pipeline never stalls; the input is held only while
operands load and while the output is backpressured long enough to fill both banks.

Pipeline per lane: operand RAM read (registered, then a register of its own, so that the route
from the block RAM and the logic Yosys puts after it end there), multiplier operand registers,
products, their sums, then the saturating add with its write. The accumulator word is read two
cycles before its write and registered, so neither RAM output feeds an adder; with one or two
bins the same word comes round sooner, and the two writes before are forwarded. The drain's
read is registered twice (the RAM's register, then the lane's), then the lane multiplexer, then
the output rounding and saturation into a register; a configuration is taken into a register of
the tile control, so the configuration port's ready comes from a register. 4 real multipliers
per lane, or 3 with ``multiplier="3mult"``.
"""


from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.cmult import real_multipliers
from fdcnn.golden.mac import MACConfig, SpectralMACModel
from fdcnn.hdl.mac.drain import DRAIN_CYCLES, Drain
from fdcnn.hdl.mac.lane import ACCUMULATE_CYCLES, MACLane
from fdcnn.hdl.mac.tile import PASSES_BITS, TileControl, tile_config_layout
from fdcnn.hdl.stream import FramedOutput, complex_layout, complex_stream

__all__ = ["SpectralMAC"]

#: Entries of the output FIFO: room for the drain's words in flight, and two more, so that it
#: drains at full rate.
OUTPUT_DEPTH = DRAIN_CYCLES + 2
#: Up to this many bins the accumulator can be read again before its last two writes land,
#: so those writes are forwarded.
FORWARDED_BINS = 2


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
        self.max_frames = model.max_frames
        self.config_layout = tile_config_layout(self.max_frames)
        super().__init__({
            "config": In(stream.Signature(self.config_layout)),
            "weight": In(complex_stream(model.weight_width)),
            "i": In(complex_stream(model.data_width)),
            "o": Out(complex_stream(model.output_width)),
            "overflow": Out(1),
        })

    @property
    def multipliers(self):
        return self.lanes * real_multipliers(self.model.multiplier)

    @property
    def latency(self):
        """Cycles from accepting the first sample of a tile's last frame (of its last pass in
        ``weight_grad``) to its first result's handshake, with no other tile draining: the
        accumulation pipeline, the drain's issue after the final write, its RAM read and lane
        register, and the output register slice."""
        return (ACCUMULATE_CYCLES + 1 + DRAIN_CYCLES + FramedOutput.latency)

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
                              "passes": f"next {PASSES_BITS} bits", "load": "next bit",
                              "learning_shift": "next 6 bits (weight_update)"},
            "port_descriptions": {
                "s_axis_config_tdata": "tile configuration: mode, frames, passes, load, "
                                       "learning_shift (LSB first, see config_fields)",
                "s_axis_config_tvalid": "configuration valid",
                "s_axis_config_tready": "configuration taken: a tile starts",
                "s_axis_weight_tdata": "stored operand (weight_width bits per component), packed "
                                       "as s_axis_tdata; a tile with load takes, lane by lane, "
                                       "frames·bins words per lane (bins in weight_grad and "
                                       "weight_update, every pass), in the order of the "
                                       "operand table",
                "s_axis_weight_tvalid": "stored operand valid",
                "s_axis_weight_tready": "stored operand taken (while a tile loads)",
                "s_axis_weight_tlast": "ignored: the tile configuration counts the words",
                "s_axis_tlast": "ignored: the tile configuration counts the frames",
                "overflow": "with each m_axis beat: an accumulation or output of this output "
                            "frame saturated (so far; complete on the tlast beat)",
            },
        }

    def elaborate(self, platform):
        m = Module()
        model, bins = self.model, self.model.bins
        m.submodules.output = output = FramedOutput(model.output_width, bins,
                                                    depth=OUTPUT_DEPTH)
        wiring.connect(m, wiring.flipped(self.o), output.o)
        m.d.comb += self.overflow.eq(output.overflow)
        m.submodules.tiles = tiles = TileControl(
            lanes=self.lanes, bins=bins, max_frames=self.max_frames, modes=self.modes,
            accumulator_frames=self.model.accumulator_frames, gradient_base=self.model.gradient_base)
        wiring.connect(m, wiring.flipped(self.config), tiles.config)
        m.d.comb += [tiles.weight_valid.eq(self.weight.valid),
                     self.weight.ready.eq(tiles.weight_ready),
                     tiles.sample_valid.eq(self.i.valid), self.i.ready.eq(tiles.sample_ready)]
        m.submodules.drain = drain = Drain(
            lanes=self.lanes, bins=bins, accumulator_frames=self.model.accumulator_frames,
            accumulator_width=model.accumulator_width, weight_width=model.weight_width,
            output_width=model.output_width, output_shift=model.output_shift,
            rounding=model.rounding, update="weight_update" in self.modes,
            output_depth=OUTPUT_DEPTH)
        m.d.comb += [drain.bank_frames.eq(tiles.bank_frames),
                     drain.bank_update.eq(tiles.bank_update),
                     drain.learning_shift.eq(tiles.learning_shift),
                     drain.output_level.eq(output.w_level),
                     tiles.release.eq(drain.release), tiles.release_bank.eq(drain.release_bank),
                     tiles.update_in_flight.eq(drain.update_in_flight),
                     output.w_en.eq(drain.result_valid), output.w_data.eq(drain.result),
                     output.w_overflow.eq(drain.result_overflow)]
        pipeline = self._accumulation_tags(m, tiles)
        m.d.comb += [drain.final_write.valid.eq(pipeline[-1].valid),
                     drain.final_write.final.eq(pipeline[-1].final),
                     drain.final_write.bank.eq(pipeline[-1].bank)]
        streamed = Signal(complex_layout(model.data_width))
        m.d.sync += streamed.eq(self.i.payload.data)
        for lane in range(self.lanes):
            self._lane(m, lane, streamed, tiles, drain, pipeline)
        return m

    def _accumulation_tags(self, m, tiles):
        """The taken samples' tags, one register per accumulation cycle (never stalls; a
        ``valid`` bit marks samples)."""
        layout = data.StructLayout({"valid": 1, **tiles.tags.shape().members})
        pipeline = [Signal(layout, name=f"accumulate{index}") for index in range(ACCUMULATE_CYCLES)]
        m.d.sync += [pipeline[0].valid.eq(tiles.taking),
                     *(getattr(pipeline[0], name).eq(getattr(tiles.tags, name))
                       for name in tiles.tags.shape().members)]
        m.d.sync += [later.eq(earlier) for earlier, later in zip(pipeline, pipeline[1:])]
        return pipeline

    def _lane(self, m, lane, streamed, tiles, drain, pipeline):
        """Lane ``lane``: its streamed sample, accumulation, operand loads and write-back."""
        model = self.model
        unit = MACLane(data_width=model.data_width, weight_width=model.weight_width,
                       accumulator_width=model.accumulator_width, multiplier=model.multiplier,
                       operand_depth=model.operand_depth,
                       accumulator_depth=model.accumulator_depth,
                       forwarded=model.bins <= FORWARDED_BINS)
        m.submodules[f"lane{lane}"] = unit
        reading, writing = pipeline[-3], pipeline[-1]
        write_back = drain.write_back
        m.d.comb += [
            unit.streamed.eq(streamed),
            unit.operand_address.eq(Mux(drain.update_read, drain.read.address,
                                        tiles.operand_address)),
            unit.conjugate.eq(pipeline[0].conjugate),
            unit.read.bank.eq(reading.bank), unit.read.address.eq(reading.address),
            unit.write.valid.eq(writing.valid), unit.write.first.eq(writing.first),
            unit.write.bank.eq(writing.bank), unit.write.address.eq(writing.address),
            unit.operand_write.en.eq((tiles.loading & (tiles.load_lane == lane))
                                     | (write_back.en & (write_back.lane == lane))),
            unit.operand_write.addr.eq(Mux(write_back.en, write_back.address,
                                           tiles.load_address)),
            unit.operand_write.data.eq(Mux(write_back.en, write_back.data,
                                           self.weight.payload.data)),
            unit.drain.eq(drain.read),
            drain.words[lane].eq(unit.drained), drain.operands[lane].eq(unit.operand)]
