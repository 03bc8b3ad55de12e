"""Checks of command-line values, run before any expensive work (fail fast, one clear line).

Why a module of its own: every entry point (CLI commands, ``serve``, benchmark scripts) takes the same
kinds of values — router names and options, a device, checkpoint and data paths, store URLs — and a
typo should cost a second, not the 600 profiled questions that came before it. Each ``check_*`` returns
the value (normalised) or raises ``OptionError`` naming the option and the value as the user typed it.
Nothing here imports torch unless the value needs it (``--device cuda``, a checkpoint's contents).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import sys
import tempfile
import types
import typing
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DEVICES = ("auto", "cpu", "cuda")


class OptionError(ValueError):
    """A command-line value that cannot work; the message names the option (exit code 2 in the CLI)."""


def check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise OptionError(f"{option} {value}: expected one of {', '.join(choices)}")
    return value


def check_router(name: str, option: str = "--router") -> Any:
    """The registry entry (``RouterInfo``) of a router name; imports no router implementation."""
    from agentroute.routers.registry import router_info

    try:
        return router_info(name)
    except ValueError as e:
        raise OptionError(f"{option}: {e}") from None


def check_routers(text: str, option: str = "--routers") -> list[str]:
    """A comma-separated router list: every name registered, at least one, no repeats."""
    names = [r.strip() for r in text.split(",") if r.strip()]
    if not names:
        raise OptionError(f"{option}: name at least one router")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise OptionError(f"{option}: {', '.join(repeated)} named twice")
    for name in names:
        check_router(name, option)
    return names


def check_router_options(name: str, options: Mapping[str, Any], option: str = "--options", seed: int = 0) -> None:
    """Build the router once with ``options`` (no training) so a misspelt option fails now."""
    from agentroute.routers.registry import make_router

    info = check_router(name, option)
    if info.reads_scores:  # evaluation-only routers are built with the recorded scores later
        return
    also = ("guard",) if info.guarded else ()  # make_router's own option for a guarded router
    check_keywords(option, name, info.factory(), options, also)  # a misspelt option names the ones it takes
    try:
        make_router(name, seed=seed, **dict(options))
    except (TypeError, ValueError) as e:
        raise OptionError(f"{option} for {name}: {e}") from None


def check_keywords(
    option: str, what: str, factory: Callable[..., Any], options: Mapping[str, Any], also: Sequence[str] = ()
) -> None:
    """A misspelt keyword of ``factory`` (or of ``also``, keywords taken before it) fails now, naming the
    ones it takes (nothing is built)."""
    options = {k: v for k, v in options.items() if k not in also}
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a builtin or C factory without a signature: it will say so itself
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):  # its **options say for themselves (options_type)
        check_types(option, what, factory, options)
        return
    taken = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)] + list(also)
    unknown = sorted(set(options) - set(taken))
    if unknown:
        raise OptionError(f"{option} for {what}: unknown {', '.join(unknown)}; it takes {', '.join(taken) or 'none'}")
    check_types(option, what, factory, options)


def check_types(option: str, what: str, factory: Callable[..., Any], options: Mapping[str, Any]) -> None:
    """An option whose value does not fit the factory's annotation (``"k": "x"`` for an ``int``, ``"true"``
    for a ``bool``) fails now, naming it; options without a simple annotation are left to the factory."""
    hints: dict[str, Any] = {}
    for source in (getattr(factory, "options_type", None), factory):  # the declared type of its **options
        if source is not None:  # annotations it cannot resolve leave nothing to check against
            with contextlib.suppress(Exception):
                hints.update(typing.get_type_hints(source.__init__ if inspect.isclass(source) else source))
    for key, value in options.items():
        hint = hints.get(key)
        if hint is not None and not _fits(value, hint):
            simple = isinstance(value, (str, int, float, bool, type(None)))
            shown = json.dumps(value) if simple else type(value).__name__
            raise OptionError(f"{option} for {what}: {key} expects {_describe(hint)}, got {shown}")


def _fits(value: Any, hint: Any) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        try:  # a JSON integer too large for a float is no finite number either
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        except OverflowError:
            return False
    if hint is str:
        return isinstance(value, str)
    return True  # anything richer is the factory's to check


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    names = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string", type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_device(device: str, option: str = "--device") -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; CUDA must be present when asked for by name."""
    base = device.split(":", 1)[0]
    if base not in DEVICES or (base != "cuda" and ":" in device):
        raise OptionError(f"{option} {device}: expected auto, cpu or cuda")
    if base == "cuda":
        if _no_nvidia_device():
            raise OptionError(f"{option} {device}: CUDA is not available on this machine; use --device cpu or auto")
        import torch

        if not torch.cuda.is_available():
            raise OptionError(f"{option} {device}: CUDA is not available on this machine; use --device cpu or auto")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise OptionError(f"{option} {device}: no such CUDA device (this machine has {torch.cuda.device_count()})")
    return device


def _no_nvidia_device() -> bool:
    """On Linux, CUDA needs the NVIDIA device files: without them the answer is known without importing
    torch (seconds on a busy machine)."""
    return sys.platform.startswith("linux") and not any(Path("/dev").glob("nvidia*"))


def check_input_file(path: str | Path, option: str) -> Path:
    """An existing, readable file."""
    p = Path(path)
    if not p.exists():
        raise OptionError(f"{option} {p}: no such file")
    if p.is_dir():
        raise OptionError(f"{option} {p}: is a directory, expected a file")
    try:
        with p.open("rb"):
            pass
    except OSError as e:
        raise OptionError(f"{option} {p}: cannot be read ({e.strerror})") from None
    return p


def check_output_file(path: str | Path, option: str, probe: bool = True) -> Path:
    """A file that can be written: not a directory, and its parent is (or can become) a directory that
    takes files (``probe``; a store only read, never written, is not probed)."""
    p = Path(path)
    if p.is_dir():
        raise OptionError(f"{option} {p}: is a directory, expected a file name")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OptionError(f"{option} {p}: {parent} is a file, not a directory")
            if probe:
                _check_writable(parent, p, option)
            break
    return p


def _check_writable(folder: Path, target: Path, option: str) -> None:
    """Create (and remove) a file in ``folder`` now, so a folder that takes no files fails before the
    work whose result would go there (permissions alone do not tell: root passes them, /proc refuses)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".agentroute-probe-")
    except OSError as e:
        raise OptionError(f"{option} {target}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)


def check_output_dir(path: str | Path, option: str) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OptionError(f"{option} {p}: is a file, expected a directory")
    return check_output_file(p / "report.json", option).parent


def check_checkpoint(path: str | Path, option: str = "--model") -> Path:
    """A file that looks like a saved router (a torch zip archive); its contents are checked on load."""
    p = check_input_file(path, option)
    try:
        with zipfile.ZipFile(p) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise OptionError(f"{option} {p}: not a router checkpoint (write one with `agentroute train`)") from None
    if not any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        raise OptionError(f"{option} {p}: not a router checkpoint (write one with `agentroute train`)")
    return p


def router_for_model(router: str | None, model: Path | None, default: str = "knn") -> str:
    """The router a command runs: ``--router``, else ``default``, or with ``--model`` alone the checkpoint's
    router; a ``--router`` that cannot load a checkpoint beside ``--model`` is an error, not ignored."""
    from agentroute.routers.registry import CHECKPOINT_ROUTER, router_info, router_names

    if router is None:
        return default if model is None else CHECKPOINT_ROUTER
    check_router(router)
    if model is not None and router_info(router).checkpoint is None:
        loaders = ", ".join(n for n in router_names() if router_info(n).checkpoint is not None)
        why = f"does not load checkpoints; --model needs one of {loaders} (or no --router)"
        raise OptionError(f"--router {router}: {why}")
    return router


def load_checkpoint_router(path: str | Path, router: str, device: str, option: str = "--model") -> Any:
    """Restore a saved router, every failure (junk, wrong kind, wrong version) one line naming the file."""
    from agentroute.routers.registry import CHECKPOINT_ROUTER, load_router, router_info

    p = check_checkpoint(path, option)
    name = router if router_info(router).checkpoint is not None else CHECKPOINT_ROUTER
    try:
        return load_router(name, p, device=device)
    except OptionError:
        raise
    except Exception as e:  # noqa: BLE001 - unpickling and state_dict errors come in many types
        reason = str(e).splitlines()[0] if isinstance(e, ValueError) and str(e) else "unreadable contents"
        reason = reason.removeprefix(f"{p}: ")
        raise OptionError(f"{option} {p}: {reason}") from None


def check_store(url: str, option: str = "--store") -> str:
    """A store URL with a known scheme; a ``file:`` store must name a file (it need not exist yet)."""
    from agentroute.kg.store import store_schemes

    scheme = url.split(":", 1)[0] if ":" in url else url
    if scheme not in store_schemes():
        raise OptionError(
            f"{option} {url}: unknown store, expected memory, file:PATH or bolt://HOST:PORT "
            f"(schemes: {', '.join(store_schemes())})"
        )
    if scheme == "file":
        path = url.split(":", 1)[1]
        if not path:
            raise OptionError(f"{option} {url}: give a file name, e.g. file:routing.json")
        check_output_file(path, option, probe=False)  # a store may be read only (ask); writes fail on their own
    return url


def check_json_object(text: str, option: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise OptionError(f"{option}: not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(parsed, dict):
        raise OptionError(f"{option}: expected a JSON object")
    return parsed


def checkpoint_beside(store: str | None) -> Path | None:
    """Where a router trained on a ``file:`` store is kept: ``routing.json`` -> ``routing.model.pt``."""
    if not store or not store.startswith("file:"):
        return None
    path = Path(store.split(":", 1)[1])
    return path.with_name(path.stem + ".model.pt")
