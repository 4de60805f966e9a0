"""Callbacks driven by a stub model and hand-written logs, as Keras's own callback tests are."""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shenjing.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
    nan_message,
)


class StubOptimizer:
    def __init__(self, learning_rate: float = 1.0) -> None:
        self.learning_rate = learning_rate


class StubModel:
    """What the callbacks use of a Model. Its weights are set to the epoch number in each epoch,
    so the weights show which epoch they come from; ``live`` hands out the arrays themselves,
    which the loop then overwrites in place (as an optimizer does)."""

    def __init__(self, learning_rate: float = 1.0, live: bool = False) -> None:
        self.stop_training = False
        self.weights = [np.zeros(3, np.float32), np.zeros((2, 2), np.float32)]
        self.optimizer = StubOptimizer(learning_rate)
        self.live = live
        self.saved: list[tuple[str, str]] = []

    def get_weights(self) -> list[np.ndarray]:
        return self.weights if self.live else [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        for w, new in zip(self.weights, weights, strict=True):
            w[...] = new

    @property
    def weights_epoch(self) -> int:
        return int(self.weights[0][0])

    def save(self, path: str) -> None:
        self.saved.append(("model", path))
        Path(path).write_text("model")

    def save_weights(self, path: str) -> None:
        self.saved.append(("weights", path))
        Path(path).write_text("weights")


def run(callbacks: Any, epoch_logs: list[dict[str, Any]], model: StubModel | None = None,
        batch_logs: list[dict[str, Any]] | None = None, verbose: int = 0,
        epochs: int | None = None) -> tuple[History, StubModel]:
    """A tiny fit loop: the calls Model.fit makes, with the logs given."""
    model = model or StubModel()
    batch_logs = batch_logs or []
    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=epochs or len(epoch_logs),
                       steps=len(batch_logs) or None)
    model.stop_training = False
    cbs.on_train_begin()
    logs: dict[str, Any] = {}
    for epoch, logs in enumerate(epoch_logs):
        for w in model.weights:
            w[...] = epoch  # "training" this epoch
        cbs.on_epoch_begin(epoch)
        for step, blogs in enumerate(batch_logs):
            cbs.on_train_batch_begin(step)
            cbs.on_train_batch_end(step, dict(blogs))
            if model.stop_training:
                break
        logs = dict(logs)
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    assert cbs.history is not None
    return cbs.history, model


def seq(values: list[float], key: str = "val_loss") -> list[dict[str, float]]:
    return [{key: v} for v in values]


# -- EarlyStopping -------------------------------------------------------------------------------
@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_patience(patience):
    # Keras's test: the loss stops improving after epoch 2.
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = EarlyStopping(monitor="loss", patience=patience)
    history, _ = run([stopper], seq(losses, "loss"))
    assert stopper.stopped_epoch == max(patience, 1) + 2
    assert history.epoch == list(range(stopper.stopped_epoch + 1))
    assert stopper.best_epoch == 2 and stopper.best == 8.0


def test_early_stopping_runs_to_the_end_while_improving():
    stopper = EarlyStopping(patience=0)
    history, _ = run([stopper], seq([5.0, 4.0, 3.0, 2.0]))
    assert len(history.epoch) == 4 and stopper.stopped_epoch == 0 and stopper.best_epoch == 3


def test_early_stopping_min_delta():
    losses = [1.0, 0.95, 0.92, 0.91]
    stopper = EarlyStopping(min_delta=0.1, patience=1)
    history, _ = run([stopper], seq(losses))
    assert stopper.stopped_epoch == 1 and history.epoch == [0, 1]
    stopper = EarlyStopping(min_delta=-0.01, patience=1)  # the sign is ignored, as in Keras
    assert stopper.min_delta == 0.01
    history, _ = run([stopper], seq(losses))
    assert history.epoch == [0, 1, 2, 3]


@pytest.mark.parametrize("mode, monitor, stopped, best", [
    ("max", "val_accuracy", 3, 1),
    ("auto", "val_accuracy", 3, 1),
    ("min", "val_accuracy", 2, 0),
])
def test_early_stopping_mode(mode, monitor, stopped, best):
    values = [0.5, 0.6, 0.55, 0.58, 0.57]
    stopper = EarlyStopping(monitor=monitor, mode=mode, patience=2)
    run([stopper], seq(values, monitor))
    assert (stopper.stopped_epoch, stopper.best_epoch) == (stopped, best)


@pytest.mark.parametrize("monitor, mode", [
    ("val_loss", "min"), ("loss", "min"), ("mse", "min"), ("val_mean_absolute_error", "min"),
    ("accuracy", "max"), ("val_acc", "max"), ("sparse_categorical_accuracy", "max"),
    ("auc", "max"), ("val_precision", "max"), ("recall", "max"), ("val_f1_score", "max"),
    ("val_cosine_similarity", "max"), ("fbeta_score", "max"), ("val_mean_io_u", "max"),
    ("one_hot_mean_io_u", "max"), ("binary_io_u", "max"), ("r2_score", "max"),
    ("val_sparse_categorical_crossentropy", "min"), ("kl_divergence", "min"),
    ("dense_1_loss", "min"),
])
def test_auto_mode_is_inferred_from_the_name(monitor, mode):
    for cls in (EarlyStopping, ReduceLROnPlateau):
        assert cls(monitor=monitor).mode == mode
    assert ModelCheckpoint("x", monitor=monitor).mode == mode


class _NamedMetric:
    def __init__(self, name: str, direction: str | None) -> None:
        self.name, self.direction = name, direction


@pytest.mark.parametrize("direction, best", [("up", 1), ("down", 0)])
def test_auto_mode_follows_the_models_metric_of_that_name(direction, best):
    """Keras 3's rule: a metric object named as the monitored quantity says which way is
    better (here a name that tells nothing: CosineSimilarity(name="agreement") is "up")."""
    model = StubModel()
    model.metrics = [_NamedMetric("loss", "down"), [_NamedMetric("agreement", direction)]]
    stopper = EarlyStopping(monitor="val_agreement", patience=2)
    run([stopper], seq([0.5, 0.6, 0.55, 0.58, 0.57], "val_agreement"), model)
    assert stopper.best_epoch == best and stopper.mode == ("max" if direction == "up" else "min")


def test_auto_mode_refuses_a_name_it_cannot_read():
    """Keras raises rather than guess: an unknown quantity in mode="auto" is an error at the
    first epoch's check, naming the fix."""
    for callback in (EarlyStopping(monitor="val_custom_thing"),
                     ModelCheckpoint("x", monitor="val_custom_thing", save_best_only=True)):
        with pytest.raises(ValueError, match="'val_custom_thing'.*pass mode='max'"):
            run([callback], seq([0.5, 0.6], "val_custom_thing"))


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="maximum")


def test_early_stopping_baseline_never_reached_runs_patience_epochs():
    # Keras's test: nothing beats the baseline, so it trains `patience` epochs and restores the
    # best of them.
    stopper = EarlyStopping(patience=5, baseline=0.5, restore_best_weights=True)
    history, model = run([stopper], seq([0.9, 0.8, 0.7, 0.71, 0.72, 0.73]))
    assert len(history.epoch) == 5
    assert model.weights_epoch == 2 and stopper.best_epoch == 2


def test_early_stopping_baseline_never_stops_an_improving_epoch():
    # Keras 3: above the baseline every epoch counts towards patience, but an epoch that
    # improves returns before the check.
    stopper = EarlyStopping(patience=2, baseline=0.0)
    history, _ = run([stopper], seq([10.0 - epoch for epoch in range(6)]))
    assert history.epoch == list(range(6)) and stopper.stopped_epoch == 0
    assert stopper.best_epoch == 5 and stopper.best == 5.0


def test_early_stopping_baseline_counts_improving_epochs_towards_patience():
    # Three improving epochs short of the baseline leave the count at 3, so the first flat
    # epoch stops training (with the count reset by each improvement it would not).
    stopper = EarlyStopping(patience=2, baseline=0.1)
    history, _ = run([stopper], seq([0.9, 0.8, 0.7, 0.7, 0.7]))
    assert history.epoch == [0, 1, 2, 3] and stopper.best_epoch == 2


def test_early_stopping_baseline_never_reached_by_a_flat_metric_stops_after_patience():
    stopper = EarlyStopping(patience=3, baseline=0.5)
    history, _ = run([stopper], seq([1.0] * 6))
    assert history.epoch == [0, 1, 2] and stopper.stopped_epoch == 2 and stopper.best_epoch == 0


def test_early_stopping_baseline_reached_resets_patience():
    stopper = EarlyStopping(patience=1, baseline=0.85)
    history, _ = run([stopper], seq([0.9, 0.8, 0.79, 0.85, 0.9]))
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 2


def test_early_stopping_start_from_epoch():
    stopper = EarlyStopping(patience=1, start_from_epoch=2)
    history, _ = run([stopper], seq([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 2 and stopper.best == 3.0
    assert history.epoch == [0, 1, 2, 3]


def test_restore_best_weights_on_patience_stop():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history, model = run([stopper], seq([0.2, 0.15, 0.1, 0.11, 0.12, 0.13]))
    assert stopper.stopped_epoch == 4 and len(history.epoch) == 5
    assert model.weights_epoch == 2 and stopper.best_epoch == 2
    assert all((w == 2).all() for w in model.weights)


def test_restore_best_weights_at_the_last_epoch():
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    history, model = run([stopper], seq([0.5, 0.3, 0.4]))
    assert len(history.epoch) == 3 and stopper.stopped_epoch == 0
    assert model.weights_epoch == 1 and stopper.best_epoch == 1


def test_restore_best_weights_when_another_callback_stops():
    def stop_at_2(epoch, logs):
        if epoch == 2:
            model.stop_training = True

    model = StubModel()
    stopper = EarlyStopping(patience=10, restore_best_weights=True)
    history, _ = run([stopper, LambdaCallback(on_epoch_end=stop_at_2)],
                     seq([0.5, 0.3, 0.4, 0.2]), model=model)
    assert history.epoch == [0, 1, 2] and model.weights_epoch == 1


def test_restore_best_weights_keeps_a_copy_of_live_weights():
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    _, model = run([stopper], seq([0.5, 0.3, 0.4, 0.6]), model=StubModel(live=True))
    assert model.weights_epoch == 1


def test_early_stopping_can_be_reused():
    stopper = EarlyStopping(monitor="loss", patience=1)
    run([stopper], seq([1.0, 0.5, 0.6], "loss"))
    history, _ = run([stopper], seq([3.0, 2.0, 1.0], "loss"))  # worse than the first run's best
    assert history.epoch == [0, 1, 2] and stopper.stopped_epoch == 0 and stopper.best == 1.0


def test_early_stopping_verbose_reports_the_best_epoch(capsys):
    stopper = EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    run([stopper], seq([0.5, 0.3, 0.4]))
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping; best val_loss 0.3000 at epoch 2" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_early_stopping_missing_monitor_warns_with_available_keys():
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match=r"'val_loss'.*available: loss, accuracy"):
        history, _ = run([stopper], [{"loss": 1.0, "accuracy": 0.5}])
    assert history.epoch == [0] and stopper.stopped_epoch == 0


# -- ModelCheckpoint -----------------------------------------------------------------------------
def test_checkpoint_every_epoch_formats_the_file_name(tmp_path):
    path = tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.weights"
    _, model = run([ModelCheckpoint(path, save_weights_only=True)],
                   seq([0.5, 0.25, 0.75]))
    names = ["01-0.50.weights", "02-0.25.weights", "03-0.75.weights"]
    assert model.saved == [("weights", str(tmp_path / "ckpt" / n)) for n in names]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == names


def test_checkpoint_save_best_only_saves_on_improvement(tmp_path):
    path = str(tmp_path / "best.model")
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    _, model = run([checkpoint], seq([0.5, 0.6, 0.4, 0.45]))
    assert model.saved == [("model", path), ("model", path)]
    assert checkpoint.best == 0.4


def test_checkpoint_save_best_only_with_max_mode(tmp_path, capsys):
    path = str(tmp_path / "{epoch}.model")
    checkpoint = ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, verbose=1)
    _, model = run([checkpoint], seq([0.5, 0.4, 0.7, 0.7], "val_accuracy"))
    assert [p for _, p in model.saved] == [path.format(epoch=1), path.format(epoch=3)]
    out = capsys.readouterr().out
    assert "Epoch 2: val_accuracy did not improve from 0.50000" in out
    assert "Epoch 3: val_accuracy improved from 0.50000 to 0.70000" in out


def test_checkpoint_initial_value_threshold(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m"), save_best_only=True,
                                 initial_value_threshold=0.45)
    _, model = run([checkpoint], seq([0.5, 0.4, 0.6]))
    assert len(model.saved) == 1


def test_checkpoint_save_freq_in_batches(tmp_path):
    path = str(tmp_path / "{epoch}-{batch}.w")
    _, model = run([ModelCheckpoint(path, save_weights_only=True, save_freq=2)],
                   seq([0.5, 0.4]), batch_logs=[{"loss": 1.0}] * 3)
    assert [Path(p).name for _, p in model.saved] == ["1-2.w", "2-1.w", "2-3.w"]


def test_checkpoint_missing_monitor_warns_and_saves(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m"), save_best_only=True)
    with pytest.warns(UserWarning, match="'val_loss'.*available: loss"):
        _, model = run([checkpoint], [{"loss": 1.0}])
    assert len(model.saved) == 1


def test_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(KeyError, match=r"val_acc.*available fields: loss, epoch"):
        run([ModelCheckpoint(str(tmp_path / "{val_acc}.m"))], [{"loss": 1.0}])
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("m", save_freq="batch")


# -- learning rate -------------------------------------------------------------------------------
def test_reduce_lr_after_patience():
    reduce = ReduceLROnPlateau(factor=0.5, patience=2)
    history, model = run([reduce], seq([1.0] * 5))
    assert history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5]
    assert model.optimizer.learning_rate == 0.25


def test_reduce_lr_improvement_resets_the_wait():
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.01)
    _, model = run([reduce], seq([1.0, 1.0, 0.98, 0.975]))
    assert model.optimizer.learning_rate == 1.0  # 0.98 improves by more than min_delta
    _, model = run([reduce], seq([1.0, 1.0, 0.995, 0.99]))
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_cooldown():
    reduce = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    history, model = run([reduce], seq([1.0] * 6))
    assert history.history["learning_rate"] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert model.optimizer.learning_rate == 0.125


def test_reduce_lr_respects_min_lr():
    reduce = ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05)
    history, model = run([reduce], seq([1.0] * 5))
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.1, 0.05, 0.05])
    assert model.optimizer.learning_rate == 0.05


def test_reduce_lr_mode_max_and_verbose(capsys):
    reduce = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, verbose=1)
    _, model = run([reduce], seq([0.5, 0.6, 0.7, 0.65], "val_accuracy"))
    assert model.optimizer.learning_rate == 0.5
    assert "Epoch 4: ReduceLROnPlateau reducing learning rate to 0.5." in capsys.readouterr().out


def test_reduce_lr_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_with_a_real_optimizer_and_a_schedule():
    from shenjing.optimizers import SGD, schedules

    model = StubModel()
    model.optimizer = SGD(learning_rate=0.1)
    run([ReduceLROnPlateau(factor=0.5, patience=1)], seq([1.0, 1.0]), model=model)
    assert model.optimizer.learning_rate == pytest.approx(0.05)

    model.optimizer = SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="ReduceLROnPlateau.*schedule"):
        run([ReduceLROnPlateau()], seq([1.0]), model=model)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    seen: list[float] = []
    model = StubModel(learning_rate=0.8)
    scheduler = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    watch = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))
    history, _ = run([scheduler, watch], seq([1.0] * 4), model=model)
    assert seen == [0.8, 0.4, 0.2, 0.1]
    assert history.history["learning_rate"] == seen


def test_learning_rate_scheduler_takes_schedules_of_the_epoch_alone():
    def halve(epoch, lr=None):  # two positional parameters: it gets the rate
        return lr / 2

    for schedule, expected in [(lambda epoch: 0.1 * (epoch + 1), [0.1, 0.2, 0.3]),
                               (halve, [0.4, 0.2, 0.1]),
                               (lambda *args: args[1] + args[0], [0.8, 1.8, 3.8])]:
        history, _ = run([LearningRateScheduler(schedule)], seq([1.0] * 3),
                         model=StubModel(learning_rate=0.8))
        np.testing.assert_allclose(history.history["learning_rate"], expected)


def test_learning_rate_scheduler_lets_errors_inside_the_schedule_through():
    def broken(epoch):
        return len(epoch)  # a TypeError of the schedule's own, not of its signature

    with pytest.raises(TypeError, match="has no len"):
        run([LearningRateScheduler(broken)], seq([1.0]))
    with pytest.raises(TypeError, match="takes no positional argument"):
        LearningRateScheduler(lambda: 0.1)


def test_learning_rate_scheduler_bad_schedule():
    with pytest.raises(ValueError, match="must return a number"):
        run([LearningRateScheduler(lambda epoch, lr: "fast")], seq([1.0]))


# -- CSVLogger -----------------------------------------------------------------------------------
def test_csv_logger_writes_sorted_keys_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    rows_seen: list[int] = []
    count_rows = LambdaCallback(
        on_epoch_end=lambda e, logs: rows_seen.append(len(path.read_text().splitlines())))
    logs = [{"loss": 1.0, "val_loss": 1.5, "accuracy": 0.5},
            {"loss": 0.5, "val_loss": 0.75, "accuracy": 0.75}]
    run([CSVLogger(path), count_rows], logs)
    assert path.read_text().splitlines() == [
        "epoch,accuracy,loss,val_loss", "0,0.5,1.0,1.5", "1,0.75,0.5,0.75"]
    assert rows_seen == [2, 3]  # flushed at each epoch's end


def test_csv_logger_append_separator_and_missing_keys(tmp_path):
    path = tmp_path / "log.csv"
    run([CSVLogger(path, separator=";")], [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5}])
    run([CSVLogger(path, separator=";", append=True)], [{"loss": 0.25, "val_loss": 1.0}])
    assert path.read_text().splitlines() == [
        "epoch;loss;val_loss", "0;1.0;2.0", "1;0.5;NA", "0;0.25;1.0"]
    run([CSVLogger(path)], [{"loss": 3.0}])  # append=False overwrites
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,3.0,NA"]


def test_csv_logger_appends_under_the_files_columns_and_keeps_a_log_no_epoch_replaced(
        tmp_path):
    """Appending a run without 'mae' wrote '4,0.3,NA' under 'epoch,loss,mae,...' (its value
    read as mae); a run that failed before an epoch ended emptied the log it would replace."""
    path = tmp_path / "log.csv"
    run([CSVLogger(path)], [{"loss": 1.0, "mae": 0.5, "val_loss": 2.0, "val_mae": 0.7}])
    with pytest.warns(UserWarning, match=r"no columns for \['accuracy'\]"):
        run([CSVLogger(path, append=True)], [{"loss": 0.3, "val_loss": 0.9, "accuracy": 1.0}])
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert rows[1] == {"epoch": "0", "loss": "0.3", "mae": "NA", "val_loss": "0.9",
                       "val_mae": "NA"}
    before = path.read_text()
    logger = CSVLogger(path)  # overwrites, but only once an epoch has something to write
    logger.on_train_begin()
    logger.on_train_end()
    assert path.read_text() == before
    with pytest.raises(ValueError, match="separator must be one character"):
        CSVLogger(path, separator=";;")


def test_csv_logger_keeps_validation_that_starts_later(tmp_path):
    """validation_freq=2: the first epoch has no val_ keys; their columns are there from the
    start (NA until validation runs), as Keras's, not dropped for the whole run."""
    path = tmp_path / "log.csv"
    run([CSVLogger(path)], [{"loss": 1.0, "mae": 0.5}, {"loss": 0.5, "mae": 0.25,
                                                        "val_loss": 0.75, "val_mae": 0.3}])
    assert path.read_text().splitlines() == [
        "epoch,loss,mae,val_loss,val_mae", "0,1.0,0.5,NA,NA", "1,0.5,0.25,0.75,0.3"]


# -- TerminateOnNaN ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_terminate_on_nan(bad, capsys):
    terminate = TerminateOnNaN()
    batch_logs = [{"loss": 0.5}, {"loss": bad}, {"loss": 0.4}]
    history, model = run([terminate], seq([1.0, 1.0, 1.0]), batch_logs=batch_logs)
    assert model.stop_training and terminate.stopped_at == (0, 1)
    assert history.epoch == [0]
    assert "epoch 1, step 2" in capsys.readouterr().out


def test_terminate_on_nan_later_epoch():
    terminate = TerminateOnNaN()

    class NaNInEpoch2(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self._epoch == 2 and batch == 0:
                logs["loss"] = float("nan")  # TerminateOnNaN (after this) sees it

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    run([NaNInEpoch2(), terminate], seq([1.0] * 4), batch_logs=[{"loss": 1.0}] * 2)
    assert terminate.stopped_at == (2, 0)


def test_nan_message_names_the_step_and_the_fixes():
    message = nan_message(4, 16, float("nan"))
    assert "epoch 5, step 17" in message and "nan" in message
    for advice in ("learning rate", "global_clipnorm", "NaN/inf", "normaliz", "log(0)",
                   "from_logits=True"):
        assert advice in message


def test_fit_stops_before_a_finite_loss_writes_a_nan_gradient_into_the_weights(capsys):
    """sqrt(mean(square(e))) of an exact fit is 0 with an infinite derivative: the loss is
    finite but the update would write NaN into every weight (and a checkpoint after it into
    the file). fit stops before that step, keeps the weights, and says which gradient."""
    import shenjing as sj

    def rmse(t, p):
        return sj.ops.sqrt(sj.ops.mean(sj.ops.square(t - p)))

    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((3,)), sj.layers.Dense(1)])
    model.compile("sgd", rmse)
    bias = model.weights[1].numpy()[0]
    before = [w.copy() for w in model.get_weights()]
    x, y = np.zeros((16, 3), np.float32), np.full((16, 1), bias, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # sqrt's derivative at 0: the point
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert history.history["loss"] == [0.0]  # the one batch run: its loss was finite
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    out = capsys.readouterr().out
    assert re.search(r"the gradient of dense(_\d+)?/kernel \(NaN\)", out)
    assert "epoch 1, step 1" in out and "though the loss was 0.0" in out and "sqrt" in out
    # train_on_batch (a loop of one's own) skips the step too, and says so: it was silent
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(
            RuntimeWarning, match=r"dense(_\d+)?/kernel \(NaN\) became non-finite in "
                                  r"train_on_batch.*the step was skipped"):
        assert model.train_on_batch(x[:8], y[:8]) == 0.0
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)


def test_a_huge_finite_gradient_is_not_taken_for_a_non_finite_one():
    """The check squares the gradients (one dot product each): 1e20 overflows there, which
    only sends it to the element-wise test, silently; a NaN or -inf is named."""
    import shenjing as sj
    from shenjing.models.trainer import _nonfinite_gradient

    w = sj.layers.Parameter(np.ones((3, 3), np.float32), name="kernel")
    w.grad = sj.tensor(np.full((3, 3), 1e20, np.float32))
    assert _nonfinite_gradient([w]) == ""
    w.grad.data[1, 2] = -np.inf
    assert _nonfinite_gradient([w]) == "kernel (inf)"


# -- CallbackList, History, LambdaCallback -------------------------------------------------------
class Recorder(Callback):
    def __init__(self, name: str, calls: list[tuple[str, str, Any]]) -> None:
        super().__init__()
        self.name, self.calls = name, calls

    def __getattribute__(self, attr: str) -> Any:
        if attr.startswith("on_"):
            return lambda *args: self.calls.append((self.name, attr, args[:-1]))
        return super().__getattribute__(attr)


def test_callback_list_calls_every_hook_on_every_callback_in_order():
    calls: list[tuple[str, str, Any]] = []
    run([Recorder("a", calls), Recorder("b", calls)], seq([1.0, 2.0]),
        batch_logs=[{"loss": 1.0}])
    hooks = [(hook, index) for name, hook, index in calls if name == "a"]
    assert hooks == [
        ("on_train_begin", ()),
        ("on_epoch_begin", (0,)), ("on_train_batch_begin", (0,)), ("on_train_batch_end", (0,)),
        ("on_epoch_end", (0,)),
        ("on_epoch_begin", (1,)), ("on_train_batch_begin", (0,)), ("on_train_batch_end", (0,)),
        ("on_epoch_end", (1,)),
        ("on_train_end", ())]
    assert [name for name, _, _ in calls] == ["a", "b"] * len(hooks)


def test_callback_list_forwards_test_and_predict_hooks_with_logs():
    calls: list[tuple[str, str, Any]] = []
    cbs = CallbackList(Recorder("a", calls))
    cbs.on_test_begin()
    cbs.on_test_batch_end(3, {"loss": 1.0})
    cbs.on_predict_batch_begin(0)
    cbs.on_predict_end()
    assert [(h, i) for _, h, i in calls] == [("on_test_begin", ()), ("on_test_batch_end", (3,)),
                                            ("on_predict_batch_begin", (0,)),
                                            ("on_predict_end", ())]


def test_callback_list_defaults():
    model = StubModel()
    cbs = CallbackList(None, add_history=True, add_progbar=True, model=model, verbose=1,
                       epochs=2, steps=5)
    assert [type(cb) for cb in cbs.callbacks] == [History, ProgbarLogger]
    assert model.history is cbs.history and cbs.history.model is model
    assert all(cb.params == {"verbose": 1, "epochs": 2, "steps": 5} for cb in cbs.callbacks)
    assert CallbackList().callbacks == [] and CallbackList().history is None


def test_callback_list_keeps_the_users_history_and_progbar():
    mine, bar = History(), ProgbarLogger()
    cbs = CallbackList([mine, bar], add_history=True, add_progbar=True, model=StubModel())
    assert cbs.callbacks == [mine, bar] and cbs.history is mine


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback instances"):
        CallbackList([lambda epoch, logs: None])


def test_callback_list_shares_one_logs_dict():
    class AddKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = epoch * 10

    history, _ = run([AddKey()], seq([1.0, 2.0]))
    assert history.history == {"val_loss": [1.0, 2.0], "extra": [0, 10]}


def test_history_contents():
    history, _ = run([], [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}])
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": None}


def test_base_callback_train_batch_hooks_call_the_batch_hooks():
    seen: list[tuple[str, int]] = []

    class OldStyle(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch))

    run([OldStyle()], seq([1.0]), batch_logs=[{"loss": 1.0}] * 2)
    assert seen == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1)]


def test_lambda_callback_hooks():
    calls: list[tuple[Any, ...]] = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["loss"])),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["val_loss"])),
        on_train_end=lambda logs: calls.append(("train_end",)),
        on_test_end=lambda logs: calls.append(("test_end",)))
    run([callback], seq([3.0]), batch_logs=[{"loss": 2.0}])
    callback.on_test_end({})
    assert calls == [("train_begin",), ("epoch_begin", 0), ("batch_begin", 0),
                     ("batch_end", 0, 2.0), ("epoch_end", 0, 3.0), ("train_end",), ("test_end",)]
    with pytest.raises(TypeError, match="on_epoch_finish"):
        LambdaCallback(on_epoch_finish=print)


# -- ProgbarLogger -------------------------------------------------------------------------------
EPOCH_LOGS = [{"loss": 1.0, "accuracy": 0.5, "val_loss": 1.25},
              {"loss": 0.5, "accuracy": 0.75, "val_loss": 1e-4}]
BATCH_LOGS = [{"loss": 1.5, "accuracy": 0.25}, {"loss": 1.0, "accuracy": 0.5}]


def test_progbar_verbose_1_shows_a_bar_per_epoch_with_the_logs(capsys):
    run([], EPOCH_LOGS, batch_logs=BATCH_LOGS, verbose=1)
    out = capsys.readouterr().out
    final_lines = [line.rsplit("\r", 1)[-1] for line in out.split("\n") if line.strip()]
    assert len(final_lines) == 2  # one bar per epoch, left on screen
    for epoch, line in enumerate(final_lines):
        assert line.startswith(f"Epoch {epoch + 1}/2: 100%") and "2/2" in line
    assert final_lines[0].endswith("loss: 1.0000 - accuracy: 0.5000 - val_loss: 1.2500]")
    assert final_lines[1].endswith("loss: 0.5000 - accuracy: 0.7500 - val_loss: 1.0000e-04]")


def test_progbar_verbose_2_prints_one_line_per_epoch(capsys):
    run([], EPOCH_LOGS, batch_logs=BATCH_LOGS, verbose=2, epochs=10)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Epoch 1/10 - \d+\.\ds - loss: 1\.0000 - accuracy: 0\.5000 - "
                        r"val_loss: 1\.2500", lines[0])
    assert lines[1].startswith("Epoch 2/10 - ")


def test_progbar_shows_evaluate_outside_fit(capsys):
    cbs = CallbackList(None, add_progbar=True, model=StubModel(), verbose=1, epochs=1, steps=3)
    cbs.on_test_begin()
    for step in range(3):
        cbs.on_test_batch_end(step, {"loss": 0.5})
    cbs.on_test_end({"loss": 0.5, "accuracy": 1.0})
    last = capsys.readouterr().out.rstrip("\n").rsplit("\r", 1)[-1]
    assert last.startswith("Evaluate: 100%") and "3/3" in last
    assert last.endswith("loss: 0.5000 - accuracy: 1.0000]")


def test_progbar_closes_the_bar_when_training_stops_inside_an_epoch(capsys):
    run([TerminateOnNaN()], seq([1.0, 1.0]), batch_logs=[{"loss": math.nan}] * 3, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" not in out and "epoch 1, step 1" in out


def test_importing_callbacks_does_not_import_tqdm():
    code = "import sys, shenjing, shenjing.callbacks; assert 'tqdm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
