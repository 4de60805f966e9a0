"""Batching: ``DataLoader`` cuts arrays (or lists of arrays, for multi-input models) into
minibatches, shuffled afresh each epoch from a seeded stream, with an optional ``map_fn`` for
augmentation. ``Model.fit``, ``evaluate`` and ``predict`` accept one (or any re-iterable that
yields ``(x, y[, sample_weight])`` batches) beside arrays, and turn arrays into one themselves.

The batch protocol is Keras's: a tuple or a list is ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)`` (a PyTorch DataLoader yields ``[x, y]``); anything else (an array, a
dict) is ``x`` alone. The inputs of a multi-input model are therefore a list inside the batch:
``([x1, x2], y)``, or ``([x1, x2],)`` without targets, as a DataLoader yields them.

A PyTorch-style data set (any object with ``__len__`` and ``__getitem__`` giving one sample,
a ``TensorDataset``, or a list of ``(x, y)`` tuples) is read a sample at a time and the samples
stacked into batches, as torch's DataLoader does.

>>> loader = DataLoader(x_train, y_train, batch_size=64, shuffle=True, seed=0)
>>> model.fit(loader, epochs=5, validation_data=DataLoader(x_val, y_val, batch_size=256))
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import backend
from .._checks import positive_int
from ..autograd import Tensor


def as_arrays(x: Any) -> Any:
    """``x`` as a NumPy array, or a list of arrays for a list or tuple (multi-input), or a dict
    of arrays for a dict (inputs by name, which the model orders); Tensors give their data.
    None stays None."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {key: np.asarray(getattr(a, "data", a)) for key, a in x.items()}
    if isinstance(x, (list, tuple)):
        return [np.asarray(getattr(a, "data", a)) for a in x]
    return np.asarray(getattr(x, "data", x))


def as_tensors(batch: Any) -> Any:
    """A batch's numeric arrays as Tensors (no copy), in its tuples, lists and dicts; arrays
    of strings stay arrays (no op takes them)."""
    if isinstance(batch, dict):
        return {key: as_tensors(v) for key, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(as_tensors(v) for v in batch)
    if isinstance(batch, (np.ndarray, np.generic)) and batch.dtype.kind in "biufc":
        return Tensor._wrap(np.asarray(batch))  # a NumPy scalar: an unbatched sample's label
    return batch


def _parts(x: Any, name: str) -> list[tuple[str, Any]]:
    """The arrays of an array, a list or a dict (a model's several inputs, outputs or
    per-output weights), each with its name for messages: ``x``, ``x[1]``, ``x['age']``."""
    if isinstance(x, dict):
        return [(f"{name}[{key!r}]", a) for key, a in x.items()]
    if isinstance(x, list):
        return [(f"{name}[{i}]", a) for i, a in enumerate(x)]
    return [(name, x)]


def num_samples(x: Any) -> int:
    """The number of rows of an array, or of the first array of a list or dict."""
    if x is None:
        raise ValueError("x is None: give the inputs (an array, a list or dict of arrays, a "
                         "DataLoader or a dataset)")
    parts = _parts(x, "x")
    if not parts:
        raise ValueError(f"x is an empty {type(x).__name__}: give it the arrays of the inputs")
    return len(parts[0][1])


def _structured(fn: Callable[[Any], Any], x: Any) -> Any:
    """``fn`` of an array, or of each array in a list or dict (None stays None)."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {key: fn(a) for key, a in x.items()}
    return [fn(a) for a in x] if isinstance(x, list) else fn(x)


def _copied(x: Any) -> Any:
    """A copy of an array, or of each array in a list or dict (None stays None)."""
    return _structured(lambda a: a.copy(), x)


def take(x: Any, idx: Any) -> Any:
    """Rows ``idx`` of an array or of each array in a list or dict."""
    return _structured(lambda a: a[idx], x)


def check_lengths(x: Any, y: Any, sample_weight: Any = None) -> None:
    """ValueError unless x, y and sample_weight have the same rows, each array of a list or
    dict (a model's several inputs, outputs or per-output weights) included."""
    n = num_samples(x)
    if any(len(a) != n for _, a in _parts(x, "x")):
        counts = ", ".join(f"{where} has {len(a)}" for where, a in _parts(x, "x"))
        raise ValueError(f"the model's inputs have different numbers of samples: {counts}")
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        for where, a in _parts(value, name):
            if a is not None and len(a) != n:
                raise ValueError(f"x has {n} samples but {where} has {len(a)}; they must have "
                                 "the same number of rows")


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from one batch as Keras 3's ``keras.utils`` function: a tuple
    or list of 1 to 3 items is (x[, y[, sample_weight]]); anything else is x alone. The items
    are returned as they are (``unpack_batch`` makes them arrays)."""
    if not isinstance(data, (tuple, list)):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"a batch must be x, (x,), (x, y) or (x, y, sample_weight); got a "
                         f"{type(data).__name__} of {len(data)} items (the inputs of a "
                         "multi-input model go in one list: ([x1, x2, ...], y))")
    return (*data, *(None,) * (3 - len(data)))


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """One batch as Keras packs it for ``train_step(data)``: ``(x, y)``, ``(x, y,
    sample_weight)``, or ``x`` alone without targets (``(x,)`` when x is a list or tuple,
    which alone would read as ``(x, y)``)."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_batch(batch: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from one batch (``unpack_x_y_sample_weight``), as arrays."""
    x, y, sw = unpack_x_y_sample_weight(batch)
    return as_arrays(x), as_arrays(y), as_arrays(sw)


def adapt_batches(data: Any, single: tuple[type, ...] = ()) -> Any:
    """What a preprocessing layer's ``adapt`` reads: ``data`` itself when it is one array (an
    ndarray, Tensor, list, anything with ``__array__``, or one of the types ``single``), else the
    inputs of each batch of an iterable of batches (a dataset, a loader, (x, y) tuples)."""
    if isinstance(data, (np.ndarray, Tensor, list, *single)) or hasattr(data, "__array__"):
        return [data]
    return (unpack_batch(b)[0] for b in data)


_DROPPED = object()  # the targets of batches after .map(lambda x, y: x)


class TensorDataset:
    """torch's ``TensorDataset``: tensors (or arrays) of as many samples each, sample ``i``
    the tuple of their rows ``i``. A DataLoader slices them whole, not a sample at a time.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(np.asarray(getattr(t, "data", t)) for t in tensors)
        sizes = [len(t) if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: the tensors must have the same first size, got "
                             f"shapes {[t.shape for t in self.tensors]}")

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


def _is_sample_dataset(x: Any) -> bool:
    """Whether ``x`` holds samples one by one, as torch's map-style Dataset (``__len__`` and
    ``__getitem__`` of a sample) or a list of ``(x, y)`` tuples, rather than arrays. NumPy
    would read such an object through ``__getitem__`` until an IndexError, forever for one
    that wraps its index."""
    if isinstance(x, list):
        return bool(x) and all(isinstance(v, tuple) for v in x)
    return (hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(
        x, (np.ndarray, Tensor, tuple, dict, str, bytes, PyDataset)) and not any(
        hasattr(x, a) for a in ("__array__", "__array_interface__", "__cuda_array_interface__"))
        and not _has_buffer(x))  # arrays: a torch tensor, array.array


def _has_buffer(x: Any) -> bool:
    """Whether ``x`` exposes its memory (array.array, memoryview): NumPy reads it as an array."""
    try:
        memoryview(x)
    except TypeError:
        return False
    return True


def collate(samples: list[Any]) -> Any:
    """Samples stacked into a batch, field by field (torch's ``default_collate``): tuples and
    lists give a tuple of stacked fields, dicts a dict, arrays and numbers one array with the
    samples first."""
    first = samples[0]
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(not isinstance(s, (tuple, list)) or len(s) != len(first) for s in samples):
            raise ValueError(f"the samples of a batch differ in structure: {len(first)} "
                             f"fields in the first, {samples[-1]!r:.60} in another")
        return tuple(collate(list(fields)) for fields in zip(*samples))
    arrays = [np.asarray(getattr(s, "data", s)) for s in samples]
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = {a.shape for a in arrays}
        if len(shapes) == 1:
            raise
        raise ValueError(f"the samples of a batch differ in shape: {sorted(shapes)}; give "
                         "samples of one shape (pad or resize them), or batch_size=None"
                         ) from None  # (NumPy's own message names no shapes)


def _unbatched(sample: Any) -> Any:
    """One sample's fields as arrays, in the structure :func:`collate` gives a batch."""
    if isinstance(sample, dict):
        return {key: _unbatched(v) for key, v in sample.items()}
    if isinstance(sample, (tuple, list)):
        return tuple(_unbatched(v) for v in sample)
    return np.asarray(getattr(sample, "data", sample))


class DataLoader:
    """Minibatches of ``x`` (and ``y``, ``sample_weight``), in order or shuffled each epoch.

    Args:
        x: an array (samples first), or a list or dict of arrays for a multi-input model;
            or a data set of samples (see above), which then gives the targets too.
        y: the targets (an array, or a list of arrays), or None.
        batch_size: samples per batch; the last may be smaller (see ``drop_last``). None yields
            single samples, unbatched (Keras's ``batch_size=None`` for image datasets).
        shuffle: draw a new permutation at the start of each pass.
        drop_last: leave out the last, incomplete batch.
        seed: an int, a ``numpy.random.Generator``, or None for a stream spawned from
            ``shenjing.utils.set_random_seed``'s root (reproducible after seeding). Each pass
            draws the next permutation from it: epochs differ, runs repeat.
        map_fn: ``map_fn(x_batch, y_batch) -> (x_batch, y_batch)`` applied to each batch after
            slicing (augmentation, decoding, casting). Sample weights pass through unchanged.
        sample_weight: one weight per sample, or None.

    Iterating yields ``(x, y)`` (or ``(x, y, sample_weight)`` when weights are given), or ``x``
    alone when ``y`` is None (``(x,)`` for a list of inputs, which alone would read as
    ``(x, y)``). Numeric batches are Tensors over the sliced arrays (as PyTorch's DataLoader
    and tf.data yield tensors: ``batch.numpy()``); ``map_fn`` works on the arrays.
    ``len(loader)`` is the number of batches per pass.

    >>> loader = DataLoader(np.arange(10.0)[:, None], np.arange(10), batch_size=4)
    >>> [xb.shape[0] for xb, yb in loader]
    [4, 4, 2]
    """

    def __init__(self, x: Any, y: Any = None, batch_size: int | None = 32,
                 shuffle: bool = False, drop_last: bool = False,
                 seed: int | np.random.Generator | None = None,
                 map_fn: Callable[[Any, Any], tuple[Any, Any]] | None = None,
                 sample_weight: Any = None) -> None:
        positive_int(batch_size, "batch_size", optional=True)
        if map_fn is not None and not callable(map_fn):
            raise TypeError(f"map_fn must be callable, got {type(map_fn).__name__}")
        if x is None:
            raise ValueError("DataLoader needs x (an array, or a list or dict of arrays)")
        if isinstance(x, PyDataset):
            raise TypeError("a PyDataset yields whole batches: give it to fit itself, not to a "
                            "DataLoader")
        self._samples = None
        if isinstance(x, TensorDataset) and len(x.tensors) <= 3:
            x, y, sample_weight = (*x.tensors, None, None)[:3]
        elif _is_sample_dataset(x):
            if y is not None or sample_weight is not None:
                raise ValueError("a data set of samples gives its targets (and weights) in its "
                                 "samples: pass no y or sample_weight beside it")
            self._samples, x = x, []
        self.x, self.y, self.sample_weight = as_arrays(x), as_arrays(y), as_arrays(sample_weight)
        if self._samples is None:
            check_lengths(self.x, self.y, self.sample_weight)
        self.batch_size = None if batch_size is None else int(batch_size)
        self._shuffle, self.drop_last, self.map_fn = bool(shuffle), bool(drop_last), map_fn
        # default_rng returns a Generator given one, so fit can share its stream with the split
        self._rng = backend.new_generator() if seed is None else np.random.default_rng(seed)

    @property
    def num_samples(self) -> int:
        return num_samples(self.x) if self._samples is None else len(self._samples)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        whole, rest = divmod(self.num_samples, self.batch_size)
        return whole + (1 if rest and not self.drop_last else 0)

    @property
    def from_samples(self) -> bool:
        """Whether the data is a data set of samples (read one by one), not arrays."""
        return self._samples is not None

    def as_arrays(self) -> tuple[Any, ...]:
        """The data as given: ``(x, y)``, or ``(x, y, sample_weight)`` when weights were given
        (no shuffling, no ``map_fn``); a data set of samples read whole and collated, its
        fields as its samples hold them."""
        if self._samples is not None:
            fields = collate([self._samples[i] for i in range(len(self._samples))])
            return fields if isinstance(fields, tuple) else (fields, None)
        if self.sample_weight is None:
            return self.x, self.y
        return self.x, self.y, self.sample_weight

    def __iter__(self) -> Iterator[Any]:
        n = self.num_samples
        order = self._rng.permutation(n) if self._shuffle else None
        if self.batch_size is None:
            indices: Any = order if order is not None else range(n)
        else:
            stop = n - n % self.batch_size if self.drop_last else n
            starts = range(0, stop, self.batch_size)
            indices = (slice(s, s + self.batch_size) if order is None
                       else order[s:s + self.batch_size] for s in starts)
        for idx in indices:
            yield as_tensors(self._batch(idx))

    def _batch(self, idx: Any) -> Any:
        if self._samples is not None:
            return self._batch_of_samples(idx)
        xb, yb, swb = take(self.x, idx), take(self.y, idx), take(self.sample_weight, idx)
        if self.map_fn is not None:
            if not isinstance(idx, np.ndarray):  # a slice or a row is a view of the data set,
                xb, yb = _copied(xb), _copied(yb)  # which a map_fn working in place would alter
            out = self.map_fn(xb, yb)
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError("map_fn(x_batch, y_batch) must return a tuple (x_batch, "
                                f"y_batch), got {type(out).__name__}")
            xb, yb = out
        if yb is _DROPPED or (yb is None and self.y is None):
            return (xb,) if isinstance(xb, list) else xb  # a bare list would read as (x, y)
        return (xb, yb) if swb is None else (xb, yb, swb)

    def _batch_of_samples(self, idx: Any) -> Any:
        """The samples at ``idx`` (a slice, positions, or one position when unbatched) from
        the data set, stacked, then ``map_fn`` on their ``(x, y)``."""
        if isinstance(idx, slice):
            idx = range(*idx.indices(len(self._samples)))
        batch = (_unbatched(self._samples[int(idx)]) if np.ndim(idx) == 0 else
                 collate([self._samples[int(i)] for i in idx]))
        if self.map_fn is None:
            return batch
        xb, yb, swb = unpack_x_y_sample_weight(batch)
        xb, yb = self.map_fn(xb, yb)
        return xb if yb is _DROPPED or yb is None else pack_x_y_sample_weight(xb, yb, swb)

    def map(self, fn: Callable[..., Any]) -> DataLoader:
        """A copy of this loader that also applies ``fn`` to each batch (tf.data's
        ``Dataset.map`` on the (x, y) batches ``image_dataset_from_directory`` returns):
        ``fn(x, y) -> (x, y)``, or ``fn(x) -> x`` when there are no targets; after any
        ``map_fn`` already set. The data are shared, not copied.

        >>> train = train.map(lambda x, y: (x / 255.0, y))
        """
        if not callable(fn):
            raise TypeError(f"map needs a callable, got {type(fn).__name__}")

        def step(x: Any, y: Any) -> tuple[Any, Any]:
            if y is None or y is _DROPPED:  # no targets (left): fn(x) -> x
                return fn(x), y
            out = fn(x, y)  # fn(x, y) -> (x, y), or -> x, dropping the targets (tf.data's
            # ds.map(lambda x, y: x), as Keras's text tutorial feeds TextVectorization.adapt)
            return out if isinstance(out, tuple) and len(out) == 2 else (out, _DROPPED)

        previous = self.map_fn
        mapped = copy.copy(self)
        mapped.map_fn = step if previous is None else (lambda x, y: step(*previous(x, y)))
        return mapped

    def as_dataset(self) -> Any:
        """This loader as a ``tf.data.Dataset`` whose elements are its batches (the same
        order, shuffling and map). tf.data's other methods (``take``, ``cache``, ``shuffle``,
        ``unbatch``, ``filter``, ...) act on it, so ``for images, labels in train_ds.take(1)`` and
        ``train_ds.cache().shuffle(1000).prefetch(AUTOTUNE)`` run on what
        ``image_dataset_from_directory`` returns."""
        from .dataset import Dataset

        return Dataset._of_batches(lambda: iter(self), len(self))

    def prefetch(self, buffer_size: Any = None) -> DataLoader:
        """tf.data's ``prefetch``, accepted so Keras pipelines (``ds.prefetch(AUTOTUNE)``) run
        unchanged: a no-op here (batches are slices of arrays already in memory); returns
        this loader."""
        return self

    def __repr__(self) -> str:
        return (f"<DataLoader samples={self.num_samples} batch_size={self.batch_size} "
                f"batches={len(self)} shuffle={self._shuffle}>")


def _via_dataset(name: str) -> Callable[..., Any]:
    def method(self: DataLoader, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.as_dataset(), name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"tf.data's ``{name}`` on :meth:`DataLoader.as_dataset`."
    return method


for _name in ("take", "skip", "cache", "shuffle", "unbatch", "batch", "filter", "repeat",
              "enumerate", "concatenate", "cardinality", "as_numpy_iterator", "apply"):
    setattr(DataLoader, _name, _via_dataset(_name))


class PyDataset:
    """Keras's ``keras.utils.PyDataset`` (also ``keras.utils.Sequence``): subclass it with
    ``__len__`` (the number of batches) and ``__getitem__(index)`` returning one whole batch,
    ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, and pass it to ``fit``, ``evaluate`` or
    ``predict`` (no ``batch_size``: the batches are yours). ``on_epoch_end`` runs after each
    pass; ``fit(shuffle=True)`` visits the batches in a new order each epoch, as Keras does.

    Args:
        workers, use_multiprocessing, max_queue_size: Keras's parallel loading options,
            accepted and kept; batches are loaded in the training thread here.

    >>> class Batches(PyDataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self) -> int | None:
        """``len(self)``, or None for a dataset without an end (then give ``steps_per_epoch``)."""
        return len(self) if hasattr(self, "__len__") else None  # type: ignore[arg-type]

    def on_epoch_begin(self) -> None:
        """Called before each pass."""

    def on_epoch_end(self) -> None:
        """Called after each complete pass (to reshuffle or augment the data between epochs)."""

    def __iter__(self) -> Iterator[Any]:
        return self.batches()

    def batches(self, rng: np.random.Generator | None = None) -> Iterator[Any]:
        """One pass: the batches in order, or in an order drawn from ``rng``."""
        self.on_epoch_begin()
        n = self.num_batches
        order: Any = itertools.count() if n is None else (
            range(n) if rng is None else rng.permutation(n))
        for index in order:
            yield self[int(index)]
        self.on_epoch_end()


class ShuffledBatches:
    """A PyDataset's batches, in a new order at each pass (``fit(shuffle=True)``)."""

    def __init__(self, dataset: PyDataset, rng: np.random.Generator) -> None:
        self.dataset, self.rng = dataset, rng

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        return self.dataset.batches(self.rng)
