"""More of keras.ops.numpy (shenjing/_ops_more.py): each op against NumPy's own on the same
values (NaN where NumPy gives NaN), and the differentiable ones by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import ops

R = np.random.default_rng(0)


def chk(name, got, want, tol=1e-5):
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    assert np.shape(got) == np.shape(want), name
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own all-NaN warnings
def test_every_op_matches_numpy():
    x, y, r = R.standard_normal((3, 4)), R.standard_normal((3, 4)), R
    xn = x.copy()
    xn[0, 1] = np.nan
    xn[2, :] = np.nan
    X, Y = sj.tensor(x, dtype=np.float64), sj.tensor(y, dtype=np.float64)
    XN = sj.tensor(xn, dtype=np.float64)
    chk("arctan2", ops.arctan2(X, Y), np.arctan2(x, y))
    chk("cbrt", ops.cbrt(X), np.cbrt(x))
    chk("deg2rad", ops.deg2rad(X), np.deg2rad(x))
    chk("rad2deg", ops.rad2deg(X), np.rad2deg(x))
    chk("exp2", ops.exp2(X), np.exp2(x))
    chk("fabs", ops.fabs(X), np.fabs(x))
    chk("trunc", ops.trunc(X), np.trunc(x))
    chk(
        "divide_no_nan",
        ops.divide_no_nan(X, np.array([0.0, 1.0, 2.0, 0.0])),
        np.where(
            np.array([0, 1, 2, 0]) == 0,
            0,
            x / np.where(np.array([0, 1, 2, 0]) == 0, 1, np.array([0, 1, 2, 0])),
        ),
    )
    chk("fmax", ops.fmax(XN, Y), np.fmax(xn, y))
    chk("fmin", ops.fmin(XN, Y), np.fmin(xn, y))
    chk("fmod", ops.fmod(X, 0.7), np.fmod(x, 0.7))
    chk("hypot", ops.hypot(X, Y), np.hypot(x, y))
    chk("logaddexp", ops.logaddexp(X, Y), np.logaddexp(x, y))
    chk("logaddexp2", ops.logaddexp2(X, Y), np.logaddexp2(x, y))
    chk("ldexp", ops.ldexp(X, np.array([1, 2, 3, -1])), np.ldexp(x, np.array([1, 2, 3, -1])))
    chk("sinc", ops.sinc(sj.tensor([0.0, 0.5, 1.5], dtype=np.float64)), np.sinc([0.0, 0.5, 1.5]))
    chk(
        "heaviside",
        ops.heaviside(sj.tensor([-1.0, 0.0, 2.0], dtype=np.float64), 0.5),
        np.heaviside([-1.0, 0.0, 2.0], 0.5),
    )
    chk("kron", ops.kron(X[:2, :2], Y[:2, :2]), np.kron(x[:2, :2], y[:2, :2]))
    chk("signbit", ops.signbit(X), np.signbit(x))
    chk("isneginf", ops.isneginf(sj.tensor([-np.inf, 1.0])), [True, False])
    chk("gcd", ops.gcd(np.array([12, 18]), np.array([8, 27])), np.gcd([12, 18], [8, 27]))
    chk("lcm", ops.lcm(np.array([4, 6]), np.array([6, 4])), [12, 12])
    chk("isclose", ops.isclose(X, X + 1e-9), np.isclose(x, x + 1e-9))
    chk("isin", ops.isin(np.array([1, 2, 3]), np.array([2])), [False, True, False])
    for ax in (None, 0, 1):
        for n in (
            "nansum",
            "nanprod",
            "nanmean",
            "nanmax",
            "nanmin",
            "nanvar",
            "nanstd",
            "nanargmax",
            "nanargmin",
        ):
            if n in ("nanargmax", "nanargmin") and ax == 1:
                continue
            chk(f"{n}{ax}", getattr(ops, n)(XN, axis=ax), getattr(np, n)(xn, axis=ax))
        chk(f"ptp{ax}", ops.ptp(X, axis=ax), np.ptp(x, axis=ax))
    chk("nancumsum", ops.nancumsum(XN, axis=1), np.nancumsum(xn, axis=1))
    chk("nancumprod", ops.nancumprod(XN, axis=0), np.nancumprod(xn, axis=0))
    for m in ("linear", "lower", "higher", "midpoint", "nearest"):
        for q in (0.3, [0.1, 0.5, 0.9]):
            chk(
                f"quantile {m} {q}",
                ops.quantile(X, q, axis=1, method=m),
                np.quantile(x, q, axis=1, method=m),
            )
            chk(
                f"quantile kd {m} {q}",
                ops.quantile(X, q, axis=0, method=m, keepdims=True),
                np.quantile(x, q, axis=0, method=m, keepdims=True),
            )
    chk("percentile", ops.percentile(X, 40), np.percentile(x, 40))
    chk("quantile nan", ops.quantile(XN, 0.5, axis=1), np.quantile(xn, 0.5, axis=1))
    for a, b in zip(ops.array_split(X, 3, axis=1), np.array_split(x, 3, axis=1)):
        chk("array_split", a, b)
    for a, b in zip(ops.hsplit(X, 2), np.hsplit(x, 2)):
        chk("hsplit", a, b)
    for a, b in zip(ops.vsplit(X, [1]), np.vsplit(x, [1])):
        chk("vsplit", a, b)
    x3 = r.standard_normal((2, 3, 4))
    for a, b in zip(ops.dsplit(sj.tensor(x3, dtype=np.float64), 2), np.dsplit(x3, 2)):
        chk("dsplit", a, b)
    chk("dstack", ops.dstack([X, Y]), np.dstack([x, y]))
    chk("dstack1", ops.dstack([X[0], Y[0]]), np.dstack([x[0], y[0]]))
    for a, b in zip(ops.unstack(X, axis=1), np.moveaxis(x, 1, 0)):
        chk("unstack", a, b)
    chk("append", ops.append(X, Y), np.append(x, y))
    chk("append1", ops.append(X, Y, axis=1), np.append(x, y, axis=1))
    chk("copy", ops.copy(X), x)
    chk("fliplr", ops.fliplr(X), np.fliplr(x))
    chk("flipud", ops.flipud(X), np.flipud(x))
    chk("rot90", ops.rot90(X, 3), np.rot90(x, 3))
    chk("diff", ops.diff(X, 2, axis=1), np.diff(x, 2, axis=1))
    chk("diagflat", ops.diagflat(X[:2, :2], 1), np.diagflat(x[:2, :2], 1))
    chk("empty", ops.empty((2, 3)).shape, (2, 3))
    chk("vdot", ops.vdot(X, Y), np.vdot(x, y))
    chk("inner", ops.inner(X, Y), np.inner(x, y))
    chk("inner1", ops.inner(X[0], Y[0]), np.inner(x[0], y[0]))
    v3 = r.standard_normal((4, 3))
    w3 = r.standard_normal((4, 3))
    chk(
        "cross",
        ops.cross(sj.tensor(v3, dtype=np.float64), sj.tensor(w3, dtype=np.float64)),
        np.cross(v3, w3),
    )
    chk(
        "cross axis",
        ops.cross(sj.tensor(v3.T, dtype=np.float64), sj.tensor(w3.T, dtype=np.float64), axis=0),
        np.cross(v3.T, w3.T, axis=0),
    )
    chk("vander", ops.vander(X[0]), np.vander(x[0]))
    chk("vander inc", ops.vander(X[0], 3, increasing=True), np.vander(x[0], 3, increasing=True))
    chk("corrcoef", ops.corrcoef(X), np.corrcoef(x))
    chk("trapezoid", ops.trapezoid(X), np.trapezoid(x))
    chk(
        "trapezoid x",
        ops.trapezoid(X, sj.tensor([0.0, 1.0, 3.0, 6.0], dtype=np.float64), axis=1),
        np.trapezoid(x, [0.0, 1.0, 3.0, 6.0], axis=1),
    )
    chk("trapezoid ax0", ops.trapezoid(X, dx=0.5, axis=0), np.trapezoid(x, dx=0.5, axis=0))
    chk("logspace", ops.logspace(0, 2, 5), np.logspace(0, 2, 5))
    chk("geomspace", ops.geomspace(1, 100, 5), np.geomspace(1, 100, 5))
    chk(
        "digitize",
        ops.digitize(np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0])),
        np.digitize([0.5, 1.5, 3.0], [1.0, 2.0]),
    )
    ap = ops.argpartition(np.array([3, 1, 2]), 1).numpy()
    assert np.array([3, 1, 2])[ap][1] == 2
    chk(
        "unravel",
        np.stack([t.numpy() for t in ops.unravel_index(np.array([5, 7]), (3, 4))]),
        np.stack(np.unravel_index([5, 7], (3, 4))),
    )
    chk(
        "searchsorted",
        ops.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]), side="right"),
        np.searchsorted([1.0, 2.0, 3.0], [2.0, 2.5], side="right"),
    )
    chk(
        "bincount",
        ops.bincount(np.array([0, 1, 1, 3]), minlength=5),
        np.bincount([0, 1, 1, 3], minlength=5),
    )
    chk(
        "bincount w",
        ops.bincount(np.array([0, 1, 1]), weights=np.array([0.5, 1.0, 2.0])),
        np.bincount([0, 1, 1], [0.5, 1.0, 2.0]),
    )
    chk("bincount 2d", ops.bincount(np.array([[0, 1], [2, 2]])), [[1, 1, 0], [0, 0, 2]])
    chk(
        "select",
        ops.select([X > 0, X < -1], [X, X * 2], 7.0),
        np.select([x > 0, x < -1], [x, x * 2], 7.0),
    )
    chk("multi_hot", ops.multi_hot(np.array([[0, 2], [1, 1]]), 4), [[1, 0, 1, 0], [0, 1, 0, 0]])
    assert ops.is_tensor(X) and not ops.is_tensor(x) and ops.dtype(X) == "float64"


def test_gradients():
    x = R.standard_normal((3, 4))
    calls = [
        lambda a: ops.cbrt(a + 3.0) + ops.exp2(a) + ops.sinc(a) + ops.logaddexp2(a, a * a),
        lambda a: ops.arctan2(a, a + 2.0) + ops.hypot(a, 1.5) + ops.fmax(a, 0.1 * a),
        lambda a: ops.divide_no_nan(a, a * a + 1.0) + ops.ldexp(a, np.array([1, 0, -1, 2])),
        lambda a: ops.nanvar(a, axis=1) + ops.nanstd(a, axis=0).sum() + ops.nanmax(a),
        lambda a: ops.quantile(a, [0.25, 0.6], axis=1) + ops.percentile(a, 50),
        lambda a: ops.corrcoef(a) + ops.vander(a[0], 3).sum() + ops.trapezoid(a).sum(),
        lambda a: ops.cross(a[:, :3], a[:, 1:]) + ops.kron(a[:2, :2], a[1:, 2:]).sum(),
        lambda a: ops.select([a > 0], [a * a], -a) + ops.inner(a, a).sum() + ops.vdot(a, a),
        lambda a: ops.dstack([a, a * 2]).sum() + sum(p.sum() for p in ops.array_split(a, 3, 1)),
    ]
    for call in calls:
        assert sj.gradcheck(call, x)


def test_errors_and_types():
    with pytest.raises(ValueError, match="method must be one of"):
        ops.quantile(np.ones(3), 0.5, method="cubic")
    with pytest.raises(ValueError, match=r"q must lie in \[0, 1\]"):
        ops.quantile(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="num=2"):
        ops.unstack(np.ones((3, 2)), num=2)
    with pytest.raises(ValueError, match="must be 1-D"):
        ops.searchsorted(np.ones((2, 2)), np.ones(2))
    assert ops.cbrt(np.array([8, 27])).dtype == np.float32  # integers: floatx
    assert "nanmean" in ops.numpy.__all__ and "quantile" in ops.__all__


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's all-NaN slice warnings
def test_nan_quantiles_match_numpy():
    x = R.standard_normal((4, 5)).astype(np.float32)
    x[0, 1], x[1, :3], x[3, :] = np.nan, np.nan, np.nan
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        for axis in (None, 0, 1):
            for q in (0.3, [0.1, 0.5, 0.85]):
                chk(f"nanquantile {method} {axis} {q}",
                    ops.nanquantile(x, q, axis=axis, method=method, keepdims=True),
                    np.nanquantile(x, q, axis=axis, method=method, keepdims=True))
    chk("nanpercentile", ops.nanpercentile(x, 40, axis=1), np.nanpercentile(x, 40, axis=1))
    chk("nanmedian", ops.nanmedian(x, axis=0), np.nanmedian(x, axis=0))
    assert sj.gradcheck(lambda a: ops.nanquantile(a, [0.2, 0.7], axis=1),
                        np.where(np.isnan(x), np.nan, R.standard_normal(x.shape))[:3])


def test_the_rest_of_keras_ops():
    chk("bitwise", ops.bitwise_and(np.array([12, 7]), np.array([10, 3])), [8, 3])
    chk("xor", ops.bitwise_xor(np.array([12]), np.array([10])), [6])
    chk("shifts", ops.left_shift(np.array([1, 3]), np.array([3, 1])), [8, 6])
    chk("right", ops.bitwise_right_shift(np.array([8]), np.array([2])), [2])
    chk("invert", ops.bitwise_invert(np.array([0, 5], np.int8)), [-1, -6])
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        chk(name, getattr(ops, name)(7), getattr(np, name)(7))
    chk("kaiser", ops.kaiser(6, 2.5), np.kaiser(6, 2.5))
    z = np.linspace(-2, 2, 9)
    from math import erf, erfc

    chk("erfc", ops.erfc(sj.tensor(z, dtype=np.float64)), [erfc(v) for v in z], 1e-6)
    u = np.array([-0.99, -0.5, 0.0, 0.3, 0.95])
    inverse = ops.erfinv(sj.tensor(u, dtype=np.float64)).numpy()
    chk("erfinv", [erf(v) for v in inverse], u, 1e-12)
    assert np.isinf(ops.erfinv(np.array([1.0])).numpy()).all()
    assert sj.gradcheck(ops.erfinv, u)
    assert bool(ops.allclose(np.ones(3), np.ones(3) + 1e-9).numpy())
    rows, cols = ops.nonzero(np.array([[0, 1], [2, 0]]))
    chk("nonzero", np.stack([rows.numpy(), cols.numpy()]), [[0, 1], [1, 0]])
    values, counts = ops.unique(np.array([3, 1, 3, 2]), return_counts=True)
    chk("unique", values, [1, 2, 3])
    chk("counts", counts, [1, 1, 2])
    chk("unique size", ops.unique(np.array([3, 1, 3]), size=4, fill_value=-1), [1, 3, -1, -1])
    chk("get_item", ops.get_item(np.arange(6).reshape(2, 3), (1, 2)), 5)
    chk("saturate_cast", ops.saturate_cast(np.array([300.0, -5.0, 7.6]), "uint8"), [255, 0, 7])
    ids = np.array([0, 0, 2, 2])
    chk("segment_min", ops.segment_min(np.array([3.0, 1.0, 4.0, 5.0]), ids, 3), [1, np.inf, 4])
    chk("segment_prod", ops.segment_prod(np.array([3.0, 2.0, 4.0, 5.0]), ids, 3), [6, 1, 20])
    counts, edges = ops.histogram(np.array([1.0, 2.0, 2.0, 5.0]), bins=3)
    want_counts, want_edges = np.histogram([1.0, 2.0, 2.0, 5.0], bins=3)
    chk("histogram", counts, want_counts)
    chk("edges", edges, want_edges)
    for mode in ("valid", "same", "full"):
        for a, v in (([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.5]), ([1.0, 2.0], [0.0, 1.0, 0.5])):
            chk(f"correlate {mode}", ops.correlate(np.array(a), np.array(v), mode),
                np.correlate(a, v, mode))
    assert sj.gradcheck(lambda a, v: ops.correlate(a, v, "full"), R.standard_normal(5),
                        R.standard_normal(3))
    chk("nextafter", ops.nextafter(np.float32(1.0), np.float32(2.0)),
        np.nextafter(np.float32(1.0), np.float32(2.0)), 0)
    chk("cdist", ops.cdist(np.zeros((1, 2)), np.array([[3.0, 4.0]])), [[5.0]])
    chk("real", ops.real(np.array([1.0, -2.0])), [1, -2])
    chk("imag", ops.imag(np.array([1.0, -2.0])), [0, 0])
    chk("angle", ops.angle(np.array([1.0, -2.0])), [0, np.pi])

    @ops.custom_gradient
    def log1pexp(x):  # Keras's example: the stable gradient of log(1 + e^x)
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * (1.0 - 1.0 / (1 + e))

        return ops.log(1 + e), grad

    x = sj.tensor([0.5, 100.0], requires_grad=True)
    with np.errstate(over="ignore"):
        log1pexp(x).sum().backward()
    chk("custom_gradient", x.grad, [1 / (1 + np.exp(-0.5)), 1.0])
    add = ops.vectorize(lambda a, b: a + b if a > 0 else b)
    chk("vectorize", add(np.array([1.0, -1.0]), np.array([2.0, 3.0])), [3.0, 3.0])


def test_review_cases_against_keras():
    """Cases a comparison with Keras 3.15 on JAX found: the NaN-skipping variance's gradient
    leaves the other values theirs; integer NaN reductions keep their dtype; quantiles beside
    infinities; bincount's dtypes; multi_hot ignores ids outside [0, n); heaviside of NaN."""
    a = sj.tensor([1.0, np.nan, 3.0], requires_grad=True)
    ops.nanvar(a).backward()
    chk("nanvar grad", a.grad, [-1.0, 0.0, 1.0])
    assert ops.nanmax(np.array([1, 5], np.int32)).dtype == np.int32
    assert ops.nansum(np.array([True, True])).dtype.kind in "iu"
    chk("higher", ops.quantile(np.array([-np.inf, 1.0, 2.0]), 0.25, method="higher"), 1.0)
    chk("nearest", ops.quantile(np.array([-np.inf, 2.0, np.inf]), [0.2, 0.8], method="nearest"),
        [-np.inf, np.inf])
    weights = np.array([0.5, 0.5, 2.0, 1.0], np.float32)
    assert ops.bincount(np.array([1, 1, 3, 0]), weights=weights).dtype == np.float32
    assert ops.bincount(np.array([1, 1])).dtype == np.int32
    chk("multi_hot", ops.multi_hot(np.array([[0, -1], [0, 5]]), 3), [[1, 0, 0], [1, 0, 0]])
    chk("heaviside", ops.heaviside(np.array([-1.0, 0.0, np.nan]), 0.5), [0.0, 0.5, np.nan])
    chk("cross 2", ops.cross(np.array([1.0, 2.0]), np.array([3.0, 4.0])), -2.0)
    chk("cross 2 and 3", ops.cross(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0, 5.0]])),
        np.cross([[1.0, 2.0, 0.0]], [[3.0, 4.0, 5.0]]))  # (NumPy 2 deprecates 2-vectors)
    assert ops.vander(np.array([1.0, 2.0]), 0).shape == (2, 0)
    chk("corrcoef 1-D", ops.corrcoef(np.array([1.0, 2.0, 4.0])), 1.0)
    chk("nanargmax", ops.nanargmax(np.array([[np.nan, np.nan], [1.0, np.nan]]), axis=1), [-1, 0])


def test_rearrange_as_einops():
    x = np.arange(2 * 6 * 4).reshape(2, 6, 4)
    chk("split", ops.rearrange(x, "b (h w) c -> b h w c", h=2), x.reshape(2, 2, 3, 4))
    chk("merge", ops.rearrange(x, "b s c -> c (b s)"), x.transpose(2, 0, 1).reshape(4, 12))
    chk("both", ops.rearrange(x, "b (h w) c -> (b w) h c", w=3),
        x.reshape(2, 2, 3, 4).transpose(0, 2, 1, 3).reshape(6, 2, 4))
    assert sj.gradcheck(lambda a: ops.rearrange(a, "(a b) c -> c b a", a=2),
                        R.standard_normal((6, 2)))
    for bad, match in (("b s c -> b c", "same axes"), ("b s -> s b", "2 input axes"),
                       ("b (h w) c -> b h w c", "all but one"), ("b s c -> b ... c", "axis name"),
                       ("b s c", "one '->'")):
        with pytest.raises(ValueError, match=match):
            ops.rearrange(x, bad)
