"""The end-to-end demonstrations in ``examples/``: their RTL runs equal the golden models and
their claims hold (the long ones behind the ``slow`` marker)."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_toy_through_rtl(tmp_path):
    """The seed's two-stage chain in RTL equals the golden chain bit for bit, stays within the
    fixed-point formats' error of the float chain, and the two signals' ratios differ: not one
    linear filter, as the seed claims."""
    toy = _example("seed_toy")
    rtl = toy.hardware_chain(rtl=True, build_dir=tmp_path)
    assert np.array_equal(rtl, toy.hardware_chain())
    assert np.max(np.abs(rtl - toy.float_chain(toy.SIGNALS))) < 2e-3
    assert toy.verdict(rtl)[0] and toy.verdict(toy.float_chain(toy.SIGNALS))[0]
