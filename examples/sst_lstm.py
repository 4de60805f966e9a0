"""Binary sentiment of Stanford Sentiment Treebank sentences (SST-2: root labels only, neutral
dropped) with an Embedding + bidirectional LSTM trained from random embeddings.

    python examples/sst_lstm.py --data ../shared/data [--epochs 8] [--seeds 0 1 2] [--threads 1]

The dev split picks the epoch (early stopping); prints each seed's test accuracy, wall time and
the mean. With --threads 1: 0.8210, 0.8116, 0.8292 for seeds 0-2, mean 0.8206, about a minute a
seed (the best dev epoch is the 2nd or 3rd; the BiLSTM overfits the 6,920 sentences soon after).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as tf
from shenjing.data import Vocabulary
from shenjing.datasets import sst


def tokenize(sentence: str) -> list[str]:
    """Lowercased words: case carries little sentiment and splits the small vocabulary."""
    return sentence.lower().split()


def build_vocab(sentences: Sequence[str], min_count: int) -> Vocabulary:
    """The training words seen at least ``min_count`` times; rarer words share the unknown id,
    whose vector is then trained too (unseen test words map to it)."""
    return Vocabulary((w for s in sentences for w in tokenize(s)), min_count=min_count)


def encode(sentences: Sequence[str], vocab: Vocabulary, max_len: int | None = None) -> np.ndarray:
    """(N, max_len) int32 word ids, right-padded with 0 (the mask of the Embedding), unknown
    words as 1; ``max_len`` defaults to the longest sentence."""
    return vocab.encode_batch([tokenize(s) for s in sentences], maxlen=max_len, padding="post",
                              truncating="post")


class LengthBatches:
    """Batches of sentences of similar length, each cut to its longest sentence, so the LSTM
    runs few padded steps. Training order: shuffle, sort within pools of ``pool`` batches, then
    shuffle the batches; with ``shuffle=False`` the whole set is sorted (for evaluation).

    Re-iterable ``(x, y)`` batches, as ``Model.fit`` and ``evaluate`` accept.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
                 pool: int = 50) -> None:
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.lengths = (x != 0).sum(axis=1)
        self.pool = pool * batch_size
        self._rng = tf.backend.new_generator()

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.shuffle:
            order = self._rng.permutation(len(self.x))
            pools = [order[i:i + self.pool] for i in range(0, len(order), self.pool)]
            order = np.concatenate([p[np.argsort(self.lengths[p], kind="stable")] for p in pools])
        else:
            order = np.argsort(self.lengths, kind="stable")
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            self._rng.shuffle(batches)
        for idx in batches:
            steps = max(int(self.lengths[idx].max()), 1)
            yield self.x[idx, :steps], self.y[idx]


def build_model(vocab_size: int, embed_dim: int = 200, units: int = 128, dropout: float = 0.7,
                learning_rate: float = 1e-3) -> tf.Model:
    """Embedding (id 0 masked) -> dropout -> BiLSTM (final states at each true end) -> dropout
    -> 2 logits."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Embedding(vocab_size, embed_dim, mask_zero=True),
        layers.Dropout(dropout),
        layers.Bidirectional(layers.LSTM(units)),
        layers.Dropout(dropout),
        layers.Dense(2),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def run(epochs: int = 8, verbose: int = 2, data: str | None = None, batch_size: int = 32,
        min_count: int = 1, **model_args: float) -> float:
    """Train once (the caller seeds; the best dev-accuracy epoch is kept) and return the test
    accuracy."""
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test) = sst.load_sentences(data, binary=True)
    vocab = build_vocab(x_train, min_count)
    train = LengthBatches(encode(x_train, vocab), y_train, batch_size)
    dev, test = (LengthBatches(encode(x, vocab), y, batch_size, shuffle=False)
                 for x, y in ((x_dev, y_dev), (x_test, y_test)))
    model = build_model(len(vocab), **model_args)
    stop = tf.callbacks.EarlyStopping(monitor="val_accuracy", patience=3,
                                      restore_best_weights=True)
    model.fit(train, epochs=epochs, validation_data=dev, callbacks=[stop], verbose=verbose)
    return model.evaluate(test, verbose=0)[1]


if __name__ == "__main__":
    _seeds.run_script(lambda: _seeds.main(run, __doc__, epochs=8))
