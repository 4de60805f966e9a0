"""``Dataset.from_generator``'s elements (``data/dataset.py``): the generator's output checked
against, and converted to, its ``output_signature``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._nest import flatten, pack
from ._elements import _as_array, _per_component, _shape_of
from .tensor_spec import TensorSpec


def _generator_elements(generator: Callable[..., Iterable[Any]], output_types: Any,
                        output_shapes: Any, args: Any, output_signature: Any
                        ) -> Callable[[], Iterator[Any]]:
    """A function starting a pass over ``generator(*args)``'s elements, each conformed to
    ``output_signature`` (or to ``output_types`` and ``output_shapes``)."""
    if not callable(generator):
        raise TypeError("from_generator needs a function that returns an iterator (the "
                        f"generator function itself, not a generator), got "
                        f"{type(generator).__name__}")
    if output_signature is None:
        if output_types is None:
            raise TypeError("from_generator needs output_signature (a TensorSpec for each "
                            "component), or output_types")
        types_ = flatten(output_types)
        shapes = ([None] * len(types_) if output_shapes is None else
                  _per_component(output_shapes, output_types,
                                 "from_generator's output_shapes", shapes=True))
        output_signature = pack(output_types, [TensorSpec(shape, dtype) for shape, dtype
                                               in zip(shapes, types_)])
    specs = flatten(output_signature)
    if not all(isinstance(spec, TensorSpec) for spec in specs):
        raise TypeError("from_generator's output_signature must be a TensorSpec or a "
                        f"tuple/dict of them, got {output_signature!r}")
    call_args = tuple(_as_array(a) for a in (args or ()))
    where = f"from_generator's generator {getattr(generator, '__name__', generator)!r}"

    def conform(value: Any) -> Any:
        components = _components(output_signature, value)
        if components is None:
            raise TypeError(f"{where} yielded an element of structure {_shape_of(value)}, "
                            f"where output_signature has {_shape_of(output_signature)}")
        return pack(output_signature, [spec.conform(v, where) for spec, v in
                                       zip(specs, components)])

    def elements() -> Iterator[Any]:
        return map(conform, generator(*call_args))

    return elements


def _components(signature: Any, value: Any) -> list[Any] | None:
    """``value``'s components at the TensorSpecs of ``signature``, in ``flatten``'s order, as
    TF's ``nest.flatten_up_to`` takes a generator's element: where the signature has a
    TensorSpec, a list is one component (one tensor); tuples, lists and dicts of the signature
    must meet their own kind (a dict with the same keys). None when the structures differ."""
    if isinstance(signature, dict):
        if not isinstance(value, dict) or set(value) != set(signature):
            return None
        parts = [_components(signature[key], value[key]) for key in sorted(signature)]
    elif isinstance(signature, (list, tuple)):
        if not isinstance(value, type(signature)) or len(value) != len(signature):
            return None
        parts = [_components(s, v) for s, v in zip(signature, value)]
    else:
        return None if isinstance(value, (tuple, dict)) else [value]
    if any(part is None for part in parts):
        return None
    return [component for part in parts for component in part]
