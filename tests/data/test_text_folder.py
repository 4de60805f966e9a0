"""``text_dataset_from_directory`` on a small folder of .txt files written in tmp_path: classes
and labels, label modes, max_length, the seeded validation split, TextVectorization adapting
on its batches, and the errors for a missing or empty folder."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers
from shenjing.data import DataLoader

# every text names its class, so that each batch shows its labels are its texts'
TEXTS = {
    "neg": ["neg bad awful", "neg dull plot", "neg too long"],
    "pos": ["pos great fun", "pos loved it", "pos fine acting", "pos a gem"],
}


@pytest.fixture
def reviews(tmp_path):
    root = tmp_path / "reviews"
    for name, texts in TEXTS.items():
        (root / name).mkdir(parents=True)
        for i, text in enumerate(texts):
            (root / name / f"{i}.txt").write_text(text, encoding="utf-8")
    (root / "pos" / "cover.jpg").write_bytes(b"not text")  # not .txt: skipped
    (root / "neg" / ".hidden.txt").write_text("skipped")
    return root


def _load(directory, **kwargs):
    kwargs.setdefault("shuffle", False)
    return sj.utils.text_dataset_from_directory(directory, **kwargs)


def _class_of(text):
    return ["neg", "pos"].index(text.split()[0])


def test_text_dataset_classes_labels_and_string_batches(reviews, capsys):
    loader = _load(reviews, batch_size=4)
    assert isinstance(loader, DataLoader)
    assert loader.class_names == ["neg", "pos"]
    assert "Found 7 files belonging to 2 classes." in capsys.readouterr().out
    assert loader.y.dtype == np.int32 and loader.y.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert loader.x.tolist() == TEXTS["neg"] + TEXTS["pos"]
    assert loader.file_paths[0].endswith("neg/0.txt") and len(loader) == 2
    texts, labels = next(iter(loader))
    assert isinstance(texts, np.ndarray) and texts.shape == (4,)
    assert all(type(t) is str for t in texts)
    assert [_class_of(t) for t in texts] == labels.tolist()
    assert sj.keras.utils.text_dataset_from_directory is sj.utils.text_dataset_from_directory


def test_text_dataset_label_modes_and_class_names(reviews):
    y = _load(reviews, label_mode="categorical").y
    assert y.dtype == np.float32 and y.tolist() == [[1, 0]] * 3 + [[0, 1]] * 4
    y = _load(reviews, label_mode="binary").y
    assert y.shape == (7, 1) and y[:, 0].tolist() == [0] * 3 + [1] * 4
    only_texts = _load(reviews, label_mode=None, batch_size=3)
    assert isinstance(next(iter(only_texts)), np.ndarray) and only_texts.y is None
    swapped = _load(reviews, class_names=["pos", "neg"])
    assert swapped.y.tolist() == [0] * 4 + [1] * 3 and swapped.x[0] == TEXTS["pos"][0]
    given = _load(reviews, labels=[1, 0, 1, 0, 1, 0, 1])  # path order; labels name classes
    assert given.y.tolist() == [1, 0, 1, 0, 1, 0, 1] and given.class_names == ['0', '1']


@pytest.mark.parametrize("bad, shown", [(-1, "-1"), (0.7, "0.7"), ("pos", "'pos'"),
                                         (True, "True")])
def test_text_dataset_refuses_labels_that_are_not_class_ids(reviews, bad, shown):
    """-1 is not one-hot as the last class, 0.7 is not class 0, 'pos' is not int('pos')."""
    labels = [0, 1, 0, 1, 0, 1, bad]
    for mode in ("int", "categorical"):
        with pytest.raises(ValueError, match=f"labels must be class ids, integers >= 0 .*got "
                                             f"{shown} at index 6"):
            _load(reviews, labels=labels, label_mode=mode)
    assert _load(reviews, labels=np.array([0, 1, 0, 1, 0, 1, 2])).y.tolist()[-1] == 2


def test_text_dataset_max_length_truncates_characters(reviews):
    (reviews / "pos" / "9.txt").write_text("pos naïve café", encoding="utf-8")
    texts = _load(reviews, max_length=6).x.tolist()
    assert texts[0] == "neg ba" and texts[-1] == "pos na"
    assert all(len(t) <= 6 for t in texts)
    assert _load(reviews).x[-1] == "pos naïve café"  # decoded as UTF-8, whole by default
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        _load(reviews, max_length=0)


@pytest.mark.parametrize("subset", ["training", "validation", "both"])
def test_text_dataset_validation_split_partitions_the_files(reviews, subset):
    kwargs = dict(validation_split=0.3, seed=7, shuffle=True)
    train = _load(reviews, subset="training", **kwargs)
    val = _load(reviews, subset="validation", **kwargs)
    assert (len(train.x), len(val.x)) == (5, 2)
    assert sorted(train.file_paths + val.file_paths) == sorted(_load(reviews).file_paths)
    assert [_class_of(t) for t in train.x] == train.y.tolist()
    if subset == "both":
        pair = _load(reviews, subset="both", **kwargs)
        assert [p.file_paths for p in pair] == [train.file_paths, val.file_paths]
    else:
        again = _load(reviews, subset=subset, **kwargs)
        assert again.file_paths == (train if subset == "training" else val).file_paths
    with pytest.raises(ValueError, match="give a seed"):
        _load(reviews, validation_split=0.3, subset=subset, shuffle=True)


def test_text_dataset_batches_adapt_a_text_vectorization(reviews):
    train = _load(reviews, batch_size=3, shuffle=True, seed=0)
    vectorize = layers.TextVectorization(output_sequence_length=4)
    vectorize.adapt(train)  # (texts, labels) batches: adapt takes the texts
    vocab = vectorize.get_vocabulary()
    assert {"neg", "pos", "gem", "awful"} <= set(vocab)
    texts, _ = next(iter(train))
    ids = vectorize(texts)
    assert ids.shape == (3, 4)
    assert [vocab[i] for i in np.asarray(ids.data)[:, 0]] == [t.split()[0] for t in texts]


def test_text_dataset_missing_or_empty_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder or zip archive"):
        _load(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class subfolders.*holds no text files"):
        _load(tmp_path / "empty")
    (tmp_path / "empty" / "neg").mkdir()
    (tmp_path / "empty" / "neg" / "a.md").write_text("not .txt")
    with pytest.raises(ValueError, match=r"No text files found in directory .*\('\.txt',\)"):
        _load(tmp_path / "empty")
    with pytest.raises(ValueError, match="No text files found"):
        _load(tmp_path / "empty", labels=None)
