"""Spotting a temporary: a Tensor passed straight from an expression, that nothing else holds.

``F.relu(F.linear(x, w, b))`` may apply the ReLU in place on linear's output, as
``F.linear(..., activation="relu")`` does (one pass and one op fewer each way), but only when
no one else can see that output: had the caller kept it (``z = F.linear(...)``), the in-place
ReLU would change ``z`` behind their back. NumPy elides its temporaries (``a + b + c``) on the
same fact. CPython counts every reference, and an argument evaluated in the call itself has one
fewer than a named one: inside the function ``sys.getrefcount(arg)`` is :data:`ALONE` (3.11 to
3.13 hand the argument to the callee's frame: 2, the frame's reference and getrefcount's
argument; 3.10 also keeps the caller's stack's: 3), and more when a name, a list, a view or a
graph holds it too. CPython 3.14 may lend the caller's references without counting them, the
free-threaded build splits its counts, and other Pythons count otherwise: there, and wherever
the probe below disagrees, :data:`ALONE` is 0 and nothing is folded (the values are the same
either way; only the extra pass remains).

A Tensor alone may still share its memory: a ``detach()``ed alias or ``numpy()``'s array holds
the array, a view its base, a weak reference the Tensor itself. :func:`sole_owner` checks
those too.
"""

from __future__ import annotations

import sys
import sysconfig
import weakref
from typing import Any


def _count(obj: object) -> int:
    """A callee reading its argument's count, as ``F.relu`` does (the probe's stand-in)."""
    return sys.getrefcount(obj)


def _probe() -> int:
    """The count that a temporary argument has inside a callee here, if this interpreter
    counts as described above (a temporary's is one less than a named value's), else 0."""
    if (sys.implementation.name != "cpython" or sys.version_info >= (3, 14)
            or sysconfig.get_config_var("Py_GIL_DISABLED")):
        return 0
    named = object()
    alone, held = _count(object()), _count(named)
    return alone if held == alone + 1 and alone in (2, 3) else 0


#: ``sys.getrefcount(x)`` inside a function for an argument ``x`` that nothing else holds (as
#: the function's first statement reads it, before any other name refers to ``x``); 0 where
#: temporaries cannot be told apart (then no caller may assume one).
ALONE = _probe()


def sole_owner(t: Any) -> bool:
    """Whether nothing but Tensor ``t`` (which its caller knows no one else holds) refers to its
    array: no alias, view or ``numpy()`` result holds the array or its base, no weak reference
    ``t``. An attribute's object read in a call has 2 references: the attribute's and the
    call's argument."""
    if weakref.getweakrefcount(t) or sys.getrefcount(t.data) != 2:
        return False
    return t.data.base is None or sys.getrefcount(t.data.base) == 2
