"""``torch.linalg``'s everyday part, differentiable: ``inv``, ``det``, ``slogdet``, ``solve``,
the norms (``vector_norm``, ``matrix_norm`` 'fro' / 1 / inf, ``norm``), and ``cdist``'s
distances live at the top (``shenjing.cdist``). Each matrix op works on stacks (..., n, n), as
torch's, and its backward is the textbook one:

    inv:     dA = -A^-T g A^-T            det:   dA = g det(A) A^-T
    slogdet: dA = g_logabs A^-T           solve: dB = A^-T g,  dA = -dB X^T  (X = A^-1 B)

The decompositions, ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``qr`` and ``cholesky``,
with their gradients, and ``pinv`` and ``matrix_rank``, are in ``_decompositions.py``
(loaded when one is first asked for); with them ``matrix_norm`` takes ord 2, -2 and 'nuc'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Function, Tensor
from .backend import get_xp
from .functional import reduction as R
from .functional import shape as S
from .functional._util import as_tensor

_DECOMPOSITIONS = ("cholesky", "eigh", "eigvalsh", "matrix_rank", "pinv", "qr", "svd", "svdvals")
__all__ = ["det", "inv", "matrix_norm", "norm", "slogdet", "solve", "vector_norm",
           *_DECOMPOSITIONS]


def __getattr__(name: str) -> Any:
    if name in _DECOMPOSITIONS:  # (they use solve, from here: loaded after this module)
        from . import _decompositions

        return getattr(_decompositions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def matrix_of(name: str, a: Any, square: bool = False) -> Tensor:
    """``a`` as a floating Tensor of at least two axes (``square``: the last two equal), else
    an error naming ``linalg.<name>``."""
    a = as_tensor(a)
    if a.ndim < 2 or square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.{name}: expected a {'square ' * square}matrix or a stack of "
                         f"them (..., {'n, n' if square else 'm, n'}), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise TypeError(f"linalg.{name}: expected a floating tensor, got {a.dtype}")
    return a


def _square(name: str, a: Any) -> Tensor:
    return matrix_of(name, a, square=True)


def _mT(a: Any) -> Any:  # noqa: N802 - torch's name for the last two axes swapped
    return a.swapaxes(-1, -2)


class _Inv(Function):
    saves_outputs = True

    def forward(self, a):
        y = get_xp(a).linalg.inv(a)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        yt = _mT(self.saved[0])
        return -(yt @ g @ yt)

    def differentiable_backward(self, g):
        yt = inv(self.inputs[0]).mT
        return -(yt @ g @ yt)


def inv(A: Tensor) -> Tensor:  # noqa: N803 - torch's argument name
    """The inverse of a square matrix (or each of a stack); a singular one raises NumPy's
    LinAlgError."""
    return _Inv.apply(_square("inv", A))


class _Det(Function):
    def forward(self, a):
        d = get_xp(a).linalg.det(a)
        self.save_for_backward(a, d)
        return d

    def backward(self, g):
        a, d = self.saved
        return (g * d)[..., None, None] * _mT(get_xp(a).linalg.inv(a))

    def differentiable_backward(self, g):
        a = self.inputs[0]
        return (g * det(a))[..., None, None] * inv(a).mT


def det(A: Tensor) -> Tensor:  # noqa: N803
    """The determinant (of each matrix of a stack). The gradient needs A invertible."""
    return _Det.apply(_square("det", A))


class _SLogDet(Function):
    """(sign, log |det A|) from one factorization; d log|det| / dA = A^-T, the sign has none."""

    def forward(self, a):
        self.save_for_backward(a)
        sign, logabs = get_xp(a).linalg.slogdet(a)
        return sign.astype(a.dtype), logabs

    def backward(self, g_sign, g):
        a = self.saved[0]
        return g[..., None, None] * _mT(get_xp(a).linalg.inv(a))

    def differentiable_backward(self, g_sign, g):
        return g[..., None, None] * inv(self.inputs[0]).mT


def slogdet(A: Tensor) -> tuple[Tensor, Tensor]:  # noqa: N803
    """(sign, log|det|) of a matrix (or each of a stack), as torch's: the log of a determinant
    too large or small for a float; the sign has no gradient."""
    sign, logabs = _SLogDet.apply(_square("slogdet", A))
    return sign.detach(), logabs


class _Solve(Function):
    def forward(self, a, b, vector=False):
        xp = get_xp(a)
        x = xp.linalg.solve(a, b[..., None])[..., 0] if vector else xp.linalg.solve(a, b)
        self.save_for_backward(a, x, vector)
        return x

    def backward(self, g):
        a, x, vector = self.saved
        xp = get_xp(a)
        if vector:
            gb = xp.linalg.solve(_mT(a), g[..., None])[..., 0]
            return -gb[..., :, None] * x[..., None, :], gb
        gb = xp.linalg.solve(_mT(a), g)
        return -(gb @ _mT(x)), gb

    def differentiable_backward(self, g):
        a, b = self.inputs
        vector = self.saved[2]
        x = solve(a, b)
        gb = solve(a.mT, g)
        if vector:
            return -(gb[..., :, None] * x[..., None, :]), gb
        return -(gb @ x.mT), gb


def solve(A: Tensor, B: Any) -> Tensor:  # noqa: N803
    """X with A X = B, A square (or a stack), B a matrix (..., n, k) or a vector (..., n)
    (torch's rule: B is a vector when it has one axis fewer than A)."""
    a = _square("solve", A)
    b = as_tensor(B, like=a)
    vector = b.ndim == a.ndim - 1
    if b.shape[-2 if not vector else -1] != a.shape[-1]:
        raise ValueError(f"linalg.solve: A of shape {a.shape} and B of shape {b.shape} do not "
                         "match (B's rows must be A's size)")
    return _Solve.apply(a, b, vector=vector)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None,  # noqa: A002 - torch's name
                keepdim: bool = False) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (None: every element), as ``torch.norm``."""
    return R.norm(as_tensor(x), ord, dim, keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002, N803
                keepdim: bool = False) -> Tensor:
    """The matrix norm over the two axes ``dim``: 'fro' (root of the sum of squares), 1 (the
    largest column sum of |A|), inf (the largest row sum), -1 / -inf (the smallest), 2 / -2
    (the largest / smallest singular value) or 'nuc' (the sum of the singular values)."""
    a = as_tensor(A)
    rows, cols = dim
    if ord == "fro":
        return R.norm(a, 2, dim, keepdim)
    if ord in (2, -2, "nuc"):
        from ._decompositions import singular_value_norm

        return singular_value_norm(a, ord, dim, keepdim)
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = R.sum(a.abs(), axis=summed, keepdims=True)
        pick = R.max if ord > 0 else R.min
        out = pick(sums, axis=over, keepdims=True)
        return out if keepdim else S.squeeze(out, dim)
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, "
                     f"got {ord!r}")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002, N803
    """torch.linalg.norm: a matrix norm over two axes (``dim`` a pair, or a 2-D input with a
    matrix ``ord``), else the vector norm (ord None: 2, over all elements)."""
    a = as_tensor(A)
    two_axes = dim is not None and not isinstance(dim, int) and len(tuple(dim)) == 2
    if two_axes or (dim is None and ord is not None and a.ndim == 2):
        return matrix_norm(a, "fro" if ord is None else ord, tuple(dim or (-2, -1)), keepdim)
    return vector_norm(a, 2 if ord is None else ord, dim, keepdim)
