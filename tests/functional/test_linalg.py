"""Matrix products: matmul (NumPy's rules: batched, broadcast, 1-D) and the fused linear."""

from __future__ import annotations

import sys
import sysconfig
import weakref

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, normal, torch
from shenjing import F
from shenjing.autograd import temporary

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),  # batch on the left only: b's gradient sums over the batch
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),  # batch axes broadcast against each other
    ((4,), (4, 5)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4,)),  # dot product: a 0-d result
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes, rng):
    assert shenjing.gradcheck(F.matmul, *[normal(rng, s) for s in shapes])


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes, rng):
    assert_same_as_torch(lambda a, b: a @ b, [normal(rng, s) for s in shapes])


def test_matmul_with_a_constant_operand(rng):
    w = normal(rng, (4, 2))
    assert_same_as_torch(lambda x: x @ w, [normal(rng, (3, 4))],
                         lambda t: t @ torch.from_numpy(w.astype(np.float32)))
    x = shenjing.tensor(normal(rng, (3, 4)), requires_grad=True)
    (w.T @ x.T).sum().backward()  # ndarray @ Tensor uses Tensor.__rmatmul__
    np.testing.assert_allclose(x.grad.numpy(), np.tile(w.sum(axis=1), (3, 1)), rtol=1e-6)


@pytest.mark.parametrize("a_shape, b_shape", [((), (3,)), ((3, 4), (3, 4)), ((4,), (3,))], ids=str)
def test_matmul_misaligned_raises(a_shape, b_shape):
    with pytest.raises(ValueError, match="matmul"):
        F.matmul(shenjing.tensor(np.zeros(a_shape)), shenjing.tensor(np.zeros(b_shape)))


# (x shape, use a bias): the kernel is (in, out) = (x.shape[-1], 3), as Keras's Dense.
LINEAR_CASES = [((5, 4), True), ((5, 4), False), ((2, 5, 4), True), ((4,), True)]


def _linear_inputs(x_shape, bias, rng):
    inputs = [normal(rng, x_shape), normal(rng, (x_shape[-1], 3))]
    return inputs + [normal(rng, (3,))] if bias else inputs


@pytest.mark.parametrize("x_shape, bias", LINEAR_CASES, ids=str)
def test_linear_gradcheck(x_shape, bias, rng):
    assert shenjing.gradcheck(F.linear, *_linear_inputs(x_shape, bias, rng))


@pytest.mark.parametrize("x_shape, bias", LINEAR_CASES, ids=str)
def test_linear_matches_torch(x_shape, bias, rng):
    # torch's linear takes the weight as (out, in), hence the transpose.
    assert_same_as_torch(F.linear, _linear_inputs(x_shape, bias, rng),
                         lambda x, w, b=None: torch.nn.functional.linear(x, w.T, b))


def test_linear_gradient_of_kernel_only(rng):
    x, w, b = _linear_inputs((5, 4), True, rng)
    kernel = shenjing.tensor(w, requires_grad=True)
    F.linear(shenjing.tensor(x), kernel, shenjing.tensor(b)).sum().backward()
    np.testing.assert_allclose(kernel.grad.numpy(), np.tile(x.sum(axis=0)[:, None], (1, 3)),
                               rtol=1e-5)


def test_linear_gradient_of_input_only(rng):
    """The input's gradient alone, with a constant kernel and, through grad(), with a kernel
    that wants one too (only the asked-for product runs: a GAN's generator step through the
    discriminator's last layer)."""
    x, w, b = _linear_inputs((5, 4), True, rng)
    expected = np.tile(w.sum(axis=1), (5, 1))
    inp = shenjing.tensor(x, requires_grad=True)
    F.linear(inp, shenjing.tensor(w), shenjing.tensor(b)).sum().backward()
    np.testing.assert_allclose(inp.grad.numpy(), expected, rtol=1e-5)
    inp, kernel = shenjing.tensor(x, requires_grad=True), shenjing.tensor(w, requires_grad=True)
    (gx,) = shenjing.autograd.grad(F.linear(inp, kernel, shenjing.tensor(b)).sum(), [inp])
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-5)
    assert kernel.grad is None


@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", [
    ((5, 4), (3, 4), None, "does not match kernel"),
    ((5, 4), (4,), None, "does not match kernel"),
    ((5, 4), (4, 3), (4,), "bias of shape"),
], ids=["transposed_kernel", "1d_kernel", "bias"])
def test_linear_mismatched_shapes_raise(x_shape, w_shape, b_shape, message):
    x, w = shenjing.tensor(np.zeros(x_shape)), shenjing.tensor(np.zeros(w_shape))
    b = None if b_shape is None else shenjing.tensor(np.zeros(b_shape))
    with pytest.raises(ValueError, match=message):
        F.linear(x, w, b)


needs_temporaries = pytest.mark.skipif(
    not temporary.ALONE, reason="this Python's reference counts cannot tell a temporary")


FUSED = {
    "linear": (F.linear, [(5, 4), (4, 3), (3,)]),
    "linear over time": (F.linear, [(2, 3, 4), (4, 5), (5,)]),  # (batch, time, features)
    "conv2d": (lambda x, k, b, **kw: F.conv2d(x, k, b, padding="same", **kw),
               [(2, 5, 4, 3), (3, 3, 3, 2), (2,)]),
}


@pytest.mark.parametrize("op", FUSED)
def test_fused_relu_gradcheck(op, rng):
    fn, shapes = FUSED[op]
    inputs = [normal(rng, s) for s in shapes]
    assert shenjing.gradcheck(lambda *t: fn(*t, activation="relu"), *inputs)


@pytest.mark.parametrize("op", FUSED)
def test_fused_activation_other_than_relu_is_refused(op, rng):
    fn, shapes = FUSED[op]
    with pytest.raises(ValueError, match="fused activation must be None or 'relu'.*'tanh'"):
        fn(*[shenjing.tensor(rng.standard_normal(s)) for s in shapes], activation="tanh")


@pytest.mark.parametrize("way", ["fused", pytest.param("folded", marks=needs_temporaries)])
@pytest.mark.parametrize("op", FUSED)
def test_fused_and_folded_relu_are_relu_after_the_op(op, way, rng):
    """``op(..., activation='relu')``, and ``relu(op(...))`` whose output nothing else holds
    (folded into the op as its fused ReLU: no ReLU op), give the values and gradients of a
    ReLU of a named output, which is an op of its own."""
    fn, shapes = FUSED[op]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for variant in (way, "separate"):
        tensors = [shenjing.tensor(a, requires_grad=True) for a in arrays]
        if variant == "fused":
            y = fn(*tensors, activation="relu")
        elif variant == "folded":
            y = F.relu(fn(*tensors))
            assert type(y.grad_fn).__name__ in ("_Linear", "_Conv2D")
            assert y.grad_fn.saved[-1] == "relu"
        else:
            z = fn(*tensors)
            y = F.relu(z)
            assert y.grad_fn is not z.grad_fn and type(y.grad_fn).__name__ == "_ReLU"
            assert (z.numpy() < 0).any()  # the output the caller holds keeps its values
        (y * y).sum().backward()
        results.append([y.numpy()] + [t.grad.numpy() for t in tensors])
    assert (results[0][0] == 0).any() and (results[0][0] > 0).any()  # both sides of the kink
    for a, b in zip(*results):
        if way == "folded":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@needs_temporaries
def test_relu_folds_only_what_no_one_else_holds(rng):
    x = shenjing.tensor(normal(rng, (6, 4)))
    w = shenjing.tensor(normal(rng, (4, 5)), requires_grad=True)
    kept = [F.linear(x, w)]  # held by a list
    before = kept[0].numpy().copy()
    assert type(F.relu(kept[0]).grad_fn).__name__ == "_ReLU"
    np.testing.assert_array_equal(kept[0].numpy(), before)
    z = F.linear(x, w)
    view = z[1:]  # held by a view's op
    del z
    assert (view.numpy() < 0).any()
    twice = F.linear(x, w, activation="relu")  # already fused: relu of it is a ReLU op
    assert type(F.relu(twice).grad_fn).__name__ == "_ReLU"
    with shenjing.autograd.detect_anomaly():  # anomaly mode names every op: nothing folded
        assert type(F.relu(F.linear(x, w)).grad_fn).__name__ == "_ReLU"
    with shenjing.no_grad():  # no op recorded to fold into: a plain ReLU
        np.testing.assert_array_equal(F.relu(F.linear(x, w)).numpy(),
                                      np.maximum(x.numpy() @ w.numpy(), 0))
    a = x.numpy()  # a temporary array (F.relu takes arrays as constants): nothing to fold
    np.testing.assert_array_equal(F.relu(a * 1).numpy(), np.maximum(a, 0))


@needs_temporaries
@pytest.mark.parametrize("alias", ["detach", "numpy", "no-grad view", "weakref"])
def test_relu_does_not_fold_an_output_whose_memory_is_shared(alias, rng):
    """A Tensor no one holds may still share its array: what a hook or an auxiliary loss kept
    (``z.detach()``, ``z.numpy()``, a view taken under no_grad, a weak reference) keeps the
    pre-activation values, and a gradient read off them stays right."""
    x = shenjing.tensor(normal(rng, (6, 4)))
    w = shenjing.tensor(normal(rng, (4, 5)), requires_grad=True)
    v = shenjing.tensor(np.ones((6, 5)), requires_grad=True)
    kept = []

    def block():
        z = F.linear(x, w)
        if alias == "detach":
            kept.append(z.detach())
        elif alias == "numpy":
            kept.append(z.numpy())
        elif alias == "no-grad view":
            with shenjing.no_grad():
                kept.append(z[:, :3])
        else:
            kept.append(weakref.ref(z))
        return z

    y = F.relu(block())
    assert type(y.grad_fn).__name__ == "_ReLU"
    pre = x.numpy() @ w.numpy()
    if alias == "weakref":
        assert kept[0]() is not y
    else:
        seen = kept[0].numpy() if isinstance(kept[0], shenjing.Tensor) else kept[0]
        np.testing.assert_array_equal(seen, pre[:, :seen.shape[1]])
    if alias == "detach":  # a loss on the detached alias: v's gradient is the pre-activation
        (kept[0] * v).sum().backward()
        np.testing.assert_array_equal(v.grad.numpy(), pre)


def test_relu_under_no_grad_of_a_recorded_temporary_records_nothing(rng):
    x = shenjing.tensor(normal(rng, (6, 4)))
    w = shenjing.tensor(normal(rng, (4, 5)), requires_grad=True)

    def recorded():
        with shenjing.enable_grad():
            return F.linear(x, w)

    with shenjing.no_grad():
        y = F.relu(recorded())
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), np.maximum(x.numpy() @ w.numpy(), 0))


@pytest.mark.parametrize("shapes", [((3, 0), (0, 5)), ((0, 4), (4, 5)), ((3, 4), (4, 0))],
                         ids=["no inputs", "no rows", "no outputs"])
def test_linear_of_empty_operands_forward_and_backward(shapes):
    x, w = (shenjing.tensor(np.ones(s), requires_grad=True) for s in shapes)
    b = shenjing.tensor(np.ones(shapes[1][1]), requires_grad=True)
    for y in (F.relu(F.linear(x, w, b)), F.linear(x, w, b, activation="relu")):
        assert y.shape == (shapes[0][0], shapes[1][1])
        x.grad = w.grad = b.grad = None
        y.sum().backward()
        assert x.grad.shape == x.shape and w.grad.shape == w.shape and b.grad.shape == b.shape
        assert not w.grad.numpy().any()
    y = F.linear(x, w, b)  # and a gradient of the gradient (create_graph)
    gx, gw = shenjing.autograd.grad((y * y).sum(), [x, w], create_graph=True)
    assert gx.shape == x.shape and gw.shape == w.shape


@needs_temporaries
@pytest.mark.parametrize("op", FUSED)
def test_folded_relu_gradcheck_second_order(op, rng):
    fn, shapes = FUSED[op]
    inputs = [normal(rng, s) for s in shapes]
    assert shenjing.gradcheck(lambda *t: F.relu(fn(*t)), *inputs)
    assert shenjing.diagnostics.gradgradcheck(lambda *t: F.relu(fn(*t)), *inputs)


def test_temporaries_are_told_apart_only_where_counts_say_so():
    """CPython 3.11 to 3.13 (with the GIL) hand an argument evaluated in the call to the
    callee's frame: 2 references inside (the frame's, getrefcount's); 3.10 keeps the caller's
    stack's too: 3. Elsewhere: 0, none."""
    counted = (sys.implementation.name == "cpython" and sys.version_info < (3, 14)
               and not sysconfig.get_config_var("Py_GIL_DISABLED"))
    expected = (3 if sys.version_info < (3, 11) else 2) if counted else 0
    assert temporary.ALONE == expected
