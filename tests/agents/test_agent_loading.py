"""Loading agent pools from files and modules, and the errors a user sees when that goes wrong."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from agentroute.agents import AgentDefinitionError, AgentLoadError, load_agents
from agentroute.suite import builtin_agents
from agentroute.types import Query

REPO = Path(__file__).resolve().parents[2]

HEADER = "from agentroute.agents import Agent, agent\nfrom agentroute.types import Query\n\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def ask(pool_agent: object, text: str) -> str | None:
    return asyncio.run(pool_agent.invoke(Query(id="q", text=text))).answer  # type: ignore[attr-defined]


def test_module_level_agents_in_definition_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.py",
        """
        @agent
        def zeta(q: Query) -> str:
            return "z"

        class Upper(Agent):
            def run(self, q: Query) -> str:
                return q.text.upper()

        upper = Upper("upper")
        same_object_again = upper

        @agent(name="alpha")
        def alpha(q: Query) -> str:
            return "a"

        NOT_AN_AGENT = 3
        """,
    )
    pool = load_agents(path)
    assert pool.names == ["zeta", "upper", "alpha"]
    assert ask(pool["upper"], "hi") == "HI"
    assert load_agents(str(path)).names == pool.names  # str paths work too


def test_agents_attribute_selects_and_orders(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "listed.py",
        """
        @agent
        def one(q: Query) -> str:
            return "1"

        @agent
        def two(q: Query) -> str:
            return "2"

        @agent
        def hidden(q: Query) -> str:
            return "h"

        AGENTS = [two, one]
        """,
    )
    assert load_agents(path).names == ["two", "one"]


def test_agents_attribute_may_be_a_factory(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "factory.py",
        """
        def AGENTS():
            return [agent(name=f"copy-{i}")(lambda q, i=i: str(i)) for i in range(3)]
        """,
    )
    pool = load_agents(path)
    assert pool.names == ["copy-0", "copy-1", "copy-2"]
    assert ask(pool["copy-2"], "?") == "2"


def test_dotted_module_and_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "loadtest_pkg_x1"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write(
        package,
        "bots.py",
        """
        @agent
        def first(q: Query) -> str:
            return "f"

        @agent
        def second(q: Query) -> str:
            return "s"

        ONLY_SECOND = [second]
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_agents("loadtest_pkg_x1.bots").names == ["first", "second"]
    assert load_agents("loadtest_pkg_x1.bots:ONLY_SECOND").names == ["second"]
    with pytest.raises(AgentLoadError, match=r"loadtest_pkg_x1\.bots: module has no attribute 'NOPE'"):
        load_agents("loadtest_pkg_x1.bots:NOPE")
    with pytest.raises(AgentLoadError, match=r"no_such_module_zz: import failed: ModuleNotFoundError"):
        load_agents("no_such_module_zz")


def test_file_is_imported_under_a_private_name_never_as_agents(tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    path = write(folder, "agents.py", "@agent\ndef solo(q: Query) -> str:\n    return 's'\n")
    before = sys.modules.get("agents")
    pool = load_agents(path)
    module_name = pool["solo"].fn.__module__  # type: ignore[attr-defined]
    assert module_name.startswith("_agentroute_user_agents_")
    assert sys.modules.get("agents") is before
    assert load_agents(path)["solo"] is not pool["solo"]  # a second load is a fresh module


def test_file_can_import_a_sibling_helper(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_q7.py").write_text("ANSWER = 'from helper'\n")
    path = write(
        tmp_path,
        "uses_helper.py",
        "from helper_mod_q7 import ANSWER\n\nhelped = agent(name='helped')(lambda q: ANSWER)\n",
    )
    path_before, modules_before = list(sys.path), set(sys.modules)
    assert ask(load_agents(path)["helped"], "?") == "from helper"
    assert sys.path == path_before  # the folder is only on sys.path while the file loads
    assert "helper_mod_q7" not in sys.modules  # nor its modules in sys.modules afterwards
    assert not [m for m in set(sys.modules) - modules_before if m.startswith(("_agentroute_user", "helper"))]


def test_a_failing_file_leaves_sys_path_and_sys_modules_as_they_were(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_f3.py").write_text("X = 1\n")
    path = write(tmp_path, "broken.py", "import sys\nimport helper_mod_f3\nsys.path.append('/nowhere')\n1 / 0\n")
    path_before, modules_before = list(sys.path), set(sys.modules)
    with pytest.raises(AgentLoadError, match=r"broken.py: import failed: ZeroDivisionError"):
        load_agents(path)
    assert sys.path == path_before
    assert set(sys.modules) - modules_before == set()


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    with pytest.raises(AgentLoadError, match="nope.py: file does not exist"):
        load_agents(missing)


def test_not_a_python_file(tmp_path: Path) -> None:
    (tmp_path / "agents.txt").write_text("hello")
    with pytest.raises(AgentLoadError, match="agents.txt: not a .py file"):
        load_agents(tmp_path / "agents.txt")
    with pytest.raises(AgentLoadError, match="not a .py file"):
        load_agents(tmp_path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def broken(:\n    pass\n", "SyntaxError"),
        ("import not_a_real_module_xyz\n", "ModuleNotFoundError: No module named 'not_a_real_module_xyz'"),
        ("raise RuntimeError('boom\\nsecond line')\n", "RuntimeError: boom second line"),
        ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    ],
)
def test_import_errors_are_reported_on_one_line(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, "bad.py", body)
    with pytest.raises(AgentLoadError) as info:
        load_agents(path)
    message = str(info.value)
    assert message.startswith(f"{path}: import failed: ") and expected in message
    assert "\n" not in message


def test_no_agents(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.py", "X = 1\n")
    with pytest.raises(AgentLoadError, match="empty.py: no agents found"):
        load_agents(path)
    path = write(tmp_path, "empty_list.py", "AGENTS = []\n")
    with pytest.raises(AgentLoadError, match="no agents found"):
        load_agents(path)


def test_item_that_is_not_an_agent_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.py", "ok = agent(name='ok')(lambda q: 'x')\nAGENTS = [ok, 'calculator']\n")
    with pytest.raises(AgentLoadError) as info:
        load_agents(path)
    assert "AGENTS[1] is not an Agent" in str(info.value) and "'calculator'" in str(info.value)
    path = write(tmp_path, "wrong_type.py", "AGENTS = {'a': 1}\n")
    with pytest.raises(AgentLoadError, match="AGENTS must be a list or tuple of agents, got dict"):
        load_agents(path)


def test_duplicate_names_name_both(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dupes.py",
        "first = agent(name='same')(lambda q: '1')\nsecond = agent(name='same')(lambda q: '2')\n",
    )
    with pytest.raises(AgentLoadError, match=r"dupes.py: duplicate agent name 'same' \(first and second\)"):
        load_agents(path)
    path = write(tmp_path, "dupes_list.py", "a = agent(name='twin')(lambda q: '1')\nAGENTS = [a, a]\n")
    with pytest.raises(AgentLoadError, match=r"'twin' \(AGENTS\[0\] and AGENTS\[1\]\)"):
        load_agents(path)


def test_definition_errors_surface_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "badname.py", "@agent(name='bad name')\ndef f(q: Query) -> str:\n    return 'x'\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agents(path)
    assert str(info.value).startswith(f"{path}: agent 'bad name'")
    path = write(
        tmp_path,
        "badsig.py",
        "@agent(name='needs-two')\ndef f(q: Query, extra: int) -> str:\n    return 'x'\n",
    )
    with pytest.raises(AgentDefinitionError, match=r"badsig.py: agent 'needs-two'.*exactly one positional"):
        load_agents(path)


def test_repo_toolbox_loads_and_answers() -> None:
    pool = load_agents(REPO / "agents" / "toolbox.py")
    assert pool.names == ["toolbox-calculator", "echo", "word-counter", "glossary"]
    assert ask(pool["toolbox-calculator"], "What is 6 * (3 + 4)?") == "42"
    assert ask(pool["word-counter"], "How many words are in 'one two three'?") == "3"
    assert ask(pool["glossary"], "What does KG stand for?") == "knowledge graph"
    attack = asyncio.run(pool["toolbox-calculator"].invoke(Query(id="q", text="__import__('os').getcwd() 1+1")))
    assert attack.answer != str(Path.cwd())


def test_repo_suite_tools_and_builtin_agents_agree() -> None:
    names = ["calculator", "unit-converter", "date-calculator", "kb-lookup", "kb-two-hop", "passage-reader",
             "generalist"]  # fmt: skip
    assert load_agents(REPO / "agents" / "suite_tools.py").names == names
    pool = builtin_agents(seed=3)
    assert pool.names == names
    assert all(spec.description and spec.skills for spec in pool.specs)
    assert ask(pool["calculator"], "What is 17 * 23?") == "391"


CLASS_ONLY = """
class Shouter(Agent):
    def __init__(self) -> None:
        super().__init__(name="shouter")

    def run(self, query: Query) -> str:
        return query.text.upper()
"""


def test_an_agent_class_never_instantiated_is_named(tmp_path: Path) -> None:
    with pytest.raises(AgentLoadError, match=r"no agents found: Shouter subclasses Agent .* `shouter = Shouter\(\)`"):
        load_agents(write(tmp_path, "only_class.py", CLASS_ONLY))
    beside = CLASS_ONLY + '\n@agent(name="echo")\ndef echo(q: Query) -> str:\n    return q.text\n'
    with pytest.warns(UserWarning, match="Shouter subclasses Agent but no instance"):
        pool = load_agents(write(tmp_path, "with_function.py", beside))
    assert [a.name for a in pool] == ["echo"]
    used = CLASS_ONLY + "\nshouter = Shouter()\n"
    assert [a.name for a in load_agents(write(tmp_path, "instantiated.py", used))] == ["shouter"]
