"""``EinsumDense``: Keras 3's dense layer of any shape, ``y = einsum(equation, x, kernel) +
bias``, the kernel's and bias's shapes read off the equation (a multi-head attention's
projections are ``EinsumDense("abc,cde->abde", (None, heads, size))``)."""

from __future__ import annotations

import re
from typing import Any

from .. import activations
from ..autograd import Tensor
from ..functional.extra import einsum
from . import constraints
from .layer import Layer

_FORMS = (  # the three forms Keras takes: none, a leading or a trailing "..." on x and y
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), "left"),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), "right"),
)


def _split(equation: str) -> tuple[str, str, str, str | None]:
    """(x's labels, the kernel's, y's, which side "..." is on), or ValueError."""
    spec = equation.replace(" ", "")
    for pattern, side in _FORMS:
        found = pattern.match(spec)
        if found:
            return (*found.groups(), side)
    raise ValueError(f"EinsumDense: equation {equation!r} is not of the form 'ab,bc->ac', "
                     "'...ab,bc->...ac' or 'ab...,bc->ac...'")


class EinsumDense(Layer):
    """A dense layer written as an einsum (Keras 3's ``EinsumDense``).

    Args:
        equation: x's labels, the kernel's, y's (``"ab,bc->ac"`` is ``Dense``; ``...`` may
            stand for axes before or after them in x and y).
        output_shape: y's shape without the batch axis (and without the "..." axes); None
            where the size is x's (a label y shares with x).
        activation: applied to the output.
        bias_axes: y's labels that get a bias (one per output position along them, broadcast
            over the others), or None for no bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as Dense's.

    >>> EinsumDense("abc,cde->abde", (None, 4, 16), bias_axes="de")(x)  # (2, 7, 32) ->
    ... # (2, 7, 4, 16)
    """

    def __init__(self, equation: str, output_shape: Any, activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._labels = _split(equation)
        self.equation = equation
        self.partial_output_shape = ([output_shape] if isinstance(output_shape, int) else
                                     list(output_shape))
        self.activation = activations.get(activation)
        self.bias_axes = bias_axes
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["output_shape"] = self.partial_output_shape
        return config

    def build(self, input_shape: tuple) -> None:
        x_labels, w_labels, y_labels, side = self._labels
        shape = list(input_shape)
        extra = len(shape) - len(x_labels)  # the axes "..." stands for
        if extra < 0 or (side is None and extra):
            raise ValueError(f"Layer '{self.name}' (EinsumDense): input of shape "
                             f"{tuple(input_shape)} does not fit {self.equation!r}")
        sizes = dict(zip(x_labels, shape[extra:] if side == "left" else shape))
        # y's labeled axes: output_shape's, after the batch axis unless "..." on the left
        # holds the batch (as Keras reads output_shape)
        given = list(self.partial_output_shape)
        labeled = given if side == "left" else [shape[0], *given]
        if len(labeled) != len(y_labels):
            raise ValueError(f"Layer '{self.name}' (EinsumDense): output_shape "
                             f"{tuple(given)} does not give the axes of {y_labels!r} (the "
                             "batch axis left out)")
        for label, n in zip(y_labels, labeled):
            if label not in sizes:
                sizes[label] = n
            elif n is not None and n != sizes[label]:
                raise ValueError(f"Layer '{self.name}' (EinsumDense): output size {n} of "
                                 f"'{label}' differs from the input's {sizes[label]}")
        if any(sizes.get(c) is None for c in w_labels) or any(
                c not in x_labels and c not in w_labels for c in y_labels):
            raise ValueError(f"Layer '{self.name}' (EinsumDense): {self.equation!r}: every "
                             "kernel label needs a size (from the input or output_shape) and "
                             "every output label an input or kernel one")
        ys = [sizes[c] for c in y_labels]
        self.full_output_shape = tuple([*shape[:extra], *ys] if side == "left" else
                                       [*ys, *shape[len(x_labels):]])
        self.kernel = self.add_weight(tuple(sizes[c] for c in w_labels),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = None
        if self.bias_axes:
            first = min(y_labels.index(c) for c in self.bias_axes)
            self.bias = self.add_weight(
                tuple(sizes[c] if c in self.bias_axes else 1 for c in y_labels[first:]),
                self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint, name="bias")

    def call(self, x: Tensor) -> Tensor:
        y = einsum(self.equation, x, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)
