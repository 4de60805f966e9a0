"""PyTorch's tensor factories: ``shenjing.zeros(2, 3)``, ``shenjing.randn(4, requires_grad=True)``.

Sizes come as integers or one sequence (``zeros(2, 3)`` or ``zeros((2, 3))``); floating results
are float32 unless ``dtype=`` says otherwise; ``requires_grad=True`` makes a leaf (floating
dtypes only, as in torch); ``device=`` is "cpu" (NumPy) or "cuda" / "cuda:N" (CuPy). The random
ones draw from shenjing's seeded streams (the shared one, or ``generator=``, a NumPy Generator)
on the host, so ``shenjing.utils.set_random_seed(n)`` makes them reproducible, on any device.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import backend
from .autograd import Tensor
from .functional.device import array_on, device_name


def _size(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Sizes given as integers or as one sequence, checked: non-negative integers."""
    try:
        sizes = tuple(args[0]) if len(args) == 1 and not _is_int(args[0]) else args
        sizes = tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"sizes must be integers or one sequence of them, got "
                        f"{args[0] if len(args) == 1 else args!r}") from None
    if any(n < 0 for n in sizes):
        raise ValueError(f"sizes must be non-negative, got {sizes}")
    return sizes


def _given(sizes: tuple[Any, ...], size: Any) -> tuple[Any, ...]:
    """The sizes of ``zeros(2, 3)`` or of torch's keyword form ``zeros(size=(2, 3))``."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"sizes given twice: {sizes} and size={size!r}")
    return (size,)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _made(data: Any, requires_grad: bool, device: Any) -> Tensor:
    t = Tensor._wrap(data if device is None else array_on(data, device))
    return t.requires_grad_(True) if requires_grad else t


def _dtype(dtype: Any, default: Any = backend.DEFAULT_FLOAT) -> np.dtype:
    return np.dtype(default if dtype is None else dtype)


def _floats(method: str, size: tuple[Any, ...], generator: np.random.Generator | None,
            dtype: Any, requires_grad: bool, device: Any) -> Tensor:
    """Random floats from ``generator`` (the shared seeded stream by default), drawn in float32
    or float64 (what NumPy draws in) and cast to ``dtype``."""
    dtype = _dtype(dtype)
    if not backend.is_floating(dtype):
        raise TypeError(f"random floats need a floating dtype, got {dtype} (randint() draws "
                        "integers)")
    gen = generator or backend.default_generator()
    data = getattr(gen, method)(_size(size), dtype=np.float64 if dtype == np.float64 else
                                np.float32)
    return _made(data.astype(dtype, copy=False), requires_grad, device)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    """A tensor of zeros (float32 by default).

    >>> shenjing.zeros(2, 3).shape
    (2, 3)
    """
    return full(_size(_given(sizes, size)), 0.0, dtype=_dtype(dtype),
                requires_grad=requires_grad, device=device)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    """A tensor of ones (float32 by default): ``shenjing.ones(3, requires_grad=True)``."""
    return full(_size(_given(sizes, size)), 1.0, dtype=_dtype(dtype),
                requires_grad=requires_grad, device=device)


def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    """A tensor of shape ``size`` (a sequence, as torch's) filled with ``fill_value``; its dtype
    by default follows the value as torch's does: bool, int64, or float32.

    >>> shenjing.full((2,), 7)
    Tensor([7 7])
    """
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind
        dtype = np.bool_ if kind == "b" else np.int64 if kind in "iu" else backend.DEFAULT_FLOAT
    return _made(np.full(_size((size,)), fill_value, dtype=dtype), requires_grad, device)


def full_like(input: Any, fill_value: Any, *, dtype: Any = None,  # noqa: A002 - torch's name
              requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ``input``'s shape, dtype (unless ``dtype=``) and device, filled with
    ``fill_value``; it never requires grad unless asked (``input`` may)."""
    data = input.data if isinstance(input, Tensor) else backend.get_xp(input).asarray(input)
    return _made(backend.get_xp(data).full(data.shape, fill_value, dtype=_dtype(dtype, data.dtype)),
                 requires_grad, device)


def zeros_like(input: Any, *, dtype: Any = None, requires_grad: bool = False,  # noqa: A002
               device: Any = None) -> Tensor:
    """Zeros of ``input``'s shape, dtype (unless ``dtype=``) and device."""
    return full_like(input, 0, dtype=dtype, requires_grad=requires_grad, device=device)


def ones_like(input: Any, *, dtype: Any = None, requires_grad: bool = False,  # noqa: A002
              device: Any = None) -> Tensor:
    """Ones of ``input``'s shape, dtype (unless ``dtype=``) and device."""
    return full_like(input, 1, dtype=dtype, requires_grad=requires_grad, device=device)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """``start, start + step, ...`` up to ``end`` (excluded); ``arange(n)`` counts 0 .. n-1.
    int64 when every argument is an integer, else float32 (torch's rule; NumPy's would give
    float64). A step of 0, or one that points away from ``end``, is an error, as in torch.

    >>> shenjing.arange(0, 1, 0.25)
    Tensor([0.   0.25 0.5  0.75])
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step} does not lead from {start} to {end}")
    integral = all(_is_int(v) for v in (start, end, step))
    data = np.arange(start, end, step, dtype=np.int64 if integral else np.float64)
    dtype = _dtype(dtype, np.int64 if integral else backend.DEFAULT_FLOAT)
    return _made(data.astype(dtype, copy=False), requires_grad, device)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 by
    default; computed in float64, so within an ulp of torch's float32 arithmetic)."""
    steps = operator.index(steps)
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    data = np.linspace(start, end, steps, dtype=np.float64)
    return _made(data.astype(_dtype(dtype)), requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False,
        device: Any = None) -> Tensor:
    """The identity matrix, ``n`` x ``m`` (square by default), float32 by default."""
    n, m = _size((n, n if m is None else m))
    return _made(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def rand(*sizes: Any, size: Any = None, generator: np.random.Generator | None = None,
         dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform samples in [0, 1) (float32 by default) from the seeded stream.

    >>> shenjing.utils.set_random_seed(0)
    >>> w = shenjing.rand(3, 2, requires_grad=True)
    """
    return _floats("random", _given(sizes, size), generator, dtype, requires_grad, device)


def randn(*sizes: Any, size: Any = None, generator: np.random.Generator | None = None,
          dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Standard normal samples (float32 by default) from the seeded stream."""
    return _floats("standard_normal", _given(sizes, size), generator, dtype, requires_grad,
                   device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: np.random.Generator | None = None, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """Samples of N(mean, std**2), torch's ``normal``: numbers ``mean`` and ``std`` with a
    ``size``, or tensors (or arrays) of them without one, one sample per element of their
    broadcast shape. float32 unless ``dtype=`` says otherwise (or a floating tensor ``mean`` or
    ``std`` gives its dtype), from the seeded stream; on ``device``, or else on the GPU of a
    tensor ``mean`` or ``std`` that lives on one (as torch), or else on the host.

    >>> X = shenjing.normal(0, 1, (1000, 2))
    """
    mean_, std_ = (backend.asnumpy(v.data) if isinstance(v, Tensor) else np.asarray(v, float)
                   for v in (mean, std))
    if dtype is None:
        dtype = next((v.dtype for v in (mean, std)
                      if isinstance(v, Tensor) and backend.is_floating(v.dtype)), None)
    if device is None:
        device = next((device_name(v) for v in (mean, std)
                       if isinstance(v, Tensor) and device_name(v) != "cpu"), None)
    shape = np.broadcast_shapes(mean_.shape, std_.shape) if size is None else _size((size,))
    if np.any(std_ < 0):
        raise ValueError("normal: std must be non-negative")
    z = _floats("standard_normal", (shape,), generator, dtype, False, None).data
    data = z * std_ + mean_
    if data.shape != z.shape:
        raise ValueError(f"normal: mean {mean_.shape} and std {std_.shape} do not fit size {shape}")
    return _made(data.astype(z.dtype, copy=False), requires_grad, device)


def randint(low: int = 0, high: Any = None, size: Any = None, *,
            generator: np.random.Generator | None = None, dtype: Any = np.int64,
            requires_grad: bool = False, device: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 by default, in torch's argument order:
    ``randint(high, size)`` or ``randint(low, high, size)``; ``size`` is a sequence.

    >>> labels = shenjing.randint(10, (32,))
    """
    if size is None and high is not None and not _is_int(high):
        size, high = high, None  # randint(high, size)
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() needs a size: randint(high, size) or randint(low, high, size)")
    if low >= high:
        raise ValueError(f"randint: low ({low}) must be less than high ({high})")
    gen = generator or backend.default_generator()
    data = gen.integers(low, high, _size((size,)), dtype=np.int64).astype(dtype, copy=False)
    return _made(data, requires_grad, device)
