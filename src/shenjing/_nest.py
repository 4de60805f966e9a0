"""Nested structures of leaves (tuples, lists, dicts), as TensorFlow's ``tf.nest``: what
``GradientTape.gradient``'s sources and ``tf.data``'s elements are made of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(structure: Any) -> list[Any]:
    """The leaves, depth first; a dict's in sorted key order."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack(structure: Any, leaves: list[Any]) -> Any:
    """``leaves`` (in :func:`flatten`'s order) back in ``structure``'s nesting."""
    it = iter(leaves)

    def build(s: Any) -> Any:
        if isinstance(s, dict):
            return {key: build(s[key]) for key in sorted(s)}
        if isinstance(s, (list, tuple)):
            items = [build(item) for item in s]
            return items if isinstance(s, list) else tuple(items)
        return next(it)

    return build(structure)


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``fn`` of each leaf, in the same nesting."""
    return pack(structure, [fn(leaf) for leaf in flatten(structure)])
