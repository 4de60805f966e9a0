"""torch's margin and likelihood losses in shenjing.nn.functional (margin_ranking_loss,
hinge_embedding_loss, soft_margin_loss, cosine_embedding_loss, triplet_margin_loss,
poisson_nll_loss, gaussian_nll_loss) against torch.nn.functional: values and gradients in
float32 for every reduction and option, gradcheck in float64, and the arguments torch refuses."""

from __future__ import annotations

import numpy as np
import pytest
from torch_pair import same

import shenjing
import shenjing.nn.functional as SF
from oracle import normal, positive, require_torch

N, D = 6, 5
REDUCTIONS = ["mean", "sum", "none"]


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


# name: (call(F, *inputs), make(rng) -> inputs, indices of the inputs whose gradients compare)
CASES = {
    "margin_ranking": (lambda F, a, b, t, **r: F.margin_ranking_loss(a, b, t, **r),
                       lambda rng: [normal(rng, N), normal(rng, N), _signs(rng, N)], [0, 1]),
    "margin_ranking_margin": (
        lambda F, a, b, t, **r: F.margin_ranking_loss(a, b, t, 0.3, **r),
        lambda rng: [normal(rng, (N, 2)), normal(rng, (N, 2)), _signs(rng, (N, 2))], [0, 1]),
    "hinge_embedding": (lambda F, x, t, **r: F.hinge_embedding_loss(x, t, **r),
                        lambda rng: [rng.uniform(0, 2, (N, D)), _signs(rng, (N, D))], [0]),
    "hinge_embedding_other_targets": (  # neither 1 nor -1: both terms, as torch
        lambda F, x, t, **r: F.hinge_embedding_loss(x, t, margin=0.7, **r),
        lambda rng: [rng.uniform(0, 2, (N, D)), rng.choice([-1.0, 0.0, 1.0, 2.0], (N, D))],
        [0]),
    "soft_margin": (lambda F, x, t, **r: F.soft_margin_loss(x, t, **r),
                    lambda rng: [2 * normal(rng, (N, D)), _signs(rng, (N, D))], [0]),
    "cosine_embedding": (lambda F, a, b, t, **r: F.cosine_embedding_loss(a, b, t, 0.2, **r),
                         lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)),
                                      rng.choice([-1.0, 0.0, 1.0], N)], [0, 1]),
    "cosine_embedding_unbatched": (
        lambda F, a, b, t, **r: F.cosine_embedding_loss(a, b, t, **r),
        lambda rng: [normal(rng, D), normal(rng, D), np.array(-1.0)], [0, 1]),
    "triplet": (lambda F, a, p, n, **r: F.triplet_margin_loss(a, p, n, **r),
                lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)), normal(rng, (N, D))],
                [0, 1, 2]),
    "triplet_p1_swap": (
        lambda F, a, p, n, **r: F.triplet_margin_loss(a, p, n, 2.0, 1, 1e-3, True, **r),
        lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)), normal(rng, (N, D))],
        [0, 1, 2]),
    "triplet_unbatched": (lambda F, a, p, n, **r: F.triplet_margin_loss(a, p, n, **r),
                          lambda rng: [normal(rng, D), normal(rng, D), normal(rng, D)],
                          [0, 1, 2]),
    "poisson_log_input": (lambda F, x, t, **r: F.poisson_nll_loss(x, t, **r),
                          lambda rng: [normal(rng, (N, D)), rng.poisson(2.0, (N, D)) * 1.0],
                          [0, 1]),
    # with full, torch's target gradient is NaN at counts <= 1 (log 0 times the masked 0);
    # ours there is 0, the gradient of the term that is 0: the inputs' gradients compare
    "poisson_rates_full": (
        lambda F, x, t, **r: F.poisson_nll_loss(x, t, False, True, eps=1e-4, **r),
        lambda rng: [positive(rng, (N, D)), rng.poisson(2.0, (N, D)) * 1.0], [0]),
    "poisson_log_input_full": (lambda F, x, t, **r: F.poisson_nll_loss(x, t, full=True, **r),
                               lambda rng: [normal(rng, (N, D)),
                                            rng.poisson(3.0, (N, D)) * 1.0], [0]),
    "poisson_full_counts_above_1": (  # where torch's target gradient is a number: it compares
        lambda F, x, t, **r: F.poisson_nll_loss(x, t, full=True, **r),
        lambda rng: [normal(rng, (N, D)), rng.uniform(1.5, 6.0, (N, D))], [0, 1]),
    "multi_margin": (lambda F, x, t, **r: F.multi_margin_loss(x, t, **r),
                     lambda rng: [normal(rng, (N, D)), rng.integers(0, D, N)], [0]),
    "multi_margin_p2_weighted": (
        lambda F, x, t, w, **r: F.multi_margin_loss(x, t, 2, 0.7, w, **r),
        lambda rng: [normal(rng, (N, D)), rng.integers(0, D, N), positive(rng, D)], [0]),
    "multi_margin_unbatched": (lambda F, x, t, **r: F.multi_margin_loss(x, t, **r),
                               lambda rng: [normal(rng, D), np.array(2)], [0]),
    "multilabel_margin": (  # ragged target lists ended by -1, a repeated id, an empty one
        lambda F, x, t, **r: F.multilabel_margin_loss(x, t, **r),
        lambda rng: [normal(rng, (4, D)), np.array([[3, 0, -1, 1, 1], [1, 1, 4, -1, -1],
                                                    [-1, 2, 2, 2, 2], [0, 1, 2, 3, 4]])], [0]),
    "multilabel_margin_infinite_scores": (  # -inf in a padded slot's column, +inf elsewhere
        lambda F, x, t, **r: F.multilabel_margin_loss(x, t, **r),
        lambda rng: [np.where(np.arange(D) == 0, -np.inf, normal(rng, (3, D))),
                     np.array([[1, -1, 3, -1, 0], [0, 1, 2, 3, 4], [-1, 2, 2, 2, 2]])], [0]),
    "multilabel_margin_unbatched": (lambda F, x, t, **r: F.multilabel_margin_loss(x, t, **r),
                                    lambda rng: [normal(rng, D), np.array([4, 2, -1, 0, 0])],
                                    [0]),
    "gaussian": (lambda F, x, t, v, **r: F.gaussian_nll_loss(x, t, v, **r),
                 lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)), positive(rng, (N, D))],
                 [0, 1, 2]),
    "gaussian_one_variance_per_sample": (
        lambda F, x, t, v, **r: F.gaussian_nll_loss(x, t, v, True, **r),
        lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)), positive(rng, N)], [0, 1, 2]),
    "gaussian_shared_along_an_axis": (
        lambda F, x, t, v, **r: F.gaussian_nll_loss(x, t, v, **r),
        lambda rng: [normal(rng, (2, 3, D)), normal(rng, (2, 3, D)), positive(rng, (2, 1, D))],
        [0, 1, 2]),
    "gaussian_clamped_variance": (  # var below eps: the value clamped, the gradient through
        lambda F, x, t, v, **r: F.gaussian_nll_loss(x, t, v, eps=0.3, **r),
        lambda rng: [normal(rng, (N, D)), normal(rng, (N, D)), rng.uniform(0.05, 1, (N, D))],
        [0, 1, 2]),
    "gaussian_number_variance": (lambda F, x, t, **r: F.gaussian_nll_loss(x, t, 0.5, **r),
                                 lambda rng: [normal(rng, (N, D)), normal(rng, (N, D))], [0, 1]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_torch(case, reduction, rng):
    call, make, wrt = CASES[case]
    same(lambda F, *t: call(F, *t, reduction=reduction), *make(rng), wrt=wrt)


# a clamped variance's gradient passes through the clamp as torch's: not the derivative; and
# finite differences cannot step from an infinite score
@pytest.mark.parametrize("case", [c for c in CASES if c not in (
    "gaussian_clamped_variance", "multilabel_margin_infinite_scores")])
def test_loss_gradcheck(case, rng):
    call, make, wrt = CASES[case]
    inputs = make(rng)
    constants = {i: x for i, x in enumerate(inputs) if i not in wrt}

    def loss(*variables):
        given = iter(variables)
        return call(SF, *(constants[i] if i in constants else next(given)
                          for i in range(len(inputs))))

    assert shenjing.gradcheck(loss, *(inputs[i] for i in wrt))


@pytest.mark.parametrize("call, match", [
    (lambda F, x: F.triplet_margin_loss(x, x, x, margin=0.0), "margin must be"),
    (lambda F, x: F.gaussian_nll_loss(x, x, -x * x - 1.0), "var has negative entr"),
    (lambda F, x: F.gaussian_nll_loss(x, x, x[:, :2] * 0 + 1.0), "var"),
    (lambda F, x: F.margin_ranking_loss(x, x[:, 0], x), r"margin_ranking_loss|dimension"),
    (lambda F, x: F.cosine_embedding_loss(x, x, x), r"target|1D"),
    (lambda F, x: F.hinge_embedding_loss(x, x, reduction="avg"), "reduction"),
    (lambda F, x: F.multi_margin_loss(x, np.zeros(N, np.int64), p=3), "p == 1 and p == 2"),
])
def test_arguments_torch_refuses_are_refused(call, match, rng):
    th = require_torch()
    x = normal(rng, (N, D)).astype(np.float32)
    with pytest.raises((ValueError, RuntimeError), match=match):
        call(th.nn.functional, th.tensor(x))
    with pytest.raises(ValueError, match=match):
        call(SF, shenjing.tensor(x))


def test_shapes_must_match_where_torch_would_broadcast(rng):
    with pytest.raises(ValueError, match=r"target has shape \(6, 1\) but input has shape"):
        SF.soft_margin_loss(shenjing.tensor(normal(rng, N)), _signs(rng, (N, 1)))
    with pytest.raises(ValueError, match=r"negative has shape \(1, 5\) but anchor has shape"):
        a = shenjing.tensor(normal(rng, (N, D)))
        SF.triplet_margin_loss(a, a, normal(rng, (1, D)))


def test_class_margin_losses_name_bad_targets(rng):
    x = shenjing.tensor(normal(rng, (N, D)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        SF.multi_margin_loss(x, np.full(N, 5))
    with pytest.raises(ValueError, match="6 rows of scores but 3 targets"):
        SF.multi_margin_loss(x, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="one entry per class"):
        SF.multi_margin_loss(x, np.zeros(N, np.int64), weight=np.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        SF.multilabel_margin_loss(x, np.zeros(N, np.int64))
    with pytest.raises(ValueError, match=r"ids must lie in \[-1, 5\)"):
        SF.multilabel_margin_loss(x, np.full((N, D), -2))
    with pytest.raises(ValueError, match="integer class ids"):
        SF.multilabel_margin_loss(x, np.zeros((N, D)))
    with pytest.raises(ValueError, match="integer class ids"):
        SF.multi_margin_loss(x, np.zeros(N))  # torch wants Long targets
    with pytest.raises(ValueError, match="integer class ids"):
        SF.multi_margin_loss(x, np.zeros((N, 1), np.int64))  # and 1-D ones
