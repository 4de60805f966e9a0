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
from . import activation as A
from ._util import as_tensor


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
        valid = np.arange(width)[None, :] < (2 * target_lengths + 1)[:, None]
        # a skip over a blank is allowed into a label that differs from the one two back
        skip = np.zeros((n, width), dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        rows, live = np.arange(n), np.arange(frames)[None, :] < input_lengths[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # each state's log-probability at each frame, (n, frames, width), in float64
            emit = np.take_along_axis(logp, np.broadcast_to(ext[:, None, :], (n, frames, width)),
                                      axis=2).astype(np.float64)
            emit[~np.broadcast_to(valid[:, None, :], emit.shape)] = -np.inf
            top = emit.max(axis=2, keepdims=True)  # (n, frames, 1)
            top[~np.isfinite(top)] = 0.0
            emit -= top
            y = np.exp(emit, out=emit)  # the emissions, each frame's largest 1
            alpha, log_total = _alpha(y, skip, input_lengths)
            log_scale = log_total + top[:, :, 0]
            last = alpha[rows, np.maximum(input_lengths - 1, 0)]
            ends = 2 * target_lengths  # a path ends on l's last label or the blank after it
            tail = last[rows, ends] + np.where(ends > 0, last[rows, ends - 1], 0.0)
            log_p = np.log(tail) + np.where(live, log_scale, 0.0).sum(axis=1)
            # no frames: only the empty label sequence, with probability 1
            log_p = np.where(input_lengths > 0, log_p,
                             np.where(target_lengths == 0, 0.0, -np.inf))
        loss = -log_p
        bad = ~np.isfinite(loss)
        if zero_infinity:
            loss = np.where(bad, 0.0, loss)
        if self.needs_input_grad[0]:
            self.save_for_backward(y, alpha, ext, skip, input_lengths, target_lengths,
                                   bad if zero_infinity else None, logp.shape, logp.dtype)
        return loss.astype(logp.dtype)

    def backward(self, g):
        y, alpha, ext, skip, input_lengths, target_lengths, zeroed, shape, dtype = self.saved
        grad = _log_prob_grad(y, skip, input_lengths, 2 * target_lengths, ext, alpha, shape[2])
        scale = g.astype(np.float64)
        if zeroed is not None:
            scale = np.where(zeroed, 0.0, scale)
            grad[zeroed] = 0.0  # NaN where no path was left
        grad *= scale[:, None, None]
        return grad.astype(dtype)


def _alpha(y: np.ndarray, skip: np.ndarray, lengths: np.ndarray) -> tuple[Any, Any]:
    """alpha (n, frames, width), rescaled to sum to 1 at each frame, and the log of each
    frame's sum before that (log_total); in C where the kernels load (native/ctc.c)."""
    n, frames, width = y.shape
    alpha, log_total = np.zeros((n, frames, width)), np.zeros((n, frames))
    kernels = native.kernels()
    if kernels is not None:
        kernels.sj_ctc_alpha(n, frames, width, y.ctypes.data, skip.view(np.uint8).ctypes.data,
                             lengths.ctypes.data, alpha.ctypes.data, log_total.ctypes.data)
        return alpha, log_total
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
    return alpha, log_total


def _log_prob_grad(y: np.ndarray, skip: np.ndarray, lengths: np.ndarray, ends: np.ndarray,
                   ext: np.ndarray, alpha: np.ndarray, classes: int) -> np.ndarray:
    """d loss / d log-probabilities (n, frames, classes): minus each class's posterior, the
    sum over its states s of P(in s at frame t | l, x) = alpha beta / the sum over s of it,
    beta running over the frames after t from 1 at the two end states of each sample's last
    frame (rescaled each frame); 0 past a sample's frames, NaN where no path is left."""
    n, frames, width = y.shape
    grad = np.zeros((n, frames, classes))
    kernels = native.kernels()
    if kernels is not None and kernels.sj_ctc_grad(
            n, frames, width, classes, y.ctypes.data, skip.view(np.uint8).ctypes.data,
            lengths.ctypes.data, ends.ctypes.data, ext.ctypes.data, alpha.ctypes.data,
            grad.ctypes.data) == 0:
        return grad
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
        both = alpha[:, t] * beta
        with np.errstate(divide="ignore", invalid="ignore"):
            post[:, t] = np.where((t < lengths)[:, None],
                                  both / both.sum(axis=1, keepdims=True), 0.0)
    batch, frame = rows[:, None], np.arange(frames)[None, :]
    for s in range(width):  # each (sample, frame) once per s: no index repeats
        grad[batch, frame, ext[:, s][:, None]] -= post[:, :, s]
    return grad


def _lengths(name: str, value: Any, n: int, most: int) -> np.ndarray:
    lengths = np.asarray(value.data if isinstance(value, Tensor) else value)
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
    ids = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
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
