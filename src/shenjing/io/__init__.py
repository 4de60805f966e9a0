"""Saving and loading: one zip of JSON config + safetensors weights, written atomically."""

from .saving import (
    CorruptFileError,
    custom_object_scope,
    get_custom_objects,
    get_registered_object,
    load_model,
    load_weights,
    register_keras_serializable,
    save_model,
    save_weights,
)

__all__ = ["CorruptFileError", "custom_object_scope", "get_custom_objects",
           "get_registered_object", "load_model", "load_weights", "register_keras_serializable",
           "save_model", "save_weights"]
