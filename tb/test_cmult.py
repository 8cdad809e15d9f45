# amaranth: UnusedElaboratable=no
"""The shared complex multiplier: bit-exact against :func:`fdcnn.golden.cmult.complex_product`
in both forms, conjugated or not, over full-range operands; its latency; and the
DSP blocks it takes on each target.

A multiplier rejected by its parameter check is never elaborated (the first line silences
Amaranth's warning about that).
"""

import itertools

import numpy as np
import pytest
from amaranth.back import verilog

from fdcnn.golden.cmult import MULTIPLIERS, complex_product
from fdcnn.hdl.cmult import ComplexMultiplier
from tb.simulation import run_cycles


def _operands(width, count, seed):
    """Random full-range codes, with every corner (most negative, largest, 0, ±1) in front."""
    low, high = -(1 << (width - 1)), (1 << (width - 1)) - 1
    corners = [low, high, 0, 1, -1]
    pairs = np.array(list(itertools.product(corners, repeat=2)))
    rng = np.random.default_rng(seed)
    return np.concatenate([pairs, rng.integers(low, high + 1, (count, 2))])


def _simulate(dut, a, c, conjugate):
    """Drive one operand pair per cycle (``en`` high throughout); ``p`` of each pair, the
    pipeline latency later."""
    def drive(ctx, cycle):
        index = min(cycle, len(a) - 1)
        ctx.set(dut.en, 1)
        ctx.set(dut.a.real, int(a[index][0]))
        ctx.set(dut.a.imag, int(a[index][1]))
        ctx.set(dut.c.real, int(c[index][0]))
        ctx.set(dut.c.imag, int(c[index][1]))
        if dut.conjugation:
            ctx.set(dut.conjugate, int(conjugate[index]))

    shown = run_cycles(dut, len(a) + dut.latency, drive,
                       lambda ctx, cycle: (ctx.get(dut.p.real), ctx.get(dut.p.imag)))
    return np.array(shown[dut.latency:], dtype=object)


@pytest.mark.parametrize("conjugation", [True, False])
@pytest.mark.parametrize("multiplier, presum_operand", [("4mult", "c"), ("3mult", "c"),
                                                        ("3mult", "a")])
@pytest.mark.parametrize("a_width, c_width, family", [
    (16, 16, "generic"), (17, 18, "generic"), (8, 5, "generic"),
    (17, 18, "ice40"), (18, 17, "ice40"), (17, 16, "ice40")])
def test_products_are_exact(multiplier, presum_operand, a_width, c_width, family, conjugation):
    """Every form, and on iCE40 the products split off a 17-bit operand's lowest bit (the
    data's, the twiddle's, and neither where the other operand fits a block)."""
    a = _operands(a_width, 200, 1)
    c = _operands(c_width, len(a) - 25, 2)
    a, c = np.concatenate([a, a]), np.concatenate([c, c[::-1]])     # every corner meets every
    count = len(a)
    conjugate = (np.arange(count) % 2 == 1) & conjugation
    dut = ComplexMultiplier(a_width=a_width, c_width=c_width, multiplier=multiplier,
                            presum_operand=presum_operand, conjugation=conjugation,
                            family=family)
    got = _simulate(dut, a, c, conjugate)
    a_obj, c_obj = a.astype(object), c.astype(object)
    real, imag = complex_product((a_obj[:, 0], a_obj[:, 1]), (c_obj[:, 0], c_obj[:, 1]),
                                 conjugate)
    assert list(got[:, 0]) == list(real)
    assert list(got[:, 1]) == list(imag)


def test_operand_width_is_checked():
    with pytest.raises(ValueError, match="Operand width must be from 2 to 64, not 1"):
        ComplexMultiplier(a_width=1, c_width=16)


def test_family_is_checked():
    with pytest.raises(ValueError, match="Family must be one of 'generic', .*, not 'ice41'"):
        ComplexMultiplier(a_width=16, c_width=16, family="ice41")


def test_presum_operand_is_checked():
    with pytest.raises(ValueError, match="Pre-summed operand must be one of 'c', 'a', not 'b'"):
        ComplexMultiplier(a_width=16, c_width=16, presum_operand="b")


@pytest.mark.parametrize("target, multiplier, dsp", [
    ("ice40", "4mult", 4), ("ice40", "3mult", 3), ("ecp5", "4mult", 4), ("ecp5", "3mult", 3),
    ("xc7", "4mult", 4), ("xc7", "3mult", 3)])
def test_dsp_blocks_per_target(target, multiplier, dsp, tmp_path):
    """16×16 operands: one DSP block per real product on every target (the conjugation and
    Gauss's pre-adders do not widen the operands past what one block takes)."""
    from fdcnn.scripts.synth import synthesize
    dut = ComplexMultiplier(a_width=16, c_width=16, multiplier=multiplier, conjugation=True)
    text = verilog.convert(dut, name="cmult", emit_src=False)
    assert synthesize(text, "cmult", target, tmp_path)["DSP"] == dsp


def test_xc7_takes_3mult_additions_into_its_dsp_blocks(tmp_path):
    """Without conjugation, a 3mult twiddle multiplier's (17×18) additions on xc7 are the
    DSP48E1s' own: each product's pre-adder, and the sums after the products (additions only,
    which Yosys packs, not subtractions, which it does not), so no LUT is left."""
    from fdcnn.scripts.synth import synthesize
    dut = ComplexMultiplier(a_width=17, c_width=18, multiplier="3mult")
    text = verilog.convert(dut, name="cmult", emit_src=False)
    assert synthesize(text, "cmult", "xc7", tmp_path)["LUT"] == 0


def test_ecp5_takes_more_of_3mult_whole_summing_the_narrower_operand(tmp_path):
    """17-bit data times 18-bit twiddles (the FFT's) on ECP5's 18×18 blocks: summing the data
    twice leaves one 17×19 product to split instead of two, in the same three blocks."""
    from fdcnn.scripts.synth import synthesize
    used = {}
    for presum_operand in ("c", "a"):
        dut = ComplexMultiplier(a_width=17, c_width=18, multiplier="3mult",
                                presum_operand=presum_operand)
        text = verilog.convert(dut, name="cmult", emit_src=False)
        used[presum_operand] = synthesize(text, "cmult", "ecp5", tmp_path / presum_operand)
    assert used["a"]["DSP"] == used["c"]["DSP"] == 3
    assert used["a"]["LUT"] < used["c"]["LUT"]


def test_ice40_takes_the_odd_bit_out_of_the_luts(tmp_path):
    """17-bit data times 18-bit twiddles on iCE40's 16×16 blocks: splitting the data's lowest
    bit off into a gated register leaves fewer LUTs in the same blocks, in both forms."""
    from fdcnn.scripts.synth import synthesize
    for multiplier in MULTIPLIERS:
        used = {}
        for family in ("generic", "ice40"):
            dut = ComplexMultiplier(a_width=17, c_width=18, multiplier=multiplier, family=family)
            text = verilog.convert(dut, name="cmult", emit_src=False)
            used[family] = synthesize(text, "cmult", "ice40", tmp_path / multiplier / family)
        assert used["ice40"]["DSP"] == used["generic"]["DSP"]
        assert used["ice40"]["LUT"] < used["generic"]["LUT"] - 40
