"""shenjing.plot: the panels and lines each figure holds, derivatives that are the library's own
autograd's, atomic PNG files, and a clear ImportError without matplotlib."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import shenjing
from shenjing import plot

pytest.importorskip("matplotlib")  # the `plot` extra (in `test` too)

PNG = b"\x89PNG\r\n\x1a\n"
LOGS = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.6, 0.8, 0.9], "val_loss": [1.0, 0.6, 0.5],
        "val_accuracy": [0.5, 0.7, 0.8], "grad_norm/dense": [1.0, 0.5, 0.2]}
GRADS = {"loss": [0.7, 0.4],
         "grad_norm/conv": [1e-3, 2e-3], "grad_norm/dense": [0.1, 0.2], "grad_norm/out": [1.0, 0.0],
         "grad_ratio/conv": [0.01, 0.02], "dead/conv": [0.1, 0.2], "saturated/out": [0.3, 0.5]}


def _lines(ax):
    return [(line.get_xdata(), line.get_ydata()) for line in ax.get_lines()]


def _curves(ax):
    """The (x, f(x)) and (x, f'(x)) lines of an activation panel."""
    lines = {line.get_label(): (line.get_xdata(), line.get_ydata()) for line in ax.get_lines()}
    return lines["f(x)"], lines["f'(x) (autograd)"]


def test_learning_curves_one_panel_per_metric_without_diagnostics():
    fig = plot.learning_curves(LOGS)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, key in zip(fig.axes, ("loss", "accuracy")):
        (x, y), (vx, vy) = _lines(ax)
        assert list(x) == list(vx) == [1, 2, 3]
        assert list(y) == LOGS[key] and list(vy) == LOGS["val_" + key]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]


def test_learning_curves_take_a_history_and_wrap_many_metrics():
    history = shenjing.callbacks.History()
    for epoch in range(2):
        history.on_epoch_end(epoch, {k: 0.5 for k in ("loss", "a", "b", "c", "val_d")})
    fig = plot.learning_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "a", "b", "c", "d"]  # 2 rows of 3
    assert len(fig.axes[-1].get_lines()) == 1  # validation only
    with pytest.raises(ValueError, match="no per-epoch metrics"):
        plot.learning_curves({"grad_norm/dense": [1.0]})


def test_gradient_flow_one_line_per_epoch_over_the_layers():
    fig = plot.gradient_flow(GRADS)
    left, right = fig.axes
    assert left.get_yscale() == "log"
    assert [t.get_text() for t in left.get_xticklabels()] == ["conv", "dense", "out"]
    lines = _lines(left)
    assert len(lines) == 2 and all(len(y) == 3 for _, y in lines)
    np.testing.assert_array_equal(lines[0][1], [1e-3, 0.1, 1.0])
    np.testing.assert_array_equal(lines[1][1], [2e-3, 0.2, np.nan])  # zero masked for log scale
    assert [t.get_text() for t in right.get_xticklabels()] == ["conv", "out"]
    heights = {c.get_label(): [p.get_height() for p in c] for c in right.containers}
    assert heights == {"saturated units": [0.5], "dead units": [0.2]}  # the last epoch


def test_gradient_flow_without_fractions_has_one_panel_and_survives_bad_norms():
    fig = plot.gradient_flow({"grad_norm/a": [0.0, np.inf], "grad_norm/b": [np.nan, 0.0]})
    assert len(fig.axes) == 1
    fig.savefig(io.BytesIO(), format="png")  # drawing an all-masked log axis


def test_gradient_flow_says_what_is_missing():
    with pytest.raises(ValueError, match=r"grad_norm/.*GradientMonitor\(\)"):
        plot.gradient_flow({"loss": [1.0], "dead/dense": [0.5]})


@pytest.mark.parametrize("name, derivative", [
    ("sigmoid", lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s)),
    ("tanh", lambda x: 1 - np.tanh(x) ** 2),
    ("relu", lambda x: (x > 0).astype(float)),  # relu'(0) = 0, as torch
])
def test_activation_derivatives_are_the_analytic_ones(name, derivative):
    fig = plot.activation_functions([name])
    (ax,) = fig.axes
    assert ax.get_title() == name
    (x, _), (dx, dy) = _curves(ax)
    np.testing.assert_allclose(dy, derivative(dx), atol=1e-6)
    assert x[0] == -6 and x[-1] == 6


def test_activation_functions_mark_sigmoids_maximum_derivative():
    fig = plot.activation_functions(x_range=(-4, 4))
    assert [ax.get_title() for ax in fig.axes] == ["sigmoid", "tanh", "relu"]
    _, (x, dy) = _curves(fig.axes[0])
    assert dy.max() == pytest.approx(0.25) and x[np.argmax(dy)] == pytest.approx(0, abs=1e-2)
    (note,) = fig.axes[0].texts
    assert "0.25" in note.get_text() and note.xy == pytest.approx((0, 0.25), abs=1e-2)
    assert not fig.axes[1].texts


def test_activation_functions_take_any_registered_name_but_softmax():
    fig = plot.activation_functions(["leaky_relu", "elu", "gelu", "swish"])
    _, (x, dy) = _curves(fig.axes[0])
    np.testing.assert_allclose(dy, np.where(x > 0, 1.0, 0.2), atol=1e-6)  # Keras's slope 0.2
    with pytest.raises(ValueError, match="not element-wise"):
        plot.activation_functions(["softmax"])
    with pytest.raises(ValueError, match="nothing to plot"):
        plot.activation_functions([])


@pytest.mark.parametrize("draw, history", [
    (plot.learning_curves, LOGS), (plot.gradient_flow, GRADS),
    (plot.activation_functions, None),
])
def test_path_writes_a_png_atomically(tmp_path, draw, history):
    path = tmp_path / "new" / "folder" / "fig.png"
    args = () if history is None else (history,)
    fig = draw(*args, path=path)
    assert path.read_bytes()[:8] == PNG and fig is not None
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]  # no temporary file left


def test_missing_matplotlib_raises_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib... -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    message = r"shenjing.plot needs matplotlib: pip install 'shenjing\[plot\]'"
    for draw, args in ((plot.learning_curves, (LOGS,)), (plot.gradient_flow, (GRADS,)),
                       (plot.activation_functions, ())):
        with pytest.raises(ImportError, match=message):
            draw(*args)


def test_plot_is_public_and_lazy():
    assert "plot" in shenjing.__all__ and shenjing.plot is plot


def test_lines_draws_each_series_and_masks_log_scale():
    fig = plot.lines([
        {"title": "loss", "xlabel": "epoch", "series": {"sgd": ([1, 2, 3], [3.0, 2.0, 1.0]),
                                                          "adam": ([1, 2, 3], [2.0, 1.0, 0.5])}},
        {"title": "grad", "logy": True, "series": {"first": ([0, 1], [0.0, 1e-9])}},
    ])
    a, b = fig.axes
    assert a.get_title() == "loss" and [ln.get_label() for ln in a.get_lines()] == ["sgd", "adam"]
    assert list(a.get_lines()[1].get_ydata()) == [2.0, 1.0, 0.5]
    assert b.get_yscale() == "log"
    y = b.get_lines()[0].get_ydata()
    assert np.isnan(y[0]) and y[1] == 1e-9
    with pytest.raises(ValueError, match="at least one panel"):
        plot.lines([])


def test_learning_curves_put_sparse_validation_at_its_epochs():
    # fit(validation_freq=2) validates after epochs 2 and 4: the points go there, not at 1 and 2
    x = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    model = shenjing.Sequential([shenjing.Input((2,)), shenjing.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, x[:, :1], epochs=5, validation_data=(x, x[:, :1]),
                        validation_freq=2, verbose=0)
    assert history.epochs_of["val_loss"] == [1, 3]
    lines = {ln.get_label(): ln for ln in plot.learning_curves(history).axes[0].get_lines()}
    np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(lines["validation"].get_xdata(), [2, 4])
    # from a plain dict, every k-th epoch
    logs = {"loss": [5, 4, 3, 2], "val_loss": [4.5, 2.5]}
    line = plot.learning_curves(logs).axes[0].get_lines()[1]
    np.testing.assert_array_equal(line.get_xdata(), [2, 4])
