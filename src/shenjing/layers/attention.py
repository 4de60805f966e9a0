"""Keras 3's ``MultiHeadAttention`` (scaled dot-product attention, Vaswani et al. 2017), composed
of existing ops: projections, batched matmuls, a masked softmax and dropout. No gradient code.

The weights are Keras's: ``query``/``key``/``value`` kernels of shape (features, num_heads,
head_dim) with (num_heads, head_dim) biases, and an output kernel (num_heads, value_dim,
output_dim) with an (output_dim,) bias, so a kernel's Glorot limits use Keras's fans.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import mask_scores
from . import constraints
from .core import Dropout
from .layer import Layer


class MultiHeadAttention(Layer):
    """Multi-head attention as Keras 3: for each head, ``softmax(q k^T / sqrt(key_dim)) v`` over
    the projected query, key and value, then the heads' outputs projected back together.

    Args:
        num_heads: the number of attention heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default ``key_dim``).
        dropout: the dropout rate on the attention probabilities (in training).
        use_bias: whether the four projections have biases.
        output_shape: the output's last size (default: the query's features).
        attention_axes: None (attention over the sequence axis); other axes are not supported.
        flash_attention: Keras's switch for a fused attention kernel. None or False; True is
            taken as a hint that changes no number here (NumPy has no fused kernel), with
            Keras's rules: no dropout, no ``return_attention_scores``.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: for the four projections.
        activity_regularizer: a penalty on the output, added to the loss at each call.
        seed: the seed of the dropout stream.

    Call arguments:
        query (batch, T, dim), value (batch, S, dim), key (batch, S, dim; default ``value``);
        attention_mask (batch, T, S) booleans, True where a query may attend; query_mask,
        value_mask, key_mask (default: the inputs' Keras masks, as from
        ``Embedding(mask_zero=True)``); use_causal_mask (query i sees positions <= i);
        return_attention_scores (also return the (batch, heads, T, S) probabilities).

    Masked positions get -1e9 added before the softmax, as Keras's ``Softmax`` layer does. A
    query that may attend to no key (padding) gets what Keras 3 gives it: where Keras takes its
    explicit path (``return_attention_scores``, or dropout in training), its ``Softmax`` layer
    zeroes the masked probabilities, so that row's scores are 0 and its output is the output
    bias; otherwise (Keras's fused ``dot_product_attention`` on JAX, TensorFlow and NumPy) the
    row attends uniformly to every key.
    The output has the query's shape (last axis ``output_shape``) and keeps the query's mask.

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=16)
    >>> y = mha(x, x)   # self-attention: x (batch, steps, dim) -> y (batch, steps, dim)
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, flash_attention: bool | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if flash_attention not in (None, False, True):
            raise ValueError(f"MultiHeadAttention flash_attention must be None, False or True, "
                             f"got {flash_attention!r}")
        if flash_attention and dropout > 0:
            raise ValueError("MultiHeadAttention: dropout is not supported with "
                             "flash_attention=True (as in Keras); set dropout=0.0")
        if attention_axes not in (None, 1, (1,), [1]):
            raise NotImplementedError("MultiHeadAttention supports attention over the sequence "
                                      f"axis only (attention_axes=None), got {attention_axes!r}")
        if isinstance(output_shape, (tuple, list)):
            if len(output_shape) != 1:
                raise NotImplementedError("MultiHeadAttention output_shape must be one size, got "
                                          f"{output_shape!r}")
            output_shape = output_shape[0]
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout, self.use_bias, self.output_shape = dropout, use_bias, output_shape
        self.attention_axes, self.seed = attention_axes, seed
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.flash_attention = flash_attention
        self._dropout_layer = Dropout(dropout, seed=seed)
        self._projections_built = False

    def _projection(self, name: str, shape: tuple[int, ...], bias_shape: tuple[int, ...]
                    ) -> tuple[Tensor, Tensor | None]:
        kernel = self.add_weight(shape, self.kernel_initializer, name=f"{name}_kernel",
                                 regularizer=self.kernel_regularizer,
                                 constraint=self.kernel_constraint)
        bias = self.add_weight(bias_shape, self.bias_initializer, name=f"{name}_bias",
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint) if self.use_bias else None
        return kernel, bias

    def _build_projections(self, query_dim: int, value_dim: int, key_dim: int) -> None:
        """Keras's build(query_shape, value_shape, key_shape): all four need the three inputs,
        so the weights are made at the first call (query, key, value, output, as Keras)."""
        heads, out_dim = self.num_heads, self.output_shape or query_dim
        self.query_kernel, self.query_bias = self._projection(
            "query", (query_dim, heads, self.key_dim), (heads, self.key_dim))
        self.key_kernel, self.key_bias = self._projection(
            "key", (key_dim, heads, self.key_dim), (heads, self.key_dim))
        self.value_kernel, self.value_bias = self._projection(
            "value", (value_dim, heads, self.value_dim), (heads, self.value_dim))
        self.output_kernel, self.output_bias = self._projection(
            "attention_output", (heads, self.value_dim, out_dim), (out_dim,))
        self._projections_built = True

    def compute_output_shape(self, query_shape: Any, value_shape: Any,
                             key_shape: Any = None) -> tuple:
        """Keras 3's: the query's shape, its last size ``output_shape`` where that is set. The
        key and value must agree on all but their features. Builds nothing."""
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): key and value must "
                             f"agree on all but their last axis, got value_shape={value_shape} "
                             f"and key_shape={key_shape}")
        if self.output_shape is None:
            return query_shape
        return (*query_shape[:-1], self.output_shape)

    def _heads(self, x: Tensor, kernel: Tensor, bias: Tensor | None) -> Tensor:
        """(batch, steps, dim) -> (batch, heads, steps, head_dim)."""
        dim, heads, size = kernel.shape
        y = F.matmul(x, F.reshape(kernel, (dim, heads * size)))
        if bias is not None:
            y = y + F.reshape(bias, (heads * size,))
        return F.transpose(F.reshape(y, (*x.shape[:-1], heads, size)), (0, 2, 1, 3))

    def _attention_mask(self, query: Tensor, value: Tensor, query_mask: Any, value_mask: Any,
                        key_mask: Any, attention_mask: Any, use_causal_mask: bool) -> Any:
        """Keras's rule: the given mask AND query_mask[:, :, None] AND value_mask[:, None, :]
        AND key_mask[:, None, :] AND (causal) lower-triangular; None if nothing masks."""
        t, s = query.shape[1], value.shape[1]
        masks = []
        if query_mask is not None:
            masks.append(_bool(query_mask)[:, :, None])
        for m in (value_mask, key_mask):
            if m is not None:
                masks.append(_bool(m)[:, None, :])
        if use_causal_mask:
            masks.append(np.tril(np.ones((t, s), dtype=bool))[None])
        if attention_mask is not None:
            given = _bool(attention_mask)
            try:
                if np.broadcast_shapes(given.shape, (query.shape[0], t, s)) != (
                        query.shape[0], t, s):
                    raise ValueError  # more axes than (batch, T, S)
            except ValueError:
                raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): attention_mask of "
                                 f"shape {given.shape} does not broadcast to (batch, query "
                                 f"steps, value steps) = {(query.shape[0], t, s)}") from None
            masks.append(given)
        if not masks:
            return None
        mask = masks[0]
        for m in masks[1:]:
            mask = mask & m
        return np.broadcast_to(mask, (query.shape[0], t, s))

    def call(self, query: Tensor, value: Tensor, key: Tensor | None = None,
             query_mask: Any = None, value_mask: Any = None, key_mask: Any = None,
             attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool = False, use_causal_mask: bool = False) -> Any:
        if self.flash_attention and return_attention_scores:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): "
                             "return_attention_scores=True is not supported with "
                             "flash_attention=True (as in Keras)")
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, query.dtype))
        key = value if key is None else (
            key if isinstance(key, Tensor) else Tensor(np.asarray(key, query.dtype)))
        for name, x in (("query", query), ("value", value), ("key", key)):
            if x.ndim != 3:
                raise ValueError(f"Layer '{self.name}' (MultiHeadAttention) expects {name} of "
                                 f"shape (batch, steps, features), got {x.shape}")
        if key.shape[1] != value.shape[1] or len(
                {query.shape[0], value.shape[0], key.shape[0]}) > 1:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): query, value and key "
                             f"need one batch size, key and value the same number of steps; "
                             f"got query {query.shape}, value {value.shape}, key {key.shape}")
        if not self._projections_built:
            self._build_projections(query.shape[-1], value.shape[-1], key.shape[-1])
        # the inputs' own masks (Embedding(mask_zero=True)), as Keras 3 passes them
        query_mask = _keras_mask(query) if query_mask is None else query_mask
        value_mask = _keras_mask(value) if value_mask is None else value_mask
        if key_mask is None and key is not value:
            key_mask = _keras_mask(key)
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)

        q = self._heads(query, self.query_kernel, self.query_bias) * (1.0 / math.sqrt(self.key_dim))
        k = self._heads(key, self.key_kernel, self.key_bias)
        v = self._heads(value, self.value_kernel, self.value_bias)
        scores = F.matmul(q, F.transpose(k, (0, 1, 3, 2)))  # (batch, heads, T, S)
        if mask is not None:  # Keras's Softmax layer: -1e9 where masked
            scores = mask_scores(scores, mask[:, None])
        probs = F.softmax(scores, axis=-1)
        if mask is not None and (return_attention_scores or training and self.dropout > 0):
            probs = probs * mask[:, None].astype(probs.dtype)  # Keras's explicit path: see above
        heads = F.matmul(self._dropout_layer(probs, training=training), v)  # (b, h, T, value_dim)
        batch, n_heads, steps, size = heads.shape
        merged = F.reshape(F.transpose(heads, (0, 2, 1, 3)), (batch, steps, n_heads * size))
        out = F.matmul(merged, F.reshape(self.output_kernel, (n_heads * size, -1)))
        if self.output_bias is not None:
            out = out + self.output_bias
        return (out, probs) if return_attention_scores else out


def _keras_mask(x: Tensor) -> Any:
    mask = getattr(x, "_keras_mask", None)
    return mask.data if isinstance(mask, Tensor) else mask


def _bool(mask: Any) -> np.ndarray:
    return np.asarray(mask.data if isinstance(mask, Tensor) else mask).astype(bool)
