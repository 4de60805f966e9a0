"""Matrix products through oneDNN's ``dnnl_sgemm``, where the ``onednn`` extra is installed.

NumPy's OpenBLAS reaches 110-150 GFLOP/s on one core here for the convolutions' and layers'
shapes; the just-in-time AVX-512 kernels of Intel's oneDNN (the library under PyTorch's CPU
convolutions) 140-180: the products of a CIFAR CNN step and an MLP step take 1.26x less time
(``benchmarks/RESULTS.md``). So ``pip install shenjing[onednn]`` (the ``onednn-cpu-gomp``
wheel) makes :func:`matmul` hand float32 products to it; without the wheel, or with
``SHENJING_ONEDNN=0``, everything is NumPy's ``matmul``, which computes the same product (the
last bits differ, as between any two BLAS libraries; tests run both).

oneDNN threads with OpenMP: a product runs on the calling thread's OpenMP team, whose size
``threads`` sets (``omp_set_num_threads``, per thread, called when it changes). Split ops
(:mod:`shenjing.parallel`) multiply each slice on one thread; in team mode whole batches
multiply on the team, next to the C kernels' element-wise passes on the same team. (A team
beside one-thread NumPy passes gained nothing: the SGD update after it ran 2x slower.)

The library is found in the environment's ``lib`` folder (where the wheel puts it), or at
``$SHENJING_ONEDNN`` if that names a file, and loaded on the first product, not at import
(loading takes ~5 ms, and the first product of a shape ~25 ms while its kernel is generated).
"""

from __future__ import annotations

import math
import os
import sys
import threading
from typing import Any

import numpy as np

from . import address, kernels, pycall

_FLOAT32 = np.dtype(np.float32)
# Below about this many multiply-adds NumPy's product is as fast (measured here, one thread
# each: 100x100x100 13 us in NumPy, 20 in oneDNN; 128x128x128 32 and 28).
MIN_WORK = 1 << 21
# A stack of products goes matrix by matrix, each at least this big: (32, 128, 64) @
# (32, 64, 128) on a team of two 0.59 ms against NumPy's 0.74; 64^3 matrices 0.34 against 0.15.
MIN_EACH = 1 << 20

_lock = threading.Lock()
_local = threading.local()  # .threads: the OpenMP team size this thread last set
_enabled = os.environ.get("SHENJING_ONEDNN", "1") != "0"
_sgemm: Any = None
_sgemm_address: Any = None  # dnnl_sgemm's address, which native/gemm_stack.c calls
_omp_threads: Any = None  # omp_set_num_threads: the calling thread's team size
_status = "not loaded yet"


def _candidates() -> list[str]:
    given = os.environ.get("SHENJING_ONEDNN", "")
    if os.path.isfile(given):
        return [given]
    import site

    return [os.path.join(base, "lib", "libdnnl.so.3") for base in (sys.prefix, site.USER_BASE)
            ] + ["libdnnl.so.3"]


def _load() -> None:
    import ctypes

    global _sgemm, _sgemm_address, _omp_threads, _status
    with _lock:
        if _status != "not loaded yet":
            return
        errors = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
                fn = lib.dnnl_sgemm
            except (OSError, AttributeError) as err:
                # a library that is there but does not load (libgomp missing, say) is worth
                # saying; one that is not there is just not installed
                absent = not os.path.exists(path) if os.sep in path else (
                    f"{path}: cannot open" in str(err))
                if not absent:
                    errors.append(f"{path}: {err}")
                continue
            i64, ptr = ctypes.c_int64, ctypes.c_void_p
            fn.argtypes = [ctypes.c_char, ctypes.c_char, i64, i64, i64, ctypes.c_float, ptr, i64,
                           ptr, i64, ctypes.c_float, ptr, i64]
            fn.restype = ctypes.c_int
            # dnnl_sgemm's OpenMP team size is the calling thread's own setting
            _omp_threads = lib.omp_set_num_threads
            _omp_threads.argtypes = [ctypes.c_int]
            version = lib.dnnl_version
            version.restype = ctypes.POINTER(ctypes.c_int * 3)
            v = version().contents
            _sgemm = pycall("dnnl_sgemm", fn)  # (native/pycalls.c: faster than ctypes)
            _status = f"oneDNN {v[0]}.{v[1]}.{v[2]} from {path}"
            _sgemm_address = ctypes.cast(fn, ctypes.c_void_p).value  # for C callers
            return
        _status = (f"unavailable: {errors[0]}; NumPy's BLAS multiplies" if errors else
                   "not installed (pip install shenjing[onednn]); NumPy's BLAS multiplies")


def status() -> str:
    """One line: which oneDNN multiplies, or why NumPy's BLAS does."""
    if not _enabled:
        return "off (SHENJING_ONEDNN=0); NumPy's BLAS multiplies"
    if _status == "not loaded yet":
        _load()
    return _status


def loaded() -> bool:
    """Whether oneDNN multiplies (it is loaded on the first product, not at import)."""
    return _sgemm is not None


def _operand(a: np.ndarray) -> tuple[bytes, int] | None:
    """How a row-major GEMM reads ``a``: as stored (b"N") or transposed (b"T"), with its leading
    dimension; None where neither axis is unit-stride."""
    s0, s1 = a.strides
    if s1 == 4 and s0 >= 4 * a.shape[1] and s0 % 4 == 0:
        return b"N", s0 // 4
    if s0 == 4 and s1 >= 4 * a.shape[0] and s1 % 4 == 0:
        return b"T", s1 // 4
    return None


def _loaded() -> Any:
    """``dnnl_sgemm``, loaded on first call; None where NumPy multiplies."""
    if _sgemm is None and _enabled and _status == "not loaded yet":
        _load()
    return _sgemm


def matmul(a: Any, b: Any, out: Any = None, threads: int = 1) -> Any:
    """``a @ b`` (into ``out`` if given), as ``np.matmul``, on the calling thread's OpenMP team
    of ``threads`` (one: the thread alone).
    Float32 NumPy products big enough to repay the call run in oneDNN where it is installed:
    2-D ones, and stacks of them with the same leading axes: one call per matrix, or on a
    team with four or more products a thread, whole products per thread (:func:`_stack_on_team`)."""
    if (type(a) is not np.ndarray or type(b) is not np.ndarray
            or a.dtype is not _FLOAT32 or b.dtype is not _FLOAT32 or a.ndim < 2 or b.ndim < 2
            or b.shape[-2] != a.shape[-1] or a.shape[:-2] != b.shape[:-2]
            or a.size * b.shape[-1] < MIN_WORK
            or a.ndim > 2 and a.shape[-2] * a.shape[-1] * b.shape[-1] < MIN_EACH):
        return np.matmul(a, b, out=out)
    sgemm = _sgemm or _loaded()
    if sgemm is None:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((*a.shape[:-1], b.shape[-1]), _FLOAT32)
    elif not _takes_out(a, b, out):  # (np.matmul raises for a read-only out, as it should)
        return np.matmul(a, b, out=out)
    if a.ndim == 2:  # one product (a layer's): no stack to walk
        if not _gemm(sgemm, a, b, out, threads):
            np.matmul(a, b, out=out)
        return out
    products = math.prod(a.shape[:-2])
    if threads > 1 and products >= 4 * threads and _stack_on_team(sgemm, a, b, out):
        return out
    for i in np.ndindex(a.shape[:-2]):
        if not _gemm(sgemm, a[i], b[i], out[i], threads):
            np.matmul(a[i], b[i], out=out[i])
    return out


def _takes_out(a: np.ndarray, b: np.ndarray, out: Any) -> bool:
    """Whether ``out`` can hold ``a @ b`` as oneDNN writes it: a writable float32 NumPy array
    of the product's shape that overlaps neither operand."""
    return (type(out) is np.ndarray and out.dtype is _FLOAT32 and out.flags.writeable
            and out.shape == (*a.shape[:-1], b.shape[-1])
            and not np.may_share_memory(out, a) and not np.may_share_memory(out, b))


def _stack_on_team(sgemm: Any, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """out[i] = a[i] @ b[i] over a stack, each thread of the team taking whole products
    (``native/gemm_stack.c``; the calling thread's team, whose size the caller set); False
    where the C kernels are not there or a layout is not one it reads (the caller loops)."""
    lib = kernels()
    if lib is None or not out.flags.c_contiguous:
        return False
    (m, k), n = a.shape[-2:], b.shape[-1]
    a3, b3, out3 = a.reshape(-1, m, k), b.reshape(-1, k, n), out.reshape(-1, m, n)
    la, lb, lc = _operand(a3[0]), _operand(b3[0]), _operand(out3[0])
    if la is None or lb is None or lc is None or any(s.strides[0] % 4 for s in (a3, b3)):
        return False
    code = lib.sj_gemm_stack(_sgemm_address, len(a3), la[0], lb[0], m, n, k, address(a3),
                             la[1], a3.strides[0] // 4, address(b3), lb[1],
                             b3.strides[0] // 4, address(out3), lc[1], m * n)
    if code != 0:
        raise RuntimeError(f"dnnl_sgemm failed with status {code} on {a.shape} @ {b.shape}")
    return True


def matmul_list(products: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> bool:
    """``out = a @ b`` for each ``(a, b, out)`` of independent 2-D float32 products, each thread
    of the calling thread's team (its size set by the caller) taking whole products
    (``native/gemm_stack.c``); False, with nothing done, where oneDNN or the C kernels are not
    there or an operand is not one it reads (the caller then multiplies them in turn)."""
    lib = kernels()
    if lib is None or (_sgemm or _loaded()) is None:
        return False
    desc = []
    for a, b, out in products:
        if not (type(a) is np.ndarray is type(b) and a.ndim == 2 == b.ndim
                and a.dtype is _FLOAT32 is b.dtype and b.shape[0] == a.shape[1]
                and _takes_out(a, b, out)):
            return False
        la, lb, lc = _operand(a), _operand(b), _operand(out)
        if la is None or lb is None or lc is None or lc[0] != b"N":
            return False
        desc += [ord(la[0]), ord(lb[0]), a.shape[0], b.shape[1], a.shape[1], address(a),
                 la[1], address(b), lb[1], address(out), lc[1]]
    table = np.array(desc, np.int64)
    code = lib.sj_gemm_list(_sgemm_address, len(products), address(table))
    if code != 0:
        raise RuntimeError(f"dnnl_sgemm failed with status {code} on a list of products")
    return True


def _gemm(sgemm: Any, a: np.ndarray, b: np.ndarray, out: np.ndarray, threads: int) -> bool:
    """out = a @ b for 2-D arrays in oneDNN; False where a layout is not one it reads."""
    la, lb, lc = _operand(a), _operand(b), _operand(out)
    if la is None or lb is None or lc is None or lc[0] != b"N":
        return False
    (m, k), n = a.shape, b.shape[1]
    if getattr(_local, "threads", 0) != threads:
        _omp_threads(threads)
        _local.threads = threads
    code = sgemm(la[0], lb[0], m, n, k, 1.0, address(a), la[1], address(b), lb[1], 0.0,
                 address(out), lc[1])
    if code != 0:
        raise RuntimeError(f"dnnl_sgemm failed with status {code} on {a.shape} @ {b.shape}")
    return True
