"""torch's ``linear`` and ``bilinear`` (weights (out, in)) and ``scaled_dot_product_attention``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd import Tensor
from ...backend import get_xp
from ...functional import activation as A
from ...functional import elementwise as E
from ...functional import linalg as L
from ...functional import reduction as R
from ...functional import shape as S
from ...functional.dropout import dropout as _dropout


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """torch's ``F.linear``: ``input @ weight.T + bias`` with weight (out_features,
    in_features) (shenjing's ``F.linear`` takes Keras's (in, out) kernel), any leading axes.

    >>> y = F.linear(x, w, b)   # x (N, 20), w (10, 20) -> (N, 10)
    """
    if weight.ndim == 1 and bias is None:  # (in_features,): one output, its axis dropped
        return L.matmul(input, weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: expected weight of shape (out_features, in_features) (or "
                         f"(in_features,) without a bias), got shape {weight.shape}")
    shape = tuple(getattr(input, "shape", ()))
    if shape and shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {shape} does not match weight of shape "
                         f"{weight.shape} (expected last input axis {weight.shape[1]})")
    return L.linear(input, S.transpose(weight), bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """torch's ``F.bilinear``: y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j]
    + bias[o], weight (out, in1, in2): one GEMM against weight laid out (in1, out * in2)."""
    out, in1, in2 = weight.shape
    w = S.reshape(S.transpose(weight, (1, 0, 2)), (in1, out * in2))
    t = S.reshape(L.matmul(E.floating(input1), w), (*input1.shape[:-1], out, in2))
    y = R.sum(t * S.expand_dims(E.floating(input2), -2), axis=-1)
    return y if bias is None else y + bias


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """torch's ``F.scaled_dot_product_attention``: softmax(q k^T scale + mask) v over the last
    two axes (batch and head axes broadcast); ``scale`` defaults to 1 / sqrt(E).

    Args:
        attn_mask: boolean (True takes part) or additive float, broadcast to (..., L, S).
        dropout_p: dropout on the attention weights (always applied when > 0, as torch).
        is_causal: query i attends to keys 0..i (the upper-left triangle, torch's).

    A query row the mask leaves no key gives zeros (torch's safe softmax), without a gradient.

    >>> out = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # (N, heads, L, E)
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if min(query.ndim, key.ndim, value.ndim) < 2 or query.shape[-1] != key.shape[-1] or (
            key.shape[-2] != value.shape[-2]):
        raise ValueError(f"scaled_dot_product_attention: query (..., L, E), key (..., S, E) "
                         f"and value (..., S, Ev) must share E and S, got query {query.shape}, "
                         f"key {key.shape}, value {value.shape}")
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = L.matmul_t(query, key, tb=True) * factor
    if is_causal:
        n_q, n_k = query.shape[-2], key.shape[-2]
        attn_mask = get_xp(query.data).tri(n_q, n_k, dtype=bool)
    dead = None
    if attn_mask is not None:
        mask = attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask
        if get_xp(scores.data).asarray(mask).dtype == bool:
            scores = E.where(mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
        # a query that may attend to no key (a padded one): torch's safe softmax gives it 0,
        # and no gradient, not the NaN of a softmax over -inf alone, which would spread
        # through the gradients of the keys and values
        dead = (scores.data == float("-inf")).all(axis=-1, keepdims=True)
        if get_xp(dead) is not np or dead.any():  # (on a GPU always: no sync to find out)
            scores = E.where(dead, 0.0, scores)
        else:
            dead = None
    weights = A.softmax(scores, -1)
    if dead is not None:
        weights = E.where(dead, 0.0, weights)
    if dropout_p > 0:
        weights = _dropout(weights, p=dropout_p)
    return L.matmul(weights, value)
