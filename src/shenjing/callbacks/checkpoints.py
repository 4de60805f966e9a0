"""Callbacks that write the model during training: ``ModelCheckpoint`` and
``BackupAndRestore``."""

from __future__ import annotations

import os
import warnings
from typing import Any

from .base import Callback, Logs, _print
from .monitoring import _MonitorCallback


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
        self.best = initial_value_threshold
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
                best = "nothing" if self.best is None else f"{self.best:.5f}"
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        _print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {best}")
                    return
                if self.verbose > 0:
                    _print(f"Epoch {epoch + 1}: {self.monitor} improved from {best} "
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
    pass, so it is exact only when ``steps_per_epoch`` is the data's length. The backup holds
    the model, its optimizer and the shuffling streams, not other callbacks' state (as
    Keras's): a ``ModelCheckpoint(save_best_only=True)`` of the resumed run starts without a
    best, so give it ``initial_value_threshold=`` the best value so far, or its first epoch
    replaces the best file.
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
        self._epoch, self._batches, self._epoch_rng, self._epoch_loader = 0, 0, None, None

    @property
    def _latest(self) -> str:
        return os.path.join(self.backup_dir, self.LATEST)

    @property
    def _previous(self) -> str:
        return os.path.join(self.backup_dir, self.PREVIOUS)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        from ..io import saving

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
            loader_rng = getattr(self.model, "_loader_rng", None)
            if training.get("loader_rng") is not None and loader_rng is not None:
                from ..io.random_streams import _generator

                _generator(training["loader_rng"], path, "the DataLoader's shuffling state",
                           into=loader_rng)
            self.model._resume_at = (training["epoch"], training["step"])
            return

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch
        if self._every is not None:  # a mid-epoch backup shuffles its epoch as it began
            self._epoch_rng = self.model._shuffle_rng().bit_generator.state
            self._epoch_loader = self._loader_state()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._every is not None:
            self._batches += 1
            if self._batches >= self._every:
                self._batches = 0
                self._backup(self._epoch, batch + 1, self._epoch_rng, self._epoch_loader)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._every is None:
            self._backup(epoch + 1, 0, None, self._loader_state())

    def _loader_state(self) -> Any:
        """The shuffling state of fit's own DataLoader (one of the user's), else None."""
        rng = getattr(self.model, "_loader_rng", None)
        return None if rng is None else rng.bit_generator.state

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and not getattr(self.model, "_fit_interrupted", False):
            for path in (self._latest, self._previous):
                if os.path.exists(path):
                    os.remove(path)
            try:
                os.rmdir(self.backup_dir)  # only if nothing else is in it
            except OSError:
                pass

    def _backup(self, epoch: int, step: int, fit_rng_state: Any, loader_state: Any) -> None:
        from ..io import saving

        training = {"epoch": epoch, "step": step}
        if loader_state is not None:
            from ..io.random_streams import _json_state

            training["loader_rng"] = _json_state(loader_state)
        data = saving.model_bytes(self.model, fit_rng_state, training)
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._latest):
            os.replace(self._latest, self._previous)
        saving.atomic_write(self._latest, data)
