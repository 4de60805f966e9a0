"""``keras.utils.plot_model`` drawn with matplotlib alone, where Keras needs pydot and graphviz:
one box per layer, an arrow per edge of the graph, boxes in ranks by depth.

The layout is a small Sugiyama: a box's rank is its longest path from an input; an edge that
spans several ranks passes through a slot of its own in each rank between, so it never crosses a
box; within a rank, boxes and slots are ordered by their neighbours' mean positions, then placed
as near those as the spacing allows (a chain stays straight). All sizes are in points (text
widths measured by ``TextPath``), so the figure is exact at any dpi. The layers, shapes and
edges come from ``models/summary.layer_entries``, the walk that ``model.summary()`` prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models.summary import _shape, _type_name, layer_entries
from .plot import new_figure, save

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_FONT = 10.0  # points
_LINE = 1.5 * _FONT  # height of a text line
_PAD = 7.0  # inside a box, around its text
_SEP = 18.0  # between neighbours in a rank
_GAP = 36.0  # between ranks (cluster labels sit there)
_SLOT = 6.0  # the width an edge takes where it passes a rank
_MARGIN = 12.0
_HEAD, _BODY = "#263238", "white"
_TEXT_COLORS = {"head": "white", "body": "black", "Trainable": "forestgreen",
                "Non-trainable": "firebrick"}


@dataclass
class _Node:
    """A box (``lines`` set) or an edge's passage through a rank (``lines`` None)."""

    key: Any
    lines: list[tuple[str, str]] | None = None  # (text, style)
    cluster: tuple[str, ...] = ()  # the nested models holding it, outermost first
    width: float = _SLOT
    height: float = _SLOT
    rank: int = 0
    index: int = 0  # first-seen order: which edges go forward
    pos: float = 0.0  # place in the rank's order
    cross: float = 0.0  # centre across the rank (x for "TB")


def plot_model(model: Any, to_file: str | os.PathLike[str] | None = "model.png",
               show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False,
               dpi: float = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, splines: str = "ortho", **kwargs: Any) -> Figure:
    """Draw the model's layer graph and write it to ``to_file`` (Keras 3's arguments).

    A Sequential is a chain of its layers; a functional model shows its InputLayers, layers and
    ops (``x + y``, ``ops.mean``: Keras's operation names, 'Add', 'Mean') with an arrow per
    edge; a subclassed model is one box. A nested model is one box unless ``expand_nested``,
    which draws its layers inside a dashed frame named after it.

    Args:
        model: a built model.
        to_file: the file to write, in the format its extension names (png, svg, pdf, jpg; png
            without one); None writes nothing.
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable: what
            each box shows besides the layer's class: its first call's input and output shapes,
            output dtype, name, activation (for layers that have one), and whether its weights
            train (for layers that have some).
        rankdir: "TB" (top to bottom), "LR" (left to right), "BT" or "RL".
        expand_nested: draw nested functional and Sequential models layer by layer.
        dpi: the resolution of raster files (the figure's own sizes are in points).
        splines: "ortho" draws edges with right angles; any other value (Keras's "line",
            "polyline", "curved", "spline") straight segments.

    Returns:
        The matplotlib ``Figure`` (Keras returns an IPython ``Image``; a Figure shows itself in
        Jupyter just the same). matplotlib's object API only: pyplot's state is untouched.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("the argument layer_range is no longer supported (as in Keras 3)")
    if kwargs:
        raise ValueError(f"unrecognized keyword arguments: {sorted(kwargs)}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if not model.built:
        raise ValueError(f"the model {model.name!r} has not been built yet: build it by calling "
                         "it on data, by fit, or by giving its first layer an input shape")
    fig = new_figure("plot_model", dpi=dpi)
    show = {"show_shapes": show_shapes, "show_dtype": show_dtype,
            "show_layer_names": show_layer_names, "show_layer_activations":
            show_layer_activations, "show_trainable": show_trainable}
    nodes: dict[int, _Node] = {}
    edges: dict[tuple[int, int], None] = {}  # ordered, one per (source, destination)
    clusters: list[tuple[str, ...]] = []
    if getattr(model, "graph", None) is None and not _is_sequential(model):
        nodes[id(model)] = _box(model, show, ())  # subclassed: one box, as Keras
    else:
        _collect(model, expand_nested, show, (), nodes, edges, clusters)
    _draw(fig, list(nodes.values()), [(nodes[a], nodes[b]) for a, b in edges], clusters,
          rankdir, splines == "ortho")
    if to_file is not None:
        fmt = os.path.splitext(os.fspath(to_file))[1][1:].lower() or "png"
        formats = fig.canvas.get_supported_filetypes()
        if fmt not in formats:
            raise ValueError(f"cannot write {os.fspath(to_file)!r}: matplotlib writes "
                             f"{', '.join(sorted(formats))}")
        save(fig, to_file, format=fmt, dpi=dpi)
    return fig


def _is_sequential(layer: Any) -> bool:
    from .models.sequential import Sequential

    return isinstance(layer, Sequential)


def _expandable(layer: Any) -> bool:
    """A nested functional or built Sequential model (Keras expands these two only)."""
    return getattr(layer, "graph", None) is not None or _is_sequential(layer) and layer.built


def _producer(t: Any) -> tuple[Any, int]:
    if t.mask_of is not None:  # a symbolic mask comes from the call that made its tensor
        return _producer(t.mask_of)
    if t.input_layer is not None:
        return t.input_layer, 0
    return (t.source.layer, t.index) if t.source is not None else (t.layer, 0)


def _exit(layer: Any, output: int) -> Any:
    """The box an edge leaves from: inside expanded models, the layer making that output."""
    while _expandable(layer):
        layer, output = _producer(layer.outputs[output])
    return layer


def _entrance(layer: Any, position: int) -> Any:
    """The box an edge enters: a nested functional model's InputLayer, a Sequential's first
    layer (Keras's choice)."""
    while _expandable(layer):
        if _is_sequential(layer):
            layer = layer.layers[0]
        elif position < len(layer.inputs) and layer.inputs[position].input_layer is not None:
            layer, position = layer.inputs[position].input_layer, 0
        else:
            break
    return layer


def _collect(model: Any, expand: bool, show: dict[str, bool], cluster: tuple[str, ...],
             nodes: dict[int, _Node], edges: dict[tuple[int, int], None],
             clusters: list[tuple[str, ...]]) -> None:
    entries = layer_entries(model)
    for entry in entries:
        if expand and _expandable(entry.layer):
            inner = (*cluster, entry.layer.name)
            clusters.append(inner)
            _collect(entry.layer, expand, show, inner, nodes, edges, clusters)
        elif id(entry.layer) not in nodes:
            nodes[id(entry.layer)] = _box(entry.layer, show, cluster, entry)
    for entry in entries:
        for source, output, position in entry.inbound:
            a = _exit(source, output) if expand else source
            b = _entrance(entry.layer, position) if expand else entry.layer
            if id(a) in nodes and id(b) in nodes:
                edges[id(a), id(b)] = None


def _class_name(layer: Any) -> str:
    op = getattr(layer, "op", None) if getattr(layer, "_keras_operation", False) else None
    if op is not None:  # Keras 3's operation classes: Add, Mean, GetItem
        return "GetItem" if op == "getitem" else op.title().replace("_", "")
    return _type_name(layer)


def _box(layer: Any, show: dict[str, bool], cluster: tuple[str, ...], entry: Any = None
         ) -> _Node:
    """A layer's box: Keras's label lines, as asked."""
    kind = _class_name(layer)
    lines = [(f"{layer.name} ({kind})" if show["show_layer_names"] else kind, "head")]
    activation = getattr(layer, "activation", None)
    if show["show_layer_activations"] and activation is not None:
        from .activations import name_of

        label = name_of(activation) or getattr(activation, "__name__", str(activation))
        lines.append((f"Activation: {label}", "body"))
    if show["show_shapes"]:
        shapes = (entry.input_shape, entry.output_shape) if entry is not None else (None, None)
        if kind != "InputLayer":
            lines.append((f"Input shape: {_shape(shapes[0])}", "body"))
        lines.append((f"Output shape: {_shape(shapes[1])}", "body"))
    if show["show_dtype"]:
        lines.append((f"Output dtype: {_dtype(layer)}", "body"))
    if show["show_trainable"] and layer.weights:
        label = "Trainable" if layer.trainable else "Non-trainable"
        lines.append((label, label))
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    fonts = {bold: FontProperties(size=_FONT, weight="bold" if bold else "normal")
             for bold in (False, True)}
    width = max(TextPath((0, 0), text, prop=fonts[style != "body"]).get_extents().width
                for text, style in lines)
    return _Node(id(layer), lines, cluster, width + 2 * _PAD, len(lines) * _LINE + 2 * _PAD)


def _dtype(layer: Any) -> str:
    """The dtype of the layer's first output (Keras's ``layer.output.dtype``), '?' if unknown."""
    try:
        out = layer.output
    except (AttributeError, ValueError):
        return "?"
    return ", ".join(t.dtype.name for t in out) if isinstance(out, list) else out.dtype.name


def _draw(fig: Figure, boxes: list[_Node], edges: list[tuple[_Node, _Node]],
          clusters: list[tuple[str, ...]], rankdir: str, ortho: bool) -> None:
    vertical = rankdir in ("TB", "BT")
    ranks, routes, back = _layout(boxes, edges, vertical)
    deepest = max((len(n.cluster) for n in boxes), default=0)
    _clear_frames(ranks, clusters, deepest, vertical)
    # (along, across) -> (x, y) in points, y up; then shifted to start at the margin
    sign = -1 if rankdir in ("TB", "RL") else 1

    def xy(along: float, across: float) -> tuple[float, float]:
        return (across, sign * along) if vertical else (sign * along, -across)

    def extent(n: _Node) -> tuple[float, float]:  # (along, across) sizes
        return (n.height, n.width) if vertical else (n.width, n.height)

    starts, thick = [], []
    for rank in ranks:
        starts.append(starts[-1] + thick[-1] + _GAP if starts else 0.0)
        thick.append(max([extent(n)[0] for n in rank if n.lines] or [_SLOT]))
    centre = [s + t / 2 for s, t in zip(starts, thick)]
    rects = {id(n): _rect(xy(centre[n.rank], n.cross), n.width, n.height)
             for n in boxes}  # (x0, y0, x1, y1)
    paths = []
    for path in routes:
        head, tail = path[0], path[-1]
        points = [(centre[head.rank] + extent(head)[0] / 2, head.cross)]
        for prev, node in zip(path, path[1:]):
            if ortho:
                gap = starts[node.rank] - _GAP / 2
                points += [(gap, prev.cross), (gap, node.cross)]
            elif node is not tail:
                points.append((centre[node.rank], node.cross))
        points.append((centre[tail.rank] - extent(tail)[0] / 2, tail.cross))
        paths.append([xy(*p) for p in points])
    # everything drawn, in points; frames around expanded models
    frames = []
    for cluster in clusters:
        inside = [rects[id(n)] for n in boxes if n.cluster[:len(cluster)] == cluster]
        if inside:
            pad = _frame_pad(cluster, deepest)
            frames.append((cluster[-1], min(r[0] for r in inside) - pad,
                           min(r[1] for r in inside) - pad, max(r[2] for r in inside) + pad,
                           max(r[3] for r in inside) + pad))
    xs = [v for r in rects.values() for v in (r[0], r[2])] + \
        [p[0] for ps in paths for p in ps] + [v for f in frames for v in (f[1], f[3])] + \
        [rects[id(a)][2] + 0.5 * abs(centre[a.rank] - centre[b.rank]) + 20 for a, b in back]
    ys = [v for r in rects.values() for v in (r[1], r[3])] + \
        [p[1] for ps in paths for p in ps] + [v for f in frames for v in (f[2], f[4] + _LINE)]
    x0, y0 = min(xs) - _MARGIN, min(ys) - _MARGIN
    width, height = max(xs) + _MARGIN - x0, max(ys) + _MARGIN - y0
    fig.set_size_inches(width / 72, height / 72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x0 + width)
    ax.set_ylim(y0, y0 + height)
    ax.set_axis_off()
    _paint(ax, boxes, rects, paths, back, frames)


def _frame_pad(cluster: tuple[str, ...], deepest: int) -> float:
    return 8.0 + 5.0 * (deepest - len(cluster))  # outer frames around inner ones


def _clear_frames(ranks: list[list[_Node]], clusters: list[tuple[str, ...]], deepest: int,
                  vertical: bool) -> None:
    """Push the boxes that are not in an expanded model out of its frame, with their
    neighbours on that side (members of a model stand together in each rank)."""
    def size(n: _Node) -> float:
        return n.width if vertical else n.height

    for cluster in sorted(clusters, key=len, reverse=True):
        def inside(n: _Node, cluster: tuple[str, ...] = cluster) -> bool:
            return n.cluster[:len(cluster)] == cluster

        members = [n for rank in ranks for n in rank if inside(n)]
        if not members:
            continue
        margin = _frame_pad(cluster, deepest) + _SEP
        lo = min(n.cross - size(n) / 2 for n in members) - margin
        hi = max(n.cross + size(n) / 2 for n in members) + margin
        for rank in ranks[min(n.rank for n in members):max(n.rank for n in members) + 1]:
            at = [i for i, n in enumerate(rank) if inside(n)]
            for i, n in enumerate(rank):
                if not n.lines or inside(n) or n.cross + size(n) / 2 <= lo \
                        or n.cross - size(n) / 2 >= hi:
                    continue
                if at[-1] < i if at else n.cross > (lo + hi) / 2:  # push right
                    n.cross = hi + size(n) / 2
                    for p, q in zip(rank[i:], rank[i + 1:]):
                        q.cross = max(q.cross, p.cross + (size(p) + size(q)) / 2 + _SEP)
                else:
                    n.cross = lo - size(n) / 2
                    for p, q in zip(rank[i::-1], rank[i - 1::-1] if i else []):
                        q.cross = min(q.cross, p.cross - (size(p) + size(q)) / 2 - _SEP)


def _rect(centre: tuple[float, float], w: float, h: float) -> tuple[float, float, float, float]:
    return centre[0] - w / 2, centre[1] - h / 2, centre[0] + w / 2, centre[1] + h / 2


def _paint(ax: Any, boxes: list[_Node], rects: dict[int, tuple[float, ...]],
           paths: list[list[tuple[float, float]]], back: list[tuple[_Node, _Node]],
           frames: list[tuple[Any, ...]]) -> None:
    from matplotlib.patches import FancyArrowPatch, Rectangle
    from matplotlib.path import Path

    for name, fx0, fy0, fx1, fy1 in frames:
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, fill=False, linestyle="--",
                               edgecolor="0.45", linewidth=1, gid=f"cluster:{name}"))
        ax.text(fx0, fy1 + 3, name, fontsize=_FONT - 1, color="0.3", ha="left", va="bottom")
    arrow = {"arrowstyle": "-|>", "mutation_scale": 10, "color": "0.2", "linewidth": 1.2,
             "shrinkA": 0, "shrinkB": 0}
    for points in paths:
        codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
        ax.add_patch(FancyArrowPatch(path=Path(points, codes), **arrow))
    for a, b in back:  # a shared layer fed by a later one: a curve beside the ranks
        ra, rb = rects[id(a)], rects[id(b)]
        ax.add_patch(FancyArrowPatch((ra[2], ra[1] + 0.3 * (ra[3] - ra[1])),
                                     (rb[2], rb[1] + 0.7 * (rb[3] - rb[1])),
                                     connectionstyle="arc3,rad=0.8", **arrow))
    for n in boxes:
        x0, y0, x1, y1 = rects[id(n)]
        head = _LINE + _PAD
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=_BODY, edgecolor=_HEAD,
                               linewidth=1.2, gid=f"layer:{n.lines[0][0]}"))
        ax.add_patch(Rectangle((x0, y1 - head - (_PAD if len(n.lines) == 1 else 0)), x1 - x0,
                               head + (_PAD if len(n.lines) == 1 else 0), facecolor=_HEAD,
                               edgecolor=_HEAD, linewidth=1.2))
        for i, (text, style) in enumerate(n.lines):
            y = y1 - _PAD - (i + 0.5) * _LINE - (_PAD / 2 if i else 0)
            ax.text((x0 + x1) / 2, y, text, ha="center", va="center", fontsize=_FONT,
                    color=_TEXT_COLORS[style], weight="normal" if style == "body" else "bold")


def _layout(boxes: list[_Node], edges: list[tuple[_Node, _Node]], vertical: bool
            ) -> tuple[list[list[_Node]], list[list[_Node]], list[tuple[_Node, _Node]]]:
    """Rank the boxes, route long edges through slots, order and place each rank. Returns the
    ranks, each forward edge's nodes (box, slots..., box), and the backward edges."""
    for i, n in enumerate(boxes):
        n.index = i
    forward = [(a, b) for a, b in edges if a.index < b.index]
    back = [(a, b) for a, b in edges if a.index >= b.index]
    preds: dict[int, list[_Node]] = {id(n): [] for n in boxes}
    for a, b in forward:
        preds[id(b)].append(a)
    for n in boxes:  # boxes come in an order where forward edges point ahead
        n.rank = max((a.rank + 1 for a in preds[id(n)]), default=0)
    ranks: list[list[_Node]] = [[] for _ in range(max((n.rank for n in boxes), default=0) + 1)]
    for n in boxes:
        ranks[n.rank].append(n)
    routes, up, down = [], {}, {}  # up/down: a node's neighbours in the ranks above and below
    for a, b in forward:
        path = [a] + [_Node(("slot", id(a), id(b), r), rank=r, cluster=())
                      for r in range(a.rank + 1, b.rank)] + [b]
        for n in path[1:-1]:
            ranks[n.rank].append(n)
        for p, q in zip(path, path[1:]):
            down.setdefault(id(p), []).append(q)
            up.setdefault(id(q), []).append(p)
        routes.append(path)
    _order(ranks, up, down)
    _place(ranks, up, vertical)
    return ranks, routes, back


def _order(ranks: list[list[_Node]], up: dict[int, list[_Node]],
           down: dict[int, list[_Node]]) -> None:
    """Order each rank by the mean place of its neighbours (down, up, down again), then keep the
    members of an expanded model together where its first member stands."""
    def renumber(rank: list[_Node]) -> None:
        for i, n in enumerate(rank):
            n.pos = i

    for rank in ranks:
        renumber(rank)
    for sweep, near in ((range(1, len(ranks)), up), (range(len(ranks) - 2, -1, -1), down),
                        (range(1, len(ranks)), up)):
        for r in sweep:
            rank = ranks[r]
            rank.sort(key=lambda n: (sum(m.pos for m in near[id(n)]) / len(near[id(n)])
                                     if near.get(id(n)) else n.pos, n.pos))
            renumber(rank)
    for rank in ranks:
        first: dict[tuple[str, ...], int] = {}
        for n in rank:
            for depth in range(1, len(n.cluster) + 1):
                first.setdefault(n.cluster[:depth], n.pos)
        rank.sort(key=lambda n: [*(first[n.cluster[:d]] for d in range(1, len(n.cluster) + 1)),
                                 n.pos])
        renumber(rank)


def _place(ranks: list[list[_Node]], up: dict[int, list[_Node]], vertical: bool) -> None:
    """Centres across each rank: every node as near the mean of its neighbours above as the
    order and spacing allow, the rank shifted so that on average it sits where they want."""
    for rank in ranks:
        want = [sum(m.cross for m in up[id(n)]) / len(up[id(n)]) if up.get(id(n)) else None
                for n in rank]
        size = [n.width if vertical else n.height for n in rank]
        edge = None
        for n, w, s in zip(rank, want, size):
            least = -float("inf") if edge is None else edge + _SEP + s / 2
            n.cross = max(least, w if w is not None else least if edge is not None else 0.0)
            edge = n.cross + s / 2
        placed = [(n.cross - w) for n, w in zip(rank, want) if w is not None]
        shift = sum(placed) / len(placed) if placed else (rank[0].cross - size[0] / 2
                                                           + edge) / 2
        for n in rank:
            n.cross -= shift
