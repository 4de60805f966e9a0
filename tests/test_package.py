"""The package as users meet it: a light import, the public names, and shenjing.utils."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import shenjing
from shenjing import utils

# Optional extras, the test-only oracle, and runtime dependencies that only some features need:
# `import shenjing` must import none of them (it stays fast and works without the extras).
NOT_IMPORTED_EAGERLY = [
    "torch",
    "matplotlib",
    "PIL",
    "sklearn",
    "scipy",
    "cupy",
    "mpi4py",
    "onnx",
    "onnxruntime",
    "pytest",
    "hypothesis",
    "tqdm",
    "safetensors",
    "threadpoolctl",
]


def _run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported by this test session leaks in)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_is_light():
    out = _run_python(
        f"""
        import json, sys
        import shenjing
        print(json.dumps(sorted(m for m in {NOT_IMPORTED_EAGERLY!r} if m in sys.modules)))
        """
    )
    assert json.loads(out) == []


@pytest.mark.parametrize(
    "name",
    ["Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "gradcheck",
     "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",
     "rand", "randn", "randint"],
)
def test_public_name_exists(name):
    assert callable(getattr(shenjing, name))
    assert name in shenjing.__all__


def test_F_is_functional():
    import shenjing.functional

    assert shenjing.F is shenjing.functional


def test_tensor_factory_makes_tensor():
    t = shenjing.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(t, shenjing.Tensor) and t.requires_grad


def test_pytest_turns_warnings_into_errors(pytestconfig):
    assert "error" in pytestconfig.getini("filterwarnings")
    with pytest.raises(RuntimeWarning):
        np.log(np.zeros(1))


# -- shenjing.utils -----------------------------------------------------------------------------
def _dropout_mask(seed: int) -> np.ndarray:
    utils.set_random_seed(seed)
    x = shenjing.Tensor(np.ones((8, 16)))
    return shenjing.F.dropout(x, rate=0.5).numpy()


def test_set_random_seed_makes_dropout_reproducible():
    first, again, other = _dropout_mask(7), _dropout_mask(7), _dropout_mask(8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) == {0.0, 2.0}


def test_set_random_seed_seeds_numpy_and_random():
    import random

    utils.set_random_seed(3)
    a = (random.random(), np.random.rand())
    utils.set_random_seed(3)
    assert (random.random(), np.random.rand()) == a


@pytest.mark.parametrize("seed", [-1, 1.5, "1"])
def test_set_random_seed_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(seed)


def test_set_num_threads_limits_blas():
    # In a subprocess, so that the limit does not slow down the rest of the test session.
    out = _run_python(
        """
        import json
        import shenjing
        from threadpoolctl import threadpool_info
        shenjing.utils.set_num_threads(1)
        print(json.dumps([p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]))
        """
    )
    threads = json.loads(out)
    assert threads and all(n == 1 for n in threads)


@pytest.mark.parametrize("n", [0, -2, 1.5, "2", True, np.int64(0)])
def test_set_num_threads_rejects_non_positive(n):
    with pytest.raises(ValueError, match="thread"):
        utils.set_num_threads(n)


@pytest.mark.parametrize(
    "labels",
    [[0, 2, 1, 2], np.array([[0], [2], [1], [2]]), np.array([0.0, 2.0, 1.0, 2.0])],
    ids=["N", "N_by_1", "float_labels"],
)
def test_to_categorical_one_hot(labels):
    out = utils.to_categorical(labels)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])


def test_to_categorical_num_classes_and_errors():
    assert utils.to_categorical([1, 0], num_classes=4).shape == (2, 4)
    with pytest.raises(ValueError, match="0, 2"):
        utils.to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="integers"):
        utils.to_categorical([0.5, 1.0])


def test_set_num_threads_takes_numpy_integers():
    from shenjing import parallel

    before = parallel.threads()
    try:
        utils.set_num_threads(np.int64(1))
        assert parallel.threads() == 1 and type(parallel.threads()) is int
    finally:
        utils.set_num_threads(before)


# -- shenjing.keras as an importable module -----------------------------------------------------
def test_keras_submodules_import_as_the_modules_themselves():
    # Keras code ports by its import line: `from tensorflow.keras import layers` and
    # `from keras.layers import Dense` become these; each must be the one module, not a copy.
    out = _run_python(
        """
        import shenjing
        from shenjing.keras import layers, callbacks, utils
        from shenjing.keras.layers import Dense
        import shenjing.keras.optimizers.schedules as schedules
        import shenjing.callbacks, shenjing.optimizers.schedules
        print(layers is shenjing.layers, callbacks is shenjing.callbacks,
              utils is shenjing.utils, Dense is shenjing.layers.Dense,
              schedules is shenjing.optimizers.schedules, shenjing.keras is shenjing)
        """
    )
    assert out.split() == ["True"] * 6


def test_lazily_loaded_names_are_exactly_their_modules_public_functions():
    # shenjing.__init__ lists them by hand (importing the modules would cost import time):
    # the lists must not drift from what the modules define (factories' own classes included:
    # Generator)
    import inspect

    from shenjing import _torch_functions, factories

    def public(module, own_only=False):
        return {n for n, v in vars(module).items() if not n.startswith("_")
                and callable(v) and (own_only or not inspect.isclass(v))
                and getattr(v, "__module__", "").startswith(module.__name__ if own_only
                                                            else "shenjing")}

    assert set(shenjing._FACTORIES) == public(factories, own_only=True)
    assert shenjing._TORCH_FUNCTIONS == public(_torch_functions)  # F's ops under torch's names
    assert set(shenjing._TORCH_CLASSES) == {  # torch.Size, FloatTensor, ...
        n for n, v in vars(_torch_functions).items() if inspect.isclass(v)
        and not n.startswith("_") and v.__module__ == _torch_functions.__name__}
    from shenjing import _torch_methods  # Tensor methods put on the class at first call

    assert set(shenjing._TORCH_METHODS) == set(_torch_methods.METHODS)
    assert set(shenjing._TORCH_PROPERTIES) <= set(shenjing._TORCH_METHODS)
    for name in (*shenjing._FACTORIES, *shenjing._TORCH_FUNCTIONS, *shenjing._TORCH_CLASSES):
        assert callable(getattr(shenjing, name))


def test_the_documented_submodules_are_attributes_of_a_plain_import():
    # docs/guide.md names shenjing.io.saving.load_metadata, the labs shenjing.labs.run(NAME)
    out = _run_python(
        """
        import shenjing
        print(callable(shenjing.io.saving.load_metadata), callable(shenjing.labs.run))
        """
    )
    assert out.split() == ["True", "True"]
