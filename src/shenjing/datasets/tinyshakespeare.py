"""Tiny Shakespeare (Karpathy's char-rnn corpus): 1,115,394 characters of Shakespeare's plays, the
usual data for character-level language models.

Layout: ``<root>/tinyshakespeare/input.txt`` (``<root>`` is ``path``, else ``$SHENJING_DATA``, else
``~/.shenjing/datasets``). When missing it is downloaded from the char-rnn repository and checked
against its SHA-256.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _files
from ._files import DatasetFormatError

FILENAME = "input.txt"
URLS: list[str] = [
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
]
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def load_data(path: str | os.PathLike[str] | None = None) -> str:
    """The whole text, exactly as in the file (newlines kept).

    Args:
        path: the data folder (holding ``tinyshakespeare/`` or ``input.txt``), or the file; default
            ``$SHENJING_DATA``, else ``~/.shenjing/datasets``.

    Returns:
        The text as one string (1,115,394 characters).

    >>> text = load_data()  # doctest: +SKIP
    >>> text[:14]  # doctest: +SKIP
    'First Citizen:'
    """
    named = _files.named_file(path, (".txt",))
    if named is not None:
        tried = [named]
    else:
        root = _files.data_root(path)
        tried = [root / "tinyshakespeare" / FILENAME]
        if path is not None:
            tried.append(root / FILENAME)
    file = _files.first_existing(tried)
    if file is None:
        file = _files.fetch("Tiny Shakespeare", tried[0].name, tried, tried[0], URLS,
                            ("sha256", SHA256))
    return _decode(file)


def _decode(file: Path) -> str:
    data = file.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetFormatError(
            f"{file}: not valid UTF-8 text at byte {e.start} ({e.reason})"
        ) from e
