"""Resuming continues the same run: a model saved between epochs (ModelCheckpoint), loaded and
trained on ends exactly where a run that never stopped ends — with fit's default shuffling."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, layers, losses, optimizers
from shenjing.io import CorruptFileError, saving
from shenjing.models import load_model
from training_state import assert_same_state


def _data(n: int = 50):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _build() -> sj.Sequential:
    sj.utils.set_random_seed(11)
    model = sj.Sequential([sj.Input((4,)), layers.Dense(16, activation="relu"),
                           layers.BatchNormalization(), layers.Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def test_a_run_resumed_from_a_checkpoint_shuffles_as_the_uninterrupted_one(tmp_path):
    """Before, each fit drew a new shuffling stream, so the resumed epochs saw other batches."""
    x, y = _data()
    full = _build()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "epoch{epoch}.shenjing", monitor="loss")
    history = full.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[checkpoint])

    sj.utils.set_random_seed(999)  # another process: its random state does not matter
    resumed = load_model(tmp_path / "epoch2.shenjing")
    rest = resumed.fit(x, y, batch_size=16, initial_epoch=2, epochs=4, verbose=0)
    assert rest.history["loss"] == history.history["loss"][2:]
    assert_same_state(full, resumed)


def test_fit_called_twice_continues_as_one_fit():
    x, y = _data()
    once = _build()
    once.fit(x, y, batch_size=16, epochs=3, verbose=0)
    twice = _build()
    twice.fit(x, y, batch_size=16, epochs=1, verbose=0)
    twice.fit(x, y, batch_size=16, initial_epoch=1, epochs=3, verbose=0)
    assert_same_state(once, twice)


def test_two_fits_still_shuffle_differently():
    """Continuing the stream is not repeating it: the second fit's epoch has another order."""
    x, y = np.arange(32, dtype=np.float32)[:, None], np.zeros(32)
    seen = []
    model = sj.Sequential([sj.Input((1,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    real = model._train_logs

    def spy(xb, yb, sw=None):
        seen.append(np.asarray(xb).ravel().tolist())
        return real(xb, yb, sw)

    model._train_logs = spy
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert seen[0] != seen[1] and sorted(seen[0]) == sorted(seen[1])


def test_a_damaged_shuffling_state_is_a_corrupt_file(tmp_path):
    x, y = _data()
    model = _build()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.shenjing")
    with zipfile.ZipFile(tmp_path / "m.shenjing") as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members[saving.CONFIG])
    assert config["fit_rng"]["bit_generator"] == "PCG64"
    config["fit_rng"] = {"bit_generator": "MT19937", "state": "os.system('x')"}
    members[saving.CONFIG] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "m.shenjing", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(CorruptFileError, match="shuffling state"):
        load_model(tmp_path / "m.shenjing")
