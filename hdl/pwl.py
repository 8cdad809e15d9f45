"""Piecewise-linear activation unit: ``y = S[i] · x + C[i]``, one multiplier per component.

The fit and the arithmetic are exactly :class:`golden.pwl.PiecewiseLinearModel`'s (read its
docstring): clamp to the fitted range, find the segment, look up its coefficients, multiply,
add, round, saturate. ``complex=True`` applies the function to the real and imaginary parts
independently (split-complex activation for spectral values): two lanes sharing one coefficient
ROM with two read ports.

Pipeline, one sample per clock: input register slice; clamp (register); segment index and
coefficient ROM read (the ROM's read register and the operand register are the multiplier's
input registers); product (register); sum with the intercept (register); rounding and
saturation into the output register slice. Latency 6 cycles. The unit is element-wise: ``last``
passes through with its sample.

Affine pre-stage (``affine=True``, 3 more cycles, one more multiplier per component): the
sample's channel (``user``, ``s_axis_tuser``) reads that channel's gain and offset from a
``channels``-word table (registered read), then a registered product and a registered
rounding/saturation give ``z``, which the activation takes instead of ``x``. The table is loaded
through ``coef_write``/``coef_channel``/``coef_gain``/``coef_offset`` (a write per cycle where
``coef_write`` is high; load between frames, as a write affects the samples read after it).
Reset restores gain 1.0 and offset 0 in every channel: for ``channels`` cycles after ``rst``
the unit writes them (``coef_ready`` low, ``coef_write`` ignored, samples wait), so the
table never depends on what the RAM held.

Modes: ``value`` computes ``f(x)``; ``derivative`` emits the segment's slope ``f′(x)`` (no
multiplication); ``gradient`` takes ``dY`` on a second stream (``grad``, ``s_axis_grad_*`` at the
Verilog top, in the output format, one per input sample) and emits ``dY · f′(x)`` with the same
multiplier.
"""

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.golden.pwl import PiecewiseLinearModel, PWLConfig
from fdcnn.hdl.fixed import round_shift, saturate
from fdcnn.hdl.shapes import index_range
from fdcnn.hdl.stream import (INPUT_SLICE_LATENCY, FramedOutput, complex_stream,
                              input_register_slice)

__all__ = ["PiecewiseLinear"]

#: Registers of the activation proper: clamp; coefficient ROM read beside the operand
#: register; product; sum with the intercept.
PWL_REGISTERS = 4
#: Registers of the affine pre-stage: table read; product; rounding and saturation.
AFFINE_REGISTERS = 3


def _balanced_sum(terms):
    """The sum of ``terms`` as a tree of adders (depth ``log2``, not a chain); 0 for none."""
    while len(terms) > 1:
        pairs = [terms[index:index + 2] for index in range(0, len(terms), 2)]
        terms = [pair[0] + pair[1] if len(pair) == 2 else pair[0] for pair in pairs]
    return terms[0] if terms else 0


class PiecewiseLinear(wiring.Component):
    """Streaming PWL activation.

    Parameters
    ----------
    config : PWLConfig
        The unit (validated when it was made).

    Members
    -------
    i : In(complex_stream(input width, complex=complex))
        Samples to activate; ``last`` is passed through.
        With ``affine`` and more than one channel, ``user`` is the sample's channel.
    grad : In(complex_stream(output width, complex=complex))
        ``mode="gradient"`` only: ``dY``, one per input sample.
    coef_write, coef_channel, coef_gain, coef_offset : In
        ``affine`` only: write a channel's gain code (``gain_format``) and offset code (input
        format).
    coef_ready : Out(1)
        ``affine`` only: the table takes writes (low while reset restores it).
    o : Out(complex_stream(output width, complex=complex))
    overflow : Out(1)
        With each output sample: an output of this frame (since the last ``last``) saturated.
    """

    def __init__(self, config: PWLConfig):
        self.model = model = PiecewiseLinearModel(config)
        self.complex = complex = config.complex
        channel_bits = (model.channels - 1).bit_length() if model.affine else 0
        members = {"i": In(complex_stream(model.input_format.width, complex=complex,
                                          user_width=channel_bits))}
        if model.affine:
            members.update(coef_ready=Out(1), coef_write=In(1),
                           coef_channel=In(max(1, channel_bits)),
                           coef_gain=In(signed(model.gain_format.width)),
                           coef_offset=In(signed(model.input_format.width)))
        if model.mode == "gradient":
            members["grad"] = In(complex_stream(model.output_format.width, complex=complex))
        members["o"] = Out(complex_stream(model.output_format.width, complex=complex))
        members["overflow"] = Out(1)
        super().__init__(members)

    @property
    def latency(self):
        """Clock cycles from an input handshake to its result's handshake, without stalls: the
        input register slice, the pre-stage, the activation, the output register slice."""
        return (INPUT_SLICE_LATENCY + (AFFINE_REGISTERS if self.model.affine else 0) + PWL_REGISTERS
                + FramedOutput.latency)

    @property
    def multipliers(self):
        lanes = 2 if self.complex else 1
        return lanes * ((self.model.mode != "derivative") + self.model.affine)

    def describe(self):
        model = self.model
        return {
            "parameters": dict(self.model.config.parameters(),
                               input_range=[model.low * model.input_format.lsb,
                                            model.high * model.input_format.lsb],
                               placement=model.placement),
            "latency_cycles": self.latency,
            "throughput": "1 sample per clock",
            "multipliers": self.multipliers,
            "breakpoints": [point * model.input_format.lsb for point in model.breakpoints],
            "slope_fraction": model.slope_fraction,
            "intercept_fraction": model.intercept_fraction,
            "errors_lsb": self._errors(),
            "port_descriptions": {
                "s_axis_grad_tdata": "dY, packed as m_axis_tdata (gradient mode)",
                "s_axis_grad_tvalid": "dY valid", "s_axis_grad_tready": "dY accepted",
                "s_axis_grad_tlast": "ignored (last comes from s_axis_tlast)",
                "overflow": "with each m_axis beat: an output (or affine pre-stage result) of "
                            "this frame saturated (so far; complete on the tlast beat)",
                "s_axis_tuser": "the sample's channel (affine pre-stage)",
                "coef_ready": "the channel table takes writes (low for `channels` cycles after "
                              "rst, while every channel is restored to gain 1, offset 0)",
                "coef_write": "write coef_gain and coef_offset for channel coef_channel "
                              "(ignored while coef_ready is low)",
                "coef_channel": "channel written", "coef_gain": "gain code (gain_format)",
                "coef_offset": "offset code (input format)",
            },
        }

    def _errors(self) -> dict:
        """Max and RMS error, in output LSBs, of what the unit emits: the fitted function
        (``value``), or its slope against ``f′`` (``derivative``; ``gradient`` for ``dY`` of
        one output LSB)."""
        errors = self.model.errors()
        if self.model.mode == "value":
            return {"of": "f(x)", "max": errors["max"], "rms": errors["rms"]}
        return {"of": "f′(x)", "max": errors["derivative_max"], "rms": errors["derivative_rms"]}

    def elaborate(self, platform):
        m = Module()
        model = self.model
        lanes = ("real", "imag") if self.complex else ("real",)

        slices = {name: input_register_slice(m, f"{name}_slice", getattr(self, name))
                  for name in (("i", "grad") if model.mode == "gradient" else ("i",))}
        head = slices["i"].payload
        gradient = slices["grad"].payload if "grad" in slices else None

        m.submodules.output = output = FramedOutput(model.output_format.width, None,
                                                    complex=self.complex)
        wiring.connect(m, wiring.flipped(self.o), output.o)
        m.d.comb += self.overflow.eq(output.overflow)
        advance = output.w_rdy
        available = slices["i"].valid & (self.coef_ready if model.affine else 1)
        if gradient is not None:
            available &= slices["grad"].valid
        take = advance & available
        for head_stream in slices.values():
            m.d.comb += head_stream.ready.eq(take)

        rom = self._coefficient_rom(m)
        depth = PWL_REGISTERS + (AFFINE_REGISTERS if model.affine else 0)
        flag_layout = data.StructLayout({"valid": 1, "last": 1, "overflow": 1})
        flags = [Signal(flag_layout, name=f"flags{index}") for index in range(1, depth + 1)]
        with m.If(advance):
            m.d.sync += [flags[0].valid.eq(take), flags[0].last.eq(head.last),
                         flags[0].overflow.eq(0)]
            m.d.sync += [later.eq(earlier) for earlier, later in zip(flags, flags[1:])]

        values = {lane: getattr(head.data, lane) for lane in lanes}
        if model.affine:
            values, pre_saturated = self._affine(m, head, values, advance)
            with m.If(advance):    # the PWL's first register takes z: note its saturation
                m.d.sync += flags[AFFINE_REGISTERS].overflow.eq(
                    flags[AFFINE_REGISTERS - 1].overflow | pre_saturated)

        saturated = []
        for lane in lanes:
            result, lane_saturated = self._lane(m, lane, values[lane],
                                                getattr(gradient.data, lane) if gradient is not None
                                                else None, rom, advance)
            m.d.comb += getattr(output.w_data, lane).eq(result)
            saturated.append(lane_saturated)
        overflow = flags[-1].overflow
        for lane_saturated in saturated:
            overflow = overflow | lane_saturated
        m.d.comb += [output.w_en.eq(advance & flags[-1].valid),
                     output.w_last.eq(flags[-1].last), output.w_overflow.eq(overflow)]
        return m

    def _affine(self, m, head, values, advance):
        """``z = sat(round((G·x + O·2^Fg) / 2^Fg))`` per lane with the sample's channel's gain
        and offset; three enabled cycles. Returns the ``z`` signals and their saturation (at
        the same register)."""
        model = self.model
        gain_format, width = model.gain_format, model.input_format.width
        table_layout = data.StructLayout({"gain": signed(gain_format.width),
                                          "offset": signed(width)})
        unity = {"gain": min(1 << gain_format.fraction, gain_format.max_code), "offset": 0}
        table = Memory(shape=table_layout, depth=max(2, model.channels),     # no 0-bit address
                       init=[unity] * max(2, model.channels))
        m.submodules.channel_table = table
        self._table_writes(m, table.write_port(), unity)
        read = table.read_port()
        channel = head.user if model.channels > 1 else 0
        m.d.comb += [read.addr.eq(channel), read.en.eq(advance)]

        results, saturated = {}, 0
        for lane, x in values.items():
            sample = Signal(signed(width), name=f"{lane}_affine_input")
            product = Signal(signed(width + gain_format.width), name=f"{lane}_affine_product")
            offset = Signal(signed(width), name=f"{lane}_affine_offset")
            z = Signal(signed(width), name=f"{lane}_z")
            z_saturated = Signal(name=f"{lane}_z_saturated")
            total = product + (offset << gain_format.fraction)
            rounded, overflow = saturate(round_shift(total, gain_format.fraction,
                                                     model.rounding), width)
            with m.If(advance):
                m.d.sync += [sample.eq(x), product.eq(read.data.gain * sample),
                             offset.eq(read.data.offset), z.eq(rounded),
                             z_saturated.eq(overflow)]
            results[lane] = z
            saturated = saturated | z_saturated
        return results, saturated

    def _table_writes(self, m, write, unity):
        """The host's writes, after reset has swept ``unity`` through every channel."""
        channels = self.model.channels
        restoring = Signal(init=1)
        restored = Signal(index_range(channels))
        m.d.comb += self.coef_ready.eq(~restoring)
        with m.If(restoring):
            m.d.comb += [write.addr.eq(restored), write.en.eq(1),
                         write.data.gain.eq(unity["gain"]), write.data.offset.eq(unity["offset"])]
            m.d.sync += restored.eq(restored + 1)
            with m.If(restored == channels - 1):
                m.d.sync += restoring.eq(0)
        with m.Else():
            m.d.comb += [write.addr.eq(self.coef_channel), write.en.eq(self.coef_write),
                         write.data.gain.eq(self.coef_gain),
                         write.data.offset.eq(self.coef_offset)]

    def _coefficient_rom(self, m):
        model = self.model
        slope_mask = (1 << model.slope_width) - 1
        intercept_mask = (1 << model.intercept_width) - 1
        rom = Memory(shape=unsigned(model.slope_width + model.intercept_width),
                     depth=len(model.slopes),
                     init=[(slope & slope_mask) | ((intercept & intercept_mask) << model.slope_width)
                           for slope, intercept in zip(model.slopes, model.intercepts)])
        m.submodules.coefficients = rom
        return rom

    def _segment(self, code):
        """Segment index of a clamped input code."""
        model = self.model
        if model.placement == "uniform":
            return ((code - model.low) >> model.segment_shift)[:max(1, (model.segments - 1)
                                                                    .bit_length())]
        return _balanced_sum([(code >= point).as_unsigned() for point in model.breakpoints])

    def _lane(self, m, lane, x, dy, rom, advance):
        """One component's pipeline; returns the rounded, saturated result and its overflow."""
        model = self.model
        width_in = model.input_format.width
        clamped = Signal(signed(width_in), name=f"{lane}_clamped")
        operand_in = Signal(signed(max(width_in, model.output_format.width)),
                            name=f"{lane}_gradient")
        with m.If(advance):
            m.d.sync += clamped.eq(Mux(x < model.low, model.low, Mux(x > model.high,
                                                                    model.high, x)))
            if dy is not None:
                m.d.sync += operand_in.eq(dy)

        coefficients = rom.read_port()
        m.d.comb += [coefficients.addr.eq(self._segment(clamped)), coefficients.en.eq(advance)]
        slope = coefficients.data[:model.slope_width].as_signed()
        intercept = coefficients.data[model.slope_width:].as_signed()

        operand = Signal(signed(max(width_in, model.output_format.width)),
                         name=f"{lane}_operand")
        product = Signal(signed(len(operand) + model.slope_width), name=f"{lane}_product")
        addend = Signal(signed(model.intercept_width + model.product_fraction
                               - model.intercept_fraction), name=f"{lane}_addend")
        total = Signal(signed(max(len(product), len(addend)) + 1), name=f"{lane}_total")
        with m.If(advance):
            m.d.sync += operand.eq(operand_in if dy is not None else clamped)
            if model.mode == "derivative":
                m.d.sync += product.eq(slope)
            else:
                m.d.sync += product.eq(slope * operand)
            if model.mode == "value":
                m.d.sync += addend.eq(intercept << (model.product_fraction
                                                    - model.intercept_fraction))
            m.d.sync += total.eq(product + addend)

        fraction = model.product_fraction if model.mode == "value" else model.slope_fraction
        shift = fraction - model.output_format.fraction
        scaled = round_shift(total, shift, model.rounding) if shift >= 0 else total << -shift
        return saturate(scaled, model.output_format.width)
