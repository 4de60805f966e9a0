"""Finding, downloading and checking the files the dataset loaders read.

Where data lives (DESIGN.md): a loader looks in its ``path=`` argument, else in ``$SHENJING_DATA``,
else in ``~/.shenjing/datasets``, using the layout of the shared data folder::

    <root>/cifar-10-python.tar.gz      (or cifar-10-binary.tar.gz, cifar10-jpeg.zip)
    <root>/mnist/train-images-idx3-ubyte.gz ...
    <root>/fashion-mnist/train-images-idx3-ubyte.gz ...
    <root>/sst/{train,dev,test}.txt
    <root>/tinyshakespeare/input.txt

A missing file is downloaded from its official source into that folder when the loader knows one
(with a progress bar, a checksum check, and a temporary file renamed only when complete). With no
network, or with ``SHENJING_OFFLINE=1``, the error names the missing file, every path that was
tried and where to put the file. A loader of one file (CIFAR-10, Tiny Shakespeare) also takes
``path=`` naming the file itself, missing or not: it is put, or downloaded, there; the others refuse
a file path. Derived files (the decoded JPEG archive) go to ``$SHENJING_CACHE``,
else ``~/.shenjing/cache``.

Only the standard library and NumPy are imported at module level: ``import shenjing`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor downloadable; the message says where to put it."""


class DatasetFormatError(ValueError):
    """A data file exists but is truncated, corrupt or not in the expected format."""


def named_file(path: str | os.PathLike[str] | None, suffixes: tuple[str, ...]) -> Path | None:
    """``path`` when it names a file rather than a data folder: one that exists, or a missing
    one whose name ends in one of ``suffixes`` (the loader's files: it is to be put, or
    downloaded, there, not into a new folder of that name); else None."""
    if path is None:
        return None
    p = Path(path).expanduser()
    if p.is_file() or (not p.exists() and p.name.lower().endswith(suffixes)):
        return p
    return None


def data_root(path: str | os.PathLike[str] | None = None, suffixes: tuple[str, ...] = ()) -> Path:
    """The folder loaders read: ``path``, else ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.
    A ``path`` that names a file (:func:`named_file` with the loader's ``suffixes``) is a
    ValueError: loaders of one file take it through ``named_file`` first, the others read a
    folder."""
    if path is not None:
        file = named_file(path, suffixes)
        if file is not None:
            raise ValueError(f"path={os.fspath(path)!r} names a file, but this loader reads a "
                             f"folder: give the folder that holds its files, e.g. "
                             f"path={str(file.parent)!r}")
        return Path(path).expanduser()
    env = os.environ.get("SHENJING_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".shenjing" / "datasets"


def is_offline() -> bool:
    """True when ``$SHENJING_OFFLINE`` asks loaders never to download."""
    return os.environ.get("SHENJING_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def first_existing(candidates: Sequence[Path]) -> Path | None:
    """The first of ``candidates`` that exists, or None."""
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def not_found(
    dataset: str,
    filename: str,
    tried: Sequence[Path],
    put_in: Path,
    *,
    urls: Sequence[str] = (),
    reasons: Sequence[str] = (),
    hint: str = "",
) -> DatasetNotFoundError:
    """The error for a file that is not there: what is missing, the exact paths tried, and where
    to put it (and, when known, where to get it and why the download did not happen)."""
    lines = [f"{dataset}: cannot find {filename}. Looked for:"]
    lines += [f"  {p}" for p in tried]
    lines.append(f"Put the file in {put_in}{os.sep}")
    if urls:
        lines[-1] += f" (official source: {urls[0]})"
    if hint:
        lines.append(hint)
    lines.append(
        "or pass path= (or set SHENJING_DATA) to the folder that holds it; "
        "see the layout in shenjing.datasets."
    )
    if reasons:
        lines.append("Downloading did not work:")
        lines += [f"  {r}" for r in reasons]
    elif urls and is_offline():
        lines.append("Downloading is off because SHENJING_OFFLINE is set.")
    return DatasetNotFoundError("\n".join(lines))


def fetch(
    dataset: str,
    filename: str,
    tried: Sequence[Path],
    dest: Path,
    urls: Sequence[str],
    checksum: tuple[str, str] | None,
    *,
    hint: str = "",
) -> Path:
    """Download ``filename`` to ``dest`` from the first of ``urls`` that works, or raise.

    Called after ``tried`` (the paths on disk) all came up empty. Each URL is tried in turn; a
    download that fails or whose checksum does not match leaves nothing behind.

    Args:
        dataset: name for messages, e.g. ``"MNIST"``.
        filename: the file's official name, for messages.
        tried: the paths that were looked at, for the error message.
        dest: where the complete, checked file is put.
        urls: download locations, best first; empty when there is no official download.
        checksum: ``(algorithm, hexdigest)`` that the downloaded bytes must have.
        hint: an extra line for the error message.

    Returns:
        ``dest``, complete and checked.

    Raises:
        DatasetNotFoundError: offline, no URL, or every URL failed (the reasons are listed).
    """
    if not urls or is_offline():
        raise not_found(dataset, filename, tried, dest.parent, urls=urls, hint=hint)
    reasons = []
    for url in urls:
        try:
            return download(url, dest, checksum)
        except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
            reasons.append(f"{url}: {e}")
    raise not_found(dataset, filename, tried, dest.parent, urls=urls, reasons=reasons, hint=hint)


def download(url: str, dest: Path, checksum: tuple[str, str] | None = None) -> Path:
    """Download ``url`` to ``dest`` with a tqdm progress bar, atomically.

    The bytes go to a temporary file next to ``dest``, are hashed as they arrive, and the file is
    renamed to ``dest`` only when the download is complete and the checksum matches; on any
    failure (network, checksum, Ctrl-C) the temporary file, and any folder made for it, is
    removed.

    Raises:
        OSError: the download failed or was incomplete.
        DatasetFormatError: the checksum did not match.
    """
    import hashlib
    import tempfile
    import urllib.request

    from tqdm import tqdm

    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    hasher = hashlib.new(checksum[0]) if checksum else None
    tmp = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=dest.name, leave=False) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise OSError(f"incomplete download: got {received} of {total} bytes")
        if checksum is not None and hasher is not None and hasher.hexdigest() != checksum[1]:
            raise DatasetFormatError(
                f"{checksum[0]} checksum mismatch (expected {checksum[1]}, got "
                f"{hasher.hexdigest()}); the downloaded file was not kept"
            )
        os.replace(tmp, dest)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        for folder in created:  # the folders made for this download, innermost first
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return dest


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a whole file, read in chunks."""
    import hashlib

    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def zip_fingerprint(path: Path) -> str:
    """A SHA-256 of a zip archive's central directory (and end record) plus the file size.

    The central directory lists every member's name, sizes and CRC-32 of its content, so this key
    changes whenever any member's content changes, yet it reads only the archive's last few MB
    (about 4 MB for 60,000 members) instead of the whole file. Modification times alone are not
    enough: copies and checkouts reset them. Falls back to hashing the whole file when the end
    record cannot be found (the archive is then corrupt, and opening it will say so).
    """
    import hashlib
    import struct

    size = path.stat().st_size
    with open(path, "rb") as f:
        tail_len = min(size, 65536 + 22)  # the end record plus the longest possible comment
        f.seek(size - tail_len)
        tail = f.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return "file-" + file_digest(path)
        cd_size, cd_offset = struct.unpack("<II", tail[at + 12 : at + 20])
        if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:  # zip64: ask the zip64 end record
            loc = tail.rfind(b"PK\x06\x07", 0, at)
            if loc < 0:
                return "file-" + file_digest(path)
            (z64_offset,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
            f.seek(z64_offset)
            rec = f.read(56)
            if len(rec) < 56 or rec[:4] != b"PK\x06\x06":
                return "file-" + file_digest(path)
            cd_size, cd_offset = struct.unpack("<QQ", rec[40:56])
        if cd_offset + cd_size > size:
            return "file-" + file_digest(path)
        f.seek(cd_offset)
        hasher = hashlib.sha256(str(size).encode())
        hasher.update(f.read(cd_size))
        hasher.update(tail[at:])
    return "cd-" + hasher.hexdigest()
