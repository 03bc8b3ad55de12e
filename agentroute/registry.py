"""The one shape every extension registry has: a name -> factory map, where a factory may be given as
``"module:attribute"`` and is imported only when first used (so listing names never loads heavy code).

``register_store``, ``register_aggregator``, ``register_embedder`` and ``register_extractor`` are each a
``Registry.register``; ``register_router`` adds declared capabilities on top (``routers/registry.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """A factory itself, or the attribute named by ``"package.module:Name.attr"`` (imported now)."""
    if not isinstance(target, str):
        return target
    module, sep, attr = target.partition(":")
    if not sep or not attr:
        raise ValueError(f"a lazy factory is written 'module:attribute', got {target!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Named factories of one kind of component (``kind`` names it in error messages)."""

    def __init__(self, kind: str, hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self._targets: dict[str, str | Callable[..., T]] = {}

    def register(self, name: str, factory: str | Callable[..., T] | None = None) -> Callable[[F], F]:
        """``register(name, factory)`` or ``register(name, "module:factory")``; without a factory, a
        decorator. A later registration of the same name replaces the earlier one."""

        def deco(f: F) -> F:
            self._targets[name] = f
            return f

        if factory is None:
            return deco
        self._targets[name] = factory
        return lambda f: f

    def names(self) -> list[str]:
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def factory(self, name: str) -> Callable[..., T]:
        target = self._targets.get(name)
        if target is None:
            known = ", ".join(self.names())
            raise ValueError(f"unknown {self.kind} {name!r}: expected one of {known}{self.hint}")
        return resolve(target)

    def make(self, name: str, *args: Any, **options: Any) -> T:
        return self.factory(name)(*args, **options)
