"""``pad_sequences``: lists of variable-length sequences (token ids) as one padded array, as
Keras's ``keras.utils.pad_sequences`` makes them for an ``Embedding``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (or cut) each sequence to ``maxlen`` steps (default: the longest).

    Args:
        sequences: a list of sequences (lists or arrays; each step a number, or an array of
            one shape for all).
        maxlen: the length of the result; longer sequences are cut.
        dtype: the dtype of the result.
        padding: 'pre' (Keras's default: values before the sequence, so that its last step is
            the array's last, which an LSTM reads last) or 'post'.
        truncating: 'pre' (drop the first steps) or 'post' (drop the last ones).
        value: the padding value (0, which ``Embedding(mask_zero=True)`` masks).

    Returns:
        An array of shape ``(len(sequences), maxlen, *step_shape)``.

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3],
           [0, 4]], dtype=int32)
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"truncating must be 'pre' or 'post', got {truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences() takes a list of sequences")
    try:
        arrays = [np.asarray(s) for s in sequences]
        lengths = [len(s) for s in sequences]
    except TypeError:
        raise ValueError("pad_sequences() takes a list of sequences (lists or arrays), got a "
                         "non-sequence among them") from None
    step_shape = next((a.shape[1:] for a in arrays if len(a)), ())
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be an integer >= 0 or None, got {maxlen!r}")
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"a string padding value {value!r} needs dtype object or str, got "
                         f"dtype {dtype!r}")
    out = np.full((len(arrays), maxlen, *step_shape), value, dtype=dtype)
    for i, a in enumerate(arrays):
        if not len(a) or not maxlen:
            continue
        kept = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if kept.shape[1:] != step_shape:
            raise ValueError(f"sequence {i} has steps of shape {kept.shape[1:]}, the others "
                             f"{step_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
