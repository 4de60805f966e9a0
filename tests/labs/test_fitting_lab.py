"""Lab `fitting`: the smallest model underfits, the biggest memorizes its wrong labels, and
dropout, L2 and early stopping each narrow the gap and lower the test loss."""

from shenjing import labs


def test_underfit_overfit_and_remedies(tmp_path, one_thread):
    report = labs.run("fitting", tmp_path, quick=True)
    n = report.numbers
    assert report.held
    # underfitting: poor on training and test data alike
    assert n["smallest_train_accuracy"] < 0.5 and n["smallest_test_accuracy"] < 0.5
    # overfitting: every training label fitted, the wrong ones too, far fewer test images
    assert n["plain_train_accuracy"] == 1.0 and n["plain_memorized"] > 0.9
    assert n["plain_gap"] > 0.1 + n["largest_smaller_gap"]
    for remedy in ("dropout", "l2", "early_stopping"):
        assert n[f"{remedy}_gap"] < n["plain_gap"] - 0.1, remedy
        assert n[f"{remedy}_test_loss"] < n["plain_test_loss"] - 0.02, remedy
        assert n[f"{remedy}_test_accuracy"] > n["plain_test_accuracy"], remedy
        assert n[f"{remedy}_memorized"] < 0.8, remedy
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "fitting.png").exists()
