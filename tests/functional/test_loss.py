"""Losses in Keras's order (y_true, y_pred): mean squared / absolute error, Huber, binary,
categorical and sparse categorical cross-entropy, from probabilities and from logits."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, away_from_zero, normal, torch
from shenjing import F

EPSILON = 1e-7  # Keras clips probabilities to [EPSILON, 1 - EPSILON] before taking logs
N, C = 5, 4  # samples, classes


def _tf():
    return torch.nn.functional


# -- input makers: rng -> [y_true, y_pred] -------------------------------------------------------


def regression(shape):
    # y_pred - y_true stays 0.1 away from 0 (|d| is a kink of MAE and Huber) and spans delta = 1.
    def make(rng):
        y_true = normal(rng, shape)
        return [y_true, y_true + away_from_zero(rng, shape)]

    return make


def binary_probs(rng):
    return [rng.choice([0.0, 1.0, 0.3], (N, 3)), rng.uniform(0.05, 0.95, (N, 3))]


def binary_logits(rng):
    return [rng.uniform(0.0, 1.0, (N, 3)), 3 * normal(rng, (N, 3))]


def categorical_probs(shape=(N, C), axis=-1):
    def make(rng):
        onehot = np.moveaxis(np.eye(shape[axis])[rng.integers(0, shape[axis], _rest(shape, axis))],
                             -1, axis)
        # Unnormalized on purpose: the loss renormalizes along `axis`, as Keras does.
        return [onehot, rng.uniform(0.1, 1.0, shape)]

    return make


def categorical_logits(shape=(N, C), axis=-1):
    def make(rng):
        soft = rng.uniform(0.0, 1.0, shape)
        return [soft / soft.sum(axis=axis, keepdims=True), 3 * normal(rng, shape)]

    return make


def _rest(shape, axis):
    return tuple(n for i, n in enumerate(shape) if i != axis % len(shape))


def sparse_labels(label_shape=(N,), probs=False):
    def make(rng):
        labels = rng.integers(0, C, label_shape)
        pred = rng.uniform(0.1, 1.0, (N, C)) if probs else 3 * normal(rng, (N, C))
        return [labels, pred]

    return make


# -- the Keras formulas that torch has no single function for ------------------------------------


def torch_categorical_from_probs(t, p, axis=-1, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / p.shape[axis]
    p = (p / p.sum(dim=axis, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
    return -(t * p.log()).sum(dim=axis).mean()


def torch_sparse_from_probs(labels, p):
    p = (p / p.sum(dim=-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
    return _tf().nll_loss(p.log(), labels.reshape(-1))


def per_sample_mse(t, p):
    """Keras averages over the last axis per sample before reducing; torch's 'none' does not."""
    return _tf().mse_loss(p, t, reduction="none").mean(dim=-1)


class Case(NamedTuple):
    loss: Callable[..., Any]  # the shenjing loss, called as loss(y_true, y_pred, **kwargs)
    kwargs: dict[str, Any]
    torch_loss: Callable[..., Any]  # takes (y_true, y_pred) torch tensors
    make: Callable[[np.random.Generator], list[np.ndarray]]
    wrt: list[int] | None = None  # inputs whose torch gradients are compared (default: all)


# torch cannot differentiate binary_cross_entropy in its target, so "bce" compares y_pred's
# gradient only; gradcheck still checks both inputs.
LOSSES = {
    "mse": Case(F.mean_squared_error, {}, lambda t, p: _tf().mse_loss(p, t), regression((N, 3))),
    "mse_1d": Case(F.mean_squared_error, {}, lambda t, p: _tf().mse_loss(p, t), regression((N,))),
    "mse_sum": Case(F.mean_squared_error, {"reduction": "sum"},
                    lambda t, p: per_sample_mse(t, p).sum(), regression((N, 3))),
    "mse_none": Case(F.mean_squared_error, {"reduction": "none"},
                     per_sample_mse, regression((N, 3))),
    "mae": Case(F.mean_absolute_error, {}, lambda t, p: _tf().l1_loss(p, t), regression((N, 3))),
    "huber": Case(F.huber, {}, lambda t, p: _tf().huber_loss(p, t), regression((N, 3))),
    "huber_delta": Case(F.huber, {"delta": 0.5}, lambda t, p: _tf().huber_loss(p, t, delta=0.5),
                        regression((N, 3))),
    "bce": Case(F.binary_crossentropy, {}, lambda t, p: _tf().binary_cross_entropy(p, t),
                binary_probs, wrt=[1]),
    "bce_logits": Case(F.binary_crossentropy, {"from_logits": True},
                       lambda t, p: _tf().binary_cross_entropy_with_logits(p, t), binary_logits),
    "cce": Case(F.categorical_crossentropy, {}, torch_categorical_from_probs, categorical_probs()),
    "cce_smoothing": Case(F.categorical_crossentropy, {"label_smoothing": 0.1},
                          lambda t, p: torch_categorical_from_probs(t, p, label_smoothing=0.1),
                          categorical_probs()),
    "cce_axis_1": Case(F.categorical_crossentropy, {"axis": 1},
                       lambda t, p: torch_categorical_from_probs(t, p, axis=1),
                       categorical_probs((2, C, 3), axis=1)),
    "cce_logits": Case(F.categorical_crossentropy, {"from_logits": True},
                       lambda t, p: _tf().cross_entropy(p, t), categorical_logits()),
    "cce_logits_smoothing": Case(F.categorical_crossentropy,
                                 {"from_logits": True, "label_smoothing": 0.1},
                                 lambda t, p: _tf().cross_entropy(p, t, label_smoothing=0.1),
                                 categorical_logits()),
    # torch's class axis is 1 for (N, C, d) inputs.
    "cce_logits_axis_1": Case(F.categorical_crossentropy, {"from_logits": True, "axis": 1},
                              lambda t, p: _tf().cross_entropy(p, t),
                              categorical_logits((2, C, 3), axis=1)),
    "sparse_logits": Case(F.sparse_categorical_crossentropy, {"from_logits": True},
                          lambda y, p: _tf().cross_entropy(p, y), sparse_labels()),
    "sparse_logits_n1": Case(F.sparse_categorical_crossentropy, {"from_logits": True},
                             lambda y, p: _tf().cross_entropy(p, y[:, 0]), sparse_labels((N, 1))),
    "sparse_probs": Case(F.sparse_categorical_crossentropy, {}, torch_sparse_from_probs,
                         sparse_labels(probs=True)),
    "sparse_probs_n1": Case(F.sparse_categorical_crossentropy, {}, torch_sparse_from_probs,
                            sparse_labels((N, 1), probs=True)),
}


def _bind(case):
    return lambda y_true, y_pred: case.loss(y_true, y_pred, **case.kwargs)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradcheck(name, rng):
    case = LOSSES[name]
    assert shenjing.gradcheck(_bind(case), *case.make(rng))


@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_torch(name, rng):
    case = LOSSES[name]
    assert_same_as_torch(_bind(case), case.make(rng), case.torch_loss, wrt=case.wrt)


@pytest.mark.parametrize("name", [n for n in LOSSES if "reduction" not in LOSSES[n].kwargs])
def test_loss_reductions_agree(name, rng):
    case = LOSSES[name]
    y_true, y_pred = (shenjing.tensor(a) for a in case.make(rng))
    per_sample = case.loss(y_true, y_pred, reduction="none", **case.kwargs)
    class_axis = case.kwargs.get("axis", -1)
    expected_shape = _rest(y_pred.shape, class_axis) if y_pred.ndim > 1 else y_pred.shape
    assert per_sample.shape == expected_shape
    mean = case.loss(y_true, y_pred, **case.kwargs)
    total = case.loss(y_true, y_pred, reduction="sum", **case.kwargs)
    np.testing.assert_allclose(mean.item(), per_sample.numpy().mean(), rtol=1e-6)
    np.testing.assert_allclose(total.item(), per_sample.numpy().sum(), rtol=1e-6)


# -- Keras's clipping and stability -------------------------------------------------------------


def test_bce_clips_probabilities_as_keras():
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    y_pred = np.array([0.0, 1.0, 1.0, 0.0])  # two certain mistakes, two certain hits
    loss = F.binary_crossentropy(y_true, shenjing.tensor(y_pred), reduction="none").numpy()
    p = np.clip(y_pred.astype(np.float32), np.float32(EPSILON), np.float32(1 - EPSILON))
    expected = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    assert loss[0] == pytest.approx(-np.log(EPSILON), rel=1e-5)
    assert_same_as_torch(F.binary_crossentropy, [y_true, y_pred],
                         lambda t, p: _tf().binary_cross_entropy(p.clamp(EPSILON, 1 - EPSILON), t),
                         wrt=[1])


def test_bce_from_logits_is_stable_for_huge_logits():
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    logits = np.array([-1e4, 1e4, 1e4, -1e4])
    loss = F.binary_crossentropy(y_true, shenjing.tensor(logits), from_logits=True,
                                 reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, 1e4, 0.0, 0.0])
    assert_same_as_torch(lambda t, p: F.binary_crossentropy(t, p, from_logits=True),
                         [y_true, logits],
                         lambda t, p: _tf().binary_cross_entropy_with_logits(p, t))


@pytest.mark.parametrize("name", ["cce_logits", "sparse_logits"])
def test_crossentropy_from_logits_is_stable_for_huge_logits(name, rng):
    case = LOSSES[name]
    y_true, _ = case.make(rng)
    logits = np.where(np.arange(C) == 0, 1e4, -1e4) * np.sign(normal(rng, (N, 1)))
    assert_same_as_torch(_bind(case), [y_true, logits], case.torch_loss)


# -- label formats of the sparse form ----------------------------------------------------------

LABEL_FORMATS = {
    "int64": lambda y: y,
    "int64_n1": lambda y: y[:, None],
    "uint8_n1": lambda y: y[:, None].astype(np.uint8),  # Keras's CIFAR-10 labels
    "float_n1": lambda y: y[:, None].astype(np.float32),
    "list": lambda y: y.tolist(),
    "tensor": lambda y: shenjing.tensor(y),
}


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("fmt", LABEL_FORMATS)
def test_sparse_label_formats_agree(fmt, from_logits, rng):
    labels, pred = sparse_labels(probs=not from_logits)(rng)
    grads = []
    for y in (labels, LABEL_FORMATS[fmt](labels)):
        x = shenjing.tensor(pred, requires_grad=True)
        loss = F.sparse_categorical_crossentropy(y, x, from_logits=from_logits)
        loss.backward()
        grads.append((loss.item(), x.grad.numpy()))
    assert grads[0][0] == grads[1][0]
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_sparse_matches_categorical_with_onehot(rng):
    labels, logits = sparse_labels()(rng)
    sparse = F.sparse_categorical_crossentropy(labels, shenjing.tensor(logits), from_logits=True)
    dense = F.categorical_crossentropy(np.eye(C)[labels], shenjing.tensor(logits),
                                       from_logits=True)
    np.testing.assert_allclose(sparse.item(), dense.item(), rtol=1e-6)


# -- errors ---------------------------------------------------------------------------------------

SHAPE_CHECKED = ["mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy",
                 "categorical_crossentropy"]


LOGIT_FORMS = [("binary_crossentropy", {"from_logits": True}),
               ("categorical_crossentropy", {"from_logits": True})]


@pytest.mark.parametrize("true_shape, pred_shape", [((4,), (4, 1)), ((4, 1), (4,)),
                                                    ((4, 3), (4, 1)), ((2, 3), (3, 2))])
@pytest.mark.parametrize("name, kwargs", [(n, {}) for n in SHAPE_CHECKED] + LOGIT_FORMS)
def test_loss_mismatched_shapes_raise_naming_both(name, kwargs, true_shape, pred_shape):
    # A (N, 1) prediction against (N,) targets would broadcast to an (N, N) loss; the fused
    # from-logits forms check as the others do.
    y_true, y_pred = np.zeros(true_shape), shenjing.tensor(np.full(pred_shape, 0.5))
    with pytest.raises(ValueError) as info:
        getattr(F, name)(y_true, y_pred, **kwargs)
    message = str(info.value)
    assert name in message and str(true_shape) in message and str(pred_shape) in message


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("labels, message", [
    ([0, 1, 2, 3, -1], "must lie in"),
    ([0, 1, 2, 3, C], "must lie in"),
    ([0.0, 1.5, 2.0, 3.0, 0.0], "integer class ids"),
    ([0, 1, 2, 3], "do not match"),
    ([[0, 1]] * N, "do not match"),
], ids=["negative", "too_large", "fractional", "too_few", "two_columns"])
def test_sparse_bad_labels_raise(labels, message, from_logits):
    with pytest.raises(ValueError, match=message):
        F.sparse_categorical_crossentropy(np.array(labels), shenjing.tensor(np.ones((N, C))),
                                          from_logits=from_logits)


@pytest.mark.parametrize("dtype, classes", [(np.int8, 200), (np.int8, 128), (np.int16, 40000),
                                            (np.int64, 10), (np.uint8, 200)])
def test_sparse_labels_in_narrow_integers_are_range_checked(dtype, classes):
    """A negative id of a narrow signed dtype is refused against any class count (read as
    unsigned it would pass as an id over 2^(bits-1) classes: an out-of-bounds write in C);
    ids up to the last class pass."""
    logits = shenjing.tensor(np.zeros((3, classes), np.float32))
    info = np.iinfo(dtype)
    F.sparse_categorical_crossentropy(np.array([0, min(classes - 1, info.max), 5], dtype),
                                      logits, from_logits=True)
    bad = [[0, -103, 1]] if info.min < 0 else []
    bad += [[0, classes, 1]] if classes <= info.max else []
    for labels in bad:
        with pytest.raises(ValueError, match="must lie in"):
            F.sparse_categorical_crossentropy(np.array(labels, dtype), logits, from_logits=True)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("native_on", [True, False])
def test_sparse_from_logits_backward_twice_with_retain_graph(reduction, native_on):
    """The fused loss keeps its gradient (softmax - onehot, made in the forward) unchanged for
    a second backward: the leaf gets twice the first one."""
    rng = np.random.default_rng(0)
    x = shenjing.tensor(rng.standard_normal((6, 4)).astype(np.float32)).requires_grad_()
    labels = np.array([0, 3, 1, 2, 2, 0])
    with contextlib.nullcontext() if native_on else shenjing.native.disabled():
        loss = F.sparse_categorical_crossentropy(labels, x, from_logits=True,
                                                 reduction=reduction).sum()
        loss.backward(retain_graph=True)
        first = x.grad.numpy().copy()
        loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    softmax = np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)
    expected = softmax - np.eye(4)[labels]
    np.testing.assert_allclose(first, expected / 6 if reduction == "mean" else expected,
                               rtol=1e-5, atol=1e-6)


def test_sparse_needs_2d_predictions():
    with pytest.raises(ValueError, match=re.escape("(samples, classes)")):
        F.sparse_categorical_crossentropy(np.zeros(2, int), shenjing.tensor(np.ones((2, C, 1))))


def test_loss_unknown_reduction_raises():
    with pytest.raises(ValueError, match="reduction"):
        F.mean_squared_error(np.zeros(3), shenjing.tensor(np.zeros(3)), reduction="avg")
