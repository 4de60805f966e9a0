"""Edges where ops once differed from PyTorch (found by auditing ops against torch): dtype
promotion, 0 ** 0, ties of max(dim), empty and 0-d reductions, a loss whose every target is
ignored, and custom Functions that return a tensor they hold as a gradient."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch
from shenjing import F


def _pair(torch, values, dtype=None):
    return sj.tensor(np.asarray(values), dtype=dtype), torch.tensor(np.asarray(values))


@pytest.mark.parametrize("case", [
    lambda m, i, f, d: i * d,       # integer tensor times a 0-d float64: the 0-d's float
    lambda m, i, f, d: f * d,       # float32 times a 0-d float64: float32
    lambda m, i, f, d: f.double() * m.tensor(2.0),  # float64 times a 0-d float32: float64
    lambda m, i, f, d: m.cat([f, i]),
    lambda m, i, f, d: m.stack([f, i]),
    lambda m, i, f, d: m.where(i > 1, i, 0.5),
    lambda m, i, f, d: i.float() @ m.ones(2, 2),
    lambda m, i, f, d: m.exp(i),
    lambda m, i, f, d: m.sigmoid(i),
    lambda m, i, f, d: i.float().var(),
    lambda m, i, f, d: i * 0.5,
    lambda m, i, f, d: i / i,
    lambda m, i, f, d: m.tensor([1, 2], dtype=m.int32) + m.tensor(3),
])
def test_dtype_promotion_follows_torch(case):
    torch = require_torch()
    ours = case(sj, sj.tensor([1, 2]), sj.tensor([1.0, 2.0]), sj.tensor(2.0, dtype=np.float64))
    theirs = case(torch, torch.tensor([1, 2]), torch.tensor([1.0, 2.0]),
                  torch.tensor(2.0, dtype=torch.float64))
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


U8, I8, I32 = (np.array([1, 200], np.uint8), np.array([-100, 100], np.int8),
               np.array([2**20, 2**12], np.int32))


@pytest.mark.parametrize("case", [
    lambda m, u, b, s: u + 1,            # a number never widens an integer tensor: wraps to 201
    lambda m, u, b, s: u - 2,
    lambda m, u, b, s: u * 2,
    lambda m, u, b, s: 300 + u,
    lambda m, u, b, s: u + True,
    lambda m, u, b, s: u + m.tensor(1),  # nor does a 0-d tensor of the same category
    lambda m, u, b, s: u * 2.5,          # a float number: the default float
    lambda m, u, b, s: u / 2,
    lambda m, u, b, s: m.tensor(I8) / 200,  # 200 does not fit int8: divided as given
    lambda m, u, b, s: u // 3 + u % 3,
    lambda m, u, b, s: m.maximum(u, m.tensor(3)),
    lambda m, u, b, s: m.where(b, u, 5),
    lambda m, u, b, s: b + 1,
    lambda m, u, b, s: b + True,
    lambda m, u, b, s: s + 1,            # 0-d int32 and a number: int32
    lambda m, u, b, s: s + m.tensor(1),  # 0-d int32 and 0-d int64: int64
    lambda m, u, b, s: m.tensor(I8) + u,  # uint8 with int8: int16
    lambda m, u, b, s: m.tensor(I32).clamp(2.5, 3000.5),  # float bounds: float32
    lambda m, u, b, s: m.tensor(I32).clamp(m.tensor(2.0), m.tensor(3000.0)),
    lambda m, u, b, s: u.clamp(5),
    lambda m, u, b, s: m.tensor(I32).clamp(max=m.tensor([10, 5000])),
])
def test_numbers_and_small_integers_promote_as_torch(case):
    torch = require_torch()
    results = []
    for m in (sj, torch):
        u, b = m.tensor(U8), m.tensor([True, False])
        s = m.tensor(np.array(7, np.int32))
        results.append(case(m, u, b, s))
    ours, theirs = results
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("reduce", [
    lambda x: x.sum(), lambda x: x.sum(0, keepdim=True), lambda x: x.prod(), lambda x: x.prod(1),
    lambda x: x.cumsum(1), lambda x: x.cumprod(0),
])
def test_integer_sums_and_products_are_int64_as_torch(reduce, dtype):
    # NumPy's uint8 sum is uint64, and int8/int32 products and running sums overflowed
    torch = require_torch()
    values = (np.array([[100, 120, 3], [90, 127, 2]]) if dtype != np.bool_ else
              np.array([[True, False, True], [True, True, False]])).astype(dtype)
    ours, theirs = reduce(sj.tensor(values)), reduce(torch.tensor(values))
    assert ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_clamp_bound_outside_an_integer_dtype_is_an_error_as_torch():
    with pytest.raises(ValueError, match="bound 300 does not fit x's dtype uint8"):
        sj.tensor(U8).clamp(0, 300)


def test_integer_inputs_give_float32_results_not_truncated_or_float64():
    ints = sj.tensor([-3, 2])
    for op in (F.exp, F.log_softmax, F.gelu, F.elu, F.softplus, lambda x: F.leaky_relu(x, 0.2),
               F.mean, F.std):
        out = op(ints)
        assert out.dtype == np.float32, op
    np.testing.assert_allclose(F.leaky_relu(ints, 0.2).numpy(), [-0.6, 2.0], rtol=1e-6)
    assert F.clip(sj.tensor([0.5, 2.0]), np.float64(0), np.float64(1)).dtype == np.float32


def test_pow_base_gradient_is_zero_where_the_exponent_is_zero():
    torch = require_torch()
    x, tx = _pair(torch, [0.0, 1.0, 2.0])
    x.requires_grad_(), tx.requires_grad_()
    powers = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    (x.reshape(3, 1) ** sj.tensor(powers)).sum().backward()
    (tx.reshape(3, 1) ** torch.tensor(powers)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())  # [1, 3, 5], no NaN
    with np.errstate(all="raise"):
        y = sj.tensor([0.0, 2.0], requires_grad=True)
        (y ** 0).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])
    sj.gradcheck(lambda a: a ** sj.tensor([0.0, 2.0, 3.0], dtype=np.float64),
                 sj.tensor([0.5, 1.5, 2.0], dtype=np.float64, requires_grad=True))


def test_max_and_min_along_a_dim_send_a_ties_gradient_to_the_returned_index():
    torch = require_torch()
    rows = [[1.0, 1.0, 0.0], [2.0, 5.0, 5.0]]
    for name, keep in (("max", False), ("min", True), ("max", True)):
        x, tx = _pair(torch, rows)
        x.requires_grad_(), tx.requires_grad_()
        v, i = getattr(x, name)(1, keepdim=keep)
        tv, ti = getattr(tx, name)(1, keepdim=keep)
        (v * sj.tensor([[2.0], [3.0]] if keep else [2.0, 3.0])).sum().backward()
        (tv * torch.tensor([[2.0], [3.0]] if keep else [2.0, 3.0])).sum().backward()
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(v.numpy(), tv.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    x = sj.tensor(rows, requires_grad=True)  # amax (and max with axis=) still share ties
    F.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])


def test_gather_is_torchs_and_take_along_axis_numpys():
    torch = require_torch()
    x, tx = _pair(torch, np.arange(12.0).reshape(3, 4))
    x.requires_grad_(), tx.requires_grad_()
    index = np.array([[0, 0], [3, 1], [2, 2]])
    out, tout = F.gather(x, 1, index), torch.gather(tx, 1, torch.tensor(index))
    out.sum().backward(), tout.sum().backward()
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())  # repeats accumulate
    np.testing.assert_array_equal(F.take_along_axis(x, np.array([[1], [0], [3]]), 1).numpy(),
                                  [[1.0], [4.0], [11.0]])
    with pytest.raises(ValueError, match="integer tensor of x's rank 2"):
        F.gather(x, 1, np.array([0, 1]))


def test_empty_and_zero_d_reductions_follow_torch():
    torch = require_torch()
    empty = sj.zeros(2, 0, requires_grad=True)
    assert F.softmax(empty).shape == F.log_softmax(empty).shape == (2, 0)
    np.testing.assert_array_equal(F.logsumexp(empty, axis=1).numpy(),
                                  torch.logsumexp(torch.zeros(2, 0), 1).numpy())
    F.log_softmax(empty).sum().backward()
    assert empty.grad.shape == (2, 0)
    scalar = sj.tensor(3.0)
    assert float(F.sum(scalar, 0)) == float(F.mean(scalar, -1)) == 3.0
    with pytest.raises(ValueError, match=r"axis \(0, -2\) names an axis twice"):
        F.sum(sj.ones(2, 3), axis=(0, -2))


def test_cross_entropy_with_every_target_ignored_is_nan_with_a_zero_gradient():
    torch = require_torch()
    logits = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x, tx = sj.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, np.full(3, -100))
    tloss = torch.nn.functional.cross_entropy(tx, torch.full((3,), -100))
    loss.backward(), tloss.backward()
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())  # zeros, not NaN
    x64 = sj.tensor(logits, dtype=np.float64)
    smoothed = F.cross_entropy(x64, np.array([0, 1, 2]), label_smoothing=0.1)
    tsmoothed = torch.nn.functional.cross_entropy(torch.tensor(logits, dtype=torch.float64),
                                                  torch.tensor([0, 1, 2]), label_smoothing=0.1)
    assert smoothed.dtype == np.float64
    assert float(smoothed) == pytest.approx(float(tsmoothed), rel=1e-13)


def test_a_custom_functions_gradient_never_shares_memory_with_a_tensor_it_holds():
    class Product(sj.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return b, a  # g is ones here: the saved tensors themselves

    a = sj.tensor([1.0, 2.0], requires_grad=True)
    b = sj.tensor([3.0, 4.0], requires_grad=True)
    Product.apply(a, b).sum().backward()
    b.grad.zero_()
    np.testing.assert_array_equal(a.numpy(), [1.0, 2.0])  # untouched by zeroing b's grad
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_zero_d_results_and_gradients_hold_arrays_that_can_be_written():
    x = sj.ones(2, 3, requires_grad=True)
    w = sj.tensor(2.0, requires_grad=True)
    for y in (x.sum(), x.mean(), F.max(x), x.std(), F.logsumexp(x), x[0, 0], F.norm(x)):
        assert isinstance(y.data, np.ndarray) and y.shape == ()
    for _ in range(2):  # the first gradient, then one accumulated onto it
        (w * x).sum().backward()
        assert isinstance(w.grad.data, np.ndarray)
    assert float(w.grad) == 12.0
    w.grad.data[...] = 0  # torch's p.grad.data.zero_(), spelled on the array
    assert float(w.grad) == 0.0


def test_elu_and_selu_gradients_keep_their_precision_far_below_zero():
    torch = require_torch()
    values = [-30.0, -18.0, -1.0, 2.0]
    for ours, theirs in ((F.elu, torch.nn.functional.elu), (F.selu, torch.nn.functional.selu)):
        x, tx = sj.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        ours(x).sum().backward()
        theirs(tx).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)  # not 0 at -30


# -- found by fuzzing against NumPy and torch (2026-11-27) ----------------------------------------
_X34 = np.arange(12.0, dtype=np.float32).reshape(3, 4)

BAD_ARGUMENTS = {  # each once gave a wrong-sized result or an internal error
    "split into 0 parts": (lambda x: F.split(x, 0, axis=1), "1 or more"),
    "torch split size 0": (lambda x: x.split(0, 1), "must be positive"),
    "flatten start after end": (lambda x: x.flatten(1, 0), "comes after"),
    "narrow past the end": (lambda x: x.narrow(1, 2, 5), "leave dim 1"),
    "narrow from past the end": (lambda x: x.narrow(0, 5, 1), "leave dim 0"),
    "narrow a negative length": (lambda x: x.narrow(1, 0, -1), "leave dim 1"),
    "top_k over the axis length": (lambda x: sj.ops.top_k(x, 5), "k=5 is out of range"),
}
TORCH_INDEX_OPS = {  # torch's index ops: no negative indices (NumPy's take allows them)
    "gather": lambda m, x, i: x.gather(1, m.tensor(np.full((3, 1), i))),
    "index_select": lambda m, x, i: x.index_select(1, m.tensor(np.array([0, i]))),
}


@pytest.mark.parametrize("name", TORCH_INDEX_OPS)
@pytest.mark.parametrize("i", [-1, 4])
def test_torch_index_ops_refuse_indices_outside_the_axis_as_torch(name, i):
    torch = require_torch()
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 4\)"):
        TORCH_INDEX_OPS[name](sj, sj.tensor(_X34), i)
    with pytest.raises((IndexError, RuntimeError)):
        TORCH_INDEX_OPS[name](torch, torch.tensor(_X34), i)


@pytest.mark.parametrize("name", BAD_ARGUMENTS)
def test_arguments_that_name_nothing_are_errors_that_say_so(name):
    fn, message = BAD_ARGUMENTS[name]
    with pytest.raises(ValueError, match=message):
        fn(sj.tensor(_X34))


def test_edges_that_now_match_numpy_and_torch():
    torch = require_torch()
    x, t = sj.tensor(_X34), torch.tensor(_X34)
    # numbers of parts as NumPy integers, and an empty axis split into parts
    assert [p.shape for p in F.split(x, np.int64(2), axis=1)] == [(3, 2), (3, 2)]
    assert [p.shape for p in F.split(sj.zeros((0, 3)), 2)] == [(0, 3), (0, 3)]
    assert [p.shape for p in (x.narrow(1, -2, 2), x.narrow(1, 4, 0))] == [(3, 2), (3, 0)]
    np.testing.assert_array_equal(x.flip(0, 1).numpy(), t.flip(0, 1).numpy())
    np.testing.assert_array_equal(x.flip(dims=(1,)).numpy(), t.flip(dims=(1,)).numpy())
    assert x[[]].shape == (0, 4)  # an empty list picks nothing (it is not a float index)
    assert sj.tensor(5.0).nonzero().shape == tuple(torch.tensor(5.0).nonzero().shape)
    assert sj.tensor(0.0).nonzero().shape == tuple(torch.tensor(0.0).nonzero().shape)
    np.testing.assert_allclose(F.softmax(sj.tensor(1.5)).numpy(), 1.0)  # 0-d, default axis
    empty = sj.zeros((0, 3)).requires_grad_()
    for reduce in (lambda e: e.prod(1), lambda e: sj.ops.median(e, axis=1)):
        assert reduce(empty).shape == (0,)
    ones = empty.prod(0)  # the empty product, recorded: backward reaches the input
    np.testing.assert_array_equal(ones.numpy(), [1, 1, 1])
    ones.sum().backward()
    assert empty.grad.shape == (0, 3)


def test_einsum_gradient_through_a_label_broadcast_from_size_one():
    """'ij,j->i' with a of shape (2, 1) and v of (3,): NumPy broadcasts j; a's gradient sums
    over v's j and v's is the same for every j, as torch's."""
    torch = require_torch()
    rng = np.random.default_rng(0)
    a0, v0 = rng.standard_normal((2, 1)), rng.standard_normal(3)
    a, v = sj.tensor(a0, requires_grad=True), sj.tensor(v0, requires_grad=True)
    sj.ops.einsum("ij,j->i", a, v).sum().backward()
    ta, tv = torch.tensor(a0, requires_grad=True), torch.tensor(v0, requires_grad=True)
    torch.einsum("ij,j->i", ta, tv).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-6)
    assert sj.gradcheck(lambda p, q: sj.ops.einsum("bij,bjk->bik", p, q),
                        rng.standard_normal((1, 2, 3)), rng.standard_normal((4, 3, 2)))



@pytest.mark.parametrize("spec, shapes", [
    ("ii->", [(4, 4)]), ("ii->i", [(3, 3)]), ("iij->j", [(3, 3, 2)]), ("iii->", [(3, 3, 3)]),
    ("ii,ij->j", [(3, 3), (3, 2)]), ("bii->bi", [(2, 3, 3)]), ("iji->j", [(3, 2, 3)]),
])
def test_einsum_of_a_diagonal_differentiates_as_torch(spec, shapes):
    """A label repeated in one operand (a trace, a diagonal) raised NotImplementedError: its
    gradient lies on the diagonal; first and second order against torch, and gradcheck."""
    torch = require_torch()
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [sj.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    first = sj.autograd.grad((sj.einsum(spec, *ours) ** 2).sum(), ours, create_graph=True)
    reference = torch.autograd.grad((torch.einsum(spec, *theirs) ** 2).sum(), theirs,
                                    create_graph=True)
    for a, b in zip(first, reference):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10)
    sum((g ** 2).sum() for g in first).backward()
    sum((g ** 2).sum() for g in reference).backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    assert sj.gradcheck(lambda *xs: sj.einsum(spec, *xs), *arrays)

@pytest.mark.parametrize("make", [
    lambda m, x: m.log(m.clamp(x, 0.0, 1.0)),           # clip's masked side meets 1/0
    lambda m, x: m.log(m.maximum(x, m.zeros_like(x))),  # maximum's losing side meets 1/0
])
def test_an_infinite_gradient_is_not_multiplied_by_a_masks_zero(make):
    """log of a clipped 0 sends back inf: torch's clamp and maximum pass 0 where the mask is
    off (a select), not inf * 0 = NaN, which a first step would spread into every weight."""
    torch = require_torch()
    values = [-1.0, 0.5, 2.0]
    ours, theirs = sj.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the point
        make(sj, ours).sum().backward()
    make(torch, theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("values, dim", [([np.inf, 2.0, 3.0], 0), ([[2.0, np.inf, 3.0]], 1)])
def test_prod_beside_an_infinite_product_is_torchs(values, dim):
    """prod is the last of a running product: the zero gradients of the others met y = inf
    (0 * inf = NaN), so every input beside an inf got NaN where torch gives inf. (An inf
    and a 1e30 still differ: y / x is inf where torch multiplies the others, 1e30.)"""
    torch = require_torch()
    grads = []
    for m in (sj, torch):
        x = m.tensor(np.float32(values), requires_grad=True)
        with np.errstate(invalid="ignore", over="ignore"):
            m.prod(x, dim).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_hard_swish_gradient_at_infinities_and_kinks_is_torchs():
    """x * hard_sigmoid(x) met inf * 0 in its product rule: NaN at both infinities, where
    torch gives 1 and 0. Its value at -inf is the limit, 0 (torch's is NaN, inf * 0)."""
    torch = require_torch()
    values = [np.inf, -np.inf, 3.0, -3.0, 2.5, -2.5, 7.0, -7.0, 0.0]
    results = []
    for m, fn in ((sj, sj.nn.functional.hardswish), (torch, torch.nn.functional.hardswish)):
        x = m.tensor(values, requires_grad=True)
        y = fn(x)
        y.sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)  # a rounding apart
    np.testing.assert_allclose(results[0][0][[0, *range(2, 9)]], results[1][0][[0, *range(2, 9)]],
                               rtol=1e-6)
    assert results[0][0][1] == 0.0
