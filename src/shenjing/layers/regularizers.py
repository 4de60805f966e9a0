"""Weight penalties added to the loss (Keras's L1, L2, L1L2): ``penalty = l1 sum|w| + l2 sum w**2``.

A layer takes ``kernel_regularizer=L2(1e-4)``; ``layer.losses`` evaluates the penalties on the
current weights (a differentiable Tensor) and ``fit`` adds them to the loss.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor


class L1L2:
    """l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularization factors must be >= 0, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w: Tensor) -> Tensor:
        penalty = None
        if self.l1:
            penalty = self.l1 * F.sum(F.abs(w))
        if self.l2:
            sq = self.l2 * F.sum(w * w)
            penalty = sq if penalty is None else penalty + sq
        return penalty if penalty is not None else F.sum(w * 0.0)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> L1L2:
        return cls(**config)


class L1(L1L2):
    """l1 * sum(|w|) (Keras's default factor 0.01)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(w**2) (Keras's default factor 0.01)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, float]:
        return {"l2": self.l2}


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier: Any) -> L1L2 | None:
    """A regularizer from None, 'l1', 'l2', 'l1_l2', a config dict, or an instance/callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower().replace("_", "")
        table = {"l1": L1, "l2": L2, "l1l2": L1L2}
        if key not in table:
            raise ValueError(f"unknown regularizer {identifier!r}; known: l1, l2, l1_l2")
        return table[key]()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in _CLASSES:
            raise ValueError(f"unknown regularizer class {name!r}; known: {', '.join(_CLASSES)}")
        return _CLASSES[name].from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizer must be a name, a config or a callable, got {identifier!r}")


def serialize(reg: Any) -> dict[str, Any] | None:
    if reg is None:
        return None
    if not isinstance(reg, L1L2):
        raise ValueError(f"regularizer {reg!r} is not a shenjing regularizer and cannot be saved")
    return {"class_name": type(reg).__name__, "config": reg.get_config()}
