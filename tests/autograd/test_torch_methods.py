"""PyTorch's Tensor methods and module functions that ported programs call (nanoGPT's
``x.size()``, the attention mask's ``tril``/``masked_fill``, Backprop Ninja's ``torch.all`` and
``index_add_``, ``x.mm(w)`` of "Learning PyTorch with Examples", ``topk``, ``gather``...):
each against torch on the same values, forward and gradient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import shenjing
from oracle import require_torch

X = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 4.0, -1.0], [2.0, 2.0, -3.0, 0.5]],
             dtype=np.float32)
IDX = np.array([[0, 3], [1, 1], [2, 0]])

CASES = {
    "mm": lambda m, x: x.mm(x.t()),
    "bmm": lambda m, x: m.bmm(x[None], x.t()[None]),
    "masked_fill": lambda m, x: x.masked_fill(m.tensor(X) > 1.5, -2.0),
    "tril_softmax": lambda m, x: m.softmax(
        x[:, :3].masked_fill(m.tril(m.ones(3, 3)) == 0, float("-inf")), -1),
    "triu": lambda m, x: x.triu(1) + m.triu(x, -1),
    "gather": lambda m, x: x.gather(1, m.tensor(IDX)),
    "sort": lambda m, x: x.sort(dim=1, descending=True).values * m.arange(4),
    "topk": lambda m, x: x.topk(2, dim=0).values,
    "topk_smallest": lambda m, x: m.topk(x, 2, largest=False).values,
    "cumsum_cumprod": lambda m, x: x.cumsum(1) + m.cumprod(x, 0),
    "prod": lambda m, x: x.prod(1) + x.prod(),
    "split": lambda m, x: m.cat([p * (i + 1) for i, p in enumerate(x.split(3, dim=1))], 1),
    "split_sizes": lambda m, x: x.split([1, 2], dim=0)[1],
    "chunk": lambda m, x: x.chunk(2, 1)[1],
    "unbind": lambda m, x: x.unbind(1)[2],
    "index_select": lambda m, x: x.index_select(1, m.tensor([3, 0, 0])),
    "repeat": lambda m, x: x.repeat(2, 1)[:, :2] * 1.5,
    "repeat_interleave": lambda m, x: x.repeat_interleave(2, dim=1),
    "index_add": lambda m, x: m.zeros(5, 4).index_add(0, m.tensor([1, 1, 3]), x),
    "scatter_add": lambda m, x: m.zeros(3, 5).scatter_add(1, m.tensor(IDX), x[:, :2] * 2),
    "clamp_tensor": lambda m, x: x.clamp(min=m.tensor([0.5, 1.5, 0.0, 0.0])),
    "max_other": lambda m, x: x.max(m.full((3, 4), 1.5)),
    "var_std": lambda m, x: x.var() + x.std(0) + m.var(x, 1).sum(),
    "squeeze": lambda m, x: x.squeeze(0) * m.unsqueeze(x, 0).squeeze(0),
    "masked_select": lambda m, x: x.masked_select(m.tensor(X) > 1.0),
    "rsqrt_log1p": lambda m, x: (x * x + 1).rsqrt() + (x * x).log1p(),
    "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x),
    "einsum_list": lambda m, x: m.einsum("ij,jk", [x, x.t()]),
    # a hand-written AdamW step (torch's own _single_tensor_adamw), and the mask's diagonal=
    "lerp": lambda m, x: x.lerp(m.tensor(X[::-1].copy()), 0.1) + m.lerp(x, x * x, 0.5),
    "addcmul": lambda m, x: x.addcmul(x, x, value=0.001) + m.addcmul(x, x, x.flip(0)),
    "addcdiv": lambda m, x: x.addcdiv(x, x * x + 1, value=-0.01) + m.addcdiv(x, x, x * x + 2),
    "tril_triu_diagonal": lambda m, x: x.tril(diagonal=-1) + m.triu(x, diagonal=1),
    "outer_dot_diag": lambda m, x: m.outer(x[0], x[1]) * m.dot(x[2], x[1]) + x[:, :3].diag().sum(),
    "module_forms": lambda m, x: m.clip(x, -1, 2) + m.flip(x, [0, 1]) + m.logsumexp(x, 1, True)
    + m.amax(x, 0) - m.amin(x, 1, keepdim=True) + m.clone(x) * m.detach(x),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_method_matches_torch(name):
    torch = require_torch()
    ours_x = shenjing.tensor(X, requires_grad=True)
    theirs_x = torch.tensor(X, requires_grad=True)
    ours, theirs = CASES[name](shenjing, ours_x), CASES[name](torch, theirs_x)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    weights = np.random.default_rng(0).standard_normal(theirs.shape).astype(np.float32)
    (ours * shenjing.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_sizes_and_indices_as_torch_gives_them():
    x = shenjing.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.size == 24 and x.numel() == 24  # still NumPy's int
    batch, time, channels = x.size()  # nanoGPT's line
    assert (batch, time, channels) == (2, 3, 4)
    data, i = shenjing.arange(10), shenjing.tensor(2)
    assert data[i:i + 3].tolist() == [2, 3, 4] and list(range(shenjing.tensor(3))) == [0, 1, 2]
    assert ["a", "b", "c"][shenjing.tensor(1)] == "b"
    with pytest.raises(TypeError, match="only 0-d integer tensors"):
        [1, 2][shenjing.tensor(1.0)]
    assert data[shenjing.tensor([2])].tolist() == [2]  # a 1-element tensor indexes as an array


def test_module_functions_and_in_place_methods():
    torch = shenjing
    assert not bool(torch.all(torch.tensor([True, False]))) and bool(torch.any(
        torch.tensor([True, False])))
    assert torch.equal(torch.ones(2), torch.ones(2)) and not torch.equal(torch.ones(2),
                                                                         torch.ones(3))
    assert torch.is_tensor(torch.ones(1)) and not torch.is_tensor(np.ones(1))
    a = np.arange(3)
    view = torch.from_numpy(a)
    a[0] = 7
    assert view.tolist() == [7, 1, 2] and view.dtype == np.int64
    torch.manual_seed(0)
    assert sorted(torch.randperm(6).tolist()) == list(range(6))
    like = torch.randn_like(torch.zeros(2, 3, dtype=np.float64))
    assert like.shape == (2, 3) and like.dtype == np.float64
    assert torch.empty(2, 2).shape == (2, 2)
    rows, cols = torch.where(torch.tensor([[0, 1], [1, 0]]) > 0)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    y = torch.tensor([1.0, -2.0, 0.5])
    assert y.clamp_(0, 1) is y and y.tolist() == [1.0, 0.0, 0.5]
    y.mul_(2).exp_()
    np.testing.assert_allclose(y.numpy(), np.exp([2.0, 0.0, 1.0]), rtol=1e-6)
    g = torch.zeros(4, 2)
    g.index_add_(0, torch.tensor([1, 1, 3]), torch.ones(3, 2))
    assert g[:, 0].tolist() == [0.0, 2.0, 0.0, 1.0]
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):
        w.masked_fill_(torch.tensor([True, False]), 0.0)
    h = w * 3
    h.masked_fill_(torch.tensor([True, False]), 0.0)  # recorded: the filled entry has no grad
    h.sum().backward()
    assert w.grad.tolist() == [0.0, 3.0]
    with pytest.raises(AttributeError, match="has no attribute 'no_such_method'"):
        torch.ones(1).no_such_method()


def test_optimizer_and_init_methods_in_place_as_torch():
    # Adam's moments updated in place, as hand-written optimizers (and torch's own) write them
    torch = require_torch()
    rng = np.random.default_rng(1)
    p, g = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    results = []
    for m in (shenjing, torch):
        param, grad = m.tensor(p), m.tensor(g)
        exp_avg, exp_avg_sq = m.zeros_like(param), m.zeros_like(param)
        for step in (1, 2):
            param.mul_(1 - 1e-3 * 1e-2)
            assert exp_avg.lerp_(grad, 0.1) is exp_avg
            exp_avg_sq.mul_(0.999).addcmul_(grad, grad, value=0.001)
            denom = (exp_avg_sq.sqrt() / (1 - 0.999 ** step) ** 0.5).add_(1e-8)
            assert param.addcdiv_(exp_avg, denom, value=-1e-3 / (1 - 0.9 ** step)) is param
        mask = m.ones(3, 3)
        mask.tril_(diagonal=-1)
        results.append([param.numpy(), exp_avg_sq.numpy(), mask.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    w = shenjing.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):
        w.lerp_(shenjing.zeros(2), 0.5)


def test_uniform_and_normal_fill_in_place_from_the_seeded_stream():
    w = shenjing.zeros(200, 50)
    shenjing.manual_seed(3)
    assert w.uniform_(-0.5, 0.5) is w
    first = w.numpy().copy()
    assert w.dtype == np.float32 and -0.5 <= first.min() and first.max() < 0.5
    assert abs(first.mean()) < 0.02 and first.std() > 0.25
    shenjing.manual_seed(3)
    np.testing.assert_array_equal(shenjing.zeros(200, 50).uniform_(-0.5, 0.5).numpy(), first)
    w.normal_(1.0, 0.02)
    assert abs(w.numpy().mean() - 1.0) < 0.002 and abs(w.numpy().std() - 0.02) < 0.002
    b = shenjing.zeros(3, requires_grad=True)
    with shenjing.no_grad():  # nn.init's way of filling a parameter
        b.normal_()
    assert b.requires_grad and b.grad is None and (b.numpy() != 0).all()


def test_tensor_device_and_0d_format_as_torch():
    x = shenjing.tensor([[1, 2]], device=shenjing.device("cpu"))
    assert x.device == "cpu" and x.dtype == np.int64
    y = shenjing.tensor([1.0], dtype=np.float64, device="cpu", requires_grad=True)
    assert y.requires_grad and y.dtype == np.float64
    target = shenjing.tensor([9, 19])[1]
    assert f"the target: {target}" == "the target: 19"  # Let's build GPT's printout
    assert f"{shenjing.tensor(2.5):.2f}" == "2.50" and "Tensor" in f"{shenjing.ones(2)}"


def test_review_fixes_size_copies_descending_int_sort_and_masked_fill_dtype():
    import copy
    import pickle

    x = shenjing.zeros(2, 3)
    assert copy.deepcopy(x.size) == 6 and pickle.loads(pickle.dumps(x.size)) == 6
    layer = shenjing.layers.Dense(x.size)  # an int that torch's code calls: saved as an int
    assert layer.get_config()["units"] == 6 and type(layer.get_config()["units"]) is int
    ints = shenjing.tensor(np.array([3, -128, 5], dtype=np.int8))
    assert ints.sort(descending=True).values.tolist() == [5, 3, -128]  # -(-128) overflowed
    assert ints.argsort(descending=True).tolist() == [2, 0, 1]
    filled = shenjing.tensor([1, 2, 3]).masked_fill(shenjing.tensor([True, False, True]), 0.5)
    assert filled.dtype == np.int64 and filled.tolist() == [0, 2, 0]  # torch keeps the dtype


@pytest.mark.parametrize("call", [
    lambda x: x.sort(dim=1, descending=True), lambda x: x.sort(dim=0, stable=True),
    lambda x: x.topk(3, dim=1), lambda x: x.topk(2, dim=0, largest=False),
])
def test_sort_and_topk_count_nan_as_the_largest_value_as_torch(call):
    torch = require_torch()
    x0 = np.array([[1.0, np.nan, 3.0, 3.0, -np.inf], [np.nan, 2.0, np.inf, np.nan, 2.0]],
                  np.float32)
    results = []
    for m in (shenjing, torch):
        x = m.tensor(x0, requires_grad=True)
        values, indices = call(x)
        (values * m.tensor(np.arange(values.numel(), dtype=np.float32).reshape(values.shape))
         ).sum().backward()
        results.append([values.detach().numpy(), indices.numpy(), x.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda m, s: s.max(0), lambda m, s: s.min(-1, keepdim=True), lambda m, s: s.sort(),
    lambda m, s: s.sort(0, descending=True), lambda m, s: s.topk(1),
    lambda m, s: (s * 1, s.argsort()), lambda m, s: (s.gather(0, m.tensor(0)), m.tensor(0)),
    lambda m, s: (s.cumsum(0), s.cumprod(-1)), lambda m, s: (m.cumsum(s, dim=0), s.max(0)[1]),
])
def test_0d_tensors_take_dim_0_as_torch(call):
    torch = require_torch()
    results = []
    for m in (shenjing, torch):
        s = m.tensor(2.5, requires_grad=True)
        first, second = call(m, s)
        first.backward(m.tensor(3.0))
        results.append([first.detach().numpy(), second.detach().numpy(), s.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape == () and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32, np.uint8,
                                   np.bool_])
def test_from_numpy_shares_memory_and_keeps_the_dtype_as_torch(dtype):
    torch = require_torch()
    results = []
    for m in (shenjing, torch):
        a = np.array([1.5, 2.5, 0.0]).astype(dtype)
        t = m.from_numpy(a)
        a[0] = 9
        t[1] = 7  # and a write to the tensor shows in the array
        results.append((str(t.dtype).removeprefix("torch."), t.numpy().tolist(), a.tolist()))
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="from_numpy takes arrays of numbers or booleans, got "
                                        "dtype <U1"):
        shenjing.from_numpy(np.array(["a"]))


@pytest.mark.parametrize("name", ["round", "sign", "floor", "ceil", "trunc", "sgn"])
def test_piecewise_constant_methods_are_recorded_with_zero_gradient_as_torch(name):
    # x.round().sum().backward() works (zeros), and integers keep their dtype
    torch = require_torch()
    results = []
    for m in (shenjing, torch):
        x = m.tensor([1.4, -2.6, 0.0, 3.5], requires_grad=True)
        y = getattr(x, name)()
        assert y.requires_grad
        (y * 2 + getattr(m, name)(x)).sum().backward()
        ints = getattr(m.tensor(np.array([3, -2, 0], np.int32)), name)()
        # (+ 0: torch's sgn leaves a ZeroTensor as the gradient, which refuses numpy())
        results.append([y.detach().numpy(), (x.grad + 0).numpy(), ints.numpy()])
    for ours, theirs in zip(*results, strict=True):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_chunk_and_repeat_interleave_name_a_bad_count():
    x = shenjing.ones(2, 3)
    with pytest.raises(ValueError, match="chunks must be a positive integer, got 0"):
        x.chunk(0)
    with pytest.raises(ValueError, match="repeats must not be negative"):
        x.repeat_interleave(-1)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce_combines_as_torch_and_refuses_a_gradient(reduce):
    torch = require_torch()
    index = np.array([[0, 0, 1], [2, 2, 2]])
    x = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    src = np.full((2, 3), 2.0, np.float32)
    ours = shenjing.tensor(x).scatter(1, shenjing.tensor(index), shenjing.tensor(src),
                                      reduce=reduce)
    with warnings.catch_warnings():  # torch's deprecation (once a process) for a Tensor src
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.tensor(x).scatter(1, torch.tensor(index), torch.tensor(src),
                                         reduce=reduce)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    in_place = shenjing.tensor(x)
    in_place.scatter_(1, shenjing.tensor(index), 5.0, reduce=reduce)
    np.testing.assert_array_equal(
        in_place.numpy(), torch.tensor(x).scatter_(1, torch.tensor(index), 5.0,
                                                   reduce=reduce).numpy())
    with pytest.raises(RuntimeError, match="no gradient .* scatter_add"):
        shenjing.tensor(x, requires_grad=True).scatter(1, shenjing.tensor(index),
                                                       shenjing.tensor(src), reduce=reduce)
    with pytest.raises(ValueError, match="'add' or 'multiply'"):
        shenjing.tensor(x).scatter(1, shenjing.tensor(index), 1.0, reduce="max")


def test_in_looks_for_an_element_as_torch():
    x = shenjing.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 2.0 in x and 5 not in x and shenjing.tensor([3.0, 4.0]) in x


def test_optimizer_step_takes_torchs_closure():
    w = shenjing.tensor(np.ones(3), requires_grad=True)
    opt = shenjing.optimizers.SGD(0.1, params=[w])
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(float(loss.item()))
        return loss

    with shenjing.no_grad():  # the closure records its graph all the same
        loss = opt.step(closure)
    assert float(loss.item()) == 3.0 and calls == [3.0]
    np.testing.assert_allclose(w.numpy(), 0.8)
    assert opt.step() is None


def test_topk_by_partition_keeps_the_stable_sorts_order(rng):
    """topk of a small k partitions instead of sorting everything (16x torch's time before):
    the same indices as the whole stable sort, ties by position, on data full of ties."""
    from shenjing._torch_methods import _sorted_indices

    for trial in range(120):
        shape = tuple(int(v) for v in rng.integers(1, 30, rng.integers(1, 4)))
        dim = int(rng.integers(0, len(shape)))
        k = int(rng.integers(0, shape[dim] + 1))
        x = rng.integers(-3, 4, shape).astype(np.float32) if trial % 2 else \
            rng.standard_normal(shape).astype(np.float32)
        for largest in (True, False):
            values, indices = shenjing.tensor(x).topk(k, dim, largest)
            full = _sorted_indices(shenjing.tensor(x), dim, largest)
            np.testing.assert_array_equal(indices.numpy(), np.take(full, np.arange(k), dim))
            np.testing.assert_array_equal(values.numpy(),
                                          np.take_along_axis(x, indices.numpy(), dim))


def test_index_add_along_any_dim_with_alpha_as_torch(rng):
    torch = require_torch()
    x, src = rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 7, 4))
    ids = rng.integers(0, 5, 7)  # repeats: they add up
    ours = [shenjing.tensor(a, dtype=np.float64, requires_grad=True) for a in (x, src)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, src)]
    y = ours[0].index_add(1, shenjing.tensor(ids), ours[1], alpha=2.0)
    t = theirs[0].index_add(1, torch.tensor(ids), theirs[1], alpha=2.0)
    (y * y).sum().backward()
    (t * t).sum().backward()
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="one per slice of source"):
        ours[0].index_add(1, shenjing.tensor(ids[:3]), ours[1])


def test_scatter_adds_refuse_indices_out_of_bounds():
    # the bincount path wrapped index 3 of a size-3 axis onto 0 (review); an error, as before
    zeros = shenjing.zeros(3)
    values = shenjing.tensor([1.0, 2.0] + [0.0] * 4094)
    ids = np.array([0, 3] + [0] * 4094)
    big = shenjing.zeros(4096)
    with pytest.raises(IndexError, match="out of bounds"):
        big.scatter_add(0, shenjing.tensor(np.array([0, 4096] + [0] * 4094)), values)
    with pytest.raises(IndexError, match="out of bounds"):
        big.index_add(0, shenjing.tensor(np.array([0, 5000] + [0] * 4094)), values)
    with pytest.raises(IndexError, match="out of bounds"):
        zeros.scatter_add(0, shenjing.tensor(ids[:2]), values[:2])
