"""Binarization and level-ordered batches of trees."""

from __future__ import annotations

import numpy as np
import pytest

from shenjing.data import Tree, TreeBatch, Vocabulary, binarize, parse_tree
from shenjing.data.tree_batch import batches

WIDE = "(2 (1 a) (2 b) (3 c) (4 d))"


@pytest.mark.parametrize("factor, expected", [
    ("right", "(2 (1 a) (2 (2 b) (2 (3 c) (4 d))))"),
    ("left", "(2 (2 (2 (1 a) (2 b)) (3 c)) (4 d))"),
])
def test_binarize_splits_wide_nodes(factor, expected):
    tree = parse_tree(WIDE)
    out = binarize(tree, factor)
    assert out.to_ptb() == expected
    assert out.words() == tree.words()
    assert tree.to_ptb() == WIDE  # the original is untouched


def test_binarize_keeps_binary_and_unary_nodes():
    text = "(3 (2 (1 x)) (4 (2 y) (3 z)))"
    assert binarize(parse_tree(text)).to_ptb() == text


def _check_level_order(batch: TreeBatch) -> None:
    n_leaves = len(batch.words)
    done = n_leaves
    for kids in batch.levels:
        assert (kids <= done).all()  # children come from earlier levels (0 = none)
        done += len(kids)
    assert done == batch.num_nodes


def test_from_trees_numbers_nodes_by_level():
    trees = [parse_tree("(3 (2 It) (4 (2 is) (3 good)))"), parse_tree("(1 (1 bad) (2 film))")]
    vocab = Vocabulary.from_trees(trees)
    batch = TreeBatch.from_trees(trees, vocab)
    _check_level_order(batch)
    assert vocab.decode(batch.words) == ["It", "is", "good", "bad", "film"]
    # level 1: (is good) and (bad film); level 2: (It (is good))
    assert [k.tolist() for k in batch.levels] == [[[2, 3], [4, 5]], [[1, 6]]]
    assert batch.labels.tolist() == [2, 2, 3, 1, 2, 4, 1, 3]
    assert batch.roots.tolist() == [8, 7]


def test_a_shared_subtree_is_one_node():
    d = Tree(0, word="D")
    tree = Tree(1, [Tree(0, [d]), Tree(1, [d])])  # the article's A(B(D), C(D))
    batch = TreeBatch.from_trees([tree], Vocabulary(["D"]))
    assert batch.num_nodes == 4
    assert [k.tolist() for k in batch.levels] == [[[1, 0], [1, 0]], [[2, 3]]]  # 0: no child


def test_batches_need_a_positive_batch_size():
    trees = [parse_tree("(1 (0 a) (1 b))")] * 5
    vocab = Vocabulary.from_trees(trees)
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad}"):
            batches(trees, vocab, bad)  # when called, not at the first batch
    assert [len(b.roots) for b in batches(trees, vocab, 2)] == [2, 2, 1]


def test_max_arity_asks_for_binarization():
    tree = parse_tree(WIDE)
    with pytest.raises(ValueError, match="binarize"):
        TreeBatch.from_trees([tree], Vocabulary(tree.words()), max_arity=2)
    batch = TreeBatch.from_trees([binarize(tree)], Vocabulary(tree.words()), max_arity=2)
    _check_level_order(batch)
    assert np.array_equal(batch.roots, [batch.num_nodes])


def test_from_trees_takes_any_iterable_of_trees_and_names_what_is_not_one():
    """A generator was read twice (nodes, then roots: no roots the second time) and a single
    Tree, iterable over its nodes, became one tree per node, silently."""
    trees = [parse_tree("(3 (2 a) (4 b))"), parse_tree("(1 c)")]
    vocab = Vocabulary.from_trees(trees)
    expected = TreeBatch.from_trees(trees, vocab).roots
    np.testing.assert_array_equal(TreeBatch.from_trees(iter(trees), vocab).roots, expected)
    with pytest.raises(TypeError, match="got one Tree: pass \\[tree\\]"):
        TreeBatch.from_trees(trees[0], vocab)
    with pytest.raises(TypeError, match="got a str .*parse_tree"):
        TreeBatch.from_trees(["(2 a)"], vocab)


def test_tree_layers_compute_in_their_float16():
    import shenjing as sj

    trees = [binarize(parse_tree("(3 (2 a) (4 (1 b) (0 c)))"))]
    vocab = Vocabulary.from_trees(trees)
    batch = TreeBatch.from_trees(trees, vocab)
    for layer in (sj.layers.TreeLSTM(len(vocab), 4, 5, dtype="float16"),
                  sj.layers.RecursiveNN(len(vocab), 4, 5, dtype="float16")):
        assert layer(batch).dtype == np.float16
