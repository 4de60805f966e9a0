"""Attach the operators and methods of ``Tensor`` (``+``, ``@``, ``.sum()``, ``[...]``...).

``autograd`` cannot import the ops (they import it), so the ops are bound onto ``Tensor`` here,
once, when :mod:`shenjing.functional` loads.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from . import activation as A
from . import elementwise as E
from . import linalg as L
from . import reduction as R
from . import shape as S
from ._util import as_tensor


def _swap(fn):
    return lambda self, other: fn(as_tensor(other, like=self), self)


def _shape_args(args: tuple[Any, ...]) -> Any:
    return args[0] if len(args) == 1 and not isinstance(args[0], int) else args


def install() -> None:
    methods = {
        "__add__": E.add, "__radd__": _swap(E.add),
        "__sub__": E.sub, "__rsub__": _swap(E.sub),
        "__mul__": E.mul, "__rmul__": _swap(E.mul),
        "__truediv__": E.div, "__rtruediv__": _swap(E.div),
        "__pow__": E.pow, "__rpow__": _swap(E.pow),
        "__matmul__": lambda a, b: L.matmul(a, as_tensor(b, like=a)),
        "__rmatmul__": lambda a, b: L.matmul(as_tensor(b, like=a), a),
        "__neg__": E.neg, "__abs__": E.abs, "__pos__": lambda self: self,
        "__eq__": E.equal, "__ne__": E.not_equal, "__lt__": E.less,
        "__le__": E.less_equal, "__gt__": E.greater, "__ge__": E.greater_equal,
        "__getitem__": S.getitem,
        "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "clip": E.clip,
        "cast": E.cast, "maximum": E.maximum, "minimum": E.minimum,
        "sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "var": R.var, "std": R.std,
        "logsumexp": R.logsumexp,
        "reshape": lambda self, *shape: S.reshape(self, _shape_args(shape)),
        "transpose": lambda self, *axes: S.transpose(self, _shape_args(axes) if axes else None),
        "permute": S.permute,
        "squeeze": S.squeeze, "expand_dims": S.expand_dims, "broadcast_to": S.broadcast_to,
        "flatten": lambda self: S.reshape(self, (-1,)),
        "flip": S.flip, "pad": S.pad, "split": S.split, "matmul": L.matmul,
        "relu": A.relu, "sigmoid": A.sigmoid, "tanh": A.tanh,
        "softmax": A.softmax, "log_softmax": A.log_softmax,
        "any": lambda self, *a, **k: Tensor._wrap(self.data.any(*a, **k)),
        "all": lambda self, *a, **k: Tensor._wrap(self.data.all(*a, **k)),
        "argmax": lambda self, *a, **k: Tensor._wrap(self.data.argmax(*a, **k)),
        "argmin": lambda self, *a, **k: Tensor._wrap(self.data.argmin(*a, **k)),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: S.transpose(self))
