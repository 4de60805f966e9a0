"""UCI optical recognition of handwritten digits: 1,797 8x8 images with values 0..16, shipped
inside the package (no download), so examples and tests always have real data.

The file is scikit-learn's ``digits.csv.gz``, the test set of the UCI "Optical Recognition of
Handwritten Digits" data (Alpaydin and Kaynak, 1998; CC BY 4.0). See ``embedded/README.md``.
"""

from __future__ import annotations

import numpy as np

from ._embedded import parse_csv, read_embedded, stratified_split

CLASS_NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
FILENAME = "digits.csv.gz"


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The digits in a fixed split: stratified, 20% test, seed 0.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (N, 8, 8) with values
        0..16 (1,438 train, 359 test), uint8 labels 0..9 of shape (N,).

    >>> (x_train, y_train), (x_test, y_test) = load_data()
    >>> x_train.shape, x_test.shape, int(x_train.max())
    ((1438, 8, 8), (359, 8, 8), 16)
    """
    table = parse_csv(read_embedded(FILENAME), FILENAME, skip_header=False, columns=65)
    x = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    y = table[:, 64].astype(np.uint8)
    train, test = stratified_split(y)
    return (x[train], y[train]), (x[test], y[test])
