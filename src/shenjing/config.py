"""``keras.config`` (and the same functions in ``keras.backend``): the settings Keras code reads.

shenjing's are fixed: float32 by default (float64 is asked for per tensor or layer, with
``dtype=``), an epsilon of 1e-7 (what losses, metrics and constraints add to stay finite),
channels last, and its own NumPy backend. Reading them works as in Keras; setting one to what it
already is works too, and anything else is a clear error rather than a setting that is
silently not honoured.
"""

from __future__ import annotations

from typing import Any

_FIXED = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx() -> str:
    """The default float type: 'float32'."""
    return _FIXED["floatx"]


def epsilon() -> float:
    """The fuzz factor of losses, metrics and constraints: 1e-7."""
    return _FIXED["epsilon"]


def image_data_format() -> str:
    """'channels_last': images are (batch, height, width, channels)."""
    return _FIXED["image_data_format"]


def backend() -> str:
    """'numpy': shenjing computes with NumPy (CuPy on a GPU)."""
    return "numpy"


def _refuse_other(name: str, value: Any, hint: str) -> None:
    if value != _FIXED[name]:
        raise ValueError(f"shenjing's {name} is fixed at {_FIXED[name]!r}, not {value!r}: {hint}")


def set_floatx(value: str) -> None:
    _refuse_other("floatx", value, "give dtype='float64' to the tensors or layers that need it")


def set_epsilon(value: float) -> None:
    _refuse_other("epsilon", value, "losses and metrics clip at 1e-7")


def set_image_data_format(value: str) -> None:
    _refuse_other("image_data_format", value, "convolution and pooling layers take "
                  "data_format='channels_first' one by one")


def enable_unsafe_deserialization() -> None:
    """Accepted for Keras code: shenjing never runs code from a file (no pickle, no lambdas
    in saved models), so there is nothing unsafe to enable."""
