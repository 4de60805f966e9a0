"""Weight penalties: ``L1``, ``L2``, ``L1L2``."""

from .layers.regularizers import L1, L1L2, L2, get, serialize

__all__ = ["L1", "L1L2", "L2", "get", "serialize"]
