"""The exact complex product that :class:`fdcnn.hdl.cmult.ComplexMultiplier` computes.

``(a + jb)(c + jd) = (ac − bd) + j(ad + bc)``, conjugated ``(ac + bd) + j(bc − ad)``. Gauss's
three-multiplier form gives the same integers, so one model serves both forms. With
``a_width``- and ``c_width``-bit operands every product, conjugated or not, fits in
``a_width + c_width + 1`` bits (``+1`` for ``−(−2**(c_width−1))``).
"""

import numpy as np

__all__ = ["MULTIPLIERS", "complex_product", "product_width", "real_multipliers"]

#: The multiplier forms: four real products, or Gauss's three.
MULTIPLIERS = ("4mult", "3mult")


def product_width(a_width: int, c_width: int) -> int:
    """Bits per component of an exact product of ``a_width``- and ``c_width``-bit operands."""
    return a_width + c_width + 1


def real_multipliers(multiplier: str) -> int:
    """Real multipliers of one complex multiplier of the given form."""
    return 3 if multiplier == "3mult" else 4


def complex_product(a, c, conjugate=False):
    """``a · c`` (``a · conj(c)`` where ``conjugate``) on integer arrays: ``a`` and ``c`` are
    ``(real, imag)`` pairs; returns ``(real, imag)``. Operands may broadcast."""
    (a_re, a_im), (c_re, c_im) = a, c
    c_im = np.where(conjugate, -np.asarray(c_im), c_im)
    return a_re * c_re - a_im * c_im, a_re * c_im + a_im * c_re
