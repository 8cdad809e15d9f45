"""Shapes shared by the generators."""

__all__ = ["index_range"]


def index_range(count: int) -> range:
    """The shape of a counter, index or address over ``count`` values, at least one bit wide:
    Verilog has no zero-width vectors, and Amaranth would write one as ``[-1:0]`` (for a lane
    index with one lane, an address into one word)."""
    return range(max(count, 2))
