"""Matrix products through oneDNN (shenjing.native.onednn): NumPy's values for every layout it
takes, NumPy's own product for everything it does not, the team size asked for, and the split ops
(dense, conv2d) giving the same gradients with and without it.

Where the ``onednn`` extra is not installed every product is NumPy's and the value tests still
hold; the tests that need oneDNN itself skip (fail under ``SHENJING_REQUIRE_ONEDNN=1``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from shenjing.native import onednn


@pytest.fixture
def calls(monkeypatch):
    """The products oneDNN ran, as (a.shape, b.shape); skips where oneDNN is not installed."""
    onednn.status()
    if not onednn.loaded():
        if os.environ.get("SHENJING_REQUIRE_ONEDNN") == "1":
            pytest.fail(f"SHENJING_REQUIRE_ONEDNN=1 but oneDNN is {onednn.status()}")
        pytest.skip(onednn.status())
    seen, gemm = [], onednn._gemm

    def counted(sgemm, a, b, out, threads):
        done = gemm(sgemm, a, b, out, threads)
        if done:
            seen.append((a.shape, b.shape))
        return done

    monkeypatch.setattr(onednn, "_gemm", counted)
    return seen


def _exact(a, b):
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def _rand(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


LAYOUTS = {  # name: (a, b) built from (m, k, n)
    "both as stored": lambda r, m, k, n: (_rand(r, (m, k)), _rand(r, (k, n))),
    "a transposed": lambda r, m, k, n: (_rand(r, (k, m)).T, _rand(r, (k, n))),
    "b transposed": lambda r, m, k, n: (_rand(r, (m, k)), _rand(r, (n, k)).T),
    "both transposed": lambda r, m, k, n: (_rand(r, (k, m)).T, _rand(r, (n, k)).T),
    "column slices (lda > k)": lambda r, m, k, n: (_rand(r, (m, k + 7))[:, 3:k + 3],
                                                   _rand(r, (k, n + 5))[:, :n]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("m,k,n", [(128, 784, 256), (256, 128, 64), (1, 2048, 1024)])
def test_products_equal_numpy_in_every_layout(layout, m, k, n, calls):
    a, b = LAYOUTS[layout](np.random.default_rng(0), m, k, n)
    y = onednn.matmul(a, b)
    assert y.shape == (m, n) and y.dtype == np.float32 and y.flags.c_contiguous
    np.testing.assert_allclose(y, _exact(a, b), rtol=1e-4, atol=1e-4 * np.sqrt(k))
    assert calls == [(a.shape, b.shape)]


def test_out_may_be_a_block_of_rows_of_a_wider_array(calls):
    rng = np.random.default_rng(1)
    a, b = _rand(rng, (64, 300)), _rand(rng, (300, 200))
    big = np.full((100, 250), 7.0, np.float32)
    out = big[10:74, 20:220]
    assert onednn.matmul(a, b, out) is out
    np.testing.assert_allclose(out, _exact(a, b), rtol=1e-4, atol=1e-3)
    assert (big[:10] == 7).all() and (big[:, :20] == 7).all() and (big[:, 220:] == 7).all()
    assert len(calls) == 1


def test_stacks_with_the_same_leading_axes_are_one_product_each(calls):
    rng = np.random.default_rng(2)
    # a (2, 3, 112, 128), each matrix transposed in memory; b (2, 3, 128, 160) as stored
    a, b = _rand(rng, (2, 3, 128, 112)).swapaxes(-1, -2), _rand(rng, (2, 3, 128, 160))
    np.testing.assert_allclose(onednn.matmul(a, b), _exact(a, b), rtol=1e-4, atol=1e-3)
    assert len(calls) == 6


@pytest.mark.parametrize("case", ["float64", "int", "vector", "broadcast batch", "small",
                                  "stride-2 rows", "out overlaps a", "empty"])
def test_what_onednn_does_not_take_is_numpys_product(case, calls):
    rng = np.random.default_rng(3)
    a, b, out = _rand(rng, (200, 300)), _rand(rng, (300, 100)), None
    if case == "float64":
        a = a.astype(np.float64)
    elif case == "int":
        a, b = (a * 10).astype(np.int64), (b * 10).astype(np.int64)
    elif case == "vector":
        b = b[:, 0]
    elif case == "broadcast batch":
        a = np.stack([a, a])
    elif case == "small":
        a, b = a[:20, :30], b[:30, :10]
    elif case == "stride-2 rows":
        a = _rand(rng, (200, 600))[:, ::2]
    elif case == "empty":
        a, b = a[:0], b
    if case == "out overlaps a":
        a = _rand(rng, (300, 300))
        b = _rand(rng, (300, 300))
        expected = a @ b
        assert onednn.matmul(a, b, out=a) is a
        np.testing.assert_allclose(a, expected, rtol=1e-5, atol=1e-4)
    else:
        expected = np.matmul(a, b)
        y = onednn.matmul(a, b, out)
        assert y.dtype == expected.dtype and y.shape == expected.shape
        np.testing.assert_array_equal(y, expected)
    assert calls == []


@pytest.mark.parametrize("layer", ["dense", "conv2d"])
def test_split_layers_give_the_same_gradients_with_and_without_onednn(layer, calls,
                                                                     split_everything):
    import shenjing as sj
    from shenjing import F

    rng = np.random.default_rng(4)
    if layer == "dense":
        x, w = _rand(rng, (384, 300)), _rand(rng, (300, 200)) * 0.1
    else:
        x, w = _rand(rng, (12, 16, 16, 24)), _rand(rng, (3, 3, 24, 32)) * 0.1
    b = _rand(rng, (w.shape[-1],))
    op = F.linear if layer == "dense" else F.conv2d

    def grads():
        params = [sj.tensor(p).requires_grad_() for p in (x, w, b)]
        y = op(*params, activation="relu")
        (y * y).sum().backward()
        return [y.numpy()] + [p.grad.numpy() for p in params]

    with_onednn = grads()
    # forward, weight and input gradients, for each of the three threads' slices
    assert len(calls) == 9
    onednn._enabled = False
    try:
        without = grads()
    finally:
        onednn._enabled = True
    for got, expected in zip(with_onednn, without):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, **env})


def test_products_run_on_the_calling_thread_alone(calls):
    code = """
import json, os, numpy as np
from threadpoolctl import threadpool_info
import shenjing as sj
from shenjing.native import onednn
sj.utils.set_num_threads(2)
a = np.ones((512, 512), np.float32)
threads = len(os.listdir("/proc/self/task"))
before = onednn.loaded()
for _ in range(20):
    onednn.matmul(a, a)
pools = {p["user_api"]: p["num_threads"] for p in threadpool_info()}
print(json.dumps([before, onednn.loaded(), len(os.listdir("/proc/self/task")) - threads, pools]))
"""
    before, after, new_threads, pools = json.loads(_run(code).stdout)
    assert not before and after  # loaded on the first product, not at import
    assert new_threads == 0 and pools["openmp"] == 1
    assert pools["blas"] == 2  # NumPy's BLAS keeps its threads for the unsplit products


def test_SHENJING_ONEDNN_0_leaves_every_product_to_numpy():
    code = """
import numpy as np
from shenjing.native import onednn
a = np.ones((256, 256), np.float32)
assert (onednn.matmul(a, a) == 256).all()
print(onednn.loaded(), onednn.status())
"""
    out = _run(code, SHENJING_ONEDNN="0").stdout
    assert out.startswith("False off (SHENJING_ONEDNN=0)")


def test_a_read_only_out_is_refused_as_numpy_refuses_it(calls):
    a = np.ones((256, 256), np.float32)
    out = np.zeros((256, 256), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        onednn.matmul(a, a, out)
    assert (out == 0).all() and calls == []


def test_a_library_that_does_not_load_is_named_not_called_absent(tmp_path):
    broken = tmp_path / "libdnnl.so.3"
    broken.write_bytes(b"not a shared library")
    code = """
from shenjing.native import onednn
print(onednn.status())
"""
    out = _run(code, SHENJING_ONEDNN=str(broken)).stdout
    assert out.startswith(f"unavailable: {broken}:") and "NumPy's BLAS multiplies" in out
    missing = _run(code, SHENJING_ONEDNN=str(tmp_path / "nowhere.so")).stdout
    assert missing.startswith(("oneDNN", "not installed"))  # the default places are tried
