"""A frequency-domain CNN on real images: scikit-learn's digits (8×8), trained in the
frequency domain, then run through the generated layer's RTL.

Network: one spectral layer exactly as ``fdcnn generate layer`` builds it (``LAYER``: the 2-D
FFT of the image, 8 complex spectral kernels by pointwise product in the MAC, crop pooling to
the 4×4 lowest frequencies, split-complex tanh, spectra out), then a dense classifier (float,
on the host) on the activated spectra's real and imaginary parts.

Training, as Ko et al. train, in the frequency domain, the gradients taking the blocks'
backward paths (activation derivative, unpooling, the MAC's weight gradient, SGD update):

1. **float**: the layer's mathematics in NumPy (:meth:`LayerModel.reference`'s), Adam;
2. **quantized**: the float weights rounded to the MAC's Q1.15, then fine-tuned in the blocks'
   integer arithmetic (:mod:`fdcnn.golden.training`: PWL gradient mode, pooling backward, the
   MAC's ``weight_update``), the classifier in float.

Then test images go through the layer's Verilog (cocotb + Icarus), whose outputs must equal the
quantized golden layer's bit for bit, and are classified.

    python examples/digits.py [--rtl-images N] [--results examples/results]

writes ``digits.md`` (accuracies), ``digits_learning.png`` and ``digits_confusion.png``.
The layer has one pass (8 lanes), no normalization (it has no backward block) and reads the
pooled spectra with a gain of 16 (``activation_format`` 16,11). The MAC's backward-data mode
is not needed: the layer is the first, with no earlier layer to pass ``dX`` to.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from fdcnn.golden.layer import LayerConfig, LayerModel  # noqa: E402
from fdcnn.golden.pool import SpectralPoolModel  # noqa: E402
from fdcnn.golden.training import backward_stages, forward_stages, training_configs  # noqa: E402

LAYER = LayerConfig(shape=(8, 8), in_channels=1, out_channels=8, lanes=8, pooled=(4, 4),
                    normalize=False, inverse=False, activation="tanh", segments=32,
                    activation_format=(16, 11))
CLASSES = 10
#: Pixel codes: 0 … 16 times this, Q1.15 (16 → 0.9995).
PIXEL_SCALE = 2047
SEED = 0


def digits():
    """Train and test images (codes, (n, 1, 64)) and labels; 20 % held out, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    images = (data.images.reshape(-1, 1, 64) * PIXEL_SCALE).astype(np.int64)
    return train_test_split(images, data.target, test_size=0.2, random_state=SEED,
                            stratify=data.target)


# The layer's mathematics in float, forward and backward ------------------------------------

def float_spectra(images):
    """``FFT2(x)/(H·W)`` in the layer's stream order, (n, 1, H·W) complex."""
    rows, columns = LAYER.shape
    pixels = images.reshape(-1, 1, rows, columns) / 2 ** (LAYER.data_width - 1)
    positions = LAYER.bin_frequencies()
    return (np.fft.fft2(pixels) / LAYER.bins)[:, :, positions[:, 0], positions[:, 1]]


def _crop(values, direction):
    blocks = training_configs(LAYER)
    pool = SpectralPoolModel(blocks["pool" if direction == "forward" else "unpool"])
    batch = values.shape[0]
    return pool.map_stream(values.reshape(-1, values.shape[-1])).reshape(batch,
                                                                         LAYER.out_channels, -1)


def _activation():
    return training_configs(LAYER)["activation"].function


def float_forward(spectra, weights):
    """Pooled pre-activations ``g·P`` and activations ``A`` (n, C_out, h·w) complex."""
    pooled = _crop(np.einsum("ock,bck->bok", weights, spectra), "forward") * LAYER.spectral_gain
    f = _activation()
    return pooled, f(pooled.real) + 1j * f(pooled.imag)


def features(activated):
    """The classifier's input: real and imaginary parts, flattened."""
    return np.concatenate([activated.real.reshape(len(activated), -1),
                           activated.imag.reshape(len(activated), -1)], axis=1)


def _softmax_gradient(logits, labels):
    logits = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probabilities[np.arange(len(labels)), labels] + 1e-12))
    probabilities[np.arange(len(labels)), labels] -= 1
    return loss, probabilities / len(labels)


def _activation_gradient(dense, gradient, shape):
    """``dL/dA`` (real + j imaginary) from the classifier's gradient."""
    half = dense.shape[0] // 2
    back = gradient @ dense.T
    return (back[:, :half] + 1j * back[:, half:]).reshape(shape)


class Classifier:
    """The dense layer, trained in float."""

    def __init__(self, rng, inputs):
        self.weights = rng.normal(size=(inputs, CLASSES)) * 0.05
        self.bias = np.zeros(CLASSES)

    def logits(self, inputs):
        return inputs @ self.weights + self.bias


class Adam:
    def __init__(self, rate):
        self.rate, self.step, self.moments = rate, 0, {}

    def update(self, name, value, gradient):
        first, second = self.moments.get(name, (0.0, 0.0))
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * np.abs(gradient) ** 2
        self.moments[name] = (first, second)
        scale = np.sqrt(1 - 0.999 ** self.step) / (1 - 0.9 ** self.step)
        return value - self.rate * scale * first / (np.sqrt(second) + 1e-8)


def train_float(train_images, train_labels, test_images, test_labels, epochs=40, batch=32,
                decay=1e-3):
    """Adam on the layer's complex weights and the classifier; the weight gradient is the
    MAC's ``Σ conj(X)·dY`` through the activation's derivative and the crop's adjoint.
    Returns the weights, the classifier and per-epoch (loss, train, test accuracy)."""
    rng = np.random.default_rng(SEED)
    spectra, test_spectra = float_spectra(train_images), float_spectra(test_images)
    shape = (LAYER.out_channels, LAYER.in_channels, LAYER.bins)
    weights = (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * 0.3
    classifier = Classifier(rng, 2 * LAYER.out_channels * LAYER.pooled_bins)
    optimizer, history = Adam(0.01), []
    derivative = training_configs(LAYER)["activation"].function.derivative
    for _ in range(epochs):
        losses = []
        order = rng.permutation(len(spectra))
        for start in range(0, len(spectra), batch):
            chosen = order[start:start + batch]
            x, labels = spectra[chosen], train_labels[chosen]
            pooled, activated = float_forward(x, weights)
            inputs = features(activated)
            loss, gradient = _softmax_gradient(classifier.logits(inputs), labels)
            losses.append(loss)
            d_activated = _activation_gradient(classifier.weights, gradient, activated.shape)
            d_pooled = (d_activated.real * derivative(pooled.real)
                        + 1j * d_activated.imag * derivative(pooled.imag)) * LAYER.spectral_gain
            d_products = _crop(d_pooled, "backward")
            d_weights = np.einsum("bok,bck->ock", d_products, np.conj(x))
            optimizer.step += 1
            weights = optimizer.update("w", weights, d_weights)
            weights = np.clip(weights.real, -0.999, 0.999) + 1j * np.clip(weights.imag, -0.999,
                                                                        0.999)
            classifier.weights = optimizer.update("d", classifier.weights,
                                                  inputs.T @ gradient + decay * classifier.weights)
            classifier.bias = optimizer.update("b", classifier.bias, gradient.sum(axis=0))
        history.append((float(np.mean(losses)),
                        accuracy(classifier, float_forward(spectra, weights)[1], train_labels),
                        accuracy(classifier, float_forward(test_spectra, weights)[1],
                                 test_labels)))
    return weights, classifier, history


def accuracy(classifier, activated, labels):
    return float(np.mean(classifier.logits(features(activated)).argmax(axis=1) == labels))


# The same layer in the blocks' integer arithmetic -------------------------------------------

def quantize(weights):
    """Float weights as the MAC's Q1.(w−1) codes."""
    scale = 2 ** (LAYER.weight_width - 1)
    return tuple(np.clip(np.round(part * scale), -scale, scale - 1).astype(np.int64)
                 for part in (weights.real, weights.imag))


def quantized_activations(images, codes):
    """The golden layer's output codes as values: ``A`` (n, C_out, h·w) complex."""
    real, imag, _ = LayerModel(LAYER).forward(images, codes)
    fraction = LAYER.pwl_config.output_format.fraction
    return (real + 1j * imag) / 2 ** fraction


def fine_tune(images, labels, codes, classifier, epochs=1, batch=32, learning_shift=24,
              classifier_rate=0.0):
    """SGD in the blocks' arithmetic: forward through the golden blocks, ``dL/dA`` from the
    float classifier rounded to the activation's output codes, then the activation's gradient
    mode, unpooling and the MAC's weight update (``W ← W − 2**−s·Σ conj(X)·dY``); the
    classifier takes plain SGD steps in float at ``classifier_rate`` (by default it stays as
    trained: from the float optimum, larger steps in either only add rounding noise, measured:
    s = 20 with rate 0.01 lost 2.5 points, s = 23 with 0.002 lost 0.8). Returns the new
    codes."""
    rng = np.random.default_rng(SEED + 1)
    fraction = LAYER.pwl_config.output_format.fraction
    width = LAYER.pwl_config.output_format.width
    limit = 2 ** (width - 1)
    for _ in range(epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(images), batch):
            chosen = order[start:start + batch]
            stages = forward_stages(LAYER, images[chosen], codes)
            activated = (stages["activated"][0] + 1j * stages["activated"][1]) / 2 ** fraction
            inputs = features(activated)
            _, gradient = _softmax_gradient(classifier.logits(inputs), labels[chosen])
            d_activated = _activation_gradient(classifier.weights, gradient, activated.shape)
            loss_gradient = tuple(np.clip(np.round(part * 2 ** fraction), -limit,
                                          limit - 1).astype(np.int64)
                                  for part in (d_activated.real, d_activated.imag))
            codes = backward_stages(LAYER, stages, codes, loss_gradient,
                                    learning_shift)["new_weights"]
            classifier.weights -= classifier_rate * inputs.T @ gradient
            classifier.bias -= classifier_rate * gradient.sum(axis=0)
    return codes


def rtl_activations(images, codes, build_dir):
    """Images through the layer's Verilog: ``A`` codes (n, C_out, h·w), real and imaginary."""
    from fdcnn.hdl.layer import Layer
    from tb.through import through
    weights = tuple(part.reshape(-1) for part in codes)
    count = len(images) * LAYER.out_channels * LAYER.pooled_bins
    real, imag = through(Layer(LAYER), build_dir, "layer", images.reshape(-1, LAYER.bins),
                         np.zeros((len(images), LAYER.bins), dtype=np.int64), count,
                         weight=weights)
    shape = (len(images), LAYER.out_channels, LAYER.pooled_bins)
    return real.reshape(shape), imag.reshape(shape)


def golden_codes(images, codes):
    real, imag, _ = LayerModel(LAYER).forward(images, codes)
    return real, imag


# Figures and the report -----------------------------------------------------------------------

def plot_learning(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = np.arange(1, len(history) + 1)
    loss, train, test = (np.array(column) for column in zip(*history))
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(epochs, loss)
    left.set(title="training loss (float)", xlabel="epoch", ylabel="cross-entropy")
    right.plot(epochs, 100 * train, label="train")
    right.plot(epochs, 100 * test, label="test")
    right.set(title="accuracy (float)", xlabel="epoch", ylabel="%")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_confusion(predicted, labels, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matrix = np.zeros((CLASSES, CLASSES), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    figure, axis = plt.subplots(figsize=(4.2, 3.8))
    image = axis.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            axis.text(column, row, count, ha="center", va="center", fontsize=7,
                      color="white" if count > matrix.max() / 2 else "black")
    axis.set(title="test set, quantized golden layer", xlabel="predicted", ylabel="true",
             xticks=range(CLASSES), yticks=range(CLASSES))
    figure.colorbar(image, ax=axis, shrink=0.8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtl-images", type=int, default=20,
                        help="test images run through the layer's Verilog (default 20)")
    parser.add_argument("--results", default=str(REPOSITORY / "examples" / "results"))
    arguments = parser.parse_args(argv)
    results = Path(arguments.results)
    results.mkdir(parents=True, exist_ok=True)
    train_images, test_images, train_labels, test_labels = digits()

    started = time.perf_counter()
    weights, classifier, history = train_float(train_images, train_labels, test_images,
                                               test_labels)
    float_seconds = time.perf_counter() - started
    float_accuracy = history[-1][2]

    codes = quantize(weights)
    quantized_accuracy = accuracy(classifier, quantized_activations(test_images, codes),
                                  test_labels)
    started = time.perf_counter()
    codes = fine_tune(train_images, train_labels, codes, classifier)
    tune_seconds = time.perf_counter() - started
    tuned = quantized_activations(test_images, codes)
    tuned_accuracy = accuracy(classifier, tuned, test_labels)

    count = arguments.rtl_images
    with tempfile.TemporaryDirectory() as build:
        started = time.perf_counter()
        rtl = rtl_activations(test_images[:count], codes, build)
        rtl_seconds = time.perf_counter() - started
    golden = golden_codes(test_images[:count], codes)
    equal = all(np.array_equal(got, want) for got, want in zip(rtl, golden))
    fraction = LAYER.pwl_config.output_format.fraction
    rtl_predicted = classifier.logits(features((rtl[0] + 1j * rtl[1]) / 2 ** fraction)).argmax(1)
    rtl_correct = int(np.sum(rtl_predicted == test_labels[:count]))

    cycles = LAYER.cycles_per_image
    plot_learning(history, results / "digits_learning.png")
    plot_confusion(classifier.logits(features(tuned)).argmax(1), test_labels,
                   results / "digits_confusion.png")
    lines = [
        f"Digits (scikit-learn, 8×8), {len(train_images)} training and {len(test_images)} test "
        f"images; layer {LAYER.in_channels}→{LAYER.out_channels} channels, crop to 4×4, "
        f"{LAYER.activation}, then a dense classifier.",
        "",
        "| | test accuracy |",
        "|---|---|",
        f"| float (NumPy, {len(history)} epochs, {float_seconds:.0f} s) | "
        f"{100 * float_accuracy:.1f} % |",
        f"| quantized golden, float weights rounded | {100 * quantized_accuracy:.1f} % |",
        f"| quantized golden, fine-tuned in the blocks' arithmetic ({tune_seconds:.0f} s) | "
        f"{100 * tuned_accuracy:.1f} % |",
        f"| RTL, first {count} test images ({rtl_seconds:.0f} s in Icarus) | "
        f"{rtl_correct}/{count} correct; equal to golden bit for bit: {equal} |",
        "",
        f"Accuracy cost of quantization: {100 * (float_accuracy - quantized_accuracy):.1f} "
        f"points with the weights rounded, {100 * (float_accuracy - tuned_accuracy):.1f} after "
        f"fine-tuning. The layer takes {cycles} cycles per image.",
    ]
    (results / "digits.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
