"""Attach the operators and methods of ``Tensor`` (``+``, ``@``, ``.sum()``, ``[...]``...).

``autograd`` cannot import the ops (they import it), so the ops are bound onto ``Tensor`` here,
once, when :mod:`shenjing.functional` loads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..autograd import Tensor, anomaly, is_grad_enabled
from ..backend import on_device_of
from . import activation as A
from . import elementwise as E
from . import linalg as L
from . import reduction as R
from . import shape as S
from ._util import as_tensor, axis_index, torch_dims
from .device import device_name, to_device


def _swap(fn):
    return lambda self, other: fn(as_tensor(other, like=self), self)


def _arithmetic(fn, cls, reflected=False):
    """The operator ``fn`` (``self op other``, or ``other op self`` when ``reflected``), with a
    shortcut for a Python number where nothing is recorded (under no_grad, or a tensor that
    requires no grad; not in anomaly mode) and the tensor holds floats in a NumPy array: the op
    ``cls``'s own forward on the array and the number in its dtype, as ``fn`` computes it,
    without ``fn``'s Tensor for the number and the Function's bookkeeping (an SGD update's
    ``lr * p.grad``: 3.8 -> 1.9 us)."""
    def method(self, other):
        data = self.data
        if (other.__class__ in (float, int) and data.__class__ is np.ndarray
                and data.dtype.kind == "f" and not (self.requires_grad and is_grad_enabled())
                and not anomaly.enabled):
            op = cls()
            op.needs_input_grad = (False, False)
            number = np.array(other, dtype=data.dtype)
            out = op.forward(number, data) if reflected else op.forward(data, number)
            return Tensor._wrap(out if out.__class__ is np.ndarray else np.asarray(out))
        return fn(self, other)

    return method


def _transpose(self: Tensor, *axes: Any) -> Tensor:
    """``x.transpose()`` reverses the axes and ``x.transpose(order)`` permutes them (NumPy);
    two axes, ``x.transpose(1, 2)``, are swapped (PyTorch's meaning; NumPy's differs only on a
    2-D ``transpose(0, 1)``, an identity nobody writes)."""
    if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
        order = list(range(self.ndim))
        i, j = (axis_index(a, self.ndim) for a in axes)
        order[i], order[j] = order[j], order[i]
        return S.transpose(self, order)
    return S.transpose(self, _shape_args(axes) if axes else None)


def _flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim`` .. ``end_dim`` into one (all of them by default, as
    ``numpy.ravel``; ``x.flatten(1)`` keeps the batch axis, as PyTorch's)."""
    if self.ndim == 0:
        return S.reshape(self, (1,))
    start, end = axis_index(start_dim, self.ndim), axis_index(end_dim, self.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return S.reshape(self, (*self.shape[:start], -1, *self.shape[end + 1:]))


def _shape_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and not isinstance(args[0], int) else args


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """x with a new shape, given as sizes or one sequence (``x.reshape(2, -1)``)."""
    return S.reshape(self, _shape_args(shape))


# -- PyTorch's spellings ------------------------------------------------------------------------
def _view(self: Tensor, *shape: Any) -> Tensor:
    """PyTorch's ``view``: :meth:`reshape` (never an error on non-contiguous data: NumPy copies
    then). Like every view op's result, it shares x's in-place counter over the same memory."""
    return S.reshape(self, _shape_args(shape))


def _unsqueeze(self: Tensor, dim: int) -> Tensor:
    """PyTorch's ``unsqueeze``: a new axis of size 1 at ``dim`` (``expand_dims``), a view."""
    return S.expand_dims(self, dim)


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    """PyTorch's ``expand``: :func:`broadcast_to` where -1 keeps an axis's size
    (``x.expand(4, -1, -1)``); new axes go in front. A read-only view."""
    sizes = tuple(_shape_args(sizes))
    new = len(sizes) - self.ndim
    if new < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {self.shape}")
    if -1 in sizes[:new]:
        raise ValueError(f"expand: -1 is not allowed for a new leading axis (sizes {sizes})")
    return S.broadcast_to(self, [self.shape[i - new] if n == -1 else n
                                 for i, n in enumerate(sizes)])


def _t(self: Tensor) -> Tensor:
    """PyTorch's ``t()``: a 2-D tensor transposed (0-D and 1-D ones as they are); more axes are
    an error, as in torch (``transpose(-2, -1)`` or ``T`` for those)."""
    if self.ndim > 2:
        raise ValueError(f"t() expects a tensor with at most 2 dimensions, got shape "
                         f"{self.shape}; use transpose(-2, -1) or .T")
    return S.transpose(self)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    """PyTorch's ``expand_as``: :meth:`expand` to ``other``'s shape."""
    return _expand(self, other.shape)


def _reshape_as(self: Tensor, other: Tensor) -> Tensor:
    """PyTorch's ``reshape_as`` and ``view_as``: :meth:`reshape` to ``other``'s shape."""
    return S.reshape(self, other.shape)


def _with_alpha(op: Any) -> Any:
    def method(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if alpha != 1:
            other = E.mul(as_tensor(other, like=self), alpha)
        return op(self, other)

    method.__name__ = op.__name__
    method.__doc__ = (f"PyTorch's ``x.{op.__name__}(other, alpha=1)``: "
                      f"``{op.__name__}(x, alpha * other)``, broadcasting, differentiable.")
    return method


def _div(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """PyTorch's ``x.div(other, rounding_mode=None)``: true division, or rounded toward zero
    ('trunc') or down ('floor'); a rounded quotient of integers stays an integer, as torch's."""
    if rounding_mode is None:
        return E.div(self, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    divisor = as_tensor(other, like=self)
    if self.dtype.kind in "iu" and divisor.dtype.kind in "iu":
        return _integer_div(self, other, divisor, rounding_mode == "trunc")
    if rounding_mode == "floor":
        return E.floor_divide(self, other)
    return E.trunc(E.div(self, divisor))


def _integer_div(a: Tensor, other: Any, divisor: Tensor, trunc: bool) -> Tensor:
    """a // other of integers in torch's dtype, exact (float64 rounds above 2**53); ``trunc``:
    toward zero, one above the floor where that is negative and inexact. A zero divisor
    raises, as torch's (NumPy warns and gives 0, or INT_MIN through float64)."""
    if (divisor.data == 0).any():
        raise ZeroDivisionError("div: integer division by zero")
    q = E.floor_divide(a, other)  # ``other``, not ``divisor``: a Python int keeps a's dtype
    if not trunc:
        return q
    return Tensor._wrap(q.data + ((q.data < 0) & (E.fmod(a, other).data != 0)))


def _clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """PyTorch's ``clamp``: :func:`F.clip` (the gradient is x's inside [min, max], bounds
    included; a Tensor bound's where it binds strictly)."""
    return E.clip(self, min, max)


def _squeeze(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """x without axes of size 1; ``x.squeeze(0)`` is torch's (a longer axis is left alone),
    ``x.squeeze(axis=0)`` NumPy's (it must have size 1)."""
    if args and not kwargs:
        return S.squeeze(self, dim=args[0])
    return S.squeeze(self, *args, **kwargs)


def _split(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    """torch's ``x.split(size_or_sizes, dim)`` (:func:`F.split_sizes`); with NumPy's ``axis=``
    NumPy's (:func:`F.split`: a number of equal parts, or cut indices)."""
    if "axis" in kwargs:
        return S.split(self, *args, **kwargs)
    return S.split_sizes(self, *args, **kwargs)


def _flip(self: Tensor, *axes: Any, axis: Any = None, dims: Any = None) -> Tensor:
    """Reverse along the axes given as arguments or one sequence (``x.flip(0, 1)``,
    ``x.flip((0, 1))``, ``x.flip(dims=0)`` as torch; ``x.flip(axis=0)``); all of them without."""
    given = [a for a in (_shape_args(axes) if axes else None, axis, dims) if a is not None]
    if len(given) > 1:
        raise TypeError("flip: give the axes once (as arguments, axis= or dims=)")
    return S.flip(self, given[0] if given else None)


def _to(self: Tensor, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """PyTorch's ``to``: a dtype (``x.to(np.float64)``, ``x.to("float64")``, ``x.to(other)``
    for other's dtype) and/or a device (``"cpu"``: NumPy, ``"cuda"`` / ``"cuda:N"``: CuPy), both
    differentiable (:func:`F.cast`, :func:`F.to_device`); x itself when nothing changes."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype, device = arg.dtype, device_name(arg)
        elif isinstance(arg, str) and not _names_dtype(arg):
            device = arg
        else:
            dtype = arg
    out = self if device is None else to_device(self, device)
    return out if dtype is None else E.cast(out, dtype)


def _names_dtype(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def _caster(dtype: Any, name: str) -> Any:
    def cast(self: Tensor) -> Tensor:
        return E.cast(self, dtype)

    cast.__name__ = name
    cast.__doc__ = (f"x as {np.dtype(dtype).name} (PyTorch's ``x.{name}()``), differentiable to "
                    "a floating dtype; x itself if it already is.")
    return cast


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``, as torch: under ``no_grad()``, or when no tensor involved requires
    grad, a plain write into x's memory (views and ``detach()``ed aliases see it); on a tensor in
    the graph, or with a value that requires grad, recorded as ``index_put`` (the gradient
    reaches the value, and x's previous values except at ``index``); on a leaf that requires
    grad, an error (torch's). Bumps the version counter, as the in-place methods."""
    raw = S._raw_index(index)

    def put(a: Any, v: Any) -> None:  # a value from the other device is moved to a's
        a[raw] = v if isinstance(v, (bool, int, float, complex)) else on_device_of(v, a)

    self._inplace(value, put, lambda old, v: S.index_put(old, raw, v))


# torch's CPU tensor-type names, as ``x.type('torch.FloatTensor')`` takes them (no bfloat16:
# NumPy has none; for a device, ``x.to('cuda')``)
_TORCH_TENSOR_TYPES = {
    "torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64,
    "torch.HalfTensor": np.float16, "torch.LongTensor": np.int64, "torch.IntTensor": np.int32,
    "torch.ShortTensor": np.int16, "torch.CharTensor": np.int8, "torch.ByteTensor": np.uint8,
    "torch.BoolTensor": np.bool_,
}


def _type(self: Tensor, dtype: Any = None) -> Any:
    """``x.type(dtype)``: x as ``dtype`` (PyTorch's spelling of a cast, ``y_hat.type(y.dtype)``),
    a dtype, a NumPy dtype name ('float32') or one of torch's tensor-type names
    ('torch.FloatTensor', 'torch.LongTensor', ...); without one, the name of x's dtype (torch
    gives its tensor type, 'torch.FloatTensor')."""
    if dtype is None:
        return self.dtype.name
    if isinstance(dtype, str):
        if dtype in _TORCH_TENSOR_TYPES:
            dtype = _TORCH_TENSOR_TYPES[dtype]
        elif not _names_dtype(dtype):
            raise ValueError(f"type() takes a dtype, a NumPy dtype name ('float32') or one of "
                             f"torch's tensor types ({', '.join(_TORCH_TENSOR_TYPES)}); got "
                             f"{dtype!r}")
    return E.cast(self, dtype)


def _unrecorded(name: str, doc: str) -> Any:
    """The array's reduction ``name`` as a method without gradient, taking NumPy's
    ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim``; NumPy's other keywords (``out=``,
    which ``np.all(t)`` passes) go to the array's method."""

    def reduce(self: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
               keepdim: bool | None = None, **numpy_kwargs: Any) -> Tensor:
        if dim is not None or keepdim is not None:
            axis, keepdims = torch_dims(axis, keepdims, dim, keepdim)
        return Tensor._wrap(getattr(self.data, name)(axis=axis, keepdims=keepdims,
                                                     **numpy_kwargs))

    reduce.__name__ = name
    reduce.__doc__ = f"{doc}; ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims``."
    return reduce


def _arg(name: str) -> Any:
    return _unrecorded(name, f"Indices of the {name[3:]}ima along ``axis`` (None: of the "
                             "flattened tensor), int64, no gradient")


def _logical(name: str) -> Any:
    return _unrecorded(name, f"Whether {name} elements are true along ``axis`` (None: all), "
                             "a boolean tensor")


def _moment(reduce: Any) -> Any:
    _torch_keywords = {"dim", "keepdim", "correction", "unbiased"}

    def moment(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if set(kwargs) <= _torch_keywords:  # torch's call: x.var(), x.var(0), x.var(0, True)
            if len(args) > 3:
                raise TypeError(f"{reduce.__name__}() takes at most 3 positional arguments "
                                "(dim, unbiased, keepdim)")
            for name, value in zip(("dim", "unbiased", "keepdim"), args):
                if name in kwargs:
                    raise TypeError(f"{reduce.__name__}() got {name} twice")
                kwargs[name] = value
            kwargs.setdefault("keepdim", False)  # a torch call: correction 1 by default
            return reduce(self, **kwargs)
        return reduce(self, *args, **kwargs)  # NumPy's keywords (axis=, ddof=): NumPy's meaning

    moment.__name__ = reduce.__name__
    moment.__doc__ = (
        f"PyTorch's ``x.{reduce.__name__}(dim, unbiased, keepdim)``, unbiased by default "
        f"(correction 1) also with no arguments; called with NumPy's keywords (``axis=``, "
        f"``keepdims=``, ``ddof=``) it is NumPy's, population by default. See "
        f":func:`shenjing.functional.{reduce.__name__}`.")
    return moment


class ValuesIndices(NamedTuple):
    """``x.max(dim)``'s result (and ``sort``'s, ``topk``'s), as torch's ``return_types``:
    ``values, indices = ...``."""

    values: Tensor
    indices: Tensor


@S.on_0d_as_1d
def _values_indices(x: Tensor, name: str, axis: int, keepdims: bool) -> ValuesIndices:
    """x's maxima (``name`` 'max') or minima along ``axis`` and their indices: the values at
    the returned indices, so a tie's gradient goes to that one index, as torch's."""
    where = getattr(x.data, f"arg{name}")(axis=axis, keepdims=True)
    values = S.take_along_axis(x, where, axis)
    if not keepdims:
        values, where = S.squeeze(values, axis), where.squeeze(axis)
    return ValuesIndices(values, Tensor._wrap(where))


def _extreme(name: str) -> Any:
    reduce = getattr(R, name)

    def extreme(self: Tensor, *args: Any, axis: Any = None, keepdims: bool = False,
                dim: Any = None, keepdim: bool | None = None) -> Any:
        if len(args) > 2:
            raise TypeError(f"{name}() takes at most 2 positional arguments (dim, keepdim)")
        if args and (isinstance(args[0], Tensor) or getattr(args[0], "ndim", 0) > 0):
            # torch's x.max(other), other a Tensor or an array: element-wise
            return (E.maximum if name == "max" else E.minimum)(self, args[0])
        if args and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
            dim, keepdim = args[0], (args[1] if len(args) > 1 else keepdim)  # torch's x.max(1)
        elif args:  # NumPy's x.max((0, 1), True)
            axis, keepdims = (*args, keepdims)[:2]
        if dim is None:
            return reduce(self, axis, keepdims, keepdim=keepdim)
        return _values_indices(self, name, *torch_dims(axis, keepdims, dim, keepdim))

    extreme.__name__ = name
    extreme.__doc__ = (
        f"PyTorch's ``x.{name}(dim)``, with ``dim=`` or one int: ``(values, indices)`` (the "
        f"indices carry no gradient; ``{name}(x, dim)`` and ``_, i = x.{name}(1)`` as in "
        f"torch); NumPy's with ``axis=``, a tuple or nothing: the {name}ima only (``amax``).")
    return extreme


def install() -> None:
    methods = {
        "__add__": _arithmetic(E.add, E._Add), "__radd__": _arithmetic(_swap(E.add), E._Add, True),
        "__sub__": _arithmetic(E.sub, E._Sub), "__rsub__": _arithmetic(_swap(E.sub), E._Sub, True),
        "__mul__": _arithmetic(E.mul, E._Mul), "__rmul__": _arithmetic(_swap(E.mul), E._Mul, True),
        "__truediv__": _arithmetic(E.div, E._Div),
        "__rtruediv__": _arithmetic(_swap(E.div), E._Div, True),
        "__floordiv__": E.floor_divide, "__rfloordiv__": _swap(E.floor_divide),
        "__mod__": E.remainder, "__rmod__": _swap(E.remainder),
        "__and__": E.bitwise_and, "__rand__": _swap(E.bitwise_and),
        "__or__": E.bitwise_or, "__ror__": _swap(E.bitwise_or),
        "__xor__": E.bitwise_xor, "__rxor__": _swap(E.bitwise_xor),
        "__invert__": E.bitwise_not,
        "floor_divide": E.floor_divide, "remainder": E.remainder,
        "__pow__": E.pow, "__rpow__": _swap(E.pow),
        "__matmul__": lambda a, b: L.matmul(a, as_tensor(b, like=a)),
        "__rmatmul__": lambda a, b: L.matmul(as_tensor(b, like=a), a),
        "__neg__": E.neg, "__abs__": E.abs, "__pos__": lambda self: self,
        "__eq__": E.equal, "__ne__": E.not_equal, "__lt__": E.less,
        "__le__": E.less_equal, "__gt__": E.greater, "__ge__": E.greater_equal,
        "__getitem__": S.getitem, "__setitem__": _setitem,
        "eq": E.equal, "ne": E.not_equal, "lt": E.less, "le": E.less_equal, "gt": E.greater,
        "ge": E.greater_equal, "isclose": E.isclose, "allclose": E.allclose,
        "exp": E.exp, "log": E.log, "log10": E.log10, "log2": E.log2, "sqrt": E.sqrt,
        "sin": E.sin, "cos": E.cos, "abs": E.abs,
        "clip": E.clip,
        "cast": E.cast, "maximum": E.maximum, "minimum": E.minimum,
        "add": _with_alpha(E.add), "sub": _with_alpha(E.sub), "mul": E.mul, "div": _div,
        "true_divide": E.div,
        "pow": E.pow, "neg": E.neg, "clamp": _clamp,
        "clamp_min": lambda self, min: _clamp(self, min=min),
        "clamp_max": lambda self, max: _clamp(self, max=max),
        "sum": R.sum, "mean": R.mean, "max": _extreme("max"), "min": _extreme("min"),
        "amax": R.max, "amin": R.min, "var": _moment(R.var), "std": _moment(R.std),
        "logsumexp": R.logsumexp, "norm": R.norm,
        "reshape": _reshape, "view": _view, "unsqueeze": _unsqueeze, "expand": _expand,
        "reshape_as": _reshape_as, "view_as": _reshape_as, "expand_as": _expand_as, "t": _t,
        "clone": E.clone, "to": _to,
        "where": lambda self, condition, other: E.where(condition, self, other),
        "float": _caster(np.float32, "float"), "double": _caster(np.float64, "double"),
        "half": _caster(np.float16, "half"),
        "long": _caster(np.int64, "long"), "int": _caster(np.int32, "int"),
        "bool": _caster(np.bool_, "bool"), "type": _type,
        "cpu": lambda self: to_device(self, "cpu"),
        "cuda": lambda self, device=0: to_device(self, f"cuda:{device}"),
        "transpose": _transpose,
        "permute": S.permute,
        "squeeze": _squeeze, "expand_dims": S.expand_dims, "broadcast_to": S.broadcast_to,
        "flatten": _flatten,
        "flip": _flip, "pad": S.pad, "split": _split, "matmul": L.matmul,
        "relu": A.relu, "sigmoid": A.sigmoid, "tanh": A.tanh,
        "softmax": A.softmax, "log_softmax": A.log_softmax,
        "any": _logical("any"), "all": _logical("all"),
        "argmax": _arg("argmax"), "argmin": _arg("argmin"),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.device = property(device_name, doc="Where the data lives: 'cpu' (NumPy) or "
                                              "'cuda:N' (CuPy), as a string.")
    Tensor.T = property(lambda self: S.transpose(self),
                        doc="All axes reversed (NumPy's and PyTorch's ``T``); "
                            "``x.transpose(-2, -1)`` swaps the last two.")
