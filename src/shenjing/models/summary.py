"""The text of ``Model.summary()``: a table of layers, output shapes and parameter counts."""

from __future__ import annotations

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
            if t.input_layer is not None:
                entry.inbound.append((t.input_layer, 0, position))
            elif t.source is not None:
                entry.inbound.append((t.source.layer, t.index, position))
            elif t.layer is not None:
                entry.inbound.append((t.layer, 0, position))
    return list(entries.values())


def summary_lines(model: Any) -> list[str]:
    rows = [(f"{e.layer.name} ({_type_name(e.layer)})", _shape(e.output_shape),
             f"{e.layer.count_params():,}") for e in layer_entries(model)]
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
    line = "".join(h.ljust(w) for h, w in zip(header, widths))
    rule = "=" * len(line)
    total = model.count_params()
    trainable = sum(p.size for p in model.trainable_weights)
    out = [f'Model: "{model.name}"', rule, line, rule]
    out += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    out += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}", rule]
    return out
