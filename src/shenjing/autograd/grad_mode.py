"""Whether operations are recorded for back-propagation: ``no_grad``, ``enable_grad``,
``set_grad_enabled`` and ``inference_mode``, as in PyTorch."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any


class _State(threading.local):
    enabled = True  # each thread starts recording; a class default reads faster than getattr


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded in the autograd graph."""
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    """Context manager (and decorator) that sets the recording mode and restores the old one."""

    mode = True

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        return self(fn) if fn is not None else self  # bare @no_grad works as @no_grad()

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_enabled(self._prev)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            return _generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = is_grad_enabled()
            _set_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(prev)

        return wrapper


def _generator(fn: Callable[..., Any], mode: bool) -> Callable[..., Any]:
    """A decorated generator function (as torch's): the mode holds while the body runs, from
    each resume to the next ``yield``, and not in the caller's code between them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        resume, value = gen.send, None
        while True:
            prev = is_grad_enabled()
            _set_enabled(mode)
            try:
                item = resume(value)
            except StopIteration as stop:
                return stop.value
            finally:
                _set_enabled(prev)
            try:
                resume, value = gen.send, (yield item)
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as err:  # thrown in by the caller: pass it to the body
                resume, value = gen.throw, err

    return wrapper


class no_grad(_GradMode):
    """Record nothing: for evaluation, prediction and hand-written parameter updates.

    >>> with no_grad():
    ...     y = model(x)          # y.requires_grad is False, no graph is kept
    """

    mode = False


class enable_grad(_GradMode):
    """Record again inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode`` (``with``, ``@inference_mode()``, ``inference_mode(False)``):
    here the same as ``no_grad``. torch also refuses tensors made in it in a later backward;
    shenjing does not check that."""

    mode = False

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # bare @inference_mode
            return super().__new__(cls, mode)
        self = super().__new__(cls)
        self.mode = not mode
        return self


class set_grad_enabled(_GradMode):
    """Turn recording on or off: at once when called (``set_grad_enabled(False)``), back to
    the previous mode at the end of a ``with set_grad_enabled(is_train):`` block, and, as a
    decorator (``@set_grad_enabled(False)``), for each call of the function only (torch's
    three uses: decorating undoes the call's own switch)."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)  # a mode, never a function to decorate (_GradMode's)

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = is_grad_enabled()
        _set_enabled(self.mode)

    def __enter__(self) -> None:
        _set_enabled(self.mode)  # the previous mode is the one before the call, kept above

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        _set_enabled(self._prev)
        return super().__call__(fn)
