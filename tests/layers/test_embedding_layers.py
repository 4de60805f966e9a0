"""Embedding (parity with torch.nn.Embedding, repeated ids, mask_zero) and Masking (the mask it
computes, the zeroed steps), and how masks travel on outputs as ``_keras_mask``."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing import Tensor
from shenjing import layers as L


@pytest.mark.parametrize("ids_shape", [(5,), (3, 4), (2, 3, 2)])
def test_embedding_matches_torch(rng, ids_shape):
    torch = require_torch()
    layer = L.Embedding(6, 4)
    module = torch.nn.Embedding(6, 4)
    ids = rng.integers(0, 6, ids_shape)  # repeated ids: their gradients add up
    layer(ids)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.embeddings.numpy()))
    y = layer(ids)
    yt = module(torch.from_numpy(ids))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(layer.embeddings.grad.numpy(), module.weight.grad.numpy(),
                               atol=1e-6, rtol=1e-5)


def test_embedding_looks_up_rows():
    layer = L.Embedding(4, 2, embeddings_initializer="orthogonal")
    ids = np.array([[3, 0, 3]])
    y = layer(ids)
    table = layer.embeddings.numpy()
    np.testing.assert_array_equal(y.numpy(), table[ids])


def test_embedding_accepts_float_ids_as_keras_does():
    layer = L.Embedding(5, 3)
    ids = np.array([[1, 4, 0]])
    np.testing.assert_array_equal(layer(ids.astype(np.float32)).numpy(), layer(ids).numpy())
    assert L.Embedding(5, 3)(shenjing.Input((7,))).shape == (None, 7, 3)


def test_embedding_rejects_ids_out_of_range():
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        L.Embedding(5, 3)(np.array([[1, 5]]))


@pytest.mark.parametrize("mask_zero", [True, False])
def test_embedding_mask_zero_marks_padding(mask_zero):
    ids = np.array([[4, 2, 0, 0], [1, 0, 3, 0]])
    y = L.Embedding(5, 3, mask_zero=mask_zero)(ids)
    if mask_zero:
        np.testing.assert_array_equal(y._keras_mask, ids != 0)
    else:
        assert getattr(y, "_keras_mask", None) is None


def test_mask_passes_through_layers_that_keep_the_steps():
    ids = np.array([[4, 2, 0], [1, 0, 0]])
    h = L.Embedding(5, 3, mask_zero=True)(ids)
    for layer in (L.Dense(2), L.Activation("tanh"), L.LayerNormalization()):
        h = layer(h)
        np.testing.assert_array_equal(h._keras_mask, ids != 0)


def test_mask_ends_at_a_layer_that_reshapes_the_steps_away():
    # Keras: Flatten (like any layer without masking support) ends the mask, so a loss after
    # it averages over every sample, unmasked
    ids = np.array([[1, 2, 0, 0], [3, 1, 2, 0]])
    y = np.array([[1.0], [0.0]], np.float32)
    flat = L.Flatten()(L.Embedding(6, 3, mask_zero=True)(ids))
    assert getattr(flat, "_keras_mask", None) is None
    model = shenjing.Sequential([L.Embedding(6, 3, mask_zero=True), L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ids, y, epochs=1, verbose=0)
    pred = model.predict(ids, verbose=0)
    assert model.evaluate(ids, y, verbose=0) == pytest.approx(((pred - y) ** 2).mean(), rel=1e-6)


def test_masking_computes_the_mask_and_zeroes_masked_steps(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    x[0, 2:] = -1.0
    x[1, 0] = -1.0
    x[1, 1, 0] = -1.0  # only one feature equals the mask value: the step is kept
    y = L.Masking(mask_value=-1.0)(Tensor(x))
    expected_mask = np.array([[True, True, False, False], [False, True, True, True]])
    np.testing.assert_array_equal(y._keras_mask, expected_mask)
    np.testing.assert_array_equal(y.numpy(), x * expected_mask[..., None])


def test_masking_gradient_is_zero_on_masked_steps(rng):
    x = rng.standard_normal((1, 3, 2)).astype(np.float32)
    x[0, 1] = 0.0
    xt = Tensor(x, requires_grad=True)
    L.Masking()(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy()[0], [[1, 1], [0, 0], [1, 1]])


def test_masking_mask_reaches_later_layers():
    x = np.ones((1, 3, 2), np.float32)
    x[0, 1] = 0.0
    h = L.Dense(4)(L.Masking()(x))
    np.testing.assert_array_equal(h._keras_mask, [[True, False, True]])


def test_embedding_weights_table_is_uniform_by_default_and_trainable():
    layer = L.Embedding(3, 2)
    layer(np.array([[0]]))
    assert [p.name for p in layer.trainable_weights] == ["embeddings"]
    assert isinstance(shenjing.initializers.get(layer.embeddings_initializer),
                      shenjing.initializers.RandomUniform)



def test_keras2_input_length_is_ignored_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="input_length"):
        layer = L.Embedding(10, 4, input_length=7)
    assert layer(np.array([[1, 2, 3]])).shape == (1, 3, 4)
