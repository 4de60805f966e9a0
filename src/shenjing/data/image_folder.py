"""``image_dataset_from_directory`` (Keras's name and arguments): images in class folders
(``root/cat/1.jpg``, ``root/dog/7.png``) become a ``DataLoader`` of float32 NHWC batches in
0..255 and integer (or one-hot, or binary) labels, with the class names sorted.

The root can be a folder, a ``.zip`` of class folders, or a folder inside a zip
(``data/cifar10-jpeg.zip/train``). Images are decoded once with Pillow (the ``images`` extra,
imported only here) and the decoded arrays are cached as ``.npz`` (no pickle) in
``$SHENJING_CACHE``, else ``~/.shenjing/cache``, keyed by the archive's content (a folder's:
its files' names, sizes and modification times), the image size, the color mode and the
interpolation, so the next run skips decoding.

>>> train, val = image_dataset_from_directory("flowers", image_size=(64, 64),
...     validation_split=0.2, subset="both", seed=1337)
>>> train.class_names
['daisy', 'rose', 'tulip']
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .. import backend
from .._cache import cache_dir
from .loader import DataLoader

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras's allow-list
_COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
_INTERPOLATIONS = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC",
                   "area": "BOX", "lanczos3": "LANCZOS", "lanczos5": "LANCZOS"}
_CACHE_VERSION = 1
_CHUNK = 512  # images read and decoded together (bounds the encoded bytes held in memory)


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image_dataset_from_directory decodes images with Pillow, which is "
                          "not installed: pip install 'shenjing[images]' (or pip install "
                          "Pillow)") from None
    return Image


def _decode_image(data: bytes, name: str, image_size: tuple[int, int], color_mode: str,
                  interpolation: str) -> np.ndarray:
    """One encoded image as a uint8 (height, width, channels) array, resized."""
    image_module = _pil_image()
    mode, channels = _COLOR_MODES[color_mode]
    height, width = image_size
    try:
        with image_module.open(io.BytesIO(data)) as img:
            if img.mode == "P":  # palette (GIF, some PNGs): through RGBA keeps transparency
                img = img.convert("RGBA")
            img = img.convert(mode)
            if img.size != (width, height):
                resample = getattr(image_module.Resampling, _INTERPOLATIONS[interpolation])
                img = img.resize((width, height), resample)
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, image_module.DecompressionBombError) as e:
        raise ValueError(f"{name} is not a decodable image ({type(e).__name__}: {e})") from None
    return arr.reshape(height, width, channels)


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest") -> Any:
    """One image file as a PIL Image (Keras's ``keras.utils.load_img``; Pillow is imported on
    first use).

    Args:
        path: a file path (str or os.PathLike) or a binary file object.
        color_mode: 'rgb', 'grayscale' or 'rgba'.
        target_size: None (the file's size) or (height, width) to resize to.
        interpolation: the resampling for ``target_size``: 'nearest' (Keras's default),
            'bilinear', 'bicubic', 'area', 'lanczos3' or 'lanczos5'.

    >>> x = img_to_array(load_img("cat.jpg", target_size=(224, 224)))   # (224, 224, 3) float32
    """
    for name, value, allowed in (("color_mode", color_mode, _COLOR_MODES),
                                 ("interpolation", interpolation, _INTERPOLATIONS)):
        if value not in allowed:
            raise ValueError(f"load_img: {name} must be one of {tuple(allowed)}, got {value!r}")
    image_module = _pil_image()
    source = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    with image_module.open(source) as img:
        if img.mode == "P":
            img = img.convert("RGBA")
        img = img.convert(_COLOR_MODES[color_mode][0])
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            resample = getattr(image_module.Resampling, _INTERPOLATIONS[interpolation])
            img = img.resize((width, height), resample)
    return img


def img_to_array(img: Any, dtype: Any = "float32") -> np.ndarray:
    """A PIL Image (or any array-like image) as a (height, width, channels) array, float32 by
    default (Keras's ``keras.utils.img_to_array``, channels last): a grayscale image gets a
    channel axis of 1."""
    arr = np.asarray(img, dtype=dtype)
    if arr.ndim == 2:
        return arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"img_to_array: expected an image of 2 or 3 dimensions, got shape "
                         f"{arr.shape}")
    return arr


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.split("/"))


class _Folder:
    """The files under a folder, as '/'-separated paths relative to it."""

    def __init__(self, path: str) -> None:
        self.path, self.label = path, path

    def files(self) -> list[str]:
        out = []
        for top, _, names in os.walk(self.path, followlinks=True):
            rel_top = os.path.relpath(top, self.path).replace(os.sep, "/")
            out.extend(name if rel_top == "." else f"{rel_top}/{name}" for name in names)
        return out

    def subfolders(self) -> list[str]:
        return [d for d in os.listdir(self.path) if os.path.isdir(os.path.join(self.path, d))]

    def read(self, rel: str) -> bytes:
        with open(os.path.join(self.path, *rel.split("/")), "rb") as f:
            return f.read()

    def fingerprint(self, rels: list[str]) -> str:
        h = hashlib.sha256(os.path.abspath(self.path).encode())
        for rel in rels:
            st = os.stat(os.path.join(self.path, *rel.split("/")))
            h.update(f"\0{rel}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        return h.hexdigest()

    def close(self) -> None:
        pass


class _Zip:
    """The files under ``inner`` (a folder in the archive, or '' for its root) of a zip."""

    def __init__(self, archive: str, inner: str) -> None:
        self.archive, self.inner = archive, inner.strip("/")
        self.label = archive if not self.inner else f"{archive}/{self.inner}"
        try:
            self._zip = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise ValueError(f"{archive} is not a readable zip archive: it is corrupt or "
                             f"truncated ({e})") from None
        prefix = f"{self.inner}/" if self.inner else ""
        names = [n for n in self._zip.namelist() if n.startswith(prefix)]
        if not names:
            top = sorted({n.split("/")[0] for n in self._zip.namelist()})
            self._zip.close()
            raise FileNotFoundError(f"{archive} has no folder {self.inner!r}; its top-level "
                                    f"entries are {top[:20]}")
        self._prefix = prefix
        self._names = [n[len(prefix):] for n in names]

    def files(self) -> list[str]:
        return [n for n in self._names if n and not n.endswith("/")]

    def subfolders(self) -> list[str]:
        return sorted({n.split("/")[0] for n in self._names if "/" in n})

    def read(self, rel: str) -> bytes:
        try:
            return self._zip.read(self._prefix + rel)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
            raise ValueError(f"{self.archive}: member {self._prefix + rel} is corrupt ({e})") \
                from None

    def fingerprint(self, rels: list[str]) -> str:
        h = hashlib.sha256(self._prefix.encode() + b"\0")
        with open(self.archive, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def close(self) -> None:
        self._zip.close()


def _open(directory: Any) -> _Folder | _Zip:
    path = os.fspath(directory)
    if os.path.isdir(path):
        return _Folder(path)
    if os.path.isfile(path):
        if path.lower().endswith(".zip") or zipfile.is_zipfile(path):
            return _Zip(path, "")
        raise ValueError(f"{path} is a file, not a folder of class folders or a .zip of them")
    # a folder inside an archive: walk up to the archive, the rest is the folder in it
    head, inner = path, []
    while head and not os.path.exists(head):
        parent, tail = os.path.split(head)
        if parent == head:
            break
        head, inner = parent, [tail, *inner]
    if head and os.path.isfile(head) and (head.lower().endswith(".zip")
                                          or zipfile.is_zipfile(head)):
        return _Zip(head, "/".join(inner))
    raise FileNotFoundError(f"no folder or zip archive at {path}")


def _load_cached(path: str, rels: list[str]) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            if f["paths"].tolist() == rels:
                return f["images"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        pass  # missing, damaged or stale: decode again and overwrite it
    return None


def _save_cached(path: str, images: np.ndarray, rels: list[str]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, images=images, paths=np.array(rels, dtype=str))
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except BaseException:
            os.remove(tmp)
            raise
    except OSError as e:
        warnings.warn(f"could not write the image cache {path} ({e}); the images will be "
                      "decoded again next time", RuntimeWarning, stacklevel=3)


def _decode_all(source: _Folder | _Zip, rels: list[str], image_size: tuple[int, int],
                color_mode: str, interpolation: str) -> np.ndarray:
    key = hashlib.sha256(repr((_CACHE_VERSION, source.fingerprint(rels), tuple(image_size),
                               color_mode, interpolation)).encode()).hexdigest()[:32]
    cache = os.path.join(cache_dir(), f"images-{key}.npz")
    images = _load_cached(cache, rels)
    if images is not None:
        return images
    channels = _COLOR_MODES[color_mode][1]
    images = np.empty((len(rels), *image_size, channels), dtype=np.uint8)
    # Pillow releases the GIL while decoding, so threads decode in parallel.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(rels), _CHUNK):
            chunk = rels[start:start + _CHUNK]
            blobs = [source.read(rel) for rel in chunk]
            decoded = pool.map(lambda b, r: _decode_image(b, f"{source.label}/{r}", image_size,
                                                          color_mode, interpolation),
                               blobs, chunk)
            for i, arr in enumerate(decoded, start):
                images[i] = arr
    _save_cached(cache, images, rels)
    return images


def _check_arguments(labels: Any, label_mode: Any, class_names: Any, color_mode: str,
                     image_size: Any, interpolation: str, validation_split: Any,
                     subset: Any, shuffle: bool, seed: Any) -> None:
    if not (labels is None or labels == "inferred" or isinstance(labels, list)):
        raise ValueError(f"labels must be 'inferred', None, or a list of integer labels (one per "
                         f"image file, in sorted path order), got {labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None, got "
                         f"{label_mode!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError("class_names is only valid with labels='inferred'")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(_COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {tuple(_INTERPOLATIONS)}, got "
                         f"{interpolation!r}")
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2
            or any(not isinstance(n, (int, np.integer)) or n < 1 for n in image_size)):
        raise ValueError(f"image_size must be (height, width) of positive integers, got "
                         f"{image_size!r}")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"subset must be 'training', 'validation', 'both' or None, got "
                         f"{subset!r}")
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    if (subset is None) != (validation_split is None):
        raise ValueError("validation_split and subset go together: give both (e.g. "
                         "validation_split=0.2, subset='training') or neither")
    if validation_split is not None and shuffle and seed is None:
        raise ValueError("with validation_split and shuffle=True, give a seed, so that the "
                         "training and validation subsets (made by two calls) do not overlap")


def _index(source: _Folder | _Zip, labels: Any, class_names: Any) -> tuple[list[str], list[str],
                                                                           Any, list[str] | None]:
    """All image files (sorted), the files used (in Keras's order), their labels, the classes."""
    all_images = sorted(r for r in source.files()
                        if r.lower().endswith(ALLOWED_FORMATS) and not _hidden(r))
    if labels != "inferred":
        if not all_images:
            raise ValueError(f"No images found in directory {source.label}. Allowed formats: "
                             f"{ALLOWED_FORMATS}")
        if labels is not None and len(labels) != len(all_images):
            raise ValueError(f"labels has {len(labels)} entries but {source.label} holds "
                             f"{len(all_images)} image files; give one label per file, in "
                             "sorted path order")
        return all_images, all_images, None if labels is None else np.asarray(labels), None
    subdirs = sorted(d for d in source.subfolders() if not _hidden(d))
    if not subdirs:
        raise ValueError(f"{source.label} has no class subfolders: with labels='inferred', put "
                         f"each class's images in its own subfolder ({source.label}/cat/1.jpg, "
                         f"{source.label}/dog/2.jpg), or pass labels=None"
                         f"{'' if all_images else ' (and it holds no images)'}")
    if class_names is not None:
        missing = sorted(set(class_names) - set(subdirs))
        if missing:
            raise ValueError(f"class_names {list(class_names)} do not match the subfolders of "
                             f"{source.label}: no folder for {missing}; found {subdirs}")
        subdirs = list(class_names)
    used, label_ids = [], []
    for k, name in enumerate(subdirs):
        files = [r for r in all_images if r.startswith(name + "/")]
        used += files
        label_ids += [k] * len(files)
    if not used:
        raise ValueError(f"No images found in directory {source.label} (class folders "
                         f"{subdirs}). Allowed formats: {ALLOWED_FORMATS}")
    return all_images, used, np.asarray(label_ids), subdirs


def _encode_labels(ids: np.ndarray, label_mode: str, class_names: list[str] | None) -> np.ndarray:
    if label_mode == "int":
        return ids.astype(np.int32)
    num_classes = len(class_names) if class_names is not None else int(ids.max()) + 1
    if label_mode == "binary":
        if num_classes != 2 or ids.min() < 0 or ids.max() > 1:
            raise ValueError(f"label_mode='binary' needs exactly 2 classes, got "
                             f"{class_names if class_names is not None else num_classes}")
        return ids.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[ids.astype(np.int64)]


def image_dataset_from_directory(directory: Any, labels: Any = "inferred",
                                 label_mode: str | None = "int", class_names: Any = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: tuple[int, int] = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 return_arrays: bool = False) -> Any:
    """Images in class folders as a ``DataLoader`` of (images, labels) batches (Keras's
    ``keras.utils.image_dataset_from_directory``).

    Args:
        directory: a folder with one subfolder per class, a ``.zip`` of such folders, or a
            folder inside a zip (``.../cifar10-jpeg.zip/train``). Subfolders are searched
            recursively; files with other extensions than .bmp .gif .jpeg .jpg .png, and hidden
            files, are skipped.
        labels: 'inferred' (from the class folders), None (images only), or a list of integer
            labels, one per image file in sorted path order.
        label_mode: 'int' (int32, (N,)), 'categorical' (one-hot float32), 'binary' (float32
            (N, 1), two classes) or None (images only).
        class_names: with 'inferred', the classes to use and their order (default: every
            subfolder, sorted).
        color_mode: 'rgb', 'grayscale' or 'rgba' (3, 1 or 4 channels).
        batch_size: images per batch (None: single images).
        image_size: (height, width) every image is resized to.
        shuffle: shuffle the files (seeded) and each epoch's batches.
        seed: for the shuffles and the split.
        validation_split, subset: hold out the last ``validation_split`` of the (shuffled)
            files; subset 'training' or 'validation' picks one part, 'both' returns both.
        interpolation: 'bilinear', 'nearest', 'bicubic', 'area', 'lanczos3' or 'lanczos5'.
        return_arrays: return the arrays ``(images, labels)`` instead of a loader (labels None
            without labels).

    Returns:
        A ``DataLoader`` yielding (images, labels) or images, with attributes ``class_names``
        and ``file_paths``; with subset='both', a pair (training, validation). Images are
        float32 (N, height, width, channels) in 0..255, as Keras gives them.
    """
    if isinstance(labels, (tuple, np.ndarray)):
        labels = np.asarray(labels).tolist()
    _check_arguments(labels, label_mode, class_names, color_mode, image_size, interpolation,
                     validation_split, subset, shuffle, seed)
    if labels is None or label_mode is None:
        labels = label_mode = None
    image_size = (int(image_size[0]), int(image_size[1]))
    source = _open(directory)
    try:
        all_images, used, ids, names = _index(source, labels, class_names)
        decoded = _decode_all(source, all_images, image_size, color_mode, interpolation)
    finally:
        source.close()
    position = {rel: i for i, rel in enumerate(all_images)}
    rows = np.array([position[rel] for rel in used], dtype=np.int64)
    y = None if ids is None else _encode_labels(ids, label_mode, names)
    print(f"Found {len(used)} files" + (f" belonging to {len(names)} classes." if names else "."))

    n = len(used)
    if shuffle:
        seed = int(backend.new_generator().integers(1_000_000)) if seed is None else seed
        order = np.random.default_rng(seed).permutation(n)
    else:
        order = np.arange(n)
    parts = {"all": order}
    if validation_split is not None:
        n_val = int(validation_split * n)
        if n_val == 0 or n_val == n:
            raise ValueError(f"validation_split={validation_split} of {n} files leaves an "
                             "empty subset")
        parts = {"training": order[:n - n_val], "validation": order[n - n_val:]}
        for name in ("training", "validation") if subset == "both" else (subset,):
            print(f"Using {len(parts[name])} files for {name}.")

    def make(part: str) -> Any:
        idx = parts[part]
        x = decoded[rows[idx]].astype(np.float32)
        y_part = None if y is None else y[idx]
        if return_arrays:
            return x, y_part
        loader_seed = None if seed is None else np.random.default_rng(
            (seed, ("all", "training", "validation").index(part)))
        loader = DataLoader(x, y_part, batch_size=batch_size, shuffle=shuffle, seed=loader_seed)
        loader.class_names = names
        loader.file_paths = [f"{source.label}/{used[i]}" for i in idx]
        return loader

    if subset == "both":
        return make("training"), make("validation")
    return make(subset or "all")
