"""``keras.ops``: the NumPy-like and neural-network ops that Keras 3 code writes in custom
layers, losses and metrics (``ops.matmul(inputs, self.w) + self.b``), over ``shenjing.functional``.

Each op takes Tensors, arrays, lists or numbers and returns a Tensor, differentiable where the
op is: floating arrays become float32 Tensors (Keras's floatx), integers keep their dtype. Given
a symbolic tensor of the functional API (``keras.Input``), an op records a node of the model
instead (``layers/op_layer.py``), as Keras 3's ops do. This is the core of Keras's namespace
(the ops its guides and examples use), not all of it; a name missing here raises AttributeError
with what to use instead.

>>> from shenjing import ops
>>> ops.mean(ops.square(ops.ones((2, 3)) - 0.5), axis=-1)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import factories
from . import functional as F
from .autograd import Tensor, as_tensor
from .backend import DEFAULT_FLOAT, asnumpy
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
    return asnumpy(x.data if isinstance(x, Tensor) else np.asarray(x))


_t = convert_to_tensor


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    """The operands of a binary op, the first a Tensor when neither is (numbers and arrays
    meeting a Tensor take its dtype in the functional wrappers)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a, b
    return _t(a), b


# -- creation ----------------------------------------------------------------------------------
# torch's factories (shenjing.zeros ...) under Keras's signatures: the shape as one argument,
# dtype second. Where the dtype rules differ, Keras's win: full is floatx whatever the value
# (torch infers int64 from an integer), *_like follow the Tensor x becomes (a list of floats is
# float32). arange (Keras's int/float rule, no error for an empty range) and eye (with k) differ
# more, and stay on NumPy.
def zeros(shape: Any, dtype: Any = None) -> Tensor:
    return factories.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = None) -> Tensor:
    return factories.ones(shape, dtype=dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    return factories.full(shape, fill_value, dtype=dtype or DEFAULT_FLOAT)


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    return factories.zeros_like(_t(x), dtype=dtype)


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    return factories.ones_like(_t(x), dtype=dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    return as_tensor(np.arange(start, stop, step, dtype=dtype), dtype)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    return as_tensor(np.eye(n, m, k, dtype=dtype or DEFAULT_FLOAT), dtype)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None) -> Tensor:
    """Integer ids (any shape) as one-hot vectors along a new ``axis`` (no gradient)."""
    ids = convert_to_numpy(x).astype(np.int64)
    out = (ids[..., None] == np.arange(num_classes)).astype(dtype or DEFAULT_FLOAT)
    return Tensor(np.moveaxis(out, -1, axis))


# -- element-wise and reductions: F's ops under Keras's names, taking any array-like ------------
def _binary(fn: Any, name: str) -> Any:
    def op(x1: Any, x2: Any) -> Tensor:
        return fn(*_pair(x1, x2))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise ``{name}`` of two tensors, arrays or numbers (broadcast)."
    return op


def _unary(fn: Any, name: str) -> Any:
    def op(x: Any) -> Tensor:
        return fn(_t(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise ``{name}``."
    return op


def _reduction(fn: Any, name: str) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        return fn(_t(x), axis=axis, keepdims=keepdims)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` over ``axis`` (None: all axes)."
    return op


add, subtract, multiply, divide, power = (_binary(fn, name) for fn, name in (
    (F.add, "add"), (F.sub, "subtract"), (F.mul, "multiply"), (F.div, "divide"),
    (F.pow, "power")))
maximum, minimum = _binary(F.maximum, "maximum"), _binary(F.minimum, "minimum")
equal, not_equal, greater, greater_equal, less, less_equal = (
    _binary(getattr(F, name), name) for name in (
        "equal", "not_equal", "greater", "greater_equal", "less", "less_equal"))
negative, sqrt, exp, log, abs = (_unary(fn, name) for fn, name in (  # noqa: A001
    (F.neg, "negative"), (F.sqrt, "sqrt"), (F.exp, "exp"), (F.log, "log"), (F.abs, "abs")))
relu, sigmoid, tanh = (_unary(getattr(F, name), name) for name in ("relu", "sigmoid", "tanh"))
sum, mean, max, min, var, std, logsumexp = (  # noqa: A001 - Keras's names
    _reduction(getattr(F, name), name) for name in (
        "sum", "mean", "max", "min", "var", "std", "logsumexp"))


def square(x: Any) -> Tensor:
    x = _t(x)
    return x * x


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    return F.clip(_t(x), x_min, x_max)


def where(condition: Any, x1: Any, x2: Any) -> Tensor:
    return F.where(_t(condition), *_pair(x1, x2))


def cast(x: Any, dtype: Any) -> Tensor:
    return F.cast(_t(x), dtype)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return Tensor(np.argmax(convert_to_numpy(x), axis=axis, keepdims=keepdims))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return Tensor(np.argmin(convert_to_numpy(x), axis=axis, keepdims=keepdims))


# -- shapes ------------------------------------------------------------------------------------
def shape(x: Any) -> tuple[int, ...]:
    """The shape as a tuple of ints (Keras's ``ops.shape``)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def reshape(x: Any, newshape: Sequence[int] | int) -> Tensor:
    return F.reshape(_t(x), newshape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return F.transpose(_t(x), axes)


def expand_dims(x: Any, axis: int) -> Tensor:
    return F.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    return F.squeeze(_t(x), axis)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    return F.concatenate([_t(x) for x in xs], axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    return F.stack([_t(v) for v in x], axis=axis)


def matmul(x1: Any, x2: Any) -> Tensor:
    return F.matmul(_t(x1), _t(x2))


# -- neural-network ops ------------------------------------------------------------------------
def softmax(x: Any, axis: int = -1) -> Tensor:
    return F.softmax(_t(x), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    return F.log_softmax(_t(x), axis=axis)


def _recorded_on_symbolic(fn: Any) -> Any:
    """``fn`` that, given a symbolic tensor of the functional API (at the top level or in a
    list, as Keras checks), records the call as a node of the model (``layers/op_layer.py``)
    instead of computing."""
    name = fn.__name__

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            if isinstance(a, SymbolicTensor) or isinstance(a, (list, tuple)) and any(
                    isinstance(v, SymbolicTensor) for v in a):
                from .layers.op_layer import symbolic_op

                return symbolic_op(name, args, kwargs)
        return fn(*args, **kwargs)

    return op


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"shenjing.ops has no {name!r}: it holds the core of keras.ops ({', '.join(__all__)}); "
        "for others, use Tensor methods and operators, or shenjing.functional")


__all__ = sorted(n for n, v in list(globals().items())
                 if callable(v) and not n.startswith("_") and getattr(v, "__module__", None)
                 == __name__)
_NOT_RECORDED = frozenset(("convert_to_numpy", "convert_to_tensor", "shape"))  # no Tensor out
for _name in __all__:
    if _name not in _NOT_RECORDED:
        globals()[_name] = _recorded_on_symbolic(globals()[_name])
