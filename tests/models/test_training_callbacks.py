"""EarlyStopping, ModelCheckpoint and ReduceLROnPlateau on real (short) training runs: what they
do to the model, the files and the learning rate, checked against per-epoch records."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, losses, optimizers
from shenjing.layers import Dense
from shenjing.models import load_model

LOGITS_LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)


def _overfitting_run_parts():
    """Random labels: the training loss falls while the validation loss soon rises."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    xv, yv = rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((6,)), Dense(64, activation="relu"), Dense(3)])
    model.compile(optimizers.Adam(learning_rate=0.02), LOGITS_LOSS, metrics=["accuracy"])
    return model, (x, y), (xv, yv)


class EpochRecorder(callbacks.Callback):
    """The weights and validation predictions at the end of each epoch."""

    def __init__(self, x_val):
        super().__init__()
        self.x_val, self.weights, self.predictions = x_val, [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.predictions.append(self.model.predict(self.x_val))


def test_early_stopping_stops_and_restores_the_best_weights():
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    record = EpochRecorder(xv)
    history = model.fit(x, y, batch_size=8, epochs=40, validation_data=(xv, yv), verbose=0,
                        callbacks=[record, stop])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert len(val_loss) < 40 and stop.stopped_epoch == len(val_loss) - 1
    assert len(val_loss) - 1 - best == 2  # patience epochs without improvement
    assert stop.best_epoch == best and stop.best == val_loss[best]
    for now, then in zip(model.get_weights(), record.weights[best], strict=True):
        np.testing.assert_array_equal(now, then)
    assert model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(val_loss[best], rel=1e-6)


def test_early_stopping_without_restore_keeps_the_last_weights(capsys):
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, verbose=1)
    record = EpochRecorder(xv)
    history = model.fit(x, y, batch_size=8, epochs=40, validation_data=(xv, yv), verbose=0,
                        callbacks=[record, stop])
    for now, then in zip(model.get_weights(), record.weights[-1], strict=True):
        np.testing.assert_array_equal(now, then)
    assert f"Epoch {len(history.epoch)}: early stopping" in capsys.readouterr().out


def test_auto_mode_reads_the_direction_of_a_compiled_metric():
    """A metric whose name says nothing (CosineSimilarity named "agreement", Keras's "up")
    is maximized: the best epoch is the one with the highest validation agreement."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((48, 4)).astype(np.float32)
    y = x @ rng.standard_normal((4, 3)).astype(np.float32)
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((4,)), Dense(3)])
    model.compile(optimizers.SGD(learning_rate=0.05), "mse",
                  metrics=[sj.metrics.CosineSimilarity(name="agreement")])
    stop = callbacks.EarlyStopping(monitor="val_agreement", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=12, validation_split=0.25, verbose=0, callbacks=[stop])
    agreement = history.history["val_agreement"]
    assert stop.mode == "max" and agreement[-1] > agreement[0]
    assert stop.best_epoch == int(np.argmax(agreement))


def test_early_stopping_on_training_accuracy_with_a_baseline():
    """mode 'auto' maximizes accuracy; with a baseline never reached, training stops at the
    first epoch without improvement once `patience` epochs have run (Keras 3)."""
    model, (x, y), _ = _overfitting_run_parts()
    stop = callbacks.EarlyStopping(monitor="accuracy", patience=3, baseline=1.01)
    history = model.fit(x, y, batch_size=8, epochs=40, verbose=0, callbacks=[stop])
    accuracy, stopped = history.history["accuracy"], stop.stopped_epoch
    assert stop.mode == "max" and stopped >= 2 and history.epoch == list(range(stopped + 1))
    assert accuracy[stopped] <= max(accuracy[:stopped])


def test_model_checkpoint_save_best_only_writes_the_improving_epochs(tmp_path):
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.shenjing",
                                           monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, batch_size=8, epochs=8, validation_data=(xv, yv), verbose=0,
                        callbacks=[checkpoint])
    val_loss = history.history["val_loss"]
    improving = [e for e, v in enumerate(val_loss) if v < min(val_loss[:e], default=np.inf)]
    assert len(improving) < len(val_loss)  # the run has epochs that don't improve
    expected = [f"ckpt-{e + 1:02d}-{val_loss[e]:.3f}.shenjing" for e in improving]
    assert sorted(os.listdir(tmp_path)) == expected


def test_model_checkpoint_keeps_the_best_model_in_one_file(tmp_path):
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    path = tmp_path / "best.shenjing"
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    record = EpochRecorder(xv)
    history = model.fit(x, y, batch_size=8, epochs=8, validation_data=(xv, yv), verbose=0,
                        callbacks=[record, checkpoint])
    best = int(np.argmin(history.history["val_loss"]))
    assert best < 7  # the last epoch is not the best, so the file is not the final model
    assert os.listdir(tmp_path) == ["best.shenjing"]
    best_model = load_model(path)
    np.testing.assert_array_equal(best_model.predict(xv), record.predictions[best])
    assert best_model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best], rel=1e-6)


def test_model_checkpoint_weights_only(tmp_path):
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "w{epoch}.safetensors",
                                           save_weights_only=True, monitor="loss")
    record = EpochRecorder(xv)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[record, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["w1.safetensors", "w2.safetensors", "w3.safetensors"]
    fresh = sj.Sequential([sj.Input((6,)), Dense(64, activation="relu"), Dense(3)])
    fresh.load_weights(tmp_path / "w2.safetensors")
    np.testing.assert_array_equal(fresh.predict(xv), record.predictions[1])


def test_reduce_lr_on_plateau_lowers_the_rate_the_optimizer_uses():
    """A real plateau: with a frozen hidden layer and a tiny learning rate the loss barely
    moves, so no epoch improves by min_delta after the first."""
    model, (x, y), _ = _overfitting_run_parts()
    model.compile(optimizers.SGD(learning_rate=1e-6), LOGITS_LOSS)
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2,
                                         min_delta=1e-3, min_lr=1e-7)
    history = model.fit(x, y, batch_size=8, epochs=7, verbose=0, callbacks=[reduce])
    lrs = history.history["learning_rate"]
    # epoch 0 sets the best; 1, 2 don't improve -> halve after epoch 2; 3, 4 -> after 4; ...
    assert lrs == pytest.approx([1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7, 2.5e-7])
    assert model.optimizer.learning_rate == pytest.approx(1.25e-7)


def test_reduce_lr_on_plateau_then_early_stopping_on_real_data():
    """The usual pair on the digits: the rate drops on a plateau, training stops later, and
    the restored model is the best one seen."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_train, y_train, x_val, y_val = x[:600], y[:600], x[600:900], y[600:900]
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((64,)), Dense(32, activation="relu"), Dense(10)])
    model.compile(optimizers.Adam(learning_rate=0.05), LOGITS_LOSS, metrics=["accuracy"])
    reduce = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=1)
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=30, validation_data=(x_val, y_val), verbose=0,
                        callbacks=[reduce, stop])
    lrs = history.history["learning_rate"]
    assert lrs[0] == pytest.approx(0.05) and min(lrs) < 0.05  # reduced at least once
    assert all(b <= a for a, b in zip(lrs, lrs[1:], strict=False))
    best = min(history.history["val_loss"])
    assert model.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(best, rel=1e-6)
    assert model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"] > 0.85


def test_interrupted_fit_still_ends_the_callbacks(tmp_path):
    # Ctrl-C in epoch 4: EarlyStopping restores the best epoch's weights, CSVLogger's file is
    # closed with the finished epochs, history is kept, and the interrupt reaches the caller
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = sj.Sequential([sj.Input((3,)), Dense(1)])
    model.compile(optimizers.SGD(learning_rate=0.05), "mse")
    snapshots = {}

    class Interrupt(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = (logs["loss"], model.get_weights())

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise KeyboardInterrupt

    stop = callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)
    log = callbacks.CSVLogger(tmp_path / "logs" / "log.csv")  # a folder still to be made
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=10, verbose=0, callbacks=[Interrupt(), stop, log])
    best = min(snapshots, key=lambda e: snapshots[e][0])
    for got, want in zip(model.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(got, want)
    assert len(model.history.history["loss"]) == 3
    assert len((tmp_path / "logs" / "log.csv").read_text().splitlines()) == 1 + 3
    assert log._file is None or log._file.closed


class HookRecorder(callbacks.Callback):
    """Every hook fired, with its batch or epoch index and a copy of its logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *args: self.calls.append((name, *args[:-1], dict(args[-1] or {})))
        return super().__getattribute__(name)


def _hooks(recorder, prefix):
    return [call[:-1] for call in recorder.calls if call[0].startswith(prefix)]


def test_fit_fires_the_test_hooks_for_its_validation_as_keras():
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    record = HookRecorder()
    history = model.fit(x[:16], y[:16], batch_size=8, epochs=2, verbose=0, callbacks=[record],
                        validation_data=(xv[:12], yv[:12]))
    batches = [("on_train_batch_begin", 0), ("on_train_batch_end", 0),
               ("on_train_batch_begin", 1), ("on_train_batch_end", 1), ("on_test_begin",),
               ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
               ("on_test_batch_begin", 1), ("on_test_batch_end", 1), ("on_test_end",)]
    assert [c[:-1] for c in record.calls] == [
        ("on_train_begin",),
        ("on_epoch_begin", 0), *batches, ("on_epoch_end", 0),
        ("on_epoch_begin", 1), *batches, ("on_epoch_end", 1),
        ("on_train_end",)]
    test_ends = [c[-1] for c in record.calls if c[0] == "on_test_end"]
    # on_test_end gets the validation logs, unprefixed, as Keras's evaluation inside fit
    assert [logs["loss"] for logs in test_ends] == history.history["val_loss"]
    assert set(test_ends[0]) == {"loss", "accuracy"}


def test_evaluate_and_predict_fire_their_hooks():
    model, (x, y), _ = _overfitting_run_parts()
    record = HookRecorder()
    loss, _ = model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[record])
    assert _hooks(record, "on_test") == [
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
        ("on_test_batch_begin", 1), ("on_test_batch_end", 1), ("on_test_end",)]
    assert record.calls[-1][-1]["loss"] == loss

    record.calls.clear()
    predictions = model.predict(x, batch_size=32, callbacks=[record])
    assert [c[:-1] for c in record.calls] == [
        ("on_predict_begin",), ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
        ("on_predict_batch_begin", 1), ("on_predict_batch_end", 1), ("on_predict_end",)]
    outputs = [c[-1]["outputs"] for c in record.calls if c[0] == "on_predict_batch_end"]
    np.testing.assert_array_equal(np.concatenate(outputs), predictions)
    assert [len(o) for o in outputs] == [32, 8]


def test_progress_of_predict_and_of_fit_with_validation(capsys):
    model, (x, y), (xv, yv) = _overfitting_run_parts()
    model.predict(x, verbose=2)
    assert re.fullmatch(r"Predict - \d+\.\ds\n", capsys.readouterr().out)
    model.fit(x, y, epochs=1, verbose=2, validation_data=(xv, yv))
    out = capsys.readouterr().out.splitlines()  # the validation adds no line of its own
    assert len(out) == 1 and out[0].startswith("Epoch 1/1") and "val_loss" in out[0]
