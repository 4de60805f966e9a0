"""``keras.ops``' control flow: ``map``, ``vectorized_map``, ``scan``, ``associative_scan``,
``fori_loop``, ``while_loop`` and ``switch``, with Keras 3's (JAX's) semantics over nested
structures of tensors (tuples, lists, dicts).

Eager execution has no graph to trace, so each is the Python loop it describes; the autograd
records every step, so gradients flow through all of them (a loop of n steps is n steps of
graph, as an unrolled JAX loop).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from . import _nest
from . import functional as F
from ._ops_common import _t
from .autograd import Tensor


def _leaves_as_tensors(structure: Any) -> Any:
    return _nest.map_structure(lambda v: v if v is None else _t(v), structure)


def _length(structure: Any, axis: int = 0) -> int:
    """The common length along ``axis`` of every leaf (each a tensor of at least one axis)."""
    sizes = {leaf.shape[axis] for leaf in _nest.flatten(structure)}
    if len(sizes) != 1:
        raise ValueError(f"the leaves of the elements differ in length along axis {axis}: "
                         f"{sorted(sizes)}")
    return sizes.pop()


def _stacked(outputs: list[Any], axis: int = 0) -> Any:
    """Per-step outputs (each a nested structure) stacked leaf by leaf along ``axis`` (a None
    leaf stays None)."""
    leaves = [None if step[0] is None else F.stack([_t(v) for v in step], axis=axis)
              for step in zip(*(_nest.flatten(o) for o in outputs))]
    return _nest.pack(outputs[0], leaves)


def _zero_element(structure: Any) -> Any:
    """Zeros standing for one element (along the first axis) of each leaf."""
    return _nest.map_structure(lambda v: Tensor._wrap(v.xp.zeros(v.shape[1:], v.dtype)),
                               structure)


def _none_stacked(sample: Any) -> Any:
    """What zero steps stack to: each leaf of one step's output with a length-0 axis in front
    (Keras returns empty arrays, not an error); a None stays None."""
    def empty(v: Any) -> Any:
        v = _t(v)
        return Tensor._wrap(v.xp.zeros((0, *v.shape), v.dtype))

    return _nest.map_structure(lambda v: None if v is None else empty(v), sample)


def map(f: Callable[[Any], Any], xs: Any) -> Any:  # noqa: A001 - Keras's name
    """``f`` of each element of ``xs`` along its first axis, the results stacked (``xs`` and
    the results may be nested structures)."""
    xs = _leaves_as_tensors(xs)
    outputs = [f(_nest.map_structure(lambda v, i=i: v[i], xs)) for i in range(_length(xs))]
    return _stacked(outputs) if outputs else _none_stacked(f(_zero_element(xs)))


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """``function`` of each element of ``elements`` (along the first axis), stacked: ``map``."""
    return map(function, elements)


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
         length: int | None = None, reverse: bool = False, unroll: Any = 1) -> tuple[Any, Any]:
    """JAX's scan: ``carry, y = f(carry, x)`` for each x of ``xs`` along its first axis (or
    ``length`` steps with x None), from the end with ``reverse``; returns the last carry and
    the ys stacked (in the order of ``xs``). ``unroll`` is accepted for Keras code."""
    xs = None if xs is None else _leaves_as_tensors(xs)
    if xs is None and length is None:
        raise ValueError("scan: give xs or length")
    steps = _length(xs) if xs is not None else int(length)
    if xs is not None and length is not None and steps != length:
        raise ValueError(f"scan: length={length} but xs has {steps} elements")
    carry, ys = _leaves_as_tensors(init), []
    order = reversed(range(steps)) if reverse else range(steps)
    for i in order:
        x = None if xs is None else _nest.map_structure(lambda v, i=i: v[i], xs)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # zero steps: f's ys, empty (on zeros standing for an x)
        _, y = f(carry, None if xs is None else _zero_element(xs))
        return carry, None if y is None else _none_stacked(y)
    if builtins.all(v is None for v in _nest.flatten(ys[0])):
        return carry, None
    return carry, _stacked(ys)


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False,
                     axis: int = 0) -> Any:
    """The running combination by the associative ``f`` along ``axis``: out[0] = e[0],
    out[i] = f(out[i - 1], e[i]) (from the end with ``reverse``), for nested ``elems``."""
    elems = _leaves_as_tensors(elems)
    n = _length(elems, axis)
    if n == 0:
        return elems

    def at(i: int) -> Any:  # every leaf's i-th entry along ``axis``
        return _nest.map_structure(lambda v: v[(slice(None),) * (axis % v.ndim) + (i,)], elems)

    order = list(reversed(range(n))) if reverse else list(range(n))
    outputs = [at(order[0])]
    for i in order[1:]:
        outputs.append(f(outputs[-1], at(i)))
    if reverse:
        outputs.reverse()
    return _stacked(outputs, axis)


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for i from ``lower`` to ``upper`` - 1."""
    val = _leaves_as_tensors(init_val)
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most
    ``maximum_iterations`` times); a single loop variable is passed and returned alone, as
    Keras's."""
    single = not isinstance(loop_vars, (tuple, list))
    state = (loop_vars,) if single else tuple(loop_vars)
    state = tuple(_leaves_as_tensors(v) for v in state)
    from .layers.input_layer import tracing

    if tracing() is not None:  # a model's trial run on zeros: Keras's output spec, the vars
        return state[0] if single else state
    done = 0
    while (maximum_iterations is None or done < maximum_iterations) and bool(
            _truth(cond(*state))):
        state = body(*state)
        state = (state,) if not isinstance(state, (tuple, list)) else tuple(state)
        done += 1
    return state[0] if single else state


def switch(index: Any, branches: list[Callable[..., Any]], *operands: Any) -> Any:
    """``branches[index](*operands)``, the index clamped to the branches (as Keras's)."""
    if not branches:
        raise ValueError("switch: branches is empty")
    i = int(_truth(index))
    return branches[builtins.min(builtins.max(i, 0), len(branches) - 1)](*operands)


def _truth(value: Any) -> Any:
    """A Python number of a Tensor (of one element) or a number."""
    return value.item() if isinstance(value, Tensor) else value


__all__ = ["associative_scan", "fori_loop", "map", "scan", "switch", "vectorized_map",
           "while_loop"]
