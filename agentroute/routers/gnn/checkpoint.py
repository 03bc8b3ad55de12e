"""GNN router checkpoints: weights, agent specs, embedder config and hyper-parameters in one file.

Why this shape: the file holds only tensors and plain containers of str/int/float/bool/None, so it loads
with ``torch.load(path, weights_only=True)`` (no pickled classes, nothing executed on load). A
``format_version`` guards against silently loading a layout this code no longer understands, and a
SHA-256 ``digest`` of the content refuses a file whose bytes were changed after it was written (an integrity
check against corruption and edits, not a signature: it holds no secret).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from agentroute.atomic import atomic_write

FORMAT_VERSION = 2  # 2: ensemble members (state_dicts), lexicon, agent ids
KIND = "agentroute.gnn-router"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded (wrong kind, missing or mismatched ``format_version``)."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plain containers and tensors) with the kind and format version stamped in,
    atomically: a crash mid-save leaves the previous checkpoint at ``path`` intact."""
    import torch  # here, not at import: naming CheckpointError must not load torch

    body = {"kind": KIND, "format_version": FORMAT_VERSION, **payload}
    body["state_dicts"] = [{k: v.detach().cpu().clone() for k, v in state.items()} for state in payload["state_dicts"]]
    body["digest"] = content_digest(body)
    return atomic_write(path, lambda fh: torch.save(body, fh))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check its kind and format version."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    import torch

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
    digest = body.pop("digest", None)  # checkpoints written before digests existed have none
    if digest is not None and digest != content_digest(body):
        raise CheckpointError(f"{path}: checkpoint content does not match its digest (the file was modified)")
    return body


def content_digest(body: dict[str, Any]) -> str:
    """SHA-256 over a canonical walk of the checkpoint (keys sorted; tensors by dtype, shape and bytes)."""
    import torch

    h = hashlib.sha256()

    def walk(x: Any) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        elif isinstance(x, dict):
            h.update(b"{")
            for k in sorted(x, key=str):
                if k != "digest":
                    h.update(repr(k).encode())
                    walk(x[k])
            h.update(b"}")
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for v in x:
                walk(v)
            h.update(b"]")
        else:
            h.update(f"{type(x).__name__}:{x!r};".encode())

    walk(body)
    return h.hexdigest()
