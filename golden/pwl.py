"""Piecewise-linear (PWL) activation: fitter, bit-exact integer model and error report.

Ko et al. evaluate the nonlinearities of a frequency-domain CNN as linear pieces. Here a
function ``f`` on an input range is cut into segments; segment ``i`` evaluates
``y = S[i] · x + C[i]`` on the input code ``x``.

Arithmetic (input code ``x``, format ``(Bi, Fi)``; output ``(Bo, Fo)``)
----------------------------------------------------------------------
1. Clamp: ``x`` is limited to the fitted range ``[low, high]`` (codes). Outside the range the
   output holds the range ends' values (sigmoid → ≈0 and ≈1 on a wide enough range).
2. Segment: ``uniform`` segments (a power of two) are indexed by the top bits of
   ``x − low``: ``i = (x − low) >> k`` with the smallest ``k`` such that ``segments · 2**k``
   covers the range. ``fitted`` or explicit breakpoints ``b_1 < … < b_{S−1}`` (codes) give
   ``i = #{j : x ≥ b_j}`` (a comparator per breakpoint in hardware).
3. Coefficients: slope code ``S`` with ``Fs`` fraction bits (``slope_width`` bits, ``Fs`` as
   large as the steepest segment allows); intercept code ``C`` with ``Fc`` fraction bits
   (``intercept_width`` bits, ``Fc ≤ Fs + Fi``).
4. ``value`` mode: ``t = S·x + C·2**(Fs+Fi−Fc)`` exactly, then divided by ``2**(Fs+Fi−Fo)``
   with the chosen rounding (a left shift if that is negative) and saturated to ``Bo`` bits.
   ``derivative`` mode: ``S`` rescaled from ``Fs`` to ``Fo`` fraction bits, rounded, saturated.
   ``gradient`` mode: ``S · dY`` for an incoming gradient ``dY`` in the output format, rescaled
   by ``2**−Fs``, rounded, saturated: ``dX = dY · f′(x)`` of the fitted curve.

Affine pre-stage (``affine=True``): before step 1 each sample becomes
``z = sat(round((G·x + O·2**Fg) / 2**Fg))`` in the input format, with its channel's gain code
``G`` (format ``gain_format = (Wg, Fg)``) and offset code ``O`` (input format), loaded at run
time. :meth:`PiecewiseLinearModel.normalization` derives them from a channel's mean and standard
deviation, ``z = (x − mean) / std``, as the seed's spectral activation normalizes its values.

Fit: each segment gets the minimax line through its codes for a convex or concave piece (the
chord's slope, the intercept centred between the largest and smallest deviation); the slope is
quantized first and the intercept centred again for the quantized slope. ``fitted`` breakpoints
minimize the largest error: a binary search on the error level, with segments grown greedily
as far as each stays within it.
"""

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from fdcnn.golden.checks import integer_in, one_of
from fdcnn.golden.config import BlockConfig, BlockModel, parameter
from fdcnn.golden.fixed import (FixedFormat, check_rounding, checked_format, pair_text,
                                round_shift, saturate)

__all__ = ["PWLConfig", "Activation", "ACTIVATIONS", "leaky_relu", "activation",
           "PiecewiseLinearModel", "output_format_for", "MODES",
           "EXHAUSTIVE_BITS"]

MODES = ("value", "derivative", "gradient")
#: Error reports visit every input code up to this width, a sample of codes beyond it.
EXHAUSTIVE_BITS = 20


@dataclass(frozen=True)
class Activation:
    """A function with its derivative, both vectorized over NumPy float arrays."""

    name: str
    function: Callable
    derivative: Callable

    def __call__(self, x):
        return self.function(x)


def _numeric_derivative(function, step=1e-6):
    return lambda x: (function(x + step) - function(x - step)) / (2 * step)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _erf(x):
    from scipy.special import erf
    return erf(x)


#: Largest magnitude of a leaky ReLU's slope below zero.
MAX_LEAKY_SLOPE = 1.0


def leaky_relu(alpha=0.01):
    """Leaky ReLU with slope ``alpha`` (a finite number from −1 to 1) below zero."""
    if (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha)
            or abs(alpha) > MAX_LEAKY_SLOPE):
        raise ValueError(f"Leaky ReLU slope must be a finite number from -{MAX_LEAKY_SLOPE:g} to "
                         f"{MAX_LEAKY_SLOPE:g}, not {alpha!r}")
    return Activation(f"leaky_relu({alpha})", lambda x: np.where(x >= 0, x, alpha * x),
                      lambda x: np.where(x >= 0, 1.0, alpha))


ACTIVATIONS = {activation_.name: activation_ for activation_ in (
    Activation("sigmoid", _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    Activation("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    Activation("relu", lambda x: np.maximum(x, 0.0), lambda x: np.where(x >= 0, 1.0, 0.0)),
    Activation("silu", lambda x: x * _sigmoid(x),
               lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x)))),
    Activation("gelu", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
               lambda x: 0.5 * (1 + _erf(x / math.sqrt(2)))
               + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)),
    Activation("softplus", lambda x: np.logaddexp(0.0, x), _sigmoid),
)}
ACTIVATIONS["leaky_relu"] = leaky_relu()


def activation(spec):
    """An :class:`Activation` from a name in :data:`ACTIVATIONS` (or ``leaky_relu:ALPHA``), an
    Activation, or a callable (its derivative then taken numerically)."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        name, colon, argument = spec.partition(":")
        if name == "leaky_relu" and colon:
            try:
                alpha = float(argument)
            except ValueError:
                raise ValueError(f"Leaky ReLU slope must be a number, not {argument!r}") from None
            return leaky_relu(alpha)
        one_of("Function", spec, tuple(ACTIVATIONS))
        return ACTIVATIONS[spec]
    if callable(spec):
        function = lambda x: np.asarray(spec(x), dtype=np.float64)   # noqa: E731
        return Activation(getattr(spec, "__name__", "callable"), function,
                          _numeric_derivative(function))
    raise TypeError(f"Function must be a name, an Activation or a callable, not {spec!r}")


def code_sample(low: int, high: int, seed: int = 0) -> np.ndarray:
    """Every code from ``low`` to ``high`` up to ``2**EXHAUSTIVE_BITS`` of them, else a random
    sample of that many plus both ends, so checks and reports on wide (up to 32-bit) inputs take
    memory in proportion to the sample, not to the range."""
    if high - low + 1 <= 1 << EXHAUSTIVE_BITS:
        return np.arange(low, high + 1)
    rng = np.random.default_rng(seed)
    return np.unique(np.concatenate([rng.integers(low, high + 1, 1 << EXHAUSTIVE_BITS),
                                     [low, high]]))


def output_format_for(function, input_format, width=16, mode="value"):
    """The ``(width, fraction)`` output format with the most fraction bits that holds
    ``function`` (or its derivative) over the whole input format, as the model checks it."""
    fmt = FixedFormat(*input_format)
    x = code_sample(fmt.min_code, fmt.max_code) * fmt.lsb
    chosen = activation(function)
    values = chosen(x) if mode == "value" else chosen.derivative(x)
    largest = max(float(np.max(np.abs(values))), 2.0 ** -(width - 1))
    fraction = width - 1 - math.ceil(math.log2(largest))
    while not (values.min() >= -(2.0 ** (width - 1) + 1) * 2.0 ** -fraction
               and values.max() <= 2.0 ** (width - 1) * 2.0 ** -fraction):
        fraction -= 1
    return width, fraction


def _breakpoints_text(text):
    if text == "uniform":
        return None
    if text == "fit":
        return "fit"
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        return text


@dataclasses.dataclass(frozen=True)
class PWLConfig(BlockConfig):
    """Parameters of the PWL activation unit, validated, with the figures they imply.

    After validation ``function`` holds the :class:`Activation`, the formats hold
    :class:`~fdcnn.golden.fixed.FixedFormat` values, and ``output_format="auto"`` is resolved
    (:func:`output_format_for`).
    """

    function: Any = parameter("sigmoid", "sigmoid, tanh, relu, leaky_relu[:alpha], silu, gelu, "
                                         "softplus, or (from Python) a callable",
                              parse=str)
    input_format: Any = parameter((16, 12), "width,fraction of the input", parse=pair_text)
    output_format: Any = parameter((16, 15), "width,fraction of the output, or auto: 16 bits "
                                             "with as many fraction bits as the function's range "
                                             "allows", parse=pair_text, cli_default="auto")
    input_range: Any = parameter(None, "low,high fitted range (default: the whole input format); "
                                       "inputs outside are clamped", parse=pair_text)
    segments: int = parameter(16, "number of segments (1 … 1024; a power of two for uniform)")
    breakpoints: Any = parameter(None, "uniform (default), fit, or a comma-separated list of "
                                       "segments − 1 ascending values", parse=_breakpoints_text)
    slope_width: int = parameter(18, "stored slope bits (2 … 32)")
    intercept_width: int = parameter(18, "stored intercept bits (2 … 32)")
    rounding: str = parameter("convergent", "truncate, half_up or convergent, for the output")
    mode: str = parameter("value", "value (f), derivative (f′ of the fitted curve) or gradient "
                                   "(dY · f′)")
    affine: bool = parameter(False, "per-channel pre-stage f(gain·x + offset), loaded at run "
                                    "time", flag=True)
    channels: int = parameter(1, "channels of the affine pre-stage (1 … 4096)")
    gain_format: Any = parameter((18, 12), "width,fraction of the pre-stage gain", parse=pair_text)
    complex: bool = parameter(False, "split-complex samples: the function on the real and the "
                                     "imaginary part", flag=True)

    def __post_init__(self):
        self._set("function", activation(self.function))
        self._set("input_format", checked_format("Input format", self.input_format))
        if self.output_format == "auto":
            self._set("output_format", output_format_for(
                self.function, (self.input_format.width, self.input_format.fraction),
                mode="value" if self.mode == "value" else "derivative"))
        self._set("output_format", checked_format("Output format", self.output_format))
        integer_in("Segments", self.segments, 1, 1024)
        integer_in("Slope width", self.slope_width, 2, 32)
        integer_in("Intercept width", self.intercept_width, 2, 32)
        check_rounding(self.rounding)
        one_of("Mode", self.mode, MODES)
        if not isinstance(self.affine, bool):
            raise TypeError(f"Affine must be True or False, not {self.affine!r}")
        integer_in("Channels", self.channels, 1, 4096)
        if not self.affine and self.channels != 1:
            raise ValueError(f"Channels apply to the affine pre-stage only (affine=True), not "
                             f"{self.channels} channels without it")
        self._set("gain_format", checked_format("Gain format", self.gain_format))
        if not isinstance(self.complex, bool):
            raise TypeError(f"Complex must be True or False, not {self.complex!r}")
        low, high = self.range_codes
        if high - low + 1 < self.segments:
            raise ValueError(f"Input range {self._real((low, high))} holds {high - low + 1} "
                             f"input codes, fewer than the {self.segments} segments")
        if self.breakpoints is None and self.segments & (self.segments - 1):
            raise ValueError(f"Uniform segments must be a power of two, not {self.segments}")
        if self.placement == "explicit":
            self.explicit_breakpoints   # noqa: B018 (validates)
        self._check_output_range()

    @property
    def activation(self) -> Activation:
        return self.function

    @property
    def placement(self) -> str:
        """``uniform``, ``fitted`` or ``explicit`` breakpoints."""
        if self.breakpoints is None:
            return "uniform"
        if isinstance(self.breakpoints, str) and self.breakpoints == "fit":
            return "fitted"
        return "explicit"

    def sample_codes(self, seed: int = 0) -> np.ndarray:
        """:func:`code_sample` of the fitted range."""
        return code_sample(*self.range_codes, seed)

    def _real(self, codes):
        return tuple(float(code) * self.input_format.lsb for code in codes)

    @functools.cached_property
    def range_codes(self) -> tuple:
        """``(low, high)``: the fitted range in input codes."""
        fmt, input_range = self.input_format, self.input_range
        if input_range is None:
            return fmt.min_code, fmt.max_code
        if (not isinstance(input_range, (tuple, list)) or len(input_range) != 2
                or not all(isinstance(end, (int, float)) for end in input_range)):
            raise TypeError(f"Input range must be a (low, high) pair of numbers, not "
                            f"{input_range!r}")
        if not all(math.isfinite(end) for end in input_range):
            raise ValueError(f"Input range must be a pair of finite numbers, not "
                             f"{tuple(input_range)}")
        low = math.ceil(input_range[0] / fmt.lsb)
        high = math.floor(input_range[1] / fmt.lsb)
        if not fmt.min_code <= low < high <= fmt.max_code:
            raise ValueError(f"Input range must be an increasing pair within the input format's "
                             f"[{fmt.min_code * fmt.lsb}, {fmt.max_code * fmt.lsb}], not "
                             f"{tuple(input_range)}")
        return low, high

    @functools.cached_property
    def explicit_breakpoints(self) -> tuple:
        """The given breakpoints as input codes."""
        breakpoints = self.breakpoints
        try:
            points = [float(point) for point in breakpoints]
        except (TypeError, ValueError):
            raise TypeError(f"Breakpoints must be None, 'fit' or a sequence of numbers, not "
                            f"{breakpoints!r}") from None
        if not all(math.isfinite(point) for point in points):
            raise ValueError(f"Breakpoints must be finite numbers, not {list(breakpoints)!r}")
        codes = [math.ceil(point / self.input_format.lsb) for point in points]
        low, high = self.range_codes
        if (len(codes) != self.segments - 1 or codes != sorted(set(codes))
                or (codes and not low < codes[0] <= codes[-1] <= high)):
            raise ValueError(f"Breakpoints must be {self.segments - 1} ascending values inside "
                             f"the input range, not {list(breakpoints)!r}")
        return tuple(codes)

    def _check_output_range(self):
        codes = self.sample_codes()
        if self.mode == "value":
            values = self.activation(codes * self.input_format.lsb)
        else:
            values = self.activation.derivative(codes * self.input_format.lsb)
        fmt = self.output_format
        if (values.min() < (fmt.min_code - 1) * fmt.lsb
                or values.max() > (fmt.max_code + 1) * fmt.lsb):
            what = "values" if self.mode == "value" else "derivative"
            raise ValueError(f"Output format {fmt} cannot hold the {what} of "
                             f"{self.activation.name} on the input range: "
                             f"[{values.min():.4g}, {values.max():.4g}]")


class PiecewiseLinearModel(BlockModel):
    """Fitter and integer model of the PWL activation unit, built from a :class:`PWLConfig` (or
    its fields as keywords); the config's fields and derived figures read as the model's
    attributes."""

    config_class = PWLConfig

    def __init__(self, config=None, /, **parameters):
        super().__init__(config, **parameters)
        self.low, self.high = self.range_codes
        if self.placement == "uniform":
            self.segment_shift = max(0, math.ceil(math.log2((self.high - self.low + 1)
                                                            / self.segments)))
            starts = self.low + (np.arange(self.segments) << self.segment_shift)
            self.breakpoints = tuple(int(start) for start in starts[1:] if start <= self.high)
        elif self.placement == "fitted":
            self.breakpoints = self._fit_breakpoints()
        else:
            self.breakpoints = self.explicit_breakpoints
        self.slopes, self.intercepts, self.slope_fraction, self.intercept_fraction = \
            self._coefficients()

    # Fitting -------------------------------------------------------------------------------

    @property
    def segment_bounds(self):
        """``(first, last)`` input codes of each segment."""
        starts = (self.low,) + self.breakpoints
        ends = tuple(point - 1 for point in self.breakpoints) + (self.high,)
        return list(zip(starts, ends))

    def _line(self, first, last, slope=None, samples=None):
        """Minimax line over codes ``first … last``: ``(slope, intercept, max error)`` in reals,
        for the given slope or the chord's. Segments longer than ``samples`` codes (the
        fitter's search passes 4096; default ``2**EXHAUSTIVE_BITS``) are judged on that many
        evenly spread codes, shorter ones on every code."""
        samples = samples or 1 << EXHAUSTIVE_BITS      # wide segments: an even sample
        if last - first + 1 > samples:
            codes = np.unique(np.linspace(first, last, samples + 1).round().astype(np.int64))
        else:
            codes = np.arange(first, last + 1)
        x = codes * self.input_format.lsb
        y = self.activation(x)
        if slope is None:
            slope = 0.0 if last == first else (y[-1] - y[0]) / (x[-1] - x[0])
        deviation = y - slope * x
        return slope, (deviation.max() + deviation.min()) / 2, (deviation.max() - deviation.min()) / 2

    def _longest(self, first, error):
        """Most codes from ``first`` whose line stays within ``error``: doubling, then bisection."""
        def within(length):
            return self._line(first, first + length - 1, samples=4096)[2] <= error
        limit = self.high - first + 1
        good, step = 1, 1
        while good + step <= limit and within(good + step):
            good, step = good + step, step * 2
        bad = min(good + step, limit + 1)
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if within(middle) else (good, middle)
        return good

    def _fit_breakpoints(self):
        """Breakpoints for ``segments`` pieces with the smallest achievable largest error."""
        def pieces(error):
            points, first = [], self.low
            while True:
                first += self._longest(first, error)
                if first > self.high:
                    return points
                if len(points) == self.segments - 1:
                    return None
                points.append(first)

        low, high = 0.0, self._line(self.low, self.high, samples=4096)[2]
        best = pieces(high)
        for _ in range(30):
            middle = (low + high) / 2
            found = pieces(middle)
            if found is not None:
                high, best = middle, found
            else:
                low = middle
        while len(best) < self.segments - 1:   # spare segments: split the widest
            bounds = list(zip([self.low] + best, [point - 1 for point in best] + [self.high]))
            first, last = max(bounds, key=lambda bound: bound[1] - bound[0])
            best = sorted(best + [(first + last + 1) // 2])
        return tuple(int(point) for point in best)

    def _coefficients(self):
        lines = [self._line(first, last) for first, last in self.segment_bounds]
        steepest = max(abs(slope) for slope, _, _ in lines)
        slope_max = (1 << (self.slope_width - 1)) - 1
        slope_fraction = (self.slope_width - 1 if steepest == 0
                          else math.floor(math.log2(slope_max / steepest)))
        slopes = [int(round(slope * 2 ** slope_fraction)) for slope, _, _ in lines]
        intercepts = [self._line(first, last, slope / 2 ** slope_fraction)[1]
                      for (first, last), slope in zip(self.segment_bounds, slopes)]
        largest = max(abs(value) for value in intercepts)
        intercept_max = (1 << (self.intercept_width - 1)) - 1
        product_fraction = slope_fraction + self.input_format.fraction
        intercept_fraction = (product_fraction if largest == 0 else
                              min(product_fraction, math.floor(math.log2(intercept_max / largest))))
        return (tuple(slopes), tuple(int(round(value * 2 ** intercept_fraction))
                                     for value in intercepts),
                slope_fraction, intercept_fraction)

    # The model -----------------------------------------------------------------------------

    @property
    def product_fraction(self):
        return self.slope_fraction + self.input_format.fraction

    def segment_of(self, codes):
        """Segment index of each (clamped) input code."""
        codes = np.asarray(codes)
        if self.placement == "uniform":
            return (codes - self.low) >> self.segment_shift
        return np.searchsorted(np.array(self.breakpoints), codes, side="right")

    def _rescale(self, values, fraction):
        """From ``fraction`` to the output's fraction bits: round, saturate. Returns
        ``(codes, saturated)``."""
        shift = fraction - self.output_format.fraction
        values = round_shift(values, shift, self.rounding) if shift >= 0 else values << -shift
        return saturate(values, self.output_format.width)

    def _segment_slopes(self, codes):
        codes = np.clip(np.asarray(codes, dtype=np.int64), self.low, self.high)
        return codes, np.array(self.slopes, dtype=np.int64)[self.segment_of(codes)]

    def _value(self, codes):
        codes, slope = self._segment_slopes(codes)
        intercept = np.array(self.intercepts, dtype=np.int64)[self.segment_of(codes)]
        total = slope * codes + (intercept << (self.product_fraction - self.intercept_fraction))
        return self._rescale(total, self.product_fraction)

    def _derivative(self, codes):
        return self._rescale(self._segment_slopes(codes)[1], self.slope_fraction)

    def evaluate(self, codes: ArrayLike,
                 gradient: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The unit's output for input codes (and ``dY`` codes in gradient mode): output codes,
        and where the output saturated."""
        if self.mode == "value":
            return self._value(codes)
        if self.mode == "derivative":
            return self._derivative(codes)
        slope = self._segment_slopes(codes)[1]
        return self._rescale(slope * np.asarray(gradient, dtype=np.int64), self.slope_fraction)

    # Affine pre-stage ------------------------------------------------------------------------

    def normalization(self, mean: float, std: float) -> tuple[int, int]:
        """Gain and offset codes for ``z = (x − mean) / std`` (real units of the input)."""
        gain = int(round(2 ** self.gain_format.fraction / std))
        offset = int(round(-mean / (std * self.input_format.lsb)))
        low, high = self.gain_format.min_code, self.gain_format.max_code
        if not low <= gain <= high:
            raise ValueError(f"Gain 1/{std} does not fit the gain format {self.gain_format}")
        return gain, int(np.clip(offset, self.input_format.min_code, self.input_format.max_code))

    def pre_stage(self, codes: ArrayLike, gains: ArrayLike,
                  offsets: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``z`` codes for input codes with their channels' gain and offset codes, and where
        ``z`` saturated."""
        fraction = self.gain_format.fraction
        total = (np.asarray(gains, dtype=np.int64) * np.asarray(codes, dtype=np.int64)
                 + (np.asarray(offsets, dtype=np.int64) << fraction))
        return saturate(round_shift(total, fraction, self.rounding), self.input_format.width)

    # Error report --------------------------------------------------------------------------

    def report_codes(self, seed=0):
        """:meth:`sample_codes`, and when that is a sample, every breakpoint ± 1 too."""
        codes = self.sample_codes(seed)
        if len(codes) == self.high - self.low + 1:
            return codes
        edges = [point + delta for point in self.breakpoints for delta in (-1, 0, 1)]
        return np.unique(np.concatenate([codes, edges]))

    def errors(self) -> dict:
        """Max and RMS error in output LSBs, over the range, of the value and of the
        derivative (the fitted slope against f′, in output LSBs)."""
        codes = self.report_codes()
        x = codes * self.input_format.lsb
        lsb = self.output_format.lsb
        value_error = self._value(codes)[0] * lsb - self.activation(x)
        derivative_error = self._derivative(codes)[0] * lsb - self.activation.derivative(x)
        return {"max": float(np.max(np.abs(value_error)) / lsb),
                "rms": float(np.sqrt(np.mean(value_error ** 2)) / lsb),
                "derivative_max": float(np.max(np.abs(derivative_error)) / lsb),
                "derivative_rms": float(np.sqrt(np.mean(derivative_error ** 2)) / lsb)}

    def error_bound(self) -> float:
        """Bound on the value's max error in output LSBs, from theory.

        Per segment of width ``h``: linear interpolation errs by at most ``h²/8 · max|f″|``
        (the minimax line by no more); quantizing the slope by ``≤ 2^−(Fs+1)`` adds at most that
        times ``h/2`` once the intercept is centred again; quantizing the intercept adds
        ``2^−(Fc+1)``; rounding the output ``½`` LSB (``1`` for truncate); and where ``f``
        exceeds the output format (sigmoid's 1.0 in Q1.15) the saturation's excess.
        ``f″`` is bounded numerically by second differences on a grid eight times finer than the
        input LSB, inside each segment.
        """
        lsb_in, lsb_out = self.input_format.lsb, self.output_format.lsb
        worst = 0.0
        for first, last in self.segment_bounds:
            width = (last - first) * lsb_in
            step = lsb_in / 8
            curvature = 0.0
            if width > 2 * step:    # the stencil stays inside the segment (a kink on its
                grid = np.linspace(first * lsb_in + step, last * lsb_in - step,   # boundary
                                   max(2, min(8 * (last - first) - 1,             # is no f″)
                                              8 << EXHAUSTIVE_BITS)))
                curvature = float(np.max(np.abs(self.activation(grid + step)
                                                - 2 * self.activation(grid)
                                                + self.activation(grid - step))) / step ** 2)
            worst = max(worst, width ** 2 / 8 * curvature
                        + 2.0 ** -(self.slope_fraction + 1) * width / 2)
        x = self.sample_codes() * lsb_in
        values = self.activation(x)
        excess = max(0.0, values.max() - self.output_format.max_code * lsb_out,
                     self.output_format.min_code * lsb_out - values.min())
        rounding = 1.0 if self.rounding == "truncate" else 0.5
        return (worst + 2.0 ** -(self.intercept_fraction + 1) + excess) / lsb_out + rounding
