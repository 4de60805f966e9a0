"""Embedding lookup: rows of a (vocabulary, dim) table picked by integer ids."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import native
from ..autograd import Function, Tensor
from ..backend import get_xp
from ..native import address
from .shape import reshape, scatter_into


class _Embedding(Function):
    """y = table[ids];  gtable[v] = sum of g over the positions where ids == v (a repeated id
    collects every one of its gradients), zero for ids that do not occur.

    The scatter-add is one C pass a row for float32 NumPy arrays (``native/embedding.c``),
    else ``np.add.at``, element by element: 64 x 128 ids of a (20000, 256) table 21 ms there
    (PyTorch: 3). Sort + ``np.add.reduceat`` was no better in NumPy: (V, D, ids) =
    (10000, 128, 3200): add.at 3.2 ms vs 4.5 ms; (50000, 300, 6400): 22 vs 26 ms; (100, 64,
    6400): 2.9 vs 1.0 ms; (65, 256, 16384): 28 vs 34 ms.
    """

    def forward(self, table, ids=None):
        # a copy (flat int64, as the C scatter-add reads it): the backward writes at these
        # rows, and the caller's array may change
        self.save_for_backward(ids.astype(np.int64).reshape(-1), table.shape)
        return get_xp(table).take(table, ids, axis=0)

    def backward(self, g):
        ids, table_shape = self.saved
        xp = get_xp(g)
        gtable = xp.zeros(table_shape, dtype=g.dtype)
        rows = g.reshape(-1, table_shape[1])
        lib = native.kernels_for(rows, contiguous=False) if rows.size >= native.C_MIN else None
        if lib is None:
            xp.add.at(gtable, ids, rows)
        else:
            rows = np.ascontiguousarray(rows)  # (a copy only where C runs)
            lib.sj_embedding_grad(len(ids), table_shape[1], address(ids), address(rows),
                                  address(gtable))
        return gtable

    def differentiable_backward(self, g):
        ids, table_shape = self.saved  # (flat: g's rows, one an id)
        return scatter_into(reshape(g, (-1, table_shape[1])), ids, table_shape)


def embedding(ids: Any, table: Tensor) -> Tensor:
    """Look up rows of ``table`` (Keras's Embedding layer, torch's ``F.embedding``).

    Args:
        ids: integer array or Tensor of any shape, values in [0, vocabulary size).
        table: shape (vocabulary size, embedding dim).

    Returns:
        Shape ids.shape + (embedding dim,).

    >>> vectors = F.embedding(np.array([[1, 4, 4]]), table)   # table (10, 8) -> (1, 3, 8)
    """
    if table.ndim != 2:
        raise ValueError(f"embedding: expected a table of shape (vocabulary, dim), got shape "
                         f"{table.shape}")
    ids_arr = ids.data if isinstance(ids, Tensor) else get_xp(ids).asarray(ids)
    if ids_arr.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids_arr.dtype}")
    vocab = table.shape[0]
    if ids_arr.size and (int(ids_arr.min()) < 0 or int(ids_arr.max()) >= vocab):
        raise IndexError(f"embedding: ids must lie in [0, {vocab}) for a vocabulary of size "
                         f"{vocab}, got ids from {int(ids_arr.min())} to {int(ids_arr.max())}")
    return _Embedding.apply(table, ids=ids_arr)


def one_hot(x: Tensor, num_classes: int = -1) -> Tensor:
    """Integer ids (any shape) as one-hot vectors along a new last axis, int64 and without a
    gradient, as torch's ``F.one_hot``; ``num_classes=-1`` takes the largest id + 1.

    >>> F.one_hot(shenjing.tensor([0, 2]), 3)   # [[1, 0, 0], [0, 0, 1]]
    """
    ids = x.data if isinstance(x, Tensor) else get_xp(x).asarray(x)
    xp = get_xp(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"one_hot takes integer ids, got {ids.dtype} (cast with .long())")
    if num_classes == -1:
        if not ids.size:  # torch raises here too: no id to take the largest of
            raise ValueError("one_hot: num_classes=-1 cannot be inferred from empty ids; "
                             "pass num_classes")
        num_classes = int(ids.max()) + 1
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= num_classes):
        raise ValueError(f"one_hot: ids must lie in [0, {num_classes}), got "
                         f"{int(ids.min())}..{int(ids.max())}")
    return Tensor._wrap((ids[..., None] == xp.arange(num_classes)).astype(xp.int64))
