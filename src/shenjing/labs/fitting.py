"""Lab ``fitting``: under- and over-fitting on 200 digits, and early stopping, dropout and L2
against the latter (article 6.1).

A model-size sweep shows both failures; the biggest model is then trained again with each
remedy. About 20% of the training labels are made wrong on purpose: ``WHY_NOISE`` (also in the
report) says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optimizers, regularizers
from ..callbacks import EarlyStopping
from ._training import Curve, Split, digits, mlp, scores, train
from .report import Report

PER_CLASS = 20  # training images per digit; 5 more per digit are the validation set
NOISE = 0.2  # the chance that a training or validation label is replaced by a wrong digit
SIZES = ((2,), (8,), (32,), (128,), (256, 256))  # hidden widths, small to big
QUICK_SIZES = ((2,), (32,), (256, 256))
EPOCHS, QUICK_EPOCHS = 100, 80
WHY_NOISE = ("Why wrong labels: the digits are almost free of label noise, so a big net trained "
             "on a few of them still generalizes well, having little to overfit. Real labels "
             "are never that clean; a model that fits the wrong ones has memorized noise (Zhang "
             "et al. 2017, 'Understanding deep learning requires rethinking generalization'). "
             "The test labels stay clean, so the test set measures what was really learned.")


def _subset(x: np.ndarray, y: np.ndarray,
            rng: np.random.Generator) -> tuple[Split, Split, np.ndarray]:
    """``PER_CLASS`` training and ``PER_CLASS // 4`` validation images of each digit, each
    label changed to another digit with chance ``NOISE``: ``(train, validation, which training
    labels are wrong)``."""
    picks = [np.flatnonzero(y == c)[:PER_CLASS + PER_CLASS // 4] for c in range(10)]
    train_idx = np.concatenate([p[:PER_CLASS] for p in picks])
    val_idx = np.concatenate([p[PER_CLASS:] for p in picks])
    flip = rng.random(len(y)) < NOISE
    noisy = np.where(flip, (y + rng.integers(1, 10, len(y))) % 10, y)
    return (x[train_idx], noisy[train_idx]), (x[val_idx], noisy[val_idx]), flip[train_idx]


def _parameters(widths: tuple[int, ...]) -> int:
    units = (64, *widths, 10)
    return sum((a + 1) * b for a, b in zip(units, units[1:]))


def _measure(model: Any, data: Split, wrong: np.ndarray, test: Split) -> dict[str, float]:
    """Accuracy on the (noisy) training labels and on the clean test set, their difference
    (the gap), the test cross-entropy, and the fraction of wrong labels the model reproduces."""
    train_accuracy = scores(model, *data)[1]
    test_loss, test_accuracy = scores(model, *test)
    predicted = model.predict(data[0][wrong], batch_size=len(data[0])).argmax(axis=1)
    return {"train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
            "gap": train_accuracy - test_accuracy, "test_loss": test_loss,
            "memorized": float(np.mean(predicted == data[1][wrong]))}


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import plot

    epochs = QUICK_EPOCHS if quick else EPOCHS
    sizes = QUICK_SIZES if quick else SIZES
    (x, y), test = digits()
    data, val, wrong = _subset(x, y, np.random.default_rng(seed))

    def fit(widths: tuple[int, ...], callbacks: tuple = (), validation_data: Split | None = None,
            **layer_options: Any) -> tuple[dict[str, float], Curve]:
        model, curve = train(lambda: mlp(widths, 10, **layer_options), optimizers.Adam(), data,
                             test, seed, callbacks=callbacks, batch_size=32, epochs=epochs,
                             validation_data=validation_data)
        return _measure(model, data, wrong, test), curve

    runs = {widths: fit(widths) for widths in sizes}
    sweep = {widths: result for widths, (result, _) in runs.items()}
    big = sizes[-1]
    results, curves = {"plain": runs[big][0]}, {"plain": runs[big][1]}
    stop = EarlyStopping(patience=20, restore_best_weights=True)
    remedies = {  # key: (label, what changes in fit)
        "dropout": ("dropout 0.5", {"dropout": 0.5}),
        "l2": ("L2 0.01", {"kernel_regularizer": regularizers.L2(0.01)}),
        "early_stopping": ("early stopping", {"callbacks": (stop,), "validation_data": val}),
    }
    for key, (_, options) in remedies.items():
        results[key], curves[key] = fit(big, **options)

    smallest, plain = sweep[sizes[0]], results["plain"]
    numbers = {f"smallest_{k}": v for k, v in smallest.items()}
    numbers.update({f"{key}_{k}": v for key, r in results.items() for k, v in r.items()})
    numbers["largest_smaller_gap"] = max(sweep[w]["gap"] for w in sizes[:-1])
    numbers["early_stopping_epoch"] = float(stop.best_epoch + 1)
    underfits = (smallest["train_accuracy"] < plain["train_accuracy"] - 0.3
                 and smallest["test_accuracy"] < plain["test_accuracy"])
    overfits = plain["gap"] > max(0.1, numbers["largest_smaller_gap"])
    remedied = all(results[k]["gap"] < plain["gap"] and results[k]["test_loss"]
                   < plain["test_loss"] for k in remedies)
    name = {widths: "64-" + "-".join(map(str, widths)) + "-10" for widths in sizes}
    effects = "; ".join(
        f"{label}: gap {results[k]['gap']:.2f}, test loss {results[k]['test_loss']:.3f}, "
        f"test accuracy {results[k]['test_accuracy']:.3f}" for k, (label, _) in remedies.items())
    verdict = (f"Underfitting: {name[sizes[0]]} reaches only {smallest['train_accuracy']:.2f} "
               f"training and {smallest['test_accuracy']:.2f} test accuracy. Overfitting: "
               f"{name[big]} fits {plain['train_accuracy']:.2f} of the training labels, "
               f"{plain['memorized']:.2f} of the wrong ones included, but "
               f"{plain['test_accuracy']:.2f} of the test set: a gap of {plain['gap']:.2f}, "
               "against at most "
               f"{numbers['largest_smaller_gap']:.2f} for the smaller models, and a test loss of "
               f"{plain['test_loss']:.3f}. The remedies: {effects} (early stopping kept epoch "
               f"{stop.best_epoch + 1}).")

    header = ["model", "parameters", "train accuracy (noisy labels)", "test accuracy", "gap",
              "test loss", "wrong labels fitted"]
    metrics = ("train_accuracy", "test_accuracy", "gap", "test_loss", "memorized")
    rows = [header] + [[name[w], _parameters(w), *(sweep[w][m] for m in metrics)] for w in sizes]
    rows += [[f"{name[big]} + {label}", _parameters(big), *(results[k][m] for m in metrics)]
             for k, (label, _) in remedies.items()]

    def make() -> dict:
        params = [_parameters(w) for w in sizes]
        accuracy = {label: (params, [sweep[w][f"{split}_accuracy"] for w in sizes])
                    for split, label in (("train", "training (noisy labels)"), ("test", "test"))}
        losses = {remedies[k][0] if k in remedies else k: (range(len(c.loss)), c.loss)
                  for k, c in curves.items()}
        return {"fitting.png": plot.lines([
            {"series": accuracy, "title": "model size: under- to over-fitting", "logx": True,
             "xlabel": "parameters", "ylabel": "accuracy"},
            {"series": losses, "title": f"{name[big]}: test loss per epoch", "xlabel": "epoch",
             "ylabel": "cross-entropy (test set)", "logy": True}], columns=2)}

    return Report(
        name="fitting", title="underfitting, overfitting, and dropout, L2 and early stopping",
        claim=("A model too simple underfits: it does poorly on the training data and the test "
               "data alike. A model too complex for little data overfits: it does well on the "
               "training data but worse on new data. Early stopping (the article's remedy "
               "besides a smaller model and more data), dropout and L2 regularization narrow "
               "that gap."),
        held=underfits and overfits and remedied, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"{len(data[0])} training digits ({PER_CLASS} per class), {int(wrong.sum())} of "
               f"their labels replaced by a wrong digit (each with chance {NOISE}; the test "
               f"labels are clean); MLPs of growing width and depth, Adam (0.001), batches of 32, "
               f"{epochs} epochs, seed {seed}. The gap is training accuracy (on the noisy labels) "
               f"minus test accuracy ({len(test[1])} images); the loss is the bare "
               "cross-entropy, without the L2 penalty. Early stopping watches the loss on "
               f"{len(val[1])} more images from the same noisy pool (never the test set), with "
               "patience 20, and restores the best epoch's weights."),
        figures=make, notes=[WHY_NOISE])
