# amaranth: UnusedElaboratable=no
"""The JSON sidecar says exactly what the Verilog top has: every port it lists exists in the
module with that direction and width, every port of the module is listed, and every port has
a description. Checked for every block at its defaults and in the variants that add ports.

Blocks built only to be described are never elaborated (the first line silences Amaranth's
warning about that; the layer's inner blocks are made in ``hdl/layer.py``, so the mark below
does it for them).
"""

import re

import pytest

from fdcnn.golden.fft import FFTConfig
from fdcnn.golden.fft2d import FFT2DConfig
from fdcnn.golden.layer import LayerConfig
from fdcnn.golden.mac import MODES, MACConfig
from fdcnn.golden.norm import NormConfig
from fdcnn.golden.pool import PoolConfig
from fdcnn.golden.pwl import PWLConfig
from fdcnn.hdl.axis import describe, emit
from fdcnn.hdl.fft import StreamingFFT
from fdcnn.hdl.fft2d import FFT2D
from fdcnn.hdl.layer import Layer
from fdcnn.hdl.mac import SpectralMAC
from fdcnn.hdl.norm import FrameNorm
from fdcnn.hdl.pool import SpectralPool
from fdcnn.hdl.pwl import PiecewiseLinear

BLOCKS = {
    "fft": lambda: StreamingFFT(FFTConfig(size=64)),
    "fft_runtime_natural": lambda: StreamingFFT(FFTConfig(size=64, direction="runtime",
                                                          output_order="natural")),
    "fft2d_runtime": lambda: FFT2D(FFT2DConfig(shape=(8, 16), direction="runtime")),
    "mac": lambda: SpectralMAC(MACConfig(bins=8)),
    "mac_update": lambda: SpectralMAC(MACConfig(bins=8, modes=MODES)),
    "pool": lambda: SpectralPool(PoolConfig()),
    "pool_backward_fold": lambda: SpectralPool(PoolConfig(nyquist="fold",
                                                          direction="backward")),
    "norm": lambda: FrameNorm(NormConfig(frame=16)),
    "pwl": lambda: PiecewiseLinear(PWLConfig()),
    "layer": lambda: Layer(LayerConfig(shape=(8, 8), pooled=(4, 4), in_channels=2)),
    "layer_two_passes_spectra": lambda: Layer(LayerConfig(
        shape=(8, 4), pooled=(4, 4), in_channels=1, out_channels=2, lanes=1, normalize=False,
        inverse=False)),
    "pwl_complex_affine_gradient": lambda: PiecewiseLinear(PWLConfig(
        complex=True, affine=True, channels=4, mode="gradient", output_format="auto")),
}

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

PORT = re.compile(r"^  (input|output) (?:\[(\d+):0\] )?(\w+);$", re.MULTILINE)


def verilog_ports(text, module):
    """``name → (direction, width)`` of the ports of ``module`` in Verilog ``text``."""
    body = text[text.index(f"module {module}("):]
    body = body[:body.index("endmodule")]
    return {name: (direction, int(msb) + 1 if msb else 1)
            for direction, msb, name in PORT.findall(body)}


@pytest.mark.parametrize("name", BLOCKS)
def test_sidecar_ports_match_the_verilog(name):
    sidecar = describe(BLOCKS[name](), name)
    verilog = verilog_ports(emit(BLOCKS[name](), name), name)
    listed = {port["name"]: (port["direction"], port["width"]) for port in sidecar["ports"]}
    assert listed == verilog
    assert all(port["description"] for port in sidecar["ports"]), \
        [port["name"] for port in sidecar["ports"] if not port["description"]]


@pytest.mark.parametrize("name", BLOCKS)
def test_status_flags_are_single_bits(name):
    """``overflow``, the ``tlast_*`` pulses, ``coef_ready`` and ``coef_write`` are one bit, as
    documented."""
    ports = {port["name"]: port["width"] for port in describe(BLOCKS[name](), name)["ports"]}
    flags = [port for port in ports if port in ("overflow", "coef_ready", "coef_write")
             or port.startswith("tlast_")]
    assert flags and all(ports[flag] == 1 for flag in flags)


def test_pooling_throughput_is_stated_per_direction():
    """Pooling takes a sample per clock; unpooling emits one (its input waits on zeros)."""
    throughput = {name: describe(BLOCKS[name](), name)["throughput"]
                  for name in ("pool", "pool_backward_fold")}
    assert throughput == {"pool": "1 input sample per clock",
                          "pool_backward_fold": "1 output sample per clock"}


def test_real_streams_are_described_as_real():
    sidecar = describe(PiecewiseLinear(PWLConfig()), "pwl")
    ports = {port["name"]: port["description"] for port in sidecar["ports"]}
    assert "imaginary" not in ports["s_axis_tdata"] and "imaginary" not in sidecar["data_packing"]


def test_derivative_errors_are_the_derivatives_own():
    """In derivative mode the sidecar's error is the emitted slope's against ``f′``, in the
    output's LSB, not the value fit's."""
    config = PWLConfig(mode="derivative", output_format="auto", segments=64)
    block = PiecewiseLinear(config)
    errors = describe(block, "pwl")["errors_lsb"]
    model_errors = block.model.errors()
    assert errors == {"of": "f′(x)", "max": model_errors["derivative_max"],
                      "rms": model_errors["derivative_rms"]}
