"""Convolution layers (channels-last, Keras's kernel layout (*kernel_size, in, out)).

Conv1D runs the 2-D op on its sequences viewed as images of height 1; Conv2DTranspose runs
F.conv2d_transpose (one GEMM and col2im)."""

from __future__ import annotations

from typing import Any

from .. import activations
from .. import functional as F
from .._checks import positive_int
from ..autograd import Tensor
from ..functional.conv import ints
from . import constraints
from .layer import InputSpec, Layer


def _padding(value: str, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    value = value.lower()
    if value not in allowed:
        raise ValueError(f"padding must be {' or '.join(map(repr, allowed))}, got {value!r}")
    return value


def _channels_last(data_format: str | None) -> str:
    """'channels_last', the one layout supported (None means it, as Keras's default)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"only data_format='channels_last' is supported, got {data_format!r}")
    return "channels_last"


def as_image(x: Tensor) -> Tensor:
    """A sequence (batch, steps, channels) as an image (batch, 1, steps, channels)."""
    return F.expand_dims(x, 1)


def as_sequence(y: Tensor) -> Tensor:
    """The inverse of ``as_image``."""
    return F.squeeze(y, 1)


class _ConvBase(Layer):
    """Keras's base convolution: config checks, the kernel and bias, the mask ends here. It
    has no ``__init__`` of its own, so a subclass's config holds only its own arguments
    (DepthwiseConv2D's depth_multiplier, not the base's filters)."""

    rank = 2
    paddings: tuple[str, ...] = ("valid", "same")
    groups = 1  # set by the convolutions that take ``groups``

    def _configure(self, filters: int, kernel_size: Any, strides: Any, padding: str,
                   dilation_rate: Any, activation: Any, use_bias: bool, kernel_initializer: Any,
                   bias_initializer: Any, kernel_regularizer: Any, bias_regularizer: Any,
                   data_format: str | None, what: str = "filters", kernel_constraint: Any = None,
                   bias_constraint: Any = None) -> None:
        self._check_count(filters, what)
        self.data_format = _channels_last(data_format)
        self.filters = filters
        self.kernel_size = ints(kernel_size, self.rank, "kernel_size")
        self.strides = ints(strides, self.rank, "strides")
        self.dilation_rate = ints(dilation_rate, self.rank, "dilation_rate")
        self.padding = _padding(padding, self.paddings)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _check_count(self, value: Any, what: str) -> None:
        """``filters`` or ``depth_multiplier``: a positive integer, not a bool."""
        positive_int(value, f"{type(self).__name__} {what}")

    def _set_groups(self, groups: int) -> None:
        """``groups`` (Keras, torch): channels and filters split into that many groups, each
        convolved on its own; the kernel then has channels // groups input channels."""
        positive_int(groups, f"{type(self).__name__} groups")
        if self.filters % groups:
            raise ValueError(f"{type(self).__name__}: filters ({self.filters}) must be divisible "
                             f"by groups ({groups})")
        self.groups = int(groups)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects input of "
                             f"shape {self.expected}, got {input_shape}")
        channels = input_shape[-1]
        self.kernel = self.add_weight(self._kernel_shape(channels), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight((self._bias_size(channels),), self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})

    def _bias_size(self, channels: int) -> int:
        return self.filters

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): {channels} input "
                             f"channels are not divisible by groups={self.groups}")
        return (*self.kernel_size, channels // self.groups, self.filters)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # as Keras: a convolution does not support masking and ends the mask

    def _conv2d(self, x: Tensor, kernel: Tensor, strides: Any, padding: str,
                dilation: Any) -> Tensor:
        if self.groups > 1:  # conv3d's grouped GEMMs, over a depth of one
            y = F.conv3d(F.expand_dims(x, 1), F.expand_dims(kernel, 0), self.bias, (1, *strides),
                         padding, (1, *dilation), self.groups)
            return self.activation(F.squeeze(y, 1))
        fused = activations.fused_name(self.activation)
        y = F.conv2d(x, kernel, self.bias, strides=strides, padding=padding,
                     dilation_rate=dilation, activation=fused)
        return y if fused else self.activation(y)


class _Conv(_ConvBase):
    """The convolutions whose arguments are Conv2D's."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 data_format: str | None = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, groups: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._configure(filters, kernel_size, strides, padding, dilation_rate, activation,
                        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer, data_format, kernel_constraint=kernel_constraint,
                        bias_constraint=bias_constraint)
        self._set_groups(groups)


class Conv1D(_Conv):
    """1-D convolution: ``activation(conv1d(x, kernel) + bias)`` over sequences.

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: 'valid', 'same' (output length ceil(steps / stride)) or 'causal' (left
            padding of (kernel_size - 1) * dilation_rate steps: output t sees steps <= t).
        groups: as in Conv2D.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Dense. data_format: 'channels_last' only.

    Input shape: (batch, steps, channels). Output shape: (batch, steps', filters).
    Kernel shape: (kernel_size, channels, filters), as Keras.
    """

    rank = 1
    paddings = ("valid", "same", "causal")
    expected = "(batch, steps, channels)"

    def call(self, x: Tensor) -> Tensor:
        padding = self.padding
        if padding == "causal":
            x = F.pad(x, ((0, 0), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0), (0, 0)))
            padding = "valid"
        span = (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1
        if padding == "valid" and x.ndim == 3 and x.shape[1] < span:  # (the 2-D op's error
            # would name conv2d and the (batch, 1, steps, channels) image it makes of x)
            raise ValueError(f"Layer '{self.name}' (Conv1D): {x.shape[1]} steps are fewer than "
                             f"the kernel spans ({self.kernel_size[0]} with dilation "
                             f"{self.dilation_rate[0]}: {span}) with padding 'valid'; input of "
                             f"shape {x.shape}")
        y = self._conv2d(as_image(x), F.expand_dims(self.kernel, 0), (1, *self.strides),
                         padding, (1, *self.dilation_rate))
        return as_sequence(y)


class Conv2D(_Conv):
    """2-D convolution: ``activation(conv2d(x, kernel) + bias)`` over NHWC images.

    Args:
        filters: the number of output channels.
        kernel_size: an int or (height, width).
        strides: an int or (sh, sw).
        padding: 'valid' (no padding) or 'same' (output size ceil(input / stride), as Keras).
        dilation_rate: an int or (dh, dw).
        groups: split the channels and filters into this many groups, each convolved on its
            own (ResNeXt's grouped convolution); the kernel is (kh, kw, channels // groups,
            filters).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Dense. data_format: 'channels_last' only.

    Input shape: (batch, height, width, channels). Output shape: (batch, h', w', filters).
    """

    expected = "(batch, height, width, channels)"

    def call(self, x: Tensor) -> Tensor:
        return self._conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate)


def transposed_window(size: int, kernel: int, stride: int, dilation: int, padding: str,
                      output_padding: int | None) -> tuple[int, int]:
    """(first row, rows) of the full transposed output along one axis of ``size`` inputs
    that make Keras's output ('valid': size * stride + max(k - stride, 0); 'same':
    size * stride; with ``output_padding``: (size - 1) * stride + k - 2 pad + output_padding),
    for the dilated kernel k. TensorFlow cuts what a 'same' Conv2D producing ``size`` pixels
    would have padded (the odd pixel at the end)."""
    k = (kernel - 1) * dilation + 1
    same = padding == "same"
    if output_padding is None:
        length = size * stride if same else size * stride + max(k - stride, 0)
    else:
        length = (size - 1) * stride + k - 2 * (k // 2 if same else 0) + output_padding
    return (max((size - 1) * stride + k - length, 0) // 2 if same else 0), length


class _ConvTranspose(_Conv):
    """What Conv1DTranspose and Conv2DTranspose share: ``output_padding`` and Keras's window
    of the full transposed output along each spatial axis."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         data_format=data_format, **kwargs)
        if self.groups != 1:
            raise ValueError(f"{type(self).__name__}: groups is not supported (Keras's "
                             "transposed convolutions have none)")
        self.output_padding = None if output_padding is None else ints(
            output_padding, self.rank, "output_padding", minimum=0)
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} "
                             f"must be smaller than the strides {self.strides}")

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def _window(self, size: int, axis: int) -> tuple[int, int]:
        return transposed_window(size, self.kernel_size[axis], self.strides[axis],
                                 self.dilation_rate[axis], self.padding,
                                 None if self.output_padding is None else
                                 self.output_padding[axis])

    def _transposed(self, x: Tensor, kernel: Tensor, strides: tuple[int, int],
                    dilation: tuple[int, int], windows: list[tuple[int, int]]) -> Tensor:
        """:func:`F.conv2d_transpose` cut to ``windows``, plus bias and activation."""
        y = F.conv2d_transpose(x, kernel, strides, dilation, windows)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (Keras's): each input step adds ``kernel * x`` to a window
    of the output, windows ``strides`` apart (the gradient of a Conv1D with respect to its
    input). Computed as :class:`Conv2DTranspose` on the sequences viewed as images of height 1.

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: 'valid' (output ``steps * stride + max(kernel - stride, 0)``) or 'same'
            (``steps * stride``).
        output_padding: None, or an int below the stride: extra steps at the end (output
            ``(steps - 1) * stride + kernel - 2 * pad + output_padding``).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Conv1D. data_format: 'channels_last' only.

    Input shape: (batch, steps, channels). Output shape: (batch, steps', filters).
    Kernel shape: (kernel_size, filters, channels), as Keras.

    >>> Conv1DTranspose(4, 3, strides=2, padding="same")(np.ones((2, 5, 3))).shape
    (2, 10, 4)
    """

    rank = 1
    expected = "(batch, steps, channels)"

    def call(self, x: Tensor) -> Tensor:
        y = self._transposed(as_image(x), F.expand_dims(self.kernel, 0), (1, *self.strides),
                             (1, *self.dilation_rate), [(0, 1), self._window(x.shape[1], 0)])
        return as_sequence(y)


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (Keras's; the gradient of a Conv2D with respect to its input):
    each input pixel adds ``kernel * x`` to a window of the output, windows ``strides`` apart,
    so it upsamples (decoders, autoencoders, GANs).

    Computed by :func:`F.conv2d_transpose` (one GEMM, each input pixel times the kernel, whose
    columns col2im adds into the output, windows ``strides`` apart), then cut to Keras's
    output size: 'valid' gives ``in * stride + max(kernel - stride, 0)``, 'same'
    ``in * stride``, and ``output_padding`` ``(in - 1) * stride + kernel - 2 * pad +
    output_padding`` (pad ``kernel // 2`` for 'same'); TensorFlow's alignment (the odd pixel of
    'same' cut at the bottom/right).

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints or pairs.
        padding: 'valid' or 'same'.
        output_padding: None, or an int or pair below the strides: extra rows/columns at the
            bottom/right.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Conv2D. data_format: 'channels_last' only.

    Input shape: (batch, height, width, channels). Output shape: (batch, h', w', filters).
    Kernel shape: (kernel_h, kernel_w, filters, channels), as Keras.
    """

    expected = "(batch, height, width, channels)"

    def call(self, x: Tensor) -> Tensor:
        return self._transposed(x, self.kernel, self.strides, self.dilation_rate,
                                [self._window(x.shape[1], 0), self._window(x.shape[2], 1)])


class Conv3D(_ConvBase):
    """3-D convolution: ``activation(conv3d(x, kernel) + bias)`` over channels-last volumes
    (video, medical scans). One op, :func:`F.conv3d` (im2col over a strided view + one GEMM).

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: an int or 3 ints (depth, height, width).
        padding: 'valid' or 'same' (output size ceil(input / stride) on each axis, as Keras).
        groups: channel groups, each convolved with its own filters (channels and filters must
            divide by it).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in Conv2D. data_format: 'channels_last' only.

    Input shape: (batch, depth, height, width, channels).
    Output shape: (batch, d', h', w', filters).
    Kernel shape: (kernel_d, kernel_h, kernel_w, channels // groups, filters), as Keras.

    >>> Conv3D(4, 3, padding="same")(np.ones((2, 8, 8, 8, 1))).shape
    (2, 8, 8, 8, 4)
    """

    rank = 3
    expected = "(batch, depth, height, width, channels)"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._configure(filters, kernel_size, strides, padding, dilation_rate, activation,
                        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer, data_format, kernel_constraint=kernel_constraint,
                        bias_constraint=bias_constraint)
        self._set_groups(groups)

    def call(self, x: Tensor) -> Tensor:
        return self.activation(F.conv3d(x, self.kernel, self.bias, self.strides, self.padding,
                                        self.dilation_rate, self.groups))


class DepthwiseConv2D(_ConvBase):
    """Depthwise 2-D convolution (Keras 3's): each input channel convolved with its own
    ``depth_multiplier`` filters, ``activation(depthwise_conv2d(x, kernel) + bias)``; output
    channel ``c * depth_multiplier + m`` comes from input channel c (torch's
    ``Conv2d(groups=in_channels)``). One op, :func:`F.depthwise_conv2d`.

    Args:
        kernel_size: an int or (height, width).
        strides, padding, dilation_rate: as in Conv2D.
        depth_multiplier: filters per input channel.
        activation, use_bias, bias_initializer, bias_regularizer: as in Conv2D.
        depthwise_initializer, depthwise_regularizer: of the kernel.
        data_format: 'channels_last' only.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, h', w', channels * depth_multiplier).
    Kernel shape: (kernel_h, kernel_w, channels, depth_multiplier), as Keras.
    """

    expected = "(batch, height, width, channels)"

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._configure(depth_multiplier, kernel_size, strides, padding, dilation_rate,
                        activation, use_bias, depthwise_initializer, bias_initializer,
                        depthwise_regularizer, bias_regularizer, data_format,
                        what="depth_multiplier", kernel_constraint=depthwise_constraint,
                        bias_constraint=bias_constraint)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = depthwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.depthwise_constraint = self.kernel_constraint

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.depth_multiplier)

    def _bias_size(self, channels: int) -> int:
        return channels * self.depth_multiplier

    def call(self, x: Tensor) -> Tensor:
        return self.activation(F.depthwise_conv2d(x, self.kernel, self.bias, self.strides,
                                                  self.padding, self.dilation_rate))


class SeparableConv2D(_ConvBase):
    """Depthwise separable 2-D convolution (Keras 3's): a depthwise convolution (each channel
    with its own ``depth_multiplier`` filters, :func:`F.depthwise_conv2d`) then a 1x1 pointwise
    convolution mixing the channels into ``filters`` (one GEMM, :func:`F.conv2d`), with the bias
    and activation. Far fewer weights than a Conv2D of the same reach: kh*kw*C*M + C*M*filters
    instead of kh*kw*C*filters.

    Args:
        filters: the number of output channels.
        kernel_size, strides, padding, dilation_rate: of the depthwise step, as in Conv2D.
        depth_multiplier: depthwise filters per input channel.
        activation, use_bias, bias_initializer, bias_regularizer: as in Conv2D.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer: of the two kernels.
        data_format: 'channels_last' only.

    Input shape: (batch, height, width, channels). Output shape: (batch, h', w', filters).
    Weights: ``depthwise_kernel`` (kh, kw, channels, depth_multiplier), ``pointwise_kernel``
    (1, 1, channels * depth_multiplier, filters) and ``bias`` (filters,), as Keras.
    """

    expected = "(batch, height, width, channels)"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, depthwise_constraint: Any = None,
                 pointwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._check_count(depth_multiplier, "depth_multiplier")
        self._configure(filters, kernel_size, strides, padding, dilation_rate, activation,
                        use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                        bias_regularizer, data_format, kernel_constraint=depthwise_constraint,
                        bias_constraint=bias_constraint)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = depthwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.depthwise_constraint = self.kernel_constraint
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_regularizer = pointwise_regularizer
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 4:
            raise ValueError(f"Layer '{self.name}' (SeparableConv2D) expects input of shape "
                             f"{self.expected}, got {input_shape}")
        channels = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            (*self.kernel_size, channels, self.depth_multiplier), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            (1, 1, channels * self.depth_multiplier, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint,
            name="pointwise_kernel")
        self.bias = self.add_weight((self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})

    def call(self, x: Tensor) -> Tensor:
        y = F.depthwise_conv2d(x, self.depthwise_kernel, strides=self.strides,
                               padding=self.padding, dilation_rate=self.dilation_rate)
        return self._conv2d(y, self.pointwise_kernel, 1, "valid", 1)
