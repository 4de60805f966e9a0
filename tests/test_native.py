"""The C kernels (shenjing.native): the same values as the NumPy paths, and a clean fallback.

The recurrent ops' gradients are checked against finite differences (float64, NumPy path) and
PyTorch (float32, C path where a compiler exists) in functional/test_recurrent.py; here the two
float32 paths are compared with each other on every option the C loops handle, with the batch
split unevenly over threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import shenjing
from shenjing import F, native

N, T, D, H = 7, 9, 5, 16


def _value_and_grad(fn, x0, g0):
    """fn(x) and x's gradient for the upstream g0: with the C kernels, then on NumPy's paths."""
    def run():
        x = shenjing.tensor(x0, requires_grad=True)
        y = fn(x)
        y.backward(shenjing.tensor(g0))
        return y.numpy(), x.grad.numpy()

    fast = run()
    with native.disabled():
        return fast, run()


def _kernels_run(monkeypatch):
    """The names of the C passes ``native.run`` ran from now on (a set, filled as they run)."""
    ran, run = set(), native.run

    def recorded(kernel, *arrays, **options):
        out = run(kernel, *arrays, **options)
        if out is not None:
            ran.add(kernel)
        return out

    monkeypatch.setattr(native, "run", recorded)
    return ran


@pytest.fixture
def cells():
    lib = native.kernels()
    if lib is None:
        if os.environ.get("SHENJING_REQUIRE_NATIVE") == "1":
            pytest.fail(f"SHENJING_REQUIRE_NATIVE=1 but the C kernels are {native.status()}")
        pytest.skip(native.status())
    return lib


def _inputs(cell, rng, scale, n=N, h=H):
    g = 4 if cell == "lstm" else 3
    arrays = [rng.standard_normal((n, T, D)), rng.standard_normal((D, g * h)) * scale,
              rng.standard_normal((h, g * h)) * scale,
              rng.standard_normal((2, 3 * h) if cell == "gru" else (g * h,)) * scale]
    arrays += [rng.standard_normal((n, h)) for _ in range(2 if cell == "lstm" else 1)]
    return [a.astype(np.float32) for a in arrays]


def _mask(left):
    mask = np.ones((N, T), bool)
    lengths = [T, 3, 1, T - 1, 5, T, 2]
    for row, n in enumerate(lengths):
        if left:
            mask[row, :T - n] = False
        else:
            mask[row, n:] = False
    return mask


OPTIONS = {
    "plain": {},
    "right-padded": {"mask": _mask(left=False)},
    "left-padded, reversed": {"mask": _mask(left=True), "reverse": True},
    "recurrent dropout": {"recurrent_mask": ((np.arange(N * H).reshape(N, H) % 3 > 0) * 1.5)
                          .astype(np.float32)},
    "one dropout mask for the batch": {"recurrent_mask": np.linspace(0, 2, H, dtype=np.float32)
                                       [None, :]},
    "no bias": {"bias": None},
}


def _run(cell, arrays, options, seq_weight):
    """Outputs and every gradient of a loss that reads the sequence, final h and final c."""
    options = dict(options)
    inputs = [shenjing.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
    x, w, u, b, *states = inputs
    bias = options.pop("bias", b)
    out = F.recurrence(cell, x, w, u, bias, states, **options)
    loss = (out[0] * out[0]).sum() * seq_weight + (out[1] * out[1]).sum()
    if cell == "lstm":
        loss = loss + out[2].sum() * 0.3
    loss.backward()
    grads = [t.grad.numpy() if t.grad is not None else None for t in inputs]
    return [o.numpy() for o in out], grads


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("seq_weight", [0.5, 0.0], ids=["sequence used", "last state only"])
def test_c_loops_match_the_numpy_path(cells, split_everything, cell, option, seq_weight, rng):
    arrays = _inputs(cell, rng, scale=0.5)
    fast = _run(cell, arrays, OPTIONS[option], seq_weight)
    with native.disabled():
        assert native.kernels() is None
        slow = _run(cell, arrays, OPTIONS[option], seq_weight)
    for a, b in zip(fast[0] + fast[1], slow[0] + slow[1]):
        if b is None:
            assert a is None
            continue
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("n, h", [(14, 20), (35, 20), (5, 192)])
def test_c_loops_match_the_numpy_path_at_other_sizes(cells, split_everything, cell, n, h, rng):
    """The recurrent products' own blocked loop (native/cells.c) on full tiles of 32 columns
    and 8 rows (AVX-512) or 4, on short tiles of the last rows and on ragged columns (20 units:
    80 gate columns = 32 + 32 + 16; 14 rows split 4 + 5 + 5, 35 split 11 + 12 + 12), and the
    BLAS call that takes over for kernels past 512 KiB (an LSTM of 192 units; the GRU's
    192 x 576 stays blocked)."""
    arrays = _inputs(cell, rng, scale=0.3, n=n, h=h)
    fast = _run(cell, arrays, {}, 0.5)
    with native.disabled():
        slow = _run(cell, arrays, {}, 0.5)
    for a, b in zip(fast[0] + fast[1], slow[0] + slow[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=5e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_c_activations_hold_in_saturation(cells, cell, rng):
    """Weights 20x larger drive the gates far into saturation (pre-activations of +-100):
    our exp's clamping must neither overflow nor lose the tails. Element by element float32
    is ill-conditioned there (1 - tanh^2 near 0 loses digits), so both float32 paths are
    measured against float64, as whole arrays: both are off by up to ~2e-4 in the gradients
    here. (Our sigmoid and tanh are within 3 ulp of the exact values, NumPy's within 1.)"""
    arrays = _inputs(cell, rng, scale=10.0)
    fast = _run(cell, arrays, {}, 0.5)
    with native.disabled():
        slow = _run(cell, arrays, {}, 0.5)
        exact = _run(cell, [a.astype(np.float64) for a in arrays], {}, 0.5)
    for a, b, e in zip(fast[0] + fast[1], slow[0] + slow[1], exact[0] + exact[1]):
        assert np.all(np.isfinite(a))
        error_c, error_numpy = (np.linalg.norm(r - e) / np.linalg.norm(e) for r in (a, b))
        assert error_c <= 3 * error_numpy + 1e-5, (error_c, error_numpy)


def test_float64_and_other_activations_take_the_numpy_path(cells, rng):
    from shenjing.functional.recurrent import _native_cells

    f32 = [a for a in _inputs("lstm", rng, 0.5)]
    assert _native_cells(tuple(f32), "tanh", "sigmoid") is cells
    assert _native_cells(tuple(a.astype(np.float64) for a in f32), "tanh", "sigmoid") is None
    assert _native_cells(tuple(f32), "relu", "sigmoid") is None
    assert _native_cells(tuple(f32), "tanh", "hard_sigmoid") is None


def _python(code: str, **env: str | None) -> dict:
    """Run ``code`` in a fresh interpreter (the kernels load once per process), with ``env``
    added to the environment (None: that variable removed)."""
    full_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


TRAIN = """
import json, numpy as np, shenjing as sj
from shenjing import native
sj.utils.set_random_seed(0)
m = sj.Sequential([sj.layers.LSTM(8), sj.layers.Dense(2)])
m.compile('adam', 'sparse_categorical_crossentropy')
x = np.random.default_rng(0).standard_normal((16, 6, 3)).astype('float32')
h = m.fit(x, np.arange(16) % 2, epochs=2, verbose=0)
print(json.dumps({"status": native.status(), "loss": h.history["loss"][-1]}))
"""


def test_the_cache_and_the_fallback_to_numpy(cells, tmp_path):
    with_c = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "a"))
    assert with_c["status"].startswith("loaded from " + str(tmp_path / "a"))
    assert len(list((tmp_path / "a").glob("kernels-*.so"))) == 1  # compiled into the cache
    again = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "a"))  # loaded from the cache
    assert again["status"] == with_c["status"]
    (tmp_path / "file").write_text("not a folder")
    unwritable = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "file" / "cache"))
    assert unwritable["status"].startswith("loaded from " + tempfile.gettempdir())
    broken = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "b"), CC="false")
    assert broken["status"].startswith("unavailable") and "NumPy" in broken["status"]
    off = _python(TRAIN, SHENJING_NATIVE="0")
    assert off["status"].startswith("off")
    for other in (broken, off):
        np.testing.assert_allclose(other["loss"], with_c["loss"], rtol=1e-4)


def test_kernels_go_to_the_one_cache_folder_by_default(cells, tmp_path):
    # ~/.shenjing/cache, where the data sets' derived files go too (one place to clear)
    status = _python(TRAIN, SHENJING_CACHE=None, HOME=str(tmp_path))["status"]
    assert status.startswith("loaded from " + str(tmp_path / ".shenjing" / "cache"))


def test_a_library_others_may_write_or_without_our_symbols_is_not_loaded(cells, tmp_path):
    first = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "a"))
    (lib,) = (tmp_path / "a").glob("kernels-*.so")
    lib.chmod(0o666)  # anyone could have replaced it: compiled anew in a private temp folder
    refused = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "a"))
    assert refused["status"].startswith("loaded from " + tempfile.gettempdir())
    assert "shenjing-" in refused["status"]
    lib.chmod(0o600)
    with open(_loaded_libc_path(), "rb") as f:
        lib.write_bytes(f.read())  # a real shared library, but not ours
    foreign = _python(TRAIN, SHENJING_CACHE=str(tmp_path / "a"))
    assert foreign["status"].startswith("unavailable") and "NumPy" in foreign["status"]
    np.testing.assert_allclose(foreign["loss"], first["loss"], rtol=1e-4)


def _loaded_libc_path() -> str:
    """The C library this process has loaded (a shared object that lacks our symbols)."""
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("needs Linux's /proc to find a shared library")
    with open("/proc/self/maps") as f:
        return next(line.split()[-1] for line in f if "libc.so" in line or "libc-" in line)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_c_adam_matches_the_numpy_path(cells, amsgrad, rng):
    from shenjing.optimizers import Adam

    start = rng.standard_normal((33, 17)).astype(np.float32)
    grads = [rng.standard_normal((33, 17)).astype(np.float32) * s for s in (1.0, 0.01, 3.0, 0.0)]

    def trajectory():
        p = shenjing.tensor(start.copy(), requires_grad=True)
        opt = Adam(learning_rate=0.01, amsgrad=amsgrad, params=[p])
        for g in grads:
            p.grad = shenjing.tensor(g)
            opt.step()
        return p.numpy(), opt.state_dict()["state"][0]

    fast = trajectory()
    with native.disabled():
        slow = trajectory()
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-6, atol=1e-7)
    for name in slow[1]:
        np.testing.assert_allclose(fast[1][name], slow[1][name], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("op", ["linear", "conv2d"])
def test_c_bias_relu_passes_match_the_numpy_path(cells, op, activation, rng):
    """The passes around linear's and conv2d's GEMMs (bias, fused ReLU, their gradients; the
    bias gradient summed over a 4x9x9 = 324-row column for the convolution)."""
    if op == "linear":
        shapes, fn = [(33, 7), (7, 12), (12,)], F.linear
    else:
        shapes = [(4, 9, 9, 3), (3, 3, 3, 5), (5,)]
        def fn(x, k, b, activation):  # noqa: E306
            return F.conv2d(x, k, b, padding="same", activation=activation)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def run():
        inputs = [shenjing.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*inputs, activation=activation)
        weights = np.linspace(-1, 1, out.size, dtype=np.float32).reshape(out.shape)
        (out * shenjing.tensor(weights)).sum().backward()
        return [out.numpy()] + [t.grad.numpy() for t in inputs]

    fast = run()
    with native.disabled():
        slow = run()
    # the bias gradient is a sum of up to 324 terms of size <= 1: NumPy's float32 GEMV rounds
    # to ~2e-5 of the exact value there, our double accumulator to float32's last digit
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=5e-5)


def test_c_relu_keeps_nan(cells):
    """A NaN must stay NaN through the fused ReLU and its gradient, as in NumPy, so that
    TerminateOnNaN and detect_anomaly still see it."""
    from shenjing.functional._util import activation_bias_grads, add_bias_activate

    results = []
    for path in ("c", "numpy"):
        with native.disabled() if path == "numpy" else contextlib.nullcontext():
            y = np.array([[1.0, -1.0, 0.0]], np.float32)
            add_bias_activate(y, np.array([0.0, 0.0, np.nan], np.float32), "relu")
            g = np.array([[np.nan, np.nan, 1.0]], np.float32)  # NaN at y > 0 and at y = 0
            results.append((y, *activation_bias_grads(g, y, "relu", True)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)  # equal NaN positions included
    assert np.isnan(results[0][0][0, 2]) and results[0][0][0, 1] == 0.0
    assert np.isnan(results[0][1][0, :2]).all()  # NaN * 0 is NaN: a masked NaN survives too


@pytest.mark.parametrize("split", [False, True])
def test_c_leaky_relu_matches_the_numpy_path(cells, split, rng):
    """Forward and gradient in one C pass each, split over the intra-op threads when large
    enough; NaNs, zeros (the kink: slope side) and non-contiguous inputs included."""
    x0 = rng.standard_normal((3, 50_000 if split else 40)).astype(np.float32)
    x0[0, :3] = [np.nan, 0.0, -0.0]
    g0 = rng.standard_normal(x0.shape).astype(np.float32)
    g0[1, 0] = np.nan

    # the transpose: a non-contiguous input and gradient
    fast, slow = _value_and_grad(lambda x: F.leaky_relu(x.T, 0.3).T, x0, g0)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)  # the same float32 products, NaNs included
    assert np.isnan(fast[0][0, 0]) and fast[0][0, 1] == 0.0


@pytest.mark.parametrize("geometry", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1))])
def test_c_im2col_and_col2im_match_the_numpy_path(cells, geometry, rng):
    """The convolutions' columns and input gradient, one C pass each: overlapping windows
    (stride 1), strided and dilated ones; col2im alone, and both through conv2d."""
    from shenjing.functional.conv import _add_columns

    strides, dilation = geometry
    n, hp, wp, c, kh, kw = 3, 9, 8, 5, 3, 2
    ho = (hp - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    wo = (wp - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    gcols = rng.standard_normal((n, ho, wo, kh, kw, c)).astype(np.float32)
    x0 = rng.standard_normal((2, 7, 7, 4)).astype(np.float32)
    k = shenjing.tensor(rng.standard_normal((3, 3, 4, 2)).astype(np.float32))
    up = shenjing.tensor(rng.standard_normal((2, 7, 7, 2)).astype(np.float32))
    results = []
    for path in ("c", "numpy"):
        with native.disabled() if path == "numpy" else contextlib.nullcontext():
            target = np.ones((n, hp, wp, c), np.float32)
            _add_columns(target, gcols, (ho, wo), strides, dilation)
            x = shenjing.tensor(x0, requires_grad=True)
            y = F.conv2d(x, k, strides=strides, dilation_rate=dilation, padding="same")
            y.backward(up[:, :y.shape[1], :y.shape[2]])
            results.append((target, y.numpy(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


LOGITS = {  # name: (rows, classes, how the logits are made from standard normals)
    "mnist-sized": (128, 10, lambda z: 3 * z),
    "a remainder after the 16-wide blocks": (37, 21, lambda z: z),
    "wide": (64, 1000, lambda z: 4 * z),
    "one class": (9, 1, lambda z: z),
    "huge logits": (16, 8, lambda z: 1e4 * z),
    "masked classes": (16, 40, lambda z: np.where(z > 0.5, -np.inf, z)),
}


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("case", LOGITS)
def test_c_softmax_cross_entropy_matches_the_numpy_path(cells, case, reduction, rng):
    m, n, make = LOGITS[case]
    x = make(rng.standard_normal((m, n))).astype(np.float32)
    labels = rng.integers(0, n, m).astype(np.int32)
    if case == "masked classes":  # a label never points at a masked class
        x[np.arange(m), labels] = rng.standard_normal(m)
    weights = rng.standard_normal(m).astype(np.float32)

    def run():
        z = shenjing.tensor(x).requires_grad_()
        loss = F.sparse_categorical_crossentropy(labels[:, None], z, from_logits=True,
                                                 reduction=reduction)
        (loss * weights).sum().backward() if reduction == "none" else loss.backward()
        return loss.numpy(), z.grad.numpy()

    loss_c, grad_c = run()
    with native.disabled():
        loss_np, grad_np = run()
    assert np.isfinite(loss_c).all()
    np.testing.assert_allclose(loss_c, loss_np, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_c, grad_np, rtol=1e-5, atol=1e-7)
    if case == "masked classes":
        assert (grad_c[np.isinf(x)] == 0).all()


def test_c_softmax_cross_entropy_keeps_nan(cells):
    x = np.array([[1.0, np.nan, 0.5], [0.2, 0.1, 0.3]], np.float32)
    loss = F.sparse_categorical_crossentropy(np.array([0, 2]), shenjing.tensor(x),
                                             from_logits=True, reduction="none").numpy()
    assert np.isnan(loss[0]) and np.isfinite(loss[1])


def test_c_sigmoid_and_tanh_passes_match_the_numpy_path(cells, rng, monkeypatch):
    """sigmoid's forward within 1e-6 of the exact value everywhere (its tail below -87, where
    sj_exp stops, from libm down to the subnormals), NaN kept, saturation exact; the sigmoid
    gradient bit for bit NumPy's, tanh's to a rounding."""
    x0 = rng.standard_normal((64, 600)).astype(np.float32) * 8
    x0[0, :12] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e4, -1e4, -87.5, -100.0, -103.0, 88.5, 20]
    g0 = rng.standard_normal(x0.shape).astype(np.float32)

    ran = _kernels_run(monkeypatch)
    for fn in (F.sigmoid, F.tanh):
        fast, slow = _value_and_grad(fn, x0, g0)
        assert np.isnan(fast[0][0, 0]) and np.isnan(fast[1][0, 0])
        np.testing.assert_allclose(fast[0], slow[0], rtol=1e-6, atol=0)
        # 1 - y, where y nears 1, magnifies the forward's last-bit difference
        np.testing.assert_allclose(fast[1], slow[1], rtol=1e-5, atol=1e-6)
    # tanh's gradient: g (1 - y^2) of its own y, to two roundings (C may fuse y^2 into 1 -)
    (y, gx), _ = _value_and_grad(F.tanh, x0, g0)
    exact = g0.astype(np.float64) * (1 - y.astype(np.float64) ** 2)
    np.testing.assert_allclose(gx, exact, rtol=3e-7, atol=1e-37)
    (y, gx), _ = _value_and_grad(F.sigmoid, x0, g0)
    assert {"sj_sigmoid_fwd", "sj_sigmoid_bwd", "sj_tanh_bwd"} <= ran  # what F's ops chose
    with np.errstate(over="ignore"):
        exact = 1 / (1 + np.exp(-x0.astype(np.float64)))
    np.testing.assert_allclose(y, exact, rtol=1e-6, atol=2e-45)  # (subnormals: to one step)
    assert y[0, 1] == 1.0 and y[0, 2] == 0.0 and y[0, 5] == 1.0 and y[0, 6] == 0.0
    assert 0 < y[0, 9] < 1e-44  # e^-103: a subnormal, as NumPy's exp gives
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(gx, g0 * y * (1 - y))  # NumPy's own order of products


def test_select_is_numpys_where_bit_for_bit():
    """The branch-free where of the activations (NaN payloads, -0.0 and infinities kept),
    with broadcasting, Python numbers and every float width; other dtypes take where."""
    from shenjing.functional._util import select

    rng = np.random.default_rng(0)
    for dtype in (np.float16, np.float32, np.float64):
        x = rng.standard_normal((130, 70)).astype(dtype)  # over the size where it blends
        a = rng.standard_normal(x.shape).astype(dtype)
        a[0, :4] = [np.nan, np.inf, -0.0, -np.inf]
        b = rng.standard_normal(70).astype(dtype)
        m = x >= 0
        for args in ((m, a, b), (m, a, 0.5), (m, 2, a), (m[:1], a, b), (True, a, b),
                     (m[:, :1], b, 1.0), (m[0, 0], a[0, 0], b[0])):
            got, expected = select(*args), np.where(*args)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(np.atleast_1d(got).view(np.uint8),
                                          np.atleast_1d(expected).view(np.uint8))
    ints = np.arange(6)
    np.testing.assert_array_equal(select(ints > 2, ints, -ints), np.where(ints > 2, ints, -ints))


def test_c_gelu_matches_the_numpy_path(cells, rng, monkeypatch):
    """GELU's value and derivative in one C pass: the NumPy path's (the same erf formula, exp
    to a rounding), tails exactly 0 and x, NaN kept; the tanh form stays NumPy's."""
    x0 = rng.standard_normal((50, 700)).astype(np.float32) * 4
    x0[0, :7] = [np.nan, 0.0, -0.0, 1e4, -1e4, 13.5, -13.5]
    g0 = rng.standard_normal(x0.shape).astype(np.float32)

    ran = _kernels_run(monkeypatch)
    fast, slow = _value_and_grad(F.gelu, x0, g0)
    assert "sj_gelu_fwd" in ran  # the C pass is what F.gelu chose
    for a, b in zip(fast, slow):
        assert np.isnan(a[0, 0]) and np.isnan(b[0, 0])
        np.testing.assert_allclose(a[:, 1:], b[:, 1:], rtol=1e-6, atol=1e-6)
    y, gx = fast
    assert y[0, 3] == 1e4 and y[0, 4] == 0.0 and gx[0, 3] == g0[0, 3] and gx[0, 4] == 0.0


def test_c_silu_matches_the_numpy_path(cells, rng, monkeypatch):
    """SiLU's value and derivative in one C pass: the NumPy path's to a rounding, the far tails
    (x e^x below -87 through libm's exp, x above), NaN kept."""
    x0 = rng.standard_normal((50, 700)).astype(np.float32) * 4
    x0[0, :7] = [np.nan, 0.0, -0.0, 1e4, -1e4, -95.0, 95.0]
    g0 = rng.standard_normal(x0.shape).astype(np.float32)

    ran = _kernels_run(monkeypatch)
    fast, slow = _value_and_grad(F.silu, x0, g0)
    assert "sj_silu_fwd" in ran
    # the derivative s + x s (1 - s) crosses 0 near x = -1.28: there both paths keep only
    # float32's absolute accuracy of its terms (~1e-7)
    for a, b, atol in zip(fast, slow, (1e-30, 2e-7)):
        assert np.isnan(a[0, 0]) and np.isnan(b[0, 0])
        np.testing.assert_allclose(a[:, 1:], b[:, 1:], rtol=1e-6, atol=atol)
    y, gx = fast
    assert y[0, 3] == 1e4 and y[0, 4] == 0.0 and gx[0, 3] == g0[0, 3]
    # x e^x at -95: a subnormal (fewer digits), not 0
    np.testing.assert_allclose(y[0, 5], -95.0 * np.exp(-95.0), rtol=1e-4)


def test_c_softmax_matches_the_numpy_path(cells, rng, monkeypatch):
    """Softmax over the last axis, and its gradient, one C pass a row: NumPy's values to a
    rounding, rows with -inf entries (a masked attention row), a NaN row and an all -inf row
    NaN as NumPy's; other axes and small tensors stay on NumPy's path."""
    x0 = rng.standard_normal((8, 6, 40)).astype(np.float32) * 4
    x0[0, 0, :10] = -np.inf
    x0[0, 1, 3] = np.nan
    x0[0, 2] = -np.inf
    g0 = rng.standard_normal(x0.shape).astype(np.float32)
    ran = _kernels_run(monkeypatch)
    with np.errstate(invalid="ignore"):
        fast, slow = _value_and_grad(lambda x: F.softmax(x, axis=-1), x0, g0)
    assert {"sj_softmax", "sj_softmax_grad"} <= ran
    for a, b in zip(fast, slow):  # NaNs where NumPy's are; g - sum(g y) cancels: 2e-5
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=5e-7)
    lib = native.kernels()
    big, g_big = (rng.standard_normal((400, 90)).astype(np.float32) for _ in range(2))
    one = _value_and_grad(lambda x: F.softmax(x, axis=-1), big, g_big)[0]
    lib.sj_set_team(2)  # rows split over a team of two: the same values
    try:
        two = _value_and_grad(lambda x: F.softmax(x, axis=-1), big, g_big)[0]
    finally:
        lib.sj_set_team(shenjing.parallel.team_size or 1)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    assert (fast[0][0, 0, :10] == 0).all() and np.isnan(fast[0][0, 1:3]).all()
    ran.clear()
    _value_and_grad(lambda x: F.softmax(x, axis=1), x0[1:], g0[1:])
    _value_and_grad(lambda x: F.softmax(x, axis=-1), x0[1:2, :2], g0[1:2, :2])
    assert not ran


@pytest.mark.parametrize("affine", ["both", "gamma", "none"])
def test_c_layer_norm_matches_the_numpy_path(cells, rng, monkeypatch, affine):
    """LayerNorm over the last axis in one C pass a row, both ways: the NumPy path's values and
    gradients (x, gamma, beta) to a rounding, a constant row included (variance 0: eps alone),
    with or without gamma and beta; a split over the team gives one thread's sums."""
    x0 = rng.standard_normal((40, 30, 33)).astype(np.float32) * 3 + 1  # over TEAM_MIN
    x0[0, 0] = 2.5
    g0 = rng.standard_normal(x0.shape).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 33).astype(np.float32) if affine != "none" else None
    beta = rng.standard_normal(33).astype(np.float32) if affine == "both" else None
    lib = native.kernels()
    calls = []
    monkeypatch.setattr(lib, "sj_layer_norm_bwd", _counting(lib.sj_layer_norm_bwd, calls))
    monkeypatch.setattr(lib, "sj_layer_norm_fwd", _counting(lib.sj_layer_norm_fwd, calls))

    def run():
        x = shenjing.tensor(x0, requires_grad=True)
        w = None if gamma is None else shenjing.tensor(gamma, requires_grad=True)
        b = None if beta is None else shenjing.tensor(beta, requires_grad=True)
        y = F.layer_norm(x, w, b, axis=-1, epsilon=1e-5)
        y.backward(shenjing.tensor(g0))
        return [y.numpy(), x.grad.numpy()] + [t.grad.numpy() for t in (w, b) if t is not None]

    fast = run()
    assert len(calls) == 2  # forward and backward in C
    with native.disabled():
        slow = run()
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
    lib.sj_set_team(2)  # (a team of two where OpenMP is: the sums split by rows)
    try:
        assert lib.sj_team_threads() == (2 if lib.sj_openmp() else 1)
        on_team = run()
    finally:
        lib.sj_set_team(shenjing.parallel.team_size or 1)
    for a, b in zip(fast, on_team, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_c_layer_norm_keeps_x_and_the_mean_and_recomputes_xhat(cells, rng):
    """The C forward keeps x, the mean and 1 / std, not xhat: rows far from zero (mean 1000,
    std 0.5) still get float64's gradients to float32's rounding; a backward under
    native.disabled() recomputes xhat for the NumPy path; and x changed in place after the
    forward is an error at backward, as for any op that reads its input there."""
    x0 = (1000 + 0.5 * rng.standard_normal((64, 40))).astype(np.float32)
    g0 = rng.standard_normal(x0.shape).astype(np.float32)
    gamma0 = rng.uniform(0.5, 1.5, 40).astype(np.float32)

    def run(dtype, disabled_backward=False):
        x = shenjing.tensor(x0, dtype=dtype, requires_grad=True)
        w = shenjing.tensor(gamma0, dtype=dtype, requires_grad=True)
        y = F.layer_norm(x, w, None, epsilon=1e-5)
        with native.disabled() if disabled_backward else contextlib.nullcontext():
            y.backward(shenjing.tensor(g0, dtype=dtype))
        return [y.numpy(), x.grad.numpy(), w.grad.numpy()]

    exact = run(np.float64)
    for got in (run(np.float32), run(np.float32, disabled_backward=True)):
        for a, e in zip(got, exact, strict=True):
            np.testing.assert_allclose(a, e, rtol=2e-3, atol=2e-3 * np.abs(e).max())
    x = shenjing.tensor(x0, requires_grad=True)
    y = F.layer_norm(x, None, None)
    with shenjing.no_grad():
        x += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_c_layer_norm_partial_gradients_strided_upstream_and_double_backward(cells, rng):
    """After the C forward: only gamma's gradient (x a constant), an upstream gradient that is
    a transposed view, and gradients of gradients (create_graph) as torch gives them."""
    from oracle import require_torch

    torch = require_torch()
    x0 = rng.standard_normal((64, 48)).astype(np.float32)
    gamma0 = rng.uniform(0.5, 1.5, 48).astype(np.float32)
    g0 = rng.standard_normal((48, 64)).astype(np.float32)  # used transposed: strided
    x = shenjing.tensor(x0)  # no gradient wanted for x
    w = shenjing.tensor(gamma0, requires_grad=True)
    F.layer_norm(x, w, None, epsilon=1e-5).backward(shenjing.tensor(g0).T)
    tw = torch.tensor(gamma0, requires_grad=True)
    torch.nn.functional.layer_norm(torch.tensor(x0), (48,), tw, None, 1e-5).backward(
        torch.tensor(g0).T)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    xs = shenjing.tensor(x0, requires_grad=True)
    (gx,) = shenjing.autograd.grad((F.layer_norm(xs, w, None, epsilon=1e-5) ** 3).sum(), xs,
                                   create_graph=True)
    (gx * gx).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    (tgx,) = torch.autograd.grad((torch.nn.functional.layer_norm(tx, (48,), tw, None, 1e-5)
                                  ** 3).sum(), tx, create_graph=True)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-3)


def _counting(fn, calls):
    def counted(*args):
        calls.append(fn)
        return fn(*args)
    return counted


@pytest.mark.parametrize("multiplier, strides, dilation, padding", [
    (1, (1, 1), (1, 1), "same"), (2, (2, 1), (1, 1), "valid"), (3, (1, 2), (2, 1), "same")])
def test_depthwise_c_loops_match_the_numpy_path(multiplier, strides, dilation, padding, rng):
    """native/depthwise.c (40x faster than im2col + a batched GEMM of 9-wide rows) against the
    NumPy path, values and all three gradients; and a backward run after native code was
    turned off since the forward (it falls back on the saved padded input)."""
    x = rng.standard_normal((3, 9, 8, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 5, multiplier)).astype(np.float32)
    b = rng.standard_normal(5 * multiplier).astype(np.float32)
    g = rng.standard_normal((3, 9, 8, 5 * multiplier)).astype(np.float32)

    def run(off_for_backward=False):
        xs = [shenjing.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.depthwise_conv2d(*xs, strides=strides, padding=padding, dilation_rate=dilation)
        grad = shenjing.tensor(g[:, :y.shape[1], :y.shape[2]])
        with native.disabled() if off_for_backward else contextlib.nullcontext():
            (y * grad).sum().backward()
        return [y.numpy()] + [t.grad.numpy() for t in xs]

    with native.disabled():
        want = run()
    for got in (run(), run(off_for_backward=True)):
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_address_is_the_arrays_data_pointer_for_every_layout(cells):
    """native.address, through the pycalls.c extension and through ctypes (a fast path for
    writable one-block arrays, a.ctypes.data for the rest): the same pointer either way, NULL
    for None; anything but an array is refused."""
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    read_only = a.copy()
    read_only.flags.writeable = False
    broadcast, _ = np.broadcast_arrays(np.ones(6, np.float32), a)  # warns on write
    for address in (native.address, native._ctypes_address):
        for v in (a, a.T, a[1:3], a[:, 1:4], a[:, 1:4].T, a[::2], a[::-1], read_only, a[:0],
                  a[2, 3:], np.ones((), np.float32), np.asfortranarray(a), broadcast,
                  broadcast[:1], np.memmap):
            if v is np.memmap:  # a subclass of ndarray
                v = a.view(np.memmap)
            assert address(v) == v.ctypes.data, (address, v.shape, v.strides)
        assert address(None) is None
    if native._address is not native._ctypes_address:
        with pytest.raises(TypeError, match="NumPy array or None, got list"):
            native.address([1.0])


ADDRESSES = """
import json, sysconfig
paths = sysconfig.get_paths
sysconfig.get_paths = lambda *a, **k: {**paths(*a, **k), "include": "/no"}  # no python3-dev
import numpy as np
from shenjing import native
native.kernels()
a = np.ones((3, 4), np.float32)[:, 1:]
print(json.dumps({"status": native.status(), "same": native.address(a) == a.ctypes.data,
                  "extension": native._address is not native._ctypes_address,
                  "arith": type(native.kernels().sj_arith).__name__}))
"""


ONEDNN_IN_DISABLED = """
import json, numpy as np
from shenjing import native
from shenjing.native import onednn
with native.disabled():  # oneDNN loaded first here
    onednn.matmul(np.ones((256, 256), np.float32), np.ones((256, 256), np.float32))
print(json.dumps({"onednn": onednn._sgemm is not None, "sgemm": type(onednn._sgemm).__name__}))
"""


def test_calls_go_through_the_extension_or_without_headers_through_ctypes(cells, tmp_path):
    import sysconfig

    if not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
        pytest.skip("no Python.h here: the extension cannot be built")
    assert native._address is not native._ctypes_address, native.status()
    assert "ctypes" not in native.status()
    lib = native.kernels()
    for name in native._WRAPPED:
        assert type(getattr(lib, name)).__name__ == "builtin_function_or_method", name
    a = np.arange(6, dtype=np.float32)
    out, ref = np.empty_like(a), np.empty_like(a)
    for call, to in ((lib.sj_arith, out), (lib._cdll.sj_arith, ref)):  # a - 2, both ways
        assert call(1, 6, native.address(a), None, 2.0, native.address(to)) == 0
    np.testing.assert_array_equal(out, a - 2)
    np.testing.assert_array_equal(ref, out)
    with pytest.raises(TypeError, match="sj_arith takes 6 arguments, got 2"):
        lib.sj_arith(1, 6)
    with pytest.raises(TypeError):
        lib.sj_bias_relu(2, 3, "not an address", None, 1)
    # oneDNN's sgemm goes through it too, also when oneDNN is first loaded in a disabled() block
    first_in_disabled = _python(ONEDNN_IN_DISABLED, SHENJING_CACHE=str(tmp_path))
    if first_in_disabled["onednn"]:
        assert first_in_disabled["sgemm"] == "builtin_function_or_method"
    without = _python(ADDRESSES, SHENJING_CACHE=str(tmp_path))
    assert without["status"].startswith("loaded from " + str(tmp_path))
    assert "called through ctypes: no Python.h" in without["status"]
    assert without["same"] and not without["extension"] and without["arith"] == "_FuncPtr"
