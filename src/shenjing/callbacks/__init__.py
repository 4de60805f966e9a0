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

from typing import Any

from .base import Callback, History, LambdaCallback, Logs, TerminateOnNaN, nan_message
from .callback_list import CallbackList
from .checkpoints import BackupAndRestore, ModelCheckpoint
from .loggers import CSVLogger, TensorBoard
from .monitoring import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau
from .progbar import ProgbarLogger

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "GradientMonitor", "GradientWarning", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau",
           "TensorBoard", "TerminateOnNaN", "Logs", "nan_message"]


def __getattr__(name: str) -> Any:
    # GradientMonitor lives with the other diagnostics; Keras users look for callbacks here.
    if name in ("GradientMonitor", "GradientWarning"):
        from ..diagnostics import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
