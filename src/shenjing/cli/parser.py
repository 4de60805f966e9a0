"""The command line: help texts, argument types, the parser, and ``main``."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

from .. import labs
from .common import (
    DATASETS,
    DEFAULT_ADAM_LR,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EPOCHS,
    OPTIMIZERS,
    PROG,
    CLIError,
    _Parser,
)
from .info import cmd_info, cmd_lab
from .predict import cmd_evaluate, cmd_predict
from .train import cmd_train

CNN_TEXT = """\
The CNN is the article's listing (chapter 4.1):
  Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2)
  -> Conv2D(64, 3x3, relu) -> Flatten -> Dense(64, relu) -> Dense(classes)
adapted to the data:
  - images smaller than 18x18 (the digits are 8x8) use padding='same', so that they survive
    the two poolings (8 -> 4 -> 2); with the listing's padding='valid' an 8x8 image would
    shrink to 6, 3, 1 and the second pooling would have nothing left. Larger images (MNIST
    28x28, CIFAR-10 32x32) keep padding='valid', as written;
  - the last Dense gives logits (no softmax), with the loss
    SparseCategoricalCrossentropy(from_logits=True): the corrected listing;
  - a Rescaling layer comes first and maps the raw pixels to [0, 1] (digits: /16, 8-bit images:
    /255), so the saved model takes raw pixels; grayscale images get a channel axis (8x8x1).
The MLP: Rescaling -> Flatten -> Dense(128, relu) -> Dense(64, relu) -> Dense(classes)."""

TRAIN_EPILOG = f"""\
{CNN_TEXT}

The test set is also the validation data (as in the article's model.fit): it is reported each
epoch and never used to choose anything, so the final test accuracy is an honest estimate.

A run folder (--out, default runs/<timestamp>-<data>-<model>) gets: history.csv (per-epoch loss
and accuracy, train and validation), curves.png (needs matplotlib), model.shenjing (model.save),
summary.txt (model.summary) and metrics.json (test loss and accuracy, epochs, seconds, seed,
data, model, shenjing version).

examples:
  shenjing train                                    # CNN on the digits: about 98%, seconds
  shenjing train --model mlp --epochs 30 --seed 1
  shenjing train --data mnist --epochs 3            # $SHENJING_DATA/mnist/*.gz
  shenjing train --data photos/ --image-size 64     # photos/<class>/*.jpg, 20% held out
  shenjing train --model runs/X/model.shenjing --epochs 5   # continue training
"""

EVALUATE_EPILOG = """\
The test images: a named data set's test set; for an image folder, its test/ folder, or (without
train/ and test/) the 20% that shenjing train held out with the same --seed, or with --all every
image in it. The model file's input shape decides the image size and grayscale for folders. A
model that begins with a Rescaling layer (as shenjing train makes them) gets raw pixels; any
other gets pixels scaled to [0, 1].

examples:
  shenjing evaluate runs/X/model.shenjing                  # on the digits' test set
  shenjing evaluate model.shenjing --data cifar10
  shenjing evaluate model.shenjing --data photos/ --seed 0  # the 20% train held out
  shenjing evaluate model.shenjing --data new_photos/ --all  # every image in the folder
"""

PREDICT_EPILOG = """\
Images (.png, .jpg, .gif, .bmp) are read with Pillow, converted to the model's channels
(grayscale or RGB) and resized to its input size; their pixels 0..255 are brought to the
scale the model was trained on. Draw them like the training data: the digits and MNIST are
light strokes on a dark background. A .npy file holds one input or a batch, in the model's own
input scale (e.g. np.save("x.npy", x_test[:5]) with x_test from shenjing.datasets).
Class names are printed when the model file holds them (shenjing train saves them in it; an
older file's run folder may have them in its metrics.json).

examples:
  shenjing predict runs/X/model.shenjing seven.png three.jpg
  shenjing predict runs/X/model.shenjing x.npy
"""

MAIN_EPILOG = """\
examples:
  shenjing train                 # the article's CNN on the embedded digits, test accuracy
  shenjing train --help          # every option, and how the CNN is adapted to 8x8 images
  shenjing evaluate runs/X/model.shenjing --data digits
  shenjing predict runs/X/model.shenjing digit.png
  shenjing info

Data sets are read from $SHENJING_DATA (else ~/.shenjing/datasets) or downloaded there unless
SHENJING_OFFLINE=1 is set; the digits are built in.
Set SHENJING_DEBUG=1 to see a traceback instead of a one-line error.
"""


def _number(cast: type, ok: Any, what: str) -> Any:
    """An argparse type: ``cast(text)`` that must satisfy ``ok``, else a one-line error."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_seed = _number(int, lambda v: v >= 0, "a non-negative integer")
_learning_rate = _number(float, lambda v: math.isfinite(v) and v > 0, "a positive number")


def _image_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if len(sizes) == 1:
        sizes *= 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected SIZE or HEIGHTxWIDTH, e.g. 32 or 64x48, got "
                                         f"{text!r}")
    return sizes[0], sizes[1]


def _model_choice(text: str) -> str:
    if text in ("mlp", "cnn") or text.endswith(".shenjing") or os.path.exists(text):
        return text
    raise argparse.ArgumentTypeError(f"expected mlp, cnn or a saved .shenjing model file, got "
                                     f"{text!r}")


def _add_data_options(p: argparse.ArgumentParser, default: str | None = "digits") -> None:
    p.add_argument("--data", default=default, metavar="NAME|PATH",
                   help=f"a data set: {', '.join(DATASETS)} (digits is built in; the others are "
                        "read from $SHENJING_DATA, or downloaded unless SHENJING_OFFLINE=1), or "
                        "an image folder or .zip of class folders "
                        "(train/ and test/ inside, or 20%% is held out) (default: %(default)s)")
    p.add_argument("--image-size", type=_image_size, default=None, metavar="SIZE",
                   help="for image folders: resize to SIZE or HEIGHTxWIDTH (default: 32; a "
                        "saved model's own size)")
    p.add_argument("--color-mode", choices=("rgb", "grayscale"), default=None,
                   help="for image folders (default: rgb; a saved model's own)")
    p.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help="samples per batch (default: %(default)s)")


def _add_model_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL",
                   help="a .shenjing model file, or the run folder that holds one")


def _add_threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="cores to use: shenjing splits each dense, convolution and pooling op "
                        "over N threads (BLAS runs one thread per call). Default 0: every core "
                        "this process may use")


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Use ``n`` threads while a command runs, then restore the previous count (nothing is
    changed for the rest of a process that calls ``main``)."""
    if not n:
        yield
        return
    if n < 0:
        raise CLIError(f"--threads must be 0 or more, got {n}")
    from .. import parallel

    before = parallel.threads()
    parallel.set_threads(n)
    try:
        yield
    finally:
        parallel.set_threads(before)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog=PROG, formatter_class=fmt, epilog=MAIN_EPILOG,
                     description="shenjing (神经): train, evaluate and use neural networks "
                                 "built from first principles in NumPy.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"shenjing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True

    train = sub.add_parser(
        "train", formatter_class=fmt, epilog=TRAIN_EPILOG,
        help="train a CNN or MLP and report its test accuracy",
        description=(
            "Train a network and report its test accuracy.\n\nWith no arguments: the article's "
            "CNN on the UCI digits built into shenjing (1,438 train\nand 359 test images of "
            f"8x8), {DEFAULT_EPOCHS} epochs of Adam (lr {DEFAULT_ADAM_LR:g}, batch "
            f"{DEFAULT_BATCH_SIZE}): a few seconds,\nabout 98% test accuracy."))
    train.add_argument("--model", type=_model_choice, default="cnn", metavar="{mlp,cnn,FILE}",
                       help="the network: cnn (the article's CNN, adapted as below), mlp, or a "
                            "saved .shenjing model (or its run folder) to continue training "
                            "(default: %(default)s)")
    _add_data_options(train)
    train.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS, metavar="N",
                       help="passes over the training data (default: %(default)s)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                       help="the update rule (default: adam; a model file keeps its own)")
    train.add_argument("--lr", type=_learning_rate, default=None, metavar="RATE",
                       help=f"the learning rate (default: {DEFAULT_ADAM_LR:g} for adam, else "
                            "the optimizer's Keras default, e.g. 0.01 for sgd)")
    train.add_argument("--seed", type=_seed, default=0, metavar="N",
                       help="seeds the weights, the shuffling and a folder's split "
                            "(default: %(default)s)")
    train.add_argument("--out", metavar="DIR", default=None,
                       help="the run folder (default: runs/<timestamp>-<data>-<model>)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                       help="0 silent, 1 a tqdm bar per epoch, 2 one line per epoch "
                            "(default: 1 on a terminal, else 2)")
    _add_threads_option(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", formatter_class=fmt, epilog=EVALUATE_EPILOG,
                              help="a saved model's loss and accuracy on a test set",
                              description="Print a saved model's test loss and accuracy.")
    _add_model_argument(evaluate)
    _add_data_options(evaluate)
    evaluate.add_argument("--seed", type=_seed, default=0, metavar="N",
                          help="for an image folder without train/ and test/: the training "
                               "run's seed, so the same 20%% is evaluated (default: 0)")
    evaluate.add_argument("--all", action="store_true",
                          help="for an image folder: evaluate every image in it (a folder not "
                               "used in training), not its test part")
    _add_threads_option(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", formatter_class=fmt, epilog=PREDICT_EPILOG,
                             help="classify image files or .npy arrays with a saved model",
                             description="Print the class and its probability for each input.")
    _add_model_argument(predict)
    predict.add_argument("files", metavar="FILE", nargs="+",
                         help="image files (.png, .jpg, ...) or .npy arrays")
    predict.set_defaults(func=cmd_predict)

    lab = sub.add_parser("lab", formatter_class=fmt,
                         help="run one of the article's experiments and write its report",
                         description=(
                             "Run an experiment that shows one of the article's claims on "
                             "real data (under 2 minutes on 2 cores) and write report.md "
                             "(the claim, the measured numbers, whether it held) and PNG "
                             "plots."))
    lab.add_argument("name", choices=(*labs.NAMES, "all"), metavar="NAME",
                     help=f"one of: {', '.join(labs.NAMES)}, or all")
    lab.add_argument("--out", metavar="DIR", default=None,
                     help="the report folder (default: labs/NAME)")
    lab.add_argument("--quick", action="store_true",
                     help="a tiny version, in seconds (what the tests run)")
    lab.add_argument("--seed", type=_seed, default=0, metavar="N",
                     help="seeds weights and shuffling (default: %(default)s)")
    _add_threads_option(lab)
    lab.set_defaults(func=cmd_lab)

    info = sub.add_parser("info", formatter_class=fmt,
                          help="versions, BLAS and threads, optional extras",
                          description="Print shenjing's version, Python, NumPy, the array "
                                      "backend, the BLAS library and its threads "
                                      "(threadpoolctl), and which optional extras are "
                                      "installed. Paste it into bug reports.")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``shenjing`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status: 0, or 2 after a one-line error on stderr."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        model = getattr(args, "model", None)
        if model and os.path.isfile(os.path.join(model, "model.shenjing")):
            args.model = os.path.join(model, "model.shenjing")  # a run folder names its model
        with _threads(getattr(args, "threads", None)):
            return int(args.func(args))
    except SystemExit as e:  # --help and --version print and exit 0
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `shenjing train | head -1`: the reader left; stop quietly
        with contextlib.suppress(OSError, ValueError):  # (Python's documented recipe)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        if os.environ.get("SHENJING_DEBUG"):
            raise
        if not isinstance(e, (CLIError, OSError, ImportError)) and not _is_data_error(e):
            raise
        message = " ".join(str(e).split()) or type(e).__name__  # one line
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


def _is_data_error(e: Exception) -> bool:
    """A data set that is missing or malformed (not a bug): one line, not a traceback."""
    names = {cls.__name__ for cls in type(e).__mro__}
    return bool(names & {"DatasetNotFoundError", "DatasetFormatError", "CorruptFileError"})
