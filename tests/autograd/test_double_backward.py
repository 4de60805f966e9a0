"""Double backward (``create_graph=True``): every op's recorded backward checked for second
derivatives against finite differences (``gradgradcheck``, float64) and against PyTorch
(float32), then what users build on it: gradient penalties, derivatives of a network's output
inside its loss, a MAML-style inner step, Hessians and Hessian-vector products."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing import F
from shenjing.diagnostics import GradcheckError, gradgradcheck

rng0 = np.random.default_rng(0)


def _away(shape, lo=0.2):
    """Values with |x| >= lo: away from the kinks of relu, abs, max and clip."""
    x = rng0.uniform(lo, 1.5, shape)
    return x * rng0.choice([-1.0, 1.0], shape)


def _pos(shape):
    return rng0.uniform(0.5, 2.0, shape)


IDS = np.array([2, 0, 2, 1])
MOVING = (shenjing.tensor(_away((3,)), dtype=np.float64), shenjing.tensor(_pos((3,)),
                                                                       dtype=np.float64))
MASK = np.array([[True, False, True], [False, True, True]])
# name: (fn of Tensors, its inputs). Each is squared (when linear) so that its second
# derivative exercises the op's recorded backward on both passes.
OPS = {
    "add": (lambda a, b: (a + b) ** 2, [_away((2, 3)), _away((3,))]),
    "sub": (lambda a, b: (a - b) ** 2, [_away((2, 3)), _away((2, 1))]),
    "mul": (lambda a, b: a * b * a, [_away((2, 3)), _away((3,))]),
    "div": (lambda a, b: a / b, [_away((2, 3)), _pos((2, 3))]),
    "neg": (lambda a: (-a) ** 3, [_away((4,))]),
    "pow": (lambda a, b: a ** b, [_pos((2, 3)), _away((2, 3))]),
    "pow_scalar": (lambda a: a ** 3, [_away((5,))]),
    "exp": (F.exp, [_away((5,))]),
    "log": (F.log, [_pos((5,))]),
    "sqrt": (F.sqrt, [_pos((5,))]),
    "sin": (F.sin, [_away((5,))]),
    "cos": (F.cos, [_away((5,))]),
    "abs": (lambda a: F.abs(a) ** 2, [_away((5,))]),
    "maximum": (lambda a, b: F.maximum(a, b) ** 2, [_away((4,)), _away((4,)) + 3.5]),
    "minimum": (lambda a, b: F.minimum(a, b) ** 2, [_away((4,)), _away((4,)) + 3.5]),
    "clip": (lambda a: F.clip(a, -1.0, 1.0) ** 2, [np.array([-1.4, -0.5, 0.3, 1.3])]),
    "where": (lambda a, b: F.where(a.data > 0, a, b) ** 2, [_away((5,)), _away((5,))]),
    "clone": (lambda a: F.clone(a) ** 3, [_away((3,))]),  # the cast op, to its own dtype
    "sigmoid": (F.sigmoid, [_away((5,))]),
    "tanh": (F.tanh, [_away((5,))]),
    "relu": (lambda a: F.relu(a) ** 2, [_away((6,))]),
    "leaky_relu": (lambda a: F.leaky_relu(a) ** 2, [_away((6,))]),
    "elu": (F.elu, [_away((6,))]),
    "selu": (F.selu, [_away((6,))]),
    "gelu": (F.gelu, [_away((6,))]),
    "gelu_tanh": (lambda a: F.gelu(a, approximate=True), [_away((6,))]),
    "softplus": (F.softplus, [_away((6,))]),
    "silu": (F.silu, [_away((6,))]),
    "softmax": (lambda a: F.softmax(a, axis=0), [_away((3, 4))]),
    "log_softmax": (F.log_softmax, [_away((3, 4))]),
    "sum": (lambda a: F.sum(a, axis=1) ** 2, [_away((3, 4))]),
    "mean": (lambda a: F.mean(a, axis=(0, 2), keepdims=True) ** 2, [_away((2, 3, 2))]),
    "max": (lambda a: F.max(a, axis=1) ** 2, [_away((3, 4))]),
    "min": (lambda a: F.min(a) ** 2, [_away((3, 4))]),
    "var": (lambda a: F.var(a, axis=0, ddof=1), [_away((4, 3))]),
    "std": (lambda a: F.std(a, axis=1), [_away((3, 4))]),
    "logsumexp": (lambda a: F.logsumexp(a, axis=1), [_away((3, 4))]),
    "norm2": (lambda a: F.norm(a, 2, dim=1), [_away((3, 4))]),
    "norm1": (lambda a: F.norm(a, 1) ** 2, [_away((3, 4))]),
    "reshape": (lambda a: F.reshape(a, (4, 3)) ** 2 @ np.ones((3, 2)), [_away((2, 6))]),
    "transpose": (lambda a: F.transpose(a, (2, 0, 1)) ** 2, [_away((2, 3, 4))]),
    "broadcast_to": (lambda a: F.broadcast_to(a, (3, 4)) ** 2, [_away((1, 4))]),
    "concatenate": (lambda a, b: F.concatenate([a, b * b], axis=1) ** 2,
                    [_away((2, 3)), _away((2, 2))]),
    "stack": (lambda a, b: F.stack([a, b]) ** 2, [_away((3,)), _away((3,))]),
    "pad": (lambda a: F.pad(a, ((1, 0), (0, 2))) ** 2, [_away((2, 3))]),
    "flip": (lambda a: F.flip(a, 1) * a, [_away((2, 3))]),
    "getitem_slice": (lambda a: a[1:, ::2] ** 2, [_away((3, 4))]),
    "getitem_repeats": (lambda a: a[IDS] ** 2, [_away((3, 2))]),
    "getitem_mask": (lambda a: a[MASK] ** 3, [_away((2, 3))]),
    "index_put": (lambda a, v: _assigned(a * 1, v) ** 2, [_away((3, 3)), _away((3,))]),
    "matmul": (lambda a, b: (a @ b) ** 2, [_away((2, 3)), _away((3, 4))]),
    "matmul_batched": (lambda a, b: (a @ b) ** 2, [_away((2, 2, 3)), _away((3, 2))]),
    "matmul_vector": (lambda a, b: (a @ b) ** 2, [_away((3,)), _away((2, 3, 2))]),
    "matmul_dot": (lambda a, b: (a @ b) ** 2, [_away((3,)), _away((3,))]),
    "linear": (lambda x, w, b: F.tanh(F.linear(x, w, b)), [_away((2, 2, 3)), _away((3, 4)),
                                                           _away((4,))]),
    "linear_relu": (lambda x, w: F.linear(x, w, activation="relu") ** 2,
                    [_away((4, 3)), _away((3, 2))]),
    "bce_logits": (lambda z, t: F.binary_crossentropy(t, z, from_logits=True),
                   [_away((4,)), rng0.uniform(0, 1, (4,))]),
    "cce_logits": (lambda z, t: F.categorical_crossentropy(t, z, from_logits=True),
                   [_away((3, 4)), rng0.dirichlet(np.ones(4), 3)]),
    "sparse_cce_logits": (lambda z: F.sparse_categorical_crossentropy(IDS[:3], z,
                                                                     from_logits=True),
                          [_away((3, 4))]),
    "sparse_cce_per_sample": (lambda z: F.sparse_categorical_crossentropy(
        IDS[:3], z, from_logits=True, reduction="none"), [_away((3, 4))]),
    "mse": (lambda p, t: F.mean_squared_error(t, p * p), [_away((3, 2)), _away((3, 2))]),
    "dropout": (lambda a: F.dropout(a, 0.5, generator=np.random.default_rng(3)) ** 2,
                [_away((6,))]),  # the same mask on every call
    "embedding": (lambda table: F.embedding(IDS, table) ** 2, [_away((3, 2))]),
    "conv2d": (lambda x, w, b: F.tanh(F.conv2d(x, w, b, strides=2, padding="same")),
               [_away((2, 5, 5, 2)), _away((3, 3, 2, 3)), _away((3,))]),
    "conv2d_relu_dilated": (lambda x, w: F.conv2d(x, w, dilation_rate=2, padding="same",
                                                  activation="relu") ** 2,
                            [_away((1, 5, 5, 2)), _away((2, 2, 2, 2))]),
    "depthwise_conv2d": (lambda x, w, b: F.tanh(F.depthwise_conv2d(x, w, b, strides=2)),
                         [_away((2, 5, 5, 2)), _away((3, 3, 2, 2)), _away((4,))]),
    "max_pool": (lambda x: F.max_pool2d(x * x, 3, 2, padding="same") ** 2, [_away((2, 5, 5, 2))]),
    "max_pool_overlap": (lambda x: F.max_pool2d(x, 2, 1) ** 2, [_away((1, 4, 4, 2))]),
    "avg_pool": (lambda x: F.avg_pool2d(x, 3, 2, padding="same") ** 2, [_away((2, 5, 5, 2))]),
    "batch_norm": (lambda x, g, b: F.batch_norm(x, g, b, None, None, True) ** 2,
                   [_away((2, 2, 3)), _away((3,)), _away((3,))]),
    "batch_norm_inference": (lambda x, g: F.batch_norm(x, g, None, *MOVING, False) ** 2,
                             [_away((4, 3)), _away((3,))]),
    "layer_norm": (lambda x, g, b: F.layer_norm(x, g, b, axis=(1, 2)) ** 2,
                   [_away((2, 3, 2)), _away((3, 2)), _away((3, 2))]),
    "layer_norm_no_affine": (lambda x: F.layer_norm(x, None, None) ** 3, [_away((3, 4))]),
    # the recurrent kernels: their create_graph replays the sequence with recorded ops
    "lstm": (lambda x, k, u: _lstm(x, k, u), [_away((2, 3, 4)), _away((4, 8)), _away((2, 8))]),
    "lstm_masked_reversed_bias": (
        lambda x, k, u, b, c0: _rnn("lstm", x, k, u, b, c0, reverse=True),
        [_away((2, 4, 3)), _away((3, 8)), _away((2, 8)), _away((8,)), _away((2, 2))]),
    "gru_masked_bias_dropout": (
        lambda x, k, u, b: _rnn("gru", x, k, u, b, dropout=True),
        [_away((2, 4, 3)), _away((3, 6)), _away((2, 6)), _away((2, 6))]),
    "simple_rnn_relu": (lambda x, k, u: _rnn("simple_rnn", x, k, u, None, activation="relu"),
                        [_away((2, 3, 2)), _away((2, 2)), _away((2, 2))]),
}


def _assigned(a, v):
    a[:, 1] = v  # item assignment on a tensor in the graph: recorded as index_put
    return a


@pytest.mark.parametrize("name", OPS, ids=OPS)
def test_second_derivatives_match_finite_differences(name):
    fn, inputs = OPS[name]
    assert gradgradcheck(fn, *inputs, atol=1e-5, rtol=1e-4)


# the same computation on both frameworks: method names they share, torch's for the rest
TORCH_PAIRS = {
    "tanh_mul": (lambda a, b: (a * b[1:]).tanh() * a, None),
    "sigmoid_div": (lambda a, b: a.sigmoid() / (b[1:] * b[1:] + 1), None),
    "exp_log_sqrt": (lambda a, b: (a.exp() + b[1:].abs()).log() * (a * a + 1).sqrt(), None),
    "softmax_sum": (lambda a, b: F.softmax(a @ b, axis=-1).sum(1) * a.sum(1),
                    lambda th, a, b: (a @ b).softmax(-1).sum(1) * a.sum(1)),
    "log_softmax": (lambda a, b: F.log_softmax(a @ b) ** 2,
                    lambda th, a, b: (a @ b).log_softmax(-1) ** 2),
    "matmul_relu": (lambda a, b: F.relu(a @ b) ** 2, lambda th, a, b: (a @ b).relu() ** 2),
    "linear": (lambda a, b: F.sigmoid(F.linear(a, b, b[0])),
               lambda th, a, b: th.sigmoid(a @ b + b[0])),
    "var_std": (lambda a, b: F.var(a @ b, axis=1) + F.std(a, axis=0, ddof=1).sum(),
                lambda th, a, b: (a @ b).var(1, correction=0) + a.std(0).sum()),
    "logsumexp_max": (lambda a, b: F.logsumexp(a @ b, axis=1) * F.max(a, axis=1),
                      lambda th, a, b: th.logsumexp(a @ b, 1) * a.amax(1)),
    "sparse_ce": (lambda a, b: F.sparse_categorical_crossentropy(IDS[:2], a @ b,
                                                                 from_logits=True),
                  lambda th, a, b: th.nn.functional.cross_entropy(a @ b, th.tensor(IDS[:2]))),
    "index_cat": (lambda a, b: F.concatenate([a[:, [0, 0, 2]], b.T[:2] ** 2]).tanh(),
                  lambda th, a, b: th.cat([a[:, [0, 0, 2]], b.T[:2] ** 2]).tanh()),
    "elu_gelu": (lambda a, b: F.elu(a @ b) * F.gelu(a).sum(),
                 lambda th, a, b: th.nn.functional.elu(a @ b) * th.nn.functional.gelu(a).sum()),
}


def _second_order(lib, fn, arrays, u, v):
    """(d<u, f>/dx, d<v, d<u, f>/dx>/dx) for each input x, as arrays."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    gs = lib.autograd.grad(out, xs, lib.tensor(u), create_graph=True)
    dot = sum((g * lib.tensor(vi)).sum() for g, vi in zip(gs, v))
    hs = lib.autograd.grad(dot, xs)
    return [g.detach().numpy() for g in gs] + [h.numpy() for h in hs]


@pytest.mark.parametrize("name", TORCH_PAIRS, ids=TORCH_PAIRS)
def test_second_derivatives_match_torch(name):
    th = require_torch()
    ours, theirs = TORCH_PAIRS[name]
    rng = np.random.default_rng(1)
    arrays = [_away((2, 3)).astype(np.float32), _away((3, 3)).astype(np.float32)]
    shape = ours(*[shenjing.tensor(a) for a in arrays]).shape
    u = rng.standard_normal(shape).astype(np.float32)
    v = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
    torch_fn = ours if theirs is None else (lambda *xs: theirs(th, *xs))
    got = _second_order(shenjing, ours, arrays, u, v)
    want = _second_order(th, torch_fn, arrays, u, v)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def _cube(detached):
    """A PyTorch-style x**3 whose backward reads x, or (wrong to the second order, right to
    the first) a detached x."""

    class Cube(shenjing.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * (x.detach() if detached else x) ** 2

    return Cube.apply


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = np.array([0.5, 1.5])
    assert shenjing.gradcheck(_cube(detached=True), x)
    with pytest.raises(GradcheckError):
        gradgradcheck(_cube(detached=True), x)


def test_pytorch_style_function_is_differentiated_twice_through_its_backward():
    cube = _cube(detached=False)
    assert gradgradcheck(cube, np.array([0.5, -1.5]))
    x = shenjing.tensor([2.0], requires_grad=True)
    (g,) = shenjing.autograd.grad(cube(x).sum(), x, create_graph=True)
    (h,) = shenjing.autograd.grad(g.sum(), x)
    assert g.item() == pytest.approx(12.0) and h.item() == pytest.approx(12.0)


def test_backward_create_graph_leaves_a_grad_with_its_graph():
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    g = x.grad
    x.grad = None
    g.sum().backward()  # d(3 x**2)/dx
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_create_graph_keeps_the_graph_and_hooks_see_tensors():
    # torch's default: retain_graph = create_graph, so a second backward works
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    h = y * y
    seen = []
    h.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
    (g,) = shenjing.autograd.grad(h.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 4 * np.exp(2 * np.array([1.0, 2.0])), rtol=1e-6)
    (g2,) = shenjing.autograd.grad(h.sum(), x)  # the graph was kept
    np.testing.assert_allclose(g2.numpy(), g.numpy(), rtol=1e-6)
    assert seen == [False, False]  # the seed is a constant; the hook's result is recorded


def test_create_graph_through_an_op_without_one_names_it():
    class Square(shenjing.Function):  # a user's op with a plain backward only
        def forward(self, a):
            self.save_for_backward(a)
            return a * a

        def backward(self, g):
            return 2 * self.saved[0] * g

    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="Square.*no differentiable backward"):
        shenjing.autograd.grad(Square.apply(x).sum(), x, create_graph=True)


def test_create_graph_refuses_an_input_changed_in_place_since():
    # its recorded backward would read the new values (x += 1 after x * x)
    x = shenjing.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    with shenjing.no_grad():
        h += 1
    with pytest.raises(RuntimeError, match="create_graph=True: a tensor of shape"):
        shenjing.autograd.grad(y, x, create_graph=True)


def test_once_differentiable_refuses_create_graph():
    class Square(shenjing.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @shenjing.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = shenjing.tensor([3.0], requires_grad=True)
    (g,) = shenjing.autograd.grad(Square.apply(x).sum(), x)
    assert g.item() == 6.0
    with pytest.raises(RuntimeError, match="once_differentiable"):
        shenjing.autograd.grad(Square.apply(x).sum(), x, create_graph=True)


def _mlp(lib, act):
    rng = np.random.default_rng(2)
    w1 = lib.tensor(rng.standard_normal((3, 16)).astype(np.float32) * 0.7, requires_grad=True)
    b1 = lib.tensor(rng.standard_normal(16).astype(np.float32) * 0.1, requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((16, 1)).astype(np.float32) * 0.3, requires_grad=True)
    return [w1, b1, w2], lambda x: act(x @ w1 + b1) @ w2


def _same_as_torch(loss_of, rtol=1e-4):
    """``loss_of(lib)`` -> (loss, parameters), built alike on shenjing and torch: the losses and
    every parameter's gradient agree. (A bias that reaches a gradient only through
    leaky_relu's slope, a constant, gets zeros from torch and None here.)"""
    th = require_torch()
    results = []
    for lib in (shenjing, th):
        loss, params = loss_of(lib)
        loss.backward()
        results.append([loss.item()] + [0 if p.grad is None else p.grad.numpy() for p in params])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-6)


def _activation(lib, name):
    return getattr(F if lib is shenjing else lib.nn.functional, name)


def test_gradient_penalty_matches_torch():
    # WGAN-GP: the critic's gradient norm at the inputs, pushed to 1, differentiated by the
    # critic's weights (leaky_relu critic, as in the paper's code)
    x0 = np.random.default_rng(3).standard_normal((8, 3)).astype(np.float32)

    def penalty(lib):
        params, critic = _mlp(lib, lambda h: _activation(lib, "leaky_relu")(h, 0.2))
        x = lib.tensor(x0, requires_grad=True)
        (gx,) = lib.autograd.grad(critic(x).sum(), x, create_graph=True)
        return ((gx.norm(2, dim=1) - 1) ** 2).mean(), params

    _same_as_torch(penalty)


def test_gradient_penalty_of_a_conv_critic_matches_torch():
    # WGAN-GP on images: conv (stride 2) - leaky_relu - layer norm - conv ('same') - max pool -
    # global average - linear; NHWC here, NCHW in torch
    th = require_torch()
    tf = th.nn.functional
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((4, 9, 9, 2)).astype(np.float32)
    w0 = [rng.standard_normal(s).astype(np.float32) * 0.4
          for s in ((3, 3, 2, 4), (4,), (3, 3, 4, 4), (4, 1))]

    def ours(x, w1, b1, w2, w3):
        h = F.leaky_relu(F.conv2d(x, w1, b1, strides=2), 0.2)
        h = F.layer_norm(h, None, None, axis=(1, 2, 3), epsilon=1e-5)
        h = F.max_pool2d(F.leaky_relu(F.conv2d(h, w2, padding="same"), 0.2))
        return F.mean(h, axis=(1, 2)) @ w3

    def theirs(x, w1, b1, w2, w3):
        h = tf.leaky_relu(tf.conv2d(x.permute(0, 3, 1, 2), w1.permute(3, 2, 0, 1), b1,
                                    stride=2), 0.2)
        h = tf.layer_norm(h, h.shape[1:], eps=1e-5)
        h = tf.max_pool2d(tf.leaky_relu(tf.conv2d(h, w2.permute(3, 2, 0, 1), padding="same"),
                                        0.2), 2)
        return h.mean(dim=(2, 3)) @ w3

    def penalty(lib):
        params = [lib.tensor(w, requires_grad=True) for w in w0]
        x = lib.tensor(x0, requires_grad=True)
        critic = ours if lib is shenjing else theirs
        (gx,) = lib.autograd.grad(critic(x, *params).sum(), x, create_graph=True)
        return ((gx.reshape(4, -1).norm(2, dim=1) - 1) ** 2).mean(), params

    _same_as_torch(penalty, rtol=2e-4)


def test_physics_informed_loss_matches_torch():
    # u(x) a tanh network; the loss holds u'' + u (the ODE u'' = -u), trained by its weights
    x0 = np.linspace(-1, 1, 7, dtype=np.float32).reshape(-1, 1)
    x0 = np.concatenate([x0, x0 ** 2, np.ones_like(x0)], axis=1)

    def residual(lib):
        params, u = _mlp(lib, lib.tanh)
        x = lib.tensor(x0, requires_grad=True)
        out = u(x)
        (du,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        (d2u,) = lib.autograd.grad(du[:, 0].sum(), x, create_graph=True)
        return ((d2u[:, 0:1] + out) ** 2).mean(), params

    _same_as_torch(residual)


def test_maml_inner_step_matches_torch():
    # one inner SGD step with create_graph, the outer loss differentiated through it
    rng = np.random.default_rng(4)
    xs, ys = (rng.standard_normal((2, 6, n)).astype(np.float32) for n in (3, 1))

    def outer(lib):
        params, _ = _mlp(lib, lib.tanh)

        def loss(p, k):
            return ((lib.tanh(lib.tensor(xs[k]) @ p[0] + p[1]) @ p[2] - lib.tensor(ys[k])) ** 2
                    ).mean()

        grads = lib.autograd.grad(loss(params, 0), params, create_graph=True)
        return loss([p - 0.1 * g for p, g in zip(params, grads)], 1), params

    _same_as_torch(outer)


def test_autograd_functional_higher_order_matches_torch():
    th = require_torch()
    AF, TF = shenjing.autograd.functional, th.autograd.functional
    x0 = np.array([1.0, 2.0, 0.5], np.float32)
    v0 = np.array([0.3, -1.0, 2.0], np.float32)

    def f(x):  # the same code runs on both
        return (x ** 3).sum() + (x[0] * x[1]).exp()

    def g(a, b):
        return (a * b.sin()).sum() ** 2

    def h(x):
        return x.exp() * x.sum()

    s, t = shenjing.tensor, th.tensor
    np.testing.assert_allclose(AF.hessian(f, s(x0)).numpy(), TF.hessian(f, t(x0)).numpy(),
                               rtol=1e-5)
    ours, theirs = AF.hessian(g, (s(x0), s(v0))), TF.hessian(g, (t(x0), t(v0)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j].numpy(), theirs[i][j].numpy(), rtol=1e-5,
                                       atol=1e-6)
    for name in ("hvp", "vhp"):
        o, r = getattr(AF, name)(f, s(x0), s(v0)), getattr(TF, name)(f, t(x0), t(v0))
        np.testing.assert_allclose(o[0].numpy(), r[0].numpy(), rtol=1e-6)
        np.testing.assert_allclose(o[1].numpy(), r[1].numpy(), rtol=1e-5)
    o, r = AF.jvp(h, s(x0), s(v0)), TF.jvp(h, t(x0), t(v0))
    np.testing.assert_allclose(o[1].numpy(), r[1].numpy(), rtol=1e-5)
    # a Jacobian kept in the graph, then differentiated
    x = s(x0, requires_grad=True)
    AF.jacobian(h, x, create_graph=True).sum().backward()
    tx = t(x0, requires_grad=True)
    TF.jacobian(h, tx, create_graph=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


def _lstm(x, k, u):
    h0 = shenjing.zeros(x.shape[0], 2, dtype=x.dtype)
    out, h, c = F.recurrence("lstm", x, k, u, None, [h0, h0])
    return out.sum() + h.sum() + c.sum()


STEPS = np.array([[True, True, False, True], [False, True, True, True]])  # real steps


def _rnn(cell, x, k, u, b, c0=None, reverse=False, dropout=False, activation="tanh"):
    """A kernel with its options on (a mask for 4-step inputs, reverse, recurrent dropout),
    every output used, nonlinearly (so second derivatives mix them)."""
    h0 = shenjing.tensor(np.full((x.shape[0], u.shape[0]), 0.3))
    states = [h0] if c0 is None else [h0, c0]
    outs = F.recurrence(cell, x, k, u, b, states, mask=STEPS if x.shape[1] == 4 else None,
                        reverse=reverse, activation=activation,
                        recurrent_mask=np.array([[1.5, 0.5]]) if dropout else None)
    return sum((o * o).sum() for o in outs)


@pytest.mark.parametrize("name", OPS)
def test_every_op_that_saves_an_output_declares_it(name):
    # an op whose saved values hold one of its outputs must set saves_outputs, or a change of
    # that output in place (y = exp(w); y += 1) would silently give a wrong gradient
    from shenjing.autograd.engine import _saved_reads

    fn, inputs = OPS[name]
    tensors = [shenjing.tensor(a, dtype=np.float64, requires_grad=True) for a in inputs]
    stack, seen = [fn(*tensors)], set()
    while stack:
        t = stack.pop()
        op = t._creator
        if op is None or id(op) in seen:
            continue
        seen.add(id(op))
        if _saved_reads(op, t.data):
            assert type(op).saves_outputs, f"{type(op).__name__} saves its output"
        stack.extend(op.inputs)
        # an op's other outputs are reached through the ops that used them; its own are
        # checked where they are found
    assert seen


@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True), (True, True)])
def test_the_transposed_product_of_recorded_backwards_has_second_derivatives(ta, tb):
    from shenjing.functional.linalg import matmul_t

    # op(a) is (2, 3, 4) and op(b) (4, 3): a batch of products, b broadcast over it
    a, b = _away((2, 4, 3) if ta else (2, 3, 4)), _away((3, 4) if tb else (4, 3))
    assert gradgradcheck(lambda x, y: matmul_t(x, y, ta, tb) ** 2, a, b)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_third_derivatives_match_torch(name):
    # tanh's and sigmoid's recorded backward is one op (g f'(x)), itself differentiable twice
    th = require_torch()
    x0 = np.array([-1.5, -0.2, 0.4, 2.0], np.float32)
    results = []
    for lib in (shenjing, th):
        x = lib.tensor(x0, requires_grad=True)
        y = getattr(x * 1.5, name)().sum()
        derivatives = []
        for _ in range(3):
            (y,) = lib.autograd.grad(y, x, create_graph=True)
            derivatives.append(y.detach().numpy())
            y = (y * y).sum() if not derivatives[1:] else y.sum()
        results.append(derivatives)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_third_derivatives_through_a_network_match_torch():
    # the matmuls' and linear's recorded backwards (transposed products) differentiated twice
    th = require_torch()
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((3, 2)).astype(np.float32)
    w0 = rng.standard_normal((2, 5)).astype(np.float32)
    v0 = rng.standard_normal((5, 1)).astype(np.float32)
    results = []
    for lib, linear in ((shenjing, lambda h, w: F.linear(h, w)), (th, lambda h, w: h @ w)):
        x = lib.tensor(x0, requires_grad=True)
        w, v = lib.tensor(w0, requires_grad=True), lib.tensor(v0)
        y = (linear(x, w).tanh() @ v).sum()
        out = []
        for _ in range(3):
            (y,) = lib.autograd.grad(y, x, create_graph=True)
            out.append(y.detach().numpy())
            y = (y * y).sum()
        y.backward()
        results.append(out + [w.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_a_gradient_penalty_through_an_lstm_matches_torch():
    # WGAN-GP on a recurrent critic: the penalty's gradient with respect to the weights goes
    # through the LSTM's backward, which create_graph replays with recorded ops
    torch = require_torch()
    rng = np.random.default_rng(5)
    x0, k0, u0, b0 = (rng.standard_normal(s) * 0.5 for s in ((2, 5, 3), (3, 8), (2, 8), (8,)))
    x, k, u, b = (shenjing.tensor(a, dtype=np.float64, requires_grad=True)
                  for a in (x0, k0, u0, b0))
    h0 = shenjing.zeros(2, 2, dtype=np.float64)
    out, _, _ = F.recurrence("lstm", x, k, u, b, [h0, h0])
    (gx,) = shenjing.autograd.grad(out.sum(), x, create_graph=True)
    ((gx * gx).sum()).backward()

    lstm = torch.nn.LSTM(3, 2, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # Keras's layout: i, f, c, o as torch's i, f, g, o; one bias
        lstm.weight_ih_l0.copy_(torch.tensor(k0.T))
        lstm.weight_hh_l0.copy_(torch.tensor(u0.T))
        lstm.bias_ih_l0.copy_(torch.tensor(b0))
        lstm.bias_hh_l0.zero_()
    tx = torch.tensor(x0, requires_grad=True)
    (tgx,) = torch.autograd.grad(lstm(tx)[0].sum(), tx, create_graph=True)
    ((tgx * tgx).sum()).backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(k.grad.numpy(), lstm.weight_ih_l0.grad.numpy().T, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(u.grad.numpy(), lstm.weight_hh_l0.grad.numpy().T, rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("fn", [lambda x: x.abs(), lambda x: x.relu()], ids=["abs", "relu"])
def test_the_gradient_of_a_piecewise_linear_function_can_be_differentiated_again(fn):
    """Its derivative is a constant, yet with create_graph it stays in x's graph (torch's):
    differentiating it again gives zeros, not 'does not require grad'."""
    x = shenjing.tensor([1.0, -2.0], requires_grad=True)
    (g,) = shenjing.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = shenjing.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [0.0, 0.0])
