"""Merge layers: values and gradients against NumPy for 2 and 3 inputs, broadcasting as Keras 3,
shape errors, and how they combine the inputs' masks; Dot against Keras's batch_dot written out
in NumPy, torch, and finite differences."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import shenjing as sj
from oracle import distinct, require_torch
from shenjing import Tensor
from shenjing import layers as L


def _fold(fn):
    return lambda xs: functools.reduce(fn, xs)


def _arg_grads(pick):
    """Gradients of an elementwise max/min: the upstream goes to the winning input."""
    def grads(xs, g):
        winner = pick(np.stack(xs), axis=0)
        return [g * (winner == i) for i in range(len(xs))]
    return grads


def _product_grads(xs, g):
    return [g * np.prod([x for j, x in enumerate(xs) if j != i], axis=0) for i in range(len(xs))]


# name -> (layer factory, value, gradients (given inputs and upstream), numbers of inputs)
MERGES = {
    "add": (L.Add, _fold(np.add), lambda xs, g: [g] * len(xs), (2, 3)),
    "subtract": (L.Subtract, lambda xs: xs[0] - xs[1], lambda xs, g: [g, -g], (2,)),
    "multiply": (L.Multiply, _fold(np.multiply), _product_grads, (2, 3)),
    "average": (L.Average, lambda xs: sum(xs) / len(xs), lambda xs, g: [g / len(xs)] * len(xs),
                (2, 3)),
    "maximum": (L.Maximum, _fold(np.maximum), _arg_grads(np.argmax), (2, 3)),
    "minimum": (L.Minimum, _fold(np.minimum), _arg_grads(np.argmin), (2, 3)),
}
CASES = [(name, n) for name, spec in MERGES.items() for n in spec[3]]


@pytest.mark.parametrize("name, n_inputs", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_merge_values_and_gradients(rng, name, n_inputs):
    make, value, grads, _ = MERGES[name]
    # distinct values: no ties for maximum/minimum
    arrays = list(distinct(rng, (n_inputs, 3, 4)).astype(np.float32))
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    y = make()(inputs)
    np.testing.assert_allclose(y.numpy(), value(arrays), rtol=1e-6, atol=1e-7)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    for k, (t, expected) in enumerate(zip(inputs, grads(arrays, upstream))):
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-6, atol=1e-7,
                                   err_msg=f"gradient of input {k}")


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_concatenate_values_and_gradients(rng, axis):
    shapes = {-1: [(2, 3, 2), (2, 3, 4)], 1: [(2, 1, 4), (2, 3, 4)], 0: [(1, 3, 4), (2, 3, 4)]}
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes[axis]]
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    y = L.Concatenate(axis=axis)(inputs)
    np.testing.assert_array_equal(y.numpy(), np.concatenate(arrays, axis=axis))
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    split = np.split(upstream, [arrays[0].shape[axis]], axis=axis)
    for t, expected in zip(inputs, split):
        np.testing.assert_array_equal(t.grad.numpy(), expected)


@pytest.mark.parametrize("make", [L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum,
                                  L.Minimum])
def test_merge_shape_mismatch_names_layer_and_shapes(make):
    layer = make(name="merge")
    with pytest.raises(ValueError, match=r"'merge'.*\(None, 3\).*\(None, 4\)"):
        layer([np.ones((2, 3)), np.ones((2, 4))])


@pytest.mark.parametrize("make", [L.Add, L.Multiply, L.Maximum])
def test_merge_checks_shapes_at_every_call(make):
    layer = make()
    layer([np.ones((2, 3)), np.ones((2, 3))])
    assert layer([np.ones((2, 3)), np.ones((2, 1))]).shape == (2, 3)  # Keras broadcasts 1
    with pytest.raises(ValueError, match=r"cannot broadcast inputs of shapes \[\(2, 3\), "
                                         r"\(2, 4\)\]"):
        layer([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"one batch size, got shapes \[\(2, 3\), \(1, 3\)\]"):
        layer([np.ones((2, 3)), np.ones((1, 3))])  # Keras: batch sizes must be equal


# shapes that broadcast in Keras 3: size-1 axes, and fewer axes aligned after the batch axis
BROADCASTS = [[(2, 4, 4, 3), (2, 1, 1, 3)], [(2, 4, 3), (2, 3)], [(2, 1, 3), (2, 4, 1)],
              [(2, 4, 3), (2, 1, 3), (2,)]]


BROADCAST_CASES = [(name, shapes) for name, spec in MERGES.items() for shapes in BROADCASTS
                   if len(shapes) in spec[3]]


@pytest.mark.parametrize("name, shapes", BROADCAST_CASES,
                         ids=[f"{n}-{s}" for n, s in BROADCAST_CASES])
def test_merge_broadcasts_values_and_gradients_as_keras(rng, name, shapes):
    make, value, grads, _ = MERGES[name]
    ndim = max(map(len, shapes))
    arrays = [distinct(rng, s).astype(np.float32) for s in shapes]
    # Keras's alignment: size-1 axes inserted after the batch axis, then NumPy broadcasting
    aligned = [a.reshape(a.shape[:1] + (1,) * (ndim - a.ndim) + a.shape[1:]) for a in arrays]
    full = np.broadcast_shapes(*(a.shape for a in aligned))
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    y = make()(inputs)
    expected = value([np.broadcast_to(a, full) for a in aligned])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    full_grads = grads([np.broadcast_to(a, full) for a in aligned], upstream)
    for k, (t, a, g) in enumerate(zip(inputs, aligned, full_grads)):
        summed = g.sum(axis=tuple(i for i in range(ndim) if a.shape[i] == 1 != full[i]),
                       keepdims=True)
        np.testing.assert_allclose(t.grad.numpy(), summed.reshape(t.shape), rtol=1e-5,
                                   atol=1e-5, err_msg=f"gradient of input {k}")


def test_squeeze_and_excitation_in_the_functional_api():
    inputs = L.Input((4, 4, 3))
    se = L.Reshape((1, 1, 3))(L.Dense(3, activation="sigmoid")(
        L.GlobalAveragePooling2D()(inputs)))
    scaled = L.multiply([inputs, se])
    assert scaled.shape == (None, 4, 4, 3)
    assert L.add([L.Input((None, 3)), L.Input((1, 3))]).shape == (None, None, 3)
    assert L.Maximum()([L.Input((5, 3)), L.Input((3,))]).shape == (None, 5, 3)
    with pytest.raises(ValueError, match=r"cannot broadcast.*\(None, 4, 4, 3\), \(None, 2, 1, 3\)"):
        L.multiply([inputs, L.Input((2, 1, 3))])


def test_concatenate_shape_mismatch_raises():
    layer = L.Concatenate(name="cat")
    with pytest.raises(ValueError, match=r"'cat'.*axis -1"):
        layer([np.ones((2, 3, 2)), np.ones((2, 4, 2))])
    with pytest.raises(ValueError, match="axis"):
        L.Concatenate()([np.ones((2, 3)), np.ones((3, 4))])  # batch sizes differ


@pytest.mark.parametrize("inputs", [[np.ones((2, 3))], np.ones((2, 3))], ids=["one", "tensor"])
def test_merge_needs_a_list_of_at_least_two_inputs(inputs):
    with pytest.raises(ValueError, match="at least 2 inputs"):
        L.Add()(inputs)


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match="exactly 2"):
        L.Subtract()([np.ones((1, 2))] * 3)


def test_merge_layers_combine_masks():
    ids_a = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    ids_b = np.array([[1, 2, 3, 0], [3, 4, 0, 0]])
    emb = L.Embedding(5, 2, mask_zero=True)
    a, b = emb(ids_a), emb(ids_b)
    plain = Tensor(np.ones((2, 4, 2), np.float32))
    for make in (L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum):
        np.testing.assert_array_equal(make()([a, b])._keras_mask, (ids_a != 0) & (ids_b != 0))
        np.testing.assert_array_equal(make()([plain, b])._keras_mask, ids_b != 0)
    assert getattr(L.Add()([plain, plain]), "_keras_mask", None) is None


def test_concatenate_combines_masks_as_keras():
    ids_a = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    ids_b = np.array([[1, 0, 3], [0, 4, 0]])
    emb = L.Embedding(5, 2, mask_zero=True)
    a, b = emb(ids_a), emb(ids_b)
    # along time: the masks are joined
    np.testing.assert_array_equal(L.Concatenate(axis=1)([a, b])._keras_mask,
                                  np.concatenate([ids_a, ids_b], axis=1) != 0)
    # along features: a step is kept if any input keeps it; an unmasked input keeps all
    c = emb(ids_b[:, :1].repeat(4, axis=1))
    np.testing.assert_array_equal(L.Concatenate()([a, c])._keras_mask,
                                  (ids_a != 0) | (ids_b[:, :1] != 0))
    plain = Tensor(np.ones((2, 4, 3), np.float32))
    assert L.Concatenate()([a, plain])._keras_mask.all()
    assert getattr(L.Concatenate()([plain, plain]), "_keras_mask", None) is None


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "average", "maximum", "minimum",
                                  "concatenate"])
def test_functional_form_is_the_layer_called_on_the_list(rng, name):
    # Keras's residual idiom: layers.add([x, block_output]); layers.concatenate([a, b, c])
    arrays = list(distinct(rng, (2, 3, 4)).astype(np.float32))
    make = L.Concatenate if name == "concatenate" else MERGES[name][0]
    y = getattr(L, name)(arrays, name=f"my_{name}")
    np.testing.assert_allclose(y.numpy(), make()(arrays).numpy(), rtol=1e-6)
    symbolic = getattr(L, name)([L.Input((4,)), L.Input((4,))])
    assert symbolic.shape == ((None, 8) if name == "concatenate" else (None, 4))
    assert type(symbolic.layer) is make
    assert np.array_equal(L.concatenate(arrays, axis=0).numpy(), np.concatenate(arrays, axis=0))


# -- Dot ------------------------------------------------------------------------------------------
def _keras_batch_dot(x, y, axes, normalize):
    """Keras 3's Dot in NumPy: optional L2 normalization (x / max(|x|, 1e-7)), then the batched
    sum over the two axes; the output keeps x's other axes, then y's, or is (batch, 1)."""
    a, b = (axes, axes) if isinstance(axes, int) else axes
    a, b = a % x.ndim, b % y.ndim
    if normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=a, keepdims=True), 1e-7)
        y = y / np.maximum(np.linalg.norm(y, axis=b, keepdims=True), 1e-7)
    out = np.stack([np.tensordot(xi, yi, axes=(a - 1, b - 1)) for xi, yi in zip(x, y)])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


DOTS = [((3, 4), (3, 4), -1), ((3, 5, 2), (3, 2, 5), (1, 2)), ((3, 4), (3, 6, 4), (1, 2)),
        ((3, 6, 4), (3, 4), (2, 1)), ((3, 2, 4, 5), (3, 5, 3), (3, 1)), ((3, 4, 2), (3, 4, 6), 1)]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("x_shape, y_shape, axes", DOTS, ids=str)
def test_dot_matches_keras_batch_dot(rng, x_shape, y_shape, axes, normalize):
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    out = L.Dot(axes, normalize=normalize)([x.astype(np.float32), y.astype(np.float32)])
    np.testing.assert_allclose(out.numpy(), _keras_batch_dot(x, y, axes, normalize), rtol=1e-5,
                               atol=1e-5)
    layer = L.Dot(axes, normalize=normalize)
    assert sj.gradcheck(lambda a, b: layer([a, b]), x, y)
    symbolic = L.dot([L.Input(x_shape[1:]), L.Input(y_shape[1:])], axes=axes,
                     normalize=normalize)
    assert symbolic.shape == (None, *out.shape[1:])


def test_dot_keras_example_torch_and_zero_vectors(rng):
    x, y = np.arange(10.0).reshape(1, 5, 2), np.arange(10.0, 20).reshape(1, 2, 5)
    np.testing.assert_array_equal(L.Dot(axes=(1, 2))([x, y]).numpy(), [[[260, 360], [320, 445]]])
    torch = require_torch()
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    cosine = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=1)
    np.testing.assert_allclose(L.Dot(1, normalize=True)([a, b]).numpy()[:, 0], cosine.numpy(),
                               rtol=1e-5)
    p, q = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(L.Dot((2, 1))([p, q]).numpy(),
                               torch.bmm(torch.tensor(p), torch.tensor(q)).numpy(), rtol=1e-5)
    zeros = Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    out = L.Dot(1, normalize=True)([zeros, Tensor(np.ones((2, 3), np.float32))])
    out.sum().backward()  # Keras's epsilon: zeros, and a finite gradient
    assert np.all(out.numpy() == 0) and np.all(np.isfinite(zeros.grad.numpy()))


def test_dot_config_and_errors():
    layer = L.Dot((1, 2), normalize=True, name="d")
    config = layer.get_config()
    assert {k: config[k] for k in ("axes", "normalize", "name")} == {
        "axes": [1, 2], "normalize": True, "name": "d"}
    assert L.Dot.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="axes must be an int or a pair of ints"):
        L.Dot("last")
    with pytest.raises(ValueError, match=r"'d' \(Dot\): axis 1 of \(None, 3\) and axis 2 of "
                                         r"\(None, 2, 4\) must have one size"):
        layer([np.ones((2, 3)), np.ones((2, 2, 4))])
    with pytest.raises(ValueError, match="other than the batch axis 0"):
        L.Dot(0)([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Dot(1)([np.ones((2, 3))] * 3)
