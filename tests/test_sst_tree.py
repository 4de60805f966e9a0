"""examples/sst_tree.py at a tiny scale: node targets, and training on toy sentiment trees."""

from __future__ import annotations

import numpy as np
import pytest

from shenjing.data import TreeBatch, Vocabulary, parse_tree
from test_examples import load_example


def _toy_trees(n, rng):
    """(label (word) (label (word) (word))) trees: any 'bad' makes the sentence negative."""
    words = ["good", "bad", "film", "plot", "the"]
    trees = []
    for _ in range(n):
        w = rng.choice(words, 3)
        neg = "bad" in w
        root, inner = (0 if neg else 4), (1 if "bad" in w[1:] else 3)
        labels = [1 if x == "bad" else 3 if x == "good" else 2 for x in w]
        trees.append(parse_tree(f"({root} ({labels[0]} {w[0]}) ({inner} ({labels[1]} {w[1]}) "
                                f"({labels[2]} {w[2]})))"))
    return trees


def test_binary_targets_drop_neutral_nodes():
    sst_tree = load_example("sst_tree")
    tree = parse_tree("(3 (2 It) (4 (2 is) (1 bad)))")
    batch = TreeBatch.from_trees([tree], Vocabulary.from_trees([tree]))
    rows, targets = sst_tree.node_targets(batch, 2)
    assert batch.labels[rows].tolist() == [1, 4, 3]
    assert targets.tolist() == [0, 1, 1]
    rows5, targets5 = sst_tree.node_targets(batch, 5)
    assert rows5.tolist() == list(range(5)) and targets5.tolist() == batch.labels.tolist()


@pytest.mark.parametrize("model", ["recursive_nn", "tree_lstm"])
def test_learns_toy_sentiment(model):
    sst_tree = load_example("sst_tree")
    rng = np.random.default_rng(0)
    data = (_toy_trees(200, rng), _toy_trees(50, rng), _toy_trees(100, rng))
    accuracy, _ = sst_tree.train(model, data, classes=2, epochs=8, units=16, seed=0,
                                 learning_rate=0.3, log=lambda line: None)
    assert accuracy > 0.9
