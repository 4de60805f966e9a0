"""tf.data's ``Dataset`` (``import shenjing as tf; tf.data.Dataset``): each method's elements
against hand-computed ones (order, shapes, dtypes, sizes), TensorFlow's shuffle buffer and
seeding, the one-gather-per-batch path, keras.io's custom training loop over a dataset, and
``Model.fit`` / ``evaluate`` / ``predict`` taking datasets."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as tf
from shenjing.data import dataset as dataset_module

Dataset = tf.data.Dataset


def _values(ds) -> list:
    return [np.asarray(e).tolist() for e in ds.as_numpy_iterator()]


def _order(ds) -> list[int]:
    return [int(v) for v in np.concatenate([np.atleast_1d(e) for e in ds.as_numpy_iterator()])]


# -- sources ------------------------------------------------------------------------------------
def test_from_tensor_slices_of_a_tuple_yields_rows_as_tensors_with_their_dtypes():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    y = np.arange(6, dtype=np.int64)
    ds = Dataset.from_tensor_slices((x, y))
    elements = list(ds)
    assert len(ds) == 6 and len(elements) == 6
    for i, (xi, yi) in enumerate(elements):
        assert isinstance(xi, tf.Tensor) and isinstance(yi, tf.Tensor)
        assert xi.shape == (2,) and yi.shape == () and xi.dtype == np.float64
        assert yi.dtype == np.int64
        np.testing.assert_array_equal(xi.numpy(), x[i])
        assert yi.numpy() == i


def test_from_tensor_slices_of_dicts_and_nested_structures_and_python_lists():
    ds = Dataset.from_tensor_slices(({"a": np.arange(3), "b": np.ones((3, 2))}, np.arange(3)))
    first = next(iter(ds))
    assert isinstance(first, tuple) and set(first[0]) == {"a", "b"}
    assert first[0]["b"].shape == (2,) and int(first[1]) == 0
    lists = Dataset.from_tensor_slices([[1.0, 2.0], [3.0, 4.0]])  # a list is one tensor, in TF
    assert [e.dtype for e in lists] == [np.float32] * 2  # Python floats are float32, ints int32
    assert _values(lists) == [[1.0, 2.0], [3.0, 4.0]]
    assert next(iter(Dataset.from_tensor_slices([1, 2]))).dtype == np.int32


def test_from_tensors_range_and_zip():
    one = Dataset.from_tensors((np.arange(3), 5))
    assert len(one) == 1 and [e[0].shape for e in one] == [(3,)]
    assert _values(Dataset.range(4)) == [0, 1, 2, 3]
    assert _values(Dataset.range(2, 9, 3)) == [2, 5, 8] and len(Dataset.range(9, 2, -3)) == 3
    assert next(iter(Dataset.range(3))).dtype == np.int64
    a, b = Dataset.range(3), Dataset.range(10, 15)
    pairs = [(int(x), int(y)) for x, y in Dataset.zip(a, b)]
    assert pairs == [(0, 10), (1, 11), (2, 12)] == [(int(x), int(y)) for x, y in
                                                    Dataset.zip((a, b))]
    keyed = list(Dataset.zip({"x": a, "y": b}).as_numpy_iterator())
    assert keyed[2] == {"x": 2, "y": 12} and len(Dataset.zip(a, b)) == 3
    assert len(Dataset.zip(a, b.repeat())) == 3


# -- batching ----------------------------------------------------------------------------------
@pytest.mark.parametrize("drop_remainder, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batch_sizes_order_and_cardinality(drop_remainder, sizes):
    x = np.arange(20.0).reshape(10, 2)
    ds = Dataset.from_tensor_slices((x, np.arange(10))).batch(4, drop_remainder=drop_remainder)
    batches = list(ds)
    assert len(ds) == len(sizes) and [len(xb) for xb, _ in batches] == sizes
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == np.float64
    np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in batches]),
                                  np.arange(sum(sizes)))
    # the same batches when the elements come one by one (after a map)
    mapped = Dataset.from_tensor_slices((x, np.arange(10))).map(lambda a, b: (a, b))
    again = list(mapped.batch(4, drop_remainder=drop_remainder))
    for (xa, ya), (xb, yb) in zip(batches, again, strict=True):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_unbatch_undoes_batch_and_ragged_elements_do_not_batch():
    ds = Dataset.from_tensor_slices(np.arange(7)).batch(3).unbatch()
    assert _values(ds) == list(range(7))
    assert ds.cardinality().numpy() == tf.data.UNKNOWN_CARDINALITY
    ragged = Dataset.range(1, 4).map(lambda n: np.arange(int(n)))
    with pytest.raises(ValueError, match="different shapes in component 0"):
        list(ragged.batch(2))


def test_shuffle_then_batch_gathers_each_batch_with_one_index_per_array(monkeypatch):
    calls = []

    def counting(data, idx):
        calls.append(len(idx))
        return [a[idx] for a in data]

    monkeypatch.setattr(dataset_module, "_rows", counting)
    x, y = np.arange(1000.0)[:, None], np.arange(1000)
    for buffer in (1000, 100):  # a full shuffle and TF's buffered one
        calls.clear()
        batches = list(Dataset.from_tensor_slices((x, y)).shuffle(buffer, seed=0).batch(64))
        assert calls == [64] * 15 + [40]  # one gather (of two arrays) per batch
        order = np.concatenate([b[1].numpy() for b in batches])
        assert sorted(order) == list(range(1000))
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches])[:, 0],
                                      order)


# -- shuffle ----------------------------------------------------------------------------------
def test_shuffle_is_a_permutation_reshuffled_each_pass_and_repeats_with_a_seed():
    ds = Dataset.range(50).shuffle(50, seed=3)
    first, second = _order(ds), _order(ds)
    assert sorted(first) == list(range(50)) and first != list(range(50)) and first != second
    assert _order(Dataset.range(50).shuffle(50, seed=3)) == first
    fixed = Dataset.range(50).shuffle(50, reshuffle_each_iteration=False)
    assert _order(fixed) == _order(fixed)
    tf.utils.set_random_seed(7)
    unseeded = _order(Dataset.from_tensor_slices(np.arange(50)).shuffle(1000).batch(8))
    tf.utils.set_random_seed(7)
    assert _order(Dataset.from_tensor_slices(np.arange(50)).shuffle(1000).batch(8)) == unseeded


@pytest.mark.parametrize("rows", [True, False])
def test_a_shuffle_buffer_draws_each_output_from_the_next_buffer_size_inputs(rows):
    ds = Dataset.from_tensor_slices(np.arange(200)) if rows else Dataset.range(200)
    assert _order(ds.shuffle(1)) == list(range(200))  # a buffer of one changes nothing
    for seed in range(5):
        order = _order(ds.shuffle(10, seed=seed))
        assert sorted(order) == list(range(200)) and order != list(range(200))
        # TF's buffer: output k is one of inputs 0 .. k + 9
        assert all(v < k + 10 for k, v in enumerate(order))


def test_shuffle_then_repeat_gives_each_epoch_a_new_order():
    epochs = np.array(_order(Dataset.range(10).shuffle(10, seed=0).repeat(3))).reshape(3, 10)
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3


# -- map, filter and the rest -----------------------------------------------------------------
def test_map_gets_a_tuple_as_arguments_and_a_batch_after_batch():
    seen = []

    def scale(x, y):
        seen.append(tuple(x.shape))
        assert isinstance(x, tf.Tensor)
        return x / 10.0, y + 1

    base = Dataset.from_tensor_slices((np.arange(6.0), np.arange(6)))
    assert _values(base.map(scale, num_parallel_calls=tf.data.AUTOTUNE).map(lambda x, y: x)) == \
        pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert seen == [()] * 6
    seen.clear()
    batched = list(base.batch(4).map(scale))
    assert seen == [(4,), (2,)] and batched[1][1].numpy().tolist() == [5, 6]
    as_dict = Dataset.from_tensor_slices({"a": np.arange(3)}).map(lambda d: d["a"] * 2)
    assert _values(as_dict) == [0, 2, 4]
    as_list = next(iter(Dataset.range(2).map(lambda v: [v, v])))  # a list becomes a tuple
    assert isinstance(as_list, tuple) and len(as_list) == 2


def test_the_keras_io_augmentation_pipeline_maps_a_preprocessing_model_over_batches():
    augment = tf.keras.Sequential([tf.keras.layers.RandomFlip("horizontal"),
                                   tf.keras.layers.Rescaling(1 / 255.0)])
    x = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3)).astype(np.uint8)
    ds = Dataset.from_tensor_slices((x, np.arange(10))).shuffle(10).batch(4)
    ds = ds.map(lambda x, y: (augment(x, training=True), y),
                num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    batches = list(ds)
    assert [tuple(xb.shape) for xb, _ in batches] == [(4, 8, 8, 3)] * 2 + [(2, 8, 8, 3)]
    for xb, yb in batches:  # each image flipped or not, rescaled, still paired with its label
        for image, label in zip(xb.numpy(), yb.numpy(), strict=True):
            original = x[label] / 255.0
            assert np.allclose(image, original) or np.allclose(image, original[:, ::-1])


def test_filter_take_skip_repeat_enumerate_and_concatenate():
    ds = Dataset.range(10)
    evens = ds.filter(lambda v: v.numpy() % 2 == 0)  # shenjing's Tensor has no %
    assert _values(evens) == [0, 2, 4, 6, 8] and _values(ds.filter(lambda v: v > 6)) == [7, 8, 9]
    assert evens.cardinality().numpy() == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="length is unknown"):
        len(evens)
    assert _values(ds.take(3)) == [0, 1, 2] and len(ds.take(3)) == 3 and len(ds.take(30)) == 10
    assert _values(ds.skip(7)) == [7, 8, 9] and len(ds.skip(7)) == 3 and _values(ds.skip(-1)) == []
    assert _values(ds.take(-1)) == list(range(10))
    assert _values(ds.take(2).repeat(3)) == [0, 1] * 3 and len(ds.repeat(2)) == 20
    forever = ds.repeat()
    assert forever.cardinality().numpy() == tf.data.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert _values(forever.take(12)) == list(range(10)) + [0, 1] and len(forever.take(12)) == 12
    assert [(int(i), int(v)) for i, v in ds.skip(8).enumerate(start=5)] == [(5, 8), (6, 9)]
    both = ds.take(2).concatenate(Dataset.range(100, 102))
    assert _values(both) == [0, 1, 100, 101] and len(both) == 4
    with pytest.raises(TypeError, match="same structure"):
        list(ds.take(1).concatenate(Dataset.zip(ds, ds)))
    # the rows path: take, skip and repeat of array slices, then a batch
    rows = Dataset.from_tensor_slices(np.arange(10)).skip(2).take(5).repeat(2).batch(4)
    assert _values(rows) == [[2, 3, 4, 5], [6, 2, 3, 4], [5, 6]] and len(rows) == 3
    assert tf.data.experimental.cardinality(rows).numpy() == 3


def test_cache_replays_the_first_pass_without_running_map_again():
    calls = []

    def noted(v):
        calls.append(int(v))
        return v

    ds = Dataset.range(5).shuffle(5, seed=1).map(noted).cache()
    first = _order(ds)
    assert _order(ds) == first and len(calls) == 5  # the shuffle is frozen by the cache
    rows = Dataset.from_tensor_slices(np.arange(20)).shuffle(20).cache().batch(6)
    assert _order(rows) == _order(rows)
    assert ds.prefetch(tf.data.AUTOTUNE) is ds and ds.prefetch(buffer_size=2) is ds


def test_as_numpy_iterator_gives_numpy_values_in_the_element_structure():
    ds = Dataset.from_tensor_slices({"x": np.ones((2, 3), np.float32), "y": np.arange(2)})
    first = next(ds.as_numpy_iterator())
    assert isinstance(first["x"], np.ndarray) and first["x"].shape == (3,)
    assert isinstance(first["y"], np.int64)


@pytest.mark.parametrize("make, error, words", [
    (lambda: Dataset.range(3).batch(0), ValueError, "batch_size"),
    (lambda: Dataset.range(3).shuffle(0), ValueError, "buffer_size"),
    (lambda: Dataset.range(3).shuffle(4, seed=-1), ValueError, "seed"),
    (lambda: Dataset.range(3).take("2"), TypeError, "count"),
    (lambda: Dataset.range(3).repeat(-2), ValueError, "count must be >= -1"),
    (lambda: Dataset.range(3).map(3), TypeError, "map needs a function"),
    (lambda: Dataset.range(3).map(abs, num_parallel_calls=0), ValueError, "num_parallel_calls"),
    (lambda: Dataset.range(3).prefetch(-5), ValueError, "buffer_size"),
    (lambda: Dataset.zip(Dataset.range(3), [1, 2]), TypeError, "zip takes datasets"),
    (lambda: Dataset.range(1, 2, 0), ValueError, "step"),
    (lambda: Dataset.from_tensor_slices((np.ones(3), np.ones(4))), ValueError, "first dim"),
    (lambda: Dataset.from_tensor_slices(np.float32(1)), ValueError, "from_tensors"),
    (lambda: list(Dataset.range(3).filter(lambda v: v)), ValueError, "scalar boolean"),
    (lambda: Dataset.range(3).concatenate([1]), TypeError, "needs a Dataset"),
])
def test_bad_arguments_name_what_was_wrong(make, error, words):
    with pytest.raises(error, match=words):
        make()


# -- with models ------------------------------------------------------------------------------
def _problem(n: int = 256):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    return x, (x[:, :4].sum(1) > 0).astype(np.int64)


def _model():
    tf.utils.set_random_seed(0)
    inputs = tf.keras.Input(shape=(8,), name="digits")
    hidden = tf.keras.layers.Dense(16, activation="relu")(inputs)
    model = tf.keras.Model(inputs=inputs, outputs=tf.keras.layers.Dense(2)(hidden))
    model.compile(tf.keras.optimizers.Adam(learning_rate=1e-2),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_the_keras_io_custom_training_loop_over_a_dataset_trains():
    x_train, y_train = _problem()
    model = _model()
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(32)
    losses = []
    for _epoch in range(10):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):  # noqa: B007
            with tf.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        assert step == 7
        losses.append(float(loss_value))
    assert losses[-1] < 0.5 * losses[0]


def test_fit_evaluate_and_predict_on_datasets_match_the_arrays():
    x, y = _problem()
    by_arrays = _model()
    history = by_arrays.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0,
                            validation_data=(x[:64], y[:64]))
    by_dataset = _model()
    train = Dataset.from_tensor_slices((x, y)).batch(32)
    val = Dataset.from_tensor_slices((x[:64], y[:64])).batch(32).prefetch(tf.data.AUTOTUNE)
    history2 = by_dataset.fit(train, epochs=2, verbose=0, validation_data=val)
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(history2.history[key], history.history[key], rtol=1e-5)
    np.testing.assert_allclose(by_dataset.evaluate(val, verbose=0),
                               by_arrays.evaluate(x[:64], y[:64], verbose=0), rtol=1e-5)
    expected = by_arrays.predict(x, verbose=0)
    np.testing.assert_allclose(by_dataset.predict(train, verbose=0), expected, rtol=1e-5)
    inputs_only = Dataset.from_tensor_slices(x).batch(100)
    np.testing.assert_allclose(by_dataset.predict(inputs_only, verbose=0), expected, rtol=1e-5)


def test_fit_takes_sample_weights_and_a_repeated_dataset_with_steps_per_epoch():
    x, y = _problem(64)
    weighted = Dataset.from_tensor_slices((x, y, np.zeros(64, np.float32))).batch(16)
    model = _model()
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(weighted, epochs=1, verbose=0)  # zero weights: no loss, no change
    for w, b in zip(model.trainable_weights, before, strict=True):
        np.testing.assert_allclose(w.numpy(), b, atol=1e-6)
    ds = (Dataset.from_tensor_slices((x, y)).shuffle(64).repeat()
          .map(lambda a, b: (a * 1.0, b), num_parallel_calls=tf.data.AUTOTUNE).batch(16))
    history = model.fit(ds, epochs=3, steps_per_epoch=5, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict(ds, steps=2, verbose=0).shape == (32, 2)
    with pytest.raises(ValueError, match="infinite dataset.*steps_per_epoch"):
        model.fit(ds, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="infinite dataset"):
        model.evaluate(ds, verbose=0)


def test_fit_evaluate_and_predict_take_batches_of_inputs_keyed_by_name():
    x, y = _problem(64)
    tf.utils.set_random_seed(0)
    a, b = tf.keras.Input(shape=(5,), name="a"), tf.keras.Input(shape=(3,), name="b")
    joined = tf.keras.layers.Concatenate()([a, b])
    model = tf.keras.Model(inputs=[a, b], outputs=tf.keras.layers.Dense(2)(joined))
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = Dataset.from_tensor_slices(({"b": x[:, 5:], "a": x[:, :5]}, y)).batch(16)
    history = model.fit(ds, epochs=2, verbose=0, validation_data=ds)
    assert len(history.history["val_loss"]) == 2
    assert model.evaluate(ds, verbose=0) == pytest.approx(history.history["val_loss"][-1])
    np.testing.assert_allclose(model.predict(ds, verbose=0),
                               model.predict([x[:, :5], x[:, 5:]], verbose=0), rtol=1e-6)


def test_tensorflow_names_in_a_mapped_feature_pipeline():
    """The structured-data example: ds.map(lambda x, y: x[name]) then tf.expand_dims, and
    tf.convert_to_tensor on a sample's values (AttributeError before); tf.cast as keras.ops."""
    ds = tf.data.Dataset.from_tensor_slices(({"age": np.array([63, 67, 37])}, np.arange(3)))
    feature_ds = ds.map(lambda x, y: x["age"]).map(lambda x: tf.expand_dims(x, -1))
    assert [a.tolist() for a in feature_ds.as_numpy_iterator()] == [[63], [67], [37]]
    assert tf.convert_to_tensor([2.3]).dtype == np.float32
    assert tf.convert_to_tensor(["fixed"]).numpy().tolist() == ["fixed"]
    assert tf.cast(np.arange(3), "float32").dtype == np.float32


# -- generators, padding, windows ---------------------------------------------------------------
def _ragged():
    """TF's from_generator guide: sequences of growing length with a label."""
    for i in range(1, 6):
        yield np.arange(i), i % 2


def test_from_generator_checks_each_element_against_its_signature_on_every_pass():
    spec = (tf.TensorSpec(shape=(None,), dtype=tf.int32), tf.TensorSpec(shape=(), dtype=tf.int64))
    ds = Dataset.from_generator(_ragged, output_signature=spec)
    for _ in range(2):  # called afresh each pass
        elements = list(ds)
        assert [x.numpy().tolist() for x, _ in elements] == [list(range(i)) for i in range(1, 6)]
        assert {(x.dtype.name, y.dtype.name) for x, y in elements} == {("int32", "int64")}
    assert ds.cardinality().numpy() == tf.data.UNKNOWN_CARDINALITY
    old = Dataset.from_generator(_ragged, output_types=(tf.int32, tf.float32),
                                 output_shapes=((None,), ()))
    assert next(iter(old))[1].dtype == np.float32
    counted = Dataset.from_generator(lambda n: iter(range(int(n))), args=(3,),
                                     output_signature=tf.TensorSpec((), tf.int64))
    assert _values(counted) == [0, 1, 2]
    assert spec[0].is_compatible_with(np.zeros(4, np.int32))
    assert not spec[0].is_compatible_with(np.zeros((2, 2), np.int32))


def test_from_generator_refuses_to_drop_a_fraction_for_an_integer_spec():
    """1.7 yielded for an int64 TensorSpec is an error naming the generator (it became 1,
    silently); whole floats convert."""
    def fractions():
        yield 2.0
        yield 1.7

    ds = Dataset.from_generator(fractions, output_signature=tf.TensorSpec((), tf.int64))
    with pytest.raises(TypeError, match=r"'fractions' yielded 1.7, which int64 cannot hold"):
        list(ds)
    whole = Dataset.from_generator(lambda: iter([2.0, np.float32(3)]),
                                   output_signature=tf.TensorSpec((), tf.int64))
    assert _values(whole) == [2, 3]


def test_from_generator_takes_a_list_where_the_signature_has_a_tensor_spec():
    """As TF's nest.flatten_up_to: a list yielded for one TensorSpec is one tensor, alone or
    inside a tuple; a tuple signature still wants a tuple, not a list."""
    ds = Dataset.from_generator(lambda: ([1] * i for i in range(1, 4)), output_types=tf.int32,
                                output_shapes=(None,))
    assert [a.tolist() for a in ds.as_numpy_iterator()] == [[1], [1, 1], [1, 1, 1]]
    assert next(ds.as_numpy_iterator()).dtype == np.int32
    pairs = Dataset.from_generator(lambda: iter([([1.5, 2.0], 0), ([3.0], 1)]),
                                   output_signature=(tf.TensorSpec((None,), tf.float32),
                                                     tf.TensorSpec((), tf.int32)))
    assert [(x.tolist(), int(y)) for x, y in pairs.as_numpy_iterator()] == [([1.5, 2.0], 0),
                                                                            ([3.0], 1)]
    with pytest.raises(TypeError, match="structure"):
        list(Dataset.from_generator(lambda: iter([[np.zeros(2), 0]]),
                                    output_signature=(tf.TensorSpec((2,)), tf.TensorSpec(()))))


def test_from_generator_errors_name_the_generator_and_what_it_yielded():
    vector = tf.TensorSpec((None,), tf.float32)
    with pytest.raises(ValueError, match=r"'_ragged' yielded an element of shape \(1,\) where "
                                         r"one of shape \(\) was expected"):
        list(Dataset.from_generator(_ragged, output_signature=(tf.TensorSpec(()), vector)))
    with pytest.raises(TypeError, match="structure"):
        list(Dataset.from_generator(_ragged, output_signature=vector))
    with pytest.raises(TypeError, match="not convertible to float32"):
        list(Dataset.from_generator(lambda: iter(["x"]), output_signature=vector))
    with pytest.raises(TypeError, match="needs output_signature"):
        Dataset.from_generator(_ragged)
    with pytest.raises(TypeError, match="not a generator"):
        Dataset.from_generator(_ragged(), output_signature=vector)


def test_padded_batch_pads_each_component_to_the_longest_or_the_given_shape():
    spec = (tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int64))
    ds = Dataset.from_generator(_ragged, output_signature=spec)
    batches = list(ds.padded_batch(2).as_numpy_iterator())
    assert [x.tolist() for x, _ in batches] == [[[0, 0], [0, 1]], [[0, 1, 2, 0], [0, 1, 2, 3]],
                                                [[0, 1, 2, 3, 4]]]
    assert [y.tolist() for _, y in batches] == [[1, 0], [1, 0], [1]]
    fixed = ds.padded_batch(3, padded_shapes=([6], []), padding_values=(-1, 0),
                            drop_remainder=True)
    (x, _), = fixed.as_numpy_iterator()
    assert x.tolist() == [[0, -1, -1, -1, -1, -1], [0, 1, -1, -1, -1, -1],
                          [0, 1, 2, -1, -1, -1]] and x.dtype == np.int32
    with pytest.raises(ValueError, match=r"component 0 has an element of shape \(5,\).*"
                                         r"larger than padded_shapes \(4,\)"):
        list(ds.padded_batch(5, padded_shapes=([4], [])))
    with pytest.raises(ValueError, match="padded_shapes .* does not match"):
        list(ds.padded_batch(2, padded_shapes=[4]))
    words = Dataset.from_tensor_slices({"w": np.array(["a b", "c"])}).map(
        lambda e: {"w": np.array(str(e["w"].numpy()).split())})
    assert next(words.padded_batch(2).as_numpy_iterator())["w"].tolist() == [["a", "b"],
                                                                             ["c", ""]]


def test_window_and_flat_map_follow_tensorflows_shift_stride_and_remainder():
    def windows(ds):
        return [w.tolist() for w in ds.flat_map(lambda w: w.batch(10)).as_numpy_iterator()]

    r = Dataset.range(7)
    assert windows(r.window(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert windows(r.window(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert windows(r.window(3, shift=1, stride=2)) == [[0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5],
                                                       [4, 6], [5], [6]]
    assert windows(r.window(2, shift=4, drop_remainder=True)) == [[0, 1], [4, 5]]
    pairs = Dataset.from_tensor_slices((np.arange(4.0), np.arange(4))).window(2)
    zipped = pairs.flat_map(lambda a, b: Dataset.zip((a.batch(2), b.batch(2))))
    assert [(a.tolist(), b.tolist()) for a, b in zipped.as_numpy_iterator()] == [
        ([0.0, 1.0], [0, 1]), ([2.0, 3.0], [2, 3])]
    with pytest.raises(TypeError, match="must return a Dataset"):
        list(r.flat_map(lambda x: x))


def test_reduce_folds_the_elements_from_an_initial_state():
    assert int(Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10
    count, total = Dataset.from_tensor_slices(np.arange(4.0)).reduce(
        (np.int64(0), np.float32(0)), lambda s, x: (s[0] + 1, s[1] + x))
    assert (int(count), float(total)) == (4, 6.0)


def test_fit_on_a_generator_of_variable_length_sequences_padded_per_batch():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 20, size=rng.integers(2, 9)) for _ in range(48)]
    labels = [int(s[0] >= 10) for s in seqs]

    def gen():
        yield from zip(seqs, labels)

    ds = Dataset.from_generator(gen, output_signature=(tf.TensorSpec((None,), tf.int32),
                                                       tf.TensorSpec((), tf.int32)))
    tf.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(20, 8, mask_zero=True),
                                 tf.keras.layers.GlobalAveragePooling1D(),
                                 tf.keras.layers.Dense(2)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds.shuffle(48).padded_batch(16), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()
    assert model.predict(ds.padded_batch(16), verbose=0).shape == (48, 2)


def test_text_line_dataset_reads_the_lines_of_each_file_in_turn(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("first line\nsecond\r\n", encoding="utf-8")
    b.write_text("third – ünïcode", encoding="utf-8")
    ds = tf.data.TextLineDataset([str(a), b])
    assert isinstance(ds, Dataset)
    for _ in range(2):  # read afresh on each pass
        assert list(ds.as_numpy_iterator()) == ["first line", "second", "third – ünïcode"]
    assert _values(ds.batch(2).map(lambda s: tf.strings.length(s))) == [[10, 6], [19]]  # bytes
    with pytest.raises(FileNotFoundError, match="no such file"):
        tf.data.TextLineDataset(str(tmp_path / "missing.txt"))


def test_text_line_dataset_names_the_file_and_line_that_is_not_utf8(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\nstill ok\n\xc3\xa9t\xff\xfe bad\nnever read\n")
    ds = tf.data.TextLineDataset(str(bad))
    with pytest.raises(ValueError, match=f"{bad} is not UTF-8 text: line 3 has the byte 0xff "
                                         "at byte 4 of the line"):
        list(ds.as_numpy_iterator())


def test_tf_strings_act_on_strings_arrays_and_tensors_as_given():
    assert tf.strings.lower("Hello <br />World") == "hello <br />world"
    texts = np.array(["A, b!", "C  d"])
    punct = tf.strings.regex_replace(texts, r"([,!])", r" \1")
    assert isinstance(punct, np.ndarray) and punct.tolist() == ["A , b !", "C  d"]
    tensor = tf.strings.upper(tf.Tensor._wrap(texts))
    assert isinstance(tensor, tf.Tensor) and tensor.numpy().tolist() == ["A, B!", "C  D"]
    assert tf.strings.regex_replace("aaa", "a", "b", replace_global=False) == "baa"
    assert tf.strings.length(np.array(["ü", "ab"])).tolist() == [2, 2]
    assert tf.strings.length("ü", unit="UTF8_CHAR") == 1
    assert tf.strings.join([np.array(["a", "b"]), "-x"], separator="").tolist() == ["a-x", "b-x"]
    assert tf.strings.strip("  x \n") == "x"  # noqa: B005 - tf.strings.strip, not str.strip


def test_tf_function_runs_the_function_eagerly_bare_or_with_arguments():
    @tf.function
    def double(x):
        return x * 2

    @tf.function(jit_compile=True, reduce_retracing=True)
    def triple(x):
        return x * 3

    assert double(2) == 4 and triple(2) == 6
    assert tf.keras.KerasTensor is tf.layers.SymbolicTensor
    assert isinstance(tf.keras.Input((3,)), tf.keras.KerasTensor)


def test_an_empty_dataset_repeated_forever_is_empty():
    """Rows of an empty array, repeated without end, give nothing (as TensorFlow's): the empty
    index block of each pass once counted as an item and the repeat never ended."""
    empty = tf.data.Dataset.from_tensor_slices(np.zeros((0, 2), np.float32))
    assert list(empty.repeat().take(3)) == []
    assert list(empty.shuffle(4, seed=0).repeat().batch(2)) == []
    assert [float(x) for x in tf.data.Dataset.from_tensor_slices(np.arange(2.0)).repeat(2)] == [
        0.0, 1.0, 0.0, 1.0]


def test_cardinality_of_repeat_window_and_unbatch_as_tf():
    """TF's kernels: repeat() is infinite unless the input is known to be empty (an unknown
    one too); window counts its windows; unbatch keeps infinite. fit then refuses an infinite
    dataset without steps_per_epoch instead of running forever."""
    unknown = tf.data.Dataset.range(8).filter(lambda x: True)
    assert int(unknown.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
    infinite = tf.data.Dataset.range(3).repeat().unbatch()
    assert int(infinite.cardinality()) == tf.data.INFINITE_CARDINALITY
    for n, args, drop in [(7, (3, 2), False), (7, (3, 2), True), (10, (2, 5), True),
                          (9, (3, 1, 2), True), (0, (2,), False), (5, (6,), True)]:
        ds = tf.data.Dataset.range(n).window(*args, drop_remainder=drop)
        assert int(ds.cardinality()) == len(list(ds)), (n, args, drop)
    model = tf.Sequential([tf.layers.Input((1,)), tf.layers.Dense(1)])
    model.compile("sgd", "mse")
    ones = np.ones((8, 1), np.float32)
    xy = tf.data.Dataset.from_tensor_slices((ones, ones))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(xy.filter(lambda x, y: True).batch(4).repeat(), epochs=1, verbose=0)


def test_sizes_may_be_scalar_tensors_as_tf():
    ds = tf.data.Dataset.range(5)
    assert sorted(int(v) for v in ds.shuffle(ds.cardinality(), seed=1)) == [0, 1, 2, 3, 4]
    assert [b.shape for b in ds.batch(tf.tensor(2))] == [(2,), (2,), (1,)]
    assert len(list(ds.window(tf.tensor(2)))) == 3


def test_python_ints_beyond_int32_become_int64_as_tf_constant():
    assert [int(v) for v in tf.data.Dataset.from_tensor_slices([2**40, 1])] == [2**40, 1]
    assert next(iter(tf.data.Dataset.from_tensor_slices([1, 2]))).dtype == np.int32
    assert int(next(iter(tf.data.Dataset.range(1).map(lambda x: 2**35)))) == 2**35


def test_padded_batch_pads_bytes_with_empty_strings():
    ds = tf.data.Dataset.from_generator(lambda: iter([np.array([b"a"]), np.array([b"a", b"bb"])]),
                                output_signature=tf.TensorSpec((None,), np.dtype("S2")))
    (batch,) = ds.padded_batch(2).as_numpy_iterator()
    assert batch.tolist() == [[b"a", b""], [b"a", b"bb"]]
