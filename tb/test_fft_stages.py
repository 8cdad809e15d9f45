# amaranth: UnusedElaboratable=no
"""Unit tests of the FFT's parts, each against its golden counterpart in Amaranth's simulator:
:class:`ButterflyStage` (:func:`butterfly_stage`), :class:`TwiddleMultiplier`
(:func:`twiddle_stage`), :class:`PermutationBuffer` (bit reversal, corner turn). The twiddle
multiplier is held on random cycles with ``en`` low; the butterfly and the permutation buffer,
which advance on their own, get random input gaps and stalls, and must flush their last
block."""

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.lib.memory import Memory

from fdcnn.golden.fft import (R2_FACTORS, R22_FACTORS, Rotation, bit_reverse, butterfly_stage,
                              clipped_unity_exact, twiddle_stage)
from fdcnn.golden.fixed import round_shift, signed_bounds
from fdcnn.golden.permute import buffer_permutation, transpose_order
from fdcnn.hdl.fft import butterfly
from fdcnn.hdl.fft.butterfly import ButterflyStage
from fdcnn.hdl.fft.sample import sample_layout
from fdcnn.hdl import permute
from fdcnn.hdl.permute import PermutationBuffer
from fdcnn.hdl.buffers import REGISTERED_RAM_MIN_DEPTH, block_ram_count
from fdcnn.hdl.fft.twiddle import (BLOCK_ROM_MIN_DEPTH, EXPONENT_REGISTER_MIN_DEPTH,
                                   TwiddleMultiplier, TwiddleROM)
from tb.simulation import run_cycles


def _enables(count, seed, idle=0.3):
    """Cycle-by-cycle ``en`` with ``count`` enabled cycles and random idle ones between."""
    rng = np.random.default_rng(seed)
    enables = []
    while sum(enables) < count:
        enables.append(int(rng.random() >= idle))
    return enables


def _drive_samples(dut, real, imag, enables):
    """A driver presenting sample ``k`` (valid) from the ``k``-th enabled cycle on, zeros
    (invalid) after the last."""
    positions = np.cumsum([0] + enables[:-1])

    def drive(ctx, cycle):
        index = int(positions[cycle])
        ctx.set(dut.en, enables[cycle])
        valid = index < len(real)
        ctx.set(dut.i.real, int(real[index]) if valid else 0)
        ctx.set(dut.i.imag, int(imag[index]) if valid else 0)
        ctx.set(dut.i.valid, int(valid))
    return drive


def _enabled_outputs(dut, enables):
    """A sampler returning ``o`` on enabled cycles (``None`` otherwise)."""
    def sample(ctx, cycle):
        if not enables[cycle]:
            return None
        return (ctx.get(dut.o.real), ctx.get(dut.o.imag), ctx.get(dut.o.valid),
                ctx.get(dut.o.overflow))
    return sample


def _self_paced(dut, real, imag, seed, *, registered, gap=0.3, stall=0.3, watch=None):
    """Stream ``real``/``imag`` through an element that advances on its own, as the pipeline
    feeds it: sample ``k`` is presented (``fresh``) on a random subset of cycles and taken on
    the first one without ``stall`` (raised at random); after the last sample the input stays
    empty, so the element must flush. Returns the valid outputs in order: ``o`` on advancing
    cycles, or (``registered``) the cycle after. ``watch(ctx)``, if given, looks at the design
    on every cycle."""
    rng = np.random.default_rng(seed)
    state = {"next": 0, "presented": False, "stalled": False, "advanced": False}
    cycles = 40 * (len(real) + 64)

    def drive(ctx, cycle):
        index = state["next"]
        present = index < len(real) and (state["presented"] or rng.random() >= gap)
        state["presented"], state["stalled"] = present, rng.random() < stall
        ctx.set(dut.stall, int(state["stalled"]))
        ctx.set(dut.fresh, int(present))
        ctx.set(dut.i.valid, int(present))
        ctx.set(dut.i.real, int(real[index]) if present else 0)
        ctx.set(dut.i.imag, int(imag[index]) if present else 0)

    def sample(ctx, cycle):
        if watch is not None:
            watch(ctx)
        shown = registered and state["advanced"] or not registered and ctx.get(dut.advance)
        state["advanced"] = ctx.get(dut.advance)
        if state["presented"] and not state["stalled"]:
            state["next"] += 1
            state["presented"] = False
        if shown and ctx.get(dut.o.valid):
            return ctx.get(dut.o.real), ctx.get(dut.o.imag), ctx.get(dut.o.overflow)
        return None

    return [output for output in run_cycles(dut, cycles, drive, sample) if output is not None]


def _frames(rng, frames, size, width):
    low, high = -(1 << (width - 1)), (1 << (width - 1)) - 1
    values = rng.integers(low, high + 1, (2, frames, size))
    values[:, -1, : size // 2] = high            # a frame that saturates
    values[:, -1, size // 2:] = low
    return values[0], values[1]


@pytest.mark.parametrize("span, shift, width_change, rounding, minus_j, headroom", [
    (1, 1, 0, "convergent", False, False), (2, 0, 1, "truncate", True, False),
    (2, 1, 0, "half_up", True, False), (8, 1, 0, "convergent", False, False),
    (8, 0, 0, "truncate", True, False), (4, 1, -1, "half_up", True, False),
    (4, 1, 0, "convergent", True, True), (64, 2, -1, "convergent", True, False),
    (64, 1, -1, "truncate", True, False), (64, 1, 0, "convergent", False, False),
    (64, 0, 1, "half_up", True, True)])
@pytest.mark.parametrize("complements", [False, True], ids=["values", "complements"])
def test_butterfly_stage_matches_golden(span, shift, width_change, rounding, minus_j, headroom,
                                        complements, monkeypatch):
    """The valid samples on ``o`` are the golden stage's output (with ``minus_j``, the ``−j``
    of the second half of the differences included), under random input gaps and stalls,
    and the last block's differences leave without another block: rounding on entry (RAM,
    span 64) and on exit (registers, or ``headroom`` with inputs a bit narrower). A stage
    rounding on exit also keeps complements (``complements``: the generic family counted
    among the carry families here, so the sums are the expressions that ``test_carry``
    proves the ECP5 and iCE40 chains equal to)."""
    if complements:
        monkeypatch.setattr(butterfly, "CARRY_FAMILIES", ("generic",))
    input_width = 10
    width = input_width + 1 - shift + width_change
    rng = np.random.default_rng(span + shift)
    real, imag = _frames(rng, 3, 4 * span, input_width - headroom)
    overflow = np.zeros(3, dtype=bool)
    want_real, want_imag = butterfly_stage(real, imag, span, shift, width, rounding, overflow,
                                           inverse=np.zeros(3, bool) if minus_j else None)
    dut = ButterflyStage(span=span, input_width=input_width, width=width, shift=shift,
                         rounding=rounding, minus_j=minus_j, headroom=headroom)
    assert dut.rounds_on_exit == (span < 64 or headroom)
    assert dut.keeps_complements == (complements and dut.rounds_on_exit)
    assert dut.stored_width == (input_width + (not headroom) if dut.rounds_on_exit
                                else max(input_width, width))
    got = np.array(_self_paced(dut, real.ravel(), imag.ravel(), span, registered=False),
                   dtype=object)
    assert len(got) == real.size, "the stage did not flush its last block"
    assert list(got[:, 0]) == list(want_real.ravel())
    assert list(got[:, 1]) == list(want_imag.ravel())
    flags = np.array(got[:, 2], dtype=bool).reshape(3, -1).any(axis=1)
    assert list(flags) == list(overflow)


def test_xc7_makes_a_register_delay_line_one_shift_register(tmp_path):
    """On xc7 a butterfly whose delay line is registers keeps no flip-flop of its stored
    width: what it writes (its register's data has no reset) and the taps (with their
    ``valid`` bits, masked by a refill count after reset) are one SRL chain, so only the
    control's few flip-flops are left."""
    from fdcnn.scripts.synth import synthesize
    dut = ButterflyStage(span=64, input_width=17, width=17, shift=1, rounding="convergent",
                         ram_min_depth=128)
    text = verilog.convert(dut, name="butterfly", emit_src=False)
    used = synthesize(text, "butterfly", "xc7", tmp_path)
    assert used["FF"] < dut.stored_width, used


@pytest.mark.parametrize("family, span, rounds_on_exit", [
    ("ice40", 256, True), ("ice40", 512, True), ("ice40", 1024, False), ("ecp5", 256, False),
    ("generic", 256, False)])
def test_ram_delay_lines_round_on_exit_where_the_blocks_allow(family, span, rounds_on_exit):
    """A RAM delay line holds unrounded differences where its family's block RAM takes them
    in no more blocks: iCE40's 37-bit words (17-bit components with their extra bit, and
    ``valid``) fill three 256 × 16 or five 512 × 8 blocks as 35-bit ones do, but ten
    1024 × 4 blocks against nine. Families without a block RAM model round on entry."""
    dut = ButterflyStage(span=span, input_width=17, width=17, shift=1, rounding="convergent",
                         constant_tags={"inverse": 0, "overflow": 0}, family=family,
                         ram_min_depth=128)
    assert dut.rounds_on_exit == rounds_on_exit
    assert dut.stored_width == 17 + rounds_on_exit


@pytest.mark.parametrize("width, blocks", [(35, 3), (37, 3), (49, 4)])
def test_ice40_block_ram_count_is_yosys_s(width, blocks, tmp_path):
    """:func:`block_ram_count`'s iCE40 figure for a 256-word memory is the SB_RAM40_4K cells
    Yosys maps it to."""
    from amaranth.hdl import Module, Signal
    from amaranth.lib.wiring import Component, In, Out
    from fdcnn.scripts.synth import synthesize

    class Line(Component):
        def __init__(self):
            super().__init__({"addr": In(8), "i": In(width), "o": Out(width)})

        def elaborate(self, platform):
            m = Module()
            m.submodules.memory = memory = Memory(shape=width, depth=256, init=[])
            write, read = memory.write_port(), memory.read_port()
            m.d.comb += [write.addr.eq(self.addr), write.data.eq(self.i), write.en.eq(1),
                         read.addr.eq(self.addr + 1), self.o.eq(read.data)]
            return m

    assert block_ram_count("ice40", 256, width) == blocks
    used = synthesize(verilog.convert(Line(), name="line", emit_src=False), "line", "ice40",
                      tmp_path)
    assert used["BRAM"] == blocks, used


@pytest.mark.parametrize(
    "rotation, twiddle_width, rounding, inverse, multiplier, presum_operand", [
    (Rotation(8, R2_FACTORS), 18, "convergent", False, "4mult", "c"),
    (Rotation(16, R2_FACTORS), 8, "half_up", False, "4mult", "c"),
    (Rotation(32, R2_FACTORS), 12, "truncate", True, "4mult", "c"),
    (Rotation(16, R2_FACTORS), 13, "convergent", True, "4mult", "c"),
    (Rotation(8, R22_FACTORS), 18, "convergent", False, "4mult", "c"),
    (Rotation(64, R22_FACTORS), 12, "half_up", True, "4mult", "c"),
    (Rotation(16, R2_FACTORS), 18, "convergent", False, "3mult", "c"),
    (Rotation(32, R2_FACTORS), 12, "truncate", True, "3mult", "c"),
    (Rotation(64, R22_FACTORS), 12, "half_up", True, "3mult", "c"),
    (Rotation(2 * REGISTERED_RAM_MIN_DEPTH, R2_FACTORS), 18, "convergent", True, "4mult", "c"),
    (Rotation(2 * REGISTERED_RAM_MIN_DEPTH, R2_FACTORS), 18, "convergent", False, "3mult", "c"),
    (Rotation(64, R22_FACTORS), 12, "convergent", True, "3mult", "a"),
    (Rotation(2 * REGISTERED_RAM_MIN_DEPTH, R2_FACTORS), 18, "half_up", False, "3mult", "a")],
    ids=lambda value: f"{value.period}x{len(value.factors)}" if isinstance(value, Rotation)
    else str(value))
def test_twiddle_multiplier_matches_golden(rotation, twiddle_width, rounding, inverse,
                                           multiplier, presum_operand):
    """Each valid sample is multiplied by the ``W`` of its position in the block (counted by
    the multiplier itself), ``e = 0`` passes, :attr:`TwiddleMultiplier.latency` cycles later
    (one more where the ROM has an output register: :data:`REGISTERED_RAM_MIN_DEPTH` words
    and more); ``inverse`` samples arrive with real and imaginary parts swapped, as the FFT
    feeds them."""
    width = 12
    rng = np.random.default_rng(rotation.period)
    real, imag = _frames(rng, 2, 2 * rotation.period, width)
    overflow = np.zeros(2, dtype=bool)
    want_real, want_imag = twiddle_stage(real, imag, rotation, twiddle_width, width, rounding,
                                         overflow, np.full(2, inverse))
    if inverse:     # conj(W) on (re, im) is W on (im, re) with the result swapped back
        swapped = np.zeros(2, dtype=bool)
        swap_real, swap_imag = twiddle_stage(imag, real, rotation, twiddle_width, width,
                                             rounding, swapped, np.zeros(2, bool))
        assert np.array_equal(swap_imag, want_real) and np.array_equal(swap_real, want_imag)
        real, imag, want_real, want_imag = imag, real, swap_real, swap_imag
    dut = TwiddleMultiplier(rotation=rotation, width=width, twiddle_width=twiddle_width,
                            rounding=rounding, multiplier=multiplier,
                            presum_operand=presum_operand)
    assert dut.latency == (6 if rotation.table_size >= REGISTERED_RAM_MIN_DEPTH else 5)
    enables = _enables(real.size + dut.latency, rotation.period + 1)
    outputs = [output for output in run_cycles(dut, len(enables), _drive_samples(
        dut, real.ravel(), imag.ravel(), enables), _enabled_outputs(dut, enables))
        if output is not None][dut.latency:]
    got = np.array(outputs, dtype=object)
    assert list(got[:, 0]) == list(want_real.ravel())
    assert list(got[:, 1]) == list(want_imag.ravel())


@pytest.mark.parametrize("rounding", ["convergent", "half_up", "truncate"])
def test_clipped_unity_exact_agrees_with_every_sample(rounding):
    """:func:`clipped_unity_exact` (decided from the range's two ends) against every sample of
    every width, for small twiddle widths: the multiplier relies on it to pass ``W = 1``."""
    for twiddle_width in range(4, 10):
        code, shift = (1 << (twiddle_width - 1)) - 1, twiddle_width - 1
        for width in range(2, twiddle_width + 2):
            low, high = signed_bounds(width)
            samples = np.arange(low, high + 1)
            exact = np.array_equal(round_shift(samples * code, shift, rounding), samples)
            assert clipped_unity_exact(width, twiddle_width, rounding) == exact


@pytest.mark.parametrize("size", [BLOCK_ROM_MIN_DEPTH // 2 - 1, BLOCK_ROM_MIN_DEPTH])
def test_large_twiddle_roms_ask_for_block_ram(size):
    """The Verilog marks a twiddle ROM of :data:`BLOCK_ROM_MIN_DEPTH` words and more for block
    RAM, and leaves smaller ones to the synthesis tool."""
    text = verilog.convert(TwiddleROM(period=4 * size, size=size, width=18), name="rom",
                           emit_src=False)
    assert ('rom_style = "block"' in text) == (size >= BLOCK_ROM_MIN_DEPTH)


@pytest.mark.parametrize("size", [EXPONENT_REGISTER_MIN_DEPTH // 2, REGISTERED_RAM_MIN_DEPTH - 16,
                                  REGISTERED_RAM_MIN_DEPTH])
def test_small_twiddle_roms_may_register_their_exponent(tmp_path, size):
    """A ROM small enough to be logic, asked to, registers its exponent instead of its word
    (the same latency, checked by the twiddle multiplier's 3mult cases); one with an output
    register, or of a few words, keeps its registered word."""
    from fdcnn.scripts.synth import synthesize
    flip_flops = {}
    for registered_exponent in (False, True):
        rom = TwiddleROM(period=4 * size, size=size, width=18,
                         registered_exponent=registered_exponent)
        text = verilog.convert(rom, name="rom", emit_src=False)
        flip_flops[registered_exponent] = synthesize(text, "rom", "xc7",
                                                     tmp_path / str(registered_exponent))["FF"]
    if EXPONENT_REGISTER_MIN_DEPTH <= size < REGISTERED_RAM_MIN_DEPTH:
        assert flip_flops[True] == (size - 1).bit_length() < flip_flops[False], flip_flops
    else:
        assert flip_flops[True] == flip_flops[False]


@pytest.mark.parametrize("rows, columns, reversed_columns", [
    (1, 4, True), (1, 16, True), (1, 64, True), (4, 8, True), (8, 4, False), (4, 4, True)])
def test_permutation_buffer_reorders(rows, columns, reversed_columns):
    """Frames in one order, out in another, under random gaps and stalls, the last frame
    leaving without a following one: bit reversal (one row), and the corner turn of rows
    whose columns arrive bit-reversed into column-major order (columns bit-reversed or
    not)."""
    size = rows * columns
    rng = np.random.default_rng(size + rows)
    frames = rng.integers(-512, 512, (3, size))
    column_bits = columns.bit_length() - 1
    arriving = (np.arange(rows)[:, None] * columns
                + bit_reverse(np.arange(columns), column_bits)[None, :]).ravel()
    leaving = (np.arange(size) if rows == 1
               else transpose_order(rows, columns, reversed_columns=reversed_columns))
    dut = PermutationBuffer(permutation=buffer_permutation(arriving, leaving),
                            layout=sample_layout(10))
    stream = frames[:, arriving].ravel()
    got = np.array(_self_paced(dut, stream, -stream, size, registered=True), dtype=object)
    assert list(got[:, 0]) == list(frames[:, leaving].ravel())
    assert list(got[:, 1]) == list(-frames[:, leaving].ravel())


class _PortKeepingMemory(Memory):
    """A memory that lists the ports it gives out (in ``kept_ports``), for a test to watch."""

    kept_ports = []

    def write_port(self, **kwargs):
        port = super().write_port(**kwargs)
        self.kept_ports.append(port)
        return port

    def read_port(self, **kwargs):
        port = super().read_port(**kwargs)
        self.kept_ports.append(port)
        return port


@pytest.mark.parametrize("permuted", [True, False])
@pytest.mark.parametrize("gap", [0, 0.3])
def test_permutation_buffer_never_reads_a_word_as_it_is_written(monkeypatch, permuted, gap):
    """The buffer's RAM is marked ``no_rw_check`` (the synthesis tool builds no logic for a
    read and a write of one address in one cycle), so that must never happen: frames back to
    back (reads and writes in step) and with gaps, bit reversal and a frame delay."""
    monkeypatch.setattr(_PortKeepingMemory, "kept_ports", [])
    monkeypatch.setattr(permute, "Memory", _PortKeepingMemory)
    size = 32
    frames = np.random.default_rng(size).integers(-512, 512, (3, size))
    positions = np.arange(size)
    order = bit_reverse(positions, 5) if permuted else positions
    dut = (PermutationBuffer(permutation=buffer_permutation(order, positions),
                             layout=sample_layout(10)) if permuted
           else PermutationBuffer(size=size, layout=sample_layout(10)))
    collisions = []

    def watch(ctx):
        write, read = _PortKeepingMemory.kept_ports
        if (ctx.get(write.en) and ctx.get(read.en)
                and ctx.get(write.addr) == ctx.get(read.addr)):
            collisions.append(ctx.get(read.addr))

    stream = frames[:, order].ravel()
    got = _self_paced(dut, stream, stream, size, registered=True, gap=gap, stall=0.1,
                      watch=watch)
    assert [real for real, _, _ in got] == list(frames.ravel())
    assert collisions == []


def test_permutation_buffer_rejects_a_non_permutation():
    with pytest.raises(ValueError, match=r"Permutation must order the bits 0 … 2, not \(0, 0, 1\)"):
        PermutationBuffer(permutation=(0, 0, 1), layout=sample_layout(8))


def test_permutation_buffer_rejects_one_sample_frames():
    with pytest.raises(ValueError, match=r"Frames must have at least 2 samples, not 1"):
        PermutationBuffer(size=1, layout=sample_layout(8))
