"""The end-to-end demonstrations in ``examples/``: their RTL runs equal the golden models and
their claims hold (the long ones behind the ``slow`` marker)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

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


def _trained_digits():
    digits = _example("digits")
    train_images, test_images, train_labels, test_labels = digits.digits()
    weights, classifier, history = digits.train_float(train_images, train_labels, test_images,
                                                      test_labels)
    return digits, digits.quantize(weights), classifier, history, test_images, test_labels


def test_digits_trained_and_run_through_rtl(tmp_path):
    """Trained in float to ≥ 95 % test accuracy; with the weights rounded to the MAC's format
    the golden layer stays within one point; a handful of test images through the layer's
    Verilog equal the golden layer bit for bit and are classified as the golden layer's are."""
    digits, codes, classifier, history, test_images, test_labels = _trained_digits()
    float_accuracy = history[-1][2]
    quantized = digits.quantized_activations(test_images, codes)
    assert float_accuracy >= 0.95
    assert digits.accuracy(classifier, quantized, test_labels) >= float_accuracy - 0.01
    count = 4
    rtl = digits.rtl_activations(test_images[:count], codes, tmp_path)
    golden = digits.golden_codes(test_images[:count], codes)
    assert all(np.array_equal(got, want) for got, want in zip(rtl, golden))


@pytest.mark.slow
def test_digits_whole_test_set_through_rtl(tmp_path):
    """Every test image through the layer's Verilog: bit for bit the golden layer's output."""
    digits, codes, _, _, test_images, _ = _trained_digits()
    rtl = digits.rtl_activations(test_images, codes, tmp_path)
    golden = digits.golden_codes(test_images, codes)
    assert all(np.array_equal(got, want) for got, want in zip(rtl, golden))
