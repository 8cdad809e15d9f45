"""Frames through one block's generated Verilog, for flows that chain blocks on the host (a
training step, the seed's experiment, images through a trained layer).

:func:`through` writes the stimulus to a file, runs the cocotb test :func:`stream_block` on the
block's Verilog (Icarus, random ``tvalid`` gaps and ``tready`` stalls unless told otherwise)
and returns the block's outputs. Side streams: ``grad`` (the activation's ``dY``), ``weight``
(the MAC's stored operands) and ``config`` (the MAC's tile configurations, rows of mode, frames,
passes, load, learning shift).
"""

import random
from pathlib import Path

import cocotb
import numpy as np
from amaranth.hdl import Shape

from tb.axis import AxisSource, Beat
from tb.bench import StreamBench, beats_for
from tb.test_mac import drive_config

__all__ = ["through", "stream_block"]


def _beats(real, imag):
    return [Beat(int(r), int(i)) for r, i in zip(np.ravel(real), np.ravel(imag))]


@cocotb.test()
async def stream_block(dut):
    """Stream the stimulus file's frames (and side streams) through the block; save every
    output beat (real, imaginary) to the result file."""
    from tb.runner import case
    parameters = case()
    stimulus = np.load(parameters["stimulus"])
    components = parameters["components"]
    bench = StreamBench(dut, parameters, parameters["frame"], parameters["output_components"])
    bench.source = AxisSource(dut, gap=parameters["gap"], seed=parameters["seed"],
                              components=components)
    sides = {name: AxisSource(dut, f"s_axis_{name}", gap=parameters["gap"], seed=index + 7,
                              components=components if name == "grad" else 2)
             for index, name in enumerate(("grad", "weight")) if f"{name}_real" in stimulus}
    if "config" in stimulus:
        dut.s_axis_config_tvalid.value = 0
    await bench.start()
    for name, source in sides.items():
        cocotb.start_soon(source.run())
        source.send(_beats(stimulus[f"{name}_real"], stimulus[f"{name}_imag"]))
    if "config" in stimulus:
        cocotb.start_soon(drive_config(dut, [tuple(int(field) for field in tile)
                                             for tile in stimulus["config"]],
                                       parameters["frames_bits"], random.Random(3),
                                       parameters["gap"]))
    frame = parameters["frame"]
    bench.source.send(beats_for(stimulus["real"].reshape(-1, frame),
                                stimulus["imag"].reshape(-1, frame)))
    beats = await bench.collect(parameters["count"], settle=100,
                                limit=20 * (stimulus["real"].size + parameters["count"]) + 2000)
    np.save(parameters["result"], np.array([[beat.real, beat.imag] for beat in beats]))


def through(block, build_dir, name, real, imag, count, *, gap=0.2, stall=0.2, **streams):
    """``real``/``imag`` frames (the last axis a frame; ``imag`` ignored by a real stream) and
    side streams (``grad``, ``weight`` pairs; ``config`` rows) through the Verilog of
    ``block``; returns its first ``count`` outputs as a (real, imag) pair of arrays."""
    from tb.runner import simulate
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    stimulus = {"real": np.asarray(real), "imag": np.asarray(imag)}
    for key, value in streams.items():
        if key == "config":
            stimulus["config"] = np.asarray(value)
        else:
            stimulus[f"{key}_real"], stimulus[f"{key}_imag"] = (np.asarray(part) for part in value)
    np.savez(build_dir / f"{name}.npz", **stimulus)
    def components(member):
        data = block.signature.members[member].signature.members["payload"].shape["data"].shape
        return 2 if "imag" in data.members else 1
    parameters = {"stimulus": str(build_dir / f"{name}.npz"), "count": int(count),
                  "result": str(build_dir / f"{name}.npy"), "gap": gap, "stall": stall,
                  "seed": 5, "frame": int(np.shape(real)[-1]),
                  "components": components("i"), "output_components": components("o"),
                  "frames_bits": (Shape.cast(block.config_layout["frames"].shape).width
                                  if hasattr(block, "config_layout") else 0)}
    simulate(block, toplevel=name, test_module="tb.through", testcase="stream_block",
             build_dir=build_dir / name, parameters=parameters)
    result = np.load(build_dir / f"{name}.npy")
    return result[:, 0], result[:, 1]
