"""Fashion-MNIST (Zalando), read from the four official idx files (Keras's
``fashion_mnist.load_data``).

Layout: ``<root>/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``, where ``<root>``
is ``path``, else ``$SHENJING_DATA``, else ``~/.shenjing/datasets``. Missing files are downloaded
from Keras's mirror (the same URLs Keras uses) and checked against their SHA-256. The format is
MNIST's (see :mod:`shenjing.datasets.mnist`).
"""

from __future__ import annotations

import os

import numpy as np

from .mnist import load_idx_dataset

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

MIRRORS: list[str] = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as Keras does.

    Args:
        path: the data folder (holding ``fashion-mnist/``, or the idx files themselves);
            default ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28) and
        (10000, 28, 28), uint8 labels 0..9 (see ``CLASS_NAMES``) of shape (60000,) and (10000,).

    Raises:
        DatasetNotFoundError: a file is missing and cannot be downloaded.
        DatasetFormatError: a file is truncated, corrupt, or holds labels outside 0..9.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    return load_idx_dataset(
        "Fashion-MNIST", "fashion-mnist", path, MIRRORS, SHA256, (28, 28), len(CLASS_NAMES)
    )
