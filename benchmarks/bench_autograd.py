"""MLP training step, shenjing vs PyTorch, and the cost of ``import``.

The job: an MLP 784-256-256-10 (ReLU, or ``--activation`` sigmoid or tanh), batch 128, softmax
cross-entropy, plain SGD written out here (``p -= lr * p.grad`` under no_grad), on synthetic
MNIST-shaped data. Each framework runs in its own subprocess (so memory and threads don't mix),
with the same BLAS thread count, alternating A B A B; we print the medians and the ratio
shenjing / PyTorch, and (on the CPU) the ratio of the runs' median step times, which bursts
of other load on a shared machine sway less. Import time is the median of fresh-interpreter
``import shenjing`` / ``import torch``, both with compiled bytecode (as after ``pip install``).

FLOPs per step: forward 2 * 128 * (784*256 + 256*256 + 256*10) = 68.8 MFLOP, backward twice
that minus the first layer's input gradient: about 155 MFLOP in all, nearly all in eight GEMMs.

    python benchmarks/bench_autograd.py [--repeats 3] [--steps 300] [--threads 2]
    python benchmarks/bench_autograd.py --device cuda   # shenjing on CuPy vs PyTorch on CUDA
    python benchmarks/bench_autograd.py --job chain     # the cost of one small op
    python benchmarks/bench_autograd.py --job gemms     # the step's eight GEMMs alone
    python benchmarks/bench_autograd.py --job numpy     # the step written by hand in NumPy
    python benchmarks/bench_autograd.py --job kernels   # ... by hand over shenjing's kernels
    python benchmarks/bench_autograd.py --activation sigmoid   # or tanh: the article's others

``--job chain`` measures the engine instead of the BLAS: a 52-op chain on 4x4 tensors
(``h = tanh(h * v + 0.5) @ v - h``, ten times, then a sum; forward and backward), where the
arithmetic is nothing and the bookkeeping of each op is everything; it prints microseconds
per op (forward + backward) and the ratio of steps per second.

``--job gemms`` times only the eight matrix products of the MLP step (three forward, three
weight gradients, two input gradients; the first layer's is not needed), in the layouts each
framework uses, through its own path (shenjing's ``parallel.gemm`` / ``gemms``: oneDNN on the
team where the ``onednn`` extra is installed, else NumPy's OpenBLAS; the MKL inside PyTorch's
wheel): the floor under each framework's step, and so how far the ratio can go.

``--job numpy`` runs, in shenjing's place, the same step written by hand in NumPy (no engine:
the forward, the gradients and the update as eleven array expressions over OpenBLAS): the
ceiling for any engine built on NumPy's BLAS, against PyTorch's full step. ``--job kernels``
writes it by hand over shenjing's own kernels (oneDNN's team, bias + ReLU fused in C both ways,
the C softmax cross-entropy, the update's two team passes): the ceiling for shenjing's engine,
whose records and graph walk are the difference (``F.relu(F.linear(...))`` folds the ReLU into
the product, as ``activation="relu"`` does: see ``autograd/temporary.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

BATCH, SIZES, LR = 128, (784, 256, 256, 10), 0.01


def _data(n_batches: int = 16):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((n_batches, BATCH, SIZES[0])).astype(np.float32)
    ys = rng.integers(0, SIZES[-1], size=(n_batches, BATCH))
    return xs, ys


def _init_weights():
    rng = np.random.default_rng(1)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))
        out.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        out.append(np.zeros(fan_out, dtype=np.float32))
    return out


def shenjing_step_fn(threads: int, device: str, activation: str = "relu"):
    import shenjing as sj
    from shenjing import F

    act = getattr(F, activation)

    sj.utils.set_num_threads(threads)
    params = [sj.tensor(w).to(device).requires_grad_() for w in _init_weights()]
    w1, b1, w2, b2, w3, b3 = params

    def step(x, y):
        h = act(F.linear(sj.as_tensor(x), w1, b1))  # no copy, as torch.from_numpy
        h = act(F.linear(h, w2, b2))
        loss = F.sparse_categorical_crossentropy(y, F.linear(h, w3, b3), from_logits=True)
        for p in params:
            p.grad = None
        loss.backward()
        with sj.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def torch_step_fn(threads: int, device: str, activation: str = "relu"):
    import torch

    act = getattr(torch, activation)

    torch.set_num_threads(threads)
    params = [torch.tensor(w.T.copy() if w.ndim == 2 else w, device=device, requires_grad=True)
              for w in _init_weights()]
    w1, b1, w2, b2, w3, b3 = params
    f = torch.nn.functional

    def step(x, y):
        h = act(f.linear(torch.as_tensor(x), w1, b1))  # no copy
        h = act(f.linear(h, w2, b2))
        loss = f.cross_entropy(f.linear(h, w3, b3), torch.as_tensor(y))
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def numpy_step_fn(threads: int):
    """The MLP step with no engine: forward, softmax cross-entropy, backward and SGD written
    out in NumPy, as few passes as the arithmetic needs."""
    import shenjing as sj  # for its BLAS thread setting only

    sj.utils.set_num_threads(threads)
    w1, b1, w2, b2, w3, b3 = params = _init_weights()
    rows = np.arange(BATCH)

    def step(x, y):
        z1 = x @ w1
        z1 += b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2
        z2 += b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ w3
        z3 += b3
        z3 -= z3.max(axis=1, keepdims=True)
        p = np.exp(z3)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        g3 = p / BATCH
        g2 = g3 @ w3.T
        g2 *= z2 > 0
        g1 = g2 @ w2.T
        g1 *= z1 > 0
        grads = (x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g3, g3.sum(0))
        for w, g in zip(params, grads):
            w -= LR * g
        return loss

    return step


def kernels_step_fn(threads: int):
    """The MLP step with no engine over shenjing's own kernels: the products as its ``linear``
    runs them (``parallel.gemm`` / ``gemms``: oneDNN's team), bias and ReLU fused in one C pass
    each way, the C softmax cross-entropy, the same two-pass SGD update: what the engine's
    records and its walk cost is the gap to the engine's step. The update is the engine's
    two team passes (``parallel.arith``), as ``p -= lr * p.grad`` runs them."""
    import shenjing as sj
    from shenjing import native, parallel
    from shenjing.functional._util import activation_bias_grads, add_bias_activate

    sj.utils.set_num_threads(threads)
    w1, b1, w2, b2, w3, b3 = params = _init_weights()
    mm, address, lib = parallel.gemm, native.address, native.kernels()
    lr = np.float32(LR)

    def step(x, y):
        y = y.astype(np.int64, copy=False)
        h1 = mm(x, w1)
        add_bias_activate(h1, b1, "relu")
        h2 = mm(h1, w2)
        add_bias_activate(h2, b2, "relu")
        z3 = mm(h2, w3)
        z3 += b3
        d, loss = np.empty_like(z3), np.empty(len(z3), np.float32)  # d: softmax - onehot
        lib.sj_softmax_xent(*z3.shape, address(z3), address(y), address(d), address(loss))
        g3 = d / BATCH
        g2, gw3 = parallel.gemms((g3, w3.T, None), (h2.T, g3, None))
        g2, gb2 = activation_bias_grads(g2, h2, "relu", True)
        g1, gw2 = parallel.gemms((g2, w2.T, None), (h1.T, g2, None))
        g1, gb1 = activation_bias_grads(g1, h1, "relu", True)
        grads = (mm(x.T, g1), gb1, gw2, gb2, gw3, g3.sum(0))
        for w, g in zip(params, grads):
            parallel.arith_(parallel.SUB, w, parallel.arith(parallel.MUL, g, lr))
        return loss

    return step


def chain_step_fn(framework: str):
    """The 52-op small-tensor chain: a step is its forward and backward."""
    a = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    if framework == "torch":
        import torch as m

        m.set_num_threads(1)
        w, v = m.tensor(a, requires_grad=True), m.tensor(a, requires_grad=True)
    else:
        import shenjing as m

        w, v = m.tensor(a).requires_grad_(), m.tensor(a).requires_grad_()

    def step(x, y):
        h = w
        for _ in range(10):
            h = m.tanh(h * v + 0.5) @ v - h
        loss = (h * h).sum()
        w.grad = v.grad = None
        loss.backward()
        return loss

    return step


CHAIN_OPS = 52  # 10 x (mul, add, tanh, matmul, sub), the square and the sum


def gemms_step_fn(framework: str, threads: int):
    """The MLP step's eight GEMMs on hot operands: x W1, h1 W2, h2 W3 (forward); h2^T g3,
    h1^T g2, x^T g1 (weight gradients); g3 W3^T, g2 W2^T (input gradients). shenjing keeps W
    as (in, out) and multiplies as its engine does; torch keeps (out, in) and calls torch.mm."""
    rng = np.random.default_rng(2)
    acts = [rng.standard_normal((BATCH, n)).astype(np.float32) for n in SIZES]  # x, h1, h2, z
    weights = [rng.standard_normal((i, o)).astype(np.float32)
               for i, o in zip(SIZES[:-1], SIZES[1:])]
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        a = [torch.from_numpy(v) for v in acts]
        w = [torch.from_numpy(np.ascontiguousarray(v.T)) for v in weights]  # (out, in)
        mm = torch.mm

        def step(x, y):
            for i in range(3):
                mm(a[i], w[i].t())  # forward
                mm(a[i + 1].t(), a[i])  # weight gradient, (out, in)
            mm(a[3], w[2])  # input gradients of layers 3 and 2
            mm(a[2], w[1])
    else:
        import shenjing as sj
        from shenjing import parallel

        sj.utils.set_num_threads(threads)
        a, w, mm = acts, weights, parallel.gemm

        def step(x, y):  # as the engine calls them: layers 3 and 2's gradients in pairs
            for i in range(3):
                mm(a[i], w[i])
            mm(a[0].T, a[1])
            parallel.gemms((a[3], w[2].T, None), (a[2].T, a[3], None))
            parallel.gemms((a[2], w[1].T, None), (a[1].T, a[2], None))

    return step


def _on_device(framework: str, device: str):
    """(move, wait): put the data where the framework computes; wait for the GPU to finish."""
    if device == "cpu":
        return (lambda a: a), (lambda: None)
    if framework == "torch":
        import torch

        return (lambda a: torch.from_numpy(a).to(device)), torch.cuda.synchronize
    import cupy

    return cupy.asarray, cupy.cuda.Device().synchronize


def worker(framework: str, steps: int, threads: int, device: str, job: str,
           activation: str) -> None:
    if job == "chain":
        step = chain_step_fn(framework)
    elif job == "gemms":
        step = gemms_step_fn(framework, threads)
    elif job == "numpy" and framework == "shenjing":
        step = numpy_step_fn(threads)
    elif job == "kernels" and framework == "shenjing":
        step = kernels_step_fn(threads)
    else:
        step = (shenjing_step_fn if framework == "shenjing" else torch_step_fn)(
            threads, device, activation)
    move, wait = _on_device(framework, device)
    xs, ys = (move(a) for a in _data())
    for i in range(20):  # warm-up: allocator, BLAS threads, caches
        step(xs[i % len(xs)], ys[i % len(ys)])
    wait()
    ends = []  # each step's end: a step's own time, which a burst of other load inflates
    t0 = time.perf_counter()
    for i in range(steps):
        step(xs[i % len(xs)], ys[i % len(ys)])
        ends.append(time.perf_counter())
    wait()
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median_step = statistics.median(b - a for a, b in zip([t0] + ends, ends))
    print(json.dumps({"samples_per_s": steps * BATCH / dt, "peak_rss_mib": peak,
                      "median_step_us": 1e6 * median_step}))


def import_time(module: str, repeats: int) -> float:
    """Median seconds of ``import module`` in a fresh interpreter, with compiled bytecode as
    after a ``pip install`` (which compiles it): a first import writes it to a temporary cache
    (``PYTHONPYCACHEPREFIX``, even where ``PYTHONDONTWRITEBYTECODE`` is set, as in an editable
    checkout under such a shell, which would otherwise compile every module at each import)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True, env=env).stdout)
                 for _ in range(repeats + 1)]
    return statistics.median(times[1:])  # the first one wrote the bytecode


def run_worker(framework: str, steps: int, threads: int, device: str, job: str,
               activation: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", framework, "--steps", str(steps),
                          "--threads", str(threads), "--device", device, "--job", job,
                          "--activation", activation],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu",
                    help="cpu, or cuda (shenjing on CuPy arrays, PyTorch on CUDA)")
    ap.add_argument("--job", choices=["mlp", "chain", "gemms", "numpy", "kernels"],
                    default="mlp",
                    help="mlp: the MLP training step; chain: the 52-op small-tensor chain; "
                         "gemms: the MLP step's eight GEMMs alone; numpy: the step written by "
                         "hand in NumPy, in shenjing's place; kernels: written by hand over "
                         "shenjing's kernels")
    ap.add_argument("--activation", choices=["relu", "sigmoid", "tanh"], default="relu",
                    help="the hidden layers' activation in the mlp job (the article's three)")
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.threads, args.device, args.job, args.activation)
        return
    results: dict[str, list[dict]] = {"shenjing": [], "torch": []}
    for r in range(args.repeats):
        for fw in ("shenjing", "torch"):  # alternate A B A B
            res = run_worker(fw, args.steps, args.threads, args.device, args.job,
                             args.activation)
            results[fw].append(res)
            label = args.job if args.job in ("numpy", "kernels") and fw == "shenjing" else fw
            print(f"run {r + 1} {label:8s} {res['samples_per_s']:9.0f} samples/s  "
                  f"peak {res['peak_rss_mib']:.0f} MiB", flush=True)
    med = {fw: statistics.median(r["samples_per_s"] for r in rs) for fw, rs in results.items()}
    if args.job == "chain":  # samples/s counts steps of BATCH: back to microseconds per op
        print(f"\n52-op chain of 4x4 tensors, forward + backward, medians of {args.repeats}:")
        for fw in ("shenjing", "torch"):
            print(f"  {fw:8s} {1e6 * BATCH / med[fw] / CHAIN_OPS:6.2f} us per op")
        print(f"  ratio shenjing/torch: {med['shenjing'] / med['torch']:.2f}x steps per second")
        return
    if args.job == "gemms":
        print(f"\nThe MLP step's eight GEMMs, {args.threads} threads, medians of {args.repeats}:")
        for fw in ("shenjing", "torch"):
            print(f"  {fw:8s} {1e6 * BATCH / med[fw]:6.0f} us per step")
        print(f"  ratio shenjing/torch: {med['shenjing'] / med['torch']:.2f}x")
        return
    if args.job in ("numpy", "kernels"):
        what = "NumPy" if args.job == "numpy" else "shenjing's kernels"
        print(f"\nThe MLP step, {args.threads} threads, medians of {args.repeats}:")
        print(f"  by hand over {what:18s} {med['shenjing']:9.0f} samples/s")
        print(f"  PyTorch {'':23s} {med['torch']:9.0f} samples/s")
        print(f"  ratio: {med['shenjing'] / med['torch']:.2f}x (the ceiling for an engine on "
              f"{'NumPy and its BLAS' if args.job == 'numpy' else 'these kernels'})")
        return
    mem = {fw: statistics.median(r["peak_rss_mib"] for r in rs) for fw, rs in results.items()}
    imp = {m: import_time(m, 5) for m in ("shenjing", "torch")}
    print(f"\nMLP 784-256-256-10 ({args.activation}), batch {BATCH}, SGD, {args.device}, "
          f"{args.threads} threads, medians of {args.repeats}:")
    for fw in ("shenjing", "torch"):
        print(f"  {fw:8s} {med[fw]:9.0f} samples/s   peak RSS {mem[fw]:5.0f} MiB   "
              f"import {imp[fw]:.3f} s")
    print(f"  ratio shenjing/torch: {med['shenjing'] / med['torch']:.2f}x throughput, "
          f"{mem['shenjing'] / mem['torch']:.2f}x memory")
    if args.device == "cpu":  # (on a GPU a step's own time is its launches, not its work)
        step = {fw: statistics.median(r["median_step_us"] for r in rs)
                for fw, rs in results.items()}
        print(f"  median step: shenjing {step['shenjing']:.0f} us, torch {step['torch']:.0f} us: "
              f"{step['torch'] / step['shenjing']:.2f}x (a shared machine's bursts of other "
              "load weigh less here than in the totals)")


if __name__ == "__main__":
    main()
