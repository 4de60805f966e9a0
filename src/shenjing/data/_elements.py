"""The elements of ``tf.data`` datasets (``data/dataset.py``) as NumPy structures: components
made arrays with TensorFlow's dtypes, structures compared, function results made elements, and
elements stacked (or padded) into batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._nest import flatten, map_structure, pack
from ..autograd import Tensor


def _as_array(value: Any) -> np.ndarray:
    """One component as an array with TensorFlow's types: arrays and Tensors keep theirs;
    Python floats become float32 and Python ints int32 where they fit (else int64), as
    ``tf.constant`` makes them."""
    if isinstance(value, Tensor):
        return backend.asnumpy(value.data)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    a = np.asarray(value)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    if a.dtype.kind == "i" and (a.size == 0 or (np.iinfo(np.int32).min <= a.min()
                                                 and a.max() <= np.iinfo(np.int32).max)):
        return a.astype(np.int32)
    return a


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
        fill = ("" if dtype.kind in "US" else 0) if value is None else np.asarray(value)
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

