"""Lab ``optimizers``: full-batch gradient descent, mini-batch SGD, momentum and Adam train the
same MLP on the digits from the same initial weights (article ch. 5).

GD, SGD and momentum share one learning rate, so GD and SGD differ only in the batch: one
update per pass over the data against one per 64 images. Adam runs at its usual rate, 0.001.
The loss is the cross-entropy on the whole training set after each epoch, so the four curves
measure the same thing; seconds count only the training batches.
"""

from __future__ import annotations

import math

from .. import optimizers
from ._training import Curve, digits, mlp, scores, train
from .report import Report

WIDTHS = (64, 64, 64)
BATCH = 64
LEARNING_RATE = 0.01  # Keras's SGD default; Adam keeps its own default, 0.001
EPOCHS, QUICK_EPOCHS = 30, 4


def _halved(loss: list[float]) -> int | None:
    """The first epoch whose loss is below half the initial one, or None."""
    return next((i for i, v in enumerate(loss) if v < loss[0] / 2), None)


def _when(curve: Curve) -> str:
    epoch = _halved(curve.loss)
    if epoch is None:
        return f"not within {curve.seconds[-1]:.2f} s"
    return f"epoch {epoch} ({curve.seconds[epoch]:.2f} s)"


def run(quick: bool = False, seed: int = 0) -> Report:
    from .. import parallel, plot

    epochs = QUICK_EPOCHS if quick else EPOCHS
    (x, y), test = digits()
    variants = (  # key, label, optimizer, batch size
        ("gd", "GD (full batch)", optimizers.SGD(LEARNING_RATE), len(x)),
        ("sgd", "SGD", optimizers.SGD(LEARNING_RATE), BATCH),
        ("momentum", "SGD + momentum 0.9", optimizers.SGD(LEARNING_RATE, momentum=0.9), BATCH),
        ("adam", "Adam", optimizers.Adam(), BATCH),
    )
    curves: dict[str, Curve] = {}
    numbers: dict[str, float] = {}
    rows = [["optimizer", "batch", "updates per epoch", f"loss after {epochs} epochs",
             "loss halved at", "seconds per epoch", "test accuracy"]]
    for key, label, optimizer, batch in variants:
        model, curve = train(lambda: mlp(WIDTHS, 10), optimizer, (x, y), (x, y), seed,
                             batch_size=batch, epochs=epochs)
        curves[label] = curve
        halved = _halved(curve.loss)
        numbers.update({
            f"{key}_initial_loss": curve.loss[0], f"{key}_final_loss": curve.loss[-1],
            f"{key}_epochs_to_halve": math.inf if halved is None else float(halved),
            f"{key}_seconds_to_halve": math.inf if halved is None else curve.seconds[halved],
            f"{key}_seconds_per_epoch": curve.seconds[-1] / epochs,
            f"{key}_test_accuracy": scores(model, *test)[1]})
        rows.append([label, batch, math.ceil(len(x) / batch), curve.loss[-1], _when(curve),
                     numbers[f"{key}_seconds_per_epoch"], numbers[f"{key}_test_accuracy"]])

    final = {key: numbers[f"{key}_final_loss"] for key, *_ in variants}
    held = (min(final, key=final.get) == "adam" and max(final, key=final.get) == "gd"
            and final["sgd"] < final["gd"])
    clock = "; ".join(f"{label}: {_when(curve)}" for label, curve in curves.items())
    verdict = (f"After {epochs} epochs the training loss (from {numbers['gd_initial_loss']:.3f}) "
               f"is {final['gd']:.3f} for full-batch GD, {final['sgd']:.3f} for mini-batch SGD, "
               f"{final['momentum']:.3f} with momentum and {final['adam']:.3f} with Adam: one "
               f"GD update per pass against {math.ceil(len(x) / BATCH)} SGD updates. The loss "
               f"fell below half its start for {clock}.")

    def make() -> dict:
        by_epoch = {name: (range(len(c.loss)), c.loss) for name, c in curves.items()}
        by_time = {name: (c.seconds, c.loss) for name, c in curves.items()}
        loss = {"ylabel": "cross-entropy (training set)", "logy": True}
        return {"loss.png": plot.lines([
            {**loss, "series": by_epoch, "title": "loss per epoch", "xlabel": "epoch"},
            {**loss, "series": by_time, "title": "loss against time",
             "xlabel": "seconds of training"}], columns=2)}

    return Report(
        name="optimizers", title="gradient descent, SGD, momentum and Adam",
        claim=("Full-batch gradient descent is slow: each update needs a pass over all the "
               "data. Mini-batch SGD makes many cheaper updates per pass and progresses faster; "
               "momentum speeds it up further, and Adam converges fastest."),
        held=held, verdict=verdict, numbers=numbers, table=rows,
        setup=(f"Digits ({len(x)} training images, 64 pixels scaled to [0, 1]); MLP "
               f"64-{'-'.join(map(str, WIDTHS))}-10 (ReLU), softmax cross-entropy; the same "
               f"initial weights (seed {seed}) and {epochs} epochs for each optimizer. GD, SGD "
               f"and momentum use learning rate {LEARNING_RATE}, Adam 0.001 (Keras's "
               f"defaults); mini-batches of {BATCH}. The loss is measured on the whole "
               "training set after each epoch; the seconds count only the training batches, "
               f"on {parallel.threads()} thread(s). Test accuracy on {len(test[1])} images."),
        figures=make,
        notes=["GD's exact gradient would tolerate a larger step than SGD's noisy one, but "
               "each step would still cost a pass over all the data; the three share one "
               "learning rate so that only the batch differs."])
