# amaranth: UnusedElaboratable=no
"""Unit tests of the parts every block shares, in Amaranth's simulator: :class:`DelayLine`
(shift register and RAM forms), :class:`FramedOutput`, and the
AXI4-Stream top's ports and ``tdata`` packing."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from fdcnn.golden.pool import PoolConfig
from fdcnn.hdl.axis import AXIStreamTop, describe
from fdcnn.hdl.buffers import COUNTED_REFILL_MIN_DEPTH, RAM_MIN_DEPTH, DelayLine
from fdcnn.hdl.pool import SpectralPool
from fdcnn.hdl.stream import FramedOutput
from tb.simulation import run_cycles

LAYOUT = data.StructLayout({"value": signed(12), "valid": 1})


def _enables(cycles, seed):
    return [int(bit) for bit in np.random.default_rng(seed).random(cycles) >= 0.3]


class _RegisteredDelay(wiring.Component):
    """A register (its ``valid`` bit reset), then a :class:`DelayLine` with
    ``registered_input`` that counts it as the first of its ``depth`` steps."""

    def __init__(self, depth, ram_min_depth):
        self.line = DelayLine(LAYOUT, depth, ram_min_depth, registered_input=True)
        super().__init__({"en": In(1), "i": In(LAYOUT), "o": Out(LAYOUT)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.line = self.line
        register = Signal(LAYOUT)
        with m.If(self.en):
            m.d.sync += register.eq(self.i)
        m.d.comb += [self.line.en.eq(self.en), self.line.i.eq(register), self.o.eq(self.line.o)]
        return m


DELAYS = [(1, 4), (2, 4), (3, 4), (4, 4), (5, 4), (RAM_MIN_DEPTH - 1, RAM_MIN_DEPTH),
          (RAM_MIN_DEPTH, RAM_MIN_DEPTH), (100, RAM_MIN_DEPTH)]


@pytest.mark.parametrize("depth, ram_min_depth, registered_input", [
    *((depth, ram_min_depth, False) for depth, ram_min_depth in DELAYS),
    *((depth, ram_min_depth, True) for depth, ram_min_depth in DELAYS if depth > 1)])
def test_delay_line_delays_by_enabled_cycles(depth, ram_min_depth, registered_input):
    """``o`` is ``i`` of ``depth`` enabled cycles ago; ``o.valid`` stays low until then. With
    ``registered_input`` the caller's register in front is one of the ``depth`` steps."""
    dut = (_RegisteredDelay(depth, ram_min_depth) if registered_input
           else DelayLine(LAYOUT, depth, ram_min_depth))
    cycles = 3 * depth + 40
    enables = _enables(cycles, depth)
    values = np.random.default_rng(depth).integers(-2048, 2048, cycles)

    def drive(ctx, cycle):
        ctx.set(dut.en, enables[cycle])
        ctx.set(dut.i.value, int(values[cycle]))
        ctx.set(dut.i.valid, 1)

    shown = run_cycles(dut, cycles, drive,
                       lambda ctx, cycle: (ctx.get(dut.o.value), ctx.get(dut.o.valid)))
    history = []          # the input at each enabled cycle
    for cycle in range(cycles):
        steps = len(history)
        if steps >= depth:
            assert shown[cycle] == (history[steps - depth], 1), f"cycle {cycle}"
        else:
            assert shown[cycle][1] == 0, f"valid at cycle {cycle} after {steps} steps"
        if enables[cycle]:
            history.append(int(values[cycle]))



def test_delay_line_of_one_step_cannot_count_a_register_in_front():
    """One step is the caller's register alone: no delay line is left to build."""
    DelayLine(LAYOUT, 1)
    with pytest.raises(ValueError, match="Delay depth must be at least 2, not 1"):
        DelayLine(LAYOUT, 1, registered_input=True)


@pytest.mark.parametrize("depth, ram_min_depth", [(3, 4), (6, 4)])
def test_delay_line_does_not_store_constant_fields(depth, ram_min_depth):
    """A field named in ``constants`` shows its value on ``o`` whatever ``i`` carries (it is not
    stored), while the other fields are delayed as usual."""
    layout = data.StructLayout({"value": signed(12), "flag": 1, "valid": 1})
    dut = DelayLine(layout, depth, ram_min_depth, constants={"flag": 1})
    cycles = 3 * depth + 10

    def drive(ctx, cycle):
        ctx.set(dut.en, 1)
        ctx.set(dut.i.value, cycle)
        ctx.set(dut.i.flag, 0)
        ctx.set(dut.i.valid, 1)

    shown = run_cycles(dut, cycles, drive, lambda ctx, cycle: (
        ctx.get(dut.o.value), ctx.get(dut.o.flag), ctx.get(dut.o.valid)))
    assert shown[depth:] == [(cycle - depth, 1, 1) for cycle in range(depth, cycles)]
    with pytest.raises(ValueError, match=r"Constant fields must be fields of the layout, not "
                                         r"\['missing'\]"):
        DelayLine(layout, depth, ram_min_depth, constants={"missing": 0})


@pytest.mark.parametrize("depth, ram_min_depth", [
    (6, 4), (RAM_MIN_DEPTH, RAM_MIN_DEPTH),
    (COUNTED_REFILL_MIN_DEPTH - 1, RAM_MIN_DEPTH), (COUNTED_REFILL_MIN_DEPTH, RAM_MIN_DEPTH),
    (RAM_MIN_DEPTH - 1, RAM_MIN_DEPTH)])
def test_delay_line_masks_stale_words_after_reset(depth, ram_min_depth):
    """Words stored before ``rst`` stay in the RAM or the unreset taps, but ``o.valid`` is low
    again for the first ``depth`` enabled cycles after it (a word is trusted only once
    rewritten since reset), and the delay holds across the reset."""
    dut = DelayLine(LAYOUT, depth, ram_min_depth)
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    reset_at, cycles = 3 * depth, 6 * depth

    def drive(ctx, cycle):
        ctx.set(domain.rst, int(cycle == reset_at))
        ctx.set(dut.en, int(cycle != reset_at))
        ctx.set(dut.i.value, cycle)
        ctx.set(dut.i.valid, 1)

    shown = run_cycles(top, cycles, drive,
                       lambda ctx, cycle: (ctx.get(dut.o.value), ctx.get(dut.o.valid)))
    first_valid = reset_at + 1 + depth
    assert [valid for _, valid in shown[depth:reset_at]] == [1] * (reset_at - depth)
    assert [valid for _, valid in shown[reset_at + 1:first_valid]] == [0] * depth
    assert shown[first_valid:] == [(cycle - depth, 1) for cycle in range(first_valid, cycles)]


def test_framed_output_frames_and_flags():
    """Samples leave in order under random ``o.ready``; ``last`` on every ``frame_size``-th;
    ``overflow`` is the running OR over the frame; ``w_rdy`` only while there is room."""
    frame, count = 5, 40
    dut = FramedOutput(10, frame)
    rng = np.random.default_rng(3)
    values = rng.integers(-512, 512, count)
    flags = rng.random(count) < 0.15
    ready = rng.random(400) < 0.5
    state = {"written": 0}
    taken = []

    def drive(ctx, cycle):
        index = state["written"]
        writing = index < count and ctx.get(dut.w_rdy)
        ctx.set(dut.w_en, int(writing))
        ctx.set(dut.w_data.real, int(values[index]) if index < count else 0)
        ctx.set(dut.w_data.imag, -int(values[index]) if index < count else 0)
        ctx.set(dut.w_overflow, int(flags[index]) if index < count else 0)
        ctx.set(dut.o.ready, int(ready[cycle]))
        if writing:
            state["written"] += 1

    def sample(ctx, cycle):
        if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
            taken.append((ctx.get(dut.o.payload.data.real), ctx.get(dut.o.payload.data.imag),
                          ctx.get(dut.o.payload.last), ctx.get(dut.overflow)))

    run_cycles(dut, 400, drive, sample)
    assert [beat[0] for beat in taken] == list(values)
    assert [beat[1] for beat in taken] == list(-values)
    assert [beat[2] for beat in taken] == [int(i % frame == frame - 1) for i in range(count)]
    running = [int(flags[i - i % frame:i + 1].any()) for i in range(count)]
    assert [beat[3] for beat in taken] == running


def test_axi_stream_top_ports_and_packing():
    """Ports as the sidecar lists them; each component sign-extended to whole bytes, real in
    the low half of ``tdata``."""
    block = SpectralPool(PoolConfig(spectrum_shape=(1, 4), pooled_shape=(1, 4), data_width=12))
    ports = {port["name"]: port["width"] for port in describe(block, "pool")["ports"]}
    assert ports["s_axis_tdata"] == ports["m_axis_tdata"] == 32
    dut = AXIStreamTop(block)
    assert all(len(getattr(dut, name)) == width for name, width in ports.items()
               if name not in ("clk", "rst"))
    samples = [(-2048, 2047), (1, -1), (-5, 300), (0, -2048)]

    def drive(ctx, cycle):
        real, imag = samples[cycle % 4]
        ctx.set(dut.s_axis_tdata, ((real & 0xFFFF) | ((imag & 0xFFFF) << 16)))
        ctx.set(dut.s_axis_tvalid, int(cycle < 4))
        ctx.set(dut.s_axis_tlast, int(cycle == 3))
        ctx.set(dut.m_axis_tready, 1)

    def sample(ctx, cycle):
        if ctx.get(dut.m_axis_tvalid):
            word = ctx.get(dut.m_axis_tdata)
            return word & 0xFFFF, word >> 16, ctx.get(dut.m_axis_tlast)
        return None

    beats = [beat for beat in run_cycles(dut, 12, drive, sample) if beat is not None]
    assert beats == [(real & 0xFFFF, imag & 0xFFFF, int(index == 3))
                     for index, (real, imag) in enumerate(samples)]
