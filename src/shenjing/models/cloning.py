"""``clone_model`` (Keras 3's): the same architecture with new layers, so new weights."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..layers.input_layer import Input, SymbolicTensor
from ..layers.layer import Layer
from .graph import Graph
from .model import Model
from .sequential import Sequential


def _clone_layer(layer: Layer) -> Layer:
    return layer.__class__.from_config(layer.get_config())


def clone_model(model: Model, input_tensors: Any = None,
                clone_function: Callable[[Layer], Layer] | None = None,
                call_function: Any = None, recursive: bool = False, **kwargs: Any) -> Model:
    """A model with ``model``'s architecture and newly initialized weights (Keras 3's).

    A Sequential or functional model is rebuilt layer by layer, each layer made by
    ``clone_function(layer)`` (default: ``layer.__class__.from_config(layer.get_config())``;
    return ``layer`` itself to share it), with the same input shapes, or on ``input_tensors``
    (symbolic tensors from ``keras.Input``). A subclassed model is rebuilt from its config.

    Args:
        model: the model to clone.
        input_tensors: symbolic tensors to build the clone on instead of new Inputs (a
            Sequential model takes one).
        clone_function: makes each new layer from the old one (Sequential and functional
            models only).
        call_function: not supported here (Keras 3 uses it to change how a functional model
            calls each layer); a TypeError says so.
        recursive: also clone nested Sequential and functional models layer by layer with
            ``clone_function`` (else a nested model is passed to ``clone_function`` whole).

    Returns:
        The new model, unbuilt weights made fresh; nothing is copied from ``model``'s weights
        (``clone.set_weights(model.get_weights())`` copies them).

    >>> twin = keras.models.clone_model(student)
    """
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs)}")
    if call_function is not None:
        raise TypeError("clone_model(call_function=...) is not supported by shenjing: clone with "
                        "clone_function, then wrap the layers you want to call differently")
    if cache is None:
        cache = {}
    graph = model.graph if isinstance(model, Model) else None
    if not isinstance(model, Sequential) and graph is None:
        if clone_function is not None or input_tensors is not None:
            raise ValueError(
                "Arguments `clone_function` and `input_tensors` are only supported for "
                "Sequential models or Functional models. Received model of type "
                f"'{model.__class__.__name__}', with clone_function={clone_function} and "
                f"input_tensors={input_tensors}")
        from ..io.serialization import deserialize_keras_object, serialize_keras_object

        return deserialize_keras_object(serialize_keras_object(model),
                                        {model.__class__.__name__: model.__class__})

    make = clone_function or _clone_layer

    def clone(layer: Layer) -> Layer:
        if id(layer) not in cache:
            nested = isinstance(layer, Sequential) or getattr(layer, "graph", None) is not None
            cache[id(layer)] = (clone_model(layer, clone_function=clone_function,
                                            recursive=True, cache=cache)
                                if recursive and nested else make(layer))
        return cache[id(layer)]

    if isinstance(model, Sequential):
        new_layers: list[Any] = [clone(layer) for layer in model.stack]
        if input_tensors is not None:
            if isinstance(input_tensors, (list, tuple)):
                if len(input_tensors) != 1:
                    raise ValueError("Argument `input_tensors` must contain a single tensor.")
                input_tensors = input_tensors[0]
            new_layers.insert(0, _symbolic(input_tensors))
        elif model._input is not None:
            new_layers.insert(0, Input(batch_shape=tuple(model._input.shape),
                                       dtype=model._input.dtype.name))
        return Sequential(new_layers, name=model.name, trainable=model.trainable)

    assert graph is not None
    config = {**graph.get_config(), "layers": [clone(layer) for layer in graph.operations]}
    given = None
    if input_tensors is not None:
        given = [_symbolic(t) for t in (input_tensors if isinstance(input_tensors, (list, tuple))
                                        else [input_tensors])]
        if len(given) != len(graph.inputs):
            raise ValueError(f"the model has {len(graph.inputs)} inputs but input_tensors has "
                             f"{len(given)}")
    inputs, outputs = Graph.from_config(config, lambda layer: layer, inputs=given)
    params = list(inspect.signature(type(model).__init__).parameters)[1:3]
    cls = type(model) if params == ["inputs", "outputs"] else Model
    return cls(inputs, outputs, name=model.name, trainable=model.trainable)


def _symbolic(tensor: Any) -> SymbolicTensor:
    if not isinstance(tensor, SymbolicTensor):
        raise ValueError("Argument `input_tensors` must be a KerasTensor (from keras.Input). "
                         f"Received invalid value: {tensor!r}")
    return tensor
