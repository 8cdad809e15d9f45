"""AXI4-Stream Verilog tops for fdcnn blocks, and their JSON descriptions.

Every block has an ``i`` and an ``o`` member of :func:`hdl.stream.complex_stream` signature.
:class:`AXIStreamTop` presents them as ``s_axis_*`` and ``m_axis_*``; all other members of the
block (status flags) keep their names.

``tdata`` packing: each component is sign-extended to a whole number of bytes; the real part
fills the low half, the imaginary part the high half. ``tuser`` carries the stream's ``user``
field where it has one.
"""

from amaranth.back import verilog
from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden.fixed import FixedFormat

__all__ = ["AXIStreamTop", "component_width", "emit", "describe"]


def component_width(stream_port):
    """Bits per component of a complex stream member."""
    return stream_port.payload.data.real.shape().width


def _has_user(stream_port):
    return "user" in stream_port.payload.shape().members


class AXIStreamTop(wiring.Component):
    """Wraps ``block`` so its streams appear as AXI4-Stream ports.

    Parameters
    ----------
    block : wiring.Component
        A block with ``i`` (In) and ``o`` (Out) complex streams.
    """

    def __init__(self, block):
        self.block = block
        members = {}
        for prefix, port, flow in (("s_axis", block.i, In), ("m_axis", block.o, Out)):
            back = Out if flow is In else In
            width = FixedFormat(component_width(port)).padded_width
            members[f"{prefix}_tdata"] = flow(2 * width)
            members[f"{prefix}_tvalid"] = flow(1)
            members[f"{prefix}_tready"] = back(1)
            members[f"{prefix}_tlast"] = flow(1)
            if _has_user(port):
                members[f"{prefix}_tuser"] = flow(port.payload.user.shape().width)
        for name, member in block.signature.members.items():
            if name not in ("i", "o"):
                members[name] = member
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        block = self.block
        m.submodules.block = block

        source, width = block.i, component_width(block.i)
        half = len(self.s_axis_tdata) // 2
        m.d.comb += [
            source.payload.data.real.eq(self.s_axis_tdata[:width]),
            source.payload.data.imag.eq(self.s_axis_tdata[half:half + width]),
            source.payload.last.eq(self.s_axis_tlast),
            source.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(source.ready),
        ]
        if _has_user(source):
            m.d.comb += source.payload.user.eq(self.s_axis_tuser)

        sink = block.o
        half = len(self.m_axis_tdata) // 2
        real, imag = Signal(signed(half)), Signal(signed(half))
        m.d.comb += [
            real.eq(sink.payload.data.real), imag.eq(sink.payload.data.imag),
            self.m_axis_tdata.eq(Cat(real, imag)),
            self.m_axis_tlast.eq(sink.payload.last),
            self.m_axis_tvalid.eq(sink.valid),
            sink.ready.eq(self.m_axis_tready),
        ]
        if _has_user(sink):
            m.d.comb += self.m_axis_tuser.eq(sink.payload.user)

        for name in self.signature.members:
            if name in block.signature.members:
                if block.signature.members[name].flow is Out:
                    m.d.comb += getattr(self, name).eq(getattr(block, name))
                else:
                    m.d.comb += getattr(block, name).eq(getattr(self, name))
        return m


def emit(block, name):
    """Verilog text of ``block`` behind an AXI4-Stream top module called ``name``."""
    return verilog.convert(AXIStreamTop(block), name=name, emit_src=False)


_STANDARD_PORTS = {
    "clk": "clock, rising edge", "rst": "synchronous reset, active high",
    "s_axis_tdata": "input sample: real in the low half, imaginary in the high half, each "
                    "sign-extended to whole bytes",
    "s_axis_tvalid": "input sample valid", "s_axis_tready": "input sample accepted",
    "s_axis_tlast": "last sample of an input frame",
    "m_axis_tdata": "output sample, packed as s_axis_tdata",
    "m_axis_tvalid": "output sample valid", "m_axis_tready": "output sample taken",
    "m_axis_tlast": "last sample of an output frame",
}


def describe(block, name):
    """JSON-ready description of ``block``'s Verilog top: ports with widths and meanings,
    packing, and whatever the block's ``describe()`` adds (latency, formats, order)."""
    details = block.describe()
    meanings = dict(_STANDARD_PORTS, **details.pop("port_descriptions", {}))
    top = AXIStreamTop(block)
    ports = [{"name": "clk", "direction": "input", "width": 1, "description": meanings["clk"]},
             {"name": "rst", "direction": "input", "width": 1, "description": meanings["rst"]}]
    for port_name, member in top.signature.members.items():
        ports.append({"name": port_name,
                      "direction": "input" if member.flow is In else "output",
                      "width": len(getattr(top, port_name)),
                      "description": meanings.get(port_name, "")})
    top._MustUse__silence = True    # only inspected, never elaborated
    return {"module": name, "generator": "fdcnn", **details,
            "data_packing": "each component sign-extended to a whole number of bytes; real "
                            "part in the low half of tdata, imaginary part in the high half",
            "ports": ports}
