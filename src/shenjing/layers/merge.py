"""Merge layers for residual and multi-input models: Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate, Dot. Each takes a list of tensors with one batch size. The element-wise ones
broadcast as Keras 3's: the other axes, aligned from the last, have one size or 1, and an input
with fewer axes gains size-1 axes after the batch axis (squeeze-and-excitation's
``multiply([x, se])`` of (batch, h, w, c) and (batch, 1, 1, c)). Concatenate needs equal shapes
but for ``axis``; Dot takes two inputs whose sizes agree on ``axes``."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import axis_index
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
        axis = axis_index(self.axis, ndim)
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


class Dot(_Merge):
    """The dot product of two inputs' samples along ``axes`` (Keras 3's ``Dot``): for x of
    shape (batch, ..., d, ...) and y of shape (batch, ..., d, ...), the sum over d of their
    products, of shape (batch, x's other axes, y's other axes), or (batch, 1) where neither has
    other axes. ``normalize=True`` first scales each sample to unit L2 norm along its axis, so
    that the result is the cosine similarity.

    Args:
        axes: an int, the axis of both inputs, or (axis of x, axis of y); a negative one counts
            from the input's last axis. Never the batch axis 0.
        normalize: L2-normalize both inputs along ``axes`` first (Keras's: x / max(|x|, 1e-7)).

    >>> Dot(axes=(1, 2))([np.arange(10.0).reshape(1, 5, 2), np.arange(10.0, 20).reshape(1, 2, 5)])
    ... # [[[260, 360], [320, 445]]]
    """

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pair = [axes] * 2 if isinstance(axes, int) else axes
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                isinstance(a, int) and not isinstance(a, bool) for a in pair):
            raise ValueError(f"Dot axes must be an int or a pair of ints, got {axes!r}")
        self.axes, self.normalize = axes, bool(normalize)

    def _axes(self, shapes: list) -> tuple[int, int]:
        """The two contracted axes, counted from 0."""
        pair = [self.axes] * 2 if isinstance(self.axes, int) else self.axes
        found = []
        for axis, shape in zip(pair, shapes):
            positive = axis + len(shape) if axis < 0 else axis
            if not 0 < positive < len(shape):
                raise ValueError(f"Layer '{self.name}' (Dot): axes={self.axes!r} needs an axis "
                                 f"other than the batch axis 0 of inputs of shapes {shapes}")
            found.append(positive)
        return found[0], found[1]

    def _check_shapes(self, shapes: list) -> None:
        if len(shapes) != 2:
            raise ValueError(f"Layer '{self.name}' (Dot) needs exactly 2 inputs, got "
                             f"{len(shapes)}")
        (x, y), (a, b) = shapes, self._axes(shapes)
        if None not in (x[0], y[0]) and x[0] != y[0]:
            raise ValueError(f"Layer '{self.name}' (Dot) needs inputs of one batch size, got "
                             f"shapes {shapes}")
        if None not in (x[a], y[b]) and x[a] != y[b]:
            raise ValueError(f"Layer '{self.name}' (Dot): axis {a} of {x} and axis {b} of {y} "
                             "must have one size")

    def call(self, inputs: list[Tensor]) -> Tensor:
        self._check_shapes([tuple(x.shape) for x in inputs])
        x, y = inputs
        a, b = self._axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, a), _l2_normalize(y, b)
        # Keras's batch_dot: x's axis moved last, y's to 1, then one batched matmul
        x = F.transpose(x, (0, *(i for i in range(1, x.ndim) if i != a), a))
        y = F.transpose(y, (0, b, *(i for i in range(1, y.ndim) if i != b)))
        batch, x_rest, y_rest, size = x.shape[0], x.shape[1:-1], y.shape[2:], x.shape[-1]
        out = F.matmul(F.reshape(x, (batch, math.prod(x_rest), size)),
                       F.reshape(y, (batch, size, math.prod(y_rest))))
        return F.reshape(out, (batch, *x_rest, *y_rest) if x_rest or y_rest else (batch, 1))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # Keras: the output has lost the axes a mask describes


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """x / max(|x|, 1e-7) along ``axis`` (Keras's normalize), written as
    x / sqrt(max(sum x^2, 1e-14)) so that an all-zero slice gets a zero gradient, not NaN."""
    return F.div(x, F.sqrt(F.maximum(F.sum(F.mul(x, x), axis=axis, keepdims=True), 1e-14)))


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


def dot(inputs: list[Any], axes: Any = -1, **kwargs: Any) -> Any:
    """``Dot(axes, **kwargs)(inputs)`` (Keras 3's default: the last axes)."""
    return Dot(axes=axes, **kwargs)(inputs)
