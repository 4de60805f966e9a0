"""Turning ``fit``/``evaluate``/``predict`` arguments into batches: arrays (or lists of arrays
for multi-input models) sliced into minibatches, the seeded validation split, class weights."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def _as_arrays(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [np.asarray(getattr(a, "data", a)) for a in x]
    return np.asarray(getattr(x, "data", x))


def num_samples(x: Any) -> int:
    return len(x[0]) if isinstance(x, list) else len(x)


def take(x: Any, idx: Any) -> Any:
    """Rows ``idx`` of an array or of each array in a list."""
    if x is None:
        return None
    if isinstance(x, list):
        return [a[idx] for a in x]
    return x[idx]


def check_lengths(x: Any, y: Any, sample_weight: Any = None) -> None:
    n = num_samples(x)
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None and num_samples(value) != n:
            raise ValueError(f"x has {n} samples but {name} has {num_samples(value)}; "
                             "they must have the same number of rows")
    if isinstance(x, list) and any(len(a) != n for a in x):
        raise ValueError(f"the model's inputs have different numbers of samples: "
                         f"{[len(a) for a in x]}")


def validation_split(x: Any, y: Any, sw: Any, split: float,
                     rng: np.random.Generator) -> tuple[tuple, tuple]:
    """A seeded shuffled split: ``split`` of the samples for validation, the rest for training
    (not Keras's last rows, which are often one class when data are sorted)."""
    if not 0.0 < split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {split}")
    n = num_samples(x)
    order = rng.permutation(n)
    n_val = int(round(n * split))
    if n_val == 0 or n_val == n:
        raise ValueError(f"validation_split={split} of {n} samples leaves an empty set")
    val, train = order[:n_val], order[n_val:]
    return ((take(x, train), take(y, train), take(sw, train)),
            (take(x, val), take(y, val), take(sw, val)))


def class_sample_weights(y: np.ndarray, class_weight: dict[int, float]) -> np.ndarray:
    """One weight per sample from its class (sparse labels (N,), (N, 1), or one-hot)."""
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    table = np.ones(int(max(labels.max(), max(class_weight))) + 1, dtype=np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[labels.astype(np.int64)]


def batch_size_or_default(batch_size: Any) -> int:
    """``batch_size`` checked; None means 32, as in Keras."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def batches(x: Any, y: Any = None, sw: Any = None, batch_size: int = 32, shuffle: bool = False,
            rng: np.random.Generator | None = None) -> Iterator[tuple[Any, Any, Any]]:
    """Minibatches of (x, y, sample_weight), in order or shuffled; the last may be smaller."""
    n = num_samples(x)
    if batch_size is None or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    order = rng.permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size] if shuffle else slice(start, start + batch_size)
        yield take(x, idx), take(y, idx), take(sw, idx)


def unpack(data: Any) -> tuple[Any, Any, Any]:
    """(x, y[, sample_weight]) from a tuple as Keras accepts for validation_data."""
    if not isinstance(data, tuple) or len(data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x, y) or (x, y, sample_weight)")
    return _as_arrays(data[0]), _as_arrays(data[1]), _as_arrays(data[2] if len(data) == 3
                                                                 else None)
