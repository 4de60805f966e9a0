"""Optimizers: the update rules that turn gradients into new weights.

Every optimizer works both ways::

    opt = shenjing.optimizers.Adam(learning_rate=1e-3, params=model.trainable_weights)
    opt.zero_grad(); loss.backward(); opt.step()          # PyTorch style

    opt = shenjing.optimizers.get("adam")                  # Keras style (compile)
    opt.apply_gradients(zip(grads, model.trainable_weights))

Arguments, defaults and formulas are Keras 3's; ``docs/optimizers.md`` lists where PyTorch's
differ. Learning-rate schedules live in :mod:`shenjing.optimizers.schedules`.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lion import Lion
from .nadam import Nadam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

# The rarer ones load on first use (``import shenjing`` stays light): class -> its module.
_LAZY = {"Lamb": "lamb", "Adafactor": "adafactor", "Ftrl": "ftrl", "Muon": "muon",
         "LossScaleOptimizer": "loss_scale"}
_BY_NAME: dict[str, Any] = {  # lower-case name -> class, or the name of a lazy one
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
    "adamax": Adamax, "nadam": Nadam, "adadelta": Adadelta, "lion": Lion, "lamb": "Lamb",
    "adafactor": "Adafactor", "ftrl": "Ftrl", "muon": "Muon",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        cls = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _named(key: str) -> Any:
    """The class for a lower-case name (None if unknown), loading a lazy one."""
    cls = _BY_NAME.get(key)
    return __getattr__(cls) if isinstance(cls, str) else cls


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``'sgd'``, ``'adam'``, ``'adamw'``, ``'rmsprop'``,
    ``'adagrad'``, ``'adadelta'``, ``'adamax'``, ``'nadam'``, ``'lion'``, ``'lamb'``,
    ``'adafactor'``, ``'ftrl'``, ``'muon'``; any case, with Keras's
    defaults), a config dict (``{"class_name": "Adam", "config": {...}}``; also a
    ``LossScaleOptimizer``'s, which wraps another), or an Optimizer instance (returned as is).

    >>> get("Adam").learning_rate
    0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _named(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier!r}; known: {sorted(_BY_NAME)}")
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        name = str(identifier["class_name"]).lower()
        cls = __getattr__("LossScaleOptimizer") if name == "lossscaleoptimizer" else _named(name)
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier['class_name']!r}; "
                             f"known: {sorted(_BY_NAME)}")
        return cls.from_config(identifier.get("config", {}))
    raise ValueError(f"cannot interpret {identifier!r} as an optimizer: give a name "
                     f"({sorted(_BY_NAME)}), a config dict or an Optimizer instance")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}``, which :func:`get` turns back into an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Muon",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "get",
    "schedules",
    "serialize",
]
