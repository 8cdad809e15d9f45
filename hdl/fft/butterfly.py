"""The radix-2 single-path delay-feedback butterfly (:func:`fdcnn.golden.fft.butterfly_stage`)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.buffers import (RAM_MIN_DEPTH, DelayLine, block_ram_count, ram_words,
                               stored_layout)
from fdcnn.hdl.carry import CARRY_FAMILIES, complement_gated_sum, sum_or_complement
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
    the differences at index ``n ≥ span/2`` are multiplied by ``−j`` as they are formed, before
    their rounding (a swap, and the reversed subtraction for the negation). ``o`` is
    combinational: the next element registers it when ``advance`` is high.

    Where the difference is rounded depends on the delay line (``rounds_on_exit``):

    * **register delay lines** (``span < ram_min_depth``), any delay line with ``headroom``,
      and a RAM delay line whose family's block RAM holds the unrounded word in no more blocks
      than the rounded one (:func:`~fdcnn.hdl.buffers.block_ram_count`: iCE40's 16-bit words
      take 37 bits in the same three blocks as 35 at the default widths), store the
      difference unrounded and one adder forms every output: the stored
      sample plus the incoming one (a sum, second half) or plus nothing (a difference leaving,
      first half), rounded and saturated. No second adder for the difference's rounding and no
      output multiplexer; the difference takes one more bit per component than the input,
      unless ``headroom`` says it fits the input's width.
    * **other RAM delay lines** keep a word of ``2·width + 1`` bits (35 at the default
      widths, within one 36-bit block RAM word): the difference is rounded and saturated on
      its way in, and the output is the sum or the stored difference. What enters the delay
      line is registered before its rounding (``span ≥ 2``): the unrounded difference, or the
      sample shifted left by ``shift``, waits in a register that is the delay line's first
      step, and the rounding and saturation come after it, so no path holds two carry chains.

    Either way the sum's rounding is its adder's carry-in (:func:`~fdcnn.hdl.fixed.rounded_sum`).
    For a ``family`` whose carry cells take operand logic (:mod:`fdcnn.hdl.carry`: ECP5 and
    iCE40), a stage that rounds on exit keeps the ones' complements ``~v = −v − 1`` of what
    it stores (:attr:`keeps_complements`): it writes ``~(d − x) = ~d + x`` or ``~x``
    (:func:`~fdcnn.hdl.carry.sum_or_complement`) and forms its output
    ``~(~d) + x`` or ``~(~d) + 0`` (:func:`~fdcnn.hdl.carry.complement_gated_sum`), each in one
    carry chain whose LUTs also make the choice: no LUT per bit in front of either, and no
    inverter for the subtraction (iCE40's carry cannot invert an operand).

    The stage advances (``advance``) when it takes a valid input, and between blocks whenever
    no input is there, to flush: the previous block's differences still in the delay line, and
    the registers after it, leave without waiting for another block, followed by invalid
    filler. No counter says when that is done: an idle stage keeps advancing filler, whose data
    is the last sample over again, so its registers soon load what they hold. A block arriving
    meanwhile simply starts: the delay line is a queue of ``span`` samples, so the pending
    differences keep leaving in order. Nothing advances while ``stall`` is high.

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
    minus_j : bool
        Rotate the second half of the differences by ``−j`` (``span ≥ 2``).
    ram_min_depth : int
        The delay line is RAM from this span on, registers below it
        (:class:`~fdcnn.hdl.buffers.DelayLine`); registers round on exit.
    headroom : bool
        The inputs are codes of ``input_width − 1`` bits sign-extended (the first stage's: the
        data in its container one bit wider), so a difference fits ``input_width`` bits and
        the stage rounds on exit whatever its delay line.
    saturation : bool
        Build the saturation of sums, differences and the ``−j`` negation; ``False`` where
        they are proven to fit ``width`` (:attr:`~fdcnn.golden.fft.FFTConfig.saturation_points`).
    constant_tags : dict
        Tags (``inverse``, ``overflow``) that every sample of this stage, input or difference,
        carries with the given value: the delay line does not store them.
    family : str
        The FPGA family (:data:`~fdcnn.golden.fft.FAMILIES`): which carry chains to build, and
        whose block RAM a RAM delay line fills.

    Attributes
    ----------
    rounds_on_exit : bool
        The delay line holds unrounded differences, rounded as they leave by the adder that
        forms the sums, rather than rounded ones.
    stored_width : int
        Component bits in the delay line.

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
                 minus_j: bool = False, saturation: bool = True,
                 ram_min_depth: int = RAM_MIN_DEPTH, headroom: bool = False,
                 constant_tags: dict | None = None, family: str = "generic"):
        check_rounding(rounding)
        if minus_j and span < 2:
            raise ValueError(f"A −j rotation needs a span of at least 2, not {span}")
        self.span, self.shift, self.rounding = span, shift, rounding
        self.minus_j, self.saturation = minus_j, saturation
        self.ram_min_depth, self.headroom = ram_min_depth, headroom
        self.constant_tags = dict(constant_tags or {})
        self.family = family
        unrounded_width, rounded_width = input_width + (not headroom), max(input_width, width)
        self.rounds_on_exit = (span < ram_min_depth or headroom
                               or self._unrounded_fits(unrounded_width, rounded_width))
        self.stored_width = unrounded_width if self.rounds_on_exit else rounded_width
        super().__init__({"stall": In(1), "i": In(sample_layout(input_width)), "fresh": In(1),
                          "advance": Out(1), "o": Out(sample_layout(width))})

    def elaborate(self, platform):
        m = Module()
        span = self.span
        taken = Signal(range(2 * span))             # valid inputs taken in this block
        between = Signal(init=1)                    # taken == 0, kept in a register
        taking = self.fresh & self.i.valid
        m.d.comb += self.advance.eq(~self.stall & (taking | between))     # between: flushing
        second_half = taken[-1]
        rotating = second_half & taken[-2] if self.minus_j else 0   # a difference at n ≥ span/2
        last_input = taking & (taken == 2 * span - 1)
        with m.If(self.advance & taking):
            m.d.sync += [taken.eq(taken + 1), between.eq(last_input)]

        pipelined = span > 1
        m.submodules.delay = delay = DelayLine(sample_layout(self.stored_width), span,
                                               self.ram_min_depth, self.constant_tags,
                                               registered_input=pipelined)
        sample = Signal(self.i.shape(), name="incoming")    # a stale sample counts as invalid
        m.d.comb += [sample.eq(self.i), sample.valid.eq(taking)]
        stored = delay.o
        if self.keeps_complements:
            stored = Signal.like(delay.o, name="stored")
            m.d.comb += copy_sample(stored, delay.o, real=~delay.o.real, imag=~delay.o.imag)
        written, difference = self._written(m, second_half, rotating, delay.o, stored, sample,
                                            pipelined)
        m.d.comb += [delay.en.eq(self.advance), *self._entering(delay.i, written, difference)]
        if self.rounds_on_exit:     # one adder: the stored difference plus nothing, or the sum
            addend = Signal.like(sample, name="addend")
            with m.If(second_half):
                m.d.comb += addend.eq(sample)
            with m.Else():
                m.d.comb += [addend.valid.eq(1), addend.inverse.eq(stored.inverse)]
            gating = (delay.o, sample, second_half) if self.keeps_complements else None
            m.d.comb += copy_sample(self.o, self._butterfly(m, "result", stored, addend, gating))
        else:
            total = self._butterfly(m, "sum", stored, sample)
            with m.If(second_half):
                m.d.comb += copy_sample(self.o, total)
            with m.Else():
                m.d.comb += copy_sample(self.o, stored)
        return m

    def _unrounded_fits(self, unrounded_width, rounded_width):
        """Whether the family's block RAM holds a RAM delay line's unrounded differences in no
        more blocks than the rounded ones (:func:`~fdcnn.hdl.buffers.block_ram_count`: on
        iCE40, 37-bit words at the default widths take the same three 16-bit blocks as
        35-bit ones; unknown for the other families, which round on entry)."""
        counts = {block_ram_count(self.family, ram_words(self.span),
                                  stored_layout(sample_layout(width), self.constant_tags).size)
                  for width in (unrounded_width, rounded_width)}
        return len(counts) == 1 and None not in counts

    @property
    def keeps_complements(self) -> bool:
        """Whether the delay line holds the ones' complements of the samples and differences:
        rounding on exit, for a family whose carry chains take operand logic
        (:data:`~fdcnn.hdl.carry.CARRY_FAMILIES`), so that both sums are one chain each."""
        return self.rounds_on_exit and self.family in CARRY_FAMILIES

    def _written(self, m, second_half, rotating, line, stored, sample, registered):
        """What the stage writes into its delay line: the difference ``stored − sample``
        (second half; multiplied by ``−j`` where ``rotating``: the negation is the reversed
        subtraction) or the sample (first half), and whether it is a difference; rounding on
        exit with :attr:`keeps_complements`, its complement (:meth:`_complement_written`,
        from the delay line's output ``line``). Rounding on entry, the sample is shifted left
        by ``shift``, which the rounding leaves as it is. With ``registered`` both are held in
        a register that counts as the delay line's first step, so that the subtraction and the
        rounding's carry chain are not in one path."""
        shift = 0 if self.rounds_on_exit else self.shift
        width = self.stored_width if self.rounds_on_exit else len(self.i.real) + max(shift, 1)
        if self.keeps_complements:
            real, imag = self._complement_written(m, second_half, rotating, line, sample)
            first_real, first_imag = real, imag
        else:
            real, imag = stored.real - sample.real, stored.imag - sample.imag
            if self.minus_j:            # W = −j: (re, im) → (im, −re)
                real = Mux(rotating, imag, real)
                imag = Mux(rotating, sample.real - stored.real, imag)
            first_real, first_imag = sample.real << shift, sample.imag << shift
        value = Signal(sample_layout(width), name="written_value")
        difference = Signal(name="written_difference")
        with m.If(second_half):
            m.d.comb += copy_sample(value, sample, real=real, imag=imag, overflow=stored.overflow)
            m.d.comb += [value.valid.eq(sample.valid & stored.valid), difference.eq(1)]
        with m.Else():
            m.d.comb += copy_sample(value, sample, real=first_real, imag=first_imag)
        if not registered:
            return value, difference
        # Only the valid bit is reset: the data can then join the shift register of a delay
        # line of registers (one SRL on Xilinx parts, without a register of its own).
        held = Signal.like(value, name="written_held", reset_less=True)
        held_valid, written_difference = Signal(name="written_valid"), Signal.like(difference)
        with m.If(self.advance):
            m.d.sync += [held.eq(value), held_valid.eq(value.valid),
                         written_difference.eq(difference)]
        written = Signal.like(value, name="written")
        m.d.comb += [written.eq(held), written.valid.eq(held_valid)]
        return written, written_difference

    def _complement_written(self, m, second_half, rotating, line, sample):
        """The complements of what a stage rounding on exit writes, real and imaginary, from
        its delay line's complements ``line``: ``~(d − x) = ~d + x`` (second half) or ``~x``,
        one carry chain each (:func:`~fdcnn.hdl.carry.sum_or_complement`). With ``−j`` the
        operands swap where ``rotating`` (never in the first half): the real part takes
        ``~(d.im − x.im) = ~d.im + x.im``, the imaginary part ``~(x.re − d.re) = d.re + ~x.re``."""
        operands = {"real": (line.real, sample.real), "imag": (line.imag, sample.imag)}
        if self.minus_j:
            operands = {"real": (Mux(rotating, line.imag, line.real),
                                 Mux(rotating, sample.imag, sample.real)),
                        "imag": (Mux(rotating, ~line.real, line.imag),
                                 Mux(rotating, ~sample.real, sample.imag))}
        return (sum_or_complement(m, f"written_{part}", *operands[part], second_half,
                                  self.stored_width, self.family) for part in ("real", "imag"))

    def _entering(self, line_in, written, difference):
        """Statements feeding the delay line ``written``: as it is (rounding on exit), or
        rounded by ``shift`` and, where it is a ``difference``, saturated to ``width`` bits (a
        first-half sample is wider with ``shift = 2``)."""
        if self.rounds_on_exit:
            return copy_sample(line_in, written)
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

    def _complement_adder(self, m, name, part, line, sample, gate):
        """``add(carry)`` for :func:`~fdcnn.hdl.fixed.rounded_sum`: the complement of
        ``line``'s ``part``, plus ``sample``'s where ``gate`` is high, plus ``carry``, in one
        carry chain."""
        complement, added = getattr(line, part), getattr(sample, part)
        return lambda carry: complement_gated_sum(m, name, complement, added, gate, carry,
                                                  self.family)

    def _butterfly(self, m, name, stored, addend, gating=None):
        """``stored + addend`` rounded by ``shift`` and saturated, with the tags of both.
        ``gating`` is ``(line, sample, gate)`` where ``stored``'s data is the complement of
        ``line``'s and ``addend``'s is ``sample``'s where ``gate`` is high, else 0: one carry
        chain then forms the sum from those (:func:`~fdcnn.hdl.carry.complement_gated_sum`)."""
        width = len(self.o.real)
        parts = {}
        for part in ("real", "imag"):
            a, b = getattr(stored, part), getattr(addend, part)
            add = None if gating is None else self._complement_adder(m, f"{name}_{part}", part,
                                                                     *gating)
            rounded = rounded_sum(a, b, self.shift, self.rounding, add)
            parts[part] = saturate(rounded, width, self.saturation)
        (real, real_saturated), (imag, imag_saturated) = parts["real"], parts["imag"]
        result = Signal(sample_layout(width), name=name)
        m.d.comb += copy_sample(result, addend, real=real, imag=imag,
                                overflow=stored.overflow | real_saturated | imag_saturated)
        m.d.comb += result.valid.eq(addend.valid & stored.valid)
        return result
