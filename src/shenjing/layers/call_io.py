"""What ``Layer.__call__`` does with its inputs and outputs around ``call``: arrays made
Tensors (floating ones in the layer's dtype; lists, tuples and dicts of named inputs kept as
structures), the shape ``build`` gets, and Keras 3's masks: read from the inputs, dropped with
a warning by a layer that does not support them, attached to the outputs."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Tensor

if TYPE_CHECKING:
    from .layer import Layer


def _to_tensors(inputs: Any, dtype: np.dtype) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [_to_tensors(x, dtype) for x in inputs]
    if isinstance(inputs, dict):  # named inputs of a subclassed model: call gets the dict
        return {k: _to_tensors(x, dtype) for k, x in inputs.items()}
    if isinstance(inputs, Tensor) or _is_structure(inputs):
        return inputs
    arr = np.asarray(inputs)
    # Floating inputs are cast to the layer's dtype (Keras): x / 255.0 costs no float64 step.
    # No copy otherwise: layers never write into their inputs.
    return Tensor._wrap(arr.astype(dtype, copy=False) if arr.dtype.kind == "f" else arr)


def _is_structure(inputs: Any) -> bool:
    """An input that is not array-like (a TreeBatch): passed to ``call`` as it is."""
    return not (hasattr(inputs, "__array__") or hasattr(inputs, "__len__")
                or isinstance(inputs, (int, float, complex, np.generic)))


def _shape_of(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [_shape_of(x) for x in inputs]
    if isinstance(inputs, dict):
        return {k: _shape_of(x) for k, x in inputs.items()}
    if _is_structure(inputs):
        return None
    return (None, *inputs.shape[1:])


def _mask_of(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        return None if all(m is None for m in masks) else masks
    return getattr(inputs, "_keras_mask", None)


def _warn_mask_dropped(layer: Layer) -> None:
    warnings.warn(f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input "
                  "with a mask attached to it. However, this layer does not support masking and "
                  "will therefore destroy the mask information. Downstream layers will not see "
                  "the mask (set supports_masking = True in its __init__, or define "
                  "compute_mask, to pass it on)", stacklevel=3)


def _attach_masks(outputs: Any, masks: Any) -> None:
    """Set ``_keras_mask`` on the outputs as Keras 3 pairs them: a list of masks (one may be
    None) goes with a list of outputs in order, a single mask with a single output (and, as
    Keras zips the flattened structures, with the first of several). A mask describes the
    output's leading (batch, time) axes; a layer that reshapes them away (Flatten, pooling)
    ends it, as Keras's layers without masking support do."""
    several = isinstance(outputs, (list, tuple))
    pairs = zip(outputs if several else [outputs],
                masks if isinstance(masks, (list, tuple)) else [masks])
    for out, mask in pairs:
        if isinstance(mask, Tensor):  # a compute_mask written with ops (Keras's guide's)
            mask = mask.data
        if mask is not None and isinstance(out, Tensor) and (
                tuple(out.shape[:mask.ndim]) == tuple(mask.shape)):
            out._keras_mask = mask
