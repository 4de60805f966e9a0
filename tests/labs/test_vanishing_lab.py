"""Lab `vanishing`: the sigmoid net's first layer gets ~no gradient and learns nothing; ReLU with
He initialization (and batch norm) keeps the gradient and learns."""

from shenjing import labs


def test_sigmoid_gradient_vanishes_relu_he_keeps_it(tmp_path):
    report = labs.run("vanishing", tmp_path, quick=True)
    n = report.numbers
    assert n["sigmoid_grad_ratio"] < 1e-6 * n["relu_he_grad_ratio"]  # measured: ~1e-12 vs ~1
    assert n["relu_he_bn_grad_ratio"] > 0.1
    assert n["sigmoid_first_moved"] < 1e-3 * n["relu_he_first_moved"]
    for key in ("relu_he", "relu_he_bn"):
        assert n[f"{key}_test_accuracy"] > n["sigmoid_test_accuracy"] + 0.3  # measured: >= 0.5
    assert report.held
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "gradient_flow.png").exists() and (tmp_path / "accuracy.png").exists()
