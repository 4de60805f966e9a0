"""The model's weights in a safetensors file: their names ('0003/layer/weight'), their bytes,
and reading them back into a model, with errors that list both sides when they do not match.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .formats import FORMAT, _safetensors_bytes


def _weight_names(model: Any) -> list[str]:
    """'0003/layer_name/weight_name' for each weight, in ``model.weights`` order: the index
    keeps the order; the names are for people reading the file."""
    owner: dict[int, str] = {}

    def walk(layer: Any, prefix: str) -> None:
        for p in layer._params.values():
            owner.setdefault(id(p), f"{prefix}{layer.name}/{p.name}")
        for child in layer._sublayers():
            walk(child, f"{prefix}{layer.name}/" if layer is not model else "")

    walk(model, "")
    return [f"{i:04d}/{owner.get(id(p), p.name)}" for i, p in enumerate(model.weights)]


def _weights_bytes(model: Any) -> bytes:
    # asarray(order="C"), not ascontiguousarray, which would make a 0-d weight (1,)
    arrays = {k: np.asarray(p.numpy(), order="C") for k, p in zip(_weight_names(model),
                                                                   model.weights)}
    return _safetensors_bytes(arrays, {"format": FORMAT})


def _listing(names: list[str], shapes: list[tuple[int, ...]], limit: int = 6) -> str:
    """'kernel (4, 8), bias (8,), ...': the first ``limit`` weights, for an error message."""
    items = [f"{n} {tuple(s)}" for n, s in zip(names[:limit], shapes[:limit])]
    return ", ".join(items) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _natural(key: str) -> list[Any]:
    """A sort key that orders numbers by value: 'layer2' before 'layer10' (shenjing's own
    names are zero-padded, so it orders them as text does)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def _assign_weights(model: Any, arrays: dict[str, np.ndarray], what: str) -> None:
    """Assign by name when the file's weights are the model's (a model that load_model
    rebuilt, whatever order the file was written in), else in the names' order, numbers by
    value (a list saved by ``shenjing.save`` is '0', '1', ... '11': as text, '10' came
    before '2' and twelve same-shaped kernels loaded scrambled)."""
    weights = model.weights
    names = [k.split("/", 1)[1] for k in _weight_names(model)]
    if len(arrays) != len(weights):
        if not weights:
            hint = ("the model has no weights yet: build it first (call it on a batch, or give "
                    "its first layer input_shape=), then load_weights")
        else:
            ordered = sorted(arrays, key=_natural)
            hint = (f"it was saved from another architecture. The file: "
                    f"{_listing(ordered, [arrays[k].shape for k in ordered])}; the model: "
                    f"{_listing(names, [p.shape for p in weights])}. Build the model as the one "
                    "that saved it (same layers, sizes and order), or use load_model")
        raise ValueError(f"{what} holds {len(arrays)} weights but the model has "
                         f"{len(weights)}: {hint}{_foreign_note(arrays)}")
    by_name = {k.split("/", 1)[-1]: k for k in arrays}
    keys = [by_name[n] for n in names] if (
        len(set(names)) == len(names) and set(names) == set(by_name)) else sorted(
        arrays, key=_natural)
    for key, p, name in zip(keys, weights, names):
        if arrays[key].shape != p.shape:
            raise ValueError(f"{what}: weight {key} has shape {arrays[key].shape}, but the "
                             f"model's {name} has shape {p.shape}: the file was saved from "
                             "another architecture; build the model as the one that saved it "
                             f"(same layers, sizes and order), or use load_model"
                             f"{_foreign_note(arrays)}")
    for key, p in zip(keys, weights):
        p.assign(arrays[key].astype(p.dtype, copy=False))


def _foreign_note(arrays: dict[str, np.ndarray]) -> str:
    """A note for weights whose names are not shenjing's ('0003/layer/weight')."""
    if all(k[:4].isdigit() and k[4:5] == "/" for k in arrays):
        return ""
    return (". (Its names are not shenjing's, so another program wrote it: convert the arrays "
            "and use model.set_weights, e.g. a torch Linear's weight is a Dense kernel "
            "transposed)")
