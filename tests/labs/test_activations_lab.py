"""Lab `activations`: the article's values, sigma' <= 0.25, and the report on disk."""

import pytest

from shenjing import labs
from shenjing.cli import main


def test_values_and_derivative_bounds(tmp_path):
    report = labs.run("activations", tmp_path, quick=True)
    assert report.held
    assert report.numbers["sigmoid_max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert report.numbers["tanh_max_derivative"] == pytest.approx(1.0, abs=1e-6)
    assert report.numbers["relu_derivative_at_5"] == 1.0
    assert report.numbers["tanh_derivative_at_5"] < 1e-3  # saturation
    text = (tmp_path / "report.md").read_text()
    assert "the claim held" in text and "0.26894142" in text
    assert (tmp_path / "activations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_and_unknown_lab(tmp_path, capsys):
    assert main(["lab", "activations", "--quick", "--out", str(tmp_path / "a")]) == 0
    assert "activations: the claim held" in capsys.readouterr().out
    assert (tmp_path / "a" / "report.md").exists()
    with pytest.raises(ValueError, match="unknown lab 'nope'"):
        labs.run("nope")


def test_without_matplotlib_the_report_still_has_its_numbers(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    report = labs.run("activations", tmp_path, quick=True)
    text = (tmp_path / "report.md").read_text()
    assert report.held and "plots skipped" in text and "shenjing[plot]" in text
    assert not (tmp_path / "activations.png").exists()


def test_an_out_path_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert main(["lab", "activations", "--quick", "--out", str(tmp_path / "taken")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
