"""In-place arithmetic on a tensor in the graph is recorded, as PyTorch records it
(``loss += criterion(out, y)`` in a loop, ``h.add_(b)``, ``x.mul_(w)``), and so are the
overwrites (``fill_``, ``zero_``, ``copy_``: a zero gradient to the old value); an op whose backward
reads the value changed (its input, or an output it kept) refuses to backward, others send their
gradient to what made the old value; a leaf that requires grad still refuses the change."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch

# name: the in-place call, the same on both frameworks
CALLS = {
    "iadd": lambda t, o: t.__iadd__(o),
    "isub": lambda t, o: t.__isub__(o),
    "imul": lambda t, o: t.__imul__(o),
    "itruediv": lambda t, o: t.__itruediv__(o),
    "add_": lambda t, o: t.add_(o),
    "add_alpha": lambda t, o: t.add_(o, alpha=-0.5),
    "sub_alpha": lambda t, o: t.sub_(o, alpha=2.0),
    "mul_": lambda t, o: t.mul_(o),
    "div_": lambda t, o: t.div_(o),
    # overwrites: o gets the gradient (summed back to its shape), the old value a zero one
    "copy_": lambda t, o: t.copy_(o),
    "copy_cast": lambda t, o: t.copy_(o.double()),
    "fill_tensor": lambda t, o: t.fill_(o[1]),
}
# overwrites by a constant: the old value's history gets a zero gradient, not None
CONSTANT_OVERWRITES = {
    "fill_": lambda t: t.fill_(1.5),
    "zero_": lambda t: t.zero_(),
    "copy_constant": lambda t: t.copy_(t.detach()[0] * 0 + 2),  # a row, broadcast
}


def _run(lib, name, x0, w0, where):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    if where == "intermediate":  # an op's output changed by a constant... or by w
        target, other = x * 2 + 1, w
    else:  # a tensor that requires no grad meeting one that does
        target, other = lib.tensor(x0), w * 1.5
    result = CALLS[name](target, other)
    assert result is target
    (target.sin() * lib.tensor(np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3))).sum() \
        .backward()
    return target.detach().numpy(), x.grad, w.grad


@pytest.mark.parametrize("where", ["intermediate", "meets_grad"])
@pytest.mark.parametrize("name", CALLS)
def test_inplace_in_graph_matches_torch(name, where, rng):
    th = require_torch()
    x0 = rng.uniform(0.5, 1.5, (2, 3)).astype(np.float32)
    w0 = rng.uniform(0.5, 1.5, (3,)).astype(np.float32)  # broadcast over the rows
    ours = _run(shenjing, name, x0, w0, where)
    theirs = _run(th, name, x0, w0, where)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", CONSTANT_OVERWRITES)
def test_overwrite_by_a_constant_in_graph_matches_torch(name, rng):
    th = require_torch()
    x0 = rng.uniform(0.5, 1.5, (2, 3)).astype(np.float32)
    results = []
    for lib in (shenjing, th):
        x = lib.tensor(x0, requires_grad=True)
        h = x * 2
        used = h.sin()  # read before the change: the change must not touch its backward
        assert CONSTANT_OVERWRITES[name](h) is h
        assert h.requires_grad and not h.is_leaf
        (h * h + x).sum().backward(retain_graph=True)
        results.append((h.detach().numpy().copy(), x.grad.numpy().copy()))
        with pytest.raises(RuntimeError, match="modified"):
            used.sum().backward()  # it saw the old value, which changed since
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_overwrite_of_a_buffer_by_a_tensor_that_requires_grad_as_torch(rng):
    # a tensor that requires no grad takes src's history (torch's CopyBackwards); a leaf that
    # requires grad refuses, and fill_ takes only a 0-d tensor, in both
    th = require_torch()
    w0 = rng.standard_normal(3).astype(np.float32)
    results = []
    for lib in (shenjing, th):
        w = lib.tensor(w0, requires_grad=True)
        buf = lib.zeros((2, 3))
        buf.copy_(w)
        assert buf.requires_grad and not buf.is_leaf
        (buf * buf).sum().backward()
        results.append(w.grad.numpy())
        with pytest.raises(RuntimeError, match="leaf"):
            w.copy_(buf.detach()[0])
        with pytest.raises(RuntimeError, match="0-d|0-dimension"):
            (w * 1).fill_(w)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_loss_accumulated_with_iadd_matches_torch(rng):
    # The char-RNN tutorials' loop: loss = 0; for each step: loss += criterion(...)
    th = require_torch()
    w0 = rng.standard_normal((3, 3)).astype(np.float32)
    xs = rng.standard_normal((4, 3)).astype(np.float32)
    grads = []
    for lib in (shenjing, th):
        w = lib.tensor(w0, requires_grad=True)
        h = lib.zeros(3)
        loss = 0
        for x in xs:
            h = (lib.tensor(x) + h @ w).tanh()
            loss += (h ** 2).sum()
        loss.backward()
        grads.append((loss.item(), w.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5)


# x changed in place after an op used it: fine when that op's backward does not read x (add, or
# exp/tanh/sigmoid, which keep their output), and its gradient still goes to what made the old x
USED_BEFORE = {
    "c += c + 1": lambda c, w: c.__iadd__(c + 1),
    "x += exp(x)": lambda c, w: c.__iadd__(c.exp()),
    "x += tanh(x) @ w": lambda c, w: c.__iadd__(c.tanh() @ w),
    "x -= sigmoid(x) twice": lambda c, w: c.__isub__(c.sigmoid()).__isub__(c.sigmoid()),
    "x *= sigmoid(x)": lambda c, w: c.__imul__(c.sigmoid()),
    "x.add_(relu(x)).mul_(2)": lambda c, w: c.add_(c.relu()).mul_(2),
}


@pytest.mark.parametrize("name", USED_BEFORE, ids=USED_BEFORE)
def test_inplace_after_an_op_that_does_not_read_the_old_value_matches_torch(name, rng):
    th = require_torch()
    a0 = rng.standard_normal((3, 3)).astype(np.float32)
    w0 = rng.standard_normal((3, 3)).astype(np.float32) * 0.5
    results = []
    for lib in (shenjing, th):
        a, w = lib.tensor(a0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        c = a * 1.5
        USED_BEFORE[name](c, w)
        (c * c).sum().backward()
        results.append((c.detach().numpy(), a.grad.numpy(),
                        0 if w.grad is None else w.grad.numpy()))  # w unused: None on both
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_inplace_in_a_loop_through_grad_matches_torch(rng):
    # autograd.grad walks the same edges: h += tanh(h) @ w three times, d/dw
    th = require_torch()
    h0 = rng.standard_normal((2, 3)).astype(np.float32)
    w0 = rng.standard_normal((3, 3)).astype(np.float32) * 0.5
    grads = []
    for lib, grad in ((shenjing, shenjing.autograd.grad), (th, th.autograd.grad)):
        w = lib.tensor(w0, requires_grad=True)
        h = lib.tensor(h0) * 1
        for _ in range(3):
            h += h.tanh() @ w
        grads.append(grad(h.sum(), w)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


SAVED_OUTPUT = {
    "exp then +=": lambda w: w.exp().__iadd__(1),
    "sigmoid then *=": lambda w: w.sigmoid().__imul__(2),
    "tanh then mul_": lambda w: w.tanh().mul_(2),
    "sqrt then sub_": lambda w: w.sqrt().sub_(1),
    "x += tanh(x @ w)": lambda w: _plus(w * 1, lambda x: (x @ w).tanh()),  # matmul keeps x
}


def _plus(x, f):
    x += f(x)
    return x


@pytest.mark.parametrize("name", SAVED_OUTPUT, ids=SAVED_OUTPUT)
def test_changing_a_value_an_op_saved_refuses_to_backward_as_torch(name):
    # exp keeps its output for its backward: changing that output in place would make the
    # gradient exp(w) + 1 (what shenjing silently returned before), so both frameworks refuse;
    # so does x += tanh(x @ w), whose matmul keeps x for w's gradient
    th = require_torch()
    for lib in (shenjing, th):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = SAVED_OUTPUT[name](w)
        with pytest.raises(RuntimeError, match="modified by an inplace|modified in place"):
            y.sum().backward()


def test_no_grad_change_of_a_saved_output_is_caught():
    w = shenjing.tensor([1.0, 2.0], requires_grad=True)
    y = w.exp()
    with shenjing.no_grad():
        y.reshape(2, 1)[0] = 5.0  # through a view of y's memory
    with pytest.raises(RuntimeError, match="the output of Exp, which it saved"):
        y.sum().backward()


@pytest.mark.parametrize("name", ["iadd", "isub", "add_alpha", "sub_alpha"])
def test_inplace_with_itself_matches_torch(name, rng):
    # h += h: both operands are h's old value (torch accepts these: their backward reads none)
    th = require_torch()
    x0 = rng.standard_normal((2, 3)).astype(np.float32)
    results = []
    for lib in (shenjing, th):
        x = lib.tensor(x0, requires_grad=True)
        h = x.sin()
        CALLS[name](h, h)
        (h * h).sum().backward()
        results.append((h.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_imul_and_idiv_with_itself_use_the_old_value():
    # torch refuses these at backward (their backward reads the overwritten operand); here the
    # old value is kept for it: h *= h is h**2, h /= h is 1
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h *= h
    h.sum().backward()
    np.testing.assert_allclose(h.numpy(), [9.0, 36.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])  # d(9 x**2)/dx
    x.grad = None
    h = x * 3
    h /= h
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])


def test_inplace_on_a_full_reduction_result_changes_it(rng):
    # A 0-d result of a reduction is a NumPy scalar inside: `+=` used to leave it unchanged.
    th = require_torch()
    x0 = rng.standard_normal(4).astype(np.float32)
    values = []
    for lib in (shenjing, th):
        t = lib.tensor(x0).sum()
        t += 1
        t.mul_(3)
        values.append(t.item())
    np.testing.assert_allclose(values[0], values[1], rtol=1e-6)


def test_inplace_on_a_view_keeps_the_gradients_of_torch_but_not_the_base_value():
    # torch writes through the view into its base (CopySlices); here the view gets a new array
    # and the base keeps its value, so the gradients stay those of the values computed.
    th = require_torch()
    results = []
    for lib in (shenjing, th):
        x = lib.ones((2, 3), requires_grad=True)
        h = x * 2
        v = h.reshape(6)
        v += 1
        (h.sum() + v.sum()).backward()
        results.append((x.grad.numpy(), h.detach().numpy()[0, 0], v.detach().numpy()[0]))
    (ours, our_base, our_view), (theirs, their_base, their_view) = results
    np.testing.assert_array_equal(ours, theirs)
    assert our_view == their_view == 3.0
    assert our_base == 2.0 and their_base == 3.0


@pytest.mark.parametrize("method, grad", [
    ("abs_", lambda x: 2 * np.sign(x)),            # d|2x|/dx
    ("square_", lambda x: 8 * x),                  # d(2x)^2/dx
    ("log_", lambda x: 1 / x),                     # d log(2x)/dx
    ("sqrt_", lambda x: 1 / np.sqrt(2 * x)),       # d sqrt(2x)/dx
    ("exp_", lambda x: 2 * np.exp(2 * x)),
    ("tanh_", lambda x: 2 * (1 - np.tanh(2 * x) ** 2)),
])
def test_in_place_functions_on_an_intermediate_go_backward(method, grad):
    """h = 2x; h.f_(); torch records f on h's old value: its backward (which reads it) runs
    and the gradient is f's. They were written as copy_(f(h)), which overwrote what f saved."""
    x0 = np.array([0.5, 1.5], np.float32)
    x = shenjing.tensor(x0, requires_grad=True)
    h = x * 2
    getattr(h, method)()
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), grad(x0), rtol=1e-5)


def test_quotients_and_squares_can_be_changed_in_place_before_backward():
    # as torch: div saves its inputs, pow with a number exponent does not save its output
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    w = shenjing.tensor([2.0, 4.0], requires_grad=True)
    y = x / w
    y += 1
    z = x ** 2
    z += 1
    (y + z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5 + 2.0, 0.25 + 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [-0.25, -0.125])
    x.grad = w.grad = None
    q = x / w
    q *= w  # q = x again; mul's backward reads the old q (kept), div's reads x
    q.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(w.grad.numpy(), [0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("view", [lambda h: h[:2], lambda h: h.reshape(1, 3),
                                  lambda h: h.reshape(3, 1).T, lambda h: h[:2].reshape(2, 1)],
                         ids=["slice", "reshape", "transpose", "chain"])
def test_a_view_read_after_its_base_changed_in_place_is_an_error(view):
    """v = view(h); h[1] = 0; loss(v): v holds the new values but its graph the old ones,
    so the gradient would be wrong (torch remakes v's graph; we refuse, never guess)."""
    x = shenjing.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    v = view(h)
    h[1] = 0.0
    with pytest.raises(RuntimeError, match="changed in place after the view was made"):
        v.sum().backward()


def test_a_view_read_before_the_change_or_changed_under_no_grad_goes_backward():
    x = shenjing.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    y = h[:2].exp()  # read before the change: its gradient is right
    h[1] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * np.exp(2.0), 2 * np.exp(4.0), 0.0],
                               rtol=1e-6)
    x.grad = None
    h = x * 2
    v = h[:2]
    with shenjing.no_grad():  # not followed by the graph, as torch's
        h.mul_(2)
    v.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_flip_copies_as_torch():
    h = shenjing.tensor([1.0, 2.0, 3.0])
    v = h.flip(0)
    h.mul_(10)
    np.testing.assert_array_equal(v.numpy(), [3.0, 2.0, 1.0])
