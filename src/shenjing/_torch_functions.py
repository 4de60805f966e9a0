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
"""

from __future__ import annotations

import operator
from typing import Any

from . import functional as F
from .autograd import Tensor
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
where = F.where


def _tensor(x: Any) -> Tensor:
    """x as a Tensor: torch's ``.data`` is a tensor where shenjing's is the array, so ported code
    hands these functions arrays (``torch.max(outputs.data, 1)``); their dtype is kept."""
    return x if isinstance(x, Tensor) else Tensor(x, dtype=getattr(x, "dtype", None))


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


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmax: the index of the largest element (of the flattened tensor without ``dim``)."""
    return _tensor(input).argmax(dim=dim, keepdim=keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.argmin: the index of the smallest element."""
    return _tensor(input).argmin(dim=dim, keepdim=keepdim)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A001, A002
    """torch.clamp: values limited to [min, max] (either bound may be None)."""
    return _tensor(input).clamp(min, max)


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
