"""The FFT's stages in series, with the bit-reversal buffer for natural order: everything
between the input register and the output saturation, for the 1-D and the 2-D transform."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fft import FFTConfig, bit_reverse
from fdcnn.golden.permute import buffer_permutation
from fdcnn.hdl.buffers import fresh_flag
from fdcnn.hdl.fft.butterfly import ButterflyStage
from fdcnn.hdl.fft.sample import fixed_tags, sample_layout
from fdcnn.hdl.fft.twiddle import TwiddleMultiplier, rotation_latency
from fdcnn.hdl.permute import PermutationBuffer

__all__ = ["FFTPipeline", "stage_delay", "pipeline_delay"]


def stage_delay(config: FFTConfig, stage: int) -> int:
    """Advances through a stage: its delay line, then the twiddle multiplier or (no multiplier)
    one register."""
    rotation = rotation_latency(config.rotations[stage]) if stage in config.rotations else 1
    return config.stage_span(stage) + rotation


def pipeline_delay(config: FFTConfig) -> int:
    """Advances from a frame's first sample on :class:`FFTPipeline`'s ``i`` to its first result
    on ``o``."""
    stages = sum(stage_delay(config, stage) for stage in range(config.stages))
    reorder = PermutationBuffer.delay(config.size) if config.output_order == "natural" else 0
    return stages + reorder


class FFTPipeline(wiring.Component):
    """The ``config.stages`` butterfly stages of an R2SDF or R22SDF transform (each followed by
    its twiddle multiplier, or one register), then, for ``output_order="natural"``, a
    :class:`~fdcnn.hdl.permute.PermutationBuffer` undoing the bit reversal.

    Every element advances on its own (see :class:`~fdcnn.hdl.fft.butterfly.ButterflyStage`):
    the valid samples on ``o`` are :class:`~fdcnn.golden.fft.StreamingFFTModel`'s results
    before the final saturation to ``output_width``, in ``output_order``.

    The samples on ``i`` are ``data_width + guard_bits``-bit codes in the first stage's width,
    one bit wider, so that stage's differences fit its width and it rounds them on exit
    whatever its delay line (``headroom`` of
    :class:`~fdcnn.hdl.fft.butterfly.ButterflyStage`).

    Buffers do not store the tags that cannot change (:func:`~fdcnn.hdl.fft.sample.fixed_tags`):
    ``inverse`` for a fixed direction, and ``overflow`` up to the first stage that can
    saturate, unless ``input_overflow`` says samples may arrive with it set.

    Parameters
    ----------
    config : FFTConfig
    input_overflow : bool
        Samples on ``i`` may carry ``overflow`` (the 2-D FFT's columns: the rows' output
        narrowing saturates); otherwise it is 0 on the input.

    Members
    -------
    stall : In(1)
    i : In(sample_layout(config.stage_widths[0]))
    fresh : In(1)
        ``i`` is a sample the pipeline has not seen (the upstream register advanced last
        cycle).
    o : Out(sample_layout(config.stage_widths[-1]))
        The last element's output register.
    fresh_out : Out(1)
        ``o`` holds a sample the next element has not seen.
    """

    def __init__(self, config: FFTConfig, *, input_overflow: bool = False):
        self.config = config
        self.input_overflow = input_overflow
        super().__init__({"stall": In(1), "i": In(sample_layout(config.stage_widths[0])),
                          "fresh": In(1), "o": Out(sample_layout(config.stage_widths[-1])),
                          "fresh_out": Out(1)})

    def elaborate(self, platform):
        m = Module()
        config = self.config
        sample, fresh = self.i, self.fresh
        for stage in range(config.stages):
            sample, advance = self._stage(m, stage, sample, fresh)
            fresh = fresh_flag(m, f"stage{stage}_fresh", advance, self.stall)
        if config.output_order == "natural":
            positions = range(config.size)
            reorder = PermutationBuffer(
                permutation=buffer_permutation(bit_reverse(positions, config.stages), positions),
                layout=sample_layout(config.stage_widths[-1]),
                constants=self._fixed_tags(config.stages))
            m.submodules.reorder = reorder
            m.d.comb += [reorder.stall.eq(self.stall), reorder.i.eq(sample),
                         reorder.fresh.eq(fresh)]
            sample, fresh = reorder.o, fresh_flag(m, "reorder_fresh", reorder.advance,
                                                  self.stall)
        m.d.comb += [self.o.eq(sample), self.fresh_out.eq(fresh)]
        return m

    def _fixed_tags(self, stages, saturating=False):
        """The tags no buffer needs to store after ``stages`` whole stages (and a butterfly that
        is ``saturating``)."""
        saturated = any(any(points) for points in self.config.saturation_points[:stages])
        return fixed_tags(self.config.direction,
                          overflow_possible=self.input_overflow or saturated or saturating)

    def _stage(self, m, stage, sample, fresh):
        """Stage ``stage``: the butterfly, then the twiddle multiplier or a register. Returns
        the stage's output register and its advance."""
        config = self.config
        span, width = config.stage_span(stage), config.stage_widths[stage + 1]
        butterfly_saturation, rotation_saturation = config.saturation_points[stage]
        butterfly = ButterflyStage(span=span, input_width=config.stage_widths[stage], width=width,
                                   shift=config.shifts[stage], rounding=config.rounding,
                                   minus_j=stage in config.minus_j_stages,
                                   saturation=butterfly_saturation,
                                   ram_min_depth=config.delay_ram_depth,
                                   headroom=stage == 0,
                                   constant_tags=self._fixed_tags(stage, butterfly_saturation),
                                   family=config.family)
        m.submodules[f"stage{stage}"] = butterfly
        m.d.comb += [butterfly.stall.eq(self.stall), butterfly.i.eq(sample),
                     butterfly.fresh.eq(fresh)]
        advance = butterfly.advance
        if stage not in config.multiplier_stages:
            result = Signal(sample_layout(width), name=f"stage{stage}_out")
            with m.If(advance):
                m.d.sync += result.eq(butterfly.o)
            return result, advance
        rotator = TwiddleMultiplier(rotation=config.rotations[stage], width=width,
                                    twiddle_width=config.twiddle_width, rounding=config.rounding,
                                    multiplier=config.multiplier,
                                    presum_operand=config.presum_operand(stage),
                                    saturation=rotation_saturation, family=config.family)
        m.submodules[f"stage{stage}_twiddle"] = rotator
        m.d.comb += [rotator.en.eq(advance), rotator.i.eq(butterfly.o)]
        return rotator.o, advance
