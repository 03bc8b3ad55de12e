"""Loading agent pools from user code: ``--agents agents/x.py``, ``pkg.mod`` or ``pkg.mod:attr``.

A file is imported under a private, unique module name (never as a top-level ``agents`` package, which
clashes with other libraries). The pool is the module's ``AGENTS`` (a sequence of agents, or a callable
returning one) or else every module-level ``Agent`` in definition order.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import itertools
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from agentroute.agents.base import Agent, AgentDefinitionError
from agentroute.agents.pool import AgentPool
from agentroute.secrets import redact


class AgentLoadError(ValueError):
    """Agents could not be loaded from a file or module (the message names which, on one line)."""


_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?$")
_counter = itertools.count()


def load_agents(source: str | Path) -> AgentPool:
    """The agents defined by a ``.py`` file, a dotted module ``pkg.mod``, or ``pkg.mod:attr``."""
    text = str(source)
    if isinstance(source, Path) or text.endswith(".py") or "/" in text or "\\" in text or not _DOTTED.match(text):
        where = text
        module = _import_file(Path(source))
        attr = None
    else:
        modname, _, attr_name = text.partition(":")
        where = modname
        module = _import_module(modname)
        attr = attr_name or None
    if attr is not None:
        if not hasattr(module, attr):
            raise AgentLoadError(f"{where}: module has no attribute {attr!r}")
        items = _items(getattr(module, attr), f"{where}:{attr}", attr)
    elif hasattr(module, "AGENTS"):
        items = _items(module.AGENTS, where, "AGENTS")
    else:
        items = [(key, v) for key, v in _unique(vars(module).items()) if isinstance(v, Agent)]
        idle = _classes_never_instantiated(module, [v for _, v in items])
        if idle and items:
            warnings.warn(f"{where}: {idle}", stacklevel=2)
        elif idle:
            raise AgentLoadError(f"{where}: no agents found: {idle}")
    if not items:
        raise AgentLoadError(f"{where}: no agents found (define Agent objects or an AGENTS list)")
    return _pool(items, where)


def _classes_never_instantiated(module: ModuleType, agents: list[Agent]) -> str:
    """Why a class the file defines is not in the pool (a pool holds agent objects), or ""."""
    classes = [
        v.__name__
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, Agent)
        and v.__module__ == module.__name__
        and not any(isinstance(a, v) for a in agents)
    ]
    if not classes:
        return ""
    names = ", ".join(classes)
    verb = "subclasses" if len(classes) == 1 else "subclass"
    hint = f"`{classes[0].lower()} = {classes[0]}()`"
    return f"{names} {verb} Agent but no instance is defined (add e.g. {hint})"


def _import_file(path: Path) -> ModuleType:
    where = str(path)
    if not path.exists():
        raise AgentLoadError(f"{where}: file does not exist")
    if not path.is_file() or path.suffix != ".py":
        raise AgentLoadError(f"{where}: not a .py file")
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_agentroute_user_{stem}_{digest}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:  # pragma: no cover - only for exotic paths
        raise AgentLoadError(f"{where}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    folder = resolved.parent
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    sys.modules[name] = module  # so dataclasses and typing inside the file work while it runs
    sys.path.insert(0, str(folder))  # sibling helper modules of the file import as usual, while it loads
    try:
        spec.loader.exec_module(module)
    except AgentDefinitionError as e:
        raise AgentDefinitionError(f"{where}: {e}") from e
    except (Exception, SystemExit) as e:  # noqa: BLE001 - whatever the file raises is reported the same way
        raise AgentLoadError(f"{where}: import failed: {_one_line(e)}") from e
    finally:
        sys.path[:] = saved_path
        _forget_modules_from(folder, set(sys.modules) - saved_modules, name)
    return module


def _forget_modules_from(folder: Path, added: set[str], own: str) -> None:
    """Drop the file's own module and the sibling modules it imported from ``folder`` from
    ``sys.modules`` (the agents keep references to what they use); libraries it imported stay."""
    for key in added:
        origin = getattr(sys.modules.get(key), "__file__", None)
        if key == own or (origin and Path(origin).resolve().is_relative_to(folder)):
            sys.modules.pop(key, None)


def _import_module(modname: str) -> ModuleType:
    try:
        return importlib.import_module(modname)
    except AgentDefinitionError as e:
        raise AgentDefinitionError(f"{modname}: {e}") from e
    except Exception as e:  # noqa: BLE001 - any import failure is reported the same way
        raise AgentLoadError(f"{modname}: import failed: {_one_line(e)}") from e


def _items(obj: Any, where: str, label: str) -> list[tuple[str, Any]]:
    """(label, item) pairs from an AGENTS-like value: an Agent, a pool, a sequence, or a callable of those."""
    if callable(obj) and not isinstance(obj, Agent):
        try:
            obj = obj()
        except AgentDefinitionError as e:
            raise AgentDefinitionError(f"{where}: {e}") from e
        except Exception as e:  # noqa: BLE001
            raise AgentLoadError(f"{where}: {label}() raised {_one_line(e)}") from e
    if isinstance(obj, Agent):
        return [(label, obj)]
    if isinstance(obj, (AgentPool, list, tuple)):
        return [(f"{label}[{i}]", item) for i, item in enumerate(obj)]
    raise AgentLoadError(f"{where}: {label} must be a list or tuple of agents, got {type(obj).__name__}")


def _pool(items: list[tuple[str, Any]], where: str) -> AgentPool:
    seen: dict[str, str] = {}
    for label, item in items:
        if not isinstance(item, Agent):
            raise AgentLoadError(f"{where}: {label} is not an Agent (got {type(item).__name__}: {item!r:.60})")
        if item.name in seen:
            raise AgentLoadError(f"{where}: duplicate agent name {item.name!r} ({seen[item.name]} and {label})")
        seen[item.name] = label
    return AgentPool(item for _, item in items)


def _unique(pairs: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Module variables, keeping only the first name bound to each object."""
    out: list[tuple[str, Any]] = []
    ids: set[int] = set()
    for key, value in pairs:
        if id(value) not in ids:
            ids.add(id(value))
            out.append((key, value))
    return out


def _one_line(e: BaseException) -> str:
    return redact(f"{type(e).__name__}: {' '.join(str(e).split())}")
