"""Models: ``Model`` (functional or subclassed), ``Sequential``, ``load_model``, ``save_model``
and ``model_from_json``; ``clone_model``, ``load_model`` and ``save_model`` (with the saving
code) load on first use."""

from .model import Model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]


def __getattr__(name: str) -> object:
    if name == "clone_model":
        from .cloning import clone_model

        return clone_model
    if name in ("load_model", "save_model"):  # keras.models.save_model(model, path)
        from ..io import saving

        return getattr(saving, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
