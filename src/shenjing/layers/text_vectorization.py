"""``TextVectorization`` (Keras 3's layer): strings are standardized, split into tokens, joined
into n-grams, and looked up in a vocabulary, giving int64 id sequences or per-text multi-hot or
count vectors. The vocabulary, the lookup and the encodings are ``StringLookup``'s (an inner
layer with mask token '' and OOV token '[UNK]', as in Keras); this module only turns texts into
tokens. It computes on NumPy without gradients and keeps its vocabulary in its config.

``fit`` refuses strings, so texts are vectorized before training, outside the model (as
keras.io's "Text classification from scratch" maps its datasets), and the model starts at the
ids:

>>> vectorize = TextVectorization(max_tokens=20000, output_sequence_length=500)
>>> vectorize.adapt(train_texts)
>>> model = Sequential([Input((500,), dtype="int64"), Embedding(20000, 128), ...])
>>> model.fit(vectorize(train_texts).numpy(), train_labels)
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Any

import numpy as np

from .._config import function_name, registered_function
from ..autograd import Tensor
from .lookup import StringLookup, _ListInputs

# Keras's DEFAULT_STRIP_REGEX: ASCII punctuation, removed (not replaced by a space)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
# Keras lower-cases with tf.strings.lower, whose default encoding '' is ASCII: 'É' stays
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STANDARDIZE: dict[str, Callable[[str], str]] = {
    "lower": lambda s: s.translate(_ASCII_LOWER),
    "strip_punctuation": lambda s: _PUNCTUATION.sub("", s),
    "lower_and_strip_punctuation": lambda s: _PUNCTUATION.sub("", s.translate(_ASCII_LOWER)),
}
# tf.strings.split breaks at ASCII whitespace only (C's isspace): not at a no-break space or
# the other Unicode spaces that Python's str.split also takes
_ASCII_SPACE = re.compile(r"[ \t\n\v\f\r]+")
_SPLIT: dict[str, Callable[[str], list[str]]] = {
    "whitespace": lambda s: [t for t in _ASCII_SPACE.split(s) if t], "character": list}
_MODES = ("int", "multi_hot", "count", "tf_idf")


def _function(kind: str, value: Any, builtin: dict[str, Callable]) -> Callable | None:
    """The function ``value`` names: None, a built-in name, a callable, or the name a config
    saved your function under (found in custom_objects or among the registered objects)."""
    if value is None or callable(value):
        return value
    expected = f"TextVectorization: {kind} must be None, one of {tuple(builtin)} or a function"
    if not isinstance(value, str):
        raise ValueError(f"{expected}, got {value!r}")
    if value in builtin:
        return builtin[value]
    try:
        return registered_function(value, f"TextVectorization {kind}")
    except ValueError as e:
        raise ValueError(f"{expected}; {e}") from None


def _ngram_widths(ngrams: Any) -> tuple[int, ...] | None:
    """Keras: an int n makes the 1..n-grams, a tuple the n-grams of the widths it lists."""
    if ngrams is None:
        return None
    values = [ngrams] if isinstance(ngrams, (int, np.integer)) else ngrams
    if not isinstance(values, (list, tuple)) or not values or any(
            isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
            for n in values):
        raise ValueError(f"TextVectorization: ngrams must be None, a positive int or a tuple of "
                         f"positive ints, got {ngrams!r}")
    return tuple(range(1, int(ngrams) + 1)) if values is not ngrams else tuple(map(int, values))


def _rows(tokens: np.ndarray) -> np.ndarray:
    """Tokens as (texts, tokens): one row per text (one text: one row)."""
    return tokens.reshape(-1, tokens.shape[-1]) if tokens.ndim else tokens.reshape(1, 1)


class TextVectorization(_ListInputs):
    """Map texts to token ids or token vectors (Keras 3's layer).

    Args:
        max_tokens: the most ids, special ones included (padding '' and '[UNK]' in 'int' mode,
            '[UNK]' otherwise); ``adapt`` keeps the most frequent tokens. None: no limit.
        standardize: None, 'lower', 'strip_punctuation', 'lower_and_strip_punctuation'
            (default: ASCII letters lower-cased, then ASCII punctuation removed, as Keras's
            TensorFlow ops do: 'É' and '¿' stay), or a callable of one string
            returning a string (Keras's takes a tensor of strings: here it is called per text).
        split: None (each input string is a token), 'whitespace', 'character' (every
            character, spaces included), or a callable of one string returning its tokens.
        ngrams: None, an int n (the 1- to n-grams), or a tuple of widths; an n-gram's tokens
            are joined by a space, and the widths come in the order given.
        output_mode: 'int' (int64 ids: 0 padding, 1 '[UNK]', then the vocabulary),
            'multi_hot', 'count' or 'tf_idf' (float32 vectors of ``vocabulary_size()`` per
            text, '[UNK]' first; 'tf_idf' weighs each count by the token's idf, Keras's
            log(1 + texts / (1 + texts with the token)) learned by ``adapt``).
        output_sequence_length: 'int' mode only: pad with 0 or truncate each sequence to this
            length; None pads to the batch's longest.
        pad_to_max_tokens: 'multi_hot'/'count': vectors of ``max_tokens`` entries.
        vocabulary: a list or array of tokens (without, or starting with, the special ones),
            the path of a UTF-8 text file with one token per line, or None to ``adapt``.
        idf_weights: 'tf_idf' with a given vocabulary: one idf per token ('[UNK]' weighs
            their mean).
        sparse, ragged: Keras's; not supported (False, False).
        encoding: how bytes inputs are decoded.

    Input shape: strings, (batch,) or (batch, 1) (with ``split=None``, (batch, tokens)).
    Output shape: (batch, sequence_length) int64, or (batch, vocabulary size) float32.

    >>> layer = TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    >>> layer([["foo qux bar"], ["qux baz"]]).numpy()
    array([[4, 1, 3, 0],
           [1, 2, 0, 0]])
    """

    def __init__(self, max_tokens: int | None = None,
                 standardize: Any = "lower_and_strip_punctuation", split: Any = "whitespace",
                 ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._standardize_fn = _function("standardize", standardize, _STANDARDIZE)
        self._split_fn = _function("split", split, _SPLIT)
        self._widths = _ngram_widths(ngrams)
        if output_mode not in _MODES:
            raise ValueError(f"TextVectorization: output_mode must be one of {_MODES}, got "
                             f"{output_mode!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError("TextVectorization: output_sequence_length is for "
                                 f"output_mode='int' only, got output_mode={output_mode!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(
                    output_sequence_length, (int, np.integer)) or output_sequence_length < 1:
                raise ValueError(f"TextVectorization: output_sequence_length must be a positive "
                                 f"int or None, got {output_sequence_length!r}")
        if self._widths is not None and self._split_fn is None:
            raise ValueError("TextVectorization: ngrams need tokens: set split (e.g. "
                             "'whitespace') or leave ngrams=None")
        if ragged:
            raise NotImplementedError("TextVectorization(ragged=True): shenjing has no ragged "
                                      "tensors; set output_sequence_length or pad per batch")
        # the vocabulary, its checks, adapt and the encodings are StringLookup's
        self._lookup = StringLookup(max_tokens=max_tokens, mask_token="", oov_token="[UNK]",
                                    vocabulary=vocabulary, idf_weights=idf_weights,
                                    output_mode=output_mode,
                                    pad_to_max_tokens=pad_to_max_tokens, sparse=sparse,
                                    encoding=encoding, name=f"{self.name}_lookup")
        self.max_tokens, self.output_mode = self._lookup.max_tokens, output_mode
        self.standardize, self.split = standardize, split
        self.ngrams = list(self._widths) if isinstance(ngrams, (list, tuple)) else ngrams
        self.output_sequence_length = None if output_sequence_length is None else int(
            output_sequence_length)
        self.pad_to_max_tokens, self.sparse, self.ragged = bool(pad_to_max_tokens), False, False
        self.encoding = encoding

    # -- texts to tokens -------------------------------------------------------------------
    def _texts_of(self, data: Any) -> np.ndarray:
        try:
            return self._lookup._tokens_of(data)
        except TypeError:
            dtype = np.asarray(getattr(data, "data", data)).dtype
            raise TypeError(f"Layer '{self.name}' (TextVectorization) takes strings, got dtype "
                            f"{dtype}") from None

    def _tokenize(self, texts: np.ndarray) -> list[list[str]]:
        """The tokens of each text (1-D ``texts``), n-grams included."""
        if self._standardize_fn is not None:
            texts = [self._standardize_fn(t) for t in texts.tolist()]
        assert self._split_fn is not None
        tokens = [list(self._split_fn(t)) for t in texts]
        if self._widths is None:
            return tokens
        return [[" ".join(toks[i:i + n]) for n in self._widths
                 for i in range(len(toks) - n + 1)] for toks in tokens]

    def _token_array(self, data: Any, to_length: bool = True) -> np.ndarray:
        """A (batch, length) array of tokens, padded with the mask token '', and, with
        ``to_length``, padded or cut to ``output_sequence_length`` (what ``call`` gives;
        ``adapt`` counts every token, as Keras's)."""
        texts = self._texts_of(data)
        if self._split_fn is None:  # each string is a token, standardized
            rows = texts.reshape(len(texts), -1) if texts.ndim else texts.reshape(1)
            if self._standardize_fn is not None:
                rows = np.asarray([self._standardize_fn(t) for t in rows.reshape(-1).tolist()],
                                  dtype=str).reshape(rows.shape)
            length = self.output_sequence_length
            if to_length and length is not None and rows.ndim == 2:  # Keras's pad or cut, as split
                fitted = np.full((len(rows), length), "", dtype=rows.dtype)
                fitted[:, :min(length, rows.shape[1])] = rows[:, :length]
                rows = fitted
            return rows
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(f"Layer '{self.name}' (TextVectorization) splits one text per "
                                 f"sample: inputs of shape (batch,) or (batch, 1), got "
                                 f"{texts.shape}")
            texts = texts.reshape(texts.shape[:-1])
        tokens = self._tokenize(texts.reshape(-1))
        length = max(map(len, tokens), default=0)
        if to_length and self.output_sequence_length is not None:
            length = self.output_sequence_length
        out = np.full((len(tokens), length), "", dtype=object)
        for row, toks in zip(out, tokens):
            toks = toks[:length]
            row[:len(toks)] = toks
        return out.astype(str).reshape(*texts.shape, length)

    # -- vocabulary -----------------------------------------------------------------------
    def adapt(self, data: Any) -> None:
        """Learn the vocabulary from texts: an array or list of strings, or an iterable of such
        batches (or of (texts, labels) batches). Most frequent tokens first, ties in descending
        token order (Keras's), at most ``max_tokens`` ids in all."""
        from ..data.loader import adapt_batches

        batches = adapt_batches(data, (tuple, str))
        # (texts, tokens) rows: each text is one document for 'tf_idf'
        self._lookup.adapt(_rows(self._token_array(b, to_length=False)) for b in batches)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use ``vocabulary`` and, for 'tf_idf', its ``idf_weights`` (see
        ``StringLookup.set_vocabulary``)."""
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The token of each id: '' and '[UNK]' ('int' mode) or '[UNK]', then the vocabulary."""
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of ids, the special ones included."""
        return self._lookup.vocabulary_size()

    def get_config(self) -> dict[str, Any]:
        for kind, fn in (("standardize", self._standardize_fn), ("split", self._split_fn)):
            if fn is not None and not isinstance(getattr(self, kind), str):
                setattr(self, kind, function_name(fn, f"TextVectorization {kind}"))
        config = super().get_config()
        lookup = self._lookup.get_config()
        config["vocabulary"], config["idf_weights"] = lookup["vocabulary"], lookup["idf_weights"]
        return config

    def call(self, inputs: Tensor) -> Tensor:
        # one text (a 0-d input) gives one sequence or vector
        return self._lookup(self._token_array(inputs))
