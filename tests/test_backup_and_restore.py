"""BackupAndRestore: a fit interrupted (an error raised from a callback) and run again with the
callback ends with the weights of a run that never stopped, bit for bit: with shuffling,
Dropout, BatchNorm statistics and Adam's moments, from a backup made at an epoch's end or
mid-epoch."""

from __future__ import annotations

import os

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, layers, losses, optimizers
from shenjing.io import CorruptFileError
from training_state import assert_same_state


class _Interrupted(Exception):
    pass


class _Crash(callbacks.Callback):
    """Raise at the end of ``epoch`` (``batch`` None) or of that batch of it."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self._now = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._now == self.epoch and batch == self.batch:
            raise _Interrupted(f"epoch {self.epoch} batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch and self.batch is None:
            raise _Interrupted(f"epoch {epoch}")


class _Batches(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen, self._epoch = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append((self._epoch, batch))


def _data(n=50):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _build(seed=11):
    """The same script, run again: the same seed, so the same layers (their weights and
    streams are what the backup replaces)."""
    sj.utils.set_random_seed(seed)
    model = sj.Sequential([sj.Input((4,)), layers.Dense(16, activation="relu"),
                           layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.01),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _uninterrupted(epochs=5):
    model = _build()
    history = model.fit(*_data(), batch_size=16, epochs=epochs, verbose=0)
    return model, history


def test_an_interrupted_run_resumes_from_its_epoch_backup(tmp_path):
    full, history = _uninterrupted()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=5, verbose=0,
                     callbacks=[backup, _Crash(epoch=2)])
    assert os.listdir(tmp_path / "backup") == [backup.LATEST]

    resumed = _build(seed=12345)  # the weights and streams a new process would start with
    spy = _Batches()
    rest = resumed.fit(*_data(), batch_size=16, epochs=5, verbose=0, callbacks=[backup, spy])
    assert rest.epoch == [3, 4] and spy.seen[0] == (3, 0)
    assert rest.history["loss"] == history.history["loss"][3:]
    assert_same_state(full, resumed)
    assert not os.path.exists(tmp_path / "backup")  # deleted at the successful end


def test_a_mid_epoch_backup_resumes_at_the_next_batch(tmp_path):
    """save_freq=3 over 4 batches an epoch: the last backup before the crash (at epoch 1's
    batch 2, 0-based) was made after its batch 1; the new fit trains epoch 1 from batch 2 on,
    in the epoch's shuffled order, then epochs 2 to 4."""
    full, _ = _uninterrupted()
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=5, verbose=0,
                     callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=3),
                                _Crash(epoch=1, batch=2)])
    resumed = _build(seed=7)
    spy = _Batches()
    resumed.fit(*_data(), batch_size=16, epochs=5, verbose=0,
                callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=3), spy])
    assert spy.seen[:3] == [(1, 2), (1, 3), (2, 0)]
    assert_same_state(full, resumed)


@pytest.mark.parametrize("save_freq", ["epoch", 1, 2, 4, 5])
def test_any_backup_point_gives_the_same_run(tmp_path, save_freq):
    full, _ = _uninterrupted(epochs=4)
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)
    for crash in (_Crash(epoch=1, batch=1), _Crash(epoch=2)):  # interrupted twice
        with pytest.raises(_Interrupted):
            _build().fit(*_data(), batch_size=16, epochs=4, verbose=0, callbacks=[backup, crash])
    resumed = _build()
    resumed.fit(*_data(), batch_size=16, epochs=4, verbose=0, callbacks=[backup])
    assert_same_state(full, resumed)


@pytest.mark.parametrize("save_freq", ["epoch", 3])
def test_a_shuffling_dataloader_of_ones_own_resumes_its_order(tmp_path, save_freq):
    """fit(DataLoader(..., shuffle=True)) shuffles with the loader's own stream, which the
    backup did not hold: the resumed run replayed the first epochs' orders (and, mid-epoch,
    skipped batches of another order: some samples twice, others never)."""
    def loader():
        return sj.data.DataLoader(*_data(), batch_size=16, shuffle=True, seed=4)

    full = _build()
    full.fit(loader(), epochs=4, verbose=0)
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)
    with pytest.raises(_Interrupted):
        _build().fit(loader(), epochs=4, verbose=0, callbacks=[backup, _Crash(epoch=2, batch=2)])
    resumed = _build(seed=99)
    resumed.fit(loader(), epochs=4, verbose=0, callbacks=[backup])
    assert_same_state(full, resumed)


def test_delete_checkpoint_false_keeps_the_backup(tmp_path):
    model = _build()
    model.fit(*_data(), batch_size=16, epochs=2, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert os.listdir(tmp_path) == [callbacks.BackupAndRestore.LATEST]
    # the next fit finds training done: it restores the weights and trains no more epochs
    again = _build(seed=3)
    history = again.fit(*_data(), batch_size=16, epochs=2, verbose=0,
                        callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert history.epoch == []
    assert_same_state(model, again)


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    full, _ = _uninterrupted()
    backup = callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=5, verbose=0,
                     callbacks=[backup, _Crash(epoch=2)])
    assert sorted(os.listdir(tmp_path)) == sorted([backup.LATEST, backup.PREVIOUS])
    latest = tmp_path / backup.LATEST
    latest.write_bytes(latest.read_bytes()[:-100])  # the disk lost its end
    resumed = _build()
    with pytest.warns(UserWarning, match="previous one"):
        resumed.fit(*_data(), batch_size=16, epochs=5, verbose=0, callbacks=[backup])
    assert_same_state(full, resumed)
    assert not os.path.exists(latest)


def test_a_damaged_backup_is_reported_and_kept(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path)
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=3, verbose=0,
                     callbacks=[backup, _Crash(epoch=0)])
    latest = tmp_path / backup.LATEST
    latest.write_bytes(latest.read_bytes()[:50])
    model = _build()
    before = model.get_weights()
    with pytest.raises(CorruptFileError):
        model.fit(*_data(), batch_size=16, epochs=3, verbose=0, callbacks=[backup])
    assert latest.exists()  # nothing lost: the user can look at it, or delete it to restart
    for u, v in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def test_another_optimizer_or_architecture_is_a_clear_error(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path)
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=3, verbose=0,
                     callbacks=[backup, _Crash(epoch=0)])
    other = _build()
    other.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="Adam optimizer but the model is compiled with a SGD"):
        other.fit(*_data(), batch_size=16, epochs=3, verbose=0, callbacks=[backup])
    smaller = sj.Sequential([sj.Input((4,)), layers.Dense(3)])
    smaller.compile("adam", "mse")
    with pytest.raises(ValueError, match="another architecture"):
        smaller.fit(*_data(), batch_size=16, epochs=3, verbose=0, callbacks=[backup])


def test_a_changed_epoch_length_is_a_clear_error(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=3)
    with pytest.raises(_Interrupted):
        _build().fit(*_data(), batch_size=16, epochs=3, verbose=0,
                     callbacks=[backup, _Crash(epoch=0, batch=3)])
    with pytest.raises(ValueError, match="after batch 3 of epoch 1, but an epoch now has 2"):
        _build().fit(*_data(), batch_size=32, epochs=3, verbose=0, callbacks=[backup])
    assert (tmp_path / backup.LATEST).exists()


@pytest.mark.parametrize("save_freq", [0, -1, False, "batch", 1.5])
def test_save_freq_is_checked(tmp_path, save_freq):
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)
