"""What a lab hands back: the claim, the measured numbers, whether the claim held, and plots;
written as ``report.md`` plus PNG files in one folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@dataclass
class Report:
    """One lab's outcome.

    Attributes:
        name: the lab's command name (``shenjing lab NAME``).
        title: a heading.
        claim: the article's claim, in one or two sentences.
        held: whether the measured numbers support the claim.
        verdict: one sentence of evidence: the numbers that decide ``held``.
        numbers: the decisive measurements by name (what the tests read).
        table: rows of results, the first row the header.
        setup: data, model, training and timing, in a sentence or two.
        figures: a function making the plots, ``{file name: matplotlib Figure}``; ``write``
            calls it, so nothing is drawn unless the report is written (and without
            matplotlib the report says the plots were skipped).
        notes: anything else the reader should know.
    """

    name: str
    title: str
    claim: str
    held: bool
    verdict: str
    numbers: dict[str, float]
    table: list[list[Any]]
    setup: str
    figures: Callable[[], dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    def markdown(self, figures: Iterable[str] = (), notes: Iterable[str] = ()) -> str:
        """The report as Markdown, showing the ``figures`` (file names) and extra ``notes``."""
        lines = [f"# Lab `{self.name}`: {self.title}", "",
                 f"**Claim.** {self.claim}", "",
                 f"**Result: the claim {'held' if self.held else 'did NOT hold'}.** "
                 f"{self.verdict}", ""]
        if self.table:
            header, *rows = self.table
            lines += ["| " + " | ".join(map(str, header)) + " |",
                      "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
            lines.append("")
        lines += [f"**Set-up.** {self.setup}", ""]
        lines += [f"![{name}]({name})" for name in figures]
        lines += [f"- {note}" for note in (*self.notes, *notes)]
        return "\n".join(lines).rstrip() + "\n"

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Draw the figures and write them and ``report.md`` (atomically) into ``folder``;
        returns the report's path."""
        from ..io.saving import atomic_write
        from ..plot import save

        folder = Path(folder)
        try:
            figures = self.figures() if self.figures is not None else {}
            skipped = []
        except ImportError as e:  # matplotlib missing: the numbers still stand
            figures, skipped = {}, [f"plots skipped: {e}"]
        for name, fig in figures.items():
            save(fig, folder / name)
        path = folder / "report.md"
        atomic_write(str(path), self.markdown(figures, skipped).encode())
        return path
