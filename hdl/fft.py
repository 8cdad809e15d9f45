"""Streaming radix-2 single-path delay feedback (R2SDF) FFT/iFFT generator.

Architecture
------------
Decimation in frequency, one complex sample per clock in and out. Stage ``s`` of
``m = log2(N)`` has a delay line of ``L = N / 2**(s+1)`` words (``N − 1`` words in all): for
the first ``L`` samples of each ``2L`` block it stores the input and emits the previous block's
pending differences; for the next ``L`` it forms ``sum``/``diff`` with the stored samples,
emits the sum and stores the difference. Stages with ``L ≥ 4`` multiply the differences by
twiddles from a ROM (4 real multipliers each, ``4·(m − 2)`` in all); the ``L = 2`` stage's
``−j`` is a swap and negate; the ``L = 1`` stage needs neither. The arithmetic is exactly
:class:`golden.fft.StreamingFFTModel`'s (read its docstring for formats, rounding and
saturation).

Each multiplier stage is pipelined as a DSP block wants it: the butterfly register beside the
twiddle ROM's read register, registered operands, registered products, registered sum, then a
register after rounding and saturation. Delay lines of 64 words and more are RAM (block RAM),
shorter ones shift registers; ``output_order="natural"`` adds one ``N``-word RAM that is
written and read in place, alternating linear and bit-reversed addressing per frame.

The inverse transform swaps real and imaginary parts at the input and at the output, which is
exactly the forward pipeline with conjugated twiddles, so the runtime direction costs two
multiplexers.

Flow control
------------
The whole pipeline is one clock-enabled chain that advances by one sample when an input sample
is accepted, or when a *flush* sample is inserted, and only while the output register can take
a sample. When the input has no sample at a frame boundary and results are still inside, the
core inserts a flush frame (``N`` zero samples, never emitted), so the last frame leaves
without waiting for another. A frame that arrives during a flush frame waits until it ends (at
most ``N`` cycles). Within a frame, input gaps and output stalls just hold the pipeline.

Both ports have a two-entry register slice, so the clock enable of the whole pipeline is a
function of registered state only: no combinational path runs from ``s_axis_tvalid`` or
``m_axis_tready`` into the pipeline or to the other port.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from fdcnn.golden.fft import StreamingFFTModel
from fdcnn.hdl.buffers import DelayLine, ReadFirstBuffer
from fdcnn.hdl.fixed import round_shift, saturate
from fdcnn.hdl.stream import (FramedOutput, check_tlast, frame_block_members, input_register_slice,
                        validated)

__all__ = ["StreamingFFT"]

#: Registers in a twiddle multiplier stage: the butterfly result beside the twiddle ROM's read
#: register, the multiplier's operand registers, products, sum, rounded result.
MULTIPLIER_REGISTERS = 5


def _format(fixed):
    return {"width": fixed.width, "fraction": fixed.fraction, "tdata_bits": fixed.padded_width}


def _sample_layout(width):
    """A pipeline sample: data plus the tags that travel with it."""
    return data.StructLayout({"real": signed(width), "imag": signed(width), "valid": 1,
                              "inverse": 1, "overflow": 1})


def _assign(target, source, *, real=None, imag=None, overflow=0):
    """Copy a sample field by field (layouts may differ in width), optionally replacing data."""
    return [target.real.eq(source.real if real is None else real),
            target.imag.eq(source.imag if imag is None else imag),
            target.valid.eq(source.valid), target.inverse.eq(source.inverse),
            target.overflow.eq(source.overflow | overflow)]


class StreamingFFT(wiring.Component):
    """Streaming R2SDF FFT/iFFT, one complex sample per clock.

    Parameters are those of :class:`golden.fft.StreamingFFTModel` (validated there), all
    keyword-only: ``size``, ``data_width``, ``twiddle_width``, ``scaling``, ``rounding``,
    ``direction``, ``output_order``.

    Members
    -------
    i : In(complex_stream(data_width, user_width=1 if direction == "runtime"))
        Input samples in natural order. ``user[0]`` (runtime direction only) is sampled with
        each frame's first sample: 1 selects the inverse transform for that frame. ``last`` is
        only checked: frames are always ``size`` samples.
    o : Out(complex_stream(output_width))
        Results in ``output_order``; ``last`` marks each frame's final sample.
    overflow : Out(1)
        Valid with each output sample: whether anything saturated in that output frame so far;
        on the sample with ``last`` it covers the whole frame.
    tlast_missing, tlast_unexpected : Out(1)
        One-cycle pulses when an input sample that should have had ``last`` set and did not,
        or had it set before the frame's final sample, enters the pipeline (two cycles after
        its handshake unless the pipeline is stalled).
    """

    def __init__(self, **parameters):
        self.model = validated(self, lambda: StreamingFFTModel(**parameters))
        user_width = 1 if self.model.direction == "runtime" else 0
        super().__init__(frame_block_members(self.model.data_width, self.model.output_width,
                                             user_width=user_width))

    @property
    def output_width(self):
        return self.model.output_width

    @property
    def multipliers(self):
        """Real multipliers in the design: 4 per twiddle stage."""
        return 4 * len(self.model.multiplier_stages)

    def describe(self):
        """What a user of the generated Verilog needs besides the ports' names (for JSON)."""
        model = self.model
        return {
            "parameters": {"size": model.size, "data_width": model.data_width,
                           "twiddle_width": model.twiddle_width, "scaling": model.scaling,
                           "rounding": model.rounding, "direction": model.direction,
                           "output_order": model.output_order},
            "latency_cycles": self.latency,
            "throughput": "1 sample per clock, frames back to back",
            "multipliers": self.multipliers,
            "stage_shifts": list(model.shifts),
            "input_format": _format(model.input_format),
            "output_format": _format(model.output_format),
            "output": (f"{'IDFT' if model.direction == 'inverse' else 'DFT'}(x) / "
                       f"2**{model.total_shift}" + (", inverse per frame (s_axis_tuser)"
                                                     if model.direction == "runtime" else "")),
            "output_order": model.output_order,
            "port_descriptions": {
                "s_axis_tuser": "bit 0 with a frame's first sample: 1 = inverse transform",
                "overflow": "with each m_axis beat: a sum, product or output of this output "
                            "frame saturated (so far; complete on the tlast beat)",
                "tlast_missing": "1-cycle pulse: an input frame's last sample had no tlast",
                "tlast_unexpected": "1-cycle pulse: tlast before an input frame's last sample",
            },
        }

    def _stage_registers(self, stage):
        return MULTIPLIER_REGISTERS if stage in self.model.multiplier_stages else 1

    @property
    def _stages_delay(self):
        """Enabled cycles from a frame's first input in the input register to its first
        result in the last stage's output register."""
        return sum(self.model.stage_span(stage) + self._stage_registers(stage)
                   for stage in range(self.model.stages))

    @property
    def latency(self):
        """Clock cycles from the handshake of a frame's first input sample to the handshake of
        its first result, with no input gaps and ``m_axis_tready`` high: one cycle through the
        input register slice, the stages (input register to last stage), the reorder buffer
        (natural order), and two through the output register slice (write, then handshake)."""
        reorder = self.model.size + 1 if self.model.output_order == "natural" else 0
        return 1 + self._stages_delay + reorder + 2

    def elaborate(self, platform):
        m = Module()
        model = self.model
        size = model.size

        # Two-entry register slices on both ports: the pipeline's clock enable then depends on
        # registered FIFO levels only, never combinationally on s_axis_tvalid or m_axis_tready.
        input_slice, head = input_register_slice(m, "input_slice", self.i)
        m.submodules.output = output = FramedOutput(model.output_width, size)
        wiring.connect(m, wiring.flipped(self.o), output.o)
        m.d.comb += self.overflow.eq(output.overflow)

        advance = Signal()
        slot = Signal(range(size))          # position of the next input sample in its frame
        flushing = Signal()                 # inside an inserted flush frame
        pending = Signal(range(self.latency + size + 2))   # accepted, not yet in output slice
        can_advance = output.w_rdy
        insert_flush = Mux(slot == 0, ~input_slice.r_rdy & (pending != 0), flushing)
        accept = input_slice.r_rdy & can_advance & ((slot == 0) | ~flushing)
        m.d.comb += [input_slice.r_en.eq(accept),
                     advance.eq(can_advance & (accept | insert_flush))]

        with m.If(advance):
            m.d.sync += slot.eq(Mux(slot == size - 1, 0, slot + 1))
            with m.If(slot == 0):
                m.d.sync += flushing.eq(~accept)
        last_slot = slot == size - 1
        check_tlast(m, accept, last_slot, head.last, self.tlast_missing, self.tlast_unexpected)

        inverse = Signal()
        if model.direction == "runtime":
            frame_inverse = Signal()
            m.d.comb += inverse.eq(Mux(slot == 0, head.user[0], frame_inverse))
            with m.If(accept & (slot == 0)):
                m.d.sync += frame_inverse.eq(head.user[0])
        else:
            m.d.comb += inverse.eq(model.direction == "inverse")

        sample = Signal(_sample_layout(model.stage_widths[0]))
        real = Mux(accept, head.data.real, 0)
        imag = Mux(accept, head.data.imag, 0)
        with m.If(advance):
            m.d.sync += [sample.real.eq(Mux(inverse, imag, real)),
                         sample.imag.eq(Mux(inverse, real, imag)),
                         sample.valid.eq(accept), sample.inverse.eq(inverse),
                         sample.overflow.eq(0)]

        offset = 0
        for stage in range(model.stages):
            sample = self._stage(m, stage, sample, offset, advance)
            offset += model.stage_span(stage) + self._stage_registers(stage)

        if model.output_order == "natural":
            sample = self._reorder(m, sample, offset, advance)
        self._output(m, sample, advance, accept, pending, output)
        return m

    def _stage(self, m, stage, sample, offset, advance):
        """One R2SDF stage; ``sample`` shows input index 0 after enabled cycle ``offset``."""
        model = self.model
        span = model.stage_span(stage)
        shift = model.shifts[stage]
        width = model.stage_widths[stage + 1]
        stored_width = max(model.stage_widths[stage], width)

        counter = Signal(range(2 * span), init=(-1 - offset) % (2 * span),
                         name=f"stage{stage}_counter")
        with m.If(advance):
            m.d.sync += counter.eq(counter + 1)
        second_half = counter[-1]
        index = counter[:-1] if span > 1 else 0

        delay = DelayLine(_sample_layout(stored_width), span)
        m.submodules[f"stage{stage}_delay"] = delay
        stored = delay.o

        def narrow(value):
            return saturate(round_shift(value, shift, model.rounding), width)

        def butterfly(name, real_value, imag_value):
            real, real_saturated = narrow(real_value)
            imag, imag_saturated = narrow(imag_value)
            result = Signal(_sample_layout(width), name=f"stage{stage}_{name}")
            m.d.comb += _assign(result, sample, real=real, imag=imag,
                                overflow=stored.overflow | real_saturated | imag_saturated)
            m.d.comb += result.valid.eq(sample.valid & stored.valid)
            return result

        total = butterfly("sum", stored.real + sample.real, stored.imag + sample.imag)
        difference = butterfly("diff", stored.real - sample.real, stored.imag - sample.imag)

        m.d.comb += delay.en.eq(advance)
        with m.If(second_half):
            m.d.comb += _assign(delay.i, difference)
        with m.Else():
            m.d.comb += _assign(delay.i, sample)

        # Second half: the sum. First half: the previous block's difference (twiddle index).
        selected = Signal(_sample_layout(width), name=f"stage{stage}_selected")
        with m.If(second_half):
            m.d.comb += _assign(selected, total)
        with m.Else():
            m.d.comb += _assign(selected, stored)
            if span == 2:   # W = −j: (re, im) → (im, −re)
                negated, saturated = saturate(-stored.real, width)
                with m.If(index == 1):
                    m.d.comb += _assign(selected, stored, real=stored.imag, imag=negated,
                                        overflow=saturated)

        result = Signal(_sample_layout(width), name=f"stage{stage}_out")
        if stage not in model.multiplier_stages:
            with m.If(advance):
                m.d.sync += _assign(result, selected)
            return result
        self._twiddle_multiply(m, stage, selected, index, ~second_half & (index != 0),
                               result, advance)
        return result

    def _twiddle_multiply(self, m, stage, selected, index, rotate, result, advance):
        """``result`` ← ``selected · W[index]`` when ``rotate``, else ``selected``,
        ``MULTIPLIER_REGISTERS`` enabled cycles later. The ROM's output is registered again
        before the multipliers, so a block RAM's slow clock-to-output does not reach them."""
        model = self.model
        twiddle_width = model.twiddle_width
        width = model.stage_widths[stage + 1]
        cos, sin = model.twiddles(stage)
        mask = (1 << twiddle_width) - 1
        rom = Memory(shape=unsigned(2 * twiddle_width), depth=len(cos),
                     init=[(int(c) & mask) | ((int(s) & mask) << twiddle_width)
                           for c, s in zip(cos, sin)])
        m.submodules[f"stage{stage}_twiddles"] = rom
        twiddle = rom.read_port()
        m.d.comb += [twiddle.addr.eq(index), twiddle.en.eq(advance)]
        w_real = twiddle.data[:twiddle_width].as_signed()
        w_imag = twiddle.data[twiddle_width:].as_signed()

        def pipeline_signal(shape, name):
            return Signal(shape, name=f"stage{stage}_{name}")

        fetched = pipeline_signal(_sample_layout(width), "fetched")
        fetched_rotate = pipeline_signal(1, "fetched_rotate")
        operand = pipeline_signal(_sample_layout(width), "operand")
        operand_rotate = pipeline_signal(1, "operand_rotate")
        twiddle_real = pipeline_signal(signed(twiddle_width), "twiddle_real")
        twiddle_imag = pipeline_signal(signed(twiddle_width), "twiddle_imag")
        delayed = pipeline_signal(_sample_layout(width), "delayed")
        delayed_rotate = pipeline_signal(1, "delayed_rotate")
        product_width = width + twiddle_width
        products = [pipeline_signal(signed(product_width), f"product_{name}")
                    for name in ("rr", "ii", "ri", "ir")]
        summed = pipeline_signal(_sample_layout(product_width + 1), "summed")
        with m.If(advance):
            m.d.sync += _assign(fetched, selected)
            m.d.sync += fetched_rotate.eq(rotate)
            m.d.sync += _assign(operand, fetched)
            m.d.sync += [operand_rotate.eq(fetched_rotate),
                         twiddle_real.eq(w_real), twiddle_imag.eq(w_imag)]
            m.d.sync += _assign(delayed, operand)
            m.d.sync += delayed_rotate.eq(operand_rotate)
            m.d.sync += [products[0].eq(operand.real * twiddle_real),
                         products[1].eq(operand.imag * twiddle_imag),
                         products[2].eq(operand.real * twiddle_imag),
                         products[3].eq(operand.imag * twiddle_real)]
            unity = twiddle_width - 1
            m.d.sync += _assign(summed, delayed,
                                real=Mux(delayed_rotate, products[0] - products[1],
                                         delayed.real << unity),
                                imag=Mux(delayed_rotate, products[2] + products[3],
                                         delayed.imag << unity))
            real, real_saturated = saturate(round_shift(summed.real, unity, model.rounding), width)
            imag, imag_saturated = saturate(round_shift(summed.imag, unity, model.rounding), width)
            m.d.sync += _assign(result, summed, real=real, imag=imag,
                                overflow=real_saturated | imag_saturated)

    def _reorder(self, m, sample, offset, advance):
        """Bit-reversed to natural order in one ``N``-word RAM, read and written in place."""
        model = self.model
        bits = model.stages
        position = Signal(range(2 * model.size), init=(-1 - offset) % (2 * model.size),
                          name="reorder_position")
        with m.If(advance):
            m.d.sync += position.eq(position + 1)
        linear = position[:bits]
        reversed_ = Cat(*(linear[bit] for bit in reversed(range(bits))))
        buffer = ReadFirstBuffer(_sample_layout(model.stage_widths[-1]), model.size)
        m.submodules.reorder = buffer
        m.d.comb += [buffer.en.eq(advance), buffer.i.eq(sample),
                     buffer.addr.eq(Mux(position[bits], reversed_, linear))]
        return buffer.o

    def _output(self, m, sample, advance, accept, pending, output):
        """Saturate to the output width and undo the inverse's swap into the framed output."""
        model = self.model
        real, real_saturated = saturate(sample.real, model.output_width)
        imag, imag_saturated = saturate(sample.imag, model.output_width)
        retired = advance & sample.valid
        m.d.sync += pending.eq(pending + accept - retired)
        m.d.comb += [
            output.w_en.eq(retired),
            output.w_data.real.eq(Mux(sample.inverse, imag, real)),
            output.w_data.imag.eq(Mux(sample.inverse, real, imag)),
            output.w_overflow.eq(sample.overflow | real_saturated | imag_saturated),
        ]
