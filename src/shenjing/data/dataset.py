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

AUTOTUNE = -1  # tf.data.AUTOTUNE: let the runtime choose (here: nothing to choose)
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_BLOCK = 1024  # indices per block of a buffered shuffle's output

Blocks = Callable[[], Iterator[np.ndarray]]  # a fresh stream of row-index blocks per pass


# -- structures -------------------------------------------------------------------------------
def _as_array(value: Any) -> np.ndarray:
    """One component as an array with TensorFlow's types: arrays and Tensors keep theirs;
    Python floats become float32 and Python ints int32, as ``tf.constant`` makes them."""
    if isinstance(value, Tensor):
        return backend.asnumpy(value.data)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    a = np.asarray(value)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    return a.astype(np.int32) if a.dtype.kind == "i" else a


def _normalized(value: Any) -> Any:
    """``value`` with tuples and dicts kept as structure and everything else (a list too, as
    in TensorFlow) one array."""
    if isinstance(value, dict):
        return {key: _normalized(v) for key, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_normalized(v) for v in value)
    if value is None:
        raise TypeError("a dataset element cannot hold None")
    return _as_array(value)


def _shape_of(structure: Any) -> Any:
    """The nesting alone (tuple lengths, dict keys), to compare two elements' structures."""
    return map_structure(lambda leaf: None, structure)


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


def _listless(value: Any) -> Any:
    """A generator's element with its tuples' lists made tuples, leaves left as they are (a
    list is one component only inside a tuple or dict, as TF reads them)."""
    if isinstance(value, dict):
        return {key: _listless(v) for key, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_listless(v) for v in value)
    return value


def _from_fn(out: Any) -> Any:
    """A function's result as an element: lists become tuples, as in TF's ``map``."""
    if isinstance(out, list):
        out = tuple(out)
    if isinstance(out, dict):
        return {key: _from_fn(v) for key, v in out.items()}
    if isinstance(out, tuple):
        return tuple(_from_fn(v) for v in out)
    return _normalized(out)


def _stacked(elements: list[Any]) -> Any:
    """Elements stacked along a new first axis, component by component."""
    leaves = [flatten(e) for e in elements]
    columns = []
    for k, column in enumerate(zip(*leaves)):
        first = column[0].shape
        for i, a in enumerate(column):
            if a.shape != first:
                raise ValueError(f"cannot batch elements of different shapes in component {k}: "
                                 f"the first has shape {first}, element {i} has {a.shape} "
                                 "(pad them to one shape, or batch_size=1)")
        columns.append(np.stack(column))
    return pack(elements[0], columns)


def _padded(elements: list[Any], shapes: Any, values: Any) -> Any:
    """Elements stacked as ``_stacked`` does, each component first padded at the end of each
    axis to its ``shapes`` entry (``None`` axes: the batch's longest) with its ``values`` entry
    (None: 0, or "" for strings)."""
    leaves = [flatten(e) for e in elements]
    columns = []
    for k, (column, shape, value) in enumerate(zip(zip(*leaves), shapes, values)):
        ranks = {a.ndim for a in column}
        if len(ranks) > 1 or (shape is not None and len(shape) != column[0].ndim):
            want = "the same rank" if shape is None else f"padded_shapes' rank {len(shape)}"
            raise ValueError(f"padded_batch: component {k} has shapes "
                             f"{sorted({a.shape for a in column})}, expected {want}")
        longest = np.max([a.shape for a in column], axis=0) if column[0].ndim else ()
        target = tuple(int(m) if s is None else s for m, s in
                       zip(longest, shape if shape is not None else [None] * len(longest)))
        if any(m > t for m, t in zip(longest, target)):
            raise ValueError(f"padded_batch: component {k} has an element of shape "
                             f"{tuple(int(m) for m in longest)} (longest), larger than "
                             f"padded_shapes {shape}")
        dtype = np.result_type(*column)
        fill = ("" if dtype.kind == "U" else 0) if value is None else np.asarray(value)
        out = np.full((len(column), *target), fill, dtype=dtype)
        for i, a in enumerate(column):
            out[(i, *(slice(0, n) for n in a.shape))] = a
        columns.append(out)
    return pack(elements[0], columns)


def _per_component(arg: Any, structure: Any, name: str, shapes: bool = False) -> list[Any]:
    """``arg`` given in the element's ``structure`` (a shape, if ``shapes``, or a value for
    each component: ``padded_batch``'s ``padded_shapes`` and ``padding_values``) as a list in
    :func:`flatten`'s order. None gives None for each; one value serves every component."""
    if arg is None or (not shapes and not isinstance(arg, (tuple, list, dict))):
        return [arg] * len(flatten(structure))
    if isinstance(structure, dict) and isinstance(arg, dict) and set(arg) == set(structure):
        return [e for key in sorted(structure) for e in
                _per_component(arg[key], structure[key], name, shapes)]
    if isinstance(structure, tuple) and isinstance(arg, (tuple, list)) and len(arg) == len(
            structure):
        return [e for st, a in zip(structure, arg) for e in _per_component(a, st, name, shapes)]
    if isinstance(structure, (tuple, dict)):
        raise ValueError(f"{name} {arg!r} does not match the elements' structure "
                         f"{_shape_of(structure)}")
    if shapes:
        dims = (arg,) if isinstance(arg, (int, np.integer)) else tuple(arg)
        return [tuple(None if d is None or d == -1 else int(d) for d in dims)]
    return [arg]


def _windows(items: Iterator[Any], size: int, shift: int, stride: int, drop_remainder: bool
             ) -> Iterator[list[Any]]:
    """Lists of ``size`` items ``stride`` apart, a new one starting every ``shift`` items; the
    last ones shorter unless ``drop_remainder``."""
    span = (size - 1) * stride + 1
    buffer: list[Any] = []
    for item in items:
        buffer.append(item)
        if len(buffer) == max(span, shift):
            yield buffer[:span:stride]
            buffer = buffer[shift:]
    while buffer and not drop_remainder:
        yield buffer[:span:stride]
        buffer = buffer[shift:]
    if buffer and drop_remainder and len(buffer) >= span:
        yield buffer[:span:stride]


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


def _callable_arg(fn: Any, method: str) -> Callable[..., Any]:
    if not callable(fn):
        raise TypeError(f"{method} needs a function, got {type(fn).__name__}")
    return fn


def _check_parallel_calls(num_parallel_calls: Any) -> None:
    if num_parallel_calls is not None and num_parallel_calls != AUTOTUNE:
        positive_int(num_parallel_calls, "num_parallel_calls (None, AUTOTUNE or)")


# -- index blocks -----------------------------------------------------------------------------
def _take_blocks(blocks: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    for block in blocks:
        if count <= 0:
            return
        yield block[:count]
        count -= len(block)


def _skip_blocks(blocks: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    for block in blocks:
        if count < len(block):
            yield block[count:]
        count = max(count - len(block), 0)


def _rechunked(blocks: Iterable[np.ndarray], size: int, drop_remainder: bool
               ) -> Iterator[np.ndarray]:
    """The indices of ``blocks`` cut into chunks of ``size`` (the last may be shorter)."""
    pending = np.empty(0, dtype=np.intp)
    for block in blocks:
        pending = np.concatenate([pending, block]) if len(pending) else block
        whole = len(pending) - len(pending) % size
        for start in range(0, whole, size):
            yield pending[start:start + size]
        pending = pending[whole:]
    if len(pending) and not drop_remainder:
        yield pending


def _rows(data: list[np.ndarray], idx: np.ndarray | slice) -> list[np.ndarray]:
    return [a[idx] for a in data]


# -- passes -----------------------------------------------------------------------------------
def _repeated(make: Callable[[], Iterator[Any]], count: int) -> Iterator[Any]:
    """``count`` passes of ``make()`` (-1: forever, stopping if a pass is empty)."""
    passes = itertools.count() if count < 0 else range(count)
    for _ in passes:
        empty = True
        for item in make():
            empty = False
            yield item
        if empty:
            return


def _buffer_shuffled(items: Iterable[Any], buffer_size: int, rng: np.random.Generator
                     ) -> Iterator[Any]:
    """TensorFlow's shuffle: fill a buffer with the first ``buffer_size`` items, then output
    a random one from it and put the next input in its place; at the end, drain the buffer in
    random order. A buffer as large as the input is a uniform permutation."""
    buffer: list[Any] = []
    draws = iter(())
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        draw = next(draws, None)
        if draw is None:  # uniform draws in bulk: one NumPy call per _BLOCK items
            draws = iter(rng.random(_BLOCK).tolist())
            draw = next(draws)
        j = int(draw * buffer_size)
        yield buffer[j]
        buffer[j] = item
    for k in rng.permutation(len(buffer)):
        yield buffer[k]


class _Cache:
    """The items of the first complete pass of ``make()``, replayed after (TF's ``cache``: a
    pass stopped early caches nothing)."""

    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        self.make, self.items = make, None

    def __call__(self) -> Iterator[Any]:
        if self.items is not None:
            yield from self.items
            return
        seen = []
        for item in self.make():
            seen.append(item)
            yield item
        self.items = seen


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
        from .tensor_spec import TensorSpec

        if not callable(generator):
            raise TypeError("from_generator needs a function that returns an iterator (the "
                            f"generator function itself, not a generator), got "
                            f"{type(generator).__name__}")
        if output_signature is None:
            if output_types is None:
                raise TypeError("from_generator needs output_signature (a TensorSpec for each "
                                "component), or output_types")
            types_ = flatten(output_types)
            shapes = ([None] * len(types_) if output_shapes is None else
                      _per_component(output_shapes, output_types,
                                     "from_generator's output_shapes", shapes=True))
            output_signature = pack(output_types, [TensorSpec(shape, dtype) for shape, dtype
                                                   in zip(shapes, types_)])
        specs = flatten(output_signature)
        if not all(isinstance(spec, TensorSpec) for spec in specs):
            raise TypeError("from_generator's output_signature must be a TensorSpec or a "
                            f"tuple/dict of them, got {output_signature!r}")
        call_args = tuple(_as_array(a) for a in (args or ()))
        where = f"from_generator's generator {getattr(generator, '__name__', generator)!r}"

        def conform(value: Any) -> Any:
            value = _listless(value)
            if _shape_of(value) != _shape_of(output_signature):
                raise TypeError(f"{where} yielded an element of structure {_shape_of(value)}, "
                                f"where output_signature has {_shape_of(output_signature)}")
            return pack(output_signature, [spec.conform(v, where) for spec, v in
                                           zip(specs, flatten(value))])

        def elements() -> Iterator[Any]:
            return map(conform, generator(*call_args))

        return cls(elements, UNKNOWN_CARDINALITY)

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
        size = positive_int(batch_size, "batch_size")
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
        size = positive_int(batch_size, "batch_size")
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
        size = positive_int(size, "size")
        shift = size if shift is None else positive_int(shift, "shift")
        stride = positive_int(stride, "stride")

        def as_datasets(window: list[Any]) -> Any:
            columns = zip(*(flatten(e) for e in window))
            return pack(window[0], [Dataset(lambda rows=rows: iter(rows), len(rows))
                                    for rows in map(list, columns)])

        return Dataset(lambda: map(as_datasets, _windows(self._elements(), size, shift, stride,
                                                         drop_remainder)), UNKNOWN_CARDINALITY)

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

        return Dataset(elements, UNKNOWN_CARDINALITY if self._cardinality else 0)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool | None = None, name: str | None = None
                ) -> Dataset:
        """The elements in random order, through a buffer of ``buffer_size`` (TF's: each
        output is drawn from the buffer, whose place the next input takes; a buffer at least
        the dataset's size is a full shuffle). Each pass (epoch) draws a new order unless
        ``reshuffle_each_iteration=False``. ``seed`` None draws from shenjing's seeded
        streams, so ``shenjing.utils.set_random_seed`` makes runs repeat."""
        size = positive_int(buffer_size, "buffer_size")
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

        def shuffled() -> Iterator[np.ndarray]:
            if 0 <= n <= size:  # the whole pass fits the buffer: one permutation
                idx = np.concatenate(list(blocks()) or [np.empty(0, np.intp)])
                yield idx[generator().permutation(len(idx))]
                return
            flat = itertools.chain.from_iterable(b.tolist() for b in blocks())
            out = _buffer_shuffled(flat, size, generator())
            while block := list(itertools.islice(out, _BLOCK)):
                yield np.asarray(block, dtype=np.intp)

        return Dataset._of_rows(data, shuffled, n)

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
        if count < 0:
            cardinality = 0 if n == 0 else (UNKNOWN_CARDINALITY if n == UNKNOWN_CARDINALITY
                                            else INFINITE_CARDINALITY)
        else:
            cardinality = n if n < 0 and count else n * count
        if self._source is not None:
            data, blocks = self._source
            return Dataset._of_rows(data, lambda: _repeated(blocks, count), cardinality)
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
    without their line ends), file after file, read afresh on each pass."""

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
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        yield np.asarray(line.rstrip("\r\n"))

        super().__init__(elements, UNKNOWN_CARDINALITY)


def cardinality(dataset: Dataset) -> Tensor:
    """``tf.data.experimental.cardinality(dataset)``: ``dataset.cardinality()``."""
    return dataset.cardinality()


experimental = types.SimpleNamespace(
    AUTOTUNE=AUTOTUNE, INFINITE_CARDINALITY=INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY=UNKNOWN_CARDINALITY, cardinality=cardinality)
