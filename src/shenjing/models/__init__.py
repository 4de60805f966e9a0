"""Models: ``Model`` (functional or subclassed), ``Sequential``, ``load_model`` and
``model_from_json``; ``clone_model`` and ``load_model`` (with the saving code) load on first
use."""

from .model import Model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]


def __getattr__(name: str) -> object:
    if name == "clone_model":
        from .cloning import clone_model

        return clone_model
    if name == "load_model":
        from ..io.saving import load_model

        return load_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
