"""The data a command trains or evaluates on: a named data set, a saved archive or an image
folder, split and shaped for the model."""

from __future__ import annotations

import contextlib
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .common import DATASETS, CLIError


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


def _zip_has_splits(path: Path, inner: str = "") -> bool:
    """Whether the zip (or its folder ``inner``) holds ``train/`` and ``test/``."""
    prefix = f"{inner.strip('/')}/" if inner else ""
    with zipfile.ZipFile(path) as zf:
        tops = {name[len(prefix):].split("/", 1)[0] for name in zf.namelist()
                if name.startswith(prefix) and "/" in name[len(prefix):]}
    return {"train", "test"} <= tops


def _has_splits(path: Path) -> bool:
    if path.is_dir():
        return (path / "train").is_dir() and (path / "test").is_dir()
    if path.suffix.lower() == ".zip" and path.is_file():
        return _zip_has_splits(path)
    for parent in path.parents:  # a folder inside a zip (photos.zip/photos)
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return _zip_has_splits(parent, path.relative_to(parent).as_posix())
    return False


def _existing_source(path: Path) -> bool:
    """A folder, a zip, or a folder inside a zip (``images.zip/train``)."""
    if path.exists():
        return True
    for parent in path.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return True
    return False


def _relabel(y: np.ndarray, names: list[str], classes: list[str], spec: str) -> np.ndarray:
    """Labels numbered by the data's own classes (``names``: a folder's class folders, a data
    set's classes), renumbered by ``classes``, the model's."""
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise CLIError(f"{spec} has classes {unknown} that the model was not trained on "
                       f"(its classes: {', '.join(classes)})")
    index = np.array([classes.index(n) for n in names], dtype=np.int64)
    return index[np.asarray(y, dtype=np.int64).reshape(-1)]


def _load_folder(spec: str, image_size: tuple[int, int], color_mode: str, seed: int,
                 whole: bool = False, classes: list[str] | None = None) -> Data:
    from ..data.image_folder import image_dataset_from_directory

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
    except (ValueError, zipfile.BadZipFile) as e:  # (labels= is the Python call's, not ours)
        reason = str(e).replace(", or pass labels=None", "")
        raise CLIError(f"cannot read the images in {spec}: {reason}") from None
    if not whole and classes is None and len(train.class_names) < 2:
        return _one_class(spec, train.class_names, image_size, color_mode, seed)
    if classes and len(train.class_names) == 1 and train.class_names[0] not in classes:
        # the folder around the class folders (``zip -r photos.zip photos/``), looked into
        # as training looks into it; one of images is an unknown class (said below)
        with contextlib.suppress(CLIError):
            return _load_folder(os.path.join(spec, train.class_names[0]), image_size,
                                color_mode, seed, whole, classes)
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


def _one_class(spec: str, names: list[str], image_size: tuple[int, int], color_mode: str,
               seed: int) -> Data:
    """Training data with one class folder: the folder around the class folders (what
    ``zip -r photos.zip photos/`` makes) is looked into; otherwise there is nothing to tell
    apart, and a classifier of one class would score 100%: an error."""
    if len(names) == 1:
        try:
            return _load_folder(os.path.join(spec, names[0]), image_size, color_mode, seed)
        except CLIError:
            pass
    raise CLIError(f"{spec} has {len(names)} class folder{'s' * (len(names) != 1)} "
                   f"({', '.join(names) or 'none'}): training a classifier needs at least two, "
                   f"each class's images in its own folder ({spec}/cat/1.jpg, "
                   f"{spec}/dog/2.jpg)")


def load_data(spec: str, image_size: tuple[int, int] = (32, 32), color_mode: str = "rgb",
              seed: int = 0, whole: bool = False, classes: list[str] | None = None) -> Data:
    """A named data set (``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``) or an image
    folder or zip of class folders (with ``train/`` and ``test/``, or split 80/20 with
    ``seed``; ``whole``: every image of the folder is a test image; ``classes``: the class
    names of a trained model, which number a folder's labels)."""
    if spec in DATASETS:
        from .. import datasets

        module = getattr(datasets, spec)
        (x_train, y_train), (x_test, y_test) = module.load_data()
        names = [str(c) for c in module.CLASS_NAMES]
        y_train, y_test = _labels(y_train), _labels(y_test)
        if classes:
            y_train, y_test = (_relabel(y, names, classes, spec) for y in (y_train, y_test))
        return Data(spec, _with_channel(x_train), y_train, _with_channel(x_test), y_test,
                    16.0 if spec == "digits" else 255.0, list(classes or names))
    if _existing_source(Path(spec)):
        return _load_folder(spec, image_size, color_mode, seed, whole, classes)
    if os.sep in spec or "/" in spec or spec.lower().endswith(".zip"):
        raise CLIError(f"no such folder or zip file: {spec}")
    raise CLIError(f"unknown data set {spec!r}: give one of {', '.join(DATASETS)}, or the path "
                   "of an image folder or .zip of class folders")
