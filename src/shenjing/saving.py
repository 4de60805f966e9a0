"""``keras.saving``: saving and loading whole models, and naming your own classes for loading
(``custom_object_scope``, ``register_keras_serializable``). The code is in ``shenjing.io``."""

from .io.saving import (
    custom_object_scope,
    get_custom_objects,
    load_model,
    register_keras_serializable,
    save_model,
)

__all__ = ["custom_object_scope", "get_custom_objects", "load_model",
           "register_keras_serializable", "save_model"]
