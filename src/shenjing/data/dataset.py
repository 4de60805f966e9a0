"""TensorFlow's ``tf.data.Dataset`` for the input pipelines of Keras code written for the
TensorFlow backend (``import shenjing as tf``)::

    ds = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    ds = ds.shuffle(buffer_size=1024).batch(64).prefetch(tf.data.AUTOTUNE)
    model.fit(ds, epochs=3, validation_data=val_ds)

A dataset is an immutable, re-iterable recipe; iterating it yields shenjing Tensors (TensorFlow
yields EagerTensors) in the element's structure (tuples and dicts, nested). Inside, elements are
NumPy arrays. A dataset made of rows of in-memory arrays (``from_tensor_slices``, then any of
``shuffle``, ``take``, ``skip``, ``repeat``, ``cache``) is kept as those arrays and a stream of
index blocks, so ``batch`` gathers a whole batch with one fancy index per array and an
unbuffered or full shuffle is one permutation; Python touches single elements only where a
user's ``map`` or ``filter`` needs them.

Differences from TensorFlow: functions run eagerly on Tensors (no tracing), in order, on the
calling thread (``num_parallel_calls`` and ``prefetch`` are accepted and change nothing);
``cache(filename)`` caches in memory; strings stay ``str`` (TensorFlow gives ``bytes``).
"""

from __future__ import annotations

import itertools
import os
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import backend
from .._checks import positive_int
from .._nest import flatten, map_structure, pack
from ..autograd import Tensor
from ._elements import (
    _from_fn,
    _normalized,
    _padded,
    _per_component,
    _shape_of,
    _stacked,
)
from ._passes import (
    Blocks,
    _buffer_shuffled,
    _Cache,
    _rechunked,
    _repeated,
    _rows,
    _shuffled_blocks,
    _skip_blocks,
    _take_blocks,
    _windows,
)

AUTOTUNE = -1  # tf.data.AUTOTUNE: let the runtime choose (here: nothing to choose)
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


# -- elements as Tensors ----------------------------------------------------------------------
def _to_tensors(element: Any) -> Any:
    """An element's arrays as Tensors (the datasets of a ``window`` element stay datasets)."""
    return map_structure(lambda leaf: leaf if isinstance(leaf, Dataset) else Tensor._wrap(leaf),
                         element)


def _numpy_value(a: np.ndarray) -> Any:
    return a[()] if a.ndim == 0 else a  # a scalar is a NumPy scalar, as Tensor.numpy() in TF


def _call(fn: Callable[..., Any], element: Any) -> Any:
    """``fn`` on an element's Tensors: a tuple's components as separate arguments (TF's
    ``map`` and ``filter``), anything else as one."""
    tensors = _to_tensors(element)
    return fn(*tensors) if isinstance(tensors, tuple) else fn(tensors)


# -- arguments --------------------------------------------------------------------------------
def _int_arg(value: Any, name: str, low: int) -> int:
    """``value`` (an int, NumPy integer or integer scalar Tensor) as an int >= ``low``; else an
    error naming ``name``."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.data[()]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _positive_arg(value: Any, name: str) -> int:
    """``value`` (an int, NumPy integer or integer scalar Tensor, as tf.data takes them:
    ``ds.shuffle(ds.cardinality())``) as a positive int; else an error naming ``name``."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.data[()]
    return positive_int(value, name)


def _windows_of(n: int, span: int, shift: int, drop_remainder: bool) -> int:
    """How many windows ``window`` makes of ``n`` elements (infinite and unknown stay so): one
    starts every ``shift``; with ``drop_remainder`` only those that ``span`` elements fill."""
    if n < 0:
        return n
    if drop_remainder:
        return (n - span) // shift + 1 if n >= span else 0
    return -(-n // shift)


def _callable_arg(fn: Any, method: str) -> Callable[..., Any]:
    if not callable(fn):
        raise TypeError(f"{method} needs a function, got {type(fn).__name__}")
    return fn


def _check_parallel_calls(num_parallel_calls: Any) -> None:
    if num_parallel_calls is not None and num_parallel_calls != AUTOTUNE:
        positive_int(num_parallel_calls, "num_parallel_calls (None, AUTOTUNE or)")



class Dataset:
    """A re-iterable sequence of elements, built by the class methods below and transformed by
    the methods (each returns a new dataset): TensorFlow's ``tf.data.Dataset``.

    ``len(ds)`` is the number of elements when known (TypeError for an infinite or unknown
    one, as in TF); ``cardinality()`` gives it as an int64 Tensor, with
    ``INFINITE_CARDINALITY`` (-1) and ``UNKNOWN_CARDINALITY`` (-2).

    >>> ds = Dataset.from_tensor_slices((np.arange(5.0), np.arange(5))).batch(2)
    >>> [len(x) for x, y in ds]
    [2, 2, 1]
    """

    def __init__(self, elements: Callable[[], Iterator[Any]], cardinality: int,
                 rows: tuple[Any, Blocks] | None = None) -> None:
        # elements() starts a pass over the elements (NumPy structures); rows, for datasets
        # of array rows, is (the arrays' structure, blocks() starting a pass of row indices)
        self._elements, self._cardinality, self._source = elements, cardinality, rows

    @classmethod
    def _of_rows(cls, data: Any, blocks: Blocks, cardinality: int) -> Dataset:
        leaves = flatten(data)

        def elements() -> Iterator[Any]:
            for block in blocks():
                taken = _rows(leaves, block)  # one gather (a copy) per block, then views of it
                for i in range(len(block)):
                    yield pack(data, [a[i, ...] for a in taken])

        return cls(elements, cardinality, (data, blocks))

    @classmethod
    def _of_batches(cls, batches: Callable[[], Iterator[Any]], cardinality: int) -> Dataset:
        """A dataset whose elements are the batches a ``DataLoader`` yields (Tensors or
        arrays), as after ``batch``: what a loader's tf.data methods act on."""
        def numpy(leaf: Any) -> Any:
            return np.asarray(getattr(leaf, "data", leaf))

        return cls(lambda: (map_structure(numpy, b) for b in batches()), cardinality)

    # -- sources ---------------------------------------------------------------------------
    @classmethod
    def from_tensor_slices(cls, tensors: Any, name: str | None = None) -> Dataset:
        """The slices of ``tensors`` along their first axis: element ``i`` holds row ``i`` of
        each array, in the same tuple/dict structure (a list is one array, as in TF)."""
        data = _normalized(tensors)
        leaves = flatten(data)
        if not leaves:
            raise ValueError("from_tensor_slices needs at least one array")
        for a in leaves:
            if a.ndim == 0:
                raise ValueError(f"from_tensor_slices needs arrays with a first axis to slice, "
                                 f"got a scalar of dtype {a.dtype}: use from_tensors")
        n = len(leaves[0])
        if any(len(a) != n for a in leaves):
            raise ValueError("from_tensor_slices needs arrays with the same first dimension, "
                             f"got shapes {[a.shape for a in leaves]}")
        return cls._of_rows(data, lambda: iter((np.arange(n),)), n)

    @classmethod
    def from_generator(cls, generator: Callable[..., Iterable[Any]], output_types: Any = None,
                       output_shapes: Any = None, args: Any = None,
                       output_signature: Any = None, name: str | None = None) -> Dataset:
        """The elements ``generator(*args)`` yields, called afresh for each pass. Each must
        match ``output_signature`` (a structure of :class:`TensorSpec`; or the older
        ``output_types`` with optional ``output_shapes``): it is converted to each spec's
        dtype, and a shape that does not match raises, naming the generator."""
        from ._generator import _generator_elements

        return cls(_generator_elements(generator, output_types, output_shapes, args,
                                       output_signature), UNKNOWN_CARDINALITY)

    @classmethod
    def from_tensors(cls, tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of one element, ``tensors`` as it is."""
        element = _normalized(tensors)
        return cls(lambda: iter((element,)), 1)

    @classmethod
    def range(cls, *args: int, output_type: Any = np.int64, name: str | None = None
              ) -> Dataset:
        """``range(stop)``, ``range(start, stop[, step])`` as Python's, as int64 scalars."""
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range takes 1 to 3 integers (start, stop, step), got {len(args)}")
        bounds = [_int_arg(a, "range's arguments", -2**63) for a in args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise ValueError("range's step must not be zero")
        steps = range(*bounds)
        dtype = np.dtype(output_type)
        return cls(lambda: (np.asarray(i, dtype=dtype) for i in steps), len(steps))

    @classmethod
    def zip(cls, *datasets: Any, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side, to the end of the shortest: ``zip(a, b)``
        or ``zip((a, b))`` yields tuples, ``zip({"x": a, "y": b})`` dicts (nested too)."""
        if not datasets:
            raise TypeError("zip needs datasets: zip(a, b) or zip((a, b))")
        structure = datasets[0] if len(datasets) == 1 else datasets
        members = flatten(structure)
        for d in members:
            if not isinstance(d, Dataset):
                raise TypeError(f"zip takes datasets, got a {type(d).__name__}")
        known = [d._cardinality for d in members if d._cardinality >= 0]
        if known:
            cardinality = min(known)
            if any(d._cardinality == UNKNOWN_CARDINALITY for d in members):
                cardinality = UNKNOWN_CARDINALITY if cardinality else 0
        else:
            cardinality = min(d._cardinality for d in members)  # unknown before infinite

        def elements() -> Iterator[Any]:
            for parts in zip(*(d._elements() for d in members)):
                yield pack(structure, list(parts))

        return cls(elements, cardinality)

    # -- the size ---------------------------------------------------------------------------
    def cardinality(self) -> Tensor:
        """The number of elements as an int64 scalar Tensor, or ``INFINITE_CARDINALITY`` or
        ``UNKNOWN_CARDINALITY`` (after ``filter``, ``unbatch``)."""
        return Tensor._wrap(np.asarray(self._cardinality, dtype=np.int64))

    def __len__(self) -> int:
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("the dataset is infinite")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("the dataset length is unknown")
        return self._cardinality

    def __bool__(self) -> bool:
        return True  # not len(): an infinite dataset is still a dataset

    # -- iteration --------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        """A pass over the elements as Tensors (a shuffled dataset reshuffles each pass)."""
        return (_to_tensors(e) for e in self._elements())

    def as_numpy_iterator(self) -> Iterator[Any]:
        """A pass over the elements as NumPy arrays (scalars as NumPy scalars)."""
        return (map_structure(_numpy_value, e) for e in self._elements())

    # -- transformations --------------------------------------------------------------------
    def map(self, map_func: Callable[..., Any], num_parallel_calls: int | None = None,
            deterministic: bool | None = None, name: str | None = None) -> Dataset:
        """``map_func`` applied to each element (each batch, after ``batch``); a tuple
        element's components are its arguments: ``ds.map(lambda x, y: (x / 255, y))``."""
        fn = _callable_arg(map_func, "map")
        _check_parallel_calls(num_parallel_calls)
        return Dataset(lambda: (_from_fn(_call(fn, e)) for e in self._elements()),
                       self._cardinality)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        """The elements for which ``predicate`` (called as ``map``'s function) is True."""
        fn = _callable_arg(predicate, "filter")

        def keep(element: Any) -> bool:
            verdict = np.asarray(getattr(out := _call(fn, element), "data", out))
            if verdict.shape != () or verdict.dtype != np.bool_:
                raise ValueError("filter's predicate must return a scalar boolean, got "
                                 f"{verdict.dtype} of shape {verdict.shape}")
            return bool(verdict)

        return Dataset(lambda: filter(keep, self._elements()), UNKNOWN_CARDINALITY)

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: int | None = None, deterministic: bool | None = None,
              name: str | None = None) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size`` along a new first
        axis; the last batch may be smaller unless ``drop_remainder``."""
        size = _positive_arg(batch_size, "batch_size")
        _check_parallel_calls(num_parallel_calls)
        n = self._cardinality
        cardinality = n if n < 0 else (n // size if drop_remainder else -(-n // size))
        if self._source is not None:
            data, blocks = self._source
            leaves = flatten(data)
            return Dataset(lambda: (pack(data, _rows(leaves, idx)) for idx in
                                    _rechunked(blocks(), size, drop_remainder)), cardinality)

        def elements() -> Iterator[Any]:
            it = self._elements()
            while chunk := list(itertools.islice(it, size)):
                if len(chunk) == size or not drop_remainder:
                    yield _stacked(chunk)

        return Dataset(elements, cardinality)

    def padded_batch(self, batch_size: int, padded_shapes: Any = None,
                     padding_values: Any = None, drop_remainder: bool = False,
                     name: str | None = None) -> Dataset:
        """``batch`` for elements of different shapes (sequences of different lengths): each
        component is padded at the end of its axes to ``padded_shapes`` (in the element's
        structure; ``None`` or -1 in an axis, or no ``padded_shapes``: the longest in the
        batch) with ``padding_values`` (default 0, "" for strings)."""
        size = _positive_arg(batch_size, "batch_size")
        n = self._cardinality
        cardinality = n if n < 0 else (n // size if drop_remainder else -(-n // size))

        def elements() -> Iterator[Any]:
            it = self._elements()
            while chunk := list(itertools.islice(it, size)):
                if len(chunk) == size or not drop_remainder:
                    shapes = _per_component(padded_shapes, chunk[0],
                                            "padded_batch's padded_shapes", shapes=True)
                    values = _per_component(padding_values, chunk[0],
                                            "padded_batch's padding_values")
                    yield _padded(chunk, shapes, values)

        return Dataset(elements, cardinality)

    def window(self, size: int, shift: int | None = None, stride: int = 1,
               drop_remainder: bool = False, name: str | None = None) -> Dataset:
        """Windows of ``size`` consecutive elements (``stride`` apart), a new window every
        ``shift`` elements (default ``size``). Each window is the element's structure with a
        dataset in place of each component, as in TF: ``flat_map(lambda w: w.batch(size))``
        makes them batches again. The last windows are shorter unless ``drop_remainder``."""
        size = _positive_arg(size, "size")
        shift = size if shift is None else _positive_arg(shift, "shift")
        stride = _positive_arg(stride, "stride")

        def as_datasets(window: list[Any]) -> Any:
            columns = zip(*(flatten(e) for e in window))
            return pack(window[0], [Dataset(lambda rows=rows: iter(rows), len(rows))
                                    for rows in map(list, columns)])

        return Dataset(lambda: map(as_datasets, _windows(self._elements(), size, shift, stride,
                                                         drop_remainder)),
                       _windows_of(self._cardinality, (size - 1) * stride + 1, shift,
                                   drop_remainder))

    def flat_map(self, map_func: Callable[..., Dataset], name: str | None = None) -> Dataset:
        """The elements of the datasets ``map_func`` returns for each element (called as
        ``map``'s function), one dataset after another."""
        fn = _callable_arg(map_func, "flat_map")

        def elements() -> Iterator[Any]:
            for element in self._elements():
                out = _call(fn, element)
                if not isinstance(out, Dataset):
                    raise TypeError(f"flat_map's function must return a Dataset, got "
                                    f"{type(out).__name__}")
                yield from out._elements()

        return Dataset(elements, UNKNOWN_CARDINALITY)

    def reduce(self, initial_state: Any, reduce_func: Callable[[Any, Any], Any]) -> Any:
        """``reduce_func(state, element)`` folded over the elements from ``initial_state``;
        the final state, as Tensors: ``ds.reduce(0, lambda n, _: n + 1)`` counts."""
        fn = _callable_arg(reduce_func, "reduce")
        state = _normalized(initial_state)
        for element in self._elements():
            state = _from_fn(fn(_to_tensors(state), _to_tensors(element)))
        return _to_tensors(state)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Each element split along its first axis into that many elements."""

        def elements() -> Iterator[Any]:
            for element in self._elements():
                leaves = flatten(element)
                lengths = {a.shape[0] if a.ndim else None for a in leaves}
                if None in lengths or len(lengths) != 1:
                    raise ValueError("unbatch needs components with the same first dimension, "
                                     f"got shapes {[a.shape for a in leaves]}")
                for i in range(lengths.pop()):
                    yield pack(element, [a[i, ...] for a in leaves])

        n = self._cardinality  # as TF: infinite stays infinite, the rest is unknown
        return Dataset(elements, n if n in (0, INFINITE_CARDINALITY) else UNKNOWN_CARDINALITY)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool | None = None, name: str | None = None
                ) -> Dataset:
        """The elements in random order, through a buffer of ``buffer_size`` (TF's: each
        output is drawn from the buffer, whose place the next input takes; a buffer at least
        the dataset's size is a full shuffle). Each pass (epoch) draws a new order unless
        ``reshuffle_each_iteration=False``. ``seed`` None draws from shenjing's seeded
        streams, so ``shenjing.utils.set_random_seed`` makes runs repeat."""
        size = _positive_arg(buffer_size, "buffer_size")
        if seed is not None:
            _int_arg(seed, "seed", 0)
        rng = backend.new_generator() if seed is None else np.random.default_rng(seed)
        if reshuffle_each_iteration is None or reshuffle_each_iteration:
            def generator() -> np.random.Generator:
                return rng
        else:
            fixed = int(rng.integers(2**63))

            def generator() -> np.random.Generator:
                return np.random.default_rng(fixed)

        n = self._cardinality
        if self._source is None:
            return Dataset(lambda: _buffer_shuffled(self._elements(), size, generator()), n)
        data, blocks = self._source
        return Dataset._of_rows(data, _shuffled_blocks(blocks, n, size, generator), n)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (-1: all)."""
        count = _int_arg(count, "count", -1)
        if count < 0:
            return self
        n = self._cardinality
        cardinality = count if n == INFINITE_CARDINALITY else (
            n if n < 0 else min(n, count))
        if self._source is not None:
            data, blocks = self._source
            return Dataset._of_rows(data, lambda: _take_blocks(blocks(), count), cardinality)
        return Dataset(lambda: itertools.islice(self._elements(), count), cardinality)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (-1: skip them all)."""
        count = _int_arg(count, "count", -1)
        n = self._cardinality
        if count < 0:
            return Dataset(lambda: iter(()), 0)
        cardinality = n if n < 0 else max(n - count, 0)
        if self._source is not None:
            data, blocks = self._source
            return Dataset._of_rows(data, lambda: _skip_blocks(blocks(), count), cardinality)
        return Dataset(lambda: itertools.islice(self._elements(), count, None), cardinality)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """The dataset ``count`` times over (None or -1: forever); a shuffled dataset gives a
        new order each time."""
        count = -1 if count is None else _int_arg(count, "count", -1)
        n = self._cardinality
        if count < 0:  # as TF: infinite unless known to be empty, an unknown input too
            cardinality = 0 if n == 0 else INFINITE_CARDINALITY
        else:
            cardinality = n if n < 0 and count else n * count
        if self._source is not None:
            data, blocks = self._source
            # an empty index block is no row: a pass of only those is empty, and ends the repeat
            rows = lambda: (block for block in blocks() if len(block))  # noqa: E731
            return Dataset._of_rows(data, lambda: _repeated(rows, count), cardinality)
        return Dataset(lambda: _repeated(self._elements, count), cardinality)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """The elements of the first complete pass, kept in memory and replayed after (so a
        shuffle before ``cache`` is frozen; ``filename`` is accepted, the cache is in memory)."""
        if self._source is not None:
            data, blocks = self._source
            return Dataset._of_rows(data, _Cache(blocks), self._cardinality)
        return Dataset(_Cache(self._elements), self._cardinality)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted so pipelines run unchanged; elements are made when asked for here."""
        _int_arg(buffer_size, "buffer_size", AUTOTUNE)
        return self

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements, then ``dataset``'s (of the same structure)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"concatenate needs a Dataset, got {type(dataset).__name__}")
        a, b = self._cardinality, dataset._cardinality
        cardinality = (INFINITE_CARDINALITY if INFINITE_CARDINALITY in (a, b) else
                       UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in (a, b) else a + b)

        def elements() -> Iterator[Any]:
            first: Any = _shape_of  # no element yet (a bare array's shape_of is None)
            for part in (self, dataset):
                for element in part._elements():
                    if first is _shape_of:
                        first = _shape_of(element)
                    elif part is dataset and _shape_of(element) != first:
                        raise TypeError("concatenate needs datasets of the same structure, got "
                                        f"{first} and {_shape_of(element)}")
                    yield element

        return Dataset(elements, cardinality)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """``(index, element)`` pairs, the index an int64 scalar counting from ``start``."""
        first = _int_arg(start, "start", -2**63)
        return Dataset(lambda: zip((np.asarray(i, np.int64) for i in itertools.count(first)),
                                   self._elements()), self._cardinality)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``, for chaining a function of datasets."""
        return _callable_arg(transformation_func, "apply")(self)

    def __repr__(self) -> str:
        n = self._cardinality
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, n)
        return f"<Dataset cardinality={size}>"


class TextLineDataset(Dataset):
    """TensorFlow's ``tf.data.TextLineDataset``: the lines of one or more text files (UTF-8,
    without their line ends), file after file, read afresh on each pass. A line that is not
    UTF-8 is a ValueError naming the file and the line."""

    def __init__(self, filenames: Any, compression_type: str | None = None,
                 buffer_size: int | None = None, num_parallel_reads: int | None = None,
                 name: str | None = None) -> None:
        if compression_type:
            raise NotImplementedError(f"TextLineDataset(compression_type={compression_type!r}):"
                                      " only uncompressed files are read")
        if isinstance(filenames, (str, os.PathLike)):
            names = [os.fspath(filenames)]
        else:  # a list of names or paths, an array or a Tensor of them
            names = [str(f) for f in np.asarray(getattr(filenames, "data", filenames),
                                                dtype=object).reshape(-1)]
        missing = [f for f in names if not os.path.isfile(f)]
        if missing:
            raise FileNotFoundError(f"TextLineDataset: no such file {missing[0]!r}")

        def elements() -> Iterator[Any]:
            for path in names:
                with open(path, "rb") as f:  # split on b"\n", decoded line by line
                    for number, raw in enumerate(f, 1):
                        try:
                            line = raw.decode("utf-8")
                        except UnicodeDecodeError as e:
                            raise ValueError(f"TextLineDataset: {path} is not UTF-8 text: line "
                                             f"{number} has the byte 0x{raw[e.start]:02x} at "
                                             f"byte {e.start + 1} of the line") from None
                        yield np.asarray(line.rstrip("\r\n"))

        super().__init__(elements, UNKNOWN_CARDINALITY)


def cardinality(dataset: Dataset) -> Tensor:
    """``tf.data.experimental.cardinality(dataset)``: ``dataset.cardinality()``."""
    return dataset.cardinality()


experimental = types.SimpleNamespace(
    AUTOTUNE=AUTOTUNE, INFINITE_CARDINALITY=INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY=UNKNOWN_CARDINALITY, cardinality=cardinality)