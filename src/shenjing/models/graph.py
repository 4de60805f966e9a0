"""The functional API's graph: the layer calls recorded by symbolic tensors, in an order that
can be replayed, and its JSON form for saving."""

from __future__ import annotations

from typing import Any

from ..layers.input_layer import SymbolicTensor, conform, map_symbolic, symbolic_in
from ..layers.layer import Layer, serialize_layer

_TENSOR = "__tensor__"  # marks a tensor among a node's other arguments in a saved config


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Graph:
    """The nodes (symbolic tensors made by layer calls) between ``inputs`` and ``outputs``,
    topologically ordered (iteratively, so deep models need no recursion)."""

    def __init__(self, inputs: Any, outputs: Any) -> None:
        # a dict of inputs (Keras 3) is fed a dict with its keys; kept in sorted key order
        self.input_keys: list[str] | None = sorted(inputs) if isinstance(inputs, dict) else None
        self.inputs = [inputs[k] for k in self.input_keys] if self.input_keys is not None \
            else _as_list(inputs)
        # a dict of outputs is flattened in the order of its sorted keys, as Keras's tree does
        self.output_keys: list[str] | None = sorted(outputs) if isinstance(outputs, dict) \
            else None
        self.outputs = [outputs[k] for k in self.output_keys] if self.output_keys is not None \
            else _as_list(outputs)
        self.single_input = not isinstance(inputs, (list, tuple, dict))
        self.single_output = not isinstance(outputs, (list, tuple, dict))
        for t in self.inputs + self.outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"Model(inputs, outputs) takes symbolic tensors from Input() and "
                                f"layer calls, got {type(t).__name__}")
        self.nodes = self._order()
        layers: dict[int, Layer] = {}
        for node in self.nodes:
            if node.layer is not None:  # not an output taken from a call with several
                layers.setdefault(id(node.layer), node.layer)
        # every layer called, ops on symbolic tensors included (OpLayer: summary and config
        # show them); model.layers lists the others, as Keras 3's lists no operation
        self.operations = list(layers.values())
        self.layers = [op for op in self.operations if not getattr(op, "_keras_operation", False)]
        _check_unique_names([t.name for t in self.inputs]
                            + [layer.name for layer in self.layers
                               if not any(layer is t.layer for t in self.inputs)])

    def _order(self) -> list[SymbolicTensor]:
        input_ids = {id(t) for t in self.inputs}
        order: list[SymbolicTensor] = []
        done: set[int] = set(input_ids)
        stack = [(t, False) for t in reversed(self.outputs)]
        while stack:
            t, expanded = stack.pop()
            if id(t) in done:
                continue
            if t.layer is None and t.source is None and t.mask_of is None:
                raise ValueError(f"output depends on an Input not passed to Model(): {t}")
            if expanded:
                done.add(id(t))
                order.append(t)
                continue
            stack.append((t, True))
            needs = [t.source] if t.source is not None else [t.mask_of] \
                if t.mask_of is not None else symbolic_in((t.inputs, t.args, t.kwargs))
            # first needed first (popped last-in first-out): sibling branches in the order
            # they were given, as Keras lists its layers (Concatenate()([a, b, c]): a, b, c)
            stack.extend((p, False) for p in reversed(needs) if id(p) not in done)
        return order

    def by_input_name(self, inputs: dict[str, Any]) -> Any:
        """Keras's dict of inputs keyed by the Input names (or by the keys of a dict of inputs
        given to ``Model``), in input order (a list, or the one value); ValueError naming the
        inputs when the keys are not theirs."""
        names = self.input_keys or [t.name for t in self.inputs]
        unknown = [k for k in inputs if k not in names]
        absent = [n for n in names if n not in inputs]
        if unknown or absent:
            problem = f"unknown input name(s) {unknown}" if unknown \
                else f"no entry for input(s) {absent}"
            raise ValueError(f"the dict of inputs has {problem}; the model's inputs are {names}"
                             + ("" if self.input_keys else " (the names given to Input(name=...))"))
        values = [inputs[n] for n in names]
        return values[0] if self.single_input else values

    def run(self, inputs: Any, training: bool | None) -> Any:
        if isinstance(inputs, dict):
            inputs = self.by_input_name(inputs)
        given = _as_list(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"the model expects {len(self.inputs)} input(s), got {len(given)}")
        values = {id(s): conform(x, s) for s, x in zip(self.inputs, given)}

        def value(t: SymbolicTensor) -> Any:
            return values[id(t)]

        for node in self.nodes:
            if node.source is not None:
                values[id(node)] = values[id(node.source)][node.index]
                continue
            if node.mask_of is not None:  # a symbolic mask (x._keras_mask) used as a tensor
                values[id(node)] = getattr(values[id(node.mask_of)], "_keras_mask", None)
                continue
            kwargs = map_symbolic(node.kwargs, value)
            kwargs.setdefault("training", training)
            values[id(node)] = node.layer(map_symbolic(node.inputs, value),
                                          *map_symbolic(node.args, value), **kwargs)
        outs = [values[id(t)] for t in self.outputs]
        if self.output_keys is not None:
            return dict(zip(self.output_keys, outs))
        return outs[0] if self.single_output else outs

    def get_config(self) -> dict[str, Any]:
        index = {id(layer): i for i, layer in enumerate(self.operations)}
        refs = {id(t): ["input", i] for i, t in enumerate(self.inputs)}
        refs.update({id(n): ["node", i] for i, n in enumerate(self.nodes)})

        def ref(x: Any) -> Any:
            return [refs[id(t)] for t in x] if isinstance(x, (list, tuple)) else refs[id(x)]

        def tagged(x: Any) -> Any:  # other arguments: tensors tagged, values as they are
            return map_symbolic(x, lambda t: {_TENSOR: refs[id(t)]})

        def node(n: SymbolicTensor) -> dict[str, Any]:
            if n.source is not None:
                return {"source": ref(n.source), "index": n.index}
            if n.mask_of is not None:
                return {"mask_of": ref(n.mask_of)}
            config = {"layer": index[id(n.layer)], "inputs": ref(n.inputs),
                      "kwargs": tagged(n.kwargs)}
            return {**config, "args": tagged(n.args)} if n.args else config

        return {
            "layers": [serialize_layer(layer) for layer in self.operations],
            "inputs": [{"shape": list(t.shape), "dtype": t.dtype.name, "name": t.name}
                       for t in self.inputs],
            "nodes": [node(n) for n in self.nodes],
            "outputs": ref(self.outputs if not self.single_output else self.outputs[0]),
            "single_input": self.single_input,
            **({} if self.input_keys is None else {"input_keys": self.input_keys}),
            **({} if self.output_keys is None else {"output_keys": self.output_keys}),
        }

    @staticmethod
    def from_config(config: dict[str, Any], deserialize: Any, inputs: list[Any] | None = None
                    ) -> tuple[Any, Any]:
        """Rebuild the symbolic inputs and outputs by calling fresh layers again (on
        ``inputs``, symbolic tensors, when given: ``clone_model``'s ``input_tensors``)."""
        from ..layers.input_layer import Input

        layers = [deserialize(c) for c in config["layers"]]
        if inputs is None:
            inputs = [Input(batch_shape=tuple(i["shape"]), dtype=i["dtype"], name=i["name"])
                      for i in config["inputs"]]
        made: list[Any] = []

        def get(r: Any) -> Any:
            if r and isinstance(r[0], list):
                return [get(x) for x in r]
            return inputs[r[1]] if r[0] == "input" else made[r[1]]

        def untagged(x: Any) -> Any:
            if isinstance(x, dict):
                return get(x[_TENSOR]) if set(x) == {_TENSOR} else {
                    k: untagged(v) for k, v in x.items()}
            return [untagged(v) for v in x] if isinstance(x, list) else x

        for node in config["nodes"]:
            if "source" in node:
                made.append(get(node["source"])[node["index"]])
                continue
            if "mask_of" in node:
                made.append(get(node["mask_of"])._keras_mask)
                continue
            made.append(layers[node["layer"]](get(node["inputs"]), *untagged(node.get("args", [])),
                                              **untagged(node["kwargs"])))
        outputs = get(config["outputs"])
        if "output_keys" in config:
            outputs = dict(zip(config["output_keys"], outputs))
        if "input_keys" in config:
            return dict(zip(config["input_keys"], inputs)), outputs
        return (inputs[0] if config["single_input"] else inputs), outputs


def _check_unique_names(names: list[str]) -> None:
    """Keras's rule: every input and layer of a model has its own name (a dict of inputs is
    fed by name, and weights are saved by layer name)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"The name {name!r} is used {names.count(name)} times in the "
                             "model (inputs and layers): give each its own name")
        seen.add(name)
