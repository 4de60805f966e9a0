"""Lab `exploding`: without clipping the RNN's gradients explode and the loss turns NaN; with
global_clipnorm the same run stays finite and learns."""

import math

from shenjing import labs


def test_unclipped_gradients_explode_clipped_run_learns(tmp_path):
    report = labs.run("exploding", tmp_path, quick=True)
    n = report.numbers
    assert n["unclipped_max_grad_norm"] > 1e3  # measured: ~1e11
    assert not math.isnan(n["unclipped_nan_at_step"])  # fit stopped at a NaN loss
    assert math.isnan(n["clipped_nan_at_step"])
    assert n["clipped_test_loss"] < n["initial_test_loss"] / 100  # measured: ~1.3 vs ~2400
    assert n["clipped_test_accuracy"] > n["unclipped_test_accuracy"] + 0.3  # measured: >= 0.49
    assert report.held
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "exploding.png").exists()
