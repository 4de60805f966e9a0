"""Double backward: a WGAN-GP critic step, shenjing vs PyTorch.

The job: a conv critic on 32x32x3 images (conv 3->32 3x3 stride 2, leaky_relu 0.2, conv 32->64
3x3 stride 2, leaky_relu, global average, linear 64->1), batch 64. One step is the WGAN-GP
critic loss mean(D(fake)) - mean(D(real)) + 10 * mean((|dD/dx(x_hat)| - 1)**2) at random
interpolates x_hat (the gradient taken with create_graph=True), its backward through that
gradient to the weights, and a plain SGD update. Each framework runs in its own subprocess with
the same thread count, alternating A B A B; medians and the ratio shenjing / PyTorch are printed.
shenjing runs NHWC with Keras's kernel layout, PyTorch NCHW with its own: the same arithmetic.

    python benchmarks/bench_double_backward.py [--repeats 3] [--steps 30] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH, LR, LAMBDA = 64, 1e-3, 10.0
SHAPES = ((3, 3, 3, 32), (32,), (3, 3, 32, 64), (64,), (64, 1))  # Keras layouts


def _data(n: int = 4):
    rng = np.random.default_rng(0)
    real = rng.standard_normal((n, BATCH, 32, 32, 3)).astype(np.float32)
    fake = rng.standard_normal((n, BATCH, 32, 32, 3)).astype(np.float32)
    eps = rng.uniform(size=(n, BATCH, 1, 1, 1)).astype(np.float32)
    return real, fake, eps


def _weights():
    rng = np.random.default_rng(1)
    return [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in SHAPES]


def shenjing_step(threads: int):
    import shenjing as sj
    from shenjing import F

    sj.utils.set_num_threads(threads)
    params = [sj.tensor(w, requires_grad=True) for w in _weights()]
    w1, b1, w2, b2, w3 = params

    def critic(x):
        h = F.leaky_relu(F.conv2d(x, w1, b1, strides=2), 0.2)
        h = F.leaky_relu(F.conv2d(h, w2, b2, strides=2), 0.2)
        return F.mean(h, axis=(1, 2)) @ w3

    def step(real, fake, eps):
        real, fake, eps = sj.as_tensor(real), sj.as_tensor(fake), sj.as_tensor(eps)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
        (g,) = sj.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((g.reshape(BATCH, -1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + LAMBDA * penalty
        for p in params:
            p.grad = None
        loss.backward()
        with sj.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def torch_step(threads: int):
    import torch

    torch.set_num_threads(threads)
    f = torch.nn.functional
    w1, b1, w2, b2, w3 = (torch.tensor(w) for w in _weights())
    params = [w1.permute(3, 2, 0, 1).contiguous(), b1, w2.permute(3, 2, 0, 1).contiguous(), b2,
              w3]
    for p in params:
        p.requires_grad_()
    w1, b1, w2, b2, w3 = params

    def critic(x):
        h = f.leaky_relu(f.conv2d(x, w1, b1, stride=2), 0.2)
        h = f.leaky_relu(f.conv2d(h, w2, b2, stride=2), 0.2)
        return h.mean(dim=(2, 3)) @ w3

    def step(real, fake, eps):
        real, fake, eps = (torch.from_numpy(a) for a in (real, fake, eps))
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
        (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((g.reshape(BATCH, -1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + LAMBDA * penalty
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def worker(framework: str, steps: int, threads: int) -> None:
    real, fake, eps = _data()
    if framework == "torch":  # NCHW, made once outside the timing
        real, fake, eps = (np.ascontiguousarray(a.transpose(0, 1, 4, 2, 3))
                           for a in (real, fake, eps))
    step = (shenjing_step if framework == "shenjing" else torch_step)(threads)
    for i in range(3):  # warm-up
        step(real[i % len(real)], fake[i % len(real)], eps[i % len(real)])
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(real[i % len(real)], fake[i % len(real)], eps[i % len(real)])
    dt = time.perf_counter() - t0
    print(json.dumps({"samples_per_s": steps * BATCH / dt, "loss": float(loss.item())}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.threads)
        return
    speeds: dict[str, list[float]] = {"shenjing": [], "torch": []}
    for r in range(args.repeats):
        for fw in ("shenjing", "torch"):  # alternate A B A B
            out = subprocess.run([sys.executable, __file__, "--worker", fw, "--steps",
                                  str(args.steps), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            speeds[fw].append(res["samples_per_s"])
            print(f"run {r + 1} {fw:8s} {res['samples_per_s']:8.0f} samples/s  "
                  f"last loss {res['loss']:.4f}", flush=True)
    med = {fw: statistics.median(v) for fw, v in speeds.items()}
    print(f"\nWGAN-GP conv critic step, batch {BATCH}, {args.threads} threads, medians of "
          f"{args.repeats}:")
    for fw in ("shenjing", "torch"):
        print(f"  {fw:8s} {med[fw]:8.0f} samples/s")
    print(f"  ratio shenjing/torch: {med['shenjing'] / med['torch']:.2f}x")


if __name__ == "__main__":
    main()
