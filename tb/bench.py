"""The block-independent part of fdcnn's cocotb testbenches.

:class:`StreamBench` puts a clock, a reset, an :class:`~tb.axis.AxisSource` driver and an
:class:`~tb.axis.AxisSink` monitor around a DUT with fdcnn's AXI4-Stream top, watches its
``tlast_*`` pulses, and is the scoreboard: :meth:`check` demands that every output sample,
every ``m_axis_tlast`` and every frame's ``overflow`` equal the golden model's.
"""

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from tb.axis import AxisSink, AxisSource, Beat

__all__ = ["StreamBench", "beats_for"]


def beats_for(real, imag, inverse=None, tlast=None):
    """Input beats for frames (arrays of shape (frames, samples)); ``inverse`` gives each
    frame's ``tuser`` (on its first sample), ``tlast`` overrides the ``last`` flags."""
    size = real.shape[1]
    beats = []
    for frame, (frame_real, frame_imag) in enumerate(zip(real, imag)):
        user = int(inverse[frame]) if inverse is not None else 0
        for index in range(size):
            beats.append(Beat(int(frame_real[index]), int(frame_imag[index]),
                              index == size - 1, user if index == 0 else 0))
    if tlast is not None:
        for beat, last in zip(beats, tlast):
            beat.last = bool(last)
    return beats


class StreamBench:
    """Clock, reset, driver, monitor and scoreboard around a DUT.

    ``parameters`` may set ``gap`` and ``stall`` (probabilities) and ``seed``;
    ``output_frame`` is the number of samples in an output frame; ``components`` is 1 for
    real-valued streams.
    """

    def __init__(self, dut, parameters, output_frame, components=2):
        self.dut = dut
        self.parameters = parameters
        self.output_frame = output_frame
        seed = parameters.get("seed", 1)
        self.source = AxisSource(dut, gap=parameters.get("gap", 0.0), seed=seed,
                                 components=components)
        self.sink = AxisSink(dut, stall=parameters.get("stall", 0.0), seed=seed + 1,
                             sideband=("overflow",), components=components)
        self.pulses = {name: [] for name in ("tlast_missing", "tlast_unexpected")
                       if hasattr(dut, name)}

    async def start(self):
        Clock(self.dut.clk, 10, unit="ns").start()
        await self.reset()
        cocotb.start_soon(self.source.run())
        cocotb.start_soon(self.sink.run())
        cocotb.start_soon(self._watch_pulses())

    async def reset(self, cycles=3):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0

    async def _watch_pulses(self):
        while True:
            await RisingEdge(self.dut.clk)
            for name, cycles in self.pulses.items():
                if getattr(self.dut, name).value:
                    cycles.append(self.sink.cycle)

    async def hold_output(self, after, cycles):
        """Sustained backpressure: once ``after`` output samples have arrived, hold
        ``m_axis_tready`` low for ``cycles`` clocks, then go back to the random stalls."""
        while len(self.sink.beats) < after:
            await RisingEdge(self.dut.clk)
        stall, self.sink.stall = self.sink.stall, 1.0
        await ClockCycles(self.dut.clk, cycles)
        self.sink.stall = stall

    async def collect(self, count, settle, limit=None):
        """Wait for ``count`` output samples, then ``settle`` more cycles in which nothing more
        may arrive; fails after ``limit`` cycles (default: generous for ``count`` samples)."""
        for _ in range(limit or 20 * count + 2 * settle + 400):
            if len(self.sink.beats) >= count:
                break
            await RisingEdge(self.dut.clk)
        await ClockCycles(self.dut.clk, settle)
        assert len(self.sink.beats) == count, \
            f"expected {count} output samples, got {len(self.sink.beats)}"
        return self.sink.beats

    def check(self, beats, real, imag, overflow):
        """Scoreboard: every sample, every ``last`` and every frame's overflow flag, which must
        be a running OR over the frame (never falling before ``last``)."""
        size = self.output_frame
        got_real = np.array([beat.real for beat in beats]).reshape(-1, size)
        got_imag = np.array([beat.imag for beat in beats]).reshape(-1, size)
        for frame in range(len(real)):
            mismatch = np.flatnonzero((got_real[frame] != real[frame])
                                      | (got_imag[frame] != imag[frame]))
            if mismatch.size:
                first = mismatch[0]
                raise AssertionError(
                    f"frame {frame}: {mismatch.size} samples differ from fdcnn.golden, first at "
                    f"{first}: got {got_real[frame][first]}{got_imag[frame][first]:+}j, want "
                    f"{real[frame][first]}{imag[frame][first]:+}j")
        lasts = [beat.last for beat in beats]
        assert lasts == [index % size == size - 1 for index in range(len(beats))], \
            "m_axis_tlast is not on every frame's final sample"
        flags = [bool(beat.sideband["overflow"]) for beat in beats[size - 1::size]]
        assert flags == list(overflow), f"overflow flags {flags}, golden {list(overflow)}"
        running = np.array([beat.sideband["overflow"] for beat in beats]).reshape(-1, size)
        assert np.all(np.diff(running, axis=1) >= 0), \
            "overflow is not the running OR over the output frame (it fell inside a frame)"
