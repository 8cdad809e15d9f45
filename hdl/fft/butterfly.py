"""The radix-2 single-path delay-feedback butterfly (:func:`fdcnn.golden.fft.butterfly_stage`)."""

from amaranth.hdl import Module, Mux, Signal
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

    What enters the delay line is registered before its rounding (for ``span ≥ 2``): the
    unrounded difference, or the sample shifted left by ``shift``, waits in a register that is
    the delay line's first step, and the rounding and saturation come after it. So no path
    holds two carry chains: the sum's rounding is its adder's carry-in
    (:func:`~fdcnn.hdl.fixed.rounded_sum`), and a difference's cannot be (the subtraction's
    carry-in is taken).

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

        pipelined = span > 1
        m.submodules.delay = delay = DelayLine(sample_layout(self.stored_width), span,
                                               self.ram_min_depth, self.constant_tags,
                                               registered_input=pipelined)
        sample = Signal(self.i.shape(), name="incoming")    # a stale sample counts as invalid
        m.d.comb += [sample.eq(self.i), sample.valid.eq(taking)]
        stored = delay.o
        total = self._butterfly(m, "sum", stored, sample, *(
            rounded_sum(getattr(stored, part), getattr(sample, part), self.shift, self.rounding)
            for part in ("real", "imag")))
        written, difference = self._written(m, second_half, stored, sample, pipelined)
        m.d.comb += [delay.en.eq(self.advance), *self._entering(delay.i, written, difference)]
        with m.If(second_half):
            m.d.comb += copy_sample(self.o, total)
        with m.Else():
            m.d.comb += copy_sample(self.o, stored)
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

    def _written(self, m, second_half, stored, sample, registered):
        """What the stage writes into its delay line, before the difference's rounding: the
        difference ``stored − sample`` (second half) or the sample shifted left by ``shift``
        (first half), which the rounding leaves as it is; and whether it is a difference. With
        ``registered`` both are held in a register that counts as the delay line's first step,
        so that the subtraction and the rounding's carry chain are not in one path."""
        shift = self.shift
        value = Signal(sample_layout(len(self.i.real) + max(shift, 1)), name="written_value")
        difference = Signal(name="written_difference")
        with m.If(second_half):
            m.d.comb += copy_sample(value, sample, real=stored.real - sample.real,
                                    imag=stored.imag - sample.imag, overflow=stored.overflow)
            m.d.comb += [value.valid.eq(sample.valid & stored.valid), difference.eq(1)]
        with m.Else():
            m.d.comb += copy_sample(value, sample, real=sample.real << shift,
                                    imag=sample.imag << shift)
        if not registered:
            return value, difference
        written, written_difference = Signal.like(value, name="written"), Signal.like(difference)
        with m.If(self.advance):
            m.d.sync += [written.eq(value), written_difference.eq(difference)]
        return written, written_difference

    def _entering(self, line_in, written, difference):
        """Statements feeding the delay line ``written`` rounded by ``shift`` and, where it is
        a ``difference``, saturated to ``width`` bits (a first-half sample is wider with
        ``shift = 2``)."""
        width = len(self.o.real)
        parts = {}
        for part in ("real", "imag"):
            rounded = round_shift(getattr(written, part), self.shift, self.rounding)
            limited, saturated = saturate(rounded, width, self.saturation)
            if width < self.stored_width:
                limited, saturated = Mux(difference, limited, rounded), difference & saturated
            parts[part] = limited, saturated
        return copy_sample(line_in, written, real=parts["real"][0], imag=parts["imag"][0],
                           overflow=parts["real"][1] | parts["imag"][1])

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
