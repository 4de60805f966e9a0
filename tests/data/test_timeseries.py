"""keras.utils.timeseries_dataset_from_array: windows, targets, strides, bounds and fit,
checked against the windows written out by hand (Keras's docstring examples)."""

from __future__ import annotations

import numpy as np
import pytest
from shenjing.keras import layers

import shenjing as keras


def test_windows_and_targets_follow_keras_docstring_example():
    data = np.arange(100)
    ds = keras.utils.timeseries_dataset_from_array(data, data[10:], sequence_length=10,
                                                   sampling_rate=2, batch_size=4)
    x, y = ds[0]
    np.testing.assert_array_equal(x[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(y, [10, 11, 12, 13])
    windows = np.concatenate([b[0] for b in ds])
    targets = np.concatenate([b[1] for b in ds])
    assert len(windows) == 100 - 9 * 2 == len(ds.starts)  # 82 windows fit, 90 targets
    np.testing.assert_array_equal(windows, [np.arange(p, p + 20, 2) for p in range(82)])
    np.testing.assert_array_equal(targets, np.arange(10, 92))
    assert len(ds) == 21
    (first,) = ds.take(1)
    np.testing.assert_array_equal(first[0], x)
    assert keras.preprocessing.timeseries_dataset_from_array is \
        keras.utils.timeseries_dataset_from_array


def test_stride_bounds_and_no_targets():
    data = np.arange(50, dtype=np.float32).reshape(25, 2)
    ds = keras.utils.timeseries_dataset_from_array(data, None, 3, sequence_stride=4,
                                                   batch_size=None, start_index=2, end_index=20)
    windows = list(ds)
    starts = list(range(2, 20 - 2, 4))  # the last window ends before row 20
    assert len(windows) == len(starts)
    for w, p in zip(windows, starts):
        np.testing.assert_array_equal(w, data[p:p + 3])
    shuffled = keras.utils.timeseries_dataset_from_array(data, None, 3, shuffle=True, seed=1,
                                                         batch_size=100)
    assert sorted(shuffled[0][:, 0, 0].tolist()) == data[:23, 0].tolist()


def test_fit_on_windows_with_an_lstm():
    rng = np.random.default_rng(0)
    series = rng.standard_normal((120, 3)).astype(np.float32)
    ds = keras.utils.timeseries_dataset_from_array(series[:-5], series[5:, :1], 5,
                                                   batch_size=16)
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(1)])
    model.compile("adam", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()


@pytest.mark.parametrize("batch_size", [4, None])
def test_no_window_that_fits_gives_an_empty_dataset_as_keras(batch_size):
    # Keras's start positions are np.arange(0, num_seqs, stride): none for num_seqs <= 0
    data = np.arange(50, dtype=np.float32).reshape(25, 2)
    ds = keras.utils.timeseries_dataset_from_array(data, data[:, :1], 30, batch_size=batch_size)
    assert len(ds) == 0 and list(ds) == [] and list(ds.take(1)) == []
    model = keras.Sequential([keras.Input((30, 2)), layers.LSTM(4), layers.Dense(1)])
    model.compile("adam", loss="mse")
    empty = (np.zeros((0, 30, 2), np.float32), np.zeros((0, 1), np.float32))
    for args in ((ds,), empty):  # the same error as fit on empty arrays
        with pytest.raises(ValueError, match="yielded no batches in epoch 1"):
            model.fit(*args, verbose=0)


def test_windows_are_a_dataset_that_fit_keeps_in_order():
    """Keras returns a tf.data dataset: its methods work (take(-1) is all of it, prefetch,
    unbatch, cardinality), and fit ignores shuffle=True for it, as for any dataset, so the
    batches reach train_step in time order (a stateful RNN depends on it)."""
    data = np.arange(80, dtype=np.float32).reshape(40, 2) / 80
    ds = keras.utils.timeseries_dataset_from_array(data, data[:, 0], 4, batch_size=4)
    assert len(ds) == int(ds.cardinality()) == len(list(ds.take(-1))) == 10
    assert [x.shape for x, _ in ds.prefetch(2)][0] == (4, 4, 2)
    assert len(list(ds.unbatch())) == 37
    starts = []

    class Seen(layers.Layer):  # the first value of each training batch, in the order seen
        def call(self, x, training=False):
            if training:
                starts.append(float(x.numpy()[0, 0, 0]))
            return x

    model = keras.Sequential([keras.Input((4, 2)), Seen(), layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", loss="mse")
    model.fit(ds, epochs=1, verbose=0)  # shuffle=True, the default
    assert starts == sorted(starts) and len(starts) == 10


@pytest.mark.parametrize("batch_size", [4, None])
def test_shuffled_windows_take_a_new_local_order_each_pass_as_keras(batch_size):
    """Keras shuffles the window starts once (RandomState(seed)), then each pass again through
    a tf.data buffer of batch_size * 8 (1024 unbatched): every epoch of fit saw the same
    batches in the same order here."""
    data = np.arange(200, dtype=np.float32)[:, None]

    def passes(seed):
        ds = keras.utils.timeseries_dataset_from_array(data, data[:, 0], 5, shuffle=True,
                                                       seed=seed, batch_size=batch_size)
        return [np.concatenate([np.atleast_1d(np.asarray(y)) for _, y in ds]) for _ in (0, 1)]

    first, second = passes(3)
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(196))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(passes(3)[1], second)  # a seed repeats the run
