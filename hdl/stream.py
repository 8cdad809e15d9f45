"""The complex-sample stream every fdcnn block speaks.

Blocks connect with :func:`complex_stream` signatures (``amaranth.lib.stream``), so chaining
them is wiring. ``hdl.axis`` turns the same signature into AXI4-Stream ports at a Verilog top.
"""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Shape, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.shapes import index_range

__all__ = ["complex_layout", "complex_stream", "is_stream_member", "frame_block_members",
           "RegisterSlice", "input_register_slice", "INPUT_SLICE_LATENCY", "FramedOutput",
           "check_tlast", "FrameShell", "frame_shell", "TLAST_PORT_DESCRIPTIONS"]


def is_stream_member(member):
    """Whether a signature member is a stream (rather than a port)."""
    return not member.is_port and isinstance(member.signature, stream.Signature)


def complex_layout(width, *, complex=True):
    """A sample: ``real`` and (complex samples only) ``imag``, ``width``-bit signed integers."""
    fields = {"real": signed(width), "imag": signed(width)} if complex else {"real": signed(width)}
    return data.StructLayout(fields)


def complex_stream(width, *, user_width=0, complex=True):
    """Stream of complex (or, with ``complex=False``, real) samples with ``last`` marking a
    frame's final sample.

    ``user`` (``user_width`` bits, omitted when 0) carries per-sample side information such as
    the FFT's per-frame direction.
    """
    fields = {"data": complex_layout(width, complex=complex), "last": 1}
    if user_width:
        fields["user"] = user_width
    return stream.Signature(data.StructLayout(fields))


def frame_block_members(input_width, output_width, *, user_width=0):
    """Signature members of a block that works on fixed-length frames: complex streams ``i``
    and ``o``, the ``overflow`` flag that goes with ``o``, and the input's ``tlast`` checks."""
    return {"i": In(complex_stream(input_width, user_width=user_width)),
            "o": Out(complex_stream(output_width)),
            "overflow": Out(1), "tlast_missing": Out(1), "tlast_unexpected": Out(1)}


#: Clock cycles from a handshake on the input register slice to its sample at the head.
INPUT_SLICE_LATENCY = 1


class RegisterSlice(wiring.Component):
    """A ``depth``-entry FIFO between two streams of ``layout`` payloads: ``i.ready`` and
    ``o.valid`` come from registers, so no combinational path crosses it. ``i.ready`` is a
    register of its own (the next level compared one cycle ahead), not a comparison of the
    level: it drives a port and, behind :class:`FramedOutput`, the clock enable of whole
    pipelines.

    Members
    -------
    i : In(stream.Signature(layout))
    o : Out(stream.Signature(layout))
    level : Out(range(depth + 1))
        Entries held.
    """

    def __init__(self, layout, *, depth: int = 2):
        self.depth = depth
        super().__init__({"i": In(stream.Signature(layout)), "o": Out(stream.Signature(layout)),
                          "level": Out(range(depth + 1))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = fifo = SyncFIFO(width=Shape.cast(self.i.payload.shape()).width,
                                            depth=self.depth)
        writes, reads = fifo.w_stream, fifo.r_stream
        room = Signal(init=1)       # equals writes.ready: the level is below the depth
        level = fifo.level + (self.i.valid & room) - (reads.valid & reads.ready)
        m.d.sync += room.eq(level != self.depth)
        m.d.comb += [writes.payload.eq(self.i.payload), writes.valid.eq(self.i.valid),
                     self.i.ready.eq(room),
                     self.o.payload.eq(reads.payload), self.o.valid.eq(reads.valid),
                     reads.ready.eq(self.o.ready), self.level.eq(fifo.level)]
        return m


def input_register_slice(m, name, port):
    """A two-entry :class:`RegisterSlice` behind the input stream ``port``, so nothing
    combinational reaches back to the sender. Returns the slice's output stream: its head
    sample (``payload``, in ``port``'s layout), ``valid``, and ``ready`` to take it."""
    m.submodules[name] = register_slice = RegisterSlice(port.payload.shape())
    wiring.connect(m, wiring.flipped(port), register_slice.i)
    return register_slice.o


class FramedOutput(wiring.Component):
    """Output register slice that frames a block's results.

    A ``depth``-entry FIFO (two by default; ``w_rdy`` and ``w_level`` are registered, so a
    producer may use them as its clock enable without a combinational path from ``o.ready``)
    that sets ``last`` on every ``frame_size``-th
    sample written since reset (or, with ``frame_size=None``, passes ``w_last`` through) and
    presents ``overflow``: the running OR of ``w_overflow`` over the output frame so far,
    complete on the ``last`` sample.
    """

    #: Clock cycles from a write to that sample's handshake on ``o`` (``o.ready`` high).
    latency = 1

    def __init__(self, width, frame_size, *, complex=True, depth=2):
        self.frame_size = frame_size
        self.depth = depth
        super().__init__({"w_en": In(1), "w_rdy": Out(1), "w_level": Out(range(depth + 1)),
                          "w_last": In(1),
                          "w_data": In(complex_layout(width, complex=complex)),
                          "w_overflow": In(1),
                          "o": Out(complex_stream(width, complex=complex)),
                          "overflow": Out(1)})

    def elaborate(self, platform):
        m = Module()
        entry_layout = data.StructLayout({"data": self.w_data.shape(), "last": 1, "overflow": 1})
        m.submodules.slice = register_slice = RegisterSlice(entry_layout, depth=self.depth)
        entries = register_slice.i
        running = Signal()      # OR of the frame's earlier samples' overflow
        entry = entries.payload
        m.d.comb += [entry.data.eq(self.w_data), entry.overflow.eq(self.w_overflow | running)]
        if self.frame_size is None:
            m.d.comb += entry.last.eq(self.w_last)
        else:
            index = Signal(index_range(self.frame_size))
            m.d.comb += entry.last.eq(index == self.frame_size - 1)
            with m.If(self.w_en & entries.ready):
                m.d.sync += index.eq(Mux(entry.last, 0, index + 1))
        with m.If(self.w_en & entries.ready):
            m.d.sync += running.eq(entry.overflow & ~entry.last)
        queued = register_slice.o
        m.d.comb += [
            entries.valid.eq(self.w_en), self.w_rdy.eq(entries.ready),
            self.w_level.eq(register_slice.level),
            self.o.valid.eq(queued.valid), queued.ready.eq(self.o.ready),
            self.o.payload.data.eq(queued.payload.data),
            self.o.payload.last.eq(queued.payload.last),
            self.overflow.eq(queued.payload.overflow),
        ]
        return m


def check_tlast(m, accept, last_position, last, missing, unexpected):
    """Drive one-cycle ``missing``/``unexpected`` pulses for an input sample just accepted whose
    ``last`` flag disagrees with whether it is at its frame's ``last_position``."""
    m.d.sync += [missing.eq(accept & last_position & ~last),
                 unexpected.eq(accept & ~last_position & last)]


#: What the sidecar says of the ``tlast`` checks' ports.
TLAST_PORT_DESCRIPTIONS = {
    "tlast_missing": "1-cycle pulse: an input frame's last sample had no tlast",
    "tlast_unexpected": "1-cycle pulse: tlast before an input frame's last sample",
}


@dataclass(frozen=True)
class FrameShell:
    """What :func:`frame_shell` gives the block inside it."""

    #: The input slice's head sample (``data``, ``last``, ``user``).
    head: object
    #: The head sample is taken this cycle.
    accept: object
    #: The output can take a sample: the clock enable of everything that moves with the stream.
    enable: object
    #: Position of the head sample in its frame, and whether it is the frame's last.
    slot: object
    last: object
    #: The :class:`FramedOutput` to write results into.
    output: object


def frame_shell(m, block, frame_size, output_width):
    """The stream shell of a block with :func:`frame_block_members` that works on frames of
    ``frame_size`` input samples: a two-entry input register slice, the framed output (its
    ``overflow`` to the block's), the head's position in its frame and the ``tlast`` checks.
    The head is taken on every cycle the output has room."""
    input_slice = input_register_slice(m, "input_slice", block.i)
    m.submodules.output = output = FramedOutput(output_width, frame_size)
    wiring.connect(m, wiring.flipped(block.o), output.o)
    m.d.comb += block.overflow.eq(output.overflow)
    enable = output.w_rdy
    accept = input_slice.valid & enable
    m.d.comb += input_slice.ready.eq(accept)
    slot = Signal(index_range(frame_size), name="slot")
    last = slot == frame_size - 1
    with m.If(accept):
        m.d.sync += slot.eq(Mux(last, 0, slot + 1))
    check_tlast(m, accept, last, input_slice.payload.last, block.tlast_missing,
                block.tlast_unexpected)
    return FrameShell(head=input_slice.payload, accept=accept, enable=enable, slot=slot,
                      last=last, output=output)
