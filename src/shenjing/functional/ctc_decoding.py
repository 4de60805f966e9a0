"""Reading a CTC network's output (Keras 3's ``ops.ctc_decode``): best path, or a prefix beam
search.

A label sequence is what a path of per-frame classes collapses to: repeats merged, blanks
dropped. Best-path (greedy) decoding collapses the most likely class of each frame; it is fast
and usually right, but the most likely path need not collapse to the most likely sequence, whose
probability sums over all its paths. The prefix beam search (Hannun et al., 2014) keeps the
``beam_width`` most likely sequences so far, each with the probability of its paths ending in a
blank and ending in its last label, extends them frame by frame and merges the paths that
collapse to the same sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._util import host
from .ctc import _lengths


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy",
               beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Decode (batch, frames, classes) network outputs (logits, as Keras's) up to each of
    ``sequence_lengths``; ``mask_index`` is the blank.

    Returns ``(paths, scores)`` as Keras 3: ``paths`` (top_paths, batch, frames) class ids,
    best first, each sequence padded with -1; ``scores`` (batch, top_paths): for
    ``'greedy'`` (one path; ``merge_repeated=False`` keeps repeats) the negative sum of each
    frame's best score, for ``'beam_search'`` each sequence's log-probability under the
    log-softmax of ``inputs``.

    >>> (labels,), scores = F.ctc_decode(logits, lengths)   # best path: labels (batch, frames)
    >>> paths, logp = F.ctc_decode(logits, lengths, "beam_search", 20, top_paths=3)
    """
    x = host(inputs).astype(np.float64)
    if x.ndim != 3:
        raise ValueError(f"ctc_decode: inputs must be (batch, frames, classes), got shape "
                         f"{x.shape}")
    n, frames, classes = x.shape
    lengths = _lengths("sequence_lengths", sequence_lengths, n, frames)
    if not 0 <= mask_index < classes:
        raise ValueError(f"ctc_decode: mask_index must be a class in [0, {classes}), got "
                         f"{mask_index}")
    if strategy == "greedy":
        if top_paths != 1:
            raise ValueError(f"ctc_decode: greedy decoding gives one path, got "
                             f"top_paths={top_paths}")
        labels, scores = _greedy(x, lengths, merge_repeated, mask_index)
        return labels[None], scores
    if strategy != "beam_search":
        raise ValueError(f"ctc_decode: strategy must be 'greedy' or 'beam_search', got "
                         f"{strategy!r}")
    if not 1 <= top_paths <= beam_width:
        raise ValueError(f"ctc_decode: top_paths must lie in [1, beam_width={beam_width}], got "
                         f"{top_paths}")
    logp = x - x.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    found = [_beam_search(logp[i, :lengths[i]], beam_width, top_paths, mask_index)
             for i in range(n)]
    paths = np.stack([_padded([f[0][k] for f in found], frames) for k in range(top_paths)])
    return paths, np.array([f[1] for f in found])


def _padded(rows: list[tuple[int, ...]], width: int) -> np.ndarray:
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def _greedy(x: np.ndarray, lengths: np.ndarray, merge_repeated: bool,
            blank: int) -> tuple[np.ndarray, np.ndarray]:
    best = x.argmax(-1)
    live = np.arange(x.shape[1])[None, :] < lengths[:, None]
    keep = live & (best != blank)
    if merge_repeated:
        keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    labels = _padded([tuple(row[k]) for row, k in zip(best, keep)], x.shape[1])
    return labels, -np.where(live, x.max(-1), 0.0).sum(-1, keepdims=True)


def _beam_search(logp: np.ndarray, width: int, top: int,
                 blank: int) -> tuple[list[tuple[int, ...]], list[float]]:
    """The ``top`` most likely label sequences of one sample's (frames, classes) log-probs
    and their log-probabilities, keeping ``width`` sequences after each frame."""
    prefixes: list[tuple[int, ...]] = [()]
    ends_blank, ends_label = np.array([0.0]), np.array([-np.inf])  # log P, by how paths end
    for lp in logp:
        both = np.logaddexp(ends_blank, ends_label)
        last = np.array([p[-1] if p else -1 for p in prefixes])
        has = last >= 0
        stay_blank = both + lp[blank]
        stay_label = np.where(has, ends_label + lp[np.maximum(last, 0)], -np.inf)
        grow = both[:, None] + lp[None, :]  # prefix + c: from any path, but the label just
        rows = np.nonzero(has)[0]  # repeated needs a blank between
        grow[rows, last[rows]] = ends_blank[rows] + lp[last[rows]]
        grow[:, blank] = -np.inf
        index = {p: i for i, p in enumerate(prefixes)}
        for j, p in enumerate(prefixes):  # a grown prefix that is already kept merges into it
            i = index.get(p[:-1]) if p else None
            if i is not None:
                stay_label[j] = np.logaddexp(stay_label[j], grow[i, p[-1]])
                grow[i, p[-1]] = -np.inf
        scores = np.concatenate([np.logaddexp(stay_blank, stay_label), grow.ravel()])
        keep = np.argsort(-scores, kind="stable")[:width]
        keep = keep[np.isfinite(scores[keep])] if np.isfinite(scores[keep[0]]) else keep[:1]
        kept, blank_next, label_next = [], [], []
        for k in keep:
            if k < len(prefixes):
                kept.append(prefixes[k])
                blank_next.append(stay_blank[k])
                label_next.append(stay_label[k])
            else:
                i, c = divmod(k - len(prefixes), logp.shape[1])
                kept.append(prefixes[i] + (int(c),))
                blank_next.append(-np.inf)
                label_next.append(grow[i, c])
        prefixes, ends_blank, ends_label = kept, np.array(blank_next), np.array(label_next)
    final = np.logaddexp(ends_blank, ends_label)
    order = np.argsort(-final, kind="stable")[:top]
    paths = [prefixes[k] for k in order] + [()] * (top - len(order))
    return paths, [float(final[k]) for k in order] + [-np.inf] * (top - len(order))
