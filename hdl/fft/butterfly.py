"""The radix-2 single-path delay-feedback butterfly (:func:`fdcnn.golden.fft.butterfly_stage`)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.buffers import RAM_MIN_DEPTH, DelayLine
from fdcnn.hdl.fft.sample import copy_sample, sample_layout
from fdcnn.hdl.fixed import round_shift, rounded_sum, saturate

__all__ = ["ButterflyStage"]


class ButterflyStage(wiring.Component):
    """One R2SDF butterfly with its ``span``-word delay line, advancing on its own.

    A block is ``2·span`` valid inputs. For the first ``span`` the stage stores the input and
    emits what its delay line held (the previous block's differences); for the next ``span`` it
    forms ``sum``/``diff`` with the stored samples (each divided by ``2**shift``, rounded,
    saturated to ``width`` bits), emits the sum and stores the difference. So the valid samples
    on ``o`` are :func:`~fdcnn.golden.fft.butterfly_stage`'s output in order; with ``minus_j``
    the differences at index ``n ≥ span/2`` leave multiplied by ``−j`` (a swap and a saturating
    negation, :func:`~fdcnn.golden.fft.minus_j_stage`). ``o`` is combinational: the next
    element registers it when ``advance`` is high.

    The stage advances (``advance``) when it takes a valid input, or, between blocks and with
    no input, to flush: the previous block's differences still in the delay line, and the
    ``tail`` registers after it, leave without waiting for another block. A block arriving
    meanwhile simply starts: the delay line is a queue of ``span`` samples, so the pending
    differences keep leaving in order and what follows them is invalid filler. One counter,
    the advances still needed to flush, also tells which difference is leaving (the ``−j``
    applies from index ``span/2`` on). Nothing advances while ``stall`` is high.

    Parameters
    ----------
    span : int
        Butterfly span ``L`` (a power of two), also the delay line's length.
    input_width, width : int
        Component bits in and out.
    shift : int
        Right shift of the sums and differences.
    rounding : str
        Rounding of that shift.
    tail : int
        Registers after the stage that move with ``advance`` (the twiddle multiplier's latency,
        or one output register): a block's last difference needs ``span + tail`` advances to
        leave them.
    minus_j : bool
        Rotate the second half of the differences by ``−j`` (``span ≥ 2``).
    ram_min_depth : int
        The delay line is RAM from this span on, registers below it
        (:class:`~fdcnn.hdl.buffers.DelayLine`).
    saturation : bool
        Build the saturation of sums, differences and the ``−j`` negation; ``False`` where
        they are proven to fit ``width`` (:attr:`~fdcnn.golden.fft.FFTConfig.saturation_points`).
    constant_tags : dict
        Tags (``inverse``, ``overflow``) that every sample of this stage, input or difference,
        carries with the given value: the delay line does not store them.

    Members
    -------
    stall : In(1)
        Hold everything (the output cannot take a sample).
    i : In(sample_layout(input_width))
    fresh : In(1)
        ``i`` has not been seen by this stage before (the upstream advanced last cycle).
    advance : Out(1)
    o : Out(sample_layout(width))
    """

    def __init__(self, *, span: int, input_width: int, width: int, shift: int, rounding: str,
                 tail: int, minus_j: bool = False, saturation: bool = True,
                 ram_min_depth: int = RAM_MIN_DEPTH, constant_tags: dict | None = None):
        check_rounding(rounding)
        if minus_j and span < 2:
            raise ValueError(f"A −j rotation needs a span of at least 2, not {span}")
        self.span, self.shift, self.rounding, self.tail = span, shift, rounding, tail
        self.minus_j, self.saturation = minus_j, saturation
        self.ram_min_depth = ram_min_depth
        self.constant_tags = dict(constant_tags or {})
        self.stored_width = max(input_width, width)
        super().__init__({"stall": In(1), "i": In(sample_layout(input_width)), "fresh": In(1),
                          "advance": Out(1), "o": Out(sample_layout(width))})

    def elaborate(self, platform):
        m = Module()
        span = self.span
        taken = Signal(range(2 * span))             # valid inputs taken in this block
        flush_left = Signal(range(span + self.tail + 1))    # advances still to flush
        between = Signal(init=1)                    # taken == 0, kept in a register
        flush_pending = Signal()                    # flush_left != 0, kept in a register
        taking = self.fresh & self.i.valid
        flushing = between & flush_pending & ~taking
        m.d.comb += self.advance.eq(~self.stall & (taking | flushing))
        second_half = taken[-1]
        self._count(m, taking, taken, flush_left, between, flush_pending)

        m.submodules.delay = delay = DelayLine(sample_layout(self.stored_width), span,
                                               self.ram_min_depth, self.constant_tags)
        sample = Signal(self.i.shape(), name="incoming")    # a stale sample counts as invalid
        m.d.comb += [sample.eq(self.i), sample.valid.eq(taking)]
        stored = delay.o
        total = self._butterfly(m, "sum", stored, sample, *(
            rounded_sum(getattr(stored, part), getattr(sample, part), self.shift, self.rounding)
            for part in ("real", "imag")))
        difference = self._butterfly(m, "diff", stored, sample, *(
            round_shift(getattr(stored, part) - getattr(sample, part), self.shift, self.rounding)
            for part in ("real", "imag")))
        m.d.comb += delay.en.eq(self.advance)
        with m.If(second_half):
            m.d.comb += [*copy_sample(delay.i, difference), *copy_sample(self.o, total)]
        with m.Else():
            m.d.comb += [*copy_sample(delay.i, sample), *copy_sample(self.o, stored)]
            if self.minus_j:    # W = −j: (re, im) → (im, −re)
                negated, saturated = saturate(-stored.real, len(self.o.real), self.saturation)
                with m.If(flush_left <= span // 2 + self.tail):     # index ≥ span/2
                    m.d.comb += copy_sample(self.o, stored, real=stored.imag, imag=negated,
                                            overflow=saturated)
        return m

    def _count(self, m, taking, taken, flush_left, between, flush_pending):
        """Inputs taken in the block; advances still needed to flush the stage (``span +
        tail`` at the block's end, so the difference leaving the delay line has index
        ``span + tail − flush_left`` while any is left). ``between`` and ``flush_pending``
        hold whether the counts are zero, so that the stage's advance, the clock enable of
        all its registers, is a function of flags rather than of wide comparisons."""
        span = self.span
        last_input = taking & (taken == 2 * span - 1)
        with m.If(self.advance):
            with m.If(taking):
                m.d.sync += [taken.eq(taken + 1), between.eq(last_input)]
            with m.If(last_input):
                m.d.sync += [flush_left.eq(span + self.tail), flush_pending.eq(1)]
            with m.Elif(flush_left != 0):
                m.d.sync += [flush_left.eq(flush_left - 1), flush_pending.eq(flush_left != 1)]

    def _butterfly(self, m, name, stored, sample, real_value, imag_value):
        """The rounded sum or difference, saturated, with the tags of both operands."""
        width = len(self.o.real)
        real, real_saturated = saturate(real_value, width, self.saturation)
        imag, imag_saturated = saturate(imag_value, width, self.saturation)
        result = Signal(sample_layout(width), name=name)
        m.d.comb += copy_sample(result, sample, real=real, imag=imag,
                                overflow=stored.overflow | real_saturated | imag_saturated)
        m.d.comb += result.valid.eq(sample.valid & stored.valid)
        return result
