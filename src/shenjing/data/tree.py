"""Labelled trees (the Penn-Treebank bracket format of the Stanford Sentiment Treebank) and a word
vocabulary for the models that read them.

A tree in PTB form is ``(label word)`` for a leaf and ``(label child child ...)`` for an inner
node, e.g. ``(3 (2 It) (4 (2 's) (3 good)))``. :func:`parse_tree` reads one such tree without
recursion (trees of any depth), and says at which line and column malformed text goes wrong.
Everything here walks trees with explicit stacks, never recursion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._checks import positive_int
from .sequence import pad_sequences

# Only ASCII whitespace separates tokens: SST has words with a no-break space in them ("8\xa01\/2").
_TOKEN = re.compile(r"\(|\)|[^ \t\n\r\f\v()]+")
_WORD = re.compile(r"[^ \t\n\r\f\v]+")
_BAD_WORD = re.compile(r"[ \t\n\r\f\v()]")


class TreeSyntaxError(ValueError):
    """Malformed bracketed text; ``source``, ``line`` and ``column`` (1-based) say where."""

    def __init__(self, message: str, *, source: str | None, line: int | None, column: int):
        where = [s for s in (source, f"line {line}" if line is not None else None) if s]
        where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")
        self.source, self.line, self.column = source, line, column


class Tree:
    """A labelled tree node: a leaf holds a ``word``, an inner node holds ``children``.

    Args:
        label: the node's class (SST: sentiment 0..4, very negative to very positive).
        children: the sub-trees, left to right; empty for a leaf.
        word: the leaf's word; None for an inner node.

    Iterating over a tree yields its nodes in post-order (children before their parent, left to
    right), the order in which a recursive network computes them.

    >>> t = parse_tree("(3 (2 It) (4 (2 's) (3 good)))")
    >>> t.label, t.sentence, [n.label for n in t]
    (3, "It 's good", [2, 2, 3, 4, 3])
    >>> parse_tree(t.to_ptb()).to_ptb() == t.to_ptb()
    True
    """

    __slots__ = ("label", "children", "word")

    def __init__(self, label: int, children: Iterable[Tree] = (), word: str | None = None):
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
            # (a float was truncated to a class, and to_ptb wrote text parse_tree refuses)
            raise ValueError(f"a Tree's label is a class id, a non-negative integer; got "
                             f"{label!r}")
        self.label = int(label)
        self.children: list[Tree] = list(children)
        self.word = word
        if (word is None) == (not self.children):
            raise ValueError(
                "a Tree node has either a word (a leaf) or children, not both or neither"
            )

    @classmethod
    def from_ptb(cls, text: str) -> Tree:
        """Parse one bracketed tree (see :func:`parse_tree`)."""
        return parse_tree(text)

    @property
    def is_leaf(self) -> bool:
        """True for a node that holds a word."""
        return not self.children

    def leaves(self) -> list[Tree]:
        """The leaf nodes, left to right."""
        out, stack = [], [self]
        while stack:
            node = stack.pop()
            if node.children:
                stack.extend(reversed(node.children))
            else:
                out.append(node)
        return out

    def words(self) -> list[str]:
        """The words at the leaves, left to right."""
        return [leaf.word for leaf in self.leaves()]  # type: ignore[misc]

    @property
    def sentence(self) -> str:
        """The words joined by single spaces."""
        return " ".join(self.words())

    def __iter__(self) -> Iterator[Tree]:
        """All nodes in post-order: every child before its parent, left to right."""
        stack: list[tuple[Tree, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded or not node.children:
                yield node
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))

    def to_ptb(self) -> str:
        """The tree in bracketed PTB form; :func:`parse_tree` reads it back to the same tree."""
        parts: list[str] = []
        stack: list[Tree | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif item.children:
                parts.append(f" ({item.label}")
                stack.append(")")
                stack.extend(reversed(item.children))
            else:
                word = str(item.word)
                if not word or _BAD_WORD.search(word):
                    raise ValueError(f"the word {word!r} cannot be written in PTB form "
                                     "(it is empty or has whitespace or parentheses)")
                parts.append(f" ({item.label} {word})")
        return "".join(parts)[1:]

    def __str__(self) -> str:
        return self.to_ptb()

    def __repr__(self) -> str:
        return f"Tree.from_ptb({self.to_ptb()!r})"


def parse_tree(
    text: str,
    *,
    num_classes: int | None = None,
    source: str | None = None,
    line: int | None = None,
) -> Tree:
    """Parse one tree in bracketed PTB form, e.g. ``(3 (2 It) (4 (2 's) (3 good)))``.

    Iterative, so the depth of the tree is not limited by Python's recursion limit.

    Args:
        text: the bracketed tree (surrounding whitespace is ignored).
        num_classes: if given, every label must be in ``0 .. num_classes - 1``.
        source: a file name for error messages.
        line: a line number for error messages.

    Returns:
        The root :class:`Tree`.

    Raises:
        TreeSyntaxError: unbalanced brackets, a missing or non-integer label, a label out of
            range, a node with both a word and children (or neither), or text after the tree.
    """

    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(
            num_classes, (int, np.integer)) or num_classes < 1):
        raise ValueError(f"parse_tree: num_classes must be a positive integer, got "
                         f"{num_classes!r}")

    def fail(message: str, pos: int) -> TreeSyntaxError:
        return TreeSyntaxError(message, source=source, line=line, column=pos + 1)

    # A frame is [label, children, word, position of its "("].
    stack: list[list[Any]] = []
    root: Tree | None = None
    expect_label = False
    for m in _TOKEN.finditer(text):
        tok, pos = m.group(), m.start()
        if root is not None:
            raise fail(f"unexpected {tok!r} after the end of the tree", pos)
        if expect_label:
            if tok in "()":
                raise fail(f"expected a label after '(', found {tok!r}", pos)
            if not tok.isdigit() or not tok.isascii():
                raise fail(f"label {tok!r} is not a non-negative integer", pos)
            label = int(tok)
            if num_classes is not None and label >= num_classes:
                raise fail(f"label {label} is outside the class range 0..{num_classes - 1}", pos)
            stack[-1][0] = label
            expect_label = False
        elif tok == "(":
            if stack and stack[-1][2] is not None:
                raise fail("a node with a word cannot also have children", pos)
            stack.append([None, [], None, pos])
            expect_label = True
        elif tok == ")":
            if not stack:
                raise fail("unbalanced ')': no node is open", pos)
            label, children, word, _ = stack.pop()
            if word is None and not children:
                raise fail("empty node: a label must be followed by a word or children", pos)
            node = Tree.__new__(Tree)  # the checks of __init__ were done above
            node.label, node.children, node.word = label, children, word
            if stack:
                stack[-1][1].append(node)
            else:
                root = node
        else:  # a word
            if not stack:
                raise fail(f"unexpected word {tok!r} outside brackets", pos)
            if stack[-1][1]:
                raise fail(f"unexpected word {tok!r}: the node already has children", pos)
            if stack[-1][2] is not None:
                raise fail(f"unexpected second word {tok!r} in a leaf", pos)
            stack[-1][2] = tok
    if stack:
        raise fail(f"missing ')': the node opened here is not closed ({len(stack)} open)",
                   stack[-1][3])
    if root is None:
        raise fail("no tree found (empty text)", 0)
    return root


class Vocabulary:
    """A word <-> index mapping with a padding token at 0 and an unknown-word token at 1.

    Index 0 is the padding token, so that ``Embedding(mask_zero=True)`` masks padded steps; index
    1 stands for every word not in the vocabulary. The other words follow by decreasing count
    (ties in order of first appearance).

    Args:
        words: the words to count (a flat iterable of strings).
        min_count: keep only words seen at least this often.
        max_size: keep at most this many entries in all (padding and unknown included).
        pad_token: the token at index 0.
        unk_token: the token at index 1.

    >>> vocab = Vocabulary("the cat saw the dog".split())
    >>> vocab.encode("the dog barked")
    [2, 5, 1]
    >>> vocab.decode([2, 5, 1, 0])
    ['the', 'dog', '<unk>']
    """

    def __init__(
        self,
        words: Iterable[str] = (),
        *,
        min_count: int = 1,
        max_size: int | None = None,
        pad_token: str = "<pad>",
        unk_token: str = "<unk>",
    ):
        if isinstance(words, str):
            raise TypeError("words must be an iterable of words, not one string "
                            "(use text.split())")
        if not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
        if max_size is not None and (not isinstance(max_size, int) or max_size < 2):
            raise ValueError(f"max_size must be at least 2 (padding and unknown), got {max_size!r}")
        if pad_token == unk_token:
            raise ValueError("pad_token and unk_token must differ")
        self.pad_token, self.unk_token = pad_token, unk_token
        counts = Counter(words)
        kept = [w for w, c in counts.most_common() if c >= min_count and w not in
                (pad_token, unk_token)]
        if max_size is not None:
            kept = kept[: max_size - 2]
        self._words: list[str] = [pad_token, unk_token, *kept]
        self._index = {w: i for i, w in enumerate(self._words)}

    @classmethod
    def from_trees(cls, trees: Iterable[Tree], **kwargs: Any) -> Vocabulary:
        """A vocabulary of the leaf words of ``trees`` (keyword arguments as for the class)."""
        return cls((w for tree in trees for w in tree.words()), **kwargs)

    pad_index = 0
    unk_index = 1

    @property
    def words(self) -> list[str]:
        """Every entry, in index order (padding and unknown first)."""
        return list(self._words)

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def index(self, word: str) -> int:
        """The index of ``word``, or ``unk_index`` for a word not in the vocabulary."""
        return self._index.get(word, self.unk_index)

    def encode(self, tokens: str | Sequence[str]) -> list[int]:
        """Indices of ``tokens`` (a list of words, or a string split at ASCII whitespace)."""
        if isinstance(tokens, str):
            tokens = _WORD.findall(tokens)
        get, unk = self._index.get, self.unk_index
        return [get(w, unk) for w in tokens]

    def encode_batch(
        self,
        sentences: Iterable[str | Sequence[str]],
        maxlen: int | None = None,
        padding: str = "pre",
        truncating: str = "pre",
        dtype: Any = "int32",
    ) -> np.ndarray:
        """Encode sentences into one (N, maxlen) array padded with 0 (Keras ``pad_sequences``
        conventions: ``padding`` and ``truncating`` are ``"pre"`` or ``"post"``).

        ``maxlen`` defaults to the longest sentence.
        """
        positive_int(maxlen, "maxlen", optional=True)
        return pad_sequences([self.encode(s) for s in sentences], maxlen, dtype=dtype,
                             padding=padding, truncating=truncating, value=self.pad_index)

    def decode(self, ids: Iterable[int] | np.ndarray, *, skip_padding: bool = True) -> list[str]:
        """The words for ``ids`` (padding dropped unless ``skip_padding=False``)."""
        out = []
        for i in np.asarray(ids).ravel().tolist() if isinstance(ids, np.ndarray) else ids:
            if not isinstance(i, (int, np.integer)) or not 0 <= i < len(self._words):
                raise ValueError(f"index {i!r} is outside the vocabulary 0..{len(self) - 1}")
            if i == self.pad_index and skip_padding:
                continue
            out.append(self._words[i])
        return out

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} entries: pad={self.pad_token!r}, unk={self.unk_token!r})"
