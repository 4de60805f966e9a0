"""The random streams a file saves: fit's shuffling stream and each layer's Generator
(Dropout's masks...), as the JSON of their ``bit_generator.state``, and putting them back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .formats import _RESAVE, CorruptFileError


def _layers(model: Any) -> list[tuple[str, Any]]:
    """(key prefix, layer) for the model and every layer in it, each once, walked as the
    weights are: a stream's key is the prefix, then the attribute ('dropout/_generator')."""
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def walk(layer: Any, prefix: str) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.append((f"{prefix}{layer.name}/", layer))
        for child in layer._sublayers():
            walk(child, f"{prefix}{layer.name}/" if layer is not model else "")

    walk(model, "")
    return found


def _random_streams(model: Any) -> list[tuple[str, Any, str, np.random.Generator]]:
    """(key, layer, attribute, Generator) for each random stream of the model's layers
    (``Layer._random_generators``). A Generator met twice (shared) is listed once."""
    found: list[tuple[str, Any, str, np.random.Generator]] = []
    seen: set[int] = set()
    for prefix, layer in _layers(model):
        for attr, g in layer._random_generators().items():
            if id(g) not in seen:
                seen.add(id(g))
                found.append((f"{prefix}{attr}", layer, attr, g))
    return found


def _make_lazy_streams(model: Any, keys: set[str]) -> None:
    """Make the streams a layer draws only when first needed (a recurrent cell's dropout
    masks: ``_lazy_streams``) that the file holds but this fresh model has not made yet."""
    from ..backend import new_generator

    for prefix, layer in _layers(model):
        for attr in getattr(layer, "_lazy_streams", ()):
            if f"{prefix}{attr}" in keys and getattr(layer, attr, None) is None:
                object.__setattr__(layer, attr, new_generator())


def _restore_streams(model: Any, saved: Any, path: str) -> None:
    """Put the saved states into the model's random streams: by key when the keys are the
    model's (a model load_model rebuilt), else in order (a model the same code built, whose
    layers got other numbers in their names)."""
    if not isinstance(saved, list) or not all(
            isinstance(s, dict) and isinstance(s.get("layer"), str) for s in saved):
        raise CorruptFileError(f"{path} is damaged: its random streams are not a list of "
                               f"states; {_RESAVE}")
    streams = _random_streams(model)
    if len(saved) > len(streams):
        _make_lazy_streams(model, {s["layer"] for s in saved} - {k for k, *_ in streams})
        streams = _random_streams(model)
    if len(saved) != len(streams):
        raise ValueError(f"{path} holds {len(saved)} random streams (of "
                         f"{', '.join(s['layer'] for s in saved) or 'no layer'}) but the model "
                         f"has {len(streams)} (of "
                         f"{', '.join(k for k, *_ in streams) or 'no layer'}): it was saved from "
                         "another architecture; build the model as the one that saved it")
    by_key = {s["layer"]: s for s in saved}
    keys = [k for k, *_ in streams]
    if set(keys) == set(by_key) and len(by_key) == len(saved):
        saved = [by_key[k] for k in keys]
    for (key, layer, attr, g), s in zip(streams, saved):
        restored = _generator(s.get("state"), path, f"the random stream of {key}", g)
        if restored is not g:  # another kind of bit generator: the layer gets the new one
            holder = getattr(layer, attr)
            if isinstance(holder, np.random.Generator):
                object.__setattr__(layer, attr, restored)
            else:  # a keras.random.SeedGenerator
                holder.generator = restored



# The bit generators a saved stream may name: a closed table, so a file names a class but
# never makes one run that is not NumPy's own.
_BIT_GENERATORS = {name: getattr(np.random, name)
                   for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")}


def _json_state(state: Any) -> Any:
    """``bit_generator.state`` as JSON: dicts and ints as they are (PCG64's 128-bit ints
    too), arrays (MT19937's key, Philox's counter) as ``{"__ndarray__": [...], "dtype"}``."""
    if isinstance(state, dict):
        return {k: _json_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.generic):
        return state.item()
    return state


def _state_from_json(state: Any) -> Any:
    if isinstance(state, dict):
        if set(state) == {"__ndarray__", "dtype"}:
            dtype = np.dtype(state["dtype"])
            if dtype.kind not in "ui":
                raise ValueError(dtype)
            return np.array(state["__ndarray__"], dtype=dtype)
        return {k: _state_from_json(v) for k, v in state.items()}
    return state


def _generator(state: Any, path: str, what: str = "its shuffling state",
               into: np.random.Generator | None = None) -> np.random.Generator:
    """A Generator in the saved ``bit_generator.state`` (numbers only, nothing to run): ``into``
    itself, set in place, when its bit generator is of the saved kind (so that a loader that
    holds it sees the restored stream), else a new one."""
    try:
        kind = _BIT_GENERATORS[state["bit_generator"]]
        state = _state_from_json(state)
        if into is not None and type(into.bit_generator) is kind:
            into.bit_generator.state = state
            return into
        rng = np.random.Generator(kind())
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        raise CorruptFileError(f"{path} is damaged: {what} is not a state of one of NumPy's "
                               f"bit generators ({', '.join(_BIT_GENERATORS)}); "
                               f"{_RESAVE}") from None
    return rng
