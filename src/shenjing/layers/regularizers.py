"""Weight penalties added to the loss (Keras's L1, L2, L1L2): ``penalty = l1 sum|w| + l2 sum w**2``.

A layer takes ``kernel_regularizer=L2(1e-4)``; ``layer.losses`` evaluates the penalties on the
current weights (a differentiable Tensor) and ``fit`` adds them to the loss.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import as_tensor


class Regularizer:
    """The base of weight penalties (Keras's): ``__call__(w)`` gives the penalty, a scalar
    Tensor; a subclass of yours defines it and ``get_config``, and is saved under its class
    name (found at loading through ``custom_objects`` or ``register_keras_serializable``)."""

    def __call__(self, w: Any) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularization factors must be >= 0, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w: Any) -> Tensor:
        w = as_tensor(w)  # an array too, as Keras converts it
        penalty = None
        if self.l1:
            penalty = self.l1 * F.sum(F.abs(w))
        if self.l2:
            sq = self.l2 * F.sum(w * w)
            penalty = sq if penalty is None else penalty + sq
        return penalty if penalty is not None else F.sum(w * 0.0)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1, "l2": self.l2}


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


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode='rows'``) or columns of a 2-D weight towards being orthogonal
    (Keras's): ``factor * 0.5 * sum |<u_i, u_j>|`` over the pairs i != j of L2-normalized rows
    or columns, divided by the number of pairs."""

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        if factor < 0:
            raise ValueError(f"OrthogonalRegularizer: factor must be >= 0, got {factor}")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got "
                             f"{mode!r}")
        self.factor, self.mode = float(factor), mode

    def __call__(self, w: Any) -> Tensor:
        w = as_tensor(w)  # an array too, as Keras converts it
        if w.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer takes a 2-D weight, got shape {w.shape}")
        rows = w if self.mode == "rows" else F.transpose(w)
        unit = rows / F.maximum(F.sqrt(F.sum(rows * rows, axis=1, keepdims=True)), 1e-12)
        product = unit @ F.transpose(unit)
        size = product.shape[0]
        if size < 2:  # one row (or column): no pair to be orthogonal, no penalty (not 0 / 0)
            return F.sum(w * 0.0)
        off_diagonal = product * (1.0 - w.xp.eye(size, dtype=w.data.dtype))
        pairs = size * (size - 1) / 2.0
        return self.factor * 0.5 * F.sum(F.abs(off_diagonal)) / pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from None, 'l1', 'l2', 'l1_l2', 'orthogonal_regularizer', a config dict, a
    class (made with its defaults), or an instance/callable."""
    if identifier is None:
        return None
    if isinstance(identifier, type):  # the class itself: an instance of it, as Keras's get
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower().replace("_", "")
        # 'l1_l2' is the class with its defaults, 0 and 0, as Keras 3's get makes it (its
        # docstring's 0.01 each is Keras 2's)
        table = {"l1": L1, "l2": L2, "l1l2": L1L2, "orthogonalregularizer": OrthogonalRegularizer}
        if key not in table:
            raise ValueError(f"unknown regularizer {identifier!r}; known: l1, l2, l1_l2, "
                             "orthogonal_regularizer")
        return table[key]()
    if isinstance(identifier, dict):
        from ..io.registry import get_registered_object

        name = identifier.get("class_name")
        cls = _CLASSES.get(name) or get_registered_object(name)
        if cls is None:
            raise ValueError(f"unknown regularizer class {name!r}; known: {', '.join(_CLASSES)} "
                             "(pass your own in custom_objects, or register it)")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizer must be a name, a config or a callable, got {identifier!r}")


def serialize(reg: Any) -> dict[str, Any] | None:
    if reg is None:
        return None
    if not isinstance(reg, Regularizer):
        raise ValueError(f"regularizer {reg!r} is not a Regularizer and cannot be saved "
                         "(subclass shenjing.regularizers.Regularizer, with get_config)")
    return {"class_name": type(reg).__name__, "config": reg.get_config()}
