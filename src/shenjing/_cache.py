"""Where shenjing keeps files it can always rebuild (compiled kernels, decoded image archives)."""

from __future__ import annotations

import os


def cache_dir() -> str:
    """``$SHENJING_CACHE``, else ``~/.shenjing/cache`` (beside ``~/.shenjing/datasets``). A
    string, not a Path: pathlib would cost the import a few milliseconds (native loads this)."""
    return os.path.expanduser(os.environ.get("SHENJING_CACHE") or
                              os.path.join("~", ".shenjing", "cache"))
