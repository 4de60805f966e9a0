"""Keras's ``serialize_keras_object`` / ``deserialize_keras_object``: any object shenjing saves
(a layer, a model, an optimizer, a loss, a metric, an initializer, a regularizer, a function)
as a JSON-ready dict, and back. Like loading a file, deserializing rebuilds only shenjing's own
classes and those the caller's code names (``custom_objects``, ``custom_object_scope``,
``register_keras_serializable``): it never imports or runs anything a config names.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import numpy as np

from .registry import _registry, custom_object_scope, deserialize_layer, get_registered_object


def serialize_keras_object(obj: Any) -> Any:
    """``obj`` as JSON-ready data (Keras's): None, bools, numbers and strings as they are, lists
    and dicts item by item, an array as ``{'class_name': '__numpy__', ...}``, a function as
    ``{'class_name': 'function', 'config': its name}``, and an object with ``get_config`` as
    ``{'module', 'class_name', 'config'}`` (a model or layer also with its ``build_config``).

    >>> serialize_keras_object(keras.optimizers.Adam(0.01))["class_name"]
    'Adam'
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, (np.ndarray, np.generic)):
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    if inspect.isfunction(obj):
        return {"class_name": "function", "config": obj.__name__}
    if not callable(getattr(obj, "get_config", None)):
        raise TypeError(f"cannot serialize {obj!r}: give its class a get_config() (and, for "
                        "loading, a from_config()), as Keras's serializable objects have")
    config = {"module": type(obj).__module__, "class_name": type(obj).__name__,
              "config": obj.get_config()}
    build_config = getattr(obj, "get_build_config", lambda: None)()
    if build_config is not None:
        config["build_config"] = build_config
    return config


def deserialize_keras_object(config: Any, custom_objects: dict[str, Any] | None = None,
                             safe_mode: bool = True) -> Any:
    """The object ``config`` (from ``serialize_keras_object``) describes (Keras's).

    Args:
        config: what ``serialize_keras_object`` returned (JSON-loaded).
        custom_objects: your own classes and functions by the name they were saved under.
        safe_mode: accepted for Keras code; shenjing never runs code from a config (Keras's
            safe mode refuses Lambda bytecode, which shenjing never writes).

    A model or layer saved with a ``build_config`` is built from it (``build_from_config``),
    so that a subclassed model has its weights.
    """
    if config is None or isinstance(config, (bool, int, float, str)):
        return config
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"cannot deserialize {config!r}: expected what serialize_keras_object "
                        "returns (a dict with class_name and config, a list, or a plain value)")
    if "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    name, inner = config["class_name"], config.get("config")
    with custom_object_scope(custom_objects):
        if name == "__numpy__":
            return np.asarray(inner["value"], dtype=inner["dtype"])
        if name == "function":
            return _function(inner)
        if name in _registry():
            return built_layer(config)
        cls = get_registered_object(name)
        if cls is not None:
            return cls.from_config(inner or {})
        return _from_module(name, inner or {}, str(config.get("module", "")))


def built_layer(config: dict[str, Any]) -> Any:
    """The layer or model of a ``{'class_name', 'config'[, 'build_config']}`` dict, built from
    its build config (Keras: a subclassed model gets its weights before they are read)."""
    layer = deserialize_layer(config)
    build_config = config.get("build_config")
    if build_config and not layer.built:
        layer.build_from_config(build_config)
    return layer


def _function(name: str) -> Any:
    """A function saved by name: the caller's (custom_objects, registered), else an
    activation, loss or metric of shenjing's."""
    from .. import activations, losses, metrics

    fn = get_registered_object(name)
    if fn is not None:
        return fn
    for module in (activations, losses, metrics):
        fn = getattr(module, name, None)
        if inspect.isfunction(fn):
            return fn
    raise ValueError(f"unknown function {name!r} in the config: pass custom_objects="
                     f"{{{name!r}: {name}}} or register it with @register_keras_serializable()")


def _from_module(name: str, config: dict[str, Any], module: str) -> Any:
    """A shenjing optimizer, loss, metric, initializer or regularizer by class name: through
    the ``get`` of the module the config names, else of the first module that knows it."""
    from .. import initializers, losses, metrics, optimizers, regularizers

    kinds = (optimizers, losses, metrics, initializers, regularizers)
    spec = {"class_name": name, "config": config}
    named = [kind for kind in kinds if kind.__name__.split(".")[-1] in module.split(".")]
    if named:
        return named[0].get(spec)
    for kind in kinds:
        with contextlib.suppress(ValueError, TypeError, KeyError):  # regularizers: KeyError
            return kind.get(spec)
    raise ValueError(f"unknown class {name!r} in the config; shenjing rebuilds its own classes "
                     f"and those your code names: pass custom_objects={{{name!r}: {name}}} or "
                     "decorate the class with @register_keras_serializable()")
