"""The text of ``Model.summary()``: a table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import Any


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


def summary_lines(model: Any) -> list[str]:
    shapes: dict[int, Any] = {}
    if getattr(model, "graph", None) is not None:
        for t in model.graph.inputs:
            shapes[id(t.input_layer)] = t.shape
        for node in model.graph.nodes:
            if node.layer is not None:
                shapes[id(node.layer)] = node.shape if node.children is None else [
                    c.shape for c in node.children]
    elif hasattr(model, "output_shapes"):
        shapes = {id(layer): s for layer, s in zip(model.layers, model.output_shapes)}
    layers = model.layers
    if getattr(model, "graph", None) is not None:  # ops too (x + y), as Keras 3's summary
        layers = [t.input_layer for t in model.graph.inputs if t.input_layer is not None] + \
            model.graph.operations
    rows = [(f"{layer.name} ({_type_name(layer)})", _shape(shapes.get(id(layer))),
             f"{layer.count_params():,}") for layer in layers]
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
