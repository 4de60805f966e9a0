"""torch's ``pad`` (pairs from the last axis backwards; constant, reflect, replicate and
circular), ``embedding`` (with ``padding_idx``) and ``one_hot``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd import Tensor
from ...backend import get_xp
from ...functional import elementwise as E
from ...functional import shape as S
from ...functional.embedding import embedding as _lookup
from ...functional.embedding import one_hot as _one_hot


def _source_index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each output position along an axis, the input position it copies."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the "
                             f"dimension's size {n}")
        return np.where(i < 0, -i, np.where(i >= n, 2 * (n - 1) - i, i))
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        if lo > n or hi > n:
            raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the "
                             f"dimension's size {n}")
        return i % n
    raise NotImplementedError(f"pad: mode {mode!r} is not supported (constant, reflect, "
                              "replicate, circular)")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """torch's ``F.pad``: ``pad`` lists (before, after) pairs starting from the LAST axis
    ((left, right, top, bottom) pads width then height of NCHW images), unlike NumPy's
    ``pad_width`` (first axis first) that shenjing's ``F.pad`` takes. Negative constant
    padding crops.

    >>> y = F.pad(x, (1, 1, 2, 2))   # (N, C, H, W) -> (N, C, H + 4, W + 2)
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: {len(pad)} values for {x.ndim} dimensions; padding length must "
                         "be divisible by 2 and at most twice the number of dimensions")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    if mode != "constant":
        for axis, (lo, hi) in enumerate(widths):
            if lo or hi:
                index = get_xp(x.data).asarray(_source_index(mode, x.shape[axis], lo, hi))
                x = S.getitem(x, (slice(None),) * axis + (index,))
        return x
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        x = S.getitem(x, tuple(slice(max(-lo, 0), n - max(-hi, 0))
                               for (lo, hi), n in zip(widths, x.shape)))
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return S.pad(x, widths, constant_values=0.0 if value is None else value)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """torch's ``F.embedding``: rows of ``weight`` (num_embeddings, dim) picked by ``input``;
    the row ``padding_idx`` gets no gradient. ``max_norm``: the rows looked up whose
    ``norm_type`` norm exceeds it are first scaled down to it, in the weight itself (torch's
    renorm, not recorded); ``scale_grad_by_freq``: each row's gradient divided by how often
    the batch uses it.

    >>> vectors = F.embedding(ids, weight, padding_idx=0)
    """
    if padding_idx is not None and not -weight.shape[0] <= padding_idx < weight.shape[0]:
        raise ValueError(f"embedding: padding_idx={padding_idx} must index a row of the weight "
                         f"({weight.shape[0]} rows)")
    xp = get_xp(weight.data)
    ids = input.data if isinstance(input, Tensor) else xp.asarray(input)
    if max_norm is not None:
        _renorm_rows(weight, xp.unique(ids), max_norm, norm_type)
    out = _lookup(input, weight)
    if scale_grad_by_freq:  # the value unchanged (x - x is 0), the gradient scaled
        _, where, counts = xp.unique(ids, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[where.reshape(ids.shape)]).astype(out.dtype)[..., None]
        out = out.detach() + (out - out.detach()) * scale
    if padding_idx is None:
        return out
    row = padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx
    return E.where((ids != row)[..., None], out, out.detach())


def embedding_bag(input: Any, weight: Tensor, offsets: Any = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Any = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """torch's ``F.embedding_bag``: each bag's rows of ``weight`` reduced by ``mode`` ('sum',
    'mean' or 'max') into one row, without the (bags, length, dim) lookup kept around by the
    user. Bags are the rows of a 2-D ``input``, or the runs of a 1-D one that start at
    ``offsets`` (whose last entry ends the last bag with ``include_last_offset``). Entries equal
    to ``padding_idx`` take no part (a mean divides by the others); an empty bag is zeros.
    ``per_sample_weights`` (``mode='sum'`` only) scale each entry's row first."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    xp = get_xp(weight.data)
    ids = xp.asarray(input.data if isinstance(input, Tensor) else input)
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for a 2-D input (each row "
                             "is a bag)")
        bags = ids.shape[0]
        bag = xp.repeat(xp.arange(bags), ids.shape[1])
    elif ids.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: a 1-D input needs offsets (where each bag starts)")
        given = xp.asarray(offsets.data if isinstance(offsets, Tensor) else offsets)
        if given.ndim != 1 or len(given) and (
                given[0] != 0 or (xp.diff(given) < 0).any() or given[-1] > len(ids)):
            raise ValueError(f"embedding_bag: offsets must be 1-D, start at 0 and not "
                             f"decrease within the input's {len(ids)} entries, got {given}")
        starts = given[:-1] if include_last_offset and len(given) else given
        bags = len(starts)
        bag = xp.searchsorted(starts, xp.arange(len(ids)), side="right") - 1
    else:
        raise ValueError(f"embedding_bag: input must be 1-D (with offsets) or 2-D, got shape "
                         f"{ids.shape}")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights need mode='sum', got {mode!r}")
    weights_shape = tuple(np.shape(getattr(per_sample_weights, "data", per_sample_weights)))
    if per_sample_weights is not None and weights_shape != ids.shape:
        raise ValueError(f"embedding_bag: per_sample_weights of shape {weights_shape} must be "
                         f"the input's {ids.shape}")
    if bags == 0:  # no bags: an empty result
        return Tensor._wrap(xp.zeros((0, weight.shape[1]), weight.dtype))
    flat = ids.reshape(-1)
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    keep = xp.ones(flat.shape, bool)
    if padding_idx is not None:
        keep = flat != (padding_idx + weight.shape[0] if padding_idx < 0 else padding_idx)
    if per_sample_weights is not None:
        scale = per_sample_weights if isinstance(per_sample_weights, Tensor) else Tensor._wrap(
            xp.asarray(per_sample_weights, dtype=weight.dtype))
        rows = rows * S.reshape(scale, (-1, 1))
    from ...ops import segment_max, segment_sum  # (keras.ops: loaded on first use)

    bag = xp.where(keep, bag, bags)  # an excluded entry goes to a segment past the last
    counts = xp.bincount(bag, minlength=bags + 1)[:bags]
    if mode == "max":
        picked = segment_max(rows, bag, num_segments=bags)
        return E.where((counts > 0)[:, None], picked, 0.0)
    summed = segment_sum(rows, bag, num_segments=bags)
    if mode == "sum":
        return summed
    return summed / xp.maximum(counts, 1).astype(weight.dtype)[:, None]


def _renorm_rows(weight: Tensor, rows: Any, max_norm: float, norm_type: float) -> None:
    """torch's ``embedding_renorm_``: ``rows`` of the weight whose norm exceeds ``max_norm``
    scaled to it (by max_norm / (norm + 1e-7)), in place, outside the graph."""
    picked = weight.data[rows]
    magnitudes = abs(picked)
    norms = (magnitudes.max(axis=1) if norm_type == float("inf") else
             (magnitudes ** norm_type).sum(axis=1) ** (1.0 / norm_type))
    over = norms > max_norm
    scale = (max_norm / (norms[over] + 1e-7)).astype(picked.dtype)
    weight.data[rows[over]] = picked[over] * scale[:, None]


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """torch's ``F.one_hot``: int64 codes along a new last axis."""
    return _one_hot(tensor, num_classes)
