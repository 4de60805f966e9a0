"""Shared test setup: every test starts from the same random state; the `slow` marker."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import shenjing

# Tests in sub-folders import the helpers next to this file (`from oracle import ...`). pytest's
# default import mode already puts this folder on sys.path; say so explicitly so that
# `--import-mode=importlib` works too.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running tests (deselect with -m 'not slow')")


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed shenjing's streams (dropout, initializers), Python's `random` and NumPy's legacy
    global state, so that a failing test fails the same way when run alone."""
    shenjing.utils.set_random_seed(0)
    np.random.seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    """A private Generator for a test's input data."""
    return np.random.default_rng(0)


@pytest.fixture
def one_thread():
    """One intra-op thread (the examples' --threads 1), restored afterwards for other tests."""
    before = shenjing.parallel.threads()
    shenjing.utils.set_num_threads(1)
    yield
    shenjing.utils.set_num_threads(before)


@pytest.fixture
def split_everything(monkeypatch: pytest.MonkeyPatch):
    """Three threads (so slices are uneven) and no minimum size: every op that can split over
    the batch does (set as splitting already, so BLAS's own threads stay as they are)."""
    from shenjing import parallel

    monkeypatch.setattr(parallel, "_threads", 3)
    monkeypatch.setattr(parallel, "_pool", None)
    monkeypatch.setattr(parallel, "_splitting", True)
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    yield
    if parallel._pool is not None:
        parallel._pool.shutdown(wait=True)
