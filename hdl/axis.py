"""AXI4-Stream Verilog tops for fdcnn blocks, and their JSON descriptions.

Every block has an ``i`` and an ``o`` member of :func:`hdl.stream.complex_stream` signature,
and may have more streams. :class:`AXIStreamTop` presents ``i`` as ``s_axis_*``, ``o`` as
``m_axis_*`` and any other stream ``name`` as ``s_axis_name_*`` (input) or ``m_axis_name_*``
(output); all other members of the block (status flags) keep their names.

``tdata`` packing: each component is sign-extended to a whole number of bytes; the real part
fills the low half, the imaginary part the high half (a real stream has only the real part).
``tuser`` carries the stream's ``user`` field where it has one. A stream whose payload is not a
sample (a control channel, such as the MAC array's tile configuration) has only ``tdata``, its
payload's bits from bit 0, padded to whole bytes, with ``tvalid`` and ``tready``.
"""

import re

from amaranth.back import verilog
from amaranth.hdl import Cat, Module, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.fixed import FixedFormat
from fdcnn.hdl.stream import is_stream_member

__all__ = ["AXIStreamTop", "component_width", "components", "emit", "describe",
           "describe_format", "check_module_name"]

#: Verilog-2005 reserved words (IEEE 1364-2005, annex B), which no module may be called.
VERILOG_KEYWORDS = frozenset("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign
default defparam design disable edge else end endcase endconfig endfunction endgenerate
endmodule endprimitive endspecify endtable endtask event for force forever fork function
generate genvar highz0 highz1 if ifnone incdir include initial inout input instance integer
join large liblist library localparam macromodule medium module nand negedge nmos nor
noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1
pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat
rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam
strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand
trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
""".split())
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_module_name(name):
    """Raise :class:`ValueError` unless ``name`` is a plain Verilog identifier (ASCII letters,
    digits and ``_``, not starting with a digit) and not a reserved word."""
    if (not isinstance(name, str) or not _IDENTIFIER.fullmatch(name)
            or name in VERILOG_KEYWORDS):
        raise ValueError(f"Module name must be a plain Verilog identifier (letters, digits and _, "
                         f"not starting with a digit) and not a Verilog keyword, not {name!r}")


def component_width(stream_port):
    """Bits per component of a complex stream member."""
    return stream_port.payload.data.real.shape().width


def components(stream_port):
    """The stream's component fields, real first."""
    return [getattr(stream_port.payload.data, name)
            for name in stream_port.payload.data.shape().members]


def _is_sample(stream_port):
    return "data" in stream_port.payload.shape().members


def _has_user(stream_port):
    return "user" in stream_port.payload.shape().members


def _prefix(name, flow):
    base = "s_axis" if flow is In else "m_axis"
    return base if name in ("i", "o") else f"{base}_{name}"


def _top_members(block):
    """The Verilog top's signature members for ``block``, and its streams' AXI prefixes (block
    member name → prefix)."""
    streams, members = {}, {}
    for name, member in block.signature.members.items():
        if not is_stream_member(member):
            members[name] = member
            continue
        port = getattr(block, name)
        flow, back = (In, Out) if member.flow is In else (Out, In)
        prefix = streams[name] = _prefix(name, flow)
        if _is_sample(port):
            width = len(components(port)) * FixedFormat(component_width(port)).padded_width
        else:
            width = FixedFormat(port.payload.shape().size).padded_width
        members[f"{prefix}_tdata"] = flow(width)
        members[f"{prefix}_tvalid"] = flow(1)
        members[f"{prefix}_tready"] = back(1)
        if not _is_sample(port):
            continue
        members[f"{prefix}_tlast"] = flow(1)
        if _has_user(port):
            members[f"{prefix}_tuser"] = flow(port.payload.user.shape().width)
    return members, streams


class AXIStreamTop(wiring.Component):
    """Wraps ``block`` so its streams appear as AXI4-Stream ports.

    Parameters
    ----------
    block : wiring.Component
        A block with ``i`` (In) and ``o`` (Out) complex streams.
    """

    def __init__(self, block):
        self.block = block
        members, self.streams = _top_members(block)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        block = self.block
        m.submodules.block = block
        for name, prefix in self.streams.items():
            port = getattr(block, name)
            if not _is_sample(port):      # control channel, always into the block here
                m.d.comb += [port.payload.as_value().eq(getattr(self, f"{prefix}_tdata")),
                             port.valid.eq(getattr(self, f"{prefix}_tvalid")),
                             getattr(self, f"{prefix}_tready").eq(port.ready)]
                continue
            tdata, tvalid, tready, tlast = (getattr(self, f"{prefix}_{field}")
                                            for field in ("tdata", "tvalid", "tready", "tlast"))
            fields = components(port)
            padded = len(tdata) // len(fields)
            if block.signature.members[name].flow is In:
                m.d.comb += [field.eq(tdata[index * padded:index * padded + len(field)])
                             for index, field in enumerate(fields)]
                m.d.comb += [port.payload.last.eq(tlast), port.valid.eq(tvalid),
                             tready.eq(port.ready)]
                if _has_user(port):
                    m.d.comb += port.payload.user.eq(getattr(self, f"{prefix}_tuser"))
            else:
                extended = [Signal(signed(padded), name=f"{prefix}_{index}")
                            for index in range(len(fields))]
                m.d.comb += [wide.eq(field) for wide, field in zip(extended, fields)]
                m.d.comb += [tdata.eq(Cat(*extended)), tlast.eq(port.payload.last),
                             tvalid.eq(port.valid), port.ready.eq(tready)]
                if _has_user(port):
                    m.d.comb += getattr(self, f"{prefix}_tuser").eq(port.payload.user)
        for name, member in block.signature.members.items():
            if name in self.streams:
                continue
            if member.flow is Out:
                m.d.comb += getattr(self, name).eq(getattr(block, name))
            else:
                m.d.comb += getattr(block, name).eq(getattr(self, name))
        return m


#: An ``initial`` block that sets every word of a memory to zero, as Yosys writes them.
_ZERO_MEMORY_INIT = re.compile(r"  initial begin\n(?:    [\w\\$.]+\[\d+\] = \d+'[hdb]0+;\n)+  end\n")


def describe_format(fixed):
    """A fixed-point format as a sidecar states it: width, fraction bits, and the ``tdata``
    bits a component takes (sign-extended to whole bytes)."""
    return {"width": fixed.width, "fraction": fixed.fraction, "tdata_bits": fixed.padded_width}


def emit(block, name, *, zero_ram_init=True):
    """Verilog text of ``block`` behind an AXI4-Stream top module called ``name``.

    With ``zero_ram_init=False`` the RAMs get no initial contents (ROMs keep theirs). That is
    for synthesis: Amaranth gives every word of a zero-initialised RAM its own ``initial``
    statement (megabytes for the MAC array), which Yosys takes minutes to read, while FPGA block
    RAM powers up to zero anyway. Simulation keeps them: with X-initialised RAMs some benches see
    X on outputs (an open item for ASIC use, where SRAMs power up undefined).
    """
    check_module_name(name)
    text = verilog.convert(AXIStreamTop(block), name=name, emit_src=False)
    return text if zero_ram_init else _ZERO_MEMORY_INIT.sub("", text)


_COMPLEX_PACKING = ("each component sign-extended to a whole number of bytes; real part in "
                   "the low half of tdata, imaginary part in the high half")
_REAL_PACKING = "the real sample sign-extended to a whole number of bytes"

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
    real_only = len(components(block.i)) == 1
    meanings = dict(_STANDARD_PORTS, **details.pop("port_descriptions", {}))
    if real_only:
        meanings["s_axis_tdata"] = f"input sample: {_REAL_PACKING}"
    members, _ = _top_members(block)
    ports = [{"name": "clk", "direction": "input", "width": 1, "description": meanings["clk"]},
             {"name": "rst", "direction": "input", "width": 1, "description": meanings["rst"]}]
    for port_name, member in members.items():
        ports.append({"name": port_name,
                      "direction": "input" if member.flow is In else "output",
                      "width": Shape.cast(member.shape).width,
                      "description": meanings.get(port_name, "")})
    return {"module": name, "generator": "fdcnn", **details,
            "data_packing": _REAL_PACKING if real_only else _COMPLEX_PACKING,
            "ports": ports}
