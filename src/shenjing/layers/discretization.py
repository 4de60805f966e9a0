"""Keras 3's ``Discretization`` layer: numbers bucketed by boundaries (given, or learned by
``adapt`` as Keras's quantile summary finds them), as int64 bin ids or their encodings
(``CategoryEncoding``'s, ``layers/lookup.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor
from .lookup import _ENCODINGS, _FORMER_MODES, _as_array, _ListInputs, encode_categorical


class Discretization(_ListInputs):
    """Bucket numbers by boundaries (Keras 3's layer): with boundaries ``b``, a value ``x``
    goes to bin ``i`` where ``b[i - 1] <= x < b[i]`` (bin 0 below ``b[0]``, the last bin from
    ``b[-1]`` up), so ``len(b) + 1`` bins.

    Args:
        bin_boundaries: the sorted boundaries, or None to learn ``num_bins - 1`` of them with
            :meth:`adapt` (approximate quantiles, Keras's summary algorithm).
        num_bins: the number of bins to learn (with ``bin_boundaries`` too, it must be
            ``len(bin_boundaries) + 1``).
        epsilon: the quantile summary's error (Keras's; smaller is finer and slower).
        output_mode: 'int' (default: int64 bin ids), 'one_hot', 'multi_hot' or 'count' (float32
            vectors of the number of bins, see ``CategoryEncoding``).
        sparse: not supported.

    Input shape: numbers, any shape. Output shape: the input's ('int'); for the encodings, as
        ``CategoryEncoding``'s.

    >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])([[-1.5, 1.0, 3.4, 0.5]]).numpy()
    array([[0, 2, 3, 1]])
    """

    def __init__(self, bin_boundaries: Any = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        output_mode = _FORMER_MODES.get(output_mode, output_mode)
        if output_mode not in ("int", *_ENCODINGS):
            raise ValueError(f"Discretization: output_mode must be 'int', 'one_hot', "
                             f"'multi_hot' or 'count', got {output_mode!r}")
        if sparse:
            raise NotImplementedError("Discretization(sparse=True): shenjing has no sparse "
                                      "tensors")
        if bin_boundaries is None and num_bins is None:
            raise ValueError("Discretization needs bin_boundaries, or num_bins to adapt()")
        if num_bins is not None and (isinstance(num_bins, bool) or int(num_bins) != num_bins
                                     or num_bins < 1):
            raise ValueError(f"Discretization: num_bins must be a positive int, got "
                             f"{num_bins!r}")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in np.asarray(bin_boundaries).reshape(-1)]
            if any(a > b for a, b in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(f"Discretization: bin_boundaries must be sorted, got "
                                 f"{bin_boundaries}")
            if num_bins is not None and len(bin_boundaries) != num_bins - 1:
                raise ValueError(f"Discretization: {len(bin_boundaries)} bin_boundaries make "
                                 f"{len(bin_boundaries) + 1} bins, not num_bins={num_bins}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon, self.output_mode, self.sparse = float(epsilon), output_mode, False
        self._has_input_boundaries = bin_boundaries is not None and num_bins is None

    def adapt(self, data: Any) -> None:
        """Learn ``num_bins - 1`` boundaries at the quantiles 1/num_bins, 2/num_bins, ... of
        ``data`` (an array, or an iterable of batches), as Keras's streaming summary finds
        them: approximate within ``epsilon`` on large data, interpolated on small."""
        if self._has_input_boundaries:
            raise ValueError(f"Layer '{self.name}' (Discretization) was given bin_boundaries; "
                             "create it with num_bins to adapt()")
        from ..data.loader import adapt_batches

        batches = adapt_batches(data, (tuple,))
        summary = np.zeros((2, 0))
        for batch in batches:
            values = np.asarray(_as_array(batch), dtype=np.float32)
            merged = np.concatenate((summary, _summarize(values, self.epsilon)), axis=1)
            summary = _compress(merged[:, np.argsort(merged[0], kind="stable")], self.epsilon)
        if not summary.shape[1]:
            raise ValueError(f"Layer '{self.name}' (Discretization).adapt: got no data")
        assert self.num_bins is not None
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs: Tensor) -> Tensor:
        if self.bin_boundaries is None:
            raise ValueError(f"Layer '{self.name}' (Discretization) has no bin boundaries: "
                             "call adapt() first")
        values = _as_array(inputs)
        if values.dtype.kind not in "biuf":
            raise TypeError(f"Layer '{self.name}' (Discretization) takes numbers, got dtype "
                            f"{values.dtype}")
        # TF's Bucketize: the number of boundaries <= x
        ids = np.searchsorted(np.asarray(self.bin_boundaries, np.float64), values,
                              side="right").astype(np.int64)
        if self.output_mode == "int":
            return Tensor._wrap(ids)
        return Tensor._wrap(encode_categorical(ids, len(self.bin_boundaries) + 1,
                                               self.output_mode))


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras's quantile summary of one batch: every ``len / (1 / epsilon)``-th sorted value
    (every value when fewer than 1 / epsilon), each weighing the values it stands for."""
    values = np.sort(values.reshape(-1))
    increment = values.size * epsilon
    step = max(increment, 1)
    boundaries = values[int(increment)::int(step)]
    return np.stack([boundaries, np.full(boundaries.shape, float(step))])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras's ``compress_summary``: the summary interpolated at the quantiles epsilon,
    2 epsilon, ..., 1 (left as it is when it has fewer than 1 / epsilon entries)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_percents, summary[0])
    cum_weights = np.interp(percents, cum_percents, cum_weights)
    new_weights = cum_weights - np.concatenate(([0.0], cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype(np.float32)
