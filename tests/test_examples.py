"""The examples in examples/ do what the article's lessons say (sections 1.2, 2 and 3).

Each example is imported by path (examples/ is not a package) and its functions are checked;
each is also run once as a script, the way a reader runs it.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# What the article prints for x = np.array([-1, 0, 1]) (section 2), in NumPy's own spacing.
ARTICLE_OUTPUT = [
    "Sigmoid函数的输出: [0.26894142 0.5        0.73105858]",
    "ReLU函数的输出: [0 0 1]",
    "Tanh函数的输出: [-0.76159416  0.          0.76159416]",
]


def load_example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:  # examples import their shared helpers (_seeds.py)
        sys.path.append(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_activations_print_the_articles_lines(capsys):
    load_example("activations").main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ARTICLE_OUTPUT
    assert lines[-1].endswith("成立: True")  # the printed check of sigma' = sigma (1 - sigma)


def test_activations_sigmoid_derivative_identity():
    """sigma'(x) = sigma(x) (1 - sigma(x)) (section 2.1), via autograd, on and beyond [-1, 0, 1]."""
    activations = load_example("activations")
    for x in (activations.ARTICLE_X, np.linspace(-8.0, 8.0, 33)):
        grad, identity = activations.sigmoid_derivative(x)
        np.testing.assert_allclose(grad, identity, rtol=1e-12, atol=0)


@pytest.mark.parametrize("gate", ["AND", "OR"])
def test_perceptron_learns_separable_gates(gate):
    perceptron = load_example("perceptron")
    X, y = perceptron.INPUTS, perceptron.GATES[gate]
    w, b, epoch = perceptron.train_perceptron(X, y, epochs=20)
    assert epoch is not None
    np.testing.assert_array_equal(perceptron.predict(X, w, b), y)


def test_perceptron_cannot_learn_xor():
    """No line separates XOR, so every epoch makes a mistake and some point stays wrong."""
    perceptron = load_example("perceptron")
    X, y = perceptron.INPUTS, perceptron.GATES["XOR"]
    w, b, epoch = perceptron.train_perceptron(X, y, epochs=100)
    assert epoch is None
    assert np.any(perceptron.predict(X, w, b) != y)


def test_xor_mlp_learns_xor():
    accuracy, loss, predictions = load_example("xor_mlp").train_xor(epochs=500, seed=0)
    assert accuracy == 1.0
    assert loss < 0.05
    assert predictions.shape == (4, 1)


def test_pinn_learns_sine_from_the_equation_alone():
    # u'' + u = 0, u(0) = 0, u'(0) = 1 by double backward; sin(x) is the only solution
    error, loss = load_example("pinn").solve(steps=600, seed=0)
    assert error < 0.01 and loss < 1e-3


# The examples that need no data set, run as a reader runs them (pinn.py with fewer steps);
# rnn_xor.py runs in tests/test_rnn_xor.py. Those that read a data set (not available to tests)
# are checked by --help below, and char_lm, sst_lstm and sst_tree on made-up data in their tests.
@pytest.mark.parametrize("name, args", [("activations", []), ("perceptron", []), ("xor_mlp", []),
                                        ("recursive_toy", []), ("pinn", ["--steps", "20"])])
def test_example_runs_as_a_script(name, args):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr


# The examples with options (cifar10_cnn.py is the article's listing as written: no options).
WITH_OPTIONS = ["char_lm", "cifar10_resnet", "digit_strings_ctc", "fashion_cnn", "mnist_mlp",
                "pinn", "rnn_xor", "sst_lstm", "sst_tree"]


@pytest.mark.parametrize("name", WITH_OPTIONS)
def test_example_help_shows_its_whole_description_and_defaults(name):
    """--help is where a reader starts: the whole docstring (not its first line, cut mid-sentence)
    and each option's default."""
    script = EXAMPLES / f"{name}.py"
    result = subprocess.run([sys.executable, str(script), "--help"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    last_line = doc.strip().splitlines()[-1].strip()
    assert last_line in result.stdout
    assert "default: " in result.stdout


def test_a_missing_data_set_is_one_line_not_a_traceback(tmp_path):
    """The examples that read a data set report a missing one as the ``shenjing`` command does
    (examples/_seeds.py: run_script)."""
    env = {k: v for k, v in os.environ.items() if k != "SHENJING_DATA"}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([sys.executable, str(EXAMPLES / "sst_lstm.py"), "--epochs", "1"],
                            capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sst_lstm.py: error: SST: cannot find")


@pytest.mark.parametrize("script, flag", [("pinn", "--steps"), ("rnn_xor", "--units"),
                                          ("char_lm", "--layers"), ("mnist_mlp", "--threads"),
                                          ("cifar10_resnet", "--epochs")])
def test_a_count_of_zero_is_a_usage_error(script, flag):
    """0 epochs, steps, units, layers or threads: one usage line (it crashed some examples
    and made others train nothing)."""
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{script}.py"), flag, "0"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert f"argument {flag}: must be a positive integer, got '0'" in result.stderr
