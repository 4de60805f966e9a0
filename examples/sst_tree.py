"""Tree-structured sentiment on the Stanford Sentiment Treebank: RecursiveNN, RNTN or Tree-LSTM
trained on every labelled node (as the papers do) and scored on the roots of the test split.

    SHENJING_DATA=../shared/data python examples/sst_tree.py [--model tree_lstm]
        [--classes 2] [--epochs 10] [--seeds 0 1 2] [--threads 2] [--units N] [--lr R]
        [--weight-decay W]

Binary (``--classes 2``): labels 0-1 are negative, 3-4 positive, and neutral nodes (2) carry
no loss; sentences whose root is neutral are left out of the scores (the SST-2 setting).
Fine-grained (``--classes 5``): all five labels. Random initial word vectors, AdaGrad with
weight decay, batch 25 (Tai et al.'s settings, but learning rate 0.2: at their 0.05 the random
word vectors leave the Tree-LSTM at chance for five epochs; the RecursiveNN: 50 units,
learning rate 0.1, weight decay 1e-3); the dev split picks the epoch.
Prints each seed's test root accuracy and wall time, then the mean; results in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as sj
from shenjing.data import TreeBatch, Vocabulary, binarize
from shenjing.data.tree_batch import batches

MODELS = {"recursive_nn": sj.layers.RecursiveNN, "rntn": sj.layers.RNTN,
          "tree_lstm": sj.layers.TreeLSTM}
# (units, AdaGrad learning rate, weight decay) per model, chosen on SST's dev split
# (benchmarks/RESULTS.md); the RNTN's are the paper's size with the RecursiveNN's rate, untuned.
DEFAULTS = {"tree_lstm": (150, 0.2, 1e-4), "recursive_nn": (50, 0.1, 1e-3),
            "rntn": (30, 0.1, 1e-3)}


def node_targets(batch: TreeBatch, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the nodes that carry a loss, their targets): every node for 5 classes; for 2,
    the non-neutral nodes, negative (0-1) -> 0 and positive (3-4) -> 1."""
    if classes == 5:
        return np.arange(batch.num_nodes), batch.labels
    keep = np.flatnonzero(batch.labels != 2)
    return keep, (batch.labels[keep] > 2).astype(np.int64)


def root_accuracy(model: sj.layers.Layer, trees: list, vocab: Vocabulary,
                  classes: int) -> float:
    """Accuracy on the roots (for 2 classes, the non-neutral roots only)."""
    hits = total = 0
    with sj.no_grad():
        for batch in batches(trees, vocab, 256, max_arity=model.max_arity):
            rows, targets = node_targets(batch, classes)
            roots = batch.roots - 1
            is_root = np.isin(rows, roots)
            predicted = model(batch).numpy()[rows[is_root]].argmax(axis=1)
            hits += int((predicted == targets[is_root]).sum())
            total += int(is_root.sum())
    return hits / max(total, 1)


def train(model_name: str, data: tuple, classes: int, epochs: int, units: int, seed: int,
          learning_rate: float = 0.2, weight_decay: float = 1e-4,
          log=print) -> tuple[float, float]:
    """Train on every node of the training trees; return (test root accuracy at the best dev
    epoch, seconds)."""
    train_trees, dev_trees, test_trees = data
    sj.utils.set_random_seed(seed)
    vocab = Vocabulary.from_trees(train_trees)
    model = MODELS[model_name](len(vocab), units, classes)
    rng = np.random.default_rng(seed)
    opt = None
    best = (-1.0, 0.0)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        for batch in batches(train_trees, vocab, 25, rng, max_arity=model.max_arity):
            rows, targets = node_targets(batch, classes)
            logits = model(batch)
            loss = sj.F.sparse_categorical_crossentropy(targets, logits[rows], from_logits=True)
            if opt is None:
                opt = sj.optimizers.Adagrad(learning_rate=learning_rate,
                                            weight_decay=weight_decay,
                                            params=model.trainable_weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
        dev = root_accuracy(model, dev_trees, vocab, classes)
        if dev > best[0]:
            best = (dev, root_accuracy(model, test_trees, vocab, classes))
        log(f"epoch {epoch}: dev {dev:.4f} (best {best[0]:.4f}, its test {best[1]:.4f}), "
            f"{time.perf_counter() - t0:.0f} s")
    return best[1], time.perf_counter() - t0


def main() -> None:
    per_model = "; ".join(f"{m} {u}, {lr}, {wd}" for m, (u, lr, wd) in DEFAULTS.items())
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"defaults per model (units, lr, weight decay): {per_model}")
    ap.add_argument("--model", choices=list(MODELS), default="tree_lstm",
                    help="default: %(default)s")
    ap.add_argument("--classes", type=int, choices=[2, 5], default=2,
                    help="2: binary (SST-2), 5: fine-grained (default: %(default)s)")
    ap.add_argument("--epochs", type=_seeds.positive, default=10, help="default: %(default)s")
    ap.add_argument("--units", type=_seeds.positive, help="state width (default: per model, below)")
    ap.add_argument("--lr", type=float, help="AdaGrad learning rate (default: per model)")
    ap.add_argument("--weight-decay", type=float, help="AdaGrad weight decay (default: per model)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                    help="one training run per seed (default: %(default)s)")
    ap.add_argument("--threads", type=_seeds.positive, default=2,
                    help="intra-op threads (default: %(default)s)")
    ap.add_argument("--data", help="data folder (default $SHENJING_DATA)")
    args = ap.parse_args()
    sj.utils.set_num_threads(args.threads)
    data = tuple([binarize(t) for t in split] for split in sj.datasets.sst.load_data(args.data))
    units, lr, decay = (given if given is not None else default for given, default in
                        zip((args.units, args.lr, args.weight_decay), DEFAULTS[args.model]))
    accs = []
    for seed in args.seeds:
        acc, seconds = train(args.model, data, args.classes, args.epochs, units, seed,
                             learning_rate=lr, weight_decay=decay)
        accs.append(acc)
        print(f"seed {seed}: test root accuracy {acc:.4f} ({seconds / 60:.1f} min)", flush=True)
    spread = f" (min {min(accs):.4f}, max {max(accs):.4f})" if len(accs) > 1 else ""
    print(f"{args.model}, {args.classes} classes: mean test root accuracy over {len(accs)} "
          f"seeds {statistics.mean(accs):.4f}{spread}")


if __name__ == "__main__":
    _seeds.run_script(main)
