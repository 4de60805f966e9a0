"""Lab ``exploding``: gradients explode in a recurrent net with large weights, and gradient
clipping tames them (article 6.2).

A SimpleRNN reads each digit's 8 rows as 8 time steps. Back-propagation through time multiplies
the gradient by the recurrent kernel once per step; with weights of standard deviation 0.5 (64
units: a spectral radius near 0.5 sqrt(64) = 4) and ReLU, which unlike tanh never saturates,
state and gradient grow about fourfold per step. The same net is trained from the same weights
with and without ``global_clipnorm``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import Sequential, initializers, layers, optimizers
from ..callbacks import Callback, TerminateOnNaN
from ..optimizers.optimizer import global_norm
from ._monitoring import monitored
from ._training import digits
from .report import Report

UNITS, STDDEV, BATCH, LEARNING_RATE, MOMENTUM, CLIPNORM = 64, 0.5, 32, 0.05, 0.9, 1.0


def _build() -> Sequential:
    """SimpleRNN (ReLU, both kernels drawn with a large STDDEV) over the 8 rows, 10 logits."""
    return Sequential([
        layers.SimpleRNN(UNITS, activation="relu",
                         kernel_initializer=initializers.RandomNormal(stddev=STDDEV),
                         recurrent_initializer=initializers.RandomNormal(stddev=STDDEV)),
        layers.Dense(10)])


class _StepNorms(Callback):
    """The global norm of all gradients at every training step, as back-propagation computed
    it: the optimizer clips a copy, so this is the norm before clipping."""

    def __init__(self) -> None:
        super().__init__()
        self.norms: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if math.isfinite((logs or {}).get("loss", 0.0)):  # else no backward ran: stale grads
            self.norms.append(global_norm([p.grad.data for p in self.model.trainable_weights
                                           if p.grad is not None]))


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot

    epochs = 4 if quick else 12
    (x, y), (x_test, y_test) = digits()
    train, test = (x.reshape(-1, 8, 8), y), (x_test.reshape(-1, 8, 8), y_test)
    numbers: dict[str, float] = {}
    rows = [["run", "updates", "first gradient norm", "largest gradient norm",
             "loss became NaN at step", "test loss", "test accuracy"]]
    runs, notes = {}, []
    for key, label, clip in (("unclipped", "no clipping", None),
                             ("clipped", f"global_clipnorm={CLIPNORM:g}", CLIPNORM)):
        steps, stop = _StepNorms(), TerminateOnNaN()
        _, curve, messages = monitored(
            _build, optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM, global_clipnorm=clip),
            train, test, seed, (steps, stop), batch_size=BATCH, epochs=epochs)
        runs[label] = steps, curve
        nan_at = math.nan if stop.stopped_at is None else len(steps.norms) + 1
        numbers["initial_test_loss"] = curve.loss[0]  # the same weights for both runs
        numbers.update({f"{key}_updates": float(len(steps.norms)),
                        f"{key}_first_grad_norm": steps.norms[0],
                        f"{key}_max_grad_norm": max(steps.norms),
                        f"{key}_max_at_step": float(np.argmax(steps.norms) + 1),
                        f"{key}_nan_at_step": nan_at,
                        f"{key}_test_loss": curve.loss[-1],
                        f"{key}_test_accuracy": curve.accuracy[-1]})
        rows.append([label, len(steps.norms), steps.norms[0], max(steps.norms),
                     "never" if math.isnan(nan_at) else int(nan_at), curve.loss[-1],
                     curve.accuracy[-1]])
        notes += [f"{label}: {m}" for m in messages]

    n = numbers
    clipped_ok = math.isnan(n["clipped_nan_at_step"]) and math.isfinite(n["clipped_test_loss"])
    held = ((n["unclipped_max_grad_norm"] > 1e3 or not math.isnan(n["unclipped_nan_at_step"]))
            and clipped_ok and n["clipped_test_loss"] < n["initial_test_loss"]
            and n["clipped_test_accuracy"] >= n["unclipped_test_accuracy"] + 0.2)
    stopped = ("" if math.isnan(n["unclipped_nan_at_step"]) else
               f"; the loss became NaN at step {n['unclipped_nan_at_step']:.0f} and training "
               "stopped")
    verdict = (f"Both runs start from a gradient norm of {n['unclipped_first_grad_norm']:.3g}. "
               "Without clipping the updates throw the weights away: the gradient norm reaches "
               f"{n['unclipped_max_grad_norm']:.3g} at step {n['unclipped_max_at_step']:.0f}"
               f"{stopped}, leaving test accuracy {n['unclipped_test_accuracy']:.2f}. With "
               f"global_clipnorm={CLIPNORM:g} every update is at most {LEARNING_RATE:g} x "
               f"{CLIPNORM:g} long (before momentum): all {n['clipped_updates']:.0f} updates "
               f"stay finite and the run ends at test loss {n['clipped_test_loss']:.3f} and "
               f"accuracy {n['clipped_test_accuracy']:.2f}.")

    def make() -> dict:
        epoch = {"xlabel": "epoch (0: before training)"}
        return {"exploding.png": plot.lines([
            {"series": {k: (np.arange(1, len(s.norms) + 1), s.norms) for k, (s, _) in
                        runs.items()},
             "title": "gradient norm at each step (before clipping)", "xlabel": "step",
             "ylabel": "global gradient norm", "logy": True, "logx": True},
            {**epoch, "series": {k: (range(len(c.loss)), c.loss) for k, (_, c) in runs.items()},
             "title": "test loss", "ylabel": "cross-entropy", "logy": True},
            {**epoch, "series": {k: (range(len(c.accuracy)), c.accuracy)
                                 for k, (_, c) in runs.items()},
             "title": "test accuracy", "ylabel": "accuracy"}])}

    return Report(
        name="exploding", title="exploding gradients in a recurrent net, and clipping",
        claim=("With large weights the gradient grows as it is propagated back through the "
               "time steps (or layers) until updates throw the weights away and the loss "
               "becomes NaN; clipping the gradient norm keeps every update bounded, and "
               "training stays finite and learns."),
        held=held, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"Digits as sequences: the 8 rows of each image (pixels scaled to [0, 1]) are 8 "
               f"time steps of 8 features; {len(y)} training, {len(y_test)} test images. "
               f"SimpleRNN of {UNITS} ReLU units, both kernels drawn from N(0, {STDDEV:g}^2), "
               f"then 10 logits; softmax cross-entropy; SGD (learning rate {LEARNING_RATE:g}, "
               f"momentum {MOMENTUM:g}), batches of {BATCH}, up to {epochs} epochs, the same "
               f"initial weights (seed {seed}) for both runs; fit stops at a NaN loss "
               "(TerminateOnNaN). Gradient norms are of all weights together, before "
               "clipping."),
        figures=make, notes=notes)
