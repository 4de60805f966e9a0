"""Conv1DTranspose against torch.nn.ConvTranspose1d (NLC <-> NCL, kernel (k, out, in) ->
torch's (in, out, k)), cut to Keras's window as Keras's torch backend cuts it."""

from __future__ import annotations

import pytest
from layer_contract import assert_layer_matches_torch
from test_conv_layers import CONV_ATOL, CONV_RTOL, _keras_window

from oracle import require_torch
from shenjing import layers as L

# (steps, kernel, strides, padding, output_padding, dilation)
CASES = [
    (5, 3, 1, "valid", None, 1),
    (5, 3, 2, "valid", None, 1),
    (5, 3, 2, "same", None, 1),
    (4, 4, 2, "same", None, 1),
    (3, 2, 3, "valid", None, 1),   # strides above the kernel
    (3, 2, 3, "same", None, 1),
    (5, 3, 2, "valid", 1, 1),
    (4, 3, 2, "same", 1, 1),
    (5, 3, 1, "valid", None, 2),   # dilation 2
    (5, 3, 1, "same", None, 2),
]


@pytest.mark.parametrize("steps, k, stride, padding, output_padding, dilation", CASES)
def test_conv1d_transpose_matches_torch_values_and_gradients(rng, steps, k, stride, padding,
                                                             output_padding, dilation):
    torch = require_torch()
    layer = L.Conv1DTranspose(3, k, strides=stride, padding=padding,
                              output_padding=output_padding, dilation_rate=dilation,
                              bias_initializer="random_normal")
    # padding 0 and output_padding 0: the full output, then Keras's window of it (zeros past
    # the full output's end, where strides exceed the kernel)
    conv = torch.nn.ConvTranspose1d(2, 3, k, stride=stride, dilation=dilation)
    first, length = _keras_window(steps, k, stride, padding, output_padding, dilation)

    def torch_forward(x):
        full = conv(x.permute(0, 2, 1))
        extra = first + length - full.shape[-1]
        if extra > 0:
            full = torch.nn.functional.pad(full, (0, extra)) - torch.nn.functional.pad(
                conv.bias[:, None].expand_as(full), (0, extra)) + conv.bias[:, None]
        return full[..., first:first + length].permute(0, 2, 1)

    x = rng.standard_normal((2, steps, 2))
    assert_layer_matches_torch(layer, torch_forward, x, lambda: [
        (layer.kernel, conv.weight, lambda w: w.transpose(2, 1, 0)),
        (layer.bias, conv.bias, lambda b: b)], atol=CONV_ATOL, rtol=CONV_RTOL)
    assert layer.kernel.shape == (k, 3, 2)  # Keras's (kernel_size, filters, channels)
    assert L.Conv1DTranspose(3, k, strides=stride, padding=padding, output_padding=output_padding,
                             dilation_rate=dilation)(L.Input((steps, 2))).shape == (None, length, 3)


def test_conv1d_transpose_checks_output_padding():
    with pytest.raises(ValueError, match="output_padding \\(2,\\) must be smaller than the "
                                         "strides \\(2,\\)"):
        L.Conv1DTranspose(2, 3, strides=2, output_padding=2)
    assert L.Conv1DTranspose(2, 3, strides=2, output_padding=0).output_padding == (0,)
