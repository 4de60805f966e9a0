"""shenjing.nn.functional against torch.nn.functional, called the same way on the same float32
values: normalizations (with torch's running-statistics updates), pad, embedding, dropout,
losses in (input, target) order, similarities and attention; and the lazy ``shenjing.nn``."""

from __future__ import annotations

import numpy as np
import pytest
from torch_pair import same

import shenjing
import shenjing.nn.functional as SF
from oracle import away_from_zero, normal, positive, require_torch


# -- batch norm -----------------------------------------------------------------------------------
def _running_stats(module, like, rng_seed=3):
    rng = np.random.default_rng(rng_seed)
    mean = rng.standard_normal(like).astype(np.float32)
    var = rng.uniform(0.5, 2.0, like).astype(np.float32)
    return module.tensor(mean), module.tensor(var)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_in_torch_argument_order(shape, training, affine, rng):
    th = require_torch()
    stats = {}

    def call(F, x, *wb):
        module = shenjing if F is SF else th
        rm, rv = _running_stats(module, (shape[1],))
        stats[module.__name__] = (rm, rv)
        # torch's order: (input, running_mean, running_var, weight, bias, training, momentum, eps)
        return F.batch_norm(x, rm, rv, *(wb or (None, None)), training, 0.1, 1e-5)

    inputs = [normal(rng, shape)] + ([normal(rng, (3,)), normal(rng, (3,))] if affine else [])
    same(call, *inputs, atol=1e-4)
    for ours, theirs in zip(stats["shenjing"], stats["torch"]):  # running stats, unbiased var
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_defaults_and_no_running_stats(rng):
    th = require_torch()
    x = normal(rng, (5, 2, 3)).astype(np.float32)
    ours = SF.batch_norm(shenjing.tensor(x), None, None, training=True)
    theirs = th.nn.functional.batch_norm(th.tensor(x), None, None, training=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    rm, rv = shenjing.zeros(2), shenjing.ones(2)
    trm, trv = th.zeros(2), th.ones(2)
    for _ in range(3):  # default momentum 0.1, eps 1e-5; defaults to inference
        SF.batch_norm(shenjing.tensor(x), rm, rv, training=True)
        th.nn.functional.batch_norm(th.tensor(x), trm, trv, training=True)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5)
    np.testing.assert_allclose(SF.batch_norm(shenjing.tensor(x), rm, rv).numpy(),
                               th.nn.functional.batch_norm(th.tensor(x), trm, trv).numpy(),
                               atol=1e-5)


# -- layer, group, instance norm, normalize -------------------------------------------------------
@pytest.mark.parametrize(("shape", "normalized"), [((4, 6), (6,)), ((2, 3, 4), (3, 4)),
                                                   ((2, 3, 4), [4])])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized, affine, rng):
    norm_shape = tuple(normalized)
    inputs = [normal(rng, shape)] + ([normal(rng, norm_shape)] * 2 if affine else [])
    same(lambda F, x, *wb: F.layer_norm(x, normalized, *wb), *inputs, atol=1e-4)


@pytest.mark.parametrize("affine", [True, False])
def test_group_and_instance_norm_match_torch(affine, rng):
    inputs = [normal(rng, (2, 6, 3, 4))] + ([normal(rng, (6,)), normal(rng, (6,))] if affine
                                            else [])
    same(lambda F, x, *wb: F.group_norm(x, 3, *wb), *inputs, atol=1e-4)
    same(lambda F, x, *wb: F.instance_norm(x, None, None, *wb), *inputs, atol=1e-4)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0, "dim": -1}, {"dim": 0}])
def test_normalize_matches_torch(kwargs, rng):
    same(lambda F, t: F.normalize(t, **kwargs), away_from_zero(rng, (4, 5)))


# -- pad ------------------------------------------------------------------------------------------
PADS = [
    ((2, 3, 4), (1, 2), "constant", None),  # last axis only: not NumPy's first-axis-first
    ((2, 3, 4, 5), (1, 1, 2, 0), "constant", 2.5),
    ((2, 3, 4, 5), (-1, 2, 0, -2), "constant", None),  # negative pads crop
    ((2, 3, 4, 5), (2, 1, 1, 3), "reflect", None),
    ((2, 3, 6), (3, 2), "reflect", None),
    ((2, 3, 4, 5), (2, 1, 1, 3), "replicate", None),
    ((2, 3, 4, 5), (2, 1, 1, 3), "circular", None),
]


@pytest.mark.parametrize(("shape", "pads", "mode", "value"), PADS)
def test_pad_takes_torch_pairs(shape, pads, mode, value, rng):
    kwargs = {} if value is None else {"value": value}
    same(lambda F, t: F.pad(t, pads, mode=mode, **kwargs), normal(rng, shape))


# -- embedding, one_hot ---------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx, rng):
    ids = np.array([[0, 2, 4], [2, 1, 4]])
    same(lambda F, i, w: F.embedding(i, w, padding_idx=padding_idx), ids, normal(rng, (5, 3)))


@pytest.mark.parametrize("options", [
    {"scale_grad_by_freq": True}, {"scale_grad_by_freq": True, "padding_idx": 2},
    {"max_norm": 1.5}, {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True},
])
def test_embedding_max_norm_and_scale_grad_by_freq_match_torch(options, rng):
    """Both raised NotImplementedError: the gradient of a row used k times is divided by k;
    max_norm renormalizes the looked-up rows in the weight itself before the lookup."""
    th = require_torch()
    weight = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    ids = np.array([[1, 2, 1, 0], [5, 1, 2, 2]])
    grad = rng.standard_normal((2, 4, 4)).astype(np.float32)
    ours, theirs = shenjing.tensor(weight, requires_grad=True), th.tensor(weight,
                                                                          requires_grad=True)
    y = SF.embedding(shenjing.tensor(ids), ours, **options)
    t = th.nn.functional.embedding(th.tensor(ids), theirs, **options)
    (y * shenjing.tensor(grad)).sum().backward()
    (t * th.tensor(grad)).sum().backward()
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_one_hot_matches_torch():
    th = require_torch()
    ids = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        np.testing.assert_array_equal(SF.one_hot(shenjing.tensor(ids), n).numpy(),
                                      th.nn.functional.one_hot(th.tensor(ids), n).numpy())


# -- dropout --------------------------------------------------------------------------------------
def test_dropout_defaults_to_training_and_scales_survivors():
    x = shenjing.ones(200, 100)
    y = SF.dropout(x).numpy()  # p=0.5, training=True: torch's defaults
    assert set(np.unique(y)) == {0.0, 2.0} and abs((y == 0).mean() - 0.5) < 0.02
    assert SF.dropout(x, 0.3, training=False) is x or np.array_equal(
        SF.dropout(x, 0.3, training=False).numpy(), x.numpy())
    maps = SF.dropout2d(shenjing.ones(8, 16, 3, 3), p=0.5).numpy()
    assert (maps.reshape(8, 16, 9).std(axis=2) == 0).all()  # whole channels kept or dropped


# -- losses ---------------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_in_torch_order(name, reduction, rng):
    target = normal(rng, (4, 3))
    inputs = [target + away_from_zero(rng, (4, 3)) * 2, target]
    same(lambda F, x, t: getattr(F, name)(x, t, reduction=reduction), *inputs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_with_weights(reduction, rng):
    probs = rng.uniform(0.05, 0.95, (4, 3))
    target = rng.uniform(0, 1, (4, 3))
    weight = positive(rng, (3,))
    same(lambda F, p, t, w: F.binary_cross_entropy(p, t, w, reduction=reduction),
         probs, target, weight, wrt=[0])
    same(lambda F, x, t, w, pw: F.binary_cross_entropy_with_logits(
        x, t, w, reduction=reduction, pos_weight=pw), normal(rng, (4, 3)), target, weight,
        positive(rng, (3,)), wrt=[0])


def test_class_losses_are_shenjings_torch_named_ones(rng):
    assert SF.cross_entropy is shenjing.F.cross_entropy and SF.nll_loss is shenjing.F.nll_loss
    labels = np.array([0, 2, 1, 2])
    same(lambda F, x, y: F.cross_entropy(x, y, label_smoothing=0.1), normal(rng, (4, 3)), labels)
    same(lambda F, x, y: F.nll_loss(F.log_softmax(x, dim=1), y), normal(rng, (4, 3)), labels)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target, rng):
    probs = rng.dirichlet(np.ones(5), 4)
    probs[0, 1] = 0.0  # a zero target adds nothing (xlogy(0, 0) = 0)
    target = np.log(probs + 1e-3) if log_target else probs
    call = lambda F, x, t: F.kl_div(F.log_softmax(x, dim=1), t, reduction=reduction,  # noqa: E731
                                    log_target=log_target)
    # torch's target gradient at a zero target is NaN (log 0); ours is the limit's finite part
    same(call, normal(rng, (4, 5)), target, wrt=[0] if not log_target else None)
    same(call, normal(rng, (4, 5)), np.log(probs + 1e-3) if log_target else probs + 1e-3)


def test_kl_div_mean_warns_as_torch(rng):
    x, t = shenjing.tensor(normal(rng, (2, 3))), shenjing.tensor(rng.dirichlet(np.ones(3), 2))
    with pytest.warns(UserWarning, match="batchmean"):
        SF.kl_div(x, t)


@pytest.mark.parametrize(("shape1", "shape2", "dim"), [((4, 5), (4, 5), 1),
                                                       ((2, 3, 4), (2, 3, 4), -1),
                                                       ((4, 5), (1, 5), 1),
                                                       ((4, 1), (4, 5), 1),  # along dim
                                                       ((5,), (3, 5), 0)])
def test_cosine_similarity_and_pairwise_distance(shape1, shape2, dim, rng):
    same(lambda F, a, b: F.cosine_similarity(a, b, dim=dim), normal(rng, shape1),
         normal(rng, shape2))
    same(lambda F, a, b: F.pairwise_distance(a, b), normal(rng, shape1), normal(rng, shape2))


# -- attention ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(mask, rng):
    q, k, v = normal(rng, (2, 3, 4, 8)), normal(rng, (2, 3, 6, 8)), normal(rng, (2, 3, 6, 5))
    extra = []
    if mask == "bool":
        extra = [rng.uniform(size=(4, 6)) > 0.3]
        extra[0][:, 0] = True  # every query sees a key
    elif mask == "float":
        extra = [normal(rng, (2, 1, 4, 6))]

    def call(F, q, k, v, *m):
        return F.scaled_dot_product_attention(q, k, v, *m, is_causal=mask == "causal",
                                              scale=0.3 if mask == "float" else None)

    same(call, q, k, v, *extra, wrt=[0, 1, 2], atol=1e-4)


# -- the package ----------------------------------------------------------------------------------
def test_nn_is_loaded_lazily_and_reachable_as_torch_nn():
    import subprocess
    import sys

    code = ("import sys, shenjing; print('shenjing.nn' in sys.modules); "
            "import shenjing as torch; f = torch.nn.functional.relu; "
            "import shenjing.nn.functional as F; print(F.relu is f)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_everything_exported_is_a_function():
    assert SF.__all__ and all(callable(getattr(SF, n)) for n in SF.__all__)
    assert {"conv2d", "batch_norm", "pad", "interpolate", "scaled_dot_product_attention"} <= set(
        SF.__all__)


def test_kl_div_batchmean_of_an_empty_batch_is_nan_as_torch():
    empty = np.zeros((0, 3), np.float32)
    assert np.isnan(SF.kl_div(shenjing.tensor(empty), empty, reduction="batchmean").item())


@pytest.mark.parametrize("delta, d", [(1e5, 1e-3), (1e3, 1e-3), (1.0, 1e-7), (1.0, 1.0),
                                      (1.0, -3.0), (2.0, 2.0)])
def test_huber_gradient_inside_a_large_delta_is_exact_as_torch(delta, d):
    """d itself where |d| <= delta (the kink included), delta sign(d) outside: the old form
    delta (|d| - min(|d|, delta)) left delta - delta rounding (0 for delta 1e5, d 1e-3)."""
    same(lambda F, x, t: F.huber_loss(x, t, delta=delta), np.array([d], np.float32),
         np.zeros(1, np.float32), wrt=[0], atol=1e-12, rtol=1e-5)


@pytest.mark.parametrize("additive", [False, True])
def test_sdpa_query_with_no_key_is_zero_without_nan_gradients_as_torch(additive):
    """torch's safe softmax (2.5+): a padded query row gets zeros and no gradient; it was NaN,
    and the NaN reached the gradients of the keys and values though the loss left it out."""
    torch = require_torch()
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=s) for s in [(3, 2), (4, 2), (4, 2)])
    allowed = np.ones((3, 4), bool)
    allowed[2] = False
    mask = np.where(allowed, 0.0, -np.inf) if additive else allowed
    ours = [shenjing.tensor(a, dtype="float64", requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = SF.scaled_dot_product_attention(*ours, attn_mask=mask)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs,
                                                                attn_mask=torch.tensor(mask))
    out[:2].sum().backward()
    expected[:2].sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
