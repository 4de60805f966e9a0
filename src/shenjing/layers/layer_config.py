"""``Layer``'s config: ``get_config`` (every constructor argument, defaults included, as Keras
3), ``from_config``, and ``serialize_layer``: :class:`LayerConfigMixin`, which ``Layer`` inherits.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import activations
from .._config import constructor_parameters, is_json_data
from ..autograd import Tensor
from . import constraints, initializers, regularizers

if TYPE_CHECKING:
    from .layer import Layer


class LayerConfigMixin:
    """``Layer``'s ``get_config`` and ``from_config``."""

    # -- config ------------------------------------------------------------------------------
    # Arguments the config holds only when they were given: Keras keeps no input shape in a
    # layer's config, but a Sequential's first layer given one needs it to build when loaded;
    # and the base class's activity_regularizer, which Keras lists for few layers.
    _config_if_given: tuple[str, ...] = ("input_shape", "input_dim", "activity_regularizer")

    def get_config(self) -> dict[str, Any]:
        """Every constructor argument with the value in use, defaults included (Keras 3), as
        JSON data, then ``name``, ``trainable`` and ``dtype``.

        The arguments are those of ``__init__`` and of the base classes it passes ``**kwargs``
        to. Each value is the instance's attribute of the same name where there is one (the
        value the layer uses: ``activation='linear'`` for None, ``kernel_size=[3, 3]`` for 3),
        else the argument as given, else its default. A layer whose ``__init__`` sends options
        elsewhere (a recurrent layer's to its cell) adds them in its own ``get_config``.

        A class of yours that overrides ``get_config`` lists its own arguments, as Keras 3's
        guides do (``dict(units=self.units, **super().get_config())``): the arguments of the
        classes from it down are then left out here, so they are not given twice.
        """
        cls = type(self)
        owner = next((k for k in cls.__mro__ if "get_config" in k.__dict__
                      and not k.__module__.startswith("shenjing.")), None)
        args, kwargs = self._init_args
        signature = inspect.signature(type(self).__init__)
        given = signature.bind(self, *args, **kwargs).arguments
        given.pop(next(iter(signature.parameters)))  # the instance, whatever it is called
        for key, param in signature.parameters.items():
            if param.kind is param.VAR_KEYWORD:
                given.update(given.pop(key, {}))
            elif param.kind is param.VAR_POSITIONAL and given.pop(key, ()):
                raise TypeError(f"{type(self).__name__}: *args cannot be serialized")
        config: dict[str, Any] = {}
        above = cls if owner is None else cls.__mro__[cls.__mro__.index(owner) + 1]
        for param in constructor_parameters(above):
            key = param.name
            if key in ("name", "trainable", "dtype") or (
                    key in self._config_if_given and key not in given):
                continue
            value = self._config_value(key, given.get(key, param.default))
            if value is not inspect.Parameter.empty:
                config[key] = value
        if owner is None:  # given arguments no signature names (**kwargs read by the class)
            config.update({k: _serialize(v) for k, v in given.items()
                           if k not in config and k not in ("name", "trainable", "dtype")})
        base = dict(name=self.name, trainable=self.trainable, dtype=self.dtype.name)
        init = inspect.signature(type(self).__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in init.values()):
            # Keras 3: an __init__ without **kwargs gets only the base keys it takes, so that
            # from_config can call it (a custom layer's __init__(self, name=None))
            base = {k: v for k, v in base.items() if k in init}
        config.update(base)
        return config

    def _config_value(self, key: str, argument: Any) -> Any:
        """The attribute ``key`` set in ``__init__``, serialized, where it is one (not a weight)
        and serializes to JSON data; else ``argument`` serialized (whose error, if it cannot
        be, is the one raised: a custom activation's)."""
        value = self.__dict__.get(key, inspect.Parameter.empty)
        if value is not inspect.Parameter.empty and not isinstance(value, Tensor):
            try:
                value = _serialize(value)
            except ValueError:
                value = inspect.Parameter.empty
            if is_json_data(value):
                return value
        return argument if argument is inspect.Parameter.empty else _serialize(argument)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """The layer ``config`` describes; arguments it leaves out take their defaults, so a
        config saved before get_config listed them all loads as it did."""
        return cls(**config)


def serialize_layer(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _serialize(value: Any) -> Any:
    from .layer import Layer  # layer.py imports this module: Layer inherits the mixin

    if isinstance(value, Layer):
        return serialize_layer(value)
    # (their configs may hold NumPy values: Constant(np.log([0.1])), MaxNorm(axis=np.int64(0)))
    if isinstance(value, initializers.Initializer):
        return _serialize(initializers.serialize(value))
    if isinstance(value, regularizers.Regularizer):
        return _serialize(regularizers.serialize(value))
    if isinstance(value, constraints.Constraint):
        return _serialize(constraints.serialize(value))
    if isinstance(value, (list, tuple)):
        return [_serialize(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialize(v) for k, v in value.items()}
    if isinstance(value, np.dtype) or isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)  # an int subclass too: x.size, which torch's code calls, is one
    if callable(value):
        return activations.serialize(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
