"""What every ``shenjing.ops`` module shares: turning arguments into Tensors, and the small
factories that make an op from an F function (``_unary``, ``_binary``, ``_reduction``) or from
an array function with no gradient (``_constant``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .autograd import Tensor, array_of, as_tensor
from .backend import asnumpy
from .functional._util import as_tensor as _as_tensor_like
from .layers.input_layer import SymbolicTensor


def convert_to_tensor(x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a Tensor: a Tensor passes through (cast if ``dtype`` differs); floating arrays
    become float32 unless ``dtype`` says otherwise."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else F.cast(x, dtype)
    if isinstance(x, SymbolicTensor):
        raise TypeError(
            f"convert_to_tensor got a symbolic tensor of the functional API ({x}): it has no "
            "values until the model runs. Apply keras.ops to it (each call is recorded in the "
            "model), or compute in a layer's call()")
    return as_tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (outside any graph)."""
    return asnumpy(array_of(x))


_t = convert_to_tensor


def _float(x: Any) -> Tensor:
    """``x`` as a floating Tensor (integers and booleans become floatx, as Keras's math ops)."""
    return F.elementwise.floating(_t(x))


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    """The operands of a binary op, the first a Tensor when neither is (numbers and arrays
    meeting a Tensor take its dtype in the functional wrappers)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a, b
    return _t(a), b


def _tensors(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a number or array next to a floating Tensor takes its dtype."""
    a, b = _pair(a, b)
    if not isinstance(a, Tensor):
        return _as_tensor_like(a, b), b
    return a, _as_tensor_like(b, a)


def _named(op: Any, name: str, doc: str) -> Any:
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(fn: Any, name: str) -> Any:
    def op(x1: Any, x2: Any) -> Tensor:
        return fn(*_pair(x1, x2))

    return _named(op, name, f"Element-wise ``{name}`` of two tensors, arrays or numbers "
                            "(broadcast).")


def _unary(fn: Any, name: str) -> Any:
    def op(x: Any) -> Tensor:
        return fn(_t(x))

    return _named(op, name, f"Element-wise ``{name}``.")


def _reduction(fn: Any, name: str) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        return fn(_t(x), axis=axis, keepdims=keepdims)

    return _named(op, name, f"``{name}`` over ``axis`` (None: all axes).")


def _constant(name: str) -> Any:
    """The array module's ``name`` applied to Tensors' data: a Tensor without gradient (the
    op is piecewise constant, a test or logical)."""

    def fn(*tensors: Tensor, **kwargs: Any) -> Tensor:
        return Tensor._wrap(getattr(tensors[0].xp, name)(*[t.data for t in tensors], **kwargs))

    return fn


def _constant_binary(name: str) -> Any:
    fn = _constant(name)
    return _named(lambda x1, x2: fn(*_tensors(x1, x2)), name,
                  f"Element-wise ``{name}`` (broadcast; no gradient).")
