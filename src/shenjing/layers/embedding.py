"""Embedding (integer ids -> learned vectors) and Masking (padding steps -> a mask)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from . import constraints
from .layer import Layer


class Embedding(Layer):
    """Look up a learned ``output_dim`` vector for each integer id in [0, input_dim).

    Args:
        input_dim: the vocabulary size.
        output_dim: the size of each vector.
        embeddings_initializer: Keras's default 'uniform' (-0.05, 0.05).
        mask_zero: id 0 is padding: the output carries a mask (ids != 0) that recurrent layers
            later in the model honour.
        embeddings_regularizer, embeddings_constraint: a penalty and a projection of the
            table (``UnitNorm(axis=1)`` keeps every vector on the unit sphere).

    Input shape: (batch, ...) integers. Output shape: (batch, ..., output_dim).
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, **kwargs: Any) -> None:
        if kwargs.pop("input_length", None) is not None:  # Keras 2's; Keras 3 warns, ignores
            warnings.warn("Embedding's input_length is deprecated (Keras 3) and ignored: the "
                          "sequence length comes from the data", DeprecationWarning,
                          stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim, self.mask_zero = input_dim, output_dim, mask_zero
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = constraints.get(embeddings_constraint)

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint,
                                          name="embeddings")

    def call(self, ids: Tensor) -> Tensor:
        if ids.dtype.kind == "f":  # float ids (Input's default dtype, x arrays) as Keras casts
            ids = ids.data.astype("int64")
        return F.embedding(ids, self.embeddings)

    def compute_mask(self, inputs: Tensor, mask: Any = None) -> Any:
        # called directly on ids too (Keras's guide: mask = embedding.compute_mask(ids))
        return (_values(inputs) != 0) if self.mask_zero else None


class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding (a mask for later
    layers) and zero them."""

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs: Tensor, mask: Any = None) -> Any:
        return (_values(inputs) != self.mask_value).any(axis=-1)

    def call(self, x: Tensor) -> Tensor:
        keep = (x.data != self.mask_value).any(axis=-1, keepdims=True)
        return x * keep.astype(x.dtype)


def _values(x: Any) -> Any:
    """The array of a Tensor, or an array-like as an array (an ndarray's ``.data`` is its
    buffer, not its values)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)
