"""Every op runs on CuPy arrays and agrees with NumPy (forward and backward).

The ops are written once against ``xp`` (backend.get_xp): this checks that nothing in them
assumes NumPy (a host array meeting a device one, a NumPy-only attribute). Skipped where CuPy
or a GPU is missing, so the suite needs neither; run it on a GPU machine with
``pytest tests/test_cupy.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import F
from shenjing.backend import asnumpy, get_xp

cp = pytest.importorskip("cupy")
try:
    _GPUS = cp.cuda.runtime.getDeviceCount()
except Exception:  # CuPy installed, no driver or device
    _GPUS = 0
pytestmark = pytest.mark.skipif(not _GPUS, reason="no GPU for CuPy")


def _r(*shape, positive=False):
    a = np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.5 if positive else a


def _ints(t, values):
    """``values`` as an integer array on the device of ``t``."""
    return get_xp(t.data).asarray(values)


CASES = {
    "add": (F.add, [_r(4, 5), _r(5)]),
    "sub": (F.sub, [_r(4, 5), _r(4, 1)]),
    "mul": (F.mul, [_r(4, 5), _r(5)]),
    "div": (F.div, [_r(4, 5), _r(5, positive=True)]),
    "scalar_ops": (lambda x: 2.0 * x - 1 / (x * x + 1.0) + x ** 2, [_r(4, 3)]),
    "neg": (F.neg, [_r(3)]),
    "pow": (F.pow, [_r(4, positive=True), _r(4)]),
    "exp": (F.exp, [_r(4)]),
    "log": (F.log, [_r(4, positive=True)]),
    "sqrt": (F.sqrt, [_r(4, positive=True)]),
    "abs": (F.abs, [_r(4)]),
    "maximum": (F.maximum, [_r(4, 5), _r(4, 5)]),
    "minimum_scalar": (lambda x: F.minimum(x, 0.2), [_r(4, 5)]),
    "clip": (lambda x: F.clip(x, -0.5, 0.5), [_r(10)]),
    "where": (lambda a, b: F.where(a.data > 0, a, b), [_r(4, 5), _r(4, 5)]),
    "sum": (lambda x: F.sum(x, axis=1), [_r(3, 4, 5)]),
    "mean": (lambda x: F.mean(x, axis=(0, 2), keepdims=True), [_r(3, 4, 5)]),
    "max": (lambda x: F.max(x, axis=1), [_r(3, 4)]),
    "min": (lambda x: F.min(x), [_r(3, 4)]),
    "var": (lambda x: F.var(x, axis=0), [_r(5, 3)]),
    "std": (lambda x: F.std(x, axis=1), [_r(5, 3)]),
    "logsumexp": (lambda x: F.logsumexp(x, axis=-1), [_r(5, 3)]),
    "matmul": (F.matmul, [_r(2, 3, 4), _r(4, 5)]),
    "matmul_1d": (F.matmul, [_r(4), _r(4, 5)]),
    "linear": (F.linear, [_r(6, 4), _r(4, 3), _r(3)]),
    "reshape": (lambda x: F.reshape(x, (6, 2)), [_r(3, 4)]),
    "T": (lambda x: x.T, [_r(3, 4)]),
    "permute": (lambda x: F.permute(x, (2, 0, 1)), [_r(2, 3, 4)]),
    "squeeze": (lambda x: F.squeeze(x, 1), [_r(3, 1, 4)]),
    "expand_dims": (lambda x: F.expand_dims(x, 0), [_r(3)]),
    "broadcast_to": (lambda x: F.broadcast_to(x, (4, 3)), [_r(3)]),
    "concatenate": (lambda a, b: F.concatenate([a, b], axis=1), [_r(2, 3), _r(2, 2)]),
    "stack": (lambda a, b: F.stack([a, b]), [_r(2, 3), _r(2, 3)]),
    "split": (lambda x: F.split(x, 2, axis=1), [_r(2, 4)]),
    "pad": (lambda x: F.pad(x, ((1, 0), (0, 2))), [_r(2, 3)]),
    "flip": (lambda x: F.flip(x, 0), [_r(3, 2)]),
    "getitem_slice": (lambda x: x[1:, ::2], [_r(4, 5)]),
    "getitem_ints": (lambda x: x[_ints(x, [0, 2, 2])], [_r(4, 5)]),
    "getitem_mask": (lambda x: x[x.data > 0], [_r(4, 5)]),
    "sigmoid": (F.sigmoid, [_r(5)]),
    "tanh": (F.tanh, [_r(5)]),
    "relu": (F.relu, [_r(5)]),
    "leaky_relu": (F.leaky_relu, [_r(5)]),
    "elu": (F.elu, [_r(5)]),
    "selu": (F.selu, [_r(5)]),
    "gelu": (F.gelu, [_r(5)]),
    "softplus": (F.softplus, [_r(5)]),
    "silu": (F.silu, [_r(5)]),
    "softmax": (F.softmax, [_r(3, 5)]),
    "log_softmax": (F.log_softmax, [_r(3, 5)]),
    "mse": (lambda p, t: F.mean_squared_error(t, p), [_r(4, 3), _r(4, 3)]),
    "mae": (lambda p, t: F.mean_absolute_error(t, p), [_r(4, 3), _r(4, 3)]),
    "huber": (lambda p, t: F.huber(t, p), [_r(4, 3), _r(4, 3)]),
    "bce_logits": (lambda p: F.binary_crossentropy((p.data > 0.3).astype(p.dtype), p,
                                                   from_logits=True), [_r(6, 1)]),
    "bce_probs": (lambda p: F.binary_crossentropy((p.data > 0.3).astype(p.dtype),
                                                  F.sigmoid(p)), [_r(6, 1)]),
    "cce_logits": (lambda p: F.categorical_crossentropy(F.softmax(p).data, p, from_logits=True),
                   [_r(6, 4)]),
    "scce_logits": (lambda p: F.sparse_categorical_crossentropy(_ints(p, [0, 1, 2, 3, 0, 1]), p,
                                                                from_logits=True), [_r(6, 4)]),
    "scce_probs": (lambda p: F.sparse_categorical_crossentropy(_ints(p, [0, 1, 2, 3, 0, 1]),
                                                               F.softmax(p)), [_r(6, 4)]),
    "conv2d": (lambda x, k, b: F.conv2d(x, k, b), [_r(2, 7, 7, 3), _r(3, 3, 3, 4), _r(4)]),
    "conv2d_same_strided_relu": (lambda x, k, b: F.conv2d(x, k, b, strides=2, padding="same",
                                                          activation="relu"),
                                 [_r(2, 8, 8, 3), _r(3, 3, 3, 4), _r(4)]),
    # relu(linear(...)) / relu(conv2d(...)) fold the ReLU into the product (_util.fold_relu)
    "relu_of_linear": (lambda x, w, b: F.relu(F.linear(x, w, b)), [_r(6, 4), _r(4, 3), _r(3)]),
    "relu_of_conv2d": (lambda x, k, b: F.relu(F.conv2d(x, k, b)),
                       [_r(2, 6, 6, 3), _r(3, 3, 3, 4), _r(4)]),
    "max_pool2d": (F.max_pool2d, [_r(2, 6, 6, 3)]),
    "avg_pool2d_same": (lambda x: F.avg_pool2d(x, 3, 2, "same"), [_r(2, 7, 7, 3)]),
    "global_avg_pool2d": (F.global_avg_pool2d, [_r(2, 4, 4, 3)]),
    "global_max_pool2d": (F.global_max_pool2d, [_r(2, 4, 4, 3)]),
    "batch_norm": (lambda x, g, b: F.batch_norm(x, g, b, None, None, training=True),
                   [_r(8, 3), _r(3), _r(3)]),
    "layer_norm": (lambda x, g, b: F.layer_norm(x, g, b), [_r(4, 6), _r(6), _r(6)]),
    "embedding": (lambda t: F.embedding(_ints(t, [[1, 2], [0, 1]]), t), [_r(4, 3)]),
    "lstm": (lambda x, k, rk, b, h, c: F.recurrence("lstm", x, k, rk, b, [h, c]),
             [_r(2, 5, 3), _r(3, 16), _r(4, 16), _r(16), _r(2, 4), _r(2, 4)]),
    "gru": (lambda x, k, rk, b, h: F.recurrence("gru", x, k, rk, b, [h]),
            [_r(2, 5, 3), _r(3, 12), _r(4, 12), _r(2, 12), _r(2, 4)]),
    "simple_rnn": (lambda x, k, rk, b, h: F.recurrence("simple_rnn", x, k, rk, b, [h]),
                   [_r(2, 5, 3), _r(3, 4), _r(4, 4), _r(4), _r(2, 4)]),
    "dropout": (lambda x: F.dropout(x, 0.5, generator=np.random.default_rng(0)), [_r(6, 6)]),
    "norm": (lambda x: F.norm(x, 2, 1), [_r(3, 4)]),
    "norm_inf": (lambda x: F.norm(x, np.inf), [_r(3, 4)]),
    "depthwise_conv2d": (lambda x, k, b: F.depthwise_conv2d(x, k, b, padding="same"),
                         [_r(2, 6, 6, 3), _r(3, 3, 3, 2), _r(6)]),
    "setitem": (lambda x, v: _assigned(x, v), [_r(4, 3), _r(3)]),
}


# Entry points that take host data beside device tensors (a DataLoader's NumPy targets, index
# lists): they must move it to the prediction's device, and keep their outputs there.
_T = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]], np.float32)
CASES.update({
    "mse_loss_numpy_target": (lambda p: sj.losses.MeanSquaredError()(_T, p), [_r(2, 3)]),
    "loss_sample_weight": (lambda p: sj.losses.MeanAbsoluteError()(
        _T, p, sample_weight=np.array([1.0, 2.0], np.float32)), [_r(2, 3)]),
    "sparse_cce_numpy_labels": (lambda p: sj.losses.SparseCategoricalCrossentropy(
        from_logits=True)(np.array([2, 0]), p), [_r(2, 3)]),
    "ops_sort": (lambda x: sj.ops.sort(x), [_r(3, 5)]),
    "ops_top_k": (lambda x: sj.ops.top_k(x, 2)[0], [_r(3, 5)]),
    "ops_take_list": (lambda x: sj.ops.take(x, [2, 0], axis=1), [_r(3, 5)]),
    "ops_diag": (lambda x: sj.ops.diag(x), [_r(4)]),
    "ops_full_like": (lambda x: x * sj.ops.full_like(x, 2.0), [_r(3)]),
    "constraint_max_norm": (lambda x: sj.Tensor._wrap(sj.constraints.MaxNorm(0.5)(x)) * x,
                            [_r(3, 4)]),
    "multi_margin_loss": (lambda x: sj.nn.functional.multi_margin_loss(x, np.array([2, 0])),
                          [_r(2, 4)]),
    "multilabel_margin_loss": (lambda x: sj.nn.functional.multilabel_margin_loss(
        x, np.array([[3, 0, -1, 1], [-1, 2, 2, 2]])), [_r(2, 4)]),
    "circle_loss": (lambda x: sj.losses.Circle(gamma=8.0)(np.array([0, 0, 1, 1]), x),
                    [_r(4, 3)]),
    "unit_normalization": (lambda x: sj.layers.UnitNormalization()(x), [_r(3, 4)]),
    "sigmoid_gelu_big": (lambda x: sj.F.sigmoid(x) + sj.F.gelu(x), [_r(64, 40)]),
    # torch's index methods given device index tensors (a CuPy array's ``data`` attribute is
    # its memory pointer, not its values)
    "gather": (lambda x: x.gather(1, sj.Tensor(_ints(x, [[2, 0], [1, 1], [0, 4]]))),
               [_r(3, 5)]),
    "index_select": (lambda x: x.index_select(1, _ints(x, [3, 0, 3])), [_r(3, 5)]),
    "scatter_add": (lambda x, s: x.scatter_add(0, _ints(x, [[1, 0], [1, 2]]), s),
                    [_r(3, 2), _r(2, 2)]),
    "index_add": (lambda x, s: x.index_add(0, _ints(x, [2, 0]), s), [_r(3, 2), _r(2, 2)]),
    "masked_select": (lambda x: x.masked_select(x.data > 0), [_r(3, 5)]),
    "repeat_interleave": (lambda x: x.repeat_interleave(_ints(x, [1, 0, 2]), dim=0),
                          [_r(3, 2)]),
    "take_along_axis": (lambda x: sj.ops.take_along_axis(x, _ints(x, [[1], [0]]), 1),
                        [_r(2, 3)]),
    "sort_topk_methods": (lambda x: x.sort(dim=1)[0] + x.topk(3)[0] + x.argsort(1) * 0.0,
                          [_r(2, 3)]),
    # ids, masks, labels and values that computed on the host instead, or broke
    "ops_one_hot": (lambda x: x * sj.ops.one_hot(_ints(x, [2, 0, 3]), 4), [_r(3, 4)]),
    "ops_argmax": (lambda x: x * sj.ops.cast(sj.ops.argmax(x, axis=1, keepdims=True),
                                             "float32"), [_r(3, 4)]),
    "F_one_hot_raw_ids": (lambda x: x * F.one_hot(_ints(x, [1, 0, 2]), 3), [_r(3, 3)]),
    "isin_raw": (lambda x: x * sj.isin(_ints(x, [[1, 2], [3, 4]]), 3), [_r(2, 2)]),
    "tf_nn_host_labels": (lambda x: sj.nn.sigmoid_cross_entropy_with_logits(
        labels=np.array([[1.0, 0.0], [0.0, 1.0]]), logits=x), [_r(2, 2)]),
    "setitem_host_value_no_grad": (lambda x: x * _plain_assigned(x), [_r(3, 2)]),
    "lstm_host_recurrent_mask": (
        lambda x, k, rk, b, h, c: F.recurrence("lstm", x, k, rk, b, [h, c],
                                               recurrent_mask=np.full((2, 4), 0.5, np.float32)),
        [_r(2, 5, 3), _r(3, 16), _r(4, 16), _r(16), _r(2, 4), _r(2, 4)]),
    # the fifteenth session's paths: scatter's last-write rule (unique, ravel_multi_index),
    # max pooling's NaN/-inf winners (always run on a GPU), hypot, logaddexp, median and
    # hard_swish's pieces
    "scatter_repeated": (lambda x, s: x.scatter(1, _ints(x, [[2, 0, 2], [1, 1, 3]]), s),
                         [_r(2, 4), _r(2, 3)]),
    "max_pool2d_same": (lambda x: F.max_pool2d(x, 2, padding="same"), [_r(2, 5, 5, 3)]),
    "hypot_logaddexp_median": (lambda a, b: sj.hypot(a, b) + sj.logaddexp(a, b)
                               + sj.median(a, 1).values[:, None], [_r(3, 4), _r(3, 4)]),
    "hard_swish": (lambda x: sj.nn.functional.hardswish(x * 4), [_r(4, 6)]),
    "batch_norm_moving_stats": (lambda x, g, b: F.batch_norm(
        x, g, b, get_xp(x.data).zeros(3, np.float32), get_xp(x.data).ones(3, np.float32),
        training=True), [_r(8, 3), _r(3), _r(3)]),
})


def _plain_assigned(x):
    with sj.no_grad():  # a plain write: a host row into the tensor's memory
        y = x * 1.0
        y[1] = np.array([5.0, 6.0], np.float32)
    return y


def _assigned(x, v):
    y = x * 1.0  # a tensor in the graph: the assignment is recorded
    y[1] = v
    return y


def _run(fn, arrays, to_device):
    """Outputs and input gradients of ``fn`` (host copies) and the modules of its outputs."""
    inputs = [sj.Tensor(to_device(a), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    loss = sum((o * sj.Tensor(to_device(_r(*o.shape)))).sum() for o in outs)
    loss.backward()
    modules = {type(o.data).__module__.split(".")[0] for o in outs}
    return [asnumpy(o.data) for o in outs] + [asnumpy(t.grad.data) for t in inputs], modules


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_on_cupy_matches_numpy(name):
    fn, arrays = CASES[name]
    expected, _ = _run(fn, arrays, np.asarray)
    got, modules = _run(fn, arrays, cp.asarray)
    assert modules == {"cupy"}, f"{name}: outputs left the GPU ({modules})"
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=2e-4, atol=2e-5)




def test_relu_folds_into_linear_on_the_gpu():
    x, w, b = (sj.Tensor(cp.asarray(a), requires_grad=True) for a in (_r(6, 4), _r(4, 3), _r(3)))
    y = F.relu(F.linear(x, w, b))
    assert type(y.grad_fn).__name__ == "_Linear"  # folded: no ReLU op of its own
    assert float(y.data.min()) == 0.0


def test_weights_take_host_values_on_the_gpu():
    dense = sj.layers.Dense(3)
    dense(np.ones((1, 2), np.float32))
    for p in dense.weights:
        p.data = cp.asarray(p.data)
    host = [np.full(w.shape, 0.5, np.float32) for w in dense.weights]
    dense.set_weights(host)
    dense.kernel.assign_add(np.ones((2, 3), np.float32))
    assert get_xp(dense.kernel.data) is cp
    np.testing.assert_array_equal(asnumpy(dense.kernel.data), np.full((2, 3), 1.5))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Adagrad", "Nadam", "Adamax"])
def test_optimizer_steps_on_cupy_match_numpy(optimizer):
    finals = []
    for to_device in (np.asarray, cp.asarray):
        w = sj.Tensor(to_device(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)),
                      requires_grad=True)
        opt = getattr(sj.keras.optimizers, optimizer)(learning_rate=0.1)
        for _ in range(3):
            w.grad = None
            (w * w).sum().backward()
            opt.apply_gradients([(w.grad, w)])
        assert get_xp(w.data) is get_xp(to_device(np.zeros(1)))
        finals.append(asnumpy(w.data))
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-5, atol=1e-6)


def test_to_cuda_and_back_is_differentiable():
    w = sj.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = w.to("cuda")
    assert g.device == "cuda:0" and isinstance(g.data, cp.ndarray)
    assert g.to("cuda:0") is g and w.cuda().device == "cuda:0"
    y = (g * g).sum().cpu()
    assert y.device == "cpu"
    y.backward()
    assert isinstance(w.grad.data, np.ndarray)  # the gradient came back to w's device
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])


def test_mlp_trains_on_the_gpu_as_on_the_host():
    # the same three SGD steps of a small MLP, on NumPy and on CuPy tensors
    x, y = _r(16, 8), np.arange(16) % 3
    finals = []
    for device in ("cpu", "cuda"):
        params = [sj.Tensor(a, requires_grad=True).to(device).detach().requires_grad_()
                  for a in (_r(8, 6), np.zeros(6, np.float32), _r(6, 3), np.zeros(3, np.float32))]
        w1, b1, w2, b2 = params
        xs, ys = sj.Tensor(x).to(device), get_xp(w1.data).asarray(y)
        for _ in range(3):
            loss = F.sparse_categorical_crossentropy(
                ys, F.linear(F.relu(F.linear(xs, w1, b1)), w2, b2), from_logits=True)
            for p in params:
                p.grad = None
            loss.backward()
            with sj.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
        assert all(p.device == ("cpu" if device == "cpu" else "cuda:0") for p in params)
        finals.append([asnumpy(p.data) for p in params] + [float(loss.item())])
    for a, b in zip(*finals):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_factories_make_tensors_on_the_gpu():
    # drawn on the host from the seeded stream, then moved: the same numbers on either device
    sj.utils.set_random_seed(5)
    host = [sj.randn(3, 2), sj.rand(4), sj.randint(0, 9, (5,))]
    sj.utils.set_random_seed(5)
    gpu = [sj.randn(3, 2, device="cuda"), sj.rand(4, device="cuda:0"),
           sj.randint(0, 9, (5,), device="cuda")]
    for h, g in zip(host, gpu, strict=True):
        assert g.device == "cuda:0" and g.dtype == h.dtype
        np.testing.assert_array_equal(asnumpy(g.data), h.numpy())
    w = sj.zeros(2, 3, device="cuda", requires_grad=True)
    assert w.device == "cuda:0" and w.is_leaf and w.requires_grad
    like = [sj.ones_like(w), sj.full_like(w, 2.0), sj.zeros_like(w, device="cpu")]
    assert [t.device for t in like] == ["cuda:0", "cuda:0", "cpu"]
    assert sj.arange(4, device="cuda").device == sj.eye(2, device="cuda").device == "cuda:0"
    # normal() with tensor mean/std lands where they live, as torch's
    assert sj.normal(sj.zeros(3, device="cuda"), 1.0).device == "cuda:0"
    assert sj.normal(0.0, sj.ones(3, device="cuda")).device == "cuda:0"


def test_copy_between_devices():
    g, h = sj.zeros(3, device="cuda"), sj.zeros(3)
    g.copy_(sj.tensor([1.0, 2.0, 3.0]))  # host into device memory
    h.copy_(g * 2.0)  # and back
    assert g.device == "cuda:0" and h.device == "cpu"
    np.testing.assert_array_equal(asnumpy(g.data), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(h.numpy(), [2.0, 4.0, 6.0])


def test_triangle_indices_land_on_the_device_asked():
    assert sj.triu_indices(3, 3, device="cuda").device == "cuda:0"
    np.testing.assert_array_equal(asnumpy(sj.tril_indices(3, 3, device="cuda").data),
                                  sj.tril_indices(3, 3).numpy())


def test_cuda_checks_see_the_gpu():
    assert sj.cuda.is_available() and sj.cuda.device_count() == _GPUS
    x = sj.ones(3).to("cuda")
    assert sj.cuda.current_device() == 0 and x.device == "cuda:0"
    sj.cuda.synchronize()
    sj.cuda.synchronize("cuda:0")
