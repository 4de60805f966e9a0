"""Models: ``Model`` (functional or subclassed), ``Sequential``, and ``load_model``."""

from ..io.saving import load_model
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model"]
