"""Helpers for ``get_config``: which arguments a class's constructor takes, and whether a value
is plain JSON data (what a saved config may hold)."""

from __future__ import annotations

import functools
import inspect
from typing import Any


@functools.cache
def constructor_parameters(cls: type) -> tuple[inspect.Parameter, ...]:
    """The named arguments that constructing ``cls`` accepts: those of its ``__init__``, then,
    while an ``__init__`` passes ``**kwargs`` on, those of the next ``__init__`` up the MRO
    (the first occurrence of a name wins). ``self``, ``*args`` and ``**kwargs`` are left out.

    This assumes that ``**kwargs`` reach ``super().__init__``; a class that sends them
    elsewhere (a recurrent layer's cell options) adds those to its config itself.
    """
    params: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        passes_on = False
        for i, p in enumerate(inspect.signature(init).parameters.values()):
            if i == 0 or p.kind is p.VAR_POSITIONAL:  # self, *args
                continue
            if p.kind is p.VAR_KEYWORD:
                passes_on = True
            else:
                params.setdefault(p.name, p)
        if not passes_on:
            break
    return tuple(params.values())


def is_json_data(value: Any) -> bool:
    """Whether ``value`` is None, a bool, int, float or str, or lists and str-keyed dicts of
    those: data that ``json.dumps`` writes and ``json.loads`` gives back equal."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(is_json_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_data(v) for k, v in value.items())
    return False


def function_name(fn: Any, what: str) -> str:
    """The name under which a config saves the function ``fn``: its own, as Keras 3 saves a
    function. Saving never pickles code, so loading finds the function by this name among the
    caller's (``custom_objects``, ``register_keras_serializable``); a lambda or a callable
    without a name has none to find, and saving it is an error that says what to do."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise ValueError(f"{what} {fn!r} cannot be serialized: a config saves a function by its "
                         "name and loading never runs code from the file, so define it with "
                         "def, then pass custom_objects={'its_name': its_name} to load_model or "
                         "from_config, or decorate it with @register_keras_serializable()")
    return name


def registered_function(name: str, what: str) -> Any:
    """The function a config saved as ``name`` (see :func:`function_name`): the caller's, from
    ``custom_objects``, the enclosing ``custom_object_scope`` or ``register_keras_serializable``."""
    from .io.saving import get_registered_object

    fn = get_registered_object(name)
    if not callable(fn):
        raise ValueError(f"unknown {what} {name!r}: a function saved by name loads only when your "
                         f"code names it: pass custom_objects={{{name!r}: {name}}} to load_model "
                         "or from_config, or decorate it with @register_keras_serializable()")
    return fn
