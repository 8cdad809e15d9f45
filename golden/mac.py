"""Integer model of the spectral multiply-accumulate (MAC) array's arithmetic.

In the frequency domain a convolution layer is a pointwise complex product accumulated over
input channels (Ko et al. train fully in the frequency domain). Spectra have ``bins`` samples
per channel; ``X`` is ``(in_channels, bins)``, ``W`` is ``(out_channels, in_channels, bins)``.

Modes
-----
``forward``        ``Y[o][k]  = Σ_c  X[c][k] · W[o][c][k]``
``backward_data``  ``dX[c][k] = Σ_o  conj(W[o][c][k]) · dY[o][k]``
``weight_grad``    ``dW[o][c][k] = Σ_b conj(X_b[c][k]) · dY_b[o][k]`` over a batch ``b``

Arithmetic
----------
Each term is the exact complex product of a streamed operand (``data_width`` bits per
component) and a stored one (``weight_width`` bits; in ``weight_grad`` the stored operand is
``X``), the stored one conjugated in both backward modes: ``(a + jb)(c + jd) = (ac − bd) +
j(ad + bc)``. That needs ``data_width + weight_width + 1`` bits (the ``+1`` for the conjugate of
the most negative imaginary part). Gauss's three-multiplier form (``multiplier="3mult"``,
``k1 = c(a + b)``, ``k2 = a(d − c)``, ``k3 = b(c + d)``, real ``k1 − k3``, imaginary ``k1 + k2``) is
the same integer, so both forms share this model.

Terms are accumulated in the order of the sum's index (``c``, ``o`` or ``b`` ascending) in
``accumulator_width`` bits: exact by default (product width + ``ceil(log2(channels))``, channels
being the larger channel maximum); a narrower accumulator, or a batch longer than that,
saturates at each addition. The output is the accumulator divided by ``2**output_shift`` with the
chosen rounding, saturated to ``output_width``. A result's ``overflow`` flag is set when its
accumulation or its output saturated.

The weight update subtracts the accumulated ``dW`` divided by ``2**s`` with the same rounding,
``W − round(dW / 2**s)``, and saturates to ``weight_width``; its flag is set when the
accumulation or the new weight saturated.
"""

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import codes_in_range, integer_in, one_of
from fdcnn.golden.cmult import MULTIPLIERS, complex_product, product_width
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fixed import check_rounding, round_shift, saturate

__all__ = ["MACConfig", "SpectralMACModel", "MODES", "DEFAULT_MODES", "MULTIPLIERS",
           "MAX_LEARNING_SHIFT"]

MODES = ("forward", "backward_data", "weight_grad", "weight_update")
#: The modes built unless ``modes`` says otherwise (the weight update is opt-in).
DEFAULT_MODES = ("forward", "backward_data", "weight_grad")
#: Words of the largest RAM the generator builds (a lane's operand or accumulator RAM): beyond
#: it the Verilog would take minutes and gigabytes to write, for more RAM than an FPGA has.
MAX_RAM_WORDS = 1 << 17
#: Largest learning-rate shift ``s`` of the weight update.
MAX_LEARNING_SHIFT = 63

#: A complex operand: its real and imaginary parts, integer arrays of one shape.
Pair = tuple[ArrayLike, ArrayLike]


def _optional_int(text):
    try:
        return int(text)
    except ValueError:
        return text


def _modes_text(text):
    return text.split(",")


@dataclasses.dataclass(frozen=True)
class MACConfig(BlockConfig):
    """Parameters of the MAC array, validated, with the widths they imply. The ``None``
    defaults are resolved when the config is made."""

    lanes: int = parameter(4, "complex MAC units (1 … 64)")
    modes: tuple = parameter(DEFAULT_MODES, "modes to build, comma-separated, from forward, "
                                            "backward_data, weight_grad, weight_update (default: "
                                            "all but weight_update); a tile asking for another "
                                            "runs forward", parse=_modes_text)
    bins: int = parameter(64, "samples per channel spectrum (1 … 65536)")
    max_in_channels: int = parameter(16, "largest input channel count (1 … 4096)")
    max_out_channels: int = parameter(16, "largest output channel count (1 … 4096)")
    data_width: int = parameter(16, "bits per component of the streamed operand (2 … 32)")
    weight_width: int = parameter(16, "bits per component of the stored operand (2 … 32)")
    accumulator_width: int | None = parameter(
        None, "accumulator bits (default: exact, data + weight + 1 + ceil(log2 channels))",
        parse=_optional_int)
    output_width: int | None = parameter(None, "output bits per component (default: data width)",
                                         parse=_optional_int)
    output_shift: int | None = parameter(
        None, "right shift from accumulator to output (default: weight width − 1, the stored "
              "operand read as Q1.(weight_width−1))", parse=_optional_int)
    rounding: str = parameter("convergent", "truncate, half_up or convergent")
    multiplier: str = parameter("4mult", "4mult or 3mult (same results, fewer multipliers)")

    def __post_init__(self):
        integer_in("Lanes", self.lanes, 1, 64)
        modes = self.modes
        if (not isinstance(modes, (tuple, list)) or not modes
                or any(mode not in MODES for mode in modes)):
            raise ValueError(f"Modes must be a non-empty list from {', '.join(MODES)}, "
                             f"not {modes!r}")
        self._set("modes", tuple(mode for mode in MODES if mode in modes))
        integer_in("Bins", self.bins, 1, 65536)
        integer_in("Input channels", self.max_in_channels, 1, 4096)
        integer_in("Output channels", self.max_out_channels, 1, 4096)
        integer_in("Data width", self.data_width, 2, 32)
        integer_in("Weight width", self.weight_width, 2, 32)
        check_rounding(self.rounding)
        one_of("Multiplier", self.multiplier, MULTIPLIERS)
        exact = self.product_width + math.ceil(math.log2(max(self.max_in_channels,
                                                               self.max_out_channels)))
        self._resolve("accumulator_width", exact)
        integer_in("Accumulator width", self.accumulator_width, 2, 96)
        self._resolve("output_width", self.data_width)
        integer_in("Output width", self.output_width, 2, 64)
        self._resolve("output_shift", self.weight_width - 1)
        integer_in("Output shift", self.output_shift, 0, self.accumulator_width)
        if "weight_update" in self.modes and self.output_width < self.weight_width:
            raise ValueError(f"Output width must be at least the weight width "
                             f"({self.weight_width}) to carry updated weights, not "
                             f"{self.output_width}")
        largest = max(self.operand_depth, 2 * self.accumulator_depth)
        if largest > MAX_RAM_WORDS:
            raise ValueError(f"The MAC array's largest RAM (per lane) would hold {largest} words "
                             f"(bins × channels); the generator's limit is {MAX_RAM_WORDS}")

    def _resolve(self, name, default):
        if getattr(self, name) is None:
            self._set(name, default)

    @property
    def max_frames(self) -> int:
        """The larger channel maximum: frames a tile may stream."""
        return max(self.max_in_channels, self.max_out_channels)

    @property
    def accumulator_frames(self) -> int:
        """Frames an accumulator bank holds: ``max_out_channels`` with a gradient mode built
        (one ``dW`` frame per output channel), else 1."""
        gradient = {"weight_grad", "weight_update"} & set(self.modes)
        return self.max_out_channels if gradient else 1

    @property
    def accumulator_depth(self) -> int:
        """Words of one accumulator bank (a lane has two)."""
        return self.accumulator_frames * self.bins

    @property
    def gradient_base(self) -> int:
        """Operand RAM address of the gradient modes' ``X``: after the weights when the weight
        update is built (so that they survive), else 0."""
        return self.max_frames * self.bins if "weight_update" in self.modes else 0

    @property
    def operand_depth(self) -> int:
        """Words of a lane's operand RAM."""
        extra = self.bins if "weight_update" in self.modes else 0
        return self.max_frames * self.bins + extra

    @property
    def product_width(self) -> int:
        """Bits of one component of a complex product (conjugation included)."""
        return product_width(self.data_width, self.weight_width)


class SpectralMACModel(BlockModel):
    """Integer model of the MAC array, built from a :class:`MACConfig` (or its fields as
    keywords); the config's fields and derived widths read as the model's attributes."""

    config_class = MACConfig

    # The model -----------------------------------------------------------------------------

    def _check(self, name, values, width, shape):
        values = np.asarray(values)
        if values.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, not {values.shape}")
        codes_in_range(name, width, values)
        return values.astype(object)

    def _sums(self, streamed, stored, conjugate):
        """Σ over axis 0 of ``streamed[i] · (conj) stored[i]``, in order, saturating. Operands
        are (real, imag) pairs of object arrays. Returns the sums and their overflow flags."""
        (a, b), (c, d) = streamed, stored
        total_real = np.zeros(np.broadcast(a[0], c[0]).shape, dtype=object)
        total_imag = np.zeros_like(total_real)
        overflow = np.zeros(total_real.shape, dtype=bool)
        for term in range(a.shape[0]):
            real, imag = complex_product((a[term], b[term]), (c[term], d[term]), conjugate)
            total_real, real_saturated = saturate(total_real + real, self.accumulator_width)
            total_imag, imag_saturated = saturate(total_imag + imag, self.accumulator_width)
            overflow |= real_saturated | imag_saturated
        return (total_real, total_imag), overflow

    def _accumulate(self, streamed, stored, conjugate):
        """:meth:`_sums` through the output stage: real and imaginary outputs, and a flag per
        frame (the last axis is the bin)."""
        totals, overflow = self._sums(streamed, stored, conjugate)
        outputs = []
        for total in totals:
            output, saturated = saturate(round_shift(total, self.output_shift, self.rounding),
                                         self.output_width)
            overflow |= saturated
            outputs.append(output.astype(np.int64))
        return outputs[0], outputs[1], overflow.any(axis=-1)

    def forward(self, x: Pair, w: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``x``: (real, imag), each (C, bins); ``w``: each (O, C, bins). Returns ``Y`` real and
        imaginary parts (O, bins) and an overflow flag per output channel."""
        channels = np.asarray(x[0]).shape[0]
        outputs = np.asarray(w[0]).shape[0]
        streamed = [self._check("X", part, self.data_width, (channels, self.bins))[:, None, :]
                    for part in x]
        stored = [self._check("W", part, self.weight_width, (outputs, channels, self.bins))
                  .transpose(1, 0, 2) for part in w]
        return self._accumulate(streamed, stored, conjugate=False)

    def backward_data(self, w: Pair, dy: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``w``: each (O, C, bins); ``dy``: each (O, bins). Returns ``dX`` (C, bins) and a flag
        per input channel."""
        outputs, channels = np.asarray(w[0]).shape[:2]
        streamed = [self._check("dY", part, self.data_width, (outputs, self.bins))[:, None, :]
                    for part in dy]
        stored = [self._check("W", part, self.weight_width, (outputs, channels, self.bins))
                  for part in w]
        return self._accumulate(streamed, stored, conjugate=True)

    def _gradient_sums(self, x, dy):
        batch, channels = np.asarray(x[0]).shape[:2]
        outputs = np.asarray(dy[0]).shape[1]
        streamed = [self._check("dY", part, self.data_width, (batch, outputs, self.bins))
                    [:, :, None, :] for part in dy]
        stored = [self._check("X", part, self.weight_width, (batch, channels, self.bins))
                  [:, None, :, :] for part in x]
        return streamed, stored

    def weight_grad(self, x: Pair, dy: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``x``: each (B, C, bins); ``dy``: each (B, O, bins). Returns ``dW`` (O, C, bins) and a
        flag per (output, input) channel pair."""
        return self._accumulate(*self._gradient_sums(x, dy), conjugate=True)

    def weight_update(self, w: Pair, x: Pair, dy: Pair,
                      learning_shift: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One stochastic-gradient step: ``w`` each (O, C, bins), ``x`` and ``dy`` as for
        :meth:`weight_grad`. Returns the new ``W`` (O, C, bins) and a flag per channel pair."""
        integer_in("Learning-rate shift", learning_shift, 0, MAX_LEARNING_SHIFT)
        totals, overflow = self._sums(*self._gradient_sums(x, dy), conjugate=True)
        shape = totals[0].shape
        updated = []
        for part, total in zip(w, totals):
            weight = self._check("W", part, self.weight_width, shape)
            new, saturated = saturate(weight - round_shift(total, learning_shift, self.rounding),
                                      self.weight_width)
            overflow |= saturated
            updated.append(new.astype(np.int64))
        return updated[0], updated[1], overflow.any(axis=-1)
