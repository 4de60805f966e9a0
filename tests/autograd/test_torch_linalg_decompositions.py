"""``shenjing.linalg``'s decompositions (eigh, eigvalsh, svd, svdvals, qr, cholesky) and the
norms built on singular values: values, gradients and gradients of gradients against torch's
on stacks of matrices, gradcheck, and the errors. Eigenvectors and singular vectors are defined
up to sign (Q and R up to the signs of R's diagonal), so each call returns something those
signs do not change."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch

RNG = np.random.default_rng(0)
TALL = RNG.standard_normal((2, 5, 3))
WIDE = RNG.standard_normal((2, 3, 5))
SQUARE = RNG.standard_normal((2, 4, 4))
SYM = SQUARE + SQUARE.swapaxes(-1, -2)
SPD = SQUARE @ SQUARE.swapaxes(-1, -2) + 4 * np.eye(4)


def _svd_part(m, a, full=False):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    return ((u[..., :k] * u[..., :k]) * s[..., None, :]) @ (vh[..., :k, :] * vh[..., :k, :])


def _qr_part(m, a):
    q, r = m.linalg.qr(a)
    return (q * q) @ (r * r)


def _eigh_part(m, a, uplo="L"):
    values, vectors = m.linalg.eigh(a, UPLO=uplo)
    return vectors * vectors * values[..., None, :]


CALLS = {
    "eigh": lambda m: _eigh_part(m, m.tensor(SYM)),
    "eigh_upper_triangle": lambda m: _eigh_part(m, m.tensor(SYM), "U"),
    "eigvalsh": lambda m: m.linalg.eigvalsh(m.tensor(SYM)),
    "svd_tall": lambda m: _svd_part(m, m.tensor(TALL)),
    "svd_wide": lambda m: _svd_part(m, m.tensor(WIDE)),
    "svd_square": lambda m: _svd_part(m, m.tensor(SQUARE)),
    "svd_full_matrices": lambda m: _svd_part(m, m.tensor(TALL), full=True),
    "svdvals": lambda m: m.linalg.svdvals(m.tensor(WIDE)),
    "qr_tall": lambda m: _qr_part(m, m.tensor(TALL)),
    "qr_wide": lambda m: _qr_part(m, m.tensor(WIDE)),
    "qr_square": lambda m: _qr_part(m, m.tensor(SQUARE)),
    "cholesky": lambda m: m.linalg.cholesky(m.tensor(SPD)),
    "cholesky_upper": lambda m: m.linalg.cholesky(m.tensor(SPD), upper=True),
    "spectral_norm": lambda m: m.linalg.matrix_norm(m.tensor(TALL), 2),
    "smallest_singular_value": lambda m: m.linalg.matrix_norm(m.tensor(WIDE), -2),
    "nuclear_norm_over_other_axes": lambda m: m.linalg.matrix_norm(
        m.tensor(TALL), "nuc", dim=(0, 2), keepdim=True),
    "pinv_tall": lambda m: m.linalg.pinv(m.tensor(TALL)),
    "pinv_wide": lambda m: m.linalg.pinv(m.tensor(WIDE)),
    "pinv_of_rank_2": lambda m: m.linalg.pinv(m.tensor(TALL[0, :, :2] @ WIDE[0, :2, :4])),
}


class _Leaves:
    """Module-like: ``tensor(x)`` makes a float64 leaf (requires_grad) and remembers it."""

    def __init__(self, module):
        self.module, self.linalg, self.leaves = module, module.linalg, []

    def tensor(self, x):
        if self.module is sj:
            t = sj.tensor(x, dtype=np.float64, requires_grad=True)
        else:
            t = self.module.tensor(x, requires_grad=True)
        self.leaves.append(t)
        return t


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch_to_second_order(name):
    torch = require_torch()
    ours, theirs = _Leaves(sj), _Leaves(torch)
    y, t = CALLS[name](ours), CALLS[name](theirs)
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10)
    weights = RNG.standard_normal(y.shape)
    (first,) = sj.autograd.grad((y * y * sj.tensor(weights, dtype=np.float64)).sum(),
                                ours.leaves, create_graph=True)
    (reference,) = torch.autograd.grad((t * t * torch.tensor(weights)).sum(), theirs.leaves,
                                       create_graph=True)
    np.testing.assert_allclose(first.numpy(), reference.detach().numpy(), rtol=1e-8,
                               atol=1e-9)
    (first ** 2).sum().backward()
    (reference ** 2).sum().backward()
    np.testing.assert_allclose(ours.leaves[0].grad.numpy(), theirs.leaves[0].grad.numpy(),
                               rtol=1e-7, atol=1e-8)


def test_gradcheck():
    w = RNG.standard_normal((4, 4))
    sym = lambda a: a + a.mT  # noqa: E731 - eigh and cholesky read one triangle
    assert sj.gradcheck(lambda a: _eigh_part(sj, sym(a)) * w, SQUARE[0])
    assert sj.gradcheck(lambda a: sj.linalg.cholesky(a @ a.mT + 4 * sj.eye(4)) * w, SQUARE[0])
    for a in (TALL[0], WIDE[0]):
        assert sj.gradcheck(lambda a: _svd_part(sj, a), a)
        assert sj.gradcheck(lambda a: _qr_part(sj, a), a)
        assert sj.gradcheck(sj.linalg.svdvals, a)


def test_float32_stacks_and_results_by_name():
    a = sj.tensor(TALL.astype(np.float32), requires_grad=True)
    u, s, vh = result = sj.linalg.svd(a, full_matrices=False)
    assert result.S is s and u.shape == (2, 5, 3) and vh.shape == (2, 3, 3)
    assert u.dtype == np.float32
    np.testing.assert_allclose((u * s[..., None, :] @ vh).numpy(), TALL, atol=1e-5)
    q, r = sj.linalg.qr(a, mode="complete")
    assert q.shape == (2, 5, 5) and r.shape == (2, 5, 3)
    q, r = sj.linalg.qr(a, mode="r")
    assert q.shape == (0,) and r.shape == (2, 3, 3)
    values = sj.linalg.eigh(sj.tensor(SYM)).eigenvalues
    np.testing.assert_allclose(values.numpy(), np.linalg.eigvalsh(SYM), rtol=1e-5, atol=1e-5)


def test_matrix_rank_and_pinv_tolerances_match_torch():
    torch = require_torch()
    low = TALL[0, :, :2] @ WIDE[0, :2, :4]  # rank 2
    for options in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.2}):
        ours = sj.linalg.matrix_rank(sj.tensor(low, dtype=np.float64), **options)
        theirs = torch.linalg.matrix_rank(torch.tensor(low), **options)
        assert ours.item() == theirs.item() and ours.dtype == np.int64
        np.testing.assert_allclose(
            sj.linalg.pinv(sj.tensor(SQUARE, dtype=np.float64), **options).numpy(),
            torch.linalg.pinv(torch.tensor(SQUARE), **options).numpy(), rtol=1e-9, atol=1e-12)
    assert list(sj.linalg.matrix_rank(sj.tensor(TALL)).numpy()) == [3, 3]


def test_the_triangle_read_and_empty_matrices_as_torch():
    """cholesky(upper=True) reads A's upper triangle and eigh(UPLO='U') too (a non-symmetric
    A tells); singular-value norms of an empty matrix are 0."""
    torch = require_torch()
    a = np.array([[4.0, 2.0, 0.5], [0.0, 3.0, 0.2], [-1.0, 0.1, 2.0]])
    for call in (lambda m, x: m.linalg.cholesky(x, upper=True),
                 lambda m, x: m.linalg.cholesky(x), lambda m, x: m.linalg.eigvalsh(x, "U")):
        ours, theirs = sj.tensor(a, dtype=np.float64, requires_grad=True), torch.tensor(
            a, requires_grad=True)
        y, t = call(sj, ours), call(torch, theirs)
        np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
        (y * y).sum().backward()
        (t * t).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)
    for shape in ((0, 3), (2, 0, 3)):
        np.testing.assert_array_equal(sj.linalg.matrix_norm(sj.zeros(*shape), 2).numpy(),
                                      np.zeros(shape[:-2]))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"square matrix .* got shape \(2, 3\)"):
        sj.linalg.eigh(sj.zeros(2, 3))
    with pytest.raises(ValueError, match="matrix or a stack"):
        sj.linalg.svd(sj.zeros(3))
    with pytest.raises(TypeError, match="floating tensor"):
        sj.linalg.qr(sj.tensor(np.eye(2, dtype=np.int64)))
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        sj.linalg.eigvalsh(sj.eye(2), "X")
    with pytest.raises(ValueError, match="mode must be"):
        sj.linalg.qr(sj.eye(2), mode="full")
    a = sj.tensor(TALL[0], requires_grad=True)
    q, r = sj.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="no gradient for mode='complete'"):
        q.sum().backward()
    q, r = sj.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="no gradient for mode='complete'"):
        sj.autograd.grad(q.sum(), [a], create_graph=True)
    with pytest.raises(ValueError, match="at least 2 axes"):
        sj.linalg.matrix_norm(sj.ones(3), 2)
    with pytest.raises(ValueError, match="two different axes"):
        sj.linalg.matrix_norm(sj.ones(2, 2), "nuc", dim=(1, 1))
    with pytest.raises(np.linalg.LinAlgError):
        sj.linalg.cholesky(-sj.eye(3))
