"""examples/char_lm.py at a tiny scale: windows, learning, sampling."""

from __future__ import annotations

import numpy as np

import shenjing as sj
from test_examples import load_example

TEXT = "to be or not to be, that is the question. " * 40


def test_windows_are_next_character_targets():
    char_lm = load_example("char_lm")
    ids, chars = char_lm.encode(TEXT)
    assert "".join(chars[i] for i in ids[:5]) == TEXT[:5]
    x, y = char_lm.windows(ids, np.array([0, 7]), 10)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x[1], ids[7:17])


def test_learns_a_repetitive_text_and_samples_from_it():
    char_lm = load_example("char_lm")
    sj.utils.set_random_seed(0)
    ids, chars = char_lm.encode(TEXT)
    model = char_lm.build(len(chars), units=32, layers=1, dropout=0.0, embed=8)
    rng = np.random.default_rng(0)
    curve = char_lm.train(model, ids[:1500], ids[1500:], minutes=5, rng=rng, length=20,
                          batch=16, eval_every=200, max_steps=400, log=lambda line: None)
    assert curve[-1]["step"] == 400
    assert curve[-1]["val_loss"] < 0.6 * np.log(len(chars))  # far below guessing uniformly
    text = char_lm.sample(model, chars, "to be", 30, temperature=0.01, rng=rng)
    assert text.startswith("to be") and len(text) == 35 and set(text) <= set(chars)
    again = char_lm.sample(model, chars, "to be", 30, temperature=0.01, rng=rng)
    assert text == again  # near-zero temperature: the most likely character, every time
