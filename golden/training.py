"""One SGD step of a spectral layer, in the blocks' integer arithmetic (Ko et al. train in the
frequency domain): what the RTL blocks compute when a training step is run through them.

The layer is :class:`~fdcnn.golden.layer.LayerConfig` without normalization and inverse
transform (its output is the activated pooled spectrum ``A``); the loss is
``L = ½ Σ |A − T|²`` over a batch, so ``dA = A − T`` (in the activation's output codes,
saturated). Then, each step one block in one of its modes:

====================  ==========================================  ==========================
stage                 computation                                 block, mode
====================  ==========================================  ==========================
forward               ``X = FFT2(x)/(H·W)``, ``Y = Σ_c X·W``,      2-D FFT; MAC ``forward``;
                      ``P = crop(Y)``, ``A = f(P)``                pool; PWL ``value``
activation gradient   ``dP = dA · f′(P)`` (split-complex)          PWL ``gradient``
unpooling             ``dY = cropᵀ(dP)``                           pool ``backward``
input gradient        ``dX = Σ_o conj(W)·dY``                      MAC ``backward_data``
weight update         ``W ← W − 2**−s · Σ_b conj(X_b)·dY_b``        MAC ``weight_update``
====================  ==========================================  ==========================

In real units the update is ``W ← W − η·∂L/∂conj(W)`` with ``η = 2**(2F − s)`` for weights and
data both ``Q1.F`` (``F = width − 1``): ``s = 2F + k`` takes a step of ``2**−k``.
"""

import dataclasses

import numpy as np

from fdcnn.golden.fixed import saturate
from fdcnn.golden.layer import LayerConfig, LayerModel
from fdcnn.golden.mac import SpectralMACModel
from fdcnn.golden.pool import SpectralPoolModel
from fdcnn.golden.pwl import PiecewiseLinearModel

__all__ = ["training_configs", "forward_stages", "backward_stages", "training_step",
           "TRAINING_MODES"]

#: The MAC modes a training step uses.
TRAINING_MODES = ("forward", "backward_data", "weight_update")


def training_configs(config: LayerConfig) -> dict:
    """The block configurations of a training step: ``fft``, ``mac`` (with the training
    modes), ``pool``, ``unpool``, ``activation`` and ``activation_gradient``."""
    if config.normalize or config.inverse:
        raise ValueError("A training step takes a layer without normalization and inverse "
                         "transform (normalize=False, inverse=False)")
    return {"fft": config.fft_config,
            "mac": dataclasses.replace(config.mac_config, modes=TRAINING_MODES),
            "pool": config.pool_config,
            "unpool": dataclasses.replace(config.pool_config, direction="backward"),
            "activation": config.pwl_config,
            "activation_gradient": dataclasses.replace(config.pwl_config, mode="gradient")}


def _pairs(values):
    return tuple(np.asarray(part, dtype=np.int64) for part in values)


def forward_stages(config: LayerConfig, images, weights) -> dict:
    """The forward pass of :func:`training_step`: :meth:`LayerModel.stages`' ``spectra``
    (B, C_in, H·W), ``products`` (B, C_out, H·W), ``pooled`` and ``activated`` (B, C_out,
    h·w), each a (real, imag) pair of integer arrays."""
    training_configs(config)                 # checks that the layer can be trained
    return LayerModel(config).stages(images, weights)


def backward_stages(config: LayerConfig, stages: dict, weights, loss_gradient,
                    learning_shift: int) -> dict:
    """The backward pass from ``loss_gradient`` (``dA`` codes in the activation's output
    format, (B, C_out, h·w) pairs) and :func:`forward_stages`' ``stages``:
    ``pooled_gradient``, ``spectrum_gradient``, ``input_gradient`` and ``new_weights``."""
    blocks = training_configs(config)
    pooled, spectra = stages["pooled"], stages["spectra"]
    batch = pooled[0].shape[0]
    mac = SpectralMACModel(blocks["mac"])
    gradient = PiecewiseLinearModel(blocks["activation_gradient"])
    unpool = SpectralPoolModel(blocks["unpool"])
    pooled_gradient = tuple(gradient.evaluate(part, grad)[0]
                            for part, grad in zip(pooled, _pairs(loss_gradient)))
    spectrum_gradient = tuple(
        part.reshape(batch, config.out_channels, -1)
        for part in unpool.transform(*(part.reshape(-1, config.pooled_bins)
                                       for part in pooled_gradient))[:2])
    input_gradient = tuple(np.stack(part) for part in zip(*(
        mac.backward_data(weights, (spectrum_gradient[0][b], spectrum_gradient[1][b]))[:2]
        for b in range(batch))))
    new_weights = mac.weight_update(weights, spectra, spectrum_gradient, learning_shift)[:2]
    return {"pooled_gradient": pooled_gradient, "spectrum_gradient": spectrum_gradient,
            "input_gradient": input_gradient, "new_weights": tuple(new_weights)}


def training_step(config: LayerConfig, images, weights, targets, learning_shift: int) -> dict:
    """One step on a batch, for the loss ``½ Σ |A − T|²``.

    Parameters
    ----------
    images : array_like of int, shape (B, C_in, H·W)
        Real channel images.
    weights : (real, imag), each shape (C_out, C_in, H·W)
        Spectral weights in stream order.
    targets : (real, imag), each shape (B, C_out, h·w)
        Target codes of the activated pooled spectra.
    learning_shift : int
        The weight update's ``s``.

    Returns
    -------
    dict
        :func:`forward_stages`' and :func:`backward_stages`' results, and ``loss_gradient``
        (``A − T`` saturated to the activation's output width).
    """
    stages = forward_stages(config, images, weights)
    width = training_configs(config)["activation"].output_format.width
    loss_gradient = tuple(saturate(got - want, width)[0]
                          for got, want in zip(stages["activated"], _pairs(targets)))
    return {**stages, "loss_gradient": loss_gradient,
            **backward_stages(config, stages, weights, loss_gradient, learning_shift)}
