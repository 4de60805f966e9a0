"""``Sequential``: a plain stack of layers, each feeding the next (the article's CNN listing)."""

from __future__ import annotations

from typing import Any

from ..autograd import Tensor
from ..layers.core import InputLayer
from ..layers.input_layer import Input, SymbolicTensor, conform
from ..layers.layer import Layer, serialize_layer
from .model import Model


class Sequential(Model):
    """A model whose layers run one after another.

    Args:
        layers: the layers in order (an ``Input(shape)`` or ``InputLayer`` may come first, as
            the model's input); more can be added with :meth:`add`. When the first layer knows
            its input (``input_shape=`` or an Input), the model is built at once, so
            ``summary()`` works before any data is seen. Otherwise it is built by the first data
            it is called on (or by ``build(input_shape)``), whose shape (batch axis free) and
            dtype then become its Input, saved with the model.

    >>> model = Sequential([Dense(64, activation="relu", input_shape=(784,)), Dense(10)])
    """

    def __init__(self, layers: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stack: list[Layer] = []
        self._input: SymbolicTensor | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any) -> None:
        """Append a layer (or, first of all, an ``Input`` or an ``InputLayer``)."""
        if isinstance(layer, InputLayer):  # Keras 3: the model's input, not one of its layers
            layer = layer.output
        if isinstance(layer, SymbolicTensor):
            if self.stack or self._input is not None:
                raise ValueError("an Input can only be the first element of a Sequential model")
            self._input = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() takes layers, got {type(layer).__name__}")
        self.stack = [*self.stack, layer]
        self._build_if_input_known()

    def pop(self) -> Layer:
        """Remove the last layer and return it (Keras's ``pop``)."""
        if not self.stack:
            raise IndexError(f"pop() from the Sequential model {self.name!r}, which has no layers")
        *rest, layer = self.stack
        self.stack = None  # untracks the old list: assigning an empty list would not
        self.stack = rest
        self._build_if_input_known()
        return layer

    def _build_if_input_known(self) -> None:
        """Build (again) when the input shape is known: from an Input, the first layer's
        ``input_shape=``, or the data the model was first called on."""
        self.built = False
        if not self.stack:
            return
        shape = self._input.shape if self._input is not None else self.stack[0].batch_input_shape
        if shape is not None:
            self.build(shape)

    @property
    def layers(self) -> list[Layer]:
        return list(self.stack)

    def _maybe_build(self, inputs: Any) -> None:
        # Built by data: its dtype (integer ids for an Embedding) is known only here.
        if not self.built and self._input is None and isinstance(inputs, Tensor):
            self._input = Input(batch_shape=(None, *inputs.shape[1:]), dtype=inputs.dtype)
        super()._maybe_build(inputs)

    def build(self, input_shape: Any) -> None:
        """Create every layer's weights by passing a symbolic input through the stack, which
        also records each layer's output shape for ``summary``."""
        if self._input is None:
            self._input = Input(batch_shape=(None, *tuple(input_shape)[1:]))
        # One input tensor for every (re)build, the given Input where it fits, as Keras's: each
        # layer's `output` (its first call) then leads back to `model.input`, so
        # Model(model.input, [layer.output for layer in model.layers]) extracts features.
        shape, dtype = tuple(input_shape), self._input.dtype
        last = self._built_io[0][0] if hasattr(self, "_built_io") else None
        fits = [t for t in (self._input, last) if t is not None and t.shape == shape
                and t.dtype == dtype]
        x = start = fits[0] if fits else Input(batch_shape=shape, dtype=dtype)
        self.output_shapes = []
        for layer in self.stack:
            x = layer(x)
            if isinstance(x, (list, tuple)):  # Keras's rule too: one tensor in, one out
                raise ValueError(f"Sequential: layer {layer.name!r} returns {len(x)} tensors; "
                                 "each layer of a Sequential model must return one (use the "
                                 "functional API, Model(inputs, outputs), for several)")
            self.output_shapes.append(x.shape)
        self._built_io = ([start], [x])

    def _symbolic_io(self) -> tuple[list[Any], list[Any]]:
        if not self.built:
            raise AttributeError(f"the Sequential model {self.name!r} has not been built yet, so "
                                 "it has no inputs or outputs: build it by calling it on data, "
                                 "by fit, or give the first layer an input_shape")
        return self._built_io

    def call(self, x: Any, training: bool | None = None) -> Any:
        if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
            x = x[0]  # [x]: the one input in a list, as Keras's graph flattens it
        if self._input is not None:
            if isinstance(x, dict):  # the first layer's error named no dict (no '.shape')
                raise TypeError(f"this Sequential model takes one input of shape "
                                f"{self._input.shape}, got a dict of {sorted(x)}: pass the "
                                "array itself, or build a functional Model with "
                                "Input(name=...) for named inputs")
            x = conform(x, self._input)
        for layer in self.stack:
            x = layer(x, training=training)
        return x

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": self.dtype.name,
                                  "layers": [serialize_layer(layer) for layer in self.stack]}
        if self._input is not None:
            config["input"] = {"shape": list(self._input.shape), "dtype": self._input.dtype.name}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Sequential:
        from ..io.saving import custom_object_scope, deserialize_layer

        layers: list[Any] = []
        if "input" in config:
            layers.append(Input(batch_shape=tuple(config["input"]["shape"]),
                                dtype=config["input"]["dtype"]))
        with custom_object_scope(custom_objects):
            layers += [deserialize_layer(c) for c in config["layers"]]
        return cls(layers, name=config.get("name"), trainable=config.get("trainable", True),
                   dtype=config.get("dtype"))
