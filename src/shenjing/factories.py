"""PyTorch's tensor factories: ``shenjing.zeros(2, 3)``, ``shenjing.randn(4, requires_grad=True)``.

Sizes come as integers or one sequence (``zeros(2, 3)`` or ``zeros((2, 3))``); floating results
are float32 unless ``dtype=`` says otherwise; ``requires_grad=True`` makes a leaf (floating
dtypes only, as in torch); ``device=`` is "cpu" (NumPy) or "cuda" / "cuda:N" (CuPy). The random
ones (and :func:`multinomial`) draw from shenjing's seeded streams (the shared one, or
``generator=``: a :class:`Generator`, torch's ``torch.Generator().manual_seed(n)``, or any NumPy
Generator) on the host, so ``shenjing.utils.set_random_seed(n)`` makes them reproducible, on any
device. The numbers are NumPy's (PCG64), not torch's: a seed reproduces a run, not torch's draws.
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


class Generator(np.random.Generator):
    """torch's ``Generator``: a random stream of its own for the ``generator=`` of the random
    factories and :func:`multinomial` (makemore's
    ``g = torch.Generator().manual_seed(2147483647)``).
    A NumPy Generator (PCG64), so it goes wherever one does; two seeded alike draw alike. Unseeded
    it starts from torch's default seed, 67280421310721. ``device`` is only recorded: the draws
    are made on the host.
    """

    def __init__(self, device: Any = "cpu") -> None:
        super().__init__(np.random.PCG64())
        self.device = device
        self.manual_seed(67280421310721)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an integer in [-2**63, 2**64); a negative one counts
        as 2**64 + seed, as torch's) and return the generator itself."""
        seed = operator.index(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64
        self.bit_generator.state = np.random.PCG64(self._seed).state
        return self

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._seed

    def seed(self) -> int:
        """Restart the stream from a fresh unpredictable seed, and return that seed."""
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(seed)
        return seed

    def get_state(self) -> dict[str, Any]:
        """The stream's state (NumPy's bit-generator state; torch gives a byte tensor), for
        :meth:`set_state`."""
        return self.bit_generator.state

    def set_state(self, new_state: dict[str, Any]) -> Generator:
        """Go back to a state :meth:`get_state` returned."""
        self.bit_generator.state = new_state
        return self

    def __repr__(self) -> str:
        return f"Generator(device={self.device!r}, initial_seed={self._seed})"


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


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: np.random.Generator | None = None) -> Tensor:
    """torch's ``multinomial``: ``num_samples`` category indices (int64) drawn with probabilities
    proportional to the non-negative weights ``input`` (one row, or one draw per row of a
    matrix; they need not sum to 1); without ``replacement`` no index repeats within a row,
    and categories of weight 0 come only after all the others.

    >>> ix = shenjing.multinomial(p, num_samples=1, replacement=True, generator=g).item()
    """
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    if not backend.is_floating(data.dtype):
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got "
                           f"{data.dtype} (N[0].float() for counts)")
    weights = backend.asnumpy(data).astype(np.float64)
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: input must be 1-D or 2-D, got shape {weights.shape}")
    num_samples = operator.index(num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be positive, got {num_samples}")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement "
                           f"from {weights.shape[-1]} categories")
    rows = weights.reshape(-1, weights.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: the probabilities contain inf, nan or an element < 0")
    if not (rows.sum(axis=1) > 0).all():
        raise RuntimeError("multinomial: invalid distribution (sum of probabilities <= 0)")
    gen = generator or backend.default_generator()
    if replacement:  # the inverse of each row's cumulative distribution at uniform draws
        cdf = np.cumsum(rows, axis=1)
        u = gen.random((len(rows), num_samples)) * cdf[:, -1:]
        last = rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # rounding at the top
        picked = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
        picked = np.minimum(picked, last[:, None])
    else:  # the smallest exponential keys E / w: successive draws without replacement (those
        # of weight 0, keyed inf, come last, as in torch)
        with np.errstate(divide="ignore"):
            keys = gen.standard_exponential(rows.shape) / rows
        picked = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    picked = picked.astype(np.int64).reshape(*weights.shape[:-1], num_samples)
    device = device_name(input) if isinstance(input, Tensor) else None
    return _made(picked, False, None if device == "cpu" else device)
