"""Crop-based spectral pooling unit and its adjoint (unpooling), streaming.

The arithmetic and orders are exactly :class:`golden.pool.SpectralPoolModel`'s (read its
docstring). Frames are row-major, ``H × W`` spectra and ``h × w`` pooled spectra.

Forward (``H·W`` in, ``h·w`` out, one input sample per clock): a position counter per dimension gives
each sample's natural index (its position, or the position's bits reversed), and comparisons
decide whether it is kept. Kept samples leave in arrival order, which is already the output's
natural or bit-reversed order, so the crop needs no memory.

Backward (``h·w`` in, ``H·W`` out, one output sample per clock): the counters run over output
positions; a position whose row and column are both kept takes the next input sample, every
other position is a zero, and the input waits meanwhile.

What needs buffering, and why — only ``nyquist="fold"`` buffers anything:

* along the columns, the Nyquist bin pairs ``n/2`` with ``N − n/2`` of the same row, which
  arrives later in that row: one sample register;
* along the rows, row ``n/2`` pairs with row ``N − n/2`` (in both orders the first comes first):
  one pooled row, ``w`` words, in a RAM. Forward it holds row ``n/2``'s column-folded samples
  until row ``N − n/2`` adds them; backward it holds the input's Nyquist row, which is emitted
  at both row positions.

Pipeline: input register slice, one register of classification (and the row RAM's synchronous
read), one register, output register slice (all in ``hdl.stream``): latency 3 cycles from an
input handshake to the handshake of the output sample it makes (or starts).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from fdcnn.golden.pool import PoolConfig, SpectralPoolModel, has_nyquist
from fdcnn.hdl.fixed import saturate
from fdcnn.hdl.shapes import index_range
from fdcnn.hdl.stream import (INPUT_SLICE_LATENCY, FramedOutput, check_tlast,
                              complex_layout, frame_block_members, input_register_slice)

__all__ = ["SpectralPool"]


class _DimensionCounter:
    """Position counter of one dimension (rows or columns) and what the position's natural
    index means there."""

    def __init__(self, m, name, size, pooled, order, nyquist):
        self.size = size
        self.position = Signal(index_range(size), name=f"{name}_position")
        self.at_end = self.position == size - 1
        bits = (size - 1).bit_length()
        if order == "bit_reversed" and bits:
            index = Cat(*(self.position[bit] for bit in reversed(range(bits))))
        else:
            index = self.position
        half = pooled // 2
        self.kept = (index < (pooled + 1) // 2) | (index >= size - half)
        special = has_nyquist(size, pooled)
        self.first = (index == half) if special else Const(0)   # index n/2, not kept
        self.second = (index == size - half) if special else Const(0)
        self.fold = nyquist == "fold" and special
        self.zero = nyquist == "zero" and special

    def step(self, m, enable):
        """Advance on ``enable``; the expression is true when this step wraps the dimension."""
        with m.If(enable):
            m.d.sync += self.position.eq(Mux(self.at_end, 0, self.position + 1))
        return enable & self.at_end


class SpectralPool(wiring.Component):
    """Spectral pooling (``direction="forward"``) or unpooling (``"backward"``).

    Parameters
    ----------
    config : PoolConfig
        The unit (validated when it was made).

    Members
    -------
    i : In(complex_stream(data_width))
        Input frames (``H·W`` forward, ``h·w`` backward samples); ``last`` is checked only.
    o : Out(complex_stream(output_width))
        Output frames, ``last`` on each frame's final sample.
    overflow : Out(1)
        With each output sample: a fold in this output frame saturated (so far; complete on
        ``last``). Only ``nyquist="fold"`` with ``fold_growth=False`` can saturate.
    tlast_missing, tlast_unexpected : Out(1)
        One-cycle pulses when an input sample whose ``last`` disagrees with the frame length
        is taken in.
    """

    def __init__(self, config: PoolConfig):
        self.model = SpectralPoolModel(config)
        super().__init__(frame_block_members(config.data_width, config.output_width))

    @property
    def output_width(self) -> int:
        return self.model.output_width

    @property
    def latency(self) -> int:
        """Clock cycles from an input sample's handshake to that of the output sample it makes
        (forward) or starts (backward), with no gaps or stalls: the input register slice, the
        classification register, the output register slice."""
        return INPUT_SLICE_LATENCY + 1 + FramedOutput.latency

    def describe(self):
        """What a user of the generated Verilog needs besides the ports' names (for JSON)."""
        model = self.model
        frame = "{0[0]}×{0[1]} samples, row-major"
        return {
            "parameters": self.model.config.parameters(),
            "latency_cycles": self.latency,
            "throughput": ("1 input sample per clock" if model.direction == "forward"
                           else "1 output sample per clock"),
            "input_frame": frame.format(model.input_shape),
            "output_frame": frame.format(model.output_shape),
            "input_format": {"width": model.data_width},
            "output_format": {"width": model.output_width},
            "order": model.order,
            "port_descriptions": {
                "overflow": "with each m_axis beat: a Nyquist fold of this output frame "
                            "saturated (so far; complete on the tlast beat)",
                "tlast_missing": "1-cycle pulse: an input frame's last sample had no tlast",
                "tlast_unexpected": "1-cycle pulse: tlast before an input frame's last sample",
            },
        }

    def elaborate(self, platform):
        m = Module()
        model = self.model
        input_slice = input_register_slice(m, "input_slice", self.i)
        head = input_slice.payload
        output_rows, output_columns = model.output_shape
        m.submodules.output = output = FramedOutput(model.output_width,
                                                    output_rows * output_columns)
        wiring.connect(m, wiring.flipped(self.o), output.o)
        m.d.comb += self.overflow.eq(output.overflow)

        rows, columns = (_DimensionCounter(m, name, size, pooled, model.order, model.nyquist)
                         for name, size, pooled in zip(("row", "column"), model.spectrum_shape,
                                                       model.pooled_shape))
        row_buffer = None
        if rows.fold:   # forward: column-folded samples (one bit wider); backward: inputs
            stored_width = model.data_width + (model.direction == "forward")
            row_buffer = Memory(shape=complex_layout(stored_width),
                                depth=model.pooled_shape[1], init=[])
            m.submodules.row_buffer = row_buffer
        builder = self._forward if model.direction == "forward" else self._backward
        builder(m, head, input_slice, output, rows, columns, row_buffer)
        return m

    def _column_counter(self, m, count_enable, row_start):
        """Counts, within a row, the columns that ``count_enable`` marks (the row RAM address)."""
        counter = Signal(range(self.model.pooled_shape[1] + 1), name="pooled_column")
        with m.If(row_start):
            m.d.sync += counter.eq(0)
        with m.Elif(count_enable):
            m.d.sync += counter.eq(counter + 1)
        return counter

    def _forward(self, m, head, input_slice, output, rows, columns, row_buffer):
        model = self.model
        width = model.data_width
        advance = output.w_rdy
        step = advance & input_slice.valid
        m.d.comb += input_slice.ready.eq(step)
        wrapped = columns.step(m, step)
        rows.step(m, wrapped)
        check_tlast(m, step, rows.at_end & columns.at_end, head.last,
                    self.tlast_missing, self.tlast_unexpected)
        column = self._column_counter(m, step & columns.kept, wrapped)

        # Along the columns: hold X[n/2], add it at X[N − n/2] (fold) or emit 0 there (zero).
        value = Signal(complex_layout(width + 1), name="column_folded")
        m.d.comb += [value.real.eq(head.data.real), value.imag.eq(head.data.imag)]
        if columns.fold:
            held = Signal(complex_layout(width), name="column_nyquist")
            with m.If(step & columns.first):
                m.d.sync += held.eq(head.data)
            with m.If(columns.second):
                m.d.comb += [value.real.eq(head.data.real + held.real),
                             value.imag.eq(head.data.imag + held.imag)]
        emit = rows.kept & columns.kept

        classified = Signal(data.StructLayout({"value": complex_layout(width + 1), "valid": 1,
                                               "add_row": 1, "zero": 1}))
        with m.If(advance):
            m.d.sync += [classified.value.eq(value), classified.valid.eq(step & emit),
                         classified.add_row.eq(rows.fold & rows.second),
                         classified.zero.eq((rows.zero & rows.second)
                                            | (columns.zero & columns.second))]
        kept = classified.value
        result_real, result_imag = kept.real, kept.imag
        if row_buffer is not None:
            write = row_buffer.write_port()
            read = row_buffer.read_port(transparent_for=())
            m.d.comb += [write.addr.eq(column), write.data.eq(value),
                         write.en.eq(step & rows.first & columns.kept),
                         read.addr.eq(column), read.en.eq(advance)]
            result_real = Mux(classified.add_row, kept.real + read.data.real, kept.real)
            result_imag = Mux(classified.add_row, kept.imag + read.data.imag, kept.imag)
        real, real_saturated = saturate(result_real, model.output_width)
        imag, imag_saturated = saturate(result_imag, model.output_width)
        m.d.comb += [
            output.w_en.eq(advance & classified.valid),
            output.w_data.real.eq(Mux(classified.zero, 0, real)),
            output.w_data.imag.eq(Mux(classified.zero, 0, imag)),
            output.w_overflow.eq(~classified.zero & (real_saturated | imag_saturated)),
        ]

    def _backward(self, m, head, input_slice, output, rows, columns, row_buffer):
        model = self.model
        width = model.data_width

        def takes(dimension):     # the position takes an input sample; with fold, the first
            if dimension.fold:    # Nyquist position takes it and the second repeats it
                return (dimension.kept & ~dimension.second) | dimension.first
            return dimension.kept

        def replays(dimension):   # fold's second Nyquist position repeats the first
            return dimension.second if dimension.fold else Const(0)

        consume = takes(rows) & takes(columns)
        active = (takes(rows) | replays(rows)) & (takes(columns) | replays(columns))
        dropped = (rows.zero & rows.second) | (columns.zero & columns.second)
        advance = output.w_rdy
        step = advance & (~consume | input_slice.valid)
        taken = step & consume
        m.d.comb += input_slice.ready.eq(taken)
        wrapped = columns.step(m, step)
        rows.step(m, wrapped)
        column = self._column_counter(m, step & takes(columns), wrapped)

        pooled_rows, pooled_columns = model.pooled_shape
        received = Signal(index_range(pooled_rows * pooled_columns), name="input_position")
        frame_end = received == pooled_rows * pooled_columns - 1
        with m.If(taken):
            m.d.sync += received.eq(Mux(frame_end, 0, received + 1))
        check_tlast(m, taken, frame_end, head.last, self.tlast_missing, self.tlast_unexpected)

        classified = Signal(data.StructLayout({"input": complex_layout(width), "valid": 1,
                                               "zero": 1, "from_row": 1, "from_column": 1,
                                               "hold_column": 1}))
        with m.If(advance):
            m.d.sync += [classified.input.eq(head.data), classified.valid.eq(step),
                         classified.zero.eq(~active | dropped),
                         classified.from_row.eq(replays(rows)),
                         classified.from_column.eq(replays(columns)),
                         classified.hold_column.eq(columns.first & columns.fold)]
        value = Signal(complex_layout(width), name="unpooled")
        m.d.comb += value.eq(classified.input)
        if row_buffer is not None:
            write = row_buffer.write_port()
            read = row_buffer.read_port(transparent_for=())
            m.d.comb += [write.addr.eq(column), write.data.eq(head.data),
                         write.en.eq(taken & rows.first),
                         read.addr.eq(column), read.en.eq(advance)]
            with m.If(classified.from_row):
                m.d.comb += value.eq(read.data)
        if columns.fold:
            held = Signal(complex_layout(width), name="column_nyquist")
            with m.If(advance & classified.valid & classified.hold_column):
                m.d.sync += held.eq(value)
            with m.If(classified.from_column):
                m.d.comb += value.eq(held)
        m.d.comb += [
            output.w_en.eq(advance & classified.valid),
            output.w_data.real.eq(Mux(classified.zero, 0, value.real)),
            output.w_data.imag.eq(Mux(classified.zero, 0, value.imag)),
            output.w_overflow.eq(0),
        ]
