"""What the labs on training trouble (vanishing, exploding, dead-relu) share: a run of
``_training.train`` watched by a ``GradientMonitor``, whose warnings and printed messages are
kept for the report instead of reaching the console (or, under pytest's
``filterwarnings = error``, failing the run: these labs make gradients misbehave on purpose)."""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

from ..callbacks import Callback
from ..diagnostics.monitor import GradientMonitor
from ._training import train


def _summary(caught: list[warnings.WarningMessage], printed: str) -> list[str]:
    """One line per kind of warning (its first message, and how many more there were) and
    one per distinct printed line."""
    by_kind: dict[str, list[str]] = {}
    for w in caught:
        messages = by_kind.setdefault(w.category.__name__, [])
        if str(w.message) not in messages:
            messages.append(str(w.message))
    lines = [f"{kind}: {messages[0]}" + (f" (+{len(messages) - 1} more {kind}s)"
                                         if len(messages) > 1 else "")
             for kind, messages in by_kind.items()]
    return lines + list(dict.fromkeys(line for line in printed.splitlines() if line.strip()))


def monitored(build: Any, optimizer: Any, data: Any, track: Any, seed: int,
              callbacks: tuple[Callback, ...] = (), **fit: Any) -> tuple[Any, Any, list[str]]:
    """``train`` with a ``GradientMonitor`` (its values land in ``model.history``), warnings
    and standard output captured.

    Returns:
        The trained model, its ``Curve`` on ``track``, and what the run warned or printed
        (e.g. the monitor's diagnosis, NumPy's overflow, ``TerminateOnNaN``'s message).
    """
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        model, curve = train(build, optimizer, data, track, seed,
                             (GradientMonitor(), *callbacks), **fit)
    return model, curve, _summary(caught, out.getvalue())
