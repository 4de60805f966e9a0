"""Lab `dead-relu`: at a too-high learning rate ReLU units die and the net stops learning;
LeakyReLU at the same rate keeps its units and learns."""

from shenjing import labs


def test_high_learning_rate_kills_relu_units_not_leaky_ones(tmp_path):
    report = labs.run("dead-relu", tmp_path, quick=True)
    n = report.numbers
    assert n["relu_high_dead"] > 5 * n["relu_normal_dead"] + 0.2  # measured: ~0.6 vs <= 0.06
    assert n["relu_high_silent"] > 0.3 > n["leaky_high_silent"]  # measured: >= 0.59, <= 0.02
    assert n["relu_high_test_accuracy"] < 0.2  # chance: 0.1
    assert n["leaky_high_test_accuracy"] > n["relu_high_test_accuracy"] + 0.4  # measured: >= 0.72
    assert n["relu_normal_test_accuracy"] > 0.8
    assert report.held
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "dead_relu.png").exists()
