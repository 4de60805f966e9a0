"""``shenjing info`` (versions, BLAS, threads, kernels, extras) and ``shenjing lab``."""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from .. import labs
from .train import _out_folder

EXTRAS = (  # (distribution, import name, what it gives)
    ("matplotlib", "matplotlib", "plot: curves.png"),
    ("Pillow", "PIL", "images: image folders, shenjing predict on image files"),
    ("tqdm", "tqdm", "progress bars (required)"),
    ("safetensors", "safetensors", "model files (required)"),
    ("scikit-learn", "sklearn", "test"),
    ("pytest", "pytest", "test"),
    ("hypothesis", "hypothesis", "test"),
    ("onednn-cpu-gomp", "onednn_cpu_gomp", "onednn: oneDNN's float32 GEMMs"),
    ("torch", "torch", "test oracle (optional)"),
    ("cupy", "cupy", "gpu: tensors and ops via x.to('cuda'); layers not yet"),
    ("mpi4py", "mpi4py", "mpi (later)"),
)


def cmd_lab(args: argparse.Namespace) -> int:
    names = labs.NAMES if args.name == "all" else (args.name,)
    for name in names:
        single = args.out and args.name != "all"
        out = _out_folder(Path(args.out) if single else Path(args.out or "labs") / name)
        t0 = time.perf_counter()
        report = labs.run(name, out, quick=args.quick, seed=args.seed)
        print(f"{name}: the claim {'held' if report.held else 'did NOT hold'} "
              f"({time.perf_counter() - t0:.0f} s). {report.verdict}\n  report: "
              f"{out / 'report.md'}")
    return 0


def _dist_version(dist: str, module: str) -> str | None:
    from importlib import metadata
    from importlib.util import find_spec

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        try:
            return "installed" if find_spec(module) is not None else None
        except (ImportError, ValueError):
            return None


def cmd_info(args: argparse.Namespace) -> int:
    from .. import __version__, backend, native, parallel
    from ..native import onednn

    gemms = onednn.status()  # loads oneDNN first, which sets the BLAS threads shown below
    print(f"shenjing {__version__} ({Path(__file__).resolve().parent.parent})")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.platform()}, {os.cpu_count()} CPUs")
    print(f"NumPy {np.__version__}")
    cupy = _dist_version("cupy", "cupy")
    print(f"backend: {backend.get_xp().__name__} (CPU), default float "
          f"{backend.DEFAULT_FLOAT.name}; CuPy: {cupy or 'not installed'}")
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        blas = None
    if blas is None:
        print("BLAS: unknown (threadpoolctl is not installed)")
    elif not blas:
        print("BLAS: none found by threadpoolctl")
    for p in blas or []:
        print(f"BLAS: {p.get('internal_api')} {p.get('version')}, {p.get('num_threads')} threads"
              f" ({p.get('threading_layer', 'n/a')} threading, {p.get('filepath')})")
    print(f"intra-op threads: {parallel.threads()} (convolution, pooling, batch norm and the "
          "recurrent loops split over the batch; BLAS then runs one thread per call)")
    print(f"C kernels (recurrent cells, Adam, bias/ReLU, im2col, losses): {native.status()}")
    print(f"float32 GEMMs: {gemms}")
    print("team mode (whole-batch float32 products and big element-wise passes on one OpenMP "
          f"team): {'yes' if parallel.team_possible() else 'no'}")
    print("extras and optional packages:")
    for dist, module, what in EXTRAS:
        version = _dist_version(dist, module)
        print(f"  {dist:<13} {version or 'not installed':<14} {what}")
    return 0
