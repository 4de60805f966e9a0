"""The layers' random streams travel with the model: save + load + fit draws the masks, noise
and augmentations the uninterrupted run draws, so the two end bit for bit alike."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers, losses, optimizers
from shenjing.io import CorruptFileError, saving
from shenjing.models import load_model

LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)


def _assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def _rewrite_config(path, edit):
    """Rewrite the zip at ``path`` with ``edit(config)`` applied to its config."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members[saving.CONFIG])
    edit(config)
    members[saving.CONFIG] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _images():
    rng = np.random.default_rng(0)
    return rng.random((24, 8, 8, 3)).astype(np.float32), rng.integers(0, 3, 24)


def _image_model():
    """Every kind of random layer shenjing has, each with a stream from the seeded root."""
    sj.utils.set_random_seed(5)
    inputs = sj.Input((8, 8, 3))
    h = layers.RandomFlip()(inputs)
    h = layers.RandomRotation(0.1)(h)
    h = layers.RandomZoom(0.1)(h)
    h = layers.RandomTranslation(0.1, 0.1)(h)
    h = layers.RandomBrightness(0.1)(h)
    h = layers.RandomContrast(0.1)(h)
    h = layers.RandomCrop(6, 6)(h)
    h = layers.GaussianNoise(0.1)(h)
    h = layers.Conv2D(4, 3, activation="relu")(h)
    h = layers.SpatialDropout2D(0.25)(h)
    h = layers.Reshape((4, 16))(h)
    h = layers.SpatialDropout1D(0.25)(h)
    h = layers.LSTM(6, dropout=0.2, recurrent_dropout=0.2, return_sequences=True)(h)
    h = layers.MultiHeadAttention(2, 3, dropout=0.3)(h, h)
    h = layers.GRU(5, dropout=0.2, recurrent_dropout=0.2)(h)
    h = layers.Dropout(0.3)(h)
    model = sj.Model(inputs, layers.Dense(3)(h))
    model.compile(optimizers.Adam(learning_rate=0.01), LOSS)
    return model


def test_every_random_layer_resumes_bit_exact(tmp_path):
    x, y = _images()
    uninterrupted = _image_model()
    full = uninterrupted.fit(x, y, batch_size=8, epochs=3, verbose=0)
    partial = _image_model()
    partial.fit(x, y, batch_size=8, epochs=1, verbose=0)
    partial.save(tmp_path / "m.shenjing")
    sj.utils.set_random_seed(123)  # another process: its seed does not matter
    resumed = load_model(tmp_path / "m.shenjing")
    rest = resumed.fit(x, y, batch_size=8, initial_epoch=1, epochs=3, verbose=0)
    assert rest.history["loss"] == full.history["loss"][1:]
    _assert_same_weights(uninterrupted, resumed)


def test_the_streams_are_saved_as_plain_json(tmp_path):
    model = _image_model()
    model.fit(*_images(), batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.shenjing")
    with zipfile.ZipFile(tmp_path / "m.shenjing") as z:
        streams = json.loads(z.read(saving.CONFIG))["random_streams"]
    assert len(streams) == 14  # 7 augmentation, noise, 2 spatial, LSTM, MHA's Dropout, GRU, Dropout
    assert all(s["layer"].endswith("/_generator") for s in streams)
    assert {s["state"]["bit_generator"] for s in streams} == {"PCG64"}
    assert all(isinstance(s["state"]["state"]["state"], int) for s in streams)


def test_without_the_saved_streams_the_run_would_differ(tmp_path):
    """The control, and a file written before streams were saved: it loads, with fresh
    streams, as it did then."""
    x, y = _images()
    uninterrupted = _image_model()
    uninterrupted.fit(x, y, batch_size=8, epochs=2, verbose=0)
    partial = _image_model()
    partial.fit(x, y, batch_size=8, epochs=1, verbose=0)
    partial.save(tmp_path / "m.shenjing")
    _rewrite_config(tmp_path / "m.shenjing", lambda c: c.pop("random_streams"))
    old = load_model(tmp_path / "m.shenjing")
    np.testing.assert_array_equal(old.predict(x), partial.predict(x))
    old.fit(x, y, batch_size=8, initial_epoch=1, epochs=2, verbose=0)
    assert not np.array_equal(old.get_weights()[0], uninterrupted.get_weights()[0])


def test_a_damaged_stream_state_is_a_corrupt_file(tmp_path):
    model = sj.Sequential([sj.Input((4,)), layers.Dense(4), layers.Dropout(0.5)])
    model.save(tmp_path / "m.shenjing")

    def damage(config):
        config["random_streams"][0]["state"] = {"bit_generator": "os.system", "state": "rm"}

    _rewrite_config(tmp_path / "m.shenjing", damage)
    with pytest.raises(CorruptFileError, match=r"random stream of .*dropout.*_generator"):
        load_model(tmp_path / "m.shenjing")


class _Noisy(layers.Layer):
    """A user's layer with its own streams: a NumPy Generator (not PCG64) and a
    keras.random.SeedGenerator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rng = np.random.Generator(np.random.MT19937(3))
        self.seed_generator = sj.random.SeedGenerator(4)

    def call(self, x, training=False):
        if not training:
            return x
        noise = self.rng.normal(0, 0.1, x.shape).astype(np.float32)
        return x + noise + sj.random.normal(x.shape, stddev=0.1, seed=self.seed_generator)


def test_a_custom_layers_streams_resume(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((20, 4)).astype(np.float32), rng.integers(0, 3, 20)

    def build():
        sj.utils.set_random_seed(2)
        model = sj.Sequential([sj.Input((4,)), _Noisy(), layers.Dense(3)])
        model.compile("sgd", LOSS)
        return model

    uninterrupted = build()
    uninterrupted.fit(x, y, batch_size=5, epochs=2, verbose=0)
    partial = build()
    partial.fit(x, y, batch_size=5, epochs=1, verbose=0)
    partial.save(tmp_path / "m.shenjing")
    resumed = load_model(tmp_path / "m.shenjing", custom_objects={"_Noisy": _Noisy})
    assert isinstance(resumed.layers[0].rng.bit_generator, np.random.MT19937)
    resumed.fit(x, y, batch_size=5, initial_epoch=1, epochs=2, verbose=0)
    _assert_same_weights(uninterrupted, resumed)
