"""Resizing (Keras 3's): bilinear and nearest as TF's half-pixel resize without antialiasing,
checked against torch's F.interpolate on NCHW (align_corners=False; 'nearest-exact'), values
and gradients; 'area' as TF's box average; the aspect-ratio crop and pad; channels first;
config and registration."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as keras
from oracle import require_torch
from shenjing import Tensor
from shenjing import layers as L
from shenjing.io.saving import deserialize_layer

_SIZES = [(8, 10, 13, 7), (5, 6, 3, 2), (4, 4, 9, 9), (7, 3, 7, 11), (1, 5, 4, 1)]


def _torch_resize(torch, x, size, mode, upstream):
    """torch's interpolate on the NHWC array ``x`` (transposed to NCHW and back), and the
    gradient of ``sum(y * upstream)`` with respect to x, NHWC."""
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    kwargs = {} if mode in ("nearest-exact", "area") else {"align_corners": False}
    yt = torch.nn.functional.interpolate(xt, size=size, mode=mode, **kwargs)
    (yt * torch.tensor(upstream.transpose(0, 3, 1, 2))).sum().backward()
    return (yt.detach().numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1))


def _ours(layer, x, upstream):
    xs = Tensor(x, requires_grad=True)
    y = layer(xs)
    (y * Tensor(upstream)).sum().backward()
    return y.numpy(), xs.grad.numpy()


@pytest.mark.parametrize("h, w, oh, ow", _SIZES)
@pytest.mark.parametrize("interpolation, mode", [("bilinear", "bilinear"),
                                                 ("nearest", "nearest-exact")])
def test_resizing_matches_torch_values_and_gradients(rng, h, w, oh, ow, interpolation, mode):
    torch = require_torch()
    x = rng.standard_normal((2, h, w, 3)).astype(np.float32)
    upstream = rng.standard_normal((2, oh, ow, 3)).astype(np.float32)
    y, gx = _ours(L.Resizing(oh, ow, interpolation=interpolation), x, upstream)
    yt, gxt = _torch_resize(torch, x, (oh, ow), mode, upstream)
    assert y.dtype == np.float32 and y.shape == (2, oh, ow, 3)
    np.testing.assert_allclose(y, yt, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(gx, gxt, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("h, w, oh, ow", [(8, 12, 4, 3), (3, 2, 9, 8), (6, 6, 6, 2)])
def test_area_matches_torch_for_whole_factors(rng, h, w, oh, ow):
    # torch's 'area' is adaptive average pooling: TF's area resize where in/out or out/in is
    # a whole number
    torch = require_torch()
    x = rng.standard_normal((2, h, w, 3)).astype(np.float32)
    upstream = rng.standard_normal((2, oh, ow, 3)).astype(np.float32)
    y, gx = _ours(L.Resizing(oh, ow, interpolation="area"), x, upstream)
    yt, gxt = _torch_resize(torch, x, (oh, ow), "area", upstream)
    np.testing.assert_allclose(y, yt, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(gx, gxt, atol=1e-5, rtol=1e-4)


def test_area_averages_the_covered_fraction_of_each_pixel():
    # 3 columns to 2: each output pixel covers 1.5 input pixels (TF's resize_area)
    x = np.array([1.0, 2.0, 4.0], np.float32).reshape(1, 1, 3, 1)
    y = L.Resizing(1, 2, interpolation="area")(x).numpy().ravel()
    np.testing.assert_allclose(y, [(1.0 + 0.5 * 2.0) / 1.5, (0.5 * 2.0 + 4.0) / 1.5], rtol=1e-6)


def test_bilinear_reads_half_pixel_centres_by_hand():
    # 2 -> 4: outputs at input coordinates -0.25 (clamped: 0), 0.25, 0.75, 1.25 (clamped: 1)
    x = np.array([0.0, 8.0], np.float32).reshape(1, 1, 2, 1)
    y = L.Resizing(1, 4)(x).numpy().ravel()
    np.testing.assert_allclose(y, [0.0, 2.0, 6.0, 8.0])
    # same size: the identity
    z = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
    np.testing.assert_array_equal(L.Resizing(3, 4)(z).numpy(), z)


def test_single_images_integers_and_channels_first(rng):
    x = rng.standard_normal((2, 5, 7, 3)).astype(np.float32)
    batched = L.Resizing(4, 9)(x).numpy()
    np.testing.assert_allclose(L.Resizing(4, 9)(x[1]).numpy(), batched[1], rtol=1e-6)
    first = L.Resizing(4, 9, data_format="channels_first")(x.transpose(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(first, batched.transpose(0, 3, 1, 2), rtol=1e-6)
    pixels = rng.integers(0, 256, (2, 5, 7, 3)).astype(np.uint8)
    y = L.Resizing(4, 9, interpolation="nearest")(pixels)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), L.Resizing(4, 9, interpolation="nearest")(
        pixels.astype(np.float32)).numpy())


def test_crop_to_aspect_ratio_takes_the_centred_window(rng):
    # 6 x 10 to a square: Keras crops the centred 6 x 6 window (columns 2..7), then resizes
    x = rng.standard_normal((2, 6, 10, 3)).astype(np.float32)
    y = L.Resizing(3, 3, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_allclose(y, L.Resizing(3, 3)(x[:, :, 2:8]).numpy(), rtol=1e-6)
    # 5 x 10 to 4 x 4: crop 5 x 5 from column int(5 / 2) = 2
    x = rng.standard_normal((5, 10, 1)).astype(np.float32)
    y = L.Resizing(4, 4, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_allclose(y, L.Resizing(4, 4)(x[:, 2:7]).numpy(), rtol=1e-6)


def test_pad_to_aspect_ratio_pads_both_sides_with_the_fill_value(rng):
    x = rng.standard_normal((2, 4, 8, 3)).astype(np.float32)
    y = L.Resizing(8, 8, pad_to_aspect_ratio=True, fill_value=-1.0)(x).numpy()
    np.testing.assert_array_equal(y[:, :2], -1.0)
    np.testing.assert_array_equal(y[:, 6:], -1.0)
    np.testing.assert_array_equal(y[:, 2:6], x)
    # differentiable through the padding: the image's pixels get their gradient back
    xs = Tensor(x, requires_grad=True)
    L.Resizing(8, 8, pad_to_aspect_ratio=True)(xs).sum().backward()
    np.testing.assert_array_equal(xs.grad.numpy(), np.ones_like(x))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="only one of"):
        L.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(NotImplementedError, match="bicubic"):
        L.Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="interpolation"):
        L.Resizing(4, 4, interpolation="cubic")
    with pytest.raises(ValueError, match="fill_mode"):
        L.Resizing(4, 4, fill_mode="reflect")
    with pytest.raises(ValueError, match="expects images"):
        L.Resizing(4, 4)(np.zeros((2, 3), np.float32))


def test_config_round_trip_and_functional_model(rng):
    layer = L.Resizing(6, 5, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=0.5)
    config = layer.get_config()
    assert {k: config[k] for k in ("height", "width", "interpolation", "crop_to_aspect_ratio",
                                   "pad_to_aspect_ratio", "fill_mode", "fill_value",
                                   "antialias", "data_format")} == {
        "height": 6, "width": 5, "interpolation": "nearest", "crop_to_aspect_ratio": False,
        "pad_to_aspect_ratio": True, "fill_mode": "constant", "fill_value": 0.5,
        "antialias": False, "data_format": "channels_last"}
    clone = deserialize_layer({"class_name": "Resizing", "config": config})
    x = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    inputs = keras.Input((None, None, 3))
    outputs = L.Conv2D(2, 3)(L.Resizing(8, 8)(inputs))
    assert outputs.shape == (None, 6, 6, 2)
    model = keras.Model(inputs, outputs)
    assert model.predict(x, verbose=0).shape == (2, 6, 6, 2)
