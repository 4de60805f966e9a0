"""TensorFlow's ``tf.TensorSpec``: the shape and dtype a component of a dataset element must
have, as ``Dataset.from_generator``'s ``output_signature`` gives them::

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=(tf.TensorSpec(shape=(None,), dtype=tf.int32),
                               tf.TensorSpec(shape=(), dtype=tf.float32)))
"""

from __future__ import annotations

from typing import Any

import numpy as np


class TensorSpec:
    """The shape (``None`` for unknown, or ``None`` in an axis for any size) and dtype of a
    tensor; ``conform`` turns a value into an array that matches them, or says why not."""

    def __init__(self, shape: Any = None, dtype: Any = np.float32, name: str | None = None
                 ) -> None:
        if shape is not None:
            dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
            shape = tuple(None if d is None or d == -1 else int(d) for d in dims)
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.name = name

    def is_compatible_with(self, value: Any) -> bool:
        """Whether ``value`` (an array, Tensor or spec) has this spec's rank and sizes (an
        unknown axis matches any size) and dtype."""
        shape = getattr(value, "shape", np.shape(value))
        dtype = getattr(value, "dtype", None)
        return (self._shape_matches(shape) and
                (dtype is None or np.dtype(dtype) == self.dtype))

    def _shape_matches(self, shape: Any) -> bool:
        if self.shape is None or shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            want is None or got is None or want == got for want, got in zip(self.shape, shape))

    def conform(self, value: Any, where: str) -> np.ndarray:
        """``value`` as an array of this dtype; a value that cannot be converted (or only by
        dropping a fraction), or whose shape does not match, raises an error naming ``where``
        it came from."""
        value = getattr(value, "data", value)  # a Tensor's array
        try:
            array = np.asarray(value, dtype=self.dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where} yielded {value!r}, which is not convertible to "
                            f"{self.dtype} as its TensorSpec asks ({err})") from None
        if array.dtype.kind in "iub" and np.asarray(value).dtype.kind in "fc" and not (
                np.array_equal(array, value)):  # 1.7 as int64 would be 1, silently
            raise TypeError(f"{where} yielded {value!r}, which {self.dtype} cannot hold "
                            "exactly (a fraction would be dropped); yield integers or "
                            "declare a float dtype in its TensorSpec")
        if not self._shape_matches(array.shape):
            raise ValueError(f"{where} yielded an element of shape {array.shape} where one of "
                             f"shape {self.shape} was expected")
        return array

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape and
                self.dtype == other.dtype)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name}, name={self.name!r})"
