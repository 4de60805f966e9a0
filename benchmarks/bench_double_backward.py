"""Double backward (create_graph=True), shenjing vs PyTorch, on two jobs.

``gp``: a WGAN-GP critic step. A conv critic on 32x32x3 images (conv 3->32 3x3 stride 2,
leaky_relu 0.2, conv 32->64 3x3 stride 2, leaky_relu, global average, linear 64->1), batch 64;
the loss mean(D(fake)) - mean(D(real)) + 10 * mean((|dD/dx(x_hat)| - 1)**2) at random
interpolates x_hat (the gradient taken with create_graph=True), its backward through that
gradient to the weights, and a plain SGD update. shenjing runs NHWC with Keras's kernel layout,
PyTorch NCHW with its own: the same arithmetic (the losses printed agree).

``pinn``: the physics-informed step of examples/pinn.py: an MLP 1-32-32-1 (tanh) on 64 points,
u'' by two create_graph gradients, the loss mean((u'' + u)**2) differentiated by the weights,
SGD. Small tensors: per-op overhead, not arithmetic, is what it measures.

Each framework runs in its own subprocess with the same thread count, alternating A B A B;
medians and the ratio shenjing / PyTorch are printed.

    python benchmarks/bench_double_backward.py [--job gp|pinn] [--repeats 3] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np

BATCH, LR, LAMBDA = 64, 1e-3, 10.0
SHAPES = ((3, 3, 3, 32), (32,), (3, 3, 32, 64), (64,), (64, 1))  # Keras layouts
MLP = ((1, 32), (32,), (32, 32), (32,), (32, 1), (1,))
POINTS = 64


def _weights(shapes):
    rng = np.random.default_rng(1)
    return [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in shapes]


def _images(channels_first: bool, n: int = 4):
    """n batches of (real, fake, eps), NHWC or NCHW."""
    rng = np.random.default_rng(0)
    shape = (n, BATCH, 32, 32, 3)
    arrays = [rng.standard_normal(shape), rng.standard_normal(shape),
              rng.uniform(size=(n, BATCH, 1, 1, 1))]
    if channels_first:
        arrays = [a.transpose(0, 1, 4, 2, 3) for a in arrays]
    return [np.ascontiguousarray(a, dtype=np.float32) for a in arrays]


def _gp_step(lib, critic, data):
    """One WGAN-GP critic step in ``lib`` (shenjing or torch, the same code)."""
    real, fake, eps = (lib.as_tensor(a) for a in data)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
    (g,) = lib.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((g.reshape(BATCH, -1).norm(2, dim=1) - 1) ** 2).mean()
    return critic(fake).mean() - critic(real).mean() + LAMBDA * penalty


def _pinn_step(lib, act, params, x):
    """One physics-informed step in ``lib``: the residual of u'' + u = 0."""
    w1, b1, w2, b2, w3, b3 = params
    u = act(act(x @ w1 + b1) @ w2 + b2) @ w3 + b3
    (du,) = lib.autograd.grad(u.sum(), x, create_graph=True)
    (d2u,) = lib.autograd.grad(du.sum(), x, create_graph=True)
    return ((d2u + u) ** 2).mean()


def _framework(name: str, threads: int):
    """(the library, the few calls that differ between the two: conv, the mean over H and W,
    the kernel layout, tanh, leaky_relu)."""
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        f = torch.nn.functional
        return torch, SimpleNamespace(
            conv=lambda x, w, b: f.conv2d(x, w, b, stride=2),
            mean_hw=lambda h: h.mean(dim=(2, 3)),
            kernel=lambda w: w.permute(3, 2, 0, 1).contiguous(), tanh=torch.tanh,
            leaky=f.leaky_relu)
    import shenjing
    from shenjing import F

    shenjing.utils.set_num_threads(threads)
    return shenjing, SimpleNamespace(
        conv=lambda x, w, b: F.conv2d(x, w, b, strides=2),
        mean_hw=lambda h: F.mean(h, axis=(1, 2)), kernel=lambda w: w, tanh=F.tanh,
        leaky=F.leaky_relu)


def make_step(framework: str, job: str, threads: int):
    """A function of the step number that runs one training step and returns its loss."""
    lib, ops = _framework(framework, threads)
    if job == "gp":
        params = [lib.tensor(w) for w in _weights(SHAPES)]
        params[0], params[2] = ops.kernel(params[0]), ops.kernel(params[2])
        for p in params:
            p.requires_grad_()
        w1, b1, w2, b2, w3 = params

        def critic(x):
            h = ops.leaky(ops.conv(ops.leaky(ops.conv(x, w1, b1), 0.2), w2, b2), 0.2)
            return ops.mean_hw(h) @ w3

        batches = _images(framework == "torch")

        def loss(i):
            return _gp_step(lib, critic, [a[i % len(a)] for a in batches])
    else:
        params = [lib.tensor(w, requires_grad=True) for w in _weights(MLP)]
        x = lib.tensor(np.linspace(0, np.pi, POINTS, dtype=np.float32).reshape(-1, 1),
                       requires_grad=True)

        def loss(i):
            return _pinn_step(lib, ops.tanh, params, x)

    def step(i):
        value = loss(i)
        for p in params:
            p.grad = None
        value.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
        return value

    return step


def worker(framework: str, job: str, steps: int, threads: int) -> None:
    step = make_step(framework, job, threads)
    for i in range(3):  # warm-up
        step(i)
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(i)
    dt = time.perf_counter() - t0
    print(json.dumps({"steps_per_s": steps / dt, "loss": float(loss.item())}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--job", choices=["gp", "pinn"], default="gp")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.job, args.steps, args.threads)
        return
    speeds: dict[str, list[float]] = {"shenjing": [], "torch": []}
    for r in range(args.repeats):
        for fw in ("shenjing", "torch"):  # alternate A B A B
            out = subprocess.run([sys.executable, __file__, "--worker", fw, "--job", args.job,
                                  "--steps", str(args.steps), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            speeds[fw].append(res["steps_per_s"])
            print(f"run {r + 1} {fw:8s} {res['steps_per_s']:8.1f} steps/s  "
                  f"last loss {res['loss']:.6f}", flush=True)
    med = {fw: statistics.median(v) for fw, v in speeds.items()}
    print(f"\n{args.job}, {args.threads} threads, medians of {args.repeats}:")
    for fw in ("shenjing", "torch"):
        print(f"  {fw:8s} {med[fw]:8.1f} steps/s")
    print(f"  ratio shenjing/torch: {med['shenjing'] / med['torch']:.2f}x")


if __name__ == "__main__":
    main()
