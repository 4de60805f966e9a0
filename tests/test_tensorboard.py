"""The TensorBoard callback and its event files: CRC-32C against published check values, an Event
encoded by hand from the protobuf spec, and fit's files read back by a reader written here (its
own CRC, framing and protobuf decoding), compared with the History."""

from __future__ import annotations

import os
import re
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing import callbacks, losses, optimizers
from shenjing.callbacks import LambdaCallback, TensorBoard
from shenjing.io.tfevents import (
    EventFileWriter,
    crc32c,
    event,
    histogram_value,
    masked_crc32c,
    scalar_value,
    tfrecord,
)
from shenjing.layers import Dense

MASK_DELTA = 0xA282EAD8


# -- an independent reader ------------------------------------------------------------------------
def bitwise_crc32c(data: bytes) -> int:
    """CRC-32C bit by bit (no table): the definition, to check the table-driven one's output."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    rot = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rot << 15) | (rot >> 17)) & 0xFFFFFFFF


def read_records(path: Path) -> list[bytes]:
    """The data of each TFRecord in ``path``, both CRCs checked."""
    raw, pos, records = path.read_bytes(), 0, []
    while pos < len(raw):
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        assert unmask(length_crc) == bitwise_crc32c(header)
        data = raw[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])
        assert len(data) == length and unmask(data_crc) == bitwise_crc32c(data)
        records.append(data)
        pos += 16 + length
    return records


def decode(message: bytes) -> dict[int, list]:
    """Protobuf fields: ``{field: [value, ...]}``; varints as ints, fixed64/32 as raw bytes,
    length-delimited as bytes."""
    fields: dict[int, list] = {}
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            byte = message[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while pos < len(message):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = message[pos:pos + size], pos + size
        else:
            assert wire == 2, f"unexpected wire type {wire}"
            size = varint()
            value, pos = message[pos:pos + size], pos + size
        fields.setdefault(field, []).append(value)
    return fields


def doubles(raw: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


def read_events(folder: Path) -> tuple[str, list[dict]]:
    """The only event file in ``folder``: its file version, then each summary event as
    ``{"step", "wall_time", "values": {tag: float or histogram dict}}``."""
    (path,) = folder.iterdir()
    pattern = (rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}"
               rf"\.{os.getpid()}\.\d+\.v2")
    assert re.fullmatch(pattern, path.name)
    first, *rest = (decode(r) for r in read_records(path))
    assert set(first) == {1, 3}  # wall_time, file_version
    events = []
    for ev in rest:
        assert set(ev) <= {1, 2, 5} and 5 in ev
        values = {}
        (summary,) = ev[5]
        for value in decode(summary)[1]:
            v = decode(value)
            (tag,) = v[1]
            if 2 in v:  # simple_value
                values[tag.decode()] = struct.unpack("<f", v[2][0])[0]
            else:
                h = decode(v[5][0])
                values[tag.decode()] = {
                    **{name: struct.unpack("<d", h[k][0])[0] if k in h else 0.0
                       for k, name in enumerate(["min", "max", "num", "sum", "sum_squares"], 1)},
                    "bucket_limit": doubles(h[6][0]), "bucket": doubles(h[7][0])}
        events.append({"step": ev.get(2, [0])[0], "wall_time": struct.unpack("<d", ev[1][0])[0],
                       "values": values})
    return first[3][0].decode(), events


def series(events: list[dict], tag: str) -> tuple[list[int], list]:
    pairs = [(e["step"], e["values"][tag]) for e in events if tag in e["values"]]
    return [s for s, _ in pairs], [v for _, v in pairs]


def f32(values) -> list[float]:
    return [float(np.float32(v)) for v in values]


# -- CRC, framing, encoding -----------------------------------------------------------------------
def test_crc32c_published_check_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC catalogue's check value
    # RFC 3720 (iSCSI), appendix B.4
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert crc32c(b"") == 0
    data = bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8))
    assert crc32c(data) == bitwise_crc32c(data)


def test_masked_crc32c():
    # 0xE3069283 rotated right by 15 bits is 0x2507C60D; plus 0xA282EAD8 is 0xC78AB0E5
    assert masked_crc32c(b"123456789") == 0xC78AB0E5
    assert masked_crc32c(b"") == MASK_DELTA  # the CRC of nothing is 0
    assert unmask(masked_crc32c(b"foo")) == crc32c(b"foo")


def test_tfrecord_framing():
    record = tfrecord(b"abc")
    assert record[:8] == struct.pack("<Q", 3) and record[12:15] == b"abc"
    assert record[8:12] == struct.pack("<I", masked_crc32c(struct.pack("<Q", 3)))
    assert record[15:] == struct.pack("<I", masked_crc32c(b"abc")) and len(record) == 19


def test_event_encoding_byte_for_byte():
    # Event{wall_time: 1.5, step: 300, summary: {value: [{tag: "loss", simple_value: 0.25}]}}
    value = (b"\x0a\x04loss"                  # Value.tag: field 1, length-delimited, 4 bytes
             b"\x15\x00\x00\x80\x3e")         # Value.simple_value: field 2, fixed32, 0.25f
    summary = b"\x0a\x0b" + value             # Summary.value: field 1, 11 bytes
    expected = (b"\x09\x00\x00\x00\x00\x00\x00\xf8\x3f"  # wall_time: field 1, fixed64, 1.5
                b"\x10\xac\x02"                          # step: field 2, varint 300
                b"\x2a\x0d" + summary)                   # summary: field 5, 13 bytes
    assert scalar_value("loss", 0.25) == value
    assert event(1.5, 300, values=[value]) == expected
    # the first event of a file: no step (proto3 leaves a 0 out), file_version field 3
    assert event(1.5, file_version="brain.Event:2") == (
        b"\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x1a\x0dbrain.Event:2")
    # a simple_value of 0 is still written (a oneof member); float32 overflow is inf
    assert scalar_value("a", 0.0) == b"\x0a\x01a\x15\x00\x00\x00\x00"
    assert scalar_value("a", -1e40) == b"\x0a\x01a\x15\x00\x00\x80\xff"


def test_histogram_encoding():
    values = np.array([[0.0, 1.0], [1.0, 3.0]], np.float32)
    v = decode(histogram_value("w", values, bins=3))
    assert v[1] == [b"w"]
    h = decode(v[5][0])
    assert 1 not in h  # min 0.0: proto3 leaves it out
    assert struct.unpack("<3d", b"".join(h[k][0] for k in (2, 3, 4))) == (3.0, 4.0, 5.0)
    assert struct.unpack("<d", h[5][0]) == (11.0,)  # sum of squares
    assert doubles(h[6][0]) == [1.0, 2.0, 3.0] and doubles(h[7][0]) == [1.0, 2.0, 1.0]


def test_writer_file_is_read_by_tensorboard_if_installed(tmp_path):
    # TensorBoard's own loader (with its conversion of simple_value and histo); not a dependency
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    with EventFileWriter(tmp_path) as writer:
        writer.add_scalars({"epoch_loss": 0.5, "epoch_accuracy": 0.75}, step=0)
        writer.add_scalars({"epoch_loss": 0.25}, step=1)
        writer.add_histogram("dense/kernel/histogram", np.arange(10.0), step=1)
    acc = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"histograms": 0})
    acc.Reload()
    assert acc.file_version == 2.0
    assert [(e.step, e.value) for e in acc.Scalars("epoch_loss")] == [(0, 0.5), (1, 0.25)]
    assert [(e.step, e.value) for e in acc.Scalars("epoch_accuracy")] == [(0, 0.75)]
    (histogram,) = acc.Histograms("dense/kernel/histogram")
    h = histogram.histogram_value
    assert (histogram.step, h.min, h.max, h.num, h.sum) == (1, 0.0, 9.0, 10.0, 45.0)
    assert list(h.bucket) == np.histogram(np.arange(10.0), 30)[0].tolist()


def test_encoding_equals_protobufs_if_installed():
    event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
    summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
    values = np.array([-1.5, 0.0, 2.0, 2.0, 7.25])
    limits = np.linspace(-1.5, 7.25, 31)[1:].tolist()
    counts = np.histogram(values, 30)[0].astype(float).tolist()
    histo = summary_pb2.HistogramProto(min=-1.5, max=7.25, num=5, sum=9.75, sum_squares=62.8125,
                                       bucket_limit=limits, bucket=counts)
    summary = summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="epoch_loss", simple_value=0.125),
        summary_pb2.Summary.Value(tag="w/histogram", histo=histo)])
    reference = event_pb2.Event(wall_time=1700000000.25, step=12, summary=summary)
    ours = event(1700000000.25, 12, values=[scalar_value("epoch_loss", 0.125),
                                           histogram_value("w/histogram", values)])
    assert event_pb2.Event.FromString(ours) == reference
    assert ours == reference.SerializeToString()
    first = event_pb2.Event(wall_time=1.5, file_version="brain.Event:2")
    assert event(1.5, file_version="brain.Event:2") == first.SerializeToString()


# -- the callback in fit --------------------------------------------------------------------------
def _model_and_data(n: int = 40):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((5,)), Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizers.SGD(learning_rate=0.1),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model, x, y


def test_fit_writes_epoch_scalars_to_train_and_validation(tmp_path):
    model, x, y = _model_and_data()
    history = model.fit(x, y, batch_size=10, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(tmp_path / "logs")]).history
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["train", "validation"]
    version, train = read_events(tmp_path / "logs" / "train")
    assert version == "brain.Event:2"
    assert {tag for e in train for tag in e["values"]} == {
        "epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    for name in ("loss", "accuracy"):
        assert series(train, f"epoch_{name}") == ([0, 1, 2], f32(history[name]))
    assert series(train, "epoch_learning_rate") == ([0, 1, 2], f32([0.1] * 3))
    _, val = read_events(tmp_path / "logs" / "validation")
    for name in ("loss", "accuracy"):
        assert series(val, f"epoch_{name}") == ([0, 1, 2], f32(history[f"val_{name}"]))
        # what Keras's evaluation inside fit writes: at the optimizer's step count (3 per epoch)
        assert series(val, f"evaluation_{name}_vs_iterations") == (
            [3, 6, 9], f32(history[f"val_{name}"]))
    assert all(e["wall_time"] > 1e9 for e in train + val)


def test_without_validation_no_validation_folder_and_each_fit_a_new_file(tmp_path):
    model, x, y = _model_and_data()
    tb = TensorBoard(tmp_path, write_graph=True, embeddings_metadata="meta.tsv")
    model.fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[tb])
    assert [p.name for p in tmp_path.iterdir()] == ["train"]
    model.fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[tb])
    assert len(list((tmp_path / "train").iterdir())) == 2


@pytest.mark.parametrize("update_freq, steps", [("batch", [1, 2, 3, 4, 5, 6]), (4, [4])])
def test_update_freq_writes_batch_scalars(tmp_path, update_freq, steps):
    model, x, y = _model_and_data(30)
    batch_logs = []
    record = LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs)))
    history = model.fit(x, y, batch_size=10, epochs=2, verbose=0,
                        callbacks=[record, TensorBoard(tmp_path, update_freq=update_freq)])
    _, train = read_events(tmp_path / "train")
    for name in ("loss", "accuracy"):
        assert series(train, f"batch_{name}") == (
            steps, f32(batch_logs[s - 1][name] for s in steps))
        assert series(train, f"epoch_{name}") == ([0, 1], f32(history.history[name]))


def test_epoch_only_by_default_and_steps_per_second(tmp_path):
    model, x, y = _model_and_data(30)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0,
              callbacks=[TensorBoard(tmp_path, write_steps_per_second=True)])
    _, train = read_events(tmp_path / "train")
    assert not any(tag.startswith("batch_") for e in train for tag in e["values"])
    steps, rates = series(train, "epoch_steps_per_second")
    assert steps == [0, 1] and all(r > 0 for r in rates)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0,
              callbacks=[TensorBoard(tmp_path / "b", update_freq=1, write_steps_per_second=True)])
    _, train = read_events(tmp_path / "b" / "train")
    steps, rates = series(train, "batch_steps_per_second")
    assert steps == [1, 2, 3] and all(r > 0 for r in rates)


def test_histogram_freq_writes_weight_histograms(tmp_path):
    model, x, y = _model_and_data()
    model.fit(x, y, batch_size=10, epochs=3, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=2)])
    _, train = read_events(tmp_path / "train")
    tags = sorted(t for e in train for t in e["values"] if t.endswith("/histogram"))
    names = [f"{layer.name}/{w}/histogram" for layer in model.layers for w in ("kernel", "bias")]
    assert tags == sorted(names * 2)  # epochs 0 and 2
    steps, hists = series(train, names[0])
    assert steps == [0, 2]
    kernel = model.layers[0].kernel.data.astype(np.float64)  # the last epoch's weights
    h = hists[-1]
    assert h["num"] == kernel.size == sum(h["bucket"]) and len(h["bucket"]) == 30
    assert (h["min"], h["max"]) == (kernel.min(), kernel.max()) == (h["min"], h["bucket_limit"][-1])
    assert h["sum"] == pytest.approx(kernel.sum()) and h["sum_squares"] == pytest.approx(
        (kernel ** 2).sum())
    expected, _ = np.histogram(kernel, bins=30, range=(kernel.min(), kernel.max()))
    assert h["bucket"] == expected.tolist()


def test_evaluate_writes_evaluation_scalars(tmp_path):
    model, x, y = _model_and_data()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=[TensorBoard(tmp_path)])
    _, val = read_events(tmp_path / "validation")
    assert series(val, "evaluation_loss_vs_iterations") == ([4], f32([logs["loss"]]))


@pytest.mark.parametrize("option", [{"write_images": True}, {"profile_batch": 2},
                                    {"profile_batch": (1, 3)}, {"embeddings_freq": 1}])
def test_unsupported_options_raise(tmp_path, option):
    (name,) = option
    with pytest.raises(NotImplementedError, match=rf"TensorBoard\({name}="):
        TensorBoard(tmp_path, **option)


@pytest.mark.parametrize("bad", [{"update_freq": "step"}, {"update_freq": 0},
                                 {"histogram_freq": -1}])
def test_bad_arguments_raise(tmp_path, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        TensorBoard(tmp_path, **bad)


def test_files_are_closed_when_fit_fails(tmp_path):
    model, x, y = _model_and_data(30)
    tb = TensorBoard(tmp_path, update_freq="batch")
    writers = []

    class Fail(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1 and writers == []:  # second batch of the first epoch: nothing flushed
                writers.append(tb._writers["train"])
                raise RuntimeError("data error")

    with pytest.raises(RuntimeError, match="data error"):
        model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[tb, Fail()])
    assert writers[0].closed and tb._writers == {}
    _, train = read_events(tmp_path / "train")  # complete, with the batches before the error
    assert series(train, "batch_loss")[0] == [1, 2]
