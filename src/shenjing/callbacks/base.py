"""The callback protocol (``Callback``), the list ``fit`` drives (``CallbackList``), and
the small callbacks: ``History``, ``TerminateOnNaN``, ``LambdaCallback``."""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable
from typing import Any

Logs = dict[str, Any]


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


def nan_gradient_message(epoch: int | None, step: int | None, loss: float, weight: str) -> str:
    """What to say when a finite loss sends back a NaN/inf gradient (``weight`` names the
    first weight whose gradient it is, with the kind): in fit (at ``epoch``, ``step``), or in
    ``train_on_batch`` (both None), whose step is skipped."""
    where, then = ((f"at epoch {epoch + 1}, step {step + 1}", "training stopped")
                   if epoch is not None else ("in train_on_batch", "the step was skipped"))
    return (f"the gradient of {weight} became non-finite {where}, though the loss was {loss}; "
            f"{then} without updating the weights with "
            "it. Usual causes: sqrt, log or a division meeting 0 in a loss, metric or layer of "
            "your own (e.g. sqrt(mean(square(e))) of an exact fit: write sqrt(x + 1e-12)), or "
            "a huge learning rate. To find the op, train under shenjing.debug.detect_anomaly().")


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


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite, or (in ``fit``'s own step) its
    gradient is.

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
        weight = getattr(self.model, "_nonfinite_grad", "")
        if loss is not None and (weight or not math.isfinite(float(loss))):
            self.stopped_at = (self._epoch, batch)
            self.model.stop_training = True
            _print(nan_gradient_message(self._epoch, batch, float(loss), weight)
                   if weight else  # (named only after a finite loss)
                   nan_message(self._epoch, batch, float(loss),
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
