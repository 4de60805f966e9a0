"""What a saved file is: the zip's member names, ``CorruptFileError``, and the checks that
name a wrong or damaged file for what it is (empty, a zip cut short, a weights-only
safetensors file, Keras's HDF5 or ``.keras``) from its first bytes.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np

# zipfile and tempfile (with pathlib, shutil, bz2, lzma behind them: ~8 ms) are imported where
# a file is written or read, not with ``import shenjing``.
if TYPE_CHECKING:
    import zipfile

FORMAT = "shenjing.model"
VERSION = 1
CONFIG, WEIGHTS, OPTIMIZER = "config.json", "model.weights.safetensors", "optimizer.safetensors"
RUN_MODEL = "model.shenjing"  # the model file in a run folder of ``shenjing train``


class CorruptFileError(ValueError):
    """The file is not a shenjing file, or it is truncated or damaged."""


# What a file is, from its first bytes, so that a wrong file is named for what it is.
_ZIP_MAGIC, _HDF5_MAGIC = (b"PK\x03\x04", b"PK\x05\x06"), b"\x89HDF\r\n\x1a\n"
_RESAVE = "save it again from the model, or load an earlier copy (another checkpoint)"


def _kind(data: bytes) -> str:
    """'zip', 'safetensors' (an 8-byte header length, then its JSON), 'hdf5', 'empty' or
    'unknown'."""
    if not data:
        return "empty"
    if data.startswith(_ZIP_MAGIC):
        return "zip"
    if data.startswith(_HDF5_MAGIC):
        return "hdf5"
    return "safetensors" if len(data) > 8 and data[8:9] == b"{" else "unknown"


def _read(path: str, what: str) -> tuple[bytes, str]:
    """The file's bytes and kind; FileNotFoundError, or CorruptFileError for an empty file or
    an HDF5 one (Keras's .h5 and .weights.h5, which shenjing does not read)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {what} file at {path}")
    with open(path, "rb") as f:
        data = f.read()
    kind = _kind(data)
    if kind == "empty":
        raise CorruptFileError(f"{path} is empty (0 bytes): a save that never finished or the "
                               f"wrong file; {_RESAVE}")
    if kind == "hdf5":
        raise CorruptFileError(f"{path} is an HDF5 file (Keras's .h5 or .weights.h5), which "
                               "shenjing does not read: shenjing writes its own formats whatever "
                               "the suffix (model.save: a zip of JSON and safetensors; "
                               "save_weights: safetensors). Read the arrays with h5py and give "
                               "them to model.set_weights")
    return data, kind


def _lzma_error() -> type[Exception]:
    """lzma's error class, or OSError where Python was built without lzma."""
    try:
        import lzma
    except ImportError:
        return OSError
    return lzma.LZMAError


def _open_zip(path: str, data: bytes | None = None) -> zipfile.ZipFile:
    """The archive, read into memory and checked member by member (CRC); CorruptFileError if
    it is damaged or is not a shenjing model. Read first, so that an error reading the disk is
    not called corruption."""
    import zipfile

    if data is None:
        data, kind = _read(path, "model")
        if kind == "safetensors":
            raise CorruptFileError(f"{path} holds weights only (written by save_weights), not a "
                                   "whole model: build the model in code, then call "
                                   "model.load_weights(path)")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        bad = z.testzip()
    # A damaged archive fails in many ways: a bad structure (BadZipFile, EOFError), damaged
    # compressed data (zlib.error), offsets out of range (ValueError), flags or methods that
    # it never used (RuntimeError: "encrypted", NotImplementedError: compression method), or
    # a method byte flipped to bzip2 or lzma, whose decoders then fail (OSError, LZMAError;
    # the data is in memory, so no OSError here is the disk's).
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError,
            NotImplementedError, OSError, _lzma_error()):
        what = "it is truncated or damaged (a zip archive that cannot be read)" \
            if _kind(data) == "zip" else \
            "it is not a shenjing model file (not a zip archive), or it is cut short"
        raise CorruptFileError(f"{path}: {what}; {_RESAVE}") from None
    names = z.namelist()
    if bad is not None:
        raise CorruptFileError(f"{path} is damaged: its member {bad} fails its checksum; "
                               f"{_RESAVE}")
    missing = [m for m in (CONFIG, WEIGHTS) if m not in names]
    if missing:
        if "metadata.json" in names and "model.weights.h5" in names:
            raise CorruptFileError(f"{path} is a Keras .keras file, which shenjing does not read "
                                   "(it holds HDF5 weights): build the model in shenjing and "
                                   "give it the weights with model.set_weights")
        raise CorruptFileError(f"{path} is damaged or is not a shenjing model file: it has no "
                               f"{' and no '.join(missing)}; {_RESAVE}")
    return z


# The safetensors metadata entry that holds _digest of a file's tensors and other metadata.
CHECKSUM = "shenjing.sha256"


def _digest(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """SHA-256 of the tensors (name, dtype, shape and bytes, in name order) and of the other
    metadata entries: a flipped bit in the data or in the header changes it (~0.7 s a GB)."""
    import hashlib

    h = hashlib.sha256()
    for key, value in sorted(metadata.items()):
        h.update(f"{key}\0{value}\0".encode())
    for key in sorted(arrays):
        a = np.asarray(arrays[key], order="C")
        h.update(f"{key}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(memoryview(a.reshape(-1)).cast("B"))  # no copy
    return h.hexdigest()


def _safetensors_bytes(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """A safetensors file of ``arrays`` and ``metadata``, with their checksum in the metadata,
    which :func:`_read_safetensors` checks."""
    from safetensors.numpy import save

    return save(arrays, metadata={**metadata, CHECKSUM: _digest(arrays, metadata)})


def _read_safetensors(data: bytes, what: str) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file; CorruptFileError if it cannot be read, or if it has
    a checksum (files written before there was one do not) that its contents do not match."""
    from safetensors.numpy import load

    try:
        arrays = load(data)
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise CorruptFileError(f"{what} is corrupt or truncated ({e}); {_RESAVE}") from None
    (size,) = struct.unpack("<Q", data[:8])  # a valid header now: load read it
    metadata = dict(json.loads(data[8:8 + size]).get("__metadata__") or {})
    expected = metadata.pop(CHECKSUM, None)
    if expected is not None and _digest(arrays, metadata) != expected:
        raise CorruptFileError(f"{what} is corrupt: its contents do not match the checksum "
                               f"saved with them (a damaged copy or disk); {_RESAVE}")
    return arrays
