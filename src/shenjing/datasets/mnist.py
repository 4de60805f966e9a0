"""MNIST handwritten digits, read from the four official idx files (Keras's ``mnist.load_data``).

Layout: ``<root>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` (gzipped or not), where
``<root>`` is ``path``, else ``$SHENJING_DATA``, else ``~/.shenjing/datasets``. Missing files are
downloaded from a mirror of the official files and checked against their published SHA-256.

The idx format (LeCun): a big-endian header ``0x00 0x00 <type> <ndim>`` (type 0x08 = unsigned
byte, so the magic number is 2051 for 3-d image files and 2049 for 1-d label files), then one
big-endian uint32 per dimension, then the values in C order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import _files
from ._files import DatasetFormatError

CLASS_NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")

# Keras's mirror (storage.googleapis.com/tensorflow/tf-keras-datasets/) holds MNIST only as
# mnist.npz; its idx files of the same names are Fashion-MNIST. These mirrors serve the official
# idx files; the checksums below are the published ones, so a wrong file is never kept.
MIRRORS: list[str] = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
]
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as Keras does.

    Args:
        path: the data folder (holding ``mnist/``, or the idx files themselves); default
            ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
        (10000, 28, 28) with values 0..255, uint8 labels 0..9 of shape (60000,) and (10000,).

    Raises:
        DatasetNotFoundError: a file is missing and cannot be downloaded (the message says where
            to put it).
        DatasetFormatError: a file is truncated, corrupt, or holds labels outside 0..9.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    return load_idx_dataset("MNIST", "mnist", path, MIRRORS, SHA256, (28, 28), len(CLASS_NAMES))


def load_idx_dataset(
    dataset: str,
    subdir: str,
    path: str | os.PathLike[str] | None,
    mirrors: Sequence[str],
    sha256: dict[str, str],
    image_shape: tuple[int, int],
    num_classes: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Find (or download) and read the four idx files of an MNIST-like data set."""
    splits = []
    for prefix in ("train", "t10k"):
        images_file = _locate(dataset, subdir, path, f"{prefix}-images-idx3-ubyte.gz",
                              mirrors, sha256)
        labels_file = _locate(dataset, subdir, path, f"{prefix}-labels-idx1-ubyte.gz",
                              mirrors, sha256)
        x = read_idx(images_file, IMAGES_MAGIC)
        y = read_idx(labels_file, LABELS_MAGIC)
        if x.shape[1:] != image_shape:
            raise DatasetFormatError(
                f"{images_file}: expected images of {image_shape[0]}x{image_shape[1]} pixels, "
                f"found dimensions {'x'.join(map(str, x.shape))}"
            )
        if len(x) != len(y):
            raise DatasetFormatError(
                f"{images_file} holds {len(x)} images but {labels_file} holds {len(y)} labels"
            )
        bad = np.flatnonzero(y >= num_classes)
        if bad.size:
            raise DatasetFormatError(
                f"{labels_file}: label {int(y[bad[0]])} at index {int(bad[0])} is outside the "
                f"class range 0..{num_classes - 1} ({bad.size} such labels)"
            )
        splits.append((x, y))
    return splits[0], splits[1]


def _locate(
    dataset: str,
    subdir: str,
    path: str | os.PathLike[str] | None,
    filename: str,
    mirrors: Sequence[str],
    sha256: dict[str, str],
) -> Path:
    root = _files.data_root(path, (".gz", "-ubyte"))
    plain = filename.removesuffix(".gz")
    folders = [root / subdir] + ([root] if path is not None else [])
    tried = [folder / name for folder in folders for name in (filename, plain)]
    found = _files.first_existing(tried)
    if found is not None:
        return found
    return _files.fetch(
        dataset, filename, tried, root / subdir / filename,
        [m + filename for m in mirrors], ("sha256", sha256[filename]),
    )


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one idx file of unsigned bytes (gzipped if its name ends in .gz) into a new array.

    Args:
        path: the file.
        magic: the expected magic number (2051 for images, 2049 for labels).

    Raises:
        DatasetFormatError: not gzip, truncated, a wrong magic number, or a size that does not
            match the dimensions in the header.
    """
    import gzip
    import zlib

    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DatasetFormatError(
            f"{path}: cannot be read as gzip (truncated or corrupt?): {e}"
        ) from e
    if len(data) < 4:
        raise DatasetFormatError(f"{path}: only {len(data)} bytes, too short for an idx header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        kind = {IMAGES_MAGIC: "an image", LABELS_MAGIC: "a label"}.get(magic, "an idx")
        raise DatasetFormatError(
            f"{path}: idx magic number is {found}, expected {magic} for {kind} file "
            "(not an idx file, or the images and labels files are swapped?)"
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetFormatError(f"{path}: truncated idx header ({len(data)} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    need = int(np.prod(dims, dtype=np.int64))
    have = len(data) - header
    if have != need:
        what = "truncated" if have < need else "has extra bytes"
        raise DatasetFormatError(
            f"{path}: {what}: the header says {'x'.join(map(str, dims))} = {need} values, "
            f"but {have} bytes follow it"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()
