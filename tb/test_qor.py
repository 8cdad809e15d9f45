"""The FFT's quality of results held to ``benchmarks/expected.csv`` (``pytest -m qor``; not in
the default regression: each point is a Yosys run).

Every fdcnn row there is synthesized again through ``benchmarks/qor.py``'s flow, and the test
fails when a resource figure grows more than 5 % (plus one cell, for the small counts) or the
RMS error against ``fft(x)/N`` rises. Refresh the file from a ``qor.csv`` after an intended
change, saying why in the commit.
"""

import csv
import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RESOURCES = ("LUT", "FF", "BRAM", "DSP", "LUT-RAM")


def _qor():
    spec = importlib.util.spec_from_file_location("qor", BENCHMARKS / "qor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expected():
    with open(BENCHMARKS / "expected.csv", newline="") as file:
        return [row for row in csv.DictReader(file) if row["design"].startswith("fdcnn")]


@pytest.mark.qor
@pytest.mark.parametrize("expected", _expected(), ids=lambda row: "-".join(
    row[key] for key in ("design", "N", "multiplier", "guard_bits", "target")))
def test_fft_qor_is_not_worse(expected):
    point = (expected["design"], int(expected["N"]), expected["multiplier"],
             int(expected["guard_bits"]), expected["target"])
    measured = _qor().run_point(point, fmax=False)
    for column in RESOURCES:
        if expected[column] in ("", "None"):
            continue
        assert measured[column] <= 1.05 * int(expected[column]) + 1, \
            f"{column} grew from {expected[column]} to {measured[column]}"
    assert measured["rms_error_lsb"] <= float(expected["rms_error_lsb"]) + 1e-3
