"""Models: ``Model`` (functional or subclassed), ``Sequential``, ``load_model`` and
``model_from_json``."""

from ..io.saving import load_model
from .model import Model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]
