"""Property-based tests (hypothesis): binary ops over random broadcastable shapes, reductions over
random axes with and without keepdims. The expected values come from NumPy alone, so these
also check the engine's unbroadcasting independently of the op tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import shenjing
from shenjing import F

SETTINGS = settings(max_examples=40, deadline=None)

ANY = st.floats(-3, 3, width=32)
NONZERO = st.one_of(st.floats(-3, -0.5, width=32), st.floats(0.5, 3, width=32))
POSITIVE = st.floats(0.5, 2, width=32)


def _share_of_a(a, b, a_wins):
    return np.where(a == b, 0.5, a_wins)  # ties split evenly, as torch


# name: (op, NumPy op, elements of a, elements of b, (a, b) -> (da, db) partial derivatives)
BINARY = {
    "add": (F.add, np.add, ANY, ANY, lambda a, b: (1.0, 1.0)),
    "sub": (F.sub, np.subtract, ANY, ANY, lambda a, b: (1.0, -1.0)),
    "mul": (F.mul, np.multiply, ANY, ANY, lambda a, b: (b, a)),
    "div": (F.div, np.divide, ANY, NONZERO, lambda a, b: (1 / b, -a / b**2)),
    "pow": (F.pow, np.power, POSITIVE, ANY, lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
    "maximum": (F.maximum, np.maximum, ANY, ANY,
                lambda a, b: (_share_of_a(a, b, a > b), 1 - _share_of_a(a, b, a > b))),
    "minimum": (F.minimum, np.minimum, ANY, ANY,
                lambda a, b: (_share_of_a(a, b, a < b), 1 - _share_of_a(a, b, a < b))),
}


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added to or stretched from ``shape``."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True).reshape(shape)


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(data=st.data())
def test_binary_op_broadcasts_like_numpy(name, data):
    op, np_op, elements_a, elements_b, partials = BINARY[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a_shape, b_shape = shapes.input_shapes
    a = data.draw(arrays(np.float32, a_shape, elements=elements_a), label="a")
    b = data.draw(arrays(np.float32, b_shape, elements=elements_b), label="b")
    ta = shenjing.tensor(a, requires_grad=True)
    tb = shenjing.tensor(b, requires_grad=True)

    y = op(ta, tb)
    assert y.dtype == np.float32
    assert y.shape == shapes.result_shape
    np.testing.assert_allclose(y.numpy(), np_op(a, b), rtol=1e-6)

    u = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(u)
    a64, b64 = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    da, db = partials(a64, b64)
    for t, d in ((ta, da), (tb, db)):
        assert t.grad.shape == t.shape and t.grad.dtype == np.float32
        expected = unbroadcast(u * np.broadcast_to(d, y.shape), t.shape)
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-4, atol=1e-4)


def _axes_and_keepdims(data, ndim):
    axes = data.draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1) if ndim else st.nothing(),
        st.lists(st.integers(0, ndim - 1), unique=True).map(tuple) if ndim else st.just(()),
    ), label="axis")
    return axes, data.draw(st.booleans(), label="keepdims")


def _reduced(axis, ndim):
    """``axis`` as the tuple of reduced axes, non-negative."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _np_logsumexp(x, axis, keepdims):
    x = x.astype(np.float64)
    m = x.max(axis=axis, keepdims=True)
    y = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return y if keepdims else y.squeeze(axis=_reduced(axis, x.ndim))


REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "std": np.std,
    "logsumexp": _np_logsumexp,
}


@pytest.mark.parametrize("name", REDUCTIONS)
@SETTINGS
@given(data=st.data())
def test_reduction_over_random_axes_is_numpys(name, data):
    x = data.draw(arrays(np.float32, array_shapes(min_dims=0, max_dims=3, max_side=4),
                         elements=ANY), label="x")
    axis, keepdims = _axes_and_keepdims(data, x.ndim)
    y = getattr(F, name)(shenjing.tensor(x), axis=axis, keepdims=keepdims)
    expected = REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    assert y.dtype == np.float32
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


# The gradient of a reduction, summed over the n reduced entries, gives back the upstream gradient
# times a known constant: n for sum (n ones), 1 for mean (n entries of 1/n), 1 for max, min and
# logsumexp (their weights sum to one), 0 for var (deviations from the mean sum to zero). std is
# left out: its gradient is infinite where the variance is 0, which random data hits.
GRADIENT_MASS = {
    "sum": lambda n: n,
    "mean": lambda n: 1.0,
    "max": lambda n: 1.0,
    "min": lambda n: 1.0,
    "logsumexp": lambda n: 1.0,
    "var": lambda n: 0.0,
}


@pytest.mark.parametrize("name", GRADIENT_MASS)
@SETTINGS
@given(data=st.data())
def test_reduction_gradient_sums_back_to_upstream(name, data):
    x = data.draw(arrays(np.float32, array_shapes(min_dims=0, max_dims=3, max_side=4),
                         elements=ANY), label="x")
    axis, keepdims = _axes_and_keepdims(data, x.ndim)
    t = shenjing.tensor(x, requires_grad=True)
    y = getattr(F, name)(t, axis=axis, keepdims=keepdims)
    u = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(u)
    assert t.grad.shape == x.shape and t.grad.dtype == np.float32
    reduced = _reduced(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in reduced]))
    mass = t.grad.numpy().sum(axis=reduced, keepdims=keepdims)
    np.testing.assert_allclose(mass, GRADIENT_MASS[name](n) * u, rtol=1e-4, atol=1e-4)
    if name in ("max", "min"):  # only the extreme entries receive gradient
        extreme = getattr(np, name)(x, axis=axis, keepdims=True)
        assert np.all(t.grad.numpy()[x != extreme] == 0)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1])
@SETTINGS
@given(data=st.data())
def test_var_and_std_with_ddof_match_numpy_in_value_and_gradient(name, ddof, data):
    """var and std with ddof 0 and 1 over random axes, against NumPy's values and the closed
    form of the gradient: d var / dx = 2 (x - mean) / (n - ddof), d std = d var / (2 std).
    Drawn with n > ddof and a spread of values (std's gradient is infinite at zero spread)."""
    x = data.draw(arrays(np.float32, array_shapes(min_dims=1, max_dims=3, max_side=4),
                         elements=ANY), label="x")
    axis, keepdims = _axes_and_keepdims(data, x.ndim)
    reduced = _reduced(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in reduced]))
    x64 = x.astype(np.float64)
    var = x64.var(axis=reduced, keepdims=True, ddof=ddof) if n > ddof else None
    assume(var is not None and var.min() > 1e-2)
    t = shenjing.tensor(x, requires_grad=True)
    y = getattr(F, name)(t, axis=axis, keepdims=keepdims, ddof=ddof)
    expected = getattr(np, name)(x64, axis=axis, keepdims=keepdims, ddof=ddof)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    u = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(u)
    grad = 2 * (x64 - x64.mean(axis=reduced, keepdims=True)) / (n - ddof)
    if name == "std":
        grad = grad / (2 * np.sqrt(var))
    u_full = u if keepdims else np.expand_dims(u, reduced)
    np.testing.assert_allclose(t.grad.numpy(), grad * u_full, rtol=1e-4, atol=1e-4)


@SETTINGS
@given(data=st.data())
def test_where_and_tensor_bounded_clip_broadcast_like_numpy(data):
    """where(c, a, b) and clip(x, lo, hi) with three broadcastable operands: NumPy's values,
    and each operand's gradient is the upstream gradient where it was chosen, unbroadcast
    (torch's clamp rule: x's between the bounds, a bound's where it binds). Values are
    distinct (no ties at the bounds) and lo < hi."""
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    s_x, s_lo, s_hi = shapes.input_shapes
    x = data.draw(arrays(np.float32, s_x, elements=st.floats(-3, 3, width=32)), label="x")
    lo = data.draw(arrays(np.float32, s_lo, elements=st.floats(-2, -0.25, width=32)), label="lo")
    hi = data.draw(arrays(np.float32, s_hi, elements=st.floats(0.25, 2, width=32)), label="hi")
    xb, lob, hib = np.broadcast_arrays(x, lo, hi)
    assume(not ((xb == lob) | (xb == hib)).any())
    u = np.random.default_rng(0).standard_normal(shapes.result_shape)
    for op in ("clip", "where"):
        ts = [shenjing.tensor(v, requires_grad=True) for v in (x, lo, hi)]
        if op == "clip":
            y = F.clip(*ts)
            expected = np.minimum(np.maximum(xb, lob), hib)
            chosen = [(lob < xb) & (xb < hib), xb < lob, xb > hib]
        else:
            cond = xb > 0
            y = F.where(cond, ts[1], ts[2])
            expected = np.where(cond, lob, hib)
            chosen = [np.zeros_like(cond), cond, ~cond]
        np.testing.assert_array_equal(y.numpy(), expected)
        y.backward(u)
        for t, mask in zip(ts, chosen):
            want = unbroadcast(u * mask, t.shape)
            got = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
