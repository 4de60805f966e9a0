"""Loss objects, Keras style: ``loss = SparseCategoricalCrossentropy(from_logits=True)``, then
``loss(y_true, y_pred, sample_weight=None)`` gives a scalar Tensor to call ``backward()`` on.

Each class wraps a per-sample function of the same name in snake case (``mean_squared_error``,
``binary_crossentropy``...), which returns one loss per sample (the mean over the last axis, as
Keras does) and is built on the ops in :mod:`shenjing.functional.loss`. The object then weights
and reduces those values:

- ``'sum_over_batch_size'`` (default, Keras 3): ``sum(w * loss) / loss.size``. The divisor is the
  number of per-sample values, not the sum of the weights, as in Keras.
- ``'sum'``: ``sum(w * loss)``;  ``'none'``: the weighted per-sample values.
- ``'mean_with_sample_weight'``: ``sum(w * loss) / sum(w)``, a true weighted mean (without
  weights, as ``'sum_over_batch_size'``).

A padding mask carried by the prediction (``y_pred._keras_mask``, e.g. after
``Embedding(mask_zero=True)``) multiplies the weights, so padded steps add nothing, and the mean
divides by the number of unmasked values instead (Keras 3).

Targets may be NumPy arrays or Tensors; they never receive a gradient. As in Keras, a target that
differs from the prediction only by a trailing axis of size 1 ((N,) against (N, 1)) is reshaped
to the prediction's shape; any other mismatch is an error, never a silent broadcast.

>>> loss_fn = shenjing.losses.get("sparse_categorical_crossentropy")
>>> loss = loss_fn(labels, probabilities)
>>> loss.backward()
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..backend import DEFAULT_FLOAT, get_xp
from ..functional.loss import EPSILON

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean_with_sample_weight")
_REDUCTION_ALIASES = {None: "none", "mean": "sum_over_batch_size"}


# -- helpers shared with shenjing.metrics ----------------------------------------------------------
def _raw(x: Any) -> Any:
    """The array behind ``x`` (a Tensor's ``.data``; anything else via ``xp.asarray``)."""
    return x.data if isinstance(x, Tensor) else get_xp(x).asarray(x)


def _snake(name: str) -> str:
    """'TopKCategoricalAccuracy' -> 'top_k_categorical_accuracy' (Keras's default names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _target_shape(true_shape: tuple[int, ...], pred_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Keras's squeeze-or-expand rule: shapes that differ only by a trailing axis of size 1 are
    made equal (to the prediction's); every other shape is left as it is."""
    if true_shape + (1,) == pred_shape or true_shape == pred_shape + (1,):
        return pred_shape
    return true_shape


def _sparse_labels(y_true: Any, pred_shape: tuple[int, ...], who: str) -> Any:
    """Integer labels shaped ``pred_shape[:-1]``, from labels shaped that or that plus (1,)."""
    labels = _raw(y_true)
    if labels.shape == pred_shape[:-1] + (1,):
        labels = labels.reshape(pred_shape[:-1])
    if labels.shape != pred_shape[:-1]:
        raise ValueError(f"{who}: labels of shape {labels.shape} do not match predictions of shape "
                         f"{pred_shape} (expected {pred_shape[:-1]} or {pred_shape[:-1] + (1,)})")
    return labels


def _weights(sample_weight: Any, shape: tuple[int, ...], who: str,
             what: str = "sample_weight") -> Any:
    """``sample_weight`` (or a mask, named by ``what`` in errors) as an array that broadcasts to
    ``shape``: (N, 1) weights against (N,) values lose their last axis, and per-sample weights
    against (N, T) values gain trailing axes (so one weight covers a sample's time steps)."""
    w = _raw(sample_weight)
    if w.shape == shape + (1,):
        w = w.reshape(shape)
    if 0 < w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    try:
        broadcast = np.broadcast_shapes(w.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(f"{who}: {what} of shape {_raw(sample_weight).shape} does not fit "
                         f"per-sample values of shape {shape}")
    return w


def _mask_weights(mask: Any, shape: tuple[int, ...], who: str) -> Any:
    """A padding mask (True where a step is real) as 0/1 weights of exactly ``shape``."""
    try:
        m = _weights(mask, shape, who, what="the mask of y_pred (_keras_mask)")
    except ValueError as e:
        raise ValueError(f"{e}; a custom layer between the masking layer and this output "
                         "passed on a mask that its output's steps no longer match (override "
                         "its compute_mask)") from None
    return get_xp(m).broadcast_to(m, shape)


def masked_weights(sample_weight: Any, y_pred: Any) -> Any:
    """``sample_weight`` times the padding mask ``y_pred`` carries, if any (None: neither), at
    the mask's shape: what compiled metrics weigh by, as the losses do."""
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is None:
        return sample_weight
    if sample_weight is None:
        return mask
    return _weights(sample_weight, mask.shape, "sample_weight") * mask


# -- per-sample functions (Keras's loss functions) -------------------------------------------------
def _as_pred(y_pred: Any) -> Tensor:
    """``y_pred`` as a floating Tensor (an array or a Tensor that records its graph)."""
    if not isinstance(y_pred, Tensor):
        y_pred = Tensor(y_pred)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(DEFAULT_FLOAT)


def _prepare(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """``y_pred`` as a floating Tensor, ``y_true`` as a constant Tensor of its dtype and shape
    (a trailing axis of size 1 may differ, as Keras; any other mismatch raises)."""
    y_pred = _as_pred(y_pred)
    target = _raw(y_true)
    target = target.reshape(_target_shape(target.shape, y_pred.shape))
    if target.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {target.shape} but y_pred has shape {y_pred.shape}; "
                         "they must match (a trailing axis of size 1 may differ)")
    return Tensor(target, dtype=y_pred.dtype), y_pred


def _mean_last(x: Tensor) -> Tensor:
    """The mean over the last axis, one value per sample (1-D values are their own samples,
    as for the functional losses)."""
    return F.mean(x, axis=-1) if x.ndim > 1 else x


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean((y_pred - y_true)**2, axis=-1)`` (element-wise for 1-D inputs).

    Args:
        y_true: targets, shaped like ``y_pred`` (or differing by a trailing axis of size 1).
        y_pred: predictions.

    Returns:
        One loss per sample: ``y_pred.shape[:-1]``, or ``y_pred.shape`` for 1-D predictions.

    >>> mean_squared_error(np.array([[0.0, 1.0]]), Tensor([[1.0, 1.0]]))
    Tensor([0.5])
    """
    return F.mean_squared_error(*_prepare(y_true, y_pred), reduction="none")


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(|y_pred - y_true|, axis=-1)``; shapes as :func:`mean_squared_error`."""
    return F.mean_absolute_error(*_prepare(y_true, y_pred), reduction="none")


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Per-sample Huber loss: ``0.5 d**2`` where ``|d| <= delta``, else ``delta (|d| - delta / 2)``,
    averaged over the last axis; shapes as :func:`mean_squared_error`."""
    return F.huber(*_prepare(y_true, y_pred), delta=delta, reduction="none")


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """Per-sample binary cross-entropy, averaged over the last axis.

    Args:
        y_true: targets in [0, 1], shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        from_logits: use the fused, overflow-free form on logits.
        label_smoothing: squeeze targets towards 0.5: ``t (1 - s) + s / 2`` (Keras).

    Returns:
        One loss per sample, shaped as for :func:`mean_squared_error`.
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return F.binary_crossentropy(t, p, from_logits=from_logits, reduction="none")


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample ``-sum(t log p, axis)`` for one-hot (or soft) targets.

    Args:
        y_true: one-hot or soft targets, shaped like ``y_pred``.
        y_pred: probabilities (renormalized and clipped to [1e-7, 1 - 1e-7] as Keras does), or
            logits when ``from_logits``.
        from_logits: use the fused softmax form on logits.
        label_smoothing: mix targets with the uniform distribution: ``t (1 - s) + s / K`` over
            ``K`` classes (Keras; also torch's ``cross_entropy(label_smoothing=s)``).
        axis: the class axis.

    Returns:
        One loss per sample: ``y_pred``'s shape without ``axis``.
    """
    return F.categorical_crossentropy(*_prepare(y_true, y_pred), from_logits=from_logits,
                                      label_smoothing=label_smoothing, axis=axis, reduction="none")


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None) -> Tensor:
    """Per-sample cross-entropy against integer class labels.

    Args:
        y_true: class ids shaped ``y_pred.shape[:-1]``, or that plus a trailing 1 (Keras's
            CIFAR-10 labels are (N, 1)).
        y_pred: (..., classes) probabilities, or logits when ``from_logits``.
        from_logits: use the fused softmax form on logits.
        ignore_class: a label (e.g. a segmentation 'void' class, -1 or 255) whose entries
            get loss 0 and are marked in the result's mask (``_keras_mask``), so that a loss
            object's mean divides by the number of the other entries (Keras 3; torch's
            ``ignore_index``).

    Returns:
        One loss per sample, shaped ``y_pred.shape[:-1]`` (e.g. (batch, time) for sequences).
    """
    y_pred = _as_pred(y_pred)
    labels = _sparse_labels(y_true, y_pred.shape, "sparse_categorical_crossentropy")
    valid = None
    if ignore_class is not None:
        xp = get_xp(labels)
        valid = labels != ignore_class
        labels = xp.where(valid, labels, 0)
    flat = y_pred if y_pred.ndim == 2 else y_pred.reshape(-1, y_pred.shape[-1])
    per = F.sparse_categorical_crossentropy(labels.reshape(-1), flat, from_logits=from_logits,
                                            reduction="none")
    per = per if y_pred.ndim == 2 else per.reshape(y_pred.shape[:-1])
    if valid is not None:
        per = per * Tensor(valid, dtype=per.dtype)
        per._keras_mask = valid
    return per


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)`` (Keras's;
    element-wise for 1-D inputs); shapes as :func:`mean_squared_error`."""
    t, p = _prepare(y_true, y_pred)
    return 100.0 * _mean_last(F.abs(t - p) / F.maximum(F.abs(t), EPSILON))


# Keras 3's other losses, composed of F's ops (autograd differentiates them). Each follows Keras's
# formula, clipping and epsilon; per-sample means are over the last axis, sums too.
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean((log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))**2, axis=-1)``
    (Keras's: values below 1e-7, negative ones too, count as 1e-7); shapes as
    :func:`mean_squared_error`."""
    t, p = _prepare(y_true, y_pred)
    d = F.log(F.maximum(p, EPSILON) + 1.0) - F.log(F.maximum(t, EPSILON) + 1.0)
    return _mean_last(d * d)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample Kullback-Leibler divergence ``sum(t log(t / p), axis=-1)``, with both
    distributions clipped to [1e-7, 1] first (Keras), so a zero of either adds nothing wrong.

    Returns:
        One value per sample, ``y_pred.shape[:-1]`` (a scalar for 1-D inputs).
    """
    t, p = _prepare(y_true, y_pred)
    t, p = F.clip(t, EPSILON, 1.0), F.clip(p, EPSILON, 1.0)
    return F.sum(t * F.log(t / p), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample Poisson loss ``mean(p - t log(p + 1e-7), axis=-1)`` for predicted rates
    ``p >= 0`` (Keras's; torch's ``poisson_nll_loss(log_input=False, eps=1e-7)`` up to its
    Stirling term)."""
    t, p = _prepare(y_true, y_pred)
    return _mean_last(p - t * F.log(p + EPSILON))


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(log(cosh(p - t)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``
    (Keras's form, which cannot overflow); about ``x**2 / 2`` near 0, ``|x| - log 2`` far off."""
    t, p = _prepare(y_true, y_pred)
    x = p - t
    return _mean_last(x + F.softplus(-2.0 * x) - float(np.log(2.0)))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Per-sample **negative** cosine similarity ``-sum(t / |t| * p / |p|, axis)`` (Keras's loss:
    -1 for the same direction, so minimizing it aligns the vectors; the metric
    :class:`shenjing.metrics.CosineSimilarity` reports it positive). Norms below 1e-7 count as
    1e-7 (Keras), so a zero vector gives 0.

    Returns:
        ``y_pred``'s shape without ``axis``.
    """
    t, p = _prepare(y_true, y_pred)
    return -F.sum(_l2_normalize(t, axis) * _l2_normalize(p, axis), axis=axis)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """``x / max(|x|, 1e-7)`` along ``axis`` (Keras's ``normalize``)."""
    return x / F.sqrt(F.maximum(F.sum(x * x, axis=axis, keepdims=True), EPSILON * EPSILON))


def _hinge_margins(y_true: Any, y_pred: Any) -> Tensor:
    """``max(1 - t p, 0)``, with 0/1 labels first mapped to -1/1 (Keras: when every label of the
    batch is 0 or 1; labels already -1/1 are kept)."""
    t, p = _prepare(y_true, y_pred)
    xp = get_xp(t.data)
    if bool(xp.all((t.data == 0) | (t.data == 1))):
        t = Tensor(2 * t.data - 1, dtype=t.dtype)
    return F.relu(1.0 - t * p)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(max(1 - t p, 0), axis=-1)`` for labels -1/1 (0/1 are mapped to -1/1)
    and raw scores ``p``; shapes as :func:`mean_squared_error`."""
    return _mean_last(_hinge_margins(y_true, y_pred))


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(max(1 - t p, 0)**2, axis=-1)``; labels as :func:`hinge`."""
    m = _hinge_margins(y_true, y_pred)
    return _mean_last(m * m)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``max(neg - pos + 1, 0)`` for one-hot targets, where ``pos = sum(t p)`` is the
    true class's score and ``neg = max((1 - t) p)`` the best other one (Keras's, over the last
    axis).

    Returns:
        One value per sample, ``y_pred.shape[:-1]``.
    """
    t, p = _prepare(y_true, y_pred)
    pos = F.sum(t * p, axis=-1)
    neg = F.max((1.0 - t) * p, axis=-1)
    return F.relu(neg - pos + 1.0)


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0) -> Tensor:
    """Per-sample focal loss (Lin et al., 2017) for 0/1 targets, averaged over the last axis:
    ``(1 - p_t)**gamma * bce``, where ``p_t = t p + (1 - t)(1 - p)``, so well-classified
    elements count less; with ``apply_class_balancing`` also times ``alpha`` for positives and
    ``1 - alpha`` for negatives (Keras 3's formula: logits go through a sigmoid, then the
    clipped binary cross-entropy of :func:`binary_crossentropy`).

    Args:
        y_true: targets in [0, 1], shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        apply_class_balancing: weight by ``alpha`` / ``1 - alpha``.
        alpha: the weight of positives when balancing.
        gamma: the focusing power; 0 gives binary cross-entropy.
        from_logits: ``y_pred`` are logits.
        label_smoothing: squeeze targets towards 0.5: ``t (1 - s) + s / 2``.
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = F.sigmoid(p)
    q = F.clip(p, EPSILON, 1.0 - EPSILON)
    bce = -(t * F.log(q) + (1.0 - t) * F.log(1.0 - q))
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (t * alpha + (1.0 - t) * (1.0 - alpha)) * focal
    return _mean_last(focal)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample categorical focal loss ``-sum(alpha (1 - p)**gamma t log p, axis)`` for
    one-hot (or soft) targets (Keras 3's: ``p`` is the softmax of logits, or probabilities
    renormalized and clipped to [1e-7, 1 - 1e-7]).

    Args:
        y_true: one-hot or soft targets, shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        alpha: a weight on every class's term.
        gamma: the focusing power; 0 gives ``alpha`` times categorical cross-entropy.
        from_logits: ``y_pred`` are logits.
        label_smoothing: mix targets with the uniform distribution over the classes.
        axis: the class axis.

    Returns:
        One value per sample: ``y_pred``'s shape without ``axis``.
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        p = F.softmax(p, axis=axis)
    p = F.clip(p / F.sum(p, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    return F.sum(alpha * (1.0 - p) ** gamma * (-t * F.log(p)), axis=axis)


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    """Dice loss ``1 - 2 sum(t p) / (sum(t) + sum(p) + 1e-7)`` (Keras 3's), the sums over
    ``axis``: None sums everything (one value for the batch); e.g. (1, 2, 3) gives one value
    per image of an (N, H, W, C) segmentation."""
    t, p = _prepare(y_true, y_pred)
    intersection = F.sum(t * p, axis=axis)
    return 1.0 - 2.0 * intersection / (F.sum(t, axis=axis) + F.sum(p, axis=axis) + EPSILON)


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5,
            axis: Any = None) -> Tensor:
    """Tversky loss (Salehi et al., 2017) as Keras 3 computes it:
    ``1 - sum(t p) / (sum(t p) + alpha sum(t (1 - p)) + beta sum((1 - t) p) + 1e-7)``, sums
    over ``axis`` (None: everything). Note that Keras's ``alpha`` multiplies the missed
    positives ``sum(t (1 - p))`` and ``beta`` the false alarms; with ``alpha = beta = 0.5`` it
    is the Dice loss."""
    t, p = _prepare(y_true, y_pred)
    tp = F.sum(t * p, axis=axis)
    missed = F.sum(t * (1.0 - p), axis=axis)
    false_alarms = F.sum((1.0 - t) * p, axis=axis)
    return 1.0 - tp / (tp + alpha * missed + beta * false_alarms + EPSILON)


mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
kld = kl_divergence


# -- loss objects ----------------------------------------------------------------------------------
class Loss:
    """Base class: ``__call__`` computes per-sample losses with :meth:`call`, then applies
    ``sample_weight`` and the reduction. Subclasses implement ``call(y_true, y_pred)``.

    Args:
        name: a name for logs and configs.
        reduction: ``'sum_over_batch_size'`` (``'mean'`` is an alias), ``'sum'`` or ``'none'``.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        reduction = _REDUCTION_ALIASES.get(reduction, reduction)
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The weighted, reduced loss (a scalar Tensor unless ``reduction='none'``).

        A mask that ``y_pred`` carries (``y_pred._keras_mask``, set by layers after
        ``Embedding(mask_zero=True)`` or ``Masking``) weights padded entries 0, and the mean
        divides by the number of real entries (Keras 3)."""
        values = self.call(y_true, y_pred)
        w = None if sample_weight is None else _weights(sample_weight, values.shape, self.name)
        count = values.size
        # a padding mask on the prediction, and one the loss function sets on its values
        # (sparse cross-entropy's ignore_class)
        valid = None
        for mask in (getattr(y_pred, "_keras_mask", None), getattr(values, "_keras_mask", None)):
            if mask is not None:
                mask = _mask_weights(mask, values.shape, self.name)
                valid = mask if valid is None else valid * mask
        if valid is not None:
            count = int(valid.sum())
            w = valid if w is None else w * valid
        if w is not None:
            values = values * Tensor(w, dtype=values.dtype)
        if self.reduction == "none":
            return values
        total = values.sum()
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and w is not None:
            weight_sum = float(get_xp(w).broadcast_to(w, values.shape).sum())
            return total * (1.0 / weight_sum if weight_sum else 0.0)
        if count <= 1:
            return total
        return total * (1.0 / count)  # no entries give 0, as Keras's divide_no_nan

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """Per-sample losses."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _FunctionWrapper:
    """Mixin for :class:`LossFunctionWrapper` and ``metrics.MeanMetricWrapper``: a per-sample
    function ``fn`` and its keyword arguments, kept as plain attributes (``loss.from_logits``)
    that are read at each call, and saved in the config (``fn`` by name, where ``__init__``
    takes one; ``_functions`` resolves the name when loading)."""

    _functions: dict[str, Callable[..., Any]] = {}

    def _set_function(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.fn = fn
        self._fn_args = tuple(kwargs)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def _fn_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._fn_args}

    def _with_function(self, config: dict[str, Any]) -> dict[str, Any]:
        config = {**config, **self._fn_kwargs()}
        if "fn" in inspect.signature(type(self).__init__).parameters:
            config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        return config

    @classmethod
    def _resolve_function(cls, config: dict[str, Any]) -> dict[str, Any]:
        fn = config.get("fn")
        if isinstance(fn, str):
            if fn not in cls._functions:
                raise ValueError(f"unknown function {fn!r} in config; known: "
                                 f"{', '.join(sorted(cls._functions))}")
            config = {**config, "fn": cls._functions[fn]}
        return config


class LossFunctionWrapper(_FunctionWrapper, Loss):
    """A :class:`Loss` around a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    >>> loss = LossFunctionWrapper(huber, delta=2.0)
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self._set_function(fn, kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs())

    def get_config(self) -> dict[str, Any]:
        return self._with_function(super().get_config())

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**cls._resolve_function(config))


class _OneFunction(LossFunctionWrapper):
    """A loss of the per-sample function ``fn`` (a class attribute), which takes no options;
    named as the function unless ``name`` is given."""

    fn: Callable[..., Any]

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None) -> None:
        super().__init__(self.fn, reduction=reduction, name=name)


class MeanSquaredError(_OneFunction):
    """Mean of squared errors; see :func:`mean_squared_error`."""

    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(_OneFunction):
    """Mean of absolute errors; see :func:`mean_absolute_error`."""

    fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_OneFunction):
    """Mean absolute percentage error; see :func:`mean_absolute_percentage_error`."""

    fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_OneFunction):
    """Mean squared logarithmic error; see :func:`mean_squared_logarithmic_error`."""

    fn = staticmethod(mean_squared_logarithmic_error)


class KLDivergence(_OneFunction):
    """Kullback-Leibler divergence of ``y_pred`` from ``y_true``; see :func:`kl_divergence`.

    >>> KLDivergence()(np.array([[0.5, 0.5]]), Tensor([[0.5, 0.5]]))
    Tensor(0.)
    """

    fn = staticmethod(kl_divergence)


class Poisson(_OneFunction):
    """Poisson loss for predicted rates; see :func:`poisson`."""

    fn = staticmethod(poisson)


class LogCosh(_OneFunction):
    """Logarithm of the hyperbolic cosine of the error; see :func:`log_cosh`."""

    fn = staticmethod(log_cosh)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (Keras's sign: -1 is a perfect match); see
    :func:`cosine_similarity`."""

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity") -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=axis)


class Hinge(_OneFunction):
    """Hinge loss for -1/1 (or 0/1) labels and raw scores; see :func:`hinge`."""

    fn = staticmethod(hinge)


class SquaredHinge(_OneFunction):
    """Squared hinge loss; see :func:`squared_hinge`."""

    fn = staticmethod(squared_hinge)


class CategoricalHinge(_OneFunction):
    """Categorical hinge loss for one-hot targets; see :func:`categorical_hinge`."""

    fn = staticmethod(categorical_hinge)


class Huber(LossFunctionWrapper):
    """Huber loss, quadratic within ``delta`` of the target, linear beyond; see :func:`huber`."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss") -> None:
        super().__init__(huber, reduction=reduction, name=name, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 targets; see :func:`binary_crossentropy`.

    >>> BinaryCrossentropy(from_logits=True)(np.array([[1.0]]), Tensor([[0.0]]))  # ln 2
    Tensor(0.6931472)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_crossentropy") -> None:
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot or soft targets; see :func:`categorical_crossentropy`."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_crossentropy") -> None:
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels, (N,) or (N, 1); see
    :func:`sparse_categorical_crossentropy`.

    >>> loss_fn = SparseCategoricalCrossentropy(from_logits=True)
    >>> loss_fn(np.array([0, 1]), Tensor([[2.0, 0.0], [0.0, 2.0]]))
    Tensor(0.12692805)
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy") -> None:
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, ignore_class=ignore_class)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal loss for 0/1 targets, which down-weights well-classified elements; see
    :func:`binary_focal_crossentropy`."""

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_focal_crossentropy") -> None:
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal loss for one-hot targets; see :func:`categorical_focal_crossentropy`."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_crossentropy") -> None:
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class Dice(LossFunctionWrapper):
    """Dice loss for segmentation masks; see :func:`dice`. The default ``axis=None`` gives one
    value for the whole batch; ``axis=(1, 2, 3)`` one per (N, H, W, C) image, which
    ``sample_weight`` and the reduction then weigh and average."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice",
                 axis: Any = None) -> None:
        super().__init__(dice, reduction=reduction, name=name, axis=_axis(axis))


class Tversky(LossFunctionWrapper):
    """Tversky loss, Dice with separate weights for missed positives and false alarms; see
    :func:`tversky`."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5,
                 reduction: str | None = "sum_over_batch_size", name: str = "tversky",
                 axis: Any = None) -> None:
        super().__init__(tversky, reduction=reduction, name=name, alpha=alpha, beta=beta,
                         axis=_axis(axis))


def _axis(axis: Any) -> Any:
    """An axis or a tuple of axes (a JSON config gives a list back)."""
    return tuple(axis) if isinstance(axis, list) else axis


# -- lookup ----------------------------------------------------------------------------------------
_CLASSES: tuple[type[LossFunctionWrapper], ...] = (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, Huber, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredLogarithmicError,
    KLDivergence, Poisson, LogCosh, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky,
)
# per-sample functions (ours and the functional ops) -> the class that wraps them
_FUNCTION_CLASSES: dict[Callable[..., Any], type[Loss]] = {
    **dict.fromkeys((mean_squared_error, F.mean_squared_error), MeanSquaredError),
    **dict.fromkeys((mean_absolute_error, F.mean_absolute_error), MeanAbsoluteError),
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    **dict.fromkeys((huber, F.huber), Huber),
    **dict.fromkeys((binary_crossentropy, F.binary_crossentropy), BinaryCrossentropy),
    **dict.fromkeys((categorical_crossentropy, F.categorical_crossentropy),
                    CategoricalCrossentropy),
    **dict.fromkeys((sparse_categorical_crossentropy, F.sparse_categorical_crossentropy),
                    SparseCategoricalCrossentropy),
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, kl_divergence: KLDivergence,
    poisson: Poisson, log_cosh: LogCosh, cosine_similarity: CosineSimilarity, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy, dice: Dice, tversky: Tversky,
}
_FUNCTIONS = {fn.__name__: fn for fn in _FUNCTION_CLASSES if fn.__module__ == __name__}
LossFunctionWrapper._functions = _FUNCTIONS
_ALIASES = {"mse": MeanSquaredError, "mae": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "bce": BinaryCrossentropy,
            "huber_loss": Huber, "msle": MeanSquaredLogarithmicError, "kld": KLDivergence,
            "kullback_leibler_divergence": KLDivergence}


def _key(name: str) -> str:
    """'MeanSquaredError', 'mean_squared_error' and 'MEAN_SQUARED_ERROR' all give one key."""
    return name.replace("_", "").lower()


_BY_KEY: dict[str, type[Loss]] = {
    **{_key(cls.__name__): cls for cls in _CLASSES},
    **{_key(a): cls for a, cls in _ALIASES.items()},
}
KNOWN_NAMES = sorted({*_FUNCTIONS, *_ALIASES})


def get(identifier: Any) -> Loss | None:
    """Resolve a loss identifier to a :class:`Loss` object.

    Args:
        identifier: a name (``'mse'``, ``'mean_squared_error'``, ``'MeanSquaredError'``,
            ``'sparse_categorical_crossentropy'``...; case-insensitive), a ``Loss`` instance
            (returned as is) or class, a ``{'class_name', 'config'}`` dict, a function
            ``fn(y_true, y_pred)`` returning per-sample losses (wrapped in
            :class:`LossFunctionWrapper`), or None.

    Returns:
        A Loss, or None for None.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    >>> get("categorical_crossentropy")
    CategoricalCrossentropy(name='categorical_crossentropy', ...)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        name = identifier.get("class_name", "")
        cls = LossFunctionWrapper if name == "LossFunctionWrapper" else _lookup(name)
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        cls = _FUNCTION_CLASSES.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a loss")


def _lookup(name: str) -> type[Loss]:
    cls = _BY_KEY.get(_key(name))
    if cls is None:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(KNOWN_NAMES)} "
                         "(or their CamelCase class names)")
    return cls


def serialize(loss: Loss) -> dict[str, Any]:
    """``{'class_name', 'config'}`` for a loss, JSON-ready; :func:`get` reads it back."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


__all__ = [
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Dice", "Hinge",
    "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "cosine_similarity", "dice", "get", "hinge", "huber", "kl_divergence",
    "kld", "log_cosh", "mae", "mape", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle", "poisson",
    "serialize", "sparse_categorical_crossentropy", "squared_hinge", "tversky",
]
