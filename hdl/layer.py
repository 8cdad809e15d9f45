"""One spectral CNN layer as one generated design (:class:`fdcnn.golden.layer.LayerModel` is
its arithmetic): 2-D FFT → spectral MAC → crop pooling → (frame normalization) → PWL
activation → (inverse 2-D FFT), the blocks in a :class:`~fdcnn.hdl.chain.Chain`, with a pass
sequencer that configures the MAC.

Schedule
--------
An image is ``C_in`` real channel frames of ``H × W`` samples, row-major, channel 0 first. The
MAC computes ``lanes`` output channels per pass over the image, so with ``tiles = C_out / lanes``
the image is sent ``tiles`` times (pass ``t`` yields output channels ``t·lanes … t·lanes +
lanes − 1``). The sequencer sees each pass's first sample and queues the MAC's tile
configuration (forward, ``C_in`` frames) with ``load`` set when weights are to be loaded: on
every pass when ``tiles > 1``, and otherwise for the first image after reset and for any image
whose first sample has ``s_axis_tuser[0]`` set. A loading pass takes the pass's weights on
``s_axis_weight`` (lane by lane, ``W[o][c][k]``, ``c`` then ``k``) before its samples.

Cycles per image (no gaps or stalls): ``tiles · H·W · max(C_in, lanes)``, plus the weight
words of every pass when ``tiles > 1`` (:attr:`Layer.cycles_per_image`): the MAC starts a pass
once its previous pass's ``lanes`` result frames are draining, and every later block takes a
sample per clock. Latency: :attr:`Layer.latency`.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from fdcnn.golden.layer import LayerConfig, LayerModel
from fdcnn.hdl.chain import Chain
from fdcnn.hdl.fft2d import FFT2D
from fdcnn.hdl.mac import SpectralMAC
from fdcnn.hdl.mac.tile import TileMode
from fdcnn.hdl.norm import FrameNorm
from fdcnn.hdl.pool import SpectralPool
from fdcnn.hdl.pwl import PiecewiseLinear
from fdcnn.hdl.stream import RegisterSlice, complex_stream

__all__ = ["Layer"]

#: Clock cycles from a loading pass's first input handshake to the MAC's first sample, less
#: its weight words: the configuration queue's register, the MAC's configuration register,
#: then the MAC's tile start.
LOAD_LEAD = 3
#: Tile configurations queued ahead of the MAC (a pass is at least one frame long, longer than
#: the 2-D FFT's latency is not guaranteed, so room for a few).
CONFIG_QUEUE = 4


def layer_blocks(config: LayerConfig) -> list:
    """``(name, block)`` of the layer's blocks, in order."""
    blocks = [("fft", FFT2D(config.fft_config)), ("mac", SpectralMAC(config.mac_config)),
              ("pool", SpectralPool(config.pool_config))]
    if config.normalize:
        blocks.append(("norm", FrameNorm(config.norm_config)))
    blocks.append(("activation", PiecewiseLinear(config.pwl_config)))
    if config.inverse:
        blocks.append(("inverse", FFT2D(config.inverse_config)))
    return blocks


class Layer(wiring.Component):
    """The composed layer.

    Members
    -------
    i : In(complex_stream(data_width, complex=False, user_width=1))
        Channel images, real; ``user[0]`` on an image's first sample: load new weights.
    weight : In(complex_stream(weight_width))
        The MAC's weights for a loading pass.
    o : Out(complex_stream(output_width))
        Output frames, ``C_out`` per image (``h·w`` samples), ``last`` on each.
    overflow : Out(1)
        The last block's flag with each output sample.
    <block>_<flag> : Out(1)
        Every block's own status flags (``fft_tlast_missing``, ``mac_overflow``, …), valid with
        that block's output as documented for the block.
    """

    def __init__(self, config: LayerConfig):
        self.model = LayerModel(config)
        self.chain = Chain(layer_blocks(config))
        members = {"i": In(complex_stream(config.data_width, complex=False, user_width=1)),
                   "weight": self.chain.signature.members["mac_weight"]}
        members.update({name: member for name, member in self.chain.signature.members.items()
                        if name not in ("i", "mac_config", "mac_weight")})
        super().__init__(members)

    @property
    def blocks(self) -> dict:
        return dict(self.chain.blocks)

    @property
    def latency(self) -> int:
        """Clock cycles from an image's first input handshake to its first output handshake
        (no gaps or stalls): the 2-D FFT (or, when every pass loads weights, the load, if that
        takes longer), the rest of the image's frames, the MAC's accumulate-and-drain, then the
        later blocks' latencies; a block that buffers a whole frame after the pooling
        (normalization, inverse FFT) also waits for the crop's last kept bin, the spectrum's
        last one, ``H·W − h·w`` samples after the crop's ``h·w``-th input."""
        config = self.model.config
        blocks = self.blocks
        later = sum(block.latency for name, block in self.chain.blocks
                    if name not in ("fft", "mac"))
        spread = (config.bins - config.pooled_bins
                  if config.normalize or config.inverse else 0)
        head = max(blocks["fft"].latency, LOAD_LEAD + config.load_words)
        return (head + (config.in_channels - 1) * config.bins + blocks["mac"].latency + later
                + spread)

    @property
    def cycles_per_image(self) -> int:
        return self.model.config.cycles_per_image

    def describe(self) -> dict:
        config = self.model.config
        blocks = self.blocks
        buffers = {"fft_corner_turn_words": blocks["fft"].buffer_words,
                   "mac_operand_words_per_lane": blocks["mac"].model.operand_depth,
                   "mac_accumulator_words_per_lane": blocks["mac"].model.accumulator_depth}
        if config.normalize:
            buffers["norm_words"] = blocks["norm"].buffer_words
        if config.inverse:
            buffers["inverse_words"] = blocks["inverse"].buffer_words
        return {
            "parameters": config.parameters(),
            "blocks": {name: block.describe()["parameters"] for name, block in self.chain.blocks},
            "latency_cycles": self.latency,
            "cycles_per_image": self.cycles_per_image,
            "throughput": f"1 sample per clock in; an image is {config.tiles} pass(es) of "
                          f"{config.in_channels} frames of {config.bins} samples",
            "multipliers": sum(getattr(block, "multipliers", 0)
                               for _, block in self.chain.blocks),
            "buffers": buffers,
            "input": f"{config.in_channels} real channel images of {config.shape[0]}x"
                     f"{config.shape[1]}, row-major, Q1.{config.data_width - 1}; sent "
                     f"{config.tiles} time(s) per image",
            "weights": f"W[o][c][k] in the spectra's stream order ({config.order} per axis, "
                       f"column by column), Q1.{config.weight_width - 1}",
            "output": (f"{config.out_channels} images of {config.pooled[0]}x{config.pooled[1]} "
                       f"row-major" if config.inverse else
                       f"{config.out_channels} pooled spectra of {config.pooled_bins} bins"),
            "port_descriptions": {
                "s_axis_tdata": "input sample (real), sign-extended to whole bytes",
                "s_axis_tuser": "bit 0 with an image's first sample: load new weights (always "
                                "done for the first image after reset, and on every pass when "
                                "tiles > 1)",
                "s_axis_tlast": "last sample of each channel frame (checked by the 2-D FFT)",
                "s_axis_weight_tdata": "weight (weight_width bits per component), real in the "
                                       "low half, imaginary in the high half",
                "s_axis_weight_tvalid": "weight valid",
                "s_axis_weight_tready": "weight taken (while a pass loads)",
                "s_axis_weight_tlast": "ignored: the configuration counts the words",
                "overflow": "with each m_axis beat: the last block's overflow flag",
                **{name: f"{name.split('_', 1)[0]} block's {name.split('_', 1)[1]} (see that "
                         f"block's documentation)"
                   for name in self.signature.members
                   if name.split("_", 1)[0] in blocks and name != "weight"},
            },
        }

    def elaborate(self, platform):
        m = Module()
        config = self.model.config
        m.submodules.chain = chain = self.chain
        mac = self.blocks["mac"]
        m.submodules.config_queue = queue = RegisterSlice(mac.config_layout, depth=CONFIG_QUEUE)
        wiring.connect(m, queue.o, chain.mac_config)
        wiring.connect(m, wiring.flipped(self.weight), chain.mac_weight)
        wiring.connect(m, chain.o, wiring.flipped(self.o))
        for name in self.signature.members:
            if name not in ("i", "o", "weight"):
                m.d.comb += getattr(self, name).eq(getattr(chain, name))

        position = Signal(range(config.in_channels * config.bins))
        loaded = Signal()
        first = position == 0
        passing = chain.i.ready & (~first | queue.i.ready)
        accept = self.i.valid & passing
        with m.If(accept):
            m.d.sync += position.eq(Mux(position == config.in_channels * config.bins - 1, 0,
                                        position + 1))
        with m.If(accept & first):
            m.d.sync += loaded.eq(1)
        tile = queue.i.payload
        m.d.comb += [
            chain.i.payload.data.real.eq(self.i.payload.data.real),
            chain.i.payload.data.imag.eq(0),
            chain.i.payload.last.eq(self.i.payload.last),
            chain.i.valid.eq(self.i.valid & (~first | queue.i.ready)),
            self.i.ready.eq(passing),
            queue.i.valid.eq(accept & first),
            tile.mode.eq(TileMode.FORWARD), tile.frames.eq(config.in_channels),
            tile.passes.eq(1), tile.learning_shift.eq(0),
            tile.load.eq((config.tiles > 1) | self.i.payload.user[0] | ~loaded),
        ]
        return m
