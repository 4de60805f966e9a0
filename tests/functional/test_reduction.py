"""Reductions over any axes, with keepdims: sum, mean, max, min, var, std, logsumexp, norm."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, distinct, normal, require_torch, torch
from shenjing import F


def _dims(axis, ndim):
    """torch's `dim` for a NumPy `axis` (torch's amax/var want every axis spelled out)."""
    return tuple(range(ndim)) if axis is None else axis


# name: (shenjing op, torch op taking (t, dim, keepdim), sampler). max/min get distinct values
# (no ties); torch.var/std default to ddof=1, so the correction is passed explicitly.
REDUCTIONS = {
    "sum": (F.sum, lambda t, d, k: t.sum(dim=d, keepdim=k), normal),
    "mean": (F.mean, lambda t, d, k: t.mean(dim=d, keepdim=k), normal),
    "max": (F.max, lambda t, d, k: torch.amax(t, dim=d, keepdim=k), distinct),
    "min": (F.min, lambda t, d, k: torch.amin(t, dim=d, keepdim=k), distinct),
    "var": (F.var, lambda t, d, k: torch.var(t, dim=d, keepdim=k, correction=0), normal),
    "var_ddof1": (lambda x, axis, keepdims: F.var(x, axis, keepdims, ddof=1),
                  lambda t, d, k: torch.var(t, dim=d, keepdim=k, correction=1), normal),
    "std": (F.std, lambda t, d, k: torch.std(t, dim=d, keepdim=k, correction=0), normal),
    "std_ddof1": (lambda x, axis, keepdims: F.std(x, axis, keepdims, ddof=1),
                  lambda t, d, k: torch.std(t, dim=d, keepdim=k, correction=1), normal),
    "logsumexp": (F.logsumexp, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k), normal),
}
# the vector p-norms (torch.linalg.vector_norm); inf takes distinct values (no tied maxima)
for _p, _sample in ((2, normal), (1, normal), (3, normal), (np.inf, distinct)):
    REDUCTIONS[f"norm{_p}"] = (
        lambda x, axis, keepdims, p=_p: F.norm(x, p, axis, keepdims),
        lambda t, d, k, p=_p: torch.linalg.vector_norm(t, ord=p, dim=d, keepdim=k), _sample)

SHAPE = (2, 3, 4)
AXES = [None, 0, -1, (0, 2), (-2, -1), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck(name, axis, keepdims, rng):
    op, _, sample = REDUCTIONS[name]
    assert shenjing.gradcheck(lambda x: op(x, axis, keepdims), sample(rng, SHAPE))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_matches_torch(name, axis, keepdims, rng):
    op, torch_op, sample = REDUCTIONS[name]
    assert_same_as_torch(
        lambda x: op(x, axis, keepdims),
        [sample(rng, SHAPE)],
        lambda t: torch_op(t, _dims(axis, len(SHAPE)), keepdims),
    )


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std"])
def test_reduction_forward_matches_numpy(name, axis, keepdims, rng):
    x = distinct(rng, SHAPE).astype(np.float32)
    y = REDUCTIONS[name][0](shenjing.tensor(x), axis, keepdims)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert y.dtype == np.float32
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "logsumexp"])
def test_reduction_of_scalar_is_identity_like(name):
    x = shenjing.tensor(1.5, requires_grad=True)
    y = REDUCTIONS[name][0](x, None, False)
    assert y.shape == ()
    y.backward()
    assert x.grad.item() == 1.0


def test_reduction_tensor_methods_match_functions(rng):
    x = shenjing.tensor(normal(rng, SHAPE))
    for name in ["sum", "mean", "max", "min", "var", "std", "logsumexp"]:
        np.testing.assert_array_equal(getattr(x, name)(axis=1).numpy(),
                                      getattr(F, name)(x, axis=1).numpy())


# -- ties, stability, errors -----------------------------------------------------------------------

TIES = {
    # name: (op, torch op, input with ties, expected gradient of .sum() over axis 1). Like
    # torch.amax / amin, ties share the gradient evenly (torch.max(dim) gives it to one index).
    "max": (F.max, lambda t: torch.amax(t, dim=1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]],
            [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]),
    "min": (F.min, lambda t: torch.amin(t, dim=1), [[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]],
            [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]),
}


@pytest.mark.parametrize("name", TIES)
def test_max_ties_split_evenly(name):
    op, _, tied, expected = TIES[name]
    x = shenjing.tensor(tied, requires_grad=True)
    op(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-7)


@pytest.mark.parametrize("name", TIES)
def test_max_ties_match_torch_amax(name):
    op, torch_op, tied, _ = TIES[name]
    assert_same_as_torch(lambda x: op(x, axis=1), [np.array(tied)], torch_op)


def test_logsumexp_is_stable_for_large_logits():
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4]])
    assert_same_as_torch(lambda t: F.logsumexp(t, axis=1),
                         [x], lambda t: torch.logsumexp(t, dim=1))
    y = F.logsumexp(shenjing.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(y, [1e4 + np.log1p(np.exp(-1.0)), -1e4 + np.log(3.0)], rtol=1e-6)


def test_logsumexp_of_all_minus_inf_is_minus_inf_with_a_zero_gradient():
    """An all -inf slice (a row with nothing to pick, masked with -inf) gives -inf and a
    gradient of 0, as JAX's (torch's is NaN), without a warning; other rows are untouched."""
    x = shenjing.tensor([[-np.inf, -np.inf], [0.0, np.log(3.0)]], requires_grad=True)
    y = F.logsumexp(x, axis=1)
    assert y.numpy()[0] == -np.inf
    with np.errstate(invalid="raise"):
        y.backward(shenjing.tensor([1.0, 1.0]), retain_graph=True)
        (recorded,) = shenjing.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [0.25, 0.75]], rtol=1e-6)
    np.testing.assert_allclose(recorded.numpy(), x.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_with_too_few_elements_raises(name):
    with pytest.raises(ValueError, match="ddof"):
        getattr(F, name)(shenjing.tensor([1.0, 2.0]), ddof=2)


@pytest.mark.parametrize("axis", [3, -4, (0, 3)], ids=str)
def test_reduction_axis_out_of_range_raises(axis):
    with pytest.raises(ValueError, match="out of range"):
        F.sum(shenjing.tensor(np.zeros(SHAPE)), axis=axis)


def test_std_gradient_is_zero_on_a_constant_slice_as_torch():
    # sqrt's derivative at 0 would make it 0 / 0 = NaN and poison every weight upstream
    torch_ = require_torch()
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], np.float32)
    for ddof in (0, 1):
        t = shenjing.tensor(x, requires_grad=True)
        F.std(t, axis=1, ddof=ddof).sum().backward()
        ref = torch_.tensor(x, requires_grad=True)
        ref.std(dim=1, correction=ddof).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), ref.grad.numpy(), atol=1e-6)
        assert np.all(t.grad.numpy()[0] == 0)


@pytest.mark.parametrize("p", [1, 2, 3, np.inf, "fro"])
def test_norm_gradient_at_the_zero_vector_is_zero_as_torch(p):
    x = shenjing.zeros(2, 3, requires_grad=True)
    y = x.norm(p, dim=1)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    th = require_torch()
    t = th.zeros(2, 3, requires_grad=True)
    th.linalg.vector_norm(t, ord=2 if p == "fro" else p, dim=1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros((2, 3)))


def test_norm_is_a_method_a_function_and_a_torch_module_function():
    x = shenjing.tensor([[3.0, -4.0], [0.0, 1.0]])
    for y in (x.norm(), F.norm(x), shenjing.norm(x)):
        assert y.item() == pytest.approx(26.0 ** 0.5)
    np.testing.assert_allclose(x.norm(1, dim=0, keepdim=True).numpy(), [[3.0, 5.0]])


@pytest.mark.parametrize("p", [0.5, 3])
def test_norm_gradient_at_a_zero_element_of_a_nonzero_vector_is_zero_as_torch(p):
    # p < 1: |x|**(p-1) is inf at x = 0, and sign(0) * inf would be NaN
    th = require_torch()
    x = np.array([[3.0, 0.0, -4.0]], np.float32)
    t = shenjing.tensor(x, requires_grad=True)
    F.norm(t, p, dim=1).sum().backward()
    ref = th.tensor(x, requires_grad=True)
    th.linalg.vector_norm(ref, ord=p, dim=1).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), ref.grad.numpy(), rtol=1e-5)


def test_norm_takes_numpy_orders():  # p from an array or a config: np.int64(2), np.float32(1)
    x = shenjing.tensor([3.0, -4.0])
    assert F.norm(x, np.int64(2)).item() == pytest.approx(5.0)
    assert F.norm(x, np.float32(1)).item() == pytest.approx(7.0)


@pytest.mark.parametrize("p", [0, -1, "nuc", "2", True, np.nan])
def test_norm_of_an_unsupported_order_is_a_clear_error(p):
    with pytest.raises(ValueError, match="norm: p must be"):
        F.norm(shenjing.tensor([1.0]), p)


def test_a_nan_maximum_sends_the_gradient_to_the_nans():
    """max/min of a slice holding NaN is NaN, which no entry equals: its gradient goes to the
    slice's NaNs (as torch's x.max()), not 0 / 0 = NaN everywhere; other slices are unchanged."""
    torch = require_torch()
    x0 = np.array([[1.0, np.nan, 3.0], [1.0, 5.0, 5.0], [np.nan, 2.0, np.nan]], np.float32)
    x = shenjing.tensor(x0, requires_grad=True)
    F.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]])
    x = shenjing.tensor(x0[0], requires_grad=True)
    x.max().backward()
    t = torch.tensor(x0[0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("name, expected", [("mean", 1.0), ("var", 0.25), ("std", 0.5),
                                            ("norm", 2.0 * np.sqrt(70_000))])
def test_float16_reductions_accumulate_in_float32(name, expected):
    """70,000 float16 values sum past float16's largest (65,504) though their mean, variance
    and norm fit: those sums run in float32 (as NumPy's mean and torch do) and the result is
    float16 again, not inf."""
    values = np.where(np.arange(70_000) % 2 == 0, 0.5, 1.5) if name in ("var", "std") else (
        np.full(70_000, 2.0 if name == "norm" else 1.0))
    y = getattr(F, name)(shenjing.tensor(values, dtype="float16"))
    assert y.dtype == np.float16
    np.testing.assert_allclose(float(y.numpy()), expected, rtol=2e-3)


def test_float16_variance_squares_its_deviations_in_float32():
    """A deviation of 300 squares past float16's largest, though the variance (882) fits."""
    x = np.zeros((2, 101), np.float16)
    x[:, 0] = 300
    y = F.var(shenjing.tensor(x, dtype="float16"), axis=1)
    np.testing.assert_allclose(y.numpy().astype(np.float64), x.astype(np.float64).var(axis=1),
                               rtol=2e-3)


def test_float16_sums_add_up_in_float32_as_torch():
    """5,000 ones: float16 alone stalls at 2048 (2048 + 1 rounds to 2048); torch adds half in
    float32, and so do sum, cumsum and a broadcast gradient's reduction here."""
    ones = shenjing.tensor(np.ones((5000, 2), np.float16), dtype=shenjing.float16)
    assert F.sum(ones, axis=0).numpy().tolist() == [5000, 5000]
    assert ones.cumsum(0).numpy()[-1].tolist() == [5000, 5000]
    bias = shenjing.tensor(np.zeros((1, 2), np.float16), dtype=shenjing.float16,
                           requires_grad=True)
    (ones + bias).sum().backward()
    assert bias.grad.dtype == np.float16 and bias.grad.numpy().tolist() == [[5000, 5000]]
    wide = shenjing.tensor((np.random.default_rng(0).standard_normal(1000) * 1000)
                           .astype(np.float16), dtype=shenjing.float16)
    assert np.isfinite(F.std(wide).item())  # its variance, ~1e6, is inf in float16


@pytest.mark.parametrize("values", [[3e19, 1.0, 2.0, 3.0], [1e-30, -1e-30, 0.0, 0.0]])
def test_float32_var_and_std_square_in_double_as_torch(values):
    """Squares of a spread of 3e19 overflowed float32 (std inf, gradient 0) and of 1e-30
    vanished (std 0): torch's CPU accumulates in double; so does the host path now."""
    torch = require_torch()
    for name in ("std", "var"):
        x = shenjing.tensor(np.array(values, np.float32), requires_grad=True)
        t = torch.tensor(values, dtype=torch.float32, requires_grad=True)
        y, want = getattr(F, name)(x), getattr(torch, name)(t, unbiased=False)
        y.backward()
        want.backward()
        assert np.isfinite(y.numpy()) and y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), want.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5)
