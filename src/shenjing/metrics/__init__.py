"""Streaming metrics, Keras style: ``update_state(y_true, y_pred, sample_weight=None)`` once per
batch, ``result()`` for the value so far (a Python float), ``reset_state()`` between epochs.

Metrics read raw arrays (a Tensor's ``.data``) and record no graph. They accumulate in float64,
so a long epoch of float32 batches loses nothing, and streaming over batches gives the same
value as one call on all the data. Sparse labels may be shaped (N,) or (N, 1).

``get('accuracy', loss=..., output_shape=...)`` picks the accuracy the loss implies, as
``compile(metrics=['accuracy'])`` does in Keras.

>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> m.result()
0.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import losses
from ..autograd import Tensor, no_grad
from ..backend import asnumpy
from ..losses import _FunctionWrapper, _key, _snake, _sparse_labels, _target_shape, _weights

_EPSILON = 1e-7  # Keras's backend.epsilon(): the end thresholds of AUC lie this far outside [0, 1]


def _np(x: Any) -> np.ndarray:
    """``x`` (Tensor, NumPy/CuPy array, list) as a NumPy array, outside any graph."""
    return asnumpy(x.data if isinstance(x, Tensor) else x)


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


def _in_top_k(labels: np.ndarray, scores: np.ndarray, k: int, who: str) -> np.ndarray:
    """1.0 where fewer than ``k`` classes score strictly higher than the label (so ties at the
    boundary count as hits, like TensorFlow's ``in_top_k``)."""
    labels = _class_ids(labels, scores.shape[-1], who)
    own = np.take_along_axis(scores, labels[..., None], axis=-1)
    return ((scores > own).sum(axis=-1) < k).astype(np.float64)


# -- per-sample metric functions (NumPy in, NumPy out) ---------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``y_pred`` equals ``y_true`` exactly, element-wise."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return (t == p).astype(np.float64)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``y_pred > threshold`` agrees with the 0/1 target, element-wise. For a model
    that outputs logits, use ``threshold=0.0``."""
    t, p = _pair(y_true, y_pred, "binary_accuracy")
    return (t == (p > threshold).astype(t.dtype)).astype(np.float64)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where the arg-max of ``y_pred`` is the arg-max of the one-hot target."""
    t, p = _pair(y_true, y_pred, "categorical_accuracy")
    return (t.argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where the arg-max of ``y_pred`` (probabilities or logits) is the label."""
    p = _np(y_pred)
    labels = _sparse_labels(_np(y_true), p.shape, "sparse_categorical_accuracy")
    return (labels == p.argmax(axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the one-hot target's class is among the ``k`` top scores."""
    t, p = _pair(y_true, y_pred, "top_k_categorical_accuracy")
    return _in_top_k(t.argmax(axis=-1), p, k, "top_k_categorical_accuracy")


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the label is among the ``k`` top scores of ``y_pred``."""
    p = _np(y_pred)
    labels = _sparse_labels(_np(y_true), p.shape, "sparse_top_k_categorical_accuracy")
    return _in_top_k(labels, p, k, "sparse_top_k_categorical_accuracy")


def _per_sample(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=-1) if x.ndim > 1 else x


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean of squared errors over the last axis, in float64."""
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    return _per_sample(np.square(p.astype(np.float64) - t))


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean of absolute errors over the last axis, in float64."""
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return _per_sample(np.abs(p.astype(np.float64) - t))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis,
    in float64 (Keras's)."""
    t, p = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    t = t.astype(np.float64)
    return 100.0 * _per_sample(np.abs(t - p) / np.maximum(np.abs(t), _EPSILON))


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


mean_squared_logarithmic_error = _from_loss(losses.mean_squared_logarithmic_error)
kl_divergence = _from_loss(losses.kl_divergence)
poisson = _from_loss(losses.poisson)
log_cosh = _from_loss(losses.log_cosh)
cosine_similarity = _from_loss(losses.cosine_similarity, sign=-1.0)  # 1: the same direction
hinge = _from_loss(losses.hinge)
squared_hinge = _from_loss(losses.squared_hinge)
categorical_hinge = _from_loss(losses.categorical_hinge)
binary_crossentropy = _from_loss(losses.binary_crossentropy)
categorical_crossentropy = _from_loss(losses.categorical_crossentropy)
sparse_categorical_crossentropy = _from_loss(losses.sparse_categorical_crossentropy)

mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
kld = kl_divergence
acc = accuracy


# -- metric objects --------------------------------------------------------------------------------
class Metric:
    """Base class: state that ``update_state`` accumulates and ``result`` reads.

    Write one as in Keras 3: call ``super().__init__(name=name, **kwargs)``, then make the
    state with ``self.add_variable(shape, initializer='zeros', name=...)`` (or ``add_weight``),
    update it in ``update_state`` with ``assign``/``assign_add``, and read it in ``result``
    (a number, an array or a variable); the default ``reset_state`` sets every variable back to
    zeros. Metrics may also keep plain attributes as state and write their own
    ``reset_state``, as shenjing's built-in ones do.

    Args:
        dtype: the dtype of the variables made by ``add_variable`` (default float32).
        name: the key of the metric in training logs.
    """

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
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
        return {"name": self.name}

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

    def __init__(self, name: str = "mean") -> None:
        super().__init__(name=name)

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

    def __init__(self, name: str = "sum") -> None:
        super().__init__(name=name)

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

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        self._set_function(fn, kwargs)
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"))

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

    def __init__(self, name: str | None = None) -> None:
        super().__init__(self.fn, name=name or self.default_name)


class Accuracy(_MeanOf):
    """How often predictions equal targets exactly; see :func:`accuracy`."""

    fn = staticmethod(accuracy)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 targets; see :func:`binary_accuracy`."""

    def __init__(self, threshold: float = 0.5, name: str = "binary_accuracy") -> None:
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(_MeanOf):
    """How often the arg-max matches one-hot targets; see :func:`categorical_accuracy`."""

    fn = staticmethod(categorical_accuracy)


class SparseCategoricalAccuracy(_MeanOf):
    """How often the arg-max matches integer labels; see :func:`sparse_categorical_accuracy`."""

    fn = staticmethod(sparse_categorical_accuracy)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often a one-hot target is among the top ``k``; see
    :func:`top_k_categorical_accuracy`."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy") -> None:
        super().__init__(top_k_categorical_accuracy, name=name, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often an integer label is among the top ``k``; see
    :func:`sparse_top_k_categorical_accuracy`."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy") -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=k)


class MeanSquaredError(_MeanOf):
    """Mean squared error over all samples seen; see :func:`mean_squared_error`."""

    fn = staticmethod(mean_squared_error)


class RootMeanSquaredError(Mean):
    """The square root of the (weighted) mean squared error over all samples seen (Keras's:
    each sample's squared errors are averaged first, so weights are per sample).

    >>> RootMeanSquaredError()(np.array([[0, 1], [0, 0]]), np.array([[1, 1], [0, 0]]))
    0.5
    """

    def __init__(self, name: str = "root_mean_squared_error") -> None:
        super().__init__(name=name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        super().update_state(np.square(p.astype(np.float64) - t), sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsoluteError(_MeanOf):
    """Mean absolute error over all samples seen; see :func:`mean_absolute_error`."""

    fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_MeanOf):
    """Mean absolute percentage error over all samples seen; see
    :func:`mean_absolute_percentage_error`."""

    fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_MeanOf):
    """Mean squared logarithmic error over all samples seen; see
    :func:`shenjing.losses.mean_squared_logarithmic_error`."""

    fn = staticmethod(mean_squared_logarithmic_error)


class KLDivergence(_MeanOf):
    """Mean Kullback-Leibler divergence; see :func:`shenjing.losses.kl_divergence`."""

    fn = staticmethod(kl_divergence)


class Poisson(_MeanOf):
    """Mean Poisson loss; see :func:`shenjing.losses.poisson`."""

    fn = staticmethod(poisson)


class LogCoshError(_MeanOf):
    """Mean log-cosh error; see :func:`shenjing.losses.log_cosh` (Keras names it 'logcosh')."""

    fn = staticmethod(log_cosh)
    default_name = "logcosh"


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity along ``axis``, positive (1 for the same direction), unlike the
    loss :class:`shenjing.losses.CosineSimilarity`, which is its negative (Keras)."""

    def __init__(self, name: str = "cosine_similarity", axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, axis=axis)


class Hinge(_MeanOf):
    """Mean hinge loss; see :func:`shenjing.losses.hinge`."""

    fn = staticmethod(hinge)


class SquaredHinge(_MeanOf):
    """Mean squared hinge loss; see :func:`shenjing.losses.squared_hinge`."""

    fn = staticmethod(squared_hinge)


class CategoricalHinge(_MeanOf):
    """Mean categorical hinge loss; see :func:`shenjing.losses.categorical_hinge`."""

    fn = staticmethod(categorical_hinge)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy; see :func:`shenjing.losses.binary_crossentropy`."""

    def __init__(self, name: str = "binary_crossentropy", from_logits: bool = False,
                 label_smoothing: float = 0.0) -> None:
        super().__init__(binary_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy; see :func:`shenjing.losses.categorical_crossentropy`."""

    def __init__(self, name: str = "categorical_crossentropy", from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(categorical_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean cross-entropy against integer labels; see
    :func:`shenjing.losses.sparse_categorical_crossentropy`."""

    def __init__(self, name: str = "sparse_categorical_crossentropy",
                 from_logits: bool = False) -> None:
        super().__init__(sparse_categorical_crossentropy, name=name, from_logits=from_logits)


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))),
                     where=b != 0)


class _Counts(Metric):
    """Weighted true/false positive/negative counts, one of each per row of the boolean
    predictions that a subclass hands to :meth:`_count` (and per label, for AUC's
    ``multi_label``)."""

    def _rows(self) -> int | tuple[int, ...]:
        """The shape of each kind of count (the state's shape)."""
        raise NotImplementedError

    def reset_state(self) -> None:
        n = self._rows()
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.false_negatives = np.zeros(n)
        self.true_negatives = np.zeros(n)

    def _count(self, predicted: np.ndarray, actual: np.ndarray, w: np.ndarray) -> None:
        """Add the counts of ``predicted`` (rows, M) against ``actual`` (M,) or (rows, M),
        booleans, each of the M elements weighted by ``w`` (M,) float64; or, per label,
        ``predicted`` (rows, N, L) against ``actual`` and ``w`` (N, L)."""
        if predicted.ndim == 3:
            def add(p: np.ndarray, a: np.ndarray) -> np.ndarray:
                return np.einsum("tnl,nl->tl", (p & a).astype(np.float64), w)
        else:
            def add(p: np.ndarray, a: np.ndarray) -> np.ndarray:
                return (p & a) @ w
        self.true_positives += add(predicted, actual)
        self.false_positives += add(predicted, ~actual)
        self.false_negatives += add(~predicted, actual)
        self.true_negatives += add(~predicted, ~actual)


_NEG_INF = -1e10  # Keras's NEG_INF: what top_k filtering gives the scores it drops


def _filter_top_k(p: np.ndarray, k: int) -> np.ndarray:
    """``p`` with all but the ``k`` largest scores of each row (the last axis) set to -1e10
    (Keras's ``_filter_top_k``; among equal scores the first ones are kept)."""
    top = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(p.shape, bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, p, _NEG_INF)


class _Confusion(_Counts):
    """Confusion counts of binary predictions ``y_pred > threshold``, for one or several
    thresholds. Every element counts (Keras), unless ``top_k`` keeps only each row's ``k``
    best scores or ``class_id`` picks one column."""

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None) -> None:
        if np.ndim(thresholds) > 1:
            raise ValueError(f"thresholds must be a number or a list, got {thresholds!r}")
        self._given_thresholds = thresholds
        if thresholds is None:  # Keras: 0.5, or, with top_k, every kept score is positive
            thresholds = 0.5 if top_k is None else _NEG_INF
        self.thresholds = float(thresholds) if np.ndim(thresholds) == 0 else [
            float(t) for t in thresholds]  # type: ignore[union-attr]
        if top_k is not None and not (isinstance(top_k, (int, np.integer)) and top_k > 0):
            raise ValueError(f"top_k must be None or an integer > 0, got {top_k!r}")
        self.top_k, self.class_id = top_k, class_id
        super().__init__(name=name)

    def _rows(self) -> int:
        return int(np.size(self.thresholds))

    def _prepared(self, y_true: Any, y_pred: Any,
                  sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Targets, scores (top-k filtered, the class_id column) and weights, one shape."""
        t, p = _pair(y_true, y_pred, self.name)
        w = (np.ones(p.shape) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape, self.name), p.shape).astype(np.float64))
        if self.top_k is not None:
            p = _filter_top_k(p, self.top_k)
        if self.class_id is not None:
            if p.ndim < 2:
                raise ValueError(f"{self.name}: class_id needs y_pred of shape (samples, "
                                 f"classes), got shape {p.shape}")
            t, p, w = t[..., self.class_id], p[..., self.class_id], w[..., self.class_id]
        return t, p, w

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p, w = self._prepared(y_true, y_pred, sample_weight)
        predicted = p.reshape(1, -1) > np.reshape(self.thresholds, (-1, 1))  # (thresholds, M)
        self._count(predicted, t.reshape(-1).astype(bool), w.reshape(-1))

    def _per_threshold(self, values: np.ndarray) -> float | list[float]:
        """One number for one threshold (a list of one too, as Keras), else a list."""
        return float(values[0]) if np.size(self.thresholds) == 1 else values.tolist()

    def _ratio(self, other: np.ndarray) -> float | list[float]:
        """tp / (tp + other), 0 where nothing was counted (Keras's divide_no_nan)."""
        return self._per_threshold(
            _divide_no_nan(self.true_positives, self.true_positives + other))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self._given_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_Confusion):
    """tp / (tp + fp) of binary predictions ``y_pred > thresholds`` against 0/1 targets.

    Args:
        thresholds: a number or a list (giving a list of results); None is 0.5, or with
            ``top_k`` every kept score counts as positive (Keras).
        top_k: count only each sample's ``k`` highest scores (multi-class or multi-label
            outputs, (samples, classes)) as positive.
        class_id: the column (class) whose precision to report.
        name: the key in training logs.

    >>> Precision()(np.array([0, 1, 1]), np.array([0.9, 0.8, 0.1]))
    0.5
    """

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str = "precision") -> None:
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float | list[float]:
        return self._ratio(self.false_positives)


class Recall(_Confusion):
    """tp / (tp + fn) of binary predictions ``y_pred > thresholds`` against 0/1 targets;
    arguments as :class:`Precision`."""

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str = "recall") -> None:
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float | list[float]:
        return self._ratio(self.false_negatives)


class _ConditionCount(_Confusion):
    """The weighted count of one cell of the confusion matrix, at each threshold (Keras's
    ``TruePositives``...: every element counts; a number for one threshold, else a list)."""

    _cell = "true_positives"

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 name: str | None = None) -> None:
        super().__init__(thresholds, name=name)

    def result(self) -> float | list[float]:
        return self._per_threshold(getattr(self, self._cell))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "thresholds": self._given_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred > threshold`` and target 1.

    >>> TruePositives()(np.array([0, 1, 1, 1]), np.array([1.0, 0.0, 1.0, 1.0]))
    2.0
    """


class FalsePositives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred > threshold`` and target 0."""

    _cell = "false_positives"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred <= threshold`` and target 0."""

    _cell = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred <= threshold`` and target 1."""

    _cell = "false_negatives"


class AUC(_Confusion):
    """Area under the ROC or precision-recall curve, approximated from confusion counts at
    ``num_thresholds`` thresholds (Keras). Predictions are probabilities (or logits with
    ``from_logits=True``); labels and predictions are flattened, so every element counts,
    unless ``multi_label``.

    Args:
        num_thresholds: how many thresholds, evenly spaced over [0, 1]; the end ones are
            -1e-7 and 1 + 1e-7 so that predictions of exactly 0 and 1 are counted.
        curve: 'ROC' (true- against false-positive rate) or 'PR' (precision against recall).
        summation_method: 'interpolation' (the trapezoid rule for ROC; for PR, Davis &
            Goadrich's interpolation of precision between thresholds), 'minoring' or
            'majoring' (left or right Riemann sums that under- or over-estimate).
        name: the key in training logs.
        thresholds: thresholds in (0, 1) to use instead of ``num_thresholds`` evenly spaced
            ones; -1e-7 and 1 + 1e-7 are added.
        multi_label: with (samples, labels) data, one curve per label (column) and the
            mean of their areas (weighted by ``label_weights``); False: one curve over all
            elements.
        num_labels: the number of labels, if known (checked against the data).
        label_weights: one weight per label: with ``multi_label`` the weights of the areas'
            mean, without it the weights of each label's elements in the one curve.
        from_logits: whether ``y_pred`` are logits, put through a sigmoid first.

    >>> AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.8]))
    0.75
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str = "auc",
                 thresholds: Sequence[float] | None = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Sequence[float] | None = None,
                 from_logits: bool = False) -> None:
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method.lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError("summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        elif num_thresholds > 1:
            inner = [i / (num_thresholds - 1) for i in range(1, num_thresholds - 1)]
        else:
            raise ValueError(f"num_thresholds must be an integer > 1, got {num_thresholds}")
        if label_weights is not None and np.any(np.asarray(label_weights) < 0):
            raise ValueError(f"label_weights must be >= 0, got {label_weights!r}")
        self.num_thresholds = num_thresholds
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        self.from_logits = from_logits
        self._labels = num_labels if multi_label else None  # the counts' second axis
        super().__init__([-_EPSILON, *inner, 1.0 + _EPSILON], name=name)
        self._given_thresholds = None if thresholds is None else inner

    def _rows(self) -> int | tuple[int, ...]:
        n = int(np.size(self.thresholds))
        return (n, self._labels) if self._labels else n

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p = _np(y_pred)
        if self.from_logits:
            p = 0.5 * (1.0 + np.tanh(0.5 * p.astype(np.float64)))  # sigmoid, without overflow
        t, p, w = self._prepared(y_true, p, sample_weight)
        if self.label_weights is not None and not self.multi_label:
            w = w * np.broadcast_to(self.label_weights, p.shape)
        if not self.multi_label:
            return super().update_state(t, p, w)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: multi_label expects y_pred of shape (samples, "
                             f"labels), got shape {p.shape}")
        if not self._labels:
            self._labels = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._labels:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} labels, expected "
                             f"{self._labels}")
        predicted = p[None] > np.reshape(self.thresholds, (-1, 1, 1))  # (thresholds, N, L)
        self._count(predicted, t.astype(bool), w)

    def result(self) -> float:
        if self.multi_label and not self._labels:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_auc()
        else:
            tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + self.true_negatives), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            pairs = np.stack([y[:-1], y[1:]])
            heights = {"interpolation": pairs.mean(axis=0), "minoring": pairs.min(axis=0),
                       "majoring": pairs.max(axis=0)}[self.summation_method]
            areas = np.sum((x[:-1] - x[1:]) * heights, axis=0)
        if not self.multi_label:
            return float(areas)
        if self.label_weights is None:
            return float(np.mean(areas))
        return float(_divide_no_nan(np.sum(areas * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolated_pr_auc(self) -> np.ndarray:
        """Davis & Goadrich (2006): between two thresholds, precision is interpolated along the
        line that takes the true positives linearly with the predicted positives ``p``; its
        integral over recall is ``slope * (dtp + intercept * log(p0 / p1)) / positives``."""
        tp = self.true_positives
        p = tp + self.false_positives
        dtp = tp[:-1] - tp[1:]
        slope = _divide_no_nan(dtp, p[:-1] - p[1:])
        intercept = tp[1:] - slope * p[1:]
        p_ratio = np.divide(p[:-1], p[1:], out=np.ones_like(p[1:]), where=p[1:] > 0)
        area = _divide_no_nan(slope * (dtp + intercept * np.log(p_ratio)),
                              tp[1:] + self.false_negatives[1:])
        return area.sum(axis=0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._given_thresholds, "multi_label": self.multi_label,
                "num_labels": self.num_labels, "label_weights": self.label_weights,
                "from_logits": self.from_logits}


class FBetaScore(_Counts):
    """The F-beta score of multi-class or multi-label predictions, per class or averaged:
    ``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``, the harmonic mean
    of precision and recall that counts recall ``beta`` times as much (Keras 3).

    Targets are one-hot or multi-hot, shaped like the predictions (batch, classes). Counts are
    kept per class; as Keras, each ratio adds 1e-7 to its denominator, so a class never
    predicted nor present scores 0.

    Args:
        average: None (a list with each class's score), 'micro' (one score from the counts
            summed over classes), 'macro' (the mean of the classes' scores) or 'weighted' (their
            mean weighted by each class's (weighted) number of true instances).
        beta: how many times recall counts as much as precision; > 0.
        threshold: a prediction above it is positive; None (default) makes each sample's
            largest prediction its one positive (unless it is 0).
        name: the key in training logs.

    >>> FBetaScore(beta=2.0, threshold=0.5)(np.array([[1, 0], [1, 1]]),
    ...                                     np.array([[0.9, 0.2], [0.3, 0.8]]))
    [0.5555555..., 0.9999998...]
    """

    _AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score") -> None:
        if average not in self._AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {self._AVERAGES}, "
                             f"got {average!r}")
        if not _is_number(beta) or not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and not (_is_number(threshold) and 0 < threshold <= 1):
            raise ValueError(f"{type(self).__name__}: threshold must be None or a number in "
                             f"(0, 1], got {threshold!r}")
        self.average, self.beta = average, float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self._classes = 0  # known at the first update_state, kept by reset_state
        super().__init__(name=name)

    def _rows(self) -> int:
        return self._classes

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expects y_true and y_pred of shape (batch, classes), "
                             f"got y_pred of shape {p.shape} (a binary model's (N,) outputs "
                             "are (N, 1))")
        if not self._classes:
            self._classes = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._classes:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} classes, earlier batches "
                             f"had {self._classes}")
        if self.threshold is None:  # the arg-max is the one positive, unless it is 0
            predicted = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            predicted = p > self.threshold
        w = np.ones(len(p)) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape[:1], self.name), p.shape[:1])
        self._count(predicted.T, t.T.astype(bool), w.astype(np.float64))

    def result(self) -> float | list[float]:
        if not self._classes:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + _EPSILON)
        if self.average is None:
            return score.tolist()
        if self.average == "weighted":
            support = self.true_positives + self.false_negatives
            return float(np.sum(score * support / (support.sum() + _EPSILON)))
        return float(np.mean(score))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score, ``2 * precision * recall / (precision + recall)``: :class:`FBetaScore`
    with ``beta=1``.

    >>> F1Score(average="macro", threshold=0.5)(np.array([[1, 0], [1, 1]]),
    ...                                         np.array([[0.9, 0.2], [0.3, 0.8]]))
    0.8333332...
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score") -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output column (Keras 3's
    ``R2Score``, scikit-learn's ``r2_score``), from running weighted sums, so streaming over
    batches gives the value of one call on all the data.

    Targets and predictions are (samples, outputs); (samples,) counts as one output. A column
    whose targets are all equal has no variance: its score is 0, or NaN if the predictions
    are exact (Keras's; scikit-learn gives 1 there).

    Args:
        class_aggregation: 'uniform_average' (the mean over columns), 'variance_weighted_average'
            (weighted by each column's target variance) or None (a list, one per column).
        num_regressors: p > 0 gives the adjusted score ``1 - (1 - R2) (n - 1) / (n - p - 1)``,
            where ``n`` counts the target values seen, as Keras (the samples, for one output).
        name: the key in training logs.

    >>> R2Score()(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
    0.5714285...
    """

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score") -> None:
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {self._AGGREGATIONS}, "
                             f"got {class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self._outputs = 0  # known at the first update_state, kept by reset_state
        super().__init__(name=name)

    def reset_state(self) -> None:
        n = self._outputs
        self.sum, self.squared_sum = np.zeros(n), np.zeros(n)
        self.total_mse, self.count = np.zeros(n), np.zeros(n)
        self.num_samples = 0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        t, p = t.astype(np.float64), p.astype(np.float64)
        if p.ndim == 1:
            t, p = t[:, None], p[:, None]
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expects y_true and y_pred of shape (samples, "
                             f"outputs), got y_pred of shape {p.shape}")
        if not self._outputs:
            self._outputs = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._outputs:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} outputs, earlier batches "
                             f"had {self._outputs}")
        w = np.ones(p.shape) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape, self.name), p.shape).astype(np.float64)
        self.sum += (w * t).sum(axis=0)
        self.squared_sum += (w * t * t).sum(axis=0)
        self.total_mse += (w * (t - p) ** 2).sum(axis=0)
        self.count += w.sum(axis=0)
        self.num_samples += t.size

    def result(self) -> float | list[float]:
        if not self._outputs:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum - self.sum * (self.sum / self.count)
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)  # no variance, inexact predictions: 0
        if self.class_aggregation is None:
            score: Any = raw
        elif self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        else:
            score = np.sum(total * raw) / np.sum(total)
        n, k = self.num_samples, self.num_regressors
        if k and k < n - 1:  # Keras falls back to the plain score otherwise
            score = 1.0 - (1.0 - score) * (n - 1) / (n - k - 1)
        return score.tolist() if self.class_aggregation is None else float(score)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class IoU(Metric):
    """Intersection over union ``tp / (tp + fp + fn)`` of class predictions, per target class,
    from a (weighted) confusion matrix accumulated over batches; the mean over
    ``target_class_ids`` of the classes that occur (in targets or predictions) (Keras 3).

    Every element counts: labels and predictions of any shape (e.g. (N, H, W) segmentation
    maps) are flattened. Weights are per element, or per sample (broadcast over the rest).

    Args:
        num_classes: the number of classes, C (the confusion matrix is C x C).
        target_class_ids: the classes whose IoUs are averaged.
        name: the key in training logs (Keras's default names, 'io_u', 'mean_io_u'...).
        ignore_class: a label whose elements are left out (a segmentation 'void' class).
        sparse_y_true: targets are class ids; False: one-hot or scores, arg-max over ``axis``.
        sparse_y_pred: predictions are class ids; False: scores, arg-max over ``axis``.
        axis: the class axis of non-sparse targets or predictions.

    >>> IoU(num_classes=2, target_class_ids=[0])([0, 0, 1, 1], [0, 1, 0, 1])
    0.333333...
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1) -> None:
        target_class_ids = [int(c) for c in target_class_ids]
        if not target_class_ids or min(target_class_ids) < 0 or (
                max(target_class_ids) >= num_classes):
            raise ValueError(f"{type(self).__name__}: target_class_ids must lie in "
                             f"[0, {num_classes}), got {target_class_ids}")
        self.num_classes, self.target_class_ids = int(num_classes), target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        super().__init__(name=name)

    def reset_state(self) -> None:
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def _class_ids(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        t, p = _np(y_true), _np(y_pred)
        if not self.sparse_y_true:
            t = t.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            p = p.argmax(axis=self.axis)
        return t, p

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = self._class_ids(y_true, y_pred)
        if t.size != p.size:
            raise ValueError(f"{self.name}: y_true of shape {t.shape} and y_pred of shape "
                             f"{p.shape} hold different numbers of elements")
        w = np.ones(t.size) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), t.shape, self.name), t.shape).reshape(-1)
        t, p = t.reshape(-1), p.reshape(-1)
        if self.ignore_class is not None:
            keep = t != self.ignore_class
            t, p, w = t[keep], p[keep], w[keep]
        c = self.num_classes
        t, p = _class_ids(t, c, self.name), _class_ids(p, c, self.name)
        self.total_cm += np.bincount(t * c + p, weights=w.astype(np.float64),
                                     minlength=c * c).reshape(c, c)

    def result(self) -> float:
        cm = self.total_cm
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        present = np.sum(denominator > 1e-9)  # classes never seen nor predicted don't count
        iou = tp[self.target_class_ids] / (denominator + _EPSILON)
        return float(iou.sum() / (present + _EPSILON))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes that occur; see :class:`IoU`.

    >>> MeanIoU(num_classes=2)([0, 0, 1, 1], [0, 1, 0, 1])
    0.333333...
    """

    def __init__(self, num_classes: int, name: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes, range(num_classes), name, ignore_class, sparse_y_true,
                         sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary predictions: ``y_pred >= threshold`` is class 1 (Keras's ``>=``), the
    rest class 0; the mean over ``target_class_ids`` ((0, 1), (0,) or (1,)); see :class:`IoU`.
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
                 name: str | None = None) -> None:
        self.threshold = float(threshold)
        super().__init__(2, target_class_ids, name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        predicted = (_np(y_pred) >= self.threshold).astype(np.intp)
        super().update_state(_np(y_true), predicted, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "target_class_ids": self.target_class_ids,
                "threshold": self.threshold}


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot targets and class scores (both arg-maxed over ``axis``)."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name, ignore_class, False,
                         sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot targets and class scores (both arg-maxed over ``axis``)."""

    def __init__(self, num_classes: int, name: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


class _InferredAccuracy(Metric):
    """'accuracy' whose kind (binary, categorical, sparse) is chosen from the shapes of the
    first batch, when :func:`get` could not tell from the loss and the output shape."""

    def __init__(self, name: str = "accuracy") -> None:
        self.metric: Metric | None = None
        super().__init__(name=name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.metric is None:
            kind = _kind_from_shapes(np.shape(_np(y_pred)), np.shape(_np(y_true)))
            self.metric = _ACCURACIES[kind](name=self.name)
        self.metric.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return self.metric.result() if self.metric is not None else 0.0

    def reset_state(self) -> None:
        if self.metric is not None:
            self.metric.reset_state()


# -- lookup ----------------------------------------------------------------------------------------
_ACCURACIES: dict[str, type[Metric]] = {
    "binary": BinaryAccuracy, "categorical": CategoricalAccuracy,
    "sparse": SparseCategoricalAccuracy,
}
_LOSS_KINDS = {
    losses.binary_crossentropy: "binary", losses.categorical_crossentropy: "categorical",
    losses.sparse_categorical_crossentropy: "sparse",
}
_CLASSES: tuple[type[Metric], ...] = (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, KLDivergence, Poisson, LogCoshError, CosineSimilarity, Hinge,
    SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, TruePositives, FalsePositives,
    TrueNegatives, FalseNegatives, AUC, FBetaScore, F1Score, R2Score, Mean, Sum,
    MeanMetricWrapper, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
)
_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    kl_divergence, poisson, log_cosh, cosine_similarity, hinge, squared_hinge,
    categorical_hinge, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy)}
MeanMetricWrapper._functions = _FUNCTIONS
# IoU and its kin need num_classes: by class name in configs, not by a bare string
_NEED_ARGUMENTS = (Accuracy, MeanMetricWrapper, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU)
_BY_KEY: dict[str, type[Metric]] = {
    **{_key(cls.__name__): cls for cls in _CLASSES if cls not in _NEED_ARGUMENTS},
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "kld": KLDivergence,
    _key("kullback_leibler_divergence"): KLDivergence, "logcosh": LogCoshError,
    "rmse": RootMeanSquaredError, "bce": BinaryCrossentropy,
}
# how a metric named by a string reads logits: probability 0.5 is logit 0; AUC takes a sigmoid
_ON_LOGITS: dict[type[Metric], dict[str, Any]] = {
    BinaryAccuracy: {"threshold": 0.0}, Precision: {"thresholds": 0.0},
    Recall: {"thresholds": 0.0}, AUC: {"from_logits": True},
    BinaryCrossentropy: {"from_logits": True},
    **dict.fromkeys((TruePositives, FalsePositives, TrueNegatives, FalseNegatives),
                    {"thresholds": 0.0}),
}
KNOWN_NAMES = sorted({"accuracy", "acc", "mse", "mae", "mape", "msle", "kld", "logcosh",
                      "rmse", "bce", "mean", "sum", "precision", "recall", "auc", "f1_score",
                      "fbeta_score", "r2_score", "root_mean_squared_error", "true_positives",
                      "false_positives", "true_negatives", "false_negatives", "binary_io_u",
                      *(n for n in _FUNCTIONS if n != "accuracy")})


def _loss_kind(loss: Any) -> str | None:
    """'binary', 'categorical' or 'sparse' for a cross-entropy loss (any spelling), else None."""
    try:
        fn = getattr(losses.get(loss), "fn", None)
    except (ValueError, TypeError):
        return None
    return _LOSS_KINDS.get(fn) if fn is not None else None


def _binary_from_logits(loss: Any) -> bool:
    """Whether ``loss`` is binary cross-entropy on logits (``from_logits=True``)."""
    return _loss_kind(loss) == "binary" and bool(getattr(losses.get(loss), "from_logits", False))


def _kind_from_shapes(pred_shape: Sequence[Any] | None,
                      true_shape: Sequence[Any] | None) -> str | None:
    """Keras's rule: one output per sample is binary; labels with a trailing 1 or one axis fewer
    than many-class outputs are sparse; otherwise categorical. None when it cannot tell yet."""
    if pred_shape is None:
        return None
    if len(pred_shape) <= 1 or pred_shape[-1] == 1:
        return "binary"
    if true_shape is None:
        return None
    if len(true_shape) < len(pred_shape) or tuple(true_shape)[-1:] == (1,):
        return "sparse"
    return "categorical"


def get(identifier: Any, loss: Any = None, output_shape: Sequence[Any] | None = None,
        target_shape: Sequence[Any] | None = None) -> Metric | None:
    """Resolve a metric identifier to a :class:`Metric`, as ``compile(metrics=[...])`` does.

    ``'accuracy'`` (or ``'acc'``) becomes the accuracy the loss implies: sparse categorical
    cross-entropy gives :class:`SparseCategoricalAccuracy`, categorical cross-entropy
    :class:`CategoricalAccuracy`, binary cross-entropy :class:`BinaryAccuracy`. Otherwise the
    shapes decide: one output per sample is binary; labels with a trailing axis of size 1, or
    with fewer axes than the outputs, are sparse; labels shaped like the outputs are
    categorical. When the shapes are not known yet, the choice is made at the first
    ``update_state``. When the loss is binary cross-entropy with ``from_logits=True``, the
    thresholded metrics named by a string (binary accuracy, precision, recall) threshold the
    logits at 0, which is probability 0.5, and ``'auc'`` puts them through a sigmoid.

    Args:
        identifier: a name (``'accuracy'``, ``'mse'``, ``'mae'``, ``'precision'``, ``'recall'``,
            ``'auc'``, ``'f1_score'``, ``'fbeta_score'``,
            ``'sparse_categorical_accuracy'``, ``'top_k_categorical_accuracy'``...;
            case-insensitive, CamelCase class names too), a ``Metric`` instance or class, a
            ``{'class_name', 'config'}`` dict, a per-sample function (wrapped in
            :class:`MeanMetricWrapper`), or None.
        loss: the compiled loss (a name, function or Loss object), used for ``'accuracy'``
            and for thresholds on logits.
        output_shape: the shape of the model's predictions (the batch axis may be None).
        target_shape: the shape of the targets, if known.

    Returns:
        A Metric named as the string given (Keras's log keys), or None for None.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    >>> get("accuracy", loss="sparse_categorical_crossentropy")
    SparseCategoricalAccuracy(name='accuracy', result=0.0)
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = next((c for c in _CLASSES if c.__name__ == name), None)
        if cls is None:
            raise ValueError(f"unknown metric class {name!r}; known: "
                             f"{', '.join(c.__name__ for c in _CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            kind = _loss_kind(loss) or _kind_from_shapes(output_shape, target_shape)
            if kind is None:
                return _InferredAccuracy(identifier)
            cls = _ACCURACIES[kind]
        else:
            cls = _BY_KEY.get(_key(identifier))
            if cls is None:
                raise ValueError(f"unknown metric {identifier!r}; known metrics: "
                                 f"{', '.join(KNOWN_NAMES)} (or their CamelCase class names)")
        on_logits = _ON_LOGITS.get(cls, {}) if _binary_from_logits(loss) else {}
        return cls(name=identifier, **on_logits)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a metric")


__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU",
    "CategoricalAccuracy", "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity",
    "F1Score", "FBetaScore", "FalseNegatives", "FalsePositives", "Hinge", "IoU", "KLDivergence",
    "LogCoshError", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU",
    "MeanMetricWrapper", "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric",
    "OneHotIoU", "OneHotMeanIoU", "Poisson", "Precision", "R2Score", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy",
    "TrueNegatives", "TruePositives", "accuracy", "binary_accuracy", "binary_crossentropy",
    "categorical_accuracy", "categorical_crossentropy", "categorical_hinge", "cosine_similarity",
    "get", "hinge", "kl_divergence", "kld", "log_cosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "mse", "msle", "poisson", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "squared_hinge", "top_k_categorical_accuracy",
]
