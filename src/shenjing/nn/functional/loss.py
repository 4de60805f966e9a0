"""torch's losses in torch's (input, target) order. Most are shenjing's ``F`` ones, which
already have torch's signatures; added here: ``kl_div``, ``cosine_similarity``,
``pairwise_distance``."""

from __future__ import annotations

import warnings
from typing import Any

from ...autograd import Tensor
from ...functional import elementwise as E
from ...functional import reduction as R
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
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (broadcasting x1, x2):
    each vector divided by its clamped norm first, as torch."""
    a, b = E.floating(as_tensor(x1)), E.floating(as_tensor(x2))
    na = E.clip(R.norm(a, 2, dim, keepdim=True), eps, None)
    nb = E.clip(R.norm(b, 2, dim, keepdim=True), eps, None)
    return R.sum((a / na) * (b / nb), axis=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last axis (torch's eps inside the norm)."""
    a, b = E.floating(as_tensor(x1)), E.floating(as_tensor(x2))
    return R.norm(a - b + eps, p, -1, keepdim=keepdim)
