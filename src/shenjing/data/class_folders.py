"""What ``image_dataset_from_directory`` and ``text_dataset_from_directory`` share (Keras's
``*_dataset_from_directory`` contract): the root as a folder, a zip or a folder inside a zip;
the argument checks; the index of the files in class folders with their inferred labels; the
label encodings; and the seeded shuffle, the validation split and the ``DataLoader`` (or pair
of them) made from it. Each caller only reads its files (decoded images, or texts).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from .loader import DataLoader


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.split("/"))


class Folder:
    """The files under a folder, as '/'-separated paths relative to it (through symlinked
    subfolders too with ``follow_links``)."""

    def __init__(self, path: str, follow_links: bool = True) -> None:
        self.path, self.label, self.follow_links = path, path, follow_links

    def files(self, under: str = "") -> list[str]:
        """The files below ``under`` (a subfolder, '' for all): a symlinked ``under`` is
        walked, as Keras walks each class folder from its own top."""
        out = []
        start = os.path.join(self.path, *under.split("/")) if under else self.path
        for top, _, names in os.walk(start, followlinks=self.follow_links):
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
            # ctime too: a copy that restores the modification time (cp -p, rsync -a, tar)
            # cannot restore it, so a replaced file of the same size is seen
            h.update(f"\0{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}".encode())
        return h.hexdigest()

    def close(self) -> None:
        pass


class Zip:
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

    def files(self, under: str = "") -> list[str]:
        prefix = f"{under}/" if under else ""
        return [n for n in self._names if n.startswith(prefix) and n and not n.endswith("/")]

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


def open_source(directory: Any, follow_links: bool = True) -> Folder | Zip:
    """The folder, zip archive, or folder inside a zip at ``directory``."""
    path = os.fspath(directory)
    if os.path.isdir(path):
        return Folder(path, follow_links)
    if os.path.isfile(path):
        if path.lower().endswith(".zip") or zipfile.is_zipfile(path):
            return Zip(path, "")
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
        return Zip(head, "/".join(inner))
    raise FileNotFoundError(f"no folder or zip archive at {path}")


def check_arguments(labels: Any, label_mode: Any, class_names: Any, validation_split: Any,
                    subset: Any, shuffle: bool, seed: Any) -> tuple[Any, Any]:
    """ValueError for a bad argument; else ``(labels, label_mode)`` normalized: labels a list
    (from a tuple or array), and both None when either is (no labels)."""
    if isinstance(labels, (tuple, np.ndarray)):
        labels = np.asarray(labels).tolist()
    if not (labels is None or labels == "inferred" or isinstance(labels, list)):
        raise ValueError(f"labels must be 'inferred', None, or a list of integer labels (one per "
                         f"file, in os.walk order), got {labels!r}")
    if isinstance(labels, list):
        for i, label in enumerate(labels):  # not np.eye's wrap of -1, nor int()'s of 0.7
            if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
                raise ValueError(f"labels must be class ids, integers >= 0 (one per file), got "
                                 f"{label!r} at index {i}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None, got "
                         f"{label_mode!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError("class_names is only valid with labels='inferred'")
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
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def index_files(source: Folder | Zip, labels: Any, class_names: Any, formats: tuple[str, ...],
                what: str = "images", what_files: str = "image files", example: str = ".jpg"
                ) -> tuple[list[str], list[str], Any, list[str] | None]:
    """All files with an extension in ``formats`` (sorted), the files used in Keras's order,
    their label ids, and the class names (the folders' when inferred, the labels' as strings
    when given, as Keras's, None without labels). Keras walks each class folder
    (the root, without inferred labels) with ``os.walk``: folder by folder in sorted order of
    their paths, each folder's files sorted, so ``cat/x.jpg`` comes before ``cat/sub/y.jpg``.
    The messages call the files ``what`` ('images') or ``what_files`` ('image files');
    ``example`` is an extension for them."""
    def walked(under: str = "") -> list[str]:
        return sorted((r for r in source.files(under)
                       if r.lower().endswith(formats) and not _hidden(r)),
                      key=lambda r: r.rpartition("/")[::2])  # (folder, name)

    all_files = walked()
    label = source.label
    if labels != "inferred":
        if not all_files:
            raise ValueError(f"No {what} found in directory {label}. Allowed formats: {formats}")
        if labels is not None and len(labels) != len(all_files):
            raise ValueError(f"labels has {len(labels)} entries but {label} holds "
                             f"{len(all_files)} {what_files}; give one label per file, in "
                             "os.walk order (folders sorted by path, then their files)")
        if labels is None:
            return sorted(all_files), all_files, None, None
        ids = np.asarray(labels)
        return sorted(all_files), all_files, ids, [str(v) for v in sorted(set(ids.tolist()))]
    subdirs = sorted(d for d in source.subfolders() if not _hidden(d))
    if not subdirs:
        raise ValueError(f"{label} has no class subfolders: with labels='inferred', put "
                         f"each class's {what} in its own subfolder ({label}/cat/1{example}, "
                         f"{label}/dog/2{example}), or pass labels=None"
                         f"{'' if all_files else f' (and it holds no {what})'}")
    if class_names is not None:
        missing = sorted(set(class_names) - set(subdirs))
        if missing:
            raise ValueError(f"class_names {list(class_names)} do not match the subfolders of "
                             f"{label}: no folder for {missing}; found {subdirs}")
        subdirs = list(class_names)
    used, label_ids = [], []
    for k, name in enumerate(subdirs):
        files = walked(name)
        used += files
        label_ids += [k] * len(files)
    if not used:
        raise ValueError(f"No {what} found in directory {label} (class folders "
                         f"{subdirs}). Allowed formats: {formats}")
    return sorted(set(all_files) | set(used)), used, np.asarray(label_ids), subdirs


def encode_labels(ids: np.ndarray, label_mode: str, class_names: list[str] | None) -> np.ndarray:
    """Label ids as 'int' (int32, (N,)), 'categorical' (one-hot float32) or 'binary' (float32,
    (N, 1))."""
    if label_mode == "int":
        return ids.astype(np.int32)
    num_classes = len(class_names) if class_names is not None else int(ids.max()) + 1
    if label_mode == "binary":
        if num_classes != 2 or ids.min() < 0 or ids.max() > 1:
            raise ValueError(f"label_mode='binary' needs exactly 2 classes, got "
                             f"{class_names if class_names is not None else num_classes}")
        return ids.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[ids.astype(np.int64)]


def split_into_loaders(take_x: Callable[[np.ndarray], Any], y: np.ndarray | None,
                       file_paths: list[str], class_names: list[str] | None, *,
                       batch_size: int | None, shuffle: bool, seed: int | None,
                       validation_split: float | None, subset: str | None,
                       return_arrays: bool = False, verbose: bool = True) -> Any:
    """Shuffle the files (seeded), hold out the last ``validation_split`` of them, and return
    the ``DataLoader`` of ``subset`` (a pair for 'both'; the arrays with ``return_arrays``).
    ``take_x(idx)`` gives the inputs of the files at ``idx``, so that only a part is built."""
    n = len(file_paths)
    if verbose:
        print(f"Found {n} files"
              + (f" belonging to {len(class_names)} classes." if class_names else "."))
    if shuffle:
        seed = int(backend.new_generator().integers(1_000_000)) if seed is None else seed
        # Keras's np.random.RandomState(seed).shuffle(file_paths): the same files for a seed
        order = np.random.RandomState(seed).permutation(n)
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
            if verbose:
                print(f"Using {len(parts[name])} files for {name}.")

    def make(part: str) -> Any:
        idx = parts[part]
        x, y_part = take_x(idx), None if y is None else y[idx]
        if return_arrays:
            return x, y_part
        # the training and validation loaders shuffle their batches from distinct streams
        loader_seed = None if seed is None else np.random.default_rng(
            (seed, ("all", "training", "validation").index(part)))
        loader = DataLoader(x, y_part, batch_size=batch_size, shuffle=shuffle, seed=loader_seed)
        loader.class_names = class_names
        loader.file_paths = [file_paths[i] for i in idx]
        return loader

    if subset == "both":
        return make("training"), make("validation")
    return make(subset or "all")
