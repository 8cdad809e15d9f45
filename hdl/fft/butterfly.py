"""The radix-2 single-path delay-feedback butterfly (:func:`fdcnn.golden.fft.butterfly_stage`)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.buffers import RAM_MIN_DEPTH, DelayLine
from fdcnn.hdl.carry import gated_sum, selected_difference
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

    Where the difference is rounded depends on the delay line (:attr:`rounds_on_exit`):

    * **register delay lines** (``span < ram_min_depth``), and any delay line with
      ``headroom``, store the difference unrounded and one adder forms every output: the stored
      sample plus the incoming one (a sum, second half) or plus nothing (a difference leaving,
      first half), rounded and saturated. No second adder for the difference's rounding and no
      output multiplexer; the difference takes one more bit per component than the input,
      unless ``headroom`` says it fits the input's width.
    * **RAM delay lines** without it keep a word of ``2·width + 1`` bits (35 at the default
      widths, within one 36-bit block RAM word): the difference is rounded and saturated on
      its way in, and the output is the sum or the stored difference. What enters the delay
      line is registered before its rounding (``span ≥ 2``): the unrounded difference, or the
      sample shifted left by ``shift``, waits in a register that is the delay line's first
      step, and the rounding and saturation come after it, so no path holds two carry chains.

    Either way the sum's rounding is its adder's carry-in (:func:`~fdcnn.hdl.fixed.rounded_sum`).
    For a ``family`` whose carry cells take operand logic (:mod:`fdcnn.hdl.carry`: ECP5), the
    one adder of a stage that rounds on exit takes the choice of its addend into its carry
    chain (:func:`~fdcnn.hdl.carry.gated_sum`), and so does, without ``minus_j``, the
    subtraction of what it writes (:func:`~fdcnn.hdl.carry.selected_difference`): no LUT per
    bit in front of them.

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
        The FPGA family (:data:`~fdcnn.golden.fft.FAMILIES`): which carry chains to build.

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
        self.stored_width = (input_width + (not headroom) if self.rounds_on_exit
                             else max(input_width, width))
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
        written, difference = self._written(m, second_half, rotating, stored, sample, pipelined)
        m.d.comb += [delay.en.eq(self.advance), *self._entering(delay.i, written, difference)]
        if self.rounds_on_exit:     # one adder: the stored difference plus nothing, or the sum
            addend = Signal.like(sample, name="addend")
            with m.If(second_half):
                m.d.comb += addend.eq(sample)
            with m.Else():
                m.d.comb += [addend.valid.eq(1), addend.inverse.eq(stored.inverse)]
            m.d.comb += copy_sample(self.o, self._butterfly(m, "result", stored, addend,
                                                            gating=(sample, second_half)))
        else:
            total = self._butterfly(m, "sum", stored, sample)
            with m.If(second_half):
                m.d.comb += copy_sample(self.o, total)
            with m.Else():
                m.d.comb += copy_sample(self.o, stored)
        return m

    @property
    def rounds_on_exit(self) -> bool:
        """Whether the delay line holds unrounded differences, rounded as they leave by the
        adder that forms the sums (register delay lines, or with ``headroom``), rather than
        rounded ones (RAM)."""
        return self.span < self.ram_min_depth or self.headroom

    def _written(self, m, second_half, rotating, stored, sample, registered):
        """What the stage writes into its delay line: the difference ``stored − sample``
        (second half; multiplied by ``−j`` where ``rotating``: the negation is the reversed
        subtraction) or the sample (first half), and whether it is a difference. Rounding on
        entry, the sample is shifted left by ``shift``, which the rounding leaves as it is.
        With ``registered`` both are held in a register that counts as the delay line's first
        step, so that the subtraction and the rounding's carry chain are not in one path."""
        shift = 0 if self.rounds_on_exit else self.shift
        width = self.stored_width if self.rounds_on_exit else len(self.i.real) + max(shift, 1)
        value = Signal(sample_layout(width), name="written_value")
        difference = Signal(name="written_difference")
        if shift == 0 and not self.minus_j:     # one carry chain subtracts and chooses
            real, imag = (selected_difference(m, f"written_{part}", getattr(stored, part),
                                              getattr(sample, part), second_half, self.family)
                          for part in ("real", "imag"))
            first_real, first_imag = real, imag
        else:
            real, imag = stored.real - sample.real, stored.imag - sample.imag
            first_real, first_imag = sample.real << shift, sample.imag << shift
        if self.minus_j:            # W = −j: (re, im) → (im, −re)
            real, imag = Mux(rotating, imag, real), Mux(rotating, sample.real - stored.real, imag)
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

    def _gated_adder(self, m, name, a, b, gate):
        """``add(carry)`` for :func:`~fdcnn.hdl.fixed.rounded_sum`: ``a``, plus ``b`` where
        ``gate`` is high, plus ``carry``, in one carry chain."""
        return lambda carry: gated_sum(m, name, a, b, gate, carry, self.family)

    def _butterfly(self, m, name, stored, addend, gating=None):
        """``stored + addend`` rounded by ``shift`` and saturated, with the tags of both.
        ``gating`` is ``(sample, gate)`` where ``addend``'s data is ``sample``'s where ``gate``
        is high, else 0: for a family with such carry chains the adder forms that itself."""
        width = len(self.o.real)
        parts = {}
        for part in ("real", "imag"):
            a, b = getattr(stored, part), getattr(addend, part)
            add = None if gating is None else self._gated_adder(
                m, f"{name}_{part}", a, getattr(gating[0], part), gating[1])
            rounded = rounded_sum(a, b, self.shift, self.rounding, add)
            parts[part] = saturate(rounded, width, self.saturation)
        (real, real_saturated), (imag, imag_saturated) = parts["real"], parts["imag"]
        result = Signal(sample_layout(width), name=name)
        m.d.comb += copy_sample(result, addend, real=real, imag=imag,
                                overflow=stored.overflow | real_saturated | imag_saturated)
        m.d.comb += result.valid.eq(addend.valid & stored.valid)
        return result
