"""``keras.ops.linalg`` (and the same names at the top of ``keras.ops``): values against NumPy's
LAPACK (float64 inputs stay float64), Keras's argument names, gradients through gradcheck, the
singular-value norms of ``ops.norm``, and the namespace."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from shenjing import ops

RNG = np.random.default_rng(5)
SPD = (lambda m: m @ m.T + 4 * np.eye(4))(RNG.standard_normal((4, 4)))
TALL = RNG.standard_normal((5, 3))
B = RNG.standard_normal((4, 2))


def _np(t):
    return t.numpy() if isinstance(t, shenjing.Tensor) else np.asarray(t)


def _f64(x):
    return shenjing.tensor(x, dtype=np.float64)


def test_values_match_numpy():
    a, b = _f64(SPD), _f64(B)
    lower = np.linalg.cholesky(SPD)
    np.testing.assert_allclose(_np(ops.linalg.cholesky(a)), lower, rtol=1e-12)
    np.testing.assert_allclose(_np(ops.cholesky(a, upper=True)), lower.T, rtol=1e-12)
    np.testing.assert_allclose(_np(ops.linalg.cholesky_inverse(shenjing.tensor(
        lower, dtype=np.float64))), np.linalg.inv(SPD), rtol=1e-10)
    np.testing.assert_allclose(_np(ops.cholesky_inverse(shenjing.tensor(
        lower.T, dtype=np.float64), upper=True)), np.linalg.inv(SPD), rtol=1e-10)
    np.testing.assert_allclose(_np(ops.det(a)), np.linalg.det(SPD), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.inv(a)), np.linalg.inv(SPD), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.eigh(a)[0]), np.linalg.eigvalsh(SPD), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.solve(a, b)), np.linalg.solve(SPD, B), rtol=1e-12)
    for lower_part in (True, False):
        tri = np.tril(SPD) if lower_part else np.triu(SPD)
        np.testing.assert_allclose(_np(ops.solve_triangular(a, b, lower=lower_part)),
                                   np.linalg.solve(tri, B), rtol=1e-12)
    tall = shenjing.tensor(TALL, dtype=np.float64)
    u, s, vh = ops.svd(tall)
    assert u.shape == (5, 5) and vh.shape == (3, 3)
    np.testing.assert_allclose(_np(ops.svd(tall, compute_uv=False)),
                               np.linalg.svd(TALL, compute_uv=False), rtol=1e-12)
    q, r = ops.qr(tall, mode="complete")
    assert q.shape == (5, 5) and r.shape == (5, 3)
    np.testing.assert_allclose(_np(q @ r), TALL, atol=1e-12)
    y = RNG.standard_normal(5)
    np.testing.assert_allclose(_np(ops.lstsq(tall, _f64(y))),
                               np.linalg.lstsq(TALL, y, rcond=None)[0], rtol=1e-10)
    np.testing.assert_allclose(_np(ops.pinv(tall)), np.linalg.pinv(TALL), rtol=1e-10)
    low = TALL[:, :2] @ RNG.standard_normal((2, 3))  # rank 2
    assert int(_np(ops.matrix_rank(low))) == 2 and int(_np(ops.matrix_rank(low, tol=1e3))) == 0
    sign, logabs = ops.slogdet(a)
    np.testing.assert_allclose(_np(logabs), np.log(np.linalg.det(SPD)), rtol=1e-12)
    np.testing.assert_allclose(_np(ops.logdet(a)), np.log(np.linalg.det(SPD)), rtol=1e-12)
    assert _np(ops.logdet(np.diag([2.0, -1.0]))) == np.float32(np.log(2.0))  # log |det|, as
    # Keras on JAX (torch's would be NaN)
    for order in (2, -2, "nuc"):
        np.testing.assert_allclose(_np(ops.norm(tall, ord=order)),
                                   np.linalg.norm(TALL, ord=order), rtol=1e-12)
    assert ops.det([[1, 2], [3, 4]]).dtype == np.float32  # integers: floatx


def test_gradients():
    spd = lambda m: m @ m.mT + 4 * shenjing.eye(3, dtype=np.float64)  # noqa: E731
    assert shenjing.gradcheck(lambda m: ops.cholesky_inverse(ops.cholesky(spd(m))), TALL[:3])
    assert shenjing.gradcheck(lambda m: ops.solve_triangular(m, shenjing.tensor(
        B[:3], dtype=np.float64), lower=True), np.tril(TALL[:3]) + 3 * np.eye(3))
    assert shenjing.gradcheck(lambda m: ops.lstsq(m, shenjing.tensor(
        np.arange(5.0), dtype=np.float64)), TALL)
    assert shenjing.gradcheck(lambda m: ops.norm(m, ord="nuc") + ops.norm(m, ord=2), TALL)


def test_named_results_and_cholesky_inverse_reads_its_triangle():
    assert ops.eigh(SPD).eigenvalues.shape == (4,) and ops.qr(TALL).Q.shape == (5, 3)
    assert ops.svd(TALL).S.shape == (3,)
    factor = np.array([[2.0, 5.0, 7.0], [1.0, 2.0, 9.0], [0.3, 0.4, 1.5]])  # junk above
    lower = np.tril(factor)
    np.testing.assert_allclose(_np(ops.cholesky_inverse(_f64(factor))),
                               np.linalg.inv(lower @ lower.T), rtol=1e-10)


def test_namespace_and_errors():
    assert set(ops.linalg.__all__) == {
        "cholesky", "cholesky_inverse", "det", "eigh", "inv", "lstsq", "matrix_rank", "norm",
        "pinv", "qr", "solve", "solve_triangular", "svd"}
    with pytest.raises(ValueError, match="mode must be 'reduced' or 'complete'"):
        ops.qr(TALL, mode="r")
    with pytest.raises(ValueError, match="no matrix norm"):
        ops.norm(TALL, ord=3, axis=(0, 1))
