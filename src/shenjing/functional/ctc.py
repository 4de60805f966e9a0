"""Connectionist temporal classification (Graves et al., 2006): the loss of a sequence model whose
output frames outnumber the labels and are not aligned to them (speech, handwriting, OCR).

A label sequence l of length S is extended with blanks, l' = (blank, l1, blank, l2, ..., blank)
of length 2S + 1; an alignment is a path through l' that moves by 0 or 1 each frame, or by 2
when it skips a blank between two different labels. The loss is -log P(l | x), P summing the
paths' probabilities: the forward variables alpha_t(s) (paths over frames 0..t ending at s)
give it, the backward ones beta_t(s) (frames t+1.. from s) with them give each frame's posterior
gamma_t(k) = sum over s with l'_s = k of alpha_t(s) beta_t(s) / P. Both run one frame at a
time over the whole batch. The gradient with respect to the log-probabilities is
-gamma (so, through a log-softmax, softmax - gamma with respect to the logits).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import native
from ..autograd import Function, Tensor
from ..backend import get_xp
from ..native import address
from . import activation as A
from ._util import as_tensor, host


class _CTC(Function):
    """Per-sample -log P(targets | log_probs) for log_probs (batch, frames, classes).

    alpha and beta are kept as probabilities rescaled to sum to 1 at each frame (Graves's own
    scheme), in float64; each frame's emissions are first divided by their largest, and the
    logs of both factors add up to log P. A frame then costs a few additions and products
    per state (in C, native/ctc.c, where the kernels load), where log-space recursions spend
    most of their time in logaddexp. The posteriors need no factor: gamma_t(s) = alpha_t(s)
    beta_t(s) / the sum of it over s."""

    def forward(self, logp, targets=None, input_lengths=None, target_lengths=None, blank=0,
                zero_infinity=False):
        n, frames, _ = logp.shape
        width = 2 * targets.shape[1] + 1
        ext = np.full((n, width), blank, dtype=np.int64)  # l', padded with blanks
        ext[:, 1::2] = targets
        # a skip over a blank is allowed into a label that differs from the one two back
        skip = np.zeros((n, width), dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        rows, live = np.arange(n), np.arange(frames)[None, :] < input_lengths[:, None]
        ends = 2 * target_lengths  # a path ends on l's last label or the blank after it
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # each state's log-probability at each frame, (n, frames, width), in float64, -inf
            # where no complete path can be: the rescaled probabilities then hold no mass that
            # cannot reach the end (with long label sequences it would crowd out the rest)
            logs = np.take_along_axis(logp, np.broadcast_to(ext[:, None, :], (n, frames, width)),
                                      axis=2).astype(np.float64)
            logs[~_viable(frames, width, input_lengths, ends)] = -np.inf
            top = logs.max(axis=2, keepdims=True)  # (n, frames, 1)
            top[~np.isfinite(top)] = 0.0
            y = np.exp(logs - top)  # the emissions, each frame's largest 1
            alpha, log_total, lost = _alpha(y, skip, input_lengths)
            log_scale = log_total + top[:, :, 0]
            last = alpha[rows, np.maximum(input_lengths - 1, 0)]
            tail = last[rows, ends] + np.where(ends > 0, last[rows, ends - 1], 0.0)
            log_p = np.log(tail) + np.where(live, log_scale, 0.0).sum(axis=1)
            # Where a product may have underflowed (an emission or a rescaled alpha so small
            # that the next product could leave float64's range: hundreds of nats apart within
            # a frame), or no path exists, the sample is redone in log space, exactly.
            lost |= (np.isfinite(logs) & (y < _WEAK_EMISSION)).any(axis=(1, 2))
            redo = (input_lengths > 0) & (lost | ~(tail > 0))
            log_p[redo] = _log_end(_log_alpha(logs[redo], skip[redo]), input_lengths[redo],
                                   ends[redo])
            # no frames: only the empty label sequence, with probability 1
            log_p = np.where(input_lengths > 0, log_p,
                             np.where(target_lengths == 0, 0.0, -np.inf))
        loss = -log_p
        bad = ~np.isfinite(loss)
        if zero_infinity:
            loss = np.where(bad, 0.0, loss)
        if self.needs_input_grad[0]:
            self.save_for_backward(y, alpha, ext, skip, input_lengths, target_lengths,
                                   bad if zero_infinity else None, logp.shape, logp.dtype,
                                   (redo, logs, log_p))
        return loss.astype(logp.dtype)

    def backward(self, g):
        (y, alpha, ext, skip, input_lengths, target_lengths, zeroed, shape, dtype,
         (redo, logs, log_p)) = self.saved
        ends = 2 * target_lengths
        grad, lost = _log_prob_grad(y, skip, input_lengths, ends, ext, alpha, shape[2])
        again = np.nonzero(redo | (lost & (input_lengths > 0)))[0]  # beta may underflow too
        if len(again):
            log_alpha = _log_alpha(logs[again], skip[again])
            grad[again] = _scatter(-_log_posteriors(logs[again], skip[again],
                                                    input_lengths[again], ends[again],
                                                    log_alpha, log_p[again]),
                                   ext[again], shape[2])
        scale = g.astype(np.float64)
        if zeroed is not None:
            scale = np.where(zeroed, 0.0, scale)
            grad[zeroed] = 0.0  # NaN where no path was left
        grad *= scale[:, None, None]
        return grad.astype(dtype)


def _alpha(y: np.ndarray, skip: np.ndarray, lengths: np.ndarray) -> tuple[Any, Any, Any]:
    """alpha (n, frames, width), rescaled to sum to 1 at each frame; the log of each frame's
    sum before that (log_total); and, per sample, whether a rescaled value fell below
    _WEAK_STATE (lost); in C where the kernels load (native/ctc.c)."""
    n, frames, width = y.shape
    alpha, log_total = np.zeros((n, frames, width)), np.zeros((n, frames))
    lost = np.zeros(n, dtype=bool)
    kernels = native.kernels()
    if kernels is not None:
        kernels.sj_ctc_alpha(n, frames, width, address(y), address(skip.view(np.uint8)),
                             address(lengths), address(alpha), address(log_total),
                             address(lost.view(np.uint8)))
        return alpha, log_total, lost
    a = np.zeros((n, width))
    a[:, :2] = y[:, 0, :2]
    for t in range(frames):
        if t:
            prev = alpha[:, t - 1]
            a = prev.copy()
            a[:, 1:] += prev[:, :-1]
            a[:, 2:] += np.where(skip[:, 2:], prev[:, :-2], 0.0)
            a *= y[:, t]
        total = a.sum(axis=1, keepdims=True)
        alpha[:, t] = a / np.where(total > 0, total, 1.0)
        with np.errstate(divide="ignore"):  # log 0: no path is left
            log_total[:, t] = np.log(total[:, 0])
        weak = ((alpha[:, t] > 0) & (alpha[:, t] < _WEAK_STATE)).any(axis=1)
        lost |= weak & (t < lengths)
    return alpha, log_total, lost


def _log_prob_grad(y: np.ndarray, skip: np.ndarray, lengths: np.ndarray, ends: np.ndarray,
                   ext: np.ndarray, alpha: np.ndarray, classes: int) -> np.ndarray:
    """d loss / d log-probabilities (n, frames, classes): minus each class's posterior, the
    sum over its states s of P(in s at frame t | l, x) = alpha beta / the sum over s of it,
    beta running over the frames after t from 1 at the two end states of each sample's last
    frame (rescaled each frame); 0 past a sample's frames, NaN where no path is left. Also,
    per sample, whether a rescaled beta fell below _WEAK_STATE or a frame's alpha beta summed to
    0 (underflow)."""
    n, frames, width = y.shape
    grad = np.zeros((n, frames, classes))
    lost = np.zeros(n, dtype=bool)
    kernels = native.kernels()
    if kernels is not None and kernels.sj_ctc_grad(
            n, frames, width, classes, address(y), address(skip.view(np.uint8)),
            address(lengths), address(ends), address(ext), address(alpha),
            address(grad), address(lost.view(np.uint8))) == 0:
        return grad, lost
    rows = np.arange(n)
    start = np.zeros((n, width))
    start[rows, ends] = 1.0
    start[rows[ends > 0], ends[ends > 0] - 1] = 1.0
    beta = np.zeros((n, width))
    post = np.zeros((n, frames, width))
    for t in range(frames - 1, -1, -1):
        if t < frames - 1:
            nxt = beta * y[:, t + 1]
            beta = nxt.copy()
            beta[:, :-1] += nxt[:, 1:]
            beta[:, :-2] += np.where(skip[:, 2:], nxt[:, 2:], 0.0)
            total = beta.sum(axis=1, keepdims=True)
            beta = beta / np.where(total > 0, total, 1.0)
        beta = np.where((lengths - 1 == t)[:, None], start,
                        np.where((t < lengths - 1)[:, None], beta, 0.0))
        lost |= ((beta > 0) & (beta < _WEAK_STATE)).any(axis=1)
        both = alpha[:, t] * beta
        # each factor may be above _WEAK_STATE and their product still underflow (1e-196 *
        # 1e-153): the sample is then redone in log space too
        lost |= ~(both.sum(axis=1) > 0) & (t < lengths)
        with np.errstate(divide="ignore", invalid="ignore"):
            post[:, t] = np.where((t < lengths)[:, None],
                                  both / both.sum(axis=1, keepdims=True), 0.0)
    return _scatter(-post, ext, classes), lost


def _scatter(values: np.ndarray, ext: np.ndarray, classes: int) -> np.ndarray:
    """(n, frames, width) per-state values summed onto their classes: (n, frames, classes)."""
    n, frames, width = values.shape
    out = np.zeros((n, frames, classes))
    batch, frame = np.arange(n)[:, None], np.arange(frames)[None, :]
    for s in range(width):  # each (sample, frame) once per s: no index repeats
        out[batch, frame, ext[:, s][:, None]] += values[:, :, s]
    return out


# -- the exact log-space recursions, for the samples whose rescaled sums underflow ---------------
# Products of a rescaled state (>= 1e-200) and an emission (>= 1e-100) stay in float64's normal
# range (>= 1e-300); a sample with anything smaller is redone in log space.
_WEAK_STATE, _WEAK_EMISSION = 1e-200, 1e-100


def _viable(frames: int, width: int, lengths: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n, frames, width): state s at frame t lies on some complete path: reachable from the
    start (s <= 2t + 1), within l' (s <= end), and leaving frames for the labels after it
    ((end - s) // 2 <= frames left)."""
    t = np.arange(frames)[None, :, None]
    s = np.arange(width)[None, None, :]
    e, left = ends[:, None, None], (lengths[:, None, None] - 1) - t
    return (s <= 2 * t + 1) & (s <= e) & ((e - s) // 2 <= left) & (left >= 0)


def _lse(*terms: np.ndarray) -> np.ndarray:
    out = terms[0]
    for term in terms[1:]:
        out = np.logaddexp(out, term)
    return out


def _moved(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` moved k states along the last axis (right for k > 0), -inf filled in."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _log_alpha(logs: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """log alpha (m, frames, width) from the states' log-emissions."""
    m, frames, width = logs.shape
    out = np.full((m, frames, width), -np.inf)
    if m:
        out[:, 0, :2] = logs[:, 0, :2]
        for t in range(1, frames):
            prev = out[:, t - 1]
            out[:, t] = _lse(prev, _moved(prev, 1),
                             np.where(skip, _moved(prev, 2), -np.inf)) + logs[:, t]
    return out


def _log_end(log_alpha: np.ndarray, lengths: np.ndarray, ends: np.ndarray) -> np.ndarray:
    rows = np.arange(len(lengths))
    last = log_alpha[rows, np.maximum(lengths - 1, 0)]
    return np.logaddexp(last[rows, ends], np.where(ends > 0, last[rows, ends - 1], -np.inf))


def _log_posteriors(logs: np.ndarray, skip: np.ndarray, lengths: np.ndarray, ends: np.ndarray,
                    log_alpha: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """P(in state s at frame t | l, x), (m, frames, width), from log alpha and log beta."""
    m, frames, width = logs.shape
    rows = np.arange(m)
    start = np.full((m, width), -np.inf)
    start[rows, ends] = 0.0
    start[rows[ends > 0], ends[ends > 0] - 1] = 0.0
    skip_from = np.zeros_like(skip)  # s may skip to s + 2
    skip_from[:, :-2] = skip[:, 2:]
    post = np.zeros((m, frames, width))
    beta = np.full((m, width), -np.inf)
    for t in range(frames - 1, -1, -1):
        if t < frames - 1:
            nxt = beta + logs[:, t + 1]
            beta = _lse(nxt, _moved(nxt, -1), np.where(skip_from, _moved(nxt, -2), -np.inf))
        beta = np.where((lengths - 1 == t)[:, None], start,
                        np.where((t < lengths - 1)[:, None], beta, -np.inf))
        with np.errstate(invalid="ignore"):  # -inf - -inf: no path at all, NaN as 0/0
            post[:, t] = np.exp(log_alpha[:, t] + beta - log_p[:, None])
    return post


def _lengths(name: str, value: Any, n: int, most: int) -> np.ndarray:
    lengths = host(value)
    if lengths.ndim == 0:
        lengths = np.full(n, lengths)
    if lengths.shape != (n,) or lengths.dtype.kind not in "iu" and not (
            lengths.dtype.kind == "f" and np.all(lengths == np.round(lengths))):
        raise ValueError(f"ctc_loss: {name} must be {n} whole numbers (one per sample), got "
                         f"{lengths!r}")
    lengths = lengths.astype(np.int64)
    if (lengths < 0).any() or (lengths > most).any():
        raise ValueError(f"ctc_loss: {name} must lie in [0, {most}], got {lengths.tolist()}")
    return lengths


def ctc_log_likelihood_loss(log_probs: Tensor, targets: Any, input_lengths: Any,
                            target_lengths: Any, blank: int = 0,
                            zero_infinity: bool = False) -> Tensor:
    """Per-sample CTC loss -log P(targets | log_probs), batch first: ``log_probs`` (batch,
    frames, classes) are log-probabilities (a log-softmax over classes), ``targets`` (batch,
    longest) class ids padded past each ``target_lengths``, ``input_lengths`` the frames of
    each sample. An impossible alignment (too few frames) gives inf, or 0 with
    ``zero_infinity`` (and no gradient)."""
    log_probs = as_tensor(log_probs)
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log-probabilities must be (batch, frames, classes), got "
                         f"shape {log_probs.shape}")
    if get_xp(log_probs.data) is not np:
        raise NotImplementedError("ctc_loss runs on NumPy arrays only (move the tensor to "
                                  "the CPU first)")
    n, frames, classes = log_probs.shape
    ids = host(targets)
    if ids.ndim != 2 or ids.shape[0] != n:
        raise ValueError(f"ctc_loss: targets must be (batch, longest) = ({n}, ...), got shape "
                         f"{ids.shape}")
    target_lengths = _lengths("target_lengths", target_lengths, n, ids.shape[1])
    input_lengths = _lengths("input_lengths", input_lengths, n, frames)
    ids = ids.astype(np.int64)
    used = np.arange(ids.shape[1])[None, :] < target_lengths[:, None]
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank must be a class index in [0, {classes}), got {blank}")
    if used.any() and ((ids[used] < 0).any() or (ids[used] >= classes).any()
                       or (ids[used] == blank).any()):
        raise ValueError(f"ctc_loss: targets must be class ids in [0, {classes}) other than "
                         f"the blank ({blank})")
    ids = np.where(used, ids, blank)
    return _CTC.apply(log_probs, targets=ids, input_lengths=input_lengths,
                      target_lengths=target_lengths, blank=blank, zero_infinity=zero_infinity)


def ctc_loss(target: Any, output: Tensor, target_length: Any, output_length: Any,
             mask_index: int = 0) -> Tensor:
    """Keras 3's ``ops.ctc_loss``: per-sample CTC loss of ``output`` logits (batch, frames,
    classes) against ``target`` (batch, longest) class ids, with each sample's label and frame
    counts; ``mask_index`` is the blank class.

    >>> loss = F.ctc_loss(labels, logits, label_lengths, frame_counts)   # (batch,)
    """
    output = as_tensor(output)
    return ctc_log_likelihood_loss(A.log_softmax(output, -1), target, output_length,
                                   target_length, blank=mask_index)
