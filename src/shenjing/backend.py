"""The array backend: which array module (``xp``) runs an op, the default dtype, random streams.

Every op is written once against ``xp``. Today ``xp`` is NumPy; CuPy slots in by returning
``cupy`` from :func:`get_xp` for arrays that live on a GPU (CuPy is imported only when such an
array exists, so ``import shenjing`` stays light).

Random numbers come from one root :class:`numpy.random.SeedSequence`. Each object that needs
randomness (a layer's initializer, a dropout call) asks :func:`new_generator` for its own
``Generator`` spawned from the root, so ``set_random_seed(n)`` makes every stream reproducible
without objects sharing (and disturbing) one global state.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .config import (  # noqa: F401 - Keras's keras.backend names for them
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

DEFAULT_FLOAT = np.dtype(floatx())
FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

_root_seed = np.random.SeedSequence()
_default_generator = np.random.default_rng(_root_seed.spawn(1)[0])


def get_xp(*arrays: Any):
    """The array module for ``arrays``: ``cupy`` if any lives on a GPU, else ``numpy``."""
    cupy = sys.modules.get("cupy")  # None also where an import of it was blocked
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def asnumpy(a: Any) -> np.ndarray:
    """A NumPy copy of ``a`` (a no-op for NumPy arrays)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def on_device_of(a: Any, like: Any) -> Any:
    """``a`` (an array of either device, a list, a number) as an array where ``like`` lives:
    NumPy and CuPy convert neither way implicitly (host targets for a model on a GPU)."""
    xp = get_xp(like)
    return asnumpy(a) if xp is np else xp.asarray(a)


def is_floating(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


def seed(n: int) -> None:
    """Reset the root of every random stream to ``n``."""
    global _root_seed, _default_generator
    _root_seed = np.random.SeedSequence(n)
    _default_generator = np.random.default_rng(_root_seed.spawn(1)[0])


def new_generator() -> np.random.Generator:
    """A fresh Generator spawned from the root seed, for one object's private use."""
    return np.random.default_rng(_root_seed.spawn(1)[0])


def default_generator() -> np.random.Generator:
    """The shared Generator for calls that did not bring their own."""
    return _default_generator


def clear_session(free_memory: bool = True) -> None:
    """Keras's ``clear_session``: forget the layer names given so far, so that new layers are
    named from ``dense`` again, as in a fresh process (a notebook that rebuilds its models
    gets the same names). With ``free_memory`` it also runs the garbage collector, as Keras."""
    from .layers import layer

    layer._name_counts.clear()
    if free_memory:
        import gc

        gc.collect()
