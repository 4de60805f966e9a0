"""The metric base classes (``Metric``, ``Mean``, ``Sum``, ``MeanMetricWrapper``) and the
helpers the metric files share: arrays out of Tensors, target/prediction pairs, class ids,
loss functions as metric functions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad
from ..config import epsilon
from ..functional._util import host as _np
from ..layers.input_layer import tracing
from ..losses import _FunctionWrapper, _snake, _target_shape

# Keras's backend.epsilon(): the end thresholds of AUC lie this far outside [0, 1]
_EPSILON = epsilon()


def _pair(y_true: Any, y_pred: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions of one shape (a trailing axis of size 1 may differ, as Keras)."""
    t, p = _np(y_true), _np(y_pred)
    t = t.reshape(_target_shape(t.shape, p.shape))
    if t.shape != p.shape:
        raise ValueError(f"{who}: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return t, p


def _class_ids(labels: np.ndarray, n_classes: int, who: str) -> np.ndarray:
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise ValueError(f"{who}: labels must be integer class ids")
    labels = labels.astype(np.intp)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{who}: labels must lie in [0, {n_classes}), got values from "
                         f"{labels.min()} to {labels.max()}")
    return labels


def _from_loss(fn: Callable[..., Any], sign: float = 1.0) -> Callable[..., np.ndarray]:
    """The per-sample loss ``fn`` of :mod:`shenjing.losses` as a metric function (Keras's
    metrics of these names are its loss functions): run on float64 values outside any graph,
    times ``sign``."""

    def metric(y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
        with no_grad():
            values = fn(_np(y_true), Tensor(_np(y_pred), dtype=np.float64), **kwargs)
        return sign * values.numpy()

    metric.__name__ = metric.__qualname__ = fn.__name__
    metric.__doc__ = (f"Per-sample ``{fn.__name__}`` in float64"
                      f"{' with the sign flipped (Keras reports it positive)' if sign < 0 else ''}"
                      f"; see :func:`shenjing.losses.{fn.__name__}`.")
    return metric


def _not_while_tracing(update_state: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(update_state)
    def update(self: Any, *args: Any, **kwargs: Any) -> Any:
        if tracing() is None:
            return update_state(self, *args, **kwargs)
        return None

    return update


class Metric:
    """Base class: state that ``update_state`` accumulates and ``result`` reads.

    Write one as in Keras 3: call ``super().__init__(name=name, **kwargs)``, then make the
    state with ``self.add_variable(shape, initializer='zeros', name=...)`` (or ``add_weight``),
    update it in ``update_state`` with ``assign``/``assign_add``, and read it in ``result``
    (a number, an array or a variable); the default ``reset_state`` sets every variable back to
    zeros. Metrics may also keep plain attributes as state and write their own
    ``reset_state``, as shenjing's built-in ones do.

    Args:
        dtype: the dtype of the variables made by ``add_variable`` (default float32); kept in
            the config, as Keras 3 writes it. shenjing's built-in metrics accumulate in float64
            whatever it is.
        name: the key of the metric in training logs.

    ``direction`` (Keras's ``_direction``) tells callbacks in ``mode="auto"`` whether to keep
    the largest or the smallest value.
    """

    direction: str | None = None  # "up" / "down": better when larger / smaller, where known

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every ``update_state`` skips the functional API's trial runs on zeros (a layer that
        updates its metric in ``call``): as in Keras, building a model counts no data."""
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__:
            cls.update_state = _not_while_tracing(cls.__dict__["update_state"])

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name or _snake(type(self).__name__)
        try:
            self.dtype = np.dtype(dtype or "float32")
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.kind not in "fiu":
            raise ValueError(f"{type(self).__name__}: dtype={dtype!r} is not a number type; "
                             "Metric takes dtype first, as Keras 3's: give the name as name=")
        self._variables: list[Any] = []
        if type(self).reset_state is not Metric.reset_state:
            # A metric that keeps plain attributes makes them in its reset_state: it starts
            # reset. One whose reset_state assigns variables made after this __init__ (Keras 3's
            # style) cannot be reset yet; its variables start at their initial values. Only
            # that error is passed over: any other (a typo in reset_state) is raised.
            try:
                self.reset_state()
            except AttributeError as e:
                if e.obj is not self or e.name in self.__dict__:
                    raise

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Any:
        """A non-trainable state variable (Keras's ``Metric.add_variable``), reset to zeros by
        the default ``reset_state``. ``aggregation`` is accepted and changes nothing here."""
        from ..layers import initializers
        from ..layers.parameter import Parameter

        dtype = np.dtype(dtype or self.dtype)
        value = initializers.get(initializer)(tuple(shape), dtype)
        variable = Parameter(value, trainable=False, name=name or "variable", dtype=dtype)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape: Any = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None) -> Any:
        """``add_variable`` under its other Keras name (zeros by default)."""
        return self.add_variable(shape, initializer or "zeros", dtype, name=name)

    @property
    def variables(self) -> list[Any]:
        """The variables made by ``add_variable``, in creation order."""
        return list(self._variables)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def reset_state(self) -> None:
        """Set every variable made by ``add_variable`` to zeros (Keras 3)."""
        for v in self._variables:
            v.assign(np.zeros(v.shape, v.dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``update_state(*args, **kwargs)``, then ``result()`` (Keras)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, result={self.result()!r})"


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state``.

    Values of shape (N, ...) are first averaged over their non-batch axes, so each counts as one
    sample (Keras); a weight of shape (N,) or (N, 1) then weights whole samples.

    >>> m = Mean()
    >>> m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 1.0, 0.0])
    >>> m.result()
    1.5
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(dtype, name)

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        if type(values) is float and type(sample_weight) in (int, float):
            # one number (fit's loss per batch, weighted by its size): no arrays to make
            self.total += values * sample_weight
            self.count += sample_weight
            return
        v = _np(values).astype(np.float64)
        if sample_weight is None:
            self.count += v.shape[0] if v.ndim else 1
        else:
            w = _np(sample_weight).astype(np.float64)
            if v.shape == w.shape + (1,):
                v = v.reshape(w.shape)
            elif w.shape == v.shape + (1,):
                w = w.reshape(v.shape)
            if v.ndim > w.ndim:  # average what the weights do not cover
                v = v.mean(axis=tuple(range(w.ndim, v.ndim)))
            w = np.broadcast_to(w, v.shape)
            v = v * w
            self.count += float(w.mean(axis=tuple(range(1, w.ndim))).sum() if w.ndim > 1
                                else w.sum())
        self.total += float(_per_sample_mean(v).sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0  # 0 before any data, as Keras


class Sum(Metric):
    """The (weighted) sum of all the values given to ``update_state`` (Keras's ``Sum``):
    weights shaped like the values, or like their leading axes (one per sample), multiply
    them.

    >>> Sum()([1.0, 3.0, 5.0, 7.0], sample_weight=[1.0, 0.0, 0.0, 1.0])
    8.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(dtype, name)

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v = _np(values).astype(np.float64)
        if sample_weight is not None:
            w = _np(sample_weight).astype(np.float64)
            if w.shape == v.shape + (1,):
                w = w.reshape(v.shape)
            w = w.reshape(w.shape + (1,) * max(v.ndim - w.ndim, 0))
            v = v * w
        self.total += float(v.sum())

    def result(self) -> float:
        return self.total


def _per_sample_mean(v: np.ndarray) -> np.ndarray:
    return v.mean(axis=tuple(range(1, v.ndim))) if v.ndim > 1 else v


class MeanMetricWrapper(_FunctionWrapper, Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    ``fn`` gets NumPy arrays; it may return an array or a Tensor (a loss function works).

    >>> m = MeanMetricWrapper(binary_accuracy, threshold=0.0)   # for a model that outputs logits
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        self._set_function(fn, kwargs)
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        values = self.fn(_np(y_true), _np(y_pred), **self._fn_kwargs())
        super().update_state(values, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return self._with_function(super().get_config())

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**cls._resolve_function(config))


class _MeanOf(MeanMetricWrapper):
    """The mean of the per-sample function ``fn`` (a class attribute), which takes no options;
    named ``default_name`` unless ``name`` is given (by default the function's name)."""

    fn: Callable[..., Any]
    default_name: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(self.fn, name or self.default_name, dtype)
