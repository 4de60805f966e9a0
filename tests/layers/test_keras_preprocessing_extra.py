"""The preprocessing layers added after Keras 3's list: CenterCrop, RandomTranslation,
RandomBrightness, RandomContrast, Hashing and Discretization, checked against values computed
by hand from Keras's documented formulas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from shenjing import layers
from shenjing.autograd import Tensor


def _images(n=2, h=4, w=4, c=1):
    return np.arange(n * h * w * c, dtype=np.float32).reshape(n, h, w, c)


def test_center_crop_takes_the_middle():
    x = _images(1, 4, 4)
    np.testing.assert_array_equal(layers.CenterCrop(2, 2)(x).numpy()[0, :, :, 0],
                                  [[5, 6], [9, 10]])
    x = _images(1, 5, 5)  # offsets int((5 - 2) / 2) = 1
    np.testing.assert_array_equal(layers.CenterCrop(2, 3)(x).numpy()[0, :, :, 0],
                                  x[0, 1:3, 1:4, 0])
    chw = x.transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(
        layers.CenterCrop(2, 3, data_format="channels_first")(chw).numpy(), chw[:, :, 1:3, 1:4])
    # smaller than the target: resized (a constant image stays constant)
    small = np.full((3, 3, 2), 7.0, np.float32)
    out = layers.CenterCrop(4, 6)(small).numpy()
    assert out.shape == (4, 6, 2)
    np.testing.assert_allclose(out, 7.0)


def test_random_translation_fixed_shift():
    x = _images(2, 4, 4)
    down = layers.RandomTranslation((0.25, 0.25), (0.0, 0.0), fill_mode="constant",
                                    interpolation="nearest")
    y = down(x).numpy()  # one row (0.25 * 4) down, zeros above
    np.testing.assert_array_equal(y[:, 1:], x[:, :-1])
    np.testing.assert_array_equal(y[:, 0], 0)
    left = layers.RandomTranslation(0.0, (-0.5, -0.5), fill_mode="wrap")
    np.testing.assert_allclose(left(x).numpy(), np.roll(x, -2, axis=2))
    np.testing.assert_array_equal(down(x, training=False).numpy(), x)


def test_random_brightness_adds_a_delta_and_clips():
    x = np.full((2, 3, 3, 3), 240.0, np.float32)
    y = layers.RandomBrightness((0.05, 0.05))(x).numpy()  # + 0.05 * 255 = 12.75, clipped
    np.testing.assert_allclose(y, 252.75)
    y = layers.RandomBrightness((0.1, 0.1))(x).numpy()
    np.testing.assert_allclose(y, 255.0)
    y = layers.RandomBrightness((-0.5, -0.5), value_range=(0, 1))(x / 255).numpy()
    np.testing.assert_allclose(y, 240 / 255 - 0.5, rtol=1e-6)
    z = layers.RandomBrightness(0.3, seed=1)(x).numpy()
    deltas = z[:, 0, 0, 0] - 240  # one delta per image, within 0.3 * 255
    assert np.all(np.abs(deltas) <= 0.3 * 255 + 1e-3)
    np.testing.assert_allclose(z, (240 + deltas)[:, None, None, None] * np.ones_like(x))
    with pytest.raises(ValueError):
        layers.RandomBrightness(1.5)


def test_random_contrast_scales_about_the_channel_mean():
    rng = np.random.default_rng(0)
    x = rng.uniform(100, 150, size=(3, 4, 5, 2)).astype(np.float32)
    y = layers.RandomContrast(0.5, seed=3)(x).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    # (y - mean) = c (x - mean) with one c per image, c in [0.5, 1.5]
    c = ((y - mean) / (x - mean)).reshape(3, -1)
    np.testing.assert_allclose(c, c[:, :1] * np.ones_like(c), rtol=1e-3)
    assert np.all((c[:, 0] >= 0.5) & (c[:, 0] <= 1.5))
    np.testing.assert_array_equal(layers.RandomContrast(0.5)(x, training=False).numpy(), x)
    flat = layers.RandomContrast((1.0, 0.0))(np.stack([x[0], x[0]])).numpy()  # c in [0, 1]
    assert flat.min() >= 0 and flat.max() <= 255


def test_hashing_bins_mask_and_salt():
    tokens = np.array([["a", "b"], ["c", "a"], ["", "d"]])
    ids = layers.Hashing(5)(tokens).numpy()
    assert ids.shape == (3, 2) and ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 5
    assert ids[0, 0] == ids[1, 1]  # the same token, the same bin
    np.testing.assert_array_equal(layers.Hashing(5)(tokens).numpy(), ids)  # stable
    masked = layers.Hashing(5, mask_value="")(tokens).numpy()
    assert masked[2, 0] == 0 and masked[masked != 0].min() >= 1
    assert (masked[tokens != ""] > 0).all()
    # integers hash as their decimal strings
    np.testing.assert_array_equal(layers.Hashing(7)(np.array([12, 3])).numpy(),
                                  layers.Hashing(7)(np.array(["12", "3"])).numpy())
    many = np.array([str(i) for i in range(200)])
    assert not np.array_equal(layers.Hashing(50, salt=1)(many).numpy(),
                              layers.Hashing(50)(many).numpy())
    counts = np.bincount(layers.Hashing(4)(many).numpy(), minlength=4)
    assert counts.min() > 25  # roughly uniform over 4 bins of 50
    one_hot = layers.Hashing(5, output_mode="one_hot")(tokens[:, :1]).numpy()
    np.testing.assert_array_equal(one_hot.argmax(-1), ids[:, 0])
    assert one_hot.shape == (3, 5)


def test_discretization_given_boundaries():
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    # bin i holds b[i - 1] <= x < b[i]
    np.testing.assert_array_equal(layer(x).numpy(), [[0, 2, 3, 1], [1, 3, 2, 1]])
    counts = layers.Discretization([0.0, 1.0, 2.0], output_mode="count")(x).numpy()
    np.testing.assert_array_equal(counts, [[1, 1, 1, 1], [0, 2, 1, 1]])
    with pytest.raises(ValueError, match="sorted"):
        layers.Discretization([1.0, 0.0])


def test_discretization_adapt_small_data_interpolates_quantiles():
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(x)
    # 8 values each weighing 1/8: the 1/4, 2/4, 3/4 quantiles are the 2nd, 4th and 6th sorted
    ordered = np.sort(x.reshape(-1))
    np.testing.assert_allclose(layer.bin_boundaries, ordered[[1, 3, 5]])
    clone = layers.Discretization.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_discretization_adapt_large_data_in_batches():
    data = np.random.default_rng(0).uniform(0, 1, size=(20000, 1)).astype(np.float32)
    layer = layers.Discretization(num_bins=4)
    layer.adapt([data[i:i + 1000] for i in range(0, 20000, 1000)])  # an iterable of batches
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.25, 0.5, 0.75]),
                               atol=0.02)
    share = np.bincount(layer(data).numpy().reshape(-1), minlength=4) / len(data)
    np.testing.assert_allclose(share, 0.25, atol=0.02)


@pytest.mark.parametrize("name", ["CenterCrop", "Discretization", "Hashing", "RandomBrightness",
                                  "RandomContrast", "RandomTranslation"])
def test_registered_and_lazy(name):
    assert name in layers.__all__
    code = ("import sys, shenjing; from shenjing import layers; "
            "assert 'shenjing.layers.augmentation' not in sys.modules; "
            "assert 'shenjing.layers.lookup' not in sys.modules; "
            f"layers.{name}")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_configs_round_trip():
    for layer in (layers.CenterCrop(3, 2), layers.Hashing(4, mask_value="", salt=[1, 2]),
                  layers.RandomBrightness((-0.2, 0.1), value_range=(0, 1), seed=2),
                  layers.RandomContrast(0.3, seed=2),
                  layers.RandomTranslation(0.1, (-0.2, 0.2), fill_mode="nearest")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    x = Tensor(_images(1, 5, 5))
    np.testing.assert_array_equal(layers.CenterCrop(3, 2)(x).numpy(),
                                  layers.CenterCrop.from_config(
                                      layers.CenterCrop(3, 2).get_config())(x).numpy())
