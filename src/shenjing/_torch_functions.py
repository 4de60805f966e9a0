"""PyTorch's module-level math functions: ``shenjing.matmul(X, w)``, ``shenjing.max(X, a)``.

Ported PyTorch code calls ``torch.exp(X)`` as often as ``X.exp()``; with ``import shenjing as
torch`` these names resolve here (loaded on first use by ``shenjing.__getattr__``, so ``import
shenjing`` stays as fast). Each is the op of :mod:`shenjing.functional` or the Tensor method of
the same name, with torch's arguments (``dim``, ``keepdim``); only ``max``/``min`` and ``mm``
differ from those, as torch's do:

- ``max(x)`` is the largest element; ``max(x, other)`` with a tensor ``other`` the element-wise
  maximum (``torch.maximum``); ``max(x, dim, keepdim=False)`` the pair ``(values, indices)``
  (torch's ``return_types.max``), as the method ``x.max(dim)``.
- ``mm(a, b)`` is ``matmul`` of two matrices, and refuses other ranks (torch's).
- ``device("cuda")`` is the string "cuda": shenjing names devices by strings.
- ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as torch's.

Most of the others are the Tensor method of the same name applied to the first argument
(``torch.topk(x, 2)`` is ``x.topk(2)``): see ``_METHOD_FORMS``.
"""

from __future__ import annotations

import builtins
import operator
import sys as _sys
from typing import Any

import numpy as np

from . import backend, factories, ops
from . import functional as F
from ._torch_methods import FUNCTIONS as _METHOD_NAMES
from .autograd import Tensor
from .autograd import as_tensor as _as_tensor
from .functional._util import dtype_kept as _tensor  # arrays too: torch.max(out.data, 1)
from .functional.device import parse_device as _parse_device
from .utils import set_random_seed as manual_seed  # noqa: F401 - torch.manual_seed(0)

# The same function under torch's name (arguments already torch's, dim/keepdim included).
abs = F.abs  # noqa: A001
allclose = F.allclose
cat = F.cat
cos = F.cos
eq = F.equal
exp = F.exp
floor_divide = F.floor_divide
ge = F.greater_equal
gt = F.greater
isclose = F.isclose
le = F.less_equal
log = F.log
log10 = F.log10
log2 = F.log2
log_softmax = F.log_softmax
lt = F.less
matmul = F.matmul
maximum = F.maximum
mean = F.mean
minimum = F.minimum
ne = F.not_equal
norm = F.norm
pow = F.pow  # noqa: A001
relu = F.relu
remainder = F.remainder
sigmoid = F.sigmoid
sin = F.sin
softmax = F.softmax
sqrt = F.sqrt
stack = F.stack
sum = F.sum  # noqa: A001
tanh = F.tanh


def _extreme(name: str, pairwise: Any, x: Tensor, dim: Any, keepdim: bool, other: Any) -> Any:
    x = _tensor(x)
    if other is not None:
        if dim is not None:
            raise TypeError(f"{name}() takes a dim or another tensor, not both")
        return pairwise(x, other)
    if isinstance(dim, Tensor):  # torch.max(X, a): the element-wise maximum
        return pairwise(x, dim)
    if dim is None:
        return getattr(x, name)()
    return getattr(x, name)(dim=dim, keepdim=keepdim)  # the method's (values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001, A002
        other: Any = None) -> Any:
    """torch.max: the largest element, ``(values, indices)`` along ``dim``, or the element-wise
    maximum with a tensor.

    >>> values, indices = shenjing.max(logits, 1)
    """
    return _extreme("max", F.maximum, input, dim, keepdim, other)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001, A002
        other: Any = None) -> Any:
    """torch.min: the smallest element, ``(values, indices)`` along ``dim``, or the element-wise
    minimum with a tensor."""
    return _extreme("min", F.minimum, input, dim, keepdim, other)


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """torch.add: ``input + alpha * other``, broadcasting."""
    return _tensor(input).add(other, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    """torch.sub: ``input - alpha * other``, broadcasting."""
    return _tensor(input).sub(other, alpha=alpha)


def mul(input: Any, other: Any) -> Tensor:  # noqa: A002
    """torch.mul: ``input * other``, broadcasting."""
    return _tensor(input).mul(other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """torch.div: ``input / other``, or rounded ('trunc', 'floor') as ``Tensor.div``."""
    return _tensor(input).div(other, rounding_mode=rounding_mode)


true_divide = F.div


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmax: the index of the largest element (of the flattened tensor without ``dim``)."""
    return _tensor(input).argmax(dim=dim, keepdim=keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmin: the index of the smallest element."""
    return _tensor(input).argmin(dim=dim, keepdim=keepdim)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A001, A002
    """torch.clamp: values limited to [min, max] (either bound may be None)."""
    return _tensor(input).clamp(min, max)


clip = clamp  # torch's alias


def flip(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    """torch.flip: x reversed along each axis of ``dims`` (a list, tuple or int)."""
    return _tensor(input).flip(tuple(dims) if isinstance(dims, (list, tuple)) else dims)


def device(type: str, index: int | None = None) -> str:  # noqa: A002 - torch's names
    """torch.device: the device's name as shenjing spells devices, a string ("cpu", "cuda",
    "cuda:1"; ``x.device`` is one too), checked; ``device("cuda", 1)`` is "cuda:1".

    >>> x = shenjing.randn(3, device=shenjing.device("cpu"))
    """
    name = str(type) if index is None else f"{type}:{operator.index(index)}"
    _parse_device(name)  # a ValueError for what is neither the host nor a GPU
    return name


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """torch.mm: the product of two matrices (2-D only; ``matmul`` broadcasts)."""
    input, mat2 = _tensor(input), _tensor(mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm() takes two matrices, got {input.ndim}-D and {mat2.ndim}-D "
                           "tensors (matmul broadcasts batches)")
    return F.matmul(input, mat2)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """torch.tensordot: the sum over the last ``dims`` axes of a and the first of b, or over
    the axes listed in ``dims = (a's, b's)``."""
    if not isinstance(dims, (int, np.integer)):
        dims = tuple(tuple(d) if hasattr(d, "__iter__") else d for d in dims)
    return ops.tensordot(_tensor(a), _tensor(b), axes=dims)


def cdist(x1: Any, x2: Any, p: float = 2.0) -> Tensor:
    """torch.cdist: the ``p``-norm distance between each row of x1 (..., P, M) and each row of
    x2 (..., R, M), shape (..., P, R); the gradient at a zero distance is 0, as torch's. Made
    from the (..., P, R, M) differences: memory P * R * M."""
    a, b = _tensor(x1), _tensor(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cdist: expected (..., P, M) and (..., R, M) with one M, got shapes "
                         f"{a.shape} and {b.shape}")
    diff = F.expand_dims(a, -2) - F.expand_dims(b, -3)
    return F.norm(diff, p, dim=-1)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """torch.where: ``input`` where ``condition`` holds, else ``other``; with the condition
    alone, the indices where it holds (one tensor per axis)."""
    if input is None and other is None:
        return _tensor(condition).nonzero(as_tuple=True)
    return F.where(condition, input, other)


def _method_form(name: str) -> Any:
    def function(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        return getattr(_tensor(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(x, ...): the method ``x.{name}(...)``."
    return function


#: torch's functions that are the Tensor method of their name on their first argument
_METHOD_FORMS = (*_METHOD_NAMES, "all", "amax", "amin", "any", "clone", "detach", "flatten",
                 "logsumexp", "numel", "permute", "reshape", "split", "squeeze", "std", "t",
                 "transpose", "unsqueeze", "var")
globals().update({name: _method_form(name) for name in _METHOD_FORMS})


def einsum(equation: str, *operands: Any) -> Tensor:
    """torch.einsum: operands as arguments or one list (``einsum("ij,jk", [a, b])``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return ops.einsum(equation, *[_tensor(x) for x in operands])  # arrays keep their dtype


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor over ``array``'s memory, its dtype kept, float64 too (torch's ``from_numpy``;
    ``shenjing.tensor`` copies floats into float32): a write to either shows in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy takes arrays of numbers or booleans, got dtype "
                        f"{array.dtype}")
    return _as_tensor(array, dtype=array.dtype)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True when both have the same shape and elements."""
    a, b = _tensor(input), _tensor(other)
    return a.shape == b.shape and bool((a.data == b.data).all())


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
          ) -> Tensor:
    """A tensor of ``size`` (zeros here: NumPy's uninitialized memory would be a trap)."""
    return factories.zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def empty_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return factories.zeros_like(_tensor(input), dtype=dtype, requires_grad=requires_grad)


def _like(draw: Any) -> Any:
    def like(input: Any, *args: Any, dtype: Any = None, **kwargs: Any) -> Tensor:  # noqa: A002
        x = _tensor(input)
        return draw(*args, size=x.shape, dtype=dtype or x.dtype, **kwargs)

    return like


randn_like, rand_like = _like(factories.randn), _like(factories.rand)
randn_like.__name__, rand_like.__name__ = "randn_like", "rand_like"


def randint_like(input: Any, low: int = 0, high: Any = None, **kwargs: Any) -> Tensor:  # noqa: A002
    """Integers from [low, high) (or [0, low)) in ``input``'s shape."""
    x = _tensor(input)
    return factories.randint(low, high, x.shape, dtype=kwargs.pop("dtype", x.dtype), **kwargs)


def randperm(n: int, *, generator: Any = None, dtype: Any = np.int64,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """A random permutation of 0..n-1 (int64) from the seeded stream."""
    gen = generator or backend.default_generator()
    return factories._made(gen.permutation(int(n)).astype(dtype), requires_grad, device)


# torch's functions with no method form (_torch_more), and NumPy-like ones from ops
from ._torch_io import load, save  # noqa: E402, F401
from ._torch_more import (  # noqa: E402, F401
    broadcast_tensors,
    bucketize,
    isin,
    meshgrid,
    searchsorted,
    std_mean,
    tril_indices,
    triu_indices,
    var_mean,
)

broadcast_to, hstack, vstack = ops.broadcast_to, ops.hstack, ops.vstack


class Size(tuple):
    """torch.Size: a shape, a tuple of ints (``x.size()`` and ``x.shape`` are plain tuples
    here, equal to it); ``numel()`` is the product of its lengths.

    >>> shenjing.Size([2, 3]) == (2, 3)
    True
    """

    def __new__(cls, sizes: Any = ()) -> Size:
        return super().__new__(cls, (operator.index(n) for n in sizes))

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        return Size(got) if isinstance(index, slice) else got

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"Size({list(self)})"


class _LegacyType(type):
    """``isinstance(x, FloatTensor)``: a Tensor of that dtype, as torch's type check."""

    dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


class _LegacyTensor(metaclass=_LegacyType):
    dtype = np.dtype(np.float32)

    def __new__(cls, *args: Any, requires_grad: bool = False) -> Any:  # type: ignore[misc]
        if len(args) == 1 and isinstance(args[0], Size):
            args = tuple(args[0])
        # builtins.all: this module's ``all`` is torch's
        if builtins.all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                        for a in args):
            shape = args or (0,)  # FloatTensor(): an empty 1-D tensor, as torch's
            return factories.zeros(*shape, dtype=cls.dtype, requires_grad=requires_grad)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}() takes sizes or one sequence of data, got {args}")
        data = args[0]
        return Tensor(data.data if isinstance(data, Tensor) else data, dtype=cls.dtype,
                      requires_grad=requires_grad)


def _legacy(name: str, dtype: Any) -> type:
    doc = (f"torch.{name}: ``{name}(2, 3)`` a zero {np.dtype(dtype)} tensor of that shape "
           f"(torch leaves it uninitialized), ``{name}([1, 2])`` the data as "
           f"{np.dtype(dtype)}; ``isinstance(x, {name})`` tests a Tensor's dtype.")
    return _LegacyType(name, (_LegacyTensor,), {"dtype": np.dtype(dtype), "__doc__": doc,
                                                "__module__": __name__})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
BoolTensor = _legacy("BoolTensor", np.bool_)
ByteTensor = _legacy("ByteTensor", np.uint8)

_PROFILES = {"default": {}, "short": {"precision": 2, "threshold": 1000, "edgeitems": 2},
             "full": {"threshold": float("inf")}}
_printoptions: dict[str, Any] = {}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """torch.set_printoptions for Tensor's repr: ``precision`` digits, ``threshold`` elements
    before eliding with "...", ``edgeitems`` kept at each end, ``linewidth`` characters a line,
    ``sci_mode`` True (always scientific), False (never) or None (NumPy's choice, also when not
    given, as torch's). The other options not given keep their value; ``profile="default"``
    brings back NumPy's default repr (torch's "default" profile is precision 4), "short" and
    "full" are torch's."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}")
        _printoptions.clear()
        _printoptions.update(_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "max_line_width": linewidth}
    _printoptions.update({k: v for k, v in given.items() if v is not None})
    _printoptions["sci_mode"] = sci_mode  # torch's too: each call without it is back to None
    options = {k: v for k, v in _printoptions.items() if k != "sci_mode"}
    if options.get("threshold") == float("inf"):
        options["threshold"] = _sys.maxsize
    mode = _printoptions.get("sci_mode")
    if mode is not None:
        digits = options.get("precision", 8)
        spec = f".{digits}{'e' if mode else 'f'}"
        options["formatter"] = {"float_kind": lambda v: format(v, spec)}
    from .autograd.tensor import PRINT_OPTIONS

    PRINT_OPTIONS.clear()
    PRINT_OPTIONS.update(options)
