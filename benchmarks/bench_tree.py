"""Binary Tree-LSTM training on SST: shenjing's level-batched layer vs the usual PyTorch
recursion (one node at a time), trees per second.

The job: binarized SST training trees, word vectors 150 wide at random, 150 units, 5 classes,
softmax cross-entropy at every node, Adagrad (learning rate 0.05), batches of 25 trees. shenjing
evaluates each batch a level at a time (one GEMM per level for the whole batch); PyTorch runs
the textbook recursion, each node's gates from its children's states, as most Tree-LSTM code
does. Each framework runs in its own subprocess with the same thread count, alternating; we
print medians and the ratio.

    python benchmarks/bench_tree.py --data ../shared/data [--trees 500] [--repeats 3]
        [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

UNITS, CLASSES, BATCH, LR = 150, 5, 25, 0.05


def _trees(path: str, n: int):
    import shenjing as sj
    from shenjing.data import Vocabulary, binarize

    train = [binarize(t) for t in sj.datasets.sst.load_data(path)[0][:n]]
    return train, Vocabulary.from_trees(train)


def run_shenjing(path: str, n: int, threads: int) -> float:
    import shenjing as sj
    from shenjing.data.tree_batch import batches

    sj.utils.set_num_threads(threads)
    trees, vocab = _trees(path, n)
    model = sj.layers.TreeLSTM(len(vocab), UNITS, CLASSES)
    opt = None
    t0 = time.perf_counter()
    for batch in batches(trees, vocab, BATCH, np.random.default_rng(0), max_arity=2):
        loss = model.loss(batch, model(batch))
        opt = opt or sj.optimizers.Adagrad(learning_rate=LR, params=model.trainable_weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return len(trees) / (time.perf_counter() - t0)


def run_torch(path: str, n: int, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    trees, vocab = _trees(path, n)
    nn = torch.nn

    class TreeLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(vocab), UNITS)
            self.leaf = nn.Linear(UNITS, 3 * UNITS)
            self.compose = nn.Linear(2 * UNITS, 5 * UNITS)
            self.classify = nn.Linear(UNITS, CLASSES)

        def node(self, tree, logits, labels):
            if tree.is_leaf:
                x = self.embed(torch.tensor([vocab.index(tree.word)]))
                i, o, u = self.leaf(x).chunk(3, dim=1)
                c = torch.sigmoid(i) * torch.tanh(u)
            else:
                (h_l, c_l), (h_r, c_r) = (self.node(k, logits, labels) for k in tree.children)
                i, o, u, f_l, f_r = self.compose(torch.cat([h_l, h_r], 1)).chunk(5, dim=1)
                c = (torch.sigmoid(i) * torch.tanh(u) + torch.sigmoid(f_l) * c_l
                     + torch.sigmoid(f_r) * c_r)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits.append(self.classify(h))
            labels.append(tree.label)
            return h, c

    model = TreeLSTM()
    opt = torch.optim.Adagrad(model.parameters(), lr=LR)
    order = np.random.default_rng(0).permutation(len(trees))
    t0 = time.perf_counter()
    for s in range(0, len(order), BATCH):
        logits, labels = [], []
        for j in order[s:s + BATCH]:
            model.node(trees[j], logits, labels)
        loss = nn.functional.cross_entropy(torch.cat(logits), torch.tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return len(trees) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="folder holding sst/{train,dev,test}.txt")
    ap.add_argument("--trees", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    args = ap.parse_args()
    if args.worker:
        run = run_shenjing if args.worker == "shenjing" else run_torch
        print(json.dumps({"trees_per_s": run(args.data, args.trees, args.threads)}))
        return
    rates: dict[str, list[float]] = {"shenjing": [], "torch": []}
    for _ in range(args.repeats):
        for fw in rates:
            out = subprocess.run([sys.executable, __file__, "--worker", fw, "--data", args.data,
                                  "--trees", str(args.trees), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            rates[fw].append(json.loads(out.stdout.strip().splitlines()[-1])["trees_per_s"])
    med = {fw: statistics.median(r) for fw, r in rates.items()}
    print(f"binary Tree-LSTM, SST, {args.trees} trees, batch {BATCH}, {args.threads} threads, "
          f"medians of {args.repeats}: shenjing {med['shenjing']:.0f} trees/s, PyTorch "
          f"(node by node) {med['torch']:.0f} trees/s, ratio "
          f"{med['shenjing'] / med['torch']:.1f}x")


if __name__ == "__main__":
    main()
