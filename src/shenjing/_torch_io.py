"""torch.save / torch.load for ported code (``torch.save(model.state_dict(), path)``,
``torch.save({"epoch": 3, "weights": w}, f)``), without pickle.

A file is one safetensors file: the arrays under the keys "0", "1", ..., and the structure
around them (dicts, lists, tuples, numbers, strings, None) as JSON in its metadata under
``shenjing.structure``. Nothing in a file is ever run: pickle, torch's format, would run code
from the file, so :func:`load` refuses torch's own .pt files and says how to convert them. A plain
safetensors file (``safetensors.torch.save_file`` on the torch side) loads as a dict of tensors.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

import numpy as np

from . import backend
from .autograd import Tensor

STRUCTURE = "shenjing.structure"


def _encode(obj: Any, arrays: dict[str, np.ndarray], seen: dict[int, str]) -> Any:
    """``obj`` as JSON, its tensors and arrays moved to ``arrays`` (each once: a tensor met
    twice is stored once and loads as one tensor)."""
    if isinstance(obj, (Tensor, np.ndarray)):
        key = seen.get(id(obj))
        if key is None:
            key = seen[id(obj)] = str(len(arrays))
            data = obj.data if isinstance(obj, Tensor) else obj
            array = np.asarray(backend.asnumpy(data), order="C")  # 0-d kept
            if array.dtype.kind not in "biuf":  # safetensors' own error named no entry
                raise TypeError(f"save: an array of {array.dtype} (shape {array.shape}) cannot "
                                "be saved: safetensors holds booleans, integers and floats "
                                "(save strings as a list of str)")
            arrays[key] = array
        if isinstance(obj, np.ndarray):
            return {"array": key}
        return {"tensor": key, "requires_grad": bool(obj.requires_grad)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"dict": [[_encode(k, arrays, seen), _encode(v, arrays, seen)]
                         for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__ if type(obj) in (list, tuple) else "list":
                [_encode(v, arrays, seen) for v in obj]}
    raise TypeError(f"save: cannot save a {type(obj).__name__}: shenjing.save writes tensors, "
                    "arrays, numbers, strings, None and dicts, lists and tuples of them, never "
                    "pickles (save a model's state_dict(), not the model)")


def _decode(node: Any, arrays: dict[str, np.ndarray], made: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    if "tensor" in node or "array" in node:
        key = node.get("tensor", node.get("array"))
        if key not in made:
            array = arrays[key]
            made[key] = array if "array" in node else Tensor._wrap(array)
            if node.get("requires_grad"):
                made[key].requires_grad_()
        return made[key]
    if "dict" in node:
        return {_key(_decode(k, arrays, made)): _decode(v, arrays, made) for k, v in node["dict"]}
    if "tuple" in node:
        return tuple(_decode(v, arrays, made) for v in node["tuple"])
    return [_decode(v, arrays, made) for v in node["list"]]


def _key(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key  # a tuple key, decoded as a list


def save(obj: Any, f: Any) -> None:
    """torch.save: write ``obj`` (a tensor, or dicts / lists / tuples of tensors, arrays,
    numbers and strings: a state_dict, a checkpoint) to the path or binary file ``f``, as
    safetensors with a JSON layout, never pickle; a path is written atomically (a temporary
    file, then a rename).

    >>> shenjing.save(model.state_dict(), "model.pt")
    """
    from .io.formats import _safetensors_bytes

    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays, {})
    data = _safetensors_bytes(arrays, {STRUCTURE: json.dumps(structure)})
    if hasattr(f, "write"):
        f.write(data)
        return
    from .io.saving import atomic_write

    atomic_write(os.fspath(f), data)


def load(f: Any, map_location: Any = None, *, weights_only: bool = True, **kwargs: Any) -> Any:
    """torch.load: what :func:`save` wrote to the path or binary file ``f`` (tensors on the
    host; ``map_location`` and ``weights_only`` are accepted for ported calls: nothing is ever
    unpickled). A safetensors file written elsewhere loads as a dict of tensors. A file that is
    not one (a PyTorch .pt pickle, a model.save zip) or is truncated or damaged raises a
    CorruptFileError (a ValueError) naming the file and saying what it is."""
    from .io.formats import CorruptFileError, _read_safetensors

    if hasattr(f, "read"):
        data, name = f.read(), getattr(f, "name", "the file")
    else:
        name = os.fspath(f)
        with open(name, "rb") as file:
            data = file.read()
    header = _header(data, name)
    arrays = _read_safetensors(data, name)
    layout = (header.get("__metadata__") or {}).get(STRUCTURE)
    if layout is None:  # a plain safetensors file: its tensors by name
        return {key: Tensor._wrap(arrays[key]) for key in header if key != "__metadata__"}
    try:
        return _decode(json.loads(layout), arrays, {})
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise CorruptFileError(f"{name} is damaged: the layout that shenjing.save wrote in its "
                               f"header ({STRUCTURE}) cannot be read") from None


def _header(data: bytes, name: str) -> dict[str, Any]:
    """The safetensors JSON header, or a CorruptFileError that says what the file is instead:
    damaged, a PyTorch pickle, a shenjing model (model.save's zip), something else."""
    from .io.formats import CONFIG, CorruptFileError, _kind

    try:
        (size,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + size]) if 2 <= size <= len(data) - 8 else None
    except (struct.error, ValueError):
        header = None
    if isinstance(header, dict):
        return header
    kind = _kind(data)
    if kind == "safetensors":  # its 8-byte length and a '{': a header cut short or damaged
        raise CorruptFileError(f"{name} is corrupt or truncated: its safetensors header cannot "
                               "be read")
    members = _zip_members(data) if kind == "zip" else []
    if CONFIG in members:
        raise CorruptFileError(f"{name} is a shenjing model file (model.save's zip), not a "
                               "file of shenjing.save: load it with shenjing.models.load_model, "
                               "or its weights into a model with model.load_weights")
    if any(m.endswith("data.pkl") for m in members) or data[:1] == b"\x80":
        raise CorruptFileError(
            f"{name} is a PyTorch pickle (torch.save's .pt format); shenjing.load never "
            "unpickles, since a pickle runs code from the file. Convert it with torch: "
            "`from safetensors.torch import save_file; save_file(torch.load(path), "
            "'model.safetensors')` (a state_dict of tensors; or write torch.save's object "
            "with safetensors.torch.save_file in the first place), then "
            "shenjing.load('model.safetensors') gives the dict of tensors")
    what = "a zip archive that is neither a shenjing model nor a PyTorch file, or is cut " \
        "short" if kind == "zip" else "not a file written by shenjing.save (a safetensors file)"
    raise CorruptFileError(f"{name} is {what}")


def _zip_members(data: bytes) -> list[str]:
    """The names in a zip archive; [] if it cannot be read."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.namelist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        return []
