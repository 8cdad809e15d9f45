"""The sample that travels down the FFT pipeline: data plus the tags that go with it."""

from amaranth.hdl import signed
from amaranth.lib import data

__all__ = ["TAGS", "sample_layout", "copy_sample", "fixed_tags"]

#: The flags that travel with a sample's data: ``valid`` (not a flush or reset filler),
#: ``inverse`` (the frame's direction) and ``overflow`` (something saturated on its way).
TAGS = data.StructLayout({"valid": 1, "inverse": 1, "overflow": 1})


def sample_layout(width: int) -> data.StructLayout:
    """``real``/``imag`` (``width`` bits), then the :data:`TAGS`."""
    return data.StructLayout({"real": signed(width), "imag": signed(width),
                              **dict(TAGS.members)})


def copy_sample(target, source, *, real=None, imag=None, overflow=0):
    """Statements copying ``source`` to ``target`` field by field (widths may differ),
    optionally with new data and more saturation ORed into ``overflow``."""
    return [target.real.eq(source.real if real is None else real),
            target.imag.eq(source.imag if imag is None else imag),
            target.valid.eq(source.valid), target.inverse.eq(source.inverse),
            target.overflow.eq(source.overflow | overflow)]


def fixed_tags(direction, *, overflow_possible):
    """The :data:`TAGS` a buffer need not store, with the value they always hold: ``inverse``
    when the transform's ``direction`` is fixed, and ``overflow`` (0) where no sample can have
    saturated yet."""
    tags = {} if direction == "runtime" else {"inverse": int(direction == "inverse")}
    if not overflow_possible:
        tags["overflow"] = 0
    return tags
