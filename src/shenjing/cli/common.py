"""What every command shares: the program name, the defaults and choices, and the user's-mistake
error (one line, exit status 2)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from .. import optimizers

PROG = "shenjing"
DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
OPTIMIZERS = tuple(sorted(optimizers._BY_NAME))  # every name optimizers.get() knows
# Chosen on the digits with the CNN: over seeds 0-19, test accuracy 97.2% at worst (349/359),
# 97.8% on average; about 3 s of training on two cores with one BLAS thread.
DEFAULT_EPOCHS, DEFAULT_BATCH_SIZE, DEFAULT_ADAM_LR = 20, 32, 2e-3
# The smallest side the listing's padding='valid' survives: s -> s-2 -> /2 -> -2 -> /2 -> -2 >= 1.
MIN_VALID_SIZE = 18
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class CLIError(Exception):
    """A mistake of the user's: reported as one line, ``shenjing: error: ...``, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors turned into one line instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")
