"""``text_dataset_from_directory`` (Keras's name and arguments): ``.txt`` files in class folders
(``reviews/neg/1.txt``, ``reviews/pos/7.txt``) become a ``DataLoader`` of (texts, labels)
batches, the texts a NumPy array of Python strings, the classes sorted. The folders, the
labels, the seeded shuffle and the validation split are ``image_dataset_from_directory``'s
(``class_folders``); the root can also be a zip, or a folder inside one.

>>> train, val = text_dataset_from_directory("aclImdb/train", validation_split=0.2,
...     subset="both", seed=1337)
>>> vectorize = layers.TextVectorization(max_tokens=20000, output_sequence_length=500)
>>> vectorize.adapt(train)   # the texts of each (texts, labels) batch
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import positive_int
from .class_folders import (
    check_arguments,
    encode_labels,
    index_files,
    open_source,
    split_into_loaders,
)

ALLOWED_FORMATS = (".txt",)  # Keras reads only .txt files


def text_dataset_from_directory(directory: Any, labels: Any = "inferred",
                                label_mode: str | None = "int", class_names: Any = None,
                                batch_size: int | None = 32, max_length: int | None = None,
                                shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None,
                                subset: str | None = None, follow_links: bool = False,
                                verbose: bool = True) -> Any:
    """Text files in class folders as a ``DataLoader`` of (texts, labels) batches (Keras's
    ``keras.utils.text_dataset_from_directory``).

    Args:
        directory: a folder with one subfolder per class, a ``.zip`` of such folders, or a
            folder inside a zip. Subfolders are searched recursively; only ``.txt`` files are
            read, hidden ones skipped. Each file is one text, decoded as UTF-8.
        labels: 'inferred' (from the class folders), None (texts only), or a list of integer
            labels, one per ``.txt`` file in Keras's ``os.walk`` order (folders sorted by
            path, the files of each sorted).
        label_mode: 'int' (int32, (N,)), 'categorical' (one-hot float32), 'binary' (float32
            (N, 1), two classes) or None (texts only).
        class_names: with 'inferred', the classes to use and their order (default: every
            subfolder, sorted).
        batch_size: texts per batch (None: single texts).
        max_length: keep at most this many characters of each text (None: all).
        shuffle: shuffle the files (seeded) and each epoch's batches.
        seed: for the shuffles and the split.
        validation_split, subset: hold out the last ``validation_split`` of the (shuffled)
            files; subset 'training' or 'validation' picks one part, 'both' returns both.
        follow_links: read the files of symlinked subfolders too (off: they are skipped, a
            symlinked class folder's included, as Keras reads it).
        verbose: print how many files and classes were found.

    Returns:
        A ``DataLoader`` yielding (texts, labels) or texts, with attributes ``class_names`` and
        ``file_paths``; with subset='both', a pair (training, validation). Texts are a 1-D
        object array of ``str``, which ``layers.TextVectorization`` takes and adapts on.
    """
    labels, label_mode = check_arguments(labels, label_mode, class_names, validation_split,
                                         subset, shuffle, seed)
    positive_int(max_length, "max_length", optional=True)
    source = open_source(directory, follow_links)
    try:
        _, used, ids, names = index_files(source, labels, class_names, ALLOWED_FORMATS,
                                          what="text files", what_files="text files",
                                          example=".txt")
        texts = np.empty(len(used), dtype=object)  # str objects, not fixed-width '<U' rows
        texts[:] = [_read_text(source, rel, max_length) for rel in used]
    finally:
        source.close()
    y = None if ids is None else encode_labels(ids, label_mode, names)
    return split_into_loaders(lambda idx: texts[idx], y,
                              [f"{source.label}/{rel}" for rel in used], names,
                              batch_size=batch_size, shuffle=shuffle, seed=seed,
                              validation_split=validation_split, subset=subset,
                              verbose=verbose)


def _read_text(source: Any, rel: str, max_length: int | None) -> str:
    try:
        text = source.read(rel).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{source.label}/{rel} is not UTF-8 text ({e})") from None
    return text if max_length is None else text[:max_length]
