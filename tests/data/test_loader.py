"""``DataLoader``: batching, seeded per-epoch shuffles, map_fn, multi-input and sample weights;
and ``Model.fit`` / ``evaluate`` / ``predict`` taking a loader (or any re-iterable of batches)
with the same results as the arrays it holds."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers, losses, optimizers
from shenjing.data import DataLoader
from shenjing.layers import Dense

LOGITS_LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)


def _data(n: int = 40, features: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def _model(seed: int = 3) -> sj.Sequential:
    sj.utils.set_random_seed(seed)
    model = sj.Sequential([sj.Input((4,)), Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS, metrics=["accuracy"])
    return model


# -- the loader --------------------------------------------------------------------------------
@pytest.mark.parametrize("n, batch, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (8, 4, True, [4, 4]), (3, 8, False, [3]),
    (3, 8, True, [])])
def test_loader_batch_sizes_and_len(n, batch, drop_last, sizes):
    x = np.arange(n, dtype=np.float32)[:, None]
    loader = DataLoader(x, np.arange(n), batch_size=batch, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(xb) for xb, _ in loader] == sizes


def test_loader_keeps_order_without_shuffle_and_yields_views():
    x, y = _data(10)
    batches = list(DataLoader(x, y, batch_size=4))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert np.shares_memory(batches[0][0], x)  # slices, not copies


def test_shuffle_is_a_new_permutation_each_epoch_and_keeps_pairs():
    x = np.arange(30, dtype=np.float32)[:, None]
    loader = DataLoader(x, 2 * np.arange(30), batch_size=7, shuffle=True, seed=1)
    epochs = []
    for _ in range(3):
        xs, ys = zip(*loader)
        order = np.concatenate(xs)[:, 0]
        np.testing.assert_array_equal(np.concatenate(ys), 2 * order)
        assert sorted(order) == list(range(30)) and list(order) != list(range(30))
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])


def _orders(loader, epochs=2):
    return [np.concatenate([xb for xb, _ in loader])[:, 0] for _ in range(epochs)]


def test_shuffle_is_reproducible_by_seed_and_by_set_random_seed():
    x, y = np.arange(20, dtype=np.float32)[:, None], np.zeros(20)
    np.testing.assert_array_equal(_orders(DataLoader(x, y, 4, shuffle=True, seed=5)),
                                  _orders(DataLoader(x, y, 4, shuffle=True, seed=5)))
    assert not np.array_equal(_orders(DataLoader(x, y, 4, shuffle=True, seed=5)),
                              _orders(DataLoader(x, y, 4, shuffle=True, seed=6)))
    sj.utils.set_random_seed(11)
    first = _orders(DataLoader(x, y, 4, shuffle=True))
    sj.utils.set_random_seed(11)
    np.testing.assert_array_equal(_orders(DataLoader(x, y, 4, shuffle=True)), first)


def test_multi_input_sample_weight_and_x_only_batches():
    a, b = np.arange(6.0)[:, None], np.arange(6.0, 12.0)[:, None]
    y, w = np.arange(6), np.linspace(0, 1, 6)
    (xb, yb, wb), _ = DataLoader([a, b], y, batch_size=3, sample_weight=w)
    assert isinstance(xb, list) and len(xb) == 2
    np.testing.assert_array_equal(xb[1], b[:3])
    np.testing.assert_array_equal(wb, w[:3])
    only_x = list(DataLoader(a, batch_size=4))
    assert isinstance(only_x[0], sj.Tensor) and only_x[0].shape == (4, 1)


def test_a_dict_of_inputs_is_batched_by_its_arrays_rows():
    """Samples are the arrays' rows, not the dict's keys; each batch is a dict."""
    x = {"age": np.arange(10.0)[:, None], "tags": np.arange(20).reshape(10, 2)}
    loader = DataLoader(x, np.arange(10), batch_size=4, shuffle=True, seed=0)
    assert loader.num_samples == 10 and len(loader) == 3
    batches = list(loader)
    assert all(sorted(xb) == ["age", "tags"] for xb, _ in batches)
    rows = np.concatenate([xb["age"].numpy()[:, 0] for xb, _ in batches])
    np.testing.assert_array_equal(rows, np.concatenate([yb.numpy() for _, yb in batches]))
    assert sorted(rows.tolist()) == list(range(10))
    with pytest.raises(ValueError, match=r"x\['age'\] has 10, x\['tags'\] has 9"):
        DataLoader({"age": x["age"], "tags": x["tags"][:9]}, np.arange(10))
    with pytest.raises(ValueError, match="x has 10 samples but y has 9"):
        DataLoader(x, np.arange(9))
    with pytest.raises(ValueError, match="x is an empty dict"):
        DataLoader({}, np.arange(9))


def test_map_fn_transforms_each_batch():
    x, y = np.ones((5, 2), np.float32), np.arange(5)
    loader = DataLoader(x, y, batch_size=2, map_fn=lambda xb, yb: (xb * 3, yb + 10))
    xs, ys = zip(*loader)
    np.testing.assert_array_equal(np.concatenate(xs), 3 * x)
    np.testing.assert_array_equal(np.concatenate(ys), y + 10)
    np.testing.assert_array_equal(loader.x, x)  # the data are not changed
    with pytest.raises(TypeError, match="map_fn"):
        list(DataLoader(x, y, map_fn=lambda xb, yb: xb))


def test_arrays_access_and_unbatched_samples():
    x, y = _data(5)
    loader = DataLoader(x, y, batch_size=None)
    assert loader.x is not None and loader.as_arrays()[0] is loader.x
    np.testing.assert_array_equal(loader.as_arrays()[1], y)
    assert len(DataLoader(x, y, sample_weight=np.ones(5)).as_arrays()) == 3
    first = next(iter(loader))
    assert len(loader) == 5 and first[0].shape == (4,)


def test_loader_argument_errors():
    x, y = _data(5)
    with pytest.raises(ValueError, match="5 samples but y has 4"):
        DataLoader(x, y[:4])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(x, y, batch_size=bad)


# -- Model.fit / evaluate / predict with a loader ----------------------------------------------
def test_fit_evaluate_predict_with_a_loader_equal_arrays():
    x, y = _data(40)
    xv, yv = _data(16, seed=1)
    by_arrays = _model()
    h1 = by_arrays.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                       validation_data=(xv, yv))
    by_loader = _model()
    h2 = by_loader.fit(DataLoader(x, y, batch_size=8), epochs=3, verbose=0,
                       validation_data=DataLoader(xv, yv, batch_size=5))
    assert h1.history.keys() == h2.history.keys()
    for key in h1.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-6, atol=1e-7)
    for a, b in zip(by_arrays.get_weights(), by_loader.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(by_loader.evaluate(DataLoader(xv, yv, batch_size=3), verbose=0),
                               by_arrays.evaluate(xv, yv, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(by_loader.predict(DataLoader(xv, batch_size=32)),
                                  by_arrays.predict(xv, batch_size=32))
    # predict ignores the labels of (x, y) batches; other batch sizes differ by rounding only
    np.testing.assert_allclose(by_loader.predict(DataLoader(xv, yv, batch_size=7)),
                               by_arrays.predict(xv), rtol=1e-6, atol=1e-7)


def test_fit_with_a_shuffled_seeded_loader_is_reproducible():
    x, y = _data(40)
    runs = []
    for _ in range(2):
        model = _model()
        model.fit(DataLoader(x, y, batch_size=8, shuffle=True, seed=4), epochs=2, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sample_and_class_weights_from_a_loader():
    x = np.zeros((8, 1), np.float32)
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1.0]).reshape(8, 1)  # loss of the zero model: y**2
    model = sj.Sequential([sj.Input((1,)), Dense(1, kernel_initializer="zeros")])
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    weighted = model.fit(DataLoader(x, y, batch_size=3), epochs=1, verbose=0,
                         class_weight={0: 1.0, 1: 3.0}).history["loss"][0]
    by_arrays = model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False,
                          class_weight={0: 1.0, 1: 3.0})
    # batches of 3, 3 and 2 samples, weighted by their sizes (Keras 3)
    assert weighted == by_arrays.history["loss"][0] == pytest.approx((0 * 3 + 0 * 3 + 3 * 2) / 8)
    w = np.array([1, 1, 1, 1, 1, 1, 0, 0.0])
    assert model.evaluate(DataLoader(x, y, batch_size=8, sample_weight=w), verbose=0) == 0.0


class Batches:
    """A minimal re-iterable of (x, y) batches: not a DataLoader, not arrays."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __iter__(self):
        for s in range(0, len(self.x), self.size):
            yield self.x[s:s + self.size], self.y[s:s + self.size]


def _unbuilt_model() -> sj.Sequential:
    sj.utils.set_random_seed(3)
    model = sj.Sequential([Dense(8, activation="relu"), Dense(3)])  # no input shape
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS)
    return model


def test_any_re_iterable_of_batches_works_and_builds_the_model():
    x, y = _data(24)
    model = _unbuilt_model()
    history = model.fit(Batches(x, y, 8), epochs=3, verbose=0)  # no len(): steps unknown
    assert len(history.history["loss"]) == 3 and model.built
    reference = _unbuilt_model()
    reference.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert model.predict(Batches(x, y, 5)).shape == (24, 3)


def test_model_builds_from_the_first_mapped_batch():
    """map_fn may change the shape (a crop), so the model is built on a batch, not on x."""
    x, y = np.ones((12, 6), np.float32), np.zeros(12, dtype=int)
    model = sj.Sequential([Dense(3)])
    model.compile("sgd", LOGITS_LOSS)
    model.fit(DataLoader(x, y, batch_size=4, map_fn=lambda xb, yb: (xb[:, :4], yb)), verbose=0)
    assert model.layers[0].kernel.shape == (4, 3)


def test_a_generator_serves_one_epoch_then_says_what_is_wrong():
    x, y = _data(16)
    model = _model()
    gen = ((x[s:s + 8], y[s:s + 8]) for s in range(0, 16, 8))
    with pytest.raises(ValueError, match="no batches in epoch 2"):
        model.fit(gen, epochs=2, verbose=0)
    gen = (x[s:s + 8] for s in range(0, 16, 8))
    assert model.predict(gen).shape == (16, 3)


def test_loader_argument_conflicts_are_clear_errors():
    x, y = _data(16)
    model = _model()
    loader = DataLoader(x, y, batch_size=8)
    with pytest.raises(ValueError, match="validation_split.*validation_data"):
        model.fit(loader, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="y must not be given"):
        model.fit(loader, y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight must not be given"):
        model.evaluate(loader, sample_weight=np.ones(16), verbose=0)
    with pytest.raises(ValueError, match="tuple of 4"):
        model.fit(iter([(x, y, y, y)]), verbose=0)


def _two_input_model():
    a, b = sj.Input((4,), name="a"), sj.Input((2,), name="b")
    model = sj.Model([a, b], Dense(1)(layers.Concatenate()([Dense(3)(a), b])))
    model.compile(optimizers.SGD(learning_rate=0.05), "mse")
    rng = np.random.default_rng(1)
    xa, xb = rng.standard_normal((20, 4)), rng.standard_normal((20, 2))
    return model, xa, xb, xa[:, :1] - xb[:, 1:]


def test_multi_input_model_with_a_loader():
    model, xa, xb, target = _two_input_model()
    start = model.get_weights()
    h_loader = model.fit(DataLoader([xa, xb], target, batch_size=5), epochs=2, verbose=0)
    from_loader = model.predict(DataLoader([xa, xb], batch_size=6))
    model.set_weights(start)
    h_arrays = model.fit([xa, xb], target, batch_size=5, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_loader.history["loss"], h_arrays.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(from_loader, model.predict([xa, xb]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("batch_size", [4, None])
def test_map_fn_working_in_place_leaves_the_data_set_alone(batch_size):
    # unshuffled batches are slices (views); a map_fn that adds in place must not reach the data
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)

    def shift(xb, yb):
        xb += 100
        yb += 100
        return xb, yb

    loader = DataLoader(x, y, batch_size=batch_size, shuffle=False, map_fn=shift)
    for _ in range(2):
        seen = [xb for xb, _ in loader]
        np.testing.assert_array_equal(np.concatenate([np.atleast_2d(b) for b in seen]).ravel(),
                                      np.arange(10) + 100)
    np.testing.assert_array_equal(x.ravel(), np.arange(10))
    np.testing.assert_array_equal(y, np.arange(10))


# -- Keras's batch sources: list batches (PyTorch DataLoader), PyDataset, dicts of inputs --------
def test_a_list_batch_is_read_as_a_tuple_as_keras_does():
    model, xa, xb, target = _two_input_model()
    start = model.get_weights()
    as_lists = model.fit(iter([[[xa, xb], target]]), verbose=0).history["loss"]
    model.set_weights(start)
    as_tuples = model.fit(iter([([xa, xb], target)]), verbose=0).history["loss"]
    assert as_lists == as_tuples
    # x alone, for a multi-input model: a DataLoader yields ([xa, xb],), never a bare list
    (batch,) = list(DataLoader([xa, xb], batch_size=20))
    assert isinstance(batch, tuple) and len(batch) == 1 and len(batch[0]) == 2
    with pytest.raises(ValueError, match="list of 4 items.*one list: \\(\\[x1, x2, ...\\], y\\)"):
        model.fit(iter([[xa, xb, target, target]]), verbose=0)


def test_a_pytorch_dataloader_trains_as_the_same_batches_do():
    from oracle import require_torch

    torch = require_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    pairs = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model = sj.Sequential([sj.Input((3,)), Dense(1)])
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    start = model.get_weights()
    loss = model.fit(torch.utils.data.DataLoader(pairs, batch_size=8), epochs=2, verbose=0)
    model.set_weights(start)
    same = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(loss.history["loss"], same.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(torch.utils.data.DataLoader(pairs, batch_size=5),
                                              verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)


class _Batches(sj.utils.PyDataset):
    """Keras's guide PyDataset, counting its epochs."""

    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.ends, self.seen = 0, []

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        self.seen.append(idx)
        return (self.x[idx * self.batch_size:(idx + 1) * self.batch_size],
                self.y[idx * self.batch_size:(idx + 1) * self.batch_size])

    def on_epoch_end(self):
        self.ends += 1


def test_a_pydataset_feeds_fit_evaluate_and_predict():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = sj.Sequential([sj.Input((3,)), Dense(1)])
    model.compile(optimizers.SGD(learning_rate=0.05), "mse")
    start = model.get_weights()
    data = _Batches(x, y, batch_size=8, workers=4)
    history = model.fit(data, epochs=3, shuffle=False, verbose=0)
    assert data.ends == 3 and data.seen == [0, 1, 2] * 3 and data.workers == 4
    model.set_weights(start)
    same = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], same.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(data, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict(data), model.predict(x), rtol=1e-6)
    data.seen = []
    sj.utils.set_random_seed(0)
    model.fit(data, epochs=4, verbose=0)  # shuffle=True: each epoch every batch, in a new order
    epochs = [data.seen[i:i + 3] for i in range(0, 12, 3)]
    assert all(sorted(e) == [0, 1, 2] for e in epochs) and len({tuple(e) for e in epochs}) > 1
    assert sj.utils.Sequence is sj.utils.PyDataset


def test_inputs_given_as_a_dict_by_input_name():
    model, xa, xb, target = _two_input_model()
    start = model.get_weights()
    by_name = model.fit({"b": xb, "a": xa}, target, batch_size=5, shuffle=False, verbose=0)
    model.set_weights(start)
    by_list = model.fit([xa, xb], target, batch_size=5, shuffle=False, verbose=0)
    assert by_name.history == by_list.history
    np.testing.assert_array_equal(model.predict({"a": xa, "b": xb}), model.predict([xa, xb]))
    np.testing.assert_array_equal(model({"a": xa, "b": xb}).numpy(), model([xa, xb]).numpy())
    assert model.evaluate({"a": xa, "b": xb}, target, verbose=0) == model.evaluate(
        [xa, xb], target, verbose=0)
    with pytest.raises(ValueError, match=r"no entry for input\(s\) \['b'\]; the model's inputs "
                                         r"are \['a', 'b'\]"):
        model.fit({"a": xa}, target, verbose=0)
    with pytest.raises(ValueError, match=r"unknown input name\(s\) \['c'\]"):
        model.predict({"a": xa, "b": xb, "c": xb})


def test_tf_data_methods_act_on_the_loaders_batches():
    # keras.io's `for images, labels in train_ds.take(1)` and the TF tutorial's
    # `train_ds.cache().shuffle(1000).prefetch(AUTOTUNE)` on what image_dataset_from_directory
    # returns (a DataLoader): its batches become a tf.data Dataset's elements
    import shenjing as tf

    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = DataLoader(x, y, batch_size=4)
    (xb, yb), = list(loader.take(1))
    np.testing.assert_array_equal(xb.numpy(), x[:4])
    np.testing.assert_array_equal(yb.numpy(), y[:4])
    assert int(loader.cardinality()) == 3 and len(loader.skip(1)) == 2
    rows = [int(b) for _, b in loader.unbatch()]
    assert rows == list(range(10))
    assert [len(b[1]) for b in loader.unbatch().batch(3)] == [3, 3, 3, 1]
    assert len(list(loader.repeat(2))) == 6
    assert [i for i, _ in loader.enumerate().as_numpy_iterator()] == [0, 1, 2]
    assert len(list(loader.filter(lambda xb, yb: yb.sum() > 10))) == 2
    assert sorted(int(v) for _, yb in loader.shuffle(8, seed=1) for v in yb.numpy()) == list(
        range(10))  # the batches shuffled (tf.data's shuffle after batch)
    pipeline = loader.cache().shuffle(1000, seed=0).prefetch(tf.data.AUTOTUNE)
    assert sorted(int(v) for _, yb in pipeline for v in yb.numpy()) == list(range(10))
    model = tf.keras.Sequential([tf.keras.layers.Dense(10)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert len(model.fit(pipeline, epochs=2, verbose=0).history["loss"]) == 2


# -- data sets of samples (torch's map-style Dataset) ------------------------------------------
class _Samples:
    """torch's usual Dataset: __len__ and __getitem__ of one sample, and an index it wraps
    (so NumPy, which reads such an object until an IndexError, never stopped)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i % len(self.x)], int(self.y[i % len(self.x)])


@pytest.mark.parametrize("wrap", [
    lambda x, y: _Samples(x, y),
    lambda x, y: [(a, b) for a, b in zip(x, y)],  # a list of (x, y) tuples
    lambda x, y: sj.data.TensorDataset(sj.tensor(x), y),
])
def test_a_data_set_of_samples_batches_and_trains_as_its_arrays(wrap):
    x, y = _data(10)
    batches = list(DataLoader(wrap(x, y), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 4), (4, 4), (2, 4)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    np.testing.assert_array_equal(batches[2][0].numpy(), x[8:])
    shuffled = DataLoader(wrap(x, y), batch_size=4, shuffle=True, seed=5, drop_last=True)
    same = DataLoader(x, y, batch_size=4, shuffle=True, seed=5, drop_last=True)
    for (xa, ya), (xb, yb) in zip(shuffled, same, strict=True):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    sample = next(iter(DataLoader(wrap(x, y), batch_size=None)))
    assert sample[0].shape == (4,) and int(sample[1].item()) == y[0]
    doubled = next(iter(DataLoader(wrap(x, y), batch_size=3).map(lambda a, b: (a * 2, b))))
    np.testing.assert_allclose(doubled[0].numpy(), x[:3] * 2)
    histories = [_model().fit(data, epochs=2, verbose=0, shuffle=False).history["loss"]
                 for data in (DataLoader(wrap(x, y), batch_size=4), DataLoader(x, y, 4))]
    np.testing.assert_allclose(*histories, rtol=1e-6)


@pytest.mark.parametrize("wrap", [
    lambda x, y: _Samples(x, y),
    lambda x, y: [(a, b) for a, b in zip(x, y)],
])
def test_a_data_set_of_samples_builds_a_model_and_reads_back_whole(wrap):
    # an unbuilt model was built from the loader's x, which a data set of samples leaves
    # empty: "expected input with at least 2 axes, got input of shape ()"
    x, y = _data(10)
    loader = DataLoader(wrap(x, y), batch_size=4)
    sj.utils.set_random_seed(3)
    model = sj.Sequential([Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01), LOGITS_LOSS)
    assert len(model.fit(loader, epochs=2, verbose=0).history["loss"]) == 2
    xs, ys = loader.as_arrays()  # it was ([], None)
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)


def test_array_likes_are_arrays_not_data_sets_of_samples():
    import array

    from oracle import require_torch

    torch = require_torch()
    loader = DataLoader(torch.arange(10.0).reshape(5, 2), array.array("d", range(5)),
                        batch_size=2)
    assert [(xb.shape, yb.shape) for xb, yb in loader] == [((2, 2), (2,))] * 2 + [((1, 2),
                                                                                    (1,))]


def test_samples_of_dicts_collate_field_by_field_and_bad_samples_are_named():
    samples = [{"a": np.ones(2) * i, "b": i} for i in range(3)]
    (batch,) = list(DataLoader([(s,) for s in samples], batch_size=3))
    assert batch[0]["a"].shape == (3, 2) and batch[0]["b"].numpy().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="differ in structure"):
        list(DataLoader([(1.0, 2), (1.0,)], batch_size=2))
    with pytest.raises(ValueError, match="gives its targets"):
        DataLoader(_Samples(*_data(4)), np.zeros(4))
    with pytest.raises(ValueError, match="same first size"):
        sj.data.TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(TypeError, match="whole batches"):
        DataLoader(sj.utils.PyDataset())


def test_samples_of_different_shapes_are_named():
    # NumPy's "all input arrays must have the same shape" named none (review)
    with pytest.raises(ValueError, match=r"differ in shape: \[\(4,\), \(5,\)\]"):
        list(DataLoader([(np.zeros(4), 0)] * 3 + [(np.zeros(5), 0)], batch_size=4))
