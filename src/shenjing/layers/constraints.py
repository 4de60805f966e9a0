"""Weight constraints (Keras's ``MaxNorm``, ``MinMaxNorm``, ``NonNeg``, ``UnitNorm``): a
projection the optimizer applies to a weight after each update.

A layer takes ``kernel_constraint=MaxNorm(3)`` (or ``"max_norm"``); the weight carries it as
``Parameter.constraint`` and every optimizer step ends with ``w = constraint(w)`` for it, as
Keras 3's does. Max-norm on the incoming weights of each unit is what dropout's authors paired
it with (Srivastava et al., 2014). Norms are taken along ``axis``: 0 is each output unit's
column of a Dense kernel (``(in, out)``); ``[0, 1, 2]`` each filter of a Conv2D kernel.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from ..backend import get_xp
from ..config import epsilon

EPSILON = epsilon()  # Keras's backend.epsilon(), which keeps a zero column at zero


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (an array or a Tensor; a
    subclass may use shenjing's ops on it), ``get_config`` its arguments."""

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


def _norms(w: Any, axis: Any) -> Any:
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    xp = get_xp(w)
    return xp.sqrt(xp.sum(w * w, axis=axis, keepdims=True))


def _array(w: Any) -> Any:
    return w.data if isinstance(w, Tensor) else w


class MaxNorm(Constraint):
    """Rescale each slice along ``axis`` whose L2 norm exceeds ``max_value`` down to it."""

    def __init__(self, max_value: float = 2.0, axis: Any = 0) -> None:
        if not max_value > 0:
            raise ValueError(f"MaxNorm: max_value must be > 0, got {max_value!r}")
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w: Any) -> Any:
        w = _array(w)
        norms = _norms(w, self.axis)
        return w * (norms.clip(0, self.max_value) / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's L2 norm into [min_value, max_value]: ``rate`` 1 all the way, below 1
    a fraction of the way each step (Keras's)."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        if not 0 <= min_value <= max_value:
            raise ValueError(f"MinMaxNorm: need 0 <= min_value <= max_value, got "
                             f"{min_value!r}, {max_value!r}")
        self.min_value, self.max_value = float(min_value), float(max_value)
        self.rate, self.axis = float(rate), axis

    def __call__(self, w: Any) -> Any:
        w = _array(w)
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clip(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Negative entries set to 0."""

    def __call__(self, w: Any) -> Any:
        w = _array(w)
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Each slice along ``axis`` scaled to L2 norm 1."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        w = _array(w)
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


_CLASSES = {"MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg,
            "UnitNorm": UnitNorm}
_NAMES = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
          "unit_norm": UnitNorm}


def get(identifier: Any) -> Any:
    """A constraint from None, a name ('max_norm', 'non_neg', ..., or the class name), a config
    dict, or an instance/callable."""
    if identifier is None:
        return None
    if isinstance(identifier, type):  # the class itself: an instance of it, as Keras's get
        return identifier()
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown constraint {identifier!r}; known: "
                             f"{', '.join(_NAMES)}")
        return cls()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in _CLASSES:
            raise ValueError(f"unknown constraint class {name!r}; known: {', '.join(_CLASSES)}")
        return _CLASSES[name].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"constraint must be a name, a config or a callable, got {identifier!r}")


def serialize(constraint: Any) -> dict[str, Any] | None:
    if constraint is None:
        return None
    if type(constraint) not in _CLASSES.values():
        raise ValueError(f"constraint {constraint!r} is not a built-in constraint and cannot "
                         "be saved")
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
