"""Lab ``normalization``: the wine data's raw features against min-max and z-score inputs, and
batch normalization of the raw ones (article 6.3).

Wine's 13 features span about 0.1 (nonflavanoid phenols) to 1,680 (proline), so on raw inputs
the first layer's sums are dominated by proline and reach the thousands. Every variant is the
same MLP with the same initial hidden layer, optimizer and epochs; only the inputs or a
BatchNormalization layer differ.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .. import optimizers
from ..data import MinMaxScaler, StandardScaler
from ._training import scores, train
from .report import Report

HIDDEN = 32
EPOCHS, QUICK_EPOCHS = 60, 20
BATCH = 16
LEARNING_RATE = 0.01
# PyTorch's default: Keras's 0.99 leaves the moving statistics (which inference uses) short of
# proline's mean of ~750 after the few hundred steps this small data set gives.
BN_MOMENTUM = 0.9


def _model(where: str | None) -> Any:
    """The MLP 13-32-3, with BatchNormalization on its ``"inputs"``, before its ``"hidden"``
    ReLU, or nowhere (None)."""
    from .. import Sequential, layers

    def norm() -> Any:
        return layers.BatchNormalization(momentum=BN_MOMENTUM)

    hidden = ([layers.Dense(HIDDEN), norm(), layers.Activation("relu")] if where == "hidden"
              else [layers.Dense(HIDDEN, activation="relu")])
    return Sequential([*([norm()] if where == "inputs" else []), *hidden, layers.Dense(3)])


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot
    from ..datasets import wine

    epochs = QUICK_EPOCHS if quick else EPOCHS
    (x, y), (x_test, y_test) = wine.load_data()
    minmax, zscore = MinMaxScaler().fit(x), StandardScaler().fit(x)
    variants = (  # key, label, (training, test) inputs, where batch norm goes
        ("raw", "raw", (x, x_test), None),
        ("minmax", "min-max [0, 1]", (minmax.transform(x), minmax.transform(x_test)), None),
        ("zscore", "z-score", (zscore.transform(x), zscore.transform(x_test)), None),
        ("bn_inputs", "raw + batch norm of the inputs", (x, x_test), "inputs"),
        ("bn_hidden", "raw + batch norm in the hidden layer", (x, x_test), "hidden"),
    )
    numbers: dict[str, float] = {}
    losses: dict[str, list[float]] = {}
    accuracies: dict[str, list[float]] = {}
    rows = [["inputs", "loss in epoch 1", f"loss in epoch {epochs}", "test loss",
             "test accuracy"]]
    for key, label, (inputs, test_inputs), where in variants:
        model, curve = train(partial(_model, where), optimizers.SGD(LEARNING_RATE),
                             (inputs, y), (test_inputs, y_test), seed, batch_size=BATCH,
                             epochs=epochs)
        loss = model.history.history["loss"]
        losses[label], accuracies[label] = loss, curve.accuracy
        test_loss, test_accuracy = scores(model, test_inputs, y_test)
        numbers.update({f"{key}_first_loss": loss[0], f"{key}_final_loss": loss[-1],
                        f"{key}_test_loss": test_loss, f"{key}_test_accuracy": test_accuracy})
        rows.append([label, loss[0], loss[-1], test_loss, test_accuracy])
    frequencies = np.bincount(y) / len(y)
    numbers["class_frequency_loss"] = float(-(frequencies * np.log(frequencies)).sum())
    numbers["majority_test_accuracy"] = float(np.bincount(y_test).max() / len(y_test))

    raw = {k: numbers[f"raw_{k}"] for k in ("final_loss", "test_accuracy")}
    scaled = all(numbers[f"{k}_final_loss"] < raw["final_loss"] - 0.1
                 and numbers[f"{k}_test_accuracy"] > raw["test_accuracy"] + 0.1
                 for k in ("minmax", "zscore"))
    normed = all(numbers[f"{k}_final_loss"] < raw["final_loss"] - 0.1
                 for k in ("bn_inputs", "bn_hidden"))

    def said(key: str) -> str:
        return (f"{numbers[f'{key}_first_loss']:.3g} in epoch 1, "
                f"{numbers[f'{key}_final_loss']:.3f} in epoch {epochs}, test accuracy "
                f"{numbers[f'{key}_test_accuracy']:.3f}")

    verdict = (f"Raw inputs: training loss {said('raw')} (predicting the class frequencies "
               f"scores a loss of {numbers['class_frequency_loss']:.3f}, always guessing the "
               f"commonest class an accuracy of {numbers['majority_test_accuracy']:.3f}). "
               f"Min-max: {said('minmax')}; z-score: {said('zscore')}. Batch norm on the raw "
               f"inputs: {said('bn_inputs')}; in the hidden layer: {said('bn_hidden')}.")

    def make() -> dict:
        return {"loss.png": plot.lines([
            {"series": {k: (range(1, len(v) + 1), v) for k, v in losses.items()},
             "title": "training loss per epoch", "xlabel": "epoch",
             "ylabel": "cross-entropy (mean over the epoch)", "logy": True},
            {"series": {k: (range(len(v)), v) for k, v in accuracies.items()},
             "title": "test accuracy", "xlabel": "epoch", "ylabel": "accuracy"}],
            columns=2)}

    return Report(
        name="normalization", title="raw, min-max and z-score inputs, and batch normalization",
        claim=("Normalizing the inputs (min-max scaling or z-scores) and batch normalization "
               "make training more stable and faster."),
        held=scaled and normed, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"Wine ({len(y)} training, {len(y_test)} test samples, 13 features, 3 classes); "
               f"the scalers learn their statistics on the training set only. MLP 13-{HIDDEN}-3 "
               f"(ReLU), softmax cross-entropy, SGD (learning rate {LEARNING_RATE}), batches of "
               f"{BATCH}, {epochs} epochs, the same initial weights (seed {seed}) for every "
               f"variant. Batch norm uses momentum {BN_MOMENTUM} for its moving statistics."),
        figures=make)
