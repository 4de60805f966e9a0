"""Utilities: seeding, BLAS threads, one-hot labels, and (as in ``keras.utils``)
``image_dataset_from_directory``, ``text_dataset_from_directory``, ``load_img``,
``img_to_array``, ``array_to_img``, ``save_img``, ``pad_sequences``, ``PyDataset``,
``split_dataset``, ``normalize``, ``plot_model`` and ``get_file``."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from . import backend
from .functional._util import class_ids


def set_random_seed(seed: int) -> None:
    """Seed every random source shenjing uses (its own streams, Python's ``random``, and NumPy's
    legacy global state), so that two runs of the same program give the same numbers.

    Each object that draws random numbers gets its own Generator derived from this seed.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    backend.seed(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def set_num_threads(n: int) -> None:
    """Use ``n`` cores: each whole-batch matrix product runs on them (on the OpenMP team with
    the big element-wise passes, where oneDNN is installed: team mode) until the first op that
    splits itself over the batch (convolution, pooling, the recurrent loops); from then on
    shenjing splits the heavy ops (dense included) over ``n`` threads itself and holds BLAS at
    one thread per call (see :mod:`shenjing.parallel` for why: 1.35x faster on the CIFAR CNN).
    Results may differ in the last bits with ``n`` and between the two modes (sums are split
    differently), as with any multithreaded BLAS."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    from . import parallel

    parallel.set_threads(int(n))


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer labels into float vectors of ``num_classes`` (Keras): shape
    (..., 1) or (...) gives (..., num_classes); ``num_classes`` None is ``max(y) + 1``."""
    y = np.asarray(getattr(y, "data", y))
    if y.ndim > 1 and y.shape[-1] == 1:  # Keras drops a last axis of 1 at any rank
        y = y[..., 0]
    y, n = class_ids(y, num_classes, "to_categorical")
    out = np.zeros((*y.shape, n), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def normalize(x: Any, axis: int | None = -1, order: int = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (Keras's ``keras.utils.normalize``);
    a zero norm divides by 1. A Tensor gives a Tensor (outside the graph), else an array.

    >>> normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    data = np.asarray(getattr(x, "data", x))
    norm = np.atleast_1d(np.linalg.norm(data, order, axis))
    norm[norm == 0] = 1
    # Keras's NumPy branch expands at ``axis or -1``, which divides axis=0 norms along the
    # wrong axis; its tensor branch (ops.nn.normalize) is right, and so is this
    out = data / np.expand_dims(norm, -1 if axis is None else axis)
    if hasattr(x, "data") and not isinstance(x, np.ndarray):
        from .autograd import Tensor

        # a float result: integers normalized are fractions (Keras's ops.nn.normalize)
        return Tensor._wrap(out.astype(data.dtype if data.dtype.kind == "f" else out.dtype,
                                       copy=False))
    return out


def split_dataset(dataset: Any, left_size: int | float | None = None,
                  right_size: int | float | None = None, shuffle: bool = False,
                  seed: int | None = None) -> tuple[Any, Any]:
    """Split arrays into two ``Dataset``s of their rows (Keras's ``split_dataset``).

    Args:
        dataset: an array, or a tuple, list or dict of arrays with one first axis.
        left_size, right_size: rows on each side, as a count or a fraction of all rows
            (rounded); one left out is the rest. The left side gets the first rows, the right
            the next ones.
        shuffle: shuffle the rows first, with ``seed`` (None: from ``set_random_seed``).

    >>> train, val = split_dataset((x, y), left_size=0.8)  # doctest: +SKIP
    """
    from ._nest import flatten, map_structure
    from .data.dataset import Dataset

    data = map_structure(np.asarray, tuple(dataset) if isinstance(dataset, list) else dataset)
    n = len(flatten(data)[0])
    left, right = _split_sizes(left_size, right_size, n)
    order = (np.random.default_rng(seed) if seed is not None else backend.new_generator()
             ).permutation(n) if shuffle else np.arange(n)
    return tuple(Dataset.from_tensor_slices(map_structure(lambda a, rows=rows: a[rows], data))
                 for rows in (order[:left], order[left:left + right]))


def _split_sizes(left: int | float | None, right: int | float | None, n: int) -> tuple[int, int]:
    """Keras's split sizes: counts, or fractions of ``n`` rounded; a missing one is the rest."""
    if left is None and right is None:
        raise ValueError("split_dataset needs left_size or right_size (or both)")
    sizes = []
    for name, size in (("left_size", left), ("right_size", right)):
        if size is not None and not (isinstance(size, float) and 0 < size < 1
                                     or isinstance(size, int) and 0 < size <= n):
            raise ValueError(f"{name} must be a fraction in (0, 1) or a count in [1, {n}] (the "
                             f"number of rows), got {size!r}")
        sizes.append(round(size * n) if isinstance(size, float) else size)
    left, right = (n - sizes[1] if sizes[0] is None else sizes[0],
                   n - sizes[0] if sizes[1] is None else sizes[1])
    if left + right > n or not left or not right:
        raise ValueError(f"left_size={left} and right_size={right} rows do not split {n} rows "
                         "into two non-empty parts")
    return left, right


def __getattr__(name: str) -> Any:
    # keras.utils.image_dataset_from_directory, loaded on first use (zipfile, threads, Pillow)
    if name == "image_dataset_from_directory":
        from .data.image_folder import image_dataset_from_directory

        return image_dataset_from_directory
    if name == "text_dataset_from_directory":
        from .data.text_folder import text_dataset_from_directory

        return text_dataset_from_directory
    if name in ("array_to_img", "img_to_array", "load_img", "save_img"):
        from .data import image_folder

        return getattr(image_folder, name)
    if name == "timeseries_dataset_from_array":
        from .data.timeseries import timeseries_dataset_from_array

        return timeseries_dataset_from_array
    # keras.utils.pad_sequences and PyDataset (Sequence, its Keras 2 name), from shenjing.data
    if name == "pad_sequences":
        from .data.sequence import pad_sequences

        return pad_sequences
    if name in ("PyDataset", "Sequence"):
        from .data.loader import PyDataset

        return PyDataset
    if name in ("pack_x_y_sample_weight", "unpack_x_y_sample_weight"):  # for train_step(data)
        from .data import loader

        return getattr(loader, name)
    if name == "plot_model":  # matplotlib's, loaded with it on first use
        from .model_visualization import plot_model

        return plot_model
    if name in ("custom_object_scope", "get_custom_objects", "register_keras_serializable"):
        from .io import saving

        return getattr(saving, name)
    if name == "get_file":  # keras.utils.get_file: urllib and the archive readers on first use
        from .datasets.get_file import get_file

        return get_file
    if name == "Progbar":  # keras.utils.Progbar, for loops of one's own
        from .callbacks.progbar import Progbar

        return Progbar
    if name == "CustomObjectScope":  # Keras's class name of the same scope
        from .io import saving

        return saving.custom_object_scope
    if name in ("serialize_keras_object", "deserialize_keras_object"):
        from .io import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
