"""Mutation testing of the generators: how many single-point bugs in ``hdl/`` the benches catch.

Each mutant changes one place of one generator source (an operator swapped, a comparison
flipped, a small constant moved by one, an inversion dropped, ``real`` and ``imag`` exchanged,
a ``Mux`` with its arms swapped, a ``valid``/``ready``/``last`` condition negated). It is tried
in a scratch copy of the project: *stillborn* if the block's default design no longer
generates (an exception, not a wrong circuit), *killed* if the block's default regression
(its ``tb/test_<block>.py``, the unit tests of its parts and the sidecar and lint tests,
``-m 'not slow'``) fails or runs
past its time limit, *survived* otherwise. Mutants run in parallel on a Dask cluster (a local
one by default, ``--scheduler ADDRESS`` for another), with a progress bar; the table goes to
``build/mutation/mutation.md`` and ``.csv``.

Usage: ``fdcnn mutate [--count 64] [--seed 1] [--scheduler ADDR]`` (needs the ``mutate``
extra: ``pip install -e '.[mutate]'``).
"""

import argparse
import ast
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Mutant", "mutants", "run_mutant", "main"]

REPOSITORY = Path(__file__).resolve().parents[1]

#: Tests in the default regression that cover every block (its sidecar, its lint).
EVERY_BLOCK_TESTS = ["tb/test_sidecars.py", "tb/test_lint.py"]

#: Block → its generator sources and the tests of its default regression (with
#: :data:`EVERY_BLOCK_TESTS`).
BLOCKS = {
    "fft": (["hdl/fft/top.py", "hdl/fft/pipeline.py", "hdl/fft/butterfly.py",
             "hdl/fft/twiddle.py", "hdl/permute.py", "hdl/cmult.py"],
            ["tb/test_fft.py", "tb/test_fft_stages.py", "tb/test_cmult.py", "tb/test_fft2d.py"]),
    "mac": (["hdl/mac/top.py", "hdl/mac/tile.py", "hdl/mac/lane.py", "hdl/mac/drain.py"],
            ["tb/test_mac.py"]),
    "fft2d": (["hdl/fft2d.py"], ["tb/test_fft2d.py"]),
    "pool": (["hdl/pool.py"], ["tb/test_pool.py"]),
    "norm": (["hdl/norm.py"], ["tb/test_norm.py"]),
    "pwl": (["hdl/pwl.py"], ["tb/test_pwl.py"]),
    "layer": (["hdl/layer.py", "hdl/chain.py"], ["tb/test_layer.py", "tb/test_chain.py"]),
    "shared": (["hdl/stream.py", "hdl/buffers.py", "hdl/fixed.py"], ["tb"]),   # every block
}

#: Mutants shown to be equivalent (no behaviour of the design changes), by file, a snippet of
#: the source line that holds the mutated text, the old and the new text, with the reason.
#: They are reported, not counted in the kill ratio.
_FLAG = "a one-bit flag stored in two bits and only tested for non-zero"
EQUIVALENT = {
    ("hdl/cmult.py", 'flags = [Signal(2, name=f"flags{step}") for step in range(2)]', "2", "3"):
        "a wider or an extra flag register whose new bits nothing reads",
    ("hdl/mac/drain.py", '"result_valid": Out(1)', "1", "2"):
        "a two-bit valid port driven by a one-bit value and read as one bit",
    ("hdl/mac/tile.py", "range(MAX_LEARNING_SHIFT + 1)", "1", "0"):
        "range(63) and range(64) are both six bits: the field is unchanged",
    ("hdl/mac/drain.py", "len(updated.real)", "real", "imag"):
        "the real and imaginary parts have the same width",
    ("hdl/mac/lane.py", "len(self.streamed.real)", "real", "imag"):
        "the real and imaginary parts have the same width",
    ("hdl/mac/lane.py", "len(self.operand.real)", "real", "imag"):
        "the real and imaginary parts have the same width",
    ("hdl/pool.py", '"zero": 1', "1", "2"): _FLAG,
    ("hdl/pool.py", '"hold_column": 1', "1", "2"): _FLAG,
    ("hdl/pool.py", '"add_row": 1', "1", "2"): _FLAG,
    ("hdl/pool.py", '"from_row": 1', "1", "2"): _FLAG,
    ("hdl/pool.py", '"from_column": 1', "1", "2"): _FLAG,
    ("hdl/mac/drain.py", '"en": 1', "1", "2"): _FLAG,
    ("hdl/mac/lane.py", '"conjugate": In(1)', "1", "2"):
        "a one-bit input stored in two bits, driven by one bit and only tested for non-zero",
    ("hdl/pwl.py", "init=[unity] * max(2, model.channels)", "2", "1"):
        "with one channel the second table word is never read; reset rewrites the first",
    ("hdl/pwl.py", "(model.segments - 1)", "-", "+"):
        "a uniform segment's index is below `segments` (a power of two), so a slice one bit "
        "wider keeps its value",
}

_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<",
            ast.RShift: ">>", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
            ast.Gt: ">", ast.GtE: ">="}
#: Each operator and the one a mutant puts in its place.
_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
          ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
          ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_HANDSHAKE = ("valid", "ready", "last", "first", "final", "taking", "advance", "accept")


@dataclass(frozen=True)
class Mutant:
    """One change: in ``path``, ``line`` (1-based), the text ``old`` at column ``column``
    becomes ``new``."""

    block: str
    path: str
    line: int
    column: int
    old: str
    new: str
    kind: str

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        source = lines[self.line - 1]
        assert source[self.column:self.column + len(self.old)] == self.old, self
        end = self.column + len(self.old)
        lines[self.line - 1] = source[:self.column] + self.new + source[end:]
        return "\n".join(lines)

    def describe(self) -> str:
        return (f"{self.path}:{self.line}:{self.column}: {self.old!r} → {self.new!r} "
                f"({self.kind})")

    def equivalent(self) -> str | None:
        """Why the mutant is equivalent, if it is a known equivalent one."""
        line = (REPOSITORY / self.path).read_text().split("\n")[self.line - 1]
        for (path, snippet, old, new), reason in EQUIVALENT.items():
            start = line.find(snippet)
            if ((path, old, new) == (self.path, self.old, self.new) and start >= 0
                    and start <= self.column < start + len(snippet)):
                return reason
        return None


def _operator_column(line: str, start: int, end: int, symbol: str) -> int | None:
    """Column of the operator ``symbol`` between two operands on one line, if unique there."""
    between = line[start:end]
    index = between.find(symbol)
    if index < 0 or between.find(symbol, index + 1) >= 0:
        return None
    if symbol in ("<", ">") and between[index:index + 2] in ("<<", ">>", "<=", ">="):
        return None
    return start + index


def _candidates(block: str, path: str, text: str):
    """Every mutant of one source file (inside function bodies only)."""
    lines = text.split("\n")
    tree = ast.parse(text)
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    for function in functions:
        for node in ast.walk(function):
            yield from _node_mutants(block, path, lines, node)


def _node_mutants(block, path, lines, node):
    if isinstance(node, ast.BinOp) and type(node.op) in _SWAPS:
        yield from _binary(block, path, lines, node.left, node.right, node.op, "operator swap")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAPS:
        yield from _binary(block, path, lines, node.left, node.comparators[0], node.ops[0],
                           "flipped comparison")
    elif (isinstance(node, ast.Constant) and type(node.value) is int and 0 < node.value <= 64
          and node.lineno == node.end_lineno):
        text = lines[node.lineno - 1][node.col_offset:node.end_col_offset]
        if text == str(node.value):
            yield Mutant(block, path, node.lineno, node.col_offset, text, str(node.value + 1),
                         "constant + 1")
            yield Mutant(block, path, node.lineno, node.col_offset, text, str(node.value - 1),
                         "constant − 1")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        line = lines[node.lineno - 1]
        if line[node.col_offset] == "~":
            kind = ("ready/valid inversion" if any(word in ast.unparse(node.operand)
                                                  for word in _HANDSHAKE) else "dropped inversion")
            yield Mutant(block, path, node.lineno, node.col_offset, "~", "", kind)
    elif isinstance(node, ast.Attribute) and node.attr in ("real", "imag"):
        line = lines[node.end_lineno - 1]
        column = node.end_col_offset - len(node.attr)
        if node.lineno == node.end_lineno and line[column:node.end_col_offset] == node.attr:
            other = "imag" if node.attr == "real" else "real"
            yield Mutant(block, path, node.end_lineno, column, node.attr, other,
                         "real/imag swap")


def _binary(block, path, lines, left, right, operator, kind):
    if left.end_lineno != right.lineno:
        return
    line = lines[left.end_lineno - 1]
    symbol = _SYMBOLS[type(operator)]
    column = _operator_column(line, left.end_col_offset, right.col_offset, symbol)
    if column is None:
        return
    new = _SYMBOLS[_SWAPS[type(operator)]]
    names = ast.unparse(left) + ast.unparse(right)
    if kind == "flipped comparison" and any(word in names for word in ("last", "end", "size")):
        kind = "tlast timing"
    yield Mutant(block, path, left.end_lineno, column, symbol, new, kind)


def mutants(count: int, seed: int) -> list:
    """``count`` mutants spread over the blocks (in proportion to their sources), each kind of
    change represented, chosen reproducibly by ``seed``."""
    rng = random.Random(seed)
    pools = {block: [mutant for path in paths
                     for mutant in _candidates(block, path, (REPOSITORY / path).read_text())]
             for block, (paths, _) in BLOCKS.items()}
    total = sum(len(pool) for pool in pools.values())
    chosen = []
    for block, pool in pools.items():
        share = max(6, round(count * len(pool) / total))
        by_kind = {}
        for mutant in pool:
            by_kind.setdefault(mutant.kind, []).append(mutant)
        kinds = sorted(by_kind)
        picks = []
        while len(picks) < min(share, len(pool)):
            kind = kinds[len(picks) % len(kinds)]
            remaining = [mutant for mutant in by_kind[kind] if mutant not in picks]
            if remaining:
                picks.append(rng.choice(remaining))
            else:
                kinds.remove(kind)
        chosen += picks
    return chosen


def _scratch_copy(folder: Path) -> None:
    """The project as ``folder/fdcnn/{hdl,golden,scripts}`` and ``folder/tb``, importable from
    ``folder`` ahead of the installed ``fdcnn``."""
    for package in ("hdl", "golden", "scripts"):
        shutil.copytree(REPOSITORY / package, folder / "fdcnn" / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPOSITORY / "tb", folder / "tb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPOSITORY / "pyproject.toml", folder / "pyproject.toml")


_GENERATES = ("from fdcnn.scripts.cli import _parser, _build\n"
              "from fdcnn.hdl.axis import emit\n"
              "import sys\n"
              "block = sys.argv[1] if sys.argv[1] != 'shared' else 'pool'\n"
              "emit(_build(block, _parser().parse_args(['generate', block])), block)\n")


def run_mutant(mutant: Mutant, limit: float, simulator: str = "icarus") -> dict:
    """Try ``mutant``: ``stillborn``, ``killed`` or ``survived``, with the seconds it took; the
    benches run on ``simulator``."""
    started = time.monotonic()
    reason = mutant.equivalent()
    if reason is not None:
        return {"block": mutant.block, "mutant": mutant.describe(), "kind": mutant.kind,
                "outcome": "equivalent", "seconds": 0.0, "reason": reason}
    with tempfile.TemporaryDirectory(prefix="fdcnn-mutant-") as name:
        folder = Path(name)
        _scratch_copy(folder)
        source = folder / "fdcnn" / mutant.path
        source.write_text(mutant.apply(source.read_text()))
        environment = {"PYTHONPATH": str(folder), "PATH": shutil.os.environ["PATH"],
                       "HOME": shutil.os.environ.get("HOME", "/tmp"), "FDCNN_SIM": simulator}
        generated = subprocess.run([sys.executable, "-c", _GENERATES, mutant.block],
                                   cwd=folder, env=environment, capture_output=True)
        if generated.returncode:
            outcome = "stillborn"
        else:
            tests = BLOCKS[mutant.block][1]
            tests = tests + [test for test in EVERY_BLOCK_TESTS if tests != ["tb"]]
            try:
                result = subprocess.run([sys.executable, "-m", "pytest", *tests, "-x", "-q",
                                         "-m", "not slow", "-p", "no:cacheprovider"],
                                        cwd=folder, env=environment, capture_output=True,
                                        timeout=limit)
                outcome = "killed" if result.returncode else "survived"
            except subprocess.TimeoutExpired:
                outcome = "killed"
    return {"block": mutant.block, "mutant": mutant.describe(), "kind": mutant.kind,
            "outcome": outcome, "seconds": round(time.monotonic() - started, 1), "reason": ""}


def _table(rows: list) -> str:
    outcomes = ("killed", "survived", "equivalent", "stillborn")
    lines = ["| block | mutants | " + " | ".join(outcomes) + " | kill ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for block in [*BLOCKS, "all"]:
        mine = [row for row in rows if block in ("all", row["block"])]
        counts = {outcome: sum(row["outcome"] == outcome for row in mine)
                  for outcome in outcomes}
        viable = counts["killed"] + counts["survived"]
        ratio = f"{100 * counts['killed'] / viable:.0f} %" if viable else "–"
        lines.append(f"| {block} | {len(mine)} | "
                     + " | ".join(str(counts[outcome]) for outcome in outcomes) + f" | {ratio} |")
    lines.append("")
    lines.append("The kill ratio is killed / (killed + survived): equivalent mutants change "
                 "nothing a test could see, stillborn ones do not generate.")
    for outcome in ("survived", "equivalent"):
        listed = [row for row in rows if row["outcome"] == outcome]
        if listed:
            lines += ["", f"{outcome.capitalize()}:", ""]
            lines += [f"* {row['mutant']}" + (f": {row['reason']}" if row["reason"] else "")
                      for row in listed]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdcnn mutate", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=64, help="mutants (default 64)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=900.0,
                        help="seconds a mutant's tests may take before it counts as killed")
    parser.add_argument("--sim", default="icarus", choices=("icarus", "verilator"),
                        help="simulator of the cocotb benches (default icarus)")
    parser.add_argument("--scheduler", help="address of a Dask scheduler (default: a local "
                                            "cluster on this machine's cores)")
    parser.add_argument("--output", default=str(REPOSITORY / "build" / "mutation"))
    arguments = parser.parse_args(argv)
    try:
        from dask.distributed import Client, LocalCluster, progress
    except ImportError:
        print("fdcnn: error: mutate needs Dask: pip install -e '.[mutate]'", file=sys.stderr)
        return 2
    chosen = mutants(arguments.count, arguments.seed)
    if arguments.scheduler:
        client = Client(arguments.scheduler)
    else:
        client = Client(LocalCluster(threads_per_worker=1, processes=True))
    futures = client.map(run_mutant, chosen, limit=arguments.limit, simulator=arguments.sim,
                         pure=False)
    progress(futures)
    rows = client.gather(futures)
    client.close()
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "mutation.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    table = _table(rows)
    (output / "mutation.md").write_text(table)
    print("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
