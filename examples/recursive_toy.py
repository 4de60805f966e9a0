"""The article's recursive-network listing (section 4.3) made real: the tree A(B(D), C(D)),
where one node D sits under both B and C, composed bottom-up by a RecursiveNN with learned
embeddings and a classifier at every node.

The JavaScript listing recomputes D for each parent and averages numbers. Here D is ONE node of
the batch (a DAG): computed once, read by both parents, and its gradient is the sum of what
flows back through B and through C. The script prints that gradient, checks it against central
finite differences, shows that recomputing D per parent (the listing's way) gives the root the
same gradient with one node more, and trains the four node labels. (B and C each compose D
alone, so they get the same vector: they can only share a label.)

    python examples/recursive_toy.py
"""

from __future__ import annotations

import argparse

import numpy as np

import shenjing as sj
from shenjing.data import Tree, TreeBatch, Vocabulary


def article_tree(shared: bool = True) -> Tree:
    """A(B(D), C(D)) with labels A=0, B=1, C=1, D=0; ``shared=False`` gives each parent its
    own copy of D, as the listing's recursion effectively does."""
    d = Tree(0, word="D")
    d_again = d if shared else Tree(0, word="D")
    return Tree(0, [Tree(1, [d]), Tree(1, [d_again])])


def root_loss(model: sj.layers.RecursiveNN, batch: TreeBatch) -> sj.Tensor:
    """Cross-entropy of the roots' labels only."""
    roots = batch.roots - 1
    return sj.F.sparse_categorical_crossentropy(batch.labels[roots], model(batch)[roots],
                                                from_logits=True)


def gradient(model: sj.layers.RecursiveNN, loss_fn, batch: TreeBatch,
             row: int) -> tuple[float, np.ndarray]:
    """``loss_fn(model, batch)`` and its gradient with respect to embedding row ``row``."""
    for w in model.trainable_weights:
        w.grad = None
    loss = loss_fn(model, batch)
    loss.backward()
    return float(loss), model.embeddings.grad.numpy()[row].copy()


def finite_difference(model: sj.layers.RecursiveNN, batch: TreeBatch, row: int,
                      eps: float = 1e-6) -> np.ndarray:
    """Central differences of the loss with respect to embedding row ``row``."""
    table = model.embeddings.data
    grad = np.zeros(table.shape[1])
    for j in range(table.shape[1]):
        old = table[row, j]
        values = []
        for delta in (eps, -eps):
            table[row, j] = old + delta
            with sj.no_grad():
                values.append(float(model.loss(batch, model(batch))))
        table[row, j] = old
        grad[j] = (values[0] - values[1]) / (2 * eps)
    return grad


def main() -> None:
    sj.utils.set_random_seed(0)
    vocab = Vocabulary(["D"])
    row = vocab.index("D")
    dag = TreeBatch.from_trees([article_tree()], vocab)
    copies = TreeBatch.from_trees([article_tree(shared=False)], vocab)
    model = sj.layers.RecursiveNN(len(vocab), units=4, num_classes=2, dtype="float64")
    all_nodes = type(model).loss
    loss, grad = gradient(model, lambda m, b: all_nodes(b, m(b)), dag, row)
    numeric = finite_difference(model, dag, row)
    _, root_grad = gradient(model, root_loss, dag, row)
    _, root_grad_copies = gradient(model, root_loss, copies, row)
    print(f"A(B(D), C(D)): {dag.num_nodes} nodes (D once); recomputing D per parent: "
          f"{copies.num_nodes} nodes")
    print(f"loss over the 4 node labels: {loss:.4f}")
    print(f"d loss / d embedding(D), summed through B and C: {np.round(grad, 6)}")
    print(f"central finite differences:                     {np.round(numeric, 6)}")
    print(f"root loss gradient, D shared:       {np.round(root_grad, 6)}")
    print(f"root loss gradient, D per parent:   {np.round(root_grad_copies, 6)}")
    opt = sj.optimizers.SGD(learning_rate=0.5, params=model.trainable_weights)
    for _ in range(100):
        loss = model.loss(dag, model(dag))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with sj.no_grad():
        predicted = model(dag).numpy().argmax(axis=1)
    print(f"after 100 SGD steps: loss {float(loss):.4f}; predicted labels D, B, C, A = "
          f"{predicted.tolist()} (true {dag.labels.tolist()})")


if __name__ == "__main__":
    # no options; --help prints what the script shows
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
