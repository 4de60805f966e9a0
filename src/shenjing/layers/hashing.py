"""Keras 3's ``Hashing`` layer: strings or integers hashed into bins, as int64 ids or their
encodings (``CategoryEncoding``'s, ``layers/lookup.py``)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ..autograd import Tensor
from .lookup import (
    _ENCODINGS,
    _FORMER_MODES,
    _as_array,
    _ListInputs,
    _whole_as_int,
    encode_categorical,
)


class Hashing(_ListInputs):
    """Hash strings or integers into ``num_bins`` bins (Keras 3's layer): int64 bin ids, or
    their one-hot, multi-hot or count vectors.

    Keras hashes with TensorFlow's FarmHash Fingerprint64 (SipHash with a ``salt``); here each
    token's UTF-8 bytes (an integer's decimal digits, as TF's ``as_string``) go through
    BLAKE2b, 64 bits, keyed by the salt: stable across runs and machines, with the same
    properties (uniform bins, the same token always in the same bin), but not TF's bin numbers,
    so a model trained under Keras needs its hashed features recomputed.

    Args:
        num_bins: the number of bins, the mask bin included.
        mask_value: a value that goes to bin 0, the others to bins 1 .. num_bins - 1; None
            (default): every value is hashed into 0 .. num_bins - 1.
        salt: None, an int, or a pair of ints: keys the hash (different bins per salt).
        output_mode: 'int' (default), 'one_hot', 'multi_hot' or 'count' (float32 vectors of
            ``num_bins``, see ``CategoryEncoding``).
        sparse: not supported.

    Input shape: strings or integers, any shape. Output shape: the input's ('int'); for the
        encodings, as ``CategoryEncoding``'s.

    >>> Hashing(num_bins=3)(["A", "B", "C", "A"]).numpy()   # doctest: +SKIP
    """

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        output_mode = _FORMER_MODES.get(output_mode, output_mode)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
                or num_bins < 1 or (mask_value is not None and num_bins < 2):
            raise ValueError(f"Hashing: num_bins must be a positive int (at least 2 with a "
                             f"mask_value), got {num_bins!r}")
        if output_mode not in ("int", *_ENCODINGS):
            raise ValueError(f"Hashing: output_mode must be 'int', 'one_hot', 'multi_hot' or "
                             f"'count', got {output_mode!r}")
        if sparse:
            raise NotImplementedError("Hashing(sparse=True): shenjing has no sparse tensors")
        salts = [] if salt is None else [salt] if isinstance(salt, (int, np.integer)) else salt
        if len(salts) > 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                 for v in salts):
            raise ValueError(f"Hashing: salt must be None, an int or a pair of ints, got "
                             f"{salt!r}")
        self.num_bins, self.mask_value, self.salt = int(num_bins), mask_value, salt
        self.output_mode, self.sparse = output_mode, False
        self._key = b"".join(int(v).to_bytes(8, "little", signed=True) for v in salts)

    def _hash(self, token: Any) -> int:
        data = token.encode("utf-8") if isinstance(token, str) else str(int(token)).encode()
        digest = hashlib.blake2b(data, digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "little")

    def call(self, inputs: Tensor) -> Tensor:
        arr = _whole_as_int(_as_array(inputs))
        if arr.dtype.kind == "S" or arr.dtype.kind == "O" and arr.size and isinstance(
                arr.flat[0], bytes):
            arr = np.vectorize(lambda b: b.decode("utf-8"), otypes=[str])(arr)
        if arr.dtype.kind == "O" and all(isinstance(t, str) for t in arr.flat):
            arr = arr.astype(str)
        if arr.dtype.kind not in "iuU":
            raise TypeError(f"Layer '{self.name}' (Hashing) takes strings or integers, got "
                            f"dtype {arr.dtype}")
        values, inverse = np.unique(arr, return_inverse=True)
        masked = self.mask_value is not None
        bins = self.num_bins - 1 if masked else self.num_bins
        ids = np.asarray([self._hash(v) % bins + masked for v in values.tolist()], np.int64)
        if masked:
            ids[values == self.mask_value] = 0
        ids = ids[inverse.reshape(-1)].reshape(arr.shape)
        if self.output_mode == "int":
            return Tensor._wrap(ids)
        return Tensor._wrap(encode_categorical(ids, self.num_bins, self.output_mode))
