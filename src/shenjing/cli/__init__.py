"""The ``shenjing`` command: ``train``, ``evaluate``, ``predict``, ``lab`` and ``info``.

``shenjing train`` with no arguments trains the article's CNN (chapter 4.1), adapted to 8x8
images, on the UCI digits shipped inside the package and reports its test accuracy; every run
writes a folder with the history, the curves, the model, its summary and the final metrics.

Mistakes (a wrong option, an unknown data set, a missing file) end in one line on stderr,
``shenjing: error: ...``, and exit status 2; ``SHENJING_DEBUG=1`` shows the traceback instead.
Nothing here is imported by ``import shenjing``; matplotlib and Pillow are imported only when a
plot is drawn or an image is read.
"""

from __future__ import annotations

from .common import MIN_VALID_SIZE, CLIError
from .data import load_data
from .models import build_model
from .parser import build_parser, main

__all__ = ["CLIError", "MIN_VALID_SIZE", "build_model", "build_parser", "load_data", "main"]
