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
