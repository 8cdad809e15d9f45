"""AXI4-Stream driver and monitor for cocotb, with seeded random gaps and stalls.

:class:`AxisSource` drives ``s_axis_*``: it presents queued beats, inserting idle cycles with
probability ``gap`` before each beat, and keeps ``tvalid`` high until the handshake.
:class:`AxisSink` drives ``m_axis_tready`` low with probability ``stall`` each cycle and records
every beat it accepts, with the clock cycle it was accepted on.

Both sample handshakes right after the rising edge, where the values read are those the edge
sampled. ``tdata`` packing is fdcnn's: components sign-extended to whole bytes, real low; a
real stream (``components=1``) has the real part only.

Why not cocotbext-axi: its ``AxiStreamSource``/``AxiStreamSink`` (0.1.28) do work under
cocotb 2.1 (checked with pause generators on the pooling unit), but the scoreboard needs what
its sink does not record: the clock cycle on which each beat was accepted (the latency, zero
bubble and throughput checks count cycles exactly) and side-band flags sampled with each
output beat (``overflow``). Its frames are byte buffers delimited by ``tlast``, while these
benches drive samples with per-beat ``tuser`` and deliberately wrong ``tlast``. Using it for
the source alone would leave two drivers' conventions in one bench, so both stay here.
"""

import random
from collections import deque
from dataclasses import dataclass, field

from cocotb.triggers import RisingEdge

__all__ = ["Beat", "AxisSource", "AxisSink", "pack", "unpack"]


@dataclass
class Beat:
    real: int
    imag: int
    last: bool = False
    user: int = 0
    cycle: int = 0
    sideband: dict = field(default_factory=dict)


def pack(real, imag, half_width, components=2):
    """``tdata`` for a sample; a real stream (one component) carries ``real`` only."""
    mask = (1 << half_width) - 1
    return (real & mask) | (((imag & mask) << half_width) if components == 2 else 0)


def _signed(value, width):
    return value - (1 << width) if value >> (width - 1) else value


def unpack(word, half_width, components=2):
    """``(real, imag)`` of a ``tdata`` word; ``imag`` is 0 for a real stream."""
    mask = (1 << half_width) - 1
    imag = _signed((word >> half_width) & mask, half_width) if components == 2 else 0
    return _signed(word & mask, half_width), imag


class _Port:
    def __init__(self, dut, prefix, seed, components):
        self.clock = dut.clk
        self.data = getattr(dut, f"{prefix}_tdata")
        self.valid = getattr(dut, f"{prefix}_tvalid")
        self.ready = getattr(dut, f"{prefix}_tready")
        self.last = getattr(dut, f"{prefix}_tlast")
        self.user = getattr(dut, f"{prefix}_tuser", None)
        self.components = components
        self.half_width = len(self.data) // components
        self.rng = random.Random(seed)
        self.cycle = 0


class AxisSource(_Port):
    """Sends :class:`Beat` objects on ``{prefix}_t*`` with random idle cycles, and ``pause``
    idle cycles after every beat with ``last`` (a source that pauses between frames)."""

    def __init__(self, dut, prefix="s_axis", *, gap=0.0, seed=0, components=2, pause=0):
        super().__init__(dut, prefix, seed, components)
        self.gap = gap
        self.pause = pause
        self._pausing = 0
        self.queue = deque()
        self.sent = []
        self._current = None
        self.valid.value = 0

    def send(self, beats):
        self.queue.extend(beats)

    def clear(self):
        """Forget queued beats and drop ``tvalid`` (for a reset)."""
        self.queue.clear()
        self._current = None
        self.valid.value = 0

    @property
    def idle(self):
        return not self.queue and self._current is None

    async def run(self):
        while True:
            await RisingEdge(self.clock)
            self.cycle += 1
            if self._current is not None and self.valid.value and self.ready.value:
                self._current.cycle = self.cycle
                self.sent.append(self._current)
                self._pausing = self.pause if self._current.last else 0
                self._current = None
            if self._current is None:
                if self._pausing:
                    self._pausing -= 1
                    self.valid.value = 0
                elif self.queue and self.rng.random() >= self.gap:
                    self._current = beat = self.queue.popleft()
                    self.data.value = pack(beat.real, beat.imag, self.half_width,
                                           self.components)
                    self.last.value = int(beat.last)
                    if self.user is not None:
                        self.user.value = beat.user
                    self.valid.value = 1
                else:
                    self.valid.value = 0


class AxisSink(_Port):
    """Accepts beats on ``{prefix}_t*`` with random stalls; records them in ``beats``.

    ``sideband`` names further DUT outputs sampled with every beat (e.g. ``overflow``).
    """

    def __init__(self, dut, prefix="m_axis", *, stall=0.0, seed=0, sideband=(), components=2):
        super().__init__(dut, prefix, seed, components)
        self.stall = stall
        self.sideband = {name: getattr(dut, name) for name in sideband}
        self.beats = []
        self.ready.value = 0

    async def run(self):
        while True:
            await RisingEdge(self.clock)
            self.cycle += 1
            if self.valid.value and self.ready.value:
                real, imag = unpack(int(self.data.value), self.half_width, self.components)
                self.beats.append(Beat(
                    real, imag, bool(self.last.value),
                    int(self.user.value) if self.user is not None else 0, self.cycle,
                    {name: int(signal.value) for name, signal in self.sideband.items()}))
            self.ready.value = int(self.rng.random() >= self.stall)
