"""LSTM and GRU training, shenjing vs PyTorch: samples/s, and the memory of a 500-step sequence.

The job: sequences of 50 steps with 32 features, batch 64, one LSTM or GRU layer of 128 units,
its last state -> Dense 10, softmax cross-entropy from logits, Adam. Each framework runs in its
own subprocess with the same thread count, alternating A B A B; we print medians and the ratios
shenjing / PyTorch. Memory: one more subprocess per framework trains the same model on sequences
of 500 steps and reports its peak resident memory, and the growth over what it held once the
model was built (the library itself differs: torch's import alone is ~250 MiB).

FLOPs per sample (multiply-adds x 2): LSTM 2 * 50 * (32 + 128) * 512 = 8.2 MFLOP forward (GRU
3/4 of it), a training step ~3x that; the recurrent GEMMs are small (64 x 128 x 512 per step).

    python benchmarks/bench_rnn.py [--repeats 3] [--steps 20] [--threads 2] [--cell both]
        [--length 50]
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

BATCH, FEATURES, UNITS, CLASSES = 64, 32, 128, 10


def _batches(t_len: int, n: int = 4):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((n, BATCH, t_len, FEATURES)).astype(np.float32)
    ys = rng.integers(0, CLASSES, size=(n, BATCH))
    return xs, ys


def shenjing_fn(cell: str, threads: int):
    import shenjing as sj

    sj.utils.set_num_threads(threads)
    sj.utils.set_random_seed(0)
    L = sj.layers
    model = sj.Sequential([{"lstm": L.LSTM, "gru": L.GRU}[cell](UNITS), L.Dense(CLASSES)])
    model.build((None, None, FEATURES))
    opt = sj.optimizers.Adam(learning_rate=1e-3, params=model.trainable_weights)
    loss_fn = sj.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train(x, y):
        loss = loss_fn(y, model(x, training=True))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return train


def torch_fn(cell: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](FEATURES, UNITS, batch_first=True)
    head = torch.nn.Linear(UNITS, CLASSES)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)

    def train(x, y):
        _, state = rnn(torch.from_numpy(x))
        h = state[0] if cell == "lstm" else state
        loss = torch.nn.functional.cross_entropy(head(h[0]), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return train


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(framework: str, cell: str, steps: int, threads: int, t_len: int) -> None:
    train = (shenjing_fn if framework == "shenjing" else torch_fn)(cell, threads)
    xs, ys = _batches(t_len)
    built = _rss_mib()
    for i in range(2):
        train(xs[i % 4], ys[i % 4])
    t0 = time.perf_counter()
    for i in range(steps):
        train(xs[i % 4], ys[i % 4])
    seconds = time.perf_counter() - t0
    print(json.dumps({"train": steps * BATCH / seconds, "peak_rss_mib": _rss_mib(),
                      "growth_mib": _rss_mib() - built}))


def run_worker(framework: str, cell: str, steps: int, threads: int, t_len: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", framework, "--cell", cell,
                          "--steps", str(steps), "--threads", str(threads), "--length",
                          str(t_len)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    ap.add_argument("--cell", choices=["lstm", "gru", "both"], default="both")
    ap.add_argument("--length", type=int, default=50, help="sequence length of the speed runs "
                    "(the memory runs use 500)")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.cell, args.steps, args.threads, args.length)
        return
    frameworks = ("shenjing", "torch")
    for cell in ("lstm", "gru") if args.cell == "both" else (args.cell,):
        runs: dict[str, list[dict]] = {fw: [] for fw in frameworks}
        for _ in range(args.repeats):
            for fw in frameworks:
                runs[fw].append(run_worker(fw, cell, args.steps, args.threads, args.length))
        med = {fw: statistics.median(r["train"] for r in rs) for fw, rs in runs.items()}
        print(f"{cell.upper()}, sequence {args.length}, batch {BATCH}, {args.threads} threads, "
              f"medians of {args.repeats}: shenjing {med['shenjing']:.0f} samples/s, torch "
              f"{med['torch']:.0f} samples/s, ratio {med['shenjing'] / med['torch']:.2f}x")
        mem = {fw: run_worker(fw, cell, 3, args.threads, 500) for fw in frameworks}
        s, t = mem["shenjing"], mem["torch"]
        print(f"  500-step sequences: peak RSS shenjing {s['peak_rss_mib']:.0f} MiB, torch "
              f"{t['peak_rss_mib']:.0f} MiB ({s['peak_rss_mib'] / t['peak_rss_mib']:.2f}x); "
              f"growth while training {s['growth_mib']:.0f} vs {t['growth_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
