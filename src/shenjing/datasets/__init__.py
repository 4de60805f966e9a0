"""Data sets as Keras names them: ``cifar10``, ``mnist`` and ``fashion_mnist`` with Keras's
``load_data()``, plus ``sst`` (sentiment trees), ``tinyshakespeare`` (text), and ``digits`` and
``wine`` (small real data shipped inside the package).

Where data lives: each loader looks in its ``path=`` argument, else ``$SHENJING_DATA``, else
``~/.shenjing/datasets``, in this layout::

    cifar-10-python.tar.gz        official python version (or cifar-10-binary.tar.gz,
                                  or cifar10-jpeg.zip: train/<class>/*.jpg, test/<class>/*.jpg)
    mnist/                        train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
                                  t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
    fashion-mnist/                the same four idx file names
    sst/                          train.txt, dev.txt, test.txt (one PTB tree per line)
    tinyshakespeare/              input.txt

Missing CIFAR-10, MNIST, Fashion-MNIST and Tiny Shakespeare files are downloaded (checksum
checked) unless ``SHENJING_OFFLINE=1``; otherwise the error names the file and where to put it.
Files are read in their official formats; nothing is unpickled with arbitrary globals.

>>> import shenjing as tf
>>> (x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()  # doctest: +SKIP
"""

from . import cifar10, digits, fashion_mnist, mnist, sst, tinyshakespeare, wine
from ._files import DatasetFormatError, DatasetNotFoundError

__all__ = [
    "DatasetFormatError", "DatasetNotFoundError", "cifar10", "digits", "fashion_mnist", "mnist",
    "sst", "tinyshakespeare", "wine",
]
