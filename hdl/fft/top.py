"""Streaming single-path delay feedback FFT/iFFT generator, radix-2 (R2SDF) or radix-2²
(R22SDF).

The pipeline is built from parts that each have a golden counterpart in
:mod:`fdcnn.golden.fft` and a unit test: :class:`~fdcnn.hdl.fft.butterfly.ButterflyStage`
(:func:`~fdcnn.golden.fft.butterfly_stage`), :class:`~fdcnn.hdl.fft.twiddle.TwiddleMultiplier`
with its :class:`~fdcnn.hdl.fft.twiddle.TwiddleROM` (:func:`~fdcnn.golden.fft.twiddle_stage`),
and :class:`~fdcnn.hdl.permute.PermutationBuffer` (bit reversal), in series in
:class:`~fdcnn.hdl.fft.pipeline.FFTPipeline`; :class:`StreamingFFT` puts the stream shell around
it.

Architecture
------------
Decimation in frequency, one complex sample per clock in and out. Stage ``s`` of
``m = log2(N)`` has a delay line of ``L = N / 2**(s+1)`` words (``N − 1`` words in all): for
the first ``L`` samples of each ``2L`` block it stores the input and emits the previous block's
pending differences; for the next ``L`` it forms ``sum``/``diff`` with the stored samples,
emits the sum and stores the difference. ``architecture="r2sdf"``: stages with ``L ≥ 4``
multiply the differences by twiddles from a ROM (4 real multipliers each, ``4·(m − 2)`` in
all); the ``L = 2`` stage's ``−j`` is a swap and negate; the ``L = 1`` stage needs neither.
``architecture="r22sdf"``: the stages pair up (odd ``m``: the last, ``L = 1`` stage alone); the
first of a pair multiplies the second half of its differences by ``−j`` (swap and negate), the
second is followed by a twiddle multiplier unless the pair's block is 4 samples, so
``⌈m/2⌉ − 1`` multipliers in all, each reading a ROM of ``3/4`` of its block. The same
:class:`~fdcnn.hdl.fft.butterfly.ButterflyStage` and
:class:`~fdcnn.hdl.fft.twiddle.TwiddleMultiplier` serve both, configured by
:attr:`~fdcnn.golden.fft.FFTConfig.minus_j_stages` and
:attr:`~fdcnn.golden.fft.FFTConfig.rotations`. The arithmetic is exactly
:class:`fdcnn.golden.fft.StreamingFFTModel`'s (read its docstring for formats, rounding and
saturation).

Each multiplier stage is pipelined as a DSP block wants it: the butterfly register beside the
twiddle ROM's read register (and its output register for a ROM that may be block RAM:
:func:`~fdcnn.hdl.buffers.output_register`), registered operands, registered products,
registered sum, then a register after rounding. What a butterfly writes into its delay line is
registered before the difference's rounding. Delay lines of ``delay_ram_depth`` words and more
are RAM (block RAM), shorter ones shift registers; ``output_order="natural"`` adds one
``N``-word RAM that is written and read in place, alternating linear and bit-reversed
addressing per frame.

The inverse transform swaps real and imaginary parts at the input and at the output, which is
exactly the forward pipeline with conjugated twiddles, so the runtime direction costs two
multiplexers.

Flow control
------------
Every element advances on its own: the input register on every cycle the output slice has room
(``stall`` low), taking a sample if one is there; each butterfly stage (with the twiddle
multiplier or register after it) when a valid sample reaches it, and, between two of its blocks
with nothing arriving, to flush: the previous block's differences, still in its delay line,
leave without waiting for another block (:class:`~fdcnn.hdl.fft.butterfly.ButterflyStage`); the
reorder buffer reads a complete frame out whether or not another one is arriving. So a pause
between frames costs that pause and nothing more, a frame arriving at an idle core sees
:attr:`StreamingFFT.latency`, and the last frame leaves on its own. Within a frame an input
gap holds the stages that are waiting for it; an output stall holds everything.

Both ports have a two-entry register slice, and every enable is a function of registered
state only: no combinational path runs from ``s_axis_tvalid`` or ``m_axis_tready`` into the
pipeline or to the other port.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, wiring

from fdcnn.golden.fft import FFTConfig, StreamingFFTModel
from fdcnn.hdl.fft.pipeline import FFTPipeline, pipeline_delay
from fdcnn.hdl.fft.sample import sample_layout
from fdcnn.hdl.axis import describe_format
from fdcnn.hdl.fixed import round_shift, saturate
from fdcnn.hdl.stream import (INPUT_SLICE_LATENCY, TLAST_PORT_DESCRIPTIONS, FramedOutput,
                              complex_layout, frame_block_members, frame_shell)

__all__ = ["StreamingFFT", "transform_members", "feed_pipeline", "drain_pipeline",
           "frame_direction", "input_register", "narrowed", "output_sample"]


class StreamingFFT(wiring.Component):
    """Streaming R2SDF FFT/iFFT, one complex sample per clock.

    Parameters
    ----------
    config : FFTConfig
        The transform (validated when it was made).

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

    def __init__(self, config: FFTConfig):
        self.model = StreamingFFTModel(config)
        super().__init__(transform_members(config))

    @property
    def output_width(self) -> int:
        return self.model.output_width

    @property
    def multipliers(self) -> int:
        """Real multipliers in the design: 4 (or 3 with ``3mult``) per twiddle stage."""
        return self.model.config.multipliers

    def describe(self) -> dict:
        """What a user of the generated Verilog needs besides the ports' names (for JSON)."""
        config = self.model.config
        return {
            "parameters": config.parameters(),
            "latency_cycles": self.latency,
            "throughput": "1 sample per clock, frames back to back",
            "multipliers": self.multipliers,
            "stage_shifts": list(config.shifts),
            "input_format": describe_format(config.input_format),
            "output_format": describe_format(config.output_format),
            "output": (f"{'IDFT' if config.direction == 'inverse' else 'DFT'}(x) / "
                       f"2**{config.total_shift}" + (", inverse per frame (s_axis_tuser)"
                                                      if config.direction == "runtime" else "")),
            "output_order": config.output_order,
            "port_descriptions": {
                "s_axis_tuser": "bit 0 with a frame's first sample: 1 = inverse transform",
                "overflow": "with each m_axis beat: a sum, product or output of this output "
                            "frame saturated (so far; complete on the tlast beat)",
                **TLAST_PORT_DESCRIPTIONS,
            },
        }

    @property
    def latency(self) -> int:
        """Clock cycles from the handshake of a frame's first input sample to the handshake of
        its first result, with no input gaps and ``m_axis_tready`` high: the input register
        slice, the input register, the stages, the reorder buffer (natural order), and the
        output register slice."""
        return (INPUT_SLICE_LATENCY + 1 + pipeline_delay(self.model.config)
                + FramedOutput.latency)

    def elaborate(self, platform):
        m = Module()
        config = self.model.config
        # Two-entry register slices on both ports: every enable in the pipeline depends on
        # registered state only, never combinationally on s_axis_tvalid or m_axis_tready.
        shell = frame_shell(m, self, config.size, config.output_width)
        m.submodules.pipeline = pipeline = FFTPipeline(config)
        feed_pipeline(m, pipeline, shell, config.direction)
        drain_pipeline(m, pipeline, shell.output)
        return m


def transform_members(config):
    """The members of a transform (1-D or 2-D) with ``config``'s widths: a frame block whose
    input has a 1-bit ``user`` (the frame's direction) when the direction is chosen at run
    time."""
    user_width = 1 if config.direction == "runtime" else 0
    return frame_block_members(config.data_width, config.output_width, user_width=user_width)


def feed_pipeline(m, pipeline, shell, direction):
    """The shell's accepted samples (the frame's direction applied) into ``pipeline``'s first
    register, which loads on every cycle the shell is enabled."""
    inverse = frame_direction(m, direction, shell.head, shell.slot == 0, shell.accept)
    config = pipeline.config
    m.d.comb += [pipeline.stall.eq(~shell.enable), pipeline.fresh.eq(1),
                 pipeline.i.eq(input_register(m, shell.head, shell.accept, shell.enable, inverse,
                                              config.stage_widths[0], config.guard_bits))]


def drain_pipeline(m, pipeline, output):
    """``pipeline``'s results, rounded by the guard bits, saturated to the output width and
    swapped back for the inverse, into the framed ``output``."""
    result = output_sample(m, pipeline.o, pipeline.config)
    m.d.comb += [output.w_en.eq(pipeline.fresh_out & pipeline.o.valid),
                 output.w_data.eq(result.data), output.w_overflow.eq(result.overflow)]


def frame_direction(m, direction, head, first, accept):
    """Whether the sample at ``head`` belongs to an inverse frame: fixed, or (``runtime``)
    ``user[0]`` of the frame's ``first`` sample, held for the rest of the frame."""
    if direction != "runtime":
        return int(direction == "inverse")
    frame_inverse = Signal()
    with m.If(accept & first):
        m.d.sync += frame_inverse.eq(head.user[0])
    return Mux(first, head.user[0], frame_inverse)


def input_register(m, head, accept, advance, inverse, width, guard=0):
    """The sample at ``head`` shifted left by ``guard`` bits, real and imaginary parts swapped
    for the inverse transform, into the first pipeline register (``width`` bits): it loads on
    every ``advance``, valid when the sample was ``accept``ed. The data of an invalid sample
    is whatever the head held: no valid result is ever formed from it."""
    sample = Signal(sample_layout(width))
    real, imag = head.data.real << guard, head.data.imag << guard
    with m.If(advance):
        m.d.sync += [sample.real.eq(Mux(inverse, imag, real)),
                     sample.imag.eq(Mux(inverse, real, imag)),
                     sample.valid.eq(accept), sample.inverse.eq(inverse),
                     sample.overflow.eq(0)]
    return sample


def narrowed(sample, config):
    """The last stage's ``sample`` as the transform's output: rounded by the guard bits and
    saturated to ``output_width`` (:meth:`~fdcnn.golden.fft.StreamingFFTModel.transform`'s
    last step). Returns ``real``, ``imag`` and whether either saturated."""
    real, real_saturated = saturate(round_shift(sample.real, config.guard_bits, config.rounding),
                                    config.output_width)
    imag, imag_saturated = saturate(round_shift(sample.imag, config.guard_bits, config.rounding),
                                    config.output_width)
    return real, imag, real_saturated | imag_saturated


def output_sample(m, sample, config):
    """``sample`` :func:`narrowed` with the inverse's swap undone: ``data`` (``real``,
    ``imag``) and ``overflow`` (the sample's own, or the narrowing's)."""
    real, imag, saturated = narrowed(sample, config)
    result = Signal(data.StructLayout({"data": complex_layout(config.output_width),
                                       "overflow": 1}))
    m.d.comb += [
        result.data.real.eq(Mux(sample.inverse, imag, real)),
        result.data.imag.eq(Mux(sample.inverse, real, imag)),
        result.overflow.eq(sample.overflow | saturated),
    ]
    return result
