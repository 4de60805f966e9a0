"""Which classes loading may rebuild: a closed registry of shenjing's own classes and of the
classes the caller's code names (``custom_objects``, ``custom_object_scope``,
``register_keras_serializable``). Nothing named in a file is ever imported or run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_REGISTERED: dict[str, Any] = {}  # register_keras_serializable: the user's own classes
_scope = threading.local()  # .objects: the custom objects of the enclosing custom_object_scope


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Any:
    """Decorator (Keras's): let ``load_model`` and ``from_config`` rebuild this class (a
    custom layer or model) by the name its config is saved under, the class's own, without
    custom_objects. ``package`` and ``name`` key it in ``get_custom_objects()`` as Keras's."""
    def register(cls: Any) -> Any:
        key = name or cls.__name__
        _REGISTERED[key] = _REGISTERED[f"{package}>{key}"] = _REGISTERED[cls.__name__] = cls
        return cls

    return register


def get_custom_objects() -> dict[str, Any]:
    """The classes registered by ``register_keras_serializable`` (a live dict, as Keras's)."""
    return _REGISTERED


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The object (class or function) known by ``name`` (Keras's): in ``custom_objects``, the
    enclosing ``custom_object_scope``, then the registered ones; None if none is."""
    for table in (custom_objects or {}, getattr(_scope, "objects", {}), _REGISTERED):
        if name in table:
            return table[name]
    return None


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Within it, loading and ``from_config`` also know these classes by name (Keras's
    ``custom_object_scope``); scopes nest."""
    outer = getattr(_scope, "objects", {})
    _scope.objects = {**outer, **(custom_objects or {})}
    try:
        yield
    finally:
        _scope.objects = outer


def _registry() -> dict[str, type]:
    from .. import layers, models

    classes = {name: getattr(layers, name) for name in layers.__all__}
    classes.update({"Model": models.Model, "Sequential": models.Sequential})
    # the user's classes, named by their code (never by the file), may stand for built-in names
    classes.update({**_REGISTERED, **getattr(_scope, "objects", {})})
    # concrete layers only: not the Layer base, nor the helpers layers exports (Parameter...)
    return {k: v for k, v in classes.items()
            if isinstance(v, type) and issubclass(v, layers.Layer) and v is not layers.Layer}


def deserialize_layer(config: dict[str, Any]) -> Any:
    """Rebuild a layer from ``{'class_name': ..., 'config': ...}``, known classes only."""
    registry = _registry()
    name = config.get("class_name")
    if name not in registry:
        raise ValueError(f"unknown layer class {name!r} in the saved config; shenjing loads its "
                         f"own layer classes and those your code names: pass "
                         f"custom_objects={{{name!r}: {name}}} to load_model or from_config, "
                         "decorate the class with @register_keras_serializable(), or build the "
                         "model in code and read its weights with load_weights")
    return registry[name].from_config(dict(config.get("config", {})))
