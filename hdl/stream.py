"""The complex-sample stream every fdcnn block speaks.

Blocks connect with :func:`complex_stream` signatures (``amaranth.lib.stream``), so chaining
them is wiring. ``hdl.axis`` turns the same signature into AXI4-Stream ports at a Verilog top.
"""

from amaranth.hdl import signed
from amaranth.lib import data, stream

__all__ = ["complex_layout", "complex_stream"]


def complex_layout(width):
    """A complex sample: ``real`` and ``imag``, each a ``width``-bit signed integer."""
    return data.StructLayout({"real": signed(width), "imag": signed(width)})


def complex_stream(width, *, user_width=0):
    """Stream of complex samples with ``last`` marking a frame's final sample.

    ``user`` (``user_width`` bits, omitted when 0) carries per-sample side information such as
    the FFT's per-frame direction.
    """
    fields = {"data": complex_layout(width), "last": 1}
    if user_width:
        fields["user"] = user_width
    return stream.Signature(data.StructLayout(fields))
