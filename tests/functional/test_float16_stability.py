"""float16 inputs where float16 arithmetic itself fails, computed in float32 and cast back (as
torch's CPU kernels do): GELU's erf cancelled (45% off), its tanh form's x**3 overflowed (NaN
gradients), SiLU and Mish below -8 lost up to 29% of the gradient, RMS norm's squares overflowed
at 256 (all zeros), Huber and smooth L1 overflowed or divided 0 by 0. Each against float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing
import shenjing.nn.functional as SF
from shenjing import F, ops

X = np.linspace(-8, 8, 41).astype(np.float16)


def _float64(fn, x):
    t = shenjing.tensor(np.asarray(x, np.float64), dtype=np.float64, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.numpy(), t.grad.numpy()


@pytest.mark.parametrize("name, fn", [
    ("gelu", lambda t: F.gelu(t)),
    ("gelu_tanh", lambda t: F.gelu(t, approximate=True)),
    ("silu", lambda t: F.silu(t)),
    ("mish", lambda t: ops.mish(t)),
])
def test_activations_of_float16_are_float32_accurate(name, fn):
    x = shenjing.tensor(X, dtype=np.float16, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    want, want_grad = _float64(fn, X)
    assert y.dtype == np.float16 and x.grad.dtype == np.float16
    scale = np.abs(want) + 1e-3  # float16 keeps ~3 digits: 1e-3 relative is its rounding
    assert np.max(np.abs(y.numpy() - want) / scale) < 2e-3
    assert np.max(np.abs(x.grad.numpy() - want_grad) / (np.abs(want_grad) + 1e-3)) < 2e-3


def test_gelu_tanh_form_of_huge_float16_has_finite_gradients():
    x = shenjing.tensor(np.array([-1000.0, 1000.0], np.float16), requires_grad=True)
    F.gelu(x, approximate=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


def test_rms_norm_of_float16_above_256():
    x = np.array([[300.0, -300.0, 100.0, 0.0]], np.float16)
    want = x.astype(np.float64) / math.sqrt((x.astype(np.float64) ** 2).mean() + 1e-6)
    layer = shenjing.layers.RMSNormalization(dtype="float16")
    for got in (SF.rms_norm(shenjing.tensor(x, dtype=np.float16), (4,), eps=1e-6), layer(x)):
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.numpy(), want, rtol=2e-3)


def test_huber_and_smooth_l1_of_float16():
    far = shenjing.tensor(np.array([1000.0], np.float16))
    zero = shenjing.tensor(np.array([0.0], np.float16))
    assert float(SF.smooth_l1_loss(far, zero, beta=100.0).item()) == 950.0  # was inf
    one = shenjing.tensor(np.array([1.0], np.float16))
    assert float(SF.smooth_l1_loss(one, zero, beta=1e-8).item()) == 1.0  # was NaN (0 / 0)
    assert float(SF.huber_loss(one, zero, delta=1e-8).item()) == pytest.approx(1e-8, rel=1e-2)
