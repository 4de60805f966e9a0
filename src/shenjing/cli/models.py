"""The models ``shenjing train`` builds, and what the commands read off a saved model."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .common import DEFAULT_ADAM_LR, MIN_VALID_SIZE, CLIError


def build_model(kind: str, input_shape: tuple[int, ...], num_classes: int,
                pixel_max: float) -> Any:
    """The article's CNN (chapter 4.1) or an MLP, for raw pixels of full scale ``pixel_max``.

    Adaptations of the listing: a Rescaling layer first (pixels to [0, 1], so the saved model
    takes raw pixels); padding='same' for images smaller than 18x18, so that 8x8 survives the two
    poolings (8 -> 4 -> 2); the last Dense gives logits, one per class.
    """
    from .. import layers
    from ..models import Sequential

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
    from .. import optimizers

    if lr is None and name == "adam":
        lr = DEFAULT_ADAM_LR
    config = {} if lr is None else {"learning_rate": lr}
    return optimizers.get({"class_name": name, "config": config})


def _compile(model: Any, optimizer: Any) -> None:
    from .. import losses

    model.compile(optimizer=optimizer,
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


def _load_model_file(path: str) -> Any:
    from ..io.saving import CorruptFileError
    from ..models import load_model

    if os.path.isdir(path):
        raise CLIError(f"{path} is a folder without a model file (a run folder holds "
                       "model.shenjing)")
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
    from ..layers import Rescaling

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
