"""Lab ``dead-relu``: a too-high learning rate kills ReLU units; LeakyReLU keeps them learning
(article 2.2, whose "neuron death" this is).

A ReLU unit whose input is negative for every sample outputs 0 and passes back a gradient of
exactly 0, so nothing can revive it: it is dead. One large update can push a unit's weights and
bias there. LeakyReLU's slope for negative inputs keeps a small gradient flowing, so such a unit
can come back. Every run clips the gradient norm, so no update is longer than the learning rate
and no run diverges (lab ``exploding``): what differs is only whether units die.
"""

from __future__ import annotations

import numpy as np

from .. import Sequential, layers, optimizers
from ..callbacks import Callback
from ._monitoring import monitored
from ._training import describe_digits, digits
from .report import Report

WIDTH, DEPTH, BATCH, CLIPNORM = 32, 4, 32, 1.0
NORMAL_LR, HIGH_LR = 0.2, 2.0
VARIANTS = {  # key: (label, activation, learning rate)
    "relu_normal": (f"ReLU, lr {NORMAL_LR:g}", "relu", NORMAL_LR),
    "relu_high": (f"ReLU, lr {HIGH_LR:g}", "relu", HIGH_LR),
    "leaky_high": (f"LeakyReLU, lr {HIGH_LR:g}", "leaky_relu", HIGH_LR),
}


def _builder(activation: str):
    """A function making the MLP: DEPTH hidden layers of WIDTH units (He init), 10 logits."""
    def build() -> Sequential:
        return Sequential([*(layers.Dense(WIDTH, activation, kernel_initializer="he_normal",
                                          name=f"hidden{i}") for i in range(1, DEPTH + 1)),
                           layers.Dense(10)])
    return build


class _Silent(Callback):
    """After training, the fraction of hidden units whose input is <= 0 for every training
    image: for ReLU the dead units (output and gradient 0), for LeakyReLU units that still
    learn, through the negative slope."""

    def __init__(self, x: np.ndarray) -> None:
        super().__init__()
        self.x = x

    def on_train_end(self, logs: dict | None = None) -> None:
        fractions: list[float] = []
        removers = [layer.register_forward_hook(
            lambda layer, inputs, y: fractions.append(float(np.mean((y.data <= 0).all(axis=0)))))
            for layer in self.model.layers[:-1]]
        self.model.predict(self.x, batch_size=len(self.x))
        for remove in removers:
            remove()
        self.fraction = float(np.mean(fractions))


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot

    epochs = 4 if quick else 15
    train, test = digits()
    numbers: dict[str, float] = {}
    rows = [["variant", "dead units (GradientMonitor, last epoch)",
             "units with input <= 0 on every image", "test accuracy"]]
    dead, accuracy, notes = {}, {}, []
    for key, (label, activation, lr) in VARIANTS.items():
        silent = _Silent(train[0])
        model, curve, messages = monitored(
            _builder(activation), optimizers.SGD(lr, global_clipnorm=CLIPNORM), train, test,
            seed, (silent,), batch_size=BATCH, epochs=epochs)
        logs = model.history.history
        per_layer = [v for k, v in logs.items() if k.startswith("dead/")]  # ReLU layers only
        dead_cell = "-"
        if per_layer:
            dead[label] = np.mean(per_layer, axis=0)  # per epoch, mean of the hidden layers
            numbers[f"{key}_dead"] = dead_cell = float(dead[label][-1])
            numbers[f"{key}_dead_last_layer"] = logs[f"dead/hidden{DEPTH}"][-1]
        accuracy[label] = curve.accuracy
        numbers.update({f"{key}_silent": silent.fraction,
                        f"{key}_test_accuracy": curve.accuracy[-1]})
        rows.append([label, dead_cell, silent.fraction, curve.accuracy[-1]])
        notes += [f"{label}: {m}" for m in messages]

    n = numbers
    held = (n["relu_high_dead"] >= 3 * n["relu_normal_dead"] + 0.1
            and n["leaky_high_silent"] < n["relu_high_dead"] / 3
            and n["leaky_high_test_accuracy"] >= n["relu_high_test_accuracy"] + 0.2)
    verdict = (f"At learning rate {HIGH_LR:g}, {n['relu_high_dead']:.0%} of the ReLU units are "
               f"dead after {epochs} epochs (at {NORMAL_LR:g}: {n['relu_normal_dead']:.0%}), "
               f"{n['relu_high_dead_last_layer']:.0%} of the last hidden layer's (when all are, "
               "the logits no longer depend on the image), and the test accuracy is "
               f"{n['relu_high_test_accuracy']:.2f}, against {n['relu_normal_test_accuracy']:.2f} "
               f"at {NORMAL_LR:g}. LeakyReLU at {HIGH_LR:g} has {n['leaky_high_silent']:.0%} of "
               "its units with a negative input on every image (and they still get a gradient) "
               f"and reaches {n['leaky_high_test_accuracy']:.2f}.")

    def make() -> dict:
        return {"dead_relu.png": plot.lines([
            {"series": {k: (range(1, epochs + 1), v) for k, v in dead.items()},
             "title": "dead ReLU units (GradientMonitor)", "xlabel": "epoch",
             "ylabel": "fraction of hidden units"},
            {"series": {k: (range(epochs + 1), v) for k, v in accuracy.items()},
             "title": "test accuracy", "xlabel": "epoch (0: before training)",
             "ylabel": "accuracy"}], columns=2)}

    return Report(
        name="dead-relu", title="dying ReLUs at a too-high learning rate, and LeakyReLU",
        claim=("With a too-high learning rate many ReLU units die: their input becomes negative "
               "for every sample, so they output 0 and get no gradient, for good. LeakyReLU's "
               "small negative slope keeps a gradient flowing and the network keeps learning."),
        held=held, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"{describe_digits(train, test)} MLP of {DEPTH} hidden layers of {WIDTH} units "
               f"(He normal initialization) and 10 logits, softmax cross-entropy; SGD without "
               f"momentum, global_clipnorm={CLIPNORM:g} (an update is at most as long as the "
               f"learning rate, so no run diverges), batches of {BATCH}, {epochs} epochs, the "
               f"same initial weights (seed {seed}) for every variant. LeakyReLU's slope is "
               "Keras's 0.2. Dead units by GradientMonitor (zero for every sample of an epoch), "
               "averaged over the hidden layers."),
        figures=make, notes=notes)
