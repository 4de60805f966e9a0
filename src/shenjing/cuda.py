"""PyTorch's ``torch.cuda`` checks, for ported code: ``device = "cuda" if
torch.cuda.is_available() else "cpu"``. A GPU here is CuPy's (the ``gpu`` extra); CuPy is
imported on the first call, never by ``import shenjing``."""

from __future__ import annotations

from typing import Any


def _runtime() -> Any:
    """CuPy's CUDA runtime, or None without CuPy or a usable driver."""
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()  # raises without a driver or a device
        return cupy.cuda
    except Exception:  # ImportError, CUDARuntimeError, a broken install: no GPU to use
        return None


def is_available() -> bool:
    """Whether tensors can move to a GPU (``x.to("cuda")``): CuPy and at least one device."""
    return device_count() > 0


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy)."""
    cuda = _runtime()
    return 0 if cuda is None else int(cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the current GPU (CuPy's current device)."""
    return int(_require().Device().id)


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work (before timing it, as torch.cuda.synchronize)."""
    from .functional.device import parse_device

    cuda = _require()
    index = None if device is None else parse_device(device if not isinstance(device, int)
                                                      else f"cuda:{device}")
    cuda.Device(index).synchronize()


def _require() -> Any:
    cuda = _runtime()
    if cuda is None:
        raise RuntimeError("no GPU: shenjing computes on a GPU through CuPy (pip install "
                           "cupy-cuda12x, or the build for your CUDA) and an NVIDIA driver; "
                           "check shenjing.cuda.is_available() first")
    return cuda
