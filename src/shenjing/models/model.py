"""``Model``: a Layer that trains. Three ways to make one, as in Keras: subclass it and write
``call``; connect symbolic tensors (``Model(inputs, outputs)``); or use ``Sequential``.

Training (``compile``, ``fit``, ``evaluate``, ``predict``, the steps) is ``Trainer``'s, in
``trainer.py``; the per-output loss and metric bookkeeping is in ``compile_utils.py``. This file
holds what a model is: its graph or ``call``, layers, inputs and outputs, summary, config and
saving.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..layers.call_io import _shape_of
from ..layers.layer import Layer
from .graph import Graph
from .trainer import Trainer


class Model(Trainer, Layer):
    """A trainable network: ``Model(inputs, outputs)`` or a subclass that defines ``call``.

    >>> inputs = Input((784,))
    >>> outputs = Dense(10)(Dense(64, activation="relu")(inputs))
    >>> model = Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True),
    ...               metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    """

    # a subclass's config (its own arguments) holds no empty inputs and outputs
    _config_if_given = (*Layer._config_if_given, "inputs", "outputs")

    def __init__(self, inputs: Any = None, outputs: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph: Graph | None = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs) needs both inputs and outputs")
            self.graph = Graph(inputs, outputs)
            self.graph_layers = self.graph.layers
            self.built = True

    # -- forward -----------------------------------------------------------------------------
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, dict) and self.graph is not None:  # Keras: keyed by Input name
            inputs = self.graph.by_input_name(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def _maybe_build(self, inputs: Any) -> None:
        if not self.built:  # the first call's input shape, for get_build_config
            self._build_input_shape = _shape_of(inputs)
        super()._maybe_build(inputs)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if self.graph is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(), or be built "
                                      "as Model(inputs, outputs)")
        return self.graph.run(inputs, training)

    @property
    def layers(self) -> list[Layer]:
        """The model's layers. A functional model lists its InputLayers first, then its
        layers in the order they compute (Keras 3: ``model.layers[1:]`` skips the input)."""
        layers = super().layers
        if self.graph is None:
            return layers
        return [t.input_layer for t in self.graph.inputs if t.input_layer is not None] + layers

    def _random_generators(self) -> dict[str, np.random.Generator]:
        """The streams a subclass keeps as attributes, less fit's shuffling streams: the
        model's, which ``save`` writes on its own (``fit_rng``), and that of the user's
        DataLoader fit runs on (BackupAndRestore keeps it; it is the loader's, not the
        model's)."""
        found = super()._random_generators()
        found.pop("_fit_rng", None)
        found.pop("_loader_rng", None)
        return found

    def _output_layers(self) -> list[Layer]:
        if self.graph is not None:
            return [t.layer for t in self.graph.outputs]
        return self.layers[-1:]

    @property
    def output_names(self) -> list[str]:
        """The names of a functional model's outputs, in order: the names of the layers that
        make them, or the sorted keys of a dict of outputs (Keras's order). They key per-output
        losses, metrics and targets and prefix their logs ([] for other models)."""
        if self.graph is None:
            return []
        if self.graph.output_keys is not None:
            return list(self.graph.output_keys)
        return [t.layer.name if t.layer is not None else t.name for t in self.graph.outputs]

    @property
    def _output_list(self) -> bool:
        """Whether the model's outputs are a list or dict (``Model(inputs, [a, b])``), trained
        with one loss per output."""
        return self.graph is not None and not self.graph.single_output

    # -- inspection and saving ---------------------------------------------------------------
    @property
    def input_shape(self) -> Any:
        """Keras's ``model.input_shape``: the shape of the symbolic input (batch axis None), or
        the list of them."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        """Keras's ``model.output_shape``: the shape of the symbolic output, or the list of
        them."""
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or ``model.layers[index]``; ValueError if there is none,
        or unless exactly one of the two is given."""
        if (name is None) == (index is None):
            raise ValueError(f"get_layer() takes a layer name or an index, not both or neither; "
                             f"got name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer(index={index}) is out of range: the model "
                                 f"{self.name!r} has {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r} in the model {self.name!r}; its layers are "
                         f"{[layer.name for layer in layers]}")

    def _symbolic_io(self) -> tuple[list[Any], list[Any]]:
        """The symbolic input and output tensors the model was built from."""
        if self.graph is None:
            raise AttributeError(f"the model {self.name!r} has no symbolic inputs or outputs: "
                                 "only a functional model or a built Sequential has them")
        return self.graph.inputs, self.graph.outputs

    @property
    def inputs(self) -> list[Any]:
        """The symbolic input tensors (``Input()``) of a functional model or a built Sequential."""
        return list(self._symbolic_io()[0])

    @property
    def outputs(self) -> list[Any]:
        """The symbolic output tensors of a functional model or a built Sequential."""
        return list(self._symbolic_io()[1])

    @property
    def input(self) -> Any:
        """Keras's ``model.input``: the symbolic input, or the list of them."""
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """Keras's ``model.output``: the symbolic output, or the list of them."""
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    def summary(self, line_length: int | None = None, positions: Any = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:
        """Print each layer's name, type, output shape and parameter count, and the totals.
        Before the model is built the shapes are '?' and the counts '0 (unbuilt)' (Keras 3).

        Args (Keras's): ``line_length`` and ``positions`` (column ends, fractions of the line
        or characters) lay the table out; ``print_fn`` takes each line (default ``print``);
        ``expand_nested`` lists a nested model's layers under it, indented; ``show_trainable``
        adds a Trainable column (Y, N, or - for a layer without weights); ``layer_range``
        (first, last) shows the rows between the layers those name patterns match.
        """
        from .summary import summary_lines

        for line in summary_lines(self, line_length, positions, expand_nested, show_trainable,
                                  layer_range):
            (print_fn or print)(line)

    def get_config(self) -> dict[str, Any]:
        if self.graph is None:
            return super().get_config()
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name,
                **self.graph.get_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Model:
        """The model ``config`` describes; ``custom_objects`` names your own layer classes in
        it (``{"CustomDense": CustomDense}``), as Keras's."""
        from ..io.saving import custom_object_scope, deserialize_layer

        if "nodes" not in config:
            return cls(**config)
        with custom_object_scope(custom_objects):
            inputs, outputs = Graph.from_config(config, deserialize_layer)
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True), dtype=config.get("dtype"))

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras's build config: ``{"input_shape": ...}``, the shape (or list of shapes) the
        model was first called on, batch axis None; None if it was built otherwise (from
        Inputs). ``save`` stores it so that loading can build a subclassed model's weights."""
        shape = getattr(self, "_build_input_shape", None)
        return None if shape is None else {"input_shape": shape}

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Build the model from ``get_build_config()``'s dict (what ``load_model`` does before
        reading the weights): run it once, in inference mode, on zeros of that shape (a batch
        of one), which builds its layers as its first call did. Override it (as in Keras) when
        a model builds otherwise."""
        shape = config.get("input_shape")
        if shape is None:
            return

        def zeros(shape: Any) -> Any:  # one array, or a list or dict of them, as called
            if isinstance(shape, dict):
                return {k: zeros(v) for k, v in shape.items()}
            if shape and isinstance(shape[0], (list, tuple, dict)):
                return [zeros(s) for s in shape]
            return np.zeros([1 if d is None else d for d in shape], self.dtype)

        with no_grad():
            self(zeros(shape), training=False)

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as JSON (Keras's; no weights): ``model_from_json`` rebuilds
        it. ``kwargs`` go to ``json.dumps`` (``indent=2``)."""
        import json

        from ..io.serialization import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath: str) -> None:
        """Write the architecture, the weights and the optimizer state to one file, atomically."""
        from ..io.saving import save_model

        save_model(self, filepath)

    def save_weights(self, filepath: str) -> None:
        """Write the weights alone (safetensors), atomically."""
        from ..io.saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath: str) -> None:
        """Read weights written by ``save_weights`` (or ``save``) into this model."""
        from ..io.saving import load_weights

        load_weights(self, filepath)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """The model ``Model.to_json`` describes, with new weights (Keras's); ``custom_objects``
    names your own classes in it."""
    import json

    from ..io.serialization import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects)
