"""``keras.ops``: the NumPy-like and neural-network ops that Keras 3 code writes in custom
layers, losses and metrics (``ops.matmul(inputs, self.w) + self.b``), over ``shenjing.functional``.

Each op takes Tensors, arrays, lists or numbers and returns a Tensor, differentiable where the
op is: floating arrays become float32 Tensors (Keras's floatx), integers keep their dtype. Given
a symbolic tensor of the functional API (``keras.Input``), an op records a node of the model
instead (``layers/op_layer.py``), as Keras 3's ops do.

This module holds the core (creation, arithmetic, reductions, shapes, matmul, softmax); the
rest of the commonly used namespace, with Keras's names, arguments and defaults, comes from
``_ops_numpy.py`` (math, scans and sorting, indexing, padding, einsum and tensordot, norms,
linspace/meshgrid) and ``_ops_nn.py`` (activations, the ops-level cross-entropies, moments and
normalization, conv and pooling in channels_last, top_k, segment_sum, stop_gradient, cond,
slice). They are composites of F's differentiable ops, plus the primitives of
``functional/extra.py`` (cumsum, cumprod, einsum, the inverse trigonometric functions, log1p,
erf); ``_ops_linalg.py`` has ``keras.ops.linalg`` (over ``shenjing.linalg``),
``_ops_control.py`` the loops (map, scan, fori_loop, while_loop, switch), ``_ops_more.py``
the rarer NumPy names (nan reductions, quantiles, splits, cross, corrcoef...) and
``_ops_nn_more.py`` the rarer nn ones (adaptive pooling, depth_to_space, dot_product_attention,
layer and RMS normalization, psnr), ``_ops_misc.py`` the rest a real-valued framework can mean
(bitwise ops, windows, erfinv, unique, histogram, custom_gradient...). Not provided: complex
numbers (FFTs, STFTs, eig, polar, views as complex), lu_factor, jvp,
most image ops; a missing name raises AttributeError with what to use instead.

>>> from shenjing import ops
>>> ops.mean(ops.square(ops.ones((2, 3)) - 0.5), axis=-1)
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import (
    _ops_common,
    _ops_control,
    _ops_linalg,
    _ops_misc,
    _ops_more,
    _ops_nn,
    _ops_nn_more,
    _ops_numpy,
    factories,
)
from . import functional as F
from ._ops_common import (
    _binary,
    _named,
    _pair,
    _reduction,
    _t,
    _unary,
    convert_to_numpy,  # noqa: F401 - public
    convert_to_tensor,  # noqa: F401 - public
)
from .autograd import Tensor, array_of, as_tensor
from .backend import DEFAULT_FLOAT, get_xp
from .layers.input_layer import SymbolicTensor


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


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    return as_tensor(np.eye(N, M, k, dtype=dtype or DEFAULT_FLOAT), dtype)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None) -> Tensor:
    """Integer ids (any shape) as one-hot vectors along a new ``axis`` (no gradient)."""
    raw = array_of(x)
    xp = get_xp(raw)  # where the ids are: a GPU's ids give a GPU one-hot
    ids = xp.asarray(raw).astype(np.int64)
    out = (ids[..., None] == xp.arange(num_classes)).astype(dtype or DEFAULT_FLOAT)
    return Tensor._wrap(xp.moveaxis(out, -1, axis))


# -- element-wise and reductions: F's ops under Keras's names, taking any array-like ------------
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
sum, mean, var, std, logsumexp = (  # noqa: A001 - Keras's names
    _reduction(getattr(F, name), name) for name in ("sum", "mean", "var", "std", "logsumexp"))


def _extreme(name: str, pair: Any) -> Any:
    reduce = getattr(F, name)

    def op(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:
        x = _t(x)
        if initial is None:
            return reduce(x, axis=axis, keepdims=keepdims)
        if x.size == 0:  # nothing to compare: the initial value, in the reduced shape
            shape = np.sum(np.empty(x.shape, bool), axis=axis, keepdims=keepdims).shape
            return Tensor._wrap(x.xp.full(shape, initial, dtype=x.dtype))
        return pair(reduce(x, axis=axis, keepdims=keepdims), initial)

    return _named(op, name, f"``{name}`` over ``axis`` (None: all axes), at least/most "
                            f"``initial`` when given (Keras's).")


max, min = _extreme("max", F.maximum), _extreme("min", F.minimum)  # noqa: A001


def square(x: Any) -> Tensor:
    x = _t(x)
    return x * x


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    return F.clip(_t(x), x_min, x_max)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; with the condition alone, the indices
    where it holds, one tensor per axis (Keras's and NumPy's ``nonzero``)."""
    if x1 is None and x2 is None:
        cond = _t(condition)
        return tuple(Tensor._wrap(i) for i in cond.xp.nonzero(cond.data))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither (the indices of the "
                         "condition)")
    return F.where(_t(condition), *_pair(x1, x2))


def cast(x: Any, dtype: Any) -> Tensor:
    return F.cast(_t(x), dtype)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return _arg_extreme("argmax", x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    return _arg_extreme("argmin", x, axis, keepdims)


def _arg_extreme(name: str, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    """The index of the largest / smallest value, computed where ``x`` lives (no copy to the
    host for a GPU tensor)."""
    raw = array_of(x)
    xp = get_xp(raw)
    return Tensor._wrap(xp.asarray(getattr(xp, name)(xp.asarray(raw), axis=axis,
                                                     keepdims=keepdims)))


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
            if isinstance(a, SymbolicTensor) or isinstance(a, (list, tuple)) and builtins.any(
                    isinstance(v, SymbolicTensor) for v in a):
                from .layers.op_layer import symbolic_op

                return symbolic_op(name, args, kwargs)
        return fn(*args, **kwargs)

    return op


# Keras 3's sub-namespaces of keras.ops (ops.nn.sigmoid, ops.numpy.sum, ops.core.cast,
# ops.math.top_k): each op sits at the top level too, so each namespace is a module object that
# lists the top-level functions of its Keras group, made on first use.
_NAMESPACES = {
    "nn": "relu relu6 sigmoid softplus softsign silu swish log_sigmoid leaky_relu hard_sigmoid "
          "hard_silu hard_swish hard_tanh elu selu gelu celu glu softmax log_softmax max_pool "
          "average_pool conv depthwise_conv separable_conv one_hot binary_crossentropy "
          "categorical_crossentropy sparse_categorical_crossentropy moments "
          "batch_normalization normalize sparsemax squareplus threshold hard_shrink "
          "soft_shrink tanh_shrink sparse_plus mish ctc_loss ctc_decode adaptive_average_pool "
          "conv_transpose "
          "adaptive_max_pool depth_to_space space_to_depth dot_product_attention fold unfold "
          "layer_normalization rms_normalization psnr sparse_sigmoid multi_hot",
    "core": "cast cond convert_to_numpy convert_to_tensor scatter scatter_update shape slice "
            "slice_update stop_gradient map scan associative_scan fori_loop while_loop switch "
            "vectorized_map custom_gradient saturate_cast",
    "math": "segment_sum segment_max segment_min segment_prod top_k in_top_k logsumexp rsqrt "
            "erf erfinv",
    "linalg": "cholesky cholesky_inverse det eigh inv lstsq matrix_rank norm pinv qr solve "
              "solve_triangular svd",
}


def _namespace(name: str) -> Any:
    import types

    if name == "numpy":
        grouped = {n for names in _NAMESPACES.values() for n in names.split()}
        names = [n for n in __all__ if n not in grouped]
    else:
        names = _NAMESPACES[name].split()
    module = types.ModuleType(f"{__name__}.{name}", f"keras.ops.{name}: {', '.join(names)}.")
    module.__dict__.update({n: globals()[n] for n in names})
    module.__all__ = names  # type: ignore[attr-defined]

    def missing(attr: str) -> Any:
        raise AttributeError(f"shenjing.ops.{name} has no {attr!r}: the ops Keras groups there "
                             f"that shenjing has are {', '.join(names)}; see shenjing.ops")

    module.__getattr__ = missing  # type: ignore[method-assign]
    globals()[name] = module
    return module


def __getattr__(name: str) -> Any:
    if name in _NAMESPACES or name == "numpy":
        return _namespace(name)
    if name == "image":  # keras.ops.image: its own functions, not top-level ones
        from . import _ops_image

        globals()[name] = _ops_image
        return _ops_image
    raise AttributeError(
        f"shenjing.ops has no {name!r}: it holds the commonly used part of keras.ops "
        f"({', '.join(__all__)}); for others, use Tensor methods and operators, or "
        "shenjing.functional")


_PARTS = (_ops_numpy, _ops_nn, _ops_linalg, _ops_control, _ops_more, _ops_nn_more, _ops_misc)
globals().update({n: getattr(m, n) for m in _PARTS for n in m.__all__})
_MODULES = (__name__, _ops_common.__name__, *(m.__name__ for m in _PARTS))
__all__ = sorted(n for n, v in list(globals().items())
                 if callable(v) and not n.startswith("_") and getattr(v, "__module__", None)
                 in _MODULES)
_NOT_RECORDED = frozenset(("convert_to_numpy", "convert_to_tensor", "shape", "ndim", "is_tensor",
                           "dtype", "custom_gradient", "vectorize"))  # (these return no Tensor)
for _name in __all__:
    if _name not in _NOT_RECORDED:
        globals()[_name] = _recorded_on_symbolic(globals()[_name])
