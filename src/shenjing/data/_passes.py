"""The passes of ``tf.data`` datasets (``data/dataset.py``): streams of row-index blocks for
datasets of array rows (taken, skipped, rechunked into batches, shuffled), and the passes of any
dataset repeated, shuffled through a buffer, cached, or cut into windows."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

_BLOCK = 1024  # indices per block of a buffered shuffle's output

Blocks = Callable[[], Iterator[np.ndarray]]  # a fresh stream of row-index blocks per pass


# -- index blocks -----------------------------------------------------------------------------
def _take_blocks(blocks: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    for block in blocks:
        if count <= 0:
            return
        yield block[:count]
        count -= len(block)


def _skip_blocks(blocks: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    for block in blocks:
        if count < len(block):
            yield block[count:]
        count = max(count - len(block), 0)


def _rechunked(blocks: Iterable[np.ndarray], size: int, drop_remainder: bool
               ) -> Iterator[np.ndarray]:
    """The indices of ``blocks`` cut into chunks of ``size`` (the last may be shorter)."""
    pending = np.empty(0, dtype=np.intp)
    for block in blocks:
        pending = np.concatenate([pending, block]) if len(pending) else block
        whole = len(pending) - len(pending) % size
        for start in range(0, whole, size):
            yield pending[start:start + size]
        pending = pending[whole:]
    if len(pending) and not drop_remainder:
        yield pending


def _rows(data: list[np.ndarray], idx: np.ndarray | slice) -> list[np.ndarray]:
    return [a[idx] for a in data]


def _shuffled_blocks(blocks: Blocks, n: int, size: int,
                     generator: Callable[[], np.random.Generator]) -> Blocks:
    """The indices of ``blocks`` (``n`` of them, if known) shuffled through a buffer of
    ``size``, a generator from ``generator()`` for each pass."""

    def shuffled() -> Iterator[np.ndarray]:
        if 0 <= n <= size:  # the whole pass fits the buffer: one permutation
            idx = np.concatenate(list(blocks()) or [np.empty(0, np.intp)])
            yield idx[generator().permutation(len(idx))]
            return
        flat = itertools.chain.from_iterable(b.tolist() for b in blocks())
        out = _buffer_shuffled(flat, size, generator())
        while block := list(itertools.islice(out, _BLOCK)):
            yield np.asarray(block, dtype=np.intp)

    return shuffled


# -- passes -----------------------------------------------------------------------------------
def _repeated(make: Callable[[], Iterator[Any]], count: int) -> Iterator[Any]:
    """``count`` passes of ``make()`` (-1: forever, stopping if a pass is empty)."""
    passes = itertools.count() if count < 0 else range(count)
    for _ in passes:
        empty = True
        for item in make():
            empty = False
            yield item
        if empty:
            return


def _buffer_shuffled(items: Iterable[Any], buffer_size: int, rng: np.random.Generator
                     ) -> Iterator[Any]:
    """TensorFlow's shuffle: fill a buffer with the first ``buffer_size`` items, then output
    a random one from it and put the next input in its place; at the end, drain the buffer in
    random order. A buffer as large as the input is a uniform permutation."""
    buffer: list[Any] = []
    draws = iter(())
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        draw = next(draws, None)
        if draw is None:  # uniform draws in bulk: one NumPy call per _BLOCK items
            draws = iter(rng.random(_BLOCK).tolist())
            draw = next(draws)
        j = int(draw * buffer_size)
        yield buffer[j]
        buffer[j] = item
    for k in rng.permutation(len(buffer)):
        yield buffer[k]


class _Cache:
    """The items of the first complete pass of ``make()``, replayed after (TF's ``cache``: a
    pass stopped early caches nothing)."""

    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        self.make, self.items = make, None

    def __call__(self) -> Iterator[Any]:
        if self.items is not None:
            yield from self.items
            return
        seen = []
        for item in self.make():
            seen.append(item)
            yield item
        self.items = seen


def _windows(items: Iterator[Any], size: int, shift: int, stride: int, drop_remainder: bool
             ) -> Iterator[list[Any]]:
    """Lists of ``size`` items ``stride`` apart, a new one starting every ``shift`` items; the
    last ones shorter unless ``drop_remainder``."""
    span = (size - 1) * stride + 1
    buffer: list[Any] = []
    for item in items:
        buffer.append(item)
        if len(buffer) == max(span, shift):
            yield buffer[:span:stride]
            buffer = buffer[shift:]
    while buffer and not drop_remainder:
        yield buffer[:span:stride]
        buffer = buffer[shift:]
    if buffer and drop_remainder and len(buffer) >= span:
        yield buffer[:span:stride]
