"""keras.utils.load_img / img_to_array / array_to_img / save_img (Pillow), and
DataLoader.map / prefetch on what image_dataset_from_directory returns."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import DataLoader

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def image_path(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(pixels).save(path)
    return path, pixels


def test_load_img_and_img_to_array_round_trip(image_path):
    path, pixels = image_path
    img = sj.keras.utils.load_img(path)
    assert img.size == (8, 6) and img.mode == "RGB"
    arr = sj.keras.utils.img_to_array(img)
    assert arr.dtype == np.float32 and arr.shape == (6, 8, 3)
    np.testing.assert_array_equal(arr, pixels.astype(np.float32))


def test_array_to_img_and_save_img_as_keras(image_path, tmp_path):
    """DCGAN's GANMonitor: keras.utils.array_to_img(generated_images[i]).save(...)."""
    path, pixels = image_path
    img = sj.keras.utils.array_to_img(sj.tensor(pixels.astype(np.float32)), scale=False)
    assert img.mode == "RGB" and img.size == (8, 6)
    np.testing.assert_array_equal(np.asarray(img), pixels)
    # scale (the default): shifted and stretched to 0..255 by the image's own min and max
    gray = sj.keras.utils.array_to_img(np.array([[[0.5], [1.0]], [[1.5], [2.5]]]))
    assert gray.mode == "L"
    np.testing.assert_array_equal(np.asarray(gray), [[0, 63], [127, 255]])  # 255 * 0.25, 0.5
    first = sj.keras.utils.array_to_img(pixels.transpose(2, 0, 1), data_format="channels_first",
                                        scale=False)
    np.testing.assert_array_equal(np.asarray(first), pixels)
    assert sj.keras.utils.array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"
    with pytest.raises(ValueError, match="rank 3"):
        sj.keras.utils.array_to_img(pixels[0])
    sj.keras.utils.save_img(tmp_path / "b.png", pixels, scale=False)
    np.testing.assert_array_equal(sj.keras.utils.img_to_array(
        sj.keras.utils.load_img(tmp_path / "b.png")), pixels)
    with pytest.warns(UserWarning, match="alpha"):
        sj.keras.utils.save_img(tmp_path / "c.jpg", np.ones((2, 2, 4)))
    assert sj.keras.utils.load_img(tmp_path / "c.jpg").mode == "RGB"


def test_load_img_modes_and_target_size(image_path):
    path, pixels = image_path
    gray = sj.utils.img_to_array(sj.utils.load_img(str(path), color_mode="grayscale"))
    assert gray.shape == (6, 8, 1)
    np.testing.assert_array_equal(gray[..., 0], np.asarray(Image.fromarray(pixels).convert("L")))
    rgba = sj.utils.load_img(path, color_mode="rgba", target_size=(3, 4),
                             interpolation="bilinear")
    assert rgba.size == (4, 3) and rgba.mode == "RGBA"
    nearest = sj.utils.img_to_array(sj.utils.load_img(path, target_size=(3, 4)))
    expected = np.asarray(Image.fromarray(pixels).resize((4, 3), Image.Resampling.NEAREST))
    np.testing.assert_array_equal(nearest, expected)
    with pytest.raises(ValueError, match="color_mode"):
        sj.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="2 or 3"):
        sj.utils.img_to_array(np.zeros(4))


def test_map_applies_to_each_batch_and_prefetch_is_a_no_op(tmp_path):
    for k, name in enumerate(["cat", "dog"]):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(np.full((4, 4, 3), 10 * k + i, np.uint8)).save(
                tmp_path / name / f"{i}.png")
    ds = sj.utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=4,
                                               shuffle=False)
    mapped = ds.map(lambda x, y: (x / 255.0, y + 10))
    assert mapped is not ds and mapped.prefetch(2) is mapped and ds.prefetch() is ds
    assert mapped.class_names == ["cat", "dog"]
    for (x, y), (mx, my) in zip(ds, mapped, strict=True):
        np.testing.assert_allclose(mx, x / 255.0)
        np.testing.assert_array_equal(my, y + 10)
    twice = mapped.map(lambda x, y: (x * 255.0, y - 10))  # composed after the first
    for (x, y), (tx, ty) in zip(ds, twice, strict=True):
        np.testing.assert_allclose(tx, x, rtol=1e-6)
        np.testing.assert_array_equal(ty, y)


def test_map_without_targets_takes_x_alone():
    loader = DataLoader(np.arange(6.0)[:, None], batch_size=4).map(lambda x: x * 2)
    np.testing.assert_array_equal(np.concatenate(list(loader)), np.arange(6.0)[:, None] * 2)
    with pytest.raises(TypeError, match="callable"):
        loader.map(3)


def test_map_that_returns_x_alone_drops_the_targets_as_tf_data():
    # Keras's text tutorial: vectorize_layer.adapt(raw_train_ds.map(lambda x, y: x))
    texts = np.array(["the cat sat", "the dog", "a cat", "dogs bark"], dtype=object)
    raw = DataLoader(texts, np.array([0, 1, 0, 1]), batch_size=3)
    only_x = raw.map(lambda x, y: x)
    batches = list(only_x)
    assert [list(b) for b in batches] == [["the cat sat", "the dog", "a cat"], ["dogs bark"]]
    assert [list(b) for b in only_x.map(lambda x: np.char.upper(x.astype(str)))][1] == [
        "DOGS BARK"]
    vectorize = sj.layers.TextVectorization(output_mode="int")
    vectorize.adapt(only_x)
    assert vectorize.get_vocabulary()[:3] == ["", "[UNK]", "the"]
    x, y = next(iter(raw.map(lambda x, y: (x, y + 1))))  # (x, y) back: targets kept
    assert list(y) == [1, 2, 1]
