# amaranth: UnusedElaboratable=no
"""Verilator's lint (``-Wall``) finds nothing beyond the documented waivers in any block, at
its defaults and at edge parameter sets (one lane and one bin, one channel, 1-D frames, every
option that adds logic), and the FFT generated for the families whose carry cells it
instantiates, with the benches' models of those cells. No zero-width vector (``[-1:0]``) is
ever written.
"""

import pytest

from fdcnn.golden.fft import FFTConfig
from fdcnn.golden.fft2d import FFT2DConfig
from fdcnn.golden.layer import LayerConfig
from fdcnn.golden.mac import MODES, MACConfig
from fdcnn.golden.norm import NormConfig
from fdcnn.golden.pool import PoolConfig
from fdcnn.golden.pwl import PWLConfig
from fdcnn.hdl.axis import emit
from fdcnn.hdl.fft import StreamingFFT
from fdcnn.hdl.fft2d import FFT2D
from fdcnn.hdl.layer import Layer
from fdcnn.hdl.mac import SpectralMAC
from fdcnn.hdl.norm import FrameNorm
from fdcnn.hdl.pool import SpectralPool
from fdcnn.hdl.pwl import PiecewiseLinear
from fdcnn.scripts.lint import lint
from tb.runner import cell_models

DESIGNS = {
    "fft": lambda: StreamingFFT(FFTConfig()),
    "fft_4_runtime_natural": lambda: StreamingFFT(FFTConfig(size=4, direction="runtime",
                                                            output_order="natural")),
    "fft_ecp5_3mult": lambda: StreamingFFT(FFTConfig(
        size=64, architecture="r22sdf", multiplier="3mult", family="ecp5")),
    "fft_ice40_ram_rounding_on_exit": lambda: StreamingFFT(FFTConfig(
        size=64, family="ice40", delay_ram_depth=16)),
    "fft2d": lambda: FFT2D(FFT2DConfig()),
    "fft2d_runtime_natural": lambda: FFT2D(FFT2DConfig(shape=(4, 8), direction="runtime",
                                                       output_order="natural")),
    "norm": lambda: FrameNorm(NormConfig()),
    "norm_nine": lambda: FrameNorm(NormConfig(frame=9, rsqrt_bits=4, output_format=(8, 2))),
    "mac": lambda: SpectralMAC(MACConfig()),
    "mac_one_lane_one_bin": lambda: SpectralMAC(MACConfig(lanes=1, bins=1, max_in_channels=1,
                                                          max_out_channels=1)),
    "mac_update_3mult": lambda: SpectralMAC(MACConfig(bins=8, modes=MODES,
                                                      multiplier="3mult")),
    "pool": lambda: SpectralPool(PoolConfig()),
    "pool_1d_fold_backward": lambda: SpectralPool(PoolConfig(
        spectrum_shape=(1, 9), pooled_shape=(1, 4), nyquist="fold", direction="backward")),
    "pool_to_one": lambda: SpectralPool(PoolConfig(spectrum_shape=(1, 2), pooled_shape=(1, 1))),
    "pwl": lambda: PiecewiseLinear(PWLConfig()),
    "layer": lambda: Layer(LayerConfig(shape=(8, 8), pooled=(4, 4), in_channels=2)),
    "layer_two_passes_spectra": lambda: Layer(LayerConfig(
        shape=(8, 4), pooled=(4, 4), in_channels=1, out_channels=2, lanes=1, normalize=False,
        inverse=False)),
    "pwl_one_channel_affine": lambda: PiecewiseLinear(PWLConfig(affine=True)),
    "pwl_complex_affine_gradient_fit": lambda: PiecewiseLinear(PWLConfig(
        complex=True, affine=True, channels=5, mode="gradient", breakpoints="fit",
        output_format="auto")),
}


@pytest.mark.parametrize("name", DESIGNS)
def test_lint_clean(name):
    verilog = emit(DESIGNS[name](), name)
    assert "[-1:0]" not in verilog
    assert lint(verilog, name, cell_models(verilog)) == []
