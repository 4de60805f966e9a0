"""Trees made ready for batched recursive networks: binarization, and a minibatch of trees
flattened into levels, so that a network computes every node of one level with one GEMM.

A node's level is 0 for a leaf and 1 + its highest child's level otherwise, so all children of
a level-l node are already computed when level l is. Nodes are numbered from 1 in level order
(leaves first); number 0 stands for "no child" (a zero vector), which lets unary nodes and
nodes of smaller arity share one array of child numbers with the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .._checks import positive_int
from .tree import Tree, Vocabulary


def binarize(tree: Tree, factor: str = "right") -> Tree:
    """A copy of ``tree`` where every node with more than two children is split into a chain
    of binary nodes carrying its label: right-factored (a (b (c d))) by default, or left-factored
    ((a b) c) d. Nodes with one or two children, and the leaves, are copied as they are."""
    if factor not in ("right", "left"):
        raise ValueError(f"factor must be 'right' or 'left', got {factor!r}")
    done: dict[int, Tree] = {}
    for node in tree:  # post-order: children first
        if id(node) in done:
            continue
        if node.is_leaf:
            done[id(node)] = Tree(node.label, word=node.word)
            continue
        kids = [done[id(c)] for c in node.children]
        while len(kids) > 2:
            if factor == "right":
                kids = kids[:-2] + [Tree(node.label, kids[-2:])]
            else:
                kids = [Tree(node.label, kids[:2])] + kids[2:]
        done[id(node)] = Tree(node.label, kids)
    return done[id(tree)]


@dataclass
class TreeBatch:
    """A minibatch of trees in level order.

    Attributes:
        words: (leaves,) vocabulary ids of the leaves, which are nodes 1..leaves.
        levels: one (nodes of the level, arity) int array per level above the leaves: the
            numbers of each node's children, left to right, 0 where a node has fewer; the
            level's own nodes follow the previous level's in numbering.
        labels: (nodes,) the label of node i at ``labels[i - 1]``.
        roots: (trees,) the number of each tree's root.
    """

    words: np.ndarray
    levels: list[np.ndarray]
    labels: np.ndarray
    roots: np.ndarray

    @property
    def num_nodes(self) -> int:
        return len(self.labels)

    @classmethod
    def from_trees(cls, trees: Iterable[Tree], vocab: Vocabulary,
                   max_arity: int | None = None) -> TreeBatch:
        """Number the distinct nodes of ``trees`` (a Tree object met twice, as a sub-tree shared
        by two parents, is one node) in level order.

        Args:
            trees: the roots.
            vocab: maps each leaf's word to its id (unknown words to ``vocab.unk_index``).
            max_arity: refuse nodes with more children (2 for binary compositions; see
                :func:`binarize`); None accepts any.
        """
        if isinstance(trees, Tree):  # iterable itself (its nodes): each would be a tree
            raise TypeError("TreeBatch.from_trees takes a list of trees, got one Tree: pass "
                            "[tree]")
        trees = list(trees)  # read twice (the nodes, then the roots): a generator once
        for tree in trees:
            if not isinstance(tree, Tree):
                raise TypeError(f"TreeBatch.from_trees takes Trees, got a "
                                f"{type(tree).__name__}" + (" (parse the text with "
                                "shenjing.data.parse_tree)" if isinstance(tree, str) else ""))
        level: dict[int, int] = {}
        nodes: list[Tree] = []
        for tree in trees:
            for node in tree:
                if id(node) in level:
                    continue
                if max_arity is not None and len(node.children) > max_arity:
                    raise ValueError(f"a node has {len(node.children)} children, more than "
                                     f"{max_arity}: binarize the trees first "
                                     "(shenjing.data.binarize)")
                level[id(node)] = 1 + max((level[id(c)] for c in node.children), default=-1)
                nodes.append(node)
        order = sorted(range(len(nodes)), key=lambda i: level[id(nodes[i])])  # stable
        number = {id(nodes[i]): k + 1 for k, i in enumerate(order)}
        ordered = [nodes[i] for i in order]
        leaves = [n for n in ordered if n.is_leaf]
        words = np.array([vocab.index(str(n.word)) for n in leaves], dtype=np.int64)
        arity = max((len(n.children) for n in ordered), default=0)
        levels = []
        start = len(leaves)
        while start < len(ordered):
            lv = level[id(ordered[start])]
            stop = start
            while stop < len(ordered) and level[id(ordered[stop])] == lv:
                stop += 1
            kids = np.zeros((stop - start, arity), dtype=np.int64)
            for row, node in enumerate(ordered[start:stop]):
                kids[row, :len(node.children)] = [number[id(c)] for c in node.children]
            levels.append(kids)
            start = stop
        labels = np.array([n.label for n in ordered], dtype=np.int64)
        roots = np.array([number[id(t)] for t in trees], dtype=np.int64)
        return cls(words, levels, labels, roots)


def batches(trees: Sequence[Tree], vocab: Vocabulary, batch_size: int,
            rng: np.random.Generator | None = None,
            max_arity: int | None = None) -> Iterable[TreeBatch]:
    """``TreeBatch``es of ``batch_size`` trees, shuffled when ``rng`` is given (the order is
    drawn, and ``batch_size`` checked, when called)."""
    size = positive_int(batch_size, "batch_size")
    order = rng.permutation(len(trees)) if rng is not None else np.arange(len(trees))
    return (TreeBatch.from_trees([trees[j] for j in order[i:i + size]], vocab, max_arity)
            for i in range(0, len(order), size))
