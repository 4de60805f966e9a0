"""``Layer``: Keras's contract (``__init__`` stores config, ``build`` makes weights on the first
call, ``call`` computes) over shenjing's autograd. Layers hold no gradient code.

Parameters and child layers are tracked by assignment (``self.kernel = self.add_weight(...)``,
``self.dense = Dense(8)``), and the ``__init__`` arguments are recorded once by the base class,
so ``get_config`` needs no per-layer list: it lists every constructor argument, defaults
included (Keras 3).
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..autograd import Tensor
from . import constraints, initializers, regularizers
from .call_io import _attach_masks, _mask_of, _shape_of, _to_tensors, _warn_mask_dropped
from .input_layer import is_symbolic_call, output_shapes, symbolic_call, symbolic_in
from .layer_config import LayerConfigMixin, serialize_layer  # noqa: F401 - imported from here
from .parameter import Parameter

_name_counts: dict[str, int] = {}
# .training: the mode of the enclosing __call__, if any; .depth: how many calls enclose this one
_call_context = threading.local()
# Whether any layer has called add_loss yet: until one does, a call clears no lists and
# `losses` walks no layer tree, so models without added losses pay nothing for them.
_losses_added = False


def _unique_name(prefix: str) -> str:
    n = _name_counts.get(prefix, 0)
    _name_counts[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def _snake(name: str) -> str:
    """'MaxPooling2D' -> 'max_pooling2d' (Keras's default layer names)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


@functools.cache
def _call_accepts(cls: type, arg: str) -> bool:
    params = inspect.signature(cls.call).parameters
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


@functools.cache
def _default_training(cls: type) -> bool | None:
    """The default of ``training`` in ``cls.call`` where it is a bool (True for the random
    augmentation layers, as Keras 3's), else None."""
    param = inspect.signature(cls.call).parameters.get("training")
    default = None if param is None else param.default
    return default if isinstance(default, bool) else None


class InputSpec:
    """What a built layer accepts: a number of axes and fixed sizes for some of them."""

    def __init__(self, ndim: int | None = None, min_ndim: int | None = None,
                 axes: dict[int, int] | None = None) -> None:
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, axes or {}

    def check(self, layer: Layer, shape: tuple[int, ...]) -> None:
        def fail(expected: str) -> None:
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expected input "
                             f"{expected}, got input of shape {shape}")

        if self.ndim is not None and len(shape) != self.ndim:
            fail(f"with {self.ndim} axes")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            fail(f"with at least {self.min_ndim} axes")
        for axis, size in self.axes.items():
            if size is not None and shape[axis] is not None and shape[axis] != size:
                fail(f"with size {size} on axis {axis}")


def activity_penalty(regularizer: Callable[[Tensor], Tensor], out: Tensor) -> Tensor:
    """``regularizer(out)`` per sample: divided by the batch size, as Keras 3 (its later
    releases) does for an ``activity_regularizer`` and ``ActivityRegularization``."""
    penalty = regularizer(out)
    return penalty / out.shape[0] if out.ndim and out.shape[0] else penalty


def _marks_built(build: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        self.built = True

    return wrapper


def _may_hold_layers(value: Any) -> bool:
    """Whether a list, tuple or dict attribute is tracked: an empty list or dict (layers may be
    added to it), or one whose first entry is a layer or such a container (at any depth). Only
    the first entry is looked at: a container of other things (a vocabulary of 200,000 words)
    costs nothing."""
    if isinstance(value, dict):
        first = next(iter(value.values()), _EMPTY)
    elif isinstance(value, list):
        first = value[0] if value else _EMPTY
    elif isinstance(value, tuple):
        first = value[0] if value else None  # () stays empty
    else:
        return False
    return first is _EMPTY or isinstance(first, Layer) or _may_hold_layers(first)


_EMPTY = object()


def _layers_in(value: Any) -> Iterator[Layer]:
    """The layers in ``value``: itself, or those in a list, tuple or dict, at any depth."""
    if isinstance(value, Layer):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _layers_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _layers_in(v)


class Layer(LayerConfigMixin):
    """Base class of every layer.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: a unique name (default: the class name in snake_case, numbered).
        dtype: the weights' dtype (default float32).
        input_shape: the shape of one sample (without the batch axis), to build eagerly as the
            first layer of a ``Sequential`` (Keras's convention).
        activity_regularizer: a penalty on the layer's output (``regularizers.L1(1e-5)``, or
            a name): each call adds it to ``losses`` (Keras 3: not divided by the batch size).
    """

    # Keras 3: whether the output gets a mask (compute_mask) when the input has one. A layer
    # that neither sets it nor overrides compute_mask drops the mask with a warning, since
    # passing it on is safe only if the layer keeps the time axis; shenjing's own layers set it
    # (see __init_subclass__) and end a mask where their output no longer has its axes.
    supports_masking: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # As in Keras, a layer is built once its build() has run, called by __call__ or by the
        # user (layer.build(shape) then set_weights(...) must not be undone by the first call).
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _marks_built(cls.__dict__["build"])
        if "supports_masking" not in cls.__dict__ and (
                "compute_mask" in cls.__dict__ or cls.__module__.startswith("shenjing.")):
            cls.supports_masking = True

    def __new__(cls, *args: Any, **kwargs: Any) -> Layer:
        obj = super().__new__(cls)
        set_ = object.__setattr__
        set_(obj, "_init_args", (args, kwargs))
        # here, not in __init__: a subclass may set weights, layers or lists of them before
        # calling super().__init__() (Keras takes that too)
        set_(obj, "_params", {})
        set_(obj, "_layers", {})
        set_(obj, "_trainable", True)
        return obj

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: tuple[int, ...] | None = None, input_dim: int | None = None,
                 activity_regularizer: Any = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s): "
                            f"{', '.join(sorted(kwargs))}")
        set_ = object.__setattr__
        if not trainable:
            self.trainable = False  # what was set before this call is frozen too
        set_(self, "_forward_hooks", [])
        set_(self, "_added_losses", [])
        set_(self, "_first_node", None)  # the first symbolic call's output (functional API)
        self.name = name or _unique_name(_snake(type(self).__name__))
        # Keras's "string" (an Input of strings for a StringLookup) is NumPy's str
        self.dtype = np.dtype("str" if dtype == "string" else dtype or "float32")
        self.built = False
        self.input_spec: InputSpec | None = None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self.batch_input_shape = None if input_shape is None else (None, *tuple(input_shape))
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # -- tracking ----------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            if not any(v is value for v in self._params.values()):
                self._params[name] = value
            if not hasattr(value, "_declared_trainable"):  # unfreezing must not make it trainable
                value._declared_trainable = value.requires_grad
            if not self._trainable:
                value.trainable = False
        elif isinstance(value, Layer) or _may_hold_layers(value):
            # a layer, or a list/tuple/dict that holds layers (nested too) or is empty: kept
            # by reference and walked when the layers are asked for, so layers appended to
            # it later are tracked too (Keras's tracked containers: `self.blocks = []`, then
            # `self.blocks.append(Dense(3))`; `self.heads = {"a": Dense(3)}`)
            self._layers[name] = value
            if not self._trainable:  # a frozen parent freezes the children it is given
                for child in _layers_in(value):
                    child.trainable = False
        else:
            self._layers.pop(name, None)  # replaced by something else
            if value is None:
                self._params.pop(name, None)
        object.__setattr__(self, name, value)

    def _sublayers(self) -> Iterator[Layer]:
        seen: set[int] = set()
        for v in self._layers.values():
            for layer in (v,) if isinstance(v, Layer) else _layers_in(v):
                if id(layer) not in seen:  # one layer held in two places counts once
                    seen.add(id(layer))
                    yield layer

    @property
    def layers(self) -> list[Layer]:
        """Child layers, in the order they were assigned."""
        return list(self._sublayers())

    def _random_generators(self) -> dict[str, np.random.Generator]:
        """This layer's own random streams by attribute name: the NumPy Generators it holds
        (``self._generator`` of Dropout, GaussianNoise, the augmentation layers, the recurrent
        layers' dropout) and those of its ``keras.random.SeedGenerator`` attributes. ``save``
        writes their states into the model file and loading restores them, so that a resumed
        run draws the masks the uninterrupted one draws. A layer that keeps a stream elsewhere
        overrides this. Read only when saving or loading, never per step."""
        from ..random import SeedGenerator

        found = {}
        for name, value in vars(self).items():
            if isinstance(value, SeedGenerator):
                value = value.generator
            if isinstance(value, np.random.Generator):
                found[name] = value
        return found

    def add_weight(self, shape: tuple[int, ...] | None = None, initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None, name: str | None = None, autocast: bool = True,
                   aggregation: str = "none") -> Parameter:
        """Create a weight, track it, and return it (assign it to an attribute to use it).

        Keras 3's signature: ``shape`` () by default, ``initializer`` 'glorot_uniform' for a
        floating weight and 'zeros' otherwise, ``name`` 'variable' (numbered within the layer)
        unless given; a non-floating weight (a counter) is never trainable. ``autocast`` and
        ``aggregation`` are accepted for Keras code and change nothing here (no mixed
        precision, no distribution strategies). A ``constraint`` (``layers.constraints``) is
        applied by the optimizer after each update.
        """
        if isinstance(shape, str):  # Keras 2's (and older shenjing's) order: name first
            raise TypeError(f"Layer '{self.name}': add_weight takes the shape first (Keras 3's "
                            f"order); pass the name by keyword: add_weight(shape, ..., "
                            f"name={shape!r})")
        dtype = np.dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        trainable = trainable and dtype.kind == "f"  # a counter has no gradient
        key, n = name or "variable", 0
        while key in self._params:  # a repeated name must not untrack the earlier weight
            n += 1
            key = f"{name or 'variable'}_{n}"
        init = initializers.get(initializer)
        value = init(() if shape is None else tuple(shape), dtype)
        p = Parameter(value, trainable=trainable and self._trainable, name=name or key,
                      regularizer=regularizers.get(regularizer), dtype=dtype,
                      constraint=constraints.get(constraint))
        p._declared_trainable = trainable
        p.path = f"{self.name}/{p.name}"
        self._params[key] = p
        return p

    @property
    def weights(self) -> list[Parameter]:
        """Every weight of this layer and its children, layer by layer in creation order (Keras
        3's order). Freezing a layer does not move its weights: get_weights, set_weights and
        weight files keep one order."""
        return self._all_weights()

    def _all_weights(self) -> list[Parameter]:
        seen: dict[int, Parameter] = {}
        for p in self._params.values():
            seen.setdefault(id(p), p)
        for layer in self._sublayers():
            for p in layer._all_weights():
                seen.setdefault(id(p), p)
        return list(seen.values())

    @property
    def trainable_weights(self) -> list[Parameter]:
        return [p for p in self._all_weights() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Parameter]:
        return [p for p in self._all_weights() if not p.requires_grad]

    # Keras 3's names for the weights, which a train_step written for Keras reads
    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def zero_grad(self) -> None:
        """Clear the gradients of every weight (PyTorch's ``Module.zero_grad``, which Keras's
        torch-backend ``train_step`` calls before ``loss.backward()``)."""
        for p in self._all_weights():
            p.grad = None

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze the layer and all its children. Weights created as
        non-trainable (batch norm statistics) stay non-trainable."""
        object.__setattr__(self, "_trainable", bool(value))
        for p in self._params.values():
            if getattr(p, "_declared_trainable", True):
                p.requires_grad_(bool(value))
                p.grad = None
        for layer in self._sublayers():
            layer.trainable = value

    def count_params(self) -> int:
        """The number of scalars in all weights."""
        return int(sum(p.size for p in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [p.numpy().copy() for p in self.weights]

    def set_weights(self, values: list[Any]) -> None:
        """Assign values (same order and shapes as ``get_weights``)."""
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(f"Layer '{self.name}' has {len(weights)} weights, "
                             f"got {len(values)} values")
        for p, v in zip(weights, values):
            p.assign(v)  # cast to its dtype, moved to its device

    def add_loss(self, loss: Any) -> None:
        """Add a loss computed in ``call`` (an activity penalty, a VAE's KL term) to the
        model's loss (Keras's ``add_loss``). It counts for the forward pass that made it: a
        layer called from outside any other layer's call starts its layers' lists afresh."""
        global _losses_added
        if symbolic_in(loss):  # Keras 2's model.add_loss(symbolic), which Keras 3 refuses too
            raise ValueError(
                f"add_loss() on '{self.name}' got a symbolic tensor of the functional API: a "
                "loss is added in a layer's call(), on the values of that pass (as Keras 3). "
                "Compute it in a layer that calls self.add_loss(...) and returns its inputs, "
                "and put that layer in the model")
        _losses_added = True
        self._added_losses.append(loss if isinstance(loss, Tensor) else Tensor(loss))

    def _layer_tree(self) -> Iterator[Layer]:
        """This layer and every layer below it, each once."""
        seen: set[int] = set()
        stack: list[Layer] = [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer
                stack.extend(reversed(list(layer._sublayers())))

    def _clear_added_losses(self) -> None:
        for layer in self._layer_tree():
            layer._added_losses.clear()

    @property
    def losses(self) -> list[Tensor]:
        """The losses that this layer and the layers in it added in their last forward pass
        (``add_loss``), then the regularization penalties of their weights; all
        differentiable, all added to the loss in ``fit``."""
        added = [loss for layer in self._layer_tree()
                 for loss in layer._added_losses] if _losses_added else []
        return added + [p.regularizer(p) for p in self._all_weights()
                        if p.regularizer is not None and p.requires_grad]

    @property
    def input(self) -> Any:
        """The symbolic input(s) of this layer's first call in the functional API (Keras)."""
        return self._node("input").inputs

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's first call in the functional API (Keras):
        ``Model(inputs=model.input, outputs=[layer.output for layer in model.layers])``
        extracts features."""
        node = self._node("output")
        return list(node.children) if node.children is not None else node

    def _node(self, what: str) -> Any:
        if self._first_node is None:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic "
                                 f"input (keras.Input), so it has no {what}")
        return self._first_node

    # -- calling -----------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the weights, knowing the input shape (batch axis first, as None)."""

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the output (by default, the input's mask passes through)."""
        return mask

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None,
                 mask: Any = None, **kwargs: Any) -> Any:
        if is_symbolic_call(inputs, args, kwargs) or mask is not None and symbolic_in(mask):
            if training is not None:  # kept by the graph: this call always runs in that mode
                kwargs["training"] = bool(training)
            if mask is not None:  # a symbolic mask (Keras's layer(x, mask=m)) or an array
                kwargs["mask"] = mask
            return symbolic_call(self, inputs, *args, **kwargs)
        inputs = _to_tensors(inputs, self.dtype)
        self._maybe_build(inputs)
        if mask is None:
            mask = _mask_of(inputs)
        # As Keras 3: None inherits the enclosing call's mode (a layer calling its children
        # directly); with none, the default of this layer's call: inference for most layers,
        # training for the augmentation layers (RandomFlip(...)(images) flips, as in a
        # tf.data map), and None for a model, so that its layers take their own defaults.
        enclosing = getattr(_call_context, "training", None)
        cls = type(self)
        if training is not None:
            training = bool(training)
        else:
            training = enclosing if enclosing is not None else _default_training(cls)
        if _call_accepts(cls, "training"):
            kwargs["training"] = training
        if mask is not None and _call_accepts(cls, "mask"):
            kwargs["mask"] = mask
        depth = getattr(_call_context, "depth", 0)
        if depth == 0 and _losses_added:  # an outermost call starts a pass (Keras)
            self._clear_added_losses()
        _call_context.training, _call_context.depth = training, depth + 1
        try:
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            _call_context.training, _call_context.depth = enclosing, depth
        if mask is not None and not self.supports_masking:
            _warn_mask_dropped(self)
            out_mask = None
        else:
            out_mask = self.compute_mask(inputs, mask)
        if out_mask is not None:
            _attach_masks(outputs, out_mask)
        if self.activity_regularizer is not None:
            for out in outputs if isinstance(outputs, (list, tuple)) else (outputs,):
                if isinstance(out, Tensor):
                    self.add_loss(activity_penalty(self.activity_regularizer, out))
        for hook in self._forward_hooks:
            hook(self, inputs, outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for inputs of ``input_shape`` (Keras 3): the batch axis first,
        None for sizes unknown; a list of shapes for several inputs or outputs. Found by
        running the layer on zeros, as the functional API does (nothing is recorded); a
        layer of yours may say it instead.

        >>> layers.Conv2D(4, 3, strides=2).compute_output_shape((None, 9, 9, 3))
        (None, 4, 4, 4)
        """
        return output_shapes(self, input_shape)

    def _maybe_build(self, inputs: Any) -> None:
        if not self.built:
            self._check_input_spec(inputs)  # a spec set in __init__ (Dense: at least 2 axes)
            self.build(_shape_of(inputs))
            self.built = True
        self._check_input_spec(inputs)

    def _check_input_spec(self, inputs: Any) -> None:
        # The actual shape (batch size included), so the error shows what the caller passed.
        if self.input_spec is not None and isinstance(inputs, Tensor):
            self.input_spec.check(self, tuple(inputs.shape))

    def register_forward_hook(self, hook: Callable[[Layer, Any, Any], None]) -> Callable[[], None]:
        """Call ``hook(layer, inputs, outputs)`` after every forward pass (for diagnostics).
        Returns a function that removes the hook."""
        self._forward_hooks.append(hook)
        return lambda: self._forward_hooks.remove(hook)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
