"""Intra-op threads: an op's work split over its batch, one slice per core.

BLAS can spread one matrix product over the cores, but NumPy's element-wise passes (im2col
copies, bias, activation, col2im, pooling) run on one core, and while they run BLAS's idle
threads spin, holding the other core. Measured on the CIFAR CNN (2 cores): the same step takes
31 ms with 2-thread BLAS and 23 ms when each core runs the whole op (copies, GEMM, element-wise
passes) on its half of the batch with single-threaded BLAS; with BLAS's threads spinning beside
such split ops it takes 42 ms. For an MLP, whose step is nearly all GEMMs of ~0.3 ms, BLAS's own
threads are best (a hand-off to a sleeping thread costs ~50 us here).

Until then products of whole batches multiply on several cores in one of two ways. Where
oneDNN (the ``onednn`` extra) and the C kernels built with OpenMP are both there, *team mode*:
float32 products run on the calling thread's OpenMP team in oneDNN, and so do the big
element-wise passes next to them (:func:`arith` for ``+ - * /`` in ``native/team.c``; ReLU,
the bias passes, Adam, sigmoid and GELU in their kernels' ``SJ_TEAM`` loops), as PyTorch runs
its ops on one pool, while NumPy's BLAS runs one thread
(its spinning threads and the team's would fight over the cores). A pass on one core after a
product on two reads the product's output from the other core's cache: on the MLP step of
``bench_autograd.py`` team mode is ~10% faster than OpenBLAS's threads with one-core passes.
Elsewhere, BLAS's own threads each product.

So the work decides, once per process: whole-batch products as above (``set_num_threads``
sets how many threads) until the first op that splits itself over the batch (``conv2d`` and
pooling of a real batch, the C loops of LSTM and GRU, via :func:`over_batch`). From then on
BLAS runs one thread per call, team mode ends, and the big ops, ``linear`` included, split
over the threads. NumPy releases the GIL inside its loops and BLAS calls (and C kernels hold
none), so the slices really run at once. Jobs too small to repay a hand-off (under
:data:`MIN_WORK` per thread) and CuPy arrays run inline, in one call.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import native
from .backend import get_xp
from .native import address

# Work is counted in element passes (about 1 ns each); a hand-off to a thread costs ~50 us.
MIN_WORK = 1 << 17

_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_pool: Any = None
_splitting = False  # True once an op has split itself: BLAS is then held at one thread
_blas_limit: Any = None  # threadpoolctl's limit on the BLAS threads, once one was set
malloc_tuned = False  # malloc_settings applied (the first over_batch call or backward)
# Team mode: the OpenMP team's size for whole-batch float32 work, 0 outside it (read, never
# set, by the ops that take the team).
team_size = 0
_team_tried = False  # whether the first whole-batch product has decided team mode
_onednn: Any = None  # shenjing.native.onednn, once a product went through it
_kernels: Any = None  # the C kernels, in team mode
_FLOAT32 = np.dtype(np.float32)


def set_threads(n: int) -> None:
    """Use ``n`` threads (``n`` >= 1): in team mode the OpenMP team's size, else BLAS's (and
    team mode is decided again at the next product); once ops split, shenjing's own pool."""
    global _threads, _pool, team_size, _team_tried
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n
    if team_size:
        team_size = n
        _kernels.sj_set_team(n)
    elif not _splitting:
        _team_tried = False  # decided again at the next product, with n threads
    _limit_blas(1 if _splitting or team_size else n)


def threads() -> int:
    return _threads


def splitting() -> bool:
    """Whether ops split themselves over the threads (and BLAS runs one thread per call)."""
    return _splitting


def _limit_blas(n: int) -> None:
    global _blas_limit
    from threadpoolctl import threadpool_limits

    _blas_limit = threadpool_limits(limits=n, user_api="blas")


def malloc_settings() -> list[tuple[int, int]]:
    """The ``mallopt`` settings shenjing applies to glibc's allocator, [] where it applies none.

    glibc hands out arrays over 128 KiB as fresh ``mmap``s and gives freed heap back at once,
    so every step's large temporaries (im2col columns, gradients, activations) fault their
    pages in again; adapting its threshold only after some frees, it did so in some runs and
    not others. Measured on the CIFAR CNN training step (bench_cnn.py): batch 32 ran 2,040
    samples/s (one of two threads: 2,120), with these settings 3,630 (2,810); batch 64 4,230
    -> 4,400; the MLP of bench_autograd.py unchanged. So arrays up to 32 MiB stay on the heap
    (M_MMAP_THRESHOLD) and up to 256 MiB of freed heap stays mapped (M_TRIM_THRESHOLD): peak
    memory is unchanged, it is returned to the system later. None where glibc's own
    ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` are set (the user decides), or
    with another C library."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return []
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):  # not POSIX, or no such name
        libc = ""
    if not libc.startswith("glibc"):
        return []
    return [(-3, 32 << 20), (-1, 256 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD


def tune_malloc() -> None:
    """Apply :func:`malloc_settings` once, at the first op that goes through :func:`over_batch`
    (linear, the convolutions, pooling, the normalizations, ReLU) or the first backward,
    whichever comes first, not at ``import shenjing``, which stays free of ctypes."""
    global malloc_tuned
    malloc_tuned = True
    settings = malloc_settings()
    if settings:
        import ctypes

        libc = ctypes.CDLL(None)
        for param, value in settings:
            libc.mallopt(param, value)


def gemm_work(m: int, k: int, n: int) -> int:
    """The work of an (m, k) @ (k, n) product in element passes (one core: ~150 GFLOP/s)."""
    return m * k * n // 64


def over_batch(fn: Callable[[int, int], Any], batch: int, work: int,
               split: bool = True) -> list[Any]:
    """``[fn(start, stop), ...]`` over contiguous slices covering ``range(batch)``, one per
    thread (the calling thread takes the first).

    ``work`` (element passes, see :func:`gemm_work`) decides how many threads are worth it;
    ``split=False`` (CuPy arrays) runs it inline.
    ``fn`` must write only its own slice of any shared output; what it returns (partial sums)
    comes back in slice order.
    """
    if not malloc_tuned:
        tune_malloc()
    parts = min(_threads, batch, max(work // MIN_WORK, 1)) if split else 1
    if parts <= 1:
        return [fn(0, batch)]
    global _pool, _splitting
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(_threads - 1, thread_name_prefix="shenjing")
    if not _splitting:
        _splitting = True
        _leave_team()
        _limit_blas(1)
    bounds = [batch * k // parts for k in range(parts + 1)]
    futures = [_pool.submit(fn, bounds[k], bounds[k + 1]) for k in range(1, parts)]
    first = fn(bounds[0], bounds[1])
    return [first] + [f.result() for f in futures]


def gemm(a: Any, b: Any, out: Any = None) -> Any:
    """``a @ b`` (into ``out`` if given): once ops split themselves, a one-thread product (a
    slice's), in oneDNN where it is installed (see :mod:`shenjing.native.onednn`: 1.26x faster
    than OpenBLAS on one core), else in BLAS; before that, one product on the team in team
    mode (float32), else on BLAS's threads."""
    if type(a) is np.ndarray:
        if a.ndim > 2 and b.ndim == 2 and (out is None or out.flags.c_contiguous):
            # a stack times one matrix (a layer over (batch, time, features)): one product of
            # the stack's rows, not one per matrix (attention's projections: 2.3x faster)
            m = math.prod(a.shape[:-1])  # (not -1: an axis may be empty)
            rows = gemm(a.reshape(m, a.shape[-1]), b,
                        None if out is None else out.reshape(m, b.shape[-1]))
            return rows.reshape(*a.shape[:-1], b.shape[-1]) if out is None else out
        if _splitting:
            from .native import onednn  # not at import: only split ops multiply through it

            return onednn.matmul(a, b, out)
        if (team_size or not _team_tried) and b.ndim > 1 and (
                a.size * b.shape[-1] >= TEAM_GEMM_MIN) and (
                team_size or a.dtype is _FLOAT32 is b.dtype and _enter_team()):
            return _onednn.matmul(a, b, out, team_size)
    return a @ b if out is None else get_xp(a).matmul(a, b, out=out)


def gemms(*products: tuple[Any, Any, Any]) -> list[Any]:
    """``[gemm(a, b, out) for a, b, out in products]`` for independent products (``out`` may be
    None). In team mode, as many 2-D float32 products as the team has threads, each of
    ``PAIR_MIN`` multiply-adds or more, run one per thread, each alone on its core (see
    ``native/gemm_stack.c``): a layer's two gradients (as many multiply-adds each) ~10% faster
    than on the team one after the other."""
    if team_size > 1 and len(products) == team_size and all(
            getattr(a, "size", 0) * b.shape[-1] >= PAIR_MIN for a, b, _ in products):
        whole = [(a, b, np.empty((a.shape[0], b.shape[-1]), _FLOAT32) if out is None else out)
                 for a, b, out in products]
        if _onednn.matmul_list(whole):
            return [out for _, _, out in whole]
    return [gemm(a, b, out) for a, b, out in products]


def matmul(a: Any, b: Any, epilogue: Callable[[Any], Any] | None = None) -> Any:
    """``a @ b`` (2-D ``a``), then ``epilogue(block)`` in place on each block of output rows
    while it is in cache (a layer's bias and activation). Once ops split themselves, ``a``'s
    rows are spread over the threads (BLAS then runs one thread per call, so one call would
    use one core); before that, and for CuPy arrays, it is one product and one epilogue."""
    if not (_splitting and type(a) is np.ndarray):  # one product, one epilogue
        if not malloc_tuned:
            tune_malloc()
        out = gemm(a, b)
        if epilogue is not None:
            epilogue(out)
        return out
    out = np.empty((len(a), b.shape[1]), dtype=np.result_type(a, b))

    def rows(start, stop):
        gemm(a[start:stop], b, out[start:stop])
        if epilogue is not None:
            epilogue(out[start:stop])

    over_batch(rows, len(a), gemm_work(len(a), a.shape[1], b.shape[1]))
    return out


def matmul_tn(a: Any, b: Any) -> Any:
    """``a.T @ b`` for two arrays with the same (many) rows, such as a weight gradient over a
    batch; spread over the threads as in :func:`matmul`, the slices' products summed."""
    if not (_splitting and type(a) is np.ndarray):
        return gemm(a.T, b)
    return summed(over_batch(lambda start, stop: gemm(a[start:stop].T, b[start:stop]), len(a),
                             gemm_work(a.shape[1], len(a), b.shape[1])))


def summed(partials: list[Any]) -> Any:
    """The sum of per-slice partial results (None stays None)."""
    total = partials[0]
    for p in partials[1:] if total is not None else ():
        total = total + p
    return total


# -- team mode --------------------------------------------------------------------------------
# Where oneDNN (the ``onednn`` extra) and the C kernels with OpenMP are both there, whole-batch
# float32 products run on the calling thread's OpenMP team, and so do the big element-wise
# passes around them (:func:`arith`), as PyTorch runs its ops on one pool. Split ops end it.


def team_possible() -> bool:
    """Whether team mode can run here: two or more threads, oneDNN, and the C kernels built
    with OpenMP (loads both)."""
    from .native import onednn

    kernels = native.kernels()
    return (_threads > 1 and kernels is not None and bool(kernels.sj_openmp())
            and onednn._loaded() is not None)


def _enter_team() -> bool:
    """Decide team mode at the first whole-batch float32 product (where
    :func:`team_possible`); NumPy's BLAS is then held at one thread (its spinning threads and
    the team's would fight over the cores), so float64 products run on one core. Inside
    ``native.disabled()`` nothing is decided (the next product decides)."""
    global team_size, _team_tried, _onednn, _kernels
    if not native.enabled():
        return False
    _team_tried = True
    if not team_possible():
        return False
    from .native import onednn

    _onednn, _kernels, team_size = onednn, native.kernels(), _threads
    _kernels.sj_set_team(team_size)  # the C loops' team
    _limit_blas(1)
    return True


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's threads: an OpenMP team region would wait on
    the parent's workers forever, and the pool's queue would never be served. So a child
    forked in team mode leaves it for good (its products and passes run on one thread until
    it splits ops, with a new pool of its own)."""
    global _team_tried, _pool
    if team_size:
        _team_tried = True
        _leave_team()
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _leave_team() -> None:
    """End team mode: products back to BLAS (held at one thread by the caller's mode), the C
    loops on their calling threads."""
    global team_size
    if team_size:
        team_size = 0
        _kernels.sj_set_team(1)


ADD, SUB, MUL, DIV = range(4)
_NUMPY = (operator.add, operator.sub, operator.mul, operator.truediv)
_NUMPY_INPLACE = (operator.iadd, operator.isub, operator.imul, operator.itruediv)
_SWAPPED = (ADD, 4, MUL, 5)  # s - a and s / a in team.c
# Below this many elements a pass is cheaper on one thread than the team's fork and join.
TEAM_MIN = 1 << 15
# Products under this many multiply-adds stay NumPy's (oneDNN's MIN_WORK; a small product
# neither takes the team nor decides team mode).
TEAM_GEMM_MIN = 1 << 21
# Independent products of this many multiply-adds or more each run one per thread of the team
# (gemms): 1.3M each (256 x 512 x 10) in 84 us, not NumPy's 141 one after the other; 327K
# each (128 x 256 x 10) in 40 us, not 32.
PAIR_MIN = 1 << 20


def arith(op: int, a: Any, b: Any) -> Any:
    """NumPy's ``a + b``, ``a - b``, ``a * b`` or ``a / b`` (op ADD, SUB, MUL, DIV); in team
    mode on the team for big float32 arrays of one shape, or one and a scalar."""
    if team_size:
        out = _team_arith(op, a, b, None)
        if out is not None:
            return out
    return _NUMPY[op](a, b)


def arith_(op: int, a: Any, b: Any) -> Any:
    """As :func:`arith`, in place into ``a`` (``a += b``...)."""
    if team_size and _team_arith(op, a, b, a) is not None:
        return a
    return _NUMPY_INPLACE[op](a, b)


def _team_arith(op: int, a: Any, b: Any, out: Any) -> Any:
    """``a (op) b`` by team.c into ``out`` (a new array if None), then NumPy's warning or error
    for a division by zero, an overflow or an invalid operation as its errstate says; None
    where NumPy must do it (small arrays, other dtypes, broadcasting, strided or overlapping
    memory). Arrays are checked cheapest first: most calls are small ones."""
    if getattr(a, "size", 0) < TEAM_MIN and getattr(b, "size", 0) < TEAM_MIN:
        return None
    if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not _FLOAT32
            or b.dtype is not _FLOAT32):
        return None
    if a.shape == b.shape:
        big, other, scalar = a, b, 0.0
        if not b.flags.c_contiguous or (out is not None and b is not a
                                        and np.may_share_memory(a, b)):
            return None
    elif b.ndim == 0:
        big, other, scalar = a, None, float(b)
    elif a.ndim == 0 and out is None:
        big, other, scalar = b, None, float(a)
    else:
        return None
    if big.size < TEAM_MIN or not big.flags.c_contiguous or (
            out is not None and not out.flags.writeable):
        return None
    kernels = native.kernels()  # None inside native.disabled()
    if kernels is None:
        return None
    if out is None:
        out = np.empty(big.shape, _FLOAT32)
    raised = kernels.sj_arith(op if big is a else _SWAPPED[op], big.size, address(big),
                              address(other), scalar, address(out))
    if raised:
        _report(op, raised)
    return out


# For each NumPy floating-point error team.c reports (1 divide, 2 overflow, 4 invalid,
# 8 underflow: only a product or a quotient can, a tiny sum is exact): the operands, for each
# op, of a one-element NumPy operation that raises it, so that NumPy itself warns, raises or
# calls back as its errstate says, with its own message.
_BIG = np.finfo(np.float32).max
_RAISING = {1: {DIV: (1, 0)}, 2: {ADD: (_BIG, _BIG), SUB: (_BIG, -_BIG), MUL: (_BIG, _BIG),
                                  DIV: (_BIG, 0.5)},
            4: {ADD: (np.inf, -np.inf), SUB: (np.inf, np.inf), MUL: (0, np.inf), DIV: (0, 0)},
            8: {MUL: (1e-30, 1e-30), DIV: (1e-30, 1e30)}}


def _report(op: int, raised: int) -> None:
    for flag, by_op in _RAISING.items():
        if raised & flag and op in by_op:
            x, y = (np.array(v, _FLOAT32) for v in by_op[op])
            _NUMPY[op](x, y)
