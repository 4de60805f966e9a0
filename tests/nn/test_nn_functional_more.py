"""torch.nn.functional names a port meets after the common ones, each against torch (values and
gradients): unfold/fold, the sub-pixel shuffles, channel_shuffle, prelu, rms_norm, the shrinks,
multilabel_soft_margin_loss, the deprecated upsample forms, the in-place activations
(``relu_``...), and gumbel_softmax by its distribution and straight-through gradient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_pair import same

import shenjing
import shenjing.nn.functional as SF
from oracle import normal, require_torch

CALLS = [
    ("pixel_shuffle", lambda F, t: F.pixel_shuffle(t, 2), [(2, 8, 3, 4)]),
    ("pixel_unshuffle", lambda F, t: F.pixel_unshuffle(t, 2), [(2, 3, 4, 6)]),
    ("channel_shuffle", lambda F, t: F.channel_shuffle(t, 4), [(2, 8, 3, 4)]),
    ("prelu_per_channel", lambda F, t, w: F.prelu(t, w), [(2, 8, 3, 4), (8,)]),
    ("prelu_one", lambda F, t, w: F.prelu(t, w), [(2, 8, 3), (1,)]),
    ("rms_norm", lambda F, t, w: F.rms_norm(t, (3, 4), w), [(2, 8, 3, 4), (3, 4)]),
    ("rms_norm_default_eps", lambda F, t: F.rms_norm(t, (4,)), [(2, 3, 4)]),
    ("shrinks", lambda F, t: F.hardshrink(t, 0.3) + F.softshrink(t, 0.7), [(4, 6)]),
    ("upsample", lambda F, t: F.upsample_bilinear(t, scale_factor=2)
     + F.upsample(t, scale_factor=2) + F.upsample_nearest(t, size=(6, 8)), [(2, 3, 3, 4)]),
    ("unfold", lambda F, t: F.unfold(t, 3), [(2, 3, 6, 7)]),
    ("unfold_strided", lambda F, t: F.unfold(t, (2, 3), stride=2, padding=1), [(2, 3, 6, 7)]),
    ("unfold_unbatched", lambda F, t: F.unfold(t, 2, dilation=2, padding=(1, 0)), [(3, 6, 7)]),
    ("fold", lambda F, t: F.fold(t, (6, 7), 3), [(2, 27, 20)]),
    ("fold_strided", lambda F, t: F.fold(t, (6, 7), (2, 3), stride=2, padding=1),
     [(2, 18, 16)]),
]


@pytest.mark.parametrize(("name", "call", "shapes"), CALLS, ids=[c[0] for c in CALLS])
def test_matches_torch(name, call, shapes, rng):
    with warnings.catch_warnings():  # torch's deprecation notes on the upsample forms
        warnings.simplefilter("ignore", UserWarning)
        same(call, *[normal(rng, s) for s in shapes], atol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_soft_margin_loss_matches_torch(reduction, rng):
    targets = (rng.random((4, 5)) > 0.5).astype(np.float32)
    same(lambda F, x, y, w: F.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
         normal(rng, (4, 5)), targets, np.abs(normal(rng, (5,))), wrt=(0, 2), atol=1e-6)


def test_multilabel_soft_margin_loss_of_infinite_logits_is_torchs():
    """inf where torch gives inf, NaN where it gives NaN (a fused BCE-with-logits form, max(x,
    0) - x t, would give NaN at x = inf, t = 0); a weight that would enlarge the loss refuses."""
    torch = require_torch()
    x = np.array([[np.inf, np.inf, -np.inf, -np.inf]], np.float32)
    t = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32)
    with np.errstate(invalid="ignore"):
        ours = SF.multilabel_soft_margin_loss(shenjing.tensor(x), t, reduction="none")
        per_class = [SF.multilabel_soft_margin_loss(shenjing.tensor(x[:, i:i + 1]), t[:, i:i + 1])
                     for i in range(4)]
    theirs = [torch.nn.functional.multilabel_soft_margin_loss(
        torch.tensor(x[:, i:i + 1]), torch.tensor(t[:, i:i + 1])).item() for i in range(4)]
    np.testing.assert_array_equal([p.item() for p in per_class], theirs)
    assert np.isnan(ours.item())  # a NaN class makes the sample's mean NaN, as torch's
    with pytest.raises(ValueError, match="multilabel_soft_margin_loss: weight of shape"):
        SF.multilabel_soft_margin_loss(shenjing.tensor(np.zeros((2, 3))), np.zeros((2, 3)),
                                       np.ones((2, 2, 3)))


@pytest.mark.parametrize("name", ["relu_", "elu_", "selu_", "celu_", "leaky_relu_",
                                  "hardtanh_"])
def test_in_place_activations_change_the_tensor_as_torch(name, rng):
    torch = require_torch()
    x = normal(rng, (3, 4))
    ours, theirs = shenjing.tensor(x), torch.tensor(x)
    assert getattr(SF, name)(ours) is ours
    getattr(torch.nn.functional, name)(theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    SF.threshold_(ours, 0.1, 20.0)
    torch.nn.functional.threshold_(theirs, 0.1, 20.0)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_gumbel_softmax_samples_the_softmax_and_passes_the_soft_gradient():
    shenjing.utils.set_random_seed(0)
    probs = np.array([0.2, 0.5, 0.3], np.float32)
    logits = shenjing.tensor(np.log(np.tile(probs, (20_000, 1))), requires_grad=True)
    hard = SF.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0} and (hard.numpy().sum(1) == 1).all()
    np.testing.assert_allclose(hard.numpy().mean(0), probs, atol=0.012)  # ~4 std errors
    weights = shenjing.tensor(np.array([1.0, -2.0, 0.5], np.float32))
    (hard * weights).sum().backward()  # straight through: the soft sample's gradient
    assert np.isfinite(logits.grad.numpy()).all() and np.abs(logits.grad.numpy()).sum() > 0
    soft = SF.gumbel_softmax(logits[:4], tau=2.0)
    np.testing.assert_allclose(soft.numpy().sum(1), 1.0, rtol=1e-6)
    assert (soft.numpy() > 0).all() and (soft.numpy() < 1).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="not divisible by upscale_factor"):
        SF.pixel_shuffle(shenjing.zeros(1, 6, 2, 2), 2)
    with pytest.raises(ValueError, match="one per channel"):
        SF.prelu(shenjing.zeros(2, 3, 4), shenjing.ones(4))
    with pytest.raises(ValueError, match="not the end of the input's shape"):
        SF.rms_norm(shenjing.zeros(2, 3), (2,))
    with pytest.raises(ValueError, match="does not fit"):
        SF.unfold(shenjing.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="does not hold"):
        SF.fold(shenjing.zeros(1, 9, 5), (4, 4), 3)


def test_review_edges_match_torch(rng):
    """Found by review against torch: an all-equal window of adaptive max pooling sends its
    gradient to the first maximum (it was split); leaky_relu_ on a computed tensor
    differentiates (it refused: the op had saved the input it overwrote); embedding's
    max_norm with norm_type=inf; prelu's gradient at 0 is the slope (was 0.5 + 0.5 w) and a
    0-d input stays 0-d; pixel_shuffle keeps integers and takes more leading axes."""
    torch = require_torch()
    same(lambda F, t: F.adaptive_max_pool2d(F.relu(t * 0.0), 2), normal(rng, (1, 1, 3, 3)))
    same(lambda F, t: F.leaky_relu_(t * 2.0, 0.2), normal(rng, (2, 3)))
    same(lambda F, t: F.elu_(t + 0.0), normal(rng, (2, 3)))
    same(lambda F, t, w: F.prelu(t, w), np.array([0.0, -1.0, 2.0], np.float32),
         np.array([0.25], np.float32))
    weight = np.array([[3.0, -4.0], [0.1, 0.2]], np.float32)
    ours, theirs = shenjing.tensor(weight), torch.tensor(weight)
    SF.embedding(shenjing.tensor([0, 1]), ours, max_norm=1.0, norm_type=np.inf)
    torch.nn.functional.embedding(torch.tensor([0, 1]), theirs, max_norm=1.0,
                                  norm_type=float("inf"))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert SF.prelu(shenjing.tensor(-2.0), shenjing.tensor([0.5])).shape == ()
    ids = np.arange(2 * 3 * 8 * 2 * 2).reshape(2, 3, 8, 2, 2)
    shuffled = SF.pixel_shuffle(shenjing.tensor(ids), 2)
    assert shuffled.dtype == np.int64
    np.testing.assert_array_equal(
        shuffled.numpy(), torch.nn.functional.pixel_shuffle(torch.tensor(ids), 2).numpy())
    np.testing.assert_array_equal(SF.pixel_unshuffle(shuffled, 2).numpy(), ids)


EMBEDDING_BAGS = [  # (mode, padding_idx, layout); the ids hold a whole bag of 2s, an empty bag
    (mode, pad, layout) for mode in ("sum", "mean", "max") for pad in (None, 2)
    for layout in ("2d", "offsets", "last_offset", *(("weights",) if mode == "sum" else ()))]


@pytest.mark.parametrize(("mode", "padding_idx", "layout"), EMBEDDING_BAGS,
                         ids=["-".join(map(str, c)) for c in EMBEDDING_BAGS])
def test_embedding_bag_matches_torch(mode, padding_idx, layout):
    """Values and the gradients of the weight (and of per_sample_weights) against torch's:
    fixed bags (rows of a 2-D input) and bags by offsets, a padding entry left out (a bag of
    padding only, and an empty bag, are zeros), the last offset given or not."""
    torch = require_torch()
    rng = np.random.default_rng(3)
    weight0 = rng.standard_normal((10, 4))
    ids = rng.integers(0, 10, (3, 5)) if layout == "2d" else rng.integers(0, 10, 9)
    if layout == "2d":
        ids[0, 1], ids[1] = 2, 2
    options = {"mode": mode, "padding_idx": padding_idx}
    offsets = np.array([0, 2, 2, 6])
    if layout in ("offsets", "weights"):
        options["offsets"] = offsets
    if layout == "last_offset":
        options.update(offsets=np.append(offsets, len(ids)), include_last_offset=True)
    results = []
    for m, F in ((shenjing, SF), (torch, torch.nn.functional)):
        def double(v, grad=False, m=m):  # float64 on both sides (shenjing's default is 32)
            v = np.asarray(v, dtype=np.float64)
            t = shenjing.tensor(v, dtype=np.float64) if m is shenjing else m.tensor(v)
            return t.requires_grad_() if grad else t

        kwargs = {k: m.tensor(v) if k == "offsets" else v for k, v in options.items()}
        leaves = [double(weight0, True)]
        if layout == "weights":
            leaves.append(double(np.linspace(-1.0, 2.0, len(ids)), True))
            kwargs["per_sample_weights"] = leaves[-1]
        y = F.embedding_bag(m.tensor(ids), leaves[0], **kwargs)
        (y * double(np.arange(y.numel()).reshape(y.shape) % 5 - 2.0)).sum().backward()
        results.append([y.detach().numpy()] + [t.grad.numpy() for t in leaves])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_embedding_bag_errors_are_named():
    weight = shenjing.ones(4, 2)
    with pytest.raises(ValueError, match="needs offsets"):
        SF.embedding_bag(shenjing.tensor([0, 1]), weight)
    with pytest.raises(ValueError, match="offsets must be None for a 2-D input"):
        SF.embedding_bag(shenjing.tensor([[0, 1]]), weight, offsets=shenjing.tensor([0]))
    with pytest.raises(ValueError, match="start at 0"):
        SF.embedding_bag(shenjing.tensor([0, 1]), weight, offsets=shenjing.tensor([1]))
    with pytest.raises(ValueError, match="per_sample_weights need mode='sum'"):
        SF.embedding_bag(shenjing.tensor([[0, 1]]), weight, per_sample_weights=np.ones((1, 2)))
    with pytest.raises(ValueError, match="mode must be"):
        SF.embedding_bag(shenjing.tensor([[0, 1]]), weight, mode="min")
    ids = shenjing.tensor([1, 2, 3, 0])
    with pytest.raises(ValueError, match="within the input's 4 entries"):  # the last offset
        SF.embedding_bag(ids, weight, shenjing.tensor([0, 2, 20]), include_last_offset=True)
    with pytest.raises(ValueError, match="must be the input's"):
        SF.embedding_bag(ids[None], weight, mode="sum", per_sample_weights=shenjing.ones(1, 2))
    for offsets, last in (([0], True), ([], False)):  # no bags at all
        empty = SF.embedding_bag(ids, weight, shenjing.tensor(np.array(offsets, np.int64)),
                                 include_last_offset=last)
        assert empty.shape == (0, 2)
