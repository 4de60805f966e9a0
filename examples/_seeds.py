"""The shared driver of the accuracy examples: train once per seed, print each test accuracy
and the mean (the figure recorded in benchmarks/RESULTS.md); and how every example that reads
a data set reports one that is missing or damaged."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import shenjing as tf


def positive(text: str) -> int:
    """An argparse type for counts (epochs, steps, units, layers, threads): an integer >= 1, or
    a usage error naming it (0 crashed some examples and made others train nothing)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def fit_and_score(model: tf.Model, train: tuple, test: tuple, epochs: int, verbose: int,
                  batch_size: int = 128) -> float:
    """Fit (showing the test set as validation, as Keras's examples do) and return the test
    accuracy."""
    model.fit(*train, batch_size=batch_size, epochs=epochs, verbose=verbose,
              validation_data=test)
    return model.evaluate(*test, verbose=0)[1]


def main(run: Callable[[int, int], float], description: str, epochs: int) -> None:
    """Parse --epochs/--seeds/--verbose/--threads/--data; for each seed, seed everything and
    call ``run(epochs, verbose)``, which returns the test accuracy."""
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="the data folder (default $SHENJING_DATA, else "
                    "~/.shenjing/datasets)")
    ap.add_argument("--epochs", type=positive, default=epochs, help="default: %(default)s")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                    help="one training run per seed (default: %(default)s)")
    ap.add_argument("--verbose", type=int, default=2,
                    help="0 silent, 1 a progress bar, 2 one line per epoch (default: %(default)s)")
    ap.add_argument("--threads", type=positive, default=2,
                    help="intra-op threads (default: %(default)s)")
    args = ap.parse_args()
    if args.data:
        os.environ["SHENJING_DATA"] = args.data
    tf.utils.set_num_threads(args.threads)
    accs = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        tf.utils.set_random_seed(seed)
        accs.append(run(args.epochs, args.verbose))
        print(f"seed {seed}: test accuracy {accs[-1]:.4f} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    print(f"mean test accuracy over {len(accs)} seeds: {statistics.mean(accs):.4f}")


def run_script(main: Callable[[], Any]) -> None:
    """Run an example's ``main``; a data set that is missing or damaged (a mistake of the
    reader's, not a bug) ends in one line on stderr and exit status 2, as the ``shenjing``
    command does, not in a traceback."""
    try:
        main()
    except (tf.datasets.DatasetNotFoundError, tf.datasets.DatasetFormatError) as err:
        print(f"{os.path.basename(sys.argv[0])}: error: {' '.join(str(err).split())}",
              file=sys.stderr)
        sys.exit(2)
