"""Argument checks shared across the package, so every one says the same thing."""

from __future__ import annotations

from typing import Any

import numpy as np


def positive_int(value: Any, name: str, optional: bool = False) -> int | None:
    """``value`` as an int if it is a positive integer (a bool is not), None if ``optional``
    and None; else a ValueError naming ``name``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer{' or None' if optional else ''}, "
                         f"got {value!r}")
    return int(value)


_KINDS = {  # what an argument's kind accepts, and the type it is kept as
    "number": ((int, float, np.integer, np.floating), float),
    "integer": ((int, np.integer), int),
    "bool": ((bool, np.bool_), bool),
}


def typed_arg(who: str, what: str, value: Any, kind: str, optional: bool = False) -> Any:
    """``value``, the argument ``what`` of ``who``, as a ``kind`` ('number', 'integer' or
    'bool'; None too when ``optional``), else a ValueError: a value given in the wrong slot
    (a name where Keras 3's order puts a threshold) fails here, not at the first use."""
    if value is None and optional:
        return None
    types, keep = _KINDS[kind]
    if isinstance(value, types) and (kind == "bool" or not isinstance(value, (bool, np.bool_))):
        return keep(value)
    wanted = {"number": "a number", "integer": "an integer", "bool": "True or False"}[kind]
    raise ValueError(f"{who}: {what} must be {wanted}{' or None' if optional else ''}, "
                     f"got {value!r}")
