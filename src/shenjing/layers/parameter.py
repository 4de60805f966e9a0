"""``Parameter``: a leaf Tensor that a layer owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor
from ..backend import on_device_of


class Parameter(Tensor):
    """A weight of a layer. ``trainable`` weights require grad and are updated by optimizers;
    non-trainable ones (batch norm's moving statistics, frozen layers) are state that is saved
    and loaded but never differentiated.

    Args:
        data: the initial value (float32 unless ``dtype`` says otherwise).
        trainable: whether optimizers update it (sets ``requires_grad``).
        name: the weight's name within its layer (``kernel``, ``bias``, ``moving_mean``...).
            ``path`` is ``layer_name/name`` once a layer's ``add_weight`` made it (Keras 3's
            ``Variable.path``), else the name.
        regularizer: a callable of the parameter giving a penalty added to the loss, or None.
        constraint: a callable projecting the value, which optimizers apply after each update
            (``layers.constraints``), or None.
    """

    def __init__(self, data: Any, trainable: bool = True, name: str | None = None,
                 regularizer: Any = None, dtype: Any = None, constraint: Any = None) -> None:
        super().__init__(data, dtype=dtype, requires_grad=trainable, name=name)
        self.regularizer, self.constraint = regularizer, constraint
        self.path = name

    @property
    def trainable(self) -> bool:
        return self.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.requires_grad_(bool(value))
        if not value:
            self.grad = None

    def assign(self, value: Any) -> Parameter:
        """Overwrite the value in place (shape must match), as Keras's ``Variable.assign``;
        returns the parameter."""
        value = self._here(value)
        if value.shape != self.shape:
            raise ValueError(f"cannot assign a value of shape {value.shape} to parameter "
                             f"{self.name!r} of shape {self.shape}")
        self.data[...] = value
        return self

    def _here(self, value: Any) -> Any:
        """``value`` (a Tensor, an array of either device, a list, a number) as an array on
        this parameter's device."""
        return on_device_of(value.data if isinstance(value, Tensor) else value, self.data)

    def assign_add(self, delta: Any) -> Parameter:
        """Add ``delta`` in place (Keras's ``Variable.assign_add``), e.g. a metric's count or a
        running sum; its shape must broadcast to the parameter's. Returns the parameter."""
        return self._update_in_place(delta, 1)

    def assign_sub(self, delta: Any) -> Parameter:
        """Subtract ``delta`` in place (Keras's ``Variable.assign_sub``). Returns the parameter."""
        return self._update_in_place(delta, -1)

    def _update_in_place(self, delta: Any, sign: int) -> Parameter:
        delta = self._here(delta)
        try:
            fits = np.broadcast_shapes(np.shape(delta), self.shape) == self.shape
        except ValueError:  # NumPy's message names neither the parameter nor the operation
            fits = False
        if not fits:
            raise ValueError(f"cannot add a value of shape {np.shape(delta)} to parameter "
                             f"{self.name!r} of shape {self.shape}")
        if sign > 0:
            self.data += delta
        else:
            self.data -= delta
        return self

    @property
    def value(self) -> Tensor:
        """The current value as a Tensor outside any graph (Keras's ``Variable.value``); its
        ``grad`` is the weight's, as a torch-backend ``train_step`` reads ``v.value.grad``."""
        value = Tensor._wrap(self.data)
        value.grad = self.grad
        return value

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, trainable={self.trainable})"
