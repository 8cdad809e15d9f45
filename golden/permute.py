"""Stream reorderings that a single frame buffer performs: bit permutations of the position.

A frame of ``2**b`` samples arrives in one order and leaves in another. When both orders are
fixed bit permutations of the stream position (bit reversal, a transpose of power-of-two axes,
each axis bit-reversed or not), one RAM of ``2**b`` words reorders a stream of back-to-back
frames, each word read for the old frame just as the new frame's sample is written in its place
(:class:`fdcnn.hdl.permute.PermutationBuffer`). Frame ``f`` is written at address ``P^f(n)``
for stream position ``n``, where ``P`` is the permutation below.
"""

import numpy as np

from fdcnn.golden.fft import bit_reverse

__all__ = ["buffer_permutation", "permute_bits", "transpose_order"]


def permute_bits(positions, permutation):
    """``positions`` with bit ``i`` of each result taken from bit ``permutation[i]``."""
    positions = np.asarray(positions)
    result = np.zeros_like(positions)
    for bit, source in enumerate(permutation):
        result |= ((positions >> source) & 1) << bit
    return result


def buffer_permutation(input_order, output_order):
    """The bit permutation ``π`` a :class:`~fdcnn.hdl.permute.PermutationBuffer` needs.

    Parameters
    ----------
    input_order, output_order : array_like of int
        Stream position ``p`` carries element ``input_order[p]`` in, ``output_order[p]`` out.

    Returns
    -------
    tuple of int
        ``π`` such that ``P(m) = input_order⁻¹[output_order[m]]`` takes bit ``i`` from bit
        ``π[i]`` of ``m``.

    Raises
    ------
    ValueError
        When ``P`` is not a bit permutation (one buffer cannot do it).
    """
    input_order, output_order = np.asarray(input_order), np.asarray(output_order)
    size = len(input_order)
    bits = size.bit_length() - 1
    if size != 1 << bits or sorted(input_order) != list(range(size)) \
            or sorted(output_order) != list(range(size)):
        raise ValueError("Both orders must be permutations of 2**b positions")
    inverse = np.empty(size, dtype=np.int64)
    inverse[input_order] = np.arange(size)
    mapping = inverse[output_order]
    permutation = [0] * bits              # position bit ``source`` lands on address bit ``bit``
    for source in range(bits):
        permutation[int(mapping[1 << source]).bit_length() - 1] = source
    permutation = tuple(permutation)
    if not np.array_equal(permute_bits(np.arange(size), permutation), mapping):
        raise ValueError("The reordering is not a bit permutation of the stream position")
    return permutation


def transpose_order(rows, columns, *, reversed_rows=False, reversed_columns=False):
    """Element indices (row-major in a ``rows × columns`` frame) in column-major order: the
    order a corner turn emits. With ``reversed_columns`` the columns come in bit-reversed order,
    with ``reversed_rows`` each column's rows do."""
    column = np.repeat(np.arange(columns), rows)
    row = np.tile(np.arange(rows), columns)
    if reversed_columns:
        column = bit_reverse(column, columns.bit_length() - 1)
    if reversed_rows:
        row = bit_reverse(row, rows.bit_length() - 1)
    return row * columns + column
