"""Lab ``vanishing``: gradients vanish through 20 sigmoid layers and keep flowing through ReLU
layers with He initialization, with or without batch normalization (article 6.2).

Back-propagation multiplies the gradient by each layer's activation derivative and weights;
sigma' is at most 0.25, so 20 sigmoid layers can shrink it by up to 0.25^20 ~ 1e-12 before it
reaches the first one. The lab trains the same 20-layer MLP four ways from one seed and
measures, per layer, the gradient norm (``GradientMonitor``) and how far the weights moved.
"""

from __future__ import annotations

import numpy as np

from .. import Sequential, layers, optimizers
from ..callbacks import Callback
from ._monitoring import monitored
from ._training import describe_digits, digits
from .report import Report

DEPTH, WIDTH, BATCH, LEARNING_RATE, MOMENTUM = 20, 64, 32, 0.01, 0.9
VARIANTS = {  # key: (label, activation, kernel initializer, batch normalization)
    "sigmoid": ("sigmoid, Glorot", "sigmoid", "glorot_uniform", False),
    "tanh": ("tanh, Glorot", "tanh", "glorot_uniform", False),
    "relu_he": ("ReLU, He", "relu", "he_normal", False),
    "relu_he_bn": ("ReLU, He, BatchNorm", "relu", "he_normal", True),
}
HIDDEN = [f"hidden{i}" for i in range(1, DEPTH + 1)]  # input side first


def _builder(activation: str, initializer: str, batch_norm: bool):
    """A function making the MLP: DEPTH hidden layers of WIDTH units, 10 logits."""
    def build() -> Sequential:
        stack: list[layers.Layer] = []
        for name in HIDDEN:
            stack.append(layers.Dense(WIDTH, None if batch_norm else activation,
                                      kernel_initializer=initializer, name=name))
            if batch_norm:  # momentum 0.9: the moving statistics settle within a few epochs
                stack += [layers.BatchNormalization(momentum=0.9), layers.Activation(activation)]
        return Sequential([*stack, layers.Dense(10)])
    return build


def _kernels(model: Sequential) -> dict[str, np.ndarray]:
    """A copy of each hidden kernel, input side first."""
    return {layer.name: layer.kernel.numpy().copy() for layer in model.layers
            if layer.name in HIDDEN}


class _Start(Callback):
    """The hidden kernels as training starts: how far each then moves is how much it learned."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.kernels = _kernels(self.model)

    def moved(self) -> list[float]:
        """||W_end - W_start|| / ||W_start|| of each hidden kernel, input side first."""
        now = _kernels(self.model)
        return [float(np.linalg.norm(now[n] - w) / np.linalg.norm(w))
                for n, w in self.kernels.items()]


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot

    epochs = 5 if quick else 20
    train, test = digits()
    numbers: dict[str, float] = {}
    rows = [["variant", "gradient norm, hidden1", f"gradient norm, hidden{DEPTH}",
             "first / last", "hidden1 weights moved", f"hidden{DEPTH} weights moved",
             "test accuracy"]]
    flows, moves, curves, notes = {}, {}, {}, []
    for key, (label, activation, initializer, batch_norm) in VARIANTS.items():
        start = _Start()
        model, curve, messages = monitored(
            _builder(activation, initializer, batch_norm),
            optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM), train, test, seed, (start,),
            batch_size=BATCH, epochs=epochs)
        logs = model.history.history
        flows[label] = norms = [float(np.mean(logs[f"grad_norm/{n}"])) for n in HIDDEN]
        moves[label] = moved = start.moved()
        curves[label] = curve
        numbers.update({f"{key}_first_grad": norms[0], f"{key}_last_grad": norms[-1],
                        f"{key}_grad_ratio": norms[0] / norms[-1],
                        f"{key}_first_moved": moved[0], f"{key}_last_moved": moved[-1],
                        f"{key}_test_accuracy": curve.accuracy[-1]})
        rows.append([label, norms[0], norms[-1], norms[0] / norms[-1], moved[0], moved[-1],
                     curve.accuracy[-1]])
        notes += [f"{label}: {m}" for m in messages]

    n = numbers
    held = (n["sigmoid_grad_ratio"] * 100 <= n["relu_he_grad_ratio"]
            and min(n["relu_he_test_accuracy"], n["relu_he_bn_test_accuracy"])
            >= n["sigmoid_test_accuracy"] + 0.2)
    verdict = (f"Through {DEPTH} sigmoid layers the first layer's gradient norm is "
               f"{n['sigmoid_grad_ratio']:.1e} times the last's ({n['sigmoid_first_grad']:.1e} "
               f"against {n['sigmoid_last_grad']:.1e}); its kernel's relative change over training "
               f"is {n['sigmoid_first_moved']:.2g} (hidden{DEPTH}'s: "
               f"{n['sigmoid_last_moved']:.2g}) and the test accuracy is "
               f"{n['sigmoid_test_accuracy']:.2f} (chance: 0.10). ReLU with He initialization "
               f"keeps the ratio at {n['relu_he_grad_ratio']:.2g} and reaches "
               f"{n['relu_he_test_accuracy']:.2f}, {n['relu_he_bn_test_accuracy']:.2f} with "
               f"batch normalization (ratio {n['relu_he_bn_grad_ratio']:.2g}). tanh with Glorot "
               f"initialization, whose derivative peaks at 1, keeps a ratio of "
               f"{n['tanh_grad_ratio']:.2g} and reaches {n['tanh_test_accuracy']:.2f}.")

    def make() -> dict:
        depth = range(1, DEPTH + 1)
        per_layer = {"xlabel": "hidden layer (input side first)", "logy": True}
        epoch = {"xlabel": "epoch (0: before training)"}
        return {
            "gradient_flow.png": plot.lines([
                {**per_layer, "series": {k: (depth, v) for k, v in flows.items()},
                 "title": "gradient norm per layer (mean over epochs)",
                 "ylabel": "gradient norm"},
                {**per_layer, "series": {k: (depth, v) for k, v in moves.items()},
                 "title": "how far each layer's weights moved",
                 "ylabel": "|W_end - W_start| / |W_start|"}], columns=2),
            "accuracy.png": plot.lines([
                {**epoch, "series": {k: (range(len(c.accuracy)), c.accuracy)
                                     for k, c in curves.items()},
                 "title": "test accuracy", "ylabel": "accuracy"},
                {**epoch, "series": {k: (range(len(c.loss)), c.loss) for k, c in curves.items()},
                 "title": "test loss", "ylabel": "cross-entropy", "logy": True}], columns=2)}

    frozen = sum(m == 0 for m in moves[VARIANTS["sigmoid"][0]])
    if frozen:
        notes.append(f"The first {frozen} sigmoid layers did not change at all: an update of "
                     f"learning rate x gradient (~{LEARNING_RATE * n['sigmoid_first_grad']:.0e} "
                     "at hidden1) is below float32's resolution of the weights (~1e-8 of "
                     "their size), so each step rounds back to the old value.")
    return Report(
        name="vanishing", title="vanishing gradients in a 20-layer MLP",
        claim=("In a deep network of sigmoid units the gradient shrinks layer by layer on its "
               "way back, so the first layers barely learn; ReLU with He initialization, and "
               "batch normalization, keep it flowing and the deep network trains."),
        held=held, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"{describe_digits(train, test)} MLP of {DEPTH} hidden layers of {WIDTH} units "
               f"and 10 logits, softmax cross-entropy; SGD (learning rate {LEARNING_RATE}, "
               f"momentum {MOMENTUM}), batches of {BATCH}, {epochs} epochs, the same seed "
               f"({seed}) for every variant. Gradient norms (kernel and bias of a layer) by "
               "GradientMonitor, averaged over the epochs; BatchNormalization sits between "
               "each Dense layer and its ReLU."),
        figures=make, notes=notes)
