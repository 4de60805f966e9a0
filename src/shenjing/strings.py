"""TensorFlow's ``tf.strings`` operations that Keras text pipelines use (``import shenjing as
tf``): a ``TextVectorization`` standardize function written as

    def custom_standardization(input_string):
        lowercased = tf.strings.lower(input_string)
        return tf.strings.regex_replace(lowercased, "<br />", " ")

runs on what shenjing gives it (one Python ``str``), on arrays of strings and on Tensors holding
them; each result has the container it was given. Patterns are Python's ``re`` (TensorFlow's are
RE2: the common syntax, ``\\1`` groups included, is the same). Strings are ``str``, not bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import Tensor


def _each(value: Any, fn: Callable[[str], Any], dtype: Any = None) -> Any:
    """``fn`` on each string of ``value`` (a str, a sequence or array of them, or a Tensor)."""
    if isinstance(value, str):
        return fn(value)
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    out = np.array([fn(str(s)) for s in array.reshape(-1)], dtype=dtype).reshape(array.shape)
    return Tensor._wrap(out) if isinstance(value, Tensor) else out


def lower(input: Any, encoding: str = "", name: str | None = None) -> Any:  # noqa: A002
    return _each(input, str.lower)


def upper(input: Any, encoding: str = "", name: str | None = None) -> Any:  # noqa: A002
    return _each(input, str.upper)


def strip(input: Any, name: str | None = None) -> Any:  # noqa: A002
    """Leading and trailing whitespace removed."""
    return _each(input, str.strip)


def regex_replace(input: Any, pattern: str, rewrite: str, replace_global: bool = True,  # noqa: A002
                  name: str | None = None) -> Any:
    """Each match of ``pattern`` replaced by ``rewrite`` (all of them, or the first only)."""
    compiled = re.compile(pattern)
    count = 0 if replace_global else 1
    return _each(input, lambda s: compiled.sub(rewrite, s, count=count))


def length(input: Any, unit: str = "BYTE", name: str | None = None) -> Any:  # noqa: A002
    """The length of each string, in UTF-8 bytes (TensorFlow's default) or in characters
    (``unit='UTF8_CHAR'``), as int32."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"strings.length: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")

    def size(s: str) -> int:
        return len(s.encode()) if unit == "BYTE" else len(s)

    return _each(input, size, np.int32)


def join(inputs: Any, separator: str = "", name: str | None = None) -> Any:
    """The strings of ``inputs`` (a list of strings or of same-shaped string arrays) joined
    element by element."""
    arrays = [np.asarray(getattr(x, "data", x)) for x in inputs]
    if all(a.ndim == 0 for a in arrays):
        return separator.join(str(a) for a in arrays)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    columns = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    joined = np.array([separator.join(map(str, row)) for row in zip(*columns)]).reshape(shape)
    return Tensor._wrap(joined) if any(isinstance(x, Tensor) for x in inputs) else joined


__all__ = ["join", "length", "lower", "regex_replace", "strip", "upper"]
