"""What the training labs share: the digits as flat vectors, an MLP classifier, the bare
cross-entropy and accuracy of a model, and a callback recording both (and the seconds spent
training) after every epoch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..callbacks import Callback
from ..utils import set_random_seed

Split = tuple[np.ndarray, np.ndarray]


def digits() -> tuple[Split, Split]:
    """The embedded digits, each image as 64 pixel values in [0, 1] (divided by 16, the
    maximum): ``(x_train, y_train), (x_test, y_test)``."""
    from ..datasets import digits as data

    (x_train, y_train), (x_test, y_test) = data.load_data()
    return ((x_train.reshape(len(x_train), -1).astype(np.float32) / 16, y_train),
            (x_test.reshape(len(x_test), -1).astype(np.float32) / 16, y_test))


def describe_digits(train: Split, test: Split) -> str:
    """How a report's setup names the data :func:`digits` gave."""
    return (f"Digits ({len(train[1])} training images, 64 pixels scaled to [0, 1]; "
            f"{len(test[1])} test images).")


def mlp(widths: tuple[int, ...], classes: int, dropout: float = 0.0,
        kernel_regularizer: Any = None) -> Any:
    """ReLU hidden layers of ``widths`` (each followed by Dropout when ``dropout``) and a
    linear output of ``classes`` logits."""
    from .. import Sequential, layers

    stack: list[Any] = []
    for units in widths:
        stack.append(layers.Dense(units, activation="relu",
                                  kernel_regularizer=kernel_regularizer))
        if dropout:
            stack.append(layers.Dropout(dropout))
    return Sequential([*stack, layers.Dense(classes)])


def scores(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of the model's logits on (x, y), in inference mode.

    The bare cross-entropy: ``evaluate`` adds the weight penalties (L2), which would make a
    model with them look worse than one without on the same predictions.
    """
    from ..functional import sparse_categorical_crossentropy

    z = model.predict(x, batch_size=len(x)).astype(np.float64)
    loss = sparse_categorical_crossentropy(y, z, from_logits=True)
    return float(loss.data), float(np.mean(z.argmax(axis=1) == y))


class Curve(Callback):
    """``scores`` on (x, y) before training and after every epoch, and the seconds spent
    training so far (the epochs' batches only: validation and this scoring are not counted).

    Attributes:
        seconds, loss, accuracy: one entry per epoch, the first for the untrained model (0 s).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.seconds: list[float] = []
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self._start = self._stop = 0.0

    def _record(self, seconds: float) -> None:
        loss, accuracy = scores(self.model, self.x, self.y)
        self.seconds.append(seconds)
        self.loss.append(loss)
        self.accuracy.append(accuracy)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._record(0.0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._stop = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._record(self.seconds[-1] + self._stop - self._start)


def train(build: Callable[[], Any], optimizer: Any, data: Split, track: Split, seed: int,
          callbacks: tuple[Callback, ...] = (), **fit: Any) -> tuple[Any, Curve]:
    """Seed, build and compile a fresh model (softmax cross-entropy on its logits), fit it on
    ``data`` with ``fit``'s keyword arguments, scoring ``track`` every epoch.

    Seeding first gives every variant of a lab the same initial weights and batch order.
    Returns the trained model and its ``Curve``.
    """
    from ..losses import SparseCategoricalCrossentropy

    set_random_seed(seed)
    model = build()
    model.compile(optimizer, SparseCategoricalCrossentropy(from_logits=True))
    curve = Curve(*track)
    model.fit(*data, verbose=0, callbacks=[curve, *callbacks], **fit)
    return model, curve
