"""Where shenjing keeps files it can always rebuild (compiled kernels, decoded image archives)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$SHENJING_CACHE``, else ``~/.shenjing/cache`` (beside ``~/.shenjing/datasets``)."""
    env = os.environ.get("SHENJING_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".shenjing" / "cache"
