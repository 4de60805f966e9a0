"""The ``>>>`` examples in src/shenjing's docstrings print what they show.

Many examples are fragments that use a ``model``, ``x`` or file defined elsewhere: they are
read, not run here (a NameError, or a missing file or module, marks one). Every example whose
shown output can be produced is checked with doctest's comparison, ``...`` matching anything.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import shenjing

FRAGMENT = (NameError, FileNotFoundError, ModuleNotFoundError)
MODULES = sorted(m.name for m in pkgutil.walk_packages(shenjing.__path__, "shenjing.")
                 if ".cli." not in m.name and not m.name.endswith("__main__"))


class _Runner(doctest.DocTestRunner):
    """Records wrong outputs and errors other than a fragment's."""

    def __init__(self) -> None:
        super().__init__(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        self.problems: list[str] = []

    def report_failure(self, out, test, example, got):  # a shown output not printed
        self.problems.append(f"{test.name}: {example.source.strip()}\n  shown: "
                             f"{example.want.strip()}\n  printed: {got.strip()}")

    def report_unexpected_exception(self, out, test, example, exc_info):
        if not issubclass(exc_info[0], FRAGMENT):
            self.problems.append(f"{test.name}: {example.source.strip()}\n  raised "
                                 f"{exc_info[0].__name__}: {exc_info[1]}")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_print_what_they_show(name):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:  # an optional extra this environment lacks
        pytest.skip(f"{name} needs {e.name}")
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, name)
             if any(e.want for e in t.examples)]  # fragments without outputs are not run
    runner = _Runner()
    for test in tests:
        test.globs = {"np": np, "shenjing": shenjing, "sj": shenjing, "F": shenjing.F,
                      "Tensor": shenjing.Tensor, **vars(module)}
        with np.errstate(all="ignore"):
            runner.run(test, out=lambda text: None)
    assert not runner.problems, "\n\n".join(runner.problems)
