"""torch's losses in torch's (input, target) order. Most are shenjing's ``F`` ones, which
already have torch's signatures; added here: ``kl_div``, ``cosine_similarity``,
``pairwise_distance``, ``ctc_loss``, the margin losses (``margin_ranking_loss``,
``hinge_embedding_loss``, ``soft_margin_loss``, ``cosine_embedding_loss``,
``triplet_margin_loss``, ``multi_margin_loss``, ``multilabel_margin_loss``) and the
likelihoods ``poisson_nll_loss``, ``gaussian_nll_loss``.

Where torch broadcasts an input against the others, these ask for one shape (a (N, 1) input
against (N,) targets would make an (N, N) loss without an error). torch's deprecated
``size_average`` and ``reduce`` are left out: the arguments after them are keyword-only.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...autograd import Tensor
from ...backend import on_device_of
from ...functional import activation as A
from ...functional import elementwise as E
from ...functional import reduction as R
from ...functional import shape as S
from ...functional._util import as_tensor, class_ids, host
from ...functional.loss import (  # noqa: F401 - torch's signatures already
    _TORCH_NAMES,
    _pair,
    _reduce,
    _torch_reduce,
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
        n = input.shape[0] if input.ndim else 1
        return R.sum(per) * (1.0 / n if n else float("nan"))  # an empty batch: NaN, as torch
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
    ids = host(targets)
    lengths = np.atleast_1d(host(target_lengths))
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
    per = ctc_log_likelihood_loss(batch_first, ids, np.atleast_1d(host(input_lengths)),
                                  lengths, blank=blank, zero_infinity=zero_infinity)
    if reduction == "mean":
        per = per / np.maximum(lengths, 1).astype(per.dtype)
    out = _reduce(per, reduction)
    return S.squeeze(out, 0) if unbatched and reduction == "none" else out


# -- margin losses ---------------------------------------------------------------------------------
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0, *,
                        reduction: str = "mean") -> Tensor:
    """torch's ``F.margin_ranking_loss``: ``max(0, -target (input1 - input2) + margin)``
    element-wise, ``target`` 1 where ``input1`` should rank higher, -1 where ``input2``."""
    input2, input1 = _pair("margin_ranking_loss", input2, input1, ("input2", "input1"))
    target, input1 = _pair("margin_ranking_loss", target, input1, _TORCH_NAMES)
    return _reduce(E.maximum(-target * (input1 - input2) + margin, 0.0), reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0, *,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """torch's ``F.hinge_embedding_loss``: ``input`` (a distance) where ``target`` is 1,
    ``max(0, margin - input)`` where it is -1 (both terms where it is neither, as torch)."""
    target, input = _pair("hinge_embedding_loss", target, input, _TORCH_NAMES)  # noqa: A001
    labels = target.data
    per = E.where(labels != 1, E.maximum(margin - input, 0.0), 0.0) + E.where(
        labels != -1, input, 0.0)
    return _reduce(per, reduction)


def soft_margin_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """torch's ``F.soft_margin_loss``: ``log(1 + exp(-target input))`` element-wise, for
    targets -1/1 (as a softplus: no overflow where torch's gives inf)."""
    target, input = _pair("soft_margin_loss", target, input, _TORCH_NAMES)  # noqa: A001
    return _reduce(A.softplus(-target * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Any,  # noqa: A002
                                weight: Tensor | None = None, *,
                                reduction: str = "mean") -> Tensor:
    """torch's ``F.multilabel_soft_margin_loss``: each class a binary cross-entropy from
    logits, ``-(y log sigmoid(x) + (1 - y) log sigmoid(-x))`` (times ``weight`` per class,
    which must broadcast to the input's shape without enlarging it),
    averaged over the classes of a sample; then ``reduction`` over the batch."""
    name = "multilabel_soft_margin_loss"
    target, input = _pair(name, target, input, _TORCH_NAMES)  # noqa: A001
    # torch's terms (not BCE-with-logits' max(x, 0) - x t, NaN at x = inf, t = 0): an infinite
    # logit gives what torch gives
    per = target * A.softplus(-input) + (1.0 - target) * A.softplus(input)
    return _reduce(R.mean(_torch_reduce(name, per, "none", weight), axis=-1), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0, *,
                          reduction: str = "mean") -> Tensor:
    """torch's ``F.cosine_embedding_loss``: ``1 - cos(input1, input2)`` where ``target`` is 1,
    ``max(0, cos - margin)`` where it is -1 (0 elsewhere), for (N, D) inputs and (N,) targets
    or (D,) inputs and a scalar target; ``cos`` with torch's 1e-12 added to each squared norm.
    """
    input2, input1 = _pair("cosine_embedding_loss", input2, input1, ("input2", "input1"))
    target = as_tensor(target, like=input1)
    if (target.ndim, input1.ndim) not in ((1, 2), (0, 1)) or target.shape != input1.shape[:-1]:
        raise ValueError(f"cosine_embedding_loss: inputs (N, D) need a target (N,), inputs (D,) "
                         f"a scalar target; got inputs of shape {input1.shape} and a target of "
                         f"shape {target.shape}")
    dim = input1.ndim - 1
    squares = (R.sum(input1 * input1, axis=dim) + 1e-12) * (R.sum(input2 * input2, axis=dim)
                                                             + 1e-12)
    cos = R.sum(input1 * input2, axis=dim) / E.sqrt(squares)
    labels = target.data
    per = E.where(labels == 1, 1.0 - cos, 0.0) + E.where(
        labels == -1, E.maximum(cos - margin, 0.0), 0.0)
    return _reduce(per, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, *,
                        reduction: str = "mean") -> Tensor:
    """torch's ``F.triplet_margin_loss``: ``max(0, margin + d(anchor, positive) -
    d(anchor, negative))`` with ``d`` :func:`pairwise_distance` (p-norm, ``eps``) along the last
    axis; ``swap`` uses the smaller of d(anchor, negative) and d(positive, negative)."""
    if not margin > 0:
        raise ValueError(f"triplet_margin_loss: margin must be > 0 (as torch), got {margin}")
    positive, anchor = _pair("triplet_margin_loss", positive, anchor, ("positive", "anchor"))
    negative, anchor = _pair("triplet_margin_loss", negative, anchor, ("negative", "anchor"))
    d_positive = pairwise_distance(anchor, positive, p, eps)
    d_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_negative = E.minimum(d_negative, pairwise_distance(positive, negative, p, eps))
    return _reduce(E.maximum(margin + d_positive - d_negative, 0.0), reduction)


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """torch's ``F.multi_margin_loss``, the multi-class hinge (an SVM's loss): for scores ``x``
    (N, C) or (C,) and class ids ``y``, ``sum over i != y of w[y] max(0, margin - x[y] +
    x[i])**p / C``, ``p`` 1 or 2, ``weight`` one number per class (ones by default)."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p!r}")
    scores = E.floating(as_tensor(input))
    if scores.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: input must be (N, C) or (C,), got shape "
                         f"{scores.shape}")
    x = S.expand_dims(scores, 0) if scores.ndim == 1 else scores
    n, c = x.shape
    labels = np.asarray(host(target))
    if labels.ndim > 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"multi_margin_loss: target must be integer class ids, (N,) or one "
                         f"(as torch), got {labels.dtype} of shape {labels.shape}")
    ids, _ = class_ids(labels.reshape(-1), c, "multi_margin_loss")
    if len(ids) != n:
        raise ValueError(f"multi_margin_loss: {n} rows of scores but {len(ids)} targets")
    rows = np.arange(n)
    others = np.ones((n, c), dtype=x.dtype)
    others[rows, ids] = 0  # the target's own term is left out
    others = on_device_of(others, x.data)
    hinge = E.maximum(margin - S.expand_dims(x[rows, ids], 1) + x, 0.0)
    per = R.sum((hinge if p == 1 else hinge * hinge) * others, axis=1)
    if weight is not None:
        w = as_tensor(weight, like=x)
        if w.shape != (c,):
            raise ValueError(f"multi_margin_loss: weight must have one entry per class ({c}), "
                             f"got shape {w.shape}")
        per = per * w[ids]
    per = per * (1.0 / c)
    return _reduce(S.squeeze(per, 0) if scores.ndim == 1 else per, reduction)


def multilabel_margin_loss(input: Tensor, target: Any, *,  # noqa: A002
                           reduction: str = "mean") -> Tensor:
    """torch's ``F.multilabel_margin_loss``: for scores ``x`` (N, C) or (C,) and ``target`` of
    the same shape holding each sample's class ids, ended by the first -1, ``sum over its
    target ids j and the other classes i of max(0, 1 - (x[j] - x[i])) / C`` (a repeated id
    counts again, as torch's)."""
    scores = E.floating(as_tensor(input))
    labels = np.asarray(host(target))
    if scores.ndim not in (1, 2) or labels.shape != scores.shape:
        raise ValueError(f"multilabel_margin_loss: input (N, C) or (C,) and a target of the "
                         f"same shape, got {scores.shape} and {labels.shape}")
    x = S.expand_dims(scores, 0) if scores.ndim == 1 else scores
    labels = labels.reshape(x.shape)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"multilabel_margin_loss: target must hold integer class ids, got "
                         f"{labels.dtype}")
    n, c = x.shape
    if labels.size and bool(((labels < -1) | (labels >= c)).any()):
        raise ValueError(f"multilabel_margin_loss: target ids must lie in [-1, {c}), got "
                         f"values from {labels.min()} to {labels.max()}")
    used = np.cumprod(labels != -1, axis=1).astype(bool)  # up to the first -1
    k = int(used.sum(axis=1).max()) if n else 0  # the longest list of targets
    is_target = np.zeros((n, c), dtype=bool)
    is_target[np.nonzero(used)[0], labels[used]] = True
    slots = used[:, :k]  # (N, K): the target ids' scores, 0 in the padded slots
    targets = E.where(on_device_of(slots, x.data),
                      x[np.arange(n)[:, None], np.where(slots, labels[:, :k], 0)], 0.0)
    with np.errstate(invalid="ignore"):  # inf - inf where both scores are infinite
        margins = 1.0 - S.expand_dims(targets, 2) + S.expand_dims(x, 1)  # 1 - (x[j] - x[i])
        counted = on_device_of(slots[:, :, None] & ~is_target[:, None, :], x.data) & (
            margins.data > 0)  # (N, K, C)
    # torch's rule, z counted where z > 0 (so a NaN margin adds nothing); where, not a product
    # with the mask, so that an infinite score elsewhere does not give inf * 0
    per = R.sum(E.where(counted, margins, 0.0), axis=(1, 2)) * (1.0 / c)
    return _reduce(S.squeeze(per, 0) if scores.ndim == 1 else per, reduction)


# -- likelihoods -----------------------------------------------------------------------------------
def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True,  # noqa: A002
                     full: bool = False, *, eps: float = 1e-8,
                     reduction: str = "mean") -> Tensor:
    """torch's ``F.poisson_nll_loss``: the Poisson negative log-likelihood of counts
    ``target``, ``exp(input) - target input`` for log-rates (``log_input``), else
    ``input - target log(input + eps)``; ``full`` adds Stirling's
    ``target log(target) - target + log(2 pi target) / 2`` where ``target > 1``."""
    target, input = _pair("poisson_nll_loss", target, input, _TORCH_NAMES)  # noqa: A001
    if log_input:
        per = E.exp(input) - target * input
    else:
        per = input - target * E.log(input + eps)
    if full:
        counted = target.data > 1
        t = E.where(counted, target, 1.0)  # no log of a count <= 1 (their term is 0)
        per = per + E.where(counted, t * E.log(t) - t + 0.5 * E.log(2 * math.pi * t), 0.0)
    return _reduce(per, reduction)


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """torch's ``F.gaussian_nll_loss``: ``(log(var) + (input - target)**2 / var) / 2`` (+
    ``log(2 pi) / 2`` with ``full``), ``var`` the predicted variances: the input's shape, or one
    axis of size 1 (or the last missing) for one variance shared along it, or a number. ``var``
    is clamped to ``eps`` for the value only, its gradient passing through as torch's."""
    name = "gaussian_nll_loss"
    target, input = _pair(name, target, input, _TORCH_NAMES)  # noqa: A001
    var = as_tensor(var, like=input)
    if bool((var.data < 0).any()):
        raise ValueError(f"{name}: var has negative entries")
    if var.ndim == 0:
        var = S.broadcast_to(var, input.shape)
    elif var.shape == input.shape[:-1]:
        var = S.expand_dims(var, -1)
    elif var.shape != input.shape and not (var.ndim == input.ndim and sum(
            v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1):
        raise ValueError(f"{name}: var of shape {var.shape} fits neither the input's shape "
                         f"{input.shape} nor it with one axis of size 1")
    clamped = var + (E.maximum(var, eps) - var).detach()
    per = 0.5 * (E.log(clamped) + (input - target) ** 2 / clamped)
    if full:
        per = per + 0.5 * math.log(2 * math.pi)
    return _reduce(per, reduction)
