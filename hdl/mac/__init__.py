"""The spectral MAC array: :class:`~fdcnn.hdl.mac.top.SpectralMAC` and its lanes
(:mod:`~fdcnn.hdl.mac.lane`)."""

from fdcnn.golden.mac import DEFAULT_MODES
from fdcnn.hdl.mac.top import SpectralMAC

__all__ = ["SpectralMAC", "DEFAULT_MODES"]
