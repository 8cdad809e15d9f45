"""Blocks in series, joined by wiring alone.

Every fdcnn block speaks :func:`hdl.stream.complex_stream`, so a layer (FFT → MAC → pool →
activation → iFFT) is each block's ``o`` connected to the next one's ``i``: no adapters. A
:class:`Chain` checks at construction that neighbours agree (sample width, real or complex,
``user`` field) and says which pair does not.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fdcnn.hdl.stream import is_stream_member

__all__ = ["Chain"]


def _describe_stream(member):
    layout = member.signature.members["payload"].shape
    data = layout["data"].shape
    width = data["real"].shape.width
    kind = "complex" if "imag" in data.members else "real"
    user = f", {layout['user'].shape.width}-bit user" if "user" in layout.members else ""
    return f"{width}-bit {kind} samples{user}"


class Chain(wiring.Component):
    """``blocks`` (``(name, block)`` pairs) in series: each ``o`` drives the next ``i``.

    Members: ``i`` (the first block's), ``o`` and ``overflow`` (the last block's), and every other
    member of every block as ``<name>_<member>`` (status flags, extra streams, coefficient
    ports).
    """

    def __init__(self, blocks):
        self.blocks = list(blocks)
        if len(self.blocks) < 2:
            raise ValueError(f"A chain needs at least two blocks, not {len(self.blocks)}")
        for (name, block), (next_name, next_block) in zip(self.blocks, self.blocks[1:]):
            out_member = block.signature.members["o"]
            in_member = next_block.signature.members["i"]
            payloads = (member.signature.members["payload"].shape
                        for member in (out_member, in_member))
            if next(payloads) != next(payloads):
                raise ValueError(f"{name} emits {_describe_stream(out_member)} but {next_name} "
                                 f"takes {_describe_stream(in_member)}")
        (_, first), (_, last) = self.blocks[0], self.blocks[-1]
        members = {"i": first.signature.members["i"], "o": last.signature.members["o"],
                   "overflow": Out(1)}
        for name, block in self.blocks:
            for member_name, member in block.signature.members.items():
                if member_name in ("i", "o") or (block is last and member_name == "overflow"):
                    continue
                members[f"{name}_{member_name}"] = member
        super().__init__(members)

    @property
    def latency(self):
        """Cycles from a frame's first input handshake to the first result's handshake: the
        blocks' latencies add up, the handshakes between them being shared."""
        return sum(block.latency for _, block in self.blocks)

    def describe(self):
        return {"parameters": {name: block.describe()["parameters"] for name, block in self.blocks},
                "latency_cycles": self.latency,
                "blocks": [name for name, _ in self.blocks],
                "port_descriptions": {
                    "overflow": f"the last block's ({self.blocks[-1][0]}) overflow flag"}}

    def elaborate(self, platform):
        m = Module()
        for name, block in self.blocks:
            m.submodules[name] = block
        (_, first), (_, last) = self.blocks[0], self.blocks[-1]
        wiring.connect(m, wiring.flipped(self.i), first.i)
        for (_, block), (_, next_block) in zip(self.blocks, self.blocks[1:]):
            wiring.connect(m, block.o, next_block.i)
        wiring.connect(m, last.o, wiring.flipped(self.o))
        m.d.comb += self.overflow.eq(last.overflow)
        for name, block in self.blocks:
            for member_name, member in block.signature.members.items():
                chained = f"{name}_{member_name}"
                if chained not in self.signature.members:
                    continue
                if is_stream_member(member):
                    ends = (getattr(block, member_name), getattr(self, chained))
                    if member.flow is In:
                        wiring.connect(m, wiring.flipped(ends[1]), ends[0])
                    else:
                        wiring.connect(m, ends[0], wiring.flipped(ends[1]))
                elif member.flow is Out:
                    m.d.comb += getattr(self, chained).eq(getattr(block, member_name))
                else:
                    m.d.comb += getattr(block, member_name).eq(getattr(self, chained))
        return m
