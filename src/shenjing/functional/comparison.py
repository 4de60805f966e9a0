"""Comparisons and bitwise operators of tensors (``==``, ``<``, ``&``, ``~``...), ``isclose``
and ``allclose``: boolean or integer results, no gradient. Re-exported by :mod:`.elementwise`.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from ..backend import get_xp


def _compare(op: str):
    def compare(a: Any, b: Any) -> Tensor:
        a_data = a.data if isinstance(a, Tensor) else a
        b_data = b.data if isinstance(b, Tensor) else b
        return Tensor._wrap(getattr(get_xp(a_data, b_data).asarray(a_data), op)(b_data))

    compare.__name__ = op.strip("_")
    compare.__doc__ = f"Element-wise ``{op.strip('_')}`` (a boolean tensor, no gradient)."
    return compare


equal, not_equal = _compare("__eq__"), _compare("__ne__")
less, less_equal = _compare("__lt__"), _compare("__le__")
greater, greater_equal = _compare("__gt__"), _compare("__ge__")
# & | ^ on boolean (masks) or integer tensors, as NumPy's and torch's operators; no gradient
bitwise_and, bitwise_or, bitwise_xor = (_compare(op) for op in ("__and__", "__or__", "__xor__"))


def bitwise_not(x: Tensor) -> Tensor:
    """``~x`` of a boolean or integer tensor (no gradient)."""
    return Tensor._wrap(~x.data)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Element-wise ``|a - b| <= atol + rtol * |b|`` (a boolean tensor, no gradient; torch's and
    NumPy's ``isclose``, torch's defaults)."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    xp = get_xp(a_data, b_data)
    return Tensor._wrap(xp.isclose(a_data, b_data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere, as a Python bool (torch's ``allclose``: the
    tutorial's ``torch.allclose(hv, 6 * x)``)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).data.all())
