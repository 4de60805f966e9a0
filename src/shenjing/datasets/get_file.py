"""``keras.utils.get_file``: a file fetched from a URL into shenjing's folder once, checked
against a hash, and unpacked if asked.

By default the file goes to ``~/.shenjing/datasets`` (``cache_dir`` ``~/.shenjing``, the
folder the data set loaders read, ``cache_subdir`` ``datasets``), named as in ``origin``; a
later call finds it there and downloads nothing (unless its hash no longer matches, or
``force_download``). Names and folders follow Keras 3: with ``extract``, the archive is kept as
``<name>_archive`` (or as ``fname`` if it has an extension, then unpacked into
``<stem>_extracted``) and the folder it is unpacked into is returned.

Nothing half-made is left: the download goes to a temporary file renamed when complete and
checked (``datasets._files.download``), and an archive is unpacked into a temporary folder
renamed when done; members that would land outside it (``../``, absolute paths, links out) are
refused. ``SHENJING_OFFLINE=1`` stops network downloads (``file://`` URLs still copy).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

from ._files import DatasetNotFoundError, download, file_digest, is_offline


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: Any = "auto",
             cache_dir: str | os.PathLike[str] | None = None,
             force_download: bool = False) -> str:
    """Download ``origin`` into ``cache_dir/cache_subdir`` unless it is there already, and
    return the file's path (with ``extract`` or ``untar``, the unpacked folder's).

    ``file_hash`` (sha256, or md5 when 32 hex digits or ``hash_algorithm='md5'``) is checked
    after a download (a mismatch raises and keeps nothing) and on a file found in the cache (a
    mismatch downloads it again). ``archive_format`` (with ``extract``): 'auto' (tar then
    zip), 'tar', 'zip' or a list of them.

    >>> path = get_file(origin="https://example.com/data/auto-mpg.data")  # doctest: +SKIP
    """
    if origin is None:
        raise ValueError('get_file: specify "origin", the URL of the file to download')
    if md5_hash is not None and file_hash is None:  # Keras's deprecated spelling
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _algorithm(hash_algorithm, file_hash)
    base = Path(os.path.expanduser(cache_dir if cache_dir is not None else
                                   os.path.join("~", ".shenjing")))
    if not _writable(base):
        base = Path(tempfile.gettempdir()) / ".shenjing"
    folder = base / cache_subdir
    given = fname is not None and str(fname) != ""
    name = os.fspath(fname) if given else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"get_file: cannot tell a file name from origin {origin!r}; pass fname")
    if os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(f"get_file: fname must be a file name, not a path (got {name!r}); "
                         "choose the folder with cache_dir and cache_subdir")
    unpack = extract or untar
    if unpack and given and "." in name:
        target, unpacked = folder / name, folder / f"{name[:name.find('.')]}_extracted"
    elif unpack:
        target, unpacked = folder / f"{name}_archive", folder / name
    else:
        target, unpacked = folder / name, None

    fetch = force_download or not target.exists()
    if not fetch and file_hash is not None and file_digest(target, algorithm) != file_hash:
        print(f"A local file was found at {target}, but its {algorithm} hash does not match "
              f"{file_hash}: downloading it again.")
        fetch = True
    if fetch:
        if is_offline() and urllib.parse.urlsplit(origin).scheme not in ("", "file"):
            state = "does not match its hash" if target.exists() else "is not there"
            raise DatasetNotFoundError(f"get_file: {target} {state}, and downloading "
                                       f"{origin} is off because SHENJING_OFFLINE is set")
        print(f"Downloading data from {origin}")
        download(origin, target, None if file_hash is None else (algorithm, file_hash))
    if unpacked is None:
        return str(target)
    if fetch or not unpacked.exists():
        _unpack(target, unpacked, "tar" if untar else archive_format)
    return str(unpacked)


def _algorithm(name: str, file_hash: str | None) -> str:
    if name not in ("auto", "sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got "
                         f"{name!r}")
    if name == "auto":  # Keras's rule: 64 hex digits are a sha256, anything else an md5
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    return name


def _writable(base: Path) -> bool:
    """Whether files can be made under ``base`` (made here if missing)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(base, os.W_OK)


def _unpack(archive: Path, folder: Path, archive_format: Any) -> None:
    """Unpack ``archive`` into ``folder`` (replacing what was there) through a temporary
    folder beside it; a file that is none of the formats asked for is an error."""
    formats = (["tar", "zip"] if archive_format == "auto" else [] if archive_format is None
               else [archive_format] if isinstance(archive_format, str) else list(archive_format))
    unknown = [f for f in formats if f not in ("tar", "zip")]
    if not formats:
        raise ValueError("get_file: extract=True with archive_format=None unpacks nothing; "
                         "pass 'auto', 'tar' or 'zip', or extract=False")
    if unknown:
        raise ValueError(f"get_file: archive_format must be 'auto', 'tar', 'zip' or None, got "
                         f"{archive_format!r}")
    kind = next((f for f in formats if (tarfile.is_tarfile if f == "tar" else
                                        zipfile.is_zipfile)(archive)), None)
    if kind is None:
        raise ValueError(f"get_file: {archive} is not a {' or '.join(formats) or 'known'} "
                         "archive, so it was not unpacked")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        if kind == "tar":
            with tarfile.open(archive) as tar:
                filtered = hasattr(tarfile, "data_filter")  # (Python 3.10.12+, 3.11.4+)
                for member in tar.getmembers():
                    _inside(tmp, member.name, member.name)
                    if member.issym() or member.islnk():
                        if not filtered:  # a link made earlier could lead a later path out
                            raise ValueError(
                                f"get_file: {archive} holds links ({member.name!r}), which "
                                "this Python's tarfile cannot unpack safely (3.10.12 and "
                                "3.11.4 on have its data filter); nothing was unpacked")
                        _inside(tmp, os.path.join(os.path.dirname(member.name), member.linkname)
                                if member.issym() else member.linkname, member.name)
                tar.extractall(tmp, **({"filter": "data"} if filtered else {}))
        else:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    _inside(tmp, member, member)
                zf.extractall(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _inside(folder: Path, path: str, member: str) -> None:
    """Refuse an archive ``member`` whose path (or link target: ``path``) would land outside
    ``folder``."""
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, target]) != root:
        what = "would be written" if path == member else f"links to {path!r},"
        raise ValueError(f"get_file: the archive's member {member!r} {what} outside {folder}; "
                         "nothing was unpacked")
