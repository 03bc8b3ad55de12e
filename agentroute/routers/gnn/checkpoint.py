"""GNN router checkpoints: weights, agent specs, embedder config and hyper-parameters in one file.

Why this shape: the file holds only tensors and plain containers of str/int/float/bool/None, so it loads
with ``torch.load(path, weights_only=True)`` (no pickled classes, nothing executed on load). A
``format_version`` guards against silently loading a layout this code no longer understands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

FORMAT_VERSION = 2  # 2: ensemble members (state_dicts), lexicon, agent ids
KIND = "agentroute.gnn-router"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded (wrong kind, missing or mismatched ``format_version``)."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plain containers and tensors) with the kind and format version stamped in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"kind": KIND, "format_version": FORMAT_VERSION, **payload}
    body["state_dicts"] = [{k: v.detach().cpu().clone() for k, v in state.items()} for state in payload["state_dicts"]]
    torch.save(body, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check its kind and format version."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        body = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types; report them uniformly, in one line
        # (torch's own text spans lines and suggests weights_only=False, which must never be followed here)
        raise CheckpointError(f"{path}: not a loadable GNN router checkpoint ({type(exc).__name__})") from exc
    if not isinstance(body, dict) or body.get("kind") != KIND:
        raise CheckpointError(f"{path}: not a GNN router checkpoint (expected kind {KIND!r})")
    found = body.get("format_version")
    if found != FORMAT_VERSION:
        shown = "missing" if found is None else repr(found)
        raise CheckpointError(
            f"{path}: checkpoint format_version {shown} does not match the version this agentroute reads "
            f"({FORMAT_VERSION}); retrain the router or load it with a matching agentroute version"
        )
    return body
