"""Input normalization outside the model (the article's section 6.3): ``MinMaxScaler`` maps each
feature to a range, ``StandardScaler`` to zero mean and unit variance (z-scores). Both learn
their statistics on the training set with ``fit`` and apply the same ones to every later set with
``transform``, so no information leaks from the test set. Names and attributes are
scikit-learn's. ``train_test_split`` holds out a seeded, optionally stratified, test set.

>>> scaler = StandardScaler()
>>> x_train = scaler.fit_transform(x_train)
>>> x_test = scaler.transform(x_test)   # the training set's mean and std
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import backend


def _features(x: Any, where: str) -> np.ndarray:
    """``x`` as an array with samples first; ValueError naming the columns holding NaN or inf."""
    x = np.asarray(getattr(x, "data", x))
    if x.ndim == 0:
        raise ValueError(f"{where}: expected an array of samples (samples first), got a scalar")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected numbers, got an array of dtype {x.dtype}")
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            columns = np.argwhere(bad.reshape(len(x), -1).any(axis=0))[:, 0]
            names = [int(c) if x.ndim <= 2 else tuple(int(i) for i in np.unravel_index(
                c, x.shape[1:])) for c in columns]
            kind = "NaN" if np.isnan(x).any() else "infinity"
            raise ValueError(f"{where}: the data contain {kind} (NaN or inf) in column(s) "
                             f"{names[:20]}{' ...' if len(names) > 20 else ''}; fill or drop "
                             "those values first")
    return x


def _out_dtype(x: np.ndarray) -> np.dtype:
    """Floating inputs keep their dtype (as scikit-learn); others become float32, shenjing's
    default."""
    return x.dtype if x.dtype.kind == "f" else backend.DEFAULT_FLOAT


def _nonzero_scale(scale: np.ndarray) -> np.ndarray:
    """Constant features have scale 0; use 1 instead, so they map to a constant and nothing is
    divided by zero (scikit-learn's ``_handle_zeros_in_scale``)."""
    eps = 10 * np.finfo(scale.dtype).eps
    return np.where(np.abs(scale) < eps, 1.0, scale)


class _Scaler:
    """fit / transform / fit_transform / inverse_transform; subclasses learn their statistics
    in ``fit`` and hold the two maps in ``_forward`` and ``_inverse``."""

    def fit(self, x: Any, y: Any = None) -> _Scaler:
        """Learn the per-feature statistics of ``x`` (samples first); ``y`` is ignored."""
        raise NotImplementedError

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check(self, x: Any, what: str) -> np.ndarray:
        if getattr(self, "scale_", None) is None:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: call fit(x) first")
        x = _features(x, f"{type(self).__name__}.{what}")
        if x.shape[1:] != self.feature_shape_:
            raise ValueError(f"{type(self).__name__}.{what}: the scaler was fitted on features "
                             f"of shape {self.feature_shape_}, got samples of shape "
                             f"{x.shape[1:]}")
        return x

    def transform(self, x: Any) -> np.ndarray:
        """Scale ``x`` with the statistics learned by ``fit``."""
        x = self._check(x, "transform")
        return self._forward(x).astype(_out_dtype(x), copy=False)

    def fit_transform(self, x: Any, y: Any = None) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Undo ``transform``: back to the original units."""
        x = self._check(x, "inverse_transform")
        return self._inverse(x).astype(_out_dtype(x), copy=False)

    def _set_shape(self, x: np.ndarray) -> None:
        if len(x) == 0:
            raise ValueError(f"{type(self).__name__}.fit: got 0 samples")
        self.n_samples_seen_ = len(x)
        self.feature_shape_ = x.shape[1:]
        self.n_features_in_ = int(np.prod(x.shape[1:], dtype=np.int64))


class MinMaxScaler(_Scaler):
    """Map each feature linearly so that its training minimum and maximum become
    ``feature_range``: ``x' = (x - min) / (max - min) * (hi - lo) + lo``. A constant feature
    maps to ``lo``.

    Args:
        feature_range: ``(lo, hi)`` with ``lo < hi``.

    Attributes (scikit-learn's): ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``,
    ``min_`` (so that ``transform(x) = x * scale_ + min_``), ``n_features_in_``.

    >>> MinMaxScaler().fit_transform(np.array([[1.0], [3.0], [5.0]]))[:, 0]
    array([0. , 0.5, 1. ])
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1)) -> None:
        pair = tuple(feature_range) if isinstance(feature_range, (tuple, list)) else ()
        if len(pair) != 2 or not all(isinstance(v, numbers.Real) for v in pair) \
                or not pair[0] < pair[1]:
            raise ValueError(f"MinMaxScaler: feature_range must be (min, max), two numbers with "
                             f"min < max, got {feature_range!r}")
        self.feature_range = pair
        self.scale_: np.ndarray | None = None

    def fit(self, x: Any, y: Any = None) -> MinMaxScaler:
        x = _features(x, "MinMaxScaler.fit")
        self._set_shape(x)
        lo, hi = self.feature_range
        # statistics in float64 whatever the input, so float32 data lose nothing here
        self.data_min_ = x.min(axis=0).astype(np.float64)
        self.data_max_ = x.max(axis=0).astype(np.float64)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / _nonzero_scale(self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale_ + self.min_

    def _inverse(self, x: np.ndarray) -> np.ndarray:
        return (x - self.min_) / self.scale_


class StandardScaler(_Scaler):
    """Standardize each feature with its training mean and standard deviation (z-scores):
    ``x' = (x - mean_) / scale_``, ``scale_ = sqrt(var_)`` (population variance). A constant
    feature has ``scale_ = 1``, so it maps to 0.

    Args:
        with_mean: subtract the mean (else 0 is used).
        with_std: divide by the standard deviation (else 1 is used).

    Attributes (scikit-learn's): ``mean_``, ``var_``, ``scale_``, ``n_features_in_``.

    >>> StandardScaler().fit_transform(np.array([[1.0], [3.0]]))[:, 0]
    array([-1.,  1.])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean, self.with_std = with_mean, with_std
        self.scale_: np.ndarray | None = None

    def fit(self, x: Any, y: Any = None) -> StandardScaler:
        x = _features(x, "StandardScaler.fit")
        self._set_shape(x)
        x64 = x.astype(np.float64)
        self.mean_ = x64.mean(axis=0)
        self.var_ = x64.var(axis=0)
        self.scale_ = _nonzero_scale(np.sqrt(self.var_)) if self.with_std \
            else np.ones_like(self.var_)
        return self

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_ if self.with_mean else x) / self.scale_

    def _inverse(self, x: np.ndarray) -> np.ndarray:
        x = x * self.scale_
        return x + self.mean_ if self.with_mean else x


def _split_sizes(n: int, test_size: float | int) -> tuple[int, int]:
    """scikit-learn's rounding: ceil for the test set, the rest for training."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.number)):
        raise ValueError(f"test_size must be a fraction in (0, 1) or a number of samples, "
                         f"got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1) as a fraction, got {test_size}")
        n_test = int(np.ceil(test_size * n))
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size} of {n} samples leaves an empty training or "
                         "test set")
    return n - n_test, n_test


def _stratified_test_rows(labels: np.ndarray, n_test: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Row indices of a test set whose class proportions match ``labels``'s: each class gets
    its share of ``n_test`` rounded down, and the rows left over go to the classes with the
    largest remainders (ties broken at random)."""
    classes, inverse, counts = np.unique(labels, axis=0, return_inverse=True,
                                         return_counts=True)
    inverse = inverse.reshape(-1)
    if counts.min() < 2:
        raise ValueError(f"stratify: the least populated class has {counts.min()} member; "
                         "every class needs at least 2 to appear in both sets")
    n = len(labels)
    if n_test < len(classes) or n - n_test < len(classes):
        raise ValueError(f"stratify: the test set ({n_test}) and the training set "
                         f"({n - n_test}) must each be at least the number of classes "
                         f"({len(classes)})")
    share = counts * n_test / n
    per_class = np.floor(share).astype(np.int64)
    remainder = share - per_class
    left = n_test - int(per_class.sum())
    order = np.lexsort((rng.random(len(classes)), -remainder))
    per_class[order[:left]] += 1
    test = [rng.permutation(np.flatnonzero(inverse == k))[:m] for k, m in enumerate(per_class)]
    return rng.permutation(np.concatenate(test))


def train_test_split(*arrays: Any, test_size: float | int = 0.2, seed: int | None = 0,
                     stratify: Any = None, shuffle: bool = True) -> list[np.ndarray]:
    """Split arrays (same number of rows) into training and test parts in scikit-learn's
    order, ``[a_train, a_test, b_train, b_test, ...]`` (its ``random_state`` is ``seed`` here).

    Args:
        *arrays: arrays with samples first.
        test_size: a fraction in (0, 1) (rounded up), or a number of test samples.
        seed: the shuffle's seed (None: a stream from ``shenjing.utils.set_random_seed``).
        stratify: labels (usually ``y``) whose class proportions both parts keep.
        shuffle: shuffle before splitting; without it, the last rows are the test set.

    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y)
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays_ = [np.asarray(getattr(a, "data", a)) for a in arrays]
    n = len(arrays_[0])
    lengths = [len(a) for a in arrays_]
    if any(m != n for m in lengths):
        raise ValueError(f"train_test_split: the arrays have different numbers of samples: "
                         f"{lengths}")
    n_train, n_test = _split_sizes(n, test_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("a stratified split needs shuffle=True")
        train, test = np.arange(n_train), np.arange(n_train, n)
    else:
        rng = backend.new_generator() if seed is None else np.random.default_rng(seed)
        if stratify is not None:
            labels = np.asarray(getattr(stratify, "data", stratify))
            if len(labels) != n:
                raise ValueError(f"stratify has {len(labels)} labels for {n} samples")
            test = _stratified_test_rows(labels, n_test, rng)
            mask = np.ones(n, dtype=bool)
            mask[test] = False
            train = rng.permutation(np.flatnonzero(mask))
        else:
            order = rng.permutation(n)
            train, test = order[n_test:], order[:n_test]
    return [part for a in arrays_ for part in (a[train], a[test])]
