"""TimeDistributed: the inner layer applied to every time step, checked against a loop over the
steps (Keras's definition) and against torch (nn.Linear, conv2d per frame), values and
gradients; its weights are the inner layer's; masks reach the inner layer and pass through;
a fit, save and load; and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch

import shenjing as sj
from oracle import require_torch
from shenjing import Tensor
from shenjing import layers as L
from shenjing.models import load_model


def test_dense_matches_torch_linear_on_every_step(rng):
    th = require_torch()
    layer = L.TimeDistributed(L.Dense(4, activation="tanh"))
    linear = th.nn.Linear(3, 4)
    assert_layer_matches_torch(
        layer, lambda x: th.tanh(linear(x)), rng.standard_normal((2, 5, 3)),
        lambda: [(layer.layer.kernel, linear.weight, np.transpose),
                 (layer.layer.bias, linear.bias, lambda b: b)])


def test_conv2d_matches_torch_conv_on_every_frame(rng):
    th = require_torch()
    layer = L.TimeDistributed(L.Conv2D(4, 3, padding="same", activation="relu"))
    conv = th.nn.Conv2d(2, 4, 3, padding=1)

    def torch_forward(x):  # (batch, time, h, w, c): fold the frames, run NCHW, unfold
        b, t, h, w, c = x.shape
        y = th.relu(conv(x.reshape(b * t, h, w, c).permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
        return y.reshape(b, t, h, w, 4)

    assert_layer_matches_torch(
        layer, torch_forward, rng.standard_normal((2, 3, 5, 6, 2)),
        lambda: [(layer.layer.kernel, conv.weight, lambda k: k.transpose(3, 2, 0, 1)),
                 (layer.layer.bias, conv.bias, lambda b: b)])


@pytest.mark.parametrize("make, shape", [
    (lambda: L.Dense(3), (2, 4, 5)),
    (lambda: L.Conv2D(2, 3, strides=2), (2, 3, 7, 7, 2)),
    (lambda: L.LayerNormalization(), (3, 2, 4)),
    (lambda: L.TimeDistributed(L.Dense(2)), (2, 3, 4, 5)),  # nested: two time axes
])
def test_equals_a_loop_over_the_steps(make, shape, rng):
    layer = L.TimeDistributed(make())
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    y = layer(x)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    (y * Tensor(upstream)).sum().backward()
    grads = [p.grad.numpy().copy() for p in layer.trainable_weights]

    for p in layer.trainable_weights:
        p.grad = None
    x_loop = Tensor(x.numpy(), requires_grad=True)
    steps = [layer.layer(x_loop[:, t]) for t in range(shape[1])]
    y_loop = sj.F.stack(steps, axis=1)
    (y_loop * Tensor(upstream)).sum().backward()
    np.testing.assert_allclose(y.numpy(), y_loop.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), x_loop.grad.numpy(), rtol=1e-5, atol=1e-6)
    for g, p in zip(grads, layer.trainable_weights, strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_weights_are_the_inner_layers():
    dense = L.Dense(3)
    layer = L.TimeDistributed(dense)
    layer(np.zeros((1, 2, 4), np.float32))
    assert layer.weights == dense.weights and len(layer.trainable_weights) == 2
    assert layer.count_params() == 4 * 3 + 3
    layer.trainable = False
    assert dense.trainable_weights == [] and layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2


def test_symbolic_shapes_and_summary():
    inputs = sj.Input((10, 28, 28, 1))
    outputs = L.TimeDistributed(L.Conv2D(8, 3))(inputs)
    assert outputs.shape == (None, 10, 26, 26, 8)
    flat = L.TimeDistributed(L.Flatten())(outputs)
    assert flat.shape == (None, 10, 26 * 26 * 8)
    model = sj.Model(inputs, L.TimeDistributed(L.Dense(3))(flat))
    assert model.predict(np.zeros((2, 10, 28, 28, 1), np.float32), verbose=0).shape == (2, 10, 3)


def test_dropout_inside_trains_and_infers(rng):
    x = np.ones((4, 6, 50), np.float32)
    layer = L.TimeDistributed(L.Dropout(0.5, seed=1))
    assert layer(x) is not None and np.array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert not np.array_equal(y[:, 0], y[:, 1])  # each step its own mask


# -- masks ---------------------------------------------------------------------------------------
def _tagger(mask_zero: bool = True) -> sj.Sequential:
    sj.utils.set_random_seed(3)
    return sj.Sequential([
        sj.Input((None,)),
        L.Embedding(10, 4, mask_zero=mask_zero),
        L.TimeDistributed(L.Dense(5, activation="tanh")),
        L.LSTM(3),
    ])


def test_mask_passes_through_to_the_next_layer():
    ids = np.array([[3, 5, 2, 0, 0], [1, 4, 0, 0, 0]])
    model = _tagger()
    embedded = model.layers[0](ids)
    out = model.layers[1](embedded)
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    # the LSTM after it stops at each sequence's last real step: padding changes nothing
    np.testing.assert_allclose(model.predict(ids, verbose=0),
                               model.predict(ids[:, :3], verbose=0), rtol=1e-6, atol=1e-7)
    unmasked = _tagger(mask_zero=False)
    assert not np.allclose(unmasked.predict(ids, verbose=0), unmasked.predict(ids[:, :3],
                                                                              verbose=0))


def test_mask_is_given_folded_to_the_inner_layer(rng):
    """Masking on (batch, sentences, words, features) gives a (batch, sentences, words) mask;
    each sentence's LSTM must read only its real words."""
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    lengths = np.array([[5, 2, 3], [1, 4, 5]])
    for b in range(2):
        for s in range(3):
            x[b, s, lengths[b, s]:] = 0.0
    masked = L.Masking()(x)
    layer = L.TimeDistributed(L.LSTM(3))
    y = layer(masked)
    assert y.shape == (2, 3, 3)
    # the LSTM ends the words' mask: a sentence is real where any of its words is
    np.testing.assert_array_equal(y._keras_mask, masked._keras_mask.any(axis=-1))
    for b in range(2):
        for s in range(3):
            alone = layer.layer(x[b:b + 1, s, :lengths[b, s]])
            np.testing.assert_allclose(y.numpy()[b, s], alone.numpy()[0], rtol=1e-5, atol=1e-6)


def test_hierarchical_masks_from_an_inner_embedding():
    """Documents of sentences of word ids, 0 padding both: the inner Embedding's mask reaches
    the sentence LSTM (unfolded), and an all-padding sentence is a padding step for the
    document LSTM, so padding sentences or words changes nothing."""
    sj.utils.set_random_seed(1)
    model = sj.Sequential([
        sj.Input((None, None)),
        L.TimeDistributed(L.Embedding(9, 4, mask_zero=True)),
        L.TimeDistributed(L.LSTM(3)),
        L.LSTM(2),
    ])
    docs = np.array([[[1, 2, 0], [3, 0, 0], [0, 0, 0]],
                     [[4, 5, 6], [0, 0, 0], [0, 0, 0]]])
    words = model.layers[0](docs)
    np.testing.assert_array_equal(words._keras_mask, docs != 0)
    np.testing.assert_array_equal(model.layers[1](words)._keras_mask, (docs != 0).any(-1))
    full = model.predict(docs, verbose=0)
    np.testing.assert_allclose(full, model.predict(docs[:, :2], verbose=0), rtol=1e-5,
                               atol=1e-7)  # without the all-padding third sentence
    np.testing.assert_allclose(full[0], model.predict(docs[:1, :2, :2], verbose=0)[0],
                               rtol=1e-5, atol=1e-7)  # and without the padding words
    unmasked = sj.Sequential([L.TimeDistributed(L.Embedding(9, 4)), *model.layers[1:]])
    assert not np.allclose(unmasked.predict(docs, verbose=0)[0],
                           unmasked.predict(docs[:1, :2, :2], verbose=0)[0])


# -- training, saving ----------------------------------------------------------------------------
def _sequence_data(rng):
    x = rng.standard_normal((64, 6, 3)).astype(np.float32)
    labels = (x[..., 0] + 0.5 * x[..., 1] > 0).astype(np.int64)  # one label per step
    return x, labels


def _step_classifier() -> sj.Sequential:
    return sj.Sequential([sj.Input((6, 3)), L.TimeDistributed(L.Dense(8, activation="relu")),
                          L.TimeDistributed(L.Dense(2))])


def test_fit_per_step_classifier_then_save_and_load(tmp_path, rng):
    x, y = _sequence_data(rng)
    sj.utils.set_random_seed(0)
    model = _step_classifier()
    model.compile(sj.optimizers.Adam(0.02),
                  sj.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=30, verbose=0).history
    assert history["accuracy"][-1] > 0.95
    assert len(model.trainable_weights) == 4
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert [type(layer.layer) for layer in loaded.layers] == [L.Dense, L.Dense]
    assert loaded.layers[0].layer.activation is model.layers[0].layer.activation
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)  # and trains on


def test_config_rebuilds_the_wrapped_layer():
    layer = L.TimeDistributed(L.Conv2D(3, (2, 1), activation="relu", name="conv"), name="td")
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Conv2D" and config["name"] == "td"
    again = L.TimeDistributed.from_config(config)
    assert isinstance(again.layer, L.Conv2D) and again.layer.kernel_size == (2, 1)
    assert again.layer is not layer.layer and again.get_config() == config


# -- bad arguments and inputs --------------------------------------------------------------------
def test_needs_a_layer_instance():
    with pytest.raises(ValueError, match="TimeDistributed wraps a layer instance, e.g. "
                                         r"TimeDistributed\(Dense\(8\)\); got 'dense'"):
        L.TimeDistributed("dense")
    with pytest.raises(ValueError, match="got <class"):
        L.TimeDistributed(L.Dense)


def test_bad_inputs_name_the_layer(rng):
    with pytest.raises(ValueError, match=r"Layer 'td' \(TimeDistributed\) expected input with "
                                         r"at least 3 axes, got input of shape \(4, 3\)"):
        L.TimeDistributed(L.Dense(2), name="td")(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"got a mask of shape \(4, 2\) for inputs of shape "
                                         r"\(4, 3, 2\); expected \(4, 3, \.\.\.\)"):
        L.TimeDistributed(L.Dense(2))(rng.standard_normal((4, 3, 2)), mask=np.ones((4, 2)))
    with pytest.raises(ValueError, match="needs a layer that returns one tensor; LSTM"):
        L.TimeDistributed(L.LSTM(2, return_state=True))(rng.standard_normal((2, 3, 4, 5)))
