"""register_hook (on leaves and intermediates: see, replace, remove) and retain_grad."""

from __future__ import annotations

import numpy as np
import pytest

from shenjing import Tensor


def _leaf(value=(1.0, 2.0, 3.0)):
    return Tensor(list(value), requires_grad=True)


class _Recorder:
    """A hook that remembers every gradient it sees (as arrays) and returns nothing."""

    def __init__(self):
        self.seen = []

    def __call__(self, g):
        assert isinstance(g, Tensor)
        self.seen.append(g.numpy().copy())


def test_hook_on_leaf_sees_grad():
    x, hook = _leaf(), _Recorder()
    x.register_hook(hook)
    (x * 3).sum().backward()
    assert len(hook.seen) == 1
    np.testing.assert_array_equal(hook.seen[0], [3.0, 3.0, 3.0])


def test_hook_on_leaf_used_twice_sees_whole_grad_once():
    x, hook = _leaf(), _Recorder()
    x.register_hook(hook)
    (x * x + x * 2).sum().backward()
    assert len(hook.seen) == 1
    np.testing.assert_array_equal(hook.seen[0], [4.0, 6.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 6.0, 8.0])


def test_hook_on_intermediate_sees_grad():
    x, hook = _leaf(), _Recorder()
    h = x * x
    h.register_hook(hook)
    (h * 5 + h).sum().backward()  # h used twice: the hook sees the sum of both, once
    assert len(hook.seen) == 1
    np.testing.assert_array_equal(hook.seen[0], [6.0, 6.0, 6.0])
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 24.0, 36.0])


def test_hook_on_root_sees_seed_grad():
    x, hook = _leaf(), _Recorder()
    y = (x * 2).sum()
    y.register_hook(hook)
    y.backward()
    np.testing.assert_array_equal(hook.seen, [np.float32(1.0)])


def test_hook_on_leaf_replaces_grad():
    x = _leaf()
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0, 30.0])


def test_hook_on_intermediate_replaces_grad_upstream():
    x = _leaf()
    h = x * x
    h.register_hook(lambda g: g * 0 + Tensor([1.0, 0.0, -1.0]))
    (h * 7).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])  # 2x * replaced grad


def test_hooks_run_in_order_each_seeing_previous_result():
    x, first, last = _leaf(), _Recorder(), _Recorder()
    h = x * 1
    h.register_hook(first)
    h.register_hook(lambda g: g + 1)
    h.register_hook(lambda g: g * 2)
    h.register_hook(last)
    h.sum().backward()
    np.testing.assert_array_equal(first.seen[0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(last.seen[0], [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])


@pytest.mark.parametrize("where", ["leaf", "intermediate"])
def test_hook_remover_removes_hook(where):
    x, kept, removed = _leaf(), _Recorder(), _Recorder()
    t = x if where == "leaf" else x * 2
    t.register_hook(kept)
    remove = t.register_hook(removed)
    t.register_hook(lambda g: g * 3)
    remove()
    remove()  # removing twice is harmless
    t.sum().backward()
    assert removed.seen == []
    assert len(kept.seen) == 1
    factor = 3.0 if where == "leaf" else 6.0
    np.testing.assert_array_equal(x.grad.numpy(), [factor] * 3)


def test_hook_called_on_every_backward():
    x, hook = _leaf(), _Recorder()
    x.register_hook(hook)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(hook.seen) == 2


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(lambda g: g)


# -- retain_grad --------------------------------------------------------------------------------
def test_retain_grad_keeps_non_leaf_grad():
    x = _leaf()
    h, k = x * x, x * 3
    h.retain_grad()
    (h * 2 + k).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 2.0, 2.0])
    assert k.grad is None  # only leaves and retained tensors keep .grad
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 11.0, 15.0])


def test_retain_grad_on_root():
    x = _leaf()
    y = (x * 2).sum()
    y.retain_grad()
    y.backward()
    assert y.grad.item() == 1.0


def test_retain_grad_twice_keeps_grad_once():
    x = _leaf()
    h = x * 2
    h.retain_grad()
    h.retain_grad()
    h.sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [1.0, 1.0, 1.0])


def test_retain_grad_accumulates_over_backward_calls():
    x = _leaf()
    h = x * 2
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(h.grad.numpy(), 2 * (2 * h.numpy()))


def test_retain_grad_on_leaf_is_harmless():
    x = _leaf()
    x.retain_grad()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_retain_grad_arrays_independent():
    x = _leaf()
    a, b = x * 1, x * 2
    a.retain_grad()
    b.retain_grad()
    (a + b).sum().backward()  # add gives the same gradient array to a and b
    a.grad *= 0.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_that_changes_the_gradients_shape_is_an_error(leaf):
    # torch: "hook ... has changed the size of value"; it was stored (leaf) or summed away
    x = Tensor([1.0, 2.0], requires_grad=True)
    watched = x if leaf else x * 2
    watched.register_hook(lambda g: Tensor(np.ones((3, 2), np.float32)))
    with pytest.raises(RuntimeError, match=r"changed the gradient's shape from \(2,\) to"):
        (watched * watched).sum().backward()


def test_a_tensor_a_hook_returns_is_not_the_grad_itself():
    # torch copies it: zeroing .grad later leaves the hook's tensor alone
    keep = Tensor([7.0, 7.0])
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: keep)
    (x * x).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(keep.numpy(), [7.0, 7.0])


def test_a_gradient_a_hook_kept_is_not_changed_by_the_next_accumulation():
    seen = []
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(g))
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0].numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])


def test_gradients_accumulate_into_the_same_grad_tensor():
    # torch adds into .grad in place: a reference taken before the next backward sees the sum
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    assert g is x.grad
    np.testing.assert_array_equal(g.numpy(), [5.0, 7.0])


@pytest.mark.parametrize("value, error, match", [
    (Tensor(np.zeros((2, 2), np.float32)), RuntimeError, r"shape \(2, 2\) .* shape \(2,\)"),
    (Tensor(np.zeros(2), dtype="float64"), RuntimeError, "dtype float64"),
    (np.zeros(2, np.float32), TypeError, "must be a Tensor or None"),
])
def test_assigning_a_grad_that_does_not_fit_is_an_error(value, error, match):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match=match):
        x.grad = value
    x.grad = Tensor([0.5, 0.5])  # one that fits is kept, and backward adds to it
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.5, 4.5])


def test_retain_grad_keeps_the_gradient_after_every_hook_as_torch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)  # registered after retain_grad, still runs before it
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [40.0, 80.0])
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0])


def test_retain_grad_after_an_in_place_change_is_the_new_values_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)  # y is now 6x: .grad is d(y*y)/dy of this y, as torch's
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [12.0, 24.0])
    np.testing.assert_allclose(x.grad.numpy(), [72.0, 144.0])
