"""torch's ``scatter_reduce``: ``src`` combined into x's entries at ``index`` along ``dim`` by a
sum, a product, a mean, a maximum or a minimum, differentiable in both, as torch's.

Each entry that some ``src`` element targets becomes the reduction of those elements, and of
its own value too with ``include_self`` (torch's default); the other entries keep x's. In the
backward each member of a reduction (a ``src`` element, or the entry's own value) gets:

    sum   g                         mean  g / (number of members)
    amax, amin   g / (number of members equal to the result): ties share it, as torch's
    prod  g * (the product of the other members), from the counts of zeros, so a zero member
          gets the product of the rest and no 0 / 0 arises

and an entry's own value, when it is not a member, none. All but ``prod`` are linear in g with
constant weights, so their recorded backward (``create_graph``) is the same formula on
Tensors; ``prod``'s would need the product's own graph and is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Function, Tensor, array_of
from .backend import get_xp
from .functional import shape as S

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


class _ScatterReduce(Function):
    def forward(self, x, src, grid=(), reduce="sum", include_self=True):
        xp = get_xp(x)
        targets = xp.ravel_multi_index(xp.broadcast_arrays(*grid), x.shape).ravel()
        values = src.reshape(-1)
        flat = x.reshape(-1)
        hit = xp.zeros(flat.size, bool)
        hit[targets] = True
        own = hit & include_self  # entries whose own value is a member
        count = xp.bincount(targets, minlength=flat.size) + own
        out = flat.copy()
        if reduce in ("sum", "mean"):
            out[hit & ~own] = 0
            # one bincount of the targets (ufunc.at goes element by element), summed in float64
            out += xp.bincount(targets, weights=values, minlength=flat.size).astype(out.dtype)
            if reduce == "mean":  # (integers: floored, as torch's)
                out[hit] = (out[hit] / count[hit] if out.dtype.kind == "f" else
                            out[hit] // count[hit])
        elif reduce == "prod":
            out[hit & ~own] = 1
            xp.multiply.at(out, targets, values)
        else:
            pick = xp.maximum if reduce == "amax" else xp.minimum
            first = xp.unique(targets, return_index=True)[1]  # a member of each reduction
            fresh = ~own[targets[first]]
            out[targets[first][fresh]] = values[first][fresh]
            pick.at(out, targets, values)
        self.save_for_backward(targets, hit, own, count, reduce, flat, values, out, src.shape)
        return out.reshape(x.shape)

    def _weights(self):
        """(weight of x's entries, weight of each src element): what multiplies g (at the
        entry, or at the element's target) in every reduction but prod."""
        targets, hit, own, count, reduce, flat, values, out = self.saved[:8]
        xp = get_xp(flat)
        wx = xp.where(hit & ~own, 0.0, 1.0).astype(flat.dtype)
        wsrc = xp.ones(values.shape, flat.dtype)
        if reduce == "mean":
            wx[own] = 1.0 / count[own]
            wsrc = (1.0 / count[targets]).astype(flat.dtype)
        elif reduce in ("amax", "amin"):
            ties_src = values == out[targets]
            ties_own = own & (flat == out)
            ties = xp.bincount(targets, weights=ties_src, minlength=flat.size) + ties_own
            wx = xp.where(hit, xp.where(ties_own, 1.0 / xp.maximum(ties, 1), 0.0), 1.0)
            wsrc = xp.where(ties_src, 1.0 / xp.maximum(ties[targets], 1), 0.0)
        return wx.astype(flat.dtype), wsrc.astype(flat.dtype)

    def backward(self, g):
        targets, hit, own, count, reduce, flat, values, out, src_shape = self.saved
        xp = get_xp(g)
        gflat = g.reshape(-1)
        if reduce != "prod":
            wx, wsrc = self._weights()
            return (gflat * wx).reshape(g.shape), (gflat[targets] * wsrc).reshape(src_shape)
        zero_src, zero_own = values == 0, own & (flat == 0)
        zeros = xp.bincount(targets, weights=zero_src, minlength=flat.size) + zero_own
        rest = flat.copy()  # the product of each reduction's nonzero members
        rest[hit] = xp.where(own[hit] & (flat[hit] != 0), flat[hit], 1)
        xp.multiply.at(rest, targets, xp.where(zero_src, 1, values))

        def others(member, is_zero, at):  # the product of the other members of reduction at
            with np.errstate(divide="ignore", invalid="ignore"):
                return xp.where(zeros[at] == 0, rest[at] / xp.where(is_zero, 1, member),
                                xp.where(is_zero & (zeros[at] == 1), rest[at], 0))

        gx = xp.where(hit, xp.where(own, gflat * others(flat, flat == 0, slice(None)), 0),
                      gflat)
        gsrc = gflat[targets] * others(values, zero_src, targets)
        return gx.reshape(g.shape).astype(g.dtype), gsrc.reshape(src_shape).astype(g.dtype)

    def differentiable_backward(self, g):
        targets, reduce, src_shape = self.saved[0], self.saved[4], self.saved[8]
        if reduce == "prod":
            raise NotImplementedError("create_graph=True through scatter_reduce(reduce='prod'): "
                                      "its recorded backward is not written")
        wx, wsrc = self._weights()
        gflat = S.reshape(g, (-1,))
        return (S.reshape(gflat * wx, g.shape),
                S.reshape(S.getitem(gflat, targets) * wsrc, src_shape))


def scatter_reduce(self: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """x with ``src`` reduced into the entries at ``index`` along ``dim`` (for dim 1,
    ``out[i][index[i][j]]`` takes part ``src[i][j]``) by ``reduce``: 'sum', 'prod', 'mean',
    'amax' or 'amin'; with ``include_self`` each such entry's own value takes part too."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(REDUCTIONS)}, got "
                         f"{reduce!r}")
    if not isinstance(src, Tensor):
        src = Tensor._wrap(self.xp.asarray(array_of(src), dtype=self.dtype))
    if self.ndim == 0:  # torch's 0-d x: its dim 0 is one entry long
        one = (1,)
        out = scatter_reduce(S.reshape(self, one), dim, self.xp.asarray(
            array_of(index)).reshape(one), S.reshape(src, one), reduce,
            include_self=include_self)
        return S.reshape(out, ())
    index, axis = S.scatter_index("scatter_reduce", self, index, dim)
    if src.dtype != self.dtype:
        raise TypeError(f"scatter_reduce: src's dtype {src.dtype} is not x's {self.dtype}")
    if src.ndim != index.ndim or any(
            i > n or (d != axis and i > m) for d, (i, n, m) in
            enumerate(zip(index.shape, src.shape, self.shape))):
        raise ValueError(f"scatter_reduce: index of shape {index.shape} must be no larger than "
                         f"src {src.shape} in any axis, nor than x {self.shape} but in dim {dim}")
    src = S.getitem(src, tuple(slice(0, n) for n in index.shape))
    grid = S.index_grid(self.xp, index, axis, index.shape)
    return _ScatterReduce.apply(self, src, grid=grid, reduce=reduce,
                                include_self=bool(include_self))
