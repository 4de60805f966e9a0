"""Reading strings of handwritten digits with a recurrent network and the CTC loss.

Each sample is 3 to 5 digit images side by side (a "house number" with no boxes around the
digits); the network reads the picture column by column, left to right, as a sequence, and
must say which digits it holds, in order, without ever being told where one digit ends and the
next begins: the CTC loss (Graves et al., 2006) sums over every alignment of the label sequence
to the columns. Bidirectional GRU over the columns -> Dense(11) per column (class 0 the CTC
blank, 1-10 the digits 0-9); decoding takes each column's best class, merges repeats and drops
blanks. Reports the test strings read exactly right and the character error rate (edit distance
over label length).

    python examples/digit_strings_ctc.py                      # the built-in 8x8 digits
    SHENJING_DATA=../shared/data python examples/digit_strings_ctc.py --data mnist

Results are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time

import _seeds  # examples/_seeds.py, beside this file
import numpy as np

import shenjing as sj

L = sj.layers


def make_strings(images: np.ndarray, digits: np.ndarray, n: int, rng: np.random.Generator,
                 lengths: tuple[int, int] = (3, 5)) -> tuple[np.ndarray, np.ndarray]:
    """``n`` strings of ``lengths[0]`` to ``lengths[1]`` random digits from ``images`` (N, H,
    W), as column sequences (n, longest * W, H) scaled to [0, 1] and padded with blank columns
    on the right, and their labels (n, longest): digit + 1, then 0s (the blank ends a label)."""
    h, w = images.shape[1:]
    longest = lengths[1]
    x = np.zeros((n, longest * w, h), np.float32)
    y = np.zeros((n, longest), np.int64)
    scale = float(images.max()) or 1.0
    for i in range(n):
        picks = rng.integers(0, len(images), rng.integers(lengths[0], lengths[1] + 1))
        for k, j in enumerate(picks):
            x[i, k * w:(k + 1) * w] = images[j].T / scale  # columns become time steps
            y[i, k] = digits[j] + 1
    return x, y


def build(height: int, units: int) -> sj.Model:
    model = sj.Sequential([
        sj.Input((None, height)),
        L.Bidirectional(L.GRU(units, return_sequences=True)),
        L.Dense(11),  # per column: the blank, then the digits 0-9
    ])
    model.compile(optimizer=sj.optimizers.Adam(2e-3, global_clipnorm=5.0),
                  loss=sj.losses.CTC())
    return model


def read(model: sj.Model, x: np.ndarray) -> list[list[int]]:
    """The digit strings the model reads in ``x`` (best path, repeats merged, blanks dropped)."""
    (labels,), _ = sj.F.ctc_decode(model.predict(x, verbose=0), np.full(len(x), x.shape[1]))
    return [[int(c) - 1 for c in row if c > 0] for row in labels]


def edit_distance(a: list[int], b: list[int]) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def score(model: sj.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(strings read exactly, character error rate) on (x, y)."""
    truth = [[int(c) - 1 for c in row if c > 0] for row in y]
    guesses = read(model, x)
    exact = np.mean([g == t for g, t in zip(guesses, truth)])
    errors = sum(edit_distance(g, t) for g, t in zip(guesses, truth))
    return float(exact), errors / sum(len(t) for t in truth)


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["digits", "mnist"], default="digits",
                    help="the digit images (default: %(default)s, the 8x8 ones shipped inside "
                         "shenjing; mnist reads $SHENJING_DATA)")
    ap.add_argument("--strings", type=_seeds.positive, default=6000,
                    help="training strings (default: %(default)s)")
    ap.add_argument("--epochs", type=_seeds.positive, default=12, help="(default: %(default)s)")
    ap.add_argument("--units", type=_seeds.positive, default=64,
                    help="GRU units each way (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    ap.add_argument("--threads", type=_seeds.positive, default=None,
                    help="intra-op threads (default: every core)")
    args = ap.parse_args(argv)
    if args.threads:
        sj.utils.set_num_threads(args.threads)
    sj.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    source = sj.datasets.digits if args.data == "digits" else sj.datasets.mnist
    (train_images, train_digits), (test_images, test_digits) = source.load_data()
    x, y = make_strings(train_images, train_digits, args.strings, rng)
    x_test, y_test = make_strings(test_images, test_digits, 1000, rng)  # unseen digit images
    model = build(x.shape[2], args.units)
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=2)
    seconds = time.perf_counter() - start
    exact, cer = score(model, x_test, y_test)
    print(f"{args.data}: test strings read exactly {exact:.2%}, character error rate {cer:.2%} "
          f"({args.epochs} epochs, {seconds:.0f} s)")
    return {"exact": exact, "cer": cer, "seconds": seconds}


if __name__ == "__main__":
    _seeds.run_script(main)
