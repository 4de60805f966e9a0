"""Team mode (shenjing.parallel): whole-batch float32 products on oneDNN's OpenMP team and the
big element-wise passes on the same team (native/team.c and the kernels' SJ_TEAM loops).

The kernels' values are checked against NumPy bit for bit on one thread and on a team of two
(without OpenMP the team is one thread and the same checks hold); the dispatch
(``parallel.arith``) is checked to take the kernels exactly where it may, NumPy everywhere
else, and NumPy's floating-point error handling either way; a training step in team mode, where
oneDNN and OpenMP are there, gives the gradients of the ordinary path."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import shenjing as sj
from shenjing import F, native, parallel


@pytest.fixture
def kernels():
    lib = native.kernels()
    if lib is None:
        pytest.skip(f"C kernels: {native.status()}")
    yield lib
    lib.sj_set_team(parallel.team_size or 1)  # the team as it was


def _nasty(rng, n):
    """float32 values with zeros of both signs, infinities and NaNs among normal ones."""
    a = rng.standard_normal(n).astype(np.float32)
    a[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -3.0, 7.0]
    return rng.permutation(a)


def _same_bits(got, expected):
    """Equal to the bit: the sign of a zero counts (assert_array_equal's == does not)."""
    np.testing.assert_array_equal(np.asarray(got).view(np.uint32),
                                  np.asarray(expected).view(np.uint32))


N = parallel.TEAM_MIN + 123  # over the team's minimum, and not a multiple of two


def test_the_team_clause_runs_loops_on_the_team(kernels):
    assert kernels.sj_team_min() == parallel.TEAM_MIN  # one number in C and in Python
    kernels.sj_set_team(1)
    assert kernels.sj_team_threads() == 1
    kernels.sj_set_team(2)
    assert kernels.sj_team_threads() == (2 if kernels.sj_openmp() else 1)


@pytest.mark.parametrize("team", [1, 2])
def test_arith_kernel_is_numpys_arithmetic_bit_for_bit(kernels, rng, team):
    kernels.sj_set_team(team)
    a, b, out = _nasty(rng, N), _nasty(rng, N), np.empty(N, np.float32)
    s = np.float32(-1.75)
    with np.errstate(all="ignore"):
        cases = {0: (a + b, a + s), 1: (a - b, a - s), 2: (a * b, a * s), 3: (a / b, a / s)}
        for op, (of_arrays, of_scalar) in cases.items():
            kernels.sj_arith(op, N, a.ctypes.data, b.ctypes.data, 0.0, out.ctypes.data)
            _same_bits(out, of_arrays)
            kernels.sj_arith(op, N, a.ctypes.data, None, float(s), out.ctypes.data)
            _same_bits(out, of_scalar)
        for op, expected in ((4, s - a), (5, s / a)):  # the scalar on the left
            kernels.sj_arith(op, N, a.ctypes.data, None, float(s), out.ctypes.data)
            _same_bits(out, expected)
    ones = np.ones(N, np.float32)  # the exceptions raised, as NumPy reports them
    assert kernels.sj_arith(2, N, ones.ctypes.data, ones.ctypes.data, 0.0, out.ctypes.data) == 0
    assert kernels.sj_arith(3, N, ones.ctypes.data, None, 0.0, out.ctypes.data) == 1
    assert kernels.sj_arith(2, N, ones.ctypes.data, None, 3e38, out.ctypes.data) == 0
    assert kernels.sj_arith(2, N, a.ctypes.data, None, 3e38, out.ctypes.data) & 2
    assert kernels.sj_arith(1, N, a.ctypes.data, a.ctypes.data, 0.0, out.ctypes.data) == 4


@pytest.mark.parametrize("team", [1, 2])
def test_relu_kernels_are_numpys(kernels, rng, team):
    kernels.sj_set_team(team)
    x, g = _nasty(rng, N), _nasty(rng, N)
    y, gx = np.empty_like(x), np.empty_like(x)
    kernels.sj_relu(N, x.ctypes.data, y.ctypes.data)
    _same_bits(y, np.maximum(x, 0))  # NaN stays NaN, -0.0 becomes 0.0
    kernels.sj_relu_grad(N, g.ctypes.data, y.ctypes.data, gx.ctypes.data)
    with np.errstate(invalid="ignore"):
        _same_bits(gx, g * (y > 0))  # a NaN or inf in g survives as NaN


def test_team_passes_equal_one_thread(kernels, rng):
    """bias + ReLU, its gradients, Adam: a team of two gives one thread's bits; the bias's
    column sums (each thread's rows, then the threads' sums in order) to a rounding."""
    m, n = 300, 257
    g, y, b = (rng.standard_normal(s).astype(np.float32) for s in ((m, n), (m, n), (n,)))
    y[0, :2] = [-0.0, np.nan]
    results = []
    for team in (1, 2):
        kernels.sj_set_team(team)
        out, gs, gb = y.copy(), np.empty_like(g), np.empty(n, np.float32)
        kernels.sj_bias_relu(m, n, out.ctypes.data, b.ctypes.data, 1)
        assert kernels.sj_relu_bias_grad(m, n, g.ctypes.data, out.ctypes.data, gs.ctypes.data,
                                         gb.ctypes.data) == 0
        p, m1, v = y.copy(), np.zeros_like(y), np.zeros_like(y)
        kernels.sj_adam(p.size, p.ctypes.data, g.ctypes.data, m1.ctypes.data, v.ctypes.data,
                        None, 1e-3, 0.1, 0.999, 0.001, 1e-7)
        results.append((out, gs, gb, p, m1, v))
    one, two = results
    _same_bits(one[0], np.maximum(y + b, 0))
    with np.errstate(invalid="ignore"):
        _same_bits(one[1], g * (one[0] > 0))
    np.testing.assert_allclose(one[2], one[1].sum(0, dtype=np.float64), rtol=1e-6)
    for i, (a, b2) in enumerate(zip(one, two)):
        if i == 2:
            np.testing.assert_allclose(a, b2, rtol=1e-6)
        else:
            _same_bits(a, b2)


@pytest.fixture
def team_of_two(kernels, monkeypatch):
    """Team mode's element-wise dispatch on the C kernels (products as they are); counts the
    calls of the team's passes (``.sj_arith``, ``.sj_relu``, ``.sj_relu_grad``), so a test sees
    which path ran."""
    seen = type("Seen", (), {})()

    def counting(name):
        kernel = getattr(kernels, name)

        def counted(*args):
            setattr(seen, name, getattr(seen, name) + 1)
            return kernel(*args)
        return counted

    for name in ("sj_arith", "sj_relu", "sj_relu_grad"):
        setattr(seen, name, 0)
        monkeypatch.setattr(kernels, name, counting(name))
    monkeypatch.setattr(parallel, "team_size", 2)
    monkeypatch.setattr(parallel, "_kernels", kernels)
    kernels.sj_set_team(2)
    return seen


def test_arith_takes_the_team_only_where_it_may(team_of_two, rng):
    big = rng.standard_normal((256, 200)).astype(np.float32)
    other = rng.standard_normal((256, 200)).astype(np.float32)
    s = np.array(0.3, np.float32)
    for op, fn in ((parallel.ADD, np.add), (parallel.SUB, np.subtract),
                   (parallel.MUL, np.multiply), (parallel.DIV, np.divide)):
        before = team_of_two.sj_arith
        for a, b in ((big, other), (big, s), (s, big)):
            got = parallel.arith(op, a, b)
            assert got.dtype == np.float32 and got.shape == big.shape
            _same_bits(got, fn(a, b))
        assert team_of_two.sj_arith == before + 3
    # NumPy's: another dtype, broadcasting, few elements, a strided view
    before = team_of_two.sj_arith
    for a, b in ((big.astype(np.float64), other.astype(np.float64)), (big, other[:1]),
                 (big[:2], other[:2]), (big[:, ::2], other[:, ::2]), (big, 2.0)):
        np.testing.assert_array_equal(parallel.arith(parallel.MUL, a, b), np.multiply(a, b))
    assert team_of_two.sj_arith == before
    with native.disabled():  # NumPy's paths only, as the tests that compare the two ask
        np.testing.assert_array_equal(parallel.arith(parallel.MUL, big, other), big * other)
    assert team_of_two.sj_arith == before


def test_arith_reports_floating_point_errors_as_numpy_does(team_of_two):
    """Division by zero, overflow, invalid results and underflow: warned, raised or ignored as
    NumPy's errstate says, with NumPy's messages; in place, the array is written first, as
    NumPy's."""
    big = np.ones(parallel.TEAM_MIN, np.float32)
    zeros = np.zeros_like(big)
    with pytest.warns(RuntimeWarning, match="divide by zero encountered in divide"):
        assert np.isinf(parallel.arith(parallel.DIV, big, zeros)).all()
    twos = big + 1
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        parallel.arith_(parallel.MUL, twos, np.array(3e38, np.float32))
    assert np.isinf(twos).all() and team_of_two.sj_arith == 2  # written, then raised
    big[:] = np.inf
    with pytest.warns(RuntimeWarning, match="invalid value encountered in subtract"):
        parallel.arith(parallel.SUB, big, big)  # inf - inf
    with np.errstate(all="ignore"):
        assert np.isnan(parallel.arith(parallel.MUL, zeros, big)).all()  # no warning
    tiny = np.full(parallel.TEAM_MIN, 1e-30, np.float32)  # underflow: NumPy ignores it
    assert not parallel.arith(parallel.MUL, tiny, tiny).any()  # by default, and so do we
    with np.errstate(under="raise"), pytest.raises(FloatingPointError, match="underflow"):
        parallel.arith(parallel.DIV, tiny, np.array(1e30, np.float32))


def test_an_operator_with_a_number_outside_the_graph_runs_on_the_team(team_of_two, rng):
    """``lr * p.grad`` under no_grad (the operators' shortcut for a number): the team's pass,
    bit for bit the recorded op's."""
    a = rng.standard_normal(parallel.TEAM_MIN * 2).astype(np.float32)
    with sj.no_grad():
        got = [0.01 * sj.Tensor(a), sj.Tensor(a) - 2, 1 / sj.Tensor(a)]
    assert team_of_two.sj_arith == 3
    recorded = sj.Tensor(a, requires_grad=True)
    for g, w in zip(got, [0.01 * recorded, recorded - 2, 1 / recorded]):
        _same_bits(g.numpy(), w.numpy())


def test_arith_in_place(team_of_two, rng):
    a = rng.standard_normal(parallel.TEAM_MIN * 2).astype(np.float32)
    b = rng.standard_normal(a.shape).astype(np.float32)
    lr = np.array(0.01, np.float32)
    expected = a - lr * b
    target = a.copy()
    assert parallel.arith_(parallel.SUB, target, parallel.arith(parallel.MUL, lr, b)) is target
    _same_bits(target, expected)
    assert team_of_two.sj_arith == 2
    buf = a.copy()  # overlapping operands: NumPy's buffered answer, not a racing loop
    head, tail = buf[1:], buf[:-1]
    expected = head + tail
    parallel.arith_(parallel.ADD, head, tail)
    np.testing.assert_array_equal(head, expected)
    frozen = a.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        parallel.arith_(parallel.ADD, frozen, b)
    assert team_of_two.sj_arith == 2


def test_tensor_update_and_relu_use_the_team(team_of_two, rng):
    """What an SGD step and a ReLU layer do, in team mode: NumPy's values, on the team."""
    w0 = rng.standard_normal((300, 200)).astype(np.float32)
    g0 = rng.standard_normal(w0.shape).astype(np.float32)
    w = sj.tensor(w0.copy(), requires_grad=True)
    y = F.relu(w * 2.0)
    y.backward(sj.tensor(g0))
    _same_bits(y.numpy(), np.maximum(w0 * np.float32(2), 0))
    expected_grad = (g0 * (y.numpy() > 0)) * np.float32(2)
    _same_bits(w.grad.numpy(), expected_grad)
    with sj.no_grad():
        w -= 0.1 * w.grad
    _same_bits(w.numpy(), w0 - np.float32(0.1) * expected_grad)
    assert team_of_two.sj_arith == 3  # w * 2, 0.1 * grad, w -= ... (backward: NumPy)
    assert team_of_two.sj_relu == team_of_two.sj_relu_grad == 1


@pytest.fixture
def fresh_parallel(monkeypatch):
    """parallel's process-wide state as at start-up, with two threads; restored afterwards
    (BLAS's thread count included)."""
    before = parallel.threads()
    for name, value in (("team_size", 0), ("_team_tried", False), ("_splitting", False),
                        ("_pool", None), ("_threads", 2)):
        monkeypatch.setattr(parallel, name, value)
    yield
    if parallel.team_size:
        parallel._kernels.sj_set_team(1)
    if parallel._pool is not None:
        parallel._pool.shutdown(wait=True)
    monkeypatch.undo()
    parallel.set_threads(before)


def _mlp_step(x, labels, weights):
    params = [sj.tensor(w.copy(), requires_grad=True) for w in weights]
    w1, b1, w2, b2 = params
    h = F.relu(F.linear(sj.as_tensor(x), w1, b1))
    loss = F.sparse_categorical_crossentropy(labels, F.linear(h, w2, b2), from_logits=True)
    loss.backward()
    with sj.no_grad():
        for p in params:
            p -= 0.5 * p.grad
    return [loss.numpy()] + [p.numpy() for p in params]


def test_a_training_step_in_team_mode_is_the_ordinary_step(fresh_parallel, rng):
    from shenjing.native import onednn

    if native.kernels() is None or not native.kernels().sj_openmp() or not (
            onednn.status() and onednn.loaded()):
        pytest.skip(f"team mode needs oneDNN ({onednn.status()}) and the C kernels with "
                    f"OpenMP ({native.status()})")
    x = rng.standard_normal((256, 300)).astype(np.float32)
    labels = rng.integers(0, 10, 256)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.05
               for s in ((300, 256), (256,), (256, 10), (10,))]
    team = _mlp_step(x, labels, weights)
    assert parallel.team_size == 2  # the first product entered team mode
    with native.disabled():
        parallel._leave_team()  # the ordinary path: NumPy's products and passes
        ordinary = _mlp_step(x, labels, weights)
    for a, b in zip(team, ordinary):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_stacked_products_in_team_mode_are_numpys(fresh_parallel, rng, monkeypatch):
    """In team mode a stack times one matrix (attention's projections) is one product of the
    stack's rows, forward and for the matrix's gradient, and a stack of big enough matrices
    goes to oneDNN with whole products spread over the team (native/gemm_stack.c), transposed
    operands included (the gradients): the values and gradients of NumPy's products."""
    from shenjing.native import onednn

    if not parallel.team_possible():
        pytest.skip(f"team mode needs oneDNN ({onednn.status()}) and the C kernels with "
                    f"OpenMP ({native.status()})")
    lib, stacks = native.kernels(), []
    stack = lib.sj_gemm_stack
    monkeypatch.setattr(lib, "sj_gemm_stack", lambda *args: stacks.append(args[2:4]) or stack(
        *args))
    a0 = rng.standard_normal((8, 128, 96)).astype(np.float32)
    w0 = rng.standard_normal((96, 200)).astype(np.float32)
    b0 = rng.standard_normal((8, 96, 128)).astype(np.float32)  # 8 products of 1.5M each

    def run():
        a, w, b = (sj.tensor(v, requires_grad=True) for v in (a0, w0, b0))
        y = F.matmul(a, w)
        z = F.matmul(a, b)
        ((y * y).sum() + (z * z).sum()).backward()
        return [y.numpy(), z.numpy(), a.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    team = run()
    assert parallel.team_size == 2
    assert (b"N", b"N") in stacks and (b"N", b"T") in stacks and (b"T", b"N") in stacks
    with native.disabled():
        parallel._leave_team()
        ordinary = run()
    for got, expected in zip(team, ordinary, strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-3)


def test_independent_products_in_team_mode_run_one_per_thread(fresh_parallel, rng,
                                                              monkeypatch):
    """A layer's two gradients (input and kernel, transposed operands) go to oneDNN as one list,
    a product per thread of the team (native/gemm_stack.c), with NumPy's values and gradients;
    small products, float64 ones and a list longer than the team multiply in turn."""
    from shenjing.native import onednn

    if not parallel.team_possible():
        pytest.skip(f"team mode needs oneDNN ({onednn.status()}) and the C kernels with "
                    f"OpenMP ({native.status()})")
    lib, lists = native.kernels(), []
    listed = lib.sj_gemm_list
    monkeypatch.setattr(lib, "sj_gemm_list", lambda *args: lists.append(args[1]) or listed(
        *args))
    x0 = rng.standard_normal((200, 160)).astype(np.float32)
    w0 = rng.standard_normal((160, 96)).astype(np.float32)  # 3M multiply-adds a product
    b0 = rng.standard_normal(96).astype(np.float32)

    def run():
        x, w, b = (sj.tensor(v, requires_grad=True) for v in (x0, w0, b0))
        y = F.linear(x, w, b)
        (y * y).sum().backward()
        return [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    team = run()
    assert parallel.team_size == 2 and lists == [2]
    with native.disabled():
        parallel._leave_team()
        ordinary = run()
    for got, expected in zip(team, ordinary, strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-3)
    parallel._enter_team()
    a, b = x0[:, :128], np.ascontiguousarray(w0[:128].T)  # a strided, b read transposed
    products = [(a, b.T, None), (x0.T, x0[:, :96], np.empty((160, 96), np.float32))]
    got = parallel.gemms(*products)
    for (p, q, _), out in zip(products, got, strict=True):
        np.testing.assert_allclose(out, p @ q, rtol=2e-5, atol=1e-3)
    assert got[1] is products[1][2] and lists == [2, 2]
    small = [(x0[:8], w0, None), (x0[:8], w0, None)]
    wide = [(x0.astype(np.float64), w0, None), (x0, w0, None)]
    for products in (small, wide, [(x0, w0, None)] * 3):
        for (p, q, _), out in zip(products, parallel.gemms(*products), strict=True):
            np.testing.assert_allclose(out, p @ q, rtol=2e-5, atol=1e-3)
    assert lists == [2, 2]


def test_which_products_decide_team_mode(fresh_parallel):
    """Only a big float32 matrix product decides: not a dot product or a matrix-vector one,
    nor mixed dtypes, and not inside native.disabled(), nor with one thread (until the threads
    change)."""
    if not parallel.team_possible():
        pytest.skip("no team mode here (oneDNN, OpenMP or a second thread missing)")
    v = np.ones(4096, np.float32)
    m = np.ones((1024, 4096), np.float32)
    parallel.gemm(v, v)
    parallel.gemm(m, v)
    parallel.gemm(m, np.ones((4096, 8)))
    assert parallel.team_size == 0 and not parallel._team_tried
    with native.disabled():
        parallel.gemm(m, np.ones((4096, 8), np.float32))
    assert parallel.team_size == 0 and not parallel._team_tried
    parallel.set_threads(1)
    parallel.gemm(m, np.ones((4096, 8), np.float32))
    assert parallel.team_size == 0
    parallel.set_threads(2)
    parallel.gemm(m, np.ones((4096, 8), np.float32))
    assert parallel.team_size == 2


def test_team_mode_needs_threads_and_ends_when_ops_split(fresh_parallel, monkeypatch, kernels):
    monkeypatch.setattr(parallel, "_threads", 1)
    assert not parallel._enter_team() and parallel.team_size == 0
    monkeypatch.setattr(parallel, "_threads", 2)
    monkeypatch.setattr(parallel, "team_size", 2)  # as if entered
    monkeypatch.setattr(parallel, "_kernels", kernels)
    monkeypatch.setattr(parallel, "MIN_WORK", 1)
    parallel.over_batch(lambda a, b: None, 8, work=10**9)  # the first op that splits
    assert parallel.splitting() and parallel.team_size == 0


def test_the_first_float32_product_enters_team_mode_in_a_fresh_process():
    """In a new process with two threads: a float64 product leaves BLAS its threads; the first
    float32 one enters team mode (where it can), holding BLAS at one thread; a split op ends it."""
    code = """
import json, numpy as np
from threadpoolctl import threadpool_info
import shenjing as sj
from shenjing import parallel
sj.utils.set_num_threads(2)
blas = lambda: [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"][0]
a = np.ones((256, 256))
parallel.gemm(a, a)
seen = [parallel.team_size, blas()]
out = parallel.gemm(a.astype(np.float32), a.astype(np.float32))
seen += [parallel.team_size, blas(), float(out[0, 0]), parallel.team_possible()]
sj.layers.Conv2D(16, 3)(np.ones((64, 32, 32, 3), np.float32))
print(json.dumps(seen + [parallel.team_size, parallel.splitting()]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    team64, blas64, team32, blas32, value, possible, team_after, split = json.loads(done.stdout)
    assert (team64, blas64, value) == (0, 2, 256.0)
    if not possible:
        pytest.skip("no team mode here (oneDNN, OpenMP or a second thread missing)")
    assert (team32, blas32) == (2, 1)
    assert (team_after, split) == (0, True)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork here")
def test_a_forked_child_runs_on_one_thread_instead_of_hanging():
    """A child forked in team mode (or after the pool started) has none of the parent's
    threads: its team regions and split ops must not wait on them (they hung before). A child
    forked before any team decides for itself."""
    code = """
import os, numpy as np, shenjing as sj
from shenjing import parallel
sj.utils.set_num_threads(2)
a = np.ones((256, 256), np.float32)
x = np.ones(1 << 16, np.float32)

def in_child(job):
    pid = os.fork()
    if pid == 0:
        ok = job()
        os._exit(0 if ok else 3)
    return os.waitpid(pid, 0)[1]

first = in_child(lambda: parallel.gemm(a, a)[0, 0] == 256
                 and parallel.team_size == (2 if parallel.team_possible() else 0))
parallel.gemm(a, a)
parallel.arith(parallel.MUL, x, x)
print(parallel.team_size, first, in_child(
    lambda: parallel.arith(parallel.MUL, x, x)[0] == 1 and parallel.gemm(a, a)[0, 0] == 256
    and not parallel.team_size))
parallel.over_batch(lambda lo, hi: None, 8, work=1 << 40)  # splits: the pool starts
print(in_child(lambda: parallel.over_batch(lambda lo, hi: hi - lo, 8, work=1 << 40) == [4, 4]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    (team, before_team, in_team), (after_split,) = (
        line.split() for line in done.stdout.splitlines())
    assert (before_team, in_team, after_split) == ("0", "0", "0")  # the children's statuses
    if team != "2":
        pytest.skip("no team mode here: only the pool's part was tested")
