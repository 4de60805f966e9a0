"""torch's losses in torch's (input, target) order. Most are shenjing's ``F`` ones, which
already have torch's signatures; added here: ``kl_div``, ``cosine_similarity``,
``pairwise_distance``, ``ctc_loss``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...autograd import Tensor
from ...backend import asnumpy
from ...functional import elementwise as E
from ...functional import reduction as R
from ...functional import shape as S
from ...functional._util import as_tensor
from ...functional.loss import (  # noqa: F401 - torch's signatures already
    _reduce,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)


def kl_div(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """torch's ``F.kl_div``: ``input`` log-probabilities, ``target`` probabilities (or
    log-probabilities with ``log_target``); pointwise target (log target - input), 0 where the
    target is 0. ``reduction='batchmean'`` divides the sum by the batch size (the true KL
    divergence); 'mean' divides by every element and warns, as torch.

    >>> loss = F.kl_div(F.log_softmax(logits, dim=1), probs, reduction="batchmean")
    """
    input = E.floating(as_tensor(input))  # noqa: A001
    target = as_tensor(target, like=input)
    if log_target:
        per = E.exp(target) * (target - input)
    else:
        positive = target.data > 0
        safe = E.where(positive, target, 1.0)  # log(0) never taken; xlogy(0, 0) = 0
        per = E.where(positive, target * E.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        return R.sum(per) * (1.0 / (input.shape[0] if input.ndim else 1))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    return _reduce(per, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` of x1 and x2 broadcast
    to one shape (first: an input broadcast along ``dim`` has the norm of the repeated
    vector): each vector divided by its clamped norm, as torch."""
    a, b = E.floating(as_tensor(x1)), E.floating(as_tensor(x2))
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = S.broadcast_to(a, shape), S.broadcast_to(b, shape)
    na = E.clip(R.norm(a, 2, dim, keepdim=True), eps, None)
    nb = E.clip(R.norm(b, 2, dim, keepdim=True), eps, None)
    return R.sum((a / na) * (b / nb), axis=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last axis (torch's eps inside the norm)."""
    a, b = E.floating(as_tensor(x1)), E.floating(as_tensor(x2))
    return R.norm(a - b + eps, p, -1, keepdim=keepdim)


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """torch's ``F.ctc_loss``: ``log_probs`` (frames, batch, classes) or (frames, classes)
    log-softmax outputs; ``targets`` (batch, longest) padded, or all samples' labels
    concatenated in 1-D; 'mean' divides each sample's loss by its label count (at least 1),
    then averages, as torch. See :mod:`shenjing.functional.ctc`. The gradient with respect to
    ``log_probs`` is -posterior, the true derivative; torch's kernel returns
    ``exp(log_probs) - posterior``, which assumes a log-softmax input. Through a log-softmax
    (the normal use) both give the same gradient for the logits; on log-probabilities that
    are a leaf of their own they differ.

    >>> loss = F.ctc_loss(logits.log_softmax(2), targets, input_lengths, target_lengths)
    """
    import numpy as np

    from ...functional import shape as S
    from ...functional.ctc import ctc_log_likelihood_loss

    log_probs = as_tensor(log_probs)
    unbatched = log_probs.ndim == 2
    batch_first = S.expand_dims(log_probs, 0) if unbatched else S.transpose(log_probs, (1, 0, 2))
    ids = asnumpy(targets.data if isinstance(targets, Tensor) else targets)
    lengths = np.atleast_1d(np.asarray(
        target_lengths.data if isinstance(target_lengths, Tensor) else target_lengths))
    if unbatched and ids.ndim == 1:
        ids = ids[None, :]
    elif ids.ndim == 1:  # concatenated: cut back into padded rows
        if lengths.sum() != len(ids):
            raise ValueError(f"ctc_loss: 1-D targets hold {len(ids)} labels but target_lengths "
                             f"add up to {int(lengths.sum())}")
        rows = np.zeros((len(lengths), max(int(lengths.max(initial=0)), 1)), dtype=np.int64)
        for i, piece in enumerate(np.split(ids, np.cumsum(lengths)[:-1])):
            rows[i, :len(piece)] = piece
        ids = rows
    per = ctc_log_likelihood_loss(batch_first, ids, np.atleast_1d(
        asnumpy(input_lengths.data if isinstance(input_lengths, Tensor) else input_lengths)),
        lengths, blank=blank, zero_infinity=zero_infinity)
    if reduction == "mean":
        per = per / np.maximum(lengths, 1).astype(per.dtype)
    out = _reduce(per, reduction)
    return S.squeeze(out, 0) if unbatched and reduction == "none" else out
