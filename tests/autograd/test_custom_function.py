"""PyTorch-style custom Functions (``@staticmethod forward(ctx, ...)``, ``ctx.save_for_backward``,
``ctx.saved_tensors``, ``ctx.needs_input_grad``, ``Fn.apply``): the same class body runs on torch
and on shenjing, and the two agree. shenjing's own style (forward/backward on arrays, self as the
context) is tested everywhere else; here only that both styles live side by side."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing
from oracle import require_torch, torch
from shenjing import Function, Tensor, no_grad
from shenjing.autograd.function import once_differentiable


def legendre(base):
    """The tutorial's LegendrePolynomial3 ("Learning PyTorch with Examples"), on ``base``."""

    class LegendrePolynomial3(base):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def _fit(lib, fn_class, steps):
    """The tutorial's loop: y = a + b * P3(c + d x) fitted to sin(x) by hand-written SGD."""
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = lib.tensor(np.sin(np.linspace(-math.pi, math.pi, 2000, dtype=np.float32)))
    a, b, c, d = (lib.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(steps):
        P3 = fn_class.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= 5e-6 * p.grad
                p.grad = None
    return losses, [p.item() for p in (a, b, c, d)]


def test_legendre_tutorial_matches_torch():
    th = require_torch()
    ours = _fit(shenjing, legendre(shenjing.autograd.Function), 50)
    theirs = _fit(th, legendre(th.autograd.Function), 50)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)


def scaled_mul(base):
    """Two Tensor inputs and a number, two outputs (one an integer index), a ctx attribute,
    needs_input_grad and mark_non_differentiable; each framework's once_differentiable."""
    once = once_differentiable if base is Function else torch.autograd.function.once_differentiable

    class ScaledMul(base):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            ctx.seen = ctx.needs_input_grad
            out = a * b * scale
            index = (a * b).argmax()
            ctx.mark_non_differentiable(index)
            return out, index

        @staticmethod
        @once
        def backward(ctx, grad_out, grad_index):
            a, b = ctx.saved_tensors
            ga = grad_out * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = grad_out * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    return ScaledMul


@pytest.mark.parametrize("b_requires_grad", [True, False])
def test_two_inputs_a_number_two_outputs_match_torch(b_requires_grad, rng):
    th = require_torch()
    a0, b0 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    up = rng.standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib, base in ((shenjing, shenjing.Function), (th, th.autograd.Function)):
        fn = scaled_mul(base)
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=b_requires_grad)
        out, index = fn.apply(a, b, 2.5)
        assert not index.requires_grad and out.requires_grad
        out.backward(lib.tensor(up))
        results.append((out.detach().numpy(), int(index), a.grad.numpy(),
                        None if b.grad is None else b.grad.numpy()))
    (o1, i1, ga1, gb1), (o2, i2, ga2, gb2) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-6)
    assert i1 == i2
    np.testing.assert_allclose(ga1, ga2, rtol=1e-6)
    assert (gb1 is None) == (gb2 is None)
    if gb1 is not None:
        np.testing.assert_allclose(gb1, gb2, rtol=1e-6)


def test_ctx_needs_input_grad_and_no_recording_under_no_grad():
    fn = scaled_mul(Function)
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3))
    fn.apply(a, b, 1.0)
    out, _ = fn.apply(a, b, 1.0)
    assert out.grad_fn is not None and repr(out.grad_fn) == "<ScaledMulBackward>"
    with no_grad():
        out, _ = fn.apply(a, b, 1.0)
    assert not out.requires_grad and out.grad_fn is None


def test_unused_output_gets_zeros_or_none(rng):
    seen = []

    class Split(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append(g2)
            return g1 * 2 + (0 if g2 is None else g2 * 3), None

    for materialize in (True, False):
        x = Tensor(np.ones(2), requires_grad=True)
        y1, _ = Split.apply(x, materialize)
        y1.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert seen[0].tolist() == [0.0, 0.0] and seen[1] is None


def test_returning_an_input_does_not_rewire_it():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_setup_context_style_matches_torch():
    # torch 2's split: forward(*args) without ctx, setup_context(ctx, inputs, output)
    th = require_torch()

    def cube(base):
        class Cube(base):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2

        return Cube

    grads = []
    for lib, base in ((shenjing, Function), (th, th.autograd.Function)):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        cube(base).apply(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_broadcast_gradient_is_summed_as_torch_does():
    th = require_torch()

    def spread(base):
        class Spread(base):  # returns a gradient in the broadcast shape, as torch allows
            @staticmethod
            def forward(ctx, x):
                return x * 1.0

            @staticmethod
            def backward(ctx, g):
                return g.expand(4, 3) if hasattr(g, "expand") else g

        return Spread

    grads = []
    for lib, base in ((shenjing, Function), (th, th.autograd.Function)):
        x = lib.ones(3, requires_grad=True)
        spread(base).apply(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_graph_is_freed_with_its_ctx():
    fn = legendre(Function)
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = fn.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 1.5 * (5 * x.numpy() ** 2 - 1), rtol=1e-6)
    assert x.grad_fn is None and y.grad_fn.inputs is None  # freed
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_wrong_number_of_gradients_is_a_clear_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    y = Bad.apply(Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True))
    with pytest.raises(TypeError, match="Bad.backward returned 1 gradients, expected 2"):
        y.backward()


def test_forward_taking_ctx_without_staticmethod_is_refused_at_definition():
    with pytest.raises(TypeError, match="@staticmethod"):
        class Forgot(Function):
            def forward(ctx, x):  # noqa: N805 - the mistake under test
                return x

    with pytest.raises(TypeError, match="@staticmethod"):
        class AlsoForgot(Function):
            def forward(self, ctx, x):
                return x


def test_mark_dirty_is_refused_clearly():
    class Inplace(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(NotImplementedError, match="clone"):
        Inplace.apply(Tensor([1.0], requires_grad=True))
