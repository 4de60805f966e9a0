"""UCI Wine recognition: 178 wines from three cultivars, 13 chemical measurements on very
different scales (hue about 1, proline about 750), shipped inside the package. A small real data
set where input normalization matters.

The file is scikit-learn's ``wine_data.csv``, a copy of the UCI "Wine" data (Forina et al.;
CC BY 4.0). See ``embedded/README.md``.
"""

from __future__ import annotations

import numpy as np

from ._embedded import parse_csv, read_embedded, stratified_split

FEATURE_NAMES = (
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
    "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
    "od280/od315_of_diluted_wines", "proline",
)
CLASS_NAMES = ("class_0", "class_1", "class_2")
FILENAME = "wine_data.csv"


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The wines in a fixed split: stratified, 20% test, seed 0.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float32 features of shape (N, 13) (columns as
        ``FEATURE_NAMES``, unscaled; 142 train, 36 test), uint8 labels 0..2 of shape (N,).

    >>> (x_train, y_train), (x_test, y_test) = load_data()
    >>> x_train.shape, x_test.shape, x_train.dtype
    ((142, 13), (36, 13), dtype('float32'))
    """
    # The first line is scikit-learn's header: "178,13,class_0,class_1,class_2".
    table = parse_csv(read_embedded(FILENAME), FILENAME, skip_header=True, columns=14)
    x = table[:, :13].astype(np.float32)
    y = table[:, 13].astype(np.uint8)
    train, test = stratified_split(y)
    return (x[train], y[train]), (x[test], y[test])
