"""``shenjing evaluate`` and ``shenjing predict`` on a saved model."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .common import DATASETS, IMAGE_SUFFIXES, CLIError
from .data import Data, load_data
from .models import _check_shape, _fmt_shape, _for_model, _load_model_file, model_input_shape


def _ensure_compiled(model: Any) -> None:
    if model.loss is None:
        from .. import functional as F
        from .. import losses

        last = model.layers[-1] if model.layers else None
        probabilities = getattr(last, "activation", None) is F.softmax
        model.compile(optimizer="adam",
                      loss=losses.SparseCategoricalCrossentropy(from_logits=not probabilities),
                      metrics=["accuracy"])


def _load_data_for(model: Any, args: argparse.Namespace,
                   whole: bool = False) -> tuple[Data, list[str]]:
    """The data of ``--data`` and the model's class names ([] when it has none); image folders
    are read at the size and colors the model takes, and the labels are numbered by the
    model's classes, when known."""
    image_size, color_mode = args.image_size or (32, 32), args.color_mode or "rgb"
    shape = None if model is None else model_input_shape(model)
    if shape is not None and len(shape) == 3 and shape[2] in (1, 3):
        image_size, color_mode = (shape[0], shape[1]), "grayscale" if shape[2] == 1 else "rgb"
        wrong = []  # given, and not the model's: an error, not silently ignored
        if args.image_size is not None and tuple(args.image_size) != image_size:
            wrong.append(f"--image-size {_shown(args.image_size)}")
        if args.color_mode is not None and args.color_mode != color_mode:
            wrong.append(f"--color-mode {args.color_mode}")
        if wrong:
            raise CLIError(f"{' and '.join(wrong)} do{'es' * (len(wrong) == 1)} not fit the "
                           f"model, which takes {image_size[0]}x{image_size[1]} {color_mode} "
                           "images (leave it out: the model's own is used)")
    classes = _class_names(args.model) if model is not None else []
    data = load_data(args.data, image_size, color_mode, args.seed, whole=whole,
                     classes=classes or None)
    return data, classes


def _check_fits(model: Any, data: Data, classes: list[str]) -> None:
    """Refuse, in one line and before the model runs on the data, a compiled model that cannot
    take the data's integer labels: more classes than outputs; a model that does not record
    its classes (``classes`` empty) and has another number of outputs, so that which output is
    which class would be a guess; a loss or metric for other targets (categorical
    cross-entropy's one-hot rows, mse's values), found by running them on two samples."""
    x, y = (data.x_test, data.y_test) if len(data.y_test) else (data.x_train, data.y_train)
    out = model.predict(_for_model(model, x[:2], data.pixel_max), verbose=0)
    _check_scores(out)
    outputs = out.shape[1]
    labels = int(max(data.y_train.max(initial=0), data.y_test.max(initial=0))) + 1
    if labels > (2 if outputs == 1 else outputs):
        raise CLIError(f"--data {data.name} has {labels} classes but the model has {outputs} "
                       f"output{'s' if outputs > 1 else ''}: give data of the classes it was "
                       "trained on")
    if not classes and outputs > 1 and len(data.class_names) != outputs:
        raise CLIError(f"the model does not record its class names and has {outputs} outputs, "
                       f"but --data {data.name} has {len(data.class_names)} classes, so which "
                       "output is which class cannot be told: give data of all its classes")
    try:
        model.compute_loss(y=y[:2], y_pred=out)
        model.compute_metrics(None, y[:2], out)
    except ValueError as e:
        raise CLIError(f"the model's loss or metrics do not take integer class labels, as "
                       f"--data {data.name} gives them ({e}); compile it with "
                       "sparse_categorical_crossentropy (shenjing train does, given "
                       "--optimizer)") from None
    finally:
        model.reset_metrics()


def _check_scores(out: Any) -> None:
    """A one-line error unless the model's output is one row of scores per sample."""
    if not isinstance(out, np.ndarray) or out.ndim != 2:
        shape = out.shape if isinstance(out, np.ndarray) else f"a {type(out).__name__}"
        raise CLIError(f"the model's output has shape {shape}; the command expects one score "
                       "per class")


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load_model_file(args.model)
    if args.all and args.data in DATASETS:
        raise CLIError(f"--all is for image folders; {args.data} has a fixed test set")
    data, classes = _load_data_for(model, args, whole=args.all)
    _check_shape(model, data.image_shape, f"--data {data.name}")
    _ensure_compiled(model)
    _check_fits(model, data, classes)
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

        from ..data.image_folder import eight_bit  # (with PIL: not at the CLI's start)
    except ImportError:
        raise CLIError("reading images needs Pillow, which is not installed: pip install "
                       "'shenjing[images]'") from None
    if len(shape) != 3 or shape[2] not in (1, 3, 4):
        raise CLIError(f"the model takes inputs of shape {_fmt_shape(shape)}, not images: give "
                       ".npy arrays")
    height, width, channels = shape
    try:
        with Image.open(path) as img:
            img = eight_bit(img).convert({1: "L", 3: "RGB", 4: "RGBA"}[channels])
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
    if arr.dtype.kind not in "biuf":
        raise CLIError(f"{path} holds {arr.dtype} values, not numbers: the model takes pixels "
                       "or other numbers")
    if not np.all(np.isfinite(arr)):
        raise CLIError(f"{path} holds NaN or infinite values: the model's outputs would be "
                       "meaningless")
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
    """The class names ``shenjing train`` saved in the model file; for a file saved before
    they were kept there, those of the run folder's metrics.json; [] when neither has any."""
    from ..io.saving import load_metadata

    names = load_metadata(model_path).get("class_names")
    where = model_path
    if names is None:
        where = str(Path(model_path).parent / "metrics.json")
        try:
            with open(where, encoding="utf-8") as f:
                names = json.load(f).get("class_names", [])
        except FileNotFoundError:
            return []
        except (OSError, ValueError, AttributeError) as e:
            raise CLIError(f"{where} is damaged ({e}); it holds the class names of "
                           f"{model_path}, which was saved without them") from None
    if not isinstance(names, list):
        raise CLIError(f"{where} is damaged: its class_names is not a list")
    return [str(n) for n in names]


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
    out = model.predict(x, verbose=0)
    _check_scores(out)
    out = out.astype(np.float64)
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


def _shown(size: Any) -> str:
    """An --image-size as typed: 64, or 48x64."""
    return str(size[0]) if size[0] == size[1] else f"{size[0]}x{size[1]}"
