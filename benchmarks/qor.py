"""FFT quality of results: fdcnn's FFT against maia-hdl's, point by point, through the same
synthesis flow.

    python benchmarks/qor.py [--sizes 64,256,1024,4096] [--architectures r2sdf,r22sdf]
                             [--guard-bits 0,2,4] [--multipliers 4mult,3mult]
                             [--targets ice40,ecp5,xc7] [--fmax [SIZES]] [--seeds K]
                             [--no-maia] [--scheduler ADDRESS] [--workers N]

Every point (design, N, multiplier form, guard bits, target) is one Yosys run (and, with
``--fmax``, nextpnr on ECP5, for every N or the comma-separated ones given, the best clock of
placement seeds 1 … K with ``--seeds K``, default 3) plus the RMS
error of the design's bit-exact model against ``numpy.fft.fft(x)/N``; points run in parallel
on a Dask cluster (a local one by default, ``--scheduler`` for an existing one) with a
progress bar. fdcnn's points (designs
``fdcnn-r2sdf`` and ``fdcnn-r22sdf``, its two architectures): 16-bit data, 18-bit twiddles,
stage scaling, convergent rounding, full-range random input, each generated for its
target's ``family`` (so its hardware-only defaults: ``delay_ram_depth`` 256 on xc7).
maia-hdl's (``pip install -e '.[compare]'``): its ``FFT`` with radix 2 (R2SDF) and ``'R22'`` (R2²SDF), the same
widths, its ``ram_style="distributed"`` attributes stripped (so delay lines may map to block
RAM, as ours do), input limited to the complex amplitude its documentation allows.

Writes ``benchmarks/results/qor.csv``, ``qor.md`` and ``qor_*.png`` (LUT, FF, BRAM, DSP, RMS
error and, with ``--fmax``, ECP5 Fmax against N).
"""

import argparse
import csv
import math
import re
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

import numpy as np  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results"
COLUMNS = ("design", "N", "multiplier", "guard_bits", "target", "LUT", "FF", "BRAM", "DSP",
           "LUT-RAM", "Fmax", "rms_error_lsb", "note")
#: maia-hdl's architectures by their ``radix`` argument.
MAIA = {"maia-r2sdf": 2, "maia-r22sdf": "R22"}
DATA_WIDTH, TWIDDLE_WIDTH = 16, 18
ERROR_FRAMES = 32


def _list(text, kind=str):
    return [kind(part) for part in text.split(",") if part]


def fdcnn_config(design, size, multiplier, guard_bits, **overrides):
    """The FFT configuration of an fdcnn point (design ``fdcnn-<architecture>``)."""
    from fdcnn.golden.fft import FFTConfig
    return FFTConfig(size=size, data_width=DATA_WIDTH, twiddle_width=TWIDDLE_WIDTH,
                     multiplier=multiplier, guard_bits=guard_bits,
                     architecture=design.removeprefix("fdcnn-"), **overrides)


def fdcnn_verilog(design, size, multiplier, guard_bits, target):
    """The Verilog of an fdcnn point, generated for ``target``'s family (its hardware-only
    defaults; the generic target gets the generic family)."""
    from fdcnn.hdl.axis import emit
    from fdcnn.hdl.fft import StreamingFFT
    config = fdcnn_config(design, size, multiplier, guard_bits, family=target)
    return emit(StreamingFFT(config), "fft", zero_ram_init=False)


def maia_fft(design, size):
    from maia_hdl.fft import FFT
    return FFT(DATA_WIDTH, size.bit_length() - 1, MAIA[design], width_twiddle=TWIDDLE_WIDTH)


def maia_verilog(design, size):
    from amaranth.back import verilog
    fft = maia_fft(design, size)
    text = verilog.convert(fft, name="fft", ports=[fft.clken, fft.re_in, fft.im_in, fft.re_out,
                                                    fft.im_out, fft.out_last])
    return re.sub(r'\(\* ram_style = "distributed" \*\)\s*', "", text)


def rms_error(design, size, multiplier, guard_bits):
    """Complex RMS error (LSB) of the design's model against ``fft(x)/N``, random input."""
    from fdcnn.golden.fft import StreamingFFTModel, bit_reverse
    rng = np.random.default_rng(size)
    real, imag = rng.integers(-2 ** 15, 2 ** 15, (2, ERROR_FRAMES, size))
    if design.startswith("fdcnn"):
        model = StreamingFFTModel(fdcnn_config(design, size, multiplier, guard_bits,
                                               output_order="natural"))
        out_real, out_imag, _ = model.transform(real, imag)
    else:
        scale = np.minimum(1, (2 ** 15 - 1) / np.maximum(np.abs(real + 1j * imag), 1))
        real, imag = np.floor(real * scale).astype(int), np.floor(imag * scale).astype(int)
        fft = maia_fft(design, size)
        outputs = [fft.model(r, i) for r, i in zip(real, imag)]
        order = bit_reverse(np.arange(size), size.bit_length() - 1)
        out_real = np.array([output[0] for output in outputs])[:, order]
        out_imag = np.array([output[1] for output in outputs])[:, order]
    error = out_real + 1j * out_imag - np.fft.fft(real + 1j * imag, axis=1) / size
    return round(math.sqrt(np.mean(np.abs(error) ** 2)), 3)


def run_point(point, fmax, seeds=1):
    """One synthesis (and error) point; returns its table row (a failed synthesis leaves the
    resources empty and says why under ``note``, so one point cannot sink the sweep)."""
    from fdcnn.scripts.synth import YosysFailure, synthesize
    design, size, multiplier, guard_bits, target = point
    verilog = (fdcnn_verilog(design, size, multiplier, guard_bits, target)
               if design.startswith("fdcnn")
               else maia_verilog(design, size))
    note = ""
    with tempfile.TemporaryDirectory() as build:
        try:
            row = synthesize(verilog, "fft", target, build, fmax=fmax and target == "ecp5",
                             seeds=seeds)
        except YosysFailure as failure:        # its reason, without the temporary log's path
            row, note = {}, failure.reason
    return {"design": design, "N": size, "multiplier": multiplier, "guard_bits": guard_bits,
            "target": target, **{key: row.get(key) for key in COLUMNS[5:10]},
            "Fmax": row.get("Fmax"), "rms_error_lsb": rms_error(design, size, multiplier,
                                                                guard_bits),
            "note": note}


def points(arguments):
    chosen = []
    for size in arguments.sizes:
        for target in arguments.targets:
            chosen += [(f"fdcnn-{architecture}", size, multiplier, guard, target)
                       for architecture in arguments.architectures
                       for multiplier in arguments.multipliers for guard in arguments.guard_bits]
            if arguments.maia:
                chosen += [(design, size, "maia", 0, target) for design in MAIA]
    return chosen


def _placed(arguments, point):
    """Whether ``--fmax`` asks for nextpnr at this point's N."""
    return arguments.fmax == "all" or str(point[1]) in _list(arguments.fmax or "")


def sweep(arguments):
    """Every point on the Dask cluster, with a progress bar; rows in the points' order."""
    from dask.distributed import Client, LocalCluster, progress
    cluster = None
    if arguments.scheduler is None:
        cluster = LocalCluster(n_workers=arguments.workers, threads_per_worker=1,
                               processes=True, dashboard_address=None)
    with Client(arguments.scheduler or cluster) as client:
        chosen = points(arguments)
        futures = client.map(run_point, chosen, [_placed(arguments, point) for point in chosen],
                             [arguments.seeds] * len(chosen), pure=False)
        progress(futures)
        rows = client.gather(futures)
    if cluster is not None:
        cluster.close()
    return rows


def write_table(rows, path):
    lines = ["| design | N | mult | guard | target | LUT | FF | BRAM | DSP | LUT-RAM | Fmax (MHz) "
             "| RMS error (LSB) | note |", "|" + "---|" * 13]
    for row in rows:
        lines.append("| " + " | ".join("–" if row[key] in (None, "") else str(row[key])
                                       for key in COLUMNS) + " |")
    path.write_text("\n".join(lines) + "\n")


def _number(value):
    """A table cell as a number, or None (empty, a note, or a failed point)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def plot(rows, directory):
    """One figure per figure of merit, one panel per target (the error needs one panel: it is
    the same on every target), one line per design, multiplier form and guard bits."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for column in ("LUT", "FF", "BRAM", "DSP", "rms_error_lsb", "Fmax"):
        targets = sorted({row["target"] for row in rows if _number(row[column]) is not None})
        if column == "rms_error_lsb":
            targets = targets[:1]
        if not targets:
            continue
        figure, axes = plt.subplots(1, len(targets), figsize=(4.5 * len(targets), 4),
                                    squeeze=False)
        for axis, target in zip(axes[0], targets):
            series = {}
            for row in rows:
                if row["target"] == target and _number(row[column]) is not None:
                    label = f"{row['design']} {row['multiplier']} g{row['guard_bits']}"
                    series.setdefault(label, []).append((int(row["N"]), _number(row[column])))
            for label, points_ in sorted(series.items()):
                axis.plot(*zip(*sorted(points_)), marker="o", label=label,
                          linestyle="--" if label.startswith("maia") else "-")
            axis.set(xscale="log", xlabel="N", ylabel=column,
                     title=target if column != "rms_error_lsb" else "any target")
            axis.legend(fontsize=6)
        figure.suptitle(f"FFT {column} against N")
        figure.tight_layout()
        figure.savefig(directory / f"qor_{column.lower().replace('-', '_')}.png", dpi=110)
        plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda text: _list(text, int), default=[64, 256, 1024,
                                                                                 4096])
    parser.add_argument("--architectures", type=_list, default=["r2sdf", "r22sdf"])
    parser.add_argument("--guard-bits", type=lambda text: _list(text, int), default=[0, 2, 4])
    parser.add_argument("--multipliers", type=_list, default=["4mult", "3mult"])
    parser.add_argument("--targets", type=_list, default=["ice40", "ecp5", "xc7"])
    parser.add_argument("--fmax", nargs="?", const="all", metavar="SIZES",
                        help="nextpnr on the ECP5 points (of these N only, if given)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="nextpnr placement seeds per --fmax point; the best clock counts")
    parser.add_argument("--no-maia", dest="maia", action="store_false")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="local cluster workers")
    parser.add_argument("--output", default=str(RESULTS))
    arguments = parser.parse_args(argv)
    rows = sweep(arguments)
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "qor.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    write_table(rows, output / "qor.md")
    plot(rows, output)
    print((output / "qor.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
