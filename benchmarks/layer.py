"""The composed layer's throughput: images per second of the generated RTL at its ECP5 clock,
next to the same layer in float NumPy (FFT-based) on this machine's CPU, measured in one run.

    python benchmarks/layer.py [--config FILE] [--images N] [--seeds K]

* cycles per image: measured in simulation (cocotb + Icarus, images back to back, weights
  kept), the same figure the layer's test holds to ``Layer.cycles_per_image``;
* Fmax: Yosys ``synth_ecp5`` and nextpnr on an ECP5-85K (``fdcnn.scripts.synth``), the best of
  placement seeds 1 … K (default 3);
* NumPy: :meth:`fdcnn.golden.layer.LayerModel.reference` on a batch of random images, best of
  five runs, one CPU thread of this machine's.

Writes ``benchmarks/results/layer.md`` and ``layer.csv``.
"""

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

import numpy as np  # noqa: E402

from fdcnn.golden.config import load_config_file  # noqa: E402
from fdcnn.golden.layer import LayerConfig, LayerModel  # noqa: E402

RESULTS = REPOSITORY / "benchmarks" / "results"


def simulated_cycles(config, build):
    """Cycles per image and latency, measured by the layer's cocotb bench."""
    from fdcnn.hdl.layer import Layer
    from tb.runner import simulate_case
    layer = Layer(config)
    report = Path(build) / "measured.json"
    parameters = dict(config.parameters(), cycles_per_image=layer.cycles_per_image)
    simulate_case(layer, test_module="tb.test_layer",
                  testcase="layer_latency_and_cycles_per_image", parameters=parameters,
                  report=str(report))
    return json.loads(report.read_text())


def ecp5_fmax(config, build, seeds):
    from fdcnn.hdl.axis import emit
    from fdcnn.hdl.layer import Layer
    from fdcnn.scripts.synth import synthesize
    verilog = emit(Layer(config), "layer", zero_ram_init=False)
    return synthesize(verilog, "layer", "ecp5", Path(build) / "ecp5", fmax=True, seeds=seeds)


def numpy_images_per_second(config, images):
    model = LayerModel(config)
    rng = np.random.default_rng(1)
    low, high = -(1 << (config.data_width - 1)), 1 << (config.data_width - 1)
    pixels = rng.integers(low, high, (images, config.in_channels, config.bins))
    weights = tuple(rng.integers(low, high, (config.out_channels, config.in_channels,
                                              config.bins)) for _ in range(2))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        model.reference(pixels, weights)
        best = min(best, time.perf_counter() - started)
    return images / best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="layer parameters (TOML or JSON); default layer "
                                         "without")
    parser.add_argument("--images", type=int, default=256, help="NumPy batch size")
    parser.add_argument("--seeds", type=int, default=3, help="nextpnr placement seeds; the "
                                                              "best clock counts")
    arguments = parser.parse_args(argv)
    values = load_config_file(arguments.config, LayerConfig) if arguments.config else {}
    config = LayerConfig.from_mapping(values)
    with tempfile.TemporaryDirectory() as build:
        measured = simulated_cycles(config, build)
        row = ecp5_fmax(config, build, arguments.seeds)
    fmax = row["Fmax"]
    hardware = fmax * 1e6 / measured["cycles_per_image"]
    software = numpy_images_per_second(config, arguments.images)
    result = {"layer": json.dumps(config.parameters()), "cycles_per_image":
              measured["cycles_per_image"], "latency_cycles": measured["latency_cycles"],
              "ecp5_fmax_mhz": fmax, "ecp5_lut": row["LUT"], "ecp5_ff": row["FF"],
              "ecp5_bram": row["BRAM"], "ecp5_dsp": row["DSP"],
              "rtl_images_per_s": round(hardware), "numpy_images_per_s": round(software),
              "ratio": round(hardware / software, 2)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "layer.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(result))
        writer.writeheader()
        writer.writerow(result)
    shape, pooled = config.shape, config.pooled
    table = [
        f"Layer: {config.in_channels}×{shape[0]}×{shape[1]} → {config.out_channels}×"
        f"{pooled[0]}×{pooled[1]}, {config.lanes} lanes, normalize={config.normalize}, "
        f"{config.activation}, inverse={config.inverse}",
        "",
        "| cycles / image (simulated) | latency (cycles) | ECP5 Fmax (MHz) | ECP5 LUT / FF / "
        "DP16KD / MULT18 | RTL images/s at Fmax | NumPy float images/s (1 thread) | ratio |",
        "|---|---|---|---|---|---|---|",
        f"| {result['cycles_per_image']} | {result['latency_cycles']} | {fmax} | {row['LUT']} / "
        f"{row['FF']} / {row['BRAM']} / {row['DSP']} | {result['rtl_images_per_s']} | "
        f"{result['numpy_images_per_s']} | {result['ratio']} |",
    ]
    (RESULTS / "layer.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
