"""Anomaly mode: find the op that first makes a NaN or an infinity, in forward or in backward.

Under :class:`detect_anomaly`, ``Function.apply`` checks each op's outputs and the engine checks
the gradients each ``backward`` receives and returns; the first non-finite value raises
``FloatingPointError`` naming the op, the direction, the index, the counts, the input shapes and
the user code that called the op. That code is captured at forward time, only in this mode (as
torch does), because by the time backward fails the Python stack shows only the engine.

The mode is process-wide, as torch's is: off, its whole cost is one read of the module bool
:data:`enabled` per op.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from ..backend import get_xp

enabled = False  # read by Function.apply and the engine for every op
check_nan = True  # False: only capture where ops were created, to annotate backward errors

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_N_FRAMES = 4  # user frames kept per op: enough to place it, cheap enough to take per op


def is_anomaly_enabled() -> bool:
    """True inside :class:`detect_anomaly`."""
    return enabled


class detect_anomaly:
    """Context manager (and decorator) under which the first op to make a NaN or inf raises.

    Every op's forward outputs and every gradient its backward returns are checked; the error
    names the op, forward or backward, the output or input index, the nan and inf counts, the
    input shapes and where user code called the op. It blames an op only for what it made:
    when an op's inputs (forward) or incoming gradient (backward) were already non-finite, the
    message says so. Checking syncs and scans every array, so it is for debugging only.

    Args:
        check_nan: False keeps the creation traces (an exception raised inside a backward gets
            a note saying where its op was created) but checks no values, as in torch.

    >>> with detect_anomaly():
    ...     loss = model.compute_loss(y=y, y_pred=model(x))
    ...     loss.backward()       # FloatingPointError: Log returned 1 non-finite value ...
    """

    def __new__(cls, check_nan: bool | Callable[..., Any] = True) -> Any:
        self = super().__new__(cls)
        self.check_nan = True if callable(check_nan) else bool(check_nan)
        return self(check_nan) if callable(check_nan) else self  # bare @detect_anomaly

    def __enter__(self) -> None:
        global enabled, check_nan
        self._prev = enabled, check_nan
        enabled, check_nan = True, self.check_nan

    def __exit__(self, *exc: object) -> None:
        global enabled, check_nan
        enabled, check_nan = self._prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):  # a fresh one per call: recursion nests
                return fn(*args, **kwargs)

        return wrapper


def check_forward(fn: Any, inputs: Sequence[Any], outs: Sequence[Any], record: bool) -> None:
    """After ``fn.forward``: keep where the op was called (if recorded), check its outputs."""
    if record:
        fn.trace = _user_frames()
    if not check_nan:
        return
    for i, out in enumerate(outs):
        counts = _nonfinite(out.data)
        if counts is None:
            continue
        before = [(j, c) for j, t in enumerate(inputs) if (c := _nonfinite(t.data))]
        if before:
            j, c = before[0]
            cause = (f"but input {j} was already non-finite ({_counts(c)}): it came from outside "
                     "the checked ops (the data, a parameter changed in place such as by an "
                     "optimizer step, or a tensor made before detect_anomaly())")
        else:
            cause = "from finite inputs"
        raise FloatingPointError(
            f"{_name(fn)} returned {_counts(counts)} in forward output {i} {_describe(out)}, "
            f"{cause}. Inputs: {_describe_all(inputs)}.\n{_where(_user_frames())}")


def check_backward(fn: Any, grads_out: Sequence[Any], grads_in: Sequence[Any]) -> None:
    """After ``fn.backward``: check the gradients it received, then those it returned."""
    if not check_nan:
        return
    for i, g in enumerate(grads_out):
        counts = None if g is None else _nonfinite(g)
        if counts:
            raise FloatingPointError(
                f"{_name(fn)} backward received {_counts(counts)} in the gradient of its output "
                f"{i} {_describe(g)}. No op's backward returned it (each is checked): it came "
                "from backward()'s grad=, a hook, or an overflow when gradients were summed. "
                + _context(fn))
    for i, (g, need) in enumerate(zip(grads_in, fn.needs_input_grad)):
        counts = _nonfinite(g) if need and g is not None else None
        if counts:
            raise FloatingPointError(
                f"{_name(fn)} backward returned {_counts(counts)} in the gradient for input {i} "
                f"{_describe(g)}, from a finite output gradient. " + _context(fn))


def note_backward_error(err: BaseException, fn: Any) -> None:
    """Add where ``fn`` was created to an exception its backward raised (Python 3.11+ notes)."""
    if hasattr(err, "add_note"):
        err.add_note(f"In {_name(fn)} backward. {_where(getattr(fn, 'trace', None))}")


def _user_frames() -> list[traceback.FrameSummary]:
    """The innermost frames outside shenjing, outermost first, as a traceback lists them."""
    frames = []
    f = sys._getframe(1)
    while f is not None and len(frames) < _N_FRAMES:
        code = f.f_code
        if not code.co_filename.startswith(_PACKAGE):
            frames.append(traceback.FrameSummary(code.co_filename, f.f_lineno, code.co_name,
                                                 lookup_line=False))
        f = f.f_back
    return frames[::-1]


def _context(fn: Any) -> str:
    return f"Inputs: {_describe_all(fn.inputs)}.\n{_where(getattr(fn, 'trace', None))}"


def _where(frames: list[traceback.FrameSummary] | None) -> str:
    if frames is None:
        return ("The op was created outside anomaly mode: run its forward under "
                "detect_anomaly() too to see where.")
    return "The op was called at (most recent call last):\n" + "".join(
        traceback.format_list(frames)).rstrip()


def _nonfinite(a: Any) -> tuple[int, int] | None:
    """(nan count, inf count) if a floating array holds any; None if all finite or not float."""
    if a.dtype.kind not in "fc":
        return None
    xp = get_xp(a)
    if xp.isfinite(a).all():
        return None
    return int(xp.isnan(a).sum()), int(xp.isinf(a).sum())


def _counts(c: tuple[int, int]) -> str:
    n = c[0] + c[1]
    return f"{n} non-finite value{'s' * (n != 1)} ({c[0]} nan, {c[1]} inf)"


def _name(fn: Any) -> str:
    return type(fn).__name__.lstrip("_")


def _describe(a: Any) -> str:
    return f"of shape {tuple(a.shape)} {a.dtype}"


def _describe_all(tensors: Sequence[Any]) -> str:
    return ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in tensors) or "none"
