"""Callbacks that log to files: ``CSVLogger`` and ``TensorBoard``."""

from __future__ import annotations

import csv
import math
import numbers
import os
import time
import warnings
from typing import Any

from .base import Callback, Logs
from .monitoring import _get_lr


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file: ``epoch`` then the log keys, sorted, flushed each epoch.
    The columns are the first epoch's keys; where it has no ``val_`` ones (no validation yet,
    ``validation_freq`` > 1), ``val_`` twins of every key follow, NA until they have values
    (Keras's rule). The file is opened at the first epoch's end, so a run that fails before
    one ends leaves the previous log as it was.

    Args:
        filename: the CSV file.
        separator: the field separator (one character).
        append: add to an existing file instead of overwriting it: its header is kept and its
            columns are the ones written (a log key it lacks is left out, with a warning; a
            column this run lacks is NA), so the values stay under their names.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be one character, got {separator!r}")
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.filename)), exist_ok=True)
        self.keys, self._writer = None, None

    def _open(self, logs: Logs) -> None:
        """The file and its columns, at the first epoch's end: an existing file's header when
        appending to one, else the sorted log keys with their ``val_`` twins."""
        header = None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.sep), None)
        if header and header[0] == "epoch":
            self.keys = header[1:]
            dropped = sorted(set(logs) - set(self.keys))
            if dropped:
                warnings.warn(f"CSVLogger: {self.filename} has no columns for {dropped}; "
                              "appending without them", stacklevel=3)
        else:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                # with validation_freq > 1 the first epoch has no val_ keys: their columns
                # now (NA until they come), as Keras's, else later ones were dropped
                self.keys += [f"val_{k}" for k in self.keys]
        self._file = open(self.filename, "a" if self.append else "w", newline="",
                          encoding="utf-8")
        self._writer = csv.DictWriter(self._file, ["epoch", *self.keys], delimiter=self.sep,
                                      extrasaction="ignore")
        if not header:
            self._writer.writeheader()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self._open(logs)
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
            from ..io.tfevents import EventFileWriter

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
        from ..backend import asnumpy
        from ..io.weights import _weight_names

        writer = self._writer("train")
        # '0003/dense_1/kernel' -> 'dense_1/kernel/histogram' (Keras 3 names the weight's path)
        for name, p in zip(_weight_names(self.model), self.model.weights):
            writer.add_histogram(f"{name.split('/', 1)[1]}/histogram", asnumpy(p.data), epoch)
