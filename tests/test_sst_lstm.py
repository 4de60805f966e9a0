"""examples/sst_lstm.py at a tiny scale: the encoding, the length-bucketed batches, and a short
training run on a toy SST-format treebank written to tmp_path (no real data needed)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from test_examples import load_example

FILLER = "the movie film plot was is really quite a story acting this".split()


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def example():
    return load_example("sst_lstm")


def toy_tree(rng: np.random.Generator, label: int) -> str:
    """A flat PTB tree of filler words with one sentiment word ('good', 'bad' or 'okay' for
    labels 4, 0 and 2) at a random place."""
    words = list(rng.choice(FILLER, size=rng.integers(2, 9)))
    words.insert(int(rng.integers(0, len(words) + 1)), {4: "Good", 0: "bad", 2: "okay"}[label])
    return f"({label} " + " ".join(f"(2 {w})" for w in words) + ")"


@pytest.fixture
def toy_data(tmp_path, rng):
    """tmp_path/sst/{train,dev,test}.txt: separable by one word, a fifth of it neutral."""
    folder = tmp_path / "sst"
    folder.mkdir()
    for split, n in (("train", 300), ("dev", 60), ("test", 60)):
        labels = rng.choice([0, 2, 4], size=n, p=[0.4, 0.2, 0.4])
        lines = [toy_tree(rng, int(label)) for label in labels]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_encode_lowercases_pads_right_with_zero_and_maps_unknown_to_one(example):
    vocab = example.build_vocab(["It is good", "it is bad"], min_count=1)
    x = example.encode(["It is good", "is awful !"], vocab)
    assert x.dtype == np.int32 and x.shape == (2, 3)
    it, is_, good = (vocab.index(w) for w in ("it", "is", "good"))
    np.testing.assert_array_equal(x, [[it, is_, good], [is_, 1, 1]])
    assert example.encode(["good"], vocab, max_len=4).tolist() == [[good, 0, 0, 0]]
    assert example.encode(["it is good"], vocab, max_len=2).tolist() == [[it, is_]]


def test_min_count_sends_rare_words_to_unknown(example):
    vocab = example.build_vocab(["good good bad"], min_count=2)
    assert example.encode(["good bad"], vocab).tolist() == [[vocab.index("good"), 1]]


def test_length_batches_cover_every_sample_once_trimmed_to_the_longest(example):
    lengths = np.random.default_rng(1).integers(1, 12, size=103)
    x = np.zeros((103, 12), dtype=np.int32)
    for i, n in enumerate(lengths):
        x[i, :n] = i + 2  # the row's own id, to find it again in a batch
    y = np.arange(103)
    for shuffle in (True, False):
        batches = list(example.LengthBatches(x, y, batch_size=10, shuffle=shuffle, pool=3))
        assert len(batches) == len(example.LengthBatches(x, y, 10)) == 11
        np.testing.assert_array_equal(np.sort(np.concatenate([yb for _, yb in batches])), y)
        for xb, yb in batches:
            assert xb.shape[1] == lengths[yb].max()
            np.testing.assert_array_equal(xb, x[yb, :xb.shape[1]])
    # evaluation order: the whole set sorted by length
    order = np.concatenate([yb for _, yb in batches])
    assert np.all(np.diff(lengths[order]) >= 0)


def test_binary_labels_drop_neutral(example, toy_data):
    (x_train, y_train), _, _ = shenjing.datasets.sst.load_sentences(toy_data, binary=True)
    assert not any("okay" in s for s in x_train)
    np.testing.assert_array_equal(y_train, ["Good" in s for s in x_train])


def test_short_run_learns_a_separable_toy_set(example, toy_data):
    shenjing.utils.set_random_seed(0)
    acc = example.run(epochs=6, verbose=0, data=str(toy_data), batch_size=16, embed_dim=16,
                      units=8, dropout=0.1, learning_rate=1e-2)
    assert acc >= 0.95


def test_main_prints_each_seed_and_the_mean(example, toy_data, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["sst_lstm.py", "--data", str(toy_data), "--seeds", "0",
                                     "1", "--epochs", "1", "--verbose", "0", "--threads", "1"])
    example._seeds.main(example.run, "sst_lstm", epochs=8)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["seed 0", "seed 1",
                                                     "mean test accuracy over 2 seeds"]
