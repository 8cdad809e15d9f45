"""The radix-2 single-path delay-feedback butterfly (:func:`fdcnn.golden.fft.butterfly_stage`)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fixed import check_rounding
from fdcnn.hdl.buffers import DelayLine
from fdcnn.hdl.fft.sample import copy_sample, sample_layout
from fdcnn.hdl.fixed import round_shift, saturate

__all__ = ["ButterflyStage"]


class ButterflyStage(wiring.Component):
    """One R2SDF butterfly with its ``span``-word delay line.

    Over each block of ``2·span`` inputs: for the first ``span`` it stores the input and emits
    the previous block's pending differences; for the next ``span`` it forms ``sum``/``diff``
    with the stored samples (each divided by ``2**shift``, rounded, saturated to ``width``
    bits), emits the sum and stores the difference. So ``o`` carries
    :func:`~fdcnn.golden.fft.butterfly_stage`'s output ``span`` enabled cycles after ``i``
    carries its input; with ``span = 2`` the differences at index 1 leave multiplied by ``−j``
    (a swap and a saturating negation, :func:`~fdcnn.golden.fft.twiddle_stage`'s result for
    that span). ``o`` is combinational: the next element registers it.

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
    offset : int
        Enabled cycles after reset at which ``i`` first carries a frame's first sample.

    Members
    -------
    en : In(1)
    i : In(sample_layout(input_width))
    o : Out(sample_layout(width))
    index : Out(range(span))
        Butterfly index ``n`` of the difference on ``o`` (first half of a block).
    rotate : Out(1)
        ``o`` is a difference to be multiplied by ``W[index]`` (``index ≠ 0``).
    """

    def __init__(self, *, span: int, input_width: int, width: int, shift: int, rounding: str,
                 offset: int):
        check_rounding(rounding)
        self.span, self.shift, self.rounding, self.offset = span, shift, rounding, offset
        self.stored_width = max(input_width, width)
        super().__init__({"en": In(1), "i": In(sample_layout(input_width)),
                          "o": Out(sample_layout(width)), "index": Out(range(max(span, 2))),
                          "rotate": Out(1)})

    def elaborate(self, platform):
        m = Module()
        span = self.span
        counter = Signal(range(2 * span), init=(-1 - self.offset) % (2 * span))
        with m.If(self.en):
            m.d.sync += counter.eq(counter + 1)
        second_half = counter[-1]
        index = counter[:-1] if span > 1 else 0
        m.d.comb += [self.index.eq(index), self.rotate.eq(~second_half & (index != 0))]

        m.submodules.delay = delay = DelayLine(sample_layout(self.stored_width), span)
        stored, sample = delay.o, self.i
        total = self._butterfly(m, "sum", stored, stored.real + sample.real,
                                stored.imag + sample.imag)
        difference = self._butterfly(m, "diff", stored, stored.real - sample.real,
                                     stored.imag - sample.imag)
        m.d.comb += delay.en.eq(self.en)
        with m.If(second_half):
            m.d.comb += [*copy_sample(delay.i, difference), *copy_sample(self.o, total)]
        with m.Else():
            m.d.comb += [*copy_sample(delay.i, sample), *copy_sample(self.o, stored)]
            if span == 2:   # W = −j: (re, im) → (im, −re)
                negated, saturated = saturate(-stored.real, len(self.o.real))
                with m.If(index == 1):
                    m.d.comb += copy_sample(self.o, stored, real=stored.imag, imag=negated,
                                            overflow=saturated)
        return m

    def _butterfly(self, m, name, stored, real_value, imag_value):
        """The sum or difference, narrowed, with the tags of both operands."""
        width = len(self.o.real)
        real, real_saturated = saturate(round_shift(real_value, self.shift, self.rounding), width)
        imag, imag_saturated = saturate(round_shift(imag_value, self.shift, self.rounding), width)
        result = Signal(sample_layout(width), name=name)
        m.d.comb += copy_sample(result, self.i, real=real, imag=imag,
                                overflow=stored.overflow | real_saturated | imag_saturated)
        m.d.comb += result.valid.eq(self.i.valid & stored.valid)
        return result
