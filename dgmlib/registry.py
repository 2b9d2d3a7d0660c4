"""Name -> factory tables: the one way dgmlib turns a name in a config into an object.

Each layer keeps its table next to what it builds (likelihoods in :mod:`dgmlib.distributions`,
priors in :mod:`dgmlib.priors`, networks, posterior flows and whole models in
:mod:`dgmlib.builders`), and :mod:`dgmlib.builders` collects them all in ``REGISTRIES``; every
table is a :class:`Registry`, so unknown names fail the same way everywhere.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping


class Registry(Mapping[str, Callable[..., Any]]):
    """An ordered table ``name -> factory`` of one kind of object.

    Arguments:
        kind: what the table holds ("prior", "likelihood", ...), used in error messages.
        parse: optional ``name -> (registered name, keyword arguments)`` for parameterized names
            (e.g. ``"discretized_logistic_256"`` -> ``("discretized_logistic", {"levels": 256})``);
            it returns None for names it does not parse.
    Example:
        >>> SHAPES = Registry("shape")
        >>> @SHAPES.register("square")
        ... def square(side=1.0):
        ...     return side ** 2
        >>> SHAPES.build("square", side=3.0)
        9.0
    """

    def __init__(self, kind: str, parse: Callable[[str], tuple[str, dict[str, Any]] | None] | None = None):
        self.kind, self._parse = kind, parse
        self._factories: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register ``factory`` under ``name`` (each name once)."""
        def add(factory: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._factories:
                raise ValueError(f"a {self.kind} named {name!r} is registered already")
            self._factories[name] = factory
            return factory
        return add

    def resolve(self, name: str) -> tuple[Callable[..., Any], dict[str, Any]]:
        """(factory, keyword arguments implied by the name), or a ``ValueError`` that lists the names."""
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a string, got {type(name).__name__}")
        if name in self._factories:
            return self._factories[name], {}
        parsed = self._parse(name) if self._parse is not None else None
        if parsed is not None and parsed[0] in self._factories:
            return self._factories[parsed[0]], parsed[1]
        raise ValueError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._factories)}")

    def build(self, name: str, **kwargs: Any) -> Any:
        """``factory(**kwargs)`` of the entry called ``name``."""
        factory, implied = self.resolve(name)
        return factory(**implied, **kwargs)

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self._factories[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._factories)})"
