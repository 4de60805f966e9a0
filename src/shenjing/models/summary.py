"""The text of ``Model.summary()``: a table of layers, output shapes and parameter counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..layers.input_layer import symbolic_in


def _shape(shape: Any) -> str:
    if isinstance(shape, list):  # a layer with several outputs
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    if shape is None:
        return "?"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"  # (None,)


def _type_name(layer: Any) -> str:
    """Keras's label of a layer's class; a ``Model(inputs, outputs)`` is Keras 3's
    ``Functional`` (its class there), a model subclass keeps its own name."""
    name = type(layer).__name__
    return "Functional" if name == "Model" and getattr(layer, "graph", None) is not None \
        else name


@dataclass
class Entry:
    """One layer of a model as its summary and plot show it: the shapes of its first call's
    inputs and outputs (Keras's ``layer.input`` / ``layer.output``; None when unknown) and the
    edges into it, each ``(producer layer, which of its outputs, which of this call's inputs)``."""

    layer: Any
    input_shape: Any = None
    output_shape: Any = None
    inbound: list[tuple[Any, int, int]] = field(default_factory=list)


def _shapes(tensors: list[Any]) -> Any:
    return tensors[0].shape if len(tensors) == 1 else [t.shape for t in tensors]


def layer_entries(model: Any) -> list[Entry]:
    """The model's layers in order, with shapes and inbound edges: a functional model's
    InputLayers, then every layer and op it calls (shared ones once, with the edges of every
    call); a built Sequential's chain; otherwise ``model.layers`` with nothing known."""
    graph = getattr(model, "graph", None)
    if graph is None:
        layers = model.layers
        if not (model.built and hasattr(model, "output_shapes")):  # subclassed, or unbuilt
            return [Entry(layer) for layer in layers]
        shapes = [model.inputs[0].shape, *model.output_shapes]
        return [Entry(layer, shapes[i], shapes[i + 1], [(layers[i - 1], 0, 0)] if i else [])
                for i, layer in enumerate(layers)]
    entries = {id(t.input_layer): Entry(t.input_layer, output_shape=t.shape)
               for t in graph.inputs if t.input_layer is not None}
    for node in graph.nodes:
        if node.layer is None:  # an output taken from a call with several
            continue
        tensors = symbolic_in((node.inputs, node.args, node.kwargs))
        entry = entries.get(id(node.layer))
        if entry is None:
            entry = entries[id(node.layer)] = Entry(
                node.layer, _shapes(tensors) if tensors else None,
                node.shape if node.children is None else [c.shape for c in node.children])
        for position, t in enumerate(tensors):
            while t.mask_of is not None:  # a symbolic mask: from the call that made its tensor
                t = t.mask_of
            if t.input_layer is not None:
                entry.inbound.append((t.input_layer, 0, position))
            elif t.source is not None:
                entry.inbound.append((t.source.layer, t.index, position))
            elif t.layer is not None:
                entry.inbound.append((t.layer, 0, position))
    return list(entries.values())


def summary_lines(model: Any, line_length: int | None = None, positions: Any = None,
                  expand_nested: bool = False, show_trainable: bool = False,
                  layer_range: Any = None) -> list[str]:
    """The lines of ``model.summary(...)``, whose arguments are Keras's (see ``Model.summary``).
    Without ``line_length`` and ``positions`` each column is as wide as its longest cell."""
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
    rows = [_row(e.layer, e.output_shape, depth, show_trainable)
            for e, depth in _entries(model, expand_nested, layer_range)]
    bounds = _column_bounds([header, *rows], line_length, positions, show_trainable)
    rule = "=" * bounds[-1]
    total = model.count_params()
    trainable = sum(p.size for p in model.trainable_weights)
    return [f'Model: "{model.name}"', rule, _line(header, bounds), rule,
            *(_line(r, bounds) for r in rows), rule, f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}", rule]


def _entries(model: Any, expand_nested: bool, layer_range: Any,
             depth: int = 0) -> list[tuple[Entry, int]]:
    """(entry, nesting depth) of each row: the model's layers (those of ``layer_range``), each
    nested model's own layers after it with ``expand_nested``."""
    entries = layer_entries(model)
    if layer_range is not None:
        start, stop = _layer_range([e.layer for e in entries], layer_range)
        entries = entries[start:stop]
    out = []
    for e in entries:
        out.append((e, depth))
        if expand_nested and hasattr(e.layer, "graph"):  # a Model
            out += _entries(e.layer, True, None, depth + 1)
    return out


def _layer_range(layers: list[Any], layer_range: Any) -> tuple[int, int]:
    """Keras's ``layer_range=(first, last)``: the rows from the first layer whose name matches
    the pattern ``first`` (``re.match``) to the last one matching ``last``, both included."""
    if not (isinstance(layer_range, (list, tuple)) and len(layer_range) == 2
            and all(isinstance(n, str) for n in layer_range)):
        raise ValueError("layer_range must be a list or tuple of two layer names (patterns), "
                         f"the first and last layers to show; got {layer_range!r}")
    first, last = ([i for i, layer in enumerate(layers) if re.match(pattern, layer.name)]
                   for pattern in layer_range)
    if not first or not last:
        raise ValueError(f"layer_range={tuple(layer_range)} matches no layer name of the model: "
                         f"its layers are {[layer.name for layer in layers]}")
    return min(first + last), max(first + last) + 1


def _row(layer: Any, shape: Any, depth: int, show_trainable: bool) -> list[str]:
    """A layer's cells; an unbuilt layer has '0 (unbuilt)' parameters (Keras 3), a layer
    without weights '-' as Trainable."""
    params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
    cells = ["  " * depth + f"{layer.name} ({_type_name(layer)})", _shape(shape), params]
    if show_trainable:
        cells.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    return cells


def _column_bounds(rows: list[list[str]], line_length: int | None, positions: Any,
                   show_trainable: bool) -> list[int]:
    """Where each column ends. Keras's: ``positions`` are fractions of ``line_length`` (or
    absolute when the last is above 1), by default 0.45, 0.84 and 1.0; Trainable then adds 11
    characters. Without either, each column fits its longest cell plus two spaces."""
    n = len(rows[0])
    if line_length is None and positions is None:
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(n)]
        return [sum(widths[:i + 1]) for i in range(n)]
    base = n - show_trainable
    positions = list(positions if positions is not None else (0.45, 0.84, 1.0))
    if len(positions) != base:
        raise ValueError(f"positions must give {base} column ends (Layer (type), Output Shape, "
                         f"Param #), got {positions!r}")
    if positions[-1] <= 1:
        line_length = line_length or _column_bounds(rows, None, None, show_trainable)[base - 1]
        positions = [int(line_length * p) for p in positions]
    bounds = [int(p) for p in positions]
    return bounds + [bounds[-1] + 11] if show_trainable else bounds


def _line(cells: list[str], bounds: list[int]) -> str:
    """The cells in their columns, each cut to leave a space before the next (Keras's)."""
    line = ""
    for cell, end in zip(cells, bounds):
        line += cell[:max(end - len(line) - 1, 0)].ljust(end - len(line))
    return line
