"""Streaming 2-D FFT/iFFT: row transforms, a corner turn, column transforms, one sample per
clock, frames back to back (:class:`fdcnn.golden.fft2d.FFT2DModel` is its arithmetic).

Architecture
------------
``H × W`` frames arrive row-major. A ``W``-point :class:`~fdcnn.hdl.fft.pipeline.FFTPipeline`
transforms each row (bit-reversed order, so it needs no reorder buffer of its own); its results
are saturated to the row transform's output width and enter the **corner turn**, a
:class:`~fdcnn.hdl.permute.PermutationBuffer` of ``H·W`` words that writes rows and reads
columns (the bit reversal of the row bins is folded into the same address permutation). An
``H``-point pipeline transforms each column; its results leave column by column (``X.T``), each
axis in ``output_order`` (natural order adds the column pipeline's ``H``-word reorder RAM).

Buffers: the corner turn holds exactly one frame, ``H·W`` words of ``2·(row output width) + 2``
bits (the two tags are the frame's direction and overflow). One frame is the minimum: a column
transform needs a column's last sample, which arrives with the frame's last row. A
double-buffered corner turn would need two; here each word is read for the old frame as the new
frame's sample takes its place (the addressing permutes by one more step per frame), and the
read side runs on its own, so the last frame leaves without a following one. Add the 1-D
pipelines' delay lines, ``W − 1`` and ``H − 1`` words.

Real input: a real image costs the same as a complex one here. Packing two real images into one
complex transform would halve the transform work, but separating the two spectra needs
``X[k]`` and ``X[−k]`` together (a second full-frame buffer) and produces two spectra per input
frame, which a one-sample-per-clock chain cannot take without a second lane; and after the
first spectral activation (split-complex, not odd) spectra are no longer Hermitian, so every
later transform is complex anyway. So the imaginary input of a real image is simply zero.

Flow control, ports, tags, ``overflow`` and ``tlast`` checks are the 1-D FFT's
(:class:`~fdcnn.hdl.fft.StreamingFFT`): ``user[0]`` of a frame's first sample picks the
direction with ``direction="runtime"``; the inverse swaps real and imaginary parts at the input
and at the output only.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring

from fdcnn.golden.fft2d import FFT2DConfig, FFT2DModel
from fdcnn.hdl.buffers import fresh_flag
from fdcnn.hdl.fft.pipeline import FFTPipeline, pipeline_delay
from fdcnn.hdl.fft.sample import copy_sample, fixed_tags, sample_layout
from fdcnn.hdl.fft.top import drain_pipeline, feed_pipeline, narrowed, transform_members
from fdcnn.hdl.axis import describe_format
from fdcnn.hdl.permute import PermutationBuffer
from fdcnn.hdl.stream import (INPUT_SLICE_LATENCY, TLAST_PORT_DESCRIPTIONS, FramedOutput,
                              frame_shell)

__all__ = ["FFT2D"]


class FFT2D(wiring.Component):
    """Streaming 2-D FFT/iFFT of ``H × W`` frames, one complex sample per clock.

    Members
    -------
    i : In(complex_stream(data_width, user_width=1 if direction == "runtime"))
        Frames row-major; ``last`` on a frame's final sample (checked only).
    o : Out(complex_stream(output_width))
        The spectrum column by column (``X.T`` row-major), each axis in ``output_order``;
        ``last`` on each frame's final sample.
    overflow, tlast_missing, tlast_unexpected : Out(1)
        As :class:`~fdcnn.hdl.fft.StreamingFFT`'s, per 2-D frame.
    """

    def __init__(self, config: FFT2DConfig):
        self.model = FFT2DModel(config)
        super().__init__(transform_members(config))

    @property
    def multipliers(self) -> int:
        """Real multipliers: the row and the column pipeline's."""
        config = self.model.config
        return config.row_config.multipliers + config.column_config.multipliers

    @property
    def buffer_words(self) -> dict:
        """RAM and delay-line words by purpose (each word one complex sample and its tags)."""
        config = self.model.config
        words = {"corner_turn": config.size, "row_delay_lines": config.columns - 1,
                 "column_delay_lines": config.rows - 1}
        if config.output_order == "natural":
            words["column_reorder"] = config.rows
        return words

    @property
    def latency(self) -> int:
        """Clock cycles from a frame's first input handshake to its first output handshake,
        without gaps or stalls: input slice, input register, row pipeline, corner turn (with
        its output register from 64 words), column pipeline, output slice."""
        config = self.model.config
        return (INPUT_SLICE_LATENCY + 1 + pipeline_delay(config.row_config)
                + PermutationBuffer.delay(config.size) + pipeline_delay(config.column_config)
                + FramedOutput.latency)

    def describe(self) -> dict:
        config = self.model.config
        rows, columns = config.shape
        return {
            "parameters": config.parameters(),
            "latency_cycles": self.latency,
            "throughput": "1 sample per clock, frames back to back",
            "multipliers": self.multipliers,
            "buffer_words": self.buffer_words,
            "input_format": describe_format(config.input_format),
            "output_format": describe_format(config.output_format),
            "output": (f"{'IDFT2' if config.direction == 'inverse' else 'DFT2'}(x)"
                       + (" / (H·W)" if config.scaling == "stage" and config.direction != "inverse"
                          else "") + ", transposed: column by column"
                       + (", inverse per frame (s_axis_tuser)" if config.direction == "runtime"
                          else "")),
            "input_order": f"row-major, {rows} rows of {columns}",
            "output_order": f"{columns} columns of {rows} (X.T row-major), each axis "
                            f"{config.output_order}",
            "port_descriptions": {
                "s_axis_tuser": "bit 0 with a frame's first sample: 1 = inverse transform",
                "overflow": "with each m_axis beat: a sum, product or output of this output "
                            "frame saturated (so far; complete on the tlast beat)",
                **TLAST_PORT_DESCRIPTIONS,
            },
        }

    def elaborate(self, platform):
        m = Module()
        config = self.model.config
        row_config, column_config = config.row_config, config.column_config
        shell = frame_shell(m, self, config.size, config.output_width)
        stall = ~shell.enable
        m.submodules.rows = rows = FFTPipeline(row_config)
        feed_pipeline(m, rows, shell, config.direction)

        m.submodules.corner_turn = corner = PermutationBuffer(
            permutation=config.corner_turn, layout=sample_layout(row_config.output_width),
            constants=fixed_tags(config.direction, overflow_possible=True))
        real, imag, saturated = narrowed(rows.o, row_config)
        m.d.comb += [corner.stall.eq(stall), corner.fresh.eq(rows.fresh_out),
                     *copy_sample(corner.i, rows.o, real=real, imag=imag, overflow=saturated)]

        m.submodules.columns = columns = FFTPipeline(column_config, input_overflow=True)
        m.d.comb += [*copy_sample(columns.i, corner.o), columns.stall.eq(stall),
                     columns.fresh.eq(fresh_flag(m, "corner_turn_fresh", corner.advance, stall))]
        drain_pipeline(m, columns, shell.output)
        return m
