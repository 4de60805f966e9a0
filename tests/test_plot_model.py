"""keras.utils.plot_model drawn with matplotlib: the file in its format, the boxes' texts, one
arrow per edge of the graph (chains, DAGs with several inputs and outputs, op nodes, shared
layers, nested models), the rank direction, and matplotlib's state left alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import shenjing as keras
from shenjing import layers, ops

pytest.importorskip("matplotlib")
from matplotlib.patches import FancyArrowPatch  # noqa: E402


def _sequential():
    return keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu", name="d1"),
                             layers.Dropout(0.1, name="drop"), layers.Dense(2, name="d2")])


def _two_in_two_out():
    """8 edges: a->h, a->res, h->res (the residual add), b->proj, res->cat, proj->cat,
    res->o2, cat->o1."""
    a, b = keras.Input((8,), name="a"), keras.Input((4,), name="b")
    h = layers.Dense(8, activation="relu", name="h")(a)
    res = layers.Add(name="res")([a, h])
    cat = layers.Concatenate(name="cat")([res, layers.Dense(8, name="proj")(b)])
    return keras.Model([a, b], [layers.Dense(1, name="o1")(cat), layers.Dense(3, name="o2")(res)])


def _with_ops():
    """4 edges: x->dense, dense->add, x->add (the op x + ...), add->mean (ops.mean)."""
    x = keras.Input((6,), name="x")
    return keras.Model(x, ops.mean(layers.Dense(6, name="dense")(x) + x, axis=1))


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def _arrows(fig):
    return [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]


def _box(fig, name):
    """The (x0, y0, x1, y1) of the box whose first line is ``name``."""
    (patch,) = [p for p in fig.axes[0].patches if p.get_gid() == f"layer:{name}"]
    (x0, y0), (x1, y1) = patch.get_bbox().get_points()
    return x0, y0, x1, y1


@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"),
                                        ("pdf", b"%PDF"), ("jpg", b"\xff\xd8\xff")])
def test_plot_model_writes_the_format_its_extension_names(tmp_path, ext, magic):
    path = tmp_path / f"model.{ext}"
    fig = keras.utils.plot_model(_sequential(), to_file=str(path), show_shapes=True, dpi=50)
    data = path.read_bytes()
    assert data.startswith(magic) and fig.axes  # a Figure comes back (Keras: an IPython Image)
    if ext == "svg":
        assert b"<svg" in data
    assert [p.name for p in tmp_path.iterdir()] == [f"model.{ext}"]  # no temporary file left


def test_boxes_show_what_is_asked():
    model = _sequential()
    assert _texts(keras.utils.plot_model(model, to_file=None)) == ["Dense", "Dropout", "Dense"]
    texts = _texts(keras.utils.plot_model(
        model, to_file=None, show_shapes=True, show_dtype=True, show_layer_names=True,
        show_layer_activations=True, show_trainable=True))
    assert texts[:6] == ["d1 (Dense)", "Activation: relu", "Input shape: (None, 8)",
                         "Output shape: (None, 16)", "Output dtype: float32", "Trainable"]
    assert texts[6:10] == ["drop (Dropout)", "Input shape: (None, 16)",
                           "Output shape: (None, 16)", "Output dtype: float32"]  # no weights
    model.get_layer("d2").trainable = False
    texts = _texts(keras.utils.plot_model(model, to_file=None, show_trainable=True))
    assert texts[-2:] == ["Dense", "Non-trainable"]


def test_functional_boxes_show_inputs_several_shapes_and_op_names():
    texts = _texts(keras.utils.plot_model(_two_in_two_out(), to_file=None, show_shapes=True,
                                          show_layer_names=True))
    assert texts[:2] == ["a (InputLayer)", "Output shape: (None, 8)"]  # no input shape there
    i = texts.index("res (Add)")
    assert texts[i + 1:i + 3] == ["Input shape: [(None, 8), (None, 8)]",
                                  "Output shape: (None, 8)"]
    assert _texts(keras.utils.plot_model(_with_ops(), to_file=None)) == [
        "InputLayer", "Dense", "Add", "Mean"]  # Keras 3's operation names


@pytest.mark.parametrize("make, edges", [(_sequential, 2), (_two_in_two_out, 8), (_with_ops, 4)])
@pytest.mark.parametrize("splines", ["ortho", "line"])
def test_one_arrow_per_edge_of_the_graph(make, edges, splines):
    fig = keras.utils.plot_model(make(), to_file=None, splines=splines)
    assert len(_arrows(fig)) == edges


def test_boxes_do_not_overlap_and_ranks_follow_depth():
    fig = keras.utils.plot_model(_two_in_two_out(), to_file=None, show_shapes=True,
                                 show_layer_names=True)
    names = ["a (InputLayer)", "b (InputLayer)", "h (Dense)", "proj (Dense)", "res (Add)",
             "cat (Concatenate)", "o1 (Dense)", "o2 (Dense)"]
    boxes = {n: _box(fig, n) for n in names}
    for i, p in enumerate(names):
        for q in names[i + 1:]:
            a, b = boxes[p], boxes[q]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (p, q)
    top = {n: boxes[n][3] for n in names}  # TB: deeper is lower
    assert top["a (InputLayer)"] == top["b (InputLayer)"] > top["h (Dense)"] > top["res (Add)"] \
        > top["cat (Concatenate)"] > top["o1 (Dense)"]


def test_rankdir_lr_lays_the_ranks_left_to_right():
    model = _with_ops()
    tb = keras.utils.plot_model(model, to_file=None, show_layer_names=True)
    lr = keras.utils.plot_model(model, to_file=None, show_layer_names=True, rankdir="LR")
    x, d = _box(tb, "x (InputLayer)"), _box(tb, "dense (Dense)")
    assert x[1] > d[3] and x[0] < d[2] and d[0] < x[2]  # above, overlapping across
    x, d = _box(lr, "x (InputLayer)"), _box(lr, "dense (Dense)")
    assert x[2] < d[0]  # left of it
    w, h = tb.get_size_inches()
    w2, h2 = lr.get_size_inches()
    assert h > w and w2 > h2


def test_nested_model_is_one_box_unless_expanded():
    i = keras.Input((6,), name="i")
    shared = layers.Dense(6, name="shared")
    y = shared(i)
    inner = keras.Model(i, [ops.mean(shared(y) + i, axis=1), y], name="inner")
    j = keras.Input((6,), name="j")
    u, v = inner(j)
    outer = keras.Model(j, [u, layers.Dense(2, name="out")(v)], name="outer")

    fig = keras.utils.plot_model(outer, to_file=None, show_layer_names=True)
    assert _texts(fig) == ["j (InputLayer)", "inner (Functional)", "out (Dense)"]
    assert len(_arrows(fig)) == 2  # j -> inner -> out

    fig = keras.utils.plot_model(outer, to_file=None, show_layer_names=True, expand_nested=True)
    assert [p for p in fig.axes[0].patches if p.get_gid() == "cluster:inner"]
    assert "inner" in _texts(fig) and "shared (Dense)" in _texts(fig)
    # j->i, i->shared, shared->shared (its second call), shared->add, i->add, add->mean,
    # shared->out (inner's second output is the first call of shared)
    assert len(_arrows(fig)) == 7
    out, frame = _box(fig, "out (Dense)"), [p for p in fig.axes[0].patches
                                            if p.get_gid() == "cluster:inner"][0]
    (fx0, fy0), (fx1, fy1) = frame.get_bbox().get_points()
    assert out[2] <= fx0 or out[0] >= fx1 or out[3] <= fy0 or out[1] >= fy1  # outside it


def test_subclassed_model_is_one_box_and_unbuilt_models_are_refused():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.ones((1, 3), np.float32))
    fig = keras.utils.plot_model(net, to_file=None, show_layer_names=True)
    assert _texts(fig) == ["net (Net)"] and not _arrows(fig)
    with pytest.raises(ValueError, match="not been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]), to_file=None)


def test_bad_arguments_are_named():
    model = _sequential()
    with pytest.raises(ValueError, match="layer_range"):
        keras.utils.plot_model(model, to_file=None, layer_range=["d1", "d2"])
    with pytest.raises(ValueError, match="unrecognized keyword arguments: \\['colour'\\]"):
        keras.utils.plot_model(model, to_file=None, colour="red")
    with pytest.raises(ValueError, match="rankdir"):
        keras.utils.plot_model(model, to_file=None, rankdir="XY")
    with pytest.raises(ValueError, match="matplotlib writes"):
        keras.utils.plot_model(model, to_file="model.dot")


def test_missing_matplotlib_raises_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_model needs matplotlib: pip install "
                                          r"'shenjing\[plot\]'"):
        keras.utils.plot_model(_sequential(), to_file=None)


def test_import_is_lazy_and_pyplot_is_never_touched(tmp_path):
    code = f"""
import sys
import shenjing as keras
assert "matplotlib" not in sys.modules and "shenjing.model_visualization" not in sys.modules
import matplotlib
def settings():  # reading rcParams["backend"] would import pyplot itself
    return {{k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}}
before = settings()
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
keras.utils.plot_model(model, to_file={str(tmp_path / "m.png")!r}, show_shapes=True)
assert "matplotlib.pyplot" not in sys.modules
assert settings() == before
"""
    subprocess.run([sys.executable, "-c", code], check=True)
