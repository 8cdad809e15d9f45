"""One lane of the MAC array: operand RAM, complex multiplier, double-banked accumulator RAM."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.cmult import ComplexMultiplier
from fdcnn.hdl.fixed import saturate
from fdcnn.hdl.shapes import index_range
from fdcnn.hdl.stream import complex_layout

__all__ = ["MACLane", "accumulator_layout", "ACCUMULATE_CYCLES"]

#: Enabled cycles between accepting a streamed sample and writing its accumulation: the sample
#: register beside the operand RAM's read, the register after that read, the multiplier, the
#: addend register.
ACCUMULATE_CYCLES = 2 + ComplexMultiplier.latency + 1


def accumulator_layout(width: int) -> data.StructLayout:
    """An accumulator word: the complex sum and whether it saturated."""
    return data.StructLayout({"real": signed(width), "imag": signed(width), "overflow": 1})


class MACLane(wiring.Component):
    """``acc[bank][address] (+)= streamed · operand`` (the operand conjugated on request), with
    saturation to ``accumulator_width`` bits, one sample per clock, never stalling.

    The accumulation runs :data:`ACCUMULATE_CYCLES` cycles behind the streamed sample. The
    accumulator word is read two cycles before its write and registered, so no RAM output
    feeds the adder; with ``forwarded`` (one or two bins, where the same word comes round
    sooner) the two writes before are forwarded.

    Parameters
    ----------
    data_width, weight_width, accumulator_width : int
        Bits per component of the streamed operand, the stored operand and the sums.
    multiplier : str
        ``"4mult"`` or ``"3mult"``.
    operand_depth : int
        Words of the operand RAM.
    accumulator_depth : int
        Words of one accumulator bank (two banks).
    forwarded : bool
        Forward the two previous writes into the read-modify-write.

    Members
    -------
    streamed : In(complex_layout(data_width))
        The sample, registered beside the operand RAM's read (cycle 0 of the accumulation).
    operand_address : In(range(operand_depth))
        Operand read address, the cycle before ``streamed``.
    conjugate : In(1)
        With ``streamed``: multiply by the conjugated operand.
    read : In(bank, address)
        Accumulator word read for the write two cycles later (cycle ``ACCUMULATE_CYCLES − 3``).
    write : In(valid, first, bank, address)
        The accumulation's write (cycle ``ACCUMULATE_CYCLES − 1``); ``first`` starts a new sum.
    operand_write : In(en, addr, data)
        Operand RAM write port.
    drain : In(bank, address)
        Accumulator word for the drain; ``drained`` shows it two cycles later (the RAM's read
        register, then one after it).
    drained : Out(accumulator_layout(accumulator_width))
    operand : Out(complex_layout(weight_width))
        The operand RAM's word at ``operand_address``, two cycles later (the register the
        multiplier takes it from).
    """

    def __init__(self, *, data_width: int, weight_width: int, accumulator_width: int,
                 multiplier: str, operand_depth: int, accumulator_depth: int, forwarded: bool):
        self.multiplier, self.forwarded = multiplier, forwarded
        self.operand_depth, self.accumulator_depth = operand_depth, accumulator_depth
        address = index_range(accumulator_depth)
        super().__init__({
            "streamed": In(complex_layout(data_width)),
            "operand_address": In(index_range(operand_depth)),
            "conjugate": In(1),
            "read": In(data.StructLayout({"bank": 1, "address": address})),
            "write": In(data.StructLayout({"valid": 1, "first": 1, "bank": 1,
                                           "address": address})),
            "operand_write": In(data.StructLayout({
                "en": 1, "addr": index_range(operand_depth),
                "data": complex_layout(weight_width)})),
            "drain": In(data.StructLayout({"bank": 1, "address": address})),
            "drained": Out(accumulator_layout(accumulator_width)),
            "operand": Out(complex_layout(weight_width)),
        })

    def _address(self, word):
        return word.bank * self.accumulator_depth + word.address

    def elaborate(self, platform):
        m = Module()
        m.submodules.operands = operands = Memory(shape=self.operand.shape(),
                                                  depth=max(2, self.operand_depth), init=[])
        write = operands.write_port()
        m.d.comb += [write.en.eq(self.operand_write.en), write.addr.eq(self.operand_write.addr),
                     write.data.eq(self.operand_write.data)]
        read = operands.read_port(transparent_for=())
        m.d.comb += [read.addr.eq(self.operand_address), read.en.eq(1)]
        # The operand read ends in a register of its own (the route from the block RAM, and
        # the logic Yosys puts after it, end there), the sample beside it; then the
        # multiplier's operand registers, which its DSP blocks hold.
        operand = Signal.like(read.data, name="operand_read", reset_less=True)
        streamed = Signal.like(self.streamed, name="streamed_late", reset_less=True)
        conjugate = Signal(name="conjugate_late")
        m.d.sync += [operand.eq(read.data), streamed.eq(self.streamed),
                     conjugate.eq(self.conjugate)]
        m.d.comb += self.operand.eq(operand)
        m.submodules.multiplier = multiplier = ComplexMultiplier(
            a_width=len(self.streamed.real), c_width=len(self.operand.real),
            multiplier=self.multiplier, conjugation=True)
        m.d.comb += [multiplier.en.eq(1), multiplier.a.eq(streamed), multiplier.c.eq(operand),
                     multiplier.conjugate.eq(conjugate)]
        addend = Signal.like(multiplier.p, name="addend")
        m.d.sync += addend.eq(multiplier.p)
        self._accumulate(m, addend)
        return m

    def _accumulate(self, m, addend):
        """Read-modify-write of the accumulator word, and the drain's read port."""
        m.submodules.accumulators = accumulators = Memory(
            shape=self.drained.shape(), depth=2 * self.accumulator_depth, init=[])
        accumulate_write = accumulators.write_port()
        accumulate_read = accumulators.read_port(transparent_for=())
        drain_read = accumulators.read_port(transparent_for=())
        m.d.comb += [accumulate_read.addr.eq(self._address(self.read)),
                     accumulate_read.en.eq(1)]
        old = Signal(self.drained.shape(), name="old")
        m.d.sync += old.eq(accumulate_read.data)
        write_address = self._address(self.write)
        if self.forwarded:
            old = self._forward(m, old, accumulate_write, write_address)
        width = len(self.drained.real)
        first = self.write.first
        total_real, real_saturated = saturate(Mux(first, 0, old.real) + addend.real, width)
        total_imag, imag_saturated = saturate(Mux(first, 0, old.imag) + addend.imag, width)
        m.d.comb += [accumulate_write.addr.eq(write_address),
                     accumulate_write.en.eq(self.write.valid),
                     accumulate_write.data.real.eq(total_real),
                     accumulate_write.data.imag.eq(total_imag),
                     accumulate_write.data.overflow.eq((~first & old.overflow)
                                                       | real_saturated | imag_saturated),
                     drain_read.addr.eq(self._address(self.drain)), drain_read.en.eq(1)]
        # The drain's read, registered (the route from the block RAM ends here).
        drained = Signal.like(self.drained, name="drain_read", reset_less=True)
        m.d.sync += drained.eq(drain_read.data)
        m.d.comb += self.drained.eq(drained)

    @staticmethod
    def _forward(m, old, write, address):
        """``old``, or the newer word for ``address`` from one of the two writes before."""
        layout = data.StructLayout({"en": 1, "addr": len(write.addr), "data": write.data.shape()})
        previous = Signal(layout, name="previous_write")
        before_previous = Signal(layout, name="before_previous_write")
        m.d.sync += [previous.en.eq(write.en), previous.addr.eq(write.addr),
                     previous.data.eq(write.data), before_previous.eq(previous)]
        word = Signal.like(old, name="forwarded")
        with m.If(previous.en & (previous.addr == address)):
            m.d.comb += word.eq(previous.data)
        with m.Elif(before_previous.en & (before_previous.addr == address)):
            m.d.comb += word.eq(before_previous.data)
        with m.Else():
            m.d.comb += word.eq(old)
        return word
