"""Reading the small data sets shipped inside the package, and their fixed train/test split."""

from __future__ import annotations

import numpy as np

from ._files import DatasetFormatError

TEST_FRACTION, SEED = 0.2, 0


def read_embedded(name: str) -> bytes:
    """The bytes of ``shenjing/datasets/embedded/<name>`` (gunzipped if it ends in .gz)."""
    import gzip
    from importlib import resources

    resource = resources.files("shenjing.datasets").joinpath("embedded").joinpath(name)
    try:
        data = resource.read_bytes()
        return gzip.decompress(data) if name.endswith(".gz") else data
    except (OSError, EOFError) as e:
        raise DatasetFormatError(
            f"the embedded data file {name} is missing or corrupt ({e}); reinstall shenjing"
        ) from e


def parse_csv(data: bytes, name: str, skip_header: bool, columns: int) -> np.ndarray:
    """A float64 (rows, columns) array from comma-separated numbers."""
    lines = data.decode("ascii").splitlines()[1 if skip_header else 0 :]
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in lines if line.strip()])
    except ValueError as e:
        raise DatasetFormatError(f"embedded {name}: not a table of numbers ({e})") from e
    if table.ndim != 2 or table.shape[1] != columns:
        raise DatasetFormatError(f"embedded {name}: expected {columns} columns, got {table.shape}")
    return table


def stratified_split(
    y: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` with ``round(test_fraction * n_c)`` test samples of each class c.

    Deterministic for a given ``seed``; both index arrays come in a shuffled order (so that a
    Keras ``validation_split``, which takes the last samples, sees every class).
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
