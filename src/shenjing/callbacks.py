"""Keras-style callbacks: hooks that ``Model.fit``, ``evaluate`` and ``predict`` call as they run.

``fit`` wraps the user's callbacks in a ``CallbackList`` that adds ``History`` (always) and
``ProgbarLogger`` (when ``verbose != 0``) and calls, in this order: ``on_train_begin``; per epoch
``on_epoch_begin(epoch)``, per batch ``on_train_batch_begin(batch)`` and
``on_train_batch_end(batch, logs)`` (running means of the epoch so far), then the validation's
``on_test_begin``, ``on_test_batch_begin``/``_end`` and ``on_test_end(logs)`` (as Keras), then
``on_epoch_end(epoch, logs)`` (with the ``val_`` keys); it stops after an epoch once
``model.stop_training`` is True; last ``on_train_end(logs)``. ``evaluate`` fires the
``on_test_*`` hooks, ``predict`` the ``on_predict_*`` ones. Epochs and batches count from 0;
messages and file names count from 1, as Keras's do.

>>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
>>> history = model.fit(x, y, validation_split=0.1, epochs=100, callbacks=[stop])  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import csv
import inspect
import math
import numbers
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

Logs = dict[str, Any]
# Names (split at "_") of metrics that are better when larger; every other metric, a loss
# included, is better when smaller (mode="auto").
_MAX_TOKENS = frozenset({"acc", "accuracy", "auc", "precision", "recall", "f1", "r2"})


def _print(message: str) -> None:
    # NOTE: through tqdm.write when a bar may be open, so the message doesn't tear the bar.
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        tqdm.tqdm.write(message, file=sys.stdout)
    else:
        print(message, file=sys.stdout)


def _format_value(v: Any) -> str:
    if not isinstance(v, numbers.Real):
        return str(v)
    v = float(v)
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 or not math.isfinite(v) else f"{v:.4e}"


def _format_logs(logs: Logs) -> str:
    """``loss: 0.1234 - accuracy: 0.9500``, in the order of the logs (Keras's format)."""
    return " - ".join(f"{k}: {_format_value(v)}" for k, v in logs.items())


def nan_message(epoch: int, step: int, loss: float, data: str = "") -> str:
    """What to say when the loss stops being finite.

    Args:
        epoch: zero-based epoch, as the hooks receive it (the message counts from 1).
        step: zero-based batch within the epoch (the message counts from 1).
        loss: the offending loss value.
        data: where the batch's data hold NaN/inf (``data_adapter.nonfinite_report``), if
            they do: then the data, not the training, are what to fix.

    Returns:
        A message naming the epoch and step and listing the usual fixes.
    """
    where = f"the loss became {loss} at epoch {epoch + 1}, step {step + 1}"
    if data:
        return (f"{where}: that batch's {data}; training stopped without updating the weights "
                "with it. Fix the data: find the values with np.isfinite (e.g. "
                "np.isfinite(x).all(axis=1) marks the clean rows of a 2-D x), then drop, impute "
                "or clip them, or check the preprocessing that made them.")
    return (f"{where}; training stopped. "
            "Try: a lower learning rate; clipping gradients (e.g. the optimizer's "
            "global_clipnorm=1.0); checking the inputs and targets for NaN/inf; normalizing "
            "the inputs (StandardScaler, BatchNormalization); and avoiding log(0) by giving the "
            "loss raw logits with from_logits=True instead of probabilities. To find the op "
            "that made the first NaN/inf, train under shenjing.debug.detect_anomaly().")


class Callback:
    """Base class: every hook is a no-op; subclasses override the ones they need.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: ``verbose``, ``epochs`` and ``steps`` of the run (set by ``set_params``).
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_begin(self, logs: Logs | None = None) -> None: ...
    def on_test_end(self, logs: Logs | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_begin(self, logs: Logs | None = None) -> None: ...
    def on_predict_end(self, logs: Logs | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    # Keras's backward-compatible aliases: the train-batch hooks default to the batch hooks.
    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_end(batch, logs)


_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class CallbackList(Callback):
    """Calls each hook on every callback, in order.

    Args:
        callbacks: None, one ``Callback`` or an iterable of them.
        add_history: append a ``History`` unless one is already in the list.
        add_progbar: append a ``ProgbarLogger`` unless one is already in the list.
        model: the model, given to every callback (and ``model.history`` is set).
        **params: ``verbose``, ``epochs``, ``steps``, given to every callback.
    """

    def __init__(self, callbacks: Callback | Iterable[Callback] | None = None,
                 add_history: bool = False, add_progbar: bool = False, model: Any = None,
                 **params: Any) -> None:
        super().__init__()
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks: list[Callback] = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {cb!r}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    @property
    def history(self) -> History | None:
        """The ``History`` in the list (the first, if the user passed several)."""
        return next((cb for cb in self.callbacks if isinstance(cb, History)), None)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self.history is not None:
            model.history = self.history
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)


def _forward(hook: str) -> Callable[..., None]:
    """The ``CallbackList`` method that calls ``hook`` on every callback, in order, with one
    logs dict for all (so that what one callback adds, e.g. the learning rate, reaches History)."""

    def call_all(self: CallbackList, index: tuple[int, ...], logs: Logs | None) -> None:
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*index, logs)

    def forward_indexed(self: CallbackList, index: int, logs: Logs | None = None) -> None:
        call_all(self, (index,), logs)

    def forward(self: CallbackList, logs: Logs | None = None) -> None:
        call_all(self, (), logs)

    method = forward_indexed if "batch" in hook or "epoch" in hook else forward
    method.__name__, method.__qualname__ = hook, f"CallbackList.{hook}"
    return method


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _forward(_hook))


class History(Callback):
    """Records the epoch logs; ``fit`` returns it.

    Attributes:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one entry per epoch logged (with
            ``validation_freq > 1`` the ``val_`` lists are shorter).
        epoch: the epochs run, e.g. ``[0, 1, 2]``.
        epochs_of: ``{key: [epoch, ...]}``, the epoch of each entry of ``history[key]``.
        params: ``verbose``, ``epochs`` and ``steps`` of the run.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epochs_of: dict[str, list[int]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
            self.epochs_of.setdefault(key, []).append(epoch)


class ProgbarLogger(Callback):
    """Progress on stdout: a tqdm bar per epoch (verbose=1) or one line per epoch (verbose=2).

    The bar's postfix shows the running metrics, then the epoch's final logs with the ``val_``
    ones. Outside ``fit`` it shows ``evaluate``'s and ``predict``'s batches the same way.
    """

    def __init__(self) -> None:
        super().__init__()
        self._bar: Any = None
        self._in_fit = False
        self._title = ""
        self._start_time = 0.0

    @property
    def verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def _begin(self, title: str) -> None:
        self._title, self._start_time = title, time.perf_counter()
        if self.verbose == 1:
            # Imported here, so that `import shenjing` does not import tqdm.
            from tqdm import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(total=self.params.get("steps"), desc=title, unit="step",
                             file=sys.stdout, leave=True, dynamic_ncols=True)

    def _update(self, batch: int, logs: Logs | None) -> None:
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)
            self._bar.update(batch + 1 - self._bar.n)

    def _end(self, logs: Logs | None) -> None:
        text = _format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            seconds = time.perf_counter() - self._start_time
            print(" - ".join(filter(None, [self._title, f"{seconds:.1f}s", text])),
                  file=sys.stdout)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False
        if self._bar is not None:  # training stopped inside an epoch
            self._bar.close()
            self._bar = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._begin(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._end(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._begin("Evaluate")

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._end(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._begin("Predict")

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._update(batch, None)  # predict's logs hold outputs, not metrics

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._end(None)


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


class ModelCheckpoint(_MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) as it trains.

    Args:
        filepath: where to save; may hold format fields filled from the epoch (counted from 1),
            the batch (with an integer ``save_freq``) and the logs, e.g.
            ``"ckpt/{epoch:02d}-{val_loss:.2f}.safetensors"``. Missing folders are created.
        monitor: the logged quantity that decides what is best.
        verbose: 1 prints each save.
        save_best_only: save only when ``monitor`` improves on the best so far.
        save_weights_only: save the weights only, not the whole model.
        mode: "min", "max" or "auto", as in ``EarlyStopping``.
        save_freq: "epoch", or save after every this many batches.
        initial_value_threshold: the best value to beat at the start (save_best_only).
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode, 0)
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self._every = None if save_freq == "epoch" else int(save_freq)
        self.best = self._worst() if initial_value_threshold is None else initial_value_threshold
        self._epoch, self._batches = 0, 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._every is not None:
            self._batches += 1
            if self._batches >= self._every:
                self._batches = 0
                self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._every is None:
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: Logs) -> None:
        fields = {**logs, "epoch": epoch + 1} | ({} if batch is None else {"batch": batch + 1})
        try:
            path = self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint cannot fill {e} in filepath {self.filepath!r}; "
                           f"available fields: {', '.join(fields)}") from None
        if self.save_best_only:
            current = self._get_monitor_value(logs)
            if current is not None:  # Keras saves anyway when the value is missing
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        _print(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                               f"{self.best:.5f}")
                    return
                if self.verbose > 0:
                    _print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                           f"to {current:.5f}, saving to {path}")
                self.best = current
        elif self.verbose > 0:
            _print(f"Epoch {epoch + 1}: saving to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class BackupAndRestore(Callback):
    """Back training up as it goes, and resume an interrupted ``fit`` from the backup (Keras 3's
    ``keras.callbacks.BackupAndRestore``).

    At the end of each epoch (or every ``save_freq`` batches) one file in ``backup_dir`` is
    written atomically: the weights, the optimizer state, where training stands (epoch and
    batch) and the random streams (fit's shuffling, the layers' Dropout masks...). The next
    ``fit`` given this callback, after an error or a killed process, restores all of it into the
    model at its start and goes on from there, so the run ends with the weights a run that never
    stopped ends with, bit for bit. A backup made mid-epoch resumes at the next batch of that
    epoch, in the same shuffled order (Keras restarts the epoch); the epoch's logged loss and
    metrics then cover only the batches trained after the resume.

    Args:
        backup_dir: the folder for the backup (created if missing). Give each run its own.
        save_freq: "epoch", or back up after every this many batches (counted across epochs).
        delete_checkpoint: delete the backup when ``fit`` ends without an error.
        double_checkpoint: keep the previous backup too, and fall back to it when the latest
            cannot be read.

    With ``steps_per_epoch`` shorter than a pass over the data, a resumed run starts a new
    pass, so it is exact only when ``steps_per_epoch`` is the data's length.
    """

    LATEST, PREVIOUS = "backup.shenjing", "backup.previous.shenjing"

    def __init__(self, backup_dir: str | os.PathLike[str], save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True, double_checkpoint: bool = False) -> None:
        super().__init__()
        if save_freq != "epoch" and not (
                isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r} "
                             "(Keras's save_freq=False goes with preemption checkpointing, "
                             "which shenjing does not have)")
        if not backup_dir:
            raise ValueError("BackupAndRestore needs a backup_dir")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.delete_checkpoint = save_freq, bool(delete_checkpoint)
        self.double_checkpoint = bool(double_checkpoint)
        self._every = None if save_freq == "epoch" else int(save_freq)
        self._epoch, self._batches, self._epoch_rng = 0, 0, None

    @property
    def _latest(self) -> str:
        return os.path.join(self.backup_dir, self.LATEST)

    @property
    def _previous(self) -> str:
        return os.path.join(self.backup_dir, self.PREVIOUS)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        from .io import saving

        if not self.model.built:
            raise ValueError("BackupAndRestore needs the model built before fit() (call it on "
                             "a batch, or give its first layer input_shape=), so that a backup "
                             "can be read into its weights")
        self._batches = 0
        candidates = [p for p in (self._latest, self._previous if self.double_checkpoint
                                  else None) if p and os.path.exists(p)]
        for i, path in enumerate(candidates):
            try:
                training = saving.restore_training(self.model, path)
            except (saving.CorruptFileError, OSError) as e:
                if i + 1 == len(candidates):
                    raise
                warnings.warn(f"BackupAndRestore: cannot read the latest backup ({e}); "
                              f"resuming from the previous one, {candidates[i + 1]}",
                              stacklevel=2)
                continue
            self.model._resume_at = (training["epoch"], training["step"])
            return

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        if self._every is not None:  # a mid-epoch backup shuffles its epoch as it began
            self._epoch_rng = self.model._shuffle_rng().bit_generator.state

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._every is not None:
            self._batches += 1
            if self._batches >= self._every:
                self._batches = 0
                self._backup(self._epoch, batch + 1, self._epoch_rng)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._every is None:
            self._backup(epoch + 1, 0, None)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and not getattr(self.model, "_fit_interrupted", False):
            for path in (self._latest, self._previous):
                if os.path.exists(path):
                    os.remove(path)
            try:
                os.rmdir(self.backup_dir)  # only if nothing else is in it
            except OSError:
                pass

    def _backup(self, epoch: int, step: int, fit_rng_state: Any) -> None:
        from .io import saving

        data = saving.model_bytes(self.model, fit_rng_state, {"epoch": epoch, "step": step})
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._latest):
            os.replace(self._latest, self._previous)
        saving.atomic_write(self._latest, data)


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


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file: ``epoch`` then the log keys, sorted, flushed each epoch.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (its header is kept) instead of overwriting it.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        has_rows = (self.append and os.path.exists(self.filename)
                    and os.path.getsize(self.filename) > 0)
        self._write_header = not has_rows
        os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self.keys, self._writer = None, None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, ["epoch", *self.keys],
                                          delimiter=self.sep)
            if self._write_header:
                self._writer.writeheader()
        assert self.keys is not None
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file, self._writer = None, None


class TensorBoard(Callback):
    """Write the logs as TensorBoard event files (``tensorboard --logdir logs``), without
    TensorFlow: Keras 3's callback, for what it does without TensorFlow.

    Per epoch, the training logs go to ``log_dir/train`` as ``epoch_<name>`` (``epoch_loss``,
    ``epoch_accuracy``...), with ``epoch_learning_rate`` (the optimizer's rate) added; the
    ``val_`` ones go to ``log_dir/validation`` under the name without the prefix
    (``epoch_loss``), so TensorBoard draws training and validation on one chart; the step is the
    epoch (from 0). Validation is also written as ``evaluation_<name>_vs_iterations`` at the
    optimizer's step count, as Keras does when ``fit`` runs its evaluation (and ``evaluate`` with
    this callback writes the same). Files are flushed at each epoch's end and closed when
    training ends, however it ends. Values are stored as float32, as TensorBoard stores them.

    Args:
        log_dir: the folder of the runs; ``train/`` and ``validation/`` are made inside it, one
            new event file each per ``fit``.
        histogram_freq: every this many epochs (0: never), a histogram of each weight
            (``<layer>/<weight>/histogram``: 30 equal-width buckets, as TensorFlow's) in
            ``train``.
        write_graph: accepted and ignored: Keras writes the model's config for TensorBoard's
            graph view (a TensorFlow summary this module does not write); ``model.summary()``
            shows the same structure.
        write_images, profile_batch, embeddings_freq: not supported (NotImplementedError unless
            False/0): weight images, the profiler and the embedding projector need TensorFlow's
            formats. ``embeddings_metadata`` is only read with ``embeddings_freq``, so it is
            accepted and unused, as in Keras.
        write_steps_per_second: also write ``epoch_steps_per_second`` (and, with batch-level
            updates, ``batch_steps_per_second``).
        update_freq: "epoch"; or "batch" (= 1) or an int N: also write the running batch logs
            as ``batch_<name>`` every N training batches, the step being the batch count since
            ``fit`` began (from 1). (Keras 3 documents this; its own code writes every batch
            whatever N is.)

    >>> tb = TensorBoard(log_dir="logs/run1", update_freq="batch")
    >>> model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[tb])  # doctest: +SKIP
    """

    def __init__(self, log_dir: str | os.PathLike[str] = "logs", histogram_freq: int = 0,
                 write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int | str | tuple[int, int] = 0, embeddings_freq: int = 0,
                 embeddings_metadata: str | dict[str, str] | None = None) -> None:
        super().__init__()
        unsupported = {"write_images": write_images, "profile_batch": profile_batch,
                       "embeddings_freq": embeddings_freq}
        for name, value in unsupported.items():
            if value:
                raise NotImplementedError(
                    f"TensorBoard({name}={value!r}) is not supported: shenjing writes scalars "
                    f"and weight histograms only (TensorFlow's image, profiler and projector "
                    f"formats are not written); leave {name} at its default")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, numbers.Integral)
                                           and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}")
        if not (isinstance(histogram_freq, numbers.Integral) and histogram_freq >= 0):
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, got "
                             f"{histogram_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = int(histogram_freq), write_graph
        self.write_images, self.write_steps_per_second = write_images, write_steps_per_second
        self.update_freq = update_freq if update_freq == "epoch" else int(update_freq)
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self._writers: dict[str, Any] = {}
        self._in_fit = False
        self._global_train_batch = 0
        self._epoch_start, self._epoch_batches, self._batch_start = 0.0, 0, 0.0

    def _writer(self, run: str) -> Any:
        """The event writer of ``log_dir/<run>``, made (with its file) on first use."""
        if run not in self._writers:
            from .io.tfevents import EventFileWriter

            self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._close_writers()  # a new fit or evaluate writes new files

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit, self._global_train_batch = True, 0

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._epoch_batches += 1
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        scalars = {f"batch_{k}": v for k, v in (logs or {}).items()}
        if self.write_steps_per_second:
            seconds = time.perf_counter() - self._batch_start
            scalars["batch_steps_per_second"] = 1.0 / seconds if seconds > 0 else math.inf
        self._writer("train").add_scalars(scalars, step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if logs:
            train = {k: v for k, v in logs.items() if not k.startswith("val_")}
            if hasattr(getattr(self.model, "optimizer", None), "learning_rate"):
                train["learning_rate"] = _get_lr(self.model)
            if self.write_steps_per_second:
                seconds = time.perf_counter() - self._epoch_start
                train["steps_per_second"] = self._epoch_batches / seconds if seconds > 0 else 0.0
            self._writer("train").add_scalars({f"epoch_{k}": v for k, v in train.items()}, epoch)
            val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
            if val:
                self._writer("validation").add_scalars(
                    {f"epoch_{k}": v for k, v in val.items()}, epoch)
                self._write_evaluation(val)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs: Logs | None = None) -> None:
        # fit's validation (it fires the test hooks too) is written at the epoch's end.
        if not self._in_fit and logs:
            self._write_evaluation(logs)
            self._close_writers()  # no on_train_end will come

    def _write_evaluation(self, logs: Logs) -> None:
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        if iterations is not None:
            self._writer("validation").add_scalars(
                {f"evaluation_{k}_vs_iterations": v for k, v in logs.items()}, int(iterations))

    def _write_histograms(self, epoch: int) -> None:
        from .backend import asnumpy
        from .io.weights import _weight_names

        writer = self._writer("train")
        # '0003/dense_1/kernel' -> 'dense_1/kernel/histogram' (Keras 3 names the weight's path)
        for name, p in zip(_weight_names(self.model), self.model.weights):
            writer.add_histogram(f"{name.split('/', 1)[1]}/histogram", asnumpy(p.data), epoch)


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite.

    It sets ``model.stop_training``, prints ``nan_message`` and raises nothing.

    Attributes:
        stopped_at: ``(epoch, step)``, zero-based, of the first non-finite loss, else None.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.stopped_at = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_at = (self._epoch, batch)
            self.model.stop_training = True
            _print(nan_message(self._epoch, batch, float(loss),
                               getattr(self.model, "_nonfinite_data", "")))


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook, with the hooks' arguments.

    ``on_epoch_*(epoch, logs)``, ``on_train_batch_*(batch, logs)``, ``on_train_*(logs)``; any
    other hook (e.g. ``on_test_end``) can be given by name as a keyword.

    >>> log = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None,
                 on_train_begin: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None,
                 on_train_batch_begin: Callable[..., Any] | None = None,
                 on_train_batch_end: Callable[..., Any] | None = None,
                 **hooks: Callable[..., Any]) -> None:
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hook(s): {', '.join(unknown)}")
        given: dict[str, Callable[..., Any] | None] = {
            **hooks, "on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin, "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin, "on_train_batch_end": on_train_batch_end}
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)  # an instance attribute shadows the no-op method


def __getattr__(name: str) -> Any:
    # GradientMonitor lives with the other diagnostics; Keras users look for callbacks here.
    if name in ("GradientMonitor", "GradientWarning"):
        from .diagnostics import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
