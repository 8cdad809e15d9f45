"""The cocotb benches run on Verilator as well as on Icarus (``fdcnn regress --sim
verilator``): each block's default configuration, bit-exact. Verilator's C++ build takes a
minute or two per design on this machine, so this is behind the ``slow`` marker."""

import os

import pytest

MODULES = ["tb.test_fft", "tb.test_mac", "tb.test_pool", "tb.test_pwl"]


@pytest.mark.slow
@pytest.mark.verilator
@pytest.mark.parametrize("module", MODULES)
def test_default_configuration_on_verilator(module, monkeypatch):
    import importlib
    monkeypatch.setitem(os.environ, "FDCNN_SIM", "verilator")
    tests = importlib.import_module(module)
    default = next(case.values[0] for case in tests.RTL_CASES
                   if hasattr(case, "marks") and not case.values[0].get("x_ram"))
    test = tests.test_rtl_tiles_match_golden if module == "tb.test_mac" else \
        tests.test_rtl_matches_golden
    test(default)
