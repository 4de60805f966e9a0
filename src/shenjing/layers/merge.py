"""Merge layers for residual and multi-input models: Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate. Each takes a list of tensors with one batch size. The element-wise ones
broadcast as Keras 3's: the other axes, aligned from the last, have one size or 1, and an input
with fewer axes gains size-1 axes after the batch axis (squeeze-and-excitation's
``multiply([x, se])`` of (batch, h, w, c) and (batch, 1, 1, c)). Concatenate needs equal shapes
but for ``axis``."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from .layer import Layer


class _Merge(Layer):
    def _merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs a list of at "
                             f"least 2 inputs, got {input_shape}")
        self._check_shapes(input_shape)

    def _check_shapes(self, shapes: list) -> None:
        """Keras's rule: one batch size (None: unknown); each other axis, aligned from the
        last, of one size where the inputs have it, but for sizes 1 and None."""
        kind = f"Layer '{self.name}' ({type(self).__name__})"
        if len({s[0] for s in shapes if s} - {None}) > 1:
            raise ValueError(f"{kind} needs inputs of one batch size, got shapes {shapes}")
        rest = [s[1:] for s in shapes]
        for axis in range(1, max(map(len, rest)) + 1):
            if len({s[-axis] for s in rest if len(s) >= axis} - {None, 1}) > 1:
                raise ValueError(f"{kind} cannot broadcast inputs of shapes {shapes}: each axis "
                                 "but the batch, aligned from the last, needs one size or 1")

    def call(self, inputs: list[Tensor]) -> Tensor:
        # Checked at every call, not only in build: a later call's shapes may not broadcast.
        self._check_shapes([tuple(x.shape) for x in inputs])
        ndim = max(x.ndim for x in inputs)  # Keras: fewer axes gain size-1 axes after the batch
        return self._merge([x if x.ndim == ndim else F.reshape(
            x, (x.shape[0], *(1,) * (ndim - x.ndim), *x.shape[1:])) for x in inputs])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return None
        masks = [m for m in mask if m is not None]
        return functools.reduce(lambda a, b: a & b, masks) if masks else None


def _fold(fn):
    return lambda self, inputs: functools.reduce(fn, inputs)


class Add(_Merge):
    """Element-wise sum (residual connections)."""

    _merge = _fold(F.add)


class Subtract(_Merge):
    """inputs[0] - inputs[1]."""

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) needs exactly 2 inputs")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product (gating)."""

    _merge = _fold(F.mul)


class Maximum(_Merge):
    _merge = _fold(F.maximum)


class Minimum(_Merge):
    _merge = _fold(F.minimum)


class Average(_Merge):
    def _merge(self, inputs):
        return functools.reduce(F.add, inputs) * (1.0 / len(inputs))


class Concatenate(_Merge):
    """Join along ``axis`` (default the last, the features)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def _check_shapes(self, shapes: list) -> None:
        ndim = len(shapes[0])
        axis = self.axis % ndim
        for s in shapes:
            if len(s) != ndim or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0]))
                                     if i != axis):
                raise ValueError(f"Layer '{self.name}' (Concatenate) needs inputs that match "
                                 f"except on axis {self.axis}, got {shapes}")

    def _merge(self, inputs):
        return F.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras's rule: each mask (all True where missing) is broadcast over its input's
        features, the masks are joined like the inputs, and a step is kept where any feature
        is (joining along time joins the masks; along features, ORs them)."""
        if mask is None or all(m is None for m in mask):
            return None
        full = [np.ones(x.shape, bool) if m is None else
                np.broadcast_to(np.asarray(m)[..., None], x.shape) for x, m in zip(inputs, mask)]
        return np.concatenate(full, axis=self.axis).any(axis=-1)


# Keras's functional forms: ``layers.add([x, y])`` is ``Add()([x, y])``.
def _functional(cls: type[_Merge], name: str) -> Any:
    def merge(inputs: list[Any], **kwargs: Any) -> Any:
        return cls(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)``: {cls.__doc__ or name}"
    return merge


add, subtract, multiply = _functional(Add, "add"), _functional(Subtract, "subtract"), \
    _functional(Multiply, "multiply")
average, maximum, minimum = _functional(Average, "average"), _functional(Maximum, "maximum"), \
    _functional(Minimum, "minimum")


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis, **kwargs)(inputs)``: the inputs joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
