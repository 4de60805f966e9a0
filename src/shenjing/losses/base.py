"""The :class:`Loss` base class (weights, masks, reductions), :class:`LossFunctionWrapper`
around a per-sample function, and the helpers the losses share with :mod:`shenjing.metrics`."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..backend import DEFAULT_FLOAT, get_xp, on_device_of

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean_with_sample_weight")
_REDUCTION_ALIASES = {None: "none", "mean": "sum_over_batch_size"}


# -- helpers shared with shenjing.metrics ----------------------------------------------------------
def _raw(x: Any, like: Any = None) -> Any:
    """The array behind ``x`` (a Tensor's ``.data``; anything else via ``xp.asarray``), on the
    device of the array ``like`` when given: NumPy targets and weights for a model on a GPU."""
    data = x.data if isinstance(x, Tensor) else x
    return get_xp(data).asarray(data) if like is None else on_device_of(data, like)


def _snake(name: str) -> str:
    """'TopKCategoricalAccuracy' -> 'top_k_categorical_accuracy' (Keras's default names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _target_shape(true_shape: tuple[int, ...], pred_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Keras's squeeze-or-expand rule: shapes that differ only by a trailing axis of size 1 are
    made equal (to the prediction's); every other shape is left as it is."""
    if true_shape + (1,) == pred_shape or true_shape == pred_shape + (1,):
        return pred_shape
    return true_shape


def _sparse_labels(y_true: Any, pred_shape: tuple[int, ...], who: str, like: Any = None) -> Any:
    """Integer labels shaped ``pred_shape[:-1]``, from labels shaped that or that plus (1,), on
    ``like``'s device (see :func:`_raw`)."""
    labels = _raw(y_true, like)
    if labels.shape == pred_shape[:-1] + (1,):
        labels = labels.reshape(pred_shape[:-1])
    if labels.shape != pred_shape[:-1]:
        raise ValueError(f"{who}: labels of shape {labels.shape} do not match predictions of shape "
                         f"{pred_shape} (expected {pred_shape[:-1]} or {pred_shape[:-1] + (1,)})")
    return labels


def _weights(sample_weight: Any, shape: tuple[int, ...], who: str,
             what: str = "sample_weight", like: Any = None) -> Any:
    """``sample_weight`` (or a mask, named by ``what`` in errors) as an array that broadcasts to
    ``shape``: (N, 1) weights against (N,) values lose their last axis, and per-sample weights
    against (N, T) values gain trailing axes (so one weight covers a sample's time steps)."""
    w = _raw(sample_weight, like)
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


def _mask_weights(mask: Any, shape: tuple[int, ...], who: str, like: Any = None) -> Any:
    """A padding mask (True where a step is real) as 0/1 weights of exactly ``shape``."""
    try:
        m = _weights(mask, shape, who, what="the mask of y_pred (_keras_mask)", like=like)
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


# -- the per-sample functions' inputs --------------------------------------------------------------
def _as_pred(y_pred: Any, dtype: np.dtype | None = None) -> Tensor:
    """``y_pred`` as a floating Tensor (an array or a Tensor that records its graph), cast
    (differentiably) to ``dtype`` when one is given."""
    if not isinstance(y_pred, Tensor):
        y_pred = Tensor(y_pred)
    if dtype is not None:
        return F.cast(y_pred, dtype)
    return y_pred if y_pred.dtype.kind == "f" else y_pred.astype(DEFAULT_FLOAT)


def _as_target(y_true: Any, like: Tensor) -> Tensor | None:
    """``y_true`` as a constant Tensor: floating values in ``like``'s dtype, integer labels in
    their own (None stays None)."""
    if y_true is None or isinstance(y_true, Tensor) and (
            y_true.dtype.kind != "f" or y_true.dtype == like.dtype):
        return y_true
    raw = _raw(y_true, like.data)
    return Tensor(raw, dtype=like.dtype if raw.dtype.kind == "f" else raw.dtype)


def _prepare(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """``y_pred`` as a floating Tensor, ``y_true`` as a constant Tensor of its dtype and shape
    (a trailing axis of size 1 may differ, as Keras; any other mismatch raises)."""
    y_pred = _as_pred(y_pred)
    target = _raw(y_true, y_pred.data)
    target = target.reshape(_target_shape(target.shape, y_pred.shape))
    if target.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {target.shape} but y_pred has shape {y_pred.shape}; "
                         "they must match (a trailing axis of size 1 may differ)")
    return Tensor(target, dtype=y_pred.dtype), y_pred


def _mean_last(x: Tensor, axis: int = -1) -> Tensor:
    """The mean over ``axis`` (the last), one value per sample (1-D values are their own
    samples, as for the functional losses)."""
    return F.mean(x, axis=axis) if x.ndim > 1 else x


def _floating_dtype(dtype: Any, who: str) -> np.dtype:
    """``dtype`` as a NumPy floating dtype, else a ValueError naming ``who``."""
    try:
        floating = np.dtype(dtype)
    except TypeError:
        floating = None
    if floating is None or floating.kind != "f":
        raise ValueError(f"{who}: dtype must be a floating type such as 'float32', got {dtype!r}")
    return floating


# -- loss objects ----------------------------------------------------------------------------------
class Loss:
    """Base class: ``__call__`` computes per-sample losses with :meth:`call`, then applies
    ``sample_weight`` and the reduction. Subclasses implement ``call(y_true, y_pred)``.

    Args:
        name: a name for logs and configs.
        reduction: ``'sum_over_batch_size'`` (``'mean'`` is an alias), ``'sum'`` or ``'none'``.
        dtype: the floating dtype to compute in (Keras 3's); None (default) computes in the
            prediction's own (float32 for arrays that are not floating), float16 widened to
            float32 as Keras's float32 default does it (a probability of 0.9999 is 1.0 in
            float16, where 1 - 1e-7 is still 1.0 and the cross-entropy was inf).
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        reduction = _REDUCTION_ALIASES.get(reduction, reduction)
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = None if dtype is None else _floating_dtype(dtype, self.name)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The weighted, reduced loss (a scalar Tensor unless ``reduction='none'``).

        :meth:`call` gets Tensors, as in Keras 3: ``y_pred`` floating, ``y_true`` in
        ``y_pred``'s dtype (integer labels keep theirs). A mask that ``y_pred`` carries
        (``y_pred._keras_mask``, set by layers after ``Embedding(mask_zero=True)`` or
        ``Masking``) weights padded entries 0, and the mean divides by the number of real
        entries (Keras 3)."""
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _as_pred(y_pred, self.dtype)
        if self.dtype is None and y_pred.dtype == np.float16:
            y_pred = F.cast(y_pred, np.float32)
        values = self.call(_as_target(y_true, y_pred), y_pred)
        w = None if sample_weight is None else _weights(sample_weight, values.shape, self.name,
                                                         like=values.data)
        count = values.size
        # a padding mask on the prediction, and one the loss function sets on its values
        # (sparse cross-entropy's ignore_class)
        valid = None
        for mask in (in_mask, getattr(values, "_keras_mask", None)):
            if mask is not None:
                mask = _mask_weights(mask, values.shape, self.name, like=values.data)
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
        return {"name": self.name, "reduction": self.reduction,
                "dtype": None if self.dtype is None else self.dtype.name}

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
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
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
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(self.fn, reduction=reduction, name=name, dtype=dtype)
