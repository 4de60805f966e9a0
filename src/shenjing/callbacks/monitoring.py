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

# Names (split at "_") of metrics that are better when larger; every other metric, a loss
# included, is better when smaller (mode="auto").
_MAX_TOKENS = frozenset({"acc", "accuracy", "auc", "precision", "recall", "f1", "r2"})


class _MonitorCallback(Callback):
    """The part shared by callbacks that watch one logged quantity: its name, which direction
    is better (``mode``) and by how much it must move to count (``min_delta``)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        if mode == "auto":
            tokens = monitor.lower().removeprefix("val_").split("_")
            mode = "max" if _MAX_TOKENS.intersection(tokens) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)

    def _worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def _is_improvement(self, current: float, reference: float) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta`` (NaN never does)."""
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
        mode: "min", "max", or "auto" (max for accuracy/auc/precision/recall-like names).
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
        self.best, self.best_weights = self._worst(), None

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
        if self.verbose > 0 and self.stopped_epoch > 0:
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
        self.wait, self.cooldown_counter, self.best = 0, 0, self._worst()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, self._worst()
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
