"""Moving tensors between the host (NumPy) and a GPU (CuPy), differentiably.

Every op runs where its inputs live (``backend.get_xp``), so a model computes on the GPU once
its tensors are CuPy arrays. CuPy is imported only here, at the first move to a GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, Tensor
from ..backend import asnumpy, get_xp


def _cupy() -> Any:
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError("moving a tensor to a GPU needs CuPy and an NVIDIA GPU: pip install "
                           "cupy-cuda12x (or the build for your CUDA, see cupy.dev)") from e
    return cupy


def _gpu_of(a: Any) -> int | None:
    """The GPU id that holds array ``a``, or None on the host."""
    return None if get_xp(a) is np else a.device.id


def _move(a: Any, gpu: int | None) -> Any:
    if gpu is None:
        return asnumpy(a)
    cupy = _cupy()
    with cupy.cuda.Device(gpu):
        return cupy.asarray(a)


class _Move(Function):
    """y = x on another device;  the gradient moves back to x's."""

    def forward(self, x, gpu=None):
        self.save_for_backward(_gpu_of(x))
        return _move(x, gpu)

    def backward(self, g):
        return _move(g, self.saved[0])

    def differentiable_backward(self, g):
        return _Move.apply(g, gpu=self.saved[0])


def parse_device(device: Any) -> int | None:
    """``"cpu"`` -> None; ``"cuda"``, ``"gpu"`` -> 0; ``"cuda:1"`` -> 1 (PyTorch's spellings)."""
    name, _, index = str(device).partition(":")
    if name == "cpu" and not index:
        return None
    if name in ("cuda", "gpu") and (not index or index.isdigit()):
        return int(index or 0)
    raise ValueError(f"unknown device {device!r}: shenjing computes on 'cpu' (NumPy) or "
                     "'cuda' / 'cuda:N' (CuPy)")


def array_on(a: Any, device: Any) -> Any:
    """Array ``a`` on ``device`` ("cpu", "cuda", "cuda:N"); ``a`` itself if it is there."""
    gpu = parse_device(device)
    return a if gpu == _gpu_of(a) else _move(a, gpu)


def device_name(x: Tensor) -> str:
    """Where x's data lives: ``"cpu"`` or ``"cuda:N"``."""
    gpu = _gpu_of(x.data)
    return "cpu" if gpu is None else f"cuda:{gpu}"


def to_device(x: Tensor, device: Any) -> Tensor:
    """x on ``device`` ("cpu", "cuda", "cuda:N"), in the graph (the gradient flows back to x's
    device); x itself if it is already there."""
    gpu = parse_device(device)
    if gpu == _gpu_of(x.data):
        return x
    return _Move.apply(x, gpu=gpu)
