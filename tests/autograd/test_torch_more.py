"""The torch names an audit of ported programs found missing (``torch.unique``, ``bincount``,
``tensor_split``, ``x.mT``, ``torch.Size``, ``FloatTensor``, ``set_printoptions``,
``torch.save``/``load``...): each against torch on the same values (dtypes, and gradients where
torch has them)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch

X = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 4.0, -1.0], [2.0, 2.0, -3.5, 0.5]],
             dtype=np.float32)
V = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)

HOLES = np.zeros_like(X)
HOLES[0, 1], HOLES[1, 2], HOLES[2, 0] = np.nan, np.inf, -np.inf

# differentiable: values, dtype and the gradient of a weighted sum, as torch's
CASES = {
    "tensor_split_sections": lambda m, x: m.cat([p * (i + 1) for i, p in enumerate(
        m.tensor_split(x, 3, dim=1))], 1),
    "tensor_split_indices": lambda m, x: x.tensor_split([1, 2], dim=0)[2] * 2
    + x.tensor_split([1, 2], dim=0)[0],
    "take_along_dim": lambda m, x: m.take_along_dim(x, x.argsort(dim=1), dim=1),
    "take_along_dim_flat": lambda m, x: x.take_along_dim(m.tensor([[0, 5], [11, 5]])),
    "var_mean": lambda m, x: m.var_mean(x, 1)[0] * m.var_mean(x, 1)[1],
    "var_mean_correction": lambda m, x: m.stack(m.var_mean(x, dim=0, correction=0,
                                                           keepdim=True)),
    "std_mean": lambda m, x: m.stack(m.std_mean(x, [0, 1])),
    "mT": lambda m, x: x[None].mT * m.arange(3.0) + x.mH[None] + x.H,
    "diff": lambda m, x: m.diff(x, dim=1) + x.diff(n=2, dim=0, prepend=x[:1]).sum(0)[:3],
    "diff_append": lambda m, x: x.diff(dim=-1, append=x[:, :2]),
    "cross": lambda m, x: m.cross(x[:, :3], x[:, 1:], dim=1) + x[:, :3].cross(x[:1, 1:], dim=-1),
    "kron": lambda m, x: m.kron(x[:2, :2], x) + x[:2].kron(m.ones(1, 1)).sum(),
    "nan_to_num": lambda m, x: m.nan_to_num(x + m.tensor(HOLES), nan=0.5, neginf=-7.0)
    + (x - m.tensor(HOLES)).nan_to_num(),
    "meshgrid_ij": lambda m, x: m.stack(m.meshgrid(x[0], x[1, :2], indexing="ij")),
    "meshgrid_xy": lambda m, x: m.stack(m.meshgrid([x[0], x[1, :2]], indexing="xy")),
    "narrow_select": lambda m, x: x.narrow(1, 1, 2) * x.select(1, -1)[:, None],
    "small_elementwise": lambda m, x: m.trunc(x / 3) + x.frac() * 2 + m.fmod(x, 1.5)
    + m.logaddexp(x, x * 0.5) + m.hypot(x, x + 1) + m.exp2(x / 4) + x.sgn() + m.negative(x),
    "logit_erf_asin": lambda m, x: m.logit(m.sigmoid(x), eps=0.01) + m.erf(x)
    + m.asin(x / 6) + (x / 7).arccos() + m.atan(x),
    "roll_movedim_swap": lambda m, x: m.roll(x, 1, 1) + x.roll((1, 2), (0, 1))
    + m.movedim(x[None], 0, 2)[:, :, 0] + x.swapaxes(0, 1).swapdims(0, 1),
    "flips_diagonal_trace_tile": lambda m, x: m.fliplr(x) + x.flipud() + m.diagonal(x, 1).sum()
    + x.trace() + x.tile(2)[:, :4] + m.ravel(x).reshape(3, 4),
    "clamp_min_max_neg": lambda m, x: m.clamp_min(x, 0.5) + m.clamp_max(x, 1.0) - m.neg(x)
    + m.sinh(x / 5) + m.cosh(x / 5) + m.tan(x / 10),
    # repeated targets: the last write wins (it added up), every write gets its target's grad
    "scatter_repeated": lambda m, x: x.scatter(1, m.tensor([[2, 0, 2], [1, 1, 1], [3, 0, 3]]),
                                               x[:, 1:] * 2)
    + m.zeros(3, 4).scatter_(1, m.tensor([[0, 0]] * 3), 1.5) + x.scatter(0, m.tensor([[1]]), -1.0),
    "median_nansum_nanmean": lambda m, x: m.median(x * m.arange(1.0, 5.0), 1)[0][:, None]
    + m.median(x, dim=0, keepdim=True).values + (x + m.arange(12.0).reshape(3, 4) / 64).median()
    + m.nansum(m.where(x > 2, float("nan"), x), 1)[:, None]
    + m.where(x < 0, float("nan"), x).nanmean(0),
    "unflatten_div_half": lambda m, x: x.unflatten(1, (2, 2)).reshape(3, 4) + m.div(x, 2.5)
    + x.true_divide(m.tensor(2.0)) + m.add(x, x, alpha=2) - m.sub(x, 1) * m.mul(x, 0.5)
    + x.half().float(),
    "broadcast": lambda m, x: m.broadcast_tensors(x[:, :1], x[0])[0] * m.broadcast_to(
        x[0], (3, 4)) + m.vstack([x[:1], x[1:]]) + m.hstack([x[:, :2], x[:, 2:]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_torch(name):
    torch = require_torch()
    assert_same_as_torch(lambda x: CASES[name](shenjing, x), [X],
                         lambda x: CASES[name](torch, x), rtol=1e-5, atol=1e-5)


EDGES = {  # (function, a, b): values where a naive composite overflows or meets inf * 0
    "logaddexp_inf": (lambda m, a, b: m.logaddexp(a, b), [np.inf, 0.0, -np.inf], [0.0, 1.0, 2.0]),
    "logaddexp_big_ties": (lambda m, a, b: m.logaddexp(a, b), [3e6, 1e8, 5.0], [3e6, 1e8, 5.0]),
    "hypot_huge_tiny": (lambda m, a, b: m.hypot(a, b), [1e20, 1e-30, 3e-30, -3.0],
                        [1e20, 0.0, 4e-30, 4.0]),
    "pow_zero_base": (lambda m, a, b: a ** b, [0.0, 0.0, 0.0, 2.0], [-1.0, -0.5, 2.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_values_match_torch(name):
    """Values and both gradients exactly as torch's: logaddexp through a pair's logsumexp gave
    0.47 + 0.47 for equal inputs of 3e6 and NaN beside an inf; hypot's squares overflowed at
    1e20 and underflowed at 1e-30; the exponent's gradient at base 0 was NaN, not -inf."""
    torch = require_torch()
    fn, a, b = EDGES[name]
    results = []
    for m in (shenjing, torch):
        x, y = (m.tensor(np.float32(v), requires_grad=True) for v in (a, b))
        with np.errstate(divide="ignore"):  # 0 ** -1 = inf is the point
            out = fn(m, x, y)
            out.sum().backward()
        results.append([np.asarray(t.detach().numpy()) for t in (out, x.grad, y.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_hypot_and_scatter_second_order_gradcheck(rng):
    a, b = rng.standard_normal((2, 3, 4)) + 0.1
    shenjing.autograd.gradcheck(lambda x, y: shenjing.hypot(x, y) ** 2 * x, a, b)
    shenjing.autograd.gradgradcheck(lambda x, y: shenjing.hypot(x, y) * x, a, b)
    index = shenjing.tensor([[2, 0, 1], [1, 3, 0], [0, 2, 3]])  # no repeats: a write that
    # is overwritten gets a gradient (torch's rule) that finite differences cannot see
    shenjing.autograd.gradgradcheck(lambda x, y: x.scatter(1, index, y * y) * x, a, b[:, :3])


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    expected = theirs.numpy()
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_array_equal(ours.numpy(), expected)


# counts, indices and sets: exact values and dtypes
EXACT = {
    "unique": lambda m: m.unique(m.tensor([[3, 1], [2, 1]])),
    "unique_inverse_counts": lambda m: m.unique(m.tensor([[3.5, 1.0], [2.0, 1.0]]),
                                                return_inverse=True, return_counts=True),
    "unique_method_counts": lambda m: m.tensor([2, 2, 0, 7]).unique(sorted=True,
                                                                    return_counts=True),
    "unique_dim": lambda m: m.unique(m.tensor([[1, 2], [0, 5], [1, 2]]), dim=0,
                                     return_inverse=True, return_counts=True),
    "bincount": lambda m: m.bincount(m.tensor([0, 3, 3, 1])),
    "bincount_weights_minlength": lambda m: m.tensor([0, 3, 3, 1]).bincount(
        m.tensor([0.5, 1.0, 2.0, 0.25]), minlength=6),
    "count_nonzero": lambda m: (m.count_nonzero(m.tensor(X)), m.tensor(X).count_nonzero(dim=1),
                                m.count_nonzero(m.tensor(X), dim=(0, 1))),
    "argwhere": lambda m: m.argwhere(m.tensor(X) > 1.5),
    "isin": lambda m: (m.isin(m.tensor([[1, 2], [3, 4]]), m.tensor([2, 3, 9])),
                       m.isin(m.tensor([1, 2, 3]), 2), m.isin(m.tensor([1, 2]), m.tensor([2]),
                                                              invert=True)),
    "triu_tril_indices": lambda m: (m.triu_indices(3, 4), m.tril_indices(4, 3, -1),
                                    m.triu_indices(3, 3, 1)),
    "diff_bool": lambda m: m.diff(m.tensor([True, False, False, True])),
    "diff_int": lambda m: m.tensor([[1, 4, 9], [2, 2, 5]]).diff(dim=0),
    "nan_to_num_int": lambda m: m.nan_to_num(m.tensor([1, 2])),
    "nan_to_num_default": lambda m: m.nan_to_num(m.tensor([float("nan"), float("inf"),
                                                           -float("inf"), 1.0])),
    "logical": lambda m: (m.logical_and(m.tensor([1, 0, 2]), m.tensor([1, 1, 0])),
                          m.tensor([True, False]).logical_xor(m.tensor([True, True])),
                          m.logical_or(m.tensor([0.0, 0.0]), m.tensor([0.0, 1.0]))),
    "kron_int": lambda m: m.kron(m.tensor([[1, 2], [3, 4]]), m.tensor([1, -1])),
    "median_indices_nan": lambda m: m.median(m.tensor([[3.0, 1.0, float("nan"), 2.0],
                                                        [4.0, -1.0, 2.0, 8.0]]), 1),
    "div_rounding_int": lambda m: (m.div(m.tensor([-7, 7, 5]), m.tensor([2, 2, -2]),
                                         rounding_mode="trunc"),
                                   m.tensor([-7, 7, 5]).div(2, rounding_mode="floor"),
                                   m.div(m.tensor([-7.5, 7.5]), 2, rounding_mode="trunc"),
                                   m.add(m.tensor([1, 2]), m.tensor([3, 4]), alpha=2)),
    "tensor_split_int_tensor": lambda m: m.tensor_split(m.arange(7), m.tensor([2, 5])),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_counts_and_indices_match_torch(name):
    torch = require_torch()
    _same(EXACT[name](shenjing), EXACT[name](torch))


def test_results_are_float32_and_without_gradient_where_torch_has_none():
    x = shenjing.tensor(X, requires_grad=True)
    assert not x.unique().requires_grad and x.unique().dtype == np.float32
    weights = shenjing.tensor([1, 2, 3])  # integer weights: float32 here (torch: float64)
    assert shenjing.bincount(shenjing.tensor([0, 1, 1]), weights).tolist() == [1.0, 5.0]
    assert shenjing.bincount(shenjing.tensor([0, 1, 1]), weights).dtype == np.float32
    assert shenjing.bincount(shenjing.tensor([], dtype=np.int64), minlength=2).tolist() == [0, 0]
    with pytest.raises(RuntimeError, match="1-D integer"):
        shenjing.bincount(shenjing.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="mT is only supported on matrices"):
        _ = shenjing.ones(3).mT
    assert x.is_floating_point() and not shenjing.is_floating_point(shenjing.tensor([1]))


def test_size_compares_as_torch_size():
    torch = require_torch()
    x = shenjing.zeros(2, 3)
    size = shenjing.Size([2, 3])
    assert size == (2, 3) and x.size() == size and size == x.shape and isinstance(size, tuple)
    assert size == torch.Size([2, 3]) and size.numel() == torch.Size([2, 3]).numel() == 6
    assert size[1:] == (3,) and isinstance(size[1:], shenjing.Size) and size[0] == 2
    assert isinstance(size + (4,), shenjing.Size) and size + (4,) == (2, 3, 4)
    assert repr(size) == "Size([2, 3])" and shenjing.Size() == ()
    assert shenjing.zeros(shenjing.Size([4])).shape == (4,)


def test_legacy_constructors_as_torch():
    torch = require_torch()
    for name in ("FloatTensor", "LongTensor", "DoubleTensor", "IntTensor", "BoolTensor"):
        ours, theirs = getattr(shenjing, name), getattr(torch, name)
        for args in [([1, 0, 2],), ([[1.0, 2.0]],), (np.array([3, 4]),)]:
            _same(ours(*args), theirs(*args))
        assert ours(2, 3).shape == tuple(theirs(2, 3).shape)
        assert ours(2, 3).dtype == theirs(2, 3).numpy().dtype
        assert ours().shape == tuple(theirs().shape) == (0,)
        assert ours(shenjing.Size([2])).shape == (2,)
    assert (shenjing.FloatTensor(2, 2).numpy() == 0).all()  # torch's is uninitialized
    assert isinstance(shenjing.ones(2), shenjing.FloatTensor)
    assert not isinstance(shenjing.ones(2), shenjing.LongTensor)
    assert isinstance(shenjing.tensor([1]), shenjing.LongTensor)
    assert not isinstance(np.ones(2, np.float32), shenjing.FloatTensor)
    w = shenjing.FloatTensor([1.0, 2.0], requires_grad=True)
    assert w.requires_grad and w.dtype == np.float32


@pytest.fixture
def printoptions():
    yield shenjing.set_printoptions
    shenjing.set_printoptions(profile="default")


def test_set_printoptions_changes_repr_and_default_is_unchanged(printoptions):
    x = shenjing.tensor([[1 / 3, 2.0], [1e-5, 12345.678]])
    before = repr(x)
    assert before == "Tensor([[3.3333334e-01 2.0000000e+00]\n        [9.9999997e-06 " \
        "1.2345678e+04]])"
    printoptions(precision=2)
    assert "3.33e-01" in repr(x) and "3.3333" not in repr(x)
    printoptions(sci_mode=False)
    assert repr(x) == "Tensor([[0.33 2.00]\n        [0.00 12345.68]])"
    printoptions(sci_mode=True, precision=3)
    assert "3.333e-01" in repr(x) and "1.235e+04" in repr(x)
    printoptions(linewidth=30, precision=4)  # sci_mode back to None, as torch's
    lines = repr(shenjing.arange(12.0)).splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 30 and "e+" not in lines[0]
    printoptions(threshold=3, edgeitems=1)
    assert "..." in repr(shenjing.arange(10))
    printoptions(profile="full")
    assert "..." not in repr(shenjing.arange(2000))
    printoptions(profile="default")
    assert repr(x) == before
    with pytest.raises(ValueError, match="profile"):
        printoptions(profile="long")


def test_save_load_round_trips_state_dicts_and_tensors(tmp_path):
    w = shenjing.randn(3, 2, requires_grad=True)
    ids = shenjing.tensor([[1, 2]])
    checkpoint = {"model": {"dense.kernel": w, "dense.bias": shenjing.zeros(2, dtype=np.float64),
                            "mask": shenjing.tensor([True, False])},
                  "optimizer": {"state": {0: {"step": 3, "exp_avg": w * 2}},
                                "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999),
                                                  "params": [0]}]},
                  "epoch": 7, "loss": float("nan"), "name": "run-1", "extra": None,
                  "ids": (ids, ids), "array": np.arange(3, dtype=np.int32),
                  "scalar": shenjing.tensor(2.5), "np_number": np.float32(0.5)}
    path = tmp_path / "ckpt.pt"
    shenjing.save(checkpoint, path)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # the temporary file is gone
    back = shenjing.load(str(path), map_location="cpu", weights_only=True)
    model = back["model"]
    assert list(model) == ["dense.kernel", "dense.bias", "mask"]
    np.testing.assert_array_equal(model["dense.kernel"].numpy(), w.numpy())
    assert model["dense.kernel"].requires_grad and model["dense.kernel"].dtype == np.float32
    assert model["dense.bias"].dtype == np.float64 and model["mask"].tolist() == [True, False]
    state = back["optimizer"]["state"]
    assert list(state) == [0] and state[0]["step"] == 3
    assert state[0]["exp_avg"].is_leaf and state[0]["exp_avg"].requires_grad  # as torch's
    assert back["optimizer"]["param_groups"] == [{"lr": 1e-3, "betas": (0.9, 0.999),
                                                  "params": [0]}]
    assert back["epoch"] == 7 and np.isnan(back["loss"]) and back["name"] == "run-1"
    assert back["extra"] is None and back["ids"][0] is back["ids"][1]
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert back["np_number"] == 0.5
    one = io.BytesIO()  # a file object, and a bare tensor
    shenjing.save(w, one)
    one.seek(0)
    loaded = shenjing.load(one)
    assert isinstance(loaded, shenjing.Tensor) and loaded.shape == (3, 2)
    loaded.data += 1  # writable
    assert not hasattr(shenjing.load, "__wrapped__")


def test_save_refuses_what_needs_pickle(tmp_path):
    with pytest.raises(TypeError, match="never pickles"):
        shenjing.save({"model": shenjing.layers.Dense(2)}, tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())


def test_load_reports_damaged_files_and_model_files_for_what_they_are(tmp_path):
    from shenjing.io import CorruptFileError

    path = tmp_path / "ckpt.pt"
    shenjing.save({"w": shenjing.tensor(np.ones((100, 10), np.float32)), "epoch": 3}, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    for fraction in (0.05, 0.5, 0.9, 0.999):  # in the header, in the data
        cut.write_bytes(data[:int(len(data) * fraction)])
        with pytest.raises(CorruptFileError, match=f"{cut} is corrupt or truncated"):
            shenjing.load(cut)
    flipped = bytearray(data)
    flipped[data.find(b'"tensor') + 1] = ord("x")  # still JSON, no longer the layout
    path.write_bytes(bytes(flipped))
    with pytest.raises(CorruptFileError, match=f"{path} is corrupt: its contents do not match"):
        shenjing.load(path)  # the checksum of shenjing.save covers the layout
    from safetensors.numpy import save_file

    save_file({"0": np.ones(2)}, path, metadata={"shenjing.structure": '{"xensor": "0"}'})
    with pytest.raises(CorruptFileError, match=f"{path} is damaged: the layout"):
        shenjing.load(path)  # a file without a checksum, as written before there was one
    model = shenjing.Sequential([shenjing.Input((4,)), shenjing.layers.Dense(3)])
    model.save(tmp_path / "m.shenjing")
    with pytest.raises(CorruptFileError, match="is a shenjing model file.*load_model"):
        shenjing.load(tmp_path / "m.shenjing")


def test_a_flipped_bit_in_a_saved_file_is_reported(tmp_path):
    from shenjing.io import CorruptFileError

    path = tmp_path / "ckpt.pt"
    shenjing.save({"w": shenjing.tensor(np.ones(10, np.float32)), "epoch": 3}, path)
    data = path.read_bytes()
    for at in (len(data) - 5, data.find(b"epoch") + 8):  # a weight; the epoch in the layout
        flipped = bytearray(data)
        flipped[at] ^= 0x04
        path.write_bytes(bytes(flipped))
        with pytest.raises(CorruptFileError, match="corrupt: its contents do not match"):
            shenjing.load(path)


def test_load_refuses_torch_pickles_and_reads_safetensors_from_torch(tmp_path):
    torch = require_torch()
    pt = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, pt)
    with pytest.raises(ValueError, match="never unpickles.*safetensors.torch import save_file"):
        shenjing.load(pt)
    assert zipfile.is_zipfile(pt)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="PyTorch pickle"):
        shenjing.load(legacy)
    with pytest.raises(ValueError, match="not a file written by shenjing.save"):
        shenjing.load(io.BytesIO(b"hello, world"))
    from safetensors.torch import save_file

    converted = tmp_path / "model.safetensors"
    save_file({"w": torch.arange(4.0).reshape(2, 2), "b": torch.zeros(3, dtype=torch.int64)},
              converted)
    state = shenjing.load(converted)
    assert sorted(state) == ["b", "w"] and state["w"].dtype == np.float32
    np.testing.assert_array_equal(state["w"].numpy(), np.arange(4.0).reshape(2, 2))
    assert state["b"].dtype == np.int64


def test_a_ports_math_functions_match_torch():
    """atan2 (gradient 0 at the origin, as torch's), the inverse hyperbolics, mv, addmm,
    tensordot, rot90 and kthvalue: values and gradients against torch's."""
    torch = require_torch()
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a0[0, 0] = b0[0, 0] = 0.0
    x0 = rng.standard_normal((2, 3, 4))
    calls = [
        (lambda m, a, b: m.atan2(a, b), (a0, b0)),
        (lambda m, a, b: m.asinh(a) + m.atanh(b * 0.3) + m.acosh(a * a + 1.5), (a0, b0)),
        (lambda m, a, b: m.mv(a, b[0]), (a0, b0)),
        (lambda m, a, b: m.addmm(b, a, m.transpose(a, 0, 1) @ b, beta=0.5, alpha=2.0), (a0, b0)),
        (lambda m, x: m.tensordot(x, x, dims=([1, 2], [1, 2])), (x0,)),
        (lambda m, x: m.tensordot(x, x[0].T, dims=1), (x0,)),
        (lambda m, x: m.rot90(x, 1, (1, 2)) * m.rot90(x, 3, (2, 1)), (x0,)),
        (lambda m, x: m.kthvalue(x, 2, 1, True)[0], (x0,)),
    ]
    for call, arrays in calls:
        ours = [shenjing.tensor(v, dtype=np.float64, requires_grad=True) for v in arrays]
        theirs = [torch.tensor(v, requires_grad=True) for v in arrays]
        y, t = call(shenjing, *ours), call(torch, *theirs)
        np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        (y * y).sum().backward()
        (t * t).sum().backward()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(shenjing.kthvalue(shenjing.tensor(x0), 2, 1)[1].numpy(),
                                  torch.kthvalue(torch.tensor(x0), 2, 1)[1].numpy())
    with pytest.raises(RuntimeError, match="matrix and a vector"):
        shenjing.mv(shenjing.tensor(a0), shenjing.tensor(a0))
    with pytest.raises(IndexError, match="k=5 is out of range"):
        shenjing.tensor(x0).kthvalue(5)
    shenjing.utils.set_random_seed(0)
    draws = shenjing.bernoulli(shenjing.full((20_000,), 0.3)).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.015


def test_rot90_atan2_and_addmm_edges_as_torch():
    torch = require_torch()
    x = shenjing.zeros(1, 2)
    y = shenjing.rot90(x, 4)
    y += 1  # a copy, as torch's: x unchanged
    assert y is not x and float(x.sum().item()) == 0.0
    a, b = np.array([1, 2, 200], np.int64), np.array([3, 7, 1], np.uint8)
    got = shenjing.atan2(shenjing.tensor(a), shenjing.tensor(b))
    want = torch.atan2(torch.tensor(a), torch.tensor(b))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    nan = np.full((2, 2), np.nan, np.float32)
    eye = np.eye(2, dtype=np.float32)
    np.testing.assert_array_equal(  # beta=0 ignores the input, its NaN included
        shenjing.addmm(shenjing.tensor(nan), shenjing.tensor(eye), shenjing.tensor(eye),
                       beta=0).numpy(),
        torch.addmm(torch.tensor(nan), torch.tensor(eye), torch.tensor(eye), beta=0).numpy())


def test_running_extremes_and_logcumsumexp_match_torch():
    """cummax / cummin (ties take the last index; a NaN, once met, is the value and each later
    NaN the index), logcumsumexp (no overflow: -1000 beside 1000; -inf entries): values,
    indices and gradients against torch's, to the second order for logcumsumexp."""
    torch = require_torch()
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((3, 5, 4)).round(1)  # rounded: ties
    lane = np.array([1.0, 3.0, 3.0, 2.0, 5.0, 5.0, np.nan, 4.0, np.nan, 7.0], np.float32)
    for name in ("cummax", "cummin"):
        for dim in (0, 1, -1):
            ours, theirs = (getattr(m, name)(m.tensor(x0.astype(np.float32)), dim)
                            for m in (shenjing, torch))
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours, theirs = (getattr(m.tensor(lane), name)(0) for m in (shenjing, torch))
        np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
        a = shenjing.tensor(x0, dtype=np.float64, requires_grad=True)
        t = torch.tensor(x0, requires_grad=True)
        (getattr(shenjing, name)(a, 1)[0] * shenjing.tensor(x0, dtype=np.float64)).sum().backward()
        (getattr(torch, name)(t, 1)[0] * torch.tensor(x0)).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    wide = np.array([[-1000.0, 0.0, 1000.0, -np.inf, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    for arr, dim in ((x0, 1), (x0, 0), (wide, 1)):
        a = shenjing.tensor(arr, dtype=np.float64, requires_grad=True)
        t = torch.tensor(arr, requires_grad=True)
        y, yt = shenjing.logcumsumexp(a, dim), torch.logcumsumexp(t, dim)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
        w = rng.standard_normal(arr.shape)
        (ga,) = shenjing.autograd.grad((y * shenjing.tensor(w, dtype=np.float64)).sum(), [a],
                                       create_graph=True)
        (gt,) = torch.autograd.grad((yt * torch.tensor(w)).sum(), [t], create_graph=True)
        np.testing.assert_allclose(ga.numpy(), gt.detach().numpy(), rtol=1e-9, atol=1e-12)
        if np.isfinite(arr).all() and np.abs(arr).max() < 100:  # (torch's own second order
            (ga * ga).sum().backward()  # is NaN beside -inf and overflows at 1000)
            (gt * gt).sum().backward()
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert shenjing.gradcheck(lambda v: shenjing.logcumsumexp(v, 1), x0[0])
    ints = shenjing.logcumsumexp(shenjing.tensor([1, 2, 3]), 0)  # integers: in float
    np.testing.assert_allclose(ints.numpy(), np.logaddexp.accumulate([1.0, 2.0, 3.0]),
                               rtol=1e-6)
    lanes = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]])
    a, t = shenjing.tensor(lanes, requires_grad=True), torch.tensor(lanes, requires_grad=True)
    shenjing.logcumsumexp(a, 1).sum().backward()
    torch.logcumsumexp(t, 1).sum().backward()  # a NaN's lane is NaN, the others untouched
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_searchsorted_and_bucketize_match_torch():
    torch = require_torch()
    seq, rows = np.array([1, 3, 5, 7]), np.array([[1, 3, 5], [2, 4, 6]])
    values = np.array([[0, 3, 8], [5, 5, 1]])
    calls = [
        lambda m: m.searchsorted(m.tensor(seq), m.tensor(values)),
        lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), right=True),
        lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), side="right", out_int32=True),
        lambda m: m.searchsorted(m.tensor(rows), m.tensor(values[:, :2])),
        lambda m: m.searchsorted(m.tensor([7, 1, 5, 3]), m.tensor(values),
                                 sorter=m.tensor([1, 3, 2, 0])),
        lambda m: m.bucketize(m.tensor(values), m.tensor(seq)),
        lambda m: m.bucketize(m.tensor(values.astype(np.float32)), m.tensor(seq), right=True),
    ]
    for call in calls:
        ours, theirs = call(shenjing), call(torch)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    with pytest.raises(ValueError, match="side must be"):
        shenjing.searchsorted(shenjing.tensor(seq), shenjing.tensor(values), side="middle")
    with pytest.raises(ValueError, match="boundaries must be 1-D"):
        shenjing.bucketize(shenjing.tensor(values), shenjing.tensor(rows))
    np.testing.assert_array_equal(shenjing.bucketize(shenjing.tensor([1.0, 2.5]), [1, 2, 3]),
                                  [0, 2])  # boundaries as a list
    assert shenjing.searchsorted(shenjing.zeros((0, 3)), shenjing.zeros((0, 2))).shape == (0, 2)


def test_scatter_reduce_matches_torch():
    """Every reduction, with and without the entries' own values, along either axis: values and
    both gradients against torch's (zeros in prod, ties in amax/amin share the gradient);
    integer inputs (mean floored); the recorded backward of the linear reductions."""
    torch = require_torch()
    rng = np.random.default_rng(2)
    src0 = rng.standard_normal((3, 6)).round(1)
    src0[0, :3] = 0.0  # zeros: prod's gradient without 0 / 0
    index = {1: rng.integers(0, 5, (3, 6)), 0: rng.integers(0, 3, (3, 6))}
    index[1][2, 1], src0[2, 1] = index[1][2, 0], src0[2, 0]  # a tie between two sources
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            for dim, shape in ((1, (3, 5)), (0, (3, 6))):
                x0 = rng.standard_normal(shape).round(1)
                x0[1, 2] = 0.0
                if not include_self:  # (torch 2.13 counts an equal own value as a tie even
                    x0 += 100.0  # when it is no member: kept apart, see the next test)
                ours = [shenjing.tensor(v, dtype=np.float64, requires_grad=True)
                        for v in (x0, src0)]
                theirs = [torch.tensor(v, requires_grad=True) for v in (x0, src0)]
                y = ours[0].scatter_reduce(dim, shenjing.tensor(index[dim]), ours[1], reduce,
                                           include_self=include_self)
                t = torch.scatter_reduce(theirs[0], dim, torch.tensor(index[dim]), theirs[1],
                                         reduce, include_self=include_self)
                np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-12)
                w = rng.standard_normal(y.shape)
                (y * shenjing.tensor(w, dtype=np.float64)).sum().backward()
                (t * torch.tensor(w)).sum().backward()
                for p, q in zip(ours, theirs):
                    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12,
                                               atol=1e-12)
    xi, si = np.arange(10).reshape(2, 5), np.arange(12).reshape(2, 6) % 7
    ii = np.array([[0, 1, 1, 4, 4, 4], [2, 2, 0, 0, 3, 3]])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            got = shenjing.tensor(xi).scatter_reduce(1, shenjing.tensor(ii), shenjing.tensor(si),
                                                     reduce, include_self=include_self)
            want = torch.tensor(xi).scatter_reduce(1, torch.tensor(ii), torch.tensor(si),
                                                   reduce, include_self=include_self)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    x, s = (shenjing.tensor(v, dtype=np.float64, requires_grad=True) for v in (xi * 0.5, si * 1.0))
    y = x.scatter_reduce(1, shenjing.tensor(ii), s, "mean")
    (gs,) = shenjing.autograd.grad((y * y).sum(), [s], create_graph=True)
    (gs * gs).sum().backward()
    xt, st = (torch.tensor(v, requires_grad=True) for v in (xi * 0.5, si * 1.0))
    yt = xt.scatter_reduce(1, torch.tensor(ii), st, "mean")
    (gt,) = torch.autograd.grad((yt * yt).sum(), [st], create_graph=True)
    (gt * gt).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), st.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_scatter_reduce_edges():
    """An own value that is no member (include_self=False) takes no share of a tie: the source
    gets the whole gradient (torch 2.13 gives it half and the entry none, losing the rest);
    in place, errors named."""
    x = shenjing.tensor([[1.0, -0.5, 2.0]], requires_grad=True)
    s = shenjing.tensor([[-0.5, 3.0]], requires_grad=True)
    y = x.scatter_reduce(1, shenjing.tensor([[1, 1]]), s, "amin", include_self=False)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [[1.0, -0.5, 2.0]])
    np.testing.assert_array_equal(s.grad.numpy(), [[1.0, 0.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 1.0]])
    z = shenjing.zeros(2, 3)
    z.scatter_reduce_(1, shenjing.tensor([[0, 0], [2, 1]]), shenjing.ones(2, 2), "sum")
    np.testing.assert_array_equal(z.numpy(), [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match="reduce must be one of"):
        z.scatter_reduce(1, shenjing.tensor([[0]]), shenjing.ones(1, 1), "max")
    with pytest.raises(ValueError, match="integer tensor of x's rank 2"):
        z.scatter_reduce(1, shenjing.tensor([0]), shenjing.ones(1), "sum")
    with pytest.raises(ValueError, match="no larger than src"):
        z.scatter_reduce(0, shenjing.tensor(np.zeros((2, 2), np.int64)), shenjing.ones(1, 2),
                         "sum")
    with pytest.raises(ValueError, match="nor than x"):
        shenjing.zeros(3, 1).scatter_reduce(0, shenjing.tensor(np.zeros((2, 2), np.int64)),
                                            shenjing.ones(2, 2), "sum")
    assert shenjing.tensor(2.0).scatter_reduce(0, shenjing.tensor(0), shenjing.tensor(3.0),
                                               "sum").item() == 5.0  # 0-d, as torch
    with pytest.raises(NotImplementedError, match="reduce='prod'"):
        w = shenjing.ones(2, 3, requires_grad=True)
        y = w.scatter_reduce(1, shenjing.tensor([[0], [1]]), shenjing.ones(2, 1), "prod")
        shenjing.autograd.grad(y.sum(), [w], create_graph=True)[0].sum().backward()
