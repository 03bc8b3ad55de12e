"""``restored_registries``: what a block registers (routers, stores, aggregators, embedders, extractors,
itself or through an agents file it loads) is gone after it, so tests do not see each other's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def restored_registries() -> Iterator[None]:
    """Every registry as it was before the block, after it (an autouse fixture in a ``conftest.py``:
    ``with restored_registries(): yield``)."""
    from agentroute import aggregate
    from agentroute.kg import embed, extract, store
    from agentroute.registry import Registry
    from agentroute.routers import registry as router_registry

    registries: list[Registry[Any]] = [aggregate._AGGREGATORS, embed._EMBEDDERS, extract._EXTRACTORS, store._STORES]
    routers, targets = dict(router_registry._ROUTERS), [dict(r._targets) for r in registries]
    try:
        yield
    finally:
        router_registry._ROUTERS.clear()
        router_registry._ROUTERS.update(routers)
        for registry, saved in zip(registries, targets, strict=True):
            registry._targets.clear()
            registry._targets.update(saved)
