"""docs/guide.md runs: every ```python block, in order, in one namespace (as a reader who pastes
them one after another into one session), so the guide cannot drift from the API."""

from __future__ import annotations

import codeop
import re
from pathlib import Path

from threadpoolctl import threadpool_limits

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
# The article's chapters the guide must follow, in this order (headings start with the number).
CHAPTERS = ["1", "2", "3", "4", "5", "6"]


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, source) of each ```python block."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_guide_follows_the_articles_chapters():
    text = GUIDE.read_text(encoding="utf-8")
    numbers = re.findall(r"^## (\d+)\.", text, re.MULTILINE)
    assert numbers == CHAPTERS
    for section in ("1.1", "1.2", "1.3", "3.2", "3.3", "4.1", "4.2", "4.3", "5.3", "6.1",
                    "6.2", "6.3"):
        assert re.search(rf"^### {re.escape(section)} ", text, re.MULTILINE), section


def test_guide_python_blocks_run_in_order(tmp_path, monkeypatch, capsys):
    """Each block runs after the ones above it; a failure names the block's line in guide.md."""
    monkeypatch.chdir(tmp_path)  # anything a block saves lands here
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 12
    namespace: dict[str, object] = {"__name__": "guide"}
    # One BLAS thread, as `shenjing train` uses by default: these layers are small, and a
    # multi-threaded BLAS spins many times slower when other processes share the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        for line, source in blocks:
            code = compile(source, f"{GUIDE}:{line}", "exec")  # tracebacks point into the guide
            try:
                exec(code, namespace)
            except Exception as e:  # re-raised naming the block; the traceback stays chained
                raise AssertionError(f"the ```python block at docs/guide.md line {line} "
                                     f"failed: {type(e).__name__}: {e}") from e


def test_guide_python_blocks_paste_into_the_python_prompt():
    """The guide says to paste its blocks into ``python``: the classic prompt (before 3.13) reads
    a statement at a time and ends an indented block only at a blank line, so a loop followed
    directly by a dedented line is a SyntaxError there. Fed line by line as that prompt does;
    nothing is run."""
    for start, source in python_blocks(GUIDE.read_text(encoding="utf-8")):
        buffer: list[str] = []
        for offset, line in enumerate(source.splitlines() + [""]):
            buffer.append(line)
            try:
                code = codeop.compile_command("\n".join(buffer), "<stdin>", "single")
            except SyntaxError as e:
                raise AssertionError(f"docs/guide.md line {start + offset}: pasted into the python "
                                     f"prompt, this line is a SyntaxError ({e.msg}); put a blank "
                                     "line before it") from e
            if code is not None:
                buffer = []
