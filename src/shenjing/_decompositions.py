"""``torch.linalg``'s decompositions, differentiable: ``eigh`` / ``eigvalsh``, ``svd`` /
``svdvals``, ``qr`` and ``cholesky``, and what the SVD gives (``pinv``, ``matrix_rank``), of a
matrix or a stack of them (..., m, n); public as ``shenjing.linalg.eigh`` and so on.

NumPy's LAPACK (or CuPy's) computes each factorization. Each gradient is the textbook one,
written once on Tensors: the backward runs it on the saved factors with nothing recorded, and
``create_graph`` runs it recorded on the factors recomputed from the input (a gradient of a
gradient). With ``o`` the element-wise product and ``S`` the diagonal of singular values:

    eigh      A = V diag(L) V^T    gA = V (diag(gL) + skew(V^T gV) o G(L)) V^T
    svd       A = U S V^T          gA = U (J S + diag(gS) + S K) V^T + (I - U U^T) gU S^-1 V^T
                                        + U S^-1 gV^T (I - V V^T),
                                   J = G(s^2) o (U^T gU - gU^T U), K = G(s^2) o (V^T gV - gV^T V)
    qr        A = Q R  (m >= n)    gA = (gQ + Q sym(M)) R^-T,  M = R gR^T - gQ^T Q, sym(M) the
                                        symmetric matrix of M's lower triangle
    cholesky  A = L L^T            gA = sym(L^-T Phi(L^T gL) L^-1), Phi: the lower triangle with
                                        its diagonal halved, sym(X) = (X + X^T) / 2

where G(d)_ij = 1 / (d_j - d_i) off the diagonal and 0 on it. For ``qr`` of a wide matrix
(m < n), A = [X | Y] gives R = [R1 | Q^T Y]: X's gradient is the square one with gQ + Y gR2^T, Y's
is Q gR2. As in torch: repeated eigen- or singular values leave the vectors' gradients undefined
(inf or NaN), the values' stay finite; the part of gR below the diagonal (and of gL above it)
is ignored, as are the extra columns of ``svd(full_matrices=True)``'s U or rows of its Vh, and
``qr(mode="complete")`` of a tall matrix has no gradient (its extra columns are arbitrary).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .autograd import Function, Tensor
from .backend import get_xp
from .functional import elementwise as E
from .functional import reduction as R
from .functional import shape as S
from .linalg import matrix_of, solve

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])


def _eye(n: int, like: Tensor, dtype: Any = None) -> Any:
    return get_xp(like.data).eye(n, dtype=like.dtype if dtype is None else dtype)


def _diag(v: Tensor) -> Tensor:
    """(..., n) -> (..., n, n) with v on the diagonals."""
    return S.expand_dims(v, -1) * _eye(v.shape[-1], v)


def _inverse_gaps(d: Tensor) -> Tensor:
    """G(d)_ij = 1 / (d_j - d_i), 0 on the diagonal."""
    eye = _eye(d.shape[-1], d, bool)
    gaps = S.expand_dims(d, -2) - S.expand_dims(d, -1)
    return E.where(eye, 0.0, 1.0 / E.where(eye, 1.0, gaps))


def _below(x: Tensor, diagonal: float) -> Tensor:
    """x's strict lower triangle, plus ``diagonal`` times its diagonal."""
    n = x.shape[-1]
    mask = np.tril(np.ones((n, n)), -1) + diagonal * np.eye(n)
    return x * get_xp(x.data).asarray(mask, dtype=x.dtype)


def _as_tensors(arrays: Any) -> list[Tensor | None]:
    return [None if a is None else Tensor._wrap(a) for a in arrays]


def _eigh_grad(L: Tensor, V: Tensor, gL: Tensor | None, gV: Tensor | None) -> Tensor:
    inner = 0.0
    if gV is not None:
        x = V.mT @ gV
        inner = (x - x.mT) * 0.5 * _inverse_gaps(L)
    if gL is not None:
        inner = inner + _diag(gL)
    return V @ inner @ V.mT


def _svd_grad(U: Tensor, s: Tensor, Vh: Tensor, gU: Tensor | None, gS: Tensor | None,
              gVh: Tensor | None) -> Tensor:
    """The reduced factors: U (..., m, k), s (..., k), Vh (..., k, n), k = min(m, n)."""
    (m, k), n = U.shape[-2:], Vh.shape[-1]
    core = _diag(gS) if gS is not None else 0.0
    gA = 0.0
    row, col = S.expand_dims(s, -2), S.expand_dims(s, -1)  # s as a row / a column
    gaps = _inverse_gaps(s * s) if gU is not None or gVh is not None else None
    if gU is not None:
        core = core + gaps * (U.mT @ gU - gU.mT @ U) * row
        if m > k:  # (I - U U^T) gU S^-1 V^T
            gA = gA + ((gU - U @ (U.mT @ gU)) / row) @ Vh
    if gVh is not None:
        gVhV = gVh @ Vh.mT  # gV^T V
        core = core + col * (gaps * (gVhV.mT - gVhV))
        if n > k:  # U S^-1 gV^T (I - V V^T)
            gA = gA + U @ ((gVh - gVhV @ Vh) / col)
    return gA + U @ core @ Vh


def _right_solve_transposed(b: Tensor, r: Tensor) -> Tensor:
    """b R^-T, as solve(R, b^T)^T."""
    return solve(r, b.mT).mT


def _qr_grad(Q: Tensor, Rm: Tensor, gQ: Tensor | None, gR: Tensor | None) -> Tensor:
    m, n = Q.shape[-2], Rm.shape[-1]
    if m < n:  # A = [X | Y]: R = [R1 | Q^T Y]
        g1, g2 = (None, None) if gR is None else (gR[..., :m], gR[..., m:])
        if g2 is not None:  # Y = Q R2 feeds R2's gradient back into Q
            extra = Q @ Rm[..., m:] @ g2.mT
            gQ = extra if gQ is None else gQ + extra
        gy = Q @ g2 if g2 is not None else Tensor._wrap(
            get_xp(Q.data).zeros((*Q.shape[:-1], n - m), Q.dtype))
        return S.concatenate([_qr_grad(Q, Rm[..., :m], gQ, g1), gy], -1)
    inner = Rm @ (gR - _below(gR, 0.0)).mT if gR is not None else None  # gR's upper triangle
    if gQ is not None:
        inner = -(gQ.mT @ Q) if inner is None else inner - gQ.mT @ Q
    b = Q @ (_below(inner, 1.0) + _below(inner, 0.0).mT)  # Q sym(M)
    return _right_solve_transposed(b if gQ is None else gQ + b, Rm)


def _cholesky_grad(L: Tensor, gL: Tensor) -> Tensor:
    phi = _below(L.mT @ _below(gL, 1.0), 0.5)
    x = solve(L.mT, phi)  # L^-T Phi
    ga = solve(L.mT, x.mT).mT  # (L^-T Phi) L^-1
    return (ga + ga.mT) * 0.5


class _Eigh(Function):
    def forward(self, a, uplo="L"):
        w, v = get_xp(a).linalg.eigh(a, UPLO=uplo)
        self.save_for_backward(w, v, uplo)
        return w, v

    def backward(self, gL, gV):
        w, v, _ = self.saved
        return _eigh_grad(*_as_tensors((w, v, gL, gV))).data

    def differentiable_backward(self, gL, gV):
        return _eigh_grad(*_Eigh.apply(self.inputs[0], uplo=self.saved[2]), gL, gV)


class _SVD(Function):
    def forward(self, a, full_matrices=False):
        u, s, vh = get_xp(a).linalg.svd(a, full_matrices=full_matrices)
        self.save_for_backward(u, s, vh, full_matrices)
        return u, s, vh

    def backward(self, gU, gS, gVh):
        u, s, vh = self.saved[:3]
        return _svd_grad(*_as_tensors(_reduced(u, s, vh, gU, gS, gVh))).data

    def differentiable_backward(self, gU, gS, gVh):
        u, s, vh = _SVD.apply(self.inputs[0], full_matrices=self.saved[3])  # (the same vectors)
        return _svd_grad(*_reduced(u, s, vh, gU, gS, gVh))


def _reduced(u: Any, s: Any, vh: Any, gU: Any, gS: Any, gVh: Any) -> tuple[Any, ...]:
    """The factors and gradients without full_matrices' extra columns of U and rows of Vh
    (which get no gradient)."""
    k = s.shape[-1]
    return (u[..., :k], s, vh[..., :k, :], None if gU is None else gU[..., :k], gS,
            None if gVh is None else gVh[..., :k, :])


class _QR(Function):
    def forward(self, a, mode="reduced"):
        q, r = get_xp(a).linalg.qr(a, mode=mode)
        self.save_for_backward(q, r, mode)
        return q, r

    def backward(self, gQ, gR):
        q, r, mode = self.saved
        _check_qr_gradient(q.shape[-2], r.shape[-1], mode)
        return _qr_grad(*_as_tensors((q, r, gQ, gR))).data

    def differentiable_backward(self, gQ, gR):
        q, r, mode = self.saved
        _check_qr_gradient(q.shape[-2], r.shape[-1], mode)
        return _qr_grad(*_QR.apply(self.inputs[0], mode=mode), gQ, gR)


def _check_qr_gradient(m: int, n: int, mode: str) -> None:
    if mode == "complete" and m > n:
        raise RuntimeError("linalg.qr: no gradient for mode='complete' of a matrix with more "
                           f"rows than columns ({m} x {n}): Q's last {m - n} columns are "
                           "arbitrary; use mode='reduced'")


class _Cholesky(Function):
    def forward(self, a):
        xp = get_xp(a)
        lower = xp.linalg.cholesky(a)
        self.save_for_backward(lower)
        return lower

    def backward(self, g):
        return _cholesky_grad(*_as_tensors((self.saved[0], g))).data

    def differentiable_backward(self, g):
        return _cholesky_grad(_Cholesky.apply(self.inputs[0]), g)


def _kept_values(s: Any, m: int, n: int, atol: float | None, rtol: float | None) -> Any:
    """Which singular values count (torch's rule): those above max(atol, rtol * the largest),
    rtol by default the dtype's epsilon times max(m, n) where no atol is given, else 0."""
    xp = get_xp(s)
    if rtol is None:
        rtol = float(np.finfo(s.dtype).eps) * max(m, n) if not atol else 0.0
    largest = s[..., :1] if s.shape[-1] else xp.zeros((*s.shape[:-1], 1), s.dtype)
    return s > xp.maximum(atol or 0.0, rtol * largest)


def _pinv_grad(a: Tensor, p: Tensor, g: Tensor) -> Tensor:
    """For A+ of constant rank (Golub and Pereyra): gA = -A+^T G A+^T
    + (I - A A+) G^T A+ A+^T + A+^T A+ G^T (I - A+ A), each (I - X) applied as y - X y."""
    pt, gt = p.mT, g.mT
    first = -(pt @ g @ pt)
    y = gt @ (p @ pt)
    second = y - a @ (p @ y)
    z = (pt @ p) @ gt
    return first + second + (z - (z @ p) @ a)


class _Pinv(Function):
    def forward(self, a, atol=None, rtol=None):
        xp = get_xp(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        kept = _kept_values(s, a.shape[-2], a.shape[-1], atol, rtol)
        inverse = xp.where(kept, 1.0 / xp.where(kept, s, 1.0), 0.0).astype(a.dtype)
        p = (vh.swapaxes(-1, -2) * inverse[..., None, :]) @ u.swapaxes(-1, -2)
        self.save_for_backward(a, p, atol, rtol)
        return p

    def backward(self, g):
        a, p = self.saved[:2]
        return _pinv_grad(*_as_tensors((a, p, g))).data

    def differentiable_backward(self, g):
        a, (atol, rtol) = self.inputs[0], self.saved[2:]
        return _pinv_grad(a, _Pinv.apply(a, atol=atol, rtol=rtol), g)


def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,  # noqa: N803
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse (n x m of an m x n matrix) from the SVD, singular values
    at or below max(atol, rtol * the largest) taken as 0 (torch's rule and defaults); its
    gradient is that of a matrix of fixed rank. ``hermitian`` is accepted (the SVD serves both)."""
    return _Pinv.apply(matrix_of("pinv", A), atol=atol, rtol=rtol)


def matrix_rank(A: Tensor, *, atol: float | None = None, rtol: float | None = None,  # noqa: N803
                hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * the largest), as int64 (torch's
    rule; no gradient)."""
    a = matrix_of("matrix_rank", A)
    xp = get_xp(a.data)
    s = xp.linalg.svd(a.data, compute_uv=False)
    return Tensor._wrap(_kept_values(s, *a.shape[-2:], atol, rtol).sum(axis=-1).astype(np.int64))


def _uplo(uplo: str, name: str) -> str:
    if uplo not in ("L", "U"):
        raise ValueError(f"linalg.{name}: UPLO must be 'L' or 'U', got {uplo!r}")
    return uplo


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803 - torch's argument names
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix, of
    which only the ``UPLO`` triangle is read: ``(eigenvalues, eigenvectors)``. The gradient is
    symmetric, as torch's; an eigenvector's sign is arbitrary, so a loss should not depend on
    it."""
    a = matrix_of("eigh", A, square=True)
    return EighResult(*_Eigh.apply(a, uplo=_uplo(UPLO, "eigh")))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues (ascending) of a symmetric matrix (its ``UPLO`` triangle read)."""
    a = matrix_of("eigvalsh", A, square=True)
    return _Eigh.apply(a, uplo=_uplo(UPLO, "eigvalsh"))[0]  # (the vectors' gradient: none)


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:  # noqa: N803
    """A = U diag(S) Vh: ``(U, S, Vh)``, S descending. ``full_matrices`` (torch's default)
    completes U and Vh to square orthogonal matrices; the columns and rows added have no
    gradient. Singular vectors are defined up to sign."""
    a = matrix_of("svd", A)
    return SVDResult(*_SVD.apply(a, full_matrices=bool(full_matrices)))


def svdvals(A: Tensor) -> Tensor:  # noqa: N803
    """The singular values, descending."""
    return _SVD.apply(matrix_of("svdvals", A))[1]


def qr(A: Tensor, mode: str = "reduced") -> QRResult:  # noqa: N803
    """A = Q R with orthonormal columns in Q and R upper triangular: ``mode`` 'reduced' (Q
    m x k, R k x n, k = min(m, n)), 'complete' (Q m x m) or 'r' (R only; Q empty)."""
    a = matrix_of("qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if mode == "r":
        q, r = _QR.apply(a, mode="reduced")
        return QRResult(Tensor._wrap(get_xp(a.data).empty((0,), a.dtype)), r)
    return QRResult(*_QR.apply(a, mode=mode))


def cholesky(A: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """L lower triangular with A = L L^T, A symmetric positive definite (its lower triangle
    read); ``upper``: U = L^T with A = U^T U, from A's upper triangle (as torch). One that is not
    positive definite raises NumPy's LinAlgError."""
    a = matrix_of("cholesky", A, square=True)
    return _Cholesky.apply(a.mT).mT if upper else _Cholesky.apply(a)


def singular_value_norm(a: Tensor, ord: Any, dim: tuple[int, int],  # noqa: A002
                        keepdim: bool) -> Tensor:
    """matrix_norm's 2 / -2 (the largest / smallest singular value) and 'nuc' (their sum) over
    the axes ``dim``."""
    if a.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: A must have at least 2 axes, got shape {a.shape}")
    rows, cols = (d % a.ndim for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: dim must be two different axes, got {dim}")
    rest = [d for d in range(a.ndim) if d not in (rows, cols)]
    moved = S.transpose(a, (*rest, rows, cols))
    if 0 in moved.shape[-2:]:  # no singular values: 0, as torch
        out = R.sum(R.sum(moved, -1), -1) * 0.0
    else:
        s = svdvals(moved)
        out = R.sum(s, -1) if ord == "nuc" else (R.max if ord == 2 else R.min)(s, axis=-1)
    for d in sorted((rows, cols)) if keepdim else ():
        out = S.expand_dims(out, d)
    return out
