"""``CallbackList``: the callbacks ``fit``, ``evaluate`` and ``predict`` drive, as one callback
(with ``History`` and ``ProgbarLogger`` added)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .base import _HOOKS, Callback, History, Logs
from .progbar import ProgbarLogger


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
