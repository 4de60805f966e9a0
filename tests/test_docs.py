"""The documentation's code is true: README.md's ```python blocks run, and every ```output block
in the docs is exactly what the ```python block above it prints.

A block meant only to be read (a fragment that uses a `model` or `loss` defined elsewhere) is
fenced ```python no-run: it is compiled, not run. tests/cli/test_guide.py runs all of
docs/guide.md's blocks; here the guide runs only as far as its last shown output.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/guide.md", "docs/optimizers.md", "docs/architecture.md"]
# A fenced block: its info string (language and tags) and its text.
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def blocks(doc: str) -> list[tuple[int, str, str]]:
    """(first line number, info string, text) of each fenced block of ``doc``."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(2)) + 1, m.group(1).strip(), m.group(2))
            for m in FENCE.finditer(text)]


def run_with_outputs(doc: str) -> list[tuple[int, str, str]]:
    """Run ``doc``'s runnable python blocks in order, in one namespace, up to the last one whose
    output is shown; return (line, shown output, printed output) for each ```output block."""
    fenced = blocks(doc)
    last = max((i for i, (_, info, _) in enumerate(fenced) if info == "output"), default=-1)
    namespace: dict[str, object] = {"__name__": "docs"}
    printed, checks = None, []
    for line, info, source in fenced[:last + 1]:
        if info == "output":
            assert printed is not None, f"{doc} line {line}: an output block with no python above"
            checks.append((line, source, printed))
            printed = None
        elif info == "python":
            buffer = io.StringIO()
            try:
                with contextlib.redirect_stdout(buffer):
                    exec(compile(source, f"{ROOT / doc}:{line}", "exec"), namespace)
            except Exception as e:  # name the block; the traceback stays chained
                raise AssertionError(f"the python block at {doc} line {line} failed: "
                                     f"{type(e).__name__}: {e}") from e
            printed = buffer.getvalue()
        else:
            printed = None  # bash, text...: an output block must follow its python block
    return checks


@pytest.mark.parametrize("doc", DOCS)
def test_python_blocks_are_runnable_or_marked_no_run(doc):
    """Every python fence is either ```python (run) or ```python no-run (read), and compiles."""
    for line, info, source in blocks(doc):
        if info.split()[:1] == ["python"]:
            assert info in ("python", "python no-run"), f"{doc} line {line}: ```{info}"
            compile(source, f"{doc}:{line}", "exec")


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme"}
    runnable = [(line, source) for line, info, source in blocks("README.md") if info == "python"]
    assert runnable
    for line, source in runnable:
        exec(compile(source, f"{ROOT / 'README.md'}:{line}", "exec"), namespace)


@pytest.mark.parametrize("doc", DOCS)
def test_shown_output_is_what_the_code_prints(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a block saves lands here
    with threadpool_limits(limits=1, user_api="blas"):  # as tests/cli/test_guide.py
        checks = run_with_outputs(doc)
    for line, shown, printed in checks:
        assert printed == shown, (f"{doc} line {line}: the output block says\n{shown}but the "
                                  f"block above it prints\n{printed}")


def test_the_guide_shows_output():
    assert len([b for b in blocks("docs/guide.md") if b[1] == "output"]) >= 5
