"""Losses, in Keras's argument order ``(y_true, y_pred)``: mean squared and absolute error, Huber,
binary, categorical and sparse categorical cross-entropy; and PyTorch's, under torch's names and
in its order ``(input, target)`` (``mse_loss``, ``cross_entropy``, ``nll_loss``...), built from
the same terms and fused ops.

Each returns the mean over all samples by default (``reduction='mean'``), or the sum, or one value
per sample (``reduction='none'``). Shapes of prediction and target must match exactly (a
(N, 1) prediction against (N,) targets would otherwise broadcast to an (N, N) loss and train
silently wrong); only the sparse form takes integer class labels. Cross-entropy from logits is a
fused op with the short backward ``softmax - onehot``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import native
from ..autograd import Function, Tensor
from ..backend import get_xp
from ..config import epsilon
from ..native import address
from . import activation as A
from . import elementwise as E
from . import reduction as R
from . import shape as S
from ._util import as_tensor, class_ids

EPSILON = epsilon()  # Keras's clip for probabilities before taking logs


def _reduce(per_sample: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(per_sample)
    if reduction == "sum":
        return R.sum(per_sample)
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair(name: str, y_true: Any, y_pred: Tensor,
          names: tuple[str, str] = ("y_true", "y_pred")) -> tuple[Tensor, Tensor]:
    """Target and prediction as Tensors of the prediction's dtype and exactly one shape
    (``names`` are what the error calls them: torch's ops say ``target`` and ``input``)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, like=y_pred)
    if y_true.dtype != y_pred.dtype and y_pred.dtype.kind == "f":
        y_true = E.cast(y_true, y_pred.dtype)  # an int or float64 target must not promote
    if y_true.shape != y_pred.shape:
        t, p = names
        raise ValueError(
            f"{name}: {t} has shape {y_true.shape} but {p} has shape {y_pred.shape}; "
            f"they must match (reshape one of them, e.g. {t}.reshape({p}.shape))"
        )
    return y_true, y_pred


def _per_sample(x: Tensor) -> Tensor:
    """Average over the last axis, one value per sample (Keras's convention)."""
    return R.mean(x, axis=-1) if x.ndim > 1 else x


# Element-wise terms, shared by Keras's losses (which average them over the last axis per
# sample) and torch's (which reduce them as they are).
def _squared(y_true: Tensor, y_pred: Tensor) -> Tensor:
    d = y_pred - y_true
    return d * d


def _absolute(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return E.abs(y_pred - y_true)


def _huber(y_true: Tensor, y_pred: Tensor, delta: float, scale: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| <= delta, else delta (|d| - 0.5 delta), times ``scale`` (smooth L1's
    1 / beta), as one expression: 0.5 q**2 + delta relu(|d| - delta) with q = |d| up to delta
    (no branch computed twice). Not delta (|d| - q): inside delta its gradient is delta -
    delta, which rounds (a gradient of 0 for delta = 1e5 and |d| = 1e-3 in float32)."""
    if y_pred.dtype == np.float16:  # in float32: delta * |d| overflows float16 at 65,504
        return E.cast(_huber(E.cast(y_true, np.float32), E.cast(y_pred, np.float32), delta,
                             scale), np.float16)  # (and a delta under its 6e-8 is 0)
    a = _absolute(y_true, y_pred)
    q = E.where(a.data <= delta, a, delta)  # at |d| = delta the gradient is d's, as torch's
    values = 0.5 * q * q + delta * A.relu(a - delta)
    return values if scale == 1.0 else values * scale


def mean_squared_error(y_true: Any, y_pred: Tensor, reduction: str = "mean") -> Tensor:
    """mean((y_pred - y_true)**2)."""
    return _reduce(_per_sample(_squared(*_pair("mean_squared_error", y_true, y_pred))), reduction)


def mean_absolute_error(y_true: Any, y_pred: Tensor, reduction: str = "mean") -> Tensor:
    """mean(|y_pred - y_true|)."""
    return _reduce(_per_sample(_absolute(*_pair("mean_absolute_error", y_true, y_pred))),
                   reduction)


def huber(y_true: Any, y_pred: Tensor, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """0.5 d**2 where |d| <= delta, else delta (|d| - 0.5 delta), with d = y_pred - y_true."""
    return _reduce(_per_sample(_huber(*_pair("huber", y_true, y_pred), delta)), reduction)


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

    def differentiable_backward(self, g):
        (x, t), need = self.inputs, self.needs_input_grad
        return (g * (A.sigmoid(x) - t) if need[0] else None), (-g * x if need[1] else None)


def binary_crossentropy(
    y_true: Any, y_pred: Tensor, from_logits: bool = False, reduction: str = "mean"
) -> Tensor:
    """-(t ln p + (1 - t) ln(1 - p)). From probabilities they are clipped to [1e-7, 1 - 1e-7]
    (Keras); from logits the stable fused form is used."""
    y_true, y_pred = _pair("binary_crossentropy", y_true, y_pred)
    return _reduce(_per_sample(_binary(y_true, y_pred, from_logits)), reduction)


def _binary(y_true: Tensor, y_pred: Tensor, from_logits: bool) -> Tensor:
    """Element-wise binary cross-entropy (clipped probabilities, or the fused logits op)."""
    if from_logits:
        return _BCEWithLogits.apply(y_pred, y_true)
    p = E.clip(y_pred, EPSILON, 1 - EPSILON)
    return -(y_true * E.log(p) + (1 - y_true) * E.log(1 - p))


class _SoftmaxCrossEntropy(Function):
    """l = -sum(t log_softmax(x));  dl/dx = softmax(x) sum(t) - t. A class with t = 0 adds 0,
    also where its logit is -inf (a masked class): 0 log 0 = 0, not 0 * -inf = NaN, as torch's
    class-id losses (for probability targets torch gives NaN there)."""

    def forward(self, x, t, axis=-1):
        xp = get_xp(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=axis, keepdims=True)
        log_p = shifted - xp.log(s)
        self.save_for_backward(e / s, t, log_p, axis)
        return -(t * xp.where(t != 0, log_p, 0)).sum(axis=axis)

    def backward(self, g):
        p, t, log_p, axis = self.saved
        g = get_xp(g).expand_dims(g, axis)
        gx = g * (p * t.sum(axis=axis, keepdims=True) - t) if self.needs_input_grad[0] else None
        gt = -g * log_p if self.needs_input_grad[1] else None
        return gx, gt

    def differentiable_backward(self, g):
        (x, t), need, axis = self.inputs, self.needs_input_grad, self.saved[3]
        g = S.expand_dims(g, axis)
        gx = g * (A.softmax(x, axis) * R.sum(t, axis, keepdims=True) - t) if need[0] else None
        return gx, (-g * A.log_softmax(x, axis) if need[1] else None)


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
    """l = -log_softmax(x)[label];  dl/dx = softmax(x) - onehot(label), made in the forward's
    pass (the backward only scales it). With ``mean`` the batch mean is taken here too, saving
    a node and a broadcast in the training hot path."""

    def forward(self, x, labels=None, mean=False):
        xp = get_xp(x)
        kernels = native.kernels_for(x)
        if kernels is not None:  # one pass per row in C (native/softmax_xent.c)
            labels = np.ascontiguousarray(labels, dtype=np.int64)
            d, loss = np.empty_like(x), np.empty(len(x), dtype=x.dtype)
            kernels.sj_softmax_xent(*x.shape, address(x), address(labels), address(d),
                                    address(loss))
            if mean:  # ndarray.mean's arithmetic without its Python wrapper (~4 us a step)
                loss = np.add.reduce(loss) / loss.dtype.type(len(loss))
        else:
            rows = xp.arange(x.shape[0])
            shifted = x - x.max(axis=-1, keepdims=True)
            e = xp.exp(shifted)
            s = e.sum(axis=-1, keepdims=True)
            loss, d = xp.log(s[:, 0]) - shifted[rows, labels], e / s
            d[rows, labels] -= 1
            if mean:
                loss = loss.mean()
        if self.needs_input_grad[0]:
            self.save_for_backward(d, labels, mean)
        return xp.asarray(loss)

    def backward(self, g):
        d, _, mean = self.saved  # d = softmax(x) - onehot(labels)
        return d * (g / d.dtype.type(len(d)) if mean else g[:, None])

    def differentiable_backward(self, g):
        x, (_, labels, mean) = self.inputs[0], self.saved
        xp = get_xp(x.data)
        onehot = xp.zeros(x.shape, dtype=x.dtype)
        onehot[xp.arange(len(labels)), labels] = 1
        g = g / len(labels) if mean else S.expand_dims(g, -1)
        return (A.softmax(x, -1) - onehot) * g


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
        return _sparse_from_logits(y_pred, labels, reduction)
    rows = get_xp(labels).arange(y_pred.shape[0])
    p = y_pred / R.sum(y_pred, axis=-1, keepdims=True)
    return _reduce(-E.log(E.clip(p[rows, labels], EPSILON, 1 - EPSILON)), reduction)


def _sparse_from_logits(logits: Tensor, labels: Any, reduction: str) -> Tensor:
    """The fused op on (N, C) logits and checked labels; 'mean' is taken inside it."""
    if reduction == "mean" and len(labels):
        return _SparseSoftmaxCrossEntropy.apply(logits, labels=labels, mean=True)
    return _reduce(_SparseSoftmaxCrossEntropy.apply(logits, labels=labels), reduction)


# -- PyTorch's functional losses: torch's names, argument order (input, target) and reductions ---
# Thin wrappers over the terms and fused ops above. Unlike the Keras forms, 'none' keeps every
# element (no per-sample mean) and 'mean' averages all of them, as torch.nn.functional does.
_TORCH_NAMES = ("target", "input")


def _fitting(name: str, what: str, value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor of ``like``'s dtype that broadcasts to ``like``'s shape without
    enlarging it (a weight never silently broadcasts the loss to a bigger shape)."""
    value = as_tensor(value, like=like)
    try:
        fits = np.broadcast_shapes(value.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {value.shape} does not broadcast to the "
                         f"input's shape {like.shape}")
    return value


def _torch_reduce(name: str, values: Tensor, reduction: str, weight: Any = None) -> Tensor:
    """``values`` times torch's element-wise ``weight``, then reduced over all elements."""
    if weight is not None:
        values = values * _fitting(name, "weight", weight, values)
    return _reduce(values, reduction)


def _element_weight(name: str, weight: Any, like: Tensor) -> Tensor:
    """torch 2.13's ``weight=`` of the regression losses: one weight per element, exactly the
    input's shape."""
    weight = as_tensor(weight, like=like)
    if weight.shape != like.shape:
        raise ValueError(f"{name}: weight of shape {weight.shape} must have the input's shape "
                         f"{like.shape}")
    return weight


def _weighted_mean(name: str, values: Tensor, reduction: str, weight: Any) -> Tensor:
    """``values`` times ``weight``, reduced as torch 2.13's weighted ``mse_loss`` and
    ``l1_loss``: 'mean' divides the sum by the sum of the weights."""
    if weight is None:
        return _reduce(values, reduction)
    weight = _element_weight(name, weight, values)
    values = values * weight
    return R.sum(values) / R.sum(weight) if reduction == "mean" else _reduce(values, reduction)


def mse_loss(input: Tensor, target: Any, *, reduction: str = "mean",
             weight: Any = None) -> Tensor:
    """PyTorch's ``F.mse_loss``: ``(input - target)**2`` element-wise, then ``reduction``
    (``'mean'`` over all elements, ``'sum'``, or ``'none'``: the input's shape). torch 2.13's
    ``weight`` (the input's shape) multiplies each element; 'mean' then divides by its sum.

    >>> F.mse_loss(prediction, target)
    """
    target, input = _pair("mse_loss", target, input, _TORCH_NAMES)
    return _weighted_mean("mse_loss", _squared(target, input), reduction, weight)


def l1_loss(input: Tensor, target: Any, *, reduction: str = "mean",
            weight: Any = None) -> Tensor:
    """PyTorch's ``F.l1_loss``: ``|input - target|`` element-wise, then ``reduction``;
    ``weight`` as :func:`mse_loss`'s."""
    target, input = _pair("l1_loss", target, input, _TORCH_NAMES)
    return _weighted_mean("l1_loss", _absolute(target, input), reduction, weight)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """PyTorch's ``F.huber_loss``: ``0.5 d**2`` where ``|d| <= delta``, else
    ``delta (|d| - delta / 2)``, element-wise, times torch 2.13's ``weight`` (the input's
    shape; 'mean' still divides by the number of elements, as torch), then ``reduction``."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0 (as torch), got {delta}")
    target, input = _pair("huber_loss", target, input, _TORCH_NAMES)
    values = _huber(target, input, delta)
    if weight is not None:
        values = values * _element_weight("huber_loss", weight, values)
    return _reduce(values, reduction)


def smooth_l1_loss(input: Tensor, target: Any, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """PyTorch's ``F.smooth_l1_loss``: ``0.5 d**2 / beta`` where ``|d| < beta``, else
    ``|d| - beta / 2``; that is ``huber_loss(delta=beta) / beta``, and the L1 loss for
    ``beta=0``."""
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0 (as torch), got {beta}")
    target, input = _pair("smooth_l1_loss", target, input, _TORCH_NAMES)
    if beta == 0:
        return _reduce(_absolute(target, input), reduction)
    return _reduce(_huber(target, input, beta, 1.0 / beta), reduction)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, *,
                         reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.binary_cross_entropy`` on probabilities, element-wise, times ``weight``
    (broadcast to the input's shape), then ``reduction``.

    Probabilities are clipped to [1e-7, 1 - 1e-7] as in Keras, so a certain mistake costs
    ``-ln(1e-7) = 16.1`` where torch clamps the log at -100, and the gradient is 0 beyond the
    clip; inside it the two agree. Probabilities or targets outside [0, 1] (logits passed by
    mistake) are an error, as torch's.
    """
    target, input = _pair("binary_cross_entropy", target, input, _TORCH_NAMES)
    for name, t in (("input", input), ("target", target)):
        xp = get_xp(t.data)
        if t.size and not bool(xp.all((t.data >= 0) & (t.data <= 1))):  # NaN fails too
            raise ValueError(f"binary_cross_entropy: every element of the {name} must lie in "
                             f"[0, 1], got values from {float(xp.min(t.data))} to "
                             f"{float(xp.max(t.data))} (logits? use "
                             f"binary_cross_entropy_with_logits)")
    return _torch_reduce("binary_cross_entropy", _binary(target, input, False), reduction,
                         weight)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, *,
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """PyTorch's ``F.binary_cross_entropy_with_logits``: the fused, overflow-free binary
    cross-entropy on logits, times ``weight``, then ``reduction``. ``pos_weight`` (broadcast
    along the last axis, one per class) scales the positive term:
    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``.
    """
    name = "binary_cross_entropy_with_logits"
    target, input = _pair(name, target, input, _TORCH_NAMES)
    if pos_weight is None:
        per = _BCEWithLogits.apply(input, target)
    else:
        scale = 1.0 + (_fitting(name, "pos_weight", pos_weight, input) - 1.0) * target
        per = (1.0 - target) * input + scale * A.softplus(-input)
    return _torch_reduce(name, per, reduction, weight)


def _is_probabilities(name: str, input: Tensor, target: Any, allowed: bool = True) -> bool:
    """Whether the target holds probabilities (the input's shape) rather than class ids (the
    input's shape without axis 1); any other shape raises."""
    ids_shape = input.shape[:1] + input.shape[2:]
    if allowed and target.shape == input.shape:
        return True
    if target.shape != ids_shape:
        also = f", or probabilities of the input's shape {input.shape}" if allowed else ""
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of shape "
                         f"{input.shape}: class ids need shape {ids_shape}{also}")
    return False


def _class_targets(name: str, input: Tensor, raw: Any, weight: Any, ignore_index: int,
                   label_smoothing: float = 0.0) -> tuple[Tensor, float]:
    """Class ids as dense per-class weights ``T`` shaped like the input (class axis 1):
    ``w[c] ((1 - s) onehot + s / C)``, zero where the id is ``ignore_index``. Cross-entropy is
    then ``-sum(T log_softmax(x), axis=1)`` (torch's weighted and smoothed form, expanded) and
    the NLL ``-sum(T x, axis=1)``. Also returns torch's divisor for 'mean': the summed weights
    of the counted targets."""
    xp = get_xp(input.data)
    n_classes = input.shape[1]
    counted = raw != ignore_index
    ids, _ = class_ids(xp.where(counted, raw, 0).reshape(-1), n_classes, name)
    ids = ids.reshape(raw.shape)
    w = xp.ones(n_classes, input.dtype) if weight is None else xp.asarray(
        weight.data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    if w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({n_classes},), "
                         f"got shape {w.shape}")
    dense = xp.zeros((*ids.shape, n_classes), dtype=input.dtype)  # (N, d..., C) one-hot: not
    xp.put_along_axis(dense, ids[..., None], 1, axis=-1)  # eye(C)[ids], C * C for 1,000 classes
    if label_smoothing:
        dense = dense * (1 - label_smoothing) + label_smoothing / n_classes
    dense = dense * w * counted[..., None].astype(input.dtype)
    return Tensor(xp.moveaxis(dense, -1, 1), dtype=input.dtype), float((w[ids] * counted).sum())


def _mean_over_weights(per: Tensor, divisor: float, reduction: str) -> Tensor:
    """torch's reductions of a class-id loss: 'mean' divides by the summed weights of the
    counted targets (NaN when nothing counts, as torch, with a zero gradient: a batch of
    padding only must not turn the weights into NaN)."""
    if reduction != "mean":
        return _reduce(per, reduction)
    return R.sum(per) * (1.0 / divisor) if divisor else R.sum(per) * 0.0 + float("nan")


def _class_input(name: str, input: Any, target: Any) -> tuple[Tensor, Any, bool]:
    """The logits or log-probabilities of a class loss and its target (a Tensor or an array),
    an unbatched input (C,) made a batch of one as torch takes it; True when it was."""
    input = as_tensor(input)
    if not isinstance(target, Tensor):
        target = get_xp(input.data).asarray(target)
    if input.ndim == 1:
        return input.reshape(1, -1), target[None], True
    if input.ndim < 2:
        raise ValueError(f"{name}: input must be (N, C), (N, C, d1, ...) or (C,), got shape "
                         f"{input.shape}")
    return input, target, False


def cross_entropy(input: Tensor, target: Any, weight: Any = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """PyTorch's ``F.cross_entropy``: softmax cross-entropy of logits shaped (N, C),
    (N, C, d1, ...) or (C,) (the class axis is 1, as torch) against class ids shaped
    (N, d1, ...) or class probabilities shaped as the input.

    Args:
        input: logits.
        target: integer class ids, or probabilities (a floating target of the input's shape).
        weight: one weight per class, shape (C,).
        ignore_index: class ids equal to it add nothing to the loss or the 'mean' divisor.
        reduction: ``'mean'`` (for class ids divided by the summed weights of the counted
            targets, for probabilities by the number of positions), ``'sum'`` or ``'none'``
            (one value per position: the input's shape without axis 1).
        label_smoothing: targets mixed with the uniform distribution, ``(1 - s) t + s / C``.

    >>> loss = F.cross_entropy(logits, labels)        # logits (N, C), labels (N,) int
    """
    input, target, unbatched = _class_input("cross_entropy", input, target)
    if _is_probabilities("cross_entropy", input, target):
        target, input = _pair("cross_entropy", target, input, _TORCH_NAMES)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[1]
        if weight is not None:
            target = target * as_tensor(weight, like=input).reshape(
                (1, -1) + (1,) * (input.ndim - 2))
        out = _reduce(_SoftmaxCrossEntropy.apply(input, target, axis=1), reduction)
    else:
        raw = target.data if isinstance(target, Tensor) else target
        if (input.ndim == 2 and weight is None and not label_smoothing
                and not (raw == ignore_index).any()):  # the training hot path: one fused op
            labels, _ = class_ids(raw, input.shape[1], "cross_entropy")
            out = _sparse_from_logits(input, labels, reduction)
        else:
            dense, divisor = _class_targets("cross_entropy", input, raw, weight, ignore_index,
                                            label_smoothing)
            out = _mean_over_weights(_SoftmaxCrossEntropy.apply(input, dense, axis=1), divisor,
                                     reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def nll_loss(input: Tensor, target: Any, weight: Any = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.nll_loss``: ``-weight[t] input[n, t]`` for log-probabilities ``input``
    shaped (N, C), (N, C, d1, ...) or (C,) and class ids ``t`` shaped (N, d1, ...);
    ``ignore_index`` and the reductions as :func:`cross_entropy`.

    >>> loss = F.nll_loss(F.log_softmax(logits, axis=1), labels)
    """
    input, target, unbatched = _class_input("nll_loss", input, target)
    _is_probabilities("nll_loss", input, target, allowed=False)
    raw = target.data if isinstance(target, Tensor) else target
    dense, divisor = _class_targets("nll_loss", input, raw, weight, ignore_index)
    picked = E.where(dense.data != 0, input, 0.0)  # a -inf log-probability elsewhere stays out
    out = _mean_over_weights(-R.sum(picked * dense, axis=1), divisor, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out
