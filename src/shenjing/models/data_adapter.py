"""Turning ``fit``/``evaluate``/``predict`` arguments into batches: arrays (or lists of arrays
for multi-input or multi-output models) become a ``DataLoader``; a DataLoader, or any
re-iterable of ``(x, y[, sample_weight])`` batches, is used as it is. Also Keras's validation
split and class weights."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._checks import positive_int
from ..autograd import Tensor
from ..data.loader import (  # noqa: F401 - re-exported for Model
    DataLoader,
    PyDataset,
    ShuffledBatches,
    as_arrays,
    check_lengths,
    num_samples,
    pack_x_y_sample_weight,
    take,
    unpack_batch,
    unpack_x_y_sample_weight,
)


def is_batch_source(x: Any) -> bool:
    """Whether ``x`` yields batches itself (a DataLoader, or any iterable of (x, y[, sw])
    batches) rather than being the data (an array, a list of arrays, a Tensor)."""
    if isinstance(x, DataLoader):
        return True
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, Tensor, str, bytes)) \
            or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__")


def as_loader(x: Any, y: Any = None, sw: Any = None, batch_size: int = 32,
              shuffle: bool = False, rng: np.random.Generator | None = None) -> Any:
    """The batches of ``x``: ``x`` itself if it is a batch source (y and sample_weight then come
    from its batches), else a DataLoader over the arrays."""
    if is_batch_source(x):
        for name, value in (("y", y), ("sample_weight", sw)):
            if value is not None:
                raise ValueError(f"{name} must not be given when x is a {type(x).__name__}: "
                                 "its batches carry (x, y[, sample_weight])")
        return x
    x, y, sw = as_arrays(x), as_arrays(y), as_arrays(sw)
    check_lengths(x, y, sw)
    return DataLoader(x, y, batch_size=batch_size, shuffle=shuffle, seed=rng, sample_weight=sw)


def check_numeric(x: Any, y: Any = None, sw: Any = None, text_inputs: bool = False) -> None:
    """TypeError naming the argument (x, y or sample_weight) whose array holds strings, which
    no layer or loss can take; ``text_inputs``: the model has a string Input (a StringLookup's
    or TextVectorization's), so x may hold strings."""
    for name, value in (("x", None if text_inputs else x), ("y", y), ("sample_weight", sw)):
        for a in value if isinstance(value, list) else (
                value.values() if isinstance(value, dict) else [value]):
            if a is not None and (a.dtype.kind in "US" or a.dtype.kind == "O" and a.size
                                  and isinstance(a.flat[0], (str, bytes))):
                raise TypeError(f"{name} holds strings (dtype {a.dtype}), but the model takes "
                                "numbers: encode them first (string class labels as integer "
                                "ids, e.g. np.unique(labels, return_inverse=True)[1])")
            if a is not None and a.dtype.kind == "c":  # no gradient reaches a complex weight
                raise TypeError(f"{name} holds complex numbers (dtype {a.dtype}), but the "
                                "model takes real ones: pass their real part, magnitude or "
                                "both as features (np.abs(z), z.real, z.imag)")


def nonfinite_report(x: Any, y: Any = None, sw: Any = None) -> str:
    """Where one batch's inputs, targets or sample weights hold NaN or inf ('' if nowhere), for
    the message of a non-finite loss. Run only once the loss is non-finite, never per batch."""
    found = []
    for name, value in (("x", x), ("y", y), ("sample_weight", sw)):
        items = value.items() if isinstance(value, dict) else (
            enumerate(value) if isinstance(value, (list, tuple)) else [(None, value)])
        for key, a in items:
            a = np.asarray(getattr(a, "data", a)) if a is not None else None
            if a is None or a.dtype.kind not in "fc" or a.size == 0:
                continue
            bad = ~np.isfinite(a)
            if bad.any():
                rows = np.flatnonzero(bad.reshape(len(a), -1).any(axis=1) if a.ndim else bad)
                shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
                where = name if key is None else f"{name}[{key!r}]"
                counts = " and ".join(f"{n} {kind}" for n, kind in (
                    (int(np.isnan(a).sum()), "NaN"), (int(np.isinf(a).sum()), "inf")) if n)
                found.append(f"{where} holds {counts}, in batch row(s) {shown} (from 0, of "
                             f"{len(a)})" if a.ndim else f"{where} is {a}")
    return "; ".join(found)


def steps_of(data: Any, limit: int | None = None) -> int | None:
    """Batches per pass, at most ``limit``; ``limit`` when ``data`` does not know (a
    generator)."""
    try:
        n = len(data)
    except TypeError:
        return limit
    return n if limit is None else min(n, limit)


def first_rows(data: Any, text_inputs: bool = False) -> Any:
    """One row of the inputs, to build a model before training, when known without drawing a
    batch (a DataLoader without map_fn); else None, and the first batch builds it."""
    if (isinstance(data, DataLoader) and data.map_fn is None and data.num_samples
            and not data.from_samples):
        check_numeric(data.x, text_inputs=text_inputs)
        return take(data.x, slice(0, 1))
    return None


def is_infinite(data: Any) -> bool:
    """Whether ``data`` is a tf.data-style dataset whose ``cardinality()`` says infinite (-1)."""
    cardinality = getattr(data, "cardinality", None)
    return callable(cardinality) and int(cardinality()) == -1


def iterate(data: Any, class_weight: dict[int, float] | None = None, steps: int | None = None,
            order: Any = None, text_inputs: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """(x, y, sample_weight) for each batch of ``data`` (the first ``steps`` if given), with
    class weights applied; ``order(x, y, sw)`` (the model's) turns a batch's dicts keyed by
    input or output name into lists. Every source passes here, so this is where string data
    are caught (a few attribute reads per batch)."""
    if steps is None and is_infinite(data):
        raise ValueError("the data is an infinite dataset (repeat() without a count), so a pass "
                         "never ends: give fit steps_per_epoch (and validation_steps for "
                         "validation_data), or evaluate and predict steps")
    for batch in itertools.islice(data, steps):
        x, y, sw = unpack_batch(batch)
        if order is not None and any(isinstance(v, dict) for v in (x, y, sw)):
            x, y, sw = order(x, y, sw)
        check_numeric(x, y, sw, text_inputs)
        yield x, y, with_class_weights(y, sw, class_weight)


def passes(data: Any) -> Iterator[Any]:
    """The batches of ``data`` pass after pass, for ``steps_per_epoch`` (Keras's): each epoch
    continues where the last one stopped. A one-pass iterator (a generator) ends when used up."""
    while True:
        drawn = 0
        for batch in data:
            drawn += 1
            yield batch
        if drawn == 0 or iter(data) is data:
            return


def validation_split(x: Any, y: Any, sw: Any, split: float) -> tuple[tuple, tuple]:
    """Keras's split: the last ``split`` of the samples (``floor(n * (1 - split))`` on) for
    validation, the rest for training, taken before any shuffling, so results can be compared
    with Keras's. Sorted data (one class at the end) should be shuffled by the caller first."""
    if not 0.0 < split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {split}")
    n = num_samples(x)
    split_at = int(math.floor(n * (1.0 - split)))
    if split_at in (0, n):
        raise ValueError(f"validation_split={split} of {n} samples leaves an empty training or "
                         "validation set: give more data or another validation_split")
    train, val = slice(0, split_at), slice(split_at, n)
    return ((take(x, train), take(y, train), take(sw, train)),
            (take(x, val), take(y, val), take(sw, val)))


def with_class_weights(y: Any, sw: Any, class_weight: dict[int, float] | None) -> Any:
    """``sw`` times each sample's class weight (``sw`` itself without class weights)."""
    if class_weight is None:
        return sw
    if isinstance(y, list):
        raise ValueError(f"class_weight is not supported for a model with {len(y)} outputs "
                         "(nor in Keras): weight the samples with sample_weight instead")
    weights = class_sample_weights(y, class_weight)
    return weights if sw is None else sw * weights


def class_sample_weights(y: np.ndarray, class_weight: dict[int, float]) -> np.ndarray:
    """One weight per sample from its class (sparse labels (N,), (N, 1), or one-hot)."""
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    labels = np.rint(labels).astype(np.int64)  # soft labels: the nearest class, as Keras
    if labels.size and labels.min() < 0:
        raise ValueError(f"class_weight needs class ids of 0 or more, got {labels.min()}")
    table = np.ones(int(max(labels.max(initial=0), max(class_weight))) + 1, dtype=np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[labels]


def batch_size_or_default(batch_size: Any) -> int:
    """``batch_size`` checked; None means 32, as in Keras."""
    return 32 if batch_size is None else positive_int(batch_size, "batch_size")


def steps_or_none(steps: Any, name: str) -> int | None:
    """A count of batches (``steps_per_epoch``, ``validation_steps``, ``steps``) checked; None
    means all of them."""
    return None if steps is None else positive_int(steps, name)


def validation_loader(data: Any, batch_size: int) -> Any:
    """The batches of ``validation_data``: a tuple (x, y[, sample_weight]) as Keras accepts,
    or a batch source."""
    if is_batch_source(data):
        return data
    if not isinstance(data, tuple) or len(data) not in (2, 3):
        got = f"a {type(data).__name__}" + (
            f" of {len(data)} item(s)" if isinstance(data, (tuple, list, dict)) else
            f" of shape {data.shape} (the targets are missing?)" if hasattr(data, "shape")
            else "")
        raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"sample_weight), or a DataLoader of such batches; got {got}")
    return as_loader(*data, batch_size=batch_size)


def check_epochs(epochs: Any, initial_epoch: Any) -> None:
    """ValueError unless 0 <= initial_epoch <= epochs (integers). ``epochs`` is the index of
    the last epoch, not a count of more epochs (Keras's): resuming after epoch 5 to train 3
    more is ``initial_epoch=5, epochs=8``."""
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if initial_epoch > epochs:
        raise ValueError(f"initial_epoch={initial_epoch} is past epochs={epochs}, so fit would "
                         "train nothing: epochs is the number of the last epoch, not how many "
                         f"more to train (Keras's); for {epochs} more, pass "
                         f"epochs={initial_epoch + epochs}")


def check_class_weight(class_weight: Any) -> None:
    """TypeError or ValueError unless ``class_weight`` maps class ids (integers >= 0) to
    finite weights >= 0, as ``class_sample_weights`` needs."""
    if class_weight is None:
        return
    if not isinstance(class_weight, dict):
        raise TypeError("class_weight must be a dict {class id: weight}, e.g. {0: 1.0, 1: 5.0}; "
                        f"got {type(class_weight).__name__}")
    for k, w in class_weight.items():
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer, float,
                                                                  np.floating)) \
                or not float(k).is_integer() or k < 0:
            raise ValueError(f"class_weight has the key {k!r}, but its keys must be class ids "
                             "(integers >= 0, the labels y holds), e.g. {0: 1.0, 1: 5.0}; map "
                             "class names to ids first")
        if not isinstance(w, (int, float, np.integer, np.floating)) or not math.isfinite(w) \
                or w < 0:
            raise ValueError(f"class_weight[{k!r}] is {w!r}; a weight must be a finite "
                             "number >= 0")
