"""Conv2D against torch.nn.Conv2d: NHWC <-> NCHW, kernel (kh, kw, in, out) -> (out, in, kh, kw),
'valid' and 'same' (TensorFlow's padding, made explicit for torch), strides and dilation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch

from oracle import require_torch
from shenjing import layers as L

# Looser than the default 1e-5: each output sums kh*kw*C products, which our im2col GEMM and
# torch's convolution add in different orders (float32 rounding grows with the sum's length).
CONV_ATOL, CONV_RTOL = 1e-4, 1e-4


def _tf_same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: the odd pixel goes after (bottom/right)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    return kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)


# (x shape NHWC, filters, kernel_size, strides, padding, dilation)
CONFIGS = [
    ((2, 7, 7, 3), 4, (3, 3), (1, 1), "valid", (1, 1)),
    ((2, 8, 7, 3), 4, (3, 3), (2, 2), "valid", (1, 1)),
    ((2, 7, 7, 3), 4, (3, 3), (1, 1), "same", (1, 1)),
    ((2, 7, 8, 2), 3, (3, 3), (2, 2), "same", (1, 1)),   # asymmetric padding (odd pixel after)
    ((1, 6, 6, 2), 3, (2, 2), (1, 1), "same", (1, 1)),   # even kernel: pads (0, 1)
    ((2, 9, 8, 2), 3, (3, 2), (2, 1), "same", (1, 1)),   # non-square kernel and strides
    ((2, 9, 9, 2), 3, (3, 3), (1, 1), "valid", (2, 2)),  # dilation 2
    ((1, 8, 8, 2), 2, (3, 3), (1, 1), "same", (2, 2)),
    ((2, 5, 5, 1), 1, (1, 1), (1, 1), "valid", (1, 1)),  # 1x1
]


@pytest.mark.parametrize("x_shape, filters, kernel_size, strides, padding, dilation", CONFIGS,
                         ids=[f"{c[0]}-k{c[2]}-s{c[3]}-{c[4]}-d{c[5]}" for c in CONFIGS])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_conv2d_matches_torch(rng, x_shape, filters, kernel_size, strides, padding, dilation,
                              use_bias):
    torch = require_torch()
    layer = L.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                     dilation_rate=dilation, use_bias=use_bias, bias_initializer="random_normal")
    conv = torch.nn.Conv2d(x_shape[-1], filters, kernel_size, stride=strides, padding=0,
                           dilation=dilation, bias=use_bias)
    if padding == "same":
        top, bottom = _tf_same_pads(x_shape[1], kernel_size[0], strides[0], dilation[0])
        left, right = _tf_same_pads(x_shape[2], kernel_size[1], strides[1], dilation[1])
    else:
        top = bottom = left = right = 0

    def torch_forward(x):
        x = torch.nn.functional.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
        return conv(x).permute(0, 2, 3, 1)

    def pairs():
        out = [(layer.kernel, conv.weight, _kernel_to_torch)]
        if use_bias:
            out.append((layer.bias, conv.bias, lambda b: b))
        return out

    assert_layer_matches_torch(layer, torch_forward, rng.standard_normal(x_shape), pairs,
                               atol=CONV_ATOL, rtol=CONV_RTOL)


@pytest.mark.parametrize("groups, strides, padding, dilation", [
    (2, (1, 1), "valid", (1, 1)), (3, (2, 2), "same", (1, 1)), (6, (1, 1), "valid", (2, 2))])
def test_grouped_conv2d_matches_torch(rng, groups, strides, padding, dilation):
    """Keras's groups (ResNeXt): torch's Conv2d(groups=...) on the same kernel, whose
    (kh, kw, channels // groups, filters) layout is Keras's."""
    torch = require_torch()
    x_shape, filters = (2, 9, 8, 6), 6
    layer = L.Conv2D(filters, 3, strides=strides, padding=padding, dilation_rate=dilation,
                     groups=groups, activation="relu", bias_initializer="random_normal")
    conv = torch.nn.Conv2d(6, filters, 3, stride=strides, dilation=dilation, groups=groups)
    top, bottom = _tf_same_pads(9, 3, strides[0], dilation[0]) if padding == "same" else (0, 0)
    left, right = _tf_same_pads(8, 3, strides[1], dilation[1]) if padding == "same" else (0, 0)

    def torch_forward(x):
        x = torch.nn.functional.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
        return torch.relu(conv(x)).permute(0, 2, 3, 1)

    assert_layer_matches_torch(
        layer, torch_forward, rng.standard_normal(x_shape),
        lambda: [(layer.kernel, conv.weight, _kernel_to_torch), (layer.bias, conv.bias,
                                                                 lambda b: b)],
        atol=CONV_ATOL, rtol=CONV_RTOL)
    assert layer.kernel.shape == (3, 3, 6 // groups, filters)


def test_grouped_conv1d_and_bad_groups():
    layer = L.Conv1D(4, 3, groups=2, padding="causal")
    assert layer(np.ones((2, 5, 6), np.float32)).shape == (2, 5, 4)
    assert layer.kernel.shape == (3, 3, 4) and layer.get_config()["groups"] == 2
    with pytest.raises(ValueError, match=r"filters \(5\) must be divisible by groups \(2\)"):
        L.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="3 input channels are not divisible by groups=2"):
        L.Conv2D(4, 3, groups=2)(np.ones((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="Conv2DTranspose: groups is not supported"):
        L.Conv2DTranspose(4, 3, groups=2)


@pytest.mark.parametrize("size, k, stride, padding, expected", [
    (7, 3, 1, "valid", 5), (7, 3, 2, "valid", 3), (8, 3, 2, "valid", 3),
    (7, 3, 1, "same", 7), (7, 3, 2, "same", 4), (8, 3, 2, "same", 4), (7, 1, 3, "same", 3),
])
def test_conv2d_output_size_is_keras(size, k, stride, padding, expected):
    y = L.Conv2D(2, k, strides=stride, padding=padding)(np.zeros((1, size, size, 1)))
    assert y.shape == (1, expected, expected, 2)


def test_conv2d_applies_its_activation(rng):
    x = rng.standard_normal((1, 5, 5, 2)).astype(np.float32)
    linear = L.Conv2D(3, 3)
    relu = L.Conv2D(3, 3, activation="relu")
    y = linear(x)
    relu(x)
    relu.set_weights(linear.get_weights())
    np.testing.assert_array_equal(relu(x).numpy(), np.maximum(y.numpy(), 0))


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "strides"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
])
def test_conv2d_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.Conv2D(**kwargs)


def test_conv2d_accepts_uppercase_padding_and_int_sizes():
    layer = L.Conv2D(2, 3, strides=2, padding="SAME")
    assert (layer.kernel_size, layer.strides, layer.padding) == ((3, 3), (2, 2), "same")


# Conv1D against torch.nn.functional.conv1d: (batch, steps, channels) <-> (batch, channels,
# steps), kernel (k, in, out) -> (out, in, k); 'same' and 'causal' padding made explicit.
# (x shape, filters, kernel_size, strides, padding, dilation)
CONFIGS_1D = [
    ((2, 9, 3), 4, 3, 1, "valid", 1),
    ((2, 9, 3), 4, 3, 2, "valid", 1),
    ((2, 9, 3), 4, 3, 1, "same", 1),
    ((2, 8, 3), 4, 4, 2, "same", 1),     # even kernel, odd step after
    ((2, 9, 3), 4, 3, 1, "causal", 1),
    ((2, 9, 3), 4, 3, 2, "causal", 1),
    ((2, 11, 2), 3, 3, 1, "valid", 2),
    ((2, 11, 2), 3, 3, 1, "same", 2),
    ((2, 11, 2), 3, 3, 1, "causal", 2),
]


@pytest.mark.parametrize("case", CONFIGS_1D, ids=[f"k{c[2]}-s{c[3]}-{c[4]}-d{c[5]}"
                                                  for c in CONFIGS_1D])
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_conv1d_matches_torch(rng, case, use_bias):
    torch = require_torch()
    x_shape, filters, kernel_size, strides, padding, dilation = case
    layer = L.Conv1D(filters, kernel_size, strides, padding, dilation, use_bias=use_bias,
                     bias_initializer="random_normal")
    weight = torch.zeros(filters, x_shape[-1], kernel_size, requires_grad=True)
    bias = torch.zeros(filters, requires_grad=True) if use_bias else None
    if padding == "same":
        pads = _tf_same_pads(x_shape[1], kernel_size, strides, dilation)
    elif padding == "causal":
        pads = ((kernel_size - 1) * dilation, 0)
    else:
        pads = (0, 0)

    def torch_forward(x):
        x = torch.nn.functional.pad(x.permute(0, 2, 1), pads)
        y = torch.nn.functional.conv1d(x, weight, bias, stride=strides, dilation=dilation)
        return y.permute(0, 2, 1)

    def pairs():
        out = [(layer.kernel, weight, lambda k: k.transpose(2, 1, 0))]
        if use_bias:
            out.append((layer.bias, bias, lambda b: b))
        return out

    assert_layer_matches_torch(layer, torch_forward, rng.standard_normal(x_shape), pairs,
                               atol=CONV_ATOL, rtol=CONV_RTOL)
    assert layer.kernel.shape == (kernel_size, x_shape[-1], filters)


def test_conv1d_causal_output_ignores_the_future(rng):
    layer = L.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = rng.standard_normal((1, 10, 2)).astype(np.float32)
    y = layer(x).numpy()
    x[:, 6:] = rng.standard_normal((1, 4, 2))
    np.testing.assert_array_equal(layer(x).numpy()[:, :6], y[:, :6])


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": 2, "kernel_size": (3, 3)}, "kernel_size"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "strides"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
    ({"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, "channels_last"),
])
def test_conv1d_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.Conv1D(**kwargs)


def test_conv2d_rejects_causal_padding_and_channels_first():
    with pytest.raises(ValueError, match="padding"):
        L.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="channels_last"):
        L.Conv2D(2, 3, data_format="channels_first")


def test_conv1d_rejects_images():
    with pytest.raises(ValueError, match="3 axes"):
        L.Conv1D(2, 3)(np.zeros((1, 5, 5, 2), np.float32))


def test_text_classifier_trains_and_round_trips(tmp_path, rng):
    import shenjing as sj

    ids = rng.integers(1, 20, size=(64, 12))
    labels = (ids == 7).any(axis=1).astype(np.int64)  # does the sequence contain word 7?
    model = sj.Sequential([L.Input((12,), dtype="int64"), L.Embedding(20, 8),
                           L.Conv1D(8, 3, padding="causal", activation="relu"),
                           L.GlobalMaxPooling1D(), L.Dense(2)])
    model.compile(optimizer="adam", loss=sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ids, labels, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "text.shenjing")
    again = sj.models.load_model(tmp_path / "text.shenjing")
    assert [type(layer).__name__ for layer in again.layers][1:3] == ["Conv1D", "GlobalMaxPooling1D"]
    np.testing.assert_array_equal(again.predict(ids, verbose=0), model.predict(ids, verbose=0))


# -- Conv2DTranspose ------------------------------------------------------------------------------
def _keras_window(size, k, stride, padding, output_padding, dilation):
    """(first row, rows) of the full transposed output that Keras keeps: Keras 3's own rule
    (backend_utils: the JAX paddings, and the torch backend's crop of the full output)."""
    k = (k - 1) * dilation + 1
    if padding == "valid":
        op = max(k, stride) - k if output_padding is None else output_padding
        left = k - 1
        rows = (size - 1) * stride + k + op
    else:
        pad_len = stride + k - 2 if output_padding is None \
            else k + k % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, k - 1)
        rows = size * stride if output_padding is None \
            else (size - 1) * stride + k % 2 + output_padding
    return (k - 1) - left, rows


def _transposed_reference(x, kernel, bias, strides, padding, output_padding, dilation):
    """The definition: each input pixel adds x * kernel to the output window at (i s, j s),
    then Keras's window of that full output (zeros past its end), plus the bias."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    full = np.zeros((n, (h - 1) * sh + (kh - 1) * dh + 1 + sh, (w - 1) * sw + (kw - 1) * dw + 1
                     + sw, f))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    full[:, i * sh + a * dh, j * sw + b * dw] += x[:, i, j] @ kernel[a, b].T
    ops = output_padding or (None, None)
    top, rows = _keras_window(h, kh, sh, padding, ops[0], dh)
    left, cols = _keras_window(w, kw, sw, padding, ops[1], dw)
    return full[:, top:top + rows, left:left + cols] + bias


# (x shape NHWC, filters, kernel_size, strides, padding, output_padding, dilation)
TRANSPOSED = [
    ((2, 4, 4, 3), 4, (3, 3), (1, 1), "valid", None, (1, 1)),
    ((2, 4, 5, 3), 4, (3, 3), (2, 2), "valid", None, (1, 1)),
    ((2, 4, 4, 2), 3, (3, 3), (2, 2), "same", None, (1, 1)),   # odd total padding: cut at the end
    ((2, 5, 4, 2), 3, (4, 4), (2, 2), "same", None, (1, 1)),
    ((1, 3, 3, 2), 2, (2, 2), (3, 3), "valid", None, (1, 1)),  # strides above the kernel
    ((1, 3, 3, 2), 2, (2, 2), (3, 3), "same", None, (1, 1)),
    ((2, 4, 4, 2), 3, (3, 3), (2, 2), "valid", (1, 1), (1, 1)),
    ((1, 4, 4, 2), 2, (3, 3), (2, 2), "same", (1, 1), (1, 1)),
    ((2, 3, 4, 2), 2, (3, 2), (2, 1), "same", None, (1, 1)),   # non-square
    ((1, 4, 4, 2), 2, (3, 3), (1, 1), "valid", None, (2, 2)),  # dilation 2
    ((1, 4, 4, 2), 2, (3, 3), (1, 1), "same", None, (2, 2)),
]


@pytest.mark.parametrize("x_shape, filters, kernel_size, strides, padding, output_padding, "
                         "dilation", TRANSPOSED, ids=[f"{c[0]}-k{c[2]}-s{c[3]}-{c[4]}-op{c[5]}"
                                                      f"-d{c[6]}" for c in TRANSPOSED])
def test_conv2d_transpose_is_keras_definition(rng, x_shape, filters, kernel_size, strides,
                                              padding, output_padding, dilation):
    layer = L.Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding,
                              output_padding=output_padding, dilation_rate=dilation,
                              bias_initializer="random_normal")
    x = rng.standard_normal(x_shape).astype(np.float32)
    y = layer(x).numpy()
    assert layer.kernel.shape == (*kernel_size, filters, x_shape[-1])  # Keras's layout
    expected = _transposed_reference(x.astype(np.float64), layer.kernel.numpy(),
                                     layer.bias.numpy(), strides, padding, output_padding,
                                     dilation)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    symbolic = L.Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding,
                                 output_padding=output_padding, dilation_rate=dilation)(
        L.Input(x_shape[1:]))
    assert symbolic.shape == (None, *y.shape[1:])


@pytest.mark.parametrize("strides, padding", [((1, 1), "valid"), ((2, 2), "valid"),
                                              ((2, 2), "same"), ((1, 2), "same")])
def test_conv2d_transpose_matches_torch_values_and_gradients(rng, strides, padding):
    torch = require_torch()
    layer = L.Conv2DTranspose(3, 3, strides=strides, padding=padding,
                              bias_initializer="random_normal")
    conv = torch.nn.ConvTranspose2d(2, 3, 3, stride=strides)  # padding 0: the full output
    x = rng.standard_normal((2, 4, 5, 2))
    top, rows = _keras_window(4, 3, strides[0], padding, None, 1)
    left, cols = _keras_window(5, 3, strides[1], padding, None, 1)

    def torch_forward(x):  # Keras's torch backend: the full output, then its window
        return conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)[:, top:top + rows,
                                                                 left:left + cols]

    # (kh, kw, out, in) -> torch's (in, out, kh, kw): the same transposition as Conv2D's
    assert_layer_matches_torch(layer, torch_forward, x, lambda: [
        (layer.kernel, conv.weight, _kernel_to_torch), (layer.bias, conv.bias, lambda b: b)],
        atol=CONV_ATOL, rtol=CONV_RTOL)


def test_conv2d_transpose_checks_its_arguments_and_trains_in_an_autoencoder(rng):
    with pytest.raises(ValueError, match="output_padding \\(2, 2\\) must be smaller than the "
                                         "strides \\(2, 2\\)"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    # the functional guide's decoder: Reshape, Conv2DTranspose and UpSampling2D back to 28x28
    import shenjing as sj

    inputs = sj.Input((16,))
    x = L.Reshape((4, 4, 1))(inputs)
    x = L.Conv2DTranspose(16, 3, activation="relu")(x)
    x = L.Conv2DTranspose(32, 3, activation="relu")(x)
    x = L.UpSampling2D(3)(x)
    x = L.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder = sj.Model(inputs, L.Conv2DTranspose(1, 3, activation="relu")(x))
    assert decoder.output.shape == (None, 28, 28, 1)
    decoder.compile("adam", "mse")
    data = rng.random((8, 16)).astype(np.float32)
    history = decoder.fit(data, rng.random((8, 28, 28, 1)), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
