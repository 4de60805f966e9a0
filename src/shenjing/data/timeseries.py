"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a series, as batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._checks import positive_int
from ..backend import new_generator
from ._passes import _buffer_shuffled
from .dataset import Dataset


class TimeseriesDataset(Dataset):
    """Batches of windows ``data[p : p + sequence_length * sampling_rate : sampling_rate]``
    (and ``targets[p]``) for the start positions ``p``, gathered when a batch is asked for, so
    the windows are never all held in memory. A :class:`Dataset` (Keras returns a tf.data
    one): iterate it, transform it (``take``, ``map``, ``prefetch``, ``unbatch``...) or pass
    it to ``fit``, which keeps its order as it does any dataset's; ``ds[i]`` is batch ``i``
    as arrays (in the order of the first shuffle). With ``rng``, each pass shuffles the
    windows again through a buffer of ``buffer_size`` before batching them (Keras's
    ``shuffle(batch_size * 8)``): epochs see other batches."""

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, starts: np.ndarray,
                 offsets: np.ndarray, batch_size: int | None,
                 rng: np.random.Generator | None = None, buffer_size: int = 0) -> None:
        self.data, self.targets, self.starts, self.offsets = data, targets, starts, offsets
        self.batch_size = batch_size
        count = len(starts) if batch_size is None else -(-len(starts) // batch_size)

        def batches() -> Iterator[Any]:
            if rng is None:
                return (self[i] for i in range(count))
            order = np.fromiter(_buffer_shuffled(range(len(starts)), buffer_size, rng),
                                dtype=np.intp, count=len(starts))
            return (self._windows(starts[order[k:k + (batch_size or 1)]], batch_size is None)
                    for k in range(0, len(starts), batch_size or 1))

        super().__init__(batches, count)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a dataset of {len(self)}")
        size = self.batch_size or 1
        return self._windows(self.starts[index * size:(index + 1) * size], not self.batch_size)

    def _windows(self, p: np.ndarray, single: bool) -> Any:
        """The windows starting at ``p`` (and their targets), batched, or the one window."""
        if single:  # unbatched: one window (and its target)
            p = p[0]
        x = self.data[p[..., None] + self.offsets]
        return x if self.targets is None else (x, self.targets[p])


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Sliding windows over ``data`` (Keras's arguments and order).

    Window ``k`` starts at ``p = start_index + k * sequence_stride`` and holds
    ``sequence_length`` rows taken every ``sampling_rate`` steps; its target is ``targets[p]``
    (shift ``targets`` to forecast ahead). Only windows that end before ``end_index`` are made,
    and no more than ``len(targets)``; where none fits, the dataset is empty (as Keras's).

    Args:
        data: array of shape (timesteps, ...) (rows are time).
        targets: array indexed like ``data``, or None for windows alone.
        sequence_length, sequence_stride, sampling_rate: window size, step between window
            starts, step between the rows of a window.
        batch_size: windows per batch (None: single windows, unbatched).
        shuffle, seed: shuffle the window order once (with ``seed``, as Keras's
            ``np.random.RandomState(seed)``; None: from ``set_random_seed``).
        start_index, end_index: the rows used, ``data[start_index:end_index]``.

    Returns:
        A dataset of ``(windows, targets)`` batches, shapes (batch, sequence_length, ...) and
        (batch, ...), or of windows alone.

    >>> ds = timeseries_dataset_from_array(np.arange(100), np.arange(100)[10:], 10,
    ...                                    sampling_rate=2, batch_size=4)
    >>> x, y = ds[0]; x[0], y[0]     # (array([ 0,  2, ..., 18]), 10)
    """
    data = np.asarray(getattr(data, "data", data))
    for name, value in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                        ("sampling_rate", sampling_rate)):
        positive_int(value, name)
    positive_int(batch_size, "batch_size", optional=True)
    start = 0 if start_index is None else start_index
    end = len(data) if end_index is None else end_index
    if not 0 <= start < len(data) or not start < end <= len(data):
        raise ValueError(f"need 0 <= start_index < end_index <= len(data) = {len(data)}, got "
                         f"start_index={start_index}, end_index={end_index}")
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(getattr(targets, "data", targets))
        num = min(num, len(targets))
    starts = start + np.arange(0, num, sequence_stride)  # none when no window fits: as Keras
    rng = None
    if shuffle:  # Keras's RandomState(seed).shuffle: the same windows first for a seed, then
        # a new local order each pass (its tf.data shuffle of batch_size * 8, or 1024)
        seed = int(new_generator().integers(1_000_000)) if seed is None else seed
        np.random.RandomState(seed).shuffle(starts)
        rng = np.random.default_rng(seed)
    offsets = np.arange(sequence_length) * sampling_rate
    return TimeseriesDataset(data, targets, starts, offsets, batch_size, rng,
                             1024 if batch_size is None else batch_size * 8)
