"""backward(): iterative order on very deep graphs, accumulation, freeing the graph, errors, and
undoing broadcasting in one place."""

from __future__ import annotations

import time
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import shenjing
from shenjing import Function, Tensor
from shenjing.autograd import unbroadcast


@pytest.fixture(scope="module")
def torch():
    """PyTorch, the test-only oracle: skipped when absent unless SHENJING_REQUIRE_TORCH=1."""
    from oracle import require_torch

    return require_torch()


def _leaf(value, dtype=None):
    return Tensor(value, dtype=dtype, requires_grad=True)


# -- the basic contract -------------------------------------------------------------------------
def test_backward_scalar_default_grad_is_one():
    x = _leaf([1.0, 2.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert x.grad.dtype == np.float32


def test_backward_on_leaf():
    x = _leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0
    y = _leaf([1.0, 2.0])
    y.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize(
    "make_grad",
    [lambda u: u, lambda u: u.tolist(), lambda u: Tensor(u), lambda u: u.astype(np.float64)],
    ids=["ndarray", "list", "tensor", "float64_ndarray"],
)
def test_backward_explicit_grad_non_scalar(make_grad):
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    u = np.arange(6, dtype=np.float32).reshape(2, 3)
    (x * x).backward(make_grad(u))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * u)
    assert x.grad.dtype == np.float32


def test_backward_leaf_grad_keeps_leaf_dtype():
    # float32 * float64 promotes the product; the float32 leaf still gets a float32 gradient.
    w = _leaf([1.0, 2.0])
    (w * Tensor([3.0, 4.0], dtype=np.float64)).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])


# -- errors -------------------------------------------------------------------------------------
def test_backward_non_scalar_without_grad_raises():
    y = _leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 3\)"):
        y.backward()


@pytest.mark.parametrize("shape", [(3, 2), (6,), (2, 3, 1), ()])
def test_backward_grad_wrong_shape_raises(shape):
    y = _leaf(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward(np.ones(shape))


@pytest.mark.parametrize(
    "make", [lambda: Tensor(1.0), lambda: Tensor([1.0, 2.0]).sum(), lambda: Tensor(2.0) * 3]
)
def test_backward_without_requires_grad_raises(make):
    with pytest.raises(RuntimeError, match="does not require grad"):
        make().backward()


# -- iterative order on deep graphs ---------------------------------------------------------------
def test_backward_chain_of_100000_ops():
    # A recursive topological sort would hit Python's recursion limit (1000) long before this.
    x, w = _leaf(1.0), _leaf(0.5)
    start = time.perf_counter()
    y = x
    for _ in range(100_000):
        y = y + w
    y.backward()
    elapsed = time.perf_counter() - start
    assert y.item() == pytest.approx(50_001.0)
    assert x.grad.item() == 1.0
    assert w.grad.item() == 100_000.0  # 100,000 contributions accumulate into one leaf
    assert elapsed < 20, f"100,000-op chain took {elapsed:.1f} s"


def _recurrence(h, W, xs):
    """h_t = tanh(h_{t-1} @ W + x_t); loss = sum(h_T ** 2). Runs on shenjing and torch tensors."""
    for x in xs:
        h = (h @ W + x).tanh()
    return (h * h).sum()


def _recurrence_data(steps, batch=2, hidden=4, seed=0):
    rng = np.random.default_rng(seed)
    h0 = rng.standard_normal((batch, hidden)).astype(np.float32)
    W = (rng.standard_normal((hidden, hidden)) / hidden).astype(np.float32)
    X = rng.standard_normal((steps, batch, hidden)).astype(np.float32)
    return h0, W, X


def _recurrence_grads_by_hand(h0, W, X):
    """d loss / d h0 and d loss / d W of :func:`_recurrence`, by hand-written BPTT in float64."""
    hs = [h0.astype(np.float64)]
    W = W.astype(np.float64)
    for x in X:
        hs.append(np.tanh(hs[-1] @ W + x))
    dh, dW = 2 * hs[-1], np.zeros_like(W)
    for t in range(len(X), 0, -1):
        da = dh * (1 - hs[t] ** 2)
        dW += hs[t - 1].T @ da
        dh = da @ W.T
    return dh, dW


def test_backward_recurrence_10000_steps():
    # 30,000 recorded ops, each step depending on the previous one: no RecursionError, and the
    # gradients equal hand-written back-propagation through time.
    h0, W, X = _recurrence_data(10_000)
    h, w = _leaf(h0), _leaf(W)
    _recurrence(h, w, [Tensor(x) for x in X]).backward()
    dh0, dW = _recurrence_grads_by_hand(h0, W, X)
    assert np.abs(dW).max() > 0.1  # a real signal, not a vanished gradient
    np.testing.assert_allclose(w.grad.numpy(), dW, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.grad.numpy(), dh0, rtol=1e-4, atol=1e-5)


def test_backward_recurrence_matches_torch(torch):
    h0, W, X = _recurrence_data(20)
    h, w, xs = _leaf(h0), _leaf(W), [_leaf(x) for x in X]
    loss = _recurrence(h, w, xs)
    loss.backward()
    th, tw = (torch.tensor(a, requires_grad=True) for a in (h0, W))
    txs = [torch.tensor(x, requires_grad=True) for x in X]
    tloss = _recurrence(th, tw, txs)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
    for ours, theirs in [(h, th), (w, tw), *zip(xs, txs, strict=True)]:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_backward_recurrence_matches_finite_differences():
    h0, W, X = _recurrence_data(8)
    fn = lambda h, w, x: _recurrence(h, w, [x[t] for t in range(x.shape[0])])  # noqa: E731
    assert shenjing.gradcheck(fn, h0, W, X)


# -- accumulation ---------------------------------------------------------------------------------
def test_backward_tensor_used_twice_accumulates():
    x = _leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_backward_diamond_accumulates():
    x = _leaf(2.0)
    a = x * x  # shared by both branches
    b, c = a * 3, a.tanh()
    (b + c).backward()
    expected = 3 * 2 * 2.0 + (1 - np.tanh(4.0) ** 2) * 2 * 2.0
    assert x.grad.item() == pytest.approx(expected, rel=1e-6)


def test_backward_two_calls_accumulate_into_leaf():
    x = _leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * x.numpy())


def test_backward_leaf_grads_are_independent_arrays():
    # add hands the same gradient array to both inputs; each .grad must still be its own array,
    # safe to modify in place, and must not alias the caller's gradient either.
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    u = np.array([1.0, 1.0], dtype=np.float32)
    (a + b).backward(u)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, u)
    a.grad *= 0.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(u, [1.0, 1.0])
    x = _leaf([1.0, 2.0])
    x.backward(u)
    assert not np.shares_memory(x.grad.data, u)


class _CountedSquare(Function):
    """y = x**2, counting its backward calls."""

    calls = 0

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        _CountedSquare.calls += 1
        return 2 * self.saved[0] * g


@pytest.mark.parametrize("long_branch", [0, 1, 10])
def test_backward_shared_node_runs_once_after_all_consumers(long_branch):
    # s feeds a short branch and a branch `long_branch` ops longer. The engine must run s's
    # backward once, after both branches delivered their gradient (topological order).
    _CountedSquare.calls = 0
    x = _leaf(3.0)
    s = _CountedSquare.apply(x)
    a = s
    for _ in range(long_branch):
        a = a * 1.0
    (a + s * 2).backward()
    assert _CountedSquare.calls == 1
    assert x.grad.item() == pytest.approx(3 * 2 * 3.0)


class _SplitHalves(Function):
    """(y1, y2) = (x[:n], x[n:]): one op with two outputs."""

    def forward(self, x):
        self.save_for_backward(x.shape)
        n = x.shape[0] // 2
        return x[:n], x[n:]

    def backward(self, g1, g2):
        (shape,) = self.saved
        gx = np.zeros(shape, dtype=np.float32)
        n = shape[0] // 2
        if g1 is not None:
            gx[:n] = g1
        if g2 is not None:
            gx[n:] = g2
        return gx


@pytest.mark.parametrize(
    "loss, expected",
    [
        (lambda p, q: (p * 2).sum() + (q * 3).sum(), [2, 2, 3, 3]),
        (lambda p, q: (q * 3).sum(), [0, 0, 3, 3]),  # p unused: its gradient is None
        (lambda p, q: (p * q).sum(), [3, 4, 1, 2]),
    ],
    ids=["both", "one_unused", "combined"],
)
def test_backward_multi_output_function(loss, expected):
    x = _leaf([1.0, 2.0, 3.0, 4.0])
    p, q = _SplitHalves.apply(x)
    loss(p, q).backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_backward_int_input_gets_no_grad():
    x = _leaf([1.0, 2.0])
    idx = Tensor([1, 1])
    (x * idx).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    assert idx.grad is None


# -- freeing the graph ----------------------------------------------------------------------------
def test_backward_second_call_raises_mentioning_retain_graph():
    x = _leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_retain_graph_twice_accumulates():
    x = _leaf([1.0, 2.0])
    y = (x * x).tanh().sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


@pytest.mark.parametrize("retain", [False, True])
def test_backward_frees_intermediates_unless_retained(retain):
    x = _leaf(np.ones(4))
    h = x * 2
    y = (h * x).sum()  # the product saves h's array for its backward
    h_ref, h_data_ref = weakref.ref(h), weakref.ref(h.data)
    del h
    assert h_ref() is not None  # the graph keeps it alive until backward
    y.backward(retain_graph=retain)
    assert (h_ref() is not None) is retain
    assert (h_data_ref() is not None) is retain


def test_backward_through_freed_subgraph_raises():
    x = _leaf([1.0, 2.0])
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2).sum().backward()


# -- broadcasting is undone in one place ----------------------------------------------------------
def _sum_to(g, shape):
    """Reference unbroadcast, written as the adjoint of np.broadcast_to: every element of the
    broadcast result adds its gradient to the input element it was copied from."""
    size = int(np.prod(shape))
    source = np.broadcast_to(np.arange(size).reshape(shape), g.shape)
    return np.bincount(source.ravel(), weights=g.ravel(), minlength=size).reshape(shape)


# Partial derivatives of a op b with respect to a and b, in the broadcast shape.
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a * b), np.ones_like(a * b))),
    "sub": (lambda a, b: a - b, lambda a, b: (np.ones_like(a * b), -np.ones_like(a * b))),
    "mul": (lambda a, b: a * b, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b + 0 * a, -a / b**2)),
}
BROADCAST_SHAPES = [
    ((3, 1), (1, 4)),
    ((5,), (2, 3, 5)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 4), (3, 1)),
    ((1,), (3,)),
    ((4, 1, 1), (1, 1)),
    ((2, 3), (2, 3)),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", BINARY.values(), ids=BINARY.keys())
def test_broadcast_grads_have_input_shapes(op, shapes):
    forward, partials = op
    rng = np.random.default_rng(0)
    a_np, b_np = (rng.uniform(0.5, 2.0, s).astype(np.float32) for s in shapes)
    a, b = _leaf(a_np), _leaf(b_np)
    out = forward(a, b)
    u = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(u)
    da, db = partials(a_np.astype(np.float64), b_np.astype(np.float64))
    for t, d, shape in [(a, da, shapes[0]), (b, db, shapes[1])]:
        assert t.grad.shape == shape
        assert t.grad.dtype == np.float32
        np.testing.assert_allclose(t.grad.numpy(), _sum_to(u * d, shape), rtol=1e-5, atol=1e-6)


def test_broadcast_python_scalar_times_matrix():
    x = _leaf(np.ones((2, 3)))
    (2.5 * x).sum().backward()
    assert x.grad.shape == (2, 3)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.5))


def test_broadcast_matmul_batch_grad_summed():
    # (4, 2, 3) @ (3, 5): the (3, 5) weight is shared by the batch; its grad sums over it.
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((4, 2, 3)).astype(np.float32)
    w = _leaf(rng.standard_normal((3, 5)))
    (Tensor(x_np) @ w).sum().backward()
    assert w.grad.shape == (3, 5)
    expected = x_np.reshape(-1, 3).sum(axis=0)[:, None] * np.ones((1, 5))
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-5)


@settings(max_examples=60, deadline=None, database=None)
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_unbroadcast_is_adjoint_of_broadcast(shapes):
    g = np.random.default_rng(0).standard_normal(shapes.result_shape)
    for shape in shapes.input_shapes:
        out = unbroadcast(g, shape)
        assert out.shape == shape
        np.testing.assert_allclose(out, _sum_to(g, shape), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None, database=None)
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_broadcast_add_grads_any_shapes(shapes):
    a_shape, b_shape = shapes.input_shapes
    a, b = _leaf(np.zeros(a_shape)), _leaf(np.zeros(b_shape))
    (a + b).sum().backward()
    n = int(np.prod(shapes.result_shape))
    np.testing.assert_array_equal(a.grad.numpy(), np.full(a_shape, n / max(a.size, 1)))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(b_shape, n / max(b.size, 1)))


@pytest.mark.parametrize("grad_mode", [True, False])
def test_function_apply_takes_arrays_as_constants_and_names_other_inputs(grad_mode):
    with shenjing.enable_grad() if grad_mode else shenjing.no_grad():
        out = _CountedSquare.apply(np.array([2.0, 3.0]))
        np.testing.assert_allclose(out.numpy(), [4.0, 9.0])
        assert not out.requires_grad
        with pytest.raises(TypeError, match=r"CountedSquare takes Tensors or arrays .* got str"):
            _CountedSquare.apply("2")
    np.testing.assert_allclose(_CountedSquare.apply(Tensor([3.0])).numpy(), [9.0])


def test_gradcheck_takes_pytorchs_tuple_of_inputs():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    assert shenjing.gradcheck(lambda x, y: (x * y).sum(), (a, b))
    with pytest.raises(shenjing.diagnostics.GradcheckError):
        shenjing.gradcheck(_WrongSquare.apply, (a,))
    # torch's place and its raise_exception=False
    assert shenjing.autograd.gradcheck(_WrongSquare.apply, (a,), raise_exception=False) is False
    assert shenjing.autograd.gradcheck is shenjing.gradcheck


def test_gradcheck_checks_a_large_input_along_a_random_direction():
    """Over max_elements (2048) an input is checked along one random direction, not element
    by element: it still passes a right gradient and catches one 0.5% off."""
    x = np.random.default_rng(0).uniform(0.5, 1.5, 5000)
    calls = []

    def square(t):
        calls.append(1)
        return t * t

    assert shenjing.gradcheck(square, x)
    assert len(calls) < 10  # a few evaluations, not two per element
    with pytest.raises(shenjing.diagnostics.GradcheckError):
        shenjing.gradcheck(_SlightlyWrongSquare.apply, x)
    assert shenjing.gradcheck(_SlightlyWrongSquare.apply, x[:100], rtol=0.01)


class _WrongSquare(Function):
    """y = x**2 with a wrong gradient (3x), for gradcheck to catch."""

    slope = 3.0

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        return self.slope * self.saved[0] * g


class _SlightlyWrongSquare(_WrongSquare):
    """A gradient 0.5% too big: over gradcheck's rtol of 1e-3, within float64's noise."""

    slope = 2.01


def test_a_tensor_stored_in_data_gives_its_values_at_the_next_op():
    # PyTorch's update idioms w.data = w.data - lr * w.grad (no no_grad() needed) and
    # w.data = torch.ones(2) make .data a Tensor here; the next op takes its array, graph-free
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data = w.data - 0.1 * w.grad
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([0.8, 1.6]), rtol=1e-6)
    w.data = shenjing.ones(2) * 3
    assert (w * 1).tolist() == [3.0, 3.0] and isinstance(w.data, np.ndarray)


def test_grad_asks_each_op_only_for_the_inputs_that_lead_to_its_targets():
    # grad(D(x).sum(), x) (a gradient penalty) must not compute the weights' gradients; the
    # op's own needs_input_grad is back after, for a later full backward
    seen = []

    class Probe(shenjing.Function):
        def forward(self, a, b):
            self.save_for_backward(a, b)
            return a * b

        def backward(self, g):
            seen.append(self.needs_input_grad)
            a, b = self.saved
            return (g * b if self.needs_input_grad[0] else None,
                    g * a if self.needs_input_grad[1] else None)

    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    w = shenjing.tensor([3.0, 4.0], requires_grad=True)
    y = Probe.apply(x * 1, w).sum()
    (gx,) = shenjing.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    y.backward()
    assert seen == [(True, False), (True, True)]
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])
