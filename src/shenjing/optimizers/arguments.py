"""The checks on an optimizer's arguments, with Keras 3's rules and clear messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import schedules


def check_non_positive(name: str, value: Any, strict: bool = False) -> None:
    """A number <= 0 (< 0 with ``strict``), NumPy scalars included; NaN is refused."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or not (value < 0 if strict else value <= 0):
        kind = "a negative" if strict else "a non-positive"
        raise ValueError(f"`{name}` must be {kind} number, got {value!r}")


def check_number(name: str, value: Any, positive: bool = False) -> None:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or not value >= 0 or (positive and value == 0):
        kind = "a positive" if positive else "a non-negative"
        raise ValueError(f"`{name}` must be {kind} number, got {value!r}")


def check_averaging(use_ema: Any, ema_momentum: Any, ema_overwrite_frequency: Any,
                     loss_scale_factor: Any, gradient_accumulation_steps: Any) -> None:
    """Keras 3's checks of the EMA, loss-scale and accumulation arguments."""
    def whole(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if gradient_accumulation_steps and not (whole(gradient_accumulation_steps)
                                            and gradient_accumulation_steps >= 2):
        raise ValueError("`gradient_accumulation_steps` must be an integer >= 2 (or None), got "
                         f"{gradient_accumulation_steps!r}")
    if loss_scale_factor is not None:
        check_number("loss_scale_factor", loss_scale_factor, positive=True)
    if not use_ema:
        return
    check_number("ema_momentum", ema_momentum)
    if ema_momentum > 1:
        raise ValueError(f"`ema_momentum` must be in [0, 1], got {ema_momentum!r}")
    if ema_overwrite_frequency is not None and not (whole(ema_overwrite_frequency)
                                                    and ema_overwrite_frequency >= 1):
        raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None, got "
                         f"{ema_overwrite_frequency!r}")


def takes_step(fn: Callable[..., float]) -> bool:
    """Whether ``fn`` can be called with the step number (else it is called with nothing)."""
    if isinstance(fn, schedules.LearningRateSchedule):
        return True
    import inspect

    try:
        inspect.signature(fn).bind(0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): assume a schedule's
        return True
    return True


def check_learning_rate(lr: Any) -> float | Callable[[int], float]:
    if callable(lr):
        return lr
    check_number("learning_rate", lr)
    return float(lr)
