"""The streaming FFT: :class:`~fdcnn.hdl.fft.top.StreamingFFT` and the parts it is built from
(``butterfly``, ``twiddle``, ``pipeline``, ``sample``)."""

from fdcnn.hdl.fft.top import StreamingFFT

__all__ = ["StreamingFFT"]
