"""``keras.saving``: saving and loading whole models, naming your own classes for loading
(``custom_object_scope``, ``register_keras_serializable``), and turning objects into configs and
back (``serialize_keras_object``, ``deserialize_keras_object``). The code is in
``shenjing.io``."""

from .io.saving import (
    custom_object_scope,
    get_custom_objects,
    get_registered_object,
    load_model,
    register_keras_serializable,
    save_model,
)
from .io.serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["custom_object_scope", "deserialize_keras_object", "get_custom_objects",
           "get_registered_object", "load_model", "register_keras_serializable", "save_model",
           "serialize_keras_object"]
