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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._cache import cache_dir
from .class_folders import (
    Folder,
    Zip,
    check_arguments,
    encode_labels,
    index_files,
    open_source,
    split_into_loaders,
)

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras's allow-list
_COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
_INTERPOLATIONS = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC",
                   "area": "BOX", "lanczos3": "LANCZOS", "lanczos5": "LANCZOS"}
_CACHE_VERSION = 2  # 2: 16-bit images scaled, not clipped
_CHUNK = 512  # images read and decoded together (bounds the encoded bytes held in memory)


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image_dataset_from_directory decodes images with Pillow, which is "
                          "not installed: pip install 'shenjing[images]' (or pip install "
                          "Pillow)") from None
    return Image


def _resized(img: Any, image_size: tuple[int, int], interpolation: str, aspect: str | None
             ) -> Any:
    """``img`` resized to (height, width): stretched (``aspect`` None); first cropped to the
    largest centered window of the target's aspect ratio ('crop', Keras's ``smart_resize``);
    or scaled to fit inside and padded with zeros around, evenly ('pad', TF's
    ``resize_with_pad``)."""
    image_module = _pil_image()
    resample = getattr(image_module.Resampling, _INTERPOLATIONS[interpolation])
    height, width = image_size
    w, h = img.size
    if aspect == "crop":  # Keras: crop_height = int(w * height / width), at most h
        crop_h, crop_w = min(h, int(w * height / width)), min(w, int(h * width / height))
        top, left = (h - crop_h) // 2, (w - crop_w) // 2
        img = img.crop((left, top, left + crop_w, top + crop_h))
    elif aspect == "pad":  # TF: scale by the larger ratio, pad floor((target - scaled) / 2)
        ratio = max(w / width, h / height)
        inner_h, inner_w = max(1, int(h / ratio)), max(1, int(w / ratio))
        top, left = max(0, int((height - h / ratio) / 2)), max(0, int((width - w / ratio) / 2))
        inner = img if img.size == (inner_w, inner_h) else img.resize((inner_w, inner_h),
                                                                      resample)
        img = image_module.new(img.mode, (width, height))  # zeros (transparent in RGBA)
        img.paste(inner, (left, top))
    if img.size != (width, height):
        img = img.resize((width, height), resample)
    return img


def eight_bit(img: Any) -> Any:
    """``img`` with 8-bit channels: a palette through RGBA (keeps transparency), and 16-bit
    grayscale (PNG's 'I;16', or 'I' above 255) scaled by 255 / 65535 as TensorFlow's
    decode_png does (Pillow's convert clipped it: 1000 and 65535 both became 255)."""
    if img.mode == "P":
        return img.convert("RGBA")
    if img.mode.startswith("I;16") or img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or arr.max(initial=0) > 255:
            arr = arr / 257.0
        return _pil_image().fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")
    return img


def _decode_image(data: bytes, name: str, image_size: tuple[int, int], color_mode: str,
                  interpolation: str, aspect: str | None = None) -> np.ndarray:
    """One encoded image as a uint8 (height, width, channels) array, resized (``aspect``: see
    ``_resized``)."""
    image_module = _pil_image()
    mode, channels = _COLOR_MODES[color_mode]
    height, width = image_size
    try:
        with image_module.open(io.BytesIO(data)) as img:
            img = _resized(eight_bit(img).convert(mode), image_size, interpolation, aspect)
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
        img = eight_bit(img).convert(_COLOR_MODES[color_mode][0])
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


_MODES_BY_CHANNELS = {4: "RGBA", 3: "RGB", 1: "L"}


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """A (height, width, channels) array or Tensor as a PIL Image (Keras's
    ``keras.utils.array_to_img``): with ``scale``, shifted and scaled to 0..255 by its own min
    and max; 1, 3 or 4 channels give an 'L', 'RGB' or 'RGBA' image ('I' for one channel above
    255). ``data_format`` 'channels_first' takes (channels, height, width)."""
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"array_to_img: data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    x = np.array(getattr(x, "data", x), dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (one image), got "
                         f"shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x -= np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels not in _MODES_BY_CHANNELS:
        raise ValueError(f"array_to_img: an image has 1, 3 or 4 channels, got {channels}")
    image_module = _pil_image()
    if channels == 1 and np.max(x) > 255:  # a 32-bit integer image
        return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
    arr = x.astype("uint8")
    return image_module.fromarray(arr[:, :, 0] if channels == 1 else arr,
                                  _MODES_BY_CHANNELS[channels])


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Save an image array or Tensor to a file (Keras's ``keras.utils.save_img``): through
    ``array_to_img``, then Pillow's ``save`` (``file_format`` by default from the extension;
    an RGBA image is saved as RGB in a JPEG)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    target = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    fmt = (file_format or (os.path.splitext(target)[1][1:] if isinstance(target, str) else "")
           ).lower()
    if img.mode == "RGBA" and fmt in ("jpg", "jpeg"):
        warnings.warn("save_img: JPEG has no alpha channel; saving the image as RGB",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(target, format=file_format, **kwargs)


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


def _decode_all(source: Folder | Zip, rels: list[str], image_size: tuple[int, int],
                color_mode: str, interpolation: str, aspect: str | None = None) -> np.ndarray:
    key = hashlib.sha256(repr((_CACHE_VERSION, source.fingerprint(rels), tuple(image_size),
                               color_mode, interpolation)
                              + ((aspect,) if aspect else ())).encode()).hexdigest()[:32]
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
                                                          color_mode, interpolation, aspect),
                               blobs, chunk)
            for i, arr in enumerate(decoded, start):
                images[i] = arr
    _save_cached(cache, images, rels)
    return images


def _check_image_arguments(color_mode: str, image_size: Any, interpolation: str) -> None:
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(_COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {tuple(_INTERPOLATIONS)}, got "
                         f"{interpolation!r}")
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2
            or any(not isinstance(n, (int, np.integer)) or n < 1 for n in image_size)):
        raise ValueError(f"image_size must be (height, width) of positive integers, got "
                         f"{image_size!r}")


def image_dataset_from_directory(directory: Any, labels: Any = "inferred",
                                 label_mode: str | None = "int", class_names: Any = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: tuple[int, int] = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False,
                                 data_format: str | None = None, verbose: bool = True,
                                 return_arrays: bool = False) -> Any:
    """Images in class folders as a ``DataLoader`` of (images, labels) batches (Keras's
    ``keras.utils.image_dataset_from_directory``).

    Args:
        directory: a folder with one subfolder per class, a ``.zip`` of such folders, or a
            folder inside a zip (``.../cifar10-jpeg.zip/train``). Subfolders are searched
            recursively; files with other extensions than .bmp .gif .jpeg .jpg .png, and hidden
            files, are skipped.
        labels: 'inferred' (from the class folders), None (images only), or a list of integer
            labels, one per image file in Keras's order: ``os.walk``'s folders sorted by path,
            the files of each sorted (``a.jpg``, ``z.jpg``, then ``sub/b.jpg``).
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
        interpolation: 'bilinear', 'nearest', 'bicubic', 'area', 'lanczos3' or 'lanczos5'
            (Pillow's filters: they smooth when shrinking, where TF's resize samples).
        follow_links: also walk subfolders that are symbolic links (class folders that are
            links are read either way).
        crop_to_aspect_ratio: resize the largest centered window of the ``image_size``
            aspect ratio (no distortion; Keras's ``smart_resize``).
        pad_to_aspect_ratio: resize to fit inside ``image_size`` and pad with zeros, evenly
            on both sides (no distortion; TF's ``resize_with_pad``).
        data_format: 'channels_last' (None: NHWC) or 'channels_first' (NCHW images).
        verbose: print how many files and classes were found.
        return_arrays: return the arrays ``(images, labels)`` instead of a loader (labels None
            without labels).

    Returns:
        A ``DataLoader`` yielding (images, labels) or images, with attributes ``class_names``
        and ``file_paths``; with subset='both', a pair (training, validation). Images are
        float32 (N, height, width, channels) in 0..255, as Keras gives them.
    """
    labels, label_mode = check_arguments(labels, label_mode, class_names, validation_split,
                                         subset, shuffle, seed)
    _check_image_arguments(color_mode, image_size, interpolation)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    aspect = "crop" if crop_to_aspect_ratio else "pad" if pad_to_aspect_ratio else None
    image_size = (int(image_size[0]), int(image_size[1]))
    source = open_source(directory, follow_links)
    try:
        all_images, used, ids, names = index_files(source, labels, class_names, ALLOWED_FORMATS)
        decoded = _decode_all(source, all_images, image_size, color_mode, interpolation, aspect)
    finally:
        source.close()
    if data_format == "channels_first":
        decoded = decoded.transpose(0, 3, 1, 2)
    position = {rel: i for i, rel in enumerate(all_images)}
    rows = np.array([position[rel] for rel in used], dtype=np.int64)
    y = None if ids is None else encode_labels(ids, label_mode, names)
    return split_into_loaders(lambda idx: decoded[rows[idx]].astype(np.float32), y,
                              [f"{source.label}/{rel}" for rel in used], names,
                              batch_size=batch_size, shuffle=shuffle, seed=seed,
                              validation_split=validation_split, subset=subset,
                              return_arrays=return_arrays, verbose=verbose)
