"""Losses on embeddings rather than class scores: Circle (Sun et al., 2020), as Keras 3."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import host
from .base import LossFunctionWrapper, _as_pred


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80.0, margin: float = 0.4) -> Tensor:
    """Circle loss (Sun et al., 2020) of L2-normalized embeddings ``y_pred`` (N, D) with integer
    labels ``y_true`` (N,), against ``ref_embeddings`` / ``ref_labels`` (default: the batch
    itself), as Keras 3 computes it: with cosine distances ``d = max(1 - y_pred ref^T, 0)``,

        p = logsumexp over same-label pairs of -gamma max(margin + d, 0) (margin - d)
        n = logsumexp over other pairs of gamma max(1 + margin - d, 0) (1 - margin - d)
        loss = softplus(p + n),  one value per row

    ``remove_diagonal`` leaves each row's pair with itself out of the positives. Rows with no
    positive pair get 0 and are left out of the mean (they carry a mask, as in Keras)."""
    emb = _as_pred(y_pred)
    ref = emb if ref_embeddings is None else _as_pred(ref_embeddings, emb.dtype)
    labels = np.asarray(host(y_true)).reshape(-1).astype(np.int64)
    ref_ids = labels if ref_labels is None else np.asarray(host(ref_labels)).reshape(-1).astype(
        np.int64)
    if emb.ndim != 2 or ref.ndim != 2 or emb.shape[1] != ref.shape[1]:
        raise ValueError(f"circle: embeddings must be (N, D) and references (M, D), got "
                         f"{emb.shape} and {ref.shape}")
    if len(labels) != emb.shape[0] or len(ref_ids) != ref.shape[0]:
        raise ValueError(f"circle: {len(labels)} labels for {emb.shape[0]} embeddings and "
                         f"{len(ref_ids)} for {ref.shape[0]} references; one label each")
    positive = labels[:, None] == ref_ids[None, :]
    negative = ~positive
    if remove_diagonal:
        positive &= ~np.eye(*positive.shape, dtype=bool)
    distance = F.maximum(1.0 - F.matmul(emb, F.transpose(ref)), 0.0)
    pos_weight = F.maximum((margin + distance) * positive.astype(emb.dtype), 0.0)
    neg_weight = F.maximum((1.0 + margin - distance) * negative.astype(emb.dtype), 0.0)
    pos_logits = F.where(positive, -gamma * pos_weight * (margin - distance), -np.inf)
    neg_logits = F.where(negative, gamma * neg_weight * (1.0 - margin - distance), -np.inf)
    per = F.softplus(F.logsumexp(pos_logits, axis=1) + F.logsumexp(neg_logits, axis=1))
    per._keras_mask = per.data > 0
    return per


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (put a
    ``UnitNormalization`` layer after the embedding's ``Dense``); see :func:`circle`.

    >>> model.compile(optimizer="adam", loss=shenjing.losses.Circle())
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle",
                 dtype: Any = None) -> None:
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
