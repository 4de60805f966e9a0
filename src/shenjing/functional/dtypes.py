"""The dtype rules of the element-wise ops, torch's: ``promote_types`` and ``result_dtype``
(integers meeting a float take its dtype; a 0-d operand or a Python number widens a tensor only
from a higher category), ``cast`` and ``clone`` (one recorded op), and the casts ops make before
they compute: ``floating`` (to the default float), ``floating_like`` and ``accumulating`` (sums
and products of integers in int64). Re-exported by :mod:`.elementwise` (``E.cast``...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_xp
from ._util import as_tensor


class _Cast(Function):
    """y = x as another dtype (a copy, also in the same dtype: that is clone);  the gradient is
    cast back."""

    def forward(self, x, dtype=None):
        self.save_for_backward(x.dtype)
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.saved[0], copy=False)

    def differentiable_backward(self, g):
        return cast(g, self.saved[0])


# torch's type categories: a 0-d operand (or a Python number) changes the dtype of dimensioned
# ones only from a higher category
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(a: Any, b: Any) -> Any:
    """torch's ``promote_types``: NumPy's within a category (uint8 with int8 is int16), the
    floating one's dtype across (int64 with float16 is float16, where NumPy gives float64)."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb and min(ca, cb) < 2:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_dtype(*arrays: Any) -> Any:
    """torch's ``result_type`` of arrays: the dimensioned ones promote among themselves, and a
    0-d one (a number made an array) counts only if of a higher category: uint8 + a 0-d int64
    is uint8, int64 + a 0-d float64 is float64, float32 + a 0-d float64 stays float32."""
    dim = zero = None
    for a in arrays:
        if a.ndim:
            dim = a.dtype if dim is None else promote_types(dim, a.dtype)
        else:
            zero = a.dtype if zero is None else promote_types(zero, a.dtype)
    if dim is None or zero is None:
        return zero if dim is None else dim
    return promote_types(dim, zero) if _CATEGORY[zero.kind] > _CATEGORY[dim.kind] else dim


def _wrapped(value: Any, like: Tensor) -> Tensor:
    """``value`` (not a Tensor) as the partner of ``like`` in an op. A Python int or bool meeting
    an integer tensor, or a bool meeting a boolean one, takes its dtype: torch's "wrapped
    number", which never widens a tensor (uint8 + 1 is uint8, wrapping as torch's). Anything
    else as :func:`as_tensor` makes it: a number meeting a float tensor takes its dtype, a float
    meeting integers is float32, an int meeting booleans int64."""
    kind = like.data.dtype.kind
    if kind in "biu" and value.__class__ in (bool, int) and (
            kind != "b" or value.__class__ is bool):
        return Tensor._wrap(get_xp(like.data).asarray(value).astype(like.data.dtype))
    return as_tensor(value, like=like)


def _promoted(*tensors: Tensor) -> list[Tensor]:
    """``tensors`` cast to their :func:`result_dtype` (integer tensors never require grad, so
    their casts lose nothing)."""
    dtype = result_dtype(*(t.data for t in tensors))
    return [t if t.data.dtype == dtype else _cast_array(t, dtype) for t in tensors]


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """a and b as Tensors of one dtype by PyTorch's promotion, not NumPy's (:func:`_wrapped`,
    :func:`result_dtype`): integers (or booleans) meeting a float take the float's dtype
    (int64 + float32 is float32, where NumPy gives float64), and a 0-d tensor or a number of
    the same category takes the other's dtype (float32 times a 0-d float64 stays float32)."""
    if isinstance(a, Tensor):
        if not isinstance(b, Tensor):  # (two Tensors, the common case: no call)
            b = _wrapped(b, a)
    else:
        b = as_tensor(b)
        a = _wrapped(a, b)
    da, db = a.data.dtype, b.data.dtype
    if da is not db and da != db:  # (one dtype object is the common case: no comparison)
        a, b = _promoted(a, b)
    return a, b


def _cast_array(t: Tensor, dtype: Any) -> Tensor:
    return cast(t, dtype) if t.requires_grad else Tensor._wrap(t.data.astype(dtype))


def cast(x: Tensor, dtype: Any) -> Tensor:
    """x converted to ``dtype``, differentiably to a floating dtype (the gradient is cast back);
    integer and boolean results carry no gradient, as in PyTorch. x itself if it has the dtype."""
    dtype = np.dtype(dtype)  # a TypeError naming what is not a dtype
    if not isinstance(x, Tensor):  # an array: a constant of that dtype
        return Tensor(x, dtype=dtype)
    if x.dtype == dtype:
        return x
    if not backend.is_floating(dtype):
        return Tensor._wrap(x.data.astype(dtype))
    return _Cast.apply(x, dtype=dtype)


def floating(x: Tensor) -> Tensor:
    """x itself if floating, else cast to the default float (float32): what ops with floating
    results (exp, sigmoid, mean...) compute on, as torch's do, where NumPy gives float64."""
    if not isinstance(x, Tensor):  # an array (F.sigmoid(np.array(...))): a constant
        x = Tensor(x)
    return x if x.data.dtype.kind in "fc" else cast(x, backend.DEFAULT_FLOAT)


def accumulating(x: Tensor) -> Tensor:
    """x itself, or cast to int64 if boolean or a narrower integer: torch sums and multiplies
    integers in int64 (sum, prod, cumsum, cumprod), where NumPy's uint8 sum is uint64 and a
    product or running sum in int8 or int32 overflows."""
    if not isinstance(x, Tensor):  # an array: a constant
        x = Tensor(x)
    dtype = x.data.dtype
    return x if dtype.kind in "fc" or dtype.itemsize == 8 else cast(x, np.int64)


def floating_like(x: Tensor, like: Tensor) -> Tensor:
    """x itself if floating, else (integers, booleans: one-hot codes, pixel bytes) cast to
    ``like``'s dtype, as Keras promotes them against a layer's float kernel; NumPy would give
    float64 (int32 @ float32), or refuse (a bool into the C loops)."""
    return x if x.dtype.kind in "fc" else cast(x, like.dtype)


def clone(x: Tensor) -> Tensor:
    """A copy of x that stays in the graph (PyTorch's ``clone``): the gradient passes through
    unchanged, and changing the copy in place leaves x alone.

    >>> y = F.clone(w)   # w requires grad; y does too, over its own memory
    """
    return _Cast.apply(x, dtype=x.dtype)
