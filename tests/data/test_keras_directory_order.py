"""Keras's contract for ``image_dataset_from_directory`` and ``text_dataset_from_directory``
where it goes beyond reading the files: the file order (``os.walk``, folders sorted by path),
the seeded shuffle (``np.random.RandomState(seed).shuffle``), the validation split, symlinked
folders, the aspect-ratio options, unbatched samples; and ``timeseries_dataset_from_array``'s
shuffle, ``to_categorical`` and ``normalize``. Expected values are computed here by hand or
with NumPy's RandomState, as Keras computes them."""

from __future__ import annotations

import os

import numpy as np
import pytest

import shenjing as keras
from shenjing.autograd import Tensor

Image = pytest.importorskip("PIL.Image")

# files of two classes, with a nested folder: Keras walks 'a' (x, z), then 'a/sub' (y)
FILES = ["a/x.png", "a/z.png", "a/sub/y.png", "b/m.png", "b/sub/n.png", "b/sub2/k.png"]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENJING_CACHE", str(tmp_path / "cache"))


def _folders(root):
    """One image per file in FILES, its pixels the file's position in FILES times 10."""
    for i, rel in enumerate(FILES):
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        Image.fromarray(np.full((4, 6, 3), 10 * i, np.uint8)).save(root / rel)
    return root


def _rels(ds, root):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in ds.file_paths]


def test_inferred_labels_follow_keras_walk_order(tmp_path):
    root = _folders(tmp_path / "imgs")
    ds = keras.utils.image_dataset_from_directory(root, image_size=(4, 6), shuffle=False,
                                                  batch_size=None, verbose=False)
    assert _rels(ds, root) == FILES
    pixels = [int(x.numpy()[0, 0, 0]) for x, _ in ds]
    assert pixels == [10 * i for i in range(len(FILES))]


def test_explicit_labels_are_in_walk_order_from_the_root(tmp_path):
    root = _folders(tmp_path / "imgs")
    labels = list(range(len(FILES)))
    x, y = keras.utils.image_dataset_from_directory(
        root, labels=labels, image_size=(4, 6), shuffle=False, return_arrays=True,
        verbose=False)
    # each image's pixel value is 10 * its index in FILES, and its label that index
    np.testing.assert_array_equal(x[:, 0, 0, 0], 10 * y)
    np.testing.assert_array_equal(y, labels)


def test_shuffle_and_split_match_keras_randomstate(tmp_path):
    root = _folders(tmp_path / "imgs")
    expected = list(FILES)
    np.random.RandomState(7).shuffle(expected)  # what Keras's index_directory does
    n_val = int(0.34 * len(FILES))
    train, val = keras.utils.image_dataset_from_directory(
        root, image_size=(4, 6), seed=7, validation_split=0.34, subset="both", verbose=False)
    assert _rels(train, root) == expected[:-n_val]
    assert _rels(val, root) == expected[-n_val:]
    # two calls with the same seed give the same disjoint parts
    one = keras.utils.image_dataset_from_directory(
        root, image_size=(4, 6), seed=7, validation_split=0.34, subset="training",
        verbose=False)
    other = keras.utils.image_dataset_from_directory(
        root, image_size=(4, 6), seed=7, validation_split=0.34, subset="validation",
        verbose=False)
    assert _rels(one, root) == expected[:-n_val] and _rels(other, root) == expected[-n_val:]
    assert not set(one.file_paths) & set(other.file_paths)


def test_text_folders_share_the_order_and_shuffle(tmp_path):
    root = tmp_path / "texts"
    rels = [r.replace(".png", ".txt") for r in FILES]
    for rel in rels:
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        (root / rel).write_text(rel)
    ds = keras.utils.text_dataset_from_directory(root, shuffle=False, batch_size=None,
                                                 verbose=False)
    assert [t for t, _ in ds] == rels
    expected = list(rels)
    np.random.RandomState(3).shuffle(expected)
    texts, _ = keras.utils.text_dataset_from_directory(root, seed=3, batch_size=None,
                                                       verbose=False).as_arrays()
    assert list(texts) == expected


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_follow_links(tmp_path):
    root = _folders(tmp_path / "imgs")
    outside = tmp_path / "outside"
    os.makedirs(outside)
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(outside / "linked.png")
    try:
        os.symlink(outside, root / "a" / "link", target_is_directory=True)
    except OSError:
        pytest.skip("cannot create symbolic links here")
    plain = keras.utils.image_dataset_from_directory(root, image_size=(4, 6), shuffle=False,
                                                     verbose=False)
    assert "a/link/linked.png" not in _rels(plain, root)  # Keras's default: follow_links=False
    followed = keras.utils.image_dataset_from_directory(root, image_size=(4, 6), shuffle=False,
                                                        follow_links=True, verbose=False)
    assert _rels(followed, root) == FILES[:2] + ["a/link/linked.png"] + FILES[2:]


def _striped(path, height, width):
    """An image whose column j holds 10 * (j + 1) in every channel."""
    cols = np.broadcast_to(10 * (np.arange(width) + 1), (height, width)).astype(np.uint8)
    Image.fromarray(np.repeat(cols[:, :, None], 3, axis=2)).save(path)


def test_crop_to_aspect_ratio_takes_the_centered_window(tmp_path):
    os.makedirs(tmp_path / "c" / "only")
    _striped(tmp_path / "c" / "only" / "wide.png", 4, 8)
    x, _ = keras.utils.image_dataset_from_directory(
        tmp_path / "c", image_size=(4, 4), crop_to_aspect_ratio=True, interpolation="nearest",
        return_arrays=True, verbose=False)
    # Keras's smart_resize: crop width int(4 * 4 / 4) = 4 at int((8 - 4) / 2) = 2: columns 2..5
    np.testing.assert_array_equal(x[0, 0, :, 0], [30, 40, 50, 60])


def test_pad_to_aspect_ratio_pads_evenly_with_zeros(tmp_path):
    os.makedirs(tmp_path / "p" / "only")
    _striped(tmp_path / "p" / "only" / "wide.png", 2, 4)
    x, _ = keras.utils.image_dataset_from_directory(
        tmp_path / "p", image_size=(4, 4), pad_to_aspect_ratio=True, return_arrays=True,
        verbose=False)
    # resize_with_pad: scale 1 (ratio max(4/4, 2/4)), one row of zeros above and below
    expected = np.zeros((4, 4))
    expected[1:3] = [10, 20, 30, 40]
    np.testing.assert_array_equal(x[0, :, :, 0], expected)
    with pytest.raises(ValueError, match="only one"):
        keras.utils.image_dataset_from_directory(tmp_path / "p", crop_to_aspect_ratio=True,
                                                 pad_to_aspect_ratio=True)


def test_unbatched_samples_and_channels_first(tmp_path):
    root = _folders(tmp_path / "imgs")
    ds = keras.utils.image_dataset_from_directory(root, image_size=(4, 6), batch_size=None,
                                                  shuffle=False, label_mode="categorical",
                                                  color_mode="grayscale", verbose=False)
    x, y = next(iter(ds))
    assert isinstance(x, Tensor) and x.shape == (4, 6, 1)
    np.testing.assert_array_equal(y.numpy(), [1, 0])
    ds = keras.utils.image_dataset_from_directory(root, image_size=(4, 6), batch_size=None,
                                                  shuffle=False, verbose=False)
    _, label = next(iter(ds))
    assert isinstance(label, Tensor) and label.shape == () and int(label.numpy()) == 0
    x, _ = keras.utils.image_dataset_from_directory(
        root, image_size=(4, 6), data_format="channels_first", color_mode="rgba",
        return_arrays=True, verbose=False)
    assert x.shape == (len(FILES), 4, 4, 6)


def test_timeseries_shuffle_matches_keras_randomstate():
    data = np.arange(100)
    ds = keras.utils.timeseries_dataset_from_array(
        data, data, sequence_length=10, sequence_stride=3, sampling_rate=2, batch_size=4,
        start_index=5, end_index=50, shuffle=True, seed=1)
    starts = np.arange(0, 50 - 5 - 9 * 2, 3)  # Keras's num_seqs, then RandomState's shuffle
    np.random.RandomState(1).shuffle(starts)
    x, y = ds[0]
    np.testing.assert_array_equal(x[:, 0], 5 + starts[:4])
    np.testing.assert_array_equal(x[:, 1], 5 + starts[:4] + 2)
    np.testing.assert_array_equal(y, 5 + starts[:4])


def test_to_categorical_drops_a_last_axis_of_one_at_any_rank():
    y = np.array([[[2], [0]], [[1], [1]]])
    out = keras.utils.to_categorical(y)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.argmax(-1), y[..., 0])
    assert keras.utils.to_categorical([[1], [0]], num_classes=4).shape == (2, 4)


def test_normalize_as_keras():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x, axis=0, order=1), [[1, 1], [0, 0]])
    t = keras.utils.normalize(Tensor(np.array([[1.0, 1.0]], np.float32)))
    assert isinstance(t, Tensor)
    np.testing.assert_allclose(t.numpy(), [[2 ** -0.5] * 2], rtol=1e-6)
    # an integer Tensor gives fractions (they were cast back to integers: zeros)
    np.testing.assert_allclose(keras.utils.normalize(Tensor(np.array([[3, 4]]))).numpy(),
                               [[0.6, 0.8]])
