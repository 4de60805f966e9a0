"""The CTC loss of sequences that are not aligned to their labels (Keras 3's ``CTC``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor
from ..functional._util import host
from .base import _OneFunction


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample CTC loss (see :mod:`shenjing.functional.ctc`) of ``y_pred`` logits (batch,
    frames, classes) against ``y_true`` (batch, longest) integer labels, class 0 being the
    blank. Every frame counts; a label sequence ends at its first 0, so shorter ones are padded
    with zeros (Keras 3 counts the non-zero labels, the same for sequences padded at the end;
    a 0 inside a sequence ends it here)."""
    from ..functional.ctc import ctc_loss

    labels = host(y_true)
    if labels.ndim != 2:
        raise ValueError(f"ctc: y_true must be (batch, longest) integer labels, got shape "
                         f"{labels.shape}")
    shape = tuple(y_pred.shape) if isinstance(y_pred, Tensor) else np.shape(y_pred)
    if len(shape) != 3:
        raise ValueError(f"ctc: y_pred must be (batch, frames, classes) logits, got shape "
                         f"{shape}")
    padding = labels == 0
    lengths = np.where(padding.any(axis=1), padding.argmax(axis=1), labels.shape[1])
    return ctc_loss(labels, y_pred, lengths, np.full(len(labels), shape[1]))


class CTC(_OneFunction):
    """CTC loss for (batch, frames, classes) logits against label sequences; see :func:`ctc`.

    >>> model.compile(optimizer="adam", loss=CTC())   # y: (batch, longest) labels, 0 = blank
    """

    fn = staticmethod(ctc)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "ctc", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
