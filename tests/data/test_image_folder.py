"""``image_dataset_from_directory`` on small class folders that the tests write with Pillow (PNG
and JPEG), as folders, zips and folders inside zips: labels, classes, sizes, color modes,
splits, the decoded-image cache, and the errors for bad input."""

from __future__ import annotations

import os
import sys
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing import losses
from shenjing.data import DataLoader, image_dataset_from_directory, image_folder

Image = pytest.importorskip("PIL.Image")

# one solid color per class, so that every decoded image shows its label
COLORS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "zebra": (30, 30, 200)}
COUNTS = {"cat": 3, "dog": 4, "zebra": 2}


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))


def _write_image(path, color, size=(7, 5), fmt="PNG"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)


def _class_folders(root, fmt="PNG", ext=".png"):
    for name, color in COLORS.items():
        for i in range(COUNTS[name]):
            _write_image(os.path.join(root, name, f"{i}{ext}"), color, fmt=fmt)
    (root / "cat" / "notes.txt").write_text("not an image, skipped by its extension")
    return root


def _zip_folder(folder, archive, inner=""):
    with zipfile.ZipFile(archive, "w") as z:
        for top, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(top, name)
                z.write(path, os.path.join(inner, os.path.relpath(path, folder)))
    return archive


def _load(directory, **kwargs):
    kwargs.setdefault("image_size", (4, 4))
    kwargs.setdefault("shuffle", False)
    return image_dataset_from_directory(directory, **kwargs)


def _label_of_color(pixel):
    return int(np.argmin([np.abs(pixel - c).sum() for c in COLORS.values()]))


def test_labels_classes_and_images(tmp_path, capsys):
    loader = _load(_class_folders(tmp_path / "pets"), batch_size=4)
    assert isinstance(loader, DataLoader)
    assert loader.class_names == ["cat", "dog", "zebra"]
    assert "Found 9 files belonging to 3 classes." in capsys.readouterr().out
    assert len(loader) == 3
    x, y = loader.x, loader.y
    assert x.shape == (9, 4, 4, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2]  # class order, then sorted names
    assert [_label_of_color(img[0, 0]) for img in x] == y.tolist()
    np.testing.assert_array_equal(x[0, 0, 0], COLORS["cat"])  # PNG: exact, 0..255 float32
    assert loader.file_paths[0].endswith("cat/0.png")
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 4, 4, 3) and yb.shape == (4,)


def test_label_modes_color_modes_and_sizes(tmp_path):
    root = _class_folders(tmp_path / "pets")
    x, y = _load(root, label_mode="categorical", return_arrays=True)
    np.testing.assert_array_equal(y, np.eye(3, dtype=np.float32)[[0, 0, 0, 1, 1, 1, 1, 2, 2]])
    x, y = _load(root, color_mode="grayscale", image_size=(3, 6), return_arrays=True)
    assert x.shape == (9, 3, 6, 1)
    x, _ = _load(root, color_mode="rgba", interpolation="nearest", return_arrays=True)
    assert x.shape == (9, 4, 4, 4) and np.all(x[..., 3] == 255)
    x, y = _load(root, label_mode=None, return_arrays=True)
    assert y is None and len(x) == 9
    batch = next(iter(_load(root, labels=None)))
    assert isinstance(batch, sj.Tensor) and batch.numpy().ndim == 4  # images only, as tensors
    with pytest.raises(ValueError, match="exactly 2 classes"):
        _load(root, label_mode="binary")
    x, y = _load(root, label_mode="binary", class_names=["zebra", "dog"], return_arrays=True)
    assert y.shape == (6, 1) and y[:, 0].tolist() == [0, 0, 1, 1, 1, 1]


def test_explicit_labels_follow_sorted_paths(tmp_path):
    root = _class_folders(tmp_path / "pets")
    labels = list(range(9))[::-1]
    _, y = _load(root, labels=labels, return_arrays=True)
    assert y.tolist() == labels
    _, y = _load(root, labels=np.array(labels), label_mode="categorical", return_arrays=True)
    assert y.shape == (9, 9) and y.argmax(axis=1).tolist() == labels
    with pytest.raises(ValueError, match="labels has 2 entries but .* 9 image files"):
        _load(root, labels=[0, 1])


def test_validation_split_subsets_partition_the_files(tmp_path, capsys):
    root = _class_folders(tmp_path / "pets")
    kwargs = dict(validation_split=0.34, seed=7, shuffle=True)
    train = _load(root, subset="training", **kwargs)
    val = _load(root, subset="validation", **kwargs)
    assert len(train.file_paths) == 6 and len(val.file_paths) == 3  # int(0.34 * 9) = 3
    assert sorted(train.file_paths + val.file_paths) == sorted(_load(root).file_paths)
    both_train, both_val = _load(root, subset="both", **kwargs)
    assert both_train.file_paths == train.file_paths and both_val.file_paths == val.file_paths
    np.testing.assert_array_equal(both_val.x, val.x)
    assert "Using 3 files for validation." in capsys.readouterr().out
    other = _load(root, subset="validation", validation_split=0.34, seed=8, shuffle=True)
    assert other.file_paths != val.file_paths
    for img, label in zip(train.x, train.y):  # labels still follow their images
        assert _label_of_color(img[0, 0]) == label
    with pytest.raises(ValueError, match="seed"):
        _load(root, subset="training", validation_split=0.2, shuffle=True)
    with pytest.raises(ValueError, match="go together"):
        _load(root, validation_split=0.2)
    (a1, _), (a2, _) = (_load(root, subset="both", return_arrays=True, **kwargs))
    assert len(a1) == 6 and len(a2) == 3


def test_shuffle_is_seeded_per_file_and_per_epoch(tmp_path):
    root = _class_folders(tmp_path / "pets")
    a = _load(root, shuffle=True, seed=3, batch_size=3)
    b = _load(root, shuffle=True, seed=3, batch_size=3)
    assert a.file_paths == b.file_paths != _load(root).file_paths
    first = [yb.tolist() for _, yb in a]
    assert first == [yb.tolist() for _, yb in b]
    assert sorted(sum(first, [])) == [0, 0, 0, 1, 1, 1, 1, 2, 2]


@pytest.mark.parametrize("inner", ["", "data/train"])
def test_zip_and_folder_inside_zip_match_the_folder(tmp_path, inner):
    folder = _class_folders(tmp_path / "pets")
    archive = _zip_folder(folder, tmp_path / "pets.zip", inner)
    from_zip = _load(os.path.join(archive, inner) if inner else archive)
    from_folder = _load(folder)
    assert from_zip.class_names == from_folder.class_names
    np.testing.assert_array_equal(from_zip.x, from_folder.x)
    np.testing.assert_array_equal(from_zip.y, from_folder.y)
    assert from_zip.file_paths[0] == f"{archive}/{inner + '/' if inner else ''}cat/0.png"


def test_jpeg_images_decode(tmp_path):
    root = _class_folders(tmp_path / "pets", fmt="JPEG", ext=".jpg")
    x, y = _load(root, return_arrays=True)
    assert [_label_of_color(img[1, 1]) for img in x] == y.tolist()
    assert np.abs(x[0, 1, 1] - COLORS["cat"]).max() < 10  # lossy, but close


def test_second_load_reads_the_cache_without_decoding(tmp_path, monkeypatch):
    root = _class_folders(tmp_path / "pets")
    first = _load(root)
    cached = os.listdir(tmp_path / "cache")
    assert len(cached) == 1 and cached[0].endswith(".npz")
    with np.load(tmp_path / "cache" / cached[0], allow_pickle=False) as f:
        assert f["images"].dtype == np.uint8

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(image_folder, "_decode_image", no_decoding)
    again = _load(root)
    np.testing.assert_array_equal(again.x, first.x)
    np.testing.assert_array_equal(again.y, first.y)
    # another size or color mode is another cache entry, so it decodes
    with pytest.raises(AssertionError, match="decoded again"):
        _load(root, image_size=(5, 5))
    with pytest.raises(AssertionError, match="decoded again"):
        _load(root, color_mode="grayscale")


def test_cache_follows_the_archive_content(tmp_path, monkeypatch):
    folder = _class_folders(tmp_path / "pets")
    archive = _zip_folder(folder, tmp_path / "pets.zip")
    _load(archive)
    decoded = []
    real = image_folder._decode_image
    monkeypatch.setattr(image_folder, "_decode_image",
                        lambda *a, **k: decoded.append(a[1]) or real(*a, **k))
    _load(archive)
    assert decoded == []
    _write_image(str(folder / "dog" / "9.png"), COLORS["dog"])
    _zip_folder(folder, archive)  # new content, same name
    assert len(_load(archive).file_paths) == 10 and len(decoded) == 10


def test_a_file_replaced_with_its_size_and_time_restored_is_decoded_again(tmp_path):
    """cp -p, rsync -a and tar restore the modification time; the status-change time they
    cannot, so a replaced image of the same size is not read from the cache."""
    root = _class_folders(tmp_path / "pets")
    path = root / "cat" / "0.png"
    stat = os.stat(path)
    before = _load(root).x[0].copy()
    _write_image(str(path), COLORS["zebra"])  # the same size: a solid color of the same shape
    assert os.stat(path).st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _load(root).x[0]
    assert _label_of_color(before[0, 0]) == 0 and _label_of_color(after[0, 0]) == 2


def test_sixteen_bit_images_are_scaled_to_eight_bits_not_clipped(tmp_path):
    """As TensorFlow's decode_png: 65535 is 255 and 1000 is 4 (Pillow's convert made both
    255); through the folders, load_img, and the command line's predict."""
    values = np.array([[0, 1000, 30000, 65535]], np.uint16)
    for name in ("a", "b"):
        os.makedirs(tmp_path / "deep" / name)
        Image.fromarray(values).save(tmp_path / "deep" / name / "0.png")
    expected = np.rint(values / 257.0)
    for mode in ("grayscale", "rgb"):
        x = _load(tmp_path / "deep", image_size=(1, 4), color_mode=mode).x[0]
        np.testing.assert_array_equal(x[..., 0], expected)
    loaded = image_folder.img_to_array(image_folder.load_img(tmp_path / "deep" / "a" / "0.png",
                                                             color_mode="grayscale"))
    np.testing.assert_array_equal(loaded[..., 0], expected)
    from shenjing.cli.predict import _read_image

    np.testing.assert_array_equal(_read_image(str(tmp_path / "deep" / "a" / "0.png"),
                                              (1, 4, 1))[..., 0], expected)


def test_a_damaged_cache_is_decoded_again(tmp_path):
    root = _class_folders(tmp_path / "pets")
    first = _load(root)
    (cache,) = (tmp_path / "cache").iterdir()
    cache.write_bytes(b"garbage")
    np.testing.assert_array_equal(_load(root).x, first.x)


def test_errors_name_what_is_wrong(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no class subfolders.*holds no images"):
        _load(empty)
    with pytest.raises(ValueError, match="No images found"):
        _load(empty, labels=None)
    flat = tmp_path / "flat"
    _write_image(str(flat / "a.png"), (1, 2, 3))
    with pytest.raises(ValueError, match="no class subfolders.*labels=None"):
        _load(flat)
    assert len(_load(flat, labels=None).x) == 1
    no_images = tmp_path / "no_images"
    (no_images / "cat").mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found in directory .*no_images"):
        _load(no_images)
    with pytest.raises(FileNotFoundError, match="no folder or zip archive"):
        _load(tmp_path / "missing")
    with pytest.raises(ValueError, match="class_names .* no folder for \\['cow'\\]"):
        _load(_class_folders(tmp_path / "pets"), class_names=["cat", "cow"])


def test_an_undecodable_image_is_named(tmp_path):
    root = _class_folders(tmp_path / "pets")
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    with pytest.raises(ValueError, match=r"dog/broken\.jpg is not a decodable image"):
        _load(root)


def test_corrupt_zip_and_missing_folder_in_zip(tmp_path):
    archive = _zip_folder(_class_folders(tmp_path / "pets"), tmp_path / "pets.zip")
    data = archive.read_bytes()
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged.zip is not a readable zip archive"):
        _load(damaged)
    with pytest.raises(FileNotFoundError, match="has no folder 'train'.*'cat'"):
        _load(os.path.join(archive, "train"))
    not_zip = tmp_path / "image.png"
    _write_image(str(not_zip), (0, 0, 0))
    with pytest.raises(ValueError, match="is a file, not a folder"):
        _load(not_zip)


def test_argument_errors(tmp_path):
    root = _class_folders(tmp_path / "pets")
    for kwargs, match in [({"color_mode": "cmyk"}, "color_mode"),
                          ({"label_mode": "sparse"}, "label_mode"),
                          ({"interpolation": "cubic"}, "interpolation"),
                          ({"image_size": (0, 4)}, "image_size"),
                          ({"labels": None, "class_names": ["cat"]}, "class_names"),
                          ({"subset": "test", "validation_split": 0.2}, "subset")]:
        with pytest.raises(ValueError, match=match):
            _load(root, **kwargs)


def test_missing_pillow_says_how_to_install(tmp_path, monkeypatch):
    root = _class_folders(tmp_path / "pets")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"shenjing\[images\]"):
        _load(root)


def test_exported_from_utils_and_trains_a_model(tmp_path):
    assert sj.utils.image_dataset_from_directory is image_dataset_from_directory
    loader = _load(_class_folders(tmp_path / "pets"), batch_size=4, shuffle=True, seed=0)
    model = sj.Sequential([sj.Input((4, 4, 3)), sj.layers.Rescaling(1 / 255),
                           sj.layers.Flatten(), sj.layers.Dense(3)])
    model.compile(sj.optimizers.Adam(learning_rate=0.05),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(loader, epochs=15, verbose=0)
    assert model.evaluate(loader, verbose=0)[1] == 1.0
