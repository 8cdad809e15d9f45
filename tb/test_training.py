"""One SGD step of a spectral layer run through the RTL blocks, bit for bit against
:func:`fdcnn.golden.training.training_step`.

Each stage streams through its block's generated Verilog (cocotb + Icarus, random gaps and
stalls): the 2-D FFT, the MAC forward, pooling, the PWL activation; the host forms the loss
gradient ``A − T``; then the PWL in gradient mode, pooling backward (unpooling), and one MAC
that takes the batch's ``backward_data`` tiles (the first loads ``W``) and the ``weight_update``
tile, emitting ``dX`` and the new ``W``. Every stage's output is what the next one is fed, and
each equals the golden step's; the new weights lower the loss.
"""

import numpy as np

from fdcnn.golden.layer import LayerConfig, LayerModel
from fdcnn.golden.training import training_configs, training_step
from tb.through import through

CONFIG = LayerConfig(shape=(8, 8), pooled=(4, 4), in_channels=2, out_channels=2, lanes=2,
                     normalize=False, inverse=False)
BATCH = 2
#: The weight update's ``s``: here the weights move by up to ~3 % of full scale.
LEARNING_SHIFT = 18


def _equal(got, want, stage):
    for part, expected in zip(got, want):
        assert np.array_equal(np.ravel(part), np.ravel(expected)), f"{stage} differs from golden"


def test_training_step_through_rtl(tmp_path):
    from fdcnn.hdl.fft2d import FFT2D
    from fdcnn.hdl.mac import SpectralMAC
    from fdcnn.hdl.pool import SpectralPool
    from fdcnn.hdl.pwl import PiecewiseLinear
    blocks = training_configs(CONFIG)
    rng = np.random.default_rng(2026)
    images = rng.integers(-2 ** 15, 2 ** 15, (BATCH, CONFIG.in_channels, CONFIG.bins))
    weights = tuple(rng.integers(-2 ** 13, 2 ** 13, (2, CONFIG.out_channels, CONFIG.in_channels,
                                                     CONFIG.bins)))
    targets = tuple(rng.integers(0, 2 ** 15, (2, BATCH, CONFIG.out_channels,
                                              CONFIG.pooled_bins)))
    want = training_step(CONFIG, images, weights, targets, LEARNING_SHIFT)
    lanes, inputs, outputs = CONFIG.lanes, CONFIG.in_channels, CONFIG.out_channels

    # Forward: 2-D FFT, MAC (one forward tile per image, the first loads W), pool, activation.
    spectra = through(FFT2D(blocks["fft"]), tmp_path, "fft", images, 0 * images, images.size)
    _equal(spectra, want["spectra"], "spectra")
    forward_tiles = [(0, inputs, 1, int(b == 0), 0) for b in range(BATCH)]
    products = through(SpectralMAC(blocks["mac"]), tmp_path, "mac_forward",
                        *(part.reshape(-1, CONFIG.bins) for part in spectra),
                        BATCH * outputs * CONFIG.bins, config=forward_tiles, weight=weights)
    _equal(products, want["products"], "MAC forward")
    pooled = through(SpectralPool(blocks["pool"]), tmp_path, "pool",
                      *(part.reshape(-1, CONFIG.bins) for part in products),
                      BATCH * outputs * CONFIG.pooled_bins)
    _equal(pooled, want["pooled"], "pooling")
    activated = through(PiecewiseLinear(blocks["activation"]), tmp_path, "activation",
                         *(part.reshape(-1, CONFIG.pooled_bins) for part in pooled),
                         pooled[0].size)
    _equal(activated, want["activated"], "activation")

    # Backward: the host's loss gradient, then the activation's gradient, unpooling, the MAC.
    loss_gradient = want["loss_gradient"]
    _equal([got - np.ravel(target) for got, target in zip(activated, targets)], loss_gradient,
           "loss gradient (unsaturated here)")
    pooled_gradient = through(PiecewiseLinear(blocks["activation_gradient"]), tmp_path,
                               "activation_gradient",
                               *(part.reshape(-1, CONFIG.pooled_bins) for part in pooled),
                               pooled[0].size, grad=loss_gradient)
    _equal(pooled_gradient, want["pooled_gradient"], "activation gradient")
    spectrum_gradient = through(SpectralPool(blocks["unpool"]), tmp_path, "unpool",
                                 *(part.reshape(-1, CONFIG.pooled_bins)
                                   for part in pooled_gradient), BATCH * outputs * CONFIG.bins)
    _equal(spectrum_gradient, want["spectrum_gradient"], "unpooling")
    gradient = tuple(part.reshape(BATCH, outputs, CONFIG.bins) for part in spectrum_gradient)
    backward_weights = tuple(part.transpose(1, 0, 2) for part in weights)     # lane c: W[o][c]
    update_operands = spectra            # pass b, lane c: X_b[c], as the FFT emitted them
    tiles = ([(1, outputs, 1, int(b == 0), 0) for b in range(BATCH)]
             + [(3, outputs, BATCH, 1, LEARNING_SHIFT)])
    results = through(
        SpectralMAC(blocks["mac"]), tmp_path, "mac_backward",
        *(np.concatenate([part.reshape(-1, CONFIG.bins)] * 2) for part in gradient),
        BATCH * inputs * CONFIG.bins + outputs * inputs * CONFIG.bins, config=tiles,
        weight=tuple(np.concatenate([np.ravel(w), np.ravel(x)])
                     for w, x in zip(backward_weights, update_operands)))
    split = BATCH * inputs * CONFIG.bins
    _equal([part[:split] for part in results], want["input_gradient"], "MAC backward_data")
    new_weights = tuple(part[split:].reshape(inputs, outputs, CONFIG.bins).transpose(1, 0, 2)
                        for part in results)
    _equal(new_weights, want["new_weights"], "MAC weight update")
    assert lanes == inputs == outputs        # one tile per mode covers every channel here

    def loss(w):
        activated_ = LayerModel(CONFIG).forward(images, w)[:2]
        return sum(np.sum((got - target.astype(float)) ** 2)
                   for got, target in zip(activated_, targets))
    assert np.any(new_weights[0] != weights[0]) and loss(new_weights) < loss(weights)
