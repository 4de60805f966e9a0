"""Categorical preprocessing layers, as Keras 3's: ``StringLookup`` and ``IntegerLookup`` map
tokens to indices through a vocabulary (given, or learned by ``adapt``), and
``CategoryEncoding`` turns integer ids into one-hot, multi-hot or count vectors. They compute on
NumPy arrays and return Tensors that carry no gradient. Their vocabulary is part of their config,
so ``model.save`` keeps it as JSON and ``load_model`` rebuilds the same lookup.

``fit``, ``evaluate`` and ``predict`` refuse string arrays (``models/data_adapter.py``), so a
string feature is looked up before ``fit``, outside the model (where keras.io's "Structured
data classification from scratch" maps a ``tf.data`` pipeline):

>>> city = StringLookup()
>>> city.adapt(train_cities)                         # most frequent first
>>> x_city = city(train_cities).numpy()              # int64 ids: [UNK] is 0
>>> model = Sequential([Input((1,), dtype="int64"), CategoryEncoding(city.vocabulary_size()),
...                     Dense(1, activation="sigmoid")])

Integer features can be looked up inside the model (``IntegerLookup`` on an int Input). A
functional model with ``Input(shape=(1,), dtype="string")`` and a ``StringLookup`` first is
built, saved and called directly (``model(strings)``), but not trained with ``fit``.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter
from typing import Any

import numpy as np

from ..autograd import Tensor
from .input_layer import SymbolicTensor
from .layer import Layer

_ENCODINGS = ("one_hot", "multi_hot", "count")
# Keras's former names, still accepted by CategoryEncoding, StringLookup and IntegerLookup
# (the structured-data example's lookup_class(output_mode="binary")).
_FORMER_MODES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def encode_categorical(ids: np.ndarray, depth: int, output_mode: str,
                       count_weights: np.ndarray | None = None) -> np.ndarray:
    """Encode integer ids in [0, depth) as float32 vectors of length ``depth`` (ids of -1, a
    dropped mask token, add nothing). 'one_hot' encodes each id, replacing a last axis of size 1
    or adding one; 'multi_hot' and 'count' encode each sample, the last axis."""
    weights = None if count_weights is None else np.asarray(count_weights, np.float32)
    if weights is not None and weights.shape != ids.shape:
        raise ValueError(f"count_weights of shape {weights.shape} must have the inputs' shape "
                         f"{ids.shape}")
    if output_mode == "one_hot":
        if ids.ndim and ids.shape[-1] == 1:
            ids = ids[..., 0]
        out = np.zeros((ids.size, depth), np.float32)
        flat = ids.reshape(-1)
        rows = np.flatnonzero(flat >= 0)
        out[rows, flat[rows]] = 1.0
        return out.reshape(*ids.shape, depth)
    if ids.ndim == 0:  # one token is one sample
        ids = ids.reshape(1)
        weights = None if weights is None else weights.reshape(1)
    lead, length = ids.shape[:-1], ids.shape[-1]
    out = np.zeros((int(np.prod(lead)), depth), np.float32)
    rows = np.repeat(np.arange(out.shape[0]), length)
    cols = ids.reshape(-1)
    keep = cols >= 0
    values = np.ones(cols.shape, np.float32) if weights is None else weights.reshape(-1)
    np.add.at(out, (rows[keep], cols[keep]), values[keep])
    if output_mode == "multi_hot":
        out = (out != 0).astype(np.float32)
    return out.reshape(*lead, depth)


def _as_array(inputs: Any) -> np.ndarray:
    return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)


def _whole_as_int(arr: np.ndarray) -> np.ndarray:
    """Float ids that are all whole numbers (a float Input's ids) as int64; anything else (NaN,
    inf, fractions, other dtypes) unchanged, for the caller's dtype check to refuse."""
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and np.array_equal(arr, np.round(arr)):
        return arr.astype(np.int64)
    return arr


class _ListInputs(Layer):
    """Keras's categorical layers take a Python list as one input (``layer([3, 2, 0, 1])``),
    where other layers read a list as several inputs."""

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and not any(
                isinstance(v, SymbolicTensor) for v in inputs):
            inputs = np.asarray(inputs)
        return super().__call__(inputs, *args, **kwargs)


class CategoryEncoding(_ListInputs):
    """Encode integer ids in ``[0, num_tokens)`` as float32 vectors (Keras 3's layer).

    Args:
        num_tokens: the number of ids; each input must lie in ``[0, num_tokens)``.
        output_mode: 'multi_hot' (default: a 1 for each id present in a sample, the last axis),
            'one_hot' (each id its own vector; a last axis of size 1 is replaced) or 'count'
            (how many times each id occurs in a sample; ``count_weights`` in ``call`` weigh the
            occurrences).
        sparse: not supported (dense outputs only).

    Input shape: integer ids, (..., length). Output shape: (..., num_tokens) for 'multi_hot'
    and 'count'; for 'one_hot', (..., num_tokens) if the last axis is 1, else
    (..., length, num_tokens).

    >>> CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1]).numpy()[0]
    array([0., 0., 0., 1.], dtype=float32)
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        output_mode = _FORMER_MODES.get(output_mode, output_mode)
        if num_tokens is None or isinstance(num_tokens, bool) or int(num_tokens) != num_tokens \
                or num_tokens < 1:
            raise ValueError(f"CategoryEncoding needs num_tokens, a positive int, got "
                             f"{num_tokens!r}")
        if output_mode not in _ENCODINGS:
            raise ValueError(f"CategoryEncoding output_mode must be one of {_ENCODINGS}, got "
                             f"{output_mode!r}")
        if sparse:
            raise NotImplementedError("CategoryEncoding(sparse=True): shenjing has no sparse "
                                      "tensors; use sparse=False")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def call(self, inputs: Tensor, count_weights: Any = None) -> Tensor:
        ids = _whole_as_int(_as_array(inputs))
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Layer '{self.name}' (CategoryEncoding) takes integer ids, got "
                            f"dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_tokens):
            raise ValueError(f"Layer '{self.name}' (CategoryEncoding): inputs must lie in "
                             f"[0, {self.num_tokens}) (num_tokens={self.num_tokens}), got values "
                             f"from {ids.min()} to {ids.max()}")
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"Layer '{self.name}' (CategoryEncoding): count_weights is used "
                             f"only with output_mode='count', not {self.output_mode!r}")
        if isinstance(count_weights, Tensor):
            count_weights = count_weights.data
        encoded = encode_categorical(ids.astype(np.int64), self.num_tokens, self.output_mode,
                                     count_weights)
        return Tensor._wrap(encoded.astype(self.dtype, copy=False))  # the layer's, as Keras's


class _IndexLookup(_ListInputs):
    """What StringLookup and IntegerLookup share. Ids run: the mask token (index 0, in 'int'
    mode only, when ``mask_token`` is set), ``num_oov_indices`` OOV ids, then the vocabulary."""

    _MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any, idf_weights: Any, invert: bool,
                 output_mode: str, pad_to_max_tokens: bool, sparse: bool,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        kind = type(self).__name__
        output_mode = _FORMER_MODES.get(output_mode, output_mode)
        if max_tokens is not None and (int(max_tokens) != max_tokens or max_tokens <= 1):
            raise ValueError(f"{kind}: max_tokens must be an int greater than 1 when set, got "
                             f"{max_tokens!r}")
        if isinstance(num_oov_indices, bool) or int(num_oov_indices) != num_oov_indices \
                or num_oov_indices < 0:
            raise ValueError(f"{kind}: num_oov_indices must be an int >= 0, got "
                             f"{num_oov_indices!r}")
        if output_mode not in self._MODES:
            raise ValueError(f"{kind}: output_mode must be one of {self._MODES}, got "
                             f"{output_mode!r}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{kind}: idf_weights are used only with output_mode='tf_idf', "
                             f"not {output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{kind}: invert=True needs output_mode='int', got "
                             f"{output_mode!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{kind}: pad_to_max_tokens=True needs max_tokens")
        if sparse:
            raise NotImplementedError(f"{kind}(sparse=True): shenjing has no sparse tensors")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = bool(invert), output_mode
        self.pad_to_max_tokens, self.sparse = bool(pad_to_max_tokens), False
        self._oov_start = 1 if mask_token is not None and output_mode == "int" else 0
        self._token_start = self._oov_start + self.num_oov_indices
        self._has_input_vocabulary = vocabulary is not None
        # tf_idf: the idf of each vocabulary token, and of the OOV ids (Keras: their mean)
        self._idf = self._idf_special = np.zeros(0, np.float32)
        self._set_tokens(np.asarray([], dtype=self._token_dtype()))
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- what subclasses define -------------------------------------------------------------
    def _token_dtype(self) -> Any:
        raise NotImplementedError

    def _tokens_of(self, data: Any) -> np.ndarray:
        """``data`` as an array of tokens (a TypeError if it holds the wrong kind)."""
        raise NotImplementedError

    def _oov_hash(self, tokens: np.ndarray) -> np.ndarray:
        """Which of the OOV ids (0 .. num_oov_indices - 1) each OOV token takes."""
        raise NotImplementedError

    def _tokens_of_lines(self, lines: list[str], path: str) -> Any:
        """The tokens that the lines of a vocabulary file at ``path`` spell."""
        return np.asarray(lines, dtype=str)

    # -- vocabulary --------------------------------------------------------------------------
    def _set_tokens(self, tokens: np.ndarray) -> None:
        self._tokens = tokens
        self._index = {t: i + self._token_start for i, t in enumerate(tokens.tolist())}

    def _read_vocabulary(self, path: Any) -> Any:
        """The tokens of a vocabulary file (Keras 3): UTF-8, one token per line, as
        TensorFlow's text file initializer reads it (a line ends at '\\n', a '\\r' before it
        is dropped)."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
        except FileNotFoundError:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the vocabulary file "
                             f"{path!r} does not exist") from None
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        if lines and lines[-1] == "":  # the newline that ends the last line
            lines.pop()
        return self._tokens_of_lines(lines, path)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use ``vocabulary`` (tokens without the special ones, or with them first, in their
        order: mask token, then the OOV token ``num_oov_indices`` times; or the path of a text
        file with one token per line) and, for 'tf_idf', ``idf_weights``, one per entry of
        ``vocabulary`` (the OOV ids get the mean of those given where ``vocabulary`` has no
        special tokens, as Keras)."""
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = self._read_vocabulary(vocabulary)
        tokens = self._tokens_of(vocabulary).reshape(-1)
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"Layer '{self.name}': output_mode='tf_idf' needs idf_weights "
                                 "with a vocabulary (or adapt() to learn both)")
            idf = np.asarray(getattr(idf_weights, "data", idf_weights),
                             np.float32).reshape(-1)
            if len(idf) != len(tokens):
                raise ValueError(f"Layer '{self.name}': {len(idf)} idf_weights for a vocabulary "
                                 f"of {len(tokens)} tokens; give one weight per token")
        elif idf_weights is not None:
            raise ValueError(f"Layer '{self.name}': idf_weights are used only with "
                             f"output_mode='tf_idf', not {self.output_mode!r}")
        special = [self.mask_token] * self._oov_start + [self.oov_token] * self.num_oov_indices
        if special and tokens[:len(special)].tolist() == special:
            tokens = tokens[len(special):]
            if self.output_mode == "tf_idf":
                idf_special, idf = idf[:len(special)], idf[len(special):]
        elif self.output_mode == "tf_idf":
            idf_special = np.full(len(special), idf.mean() if len(idf) else 0.0, np.float32)
        values, counts = np.unique(tokens, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"Layer '{self.name}': the vocabulary repeats "
                             f"{values[counts > 1].tolist()}; give each token once")
        if self.mask_token is not None and self.mask_token in tokens.tolist():
            raise ValueError(f"Layer '{self.name}': the mask token {self.mask_token!r} is in the "
                             f"vocabulary; leave the special tokens out, or put exactly "
                             f"{special} first")
        if self.invert and self.oov_token in tokens.tolist():
            raise ValueError(f"Layer '{self.name}': the OOV token {self.oov_token!r} is in the "
                             "vocabulary of an inverting lookup")
        size = self._token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"Layer '{self.name}': the vocabulary needs {size} ids with the "
                             f"special ones, more than max_tokens={self.max_tokens}")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            self._idf, self._idf_special = idf, idf_special

    def adapt(self, data: Any) -> None:
        """Learn the vocabulary from ``data`` (an array or list of tokens of any shape, or an
        iterable of such batches): most frequent first, ties in descending token order (Keras's
        order), at most ``max_tokens`` ids in all. The mask and OOV tokens are not counted."""
        if self._has_input_vocabulary:
            raise ValueError(f"Layer '{self.name}' was given a vocabulary; adapt() would replace "
                             "it. Create the layer without vocabulary= to adapt.")
        from ..data.loader import adapt_batches

        batches = adapt_batches(data, (tuple,))
        counts: Counter = Counter()
        documents: Counter = Counter()  # tf_idf: in how many documents each token appears
        n_documents = 0
        for batch in batches:
            batch_tokens = self._tokens_of(batch)
            values, n = np.unique(batch_tokens, return_counts=True)
            counts.update(dict(zip(values.tolist(), n.tolist())))
            if self.output_mode == "tf_idf":  # a row is a document; a 1-D batch is one
                rows = batch_tokens.reshape(len(batch_tokens) if batch_tokens.ndim > 1 else 1,
                                            -1)
                documents.update(t for row in rows for t in set(row.tolist()))
                n_documents += len(rows)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        tokens = np.asarray(list(counts), dtype=self._token_dtype())
        order = np.lexsort((tokens, np.asarray(list(counts.values()))))[::-1]
        if self.max_tokens is not None:
            order = order[:self.max_tokens - self._token_start]
        self._set_tokens(tokens[order])
        if self.output_mode == "tf_idf":  # Keras: log(1 + documents / (1 + document frequency))
            df = np.asarray([documents[t] for t in self._tokens.tolist()], np.float64)
            self._idf = np.log1p(n_documents / (1.0 + df)).astype(np.float32)
            mean = self._idf.mean() if len(self._idf) else 0.0
            self._idf_special = np.full(self._token_start, mean, np.float32)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The token of each id, in id order (mask token, OOV tokens, then the vocabulary)."""
        tokens = self._tokens.tolist()
        if not include_special_tokens:
            return tokens
        return ([self.mask_token] * self._oov_start + [self.oov_token] * self.num_oov_indices
                + tokens)

    def vocabulary_size(self) -> int:
        """The number of ids, the special ones included."""
        return self._token_start + len(self._tokens)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # the vocabulary in use, adapted or given, as JSON data: it is saved with the model
        has_vocabulary = len(self._tokens) or self._has_input_vocabulary
        config["vocabulary"] = self.get_vocabulary(include_special_tokens=False) \
            if has_vocabulary else None
        # tf_idf: the weights of those tokens (the OOV ids' is their mean again on loading;
        # where it was given otherwise, the special tokens and their weights are saved first)
        config["idf_weights"] = None
        if self.output_mode == "tf_idf" and has_vocabulary:
            config["idf_weights"] = self._idf.tolist()
            mean = self._idf.mean() if len(self._idf) else 0.0
            if not np.allclose(self._idf_special, mean, rtol=0, atol=0):
                config["vocabulary"] = self.get_vocabulary()
                config["idf_weights"] = np.concatenate((self._idf_special, self._idf)).tolist()
        return config

    def _idf_vector(self, depth: int) -> np.ndarray:
        """The idf of every encoded id: the OOV ids', the vocabulary's, zeros to ``depth``."""
        idf = np.concatenate((self._idf_special, self._idf))
        return np.pad(idf, (0, depth - len(idf)))

    # -- the lookup --------------------------------------------------------------------------
    def call(self, inputs: Tensor) -> Tensor:
        if self.invert:
            return Tensor._wrap(self._invert(_whole_as_int(_as_array(inputs))))
        tokens = self._tokens_of(inputs)
        values, inverse = np.unique(tokens, return_inverse=True)
        ids = np.asarray([self._index.get(v, -1) for v in values.tolist()], dtype=np.int64)
        oov = ids < 0
        if self.mask_token is not None:
            is_mask = values == self.mask_token
            ids[is_mask] = 0 if self.output_mode == "int" else -1  # other modes drop it
            oov &= ~is_mask
        if oov.any():
            if self.num_oov_indices == 0:
                raise ValueError(f"Layer '{self.name}': with num_oov_indices=0 every input must "
                                 f"be in the vocabulary; found {values[oov][:10].tolist()}. "
                                 "Set num_oov_indices=1.")
            ids[oov] = self._oov_start + (self._oov_hash(values[oov]) if
                                          self.num_oov_indices > 1 else 0)
        ids = ids[inverse.reshape(-1)].reshape(tokens.shape)
        if self.output_mode == "int":
            return Tensor._wrap(ids)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if self.output_mode == "tf_idf":  # each token's count in its sample times its idf
            return Tensor._wrap(encode_categorical(ids, depth, "count")
                                * self._idf_vector(depth))
        return Tensor._wrap(encode_categorical(ids, depth, self.output_mode))

    def _invert(self, ids: np.ndarray) -> np.ndarray:
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Layer '{self.name}' (invert=True) takes integer ids, got dtype "
                            f"{ids.dtype}")
        table = np.asarray(self.get_vocabulary() + [self.oov_token], dtype=self._token_dtype())
        # ids outside [0, vocabulary_size) read the OOV token appended last
        return table[np.where((ids >= 0) & (ids < len(table) - 1), ids, len(table) - 1)]


class StringLookup(_IndexLookup):
    """Map strings to int64 ids through a vocabulary (Keras 3's layer), or encode them.

    Args:
        max_tokens: the most ids, special ones included (None: no limit); ``adapt`` keeps the
            most frequent tokens.
        num_oov_indices: ids for out-of-vocabulary tokens; above 1 a token's id is picked by
            a hash (CRC-32 here, FarmHash in TensorFlow: the buckets differ from Keras's); 0
            makes an OOV input an error.
        mask_token: a token mapped to id 0 in 'int' mode (dropped by the encodings); None
            (default) reserves no id.
        oov_token: the token that OOV ids stand for (``get_vocabulary``, ``invert``).
        vocabulary: a list or array of tokens, the path of a UTF-8 text file with one token
            per line, or None to ``adapt``. The config keeps the tokens, not the path.
        invert: map ids back to tokens ('int' mode only).
        output_mode: 'int' (int64 ids), 'one_hot', 'multi_hot', 'count' (float32 vectors of
            ``vocabulary_size()``, see ``CategoryEncoding``) or 'tf_idf' (each count times the
            token's idf weight).
        idf_weights: 'tf_idf' with a given vocabulary: one inverse document frequency per
            token (``adapt`` learns them: log(1 + documents / (1 + documents with the token)));
            the OOV ids weigh the mean.
        pad_to_max_tokens: encode to ``max_tokens`` entries rather than the vocabulary's size.
        encoding: how bytes inputs are decoded.

    >>> layer = StringLookup()
    >>> layer.adapt(np.array([["a", "c", "d"], ["d", "z", "b"]]))
    >>> layer.get_vocabulary()
    ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]",
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs: Any) -> None:
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse, name=name,
                         **kwargs)

    def _token_dtype(self) -> Any:
        return np.str_

    def _tokens_of(self, data: Any) -> np.ndarray:
        arr = _as_array(data)
        if arr.dtype.kind == "S" or arr.dtype.kind == "O" and arr.size and isinstance(
                arr.flat[0], bytes):
            return np.vectorize(lambda b: b.decode(self.encoding), otypes=[str])(arr)
        if arr.dtype.kind == "U" or arr.dtype.kind == "O" and all(
                isinstance(t, str) for t in arr.flat):
            return arr.astype(str)
        raise TypeError(f"Layer '{self.name}' (StringLookup) takes strings, got dtype "
                        f"{arr.dtype}; use IntegerLookup for integer features")

    def _oov_hash(self, tokens: np.ndarray) -> np.ndarray:
        return np.asarray([zlib.crc32(t.encode("utf-8")) % self.num_oov_indices
                           for t in tokens.tolist()], dtype=np.int64)


class IntegerLookup(_IndexLookup):
    """Map integers to int64 ids through a vocabulary (Keras 3's layer), or encode them: the
    arguments of ``StringLookup`` in Keras 3's order for this layer, with integer tokens
    (``oov_token`` -1 by default) and ``vocabulary_dtype`` ('int64' or 'int32'). With
    ``num_oov_indices`` above 1 an OOV value ``v`` takes OOV id ``v mod num_oov_indices``, as in
    Keras. Whole-valued float inputs are accepted as integers.

    >>> layer = IntegerLookup()
    >>> layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
    >>> layer.get_vocabulary()
    [-1, 42, 1138, 1000, 36, 12]
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False, pad_to_max_tokens: bool = False,
                 name: str | None = None, **kwargs: Any) -> None:
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int32' or 'int64', got "
                             f"{vocabulary_dtype!r}")
        self.vocabulary_dtype = vocabulary_dtype
        for which, token in (("mask_token", mask_token), ("oov_token", oov_token)):
            if token is not None and (isinstance(token, bool) or int(token) != token):
                raise ValueError(f"IntegerLookup: {which} must be an int, got {token!r}")
        super().__init__(max_tokens, num_oov_indices,
                         None if mask_token is None else int(mask_token), int(oov_token),
                         vocabulary, idf_weights, invert, output_mode, pad_to_max_tokens,
                         sparse, name=name, **kwargs)

    def _token_dtype(self) -> Any:
        return np.dtype(self.vocabulary_dtype)

    def _tokens_of(self, data: Any) -> np.ndarray:
        arr = _whole_as_int(_as_array(data))
        if arr.dtype.kind not in "iu":
            raise TypeError(f"Layer '{self.name}' (IntegerLookup) takes integers, got dtype "
                            f"{arr.dtype}; use StringLookup for strings")
        return arr.astype(self._token_dtype())

    def _oov_hash(self, tokens: np.ndarray) -> np.ndarray:
        return np.mod(tokens.astype(np.int64), self.num_oov_indices)

    def _tokens_of_lines(self, lines: list[str], path: str) -> Any:
        tokens = []
        for number, line in enumerate(lines, 1):
            try:
                tokens.append(int(line))
            except ValueError:
                raise ValueError(f"Layer '{self.name}' (IntegerLookup): line {number} of the "
                                 f"vocabulary file {path!r} is not an integer: {line!r}") from None
        return tokens
