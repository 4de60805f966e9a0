"""``Parameter``: a leaf Tensor that a layer owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor


class Parameter(Tensor):
    """A weight of a layer. ``trainable`` weights require grad and are updated by optimizers;
    non-trainable ones (batch norm's moving statistics, frozen layers) are state that is saved
    and loaded but never differentiated.

    Args:
        data: the initial value (float32 unless ``dtype`` says otherwise).
        trainable: whether optimizers update it (sets ``requires_grad``).
        name: the weight's name within its layer (``kernel``, ``bias``, ``moving_mean``...).
        regularizer: a callable of the parameter giving a penalty added to the loss, or None.
    """

    def __init__(self, data: Any, trainable: bool = True, name: str | None = None,
                 regularizer: Any = None, dtype: Any = None) -> None:
        super().__init__(data, dtype=dtype, requires_grad=trainable, name=name)
        self.regularizer = regularizer

    @property
    def trainable(self) -> bool:
        return self.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.requires_grad_(bool(value))
        if not value:
            self.grad = None

    def assign(self, value: Any) -> None:
        """Overwrite the value in place (shape must match), as Keras's ``Variable.assign``."""
        value = value.data if isinstance(value, Tensor) else value
        if tuple(getattr(value, "shape", ())) != self.shape:
            raise ValueError(f"cannot assign a value of shape {getattr(value, 'shape', ())} to "
                             f"parameter {self.name!r} of shape {self.shape}")
        self.data[...] = value

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, trainable={self.trainable})"
