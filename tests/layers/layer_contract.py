"""The layer contract (Keras's ``run_layer_test``) and a torch parity check for layers.

``run_layer_test`` checks what every layer promises: the output shape, the number of trainable
and non-trainable weights, a JSON config that rebuilds an equivalent layer, and, when the layer
has trainable weights, that one gradient step changes every one of them.

``assert_layer_matches_torch`` copies a layer's weights into a torch module through explicit
converters (``kernel.T``, (kh, kw, in, out) -> (out, in, kh, kw)) and compares the output, the
input gradient and every weight gradient for one random upstream gradient.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import shenjing
from oracle import ATOL, RTOL, require_torch
from shenjing import Tensor
from shenjing._config import constructor_parameters
from shenjing.data import TreeBatch
from shenjing.layers import RNN, Layer, Parameter


def _as_tensors(data: Any, requires_grad: bool = False) -> Any:
    if isinstance(data, (list, tuple)):
        return [_as_tensors(d, requires_grad) for d in data]
    if isinstance(data, TreeBatch):  # the recursive networks' input, used as it is
        return data
    arr = np.asarray(data)
    floating = arr.dtype.kind == "f"
    return Tensor(arr.astype(np.float32) if floating else arr,
                  requires_grad=requires_grad and floating)


def run_layer_test(
    layer: Layer,
    input_data: Any,
    expected_output_shape: tuple[int, ...],
    expected_trainable: int,
    expected_non_trainable: int,
    *,
    moving_weights_change: bool = False,
    seed: int = 0,
) -> Tensor:
    """Check the layer contract on ``layer`` (unbuilt) with ``input_data`` (an array, or a list
    of arrays for merge layers) and return the inference output.

    Args:
        expected_output_shape: the full output shape, batch included.
        expected_trainable, expected_non_trainable: the weight counts after the build.
        moving_weights_change: whether a training step also changes the non-trainable weights
            (batch norm's moving statistics); otherwise they must stay as they are.
    """
    assert not layer.built and layer.weights == []
    out = layer(_as_tensors(input_data), training=False)  # augmentation defaults to training
    assert layer.built
    assert isinstance(out, Tensor)
    assert out.shape == tuple(expected_output_shape), f"output shape {out.shape}"
    assert out.dtype == np.float32
    assert len(layer.trainable_weights) == expected_trainable
    assert len(layer.non_trainable_weights) == expected_non_trainable
    assert len(layer.weights) == expected_trainable + expected_non_trainable
    assert all(isinstance(p, Parameter) for p in layer.weights)
    assert all(p.requires_grad for p in layer.trainable_weights)
    assert not any(p.requires_grad for p in layer.non_trainable_weights)
    assert layer.count_params() == sum(p.size for p in layer.weights)

    _check_config_round_trip(layer, input_data, out)
    _check_training_step(layer, input_data, moving_weights_change, seed)
    return out


def config_keys_expected(layer: Layer) -> set[str]:
    """What a complete config holds (Keras 3): every constructor argument (also those a
    recurrent layer passes to its cell; ``RNN(cell)`` keeps its cell whole, under 'cell') but
    an unused input shape and activity regularizer, and name, trainable, dtype."""
    passes_on = hasattr(layer, "cell") and not isinstance(layer, RNN)
    owners = [type(layer), *([type(layer.cell)] if passes_on else [])]
    keys = {p.name for cls in owners for p in constructor_parameters(cls)}
    when_given = {"input_shape", "input_dim", "activity_regularizer"}
    return keys - when_given | {"name", "trainable", "dtype"}


def _check_config_round_trip(layer: Layer, input_data: Any, out: Tensor) -> None:
    config = layer.get_config()
    text = json.dumps(config)  # JSON-serializable, nothing custom
    assert json.loads(text) == config, "get_config must be JSON-stable (lists, not tuples)"
    missing = config_keys_expected(layer) - set(config)
    assert not missing, f"get_config leaves out {sorted(missing)} (defaults belong in it)"
    clone = type(layer).from_config(json.loads(text))
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    clone(_as_tensors(input_data), training=False)
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(_as_tensors(input_data), training=False).numpy(),
                                  out.numpy())


def _check_training_step(layer: Layer, input_data: Any, moving_weights_change: bool,
                         seed: int) -> None:
    before = {id(p): p.numpy().copy() for p in layer.weights}
    inputs = _as_tensors(input_data, requires_grad=True)
    out = layer(inputs, training=True)
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    if layer.trainable_weights:
        (out * upstream).sum().backward()
        with shenjing.no_grad():
            for p in layer.trainable_weights:
                assert p.grad is not None, f"weight {p.name!r} got no gradient"
                assert p.grad.shape == p.shape
                p.data -= 0.1 * p.grad.data
        for p in layer.trainable_weights:
            assert not np.array_equal(p.numpy(), before[id(p)]), f"{p.name!r} did not change"
    for p in layer.non_trainable_weights:
        changed = not np.array_equal(p.numpy(), before[id(p)])
        assert changed == moving_weights_change, f"non-trainable {p.name!r} changed: {changed}"


def assert_layer_matches_torch(
    layer: Layer,
    torch_forward: Callable[[Any], Any],
    x: np.ndarray,
    weight_pairs: Callable[[], Sequence[tuple[Parameter, Any, Callable[[np.ndarray], np.ndarray]]]],
    *,
    training: bool = False,
    atol: float = ATOL,
    rtol: float = RTOL,
    seed: int = 0,
) -> None:
    """Compare ``layer(x)`` with ``torch_forward(x)`` in float32: the output, the gradient of the
    input and of every weight, for one random upstream gradient.

    Args:
        torch_forward: takes and returns torch tensors in shenjing's layout (it transposes
            NHWC <-> NCHW itself), so both input gradients are in one layout.
        weight_pairs: called once the layer is built; gives (our weight, torch parameter,
            converter from our layout to torch's). Each torch parameter is set to the converted
            value, and its gradient is compared with the converted gradient of ours (the
            converters are transposes, so they map gradients as they map values).
        training: passed to the layer (batch norm's batch or moving statistics).
    """
    th = require_torch()
    x = np.asarray(x, dtype=np.float32)
    if not layer.built:
        layer(x[:1])  # inference: builds without touching batch norm's moving statistics
    pairs = list(weight_pairs())
    with th.no_grad():
        for ours, theirs, convert in pairs:
            theirs.copy_(th.from_numpy(np.ascontiguousarray(convert(ours.numpy()))))

    xs = Tensor(x.copy(), requires_grad=True)
    xt = th.tensor(x.copy(), requires_grad=True)
    y = layer(xs, training=training)
    yt = torch_forward(xt)
    assert y.dtype == np.float32
    assert y.shape == tuple(yt.shape), f"shape {y.shape}, torch {tuple(yt.shape)}"
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), atol=atol, rtol=rtol,
                               err_msg="forward value")

    upstream = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    yt.backward(th.from_numpy(upstream))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=rtol,
                               err_msg="input gradient")
    for ours, theirs, convert in pairs:
        assert ours.grad is not None, f"{ours.name!r} got no gradient"
        np.testing.assert_allclose(convert(ours.grad.numpy()), theirs.grad.numpy(), atol=atol,
                                   rtol=rtol, err_msg=f"gradient of {ours.name!r}")
