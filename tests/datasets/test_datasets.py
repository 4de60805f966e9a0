"""shenjing.datasets on tiny files that the tests write in the official formats.

Nothing here touches the network: every test runs with ``SHENJING_OFFLINE=1`` and a guard on
``urlopen`` that allows only ``file://`` URLs; the download tests serve files from a local folder.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

import shenjing
from shenjing.datasets import (
    DatasetFormatError,
    DatasetNotFoundError,
    cifar10,
    digits,
    fashion_mnist,
    mnist,
    sst,
    tinyshakespeare,
    wine,
)

_real_urlopen = urllib.request.urlopen


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    """A private data folder, cache and home; offline; only file:// URLs may be opened."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("SHENJING_DATA", str(data))
    monkeypatch.setenv("SHENJING_CACHE", str(cache))
    monkeypatch.setenv("SHENJING_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def file_only(url, *args, **kwargs):
        assert str(url).startswith("file:"), f"a test tried to reach the network: {url}"
        return _real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", file_only)
    return data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- idx (MNIST, Fashion-MNIST) -------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim  # 2051 for 3-d images, 2049 for 1-d labels
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx_set(folder: Path, rng, n_train=6, n_test=4, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, a in (("images-idx3", x), ("labels-idx1", y)):
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(a)))
            else:
                (folder / name).write_bytes(idx_bytes(a))
        arrays[prefix] = (x, y)
    return arrays


@pytest.mark.parametrize("module, subdir", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist")])
def test_idx_loaders_read_official_layout(env, rng, module, subdir):
    want = write_idx_set(env / subdir, rng)
    (x_train, y_train), (x_test, y_test) = module.load_data()
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,) and x_test.shape == (4, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, want["train"][0])
    np.testing.assert_array_equal(y_test, want["t10k"][1])
    assert x_train.flags.writeable and len(module.CLASS_NAMES) == 10


def test_mnist_path_argument_and_uncompressed_files(tmp_path, rng):
    want = write_idx_set(tmp_path / "elsewhere" / "mnist", rng, gz=False)
    (x_train, _), _ = mnist.load_data(path=tmp_path / "elsewhere")
    np.testing.assert_array_equal(x_train, want["train"][0])
    (x_train, _), _ = mnist.load_data(path=tmp_path / "elsewhere" / "mnist")  # the folder itself
    np.testing.assert_array_equal(x_train, want["train"][0])


def test_keras_spelling_reaches_the_loaders():
    tf = shenjing
    assert tf.keras.datasets.mnist.load_data is mnist.load_data
    assert "datasets" in tf.__all__


def _corrupt(env, rng, name, data: bytes, gz=True):
    write_idx_set(env / "mnist", rng)
    path = env / "mnist" / name
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_mnist_truncated_gzip_names_the_file(env, rng):
    write_idx_set(env / "mnist", rng)
    path = env / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DatasetFormatError, match="train-images-idx3-ubyte.gz.*truncated or"):
        mnist.load_data()


def test_mnist_not_gzip_is_reported(env, rng):
    path = _corrupt(env, rng, "t10k-labels-idx1-ubyte.gz", b"hello, not gzip", gz=False)
    with pytest.raises(DatasetFormatError, match=str(path.name)):
        mnist.load_data()


def test_mnist_truncated_data_after_header(env, rng):
    x = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    _corrupt(env, rng, "train-images-idx3-ubyte.gz", idx_bytes(x)[:-100])
    with pytest.raises(DatasetFormatError, match=r"train-images.*truncated.*6x28x28 = 4704 values"):
        mnist.load_data()


def test_mnist_swapped_files_give_magic_error(env, rng):
    _corrupt(env, rng, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros((6, 28, 28), np.uint8)))
    with pytest.raises(DatasetFormatError, match="magic number is 2051, expected 2049"):
        mnist.load_data()


def test_mnist_label_out_of_range(env, rng):
    _corrupt(env, rng, "t10k-labels-idx1-ubyte.gz", idx_bytes(np.array([1, 2, 12, 3], np.uint8)))
    with pytest.raises(DatasetFormatError, match=r"t10k-labels.*label 12 at index 2.*0\.\.9"):
        mnist.load_data()


def test_mnist_count_mismatch(env, rng):
    _corrupt(env, rng, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DatasetFormatError, match="6 images but .* 5 labels"):
        mnist.load_data()


def test_missing_file_offline_names_file_and_paths(env):
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert str(env / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert f"Put the file in {env / 'mnist'}" in message
    assert "SHENJING_OFFLINE" in message
    assert isinstance(info.value, FileNotFoundError)


def test_default_folder_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SHENJING_DATA")
    home = tmp_path / "home" / ".shenjing" / "datasets"
    with pytest.raises(DatasetNotFoundError, match=str(home)):
        tinyshakespeare.load_data()


# -- downloads, from a local folder ----------------------------------------------------------------
def _serve_mnist(tmp_path, rng, monkeypatch):
    want = write_idx_set(tmp_path / "server", rng)
    for f in (tmp_path / "server").iterdir():
        monkeypatch.setitem(mnist.SHA256, f.name, sha256(f))
    monkeypatch.setattr(mnist, "MIRRORS", [(tmp_path / "server").as_uri() + "/"])
    monkeypatch.delenv("SHENJING_OFFLINE")
    return want


def test_mnist_downloads_checks_and_keeps_files(env, tmp_path, rng, monkeypatch):
    want = _serve_mnist(tmp_path, rng, monkeypatch)
    (x_train, y_train), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, want["train"][0])
    assert sorted(p.name for p in (env / "mnist").iterdir()) == sorted(mnist.SHA256)


def test_download_checksum_mismatch_leaves_nothing(env, tmp_path, rng, monkeypatch):
    _serve_mnist(tmp_path, rng, monkeypatch)
    monkeypatch.setitem(mnist.SHA256, "train-images-idx3-ubyte.gz", "0" * 64)
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch") as info:
        mnist.load_data()
    assert "the downloaded file was not kept" in str(info.value)
    assert not (env / "mnist").exists()  # no file, no temporary .part, no folder


def test_download_tries_the_next_mirror(env, tmp_path, rng, monkeypatch):
    want = _serve_mnist(tmp_path, rng, monkeypatch)
    monkeypatch.setattr(mnist, "MIRRORS", [(tmp_path / "nowhere").as_uri() + "/"] + mnist.MIRRORS)
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, want["train"][0])


def test_download_failure_lists_reasons_and_paths(env, tmp_path, monkeypatch):
    monkeypatch.delenv("SHENJING_OFFLINE")
    monkeypatch.setattr(tinyshakespeare, "URLS", [(tmp_path / "nowhere.txt").as_uri()])
    with pytest.raises(DatasetNotFoundError, match="Downloading did not work") as info:
        tinyshakespeare.load_data()
    assert str(env / "tinyshakespeare" / "input.txt") in str(info.value)
    assert list(env.iterdir()) == []  # not even the folder made for the download


def test_tinyshakespeare_download_and_read(env, tmp_path, monkeypatch):
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    served = tmp_path / "input.txt"
    served.write_text(text, newline="")
    monkeypatch.delenv("SHENJING_OFFLINE")
    monkeypatch.setattr(tinyshakespeare, "URLS", [served.as_uri()])
    monkeypatch.setattr(tinyshakespeare, "SHA256", sha256(served))
    assert tinyshakespeare.load_data() == text
    assert (env / "tinyshakespeare" / "input.txt").read_text() == text
    assert tinyshakespeare.load_data(path=served) == text  # path= may name the file


def test_tinyshakespeare_rejects_non_utf8(env):
    (env / "tinyshakespeare").mkdir()
    (env / "tinyshakespeare" / "input.txt").write_bytes(b"abc\xff\xfe")
    with pytest.raises(DatasetFormatError, match=r"input.txt: not valid UTF-8 text at byte 3"):
        tinyshakespeare.load_data()


# -- CIFAR-10: the official python and binary tarballs -------------------------------------------
def py2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A CIFAR batch as the official files hold it: a dict pickled by Python 2 (protocol 2), its
    strings as py2 ``str`` (BINSTRING) and the array through numpy.core.multiarray._reconstruct."""

    def s(b: bytes) -> bytes:
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<i", len(b)) + b

    def i(v: int) -> bytes:
        return b"K" + bytes([v]) if 0 <= v < 256 else b"J" + struct.pack("<i", v)

    dtype = (b"cnumpy\ndtype\n" + s(b"u1") + i(0) + i(1) + b"\x87R"
             + b"(" + i(3) + s(b"|") + b"NNN" + i(-1) + i(-1) + i(0) + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + i(0) + b"\x85"
             + s(b"b") + b"\x87R" + b"(" + i(1) + i(data.shape[0]) + i(data.shape[1]) + b"\x86"
             + dtype + b"\x89" + s(data.tobytes()) + b"tb")
    label_list = b"](" + b"".join(i(v) for v in labels) + b"e"
    return (b"\x80\x02}(" + s(b"batch_label") + s(b"training batch") + s(b"data") + array
            + s(b"labels") + label_list + s(b"filenames") + b"]u.")


def cifar_batches(rng, n=3):
    names = [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]
    return {name: (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                   rng.integers(0, 10, n).tolist()) for name in names}


def write_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return path


def python_tar(path: Path, batches, dump=py2_batch) -> Path:
    files = {f"cifar-10-batches-py/{k}": dump(x, y) for k, (x, y) in batches.items()}
    files["cifar-10-batches-py/batches.meta"] = b"not read"
    return write_tar(path, files)


def binary_tar(path: Path, batches) -> Path:
    files = {f"cifar-10-batches-bin/{k}.bin":
             np.concatenate([np.array(y, np.uint8)[:, None], x], axis=1).tobytes()
             for k, (x, y) in batches.items()}
    return write_tar(path, files)


def check_cifar(result, batches):
    (x_train, y_train), (x_test, y_test) = result
    train = [batches[f"data_batch_{k}"] for k in range(1, 6)]
    x_want = np.concatenate([x for x, _ in train]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.shape == (3, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, x_want)
    np.testing.assert_array_equal(y_train[:, 0], sum((y for _, y in train), []))
    np.testing.assert_array_equal(y_test[:, 0], batches["test_batch"][1])
    # pixel (row 0, col 1), green = byte 1024 + 1 of the planar record
    assert x_test[0, 0, 1, 1] == batches["test_batch"][0][0, 1025]


def test_py2_batch_helper_is_a_real_numpy_pickle(rng):
    x = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    batch = pickle.loads(py2_batch(x, [1, 7]), encoding="bytes")  # the trusted helper's own bytes
    np.testing.assert_array_equal(batch[b"data"], x)
    assert batch[b"labels"] == [1, 7]


def test_cifar_python_tarball(env, rng):
    batches = cifar_batches(rng)
    python_tar(env / "cifar-10-python.tar.gz", batches)
    check_cifar(cifar10.load_data(), batches)


@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar_python_batches_pickled_by_python3(env, rng, protocol):
    batches = cifar_batches(rng)
    python_tar(env / "cifar-10-python.tar.gz", batches,
               dump=lambda x, y: pickle.dumps({b"data": x, b"labels": y}, protocol=protocol))
    check_cifar(cifar10.load_data(), batches)


class _Evil:
    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_cifar_pickle_never_runs_code(env, rng, tmp_path):
    batches = cifar_batches(rng)
    target = tmp_path / "pwned"
    python_tar(env / "cifar-10-python.tar.gz", batches,
               dump=lambda x, y: pickle.dumps({b"data": _Evil(str(target)), b"labels": y}))
    with pytest.raises(DatasetFormatError, match=r"data_batch_1.*refusing to load (posix|os)\.mk"):
        cifar10.load_data()
    assert not target.exists()


def test_cifar_python_batch_with_wrong_dtype(env, rng):
    batches = cifar_batches(rng)
    python_tar(env / "cifar-10-python.tar.gz", batches,
               dump=lambda x, y: pickle.dumps({b"data": x.astype(np.int16), b"labels": y}, 4))
    with pytest.raises(DatasetFormatError, match="expected uint8"):
        cifar10.load_data()


@pytest.mark.parametrize("label", [10, -1, 2**63, -2**63 - 1, 2**100])
def test_cifar_python_label_out_of_range_even_past_int64(env, rng, label):
    batches = cifar_batches(rng)
    batches["test_batch"][1][2] = label
    python_tar(env / "cifar-10-python.tar.gz", batches,
               dump=lambda x, y: pickle.dumps({b"data": x, b"labels": y}, protocol=4))
    with pytest.raises(DatasetFormatError, match=rf"test_batch: label {label} at index 2 is "
                                                 "outside the class range 0..9"):
        cifar10.load_data()


def test_cifar_binary_tarball_and_extracted_folder(env, rng, tmp_path):
    batches = cifar_batches(rng)
    binary_tar(env / "cifar-10-binary.tar.gz", batches)
    check_cifar(cifar10.load_data(), batches)
    folder = tmp_path / "x" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, (x, y) in batches.items():
        (folder / name).write_bytes(py2_batch(x, y))
    check_cifar(cifar10.load_data(path=folder.parent), batches)
    check_cifar(cifar10.load_data(path=folder), batches)


def test_cifar_truncated_tarball(env, rng):
    batches = cifar_batches(rng)
    path = python_tar(env / "cifar-10-python.tar.gz", batches)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetFormatError, match="cifar-10-python.tar.gz.*truncated or corrupt"):
        cifar10.load_data()


def test_cifar_missing_batch(env, rng):
    batches = cifar_batches(rng)
    del batches["data_batch_3"]
    python_tar(env / "cifar-10-python.tar.gz", batches)
    with pytest.raises(DatasetFormatError, match="missing CIFAR-10 batch data_batch_3"):
        cifar10.load_data()


def test_cifar_binary_label_out_of_range_and_truncated(env, rng):
    batches = cifar_batches(rng)
    batches["test_batch"][1][1] = 10
    path = binary_tar(env / "cifar-10-binary.tar.gz", batches)
    with pytest.raises(DatasetFormatError, match=r"test_batch.bin: label 10 at index 1"):
        cifar10.load_data()
    files = {f"cifar-10-batches-bin/{k}.bin": b"\x01" * 3000 for k in batches}
    write_tar(path, files)
    with pytest.raises(DatasetFormatError, match="not a whole number of 3073-byte records"):
        cifar10.load_data()


def test_cifar_download_checks_md5(env, rng, tmp_path, monkeypatch):
    batches = cifar_batches(rng)
    served = python_tar(tmp_path / "cifar-10-python.tar.gz", batches)
    monkeypatch.delenv("SHENJING_OFFLINE")
    monkeypatch.setattr(cifar10, "URLS", [served.as_uri()])
    with pytest.raises(DatasetNotFoundError, match="md5 checksum mismatch"):
        cifar10.load_data()
    assert list(env.iterdir()) == []
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(served.read_bytes()).hexdigest())
    check_cifar(cifar10.load_data(), batches)
    assert (env / "cifar-10-python.tar.gz").read_bytes() == served.read_bytes()


def test_path_naming_a_missing_file_puts_or_downloads_it_there(env, rng, tmp_path,
                                                               monkeypatch):
    """path= may name the file itself: missing, the message says to put it in its folder, and
    a download writes that file, not a folder named like it."""
    dl = tmp_path / "dl"
    target = dl / "cifar-10-python.tar.gz"
    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data(path=target)
    assert f"Looked for:\n  {target}\nPut the file in {dl}{os.sep} " in str(info.value)
    with pytest.raises(DatasetNotFoundError, match=f"Put the file in {dl}"):
        cifar10.load_data(path=dl / "cifar10-jpeg.zip")  # no download for the JPEG zip
    with pytest.raises(DatasetNotFoundError, match=f"Put the file in {dl}"):
        tinyshakespeare.load_data(path=dl / "input.txt")
    assert not dl.exists()
    batches = cifar_batches(rng)
    served = python_tar(tmp_path / "server.tar.gz", batches)
    monkeypatch.delenv("SHENJING_OFFLINE")
    monkeypatch.setattr(cifar10, "URLS", [served.as_uri()])
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(served.read_bytes()).hexdigest())
    check_cifar(cifar10.load_data(path=target), batches)
    assert target.is_file() and target.read_bytes() == served.read_bytes()
    text = tmp_path / "shakespeare.txt"
    text.write_text("To be")
    monkeypatch.setattr(tinyshakespeare, "URLS", [text.as_uri()])
    monkeypatch.setattr(tinyshakespeare, "SHA256", sha256(text))
    assert tinyshakespeare.load_data(path=dl / "input.txt") == "To be"
    assert (dl / "input.txt").is_file()


def test_loaders_of_folders_refuse_a_file_path(env, rng, tmp_path):
    write_idx_set(tmp_path / "idx", rng)
    for load, path in ((mnist.load_data, tmp_path / "idx" / "train-images-idx3-ubyte.gz"),
                       (mnist.load_data, tmp_path / "missing" / "train-images-idx3-ubyte.gz"),
                       (sst.load_data, tmp_path / "sst" / "train.txt")):
        with pytest.raises(ValueError, match=f"names a file, but this loader reads a folder: "
                                             f"give the folder .* path='{path.parent}'"):
            load(path=path)
    assert not (tmp_path / "missing").exists()


def test_cifar_missing_lists_every_format(env):
    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data()
    for name in ("cifar-10-python.tar.gz", "cifar-10-binary.tar.gz", "cifar10-jpeg.zip"):
        assert str(env / name) in str(info.value)


# -- CIFAR-10: the JPEG zip -----------------------------------------------------------------------
COLORS = np.array([[230, 20, 20], [20, 230, 20], [20, 20, 230], [230, 230, 20], [20, 230, 230],
                   [230, 20, 230], [128, 128, 128], [250, 250, 250], [10, 10, 10], [200, 120, 40]],
                  np.uint8)


def jpeg(color, size=(32, 32), mode="RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, tuple(int(c) for c in color) if mode == "RGB" else int(color[0])).save(
        buf, "JPEG", quality=95)
    return buf.getvalue()


def jpeg_zip(path: Path, per_class=(3, 2), extra: dict[str, bytes] | None = None,
             swap: bool = False) -> Path:
    """A zip like cifar10-jpeg.zip: stored (uncompressed) JPEGs in split/class folders; each
    class has its own flat colour. ``swap`` exchanges the first airplane and automobile images:
    other pixels, same member sizes, so the same archive size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for split, n in zip(("train", "test"), per_class):
            for c, name in enumerate(cifar10.CLASS_NAMES):
                for k in range(n):
                    color = 1 - c if swap and k == 0 and c < 2 else c
                    zf.writestr(f"{split}/{name}/{k:04d}.jpg", jpeg(COLORS[color]))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_cifar_jpeg_zip_decodes_in_label_order(env):
    jpeg_zip(env / "cifar10-jpeg.zip", extra={"README.txt": b"x", "train/cat/.DS_Store": b""})
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (30, 32, 32, 3) and y_train.shape == (30, 1)
    assert x_test.shape == (20, 32, 32, 3) and y_test.shape == (20, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train[:, 0]), [3] * 10)
    assert len(set(y_train[:10, 0].tolist())) > 3  # shuffled, not sorted by class
    for x, y in ((x_train, y_train), (x_test, y_test)):
        want = COLORS[y[:, 0]].astype(float)
        np.testing.assert_allclose(x.mean(axis=(1, 2)), want, atol=6)


def test_cifar_jpeg_zip_is_cached_and_keyed_by_content(env, tmp_path, monkeypatch):
    path = jpeg_zip(env / "cifar10-jpeg.zip")
    first = cifar10.load_data()
    (cache,) = (tmp_path / "cache").iterdir()
    with np.load(cache, allow_pickle=False) as f:
        assert sorted(f.files) == ["x_test", "x_train", "y_test", "y_train"]
    calls = []
    real_decode = cifar10._decode_jpeg_zip
    monkeypatch.setattr(cifar10, "_decode_jpeg_zip", lambda p: calls.append(p) or real_decode(p))
    again = cifar10.load_data()
    assert calls == []  # served from the cache
    np.testing.assert_array_equal(again[0][0], first[0][0])
    # Same size and modification time, other pixels: the key must change.
    stat = path.stat()
    jpeg_zip(path, swap=True)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    changed = cifar10.load_data()
    assert len(calls) == 1
    assert not np.array_equal(changed[0][0], first[0][0])


def test_cifar_jpeg_corrupt_cache_is_rebuilt(env, tmp_path):
    jpeg_zip(env / "cifar10-jpeg.zip")
    first = cifar10.load_data()
    (cache,) = (tmp_path / "cache").iterdir()
    cache.write_bytes(b"garbage")
    np.testing.assert_array_equal(cifar10.load_data()[1][0], first[1][0])
    assert cache.stat().st_size > 1000


def test_cifar_jpeg_grayscale_is_converted(env):
    with zipfile.ZipFile(env / "cifar10-jpeg.zip", "w") as zf:
        for split in ("train", "test"):
            zf.writestr(f"{split}/ship/0000.jpg", jpeg([77, 0, 0], mode="L"))
    (x_train, y_train), _ = cifar10.load_data()
    assert x_train.shape == (1, 32, 32, 3) and y_train[0, 0] == 8
    assert abs(int(x_train[0, 5, 5, 2]) - 77) <= 2


@pytest.mark.parametrize(
    "name, make, message",
    [("train/sheep/0001.jpg", lambda: b"", r"unknown class folder 'sheep'"),
     ("test/cat/9999.jpg", lambda: b"\xff\xd8 not a jpeg", r"test/cat/9999.jpg is not a readable"),
     ("test/cat/9998.jpg", lambda: jpeg([1, 2, 3], size=(16, 32)), r"9998.jpg is 16x32 pixels")],
    ids=["unknown_class", "corrupt_jpeg", "wrong_size"],
)
def test_cifar_jpeg_bad_members(env, name, make, message):
    jpeg_zip(env / "cifar10-jpeg.zip", per_class=(1, 1), extra={name: make()})
    with pytest.raises(DatasetFormatError, match=message):
        cifar10.load_data()


def test_cifar_jpeg_truncated_zip_and_empty_split(env):
    path = jpeg_zip(env / "cifar10-jpeg.zip", per_class=(1, 1))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DatasetFormatError, match="cifar10-jpeg.zip: not a readable zip archive"):
        cifar10.load_data()
    jpeg_zip(path, per_class=(1, 0))
    with pytest.raises(DatasetFormatError, match=r"no test/<class>/\*.jpg images"):
        cifar10.load_data()


def test_cifar_jpeg_without_pillow_says_how_to_install(env, monkeypatch):
    jpeg_zip(env / "cifar10-jpeg.zip", per_class=(1, 1))
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"needs Pillow: pip install 'shenjing\[images\]'"):
        cifar10.load_data()


# -- SST -------------------------------------------------------------------------------------------
SST_LINES = {
    "train": ["(3 (2 It) (4 (2 's) (4 great)))", "(1 (1 Dull) (2 .))", "(2 (2 Just) (2 okay))"],
    "dev": ["(0 (0 Awful) (2 .))"],
    "test": ["(4 (4 Superb) (2 !))", "(2 (2 Meh) (2 .))"],
}


def write_sst(folder: Path, lines=SST_LINES):
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in lines.items():
        (folder / f"{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_sst_trees(env):
    write_sst(env / "sst")
    train, dev, test = sst.load_data()
    assert [len(train), len(dev), len(test)] == [3, 1, 2]
    assert isinstance(train[0], shenjing.data.Tree)
    assert train[0].label == 3 and train[0].sentence == "It 's great"
    assert [t.to_ptb() for t in train] == SST_LINES["train"]


def test_sst_sentences_fine_and_binary(env):
    write_sst(env / "sst")
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test) = sst.load_sentences()
    assert x_train == ["It 's great", "Dull .", "Just okay"]
    np.testing.assert_array_equal(y_train, [3, 1, 2])
    assert y_train.dtype == np.uint8
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test) = sst.load_sentences(binary=True)
    assert x_train == ["It 's great", "Dull ."] and x_test == ["Superb !"]
    np.testing.assert_array_equal(y_train, [1, 0])
    np.testing.assert_array_equal(y_dev, [0])


def test_sst_malformed_line_names_file_line_column(env):
    lines = dict(SST_LINES, dev=["(0 (0 Awful) (2 .))", "", "(2 (2 oops) (2 .)"])
    write_sst(env / "sst", lines)
    with pytest.raises(DatasetFormatError, match=r"dev.txt, line 3, column 1: missing '\)'"):
        sst.load_data()


def test_sst_label_out_of_range(env):
    write_sst(env / "sst", dict(SST_LINES, test=["(4 (7 Superb) (2 !))"]))
    with pytest.raises(DatasetFormatError, match=r"test.txt, line 1, column 5: label 7 is outside"):
        sst.load_data()


def test_sst_missing_file(env):
    write_sst(env / "sst", {"train": ["(2 (2 a) (2 b))"]})
    with pytest.raises(DatasetNotFoundError, match="dev.txt") as info:
        sst.load_data()
    assert str(env / "sst" / "dev.txt") in str(info.value) and "trees/dev.txt" in str(info.value)


# -- embedded: digits, wine ---------------------------------------------------------------------
def _check_split(x_train, y_train, x_test, y_test, n, classes):
    assert len(x_train) + len(x_test) == n and len(y_train) == len(x_train)
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=classes)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=classes),
                                  np.round(counts * 0.2).astype(int))


def test_digits_embedded(monkeypatch):
    monkeypatch.delenv("SHENJING_DATA")  # needs no data folder
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.dtype == y_train.dtype == np.uint8 and x_train.shape[1:] == (8, 8)
    assert x_train.max() == 16 and x_train.min() == 0 and y_train.max() == 9
    assert len(digits.CLASS_NAMES) == 10
    _check_split(x_train, y_train, x_test, y_test, 1797, 10)
    again = digits.load_data()
    np.testing.assert_array_equal(again[1][0], x_test)  # the split is fixed
    from sklearn.datasets import load_digits  # test-only oracle: the same real data

    ref = load_digits()
    ours = np.concatenate([x_train, x_test]).reshape(-1, 64)
    ours_y = np.concatenate([y_train, y_test])
    key = lambda x, y: sorted(map(bytes, np.column_stack([x, y]).astype(np.uint8)))  # noqa: E731
    assert key(ours, ours_y) == key(ref.data, ref.target)


def test_wine_embedded():
    (x_train, y_train), (x_test, y_test) = wine.load_data()
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert x_train.shape == (142, 13) and x_test.shape == (36, 13)
    assert len(wine.FEATURE_NAMES) == 13 and wine.FEATURE_NAMES[-1] == "proline"
    _check_split(x_train, y_train, x_test, y_test, 178, 3)
    spread = np.concatenate([x_train, x_test]).max(axis=0)
    assert spread.max() / spread.min() > 100  # scales differ: normalization matters here
    from sklearn.datasets import load_wine

    ref = load_wine()
    np.testing.assert_allclose(np.sort(np.concatenate([x_train, x_test]), axis=0),
                               np.sort(ref.data, axis=0).astype(np.float32))
    assert list(ref.feature_names) == list(wine.FEATURE_NAMES)
