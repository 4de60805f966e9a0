"""Callbacks that watch a metric or drive the learning rate: ``EarlyStopping``,
``ReduceLROnPlateau``, ``LearningRateScheduler``."""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

from .base import Callback, Logs, _print

# Words (the name split at "_") of quantities better when larger, and of those better when
# smaller: mode="auto" reads them from the monitored name, as far as the model's own metric
# objects (their ``direction``, Keras's ``_direction``) do not say. "io_u" is Keras's IoU.
_UP_WORDS = frozenset({"acc", "accuracy", "auc", "precision", "recall", "f1", "fbeta", "r2",
                       "cosine", "io", "iou"})
_DOWN_WORDS = frozenset({"loss", "error", "mse", "mae", "mape", "msle", "rmse", "crossentropy",
                         "hinge", "divergence", "kld", "kl", "poisson", "logcosh"})


def _mode_from_name(monitor: str) -> str:
    words = set(monitor.lower().removeprefix("val_").split("_"))
    up, down = bool(_UP_WORDS & words), bool(_DOWN_WORDS & words)
    return "auto" if up == down else "max" if up else "min"


class _MonitorCallback(Callback):
    """The part shared by callbacks that watch one logged quantity: its name, which direction
    is better (``mode``) and by how much it must move to count (``min_delta``).

    ``mode="auto"`` follows the model's metric of that name where it declares a direction
    (Keras 3's rule), else the words of the name (accuracy, auc, f1, iou, cosine... are
    maximized; loss, error, crossentropy... minimized); a name that tells neither is an error
    at the first comparison, as in Keras: pass ``mode`` then. ``best`` is None until the first
    (non-NaN) value arrives."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        self._auto = mode == "auto"
        self.monitor, self.min_delta = monitor, abs(min_delta)
        self.mode = _mode_from_name(monitor) if self._auto else mode

    def _metric_direction(self) -> str | None:
        """"up" or "down" as the model's metric named like the monitored quantity declares."""
        name = self.monitor.removeprefix("val_")
        for m in getattr(self.model, "metrics", None) or ():
            for metric in (m if hasattr(m, "__iter__") else (m,)):
                if getattr(metric, "name", None) == name:
                    return getattr(metric, "direction", None)
        return None

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta`` (NaN never does;
        anything else beats None, no value yet)."""
        if self._auto:
            direction = self._metric_direction()
            if direction is not None:
                self.mode = "max" if direction == "up" else "min"
        if self.mode == "auto":
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r} with mode='auto', but cannot "
                "tell whether it should rise or fall: pass mode='max' (higher is better) or "
                "mode='min'")
        if math.isnan(current):
            return False
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def _get_monitor_value(self, logs: Logs | None) -> float | None:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} monitors {self.monitor!r}, which is not in the "
                          f"logs; available: {', '.join(logs) or 'none'}", stacklevel=3)
            return None
        return float(value)


class EarlyStopping(_MonitorCallback):
    """Stop training when the monitored quantity stops improving.

    Args:
        monitor: the logged quantity to watch.
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when it stops and which epoch was best.
        mode: "min", "max", or "auto" (the metric's own direction, or read from the name:
            max for accuracy/auc/precision/recall/f1/iou-like names, min for losses and errors).
        baseline: a value to reach; an improvement that does not beat it leaves the patience
            count running (Keras 3), so if none beats it, training stops at the first epoch
            without improvement once ``patience`` epochs have passed. An epoch that improves
            never stops training.
        restore_best_weights: at the end of training, however it ends, set the weights of the
            best epoch (among those monitored).
        start_from_epoch: epochs of warm-up that are not monitored.

    Attributes:
        stopped_epoch: the (zero-based) epoch at which it stopped training, 0 if it didn't.
        best_epoch: the (zero-based) epoch with the best value; ``best`` is that value.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self._get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = copy.deepcopy(self.model.get_weights())  # a start, even if NaN
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(self.model.get_weights())
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.verbose > 0 and self.stopped_epoch > 0 and self.best is not None:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping; best {self.monitor} "
                   f"{self.best:.4f} at epoch {self.best_epoch + 1}")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print(f"Restoring model weights from the end of the best epoch: "
                       f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


def _get_lr(model: Any) -> float:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError("this callback needs model.optimizer.learning_rate: compile the model "
                         "with an optimizer first")
    return float(optimizer.learning_rate)


def _set_lr(model: Any, lr: float, owner: str) -> None:
    try:
        model.optimizer.learning_rate = lr
    except TypeError as e:  # the optimizer follows a schedule, which a float can't replace
        raise TypeError(f"{owner} sets the learning rate, but the optimizer follows a schedule; "
                        "use one or the other: give the optimizer a float learning_rate") from e


class ReduceLROnPlateau(_MonitorCallback):
    """Multiply the learning rate by ``factor`` when the monitored quantity stops improving.

    Args:
        monitor: the logged quantity to watch.
        factor: ``new_lr = lr * factor``, below 1.
        patience: epochs without improvement after which the rate is reduced.
        verbose: 1 prints each reduction.
        mode: "min", "max" or "auto", as in ``EarlyStopping``.
        min_delta: a change smaller than this is no improvement.
        cooldown: epochs after a reduction during which nothing is counted.
        min_lr: the rate never goes below this.

    The optimizer must hold a float learning rate, not a schedule (checked at the start).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau needs 0 <= factor < 1, got factor={factor}")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.wait, self.cooldown_counter, self.best = 0, 0, None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, None
        _set_lr(self.model, _get_lr(self.model), "ReduceLROnPlateau")  # fail now, not later

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        logs["learning_rate"] = _get_lr(self.model)  # Keras logs it, so History records it
        current = self._get_monitor_value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            old_lr = logs["learning_rate"]
            if self.wait >= self.patience and old_lr > self.min_lr:
                new_lr = max(old_lr * self.factor, self.min_lr)
                _set_lr(self.model, new_lr, "ReduceLROnPlateau")
                if self.verbose > 0:
                    _print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                           f"{new_lr:.4g}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``, or to
    ``schedule(epoch)`` for a function that takes one positional argument (Keras takes both).

    Args:
        schedule: a function of the (zero-based) epoch, and of the current rate if it takes a
            second positional argument, giving the new rate.
        verbose: 1 prints each new rate.

    >>> LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)  # doctest: +SKIP
    >>> LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)  # doctest: +SKIP
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose
        self._takes_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        args = (epoch, _get_lr(self.model)) if self._takes_lr else (epoch,)
        out = self.schedule(*args)
        try:
            lr = float(out)
        except (TypeError, ValueError):
            raise ValueError(f"the schedule must return a number, got {out!r} at epoch "
                             f"{epoch}") from None
        _set_lr(self.model, lr, "LearningRateScheduler")
        if self.verbose > 0:
            _print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:.4g}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model)


def _positional_arity(schedule: Callable[..., float]) -> float:
    """How many positional arguments ``schedule`` accepts (infinity with ``*args``); TypeError
    if none, as it cannot take the epoch."""
    params = inspect.signature(schedule).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return math.inf
    n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if n == 0:
        raise TypeError(f"LearningRateScheduler: the schedule {schedule!r} takes no positional "
                        "argument; it must take the epoch, or the epoch and the learning rate")
    return n
