"""Preprocessing layers: Normalization (adapt against NumPy, Keras's epsilon), Rescaling, and the
augmentation layers RandomFlip and RandomCrop (active in training, by default as Keras 3;
seeded); the layer contract, and a saved model that carries its normalization statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from layer_contract import run_layer_test

import shenjing as sj
from shenjing import Tensor, layers, losses, optimizers
from shenjing.data import DataLoader
from shenjing.layers import Normalization, RandomCrop, RandomFlip, Rescaling
from shenjing.models import load_model


def _images(n=6, h=5, w=4, c=3, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c)).astype(np.float32)


# -- the layer contract -------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape, out_shape, non_trainable", [
    (lambda: Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]), (4, 3), (4, 3), 2),
    (lambda: Normalization(axis=None, mean=0.5, variance=2.0), (4, 3), (4, 3), 2),
    (lambda: Rescaling(1 / 255, offset=-0.5), (2, 4, 4, 3), (2, 4, 4, 3), 0),
    (lambda: RandomFlip("horizontal", seed=1), (2, 4, 4, 3), (2, 4, 4, 3), 0),
    (lambda: RandomCrop(3, 2, seed=1, padding=(1, 2)), (2, 4, 4, 3), (2, 3, 2, 3), 0),
])
def test_layer_contract(layer, shape, out_shape, non_trainable):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    run_layer_test(layer(), x, out_shape, 0, non_trainable)


# -- Normalization ------------------------------------------------------------------------------
def test_adapt_matches_numpy_per_feature(rng):
    x = rng.standard_normal((200, 3)) * [1.0, 5.0, 0.01] + [0.0, -3.0, 10.0]
    norm = Normalization()
    norm.adapt(x)
    np.testing.assert_allclose(norm.mean.numpy(), x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(norm.variance.numpy(), x.var(axis=0), rtol=1e-5)
    expected = (x - x.mean(axis=0)) / x.std(axis=0)
    np.testing.assert_allclose(norm(x).numpy(), expected, rtol=1e-4, atol=1e-4)
    assert norm(x).dtype == np.float32


def test_adapt_per_channel_on_images_and_from_batches(rng):
    images = rng.integers(0, 256, (12, 4, 5, 3)).astype(np.uint8)
    norm = Normalization(axis=-1)
    norm.adapt(DataLoader(images, batch_size=5))  # batches merged exactly
    flat = images.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(norm.mean.numpy(), flat.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(norm.variance.numpy(), flat.var(axis=0), rtol=1e-5)
    assert norm.mean.shape == (3,)
    out = norm(images).numpy()  # uint8 in, float32 out
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)

    whole = Normalization(axis=None)
    whole.adapt(images)
    assert whole.mean.shape == () and whole.mean.numpy() == pytest.approx(images.mean())

    spatial = Normalization(axis=(1, 2))  # one mean per pixel position, over batch and channel
    spatial.adapt(images)
    np.testing.assert_allclose(spatial.mean.numpy(), images.mean(axis=(0, 3)), rtol=1e-6)


def test_constant_feature_uses_keras_epsilon():
    """Keras divides by max(sqrt(variance), 1e-7): a constant feature maps to 0, not NaN."""
    x = np.array([[1.0, 2.0], [1.0, 4.0]], np.float32)
    norm = Normalization()
    norm.adapt(x)
    out = norm(np.array([[1.0, 3.0], [1.0 + 2**-20, 3.0]], np.float32)).numpy()
    assert out[0].tolist() == [0.0, 0.0]
    assert out[1, 0] == pytest.approx(2**-20 / 1e-7, rel=1e-4)  # divided by epsilon, finite


def test_given_statistics_invert_and_errors():
    norm = Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    out = norm(np.array([[3.0, 2.0]]))
    np.testing.assert_allclose(out.numpy(), [[1.0, 0.0]])
    inverse = Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0], invert=True)
    np.testing.assert_allclose(inverse(out).numpy(), [[3.0, 2.0]])
    with pytest.raises(ValueError, match="overwrite"):
        norm.adapt(np.ones((3, 2)))
    with pytest.raises(ValueError, match="both mean and variance"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis 0"):
        Normalization(axis=0)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Normalization().adapt(np.array([[1.0], [np.nan]]))
    adapted = Normalization()
    adapted.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="size 3 on axis"):
        adapted(np.ones((2, 5)))


def test_normalization_adapted_on_pixels_normalizes_images_as_keras(rng):
    # adapted on (N, 3), it refused (B, H, W, 3): "expected input with 2 axes" (Keras: fine)
    images = rng.standard_normal((2, 7, 7, 3)).astype(np.float32) * [1, 2, 3] + [4, 5, 6]
    norm = Normalization()
    norm.adapt(images.reshape(-1, 3))
    pixels = images.reshape(-1, 3)
    want = (images - pixels.mean(0)) / pixels.std(0)
    np.testing.assert_allclose(norm(images).numpy(), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="size 3 on axis -1"):
        norm(np.ones((2, 7, 7, 4)))


def test_normalization_before_adapt_in_a_model_then_adapt(rng):
    """Keras's order: build the model, then adapt the layer inside it; statistics are assigned
    in place and training does not change them."""
    x = rng.standard_normal((64, 3)).astype(np.float32) * 4 + 2
    y = rng.integers(0, 2, 64)
    norm = Normalization()
    model = sj.Sequential([sj.Input((3,)), norm, layers.Dense(2)])
    norm.adapt(x)
    model.compile(optimizers.Adam(learning_rate=0.01),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    before = norm.get_weights()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(before, norm.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


@pytest.mark.parametrize("functional", [False, True])
def test_save_load_with_normalization_and_rescaling_predicts_identically(tmp_path, rng,
                                                                         functional):
    images = rng.integers(0, 256, (10, 6, 6, 3)).astype(np.uint8)
    norm = Normalization(axis=-1)
    norm.adapt(images / 255.0)
    stack = [Rescaling(1 / 255), norm, RandomFlip(seed=0), RandomCrop(4, 4, padding=1, seed=0),
             layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3)]
    if functional:
        inputs = sj.Input((6, 6, 3))
        out = inputs
        for layer in stack:
            out = layer(out)
        model = sj.Model(inputs, out)
    else:
        model = sj.Sequential([sj.Input((6, 6, 3)), *stack])
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(images, rng.integers(0, 3, 10), epochs=1, batch_size=5, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(images), model.predict(images))
    restored = [la for la in loaded.layers if isinstance(la, Normalization)][0]
    np.testing.assert_array_equal(restored.mean.numpy(), norm.mean.numpy())
    np.testing.assert_array_equal(restored.variance.numpy(), norm.variance.numpy())


# -- augmentation -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, axes", [("horizontal", (2,)), ("vertical", (1,)),
                                        ("horizontal_and_vertical", (1, 2))])
def test_random_flip_flips_some_images_only_in_training(mode, axes):
    x = _images(n=64)
    layer = RandomFlip(mode, seed=3)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)  # inference: identity
    out = layer(x, training=True).numpy()
    # the original, or flipped along one of the mode's axes, or both
    candidates = [x, np.flip(x, axis=axes[0]), np.flip(x, axis=axes[-1]), np.flip(x, axis=axes)]
    match = [[np.array_equal(out[i], c[i]) for c in candidates] for i in range(len(x))]
    assert all(any(m) for m in match)  # every image is the original or one of its flips
    assert sum(m[0] for m in match) not in (0, len(x))  # some flipped, some not


def test_augmentation_called_on_its_own_augments_as_keras3():
    """Keras 3's augmentation layers default to ``training=True``: called on their own (the
    image tutorial's ``train_ds.map(lambda img, label: (data_augmentation(img), label))``), or
    in a model called directly, they augment; predict and evaluate pass training=False."""
    x = _images(n=32)

    def changed(out):
        return sum(not np.array_equal(o, xi) for o, xi in zip(out, x))

    assert 0 < changed(RandomFlip("horizontal", seed=0)(x).numpy()) < len(x)
    seq = sj.Sequential([RandomFlip("horizontal", seed=0), layers.RandomRotation(0.1, seed=0)])
    inputs = sj.Input(shape=x.shape[1:])
    functional = sj.Model(inputs, RandomFlip("horizontal", seed=0)(inputs))
    for model in (seq, functional):
        assert changed(model(x).numpy()) > 0
        np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    # layers whose call defaults to training=False stay at inference when called bare
    np.testing.assert_array_equal(layers.Dropout(0.5)(x).numpy(), x)
    np.testing.assert_array_equal(sj.Sequential([layers.Dropout(0.5)])(x).numpy(), x)


def test_random_layers_are_seeded():
    x = _images(n=16, h=6, w=6)
    for make in (lambda s: RandomFlip(seed=s), lambda s: RandomCrop(4, 4, seed=s, padding=1)):
        a, b, c = make(7), make(7), make(8)
        first = a(x, training=True).numpy()
        np.testing.assert_array_equal(first, b(x, training=True).numpy())
        assert not np.array_equal(first, c(x, training=True).numpy())
        assert not np.array_equal(first, a(x, training=True).numpy())  # the stream moves on
    sj.utils.set_random_seed(4)
    unseeded = RandomFlip()(x, training=True).numpy()
    sj.utils.set_random_seed(4)
    np.testing.assert_array_equal(RandomFlip()(x, training=True).numpy(), unseeded)


def test_random_crop_takes_a_window_of_the_padded_image_per_sample():
    x = _images(n=32, h=6, w=5)
    layer = RandomCrop(6, 5, padding=2, seed=0)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)  # inference, same size
    out = layer(x, training=True).numpy()
    assert out.shape == x.shape
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    offsets = set()
    for i in range(len(x)):
        found = [(t, s) for t in range(5) for s in range(5)
                 if np.array_equal(padded[i, t:t + 6, s:s + 5], out[i])]
        assert found, f"image {i} is not a window of its padded self"
        offsets.add(found[0])
    assert len(offsets) > 5  # each image its own window


def test_random_crop_center_crops_at_inference_and_rejects_small_inputs():
    x = _images(n=2, h=7, w=6)
    layer = RandomCrop(3, 4, seed=0)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x[:, 2:5, 1:5])
    one = layer(x[0], training=True).numpy()  # a single HWC image
    assert one.shape == (3, 4, 3)
    with pytest.raises(ValueError, match="8x8 but got images of 7x6"):
        RandomCrop(8, 8)(x)
    with pytest.raises(ValueError, match="padding"):
        RandomCrop(2, 2, padding=-1)
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")


def test_augmentation_passes_gradients_through():
    x = Tensor(_images(n=4), requires_grad=True)
    out = RandomCrop(4, 3, padding=1, seed=0)(RandomFlip(seed=0)(x, training=True),
                                              training=True)
    out.sum().backward()
    # every output pixel comes from one input pixel or from the zero padding
    assert x.grad is not None and set(np.unique(x.grad.numpy())) <= {0.0, 1.0}
    assert x.grad.numpy().sum() <= out.size


def test_rescaling_casts_integers_and_scales_per_channel():
    x = np.full((1, 2, 2, 3), 255, dtype=np.uint8)
    layer = Rescaling(np.array([1 / 255, 2 / 255, 1.0]), offset=-1.0)
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy()[0, 0, 0], [0.0, 1.0, 254.0])
    config = json.loads(json.dumps(layer.get_config()))  # arrays saved as lists
    np.testing.assert_array_equal(Rescaling.from_config(config)(x).numpy(), out.numpy())


def test_augmentation_in_a_model_trains_and_predicts_deterministically(rng):
    x = rng.random((16, 6, 6, 1)).astype(np.float32)
    model = sj.Sequential([sj.Input((6, 6, 1)), RandomFlip("horizontal", seed=1),
                           RandomCrop(6, 6, padding=1, seed=2), layers.Flatten(),
                           layers.Dense(2)])
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, rng.integers(0, 2, 16), epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(model.predict(x), model.predict(x))
    assert model.layers[1].get_config()["padding"] == 1


def test_normalization_adapts_to_a_dataset_of_samples_and_a_list_of_batches_as_keras():
    x = np.array([[0.0, 7.0], [2.0, 9.0], [0.0, 7.0], [2.0, 9.0]], np.float32)
    for data in (sj.data.Dataset.from_tensor_slices(x),  # Keras batches single samples
                 [x[:3], x[3:]]):                         # a list of batches, of any sizes
        layer = Normalization()
        layer.adapt(data)
        np.testing.assert_allclose(layer.mean.numpy().ravel(), [1.0, 8.0])
        np.testing.assert_allclose(layer.variance.numpy().ravel(), [1.0, 1.0])
        np.testing.assert_allclose(layer(x).numpy(), [[-1, -1], [1, 1], [-1, -1], [1, 1]])


def test_category_encoding_outputs_the_layer_dtype():
    assert layers.CategoryEncoding(3, dtype="float64")([0, 2]).numpy().dtype == np.float64
    assert layers.CategoryEncoding(3)([0, 2]).numpy().dtype == np.float32


def test_random_translation_factors_as_keras():
    assert layers.RandomTranslation((0.2, -0.1), 0.0)._height == (-0.1, 0.2)  # sorted
    with pytest.raises(ValueError, match=r"in \[-1.0, 1.0\]"):
        layers.RandomTranslation(1.5, 0.0)
