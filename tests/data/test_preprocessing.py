"""Scalers (against scikit-learn's), their handling of constant features and NaN, and
``train_test_split`` (sizes, seeds, stratification)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import shenjing
from shenjing.data import MinMaxScaler, StandardScaler, to_categorical, train_test_split


def _features(rng, n=50):
    x = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 100.0]
    x[:, 2] = 7.0  # a constant feature
    return x


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (2.5, 3.0)])
def test_min_max_scaler_matches_sklearn(rng, feature_range):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    x, later = _features(rng), _features(rng, 10)
    ours = MinMaxScaler(feature_range).fit(x)
    theirs = preprocessing.MinMaxScaler(feature_range=feature_range).fit(x)
    for name in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12)
    np.testing.assert_allclose(ours.transform(later), theirs.transform(later), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(later)), later,
                               rtol=1e-12, atol=1e-12)
    scaled = MinMaxScaler(feature_range).fit_transform(x)
    assert scaled.min() == pytest.approx(feature_range[0])
    assert scaled.max() == pytest.approx(feature_range[1])
    np.testing.assert_array_equal(scaled[:, 2], feature_range[0])  # constant: the low end


def test_standard_scaler_matches_sklearn(rng):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    x, later = _features(rng), _features(rng, 10)
    ours, theirs = StandardScaler().fit(x), preprocessing.StandardScaler().fit(x)
    for name in ("mean_", "var_", "scale_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12)
    np.testing.assert_allclose(ours.transform(later), theirs.transform(later), rtol=1e-10,
                               atol=1e-12)
    z = ours.transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), [1, 1, 0, 1], atol=1e-12)  # constant -> 0
    assert ours.scale_[2] == 1.0
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(later)), later, rtol=1e-12)
    for kwargs in ({"with_mean": False}, {"with_std": False}):
        np.testing.assert_allclose(StandardScaler(**kwargs).fit_transform(x),
                                   preprocessing.StandardScaler(**kwargs).fit_transform(x),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("scaler", [MinMaxScaler, StandardScaler])
def test_dtypes_float32_is_kept_and_integers_become_float32(scaler):
    x32 = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert scaler().fit_transform(x32).dtype == np.float32
    assert scaler().fit_transform(np.arange(12).reshape(6, 2)).dtype == np.float32
    assert scaler().fit_transform(x32.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("scaler", [MinMaxScaler, StandardScaler])
def test_nan_is_an_error_naming_the_columns(scaler):
    x = np.ones((5, 4))
    x[1, 3] = np.nan
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*column\(s\) \[1, 3\]"):
        scaler().fit(x)
    fitted = scaler().fit(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"transform.*column\(s\) \[0\]"):
        fitted.transform(np.array([[np.inf, 0, 0, 0]]))


@pytest.mark.parametrize("scaler", [MinMaxScaler, StandardScaler])
def test_misuse_is_a_clear_error(scaler):
    with pytest.raises(RuntimeError, match="not fitted"):
        scaler().transform(np.ones((2, 2)))
    fitted = scaler().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        fitted.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="0 samples"):
        scaler().fit(np.ones((0, 2)))


def test_min_max_scaler_rejects_an_empty_range():
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1, 1))


@pytest.mark.parametrize("bad", [(0,), 5, (0, 1, 2), ("0", "1"), (0, float("nan")), None])
def test_min_max_scaler_names_a_feature_range_that_is_not_a_pair(bad):
    with pytest.raises(ValueError, match=r"feature_range must be \(min, max\), two numbers with "
                                         rf"min < max, got {re.escape(repr(bad))}"):
        MinMaxScaler(bad)
    assert MinMaxScaler([np.float32(-1), 2]).feature_range == (-1, 2)


def test_scalers_work_per_position_on_images():
    images = np.random.default_rng(0).random((8, 3, 3, 2))
    out = StandardScaler().fit_transform(images)
    assert out.shape == images.shape
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (6, 3), elements=st.floats(-1e6, 1e6)))
def test_scalers_round_trip(x):
    for scaler in (MinMaxScaler(), StandardScaler()):
        back = scaler.fit(x).inverse_transform(scaler.transform(x))
        np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-6)


# -- train_test_split ---------------------------------------------------------------------------
def test_split_sizes_pairing_and_seed():
    x = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=1)
    assert len(x_test) == 3 and len(x_train) == 7  # ceil(2.5) for the test set, as sklearn
    np.testing.assert_array_equal(x_train[:, 0], y_train)
    np.testing.assert_array_equal(x_test[:, 0], y_test)
    assert sorted([*y_train, *y_test]) == list(range(10))
    again = train_test_split(x, y, test_size=0.25, seed=1)
    np.testing.assert_array_equal(again[3], y_test)
    assert not np.array_equal(train_test_split(x, y, test_size=0.25, seed=2)[3], y_test)
    assert len(train_test_split(y, test_size=4)[1]) == 4


def test_split_without_shuffle_holds_out_the_last_rows():
    train, test = train_test_split(np.arange(10), shuffle=False)
    np.testing.assert_array_equal(train, np.arange(8))
    np.testing.assert_array_equal(test, [8, 9])


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    _, _, y_train, y_test = train_test_split(np.arange(100), y, test_size=0.2, stratify=y)
    assert np.bincount(y_test).tolist() == [12, 6, 2]
    assert np.bincount(y_train).tolist() == [48, 24, 8]
    # remainders: 7 test rows of 3 classes still sum to 7 and stay within one of the share
    _, y_small = train_test_split(y, test_size=7, stratify=y, seed=3)
    counts = np.bincount(y_small, minlength=3)
    assert counts.sum() == 7 and np.all(np.abs(counts - 7 * np.array([0.6, 0.3, 0.1])) < 1)


def test_split_errors():
    with pytest.raises(ValueError, match="different numbers"):
        train_test_split(np.arange(5), np.arange(4))
    for bad in (0.0, 1.0, 10, 0):
        with pytest.raises(ValueError, match="test_size"):
            train_test_split(np.arange(10), test_size=bad)
    with pytest.raises(ValueError, match="at least 2"):
        train_test_split(np.arange(6), stratify=[0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="shuffle=True"):
        train_test_split(np.arange(6), stratify=[0, 1] * 3, shuffle=False)


def test_to_categorical_is_re_exported():
    assert to_categorical is shenjing.utils.to_categorical
