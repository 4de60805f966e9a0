"""Convolution layers (channels-last, Keras's kernel layout (kh, kw, in, out))."""

from __future__ import annotations

from typing import Any

from .. import activations
from .. import functional as F
from ..autograd import Tensor
from .layer import InputSpec, Layer


def _pair(value: Any, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, got {value!r}")
    return pair


def _padding(value: str) -> str:
    value = value.lower()
    if value not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {value!r}")
    return value


class Conv2D(Layer):
    """2-D convolution: ``activation(conv2d(x, kernel) + bias)`` over NHWC images.

    Args:
        filters: the number of output channels.
        kernel_size: an int or (height, width).
        strides: an int or (sh, sw).
        padding: 'valid' (no padding) or 'same' (output size ceil(input / stride), as Keras).
        dilation_rate: an int or (dh, dw).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Dense.

    Input shape: (batch, height, width, channels). Output shape: (batch, h', w', filters).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", dilation_rate: Any = (1, 1), activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"Conv2D filters must be a positive integer, got {filters!r}")
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.padding = _padding(padding)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"Layer '{self.name}' (Conv2D) expects images (batch, height, "
                             f"width, channels), got input shape {input_shape}")
        channels = input_shape[-1]
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels, self.filters),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})

    def call(self, x: Tensor) -> Tensor:
        fused = activations.fused_name(self.activation)
        y = F.conv2d(x, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate, activation=fused)
        return y if fused else self.activation(y)
