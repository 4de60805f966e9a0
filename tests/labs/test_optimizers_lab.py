"""Lab `optimizers`: from the same initial weights, Adam ends lowest, momentum beats plain SGD,
and full-batch GD (one update per epoch) barely moves."""

from shenjing import labs


def test_adam_fastest_and_full_batch_slowest(tmp_path, one_thread):
    report = labs.run("optimizers", tmp_path, quick=True)
    n = report.numbers
    assert report.held
    start = n["gd_initial_loss"]
    assert all(n[f"{k}_initial_loss"] == start for k in ("sgd", "momentum", "adam"))
    assert n["adam_final_loss"] < 0.8 * n["momentum_final_loss"]
    assert n["momentum_final_loss"] < 0.5 * n["sgd_final_loss"]
    assert n["sgd_final_loss"] < n["gd_final_loss"] - 0.05
    assert n["gd_final_loss"] > 0.95 * start
    assert n["adam_epochs_to_halve"] <= n["momentum_epochs_to_halve"]
    assert n["adam_test_accuracy"] > n["gd_test_accuracy"] + 0.5
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "loss.png").exists()
