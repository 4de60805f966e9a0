"""The CTC loss (shenjing.functional.ctc) against PyTorch's ``F.ctc_loss`` and finite
differences, Keras 3's ``ops.ctc_loss`` / ``losses.CTC`` / greedy ``ctc_decode`` on hand-made
cases, a model that learns to read label sequences, and the errors."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch
from shenjing import F, losses, ops
from shenjing import nn as snn
from shenjing.functional.ctc import ctc_log_likelihood_loss

N, T, C, S = 5, 14, 6, 5


def _case(rng, dtype=np.float64):
    logits = rng.standard_normal((N, T, C)).astype(dtype)
    targets = rng.integers(1, C, (N, S))
    targets[1, 2] = targets[1, 1]  # a repeated label needs a blank between: another path rule
    target_lengths = np.array([5, 3, 0, 4, 1])  # one empty label sequence
    input_lengths = np.array([14, 11, 6, 9, 1])
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_matches_torch_values_and_gradients(dtype, tol, reduction):
    torch = require_torch()
    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(0), dtype)
    weights = np.arange(1.0, N + 1)

    x = sj.tensor(logits, dtype=dtype).requires_grad_()
    loss = snn.functional.ctc_loss(F.log_softmax(x, -1).transpose(1, 0, 2), targets,
                                   input_lengths, target_lengths, reduction=reduction)
    (loss * sj.tensor(weights, dtype=dtype) if reduction == "none" else loss).sum().backward()

    tx = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.ctc_loss(
        torch.log_softmax(tx, -1).transpose(0, 1), torch.tensor(targets),
        torch.tensor(input_lengths), torch.tensor(target_lengths), reduction=reduction)
    (tloss * torch.tensor(weights, dtype=tx.dtype) if reduction == "none" else tloss
     ).sum().backward()
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert loss.dtype == dtype


def test_concatenated_targets_and_one_unbatched_sample_match_torch():
    torch = require_torch()
    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(1))
    flat = np.concatenate([row[:n] for row, n in zip(targets, target_lengths)])
    log_probs = np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).transpose(1, 0, 2)
    ours = snn.functional.ctc_loss(sj.tensor(log_probs, dtype="float64"), flat, input_lengths,
                                   target_lengths, reduction="none")
    theirs = torch.nn.functional.ctc_loss(torch.tensor(log_probs), torch.tensor(flat),
                                          torch.tensor(input_lengths),
                                          torch.tensor(target_lengths), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    one = snn.functional.ctc_loss(sj.tensor(log_probs[:, 0], dtype="float64"), targets[0],
                                  14, 5, reduction="none")
    assert one.shape == () and np.isclose(one.item(), theirs[0].item(), rtol=1e-10)


def test_too_few_frames_give_inf_or_with_zero_infinity_nothing():
    torch = require_torch()
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 4, 3))
    targets = np.array([[1, 1, 2], [1, 2, 0]])  # 1, 1, 2 needs 4 frames (a blank between)
    input_lengths, target_lengths = np.array([3, 4]), np.array([3, 2])
    for zero_infinity in (False, True):
        x = sj.tensor(logits, dtype="float64").requires_grad_()
        loss = ctc_log_likelihood_loss(F.log_softmax(x, -1), targets, input_lengths,
                                       target_lengths, zero_infinity=zero_infinity)
        tloss = torch.nn.functional.ctc_loss(
            torch.log_softmax(torch.tensor(logits), -1).transpose(0, 1), torch.tensor(targets),
            torch.tensor(input_lengths), torch.tensor(target_lengths), reduction="none",
            zero_infinity=zero_infinity)
        np.testing.assert_allclose(loss.numpy(), tloss.numpy(), rtol=1e-10)
        if zero_infinity:
            loss.sum().backward()
            assert loss.numpy()[0] == 0 and (x.grad.numpy()[0] == 0).all()
            assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy()[1] != 0).any()
        else:
            assert np.isinf(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])


def test_gradcheck_through_log_softmax():
    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(3))
    x = sj.tensor(logits[:, :8], dtype="float64").requires_grad_()
    lengths = np.minimum(input_lengths, 8)
    assert sj.gradcheck(lambda z: ctc_log_likelihood_loss(
        F.log_softmax(z, -1), targets[:, :3], lengths, np.minimum(target_lengths, 3)).sum(), x)


def test_one_frame_per_label_has_a_single_path():
    # labels (1, 2) in 2 frames: the only path emits 1, then 2
    p = np.array([[[0.1, 0.6, 0.3], [0.2, 0.3, 0.5]]])
    loss = F.ctc_loss(np.array([[1, 2]]), sj.tensor(np.log(p), dtype="float64"), [2], [2])
    np.testing.assert_allclose(loss.numpy(), [-np.log(0.6 * 0.5)], rtol=1e-12)


def test_keras_ops_and_the_loss_object_agree():
    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(4), np.float32)
    per = ops.ctc_loss(targets, logits, target_lengths, input_lengths)
    direct = F.ctc_loss(targets, sj.tensor(logits), target_lengths, input_lengths)
    np.testing.assert_array_equal(per.numpy(), direct.numpy())
    assert per.shape == (N,)
    # the Keras loss: every frame counts, a label sequence ends at its first 0 (the blank)
    padded = np.where(np.arange(S)[None, :] < target_lengths[:, None], targets, 0)
    full = F.ctc_loss(padded, sj.tensor(logits), target_lengths, np.full(N, T))
    np.testing.assert_allclose(losses.CTC(reduction="none")(padded, sj.tensor(logits)).numpy(),
                               full.numpy(), rtol=1e-6)
    np.testing.assert_allclose(losses.get("ctc")(padded, sj.tensor(logits)).item(),
                               full.numpy().mean(), rtol=1e-6)
    assert losses.get("CTC").get_config()["name"] == "ctc"


def test_greedy_decoding_merges_repeats_and_drops_blanks():
    best = np.array([[0, 1, 1, 0, 2, 2, 0, 2], [3, 3, 3, 0, 0, 1, 1, 1]])
    scores = np.eye(4)[best] * 2.0  # the best class of each frame scores 2
    paths, neg = F.ctc_decode(scores, [8, 5])
    assert paths.shape == (1, 2, 8)  # Keras's (top_paths, batch, frames), -1 after each
    np.testing.assert_array_equal(paths[0, :, :3], [[1, 2, 2], [3, -1, -1]])
    assert (paths[0, :, 3:] == -1).all()
    np.testing.assert_array_equal(neg, [[-16.0], [-10.0]])
    (labels,), _ = F.ctc_decode(scores, [8, 8], merge_repeated=False)
    np.testing.assert_array_equal(labels[:, :6], [[1, 1, 2, 2, 2, -1], [3, 3, 3, 1, 1, 1]])
    keras_paths, keras_scores = ops.ctc_decode(scores, np.array([8, 5]))
    np.testing.assert_array_equal(keras_paths.numpy(), paths)
    assert keras_scores.shape == (2, 1)


def _sequence_probabilities(logp):
    """Every label sequence's probability, summed over all paths (classes ** frames of them)."""
    import itertools

    frames, classes = logp.shape
    total = {}
    for path in itertools.product(range(classes), repeat=frames):
        merged = [c for k, c in enumerate(path) if c != 0 and (k == 0 or c != path[k - 1])]
        p = np.exp(sum(logp[t, c] for t, c in enumerate(path)))
        total[tuple(merged)] = total.get(tuple(merged), 0.0) + p
    return total


def test_beam_search_finds_the_most_likely_sequences_where_the_best_path_does_not():
    # frame by frame the blank wins (0.6), but "1" collects 1 - 0.6^3 over its many paths
    p = np.array([[0.6, 0.4, 0.0], [0.6, 0.4, 0.0], [0.6, 0.4, 0.0]]) + 1e-12
    (labels,), _ = F.ctc_decode(np.log(p)[None], [3])
    assert (labels == -1).all()  # the best path is all blanks
    paths, logp = F.ctc_decode(np.log(p)[None], [3], "beam_search", beam_width=10, top_paths=2)
    exact = _sequence_probabilities(np.log(p / p.sum(-1, keepdims=True)))
    ranked = sorted(exact, key=exact.get, reverse=True)[:2]
    assert [tuple(q[0][q[0] >= 0]) for q in paths] == ranked == [(1,), ()]
    assert paths.shape == (2, 1, 3)
    np.testing.assert_allclose(np.exp(logp[0]), [exact[r] for r in ranked], rtol=1e-9)


def test_beam_search_scores_equal_the_exact_sum_over_paths():
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((2, 5, 4)) * 2
    paths, logp = F.ctc_decode(logits, [5, 4], "beam_search", beam_width=200, top_paths=4)
    for i, frames in enumerate([5, 4]):
        z = logits[i, :frames]
        exact = _sequence_probabilities(z - np.log(np.exp(z).sum(-1, keepdims=True)))
        ranked = sorted(exact, key=exact.get, reverse=True)[:4]
        assert [tuple(p[i][p[i] >= 0]) for p in paths] == ranked
        np.testing.assert_allclose(np.exp(logp[i]), [exact[r] for r in ranked], rtol=1e-9)


def test_a_model_learns_to_read_label_sequences():
    """Frames carry one-hot symbols with repeats and blank gaps; a per-frame Dense layer learns
    to emit them under CTC, and greedy decoding reads the sequences back."""
    rng = np.random.default_rng(5)
    n, frames, classes = 256, 12, 5
    labels = rng.integers(1, classes, (n, 3))
    x = np.zeros((n, frames, classes), np.float32)
    for i, row in enumerate(labels):
        symbols = [0, row[0], row[0], 0, row[1], row[1], 0, 0, row[2], row[2], row[2], 0]
        x[i, np.arange(frames), symbols] = 1.0
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((frames, classes)), sj.layers.Dense(16, activation="relu"),
                           sj.layers.Dense(classes)])
    model.compile(optimizer=sj.optimizers.Adam(0.02), loss=losses.CTC())
    history = model.fit(x, labels, batch_size=32, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    (decoded,), _ = F.ctc_decode(model.predict(x, verbose=0), np.full(n, frames))
    assert (decoded[:, 3:] == -1).all()
    assert (decoded[:, :3] == labels).all(axis=1).mean() > 0.95


@pytest.mark.parametrize("call, match", [
    (lambda lp: ctc_log_likelihood_loss(lp, [[1, 0, 2]], [4], [3]), r"other than the blank"),
    (lambda lp: ctc_log_likelihood_loss(lp, [[1, 7]], [4], [2]), r"class ids in \[0, 3\)"),
    (lambda lp: ctc_log_likelihood_loss(lp, [[1, 2]], [5], [2]), r"input_lengths must lie in"),
    (lambda lp: ctc_log_likelihood_loss(lp, [[1, 2]], [4], [3]), r"target_lengths must lie in"),
    (lambda lp: ctc_log_likelihood_loss(lp[0], [[1, 2]], [4], [2]), r"\(batch, frames, classes"),
    (lambda lp: ctc_log_likelihood_loss(lp, [1, 2], [4], [2]), r"targets must be \(batch"),
    (lambda lp: F.ctc_decode(lp, [4], strategy="beam"), r"must be 'greedy' or 'beam_search'"),
    (lambda lp: F.ctc_decode(lp, [4], top_paths=2), r"greedy decoding gives one path"),
    (lambda lp: F.ctc_decode(lp, [4], "beam_search", beam_width=2, top_paths=3),
     r"top_paths must lie in \[1, beam_width=2\]"),
])
def test_mistakes_are_named(call, match):
    lp = F.log_softmax(sj.tensor(np.zeros((1, 4, 3))), -1)
    with pytest.raises(ValueError, match=match):
        call(lp)


def test_the_c_recursions_equal_the_numpy_ones():
    from shenjing import native

    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(6))
    targets[3, :3] = 2  # runs of one label: every skip rule
    input_lengths[0] = 3  # too few frames for 5 labels: no path

    def run():
        x = sj.tensor(logits, dtype="float64").requires_grad_()
        loss = ctc_log_likelihood_loss(F.log_softmax(x, -1), targets, input_lengths,
                                       target_lengths, zero_infinity=True)
        loss.sum().backward()
        return loss.numpy(), x.grad.numpy()

    c_loss, c_grad = run()
    with native.disabled():
        np_loss, np_grad = run()
    np.testing.assert_allclose(c_loss, np_loss, rtol=1e-12)
    np.testing.assert_allclose(c_grad, np_grad, rtol=1e-10, atol=1e-12)
    assert c_loss[0] == 0 and np.isfinite(c_loss).all()


@pytest.mark.parametrize("case", ["a 760-nat gap in every frame", "60 labels under a blank-heavy "
                                  "start", "every label 100 nats down"])
@pytest.mark.parametrize("use_c", [True, False])
def test_losses_of_hundreds_of_nats_stay_finite_and_match_torch(case, use_c):
    """Probabilities rescaled per frame underflow past ~745 nats; such samples are redone in log
    space, and states that cannot reach the end never crowd the others out."""
    torch = require_torch()
    from shenjing import native

    rng = np.random.default_rng(8)
    if case.startswith("a 760"):
        logits = np.zeros((1, 10, 3))
        logits[..., 1] = -760.0
        targets, frames = np.array([[1]]), 10
    elif case.startswith("60"):
        logits = rng.standard_normal((1, 200, 30)) * 2
        logits[..., 0] += 18  # the model says "blank" everywhere, as at the start of training
        targets, frames = rng.integers(1, 30, (1, 60)), 200
    else:
        logits = np.zeros((1, 20, 5))
        logits[..., 1:] = -100.0
        targets, frames = rng.integers(1, 5, (1, 8)), 20
    x = sj.tensor(logits, dtype="float64").requires_grad_()
    with contextlib.nullcontext() if use_c else native.disabled():
        loss = ctc_log_likelihood_loss(F.log_softmax(x, -1), targets, [frames],
                                       [targets.shape[1]])
        loss.sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.ctc_loss(torch.log_softmax(tx, -1).transpose(0, 1),
                                         torch.tensor(targets), torch.tensor([frames]),
                                         torch.tensor([targets.shape[1]]), reduction="sum")
    tloss.backward()
    assert loss.item() > 700
    np.testing.assert_allclose(loss.numpy(), [tloss.item()], rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-9)


def test_tensorflows_time_major_form_and_last_class_blank():
    logits, targets, input_lengths, target_lengths = _case(np.random.default_rng(9))
    rolled = np.roll(logits, -1, axis=-1)  # class k -> k - 1: the blank (0) becomes C - 1
    tf_loss = snn.ctc_loss(targets - 1, sj.tensor(rolled.transpose(1, 0, 2), dtype="float64"),
                           target_lengths, input_lengths, blank_index=-1)
    ours = F.ctc_loss(targets, sj.tensor(logits, dtype="float64"), target_lengths, input_lengths)
    np.testing.assert_allclose(tf_loss.numpy(), ours.numpy(), rtol=1e-12)


@pytest.mark.parametrize("native", [True, False], ids=["c", "numpy"])
def test_a_tight_alignment_whose_alpha_beta_underflows_has_torchs_gradient(native):
    """8 labels with two repeats in exactly 10 frames, logits 100 apart: at frame 5 the one
    state on a path has rescaled alpha 4e-196 and beta 3e-153, each above the threshold that
    sends a sample to log space, their product 0 in float64: the gradient was 0/0 = NaN."""
    torch = require_torch()
    z = 10.0 * np.array([[-5, 2, 1, -6], [0, -6, 4, 1], [7, 6, 10, -10], [-5, -7, 8, -10],
                         [-4, 4, 2, 1], [-2, 9, 1, -4], [-3, 7, -11, 5], [4, -13, -9, -7],
                         [9, -2, -6, 0], [-9, -1, -3, 0]])[None]
    labels = np.array([[1, 2, 3, 1, 2, 2, 1, 1]])
    with sj.native.disabled() if not native else contextlib.nullcontext():
        x = sj.tensor(z, dtype="float64").requires_grad_()
        loss = ctc_log_likelihood_loss(F.log_softmax(x, -1), labels, [10], [8]).sum()
        loss.backward()
    t = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.ctc_loss(t.log_softmax(-1).transpose(0, 1),
                                            torch.tensor(labels), [10], [8], reduction="sum")
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-9)
