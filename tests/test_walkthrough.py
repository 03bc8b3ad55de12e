"""The README's "Your own agents, zero to trained" runs as written and prints what the README shows.

Every console block of that section is replayed in a scratch folder (the example pool copied in): each
``$`` command runs through the real console entry point, and every line the README shows under it must
appear in what the command printed, except the seconds a step took (and the device, which is cuda on a GPU
machine).
"""

from __future__ import annotations

import re
import runpy
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from agentroute.cli import main

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Your own agents, zero to trained"


def walkthrough() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$`` line of the section's console blocks."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line.strip())
    return steps


def varies(command: str, line: str) -> bool:
    """Lines whose figures depend on the machine, not on the seeds (in a bench table the borders and
    header too: their width follows the widest seconds figure)."""
    if "bench run" in command and line.startswith(("┏", "┃", "┡", "└")):
        return True
    return line.startswith(("│ seconds", "│ device"))


def comparable(command: str, line: str) -> str:
    if "bench run" in command and line.startswith("│"):
        return re.sub(r"│\s*[\d.]+\s*│$", "│", line)  # the last column is seconds
    return line


def run(command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    argv = shlex.split(command)
    if argv[0] == "python":
        monkeypatch.setattr(sys, "argv", argv[1:])
        runpy.run_path(argv[1], run_name="__main__")
    else:
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exit_info:
            main()
        assert exit_info.value.code == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    return [line.strip() for line in (captured.out + "\n" + captured.err).splitlines()]


def test_readme_walkthrough_runs_and_matches(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO / "examples" / "your_own_agents.py", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    steps = walkthrough()
    words = [command.split()[1] for command, _ in steps]
    assert words == ["agents", "ask", "examples/your_own_agents.py", "profile", "train", "ask", "bench"]
    for command, expected in steps:
        printed = {comparable(command, line) for line in run(command, capsys, monkeypatch)}
        missing = [line for line in expected if not varies(command, line) and comparable(command, line) not in printed]
        assert not missing, f"{command}: README lines not printed: {missing}"
    assert (tmp_path / "mine" / "model.pt").is_file() and (tmp_path / "mine" / "runs.jsonl").is_file()
