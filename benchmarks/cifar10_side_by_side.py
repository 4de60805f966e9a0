"""The article's CIFAR-10 CNN trained by shenjing and by PyTorch on the same data and recipe.

The recipe is the listing's: Conv2D 32 -> MaxPool -> Conv2D 64 -> MaxPool -> Conv2D 64 -> Flatten
-> Dense 64 -> Dense 10, pixels / 255, Adam (learning rate 1e-3, epsilon 1e-7), batch 32 (Keras's
default), 10 epochs, the test set evaluated after every epoch (the listing's validation_data).
``--variant corrected`` (default) gives logits from the last layer, as in the TensorFlow tutorial
the listing comes from; ``written`` keeps the listing's softmax before a from-logits loss. PyTorch
gets Keras's initializers (Glorot-uniform kernels, zero biases) and shuffles with its own seed.
Each (framework, seed) runs in its own subprocess with the same thread count; we print each run's
test accuracy and training wall time, then the per-framework means.

    python benchmarks/cifar10_side_by_side.py --data ../shared/data [--seeds 0 1 2]
        [--epochs 10] [--threads 2] [--variant corrected|written] [--frameworks shenjing torch]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH, LR, EPS = 32, 1e-3, 1e-7


def _data(path: str):
    import shenjing

    (x_train, y_train), (x_test, y_test) = shenjing.datasets.cifar10.load_data(path)
    return (x_train.astype(np.float32) / 255, y_train[:, 0].astype(np.int64),
            x_test.astype(np.float32) / 255, y_test[:, 0].astype(np.int64))


def run_shenjing(data, seed: int, epochs: int, threads: int, written: bool) -> dict:
    import shenjing as tf

    tf.utils.set_num_threads(threads)
    tf.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = data
    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"), L.Flatten(), L.Dense(64, activation="relu"),
        L.Dense(10, activation="softmax" if written else None)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=BATCH, verbose=0,
                        validation_data=(x_test, y_test))
    seconds = time.perf_counter() - t0
    return {"test_accuracy": float(model.evaluate(x_test, y_test, verbose=0)[1]),
            "train_seconds": seconds, "val_accuracy": history.history["val_accuracy"]}


def run_torch(data, seed: int, epochs: int, threads: int, written: bool) -> dict:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    nn = torch.nn
    x_train, y_train, x_test, y_test = data
    to_nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))  # noqa: E731
    x_train, x_test = to_nchw(x_train), to_nchw(x_test)
    y_train, y_test = torch.from_numpy(y_train), torch.from_numpy(y_test)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 64),
        nn.ReLU(), nn.Linear(64, 10), *([nn.Softmax(dim=1)] if written else []))
    for m in model.modules():  # Keras's defaults
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=EPS)
    loss_fn = nn.CrossEntropyLoss()  # from logits (given probabilities when ``written``)
    rng = np.random.default_rng(seed)

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            hits = sum((model(x_test[i:i + 256]).argmax(1) == y_test[i:i + 256]).sum().item()
                       for i in range(0, len(x_test), 256))
        model.train()
        return hits / len(x_test)

    val = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x_train)))
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        val.append(accuracy())
    seconds = time.perf_counter() - t0
    return {"test_accuracy": accuracy(), "train_seconds": seconds, "val_accuracy": val}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="folder holding cifar10-jpeg.zip (or the "
                    "CIFAR-10 python tarball)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", choices=["corrected", "written"], default="corrected")
    ap.add_argument("--frameworks", nargs="+", choices=["shenjing", "torch"],
                    default=["shenjing", "torch"])
    ap.add_argument("--worker", choices=["shenjing", "torch"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.worker:
        run = run_shenjing if args.worker == "shenjing" else run_torch
        out = run(_data(args.data), args.seed, args.epochs, args.threads,
                  args.variant == "written")
        print(json.dumps(out))
        return
    results: dict[str, list[dict]] = {fw: [] for fw in args.frameworks}
    for seed in args.seeds:
        for fw in args.frameworks:
            cmd = [sys.executable, __file__, "--worker", fw, "--seed", str(seed), "--data",
                   args.data, "--epochs", str(args.epochs), "--threads", str(args.threads),
                   "--variant", args.variant]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[fw].append(r)
            print(f"{fw:8s} seed {seed}: test accuracy {r['test_accuracy']:.4f}, training "
                  f"{r['train_seconds']:.0f} s, per epoch "
                  f"{' '.join(f'{a:.3f}' for a in r['val_accuracy'])}", flush=True)
    print(f"\n{args.variant} listing, {args.epochs} epochs, {args.threads} threads, "
          f"seeds {args.seeds}:")
    for fw, rs in results.items():
        accs = [r["test_accuracy"] for r in rs]
        spread = f" (min {min(accs):.4f}, max {max(accs):.4f})" if len(accs) > 1 else ""
        print(f"  {fw:8s} mean test accuracy {statistics.mean(accs):.4f}{spread}, median "
              f"training time {statistics.median(r['train_seconds'] for r in rs):.0f} s")


if __name__ == "__main__":
    main()
