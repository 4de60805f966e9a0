"""Intra-op threads: ops split over the batch give what the one-call path gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import shenjing as sj
from shenjing import F, parallel


def test_over_batch_covers_the_batch_in_order(split_everything):
    seen = []

    def fn(start, stop):
        seen.append((start, stop, threading.current_thread().name))
        return start, stop

    out = parallel.over_batch(fn, 10, work=10**9)
    assert out == [(0, 3), (3, 6), (6, 10)]
    assert {name for *_, name in seen} - {threading.current_thread().name}  # a pool thread ran
    assert parallel.over_batch(fn, 2, work=10**9) == [(0, 1), (1, 2)]  # no empty slices
    assert parallel.over_batch(fn, 10, work=10**9, split=False) == [(0, 10)]


def test_over_batch_raises_a_slice_error(split_everything):
    def fn(start, stop):
        if start > 0:
            raise ValueError(f"bad slice {start}")

    with pytest.raises(ValueError, match="bad slice"):
        parallel.over_batch(fn, 9, work=10**9)


def test_summed_adds_partials():
    assert parallel.summed([None, None]) is None
    np.testing.assert_array_equal(parallel.summed([np.ones(3), 2 * np.ones(3)]), 3 * np.ones(3))


def test_split_matmuls_equal_one_call(split_everything, rng):
    a, b, c = (rng.standard_normal(s).astype(np.float32) for s in ((10, 4), (4, 6), (10, 6)))
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-6)
    plus_one = parallel.matmul(a, b, lambda block: np.add(block, 1, out=block))
    np.testing.assert_allclose(plus_one, a @ b + 1, rtol=1e-6)
    np.testing.assert_allclose(parallel.matmul_tn(a, c), a.T @ c, rtol=1e-5, atol=1e-6)


def _grads(fn, *arrays):
    tensors = [sj.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    weights = np.linspace(-1, 1, out.size, dtype=out.dtype).reshape(out.shape)
    (out * sj.tensor(weights)).sum().backward()
    return [out.numpy()] + [t.grad.numpy() for t in tensors]


CASES = {
    "conv2d relu": (lambda x, k, b: F.conv2d(x, k, b, padding="same", activation="relu"),
                    [(7, 6, 5, 3), (3, 3, 3, 4), (4,)]),
    "conv2d strided": (lambda x, k: F.conv2d(x, k, strides=2), [(5, 7, 7, 2), (3, 2, 2, 3)]),
    "linear relu": (lambda x, w, b: F.linear(x, w, b, activation="relu"), [(9, 6), (6, 5), (5,)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, strides=2, padding="same"), [(5, 7, 6, 2)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [(6, 6, 6, 3)]),
    "relu": (F.relu, [(7, 3, 2)]),
    "batch_norm training": (lambda x, g, b: F.batch_norm(x, g, b, None, None, training=True),
                            [(5, 4, 3, 6), (6,), (6,)]),
    "batch_norm inference": (lambda x, g, b: F.batch_norm(
        x, g, b, sj.tensor(np.full(6, 0.5, np.float32)), sj.tensor(np.full(6, 2.0, np.float32)),
        training=False), [(5, 4, 3, 6), (6,), (6,)]),
}


@pytest.mark.parametrize("name", CASES)
def test_split_ops_match_one_call(name, split_everything, monkeypatch):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    split = _grads(fn, *arrays)
    monkeypatch.setattr(parallel, "MIN_WORK", 1 << 60)  # now nothing is worth splitting
    whole = _grads(fn, *arrays)
    for a, b in zip(whole, split):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_first_split_holds_blas_at_one_thread():
    code = """
import json, numpy as np
from threadpoolctl import threadpool_info
import shenjing as sj
from shenjing import F, parallel
sj.utils.set_num_threads(2)
blas = lambda: [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
before = (parallel.splitting(), blas())
x = sj.tensor(np.random.default_rng(0).random((64, 32, 32, 3), dtype=np.float32))
F.conv2d(x, sj.tensor(np.ones((3, 3, 3, 32), np.float32)))
print(json.dumps([before, (parallel.splitting(), blas())]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    (split0, blas0), (split1, blas1) = json.loads(out.stdout)
    assert not split0 and blas0 and all(n == 2 for n in blas0)
    assert split1 and all(n == 1 for n in blas1)


def test_malloc_settings_keep_large_temporaries_on_the_heap_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    glibc = (getattr(os, "confstr", lambda name: "")("CS_GNU_LIBC_VERSION") or "").startswith(
        "glibc")
    assert parallel.malloc_settings() == ([(-3, 32 << 20), (-1, 256 << 20)] if glibc else [])
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")  # glibc's own knob: theirs to set
    assert parallel.malloc_settings() == []


@pytest.mark.parametrize("first", [
    "F.relu(sj.ones(8))",  # an op that can split over the batch
    "x = sj.ones(8).requires_grad_(); (x * x).sum().backward()",  # or a first backward
], ids=["split op", "backward"])
def test_after_the_first_op_a_large_array_comes_from_the_heap(first):
    # glibc's mallinfo2 counts the bytes in mmapped chunks: an 8 MiB array made after the
    # first op must not add to them (it would be a fresh mmap, faulted in page by page)
    code = """
import ctypes, json, os, numpy as np
import shenjing as sj
from shenjing import F
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
FIRST  # settings applied
before = libc.mallinfo2().hblkhd
a = np.ones(2 << 20, np.float32)
print(json.dumps([before, libc.mallinfo2().hblkhd]))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    probe = "import ctypes; ctypes.CDLL(None).mallinfo2"
    if not parallel.malloc_settings() or subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, env=env).returncode:
        pytest.skip("not glibc >= 2.33 (mallinfo2)")
    out = subprocess.run([sys.executable, "-c", code.replace("FIRST", first)],
                         capture_output=True, text=True, check=True, env=env)
    before, after = json.loads(out.stdout)
    assert after - before < 1 << 20
