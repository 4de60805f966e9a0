"""CIFAR-10 (Krizhevsky, 2009): 60,000 32x32 colour images in 10 classes (Keras's
``cifar10.load_data``).

Looked for in ``<root>`` (``path``, else ``$SHENJING_DATA``, else ``~/.shenjing/datasets``), first
match wins:

1. ``cifar-10-python.tar.gz`` (the official "python version"), or the folder
   ``cifar-10-batches-py/`` that Keras extracts it to;
2. ``cifar-10-binary.tar.gz`` (the official "binary version"), or ``cifar-10-batches-bin/``;
3. ``cifar10-jpeg.zip``: JPEG files in class folders ``train/<class>/*.jpg`` and
   ``test/<class>/*.jpg``. It is decoded once with Pillow (the ``images`` extra) and cached as an
   ``.npz`` in ``$SHENJING_CACHE`` (else ``~/.shenjing/cache``), keyed by a hash of the zip's
   central directory, which holds every member's CRC-32: a changed archive is decoded again.

``path`` may also name one of these files or folders directly. When nothing is found, the python
tarball is downloaded from the official site (to ``path`` itself when it names a missing .tar.gz)
and checked against its published MD5.

Safety: the official python batches are pickles. Unpickling runs code named by the file, so we
never call ``pickle.load`` with the default globals. :class:`_BatchUnpickler` refuses every
global except the four names a pickled uint8 NumPy array needs, and even those are mapped to
inert stand-ins of our own (records that only store their arguments), so no NumPy or other code
runs while the file is read; the recorded shape, dtype and bytes are checked and turned into an
array afterwards. The tarballs are read in memory, never extracted, so member paths cannot
escape. The binary version and the JPEG zip contain no pickles at all.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import numpy as np

from .._cache import cache_dir
from . import _files
from ._files import DatasetFormatError

CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
URLS: list[str] = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
MD5 = "c58f30108f718f92721af3b95e74349a"  # published on the CIFAR-10 page

PYTHON_TAR, BINARY_TAR = "cifar-10-python.tar.gz", "cifar-10-binary.tar.gz"
JPEG_ZIP = "cifar10-jpeg.zip"
PYTHON_DIR, BINARY_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
_TEST = ["test_batch"]
_PIXELS = 32 * 32 * 3
_CACHE_VERSION = 1
_IMAGE_FORMATS = ("JPEG", "PNG")

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Load CIFAR-10 as Keras does.

    Args:
        path: the data folder, or one of the archives (or extracted batch folders) itself;
            default ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3) and
        (10000, 32, 32, 3), channels last; uint8 labels (50000, 1) and (10000, 1) in 0..9
        (see ``CLASS_NAMES``).

    Raises:
        DatasetNotFoundError: no archive is found and none can be downloaded (the message lists
            every path tried).
        DatasetFormatError: an archive is truncated or corrupt, or holds bad labels or images.
        ImportError: reading the JPEG zip needs Pillow (``pip install shenjing[images]``).

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    source = _find(path)
    if source.suffix.lower() == ".zip":
        return _load_jpeg_zip(source)
    if source.is_dir():
        return _parse_members(source, _read_dir(source))
    return _parse_members(source, _read_tar(source))


def _find(path: str | os.PathLike[str] | None) -> Path:
    """The archive or batch folder to read: ``path`` itself when it names one, else the first
    found in the data folder, else the python tarball downloaded (to ``path`` when it names a
    missing .tar.gz; a missing .zip cannot be downloaded)."""
    file = _files.named_file(path, (".tar.gz", ".tgz", ".zip"))
    if file is not None:
        if file.exists():
            return file
        urls = [] if file.suffix.lower() == ".zip" else URLS
        return _files.fetch("CIFAR-10", file.name, [file], file, urls, ("md5", MD5))
    root = _files.data_root(path)
    if root.name in (PYTHON_DIR, BINARY_DIR) and root.is_dir():
        return root
    tried = [root / name for name in (PYTHON_TAR, PYTHON_DIR, BINARY_TAR, BINARY_DIR, JPEG_ZIP)]
    found = _files.first_existing(tried)
    if found is not None:
        return found
    return _files.fetch("CIFAR-10", PYTHON_TAR, tried, root / PYTHON_TAR, URLS, ("md5", MD5),
                        hint=f"({BINARY_TAR} or {JPEG_ZIP} in the same folder work too)")


# -- the official tarballs ------------------------------------------------------------------------
def _wanted(name: str) -> str | None:
    """The batch a member or file name holds (``data_batch_1``, ``test_batch.bin``...), or None."""
    base = posixpath.basename(name)
    stem = base.removesuffix(".bin")
    return base if stem in _TRAIN or stem in _TEST else None


def _read_tar(path: Path) -> dict[str, bytes]:
    import tarfile
    import zlib

    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:  # one pass: gzip streams are slow to seek
                key = _wanted(member.name)
                if key is not None and member.isfile():
                    f = tar.extractfile(member)
                    if f is not None:
                        members[key] = f.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DatasetFormatError(
            f"{path}: cannot be read as a tar archive (truncated or corrupt?): {e}"
        ) from e
    return members


def _read_dir(path: Path) -> dict[str, bytes]:
    return {key: p.read_bytes() for p in sorted(path.iterdir())
            if (key := _wanted(p.name)) is not None and p.is_file()}


def _parse_members(source: Path, members: dict[str, bytes]) -> tuple[Split, Split]:
    binary = any(k.endswith(".bin") for k in members)
    suffix = ".bin" if binary else ""
    missing = [n + suffix for n in _TRAIN + _TEST if n + suffix not in members]
    if missing:
        raise DatasetFormatError(
            f"{source}: missing CIFAR-10 batch{'es' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (truncated archive, or not CIFAR-10?)"
        )
    parse = _parse_binary_batch if binary else _parse_python_batch
    splits = []
    for names in (_TRAIN, _TEST):
        parts = [parse(members[n + suffix], f"{source}: {n + suffix}") for n in names]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        # Stored as (N, 3, 32, 32) planes; Keras returns channels last.
        x = np.ascontiguousarray(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        splits.append((x, y.reshape(-1, 1)))
    return splits[0], splits[1]


def _check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    bad = np.flatnonzero((labels < 0) | (labels >= len(CLASS_NAMES)))
    if bad.size:
        raise DatasetFormatError(
            f"{where}: label {int(labels[bad[0]])} at index {int(bad[0])} is outside the class "
            f"range 0..{len(CLASS_NAMES) - 1}"
        )
    return labels.astype(np.uint8)


def _parse_binary_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Binary version: records of 1 label byte followed by 3072 pixel bytes (R, G, B planes)."""
    if len(data) == 0 or len(data) % (1 + _PIXELS):
        raise DatasetFormatError(
            f"{where}: {len(data)} bytes is not a whole number of {1 + _PIXELS}-byte records "
            "(truncated?)"
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, 1 + _PIXELS)
    return records[:, 1:].copy(), _check_labels(records[:, 0], where)


# -- the python version: pickles, read without running anything they name -------------------------
class _ArrayRecord:
    """Stand-in for ``numpy.ndarray``: keeps the state the pickle gives it and does nothing else."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DTypeRecord:
    """Stand-in for ``numpy.dtype``: keeps its arguments and state."""

    __slots__ = ("args", "state")

    def __init__(self, *args: Any) -> None:
        self.args, self.state = args, None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _ArrayRecord:
    """Stand-in for ``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``."""
    if cls is not _ArrayRecord:
        raise ValueError("_reconstruct may only rebuild an ndarray")
    return _ArrayRecord()


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode``: protocol-2 pickles written by Python 3 store bytes so."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError("_codecs.encode is only allowed as encode(str, 'latin1')")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _ArrayRecord,
    ("numpy", "dtype"): _DTypeRecord,
    ("_codecs", "encode"): _latin1,
}


def _unpickle(data: bytes, where: str) -> Any:
    import io
    import pickle

    class _BatchUnpickler(pickle.Unpickler):
        """An unpickler whose only globals are the inert stand-ins of ``_ALLOWED_GLOBALS``."""

        def find_class(self, module: str, name: str) -> Any:
            try:
                return _ALLOWED_GLOBALS[(module, name)]
            except KeyError:
                raise pickle.UnpicklingError(
                    f"refusing to load {module}.{name}: a CIFAR-10 batch holds only a dict of "
                    "bytes, lists and one uint8 array"
                ) from None

        def persistent_load(self, pid: Any) -> Any:
            raise pickle.UnpicklingError("persistent ids are not allowed")

    try:
        # encoding="bytes": the official batches were written by Python 2, whose str is bytes.
        return _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:  # any malformed pickle: say which file
        raise DatasetFormatError(f"{where}: not a valid CIFAR-10 python batch: {e}") from e


def _record_to_array(record: Any, where: str) -> np.ndarray:
    """Check the recorded ndarray state and build the uint8 array it describes."""
    state = getattr(record, "state", None) if isinstance(record, _ArrayRecord) else None
    if not isinstance(state, tuple) or len(state) != 5:
        raise DatasetFormatError(f"{where}: 'data' is not a pickled NumPy array")
    _version, shape, dtype, fortran, raw = state
    code = dtype.args[0] if isinstance(dtype, _DTypeRecord) and dtype.args else None
    if code not in ("u1", b"u1"):
        raise DatasetFormatError(f"{where}: 'data' has dtype {code!r}, expected uint8 ('u1')")
    if isinstance(raw, str):
        raw = raw.encode("latin1")
    if (not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape)
            or not isinstance(raw, bytes)):
        raise DatasetFormatError(f"{where}: 'data' has a malformed array header")
    if len(raw) != int(np.prod(shape, dtype=np.int64)):
        raise DatasetFormatError(
            f"{where}: 'data' claims shape {shape} but holds {len(raw)} bytes (truncated?)"
        )
    return np.frombuffer(raw, np.uint8).reshape(shape, order="F" if fortran else "C")


def _parse_python_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Python version: a pickled dict with ``data`` (N, 3072) uint8 and ``labels`` (list of N)."""
    batch = _unpickle(data, where)
    if not isinstance(batch, dict):
        raise DatasetFormatError(f"{where}: expected a pickled dict, found {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DatasetFormatError(f"{where}: the batch has no 'data' or no 'labels' entry")
    x = _record_to_array(batch["data"], where)
    labels = batch["labels"]
    if not isinstance(labels, list) or not all(type(v) is int for v in labels):
        raise DatasetFormatError(f"{where}: 'labels' is not a list of integers")
    if x.ndim != 2 or x.shape[1] != _PIXELS:
        raise DatasetFormatError(f"{where}: 'data' has shape {x.shape}, expected (N, {_PIXELS})")
    if len(labels) != len(x):
        raise DatasetFormatError(f"{where}: {len(x)} images but {len(labels)} labels")
    # as Python ints (dtype object), so that a label past int64 is out of range, not an overflow
    return x, _check_labels(np.array(labels, dtype=object), where)


# -- the JPEG zip, decoded once and cached ---------------------------------------------------------
def _load_jpeg_zip(path: Path) -> tuple[Split, Split]:
    key = _files.zip_fingerprint(path)
    cache = Path(cache_dir()) / f"cifar10-jpeg-v{_CACHE_VERSION}-{key[:32]}.npz"
    cached = _read_cache(cache)
    if cached is not None:
        return cached
    result = _decode_jpeg_zip(path)
    _write_cache(cache, result)
    return result


def _read_cache(cache: Path) -> tuple[Split, Split] | None:
    """The cached arrays, or None when the cache is missing or unusable (it is then rebuilt)."""
    import zipfile

    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as f:
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    for x, y in (arrays[:2], arrays[2:]):
        if (x.dtype != np.uint8 or y.dtype != np.uint8 or x.shape[1:] != (32, 32, 3)
                or y.shape != (len(x), 1)):
            return None
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _write_cache(cache: Path, result: tuple[Split, Split]) -> None:
    """Write the npz atomically (temporary file + rename); a failure only costs speed later."""
    import tempfile
    import warnings

    (x_train, y_train), (x_test, y_test) = result
    tmp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{cache.name}.", suffix=".part", dir=cache.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        os.replace(tmp, cache)
    except OSError as e:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        warnings.warn(f"could not write the CIFAR-10 cache {cache} ({e}); the JPEG archive will "
                      "be decoded again next time", stacklevel=3)


def _require_pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            f"Reading {JPEG_ZIP} needs Pillow: pip install 'shenjing[images]' (or pip install "
            f"Pillow), or put the official {PYTHON_TAR} in the data folder instead"
        ) from e
    return Image


def _decode_jpeg_zip(path: Path) -> tuple[Split, Split]:
    """Decode every ``{train,test}/<class>/*.jpg`` member into uint8 arrays.

    Files are ordered by class and name, then put in a fixed pseudo-random order (seed 0): the
    official batches are shuffled too, and Keras's ``validation_split`` takes the last samples, so
    class-sorted arrays would give a one-class validation set.
    """
    import io
    import zipfile

    Image = _require_pillow()
    class_index = {name: i for i, name in enumerate(CLASS_NAMES)}
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetFormatError(f"{path}: not a readable zip archive (truncated or corrupt?): "
                                 f"{e}") from e
    with zf:
        entries: dict[str, list[tuple[int, str, zipfile.ZipInfo]]] = {"train": [], "test": []}
        for info in zf.infolist():
            parts = info.filename.split("/")
            if (info.is_dir() or len(parts) < 3 or "__MACOSX" in parts or parts[-1].startswith(".")
                    or not parts[-1].lower().endswith((".jpg", ".jpeg", ".png"))):
                continue
            split, label_name = parts[-3].lower(), parts[-2]
            if split not in entries:
                continue
            if label_name not in class_index:
                raise DatasetFormatError(
                    f"{path}: {info.filename} is in an unknown class folder {label_name!r}; "
                    f"expected one of {', '.join(CLASS_NAMES)}"
                )
            entries[split].append((class_index[label_name], info.filename, info))
        splits = []
        for split, items in entries.items():
            if not items:
                raise DatasetFormatError(
                    f"{path}: no {split}/<class>/*.jpg images found (expected folders "
                    f"train/ and test/ with one sub-folder per class)"
                )
            items.sort(key=lambda t: (t[0], t[1]))
            # Sample k of the result is items[order[k]]; item j therefore goes to position[j].
            order = np.random.default_rng(0).permutation(len(items))
            position = np.empty_like(order)
            position[order] = np.arange(len(items))
            x = np.empty((len(items), 32, 32, 3), np.uint8)
            y = np.array([label for label, _, _ in items], np.uint8)[order].reshape(-1, 1)
            # Read the members in the order they lie in the file: sequential reads.
            for j in sorted(range(len(items)), key=lambda j: items[j][2].header_offset):
                _, name, info = items[j]
                x[position[j]] = _decode_one(Image, io.BytesIO(_read_member(zf, info, path)),
                                             path, name)
            splits.append((x, y))
    return splits[0], splits[1]


def _read_member(zf: Any, info: Any, path: Path) -> bytes:
    import zipfile
    import zlib

    try:
        return zf.read(info)  # checks the member's CRC-32
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise DatasetFormatError(f"{path}: member {info.filename} is corrupt: {e}") from e


def _decode_one(Image: Any, data: Any, path: Path, name: str) -> np.ndarray:
    try:
        with Image.open(data, formats=_IMAGE_FORMATS) as im:
            if im.size != (32, 32):
                raise DatasetFormatError(f"{path}: {name} is {im.size[0]}x{im.size[1]} pixels, "
                                         "expected 32x32")
            if im.mode != "RGB":
                im = im.convert("RGB")
            return np.frombuffer(im.tobytes(), np.uint8).reshape(32, 32, 3)
    except (OSError, SyntaxError, ValueError) as e:  # UnidentifiedImageError is an OSError
        if isinstance(e, DatasetFormatError):
            raise
        raise DatasetFormatError(f"{path}: {name} is not a readable image: {e}") from e
