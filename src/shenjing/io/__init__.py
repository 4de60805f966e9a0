"""Saving and loading: one zip of JSON config + safetensors weights, written atomically."""

from .saving import CorruptFileError, load_model, load_weights, save_model, save_weights

__all__ = ["CorruptFileError", "load_model", "load_weights", "save_model", "save_weights"]
