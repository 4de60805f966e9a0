"""Keras's ``ConvLSTM1D``, ``ConvLSTM2D`` and ``ConvLSTM3D``: an LSTM whose input and
recurrent transforms are convolutions (Shi et al., 2015), over sequences of channels-last
images (batch, time, *spatial, channels), for frames of video or of weather radar.

Each step is Keras's: z = conv(x_t, kernel) + bias + conv(h_{t-1}, recurrent_kernel), the
recurrent one with stride 1 and 'same' padding; with the gates i, f, c, o (Keras's order) of z,
c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(c) and h_t = sigmoid(o) tanh(c_t) (the activations
as given). The states have the input convolution's output shape. ``layers.RNN`` runs the steps
(masks, ``go_backwards``, ``stateful``, ``return_state``); the gradients are those of the
convolutions and element-wise ops. In training, ``dropout`` and ``recurrent_dropout`` draw four
masks per sequence, one per gate, as Keras; without them, the four gates' convolutions are one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._checks import positive_int
from ..autograd import Tensor
from ..functional.conv import conv_output_size, ints
from .conv import _channels_last, _padding
from .layer import InputSpec, Layer
from .recurrent import (
    LAYER_ARGUMENTS,
    _activation,
    dropout_mask,
    keep_cell_options,
    lstm_step,
)
from .rnn import RNN


def _conv(x: Tensor, kernel: Tensor, bias: Tensor | None, strides: tuple[int, ...],
          padding: str, dilation: tuple[int, ...]) -> Tensor:
    """The convolution of one step's images of any rank (1: as images of height 1)."""
    if kernel.ndim == 3:
        y = F.conv2d(F.expand_dims(x, 1), F.expand_dims(kernel, 0), bias, (1, *strides),
                     padding, (1, *dilation))
        return F.squeeze(y, 1)
    if kernel.ndim == 4:
        return F.conv2d(x, kernel, bias, strides, padding, dilation)
    return F.conv3d(x, kernel, bias, strides, padding, dilation)


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM of ``rank`` spatial axes; the states (h, c) are
    (batch, *output spatial shape, filters)."""

    _lazy_streams = ("_generator",)  # made at the first dropout mask

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTM: rank must be 1, 2 or 3, got {rank!r}")
        self.rank = rank
        self.filters = positive_int(filters, "ConvLSTM filters")
        self.kernel_size = ints(kernel_size, rank, "kernel_size")
        self.strides = ints(strides, rank, "strides")
        self.dilation_rate = ints(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"ConvLSTM: strides {self.strides} > 1 and dilation_rate "
                             f"{self.dilation_rate} > 1 cannot be combined (as Keras)")
        self.padding = _padding(padding)
        self.data_format = _channels_last(data_format)
        self.activation = _activation(activation)
        self.recurrent_activation = _activation(recurrent_activation)
        self.use_bias, self.unit_forget_bias = use_bias, unit_forget_bias
        keep_cell_options(self, locals())
        self._drop_masks: dict[str, list[Tensor] | None] = {"input": None, "recurrent": None}
        self._state_shape: tuple[int, ...] | None = None

    @property
    def state_size(self) -> list[tuple[int, ...]] | None:
        """The shapes of h and c without the batch axis; None until built on an input."""
        return None if self._state_shape is None else [self._state_shape] * 2

    def build(self, input_shape: tuple) -> None:
        spatial, channels = tuple(input_shape[1:-1]), input_shape[-1]
        if len(spatial) != self.rank or None in spatial or channels is None:
            raise ValueError(f"ConvLSTM{self.rank}D: each step's input must be (batch, "
                             f"{', '.join(['size'] * self.rank)}, channels) with known sizes, "
                             f"got {tuple(input_shape)}")
        out = tuple(conv_output_size(n, k, s, d, self.padding)[0] for n, k, s, d in
                    zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if 0 in out:
            raise ValueError(f"ConvLSTM{self.rank}D: a kernel of {self.kernel_size} does not "
                             f"fit inputs of {spatial} with padding {self.padding!r}")
        self._state_shape = (*out, self.filters)
        width = 4 * self.filters
        self.kernel = self.add_weight((*self.kernel_size, channels, width),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight((*self.kernel_size, self.filters, width),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint,
                                                name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((width,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
            if self.unit_forget_bias:  # the forget gate starts open
                self.bias.data[self.filters:2 * self.filters] = 1.0
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={
            **{1 + k: n for k, n in enumerate(spatial)}, -1: channels})  # (the states' size)

    def get_initial_state(self, batch_size: int | None = None) -> list[Tensor]:
        return [Tensor._wrap(np.zeros((batch_size, *self.state_size[0]), dtype=self.dtype))
                for _ in range(2)]

    # -- dropout: four masks per sequence (one per gate), as Keras's ConvLSTM cell ----------
    def _masks(self, like: Tensor, rate: float, which: str) -> list[Tensor]:
        if self._drop_masks[which] is None:
            self._drop_masks[which] = [dropout_mask(self, like, rate) for _ in range(4)]
        return self._drop_masks[which]

    def reset_dropout_mask(self) -> None:
        self._drop_masks["input"] = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._drop_masks["recurrent"] = None

    def _gates(self, x: Tensor, kernel: Tensor, bias: Tensor | None, masks: list[Tensor] | None,
               strides: tuple[int, ...], padding: str, dilation: tuple[int, ...]) -> Tensor:
        """The four gates' convolutions of x: one, or one per gate on its masked x."""
        if masks is None:
            return _conv(x, kernel, bias, strides, padding, dilation)
        kernels = F.split(kernel, 4, axis=-1)
        biases = F.split(bias, 4) if bias is not None else [None] * 4
        return F.concatenate([_conv(x * m, k, b, strides, padding, dilation)
                              for m, k, b in zip(masks, kernels, biases)], axis=-1)

    def call(self, inputs: Tensor, states: Any,
             training: bool | None = None) -> tuple[Tensor, list[Tensor]]:
        h, c = states
        drop = self._masks(inputs, self.dropout, "input") if (
            training and self.dropout > 0) else None
        rec_drop = self._masks(h, self.recurrent_dropout, "recurrent") if (
            training and self.recurrent_dropout > 0) else None
        ones = (1,) * self.rank
        z = (self._gates(inputs, self.kernel, self.bias, drop, self.strides, self.padding,
                         self.dilation_rate)
             + self._gates(h, self.recurrent_kernel, None, rec_drop, ones, "same", ones))
        h, c = lstm_step(z, c, self.activation, self.recurrent_activation)
        return h, [h, c]


class _ConvLSTM(RNN):
    """The layer: a :class:`ConvLSTMCell` run over the time axis by :class:`RNN`."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, *, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: Any = None, zero_output_for_mask: bool = False,
                 **options: Any) -> None:
        """``options``: the cell's (strides, padding, activation, initializers, dropout...:
        :class:`ConvLSTMCell`'s arguments) and the Layer's own (name, dtype...)."""
        layer_kwargs = {k: options.pop(k) for k in LAYER_ARGUMENTS if k in options}
        cell = ConvLSTMCell(self.rank, filters, kernel_size, **options,
                            dtype=layer_kwargs.get("dtype"), name="conv_lstm_cell")  # (as
        # Keras: a fixed name, so that a loaded model's keys, its random stream's too, match)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=bool(unroll),
                         zero_output_for_mask=zero_output_for_mask, **layer_kwargs)
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)  # (the cell's, on one step's shape)
        self.input_spec = InputSpec(ndim=self.rank + 3, axes={
            **{2 + k: n for k, n in enumerate(input_shape[2:-1])}, -1: input_shape[-1]})

    def get_config(self) -> dict[str, Any]:
        """Keras's flat config: the cell's options, then the layer's own (no ``cell``)."""
        cell = {k: v for k, v in self.cell.get_config().items()
                if k not in ("name", "trainable", "dtype", "rank")}
        own = {k: v for k, v in super().get_config().items() if k != "cell"}
        return {**own, **cell}  # (the cell's values as in use: kernel_size (3, 3) for 3)


class ConvLSTM1D(_ConvLSTM):
    """A convolutional LSTM over sequences of 1-D signals (batch, time, steps, channels)."""

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """A convolutional LSTM over sequences of images (batch, time, rows, cols, channels).

    >>> layer = ConvLSTM2D(16, 3, padding="same", return_sequences=True)
    """


class ConvLSTM3D(_ConvLSTM):
    """A convolutional LSTM over sequences of volumes (batch, time, depth, rows, cols,
    channels)."""

    rank = 3
