"""examples/digit_strings_ctc.py at a small scale, on the built-in digits: the strings it
builds, the edit distance it scores with, and a recurrent network that learns to read them
under the CTC loss."""

from __future__ import annotations

import numpy as np

from test_examples import load_example


def test_strings_are_digit_images_side_by_side_with_labels_ending_in_blanks():
    ctc = load_example("digit_strings_ctc")
    images = np.arange(3 * 2 * 4, dtype=np.uint8).reshape(3, 2, 4)  # 3 images, 2 x 4 pixels
    x, y = ctc.make_strings(images, np.array([7, 0, 4]), 20, np.random.default_rng(0))
    assert x.shape == (20, 5 * 4, 2) and y.shape == (20, 5) and x.max() <= 1.0
    for row, picture in zip(y, x):
        n = int((row > 0).sum())
        assert 3 <= n <= 5 and (row[:n] > 0).all() and (row[n:] == 0).all()
        assert (picture[n * 4:] == 0).all()  # blank columns after the last digit
        first = {8: 0, 1: 1, 5: 2}[row[0]]  # label 8 is digit 7, image 0
        np.testing.assert_allclose(picture[:4], images[first].T / images.max())


def test_edit_distance():
    ctc = load_example("digit_strings_ctc")
    assert ctc.edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert ctc.edit_distance([1, 2, 3], [1, 3]) == 1
    assert ctc.edit_distance([], [4, 5]) == 2
    assert ctc.edit_distance([1, 2, 3], [3, 2, 1]) == 2


def test_learns_to_read_digit_strings():
    ctc = load_example("digit_strings_ctc")
    result = ctc.main(["--strings", "3000", "--epochs", "6"])
    assert result["exact"] > 0.5 and result["cer"] < 0.15
