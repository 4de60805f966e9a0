"""PyTorch's ``autograd.grad``, ``autograd.backward``, ``Tensor.backward(gradient=, inputs=)``
and ``autograd.functional.jacobian`` / ``vjp``, first order, each compared with torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing import Function, Tensor
from shenjing.autograd import functional as AF


def _both(rng, *shapes):
    """The same float32 values as shenjing and torch leaves that require grad."""
    th = require_torch()
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ([shenjing.tensor(a, requires_grad=True) for a in arrays],
            [th.tensor(a, requires_grad=True) for a in arrays])


def _np(ts):
    return [None if t is None else t.detach().numpy() for t in ts]


def _close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(_np(ours), _np(theirs)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_grad_of_leaves_leaves_dot_grad_alone(rng):
    th = require_torch()
    (x, w), (tx, tw) = _both(rng, (4, 3), (3, 2))

    def loss(lib, x, w):
        return (lib.tanh(x @ w) ** 2).sum() if lib is th else ((x @ w).tanh() ** 2).sum()

    ours = shenjing.autograd.grad(loss(shenjing, x, w), [x, w])
    theirs = th.autograd.grad(loss(th, tx, tw), [tx, tw])
    _close(ours, theirs)
    assert isinstance(ours, tuple) and x.grad is None and w.grad is None


def test_grad_of_an_intermediate_runs_only_what_leads_to_it(rng):
    th = require_torch()
    (x, w), (tx, tw) = _both(rng, (4, 3), (3, 2))
    h, th_h = x @ w, tx @ tw
    out, th_out = (h.sigmoid() * 3).sum(), (th_h.sigmoid() * 3).sum()
    (g,) = shenjing.autograd.grad(out, h)
    (tg,) = th.autograd.grad(th_out, th_h)
    _close([g], [tg])
    # the matmul below h did not run: its graph is still there for a backward to the leaves
    out2 = (h * 2).sum()
    out2.backward()
    np.testing.assert_allclose(w.grad.numpy(), (2 * x.numpy().T @ np.ones((4, 2))), rtol=1e-5)


def test_grad_several_outputs_with_grad_outputs_and_retain_graph(rng):
    th = require_torch()
    (x,), (tx,) = _both(rng, (5,))
    v = rng.standard_normal(5).astype(np.float32)
    y1, y2 = x.exp(), (x * x).sum()
    t1, t2 = tx.exp(), (tx * tx).sum()
    ours = shenjing.autograd.grad([y1, y2], x, grad_outputs=[shenjing.tensor(v), None],
                                  retain_graph=True)
    theirs = th.autograd.grad([t1, t2], tx, grad_outputs=[th.tensor(v), None],
                              retain_graph=True)
    _close(ours, theirs)
    _close(shenjing.autograd.grad(y2, x), th.autograd.grad(t2, tx))  # the graph was kept
    with pytest.raises(RuntimeError, match="second time"):
        shenjing.autograd.grad(y2, x)


def test_grad_unused_input(rng):
    th = require_torch()
    (x, z), (tx, tz) = _both(rng, (3,), (2,))
    with pytest.raises(RuntimeError, match="allow_unused"):
        shenjing.autograd.grad((x * 2).sum(), [x, z])
    ours = shenjing.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    theirs = th.autograd.grad((tx * 2).sum(), [tx, tz], allow_unused=True)
    _close(ours, theirs)
    ours = shenjing.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    theirs = th.autograd.grad((tx * 2).sum(), [tx, tz], materialize_grads=True)
    _close(ours, theirs)


def test_grad_runs_tensor_hooks_also_with_create_graph(rng):
    th = require_torch()
    (x,), (tx,) = _both(rng, (3,))
    x.register_hook(lambda g: g * 10)
    tx.register_hook(lambda g: g * 10)
    _close(shenjing.autograd.grad((x ** 2).sum(), x), th.autograd.grad((tx ** 2).sum(), tx))
    _close(shenjing.autograd.grad((x ** 3).sum(), x, create_graph=True),
           th.autograd.grad((tx ** 3).sum(), tx, create_graph=True))
    with pytest.raises(RuntimeError, match="does not require grad"):
        shenjing.autograd.grad((x ** 2).sum(), shenjing.ones(3))


def test_grad_skips_ops_that_lead_to_no_input():
    calls = []

    class Counted(Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            calls.append(1)
            return g * 2

    w = Tensor([1.0, 2.0], requires_grad=True)
    h = Counted.apply(w)
    (g,) = shenjing.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(g.numpy(), 2 * h.numpy())
    assert calls == []


def test_autograd_backward_of_several_tensors_matches_torch(rng):
    th = require_torch()
    (x,), (tx,) = _both(rng, (4,))
    v = rng.standard_normal(4).astype(np.float32)
    shenjing.autograd.backward([(x ** 3).sum(), x.sin()], [None, shenjing.tensor(v)])
    th.autograd.backward([(tx ** 3).sum(), tx.sin()], [None, th.tensor(v)])
    _close([x.grad], [tx.grad])


def test_tensor_backward_gradient_keyword_and_inputs(rng):
    # The "Gentle Introduction to torch.autograd": Q.backward(gradient=external_grad)
    th = require_torch()
    results = []
    for lib in (shenjing, th):
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        b = lib.tensor([6.0, 4.0], requires_grad=True)
        Q = 3 * a ** 3 - b ** 2
        Q.backward(gradient=lib.tensor([1.0, 1.0]), retain_graph=True)
        Q.backward(gradient=lib.tensor([1.0, 2.0]), inputs=[b])  # only b's .grad grows
        results.append((a.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_backward_inputs_accumulates_into_an_intermediate(rng):
    (x,), (tx,) = _both(rng, (3,))
    h, t_h = x * 2, tx * 2
    (h ** 2).sum().backward(inputs=[h])
    (t_h ** 2).sum().backward(inputs=[t_h])
    _close([h.grad, x.grad], [t_h.grad, tx.grad])


def test_backward_inputs_runs_post_accumulate_hooks_once_per_leaf(rng):
    # the optimizer-in-backward idiom with backward(inputs=...): the hooks of the leaves that
    # receive a gradient run once (a repeated input counts once), the others' do not
    (a, b), (ta, tb) = _both(rng, (3,), (3,))
    results = []
    for x, w in ((a, b), (ta, tb)):
        seen = []
        for name, t in (("x", x), ("w", w)):
            t.register_post_accumulate_grad_hook(
                lambda p, name=name, seen=seen: seen.append((name, p.grad.numpy().copy())))
        y = (x * w * 3).sum()
        y.backward(inputs=[x, x], retain_graph=True)
        y.backward(inputs=[w])
        results.append((seen, x.grad, w.grad))
    (ours, *our_grads), (theirs, *their_grads) = results
    assert [n for n, _ in ours] == [n for n, _ in theirs] == ["x", "w"]
    for (_, g), (_, tg) in zip(ours, theirs):
        np.testing.assert_allclose(g, tg, rtol=1e-6)
    _close(our_grads, their_grads)


def test_jacobian_matches_torch(rng):
    th = require_torch()
    a = rng.random(2).astype(np.float32)
    b = rng.random(2).astype(np.float32)

    def exp_adder(x, y):  # the torch.autograd.functional.jacobian docs' example
        return 2 * x.exp() + 3 * y

    ours = AF.jacobian(exp_adder, (shenjing.tensor(a), shenjing.tensor(b)))
    theirs = th.autograd.functional.jacobian(exp_adder, (th.tensor(a), th.tensor(b)))
    _close(ours, theirs)
    single = AF.jacobian(lambda x: x @ x.T, shenjing.tensor(a.reshape(1, 2)))
    th_single = th.autograd.functional.jacobian(lambda x: x @ x.T, th.tensor(a.reshape(1, 2)))
    assert single.shape == tuple(th_single.shape) == (1, 1, 1, 2)
    _close([single], [th_single])
    pair = AF.jacobian(lambda x: (x.sin(), x.sum()), shenjing.tensor(a))
    th_pair = th.autograd.functional.jacobian(lambda x: (x.sin(), x.sum()), th.tensor(a))
    _close(list(pair), list(th_pair))


def test_vjp_matches_torch(rng):
    th = require_torch()
    x0 = rng.standard_normal((3, 2)).astype(np.float32)
    v = rng.standard_normal(3).astype(np.float32)
    out, g = AF.vjp(lambda x: (x ** 2).sum(axis=1), shenjing.tensor(x0), shenjing.tensor(v))
    t_out, t_g = th.autograd.functional.vjp(lambda x: (x ** 2).sum(dim=1), th.tensor(x0),
                                            th.tensor(v))
    _close([out, g], [t_out, t_g])


def test_autograd_functional_is_an_attribute_after_import_shenjing():
    # torch.autograd.functional.jacobian works after `import torch` alone; a fresh process,
    # since this module's own import of shenjing.autograd.functional would hide the gap
    code = ("import shenjing; "
            "print(shenjing.autograd.functional.jacobian(lambda x: x * 2, shenjing.ones(2)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "[[2. 0.]" in result.stdout


def test_grad_takes_torch_only_inputs_as_the_gradient_penalty_passes_it(rng):
    # the WGAN-GP gradient penalty: grad(..., create_graph=True, retain_graph=True,
    # only_inputs=True)[0]; only_inputs is torch's deprecated flag, ignored
    th = require_torch()
    w0, x0 = rng.standard_normal((3, 1)), rng.standard_normal((8, 3))
    results = []
    for lib in (shenjing, th):
        w = lib.tensor(w0.astype(np.float32), requires_grad=True)
        inp = lib.tensor(x0.astype(np.float32), requires_grad=True)
        out = lib.tanh(inp @ w)
        grads = lib.autograd.grad(outputs=out, inputs=inp, grad_outputs=lib.ones_like(out),
                                  create_graph=True, retain_graph=True, only_inputs=True)[0]
        ((grads.norm(2, dim=1) - 1) ** 2).mean().backward()
        results.append(w.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    x = shenjing.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        shenjing.autograd.grad(x * 2, x, shenjing.eye(2), is_grads_batched=True)


def test_grad_with_respect_to_an_intermediate_whose_own_graph_was_freed():
    # torch: grad(f(h), h) needs nothing below h, so an earlier backward through h is fine
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    (g,) = shenjing.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(g.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        shenjing.autograd.grad((h * h).sum(), x)  # this one needs the freed graph
