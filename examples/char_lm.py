"""A character language model on Tiny Shakespeare: Embedding 64 -> LSTM 128 -> LSTM 128 ->
Dense(vocabulary) over every step, trained on random 100-character windows (batch 64, Adam 2e-3,
global-norm clipping at 5) for a time budget, printing the validation loss (nats per character)
as it goes, then sampling text with a temperature.

    SHENJING_DATA=../shared/data python examples/char_lm.py [--minutes 30] [--units 128]
        [--layers 2] [--dropout 0] [--seed 0] [--threads 2] [--temperature 0.8]

The first 90% of the text trains, the last 10% validates (the whole split, in 100-character
windows). Curves are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import time

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as sj

L = sj.layers


def encode(text: str) -> tuple[np.ndarray, list[str]]:
    """The text as ids into its sorted character set, and that set."""
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index[c] for c in text], dtype=np.int64), chars


def windows(ids: np.ndarray, starts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ids[s : s + length] and next-character targets ids[s + 1 : s + length + 1]."""
    idx = starts[:, None] + np.arange(length + 1)
    chunk = ids[idx]
    return chunk[:, :-1], chunk[:, 1:]


def build(vocab: int, units: int, layers: int, dropout: float, embed: int = 64) -> sj.Model:
    model = sj.Sequential([L.Embedding(vocab, embed)])
    for _ in range(layers):
        model.add(L.LSTM(units, return_sequences=True, dropout=dropout))
    if dropout:
        model.add(L.Dropout(dropout))
    model.add(L.Dense(vocab))
    model.build((None, None))
    return model


def mean_loss(model: sj.Model, ids: np.ndarray, length: int, batch: int = 128) -> float:
    """Mean cross-entropy (nats per character) over the whole of ``ids``, in windows."""
    starts = np.arange(0, len(ids) - length - 1, length)
    loss_fn = sj.losses.SparseCategoricalCrossentropy(from_logits=True)
    total = 0.0
    with sj.no_grad():
        for i in range(0, len(starts), batch):
            x, y = windows(ids, starts[i:i + batch], length)
            total += float(loss_fn(y, model(x))) * len(x)
    return total / len(starts)


def train(model: sj.Model, train_ids: np.ndarray, val_ids: np.ndarray, minutes: float,
          rng: np.random.Generator, length: int = 100, batch: int = 64,
          eval_every: int = 200, max_steps: int | None = None, log=print) -> list[dict]:
    """Adam 2e-3 with global-norm clipping 5 on random windows until ``minutes`` have passed
    (or ``max_steps`` steps); the validation loss every ``eval_every`` steps and at the end.
    Returns the curve."""
    opt = sj.optimizers.Adam(learning_rate=2e-3, global_clipnorm=5.0,
                             params=model.trainable_weights)
    loss_fn = sj.losses.SparseCategoricalCrossentropy(from_logits=True)
    curve, step, recent = [], 0, []
    t0 = time.perf_counter()
    while True:
        x, y = windows(train_ids, rng.integers(0, len(train_ids) - length - 1, batch), length)
        loss = loss_fn(y, model(x, training=True))
        opt.zero_grad()
        loss.backward()
        opt.step()
        recent.append(float(loss))
        step += 1
        elapsed = time.perf_counter() - t0
        done = elapsed >= minutes * 60 or step == max_steps
        if step % eval_every == 0 or done:
            point = {"minutes": elapsed / 60, "step": step, "train_loss": float(np.mean(recent)),
                     "val_loss": mean_loss(model, val_ids, length)}
            recent = []
            curve.append(point)
            log(f"{point['minutes']:6.1f} min  step {step:6d}  train {point['train_loss']:.3f}"
                f"  validation {point['val_loss']:.3f} nats/char")
        if done:
            return curve


def sample(model: sj.Model, chars: list[str], prime: str, n: int, temperature: float,
           rng: np.random.Generator) -> str:
    """``n`` characters after ``prime``, one at a time through the LSTM cells (the layers'
    own weights), each drawn from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(chars)}
    embed, *rest = model.layers
    lstms = [layer for layer in rest if isinstance(layer, L.LSTM)]
    head = rest[-1]
    states = [[sj.tensor(np.zeros((1, lstm.units), np.float32))] * 2 for lstm in lstms]
    out = list(prime)
    with sj.no_grad():
        next_id = None
        for step in range(len(prime) + n):
            cid = index[prime[step]] if step < len(prime) else next_id
            if step >= len(prime):
                out.append(chars[cid])
            h = embed(np.array([cid]))
            for k, lstm in enumerate(lstms):
                h, states[k] = lstm.cell(h, states[k])
            logits = head(h).numpy()[0] / max(temperature, 1e-6)
            p = np.exp(logits - logits.max())
            next_id = int(rng.choice(len(chars), p=p / p.sum()))
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30,
                    help="training time budget (default: %(default)s)")
    ap.add_argument("--units", type=_seeds.positive, default=128,
                    help="LSTM units per layer (default: %(default)s)")
    ap.add_argument("--layers", type=_seeds.positive, default=2,
                    help="stacked LSTM layers (default: %(default)s)")
    ap.add_argument("--dropout", type=float, default=0.0,
                    help="dropout on each LSTM's inputs and on the last one's outputs "
                    "(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    ap.add_argument("--threads", type=_seeds.positive, default=2,
                    help="intra-op threads (default: %(default)s)")
    ap.add_argument("--temperature", type=float, default=0.8,
                    help="sampling temperature: lower is safer, higher is wilder "
                    "(default: %(default)s)")
    ap.add_argument("--curve", help="write the curve to this CSV file")
    args = ap.parse_args()
    sj.utils.set_num_threads(args.threads)
    sj.utils.set_random_seed(args.seed)
    ids, chars = encode(sj.datasets.tinyshakespeare.load_data())
    split = int(0.9 * len(ids))
    model = build(len(chars), args.units, args.layers, args.dropout)
    print(f"{len(ids):,} characters, vocabulary {len(chars)}; {model.count_params():,} weights")
    rng = np.random.default_rng(args.seed)
    curve = train(model, ids[:split], ids[split:], args.minutes, rng)
    if args.curve:
        with open(args.curve, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(curve[0]))
            writer.writeheader()
            writer.writerows(curve)
    print(f"\nbest validation loss {min(p['val_loss'] for p in curve):.3f} nats/char")
    print(f"\n--- sample, temperature {args.temperature} ---")
    print(sample(model, chars, "ROMEO:\n", 400, args.temperature, rng))


if __name__ == "__main__":
    _seeds.run_script(main)
