"""PyTorch-named functional losses (F.cross_entropy, F.nll_loss, F.mse_loss, F.l1_loss,
F.binary_cross_entropy[_with_logits], F.smooth_l1_loss, F.huber_loss) in torch's order
(input, target): values and gradients against torch.nn.functional in float32 for every reduction,
class weights, ignore_index, label smoothing, (N, C, d1, ...) and unbatched inputs; gradcheck;
shape errors where torch would broadcast."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, away_from_zero, normal, require_torch, torch
from shenjing import F

N, C = 6, 4
REDUCTIONS = ["mean", "sum", "none"]


def _tf():
    return torch.nn.functional


# -- element-wise losses ---------------------------------------------------------------------------
def _regression(shape):
    def make(rng):
        target = normal(rng, shape)
        return [target + away_from_zero(rng, shape), target]  # |input - target| >= 0.1: no kink

    return make


def _probabilities(shape):
    def make(rng):
        return [rng.uniform(0.05, 0.95, shape), rng.choice([0.0, 1.0, 0.3], shape)]

    return make


def _logits(shape):
    def make(rng):
        return [3 * normal(rng, shape), rng.uniform(0.0, 1.0, shape)]

    return make


# name: (op name, options, input maker, gradient inputs compared with torch)
ELEMENTWISE = {
    "mse_loss": ("mse_loss", {}, _regression, None),
    "l1_loss": ("l1_loss", {}, _regression, None),
    "huber_loss": ("huber_loss", {}, _regression, None),
    "huber_loss_delta": ("huber_loss", {"delta": 0.6}, _regression, None),
    "smooth_l1_loss": ("smooth_l1_loss", {}, _regression, None),
    "smooth_l1_loss_beta": ("smooth_l1_loss", {"beta": 0.6}, _regression, None),
    "smooth_l1_loss_beta_0": ("smooth_l1_loss", {"beta": 0.0}, _regression, None),
    # torch cannot differentiate binary_cross_entropy in its target
    "binary_cross_entropy": ("binary_cross_entropy", {}, _probabilities, [0]),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits", {}, _logits, None),
}


@pytest.mark.parametrize("shape", [(N,), (N, C), (2, 3, C)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(ELEMENTWISE))
def test_elementwise_loss_matches_torch(case, reduction, shape, rng):
    name, options, make, wrt = ELEMENTWISE[case]
    assert_same_as_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **options),
                         make(shape)(rng),
                         lambda x, t: getattr(_tf(), name)(x, t, reduction=reduction, **options),
                         wrt=wrt)


@pytest.mark.parametrize("case", list(ELEMENTWISE))
def test_elementwise_loss_gradcheck(case, rng):
    name, options, make, _ = ELEMENTWISE[case]
    x, t = make((N, C))(rng)
    if name == "binary_cross_entropy":  # a target stepped past 0 or 1 is refused, as torch's
        t = np.clip(t, 1e-3, 1 - 1e-3)
    assert shenjing.gradcheck(lambda x, t: getattr(F, name)(x, t, **options), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, options", [("mse_loss", {}), ("l1_loss", {}),
                                           ("huber_loss", {"delta": 0.6})])
def test_torch_2_13_element_weight_matches_torch(name, options, reduction, rng):
    """torch 2.13's weight=: per element; 'mean' divides by the summed weights for mse/l1,
    by the number of elements for huber. Gradients for input, target and weight."""
    inputs = [*_regression((N, C))(rng), rng.uniform(0.2, 2.0, (N, C))]
    assert_same_as_torch(
        lambda x, t, w: getattr(F, name)(x, t, reduction=reduction, weight=w, **options), inputs,
        lambda x, t, w: getattr(_tf(), name)(x, t, reduction=reduction, weight=w, **options))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) must have the input's shape"):
        getattr(F, name)(shenjing.tensor(inputs[0]), inputs[1], weight=np.ones(C))


@pytest.mark.parametrize("call, match", [
    (lambda f, x, t: f.smooth_l1_loss(x, t, beta=-1.0), "beta must be >= 0"),
    (lambda f, x, t: f.huber_loss(x, t, delta=-1.0), "delta must be > 0"),
    (lambda f, x, t: f.huber_loss(x, t, delta=0.0), "delta must be > 0"),
])
def test_an_argument_torch_refuses_is_refused(call, match):
    th = require_torch()
    x, t = np.array([0.0, 3.0], np.float32), np.array([1.0, 0.0], np.float32)
    with pytest.raises(RuntimeError, match="does not support"):
        call(th.nn.functional, th.tensor(x), th.tensor(t))
    with pytest.raises(ValueError, match=match):
        call(F, shenjing.tensor(x), t)


@pytest.mark.parametrize("weight_shape", [(C,), (N, C), (N, 1)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_weight_matches_torch(name, reduction, weight_shape, rng):
    make = _probabilities if name == "binary_cross_entropy" else _logits
    inputs = [*make((N, C))(rng), rng.uniform(0.2, 2.0, weight_shape)]
    assert_same_as_torch(
        lambda x, t, w: getattr(F, name)(x, t, w, reduction=reduction), inputs,
        lambda x, t, w: getattr(_tf(), name)(x, t, w, reduction=reduction), wrt=[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pos_weight_matches_torch(reduction, rng):
    inputs = [*_logits((N, C))(rng), rng.uniform(0.2, 3.0, C), rng.uniform(0.2, 2.0, N)[:, None]]

    def ours(x, t, pw, w):
        return F.binary_cross_entropy_with_logits(x, t, w, reduction=reduction, pos_weight=pw)

    def theirs(x, t, pw, w):
        return _tf().binary_cross_entropy_with_logits(x, t, w, reduction=reduction,
                                                      pos_weight=pw)

    assert_same_as_torch(ours, inputs, theirs, wrt=[0, 1])
    x, t, pw, _ = inputs
    assert shenjing.gradcheck(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), x, t)


def test_binary_cross_entropy_clips_as_keras_where_torch_clamps_the_log():
    """A deliberate difference: probabilities are clipped to [1e-7, 1 - 1e-7] (Keras), so a
    certain mistake costs -ln(1e-7), not torch's 100."""
    got = F.binary_cross_entropy(shenjing.tensor([0.0, 1.0]), np.array([1.0, 1.0]),
                                 reduction="none")
    np.testing.assert_allclose(got.numpy(), [-np.log(1e-7), 0.0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p, t, which", [
    ([1.3, 0.4], [1.0, 0.0], "input"),    # a logit passed by mistake trained silently
    ([0.3, np.nan], [1.0, 0.0], "input"),
    ([0.3, 0.4], [1.5, -0.5], "target"),
])
def test_binary_cross_entropy_refuses_values_outside_0_1_as_torch(p, t, which):
    torch = require_torch()
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
    with pytest.raises(ValueError, match=f"the {which} must lie in \\[0, 1\\]"):
        F.binary_cross_entropy(shenjing.tensor(p), np.array(t))


# -- cross_entropy and nll_loss --------------------------------------------------------------------
def _class_ids(rng, shape, ignore=None):
    ids = rng.integers(0, C, shape)
    if ignore is not None:
        ids.flat[::3] = ignore  # every third position ignored
    return ids


CLASS_SHAPES = {"N,C": (N, C), "N,C,d1,d2": (2, C, 3, 2)}
CLASS_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore_index": {"ignore_index": -100},
    "ignore_index_2": {"ignore_index": 2},  # a real class id may be the one ignored
    "smoothing": {"label_smoothing": 0.15},
    "all": {"weight": True, "ignore_index": -100, "label_smoothing": 0.2},
}


def _class_case(rng, shape, options, log_probs=False):
    """Inputs and keyword arguments (weight as an input) for one class-loss case."""
    x = 2 * normal(rng, shape)
    if log_probs:
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    ignore = options.get("ignore_index")
    ids = _class_ids(rng, shape[:1] + shape[2:], ignore)
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    inputs = [x, ids] + ([rng.uniform(0.3, 2.0, C)] if options.get("weight") else [])
    return inputs, kwargs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", list(CLASS_OPTIONS))
@pytest.mark.parametrize("shape", list(CLASS_SHAPES))
def test_cross_entropy_with_class_ids_matches_torch(shape, options, reduction, rng):
    inputs, kwargs = _class_case(rng, CLASS_SHAPES[shape], CLASS_OPTIONS[options])
    assert_same_as_torch(lambda x, t, *w: F.cross_entropy(x, t, *w, reduction=reduction, **kwargs),
                         inputs,
                         lambda x, t, *w: _tf().cross_entropy(x, t, *w, reduction=reduction,
                                                              **kwargs),
                         wrt=[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [o for o in CLASS_OPTIONS if "smoothing" not in o
                                     and o != "all"] + ["weight_and_ignore"])
@pytest.mark.parametrize("shape", list(CLASS_SHAPES))
def test_nll_loss_matches_torch(shape, options, reduction, rng):
    chosen = CLASS_OPTIONS.get(options, {"weight": True, "ignore_index": -100})
    inputs, kwargs = _class_case(rng, CLASS_SHAPES[shape], chosen, log_probs=True)
    assert_same_as_torch(lambda x, t, *w: F.nll_loss(x, t, *w, reduction=reduction, **kwargs),
                         inputs,
                         lambda x, t, *w: _tf().nll_loss(x, t, *w, reduction=reduction, **kwargs),
                         wrt=[0])


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"weight": True}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", list(CLASS_SHAPES))
def test_cross_entropy_with_probabilities_matches_torch(shape, reduction, options, rng):
    shape = CLASS_SHAPES[shape]
    soft = rng.uniform(0.0, 1.0, shape)
    inputs = [2 * normal(rng, shape), soft / soft.sum(axis=1, keepdims=True)]
    inputs += [rng.uniform(0.3, 2.0, C)] if options.get("weight") else []
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    assert_same_as_torch(lambda x, t, *w: F.cross_entropy(x, t, *w, reduction=reduction, **kwargs),
                         inputs,
                         lambda x, t, *w: _tf().cross_entropy(x, t, *w, reduction=reduction,
                                                              **kwargs),
                         wrt=[0, 1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss", "cross_entropy_probabilities"])
def test_unbatched_input_matches_torch(op, reduction, rng):
    x, target = 2 * normal(rng, (C,)), np.array(2)
    if op == "cross_entropy_probabilities":
        op, target = "cross_entropy", rng.dirichlet(np.ones(C))
    assert_same_as_torch(lambda x, t: getattr(F, op)(x, t, reduction=reduction), [x, target],
                         lambda x, t: getattr(_tf(), op)(x, t, reduction=reduction), wrt=[0])


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_losses_gradcheck(op, rng):
    inputs, kwargs = _class_case(rng, (2, C, 3), CLASS_OPTIONS["all"] if op == "cross_entropy"
                                 else {"weight": True, "ignore_index": -100})
    x, ids, w = inputs
    assert shenjing.gradcheck(lambda x: getattr(F, op)(x, ids, w, **kwargs), x)
    assert shenjing.gradcheck(lambda x: F.cross_entropy(x, ids[:, 0].clip(0)), x[:, :, 0])
    soft = rng.uniform(0.1, 1.0, x.shape)
    assert shenjing.gradcheck(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), x, soft)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "ignore_index_2"])
@pytest.mark.parametrize("shape", list(CLASS_SHAPES))
def test_cross_entropy_with_masked_logits_matches_torch(shape, options, reduction, rng):
    """-inf logits (masked classes) other than the target's add nothing, as torch: not
    0 * -inf = NaN on the paths that are not the fused (N, C) one."""
    inputs, kwargs = _class_case(rng, CLASS_SHAPES[shape], CLASS_OPTIONS[options])
    x, ids = inputs[:2]
    classes = np.arange(C).reshape((1, C) + (1,) * (x.ndim - 2))
    x[(classes != np.expand_dims(ids, 1)) & (rng.random(x.shape) < 0.4)] = -np.inf
    assert_same_as_torch(lambda x, t, *w: F.cross_entropy(x, t, *w, reduction=reduction, **kwargs),
                         inputs,
                         lambda x, t, *w: _tf().cross_entropy(x, t, *w, reduction=reduction,
                                                              **kwargs),
                         wrt=[0])


def test_all_ignored_mean_is_nan_as_torch(rng):
    th = require_torch()
    x, ids = normal(rng, (N, C)).astype(np.float32), np.full(N, -100)
    for op in ("cross_entropy", "nll_loss"):
        ours = getattr(F, op)(shenjing.tensor(x), ids)
        theirs = getattr(th.nn.functional, op)(th.tensor(x), th.tensor(ids))
        assert np.isnan(ours.item()) and np.isnan(theirs.item())
        assert getattr(F, op)(shenjing.tensor(x), ids, reduction="sum").item() == 0.0


def test_cross_entropy_on_class_ids_is_the_fused_keras_op(rng):
    """(N, C) logits with plain class ids take the training hot path: the one fused op that
    sparse_categorical_crossentropy uses, with the same value and gradient."""
    logits, ids = 2 * normal(rng, (N, C)), rng.integers(0, C, N)
    ours, keras = (shenjing.tensor(logits, requires_grad=True) for _ in range(2))
    loss = F.cross_entropy(ours, ids)
    assert type(loss._creator).__name__ == "_SparseSoftmaxCrossEntropy"
    loss.backward()
    F.sparse_categorical_crossentropy(ids, keras, from_logits=True).backward()
    assert loss.item() == F.sparse_categorical_crossentropy(ids, keras, from_logits=True).item()
    np.testing.assert_array_equal(ours.grad.numpy(), keras.grad.numpy())


def test_nll_loss_ignores_minus_infinity_log_probabilities_of_other_classes():
    log_probs = shenjing.tensor([[0.0, -np.inf], [-np.inf, 0.0]], requires_grad=True)
    loss = F.nll_loss(log_probs, np.array([0, 1]))
    loss.backward()
    assert loss.item() == 0.0 and np.all(np.isfinite(log_probs.grad.numpy()))


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_elementwise_mismatched_shapes_raise_where_torch_broadcasts(name):
    x, t = shenjing.tensor(np.full((4, 1), 0.5)), np.zeros(4)
    with pytest.raises(ValueError) as info:
        getattr(F, name)(x, t)
    assert name in str(info.value) and "(4,)" in str(info.value) and "(4, 1)" in str(info.value)


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("target, message", [
    (np.zeros((N, 1), int), "does not match"),  # torch: (N,) only
    (np.zeros(N + 1, int), "does not match"),
    (np.zeros((2, N), int), "does not match"),
    (np.array([0, 1, 2, 3, 4, 0]), "must lie in"),
    (np.array([0, 1, 2, -1, 0, 0]), "must lie in"),  # -1 is not the ignore_index
], ids=["n1", "too_many", "transposed", "too_large", "negative"])
def test_class_losses_bad_targets_raise(op, target, message):
    with pytest.raises(ValueError, match=message):
        getattr(F, op)(shenjing.tensor(np.zeros((N, C))), target)


def test_bad_weights_probabilities_inputs_and_reductions_raise():
    x = shenjing.tensor(np.zeros((N, C)))
    ids = np.zeros(N, int)
    with pytest.raises(ValueError, match="one value per class"):
        F.cross_entropy(x, ids, np.ones(C + 1))
    with pytest.raises(ValueError, match="one value per class"):
        F.nll_loss(x, ids, np.ones((1, C)))
    with pytest.raises(ValueError, match="shape"):
        F.cross_entropy(x, np.full((N, C + 1), 0.2))  # probabilities of another shape
    with pytest.raises(ValueError, match="input must be"):
        F.cross_entropy(shenjing.tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy(x, np.zeros((N, C)), np.ones((2, N, C)))
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy_with_logits(x, np.zeros((N, C)), np.ones(C + 1))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(x, np.zeros((N, C)), pos_weight=np.ones((3, N, C)))
    for op, target in [("cross_entropy", ids), ("mse_loss", np.zeros((N, C)))]:
        with pytest.raises(ValueError, match="reduction"):
            getattr(F, op)(x, target, reduction="avg")
