"""TensorFlow's GradientTape, Variable and constant (``import shenjing as tf``): the custom
training loop of keras.io's "Writing a training loop from scratch" (TensorFlow backend), and
the tape's answers as TensorFlow gives them (checked against plain backward and by hand)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as tf
from shenjing import layers


def test_the_keras_io_custom_training_loop_trains():
    tf.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train = rng.standard_normal((256, 8)).astype(np.float32)
    y_train = (x_train[:, :4].sum(1) > 0).astype(np.int64)
    inputs = tf.keras.Input(shape=(8,), name="digits")
    x1 = layers.Dense(16, activation="relu")(inputs)
    outputs = layers.Dense(2, name="predictions")(x1)
    model = tf.keras.Model(inputs=inputs, outputs=outputs)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = []
    for _epoch in range(10):
        for step in range(0, 256, 32):
            x_batch, y_batch = x_train[step:step + 32], y_train[step:step + 32]
            with tf.GradientTape() as tape:
                logits = model(x_batch, training=True)
                loss_value = loss_fn(y_batch, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss_value))
    assert losses[-1] < 0.5 * losses[0]
    accuracy = (model.predict(x_train, verbose=0).argmax(1) == y_train).mean()
    assert accuracy > 0.9


def test_gradients_equal_backward_and_keep_the_sources_nesting():
    w = tf.Variable(np.array([[1.0], [2.0]]), name="w")
    b = tf.Variable(0.5)
    unused = tf.Variable([1.0, 2.0])
    x = tf.constant([[1.0, 3.0]])
    with tf.GradientTape(persistent=True) as tape:
        y = x @ w + b
        loss = (y * y).sum()
    grads = tape.gradient(loss, {"w": w, "pair": (b, unused)})
    np.testing.assert_allclose(grads["w"].numpy(), [[15.0], [45.0]])  # 2 y x^T, y = 7.5
    assert grads["pair"][0].item() == 15.0 and grads["pair"][1] is None
    zeros = tape.gradient(loss, [unused], unconnected_gradients="zero")
    np.testing.assert_array_equal(zeros[0].numpy(), [0.0, 0.0])
    assert w.grad is None  # the tape touches no .grad
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), grads["w"].numpy())


def test_non_scalar_and_several_targets_are_summed_or_weighted():
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = 3 * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tape.gradient([y, z], x).numpy(), [5.0, 7.0, 9.0])
    weights = tf.constant([1.0, 0.0, -1.0])
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=weights).numpy(),
                               [2.0, 0.0, -6.0])


def test_a_tape_gives_one_set_of_gradients_unless_persistent():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x).item() == 4.0
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, x)


def test_constants_are_watched_on_request():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).item() == 6.0
    c = tf.constant(2.0)
    with tf.GradientTape() as tape:
        y = c * c
    assert tape.gradient(y, c) is None  # not watched: no gradient, as TensorFlow
    with tf.GradientTape() as tape:
        y = c * c
        tape.watch(c)  # too late: the product ran unwatched, as in TensorFlow
    assert tape.gradient(y, c) is None
    with tf.GradientTape() as tape:
        with pytest.raises(TypeError, match="takes tensors"):
            tape.watch(3.0)
        with pytest.raises(ValueError, match="no gradient"):
            tape.watch(tf.constant([1, 2]))


def test_a_watch_lasts_for_its_tapes_block_only():
    """TensorFlow: a tape that never watched a constant has no gradient for it, even if an
    earlier tape did; the earlier persistent tape still differentiates after its block."""
    c = tf.constant([1.0])
    with tf.GradientTape(persistent=True) as first:
        first.watch(c)
        y = c * c
    assert not c.requires_grad
    with tf.GradientTape() as later:
        z = c * 2.0
    assert later.gradient(z, c) is None
    assert first.gradient(y, c).numpy().tolist() == [2.0] == first.gradient(y, c).numpy().tolist()
    x = tf.constant(3.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy = inner.gradient(y, x)
    assert dy.item() == 27.0 and outer.gradient(dy, x) is None  # outer never watched x
    with tf.GradientTape() as outer:  # both watch it, the inner tape first: the outer keeps it
        with tf.GradientTape() as inner:
            inner.watch(x)
            outer.watch(x)
        z = x * x
    assert outer.gradient(z, x).item() == 6.0 and not x.requires_grad


def test_nested_tapes_give_second_derivatives_and_stop_recording_stops():
    x = tf.constant(3.0)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = x * x * x
        dy_dx = t1.gradient(y, x)  # taken while t2 records: recorded too
    d2y_dx2 = t2.gradient(dy_dx, x)
    assert dy_dx.item() == 27.0 and d2y_dx2.item() == 18.0
    w = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        with tape.stop_recording():
            frozen = w * 5
        y = frozen * w
    assert tape.gradient(y, w).item() == 5.0  # frozen counts as a constant


def test_variables_and_constants_as_tensorflow_and_keras_make_them():
    v = tf.Variable("glorot_uniform", (3, 2))  # Keras 3's positional (initializer, shape)
    assert v.shape == (3, 2) and v.requires_grad and v.dtype == np.float32
    k = tf.keras.Variable(initializer=np.ones((2, 2)), trainable=False, name="k")
    assert not k.requires_grad and k.name == "k"
    v.assign(np.zeros((3, 2)))
    assert float(np.abs(v.numpy()).sum()) == 0.0
    with pytest.raises(ValueError, match="needs shape"):
        tf.Variable("zeros")
    c = tf.constant(1.5, shape=(2, 3))
    assert c.shape == (2, 3) and not c.requires_grad and c.dtype == np.float32
    assert tf.constant([1, 2]).dtype == np.int64
