"""RandomRotation and RandomZoom: for fixed angles and zooms (lower == upper), the training
output equals a reference affine resampling written here (scipy.ndimage.affine_transform when
scipy is installed, else a direct NumPy loop) in every fill mode and interpolation; identity at
inference; seeded draws; config round trip. Every Random* image layer: Keras 3's data_format
('channels_first' is the channels-last result transposed) and argument order."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from shenjing import Input, Tensor
from shenjing import layers as L
from shenjing.layers import RandomRotation, RandomZoom

# our fill modes as scipy's: per-neighbour modes, interpolation on both sides of the edge
SCIPY_MODES = {"reflect": "reflect", "wrap": "grid-wrap", "nearest": "nearest",
               "constant": "grid-constant"}


def _fixed(index, size, mode):
    if mode == "reflect":
        index = index % (2 * size)
        return 2 * size - 1 - index if index >= size else index
    if mode == "wrap":
        return index % size
    return min(max(index, 0), size - 1)


def _numpy_reference(image, matrix, offset, mode, order, cval):
    """Per output pixel (row, col): input point matrix @ (row, col) + offset, interpolated."""
    h, w, c = image.shape
    out = np.zeros_like(image)
    for i in range(h):
        for j in range(w):
            r, q = matrix @ np.array([i, j], dtype=np.float64) + offset
            if order == 0:
                nodes = [(int(np.round(r)), int(np.round(q)), 1.0)]
            else:
                r0, q0 = int(np.floor(r)), int(np.floor(q))
                fr, fq = r - r0, q - q0
                nodes = [(r0, q0, (1 - fr) * (1 - fq)), (r0, q0 + 1, (1 - fr) * fq),
                         (r0 + 1, q0, fr * (1 - fq)), (r0 + 1, q0 + 1, fr * fq)]
            for a, b, wt in nodes:
                if mode == "constant" and not (0 <= a < h and 0 <= b < w):
                    out[i, j] += wt * cval
                else:
                    out[i, j] += wt * image[_fixed(a, h, mode), _fixed(b, w, mode)]
    return out


def _reference(image, matrix, offset, mode, interpolation, cval):
    """``image`` (H, W, C) resampled: output (row, col) reads input matrix @ (row, col) + offset."""
    order = 0 if interpolation == "nearest" else 1
    try:
        from scipy import ndimage
    except ImportError:
        return _numpy_reference(image, matrix, offset, mode, order, cval)
    return np.stack([ndimage.affine_transform(image[..., k], matrix, offset, order=order,
                                              mode=SCIPY_MODES[mode], cval=cval)
                     for k in range(image.shape[-1])], axis=-1)


def _rotation(theta, h, w):
    """Keras's rotation about the centre, in (row, col) order: counter-clockwise for theta > 0
    (the output's (x, y) reads the input at R(theta) (x, y) about the centre)."""
    cos, sin = np.cos(theta), np.sin(theta)
    matrix = np.array([[cos, sin], [-sin, cos]])  # rows: (row_in, col_in) from (row, col)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    return matrix, centre - matrix @ centre


MODES = ["reflect", "wrap", "constant", "nearest"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("turn", [0.07, -0.19])
def test_random_rotation_matches_reference_affine(mode, interpolation, turn, rng):
    x = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    layer = RandomRotation((turn, turn), fill_mode=mode, interpolation=interpolation,
                           fill_value=0.5, seed=1)
    y = layer(Tensor(x), training=True).numpy()
    matrix, offset = _rotation(turn * 2 * np.pi, 7, 9)
    for k in range(2):
        expected = _reference(x[k].astype(np.float64), matrix, offset, mode, interpolation, 0.5)
        np.testing.assert_allclose(y[k], expected, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("zooms", [(0.3, None), (-0.4, 0.25)])
def test_random_zoom_matches_reference_affine(mode, interpolation, zooms, rng):
    zh, zw = zooms
    x = rng.standard_normal((2, 8, 6, 2)).astype(np.float32)
    layer = RandomZoom((zh, zh), None if zw is None else (zw, zw), fill_mode=mode,
                       interpolation=interpolation, fill_value=-1.0, seed=3)
    y = layer(Tensor(x), training=True).numpy()
    sh, sw = 1 + zh, 1 + (zh if zw is None else zw)
    matrix = np.diag([sh, sw])
    offset = np.array([(8 - 1) / 2 * (1 - sh), (6 - 1) / 2 * (1 - sw)])
    for k in range(2):
        expected = _reference(x[k].astype(np.float64), matrix, offset, mode, interpolation, -1.0)
        np.testing.assert_allclose(y[k], expected, atol=1e-5)


def test_rotation_by_a_quarter_turn_is_counter_clockwise():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    y = RandomRotation((0.25, 0.25))(Tensor(x), training=True).numpy()
    np.testing.assert_allclose(y[0, :, :, 0], np.rot90(x[0, :, :, 0]), atol=1e-5)


def test_zoom_out_shrinks_and_zoom_in_enlarges():
    x = np.zeros((1, 9, 9, 1), np.float32)
    x[0, 3:6, 3:6] = 1
    out = RandomZoom((1.0, 1.0), fill_mode="constant")(Tensor(x), training=True).numpy()
    inn = RandomZoom((-0.5, -0.5), fill_mode="constant")(Tensor(x), training=True).numpy()
    assert (out > 0.5).sum() < 9 < (inn > 0.5).sum()


@pytest.mark.parametrize("layer", [lambda: RandomRotation(0.2, seed=0),
                                   lambda: RandomZoom(0.3, 0.2, seed=0)])
def test_identity_at_inference_and_seeded(layer, rng):
    x = rng.standard_normal((3, 6, 5, 2)).astype(np.float32)
    np.testing.assert_array_equal(layer()(Tensor(x), training=False).numpy(), x)
    a, b = layer()(Tensor(x), training=True), layer()(Tensor(x), training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), x)
    single = layer()(Tensor(x[0]), training=True)  # one HWC image: as a batch of one
    np.testing.assert_allclose(single.numpy(), layer()(Tensor(x[:1]), training=True).numpy()[0],
                               atol=1e-6)


def test_uint8_images_become_float32_and_gradient_flows(rng):
    x = rng.integers(0, 256, (2, 5, 5, 3)).astype(np.uint8)
    assert RandomRotation(0.1)(Tensor(x)).dtype == np.float32
    xt = Tensor(rng.standard_normal((2, 5, 5, 3)).astype(np.float32), requires_grad=True)
    RandomZoom(0.2, fill_mode="wrap", seed=0)(xt, training=True).sum().backward()
    assert xt.grad.shape == xt.shape
    # wrap with bilinear weights summing to one per output pixel: the total gradient is the count
    np.testing.assert_allclose(xt.grad.numpy().sum(), xt.size, rtol=1e-5)


def test_config_round_trip_and_errors():
    layer = RandomZoom((-0.2, 0.3), width_factor=0.1, fill_mode="constant", fill_value=2.0)
    config = layer.get_config()
    assert config["height_factor"] == [-0.2, 0.3] and config["fill_value"] == 2.0
    again = RandomZoom.from_config(config)
    assert again.fill_mode == "constant" and again.width_factor == 0.1
    assert RandomRotation.from_config(RandomRotation(0.1).get_config()).factor == 0.1
    with pytest.raises(ValueError, match="fill_mode"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="at least -1"):
        RandomZoom((-1.5, 0.0))


# each Random* layer with its arguments, and the arguments Keras 3 takes first, in its order
_RANDOM = {
    "RandomFlip": (lambda **kw: L.RandomFlip(seed=1, **kw), ["mode", "seed", "data_format"]),
    "RandomRotation": (lambda **kw: L.RandomRotation(0.2, seed=1, **kw),
                       ["factor", "fill_mode", "interpolation", "seed", "fill_value",
                        "data_format"]),
    "RandomZoom": (lambda **kw: L.RandomZoom(0.3, (-0.2, 0.1), seed=1, **kw),
                   ["height_factor", "width_factor", "fill_mode", "interpolation", "seed",
                    "fill_value", "data_format"]),
    "RandomTranslation": (lambda **kw: L.RandomTranslation(0.2, 0.3, seed=1, **kw),
                          ["height_factor", "width_factor", "fill_mode", "interpolation",
                           "seed", "fill_value", "data_format"]),
    "RandomCrop": (lambda **kw: L.RandomCrop(3, 4, seed=1, padding=1, **kw),
                   ["height", "width", "seed", "data_format", "name"]),
    "RandomContrast": (lambda **kw: L.RandomContrast(0.5, seed=1, **kw),
                       ["factor", "value_range", "seed"]),
    "RandomBrightness": (lambda **kw: L.RandomBrightness(0.3, seed=1, **kw),
                         ["factor", "value_range", "seed"]),
}


@pytest.mark.parametrize("name", sorted(_RANDOM))
def test_random_image_layers_take_keras_data_format(name, rng):
    make, keras_args = _RANDOM[name]
    params = [p for p in inspect.signature(getattr(L, name).__init__).parameters
              if p not in ("self", "kwargs")]
    assert params[:len(keras_args)] == keras_args
    images = rng.uniform(0, 255, (2, 5, 6, 3)).astype(np.float32)
    for x in (images, images[0]):  # a batch, one image
        to_first = (0, 3, 1, 2) if x.ndim == 4 else (2, 0, 1)
        for training in (True, False):
            last = make()(x, training=training).numpy()
            first = make(data_format="channels_first")(x.transpose(to_first), training=training)
            np.testing.assert_allclose(first.numpy(), last.transpose(to_first), rtol=1e-6,
                                       atol=1e-4)
    assert not np.allclose(make()(images).numpy()[..., :3, :3, :], images[..., :3, :3, :])
    layer = make(data_format="channels_first")
    config = layer.get_config()
    assert config["data_format"] == "channels_first"
    assert make().get_config()["data_format"] == "channels_last"
    assert type(layer).from_config(config).get_config() == config
    assert layer(Input((3, 5, 6))).shape == ((None, 3, 3, 4) if name == "RandomCrop"
                                             else (None, 3, 5, 6))
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or "
                                         "'channels_first', got 'NHWC'"):
        make(data_format="NHWC")
    with pytest.raises(ValueError, match=r"expects images \(batch, channels, height, width\)"):
        layer(np.zeros((1, 2, 3, 5, 6), np.float32))
