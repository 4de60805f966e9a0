"""Plots of a training run and of what the library computes: learning curves, the gradient flow
through the layers, and activation functions with their derivatives.

matplotlib (the ``plot`` extra) is imported on the first call, never by ``import shenjing``.
Figures use matplotlib's object API (no pyplot, no global backend), so nothing here changes the
caller's matplotlib state; a returned ``Figure`` shows itself in Jupyter, and ``path=`` writes it.

>>> history = model.fit(x, y, validation_split=0.1, epochs=20)  # doctest: +SKIP
>>> shenjing.plot.learning_curves(history, "curves.png")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .callbacks import History

NEEDS_MATPLOTLIB = "{} needs matplotlib: pip install 'shenjing[plot]'"
# Element-wise activations only: softmax couples its inputs, and the gradient of its sum is 0.
_NOT_ELEMENTWISE = ("softmax", "log_softmax")


def _panels(count: int, width: float, height: float, columns: int = 3) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels of ``width`` x ``height`` inches, in rows of ``columns``."""
    if count < 1:
        raise ValueError("nothing to plot: give at least one item")
    cols = min(count, columns)
    rows = -(-count // cols)
    fig = new_figure("shenjing.plot", figsize=(width * cols, height * rows), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax in axes[count:]:  # the unused end of the last row
        ax.remove()
    return fig, axes[:count]


def new_figure(user: str, **kwargs: Any) -> Figure:
    """A matplotlib ``Figure(**kwargs)`` outside pyplot; without matplotlib, an ImportError
    saying that ``user`` needs the ``plot`` extra."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(NEEDS_MATPLOTLIB.format(user)) from e
    return Figure(**kwargs)


def save(fig: Figure, path: str | os.PathLike[str] | None, format: str = "png",
         dpi: float = 100) -> Figure:
    """Write ``fig`` to ``path`` (if given) atomically, a reader never seeing half a file, in
    ``format`` (png, svg, pdf, jpg: what matplotlib writes). Returns ``fig``."""
    if path is not None:
        from .io.saving import atomic_write

        buf = io.BytesIO()
        fig.savefig(buf, format=format, dpi=dpi)
        atomic_write(os.fspath(path), buf.getvalue())
    return fig


def _logs(history: History | Mapping[str, Sequence[float]]) -> dict[str, Sequence[float]]:
    """The ``{key: per-epoch values}`` of a History, or of such a dict."""
    return dict(getattr(history, "history", history))


def _epochs(history: Any, key: str, logs: Mapping[str, Sequence[float]]) -> list[int]:
    """The (1-based) epochs of ``logs[key]``: as a History recorded them, else every epoch, or
    for validation every k-th (``validation_freq=k``) when it holds fewer entries."""
    recorded = getattr(history, "epochs_of", {}).get(key)
    if recorded is not None:
        return [e + 1 for e in recorded]
    n, n_train = len(logs[key]), len(logs.get(key.removeprefix("val_"), logs[key]))
    every = max(n_train // n, 1)
    return [every * (i + 1) for i in range(n)]


def _per_layer(logs: Mapping[str, Sequence[float]], kind: str) -> dict[str, Sequence[float]]:
    """``{layer name: values}`` of the ``"<kind>/<layer name>"`` keys, in the history's order."""
    prefix = kind + "/"
    return {k[len(prefix):]: v for k, v in logs.items() if k.startswith(prefix)}


def learning_curves(history: History | Mapping[str, Sequence[float]],
                    path: str | os.PathLike[str] | None = None) -> Figure:
    """One panel per metric (loss, accuracy, ...), train and validation curves per epoch.

    Keys holding a ``/`` (``GradientMonitor``'s per-layer diagnostics) are left to
    ``gradient_flow``.

    Args:
        history: what ``Model.fit`` returns, or its ``.history`` dict of per-epoch values.
        path: where to write the figure as PNG (parent folders are created); None writes nothing.

    Returns:
        The matplotlib ``Figure``.
    """
    logs = {k: v for k, v in _logs(history).items() if "/" not in k and len(v)}
    metrics = list(dict.fromkeys(k.removeprefix("val_") for k in logs))
    if not metrics:
        raise ValueError("the history holds no per-epoch metrics to plot (keys such as 'loss')")
    fig, axes = _panels(len(metrics), width=5, height=4)
    from matplotlib.ticker import MaxNLocator

    for ax, metric in zip(axes, metrics):
        for key, style, label in ((metric, "-o", "train"), ("val_" + metric, "--s", "validation")):
            if key in logs:
                ax.plot(_epochs(history, key, logs), logs[key], style, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return save(fig, path)


def lines(panels: Sequence[Mapping[str, Any]], path: str | os.PathLike[str] | None = None,
          columns: int = 3) -> Figure:
    """Curves to compare, one panel each: what the labs draw (loss against epochs and seconds,
    first- against last-layer gradients, ...).

    Args:
        panels: each a dict with ``"series"``: ``{label: (xs, ys)}``, and optionally
            ``"title"``, ``"xlabel"``, ``"ylabel"``, ``"logy"`` (log scale; values <= 0 or
            non-finite are left out) and ``"logx"``.
        path: where to write the figure as PNG; None writes nothing.
        columns: panels per row.

    Returns:
        The matplotlib ``Figure``.
    """
    if not panels:
        raise ValueError("lines() needs at least one panel")
    fig, axes = _panels(len(panels), width=5, height=3.6, columns=columns)
    for ax, panel in zip(axes, panels):
        for label, (xs, ys) in panel["series"].items():
            ys = np.asarray(ys, dtype=float)
            if panel.get("logy"):
                ys = np.where(np.isfinite(ys) & (ys > 0), ys, np.nan)
            ax.plot(np.asarray(xs, dtype=float), ys, label=str(label))
        if panel.get("logy"):
            ax.set_yscale("log")
        if panel.get("logx"):
            ax.set_xscale("log")
        ax.set_title(panel.get("title", ""))
        ax.set_xlabel(panel.get("xlabel", ""))
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return save(fig, path)


def gradient_flow(history: History | Mapping[str, Sequence[float]],
                  path: str | os.PathLike[str] | None = None) -> Figure:
    """Where gradients vanish or explode: the gradient norm of each layer, one line per epoch,
    and the fractions of saturated (sigmoid, tanh) and dead (ReLU) units in the last epoch.

    Reads the ``grad_norm/<layer>``, ``saturated/<layer>`` and ``dead/<layer>`` keys that
    ``shenjing.callbacks.GradientMonitor`` records, layers in the history's order (input first).
    Zero and non-finite norms are left out of the log-scale panel rather than failing it.

    Args:
        history: what ``Model.fit`` returns, or its ``.history`` dict of per-epoch values.
        path: where to write the figure as PNG (parent folders are created); None writes nothing.

    Returns:
        The matplotlib ``Figure``: one panel, or two when saturated/dead fractions were recorded.
    """
    logs = _logs(history)
    norms = _per_layer(logs, "grad_norm")
    if not norms:
        raise ValueError("the history holds no 'grad_norm/<layer>' keys: train with "
                         "callbacks=[shenjing.callbacks.GradientMonitor()]")
    fractions = {kind: per_layer for kind in ("saturated", "dead")
                 if (per_layer := _per_layer(logs, kind))}
    units = list(dict.fromkeys(k.partition("/")[2] for k in logs  # in the history's order
                               if k.partition("/")[0] in fractions))
    layers = max(len(norms), len(units))
    fig, axes = _panels(2 if units else 1, width=max(6, 0.4 * layers), height=4.5, columns=2)
    from matplotlib import colormaps

    epochs = max(len(v) for v in norms.values())
    grid = np.full((len(norms), epochs), np.nan)
    for i, values in enumerate(norms.values()):
        grid[i, :len(values)] = values
    grid[~(np.isfinite(grid) & (grid > 0))] = np.nan  # a gap in the line, not a log(0) failure
    ax, colors = axes[0], colormaps["viridis_r"]  # light (first epoch) to dark (last)
    for e in range(epochs):
        label = f"epoch {e + 1}" if e in (0, epochs - 1) else None  # the legend's two ends
        ax.plot(grid[:, e], "-o", markersize=3, linewidth=1.2 if label else 0.8,
                color=colors(0.15 + 0.85 * e / max(epochs - 1, 1)), label=label)
    ax.set_yscale("log")
    _layer_axis(ax, list(norms), "gradient norm", "gradient norm per layer")
    ax.legend()

    if units:
        ax, width = axes[1], 0.8 / len(fractions)  # the kinds side by side within a layer
        for k, (kind, per_layer) in enumerate(fractions.items()):
            xs = [i for i, name in enumerate(units) if len(per_layer.get(name, ()))]
            ax.bar(np.add(xs, width * (k - (len(fractions) - 1) / 2)),
                   [per_layer[units[i]][-1] for i in xs], width=width, label=f"{kind} units")
        ax.set_ylim(0, 1)
        _layer_axis(ax, units, "fraction of the layer's units",
                    f"{' and '.join(fractions)} units, last epoch")
        ax.legend()
    return save(fig, path)


def _layer_axis(ax: Axes, names: list[str], ylabel: str, title: str) -> None:
    """Layer names as slanted x tick labels (readable with 20 layers), the labels and a grid."""
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel("layer (input side first)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)


def activation_functions(names: Sequence[str | Callable[[Any], Any]] = ("sigmoid", "tanh", "relu"),
                         path: str | os.PathLike[str] | None = None,
                         x_range: tuple[float, float] = (-6, 6)) -> Figure:
    """Each activation and its derivative, the derivative taken by shenjing's own autograd, so
    the figure shows what training computes (sigmoid's is at most 0.25, which is marked: each
    sigmoid layer shrinks the gradient at least fourfold).

    Args:
        names: names ``shenjing.activations.get`` accepts ("leaky_relu", "elu", "gelu", ...) or
            element-wise callables of a Tensor.
        path: where to write the figure as PNG (parent folders are created); None writes nothing.
        x_range: the interval of x shown.

    Returns:
        The matplotlib ``Figure``, one panel per activation.
    """
    from . import activations, functional, tensor

    for name in names:
        if isinstance(name, str) and name.lower() in _NOT_ELEMENTWISE:
            raise ValueError(f"{name!r} is not element-wise: its derivative is not a curve")
    fig, axes = _panels(len(names), width=4, height=3.2)
    x = np.linspace(*x_range, 1201)
    for ax, name in zip(axes, names):
        fn = activations.get(name)
        t = tensor(x, requires_grad=True)
        y = fn(t)
        y.sum().backward()  # d(sum f(x_i))/dx_i = f'(x_i): the element-wise derivative
        dy = t.grad.numpy()
        ax.plot(x, y.numpy(), label="f(x)")
        ax.plot(x, dy, "--", label="f'(x) (autograd)")
        if fn is functional.sigmoid:
            i = int(np.argmax(dy))
            ax.annotate(f"max f' = {dy[i]:.2f}", xy=(x[i], dy[i]), xytext=(x[i] + 1, 0.5),
                        arrowprops={"arrowstyle": "->"})
        ax.axhline(0, color="0.5", linewidth=0.6)
        ax.set_xlabel("x")
        ax.set_title(name if isinstance(name, str) else getattr(name, "__name__", repr(name)))
        ax.grid(alpha=0.3)
        ax.legend()
    return save(fig, path)
