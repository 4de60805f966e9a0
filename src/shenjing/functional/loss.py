"""Losses, in Keras's argument order ``(y_true, y_pred)``: mean squared and absolute error, Huber,
binary, categorical and sparse categorical cross-entropy.

Each returns the mean over all samples by default (``reduction='mean'``), or the sum, or one value
per sample (``reduction='none'``). Shapes of prediction and target must match exactly (a
(N, 1) prediction against (N,) targets would otherwise broadcast to an (N, N) loss and train
silently wrong); only the sparse form takes integer class labels. Cross-entropy from logits is a
fused op with the short backward ``softmax - onehot``.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor
from ..backend import get_xp
from . import activation as A
from . import elementwise as E
from . import reduction as R
from ._util import as_tensor, class_ids

EPSILON = 1e-7  # Keras's clip for probabilities before taking logs


def _reduce(per_sample: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(per_sample)
    if reduction == "sum":
        return R.sum(per_sample)
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair(name: str, y_true: Any, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, like=y_pred)
    if y_true.dtype != y_pred.dtype and y_pred.dtype.kind == "f":
        y_true = E.cast(y_true, y_pred.dtype)  # an int or float64 target must not promote
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; "
            "they must match (reshape one of them, e.g. y_true.reshape(y_pred.shape))"
        )
    return y_true, y_pred


def _per_sample(x: Tensor) -> Tensor:
    """Average over the last axis, one value per sample (Keras's convention)."""
    return R.mean(x, axis=-1) if x.ndim > 1 else x


def mean_squared_error(y_true: Any, y_pred: Tensor, reduction: str = "mean") -> Tensor:
    """mean((y_pred - y_true)**2)."""
    y_true, y_pred = _pair("mean_squared_error", y_true, y_pred)
    d = y_pred - y_true
    return _reduce(_per_sample(d * d), reduction)


def mean_absolute_error(y_true: Any, y_pred: Tensor, reduction: str = "mean") -> Tensor:
    """mean(|y_pred - y_true|)."""
    y_true, y_pred = _pair("mean_absolute_error", y_true, y_pred)
    return _reduce(_per_sample(E.abs(y_pred - y_true)), reduction)


def huber(y_true: Any, y_pred: Tensor, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """0.5 d**2 where |d| <= delta, else delta (|d| - 0.5 delta), with d = y_pred - y_true."""
    y_true, y_pred = _pair("huber", y_true, y_pred)
    a = E.abs(y_pred - y_true)
    q = E.minimum(a, delta)
    return _reduce(_per_sample(0.5 * q * q + delta * (a - q)), reduction)


class _BCEWithLogits(Function):
    """l = max(x, 0) - x t + ln(1 + e**-|x|);  dl/dx = sigmoid(x) - t (no overflow, no kink)."""

    def forward(self, x, t):
        xp = get_xp(x)
        self.save_for_backward(x, t)
        return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        x, t = self.saved
        gx = g * (A._sigmoid(x) - t) if self.needs_input_grad[0] else None
        gt = -g * x if self.needs_input_grad[1] else None
        return gx, gt


def binary_crossentropy(
    y_true: Any, y_pred: Tensor, from_logits: bool = False, reduction: str = "mean"
) -> Tensor:
    """-(t ln p + (1 - t) ln(1 - p)). From probabilities they are clipped to [1e-7, 1 - 1e-7]
    (Keras); from logits the stable fused form is used."""
    y_true, y_pred = _pair("binary_crossentropy", y_true, y_pred)
    if from_logits:
        per = _BCEWithLogits.apply(y_pred, y_true)
    else:
        p = E.clip(y_pred, EPSILON, 1 - EPSILON)
        per = -(y_true * E.log(p) + (1 - y_true) * E.log(1 - p))
    return _reduce(_per_sample(per), reduction)


class _SoftmaxCrossEntropy(Function):
    """l = -sum(t log_softmax(x));  dl/dx = softmax(x) sum(t) - t."""

    def forward(self, x, t, axis=-1):
        xp = get_xp(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=axis, keepdims=True)
        log_p = shifted - xp.log(s)
        self.save_for_backward(e / s, t, log_p, axis)
        return -(t * log_p).sum(axis=axis)

    def backward(self, g):
        p, t, log_p, axis = self.saved
        g = get_xp(g).expand_dims(g, axis)
        gx = g * (p * t.sum(axis=axis, keepdims=True) - t) if self.needs_input_grad[0] else None
        gt = -g * log_p if self.needs_input_grad[1] else None
        return gx, gt


def categorical_crossentropy(
    y_true: Any,
    y_pred: Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    reduction: str = "mean",
) -> Tensor:
    """-sum(t ln p) over ``axis`` for one-hot (or soft) targets ``t``. From probabilities, ``p``
    is renormalized and clipped as Keras does; from logits the fused softmax form is used."""
    y_true, y_pred = _pair("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        k = y_pred.shape[axis]
        y_true = y_true * (1 - label_smoothing) + label_smoothing / k
    if from_logits:
        per = _SoftmaxCrossEntropy.apply(y_pred, y_true, axis=axis)
    else:
        p = y_pred / R.sum(y_pred, axis=axis, keepdims=True)
        per = -R.sum(y_true * E.log(E.clip(p, EPSILON, 1 - EPSILON)), axis=axis)
    return _reduce(per, reduction)


class _SparseSoftmaxCrossEntropy(Function):
    """l = -log_softmax(x)[label];  dl/dx = softmax(x) - onehot(label). With ``mean`` the
    batch mean is taken here too, saving a node and a broadcast in the training hot path."""

    def forward(self, x, labels=None, mean=False):
        xp = get_xp(x)
        shifted = x - x.max(axis=-1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=-1, keepdims=True)
        rows = xp.arange(x.shape[0])
        loss = xp.log(s[:, 0]) - shifted[rows, labels]
        if self.needs_input_grad[0]:
            self.save_for_backward(e / s, rows, labels, mean)
        return xp.asarray(loss.mean()) if mean else loss

    def backward(self, g):
        p, rows, labels, mean = self.saved
        g = g / p.dtype.type(len(rows)) if mean else g[:, None]
        gx = p * g
        gx[rows, labels] -= g if mean else g[:, 0]
        return gx


def _check_labels(labels: Any, n_samples: int, n_classes: int) -> Any:
    ids, _ = class_ids(labels, n_classes, "sparse_categorical_crossentropy")
    if ids.shape != (n_samples,):
        raise ValueError(f"sparse_categorical_crossentropy: labels of shape "
                         f"{get_xp(labels).shape(labels)} do not match {n_samples} predictions "
                         f"(expected ({n_samples},) or ({n_samples}, 1))")
    return ids


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Tensor, from_logits: bool = False, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy against integer class labels shaped (N,) or (N, 1); y_pred is (N, classes).

    >>> loss = F.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    """
    y_pred = as_tensor(y_pred)
    if y_pred.ndim != 2:
        raise ValueError(f"sparse_categorical_crossentropy: y_pred must be (samples, classes), "
                         f"got shape {y_pred.shape}")
    raw = y_true.data if isinstance(y_true, Tensor) else y_true
    labels = _check_labels(raw, *y_pred.shape)
    if from_logits:
        if reduction == "mean" and len(labels):
            return _SparseSoftmaxCrossEntropy.apply(y_pred, labels=labels, mean=True)
        per = _SparseSoftmaxCrossEntropy.apply(y_pred, labels=labels)
    else:
        rows = get_xp(labels).arange(y_pred.shape[0])
        p = y_pred / R.sum(y_pred, axis=-1, keepdims=True)
        per = -E.log(E.clip(p[rows, labels], EPSILON, 1 - EPSILON))
    return _reduce(per, reduction)
