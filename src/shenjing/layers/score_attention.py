"""Keras 3's weightless-projection attention layers: ``Attention`` (Luong et al. 2015's
dot-product scores) and ``AdditiveAttention`` (Bahdanau et al. 2015's ``sum(tanh(q + k))``
scores). Both take ``[query, value]`` or ``[query, value, key]`` of shapes (batch, Tq, dim),
(batch, Tv, dim) and (batch, Tv, dim), and return ``softmax(scores) @ value``, of shape
(batch, Tq, dim). Composed of existing ops (matmul, tanh, softmax, dropout): no gradient code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import mask_scores
from .attention import _bool
from .core import Dropout
from .layer import Layer


class _ScoreAttention(Layer):
    """The inputs, masks, softmax, dropout and outputs that Attention and AdditiveAttention
    share (Keras's ``Attention._apply_scores``); a subclass computes the (batch, Tq, Tv)
    scores."""

    def __init__(self, use_scale: bool, dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_scale, self.dropout, self.seed = bool(use_scale), dropout, seed
        self._dropout_layer = Dropout(dropout, seed=seed)

    def _scores(self, query: Tensor, key: Tensor) -> Tensor:
        raise NotImplementedError

    def _check_list(self, items: Any, what: str = "inputs", got: str | None = None) -> None:
        """``items`` (inputs or masks) must be a list of 2 or 3, as Keras's."""
        if got is None and isinstance(items, (list, tuple)) and len(items) in (2, 3):
            return
        got = got or (f"a list of {len(items)}" if isinstance(items, (list, tuple))
                      else type(items).__name__)
        names = "[query, value] or [query, value, key]" if what == "inputs" \
            else "[query_mask, value_mask] (a key mask third is ignored)"
        raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) takes {what} as {names}, "
                         f"got {got}")

    def _unpack(self, inputs: Any) -> tuple[Tensor, Tensor, Tensor]:
        kind = f"Layer '{self.name}' ({type(self).__name__})"
        self._check_list(inputs)
        query, value, key = (*inputs, inputs[1])[:3]
        for name, x in (("query", query), ("value", value), ("key", key)):
            if x.ndim != 3:
                raise ValueError(f"{kind} expects {name} of shape (batch, steps, features), got "
                                 f"{tuple(x.shape)}")
        if key.shape[1] != value.shape[1] or key.shape[-1] != query.shape[-1] or len(
                {query.shape[0], value.shape[0], key.shape[0]}) > 1:
            raise ValueError(f"{kind} needs one batch size, and a key with the value's steps "
                             f"and the query's features, got query {tuple(query.shape)}, value "
                             f"{tuple(value.shape)}, key {tuple(key.shape)}")
        return query, value, key

    def build(self, input_shape: Any) -> None:
        """The scale weights (a subclass's ``_build``) once the query's features are known."""
        if not isinstance(input_shape, list):  # one tensor's shape, a tuple
            self._check_list(input_shape, got="one tensor")
        self._check_list(input_shape)
        self._build(input_shape[0][-1])

    def _build(self, features: int) -> None:
        raise NotImplementedError

    def call(self, inputs: list[Tensor], mask: Any = None, training: bool = False,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        query, value, key = self._unpack(inputs)
        if mask is not None:
            self._check_list(mask, "mask")
        query_mask, value_mask = (None, None) if mask is None else mask[:2]
        for name, m, x in (("query_mask", query_mask, query), ("value_mask", value_mask, value)):
            if m is not None and np.shape(m) != tuple(x.shape[:2]):
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): {name} of shape "
                                 f"{np.shape(m)} does not match its input's (batch, steps) "
                                 f"{tuple(x.shape[:2])}")
        scores = self._scores(query, key)  # (batch, Tq, Tv)
        allowed = None if value_mask is None else _bool(value_mask)[:, None, :]
        if use_causal_mask:  # query i sees keys j <= i
            causal = np.tril(np.ones(scores.shape[1:], dtype=bool))[None]
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:  # Keras: a large negative number where a key may not be attended
            scores = mask_scores(scores, allowed)
        weights = self._dropout_layer(F.softmax(scores, axis=-1), training=training)
        out = F.matmul(weights, value)
        if query_mask is not None:  # Keras: masked query steps output zeros
            out = out * _bool(query_mask)[..., None].astype(out.dtype)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras)."""
        return None if mask is None else mask[0]


class Attention(_ScoreAttention):
    """Dot-product (Luong-style) attention, as Keras 3's ``Attention``: scores
    ``query @ key^T`` (times a learned scalar ``scale`` with ``use_scale``), or with
    ``score_mode='concat'`` ``concat_score_weight * sum(tanh(scale * (q + k)))``; then
    ``softmax(scores) @ value``.

    Args:
        use_scale: learn a scalar multiplying the scores (initialized to 1).
        score_mode: 'dot' or 'concat'.
        dropout: the fraction of attention weights dropped in training.
        seed: the seed of the dropout stream.

    Call arguments:
        inputs: [query (batch, Tq, dim), value (batch, Tv, dim_v)] or with key
            (batch, Tv, dim) third (default: the value).
        mask: [query_mask (batch, Tq), value_mask (batch, Tv)] (default: the inputs' Keras
            masks): masked query steps output zeros, masked value steps get no weight.
        return_attention_scores: also return the (batch, Tq, Tv) weights (after dropout).
        use_causal_mask: query step i attends to value steps j <= i only.

    >>> attention = Attention()
    >>> context = attention([decoder_states, encoder_states])   # (batch, Tq, dim)
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(use_scale, dropout, seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention score_mode must be 'dot' or 'concat', got "
                             f"{score_mode!r}")
        self.score_mode = score_mode

    def _build(self, features: int) -> None:
        # Keras's weights: scalars initialized to 1, scale first
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = self.add_weight(
            (), "ones", name="concat_score_weight") if self.score_mode == "concat" else None

    def _scores(self, query: Tensor, key: Tensor) -> Tensor:
        if self.score_mode == "dot":
            scores = F.matmul(query, F.transpose(key, (0, 2, 1)))
            return scores if self.scale is None else scores * self.scale
        pairs = F.expand_dims(query, 2) + F.expand_dims(key, 1)  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = pairs * self.scale
        return self.concat_score_weight * F.sum(F.tanh(pairs), axis=-1)


class AdditiveAttention(_ScoreAttention):
    """Additive (Bahdanau-style) attention, as Keras 3's ``AdditiveAttention``: scores
    ``sum(scale * tanh(q + k))`` over the features, with ``scale`` a learned (dim,) vector
    (Glorot-uniform) when ``use_scale``, else 1; then ``softmax(scores) @ value``. The inputs
    and call arguments are ``Attention``'s.

    Args:
        use_scale: learn the per-feature ``scale``.
        dropout: the fraction of attention weights dropped in training.
        seed: the seed of the dropout stream (keyword).
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(use_scale, dropout, **kwargs)

    def _build(self, features: int) -> None:
        self.scale = self.add_weight((features,), "glorot_uniform",
                                     name="scale") if self.use_scale else None

    def _scores(self, query: Tensor, key: Tensor) -> Tensor:
        pairs = F.tanh(F.expand_dims(query, 2) + F.expand_dims(key, 1))  # (batch, Tq, Tv, dim)
        return F.sum(pairs if self.scale is None else pairs * self.scale, axis=-1)
