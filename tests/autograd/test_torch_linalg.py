"""``shenjing.linalg`` (torch.linalg's everyday part) and ``shenjing.cdist``: values, gradients
and gradients of gradients against torch's, on stacks of matrices, and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)  # well conditioned
B = RNG.standard_normal((2, 3, 2))
V = RNG.standard_normal((2, 3))

CALLS = {
    "inv": lambda m, a, b, v: m.linalg.inv(a),
    "det": lambda m, a, b, v: m.linalg.det(a),
    "slogdet": lambda m, a, b, v: m.linalg.slogdet(a)[1],
    "solve_matrix": lambda m, a, b, v: m.linalg.solve(a, b),
    "solve_vector": lambda m, a, b, v: m.linalg.solve(a, v),
    "fro": lambda m, a, b, v: m.linalg.matrix_norm(a) + m.linalg.norm(b, dim=(-2, -1)),
    "ord_1_and_inf": lambda m, a, b, v: m.linalg.matrix_norm(a, 1) + m.linalg.matrix_norm(
        a, -np.inf),
    "vector_norm": lambda m, a, b, v: m.linalg.vector_norm(v, dim=-1) + m.linalg.norm(a),
}
FIRST_ORDER = {  # torch has no second derivative of cdist; shenjing's p=3 norm neither
    "vector_norm_3": lambda m, a, b, v: m.linalg.vector_norm(v, 3, dim=-1),
    "cdist_2": lambda m, a, b, v: m.cdist(a, b.swapaxes(-1, -2)),
    "cdist_1": lambda m, a, b, v: m.cdist(a, a, 1.0),  # zero distances: gradient 0
    "cdist_inf": lambda m, a, b, v: m.cdist(a, a, np.inf),
}


@pytest.mark.parametrize("name", list(FIRST_ORDER))
def test_matches_torch(name):
    torch = require_torch()
    ours = [sj.tensor(x, dtype=np.float64, requires_grad=True) for x in (A, B, V)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (A, B, V)]
    y, t = FIRST_ORDER[name](sj, *ours), FIRST_ORDER[name](torch, *theirs)
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    (y * y).sum().backward()
    (t * t).sum().backward()
    for o, t_ in zip(ours, theirs):
        if t_.grad is not None:
            np.testing.assert_allclose(o.grad.numpy(), t_.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(CALLS))
def test_matches_torch_to_second_order(name):
    torch = require_torch()
    call = CALLS[name]
    ours = [sj.tensor(x, dtype=np.float64, requires_grad=True) for x in (A, B, V)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (A, B, V)]
    y, t = call(sj, *ours), call(torch, *theirs)
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    first = sj.autograd.grad((y * y).sum(), ours, create_graph=True, allow_unused=True)
    reference = torch.autograd.grad((t * t).sum(), theirs, create_graph=True,
                                    allow_unused=True)
    for g, r in zip(first, reference):
        if r is not None:
            np.testing.assert_allclose(g.numpy(), r.detach().numpy(), rtol=1e-9, atol=1e-12)
    sum((g ** 2).sum() for g, r in zip(first, reference) if r is not None).backward()
    sum((r ** 2).sum() for r in reference if r is not None).backward()
    for o, t_ in zip(ours, theirs):
        if t_.grad is not None:
            np.testing.assert_allclose(o.grad.numpy(), t_.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_gradcheck_and_the_sign_of_slogdet():
    assert sj.gradcheck(lambda a, b: sj.linalg.solve(a, b), A[0], B[0])
    assert sj.gradcheck(lambda a: sj.linalg.inv(a) * sj.linalg.det(a), A[0])
    flipped = A[0][[1, 0, 2]]  # one row swap: det changes sign
    sign, logabs = sj.linalg.slogdet(sj.tensor(flipped, dtype=np.float64))
    assert float(sign.item()) == np.sign(np.linalg.det(flipped))
    assert float(logabs.item()) == pytest.approx(np.log(abs(np.linalg.det(flipped))))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"square matrix .* got shape \(2, 3\)"):
        sj.linalg.inv(sj.zeros(2, 3))
    with pytest.raises(TypeError, match="floating tensor"):
        sj.linalg.det(sj.tensor(np.eye(2, dtype=np.int64)))
    with pytest.raises(ValueError, match="do not match"):
        sj.linalg.solve(sj.eye(3), sj.zeros(2, 1))
    with pytest.raises(ValueError, match="ord must be 'fro', 'nuc'"):
        sj.linalg.matrix_norm(sj.eye(3), 3)
    with pytest.raises(ValueError, match="one M"):
        sj.cdist(sj.zeros(2, 3), sj.zeros(2, 4))
