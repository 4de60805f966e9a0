"""``atomic_write``: every write goes to a temporary file that is renamed over the target only
when complete, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import os
import stat


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename. An OSError names
    ``path`` (not the temporary file) and says that the previous file is unchanged. A symbolic
    link at ``path`` stays one: the file it points to is replaced (``model.latest`` pointing
    at the current run's file, as a plain ``open(path, "wb")`` would write through it)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write to {path}: it is a folder (give a file name in "
                                "it, e.g. model.shenjing)")
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(target))
    import tempfile

    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(target))
    except OSError as e:
        raise type(e)(e.errno, f"cannot write {path}: cannot create a file in {folder} "
                      f"({e.strerror or e}); save to a folder you can write to, or change "
                      "its permissions") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0o600); give it the mode a plain open() would: the
        # old file's when overwriting, else 0o666 less the umask
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target)
                 else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError):
            before = "the file there before is unchanged" if os.path.exists(target) else \
                "nothing was written"
            raise type(e)(e.errno, f"saving {path} failed ({e.strerror or e}); {before}") \
                from e
        raise
