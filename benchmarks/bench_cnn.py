"""The article's CNN (Keras listing), shenjing vs PyTorch: training and inference samples/s.

Network: Conv2D 32 3x3 relu -> MaxPooling 2x2 -> Conv2D 64 3x3 relu -> MaxPooling 2x2 -> Conv2D 64
3x3 relu -> Flatten -> Dense 64 relu -> Dense 10, on 32x32x3 inputs (synthetic CIFAR-shaped
batches). Training step: forward, softmax cross-entropy from logits, backward, Adam. Each
framework runs in its own subprocess with the same thread count, alternating A B A B; we print
medians, the ratios shenjing / PyTorch, peak resident memory, and the fraction of this machine's
float32 GEMM peak (measured here with NumPy) that the training step reaches.

FLOPs per sample (multiply-adds x 2): conv1 30*30*27*32, conv2 13*13*288*64, conv3 4*4*576*64,
dense 1024*64 + 64*10: 9.10 MFLOP forward; a training step is ~3x that (two backward GEMMs per
layer, minus conv1's input gradient): ~25.7 MFLOP.

    python benchmarks/bench_cnn.py [--repeats 3] [--steps 30] [--threads 2]
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

FWD_FLOP = 2 * (30 * 30 * 27 * 32 + 13 * 13 * 288 * 64 + 4 * 4 * 576 * 64 + 1024 * 64 + 64 * 10)
TRAIN_FLOP = 3 * FWD_FLOP - 2 * 30 * 30 * 27 * 32  # no input gradient for conv1


def _batches(batch: int, n: int = 4):
    rng = np.random.default_rng(0)
    xs = rng.random((n, batch, 32, 32, 3), dtype=np.float32)
    ys = rng.integers(0, 10, size=(n, batch))
    return xs, ys


def shenjing_fns(threads: int):
    import shenjing as tf

    tf.utils.set_num_threads(threads)
    tf.utils.set_random_seed(0)
    L = tf.layers
    model = tf.Sequential([
        L.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"), L.Flatten(),
        L.Dense(64, activation="relu"), L.Dense(10)])
    opt = tf.optimizers.Adam(learning_rate=1e-3, params=model.trainable_weights)
    loss_fn = tf.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train(x, y):
        loss = loss_fn(y, model(x, training=True))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer(x):
        with tf.no_grad():
            return model(x, training=False)

    return train, infer


def torch_fns(threads: int):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 64),
        nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def train(x, y):
        x = torch.from_numpy(x).permute(0, 3, 1, 2)  # NHWC data, as the Keras listing feeds it
        loss = nn.functional.cross_entropy(model(x), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer(x):
        with torch.no_grad():
            return model(torch.from_numpy(x).permute(0, 3, 1, 2))

    return train, infer


def worker(framework: str, batch: int, steps: int, threads: int) -> None:
    train, infer = (shenjing_fns if framework == "shenjing" else torch_fns)(threads)
    xs, ys = _batches(batch)
    for i in range(3):
        train(xs[i % 4], ys[i % 4])
    t0 = time.perf_counter()
    for i in range(steps):
        train(xs[i % 4], ys[i % 4])
    t_train = time.perf_counter() - t0
    for i in range(3):
        infer(xs[i % 4])
    t0 = time.perf_counter()
    for i in range(steps):
        infer(xs[i % 4])
    t_infer = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"train": steps * batch / t_train, "infer": steps * batch / t_infer,
                      "peak_rss_mib": peak}))


def gemm_peak(threads: int) -> float:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
        a @ a
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            a @ a
            times.append(time.perf_counter() - t0)
    return 2 * 2048**3 / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.batch, args.steps, args.threads)
        return
    peak = gemm_peak(args.threads)
    print(f"float32 GEMM peak (NumPy, {args.threads} threads): {peak / 1e9:.0f} GFLOP/s")
    for batch in args.batches:
        res: dict[str, list[dict]] = {"shenjing": [], "torch": []}
        for _ in range(args.repeats):
            for fw in res:
                out = subprocess.run([sys.executable, __file__, "--worker", fw, "--batch",
                                      str(batch), "--steps", str(args.steps), "--threads",
                                      str(args.threads)], capture_output=True, text=True,
                                     check=True)
                res[fw].append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {fw: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
               for fw, rs in res.items()}
        s, t = med["shenjing"], med["torch"]
        print(f"\nbatch {batch}, medians of {args.repeats}:")
        for fw, m in med.items():
            print(f"  {fw:8s} train {m['train']:7.0f} samples/s  infer {m['infer']:7.0f} "
                  f"samples/s  peak RSS {m['peak_rss_mib']:5.0f} MiB")
        mem = s["peak_rss_mib"] / t["peak_rss_mib"]
        print(f"  ratios shenjing/torch: train {s['train'] / t['train']:.2f}x, infer "
              f"{s['infer'] / t['infer']:.2f}x, memory {mem:.2f}x")
        print(f"  shenjing training step at {s['train'] * TRAIN_FLOP / peak:.0%} of GEMM peak "
              f"(torch {t['train'] * TRAIN_FLOP / peak:.0%})")


if __name__ == "__main__":
    main()
