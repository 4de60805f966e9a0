"""Fused CPU kernels in C, compiled on first use by the machine's own C compiler.

NumPy gives every element-wise step its own call and its own pass over memory. For most ops that
is fine; a recurrent cell, though, is ~20 such steps on small (batch, units) blocks per time step,
and there the passes and calls cost more than the GEMM (LSTM, batch 64, 128 units: 86 us per
forward step in NumPy, 21 us as one C loop); Adam is ten passes where one will do. The C files
next to this one hold those loops: ``cells.c`` (LSTM and GRU over whole sequences), ``adam.c``,
``bias_relu.c`` (the passes around linear's and conv2d's GEMMs, and leaky ReLU's), ``depthwise.c``
(depthwise convolution over NHWC memory, both ways), ``col2im.c``
(the convolutions' columns and input gradient), ``softmax_xent.c`` (the classifiers' loss,
and softmax both ways), ``ctc.c`` (the CTC loss's recursions), ``layer_norm.c`` (layer
normalization both ways), ``activations.c`` (sigmoid, SiLU and GELU, the sigmoid and tanh
gradients), ``embedding.c`` (an embedding's gradient), ``gemm_stack.c`` (stacks and
lists of oneDNN products on the team), ``team.c`` (team mode's arithmetic and ReLU passes on
an OpenMP team, see :mod:`shenjing.parallel`); ``sj_math.h`` holds the exp and row sums they share,
``sj_team.h`` the team's loop clause and per-thread sums. ``pycalls.c`` is no kernel but a
CPython extension module, built beside them where Python's headers are: :func:`address` and
the calls of the hot kernels, without ctypes' costs.
As tinygrad does, we compile them on the user's machine (``cc -O3 -march=native -fopenmp``,
without OpenMP where the compiler lacks it: the loops then run on one thread), once: the
library is cached in ``$SHENJING_CACHE`` (default ``~/.shenjing/cache``) under a name that
hashes the sources, the flags, the compiler and the CPU, and loaded with ctypes.

Nothing depends on it: without a C compiler, on other platforms, for float64 or for other
activations, every op takes its NumPy path, which computes the same values (the tests check both).
``SHENJING_NATIVE=0`` turns the kernels off; :func:`status` says what happened; ``shenjing info``
prints it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from ctypes import addressof as _address_of
from ctypes import c_char as _char
from typing import Any

import numpy as np

from .._cache import cache_dir

# What compiling needs (hashlib, subprocess, ctypes, ...) is imported in _load, on first use:
# importing this module costs nothing, so the ops that may use it import it at their top.
_HERE = os.path.dirname(os.path.abspath(__file__))
_EXTENSION = os.path.join(_HERE, "pycalls.c")  # a CPython extension module, built apart
_SOURCES = sorted(os.path.join(_HERE, f) for f in os.listdir(_HERE)
                  if f.endswith(".c") and os.path.join(_HERE, f) != _EXTENSION)
_HEADERS = sorted(os.path.join(_HERE, f) for f in os.listdir(_HERE) if f.endswith(".h"))
_FLAGS = ["-O3", "-fno-trapping-math", "-fno-math-errno", "-shared", "-fPIC"]
# Tried in order until the compiler accepts one (the vector width is x86's: AVX-512 where the
# CPU has it, ~5% faster LSTM loops than the default 256 bits; OpenMP for team.c's passes,
# which run on one thread without it).
_TUNINGS = tuple(t + omp for t in (["-march=native", "-mprefer-vector-width=512"],
                                    ["-march=native"], []) for omp in (["-fopenmp"], []))

_FLOAT32 = np.dtype(np.float32)
_lock = threading.Lock()
_lib: Any = None
_status = "not loaded yet"
_enabled = os.environ.get("SHENJING_NATIVE", "1") != "0"
_wanted = _enabled  # SHENJING_NATIVE's word, which disabled() does not change


def kernels() -> Any:
    """The loaded kernel library (a ``ctypes.CDLL``), or None where the NumPy path must run."""
    if not _enabled:
        return None
    if _lib is None and _status == "not loaded yet":
        _load()
    return _lib


# Below this many elements a C pass costs more to call (~7 us through ctypes) than NumPy's
# passes do (element-wise ones; a gradient's one or two NumPy passes pay from more).
C_MIN = 1 << 10


def address(a: Any) -> int | None:
    """A NumPy array's address (of its first element, as ``a.ctypes.data``) for a kernel's
    pointer argument; None (NULL) for no array. Through the ``pycalls.c`` extension once the
    kernels are loaded, where it builds (~0.1 us); else through ctypes (~0.45)."""
    return _address(a)


def _ctypes_address(a: Any) -> int | None:
    """:func:`address` without the extension. An array laid out in one block (either order) is
    read through ctypes's view of its buffer, ~0.45 us where ``a.ctypes.data`` costs ~1; one
    that has no writable buffer to view (read-only, or a broadcast NumPy marks to warn on
    write) takes ``a.ctypes.data``."""
    if a is None:
        return None
    flags = a.flags
    if a.nbytes and (flags.c_contiguous or flags.f_contiguous):
        try:  # (a Fortran-ordered array's transpose is C-ordered, at the same address)
            return _address_of(_char.from_buffer(a if flags.c_contiguous else a.T))
        except (TypeError, ValueError, BufferError):
            pass
    return a.ctypes.data


_address = _ctypes_address  # the extension's address once it is built and loaded (_load)
_pycalls: Any = None  # the pycalls.c module, once built and loaded
# The kernels it calls (a call ~0.5 us, through ctypes ~1.4): those of every training step.
_WRAPPED = ("sj_arith", "sj_bias_relu", "sj_relu_bias_grad", "sj_softmax_xent", "sj_gemm_list")


class _Library:
    """The kernels as :func:`kernels` gives them: the library's ctypes functions, but those of
    ``_WRAPPED`` through ``pycalls.c`` where it was built."""

    def __init__(self, cdll: Any) -> None:
        self._cdll = cdll

    def __getattr__(self, name: str) -> Any:  # a name's first use: ctypes's function, kept
        fn = getattr(self._cdll, name)
        setattr(self, name, fn)
        return fn


def pycall(name: str, fn: Any) -> Any:
    """``pycalls.c``'s call of the C function ``fn`` (a ctypes function it wraps under
    ``name``: oneDNN's ``dnnl_sgemm``), where the extension was built; else ``fn`` itself."""
    import ctypes

    if _lib is None and _wanted and _status == "not loaded yet":
        _load()  # (built with the kernels; also where a disabled() block asks first)
    if _pycalls is None:
        return fn
    _pycalls.bind(name, ctypes.cast(fn, ctypes.c_void_p).value)
    return getattr(_pycalls, name)


def enabled() -> bool:
    """Whether the kernels may be used now: not ``SHENJING_NATIVE=0``, not inside
    :func:`disabled` (whether they compiled is :func:`kernels`)."""
    return _enabled


def run(kernel: str, *arrays: Any, outputs: int = 1, min_size: int = 0,
        lead: tuple[int, ...] = (), skipped: int = 0) -> Any:
    """``kernel(n, *lead, *arrays, *outs)``: one C pass over the ``n`` elements of ``arrays``
    (on the team in team mode, see :mod:`shenjing.parallel`) into ``outputs`` new arrays shaped
    as the first: the one array, or a tuple of them; ``lead`` are sizes the kernel takes after
    ``n`` (a row's length); ``skipped`` NULL pointers follow the outputs, for optional
    outputs not wanted (a derivative under no_grad). None (nothing done) where the kernels do
    not take the arrays (float32, C-contiguous, one shape) or they have fewer than
    ``min_size`` elements: the caller's NumPy path then runs."""
    first = arrays[0]
    if first.size < min_size:
        return None
    lib = kernels_for(*arrays)
    if lib is None or any(a.shape != first.shape for a in arrays[1:]):
        return None
    outs = tuple(np.empty_like(first) for _ in range(outputs))
    getattr(lib, kernel)(first.size, *lead, *(address(a) for a in arrays + outs),
                         *(None,) * skipped)
    return outs[0] if outputs == 1 else outs


def kernels_for(*arrays: Any, contiguous: bool = True) -> Any:
    """:func:`kernels` if every array is a float32 NumPy array (and C-contiguous, unless the
    caller copies them), which is all the C code reads; else None."""
    for a in arrays:  # a plain loop: this check runs around every fused op
        if type(a) is not np.ndarray or a.dtype is not _FLOAT32 or (
                contiguous and not a.flags.c_contiguous):
            return None
    return kernels()


def status() -> str:
    """One line: where the kernels were loaded from, or why they are not used."""
    if not _enabled:
        return "off (SHENJING_NATIVE=0 or native.disabled())"
    kernels()
    return _status


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the block on the NumPy paths only (tests compare the two)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def _cpu_id() -> str:
    """What -march=native depends on: the CPU's feature flags where Linux lists them."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return platform.machine() + flags


def _compile(cc: str, out: str, sources: list[str], flags: list[str],
             tunings: tuple[list[str], ...]) -> None:
    """Compile ``sources`` into ``out`` with ``flags`` and the first of ``tunings`` the compiler
    accepts, atomically (a temporary file, then a rename), so that two processes compiling at
    once each leave a whole library."""
    import subprocess
    import tempfile

    fd, tmp = tempfile.mkstemp(suffix=".so", dir=os.path.dirname(out))
    os.close(fd)
    try:
        for extra in tunings:
            cmd = [cc, *flags, *extra, "-o", tmp, *sources]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if done.returncode == 0:
                os.replace(tmp, out)
                return
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[:300]}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _compiled(cc: str, folder: str, name: str, sources: list[str] = _SOURCES,
              flags: list[str] = _FLAGS, tunings: tuple[list[str], ...] = _TUNINGS) -> str:
    """The library ``name`` in ``folder``, compiled there first if missing (the kernels, unless
    told other sources and flags). Only a folder and file of our own that no one else may
    write is trusted (a shared temporary folder could hold someone else's library under the
    name we look for); OSError otherwise."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        _compile(cc, path, sources, flags, tunings)
    for p in (folder, path):
        st = os.stat(p)
        if st.st_mode & 0o022 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            raise OSError(f"{p} may be written by other users; not loading a library from it")
    return path


def _load() -> None:
    import ctypes
    import hashlib
    import shutil
    import subprocess

    global _lib, _status
    with _lock:
        if _lib is not None or _status != "not loaded yet":
            return
        cc = shutil.which(os.environ.get("CC", "cc"))
        if cc is None:
            _status = "unavailable: no C compiler (cc or $CC) found; using the NumPy paths"
            return
        try:
            digest = hashlib.sha256(" ".join([cc, *_FLAGS, str(_TUNINGS), _cpu_id()]).encode())
            for source in _SOURCES + _HEADERS:  # a changed header must rebuild too
                with open(source, "rb") as f:
                    digest.update(f.read())
            name = f"kernels-{digest.hexdigest()[:16]}.so"
            try:
                path = _compiled(cc, cache_dir(), name)
            except OSError:  # a read-only home, say: a private temporary folder will do
                import tempfile

                uid = os.getuid() if hasattr(os, "getuid") else 0
                path = _compiled(cc, os.path.join(tempfile.gettempdir(), f"shenjing-{uid}"), name)
            lib = ctypes.CDLL(path)
            _declare(lib, ctypes)
        # AttributeError: a library without our symbols (not ours, or from another version)
        except (OSError, RuntimeError, AttributeError, subprocess.SubprocessError) as err:
            _status = f"unavailable: {err}; using the NumPy paths"
            return
        _lib, _status = _Library(lib), f"loaded from {path}"
        why = _load_pycalls(cc, os.path.dirname(path), lib)
        if why:
            _status += f" (called through ctypes: {why})"


def _load_pycalls(cc: str, folder: str, cdll: Any) -> str | None:
    """Build (once, into ``folder``) and load ``pycalls.c``, which then gives :func:`address`
    and calls the kernels of ``_WRAPPED``; None when done, else why not (no Python or NumPy
    headers, a failed build)."""
    import ctypes
    import hashlib
    import importlib.machinery
    import importlib.util
    import subprocess
    import sys
    import sysconfig

    global _address, _pycalls
    include = sysconfig.get_paths().get("include") or ""
    if not os.path.isfile(os.path.join(include, "Python.h")):
        return f"no Python.h in {include!r}"
    flags = ["-O2", "-shared", "-fPIC", f"-I{include}", f"-I{np.get_include()}"]
    digest = hashlib.sha256(" ".join([cc, *flags, sys.version, np.__version__]).encode())
    with open(_EXTENSION, "rb") as f:
        digest.update(f.read())
    name = f"pycalls-{digest.hexdigest()[:16]}{sysconfig.get_config_var('EXT_SUFFIX')}"
    try:
        path = _compiled(cc, folder, name, [_EXTENSION], flags, ([],))
        spec = importlib.util.spec_from_file_location(
            f"{__name__}._pycalls", path,
            loader=importlib.machinery.ExtensionFileLoader(f"{__name__}._pycalls", path))
        module = importlib.util.module_from_spec(spec)
        module.bind(np.ndarray)
        for kernel in _WRAPPED:
            module.bind(kernel, ctypes.cast(getattr(cdll, kernel), ctypes.c_void_p).value)
    except (OSError, RuntimeError, ImportError, KeyError, subprocess.SubprocessError) as err:
        return str(err)
    _address, _pycalls = module.address, module
    for kernel in _WRAPPED:
        setattr(_lib, kernel, getattr(module, kernel))
    return None


def _declare(lib: Any, ctypes: Any) -> None:
    """Argument types (the recurrent loops: five sizes, then one pointer per array), and
    NumPy's sgemm handed in."""
    pointers = {"sj_lstm_forward_seq": 9, "sj_lstm_backward_seq": 11, "sj_gru_forward_seq": 9,
                "sj_gru_backward_seq": 11}
    for name, count in pointers.items():
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_int64] * 5 + [ctypes.c_void_p] * count
        fn.restype = None
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    lib.sj_gemm_stack.argtypes = [ptr, i64, ctypes.c_char, ctypes.c_char, i64, i64, i64] + [
        ptr, i64, i64] * 3
    lib.sj_gemm_stack.restype = ctypes.c_int
    lib.sj_gemm_list.argtypes = [ptr, i64, ptr]
    lib.sj_gemm_list.restype = ctypes.c_int
    lib.sj_embedding_grad.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 3
    lib.sj_embedding_grad.restype = None
    lib.sj_adam.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 5 + [ctypes.c_float] * 5
    lib.sj_adam.restype = None
    lib.sj_bias_relu.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 2 + [ctypes.c_int]
    lib.sj_bias_relu.restype = None
    lib.sj_relu_bias_grad.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 4
    lib.sj_relu_bias_grad.restype = ctypes.c_int
    for name in ("sj_im2col", "sj_col2im"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_int64] * 12 + [ctypes.c_void_p] * 2
        fn.restype = None
    lib.sj_depthwise_fwd.argtypes = [ctypes.c_int64] * 13 + [ctypes.c_void_p] * 3
    lib.sj_depthwise_fwd.restype = None
    lib.sj_depthwise_bwd.argtypes = [ctypes.c_int64] * 13 + [ctypes.c_void_p] * 5
    lib.sj_depthwise_bwd.restype = None
    lib.sj_relu.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 2
    lib.sj_relu.restype = None
    lib.sj_relu_grad.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 3
    lib.sj_relu_grad.restype = None
    for name in ("sj_sigmoid_bwd", "sj_tanh_bwd"):
        getattr(lib, name).argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 3
        getattr(lib, name).restype = None
    lib.sj_sigmoid_fwd.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 2
    lib.sj_sigmoid_fwd.restype = None
    for name in ("sj_gelu_fwd", "sj_silu_fwd"):
        getattr(lib, name).argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 3
        getattr(lib, name).restype = None
    lib.sj_leaky_relu.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 2 + [ctypes.c_float]
    lib.sj_leaky_relu.restype = None
    lib.sj_leaky_relu_grad.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 3 + [ctypes.c_float]
    lib.sj_leaky_relu_grad.restype = None
    lib.sj_softmax_xent.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 4
    lib.sj_softmax_xent.restype = None
    lib.sj_layer_norm_fwd.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 3 + [
        ctypes.c_float] + [ctypes.c_void_p] * 3
    lib.sj_layer_norm_fwd.restype = None
    lib.sj_layer_norm_bwd.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 8
    lib.sj_layer_norm_bwd.restype = ctypes.c_int
    lib.sj_softmax.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 2
    lib.sj_softmax.restype = None
    lib.sj_softmax_grad.argtypes = [ctypes.c_int64] * 2 + [ctypes.c_void_p] * 3
    lib.sj_softmax_grad.restype = None
    lib.sj_ctc_alpha.argtypes = [ctypes.c_int64] * 3 + [ctypes.c_void_p] * 6
    lib.sj_ctc_alpha.restype = None
    lib.sj_ctc_grad.argtypes = [ctypes.c_int64] * 4 + [ctypes.c_void_p] * 8
    lib.sj_ctc_grad.restype = ctypes.c_int
    lib.sj_arith.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_float, ctypes.c_void_p]
    lib.sj_arith.restype = ctypes.c_int
    lib.sj_set_team.argtypes = [ctypes.c_int]
    lib.sj_set_team.restype = None
    for name in ("sj_openmp", "sj_team_min", "sj_team_threads"):
        getattr(lib, name).restype = ctypes.c_int
    lib.sj_set_sgemm.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.sj_set_sgemm.restype = None
    lib.sj_set_sgemm(*_numpy_sgemm(ctypes))


def _numpy_sgemm(ctypes: Any) -> tuple[int, int]:
    """The address of cblas_sgemm in the BLAS NumPy loaded (so the recurrent GEMMs run exactly
    as NumPy's would), and whether it takes 64-bit integers (NumPy's own OpenBLAS does)."""
    from threadpoolctl import threadpool_info

    names = (("scipy_cblas_sgemm64_", 1), ("cblas_sgemm64_", 1), ("scipy_cblas_sgemm", 0),
             ("cblas_sgemm", 0))
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        blas = ctypes.CDLL(info["filepath"])
        for name, ilp64 in names:
            if hasattr(blas, name):
                return ctypes.cast(getattr(blas, name), ctypes.c_void_p).value, ilp64
    raise RuntimeError("found no cblas_sgemm in NumPy's BLAS")
