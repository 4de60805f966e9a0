"""TensorBoard event files, written without TensorFlow or protobuf.

An event file is a sequence of TFRecords, each holding one serialized ``Event`` protocol buffer:

- the record: ``uint64 length`` (little-endian), ``uint32 masked_crc32c(length bytes)``, the
  data, ``uint32 masked_crc32c(data)``;
- ``Event``: ``wall_time`` (double, field 1), ``step`` (int64, field 2), ``file_version``
  (string, field 3: ``"brain.Event:2"`` in a file's first event) or ``summary`` (field 5);
- ``Summary``: repeated ``Value`` (field 1), each a ``tag`` (string, field 1) and either
  ``simple_value`` (float, field 2) or ``histo`` (``HistogramProto``, field 5).

``simple_value`` and ``histo`` are the long-standing forms (TensorFlow 2 writes tensors tagged
with a plugin instead); TensorBoard reads both, converting these on load, and so do PyTorch's
``SummaryWriter`` files. The protobuf encoding here is the few wire types these messages use,
with proto3's rule that a singular field holding its default (0, "") is left out.

>>> with EventFileWriter("logs/train") as w:  # doctest: +SKIP
...     w.add_scalars({"epoch_loss": 0.25}, step=0)
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import struct
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def _crc32c_table() -> tuple[int, ...]:
    # Castagnoli polynomial 0x1EDC6F41, bit-reversed (the CRC is computed LSB first).
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, one table look-up per byte: the checksum of TFRecords.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    crc = _U32
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: the CRC rotated right by 15 bits plus a constant, mod 2**32 (so
    that a CRC stored inside checksummed data does not checksum to a fixed value)."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def tfrecord(data: bytes) -> bytes:
    """``data`` framed as one TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


# -- protobuf wire format -------------------------------------------------------------------------
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # an int64 below zero is written as its two's complement (10 bytes)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(payload)) + payload


def _double_field(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", value) if value != 0 else b""


def _float32(value: float) -> bytes:
    try:
        return struct.pack("<f", value)
    except OverflowError:  # beyond float32's range: what a cast to float32 gives
        return struct.pack("<f", math.copysign(math.inf, value))


def _packed_doubles(field: int, values: Iterable[float]) -> bytes:
    payload = b"".join(struct.pack("<d", v) for v in values)
    return _bytes_field(field, payload) if payload else b""


def scalar_value(tag: str, value: float) -> bytes:
    """A ``Summary.Value``: ``tag`` and ``simple_value`` (float32; a oneof member, so written
    even when 0)."""
    return (_bytes_field(1, tag.encode()) + _key(2, _FIXED32) + _float32(float(value)))


def histogram_value(tag: str, values: Any, bins: int = 30) -> bytes:
    """A ``Summary.Value`` holding a ``HistogramProto`` of ``values`` (its finite entries):
    ``bins`` equal-width buckets from their min to their max (TensorFlow 2's default of 30),
    each bucket stored as its right edge (``bucket_limit``) and its count."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size:
        counts, edges = np.histogram(v, bins=bins, range=(v.min(), v.max()))
        lo, hi, limits = float(v.min()), float(v.max()), edges[1:].tolist()
    else:
        counts, lo, hi, limits = np.zeros(0), 0.0, 0.0, []
    histo = (_double_field(1, lo) + _double_field(2, hi) + _double_field(3, float(v.size))
             + _double_field(4, float(v.sum())) + _double_field(5, float(v @ v))
             + _packed_doubles(6, limits) + _packed_doubles(7, counts.astype(float).tolist()))
    return _bytes_field(1, tag.encode()) + _bytes_field(5, histo)


def event(wall_time: float, step: int = 0, file_version: str | None = None,
          values: Iterable[bytes] = ()) -> bytes:
    """A serialized ``Event``: the file-version event when ``file_version`` is given, else a
    ``Summary`` of the encoded ``values`` (from ``scalar_value``, ``histogram_value``)."""
    out = _double_field(1, wall_time) + (_key(2, _VARINT) + _varint(step) if step else b"")
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    summary = b"".join(_bytes_field(1, v) for v in values)
    if summary:
        out += _bytes_field(5, summary)
    return out


# -- the writer -----------------------------------------------------------------------------------
_file_numbers = itertools.count()


class EventFileWriter:
    """Appends events to a new event file in ``logdir`` (created if missing).

    The file is named as TensorFlow 2's writer names it,
    ``events.out.tfevents.<seconds, 10 digits>.<hostname>.<pid>.<n><suffix>`` with ``n`` a
    per-process counter and the suffix ``.v2``; TensorBoard reads any file with ``tfevents`` in
    its name. The first event carries the file version. Writes are buffered until ``flush`` or
    ``close``.

    Args:
        logdir: the folder of the run (one TensorBoard "run" per folder).
        filename_suffix: appended to the file name.

    Attributes:
        path: the event file.
    """

    def __init__(self, logdir: str | os.PathLike[str], filename_suffix: str = ".v2") -> None:
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        name = (f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_file_numbers)}{filename_suffix}")
        self.path = os.path.join(os.fspath(logdir), name)
        self._file: Any = open(self.path, "wb")
        self._write(event(now, file_version=FILE_VERSION))

    @property
    def closed(self) -> bool:
        return bool(self._file.closed)

    def _write(self, data: bytes) -> None:
        self._file.write(tfrecord(data))

    def add_values(self, values: Iterable[bytes], step: int,
                   wall_time: float | None = None) -> None:
        """One event at ``step`` holding the encoded summary ``values``."""
        values = list(values)
        if values:
            self._write(event(time.time() if wall_time is None else wall_time, step,
                              values=values))

    def add_scalars(self, scalars: Mapping[str, float], step: int,
                    wall_time: float | None = None) -> None:
        """One event at ``step`` with a scalar per ``tag: value``."""
        self.add_values([scalar_value(tag, v) for tag, v in scalars.items()], step, wall_time)

    def add_histogram(self, tag: str, values: Any, step: int,
                      wall_time: float | None = None) -> None:
        """One event at ``step`` with the histogram of ``values`` (an array)."""
        self.add_values([histogram_value(tag, values)], step, wall_time)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file; closing twice does nothing."""
        self._file.close()

    def __enter__(self) -> EventFileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
