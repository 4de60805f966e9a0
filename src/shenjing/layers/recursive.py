"""Recursive (tree-structured) networks over a :class:`shenjing.data.TreeBatch`: Socher et al.'s
RecursiveNN (2011) and RNTN (2013), and Tai et al.'s Tree-LSTM (2015, binary N-ary and
child-sum).

Each model embeds the leaves' words, composes child states into parent states one LEVEL at a
time across the whole minibatch (all nodes of a level in one GEMM), and classifies every node
with one softmax layer (the papers' loss is over all labelled nodes). The graph has a few
autograd nodes per level, never per tree node: at each level the children's states are gathered
from the state matrix of the nodes so far (row 0 is the zero state of a missing child), and the
new states appended. A node shared by two parents (a DAG) is one row, read twice, so its
gradient is the sum of both uses.

Call: ``logits = model(batch)`` -> (nodes, classes), node i at row i - 1; ``model.loss(batch,
logits)`` is the mean cross-entropy over the nodes, ``batch.roots - 1`` selects the roots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from . import initializers
from .layer import Layer


class _TreeNetwork(Layer):
    """Word embeddings at the leaves, ``compose`` per level, a classifier at every node."""

    state_factor = 1  # state width / units (2 for Tree-LSTMs: h and c side by side)
    max_arity: int | None = 2

    def __init__(self, vocab_size: int, units: int, num_classes: int,
                 embedding_dim: int | None = None, embeddings_initializer: Any = "uniform",
                 kernel_initializer: Any = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size, self.units, self.num_classes = vocab_size, units, num_classes
        self.embedding_dim = embedding_dim or units
        self.embeddings_initializer = embeddings_initializer
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight((self.vocab_size, self.embedding_dim),
                                          self.embeddings_initializer, name="embeddings")
        self.build_composition()
        self.classifier = self.add_weight((self.units, self.num_classes),
                                          self.kernel_initializer, name="classifier")
        self.classifier_bias = self.add_weight((self.num_classes,), "zeros", name="classifier_bias")

    def build_composition(self) -> None:
        raise NotImplementedError

    def leaf_states(self, x: Tensor) -> Tensor:
        return x

    def compose(self, children: Tensor) -> Tensor:
        """States (n, width) of n parents from their children's (n, arity, width)."""
        raise NotImplementedError

    def node_states(self, batch: Any) -> Tensor:
        """(1 + nodes, width): row 0 the zero state, row i node i's state."""
        if not all(hasattr(batch, a) for a in ("words", "levels", "labels", "roots")):
            raise TypeError(f"{type(self).__name__} takes a shenjing.data.TreeBatch "
                            "(TreeBatch.from_trees(trees, vocab)), got "
                            f"{type(batch).__name__}")
        if self.max_arity is not None and any(k.shape[1] > self.max_arity for k in batch.levels):
            raise ValueError(f"{type(self).__name__} composes at most {self.max_arity} children "
                             "per node: binarize the trees (shenjing.data.binarize)")
        leaves = self.leaf_states(F.embedding(batch.words, self.embeddings))
        zero = Tensor(np.zeros((1, leaves.shape[1])), dtype=leaves.dtype)  # float16 too
        states = F.concatenate([zero, leaves])
        for kids in batch.levels:
            if self.max_arity is not None and kids.shape[1] < self.max_arity:
                # a level of narrower nodes (only unary ones, say): the missing children are
                # child 0, the zero state, as in a wider level
                kids = np.pad(kids, ((0, 0), (0, self.max_arity - kids.shape[1])))
            states = F.concatenate([states, self.compose(states[kids])])
        return states

    def call(self, batch: Any) -> Tensor:
        h = self.node_states(batch)[1:, :self.units]
        return F.linear(h, self.classifier, self.classifier_bias)

    @staticmethod
    def loss(batch: Any, logits: Tensor) -> Tensor:
        """Mean softmax cross-entropy over every node of the batch."""
        return F.sparse_categorical_crossentropy(batch.labels, logits, from_logits=True)


class _ChildMean(initializers.Initializer):
    """[I; I] / 2 plus uniform noise of +-0.01: a composition that starts as the mean of its
    two children, so a deep tree's root begins close to its words' average instead of
    squashing them through many random tanh layers."""

    def sample(self, shape, rng):
        d = shape[1]
        return np.vstack([np.eye(d), np.eye(d)]) / 2 + rng.uniform(-0.01, 0.01, shape)


class RecursiveNN(_TreeNetwork):
    """Socher et al.'s recursive neural network: p = tanh(W [c1; c2] + b), the word vectors at
    the leaves (units wide). A missing second child is the zero vector.

    ``composition_initializer`` (default 'child_mean': W = [I; I] / 2 + small noise, so p starts
    as tanh of the children's mean) sets W's initial value; on SST binary it lifts the test root
    accuracy from ~78% (Glorot) to ~81% (benchmarks/RESULTS.md)."""

    def __init__(self, vocab_size: int, units: int, num_classes: int,
                 composition_initializer: Any = "child_mean", **kwargs: Any) -> None:
        super().__init__(vocab_size, units, num_classes, **kwargs)
        self.composition_initializer = composition_initializer

    def build_composition(self) -> None:
        if self.embedding_dim != self.units:
            raise ValueError("RecursiveNN: words and nodes share one space (embedding_dim must "
                             "equal units)")
        init = self.composition_initializer
        self.kernel = self.add_weight((2 * self.units, self.units),
                                      _ChildMean() if init == "child_mean" else init, name="kernel")
        self.bias = self.add_weight((self.units,), "zeros", name="bias")

    def compose(self, children: Tensor) -> Tensor:
        pairs = children.reshape(children.shape[0], -1)
        return F.tanh(F.linear(pairs, self.kernel, self.bias))


class RNTN(RecursiveNN):
    """Socher et al.'s recursive neural tensor network: with v = [c1; c2],
    p_k = tanh(v^T V_k v + (W v)_k + b_k): a bilinear term per output unit on top of the
    RecursiveNN's linear one. V is (2 units, 2 units, units)."""

    def build_composition(self) -> None:
        super().build_composition()
        d = self.units
        scale = 1.0 / (4 * d)  # small: the network starts close to the RecursiveNN
        self.tensor = self.add_weight((2 * d, 2 * d, d),
                                      initializers.RandomUniform(-scale, scale), name="tensor")

    def compose(self, children: Tensor) -> Tensor:
        n, d = children.shape[0], self.units
        v = children.reshape(n, 2 * d)
        vv = (v @ self.tensor.reshape(2 * d, 2 * d * d)).reshape(n, 2 * d, d)
        bilinear = (vv * v.reshape(n, 2 * d, 1)).sum(axis=1)
        return F.tanh(bilinear + F.linear(v, self.kernel, self.bias))


class TreeLSTM(_TreeNetwork):
    """Tai et al.'s Tree-LSTM; states are [h; c] side by side.

    Leaves read their word vector x: i, o, u from x W + b, c = i u, h = o tanh(c).
    ``variant='binary'`` (N-ary, N = 2, for binarized constituency trees): from
    [h_left; h_right] one GEMM gives i, o, u and a forget gate per child, each with its own
    weights; c = i u + f_l c_l + f_r c_r.
    ``variant='child_sum'`` (any number of children, order ignored): i, o, u from the sum of the
    children's h, and f_k = sigma(h_k U_f + b_f) per child; c = i u + sum_k f_k c_k.
    """

    state_factor = 2

    def __init__(self, vocab_size: int, units: int, num_classes: int,
                 variant: str = "binary", **kwargs: Any) -> None:
        super().__init__(vocab_size, units, num_classes, **kwargs)
        if variant not in ("binary", "child_sum"):
            raise ValueError(f"TreeLSTM variant must be 'binary' or 'child_sum', got "
                             f"{variant!r}")
        self.variant = variant
        self.max_arity = 2 if variant == "binary" else None

    def build_composition(self) -> None:
        d, init = self.units, self.kernel_initializer
        self.leaf_kernel = self.add_weight((self.embedding_dim, 3 * d), init, name="leaf_kernel")
        self.leaf_bias = self.add_weight((3 * d,), "zeros", name="leaf_bias")
        if self.variant == "binary":  # i, o, u, f_left, f_right from [h_left; h_right]
            self.kernel = self.add_weight((2 * d, 5 * d), init, name="kernel")
            self.bias = self.add_weight((5 * d,), "zeros", name="bias")
        else:  # i, o, u from the children's summed h; one forget gate per child
            self.kernel = self.add_weight((d, 3 * d), init, name="kernel")
            self.bias = self.add_weight((3 * d,), "zeros", name="bias")
            self.forget_kernel = self.add_weight((d, d), init, name="forget_kernel")
            self.forget_bias = self.add_weight((d,), "ones", name="forget_bias")

    def _cell(self, iou: Tensor, carried: Tensor | None) -> Tensor:
        i, o, u = F.split(iou, 3, axis=-1)
        c = F.sigmoid(i) * F.tanh(u)
        if carried is not None:
            c = c + carried
        return F.concatenate([F.sigmoid(o) * F.tanh(c), c], axis=-1)

    def leaf_states(self, x: Tensor) -> Tensor:
        return self._cell(F.linear(x, self.leaf_kernel, self.leaf_bias), None)

    def compose(self, children: Tensor) -> Tensor:
        n, d = children.shape[0], self.units
        h, c = children[:, :, :d], children[:, :, d:]
        if self.variant == "binary":
            z = F.linear(h.reshape(n, 2 * d), self.kernel, self.bias)
            iou, f = z[:, :3 * d], F.sigmoid(z[:, 3 * d:]).reshape(n, 2, d)
        else:
            iou = F.linear(h.sum(axis=1), self.kernel, self.bias)
            f = F.sigmoid(F.linear(h, self.forget_kernel, self.forget_bias))
        return self._cell(iou, (f * c).sum(axis=1))
