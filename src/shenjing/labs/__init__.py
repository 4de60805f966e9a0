"""The article's claims about training, each shown happening on real data.

``shenjing lab NAME`` (or ``shenjing.labs.run(NAME)``) runs one experiment on an embedded data
set in under two minutes on 2 cores, and writes ``report.md`` (the claim, the numbers, whether
the claim held) with PNG plots. ``quick=True`` runs a tiny version (seconds) for tests.

Labs: activations, vanishing, exploding, optimizers, fitting, normalization, dead-relu.
"""

from __future__ import annotations

import importlib
import os

from .report import Report

NAMES = ("activations", "vanishing", "exploding", "optimizers", "fitting", "normalization",
         "dead-relu")

__all__ = ["NAMES", "Report", "run"]


def run(name: str, out: str | os.PathLike[str] | None = None, quick: bool = False,
        seed: int = 0) -> Report:
    """Run the lab ``name``; with ``out``, write its report and plots into that folder.

    Plots need matplotlib (the ``plot`` extra); without it the numbers are still measured and
    the report says the plots were skipped.
    """
    if name not in NAMES:
        raise ValueError(f"unknown lab {name!r}; labs: {', '.join(NAMES)}")
    from ..utils import set_random_seed

    set_random_seed(seed)
    module = importlib.import_module(f".{name.replace('-', '_')}", __name__)
    report: Report = module.run(quick=quick, seed=seed)
    if out is not None:
        report.write(out)
    return report
