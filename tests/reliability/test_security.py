"""Security properties, each checked on the real code: no eval/exec on data, safe checkpoint loading,
agent code only from a path the user gave, secrets never printed."""

from __future__ import annotations

import ast
import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from cli_helpers import REPO, cli, run_inproc

from agentroute.routers.gnn.checkpoint import KIND, CheckpointError, load_checkpoint, save_checkpoint

PACKAGE = REPO / "agentroute"
#: Calls that run code or unpickle objects from data. ``importlib`` loading of an agent file the user
#: named (agents/loading.py) is the one place user code runs, and it is not among these.
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_ATTRS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("dill", "load"),
    ("dill", "loads"),
    ("yaml", "load"),
    ("os", "system"),
    ("os", "popen"),
    ("shelve", "open"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
}


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def unsafe_calls(source: str, filename: str) -> list[str]:
    """Every call in ``source`` that could execute code or objects carried by data."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{filename}:{node.lineno}"
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_NAMES:
            found.append(f"{where}: {name[0]}()")
        elif len(name) >= 2 and name[-2:] in FORBIDDEN_ATTRS:
            found.append(f"{where}: {'.'.join(name)}()")
        elif name[-1:] == ("load",) and name[-2:-1] == ("torch",):
            safe = any(
                k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            )
            if not safe:
                found.append(f"{where}: torch.load without weights_only=True")
        elif any(
            k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
            for k in node.keywords
        ):
            found.append(f"{where}: a call with shell=")
    return found


def test_scanner_catches_what_it_claims_to() -> None:
    bad = (
        "eval(x)\nexec(y)\nimport pickle\npickle.loads(b)\ntorch.load(p)\ntorch.load(p, weights_only=False)\n"
        "subprocess.run(c, shell=True)\nos.system('x')\n__import__(m)\n"
    )
    assert [hit.split(":")[1] for hit in unsafe_calls(bad, "bad.py")] == ["1", "2", "4", "5", "6", "7", "8", "9"]
    good = (
        "torch.load(p, map_location='cpu', weights_only=True)\nast.literal_eval(s)\nmodel.eval()\n"
        "m.to(d).eval()\nre.compile(r'x')\n"
    )
    assert unsafe_calls(good, "good.py") == []


def test_package_never_evaluates_or_unpickles_data() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    found = [hit for f in files for hit in unsafe_calls(f.read_text(encoding="utf-8"), str(f.relative_to(REPO)))]
    assert found == []


class _Payload:
    """Unpickling this runs ``Path(marker).touch()``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the hostile file is pickled with protocol 4
def test_malicious_checkpoint_is_refused_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"kind": KIND, "format_version": 2, "state_dicts": [], "x": _Payload(marker)}, evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert not marker.exists()
    plain = tmp_path / "plain.pkl"  # an ordinary pickle with the same payload, renamed .pt
    plain.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(CheckpointError):
        load_checkpoint(plain)
    code, _, err = run_inproc(
        "ask", "What is 2 + 2?", "--model", str(evil), "--agents", str(REPO / "agents" / "toolbox.py")
    )
    assert code == 2 and "Traceback" not in err and str(evil) in err
    assert not marker.exists()


def test_tampered_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, {"state_dicts": [{"w": torch.arange(4096, dtype=torch.float32)}], "agents": ["a"]})
    assert float(load_checkpoint(path)["state_dicts"][0]["w"][7]) == 7.0
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        data = next(i for i in z.infolist() if i.filename.endswith("data/0"))
    head = data.header_offset  # the local header's name and extra lengths (the padding torch adds)
    start = (
        head
        + 30
        + int.from_bytes(raw[head + 26 : head + 28], "little")
        + int.from_bytes(raw[head + 28 : head + 30], "little")
    )
    assert raw[start + 28 : start + 32] == torch.tensor([7.0]).numpy().tobytes()
    for offset in (0, 4 * 7 + 3, data.file_size - 1):  # a weight changed anywhere in the tensor
        edited = bytearray(raw)
        edited[start + offset] ^= 0x40
        bad = tmp_path / f"edited-{offset}.pt"
        bad.write_bytes(bytes(edited))
        with pytest.raises(CheckpointError, match="digest|not a loadable"):
            load_checkpoint(bad)


EVIL_POOL = """
from pathlib import Path
Path(__file__).with_name("imported-{name}").touch()
from agentroute import agent

@agent(name="evil-{name}")
def evil(q):
    return "evil"
"""


def test_agent_code_is_only_loaded_from_a_path_the_user_gave(tmp_path: Path) -> None:
    """Files named like agent pools in the working directory are never imported on their own."""
    for name in ("agents.py", "agent.py", "toolbox.py", "pool.py", "sitecustomize.py"):
        (tmp_path / name).write_text(EVIL_POOL.format(name=name))
    pkg = tmp_path / "agents"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(EVIL_POOL.format(name="pkg"))
    res = cli("agents", "list", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not any(n.startswith("evil") for n in (a["name"] for a in json.loads(res.stdout)))
    assert not list(tmp_path.glob("imported-*"))
    code, out, _ = run_inproc("agents", "list", "--json", "--agents", str(tmp_path / "pool.py"))
    assert code == 0 and [a["name"] for a in json.loads(out)] == ["evil-pool.py"]
    assert [p.name for p in tmp_path.glob("imported-*")] == ["imported-pool.py"]
