"""``Sequential.fit`` against a plain PyTorch loop, and against shenjing's own hand-written loop.

The job: an MLP 784-256-256-10 (ReLU), batch 128, Adam (lr 1e-3), softmax cross-entropy from
logits, on synthetic MNIST-shaped data (N samples, one epoch per timing). Three contestants, each
in its own subprocess (so memory and threads don't mix), with the same BLAS thread count,
alternating: shenjing ``fit``, shenjing's hand-written loop (same model, same optimizer object,
``model(x, training=True)``, ``loss.backward()``, ``opt.step()``), and a plain PyTorch loop. We
print medians, the ratio fit / PyTorch, the overhead of fit over the hand-written loop, and peak
resident memory.

    python benchmarks/bench_fit.py [--repeats 3] [--samples 12800] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH, SIZES = 128, (784, 256, 256, 10)


def _data(n: int):
    rng = np.random.default_rng(0)
    x = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n)
    return x, y


def _shenjing_model(threads: int):
    import shenjing as sj
    from shenjing.layers import Dense

    sj.utils.set_num_threads(threads)
    sj.utils.set_random_seed(0)
    model = sj.Sequential([Dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
                           Dense(SIZES[2], activation="relu"), Dense(SIZES[3])])
    model.compile(optimizer=sj.optimizers.Adam(learning_rate=1e-3),
                  loss=sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    return sj, model


def run_fit(x, y, threads: int, epochs: int) -> float:
    _, model = _shenjing_model(threads)
    model.fit(x[:BATCH * 4], y[:BATCH * 4], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=True)
    return time.perf_counter() - t0


def run_loop(x, y, threads: int, epochs: int) -> float:
    sj, model = _shenjing_model(threads)
    opt = model.optimizer
    loss_fn = model.loss
    rng = np.random.default_rng(0)

    def epoch(xs, ys):
        order = rng.permutation(len(xs))
        for start in range(0, len(xs), BATCH):
            idx = order[start:start + BATCH]
            loss = loss_fn(ys[idx], model(xs[idx], training=True))
            opt.zero_grad()
            loss.backward()
            opt.step()

    model(x[:1])
    opt.build(model.trainable_weights)
    epoch(x[:BATCH * 4], y[:BATCH * 4])
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch(x, y)
    return time.perf_counter() - t0


def run_torch(x, y, threads: int, epochs: int) -> float:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]),
                          nn.ReLU(), nn.Linear(SIZES[2], SIZES[3]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(0)

    def epoch(xs, ys):
        order = torch.from_numpy(rng.permutation(len(xs)))
        for start in range(0, len(xs), BATCH):
            idx = order[start:start + BATCH]
            loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    epoch(xt[:BATCH * 4], yt[:BATCH * 4])
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch(xt, yt)
    return time.perf_counter() - t0


RUNNERS = {"fit": run_fit, "loop": run_loop, "torch": run_torch}


def worker(name: str, samples: int, threads: int, epochs: int) -> None:
    x, y = _data(samples)
    dt = RUNNERS[name](x, y, threads, epochs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"samples_per_s": samples * epochs / dt, "peak_rss_mib": peak}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=sorted(RUNNERS))
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.samples, args.threads, args.epochs)
        return
    results: dict[str, list[dict]] = {k: [] for k in RUNNERS}
    for r in range(args.repeats):
        for name in RUNNERS:
            out = subprocess.run([sys.executable, __file__, "--worker", name, "--samples",
                                  str(args.samples), "--threads", str(args.threads), "--epochs",
                                  str(args.epochs)], capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[name].append(res)
            print(f"run {r + 1} {name:6s} {res['samples_per_s']:9.0f} samples/s  "
                  f"peak {res['peak_rss_mib']:.0f} MiB", flush=True)
    med = {k: statistics.median(r["samples_per_s"] for r in v) for k, v in results.items()}
    mem = {k: statistics.median(r["peak_rss_mib"] for r in v) for k, v in results.items()}
    print(f"\nMLP 784-256-256-10, batch {BATCH}, Adam, {args.threads} threads, "
          f"{args.samples} samples x {args.epochs} epochs, medians of {args.repeats}:")
    for k in RUNNERS:
        print(f"  {k:6s} {med[k]:9.0f} samples/s   peak RSS {mem[k]:5.0f} MiB")
    print(f"  fit / torch: {med['fit'] / med['torch']:.2f}x throughput, "
          f"{mem['fit'] / mem['torch']:.2f}x memory")
    print(f"  fit overhead over the hand-written loop: {100 * (med['loop'] / med['fit'] - 1):.1f}%")


if __name__ == "__main__":
    main()
