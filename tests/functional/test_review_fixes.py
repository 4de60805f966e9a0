"""Fixes from a review, each against torch where torch has the op: logaddexp of equal
infinities, float16 gradients (broadcast under create_graph, retain_grad, cumsum), NumPy integer
conv groups, max pooling's NaN windows, integer div rounding, and nansum of integers."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing import F, Tensor

INF = np.inf


def test_logaddexp_of_infinities_matches_torch():
    """Equal infinities gave NaN (inf - inf); their gradient is split evenly where torch's is
    NaN, and is torch's everywhere else."""
    torch = require_torch()
    a0 = np.array([INF, -INF, INF, -INF, 1.0, 2.0, 3e6, 0.0], np.float32)
    b0 = np.array([INF, -INF, 1.0, 1.0, -INF, 2.0, 3e6, -1.0], np.float32)
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    y, ty = a.logaddexp(b), torch.logaddexp(ta, tb)
    y.backward(Tensor(np.ones(8, np.float32)))
    ty.backward(torch.ones(8))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    for ours, theirs in ((a.grad.numpy(), ta.grad.numpy()), (b.grad.numpy(), tb.grad.numpy())):
        torch_nan = np.isnan(theirs)
        np.testing.assert_array_equal(torch_nan, [True, True] + [False] * 6)
        np.testing.assert_array_equal(ours[torch_nan], 0.5)
        np.testing.assert_allclose(ours[~torch_nan], theirs[~torch_nan], rtol=1e-6)


def test_float16_broadcast_gradient_under_create_graph_matches_torch(rng):
    """unbroadcast summed a Tensor gradient with NumPy's dtype= argument, which Tensor.sum
    lacks: a float16 bias failed under create_graph. Its gradient and the second derivative."""
    torch = require_torch()
    x0 = rng.standard_normal((4, 3)).astype(np.float16)
    b0 = rng.standard_normal(3).astype(np.float16)
    grads = []
    for m in (shenjing, torch):
        x, b = m.tensor(x0, dtype=m.float16), m.tensor(b0, dtype=m.float16, requires_grad=True)
        (g,) = m.autograd.grad((x * b * b).sum(), b, create_graph=True)
        assert g.requires_grad and g.dtype == b.dtype
        (gg,) = m.autograd.grad(g.sum(), b)
        grads.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*grads):
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours, theirs, rtol=2e-3)


def test_retain_grad_keeps_the_tensors_dtype():
    """A float16 tensor times float32 weights got a float32 gradient, which the .grad setter
    refused in the middle of backward."""
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    h = F.cast(a, np.float16)
    h.retain_grad()
    (h @ Tensor(np.full((3, 2), 2.0, np.float32))).sum().backward()
    assert h.grad.dtype == np.float16
    np.testing.assert_array_equal(h.grad.numpy(), np.full((2, 3), 4.0))
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 4.0))


@pytest.mark.parametrize("groups", [np.int64(2), np.int32(2)])
def test_conv_takes_a_numpy_integer_groups_as_torch(groups, rng):
    torch = require_torch()
    nf = shenjing.nn.functional
    x2, w2 = rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((6, 2, 3, 3))
    x1, w1 = rng.standard_normal((1, 4, 7)), rng.standard_normal((6, 2, 3))
    for ours, theirs, x, w in ((nf.conv2d, torch.nn.functional.conv2d, x2, w2),
                               (nf.conv1d, torch.nn.functional.conv1d, x1, w1)):
        y = ours(Tensor(x), Tensor(w), groups=groups)
        ty = theirs(torch.tensor(x), torch.tensor(w), groups=groups)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_max_pool_nan_windows_send_their_gradient_to_the_last_nan_as_torch(seed):
    """torch's CPU kernel takes a NaN over anything (``val > max || isnan(val)``), so a window
    with several NaNs sends its gradient to the last; it went to the first. Random windows
    (overlapping, padded) with NaNs and -inf."""
    torch = require_torch()
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((2, 3, *rng.integers(3, 8, 2))).astype(np.float32)
    x0[rng.random(x0.shape) < 0.3] = np.nan
    x0[rng.random(x0.shape) < 0.1] = -INF
    kernel = int(rng.integers(2, 4))
    options = {"kernel_size": kernel, "stride": int(rng.integers(1, 4)),
               "padding": int(rng.integers(0, kernel // 2 + 1))}
    x, tx = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y = shenjing.nn.functional.max_pool2d(x, **options)
    ty = torch.nn.functional.max_pool2d(tx, **options)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(Tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_max_pool_two_nans_in_one_window_as_torch():
    torch = require_torch()
    x0 = np.array([[[[1.0, np.nan], [np.nan, 2.0]]]], np.float32)
    x, tx = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    shenjing.nn.functional.max_pool2d(x, 2).sum().backward()
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [0, 0, 1, 0])


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_integer_div_rounding_is_exact_in_torchs_dtype(mode, dtype, rng):
    """'trunc' went through float64: int32 became int64, and 2**60 + 1 was rounded."""
    torch = require_torch()
    signed = np.dtype(dtype).kind == "i"
    a = rng.integers(-100 if signed else 0, 100, 40).astype(dtype)
    b = (rng.integers(1, 9, 40) * (rng.choice([-1, 1], 40) if signed else 1)).astype(dtype)
    for other, t_other in ((Tensor(b), torch.tensor(b)), (3, 3), (np.int64(7), np.int64(7))):
        y = Tensor(a).div(other, rounding_mode=mode)
        ty = torch.tensor(a).div(t_other, rounding_mode=mode)
        assert y.dtype == ty.numpy().dtype
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
    big = np.array([2**60 + 1, -(2**60) - 1, 2**62 - 1])
    for d in (3, -3, 7):
        np.testing.assert_array_equal(Tensor(big).div(d, rounding_mode=mode).numpy(),
                                      torch.tensor(big).div(d, rounding_mode=mode).numpy())


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_integer_div_by_zero_raises_as_torch(mode):
    """It gave INT_MIN ('trunc', through float64) or 0 with a warning ('floor'); torch raises
    (a RuntimeError that says ZeroDivisionError)."""
    torch = require_torch()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.tensor([7, 1]).div(torch.tensor([2, 0]), rounding_mode=mode)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Tensor(np.array([7, 1])).div(Tensor(np.array([2, 0])), rounding_mode=mode)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Tensor(np.array([7], np.int32)).div(0, rounding_mode=mode)
    np.testing.assert_array_equal(Tensor(np.array([7.0])).div(2, rounding_mode=mode).numpy(),
                                  [3.0])  # floats are unchanged


def test_float16_cumsum_gradient_adds_up_in_float32_as_torch():
    """The backward's reversed cumsum stalled at 2048 in float16; the forward did not."""
    torch = require_torch()
    x = Tensor(np.ones(3000), dtype=np.float16, requires_grad=True)
    tx = torch.ones(3000, dtype=torch.float16, requires_grad=True)
    x.cumsum(0).backward(Tensor(np.ones(3000), dtype=np.float16))
    tx.cumsum(0).backward(torch.ones(3000, dtype=torch.float16))
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.numpy()[0] == 3000


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.bool_])
def test_nansum_of_integers_stays_integer_as_torch(dtype):
    torch = require_torch()
    a = np.array([[3, 1], [0, 5]]).astype(dtype)
    for ours, theirs in ((shenjing.nansum(Tensor(a)), torch.nansum(torch.tensor(a))),
                         (Tensor(a).nansum(1), torch.tensor(a).nansum(1))):
        assert ours.dtype == theirs.numpy().dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
