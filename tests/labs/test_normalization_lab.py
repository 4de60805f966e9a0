"""Lab `normalization`: on raw wine features SGD starts with a huge loss and learns nothing but
the class frequencies; scaled inputs and batch norm train."""

from shenjing import labs


def test_scaled_inputs_and_batch_norm_train_raw_inputs_do_not(tmp_path, one_thread):
    report = labs.run("normalization", tmp_path, quick=True)
    n = report.numbers
    assert report.held
    assert n["raw_first_loss"] > 10 * n["zscore_first_loss"]  # unstable start
    assert abs(n["raw_final_loss"] - n["class_frequency_loss"]) < 0.05
    assert n["minmax_final_loss"] < n["raw_final_loss"] - 0.1
    assert n["zscore_final_loss"] < n["raw_final_loss"] / 2
    assert n["minmax_test_accuracy"] > n["raw_test_accuracy"] + 0.2
    assert n["zscore_test_accuracy"] > 0.9
    assert n["bn_inputs_final_loss"] < n["raw_final_loss"] - 0.5
    assert n["bn_hidden_final_loss"] < n["raw_final_loss"] - 0.3
    assert "the claim held" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "loss.png").exists()
