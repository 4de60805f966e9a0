"""Stanford Sentiment Treebank (Socher et al., 2013): movie-review sentences as binarised parse
trees with a sentiment label 0..4 at every node.

Layout: ``<root>/sst/{train,dev,test}.txt`` (``<root>`` is ``path``, else ``$SHENJING_DATA``, else
``~/.shenjing/datasets``): the files ``trees/{train,dev,test}.txt`` of the official
``trainDevTestTrees_PTB.zip``, one bracketed tree per line, e.g. ``(3 (2 It) (4 (2 's) ...))``.
They are not downloaded automatically (the official archive has no published checksum).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data.tree import Tree, TreeSyntaxError, parse_tree
from . import _files
from ._files import DatasetFormatError

CLASS_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")
SPLITS = ("train", "dev", "test")
SOURCE = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[list[Tree], list[Tree], list[Tree]]:
    """Load the SST train, dev and test trees (8,544 / 1,101 / 2,210 in the official split).

    Args:
        path: the data folder (holding ``sst/``, or the three .txt files themselves); default
            ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.

    Returns:
        ``(train, dev, test)``: lists of :class:`shenjing.data.Tree`, labels 0..4 at every node.

    Raises:
        DatasetNotFoundError: a file is missing (the message says where to put it).
        DatasetFormatError: a line is not a well-formed tree; the message names the file, line
            and column.

    >>> train, dev, test = load_data()  # doctest: +SKIP
    >>> train[0].label, train[0].sentence  # doctest: +SKIP
    (3, "The Rock is destined to be the 21st Century 's new `` Conan '' ...")
    """
    train, dev, test = (read_trees(_locate(path, split)) for split in SPLITS)
    return train, dev, test


def load_sentences(
    path: str | os.PathLike[str] | None = None, binary: bool = False
) -> tuple[tuple[list[str], np.ndarray], ...]:
    """The SST sentences and their root labels, for flat sequence models.

    Args:
        path: as for :func:`load_data`.
        binary: map labels 0-1 to 0 (negative) and 3-4 to 1 (positive), and drop the neutral
            sentences (label 2): the usual SST-2 task.

    Returns:
        ``((x_train, y_train), (x_dev, y_dev), (x_test, y_test))``: ``x`` a list of sentences
        (words joined by spaces), ``y`` a uint8 array of labels (0..4, or 0..1 when ``binary``).
    """
    out = []
    for trees in load_data(path):
        sentences = [t.sentence for t in trees]
        labels = np.array([t.label for t in trees], dtype=np.uint8)
        if binary:
            keep = labels != 2
            sentences = [s for s, k in zip(sentences, keep) if k]
            labels = (labels[keep] > 2).astype(np.uint8)
        out.append((sentences, labels))
    return tuple(out)


def _locate(path: str | os.PathLike[str] | None, split: str) -> Path:
    root = _files.data_root(path, (".txt",))
    name = f"{split}.txt"
    tried = [root / "sst" / name] + ([root / name] if path is not None else [])
    found = _files.first_existing(tried)
    if found is None:
        raise _files.not_found(
            "SST", name, tried, root / "sst",
            hint=f"(trees/{name} from the official archive {SOURCE})",
        )
    return found


def read_trees(file: str | os.PathLike[str], num_classes: int = len(CLASS_NAMES)) -> list[Tree]:
    """Read a file of bracketed trees, one per line (blank lines are skipped).

    Raises:
        DatasetFormatError: the file is not UTF-8, or a line is malformed (file, line and
            column in the message).
    """
    file = Path(file)
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not a word
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DatasetFormatError(f"{file}, line {line}: not valid UTF-8 ({e.reason})") from e
    trees = []
    # split("\n"), not splitlines(): words may hold characters that splitlines() breaks at.
    for number, line_text in enumerate(text.split("\n"), start=1):
        if line_text.strip(" \t\r\f\v"):  # the parser's whitespace
            try:
                trees.append(parse_tree(line_text, num_classes=num_classes, source=str(file),
                                        line=number))
            except TreeSyntaxError as e:
                raise DatasetFormatError(str(e)) from e
    if not trees:
        raise DatasetFormatError(f"{file}: holds no trees (empty file)")
    return trees
