"""no_grad / enable_grad (context managers and decorators), is_grad_enabled, and the in-place
operators that are allowed only where no graph can be corrupted."""

from __future__ import annotations

import operator
import threading

import numpy as np
import pytest

from shenjing import F, Function, Tensor, enable_grad, is_grad_enabled, no_grad
from shenjing.autograd import set_grad_enabled


def _leaf():
    return Tensor([1.0, 2.0, 3.0], requires_grad=True)


def _assert_recorded(y):
    assert y.requires_grad
    assert not y.is_leaf


def _assert_not_recorded(y):
    assert y.requires_grad is False
    assert y.is_leaf  # no creator: nothing was recorded


def test_is_grad_enabled_default_true():
    assert is_grad_enabled()
    _assert_recorded(_leaf() * 2)


def test_no_grad_context_records_nothing():
    x = _leaf()
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2 + 1).sum()
        z = x[1:] @ x[1:]
    assert is_grad_enabled()
    _assert_not_recorded(y)
    _assert_not_recorded(z)
    assert x.requires_grad  # the leaf itself is untouched
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert is_grad_enabled()


class _Failing(Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        raise ArithmeticError("backward failed")

    differentiable_backward = backward  # (create_graph's)


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_mode_is_restored_after_a_backward_that_raises(create_graph):
    """backward runs with grad mode off (on for create_graph) and gives the caller's mode back
    even when an op's backward raises."""
    x = Tensor(np.ones(3), requires_grad=True)
    for outer in (True, False):
        loss = _Failing.apply(x).sum()
        with set_grad_enabled(outer):
            with pytest.raises(ArithmeticError, match="backward failed"):
                loss.backward(create_graph=create_graph)
            assert is_grad_enabled() is outer
    assert is_grad_enabled()


def test_enable_grad_inside_no_grad_records():
    x = _leaf()
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = (x * x).sum()
        assert not is_grad_enabled()
    _assert_recorded(y)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_grad_mode_nested_restores_each_level():
    states = []
    with no_grad():
        states.append(is_grad_enabled())
        with no_grad():
            states.append(is_grad_enabled())
            with enable_grad():
                states.append(is_grad_enabled())
                with no_grad():
                    states.append(is_grad_enabled())
                states.append(is_grad_enabled())
            states.append(is_grad_enabled())
        states.append(is_grad_enabled())
    states.append(is_grad_enabled())
    assert states == [False, False, True, False, True, False, False, True]


def test_no_grad_decorator_records_nothing():
    @no_grad()
    def predict(x):
        """Doc."""
        assert not is_grad_enabled()
        return x * 2

    y = predict(_leaf())
    _assert_not_recorded(y)
    assert is_grad_enabled()
    assert predict.__name__ == "predict" and predict.__doc__ == "Doc."


def test_enable_grad_decorator_records_under_no_grad():
    @enable_grad()
    def forward(x):
        return x * 2

    with no_grad():
        y = forward(_leaf())
        assert not is_grad_enabled()
    _assert_recorded(y)


def test_no_grad_decorator_reentrant():
    @no_grad()
    def depth(n):
        assert not is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert is_grad_enabled()


def test_set_grad_enabled_switches_mode():
    try:
        set_grad_enabled(False)
        _assert_not_recorded(_leaf() * 2)
    finally:
        set_grad_enabled(True)
    _assert_recorded(_leaf() * 2)


def test_grad_mode_is_per_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_no_grad_backward_still_works_on_recorded_graph():
    x = _leaf()
    y = (x * x).sum()
    with no_grad():
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


class _AddProbe(Function):
    """y = a + b; remembers the needs_input_grad that apply gave it."""

    seen: list[tuple[bool, ...]] = []

    def forward(self, a, b):
        _AddProbe.seen.append(self.needs_input_grad)
        return a + b

    def backward(self, g):
        return g, g


@pytest.mark.parametrize(
    "mode, expected", [(enable_grad, (True, False)), (no_grad, (False, False))]
)
def test_function_apply_needs_input_grad_follows_mode(mode, expected):
    _AddProbe.seen = []
    with mode():
        y = _AddProbe.apply(_leaf(), Tensor([1.0, 1.0, 1.0]))
    assert _AddProbe.seen == [expected]
    assert y.requires_grad is expected[0]


# -- in-place operators -------------------------------------------------------------------------
INPLACE = {
    "iadd": (operator.iadd, np.add),
    "isub": (operator.isub, np.subtract),
    "imul": (operator.imul, np.multiply),
    "itruediv": (operator.itruediv, np.divide),
}


@pytest.mark.parametrize("ops", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_under_no_grad_updates_leaf(ops):
    inplace, reference = ops
    w = _leaf()
    data = w.data
    other = Tensor([0.5, 2.0, 4.0])
    with no_grad():
        out = inplace(w, other)
    assert out is w
    assert w.data is data  # really in place: references to the array see the update
    np.testing.assert_allclose(w.numpy(), reference([1.0, 2.0, 3.0], [0.5, 2.0, 4.0]))
    assert w.requires_grad and w.is_leaf


def test_inplace_sgd_step_under_no_grad():
    # Fit y = 3x by hand-written gradient descent: the idiom `w -= lr * w.grad` under no_grad.
    x = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
    w = Tensor([0.0], requires_grad=True)
    lr = 0.5
    for _ in range(30):
        loss = ((w * x - 3 * x) ** 2).mean()
        w.grad = None
        loss.backward()
        g = w.grad.numpy().copy()
        before = w.numpy().copy()
        with no_grad():
            w -= lr * w.grad
        np.testing.assert_allclose(w.numpy(), before - lr * g, rtol=1e-6)
    np.testing.assert_allclose(w.numpy(), [3.0], atol=1e-3)
    assert w.requires_grad and w.is_leaf and w.dtype == np.float32


@pytest.mark.parametrize("ops", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_on_leaf_requiring_grad_while_recording_raises(ops):
    # (on an intermediate, or meeting a tensor that requires grad, it is recorded, as in torch:
    # tests/autograd/test_inplace_recorded.py)
    inplace, _ = ops
    target = _leaf()
    before = target.numpy().copy()
    with pytest.raises(RuntimeError, match="no_grad"):
        inplace(target, 2.0)
    np.testing.assert_array_equal(target.numpy(), before)  # nothing was modified


@pytest.mark.parametrize("ops", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_without_autograd_tensors_allowed(ops):
    inplace, reference = ops
    t = Tensor([1.0, 2.0, 3.0])
    inplace(t, 2.0)
    np.testing.assert_allclose(t.numpy(), reference([1.0, 2.0, 3.0], 2.0))


@pytest.mark.parametrize(
    "loss, expected",
    [
        (lambda w: w.sum(), [0.5, 0.5, 0.5]),  # sum's gradient is a broadcast (read-only) view
        (lambda w: w.mean(), [0.5 / 3] * 3),
        (lambda w: (w * w).sum(), [1.0, 2.0, 3.0]),
    ],
    ids=["sum", "mean", "square"],
)
def test_inplace_on_grad_is_allowed(loss, expected):
    # .grad never requires grad, so it can be scaled or zeroed in place (gradient clipping).
    w = _leaf()
    loss(w).backward()
    w.grad *= 0.5
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("ops", INPLACE.values(), ids=INPLACE.keys())
@pytest.mark.parametrize("who", ["constant", "leaf under no_grad", "detached view"])
def test_inplace_change_after_forward_is_caught_at_backward(ops, who):
    # PyTorch's rule: an op whose input changed in place after it ran cannot be differentiated
    # (w * x would get the gradient of the new x: 13 instead of 3 in the audit's example).
    inplace, _ = ops
    w = _leaf()
    # w's value is saved (so changing it matters) only when x needs a gradient, as in torch
    x = Tensor([3.0, 4.0, 5.0], requires_grad=who == "leaf under no_grad")
    y = (w * x).sum()
    if who == "constant":
        inplace(x, 2.0)
    elif who == "leaf under no_grad":
        with no_grad():
            inplace(w, 2.0)
    else:
        inplace(x.detach(), 2.0)  # same memory as x
    with pytest.raises(RuntimeError, match="Mul saved for its backward was modified in place"):
        y.backward()
    assert w.grad is None


def test_inplace_change_of_a_value_backward_does_not_read_is_fine():
    # w * x with a constant x keeps only x (w's gradient); changing w under no_grad leaves
    # that gradient right, and PyTorch accepts it too
    w = _leaf()
    x = Tensor([3.0, 4.0, 5.0])
    y = (w * x).sum()
    with no_grad():
        w += 2.0
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0, 5.0])


def test_inplace_change_before_forward_or_after_backward_is_fine():
    w = _leaf()
    x = Tensor([3.0, 4.0, 5.0])
    x += 1.0  # before the op: the graph sees the new values
    y = (w * x).sum()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 5.0, 6.0])
    with no_grad():
        w -= 0.1 * w.grad  # after backward: the usual SGD step
    (w * x).sum().backward()  # a new graph records the new version
    np.testing.assert_allclose(w.grad.numpy(), [8.0, 10.0, 12.0])


VIEWS = {
    "reshape": lambda x: x.reshape(2, 2),
    "slice": lambda x: x[1:3],
    "T": lambda x: x.reshape(1, 4).T,
    "transpose": lambda x: F.transpose(x.reshape(2, 2)),
    "expand_dims": lambda x: F.expand_dims(x, 0),
    "split": lambda x: F.split(x, 2)[1],
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_inplace_change_through_a_view_is_caught_at_backward(view):
    # a view shares the memory and so the in-place counter of its base, as in PyTorch: changing
    # it changes the x that w * x saved (the gradient would be the new x, silently)
    w = Tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)
    x = Tensor([3.0, 4.0, 5.0, 6.0])
    y = (w * x).sum()
    v = view(x)
    v += 1.0
    with pytest.raises(RuntimeError, match="Mul saved for its backward was modified in place"):
        y.backward()


@pytest.mark.parametrize("copy", [lambda x: x[[0, 1]], lambda x: F.flip(x, 0)],
                         ids=["integer_index", "flip"])  # flip copies, as torch's
def test_inplace_change_of_a_copy_leaves_the_graph_alone(copy):
    w = Tensor([1.0, 1.0], requires_grad=True)
    x = Tensor([3.0, 4.0])
    y = (w * x).sum()
    c = copy(x)
    c += 1.0
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0])
