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
