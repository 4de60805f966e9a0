"""``keras.ops.linalg`` (each also at the top of ``keras.ops``): Keras 3's names and arguments
over ``shenjing.linalg``, whose ops carry the gradients (to the second order): ``cholesky``,
``cholesky_inverse``, ``det``, ``eigh``, ``inv``, ``lstsq``, ``matrix_rank``, ``pinv``,
``qr``, ``solve``, ``solve_triangular``, ``svd``, ``slogdet`` and ``logdet``; ``norm`` is
the one of ``keras.ops``. Floating inputs as Keras's floatx, integers made float.
"""

from __future__ import annotations

from typing import Any

from . import functional as F
from . import linalg as L
from ._ops_common import _float
from ._ops_numpy import tril, triu
from .autograd import Tensor


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """L with x = L L^T (``upper``: U with x = U^T U)."""
    return L.cholesky(_float(x), upper=upper)


def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """The inverse of A from its Cholesky factor x (A = x x^T, or x^T x with ``upper``)."""
    factor = triu(_float(x)) if upper else tril(_float(x))  # (its triangle, as Keras's)
    return L.inv(factor.mT @ factor if upper else factor @ factor.mT)


def det(x: Any) -> Tensor:
    return L.det(_float(x))


def eigh(x: Any) -> Any:
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric x (its lower triangle),
    with the names ``eigenvalues`` and ``eigenvectors``."""
    return L.eigh(_float(x))


def inv(x: Any) -> Tensor:
    return L.inv(_float(x))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """The least-squares solution of a x = b (the minimum-norm one), through the
    pseudo-inverse: singular values under ``rcond`` times the largest count as 0 (None: the
    dtype's epsilon times max(m, n))."""
    a, b = _float(a), _float(b)
    solution = L.pinv(a, rtol=rcond) @ (F.expand_dims(b, -1) if b.ndim == a.ndim - 1 else b)
    return F.squeeze(solution, -1) if b.ndim == a.ndim - 1 else solution


def matrix_rank(x: Any, tol: float | None = None) -> Tensor:
    """The number of singular values above ``tol`` (None: the largest times epsilon times
    max(m, n))."""
    return L.matrix_rank(_float(x), atol=tol, rtol=None if tol is None else 0.0)


def pinv(x: Any, rcond: float | None = None) -> Tensor:
    return L.pinv(_float(x), rtol=rcond)


def qr(x: Any, mode: str = "reduced") -> Any:
    """(Q, R), with those names."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete' (Keras's), got {mode!r}")
    return L.qr(_float(x), mode=mode)


def solve(a: Any, b: Any) -> Tensor:
    return L.solve(_float(a), _float(b))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """x with a x = b, reading only a's lower (``lower``) or upper triangle."""
    a = _float(a)
    return L.solve(tril(a) if lower else triu(a), _float(b))


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """(u, s, vh) with x = u diag(s) vh, or s alone without ``compute_uv``."""
    x = _float(x)
    return L.svd(x, full_matrices=full_matrices) if compute_uv else L.svdvals(x)


def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """(sign, log |det|)."""
    return L.slogdet(_float(x))


def logdet(x: Any) -> Tensor:
    """log det x of a positive definite x; otherwise log |det x|, as Keras's on JAX."""
    return L.slogdet(_float(x))[1]


__all__ = ["cholesky", "cholesky_inverse", "det", "eigh", "inv", "logdet", "lstsq",
           "matrix_rank", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd"]
