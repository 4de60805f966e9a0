"""``Dataset.from_generator``'s elements (``data/dataset.py``): the generator's output checked
against, and converted to, its ``output_signature``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._nest import flatten, pack
from ._elements import _as_array, _listless, _per_component, _shape_of
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
        value = _listless(value)
        if _shape_of(value) != _shape_of(output_signature):
            raise TypeError(f"{where} yielded an element of structure {_shape_of(value)}, "
                            f"where output_signature has {_shape_of(output_signature)}")
        return pack(output_signature, [spec.conform(v, where) for spec, v in
                                       zip(specs, flatten(value))])

    def elements() -> Iterator[Any]:
        return map(conform, generator(*call_args))

    return elements
