"""The seed's 1-D toy experiment, run through the generated RTL.

Two 9-bin "spectra" go through two stages of spectrum × filter → normalization + sigmoid →
keep the central ``2r + 1`` bins (``r = 3``, then ``r = 2``; the rest set to 0), and the
output/input ratio of the two signals is compared: if the chain were a linear low-pass filter,
the two ratios would be equal. The seed's code multiplies signal 2 by ``f1`` at its second
stage, which looks like a slip; this runs the intended ``f2`` for both signals.

Three computations of the same chain:

* **float**: the seed's mathematics in NumPy (population standard deviation, as the hardware's;
  MATLAB's ``std`` divides by ``N − 1``, and :func:`float_chain` can do that too);
* **golden**: the blocks' integer models (:mod:`fdcnn.golden`);
* **RTL**: each block's generated Verilog in cocotb + Icarus (``tb/through.py``), frame by frame,
  with random input gaps and output stalls.

Blocks and formats: the spectra enter as Q4.12 codes; the filter is the one-lane MAC's stored
operand in Q2.14 (it holds 1.0), the MAC shifting its products right by 14 to keep the data's
format; the normalization (frames of 9, Q4.12 out); the sigmoid PWL (real samples, 32 fitted
segments, Q4.12 in, Q1.15 out); the crop is the pooling unit (9 → 2r + 1) followed by its
adjoint (2r + 1 → 9, zero fill), which together are the seed's ``SpectralPooling``. The
spectra are centred (DC in the middle) in the seed and uncentred (DC first) in the blocks:
``ifftshift`` in, ``fftshift`` out.

    python examples/seed_toy.py [--figure examples/results/seed_toy.png]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from fdcnn.golden.mac import MACConfig, SpectralMACModel  # noqa: E402
from fdcnn.golden.norm import FrameNormModel, NormConfig  # noqa: E402
from fdcnn.golden.pool import PoolConfig, SpectralPoolModel  # noqa: E402
from fdcnn.golden.pwl import PiecewiseLinearModel, PWLConfig  # noqa: E402

SIGNALS = np.array([[3, 1, 2, 1, 4, 1, 2, 1, 3], [1, 3, 1, 2, 1, 2, 1, 3, 1]], dtype=float)
FILTERS = np.array([[0, .25, .5, .75, 1, .75, .5, .25, 0], [1, .75, .5, .25, 0, .25, .5, .75, 1]])
RADII = (3, 2)
BINS = 9
#: Input spectra Q4.12; filter Q2.14; normalized Q4.12; sigmoid out Q1.15.
SPECTRUM_FRACTION, FILTER_FRACTION, OUTPUT_FRACTION = 12, 14, 15
#: Ratios of the two signals that differ by more than this (in a kept bin) are not one filter.
VERDICT_TOLERANCE = 0.05

MAC = MACConfig(lanes=1, modes=("forward",), bins=BINS, max_in_channels=1, max_out_channels=1,
                data_width=16, weight_width=16, output_shift=FILTER_FRACTION)
NORM = NormConfig(frame=BINS, data_width=16, output_format=(16, 12))
SIGMOID = PWLConfig(function="sigmoid", input_format=(16, 12), output_format=(16, OUTPUT_FRACTION),
                    segments=32, breakpoints="fit")


def crop_configs(radius):
    """The pooling unit and its adjoint for one stage's crop."""
    kept = 2 * radius + 1
    return (PoolConfig(spectrum_shape=(1, BINS), pooled_shape=(1, kept), data_width=16),
            PoolConfig(spectrum_shape=(1, BINS), pooled_shape=(1, kept), data_width=16,
                       direction="backward"))


def float_chain(signals, *, sample_std=False):
    """The seed's chain in float on centred spectra: the output per signal, shape (2, 9)."""
    values = signals.copy()
    for filter_, radius in zip(FILTERS, RADII):
        values = values * filter_
        centred = values - values.mean(axis=1, keepdims=True)
        values = 1 / (1 + np.exp(-centred / centred.std(axis=1, ddof=int(sample_std),
                                                        keepdims=True)))
        kept = np.zeros(BINS, dtype=bool)
        kept[BINS // 2 - radius:BINS // 2 + radius + 1] = True
        values = np.where(kept, values, 0.0)
    return values


class Stage:
    """One stage's blocks, each a function of (real, imag) frames: ``golden`` runs their
    models, ``rtl`` their Verilog (in ``build_dir``)."""

    def __init__(self, index, build_dir=None):
        self.index, self.build_dir = index, build_dir
        self.filter = np.round(np.fft.ifftshift(FILTERS[index]) * 2 ** FILTER_FRACTION)
        self.crop, self.uncrop = crop_configs(RADII[index])

    def _rtl(self, block, name, real, imag, count, **streams):
        from tb.through import through
        return through(block, self.build_dir, f"stage{self.index}_{name}", real, imag, count,
                       **streams)

    def run(self, real, imag, rtl=False):
        """(real, imag) codes, shape (2, 9), through the stage: multiply, normalize, sigmoid,
        crop and zero-fill."""
        weights = (self.filter[None, None, :].astype(np.int64),
                   np.zeros((1, 1, BINS), dtype=np.int64))
        if rtl:
            from fdcnn.hdl.mac import SpectralMAC
            from fdcnn.hdl.norm import FrameNorm
            from fdcnn.hdl.pool import SpectralPool
            from fdcnn.hdl.pwl import PiecewiseLinear
            tiles = [(0, 1, 1, 1, 0), (0, 1, 1, 0, 0)]          # both signals, one load
            real, imag = self._rtl(SpectralMAC(MAC), "mac", real, imag, real.size,
                                   config=tiles, weight=weights)
            real, imag = self._rtl(FrameNorm(NORM), "norm", real.reshape(-1, BINS),
                                   imag.reshape(-1, BINS), real.size)
            real, _ = self._rtl(PiecewiseLinear(SIGMOID), "sigmoid", real.reshape(-1, BINS),
                                0 * real.reshape(-1, BINS), real.size)
            imag = 0 * real
            kept = 2 * RADII[self.index] + 1
            real, imag = self._rtl(SpectralPool(self.crop), "crop", real.reshape(-1, BINS),
                                   imag.reshape(-1, BINS), 2 * kept)
            real, imag = self._rtl(SpectralPool(self.uncrop), "uncrop", real.reshape(-1, kept),
                                   imag.reshape(-1, kept), real.size // kept * BINS)
            return real.reshape(-1, BINS), imag.reshape(-1, BINS)
        mac = SpectralMACModel(MAC)
        products = [mac.forward((real[[signal]], imag[[signal]]), weights)[:2]
                    for signal in range(len(real))]
        real, imag = (np.concatenate([product[part] for product in products])
                      for part in range(2))
        real, imag, _ = FrameNormModel(NORM).normalize(real, imag)
        real, _ = PiecewiseLinearModel(SIGMOID).evaluate(real)
        real, imag, _ = SpectralPoolModel(self.crop).transform(real, 0 * real)
        real, imag, _ = SpectralPoolModel(self.uncrop).transform(real, imag)
        return real, imag


def hardware_chain(rtl=False, build_dir=None):
    """The chain in the blocks' arithmetic (golden, or ``rtl``): output per signal as real
    values, centred, shape (2, 9)."""
    real = np.round(np.fft.ifftshift(SIGNALS, axes=1) * 2 ** SPECTRUM_FRACTION).astype(np.int64)
    imag = np.zeros_like(real)
    for index in range(len(FILTERS)):
        real, imag = Stage(index, build_dir).run(real, imag, rtl=rtl)
    assert not np.any(imag), "the chain's imaginary parts stay 0"
    return np.fft.fftshift(real, axes=1) / 2 ** OUTPUT_FRACTION


def ratios(outputs):
    return outputs / SIGNALS


def verdict(outputs):
    """Whether the two signals' output/input ratios differ in a kept bin (so no single linear
    filter gives both), and by how much."""
    difference = float(np.max(np.abs(ratios(outputs)[0] - ratios(outputs)[1])))
    return difference > VERDICT_TOLERANCE, difference


def plot(outputs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(6, 3.2))
    bins = np.arange(BINS) - BINS // 2
    for signal, marker, offset in ((0, "o", -0.08), (1, "d", 0.08)):
        markers, stems, base = axis.stem(bins + offset, ratios(outputs)[signal],
                                         label=f"Signal #{signal + 1}")
        markers.set(marker=marker, color=f"C{signal}")
        stems.set(color=f"C{signal}", alpha=0.6)
        base.set(color="grey", linewidth=0.5)
    axis.set(title="Equivalent filter (output ./ input), RTL", xlabel="bin (DC at 0)",
             ylabel="ratio")
    axis.legend()
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", default=str(REPOSITORY / "examples" / "results" /
                                                 "seed_toy.png"))
    arguments = parser.parse_args(argv)
    exact = float_chain(SIGNALS)
    golden = hardware_chain()
    with tempfile.TemporaryDirectory() as build:
        rtl = hardware_chain(rtl=True, build_dir=build)
    np.set_printoptions(precision=3, suppress=True, linewidth=100)
    for name, outputs in (("float", exact), ("golden", golden), ("RTL", rtl)):
        print(f"{name:>6} ratio #1: {ratios(outputs)[0]}")
        print(f"{'':>6} ratio #2: {ratios(outputs)[1]}")
    print(f"RTL equals golden bit for bit: {np.array_equal(rtl, golden)}; largest RTL error "
          f"against float: {np.max(np.abs(rtl - exact)):.4f}")
    for name, outputs in (("float (population std)", exact),
                          ("float (MATLAB std, N − 1)", float_chain(SIGNALS, sample_std=True)),
                          ("RTL", rtl)):
        nonlinear, difference = verdict(outputs)
        print(f"verdict, {name}: the ratios differ by up to {difference:.3f}: "
              f"{'not a linear low-pass filter' if nonlinear else 'consistent with one filter'}")
    plot(rtl, arguments.figure)
    print(f"saved {arguments.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
