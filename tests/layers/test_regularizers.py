"""Weight penalties L1, L2, L1L2: ``layer.losses`` equals the hand-computed penalty, its gradient
is l1 sign(w) + 2 l2 w, frozen weights add nothing, and configs round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shenjing import functional as F
from shenjing import layers as L
from shenjing import regularizers as R


def _dense(kernel_regularizer=None, bias_regularizer=None):
    layer = L.Dense(3, kernel_regularizer=kernel_regularizer,
                    bias_regularizer=bias_regularizer, bias_initializer="random_normal")
    layer(np.ones((1, 4)))
    return layer


@pytest.mark.parametrize("reg, l1, l2", [(R.L1(0.03), 0.03, 0.0), (R.L2(0.2), 0.0, 0.2),
                                         (R.L1L2(l1=0.01, l2=0.05), 0.01, 0.05),
                                         (R.L1(), 0.01, 0.0), (R.L2(), 0.0, 0.01)],
                         ids=["l1", "l2", "l1l2", "l1_default", "l2_default"])
def test_kernel_penalty_value_and_gradient(reg, l1, l2):
    layer = _dense(kernel_regularizer=reg)
    w = layer.kernel.numpy().astype(np.float64)
    (penalty,) = layer.losses
    expected = l1 * np.abs(w).sum() + l2 * (w**2).sum()
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-5)
    penalty.backward()
    np.testing.assert_allclose(layer.kernel.grad.numpy(), l1 * np.sign(w) + 2 * l2 * w,
                               rtol=1e-5, atol=1e-7)
    assert layer.bias.grad is None


def test_kernel_and_bias_penalties_add_up():
    layer = _dense(kernel_regularizer="l2", bias_regularizer=R.L1(0.5))
    w, b = (p.numpy().astype(np.float64) for p in (layer.kernel, layer.bias))
    losses = layer.losses
    assert len(losses) == 2
    np.testing.assert_allclose(sum(t.item() for t in losses),
                               0.01 * (w**2).sum() + 0.5 * np.abs(b).sum(), rtol=1e-5)
    sum(losses).backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), 0.5 * np.sign(b), rtol=1e-6)


@pytest.mark.parametrize("make, weight", [
    (lambda: L.Conv2D(2, 3, kernel_regularizer=R.L2(0.1)), "kernel"),
    (lambda: L.Embedding(5, 3, embeddings_regularizer=R.L1(0.1)), "embeddings"),
])
def test_other_layers_take_regularizers(make, weight):
    layer = make()
    layer(np.ones((1, 5, 5, 1)) if isinstance(layer, L.Conv2D) else np.array([[1, 2]]))
    w = getattr(layer, weight).numpy().astype(np.float64)
    expected = 0.1 * ((w**2).sum() if isinstance(layer, L.Conv2D) else np.abs(w).sum())
    (penalty,) = layer.losses
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-5)


def test_losses_of_children_are_collected_and_frozen_weights_add_nothing():
    class Block(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = L.Dense(3, kernel_regularizer="l1")
            self.b = L.Dense(2, kernel_regularizer="l2")

        def call(self, x):
            return self.b(self.a(x))

    block = Block()
    block(np.ones((1, 4)))
    assert len(block.losses) == 2
    block.a.trainable = False
    assert len(block.losses) == 1
    block.trainable = False
    assert block.losses == []


def test_no_regularizer_no_losses():
    assert _dense().losses == []


def test_zero_factors_give_a_zero_penalty_with_a_zero_gradient():
    layer = _dense(kernel_regularizer=R.L1L2())
    (penalty,) = layer.losses
    assert penalty.item() == 0.0
    penalty.backward()
    np.testing.assert_array_equal(layer.kernel.grad.numpy(), 0.0)


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.02), R.L1L2(0.1, 0.2), R.L1L2()],
                         ids=lambda r: type(r).__name__)
def test_config_round_trip(reg):
    config = json.loads(json.dumps(R.serialize(reg)))
    clone = R.get(config)
    assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    assert (clone.l1, clone.l2) == (reg.l1, reg.l2)


def test_layer_config_round_trip_keeps_the_penalty():
    layer = _dense(kernel_regularizer=R.L1L2(0.1, 0.2))
    clone = L.Dense.from_config(json.loads(json.dumps(layer.get_config())))
    clone(np.ones((1, 4)))
    clone.set_weights(layer.get_weights())
    assert clone.losses[0].item() == pytest.approx(layer.losses[0].item(), rel=1e-6)


@pytest.mark.parametrize("name, cls, l1, l2", [("l1", R.L1, 0.01, 0.0), ("L2", R.L2, 0.0, 0.01),
                                               ("l1_l2", R.L1L2, 0.0, 0.0)])  # Keras 3's get
def test_get_by_name(name, cls, l1, l2):
    reg = R.get(name)
    assert type(reg) is cls and (reg.l1, reg.l2) == (l1, l2)


def test_get_none_and_errors():
    assert R.get(None) is None and R.serialize(None) is None
    with pytest.raises(ValueError, match="unknown regularizer"):
        R.get("l3")
    with pytest.raises(ValueError, match="unknown regularizer class 'Orthogonal'; known: L1"):
        R.get({"class_name": "Orthogonal", "config": {}})
    with pytest.raises(ValueError, match=">= 0"):
        R.L1(-0.1)
    with pytest.raises(ValueError, match="cannot be saved"):
        R.serialize(lambda w: w.sum())


def test_keras_lowercase_spellings_are_the_classes():
    from shenjing import tensor

    w = tensor(np.array([1.0, -2.0], np.float32))
    assert R.l2(0.5)(w).item() == pytest.approx(0.5 * 5)
    assert R.l1(0.5)(w).item() == pytest.approx(0.5 * 3)
    assert R.l1_l2(l1=0.1, l2=0.2)(w).item() == pytest.approx(0.3 + 1.0)


def test_orthogonal_regularizer_is_keras_formula():
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for mode, vectors in (("rows", w), ("columns", w.T)):
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        products = unit @ unit.T
        n = len(products)
        expected = 0.1 * 0.5 * np.abs(products * (1 - np.eye(n))).sum() / (n * (n - 1) / 2)
        got = R.OrthogonalRegularizer(0.1, mode)(w)
        assert got.item() == pytest.approx(expected, rel=1e-5)


def test_regularizers_take_arrays_classes_and_keras_string_defaults():
    assert R.L2(0.01)(np.ones((2, 2), np.float32)).item() == pytest.approx(0.04)
    assert R.L1(0.01)(np.ones((2, 2), np.float32)).item() == pytest.approx(0.04)
    assert R.l1_l2 is R.L1L2  # Keras 3's (defaults 0 and 0)
    assert isinstance(R.get(R.L2), R.L2)  # a class: an instance, as Keras's get

    class Shrink(R.Regularizer):  # a penalty of one's own, on Keras's base class
        def __call__(self, w):
            return F.sum(w * w) * 0.5

    dense = L.Dense(2, kernel_regularizer=Shrink())
    dense.build((None, 3))
    assert dense.losses[0].item() == pytest.approx(0.5 * float((dense.kernel.numpy() ** 2).sum()))
