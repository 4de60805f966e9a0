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

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import labs, optimizers

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


# -- data ------------------------------------------------------------------------------------------
@dataclass
class Data:
    """A data set as the commands use it: raw images (N, H, W, C), integer labels (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    pixel_max: float  # the raw pixels' full scale: 16 for the digits, 255 for 8-bit images
    class_names: list[str] = field(default_factory=list)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])


def _with_channel(x: np.ndarray) -> np.ndarray:
    return x[..., None] if x.ndim == 3 else x  # grayscale (N, H, W) -> (N, H, W, 1)


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).reshape(-1)  # CIFAR-10's (N, 1) -> (N,)


def _zip_has_splits(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist() if "/" in name}
    return {"train", "test"} <= tops


def _has_splits(path: Path) -> bool:
    if path.is_dir():
        return (path / "train").is_dir() and (path / "test").is_dir()
    return path.suffix.lower() == ".zip" and path.is_file() and _zip_has_splits(path)


def _existing_source(path: Path) -> bool:
    """A folder, a zip, or a folder inside a zip (``images.zip/train``)."""
    if path.exists():
        return True
    for parent in path.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return True
    return False


def _relabel(y: np.ndarray, names: list[str], classes: list[str], spec: str) -> np.ndarray:
    """Labels numbered by a folder's own class folders, renumbered by ``classes``."""
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise CLIError(f"{spec} has class folders {unknown} that the model was not trained on "
                       f"(its classes: {', '.join(classes)})")
    index = np.array([classes.index(n) for n in names], dtype=np.int64)
    return index[np.asarray(y, dtype=np.int64).reshape(-1)]


def _load_folder(spec: str, image_size: tuple[int, int], color_mode: str, seed: int,
                 whole: bool = False, classes: list[str] | None = None) -> Data:
    from .data.image_folder import image_dataset_from_directory

    path = Path(spec)
    kwargs = {"image_size": image_size, "color_mode": color_mode, "seed": seed}
    try:
        if whole:  # every image is a test image (x_train is empty)
            test = image_dataset_from_directory(spec, shuffle=False, **{**kwargs, "seed": None})
            train = test
        elif _has_splits(path):  # train/<class>/..., test/<class>/...
            train = image_dataset_from_directory(os.path.join(spec, "train"), **kwargs)
            test = image_dataset_from_directory(os.path.join(spec, "test"), shuffle=False,
                                                **{**kwargs, "seed": None})
        else:  # one folder of class folders: hold out 20% (seeded) as the test set
            train, test = image_dataset_from_directory(spec, validation_split=0.2,
                                                       subset="both", **kwargs)
    except (ValueError, zipfile.BadZipFile) as e:
        raise CLIError(f"cannot read the images in {spec}: {e}") from None
    (x_train, y_train), (x_test, y_test) = train.as_arrays(), test.as_arrays()
    if whole:
        x_train, y_train = x_test[:0], y_test[:0]
    classes = list(classes or train.class_names)  # test/ may lack a class that train/ has
    y_train = _relabel(y_train, train.class_names, classes, spec)
    y_test = _relabel(y_test, test.class_names, classes, spec)
    name = path.resolve().name.removesuffix(".zip").removesuffix(".ZIP") or "images"
    if name in ("train", "test") and path.parent.name:  # images.zip/test -> images-test
        name = f"{path.parent.name.removesuffix('.zip')}-{name}"
    return Data(name, x_train, y_train, x_test, y_test, 255.0, classes)


def load_data(spec: str, image_size: tuple[int, int] = (32, 32), color_mode: str = "rgb",
              seed: int = 0, whole: bool = False, classes: list[str] | None = None) -> Data:
    """A named data set (``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``) or an image
    folder or zip of class folders (with ``train/`` and ``test/``, or split 80/20 with
    ``seed``; ``whole``: every image of the folder is a test image; ``classes``: the class
    names of a trained model, which number a folder's labels)."""
    if spec in DATASETS:
        from . import datasets

        module = getattr(datasets, spec)
        (x_train, y_train), (x_test, y_test) = module.load_data()
        return Data(spec, _with_channel(x_train), _labels(y_train), _with_channel(x_test),
                    _labels(y_test), 16.0 if spec == "digits" else 255.0,
                    [str(c) for c in module.CLASS_NAMES])
    if _existing_source(Path(spec)):
        return _load_folder(spec, image_size, color_mode, seed, whole, classes)
    if os.sep in spec or "/" in spec or spec.lower().endswith(".zip"):
        raise CLIError(f"no such folder or zip file: {spec}")
    raise CLIError(f"unknown data set {spec!r}: give one of {', '.join(DATASETS)}, or the path "
                   "of an image folder or .zip of class folders")


# -- models ----------------------------------------------------------------------------------------
def build_model(kind: str, input_shape: tuple[int, ...], num_classes: int,
                pixel_max: float) -> Any:
    """The article's CNN (chapter 4.1) or an MLP, for raw pixels of full scale ``pixel_max``.

    Adaptations of the listing: a Rescaling layer first (pixels to [0, 1], so the saved model
    takes raw pixels); padding='same' for images smaller than 18x18, so that 8x8 survives the two
    poolings (8 -> 4 -> 2); the last Dense gives logits, one per class.
    """
    from . import layers
    from .models import Sequential

    def head() -> list[Any]:  # made after the layers before it, so the names run in order
        return [layers.Dense(64, activation="relu"), layers.Dense(num_classes)]

    rescale = layers.Rescaling(1.0 / pixel_max, input_shape=input_shape)
    if kind == "mlp":
        return Sequential([rescale, layers.Flatten(), layers.Dense(128, activation="relu"),
                           *head()])
    if len(input_shape) != 3:
        raise CLIError(f"the CNN needs images (height, width, channels), got shape {input_shape}")
    height, width = input_shape[:2]
    if min(height, width) < 4:
        raise CLIError(f"images of {height}x{width} are too small for the CNN's two poolings: "
                       "use at least 4x4 (--image-size), or --model mlp")
    padding = "valid" if min(height, width) >= MIN_VALID_SIZE else "same"
    return Sequential([
        rescale,
        layers.Conv2D(32, (3, 3), activation="relu", padding=padding),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu", padding=padding),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu", padding=padding),
        layers.Flatten(),
        *head(),
    ])


def _make_optimizer(name: str, lr: float | None) -> Any:
    from . import optimizers

    if lr is None and name == "adam":
        lr = DEFAULT_ADAM_LR
    config = {} if lr is None else {"learning_rate": lr}
    return optimizers.get({"class_name": name, "config": config})


def _compile(model: Any, optimizer: Any) -> None:
    from . import losses

    model.compile(optimizer=optimizer,
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


def _load_model_file(path: str) -> Any:
    from .io.saving import CorruptFileError
    from .models import load_model

    if not os.path.isfile(path):
        raise CLIError(f"no such model file: {path}")
    try:
        return load_model(path)
    except (CorruptFileError, ValueError, KeyError) as e:
        raise CLIError(f"cannot load the model {path}: {e}") from None


def model_input_shape(model: Any) -> tuple[int, ...] | None:
    """The shape of one input sample, without the batch axis, when the model knows it."""
    graph = getattr(model, "graph", None)
    candidates = [graph.inputs[0].shape if graph is not None and graph.inputs else None,
                  getattr(getattr(model, "_input", None), "shape", None)]
    layers = getattr(model, "layers", [])
    if layers:
        candidates.append(getattr(layers[0], "batch_input_shape", None))
    for shape in candidates:
        if shape is not None:
            return tuple(int(d) for d in shape[1:])
    return None


def input_scale(model: Any) -> float:
    """The full scale of the pixels the model takes: ``1 / scale`` of a first Rescaling layer
    (16 for a digits model made by ``shenjing train``), else 1 (pixels in [0, 1])."""
    from .layers import Rescaling

    layers = getattr(model, "layers", [])
    if layers and isinstance(layers[0], Rescaling):
        scale, offset = np.asarray(layers[0].scale), np.asarray(layers[0].offset)
        if scale.size == 1 and float(scale) > 0 and not np.any(offset):
            return 1.0 / float(scale)
    return 1.0


def _for_model(model: Any, x: np.ndarray, pixel_max: float) -> np.ndarray:
    """Raw pixels of full scale ``pixel_max`` brought to the scale the model takes."""
    target = input_scale(model)
    if target == pixel_max:
        return x
    return (np.asarray(x, dtype=np.float32) * np.float32(target / pixel_max)).astype(np.float32)


def _check_shape(model: Any, shape: tuple[int, ...], what: str) -> None:
    expected = model_input_shape(model)
    if expected is not None and tuple(expected) != tuple(shape):
        raise CLIError(f"the model takes inputs of shape {_fmt_shape(expected)}, but {what} has "
                       f"{_fmt_shape(shape)}")


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


# -- train -----------------------------------------------------------------------------------------
def _run_dir(out: str | None, data: str, model: str) -> Path:
    if out is not None:
        path = Path(out)
    else:
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{data}-{model}"
        path, k = Path("runs") / stem, 2
        while path.exists():
            path, k = Path("runs") / f"{stem}-{k}", k + 1
    return _out_folder(path)


def _out_folder(path: Path) -> Path:
    """``path`` made a folder (with its parents), or a one-line error if a file is there."""
    if path.exists() and not path.is_dir():
        raise CLIError(f"--out {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def plot_curves(history: dict[str, list[float]], path: Path) -> bool:
    """``shenjing.plot.learning_curves`` (loss and accuracy, train and validation, per epoch) to
    ``path`` (PNG). False, and one printed line, when matplotlib is not installed."""
    from .plot import learning_curves

    try:
        learning_curves(history, path)
    except ImportError:
        print(f"{path.name} skipped: matplotlib is not installed (pip install 'shenjing[plot]')")
        return False
    return True


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(float(v)) else None


def cmd_train(args: argparse.Namespace) -> int:
    from . import __version__, parallel, utils
    from .callbacks import CSVLogger

    utils.set_random_seed(args.seed)
    saved = None if args.model in ("mlp", "cnn") else _load_model_file(args.model)
    data = _load_data_for(saved, args)
    num_classes = max(len(data.class_names), int(max(data.y_train.max(), data.y_test.max())) + 1)
    if saved is None:
        model_name = args.model
        model = build_model(args.model, data.image_shape, num_classes, data.pixel_max)
        _compile(model, _make_optimizer(args.optimizer or "adam", args.lr))
        how = "the article's CNN" if args.model == "cnn" else "an MLP"
        if args.model == "cnn":
            padding = model.layers[1].padding
            how += (f" (padding='{padding}'" + (f": {_fmt_shape(data.image_shape[:2])} images "
                    "are too small for 'valid'" if padding == "same" else "") + ")")
    else:
        model, model_name = saved, Path(args.model).stem
        _check_shape(model, data.image_shape, f"--data {data.name}")
        if args.optimizer is not None or args.lr is not None or model.optimizer is None:
            _compile(model, _make_optimizer(args.optimizer or "adam", args.lr))
            how = f"{args.model} (new optimizer)"
        else:
            how = f"{args.model} (continuing with its saved optimizer state)"
    out = _run_dir(args.out, data.name, model_name)
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    x_test = _for_model(model, data.x_test, data.pixel_max)
    x_train = _for_model(model, data.x_train, data.pixel_max)
    if verbose:
        print(f"{PROG} train: {how} on {data.name} ({len(x_train)} train and {len(x_test)} test "
              f"images of {_fmt_shape(data.image_shape)}, {num_classes} classes), seed "
              f"{args.seed}")
        model.summary()
    with open(out / "summary.txt", "w", encoding="utf-8") as f:
        model.summary(print_fn=lambda line: print(line, file=f))

    start = time.perf_counter()
    with _stop_on_interrupt(model) as interrupted:
        history = model.fit(x_train, data.y_train, epochs=args.epochs,
                            batch_size=args.batch_size, validation_data=(x_test, data.y_test),
                            verbose=verbose, callbacks=[CSVLogger(out / "history.csv")])
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, data.y_test, batch_size=args.batch_size,
                                              verbose=0)
    model.save(str(out / "model.shenjing"))
    plot_curves(history.history, out / "curves.png")
    optimizer = model.optimizer
    metrics = {
        "test_loss": _finite(test_loss), "test_accuracy": _finite(test_accuracy),
        "epochs": len(history.epoch), "seconds": round(seconds, 3), "seed": args.seed,
        "data": data.name, "model": model_name, "shenjing_version": __version__,
        "batch_size": args.batch_size, "optimizer": type(optimizer).__name__,
        "learning_rate": float(optimizer.learning_rate),
        "train_samples": len(x_train), "test_samples": len(x_test),
        "input_shape": list(data.image_shape), "class_names": data.class_names,
        "threads": args.threads or parallel.threads(),
        "interrupted": interrupted[0],
    }
    with open(out / "metrics.json", "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    correct = round(float(test_accuracy) * len(x_test))
    print(f"test accuracy {float(test_accuracy):.4f} ({correct}/{len(x_test)}) - test loss "
          f"{float(test_loss):.4f} - {len(history.epoch)} epoch"
          f"{'' if len(history.epoch) == 1 else 's'} in {seconds:.1f}s")
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    print(f"wrote {out}{os.sep}: {', '.join(written)}")
    return 0


@contextlib.contextmanager
def _stop_on_interrupt(model: Any) -> Iterator[list[bool]]:
    """During ``fit``: the first Ctrl-C ends training after the current batch, so the run
    folder is still written (the model as trained so far, metrics.json saying "interrupted");
    a second one aborts. Yields a one-item list, set to True on interrupt."""
    import signal
    import threading

    interrupted = [False]
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.getsignal(signal.SIGINT)

    def stop(signum: int, frame: Any) -> None:
        interrupted[0] = model.stop_training = True
        signal.signal(signal.SIGINT, previous)
        print(f"\n{PROG} train: stopping after this batch (Ctrl-C again to abort)",
              file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, stop)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


# -- evaluate, predict -----------------------------------------------------------------------------
def _ensure_compiled(model: Any) -> None:
    if model.loss is None:
        from . import functional as F
        from . import losses

        last = model.layers[-1] if model.layers else None
        probabilities = getattr(last, "activation", None) is F.softmax
        model.compile(optimizer="adam",
                      loss=losses.SparseCategoricalCrossentropy(from_logits=not probabilities),
                      metrics=["accuracy"])


def _load_data_for(model: Any, args: argparse.Namespace, whole: bool = False) -> Data:
    """The data of ``--data``; image folders are read at the size and colors the model takes,
    their labels numbered by the classes of the model's run (its metrics.json), when known."""
    image_size, color_mode = args.image_size, args.color_mode
    shape = None if model is None else model_input_shape(model)
    if shape is not None and len(shape) == 3 and shape[2] in (1, 3):
        image_size, color_mode = (shape[0], shape[1]), "grayscale" if shape[2] == 1 else "rgb"
    classes = (_class_names(args.model) or None) if model is not None else None
    return load_data(args.data, image_size, color_mode, args.seed, whole=whole, classes=classes)


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load_model_file(args.model)
    if args.all and args.data in DATASETS:
        raise CLIError(f"--all is for image folders; {args.data} has a fixed test set")
    data = _load_data_for(model, args, whole=args.all)
    _check_shape(model, data.image_shape, f"--data {data.name}")
    _ensure_compiled(model)
    x = _for_model(model, data.x_test, data.pixel_max)
    logs = model.evaluate(x, data.y_test, batch_size=args.batch_size, verbose=0,
                          return_dict=True)
    print(f"{args.model} on {data.name} ({len(x)} test images): "
          + " - ".join(f"{k}: {float(v):.4f}" for k, v in logs.items()))
    return 0


def _read_image(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """An image file as pixels 0..255 of the model's (height, width, channels)."""
    try:
        from PIL import Image
    except ImportError:
        raise CLIError("reading images needs Pillow, which is not installed: pip install "
                       "'shenjing[images]'") from None
    if len(shape) != 3 or shape[2] not in (1, 3, 4):
        raise CLIError(f"the model takes inputs of shape {_fmt_shape(shape)}, not images: give "
                       ".npy arrays")
    height, width, channels = shape
    try:
        with Image.open(path) as img:
            img = img.convert({1: "L", 3: "RGB", 4: "RGBA"}[channels])
            if img.size != (width, height):
                img = img.resize((width, height), Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.float32).reshape(height, width, channels)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise CLIError(f"{path} is not an image that Pillow can read ({e})") from None


def _read_npy(path: str, shape: tuple[int, ...] | None) -> np.ndarray:
    """A .npy of one input or a batch of them, in the model's own input scale."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise CLIError(f"{path} is not a readable .npy array ({e})") from None
    if shape is None:
        return arr[None] if arr.ndim == 1 else arr
    if arr.shape == shape or (arr.shape == shape[:-1] and shape[-1] == 1):
        arr = arr[None]
    if arr.ndim == len(shape) and shape[-1] == 1 and arr.shape[1:] == shape[:-1]:
        arr = arr[..., None]
    if arr.shape[1:] != shape:
        raise CLIError(f"{path} holds an array of shape {_fmt_shape(arr.shape)}; the model takes "
                       f"{_fmt_shape(shape)} (one input) or N x {_fmt_shape(shape)}")
    return arr


def _class_names(model_path: str) -> list[str]:
    """The class names of the run folder the model sits in (its metrics.json), if any."""
    try:
        with open(Path(model_path).parent / "metrics.json", encoding="utf-8") as f:
            names = json.load(f).get("class_names") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def cmd_predict(args: argparse.Namespace) -> int:
    model = _load_model_file(args.model)
    shape = model_input_shape(model)
    names, inputs = _class_names(args.model), []
    for path in args.files:
        if not os.path.isfile(path):
            raise CLIError(f"no such file: {path}")
        if path.lower().endswith(".npy"):
            arr = _read_npy(path, shape)
            labels = [path] if len(arr) == 1 else [f"{path}[{i}]" for i in range(len(arr))]
            inputs += list(zip(labels, arr))
        elif path.lower().endswith(IMAGE_SUFFIXES):
            if shape is None:
                raise CLIError("the model does not record its input shape, so images cannot be "
                               "resized to it: give .npy arrays")
            image = _for_model(model, _read_image(path, shape), 255.0)
            inputs.append((path, image))
        else:
            raise CLIError(f"{path}: give images ({', '.join(IMAGE_SUFFIXES)}) or .npy arrays")
    if not inputs:
        raise CLIError("the .npy files hold no inputs")
    x = np.stack([a for _, a in inputs])
    out = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    if out.ndim != 2:
        raise CLIError(f"the model's output has shape {out.shape}; predict expects one score per "
                       "class")
    is_prob = np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    if not is_prob:  # logits, as shenjing train makes them: softmax
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    width = max(len(label) for label, _ in inputs)
    for (label, _), p in zip(inputs, out):
        k = int(np.argmax(p))
        name = names[k] if k < len(names) else str(k)
        shown = name if name == str(k) else f"{k} ({name})"
        print(f"{label:<{width}}  class {shown}  probability {p[k]:.4f}")
    return 0


# -- info ------------------------------------------------------------------------------------------
EXTRAS = (  # (distribution, import name, what it gives)
    ("matplotlib", "matplotlib", "plot: curves.png"),
    ("Pillow", "PIL", "images: image folders, shenjing predict on image files"),
    ("tqdm", "tqdm", "progress bars (required)"),
    ("safetensors", "safetensors", "model files (required)"),
    ("scikit-learn", "sklearn", "test"),
    ("pytest", "pytest", "test"),
    ("hypothesis", "hypothesis", "test"),
    ("onednn-cpu-gomp", "onednn_cpu_gomp", "onednn: oneDNN's float32 GEMMs"),
    ("torch", "torch", "test oracle (optional)"),
    ("cupy", "cupy", "gpu: tensors and ops via x.to('cuda'); layers not yet"),
    ("mpi4py", "mpi4py", "mpi (later)"),
)


def cmd_lab(args: argparse.Namespace) -> int:
    names = labs.NAMES if args.name == "all" else (args.name,)
    for name in names:
        single = args.out and args.name != "all"
        out = _out_folder(Path(args.out) if single else Path(args.out or "labs") / name)
        t0 = time.perf_counter()
        report = labs.run(name, out, quick=args.quick, seed=args.seed)
        print(f"{name}: the claim {'held' if report.held else 'did NOT hold'} "
              f"({time.perf_counter() - t0:.0f} s). {report.verdict}\n  report: "
              f"{out / 'report.md'}")
    return 0


def _dist_version(dist: str, module: str) -> str | None:
    from importlib import metadata
    from importlib.util import find_spec

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        try:
            return "installed" if find_spec(module) is not None else None
        except (ImportError, ValueError):
            return None


def cmd_info(args: argparse.Namespace) -> int:
    from . import __version__, backend, native, parallel
    from .native import onednn

    gemms = onednn.status()  # loads oneDNN first, which sets the BLAS threads shown below
    print(f"shenjing {__version__} ({Path(__file__).resolve().parent})")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.platform()}, {os.cpu_count()} CPUs")
    print(f"NumPy {np.__version__}")
    cupy = _dist_version("cupy", "cupy")
    print(f"backend: {backend.get_xp().__name__} (CPU), default float "
          f"{backend.DEFAULT_FLOAT.name}; CuPy: {cupy or 'not installed'}")
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        blas = None
    if blas is None:
        print("BLAS: unknown (threadpoolctl is not installed)")
    elif not blas:
        print("BLAS: none found by threadpoolctl")
    for p in blas or []:
        print(f"BLAS: {p.get('internal_api')} {p.get('version')}, {p.get('num_threads')} threads"
              f" ({p.get('threading_layer', 'n/a')} threading, {p.get('filepath')})")
    print(f"intra-op threads: {parallel.threads()} (convolution, pooling, batch norm and the "
          "recurrent loops split over the batch; BLAS then runs one thread per call)")
    print(f"C kernels (LSTM, GRU, Adam): {native.status()}")
    print(f"float32 GEMMs: {gemms}")
    print("extras and optional packages:")
    for dist, module, what in EXTRAS:
        version = _dist_version(dist, module)
        print(f"  {dist:<13} {version or 'not installed':<14} {what}")
    return 0


# -- the parser ------------------------------------------------------------------------------------
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
Class names are printed when the model's run folder has its metrics.json.

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
    p.add_argument("--image-size", type=_image_size, default=(32, 32), metavar="SIZE",
                   help="for image folders: resize to SIZE or HEIGHTxWIDTH (default: 32)")
    p.add_argument("--color-mode", choices=("rgb", "grayscale"), default="rgb",
                   help="for image folders (default: %(default)s)")
    p.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help="samples per batch (default: %(default)s)")


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
    from . import parallel

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
    from . import __version__

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
    evaluate.add_argument("model", metavar="MODEL",
                          help="a .shenjing model file, or the run folder that holds one")
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
    predict.add_argument("model", metavar="MODEL",
                         help="a .shenjing model file, or the run folder that holds one")
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


if __name__ == "__main__":
    sys.exit(main())
