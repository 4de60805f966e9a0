"""Recursive networks: batched by level, equal to one tree at a time, gradients checked."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import TreeBatch, Vocabulary, binarize, parse_tree
from test_examples import load_example

TREES = ["(3 (2 It) (4 (2 is) (3 good)))", "(1 (1 bad) (2 (2 film) (1 .)))",
         "(2 (1 a) (2 b) (3 c) (4 d))"]
MODELS = {
    "RecursiveNN": lambda v, **kw: sj.layers.RecursiveNN(v, 4, 5, **kw),
    "RNTN": lambda v, **kw: sj.layers.RNTN(v, 4, 5, **kw),
    "TreeLSTM binary": lambda v, **kw: sj.layers.TreeLSTM(v, 4, 5, embedding_dim=3, **kw),
    "TreeLSTM child-sum": lambda v, **kw: sj.layers.TreeLSTM(v, 4, 5, variant="child_sum", **kw),
}


def _trees(binary=True):
    trees = [parse_tree(t) for t in TREES]
    return [binarize(t) for t in trees] if binary else trees


@pytest.mark.parametrize("name", MODELS)
def test_a_batch_equals_its_trees_one_at_a_time(name):
    trees = _trees(binary=name != "TreeLSTM child-sum")
    vocab = Vocabulary.from_trees(trees)
    model = MODELS[name](len(vocab))
    batch = TreeBatch.from_trees(trees, vocab)
    logits = model(batch).numpy()
    for tree, root in zip(trees, batch.roots):
        alone = TreeBatch.from_trees([tree], vocab)
        np.testing.assert_allclose(logits[root - 1], model(alone).numpy()[-1], rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_gradients_match_finite_differences(name):
    trees = _trees(binary=name != "TreeLSTM child-sum")
    vocab = Vocabulary.from_trees(trees)
    model = MODELS[name](len(vocab), dtype="float64")
    batch = TreeBatch.from_trees(trees, vocab)
    model(batch)  # build
    weights = model.trainable_weights
    assert sj.gradcheck(lambda *w: model.loss(batch, model(batch)), *weights)


def test_recursive_nn_is_the_papers_composition():
    trees = _trees()[:1]
    vocab = Vocabulary.from_trees(trees)
    model = sj.layers.RecursiveNN(len(vocab), 4, 5)
    batch = TreeBatch.from_trees(trees, vocab)
    logits = model(batch).numpy()
    emb, w, b = (p.numpy() for p in (model.embeddings, model.kernel, model.bias))

    def vec(node):  # the recursion, written the usual way
        if node.is_leaf:
            return emb[vocab.index(node.word)]
        return np.tanh(np.concatenate([vec(c) for c in node.children]) @ w + b)

    root = vec(trees[0]) @ model.classifier.numpy() + model.classifier_bias.numpy()
    np.testing.assert_allclose(logits[-1], root, rtol=1e-5, atol=1e-6)


def test_binary_models_refuse_wide_nodes():
    trees = _trees(binary=False)
    vocab = Vocabulary.from_trees(trees)
    with pytest.raises(ValueError, match="binarize"):
        sj.layers.TreeLSTM(len(vocab), 4, 5)(TreeBatch.from_trees(trees, vocab))


def test_article_toy_shared_node_gradient():
    toy = load_example("recursive_toy")
    sj.utils.set_random_seed(0)
    vocab = Vocabulary(["D"])
    dag = TreeBatch.from_trees([toy.article_tree()], vocab)
    copies = TreeBatch.from_trees([toy.article_tree(shared=False)], vocab)
    model = sj.layers.RecursiveNN(1 + len(vocab), 4, 2, dtype="float64")
    row = vocab.index("D")
    _, grad = toy.gradient(model, lambda m, b: m.loss(b, m(b)), dag, row)
    np.testing.assert_allclose(grad, toy.finite_difference(model, dag, row), rtol=1e-6,
                               atol=1e-9)
    assert np.abs(grad).sum() > 0
    _, shared = toy.gradient(model, toy.root_loss, dag, row)
    _, per_parent = toy.gradient(model, toy.root_loss, copies, row)
    np.testing.assert_allclose(shared, per_parent, rtol=1e-10)
    assert (dag.num_nodes, copies.num_nodes) == (4, 5)


def test_a_tree_model_names_its_input():
    with pytest.raises(TypeError, match="takes a shenjing.data.TreeBatch"):
        sj.layers.RecursiveNN(5, 4, 2)(np.zeros((3, 4), np.float32))


def test_recursive_nn_starts_as_the_mean_of_the_children():
    sj.utils.set_random_seed(0)
    model = sj.layers.RecursiveNN(5, 6, 2)
    model.build(None)
    w = model.kernel.numpy()
    np.testing.assert_allclose(w, np.vstack([np.eye(6), np.eye(6)]) / 2, atol=0.01)
    assert np.abs(w - np.vstack([np.eye(6), np.eye(6)]) / 2).max() > 0  # with noise
    glorot = sj.layers.RecursiveNN(5, 6, 2, composition_initializer="glorot_uniform")
    glorot.build(None)
    again = sj.layers.RecursiveNN.from_config(glorot.get_config())
    assert again.composition_initializer == "glorot_uniform"
    assert np.abs(np.diag(glorot.kernel.numpy()[:6]) - 0.5).max() > 0.05


@pytest.mark.parametrize("name", MODELS)
def test_a_batch_of_unary_nodes_only_composes_with_a_zero_child(name):
    # every node has one child, so the level is one column wide; a binary model must read the
    # missing child as the zero state, as it does when a wider node shares the level
    unary = parse_tree("(3 (2 good))")
    vocab = Vocabulary(["good", "film"])
    model = MODELS[name](len(vocab))
    alone = model(TreeBatch.from_trees([unary], vocab)).numpy()
    beside = TreeBatch.from_trees([unary, parse_tree("(1 (2 good) (3 film))")], vocab)
    mixed = model(beside).numpy()
    np.testing.assert_allclose(alone[-1], mixed[beside.roots[0] - 1], rtol=1e-5, atol=1e-6)
