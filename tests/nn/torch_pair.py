"""The call the shenjing.nn.functional tests share: one call written once for both modules."""

from __future__ import annotations

import shenjing.nn.functional as SF
from oracle import assert_same_as_torch, require_torch


def same(call, *inputs, **options):
    """``call(F, *tensors)`` with F = shenjing.nn.functional, then with torch.nn.functional, on
    the same float32 inputs: forward values and gradients compared (``assert_same_as_torch``'s
    options: wrt, atol, rtol)."""
    tf = require_torch().nn.functional
    assert_same_as_torch(lambda *t: call(SF, *t), inputs, lambda *t: call(tf, *t), **options)
