"""A sentinel API key must never reach any output: stdout, stderr, --json, log records (DEBUG included),
files written (routing logs, reports, checkpoints), reprs and error messages -- even when the endpoint
echoes the key back in an error."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from typer.testing import CliRunner

from agentroute.agents.loading import load_agents
from agentroute.cli import app
from agentroute.llm import LLMSettings
from agentroute.testing.chat_server import ChatRequest, Reply

SENTINEL = "sk-SENTINEL-7f3a9c1e5b"
POOL = "from agentroute.agents.llm import llm_pool\nAGENTS = llm_pool(['good', 'leaky'], ['direct', 'cot'])\n"


def reply(request: ChatRequest) -> str | Reply:
    if request.model == "leaky":  # a provider that quotes the key it refused
        return Reply(status=400, text=f"Incorrect API key provided: {SENTINEL}. Check your key.")
    if "refining agent" in request.system:
        return "Answer: 4"
    return "Answer: 4"


def test_sentinel_key_never_appears(chat_server, tmp_path: Path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    for var in ("AGENTROUTE_BASE_URL", "OPENAI_BASE_URL", "AGENTROUTE_LLM_MODEL", "AGENTROUTE_LLM_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MY_PROVIDER_KEY", SENTINEL)
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    server = chat_server(reply, require_key=SENTINEL)
    refusing = chat_server(["never"], require_key="another-key")
    pool = tmp_path / "pool.py"
    pool.write_text(POOL)
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "\n".join(
            json.dumps({"id": f"q{i}", "question": f"What is {i} plus 4?", "answer": str(i + 4)}) for i in range(6)
        )
        + "\n"
    )
    key = ["--api-key-env", "MY_PROVIDER_KEY", "--llm-model", "good"]
    runner = CliRunner()
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        result = runner.invoke(app, list(args))
        outputs.extend([result.stdout, result.stderr])
        assert result.exit_code == code, result.stderr

    run(
        "ask",
        "What is 2 plus 2?",
        "--agents",
        str(pool),
        "--router",
        "all",
        "--aggregate",
        "refine",
        "--base-url",
        server.url,
        *key,
        "--json",
    )
    run("ask", "What is 2 plus 2?", "--agents", str(pool), "--router", "all", "--base-url", server.url, *key)
    run("ask", "What is 2 plus 2?", "--agents", str(pool), "--router", "all", "--base-url", server.url)  # env key
    log = tmp_path / "log.jsonl"
    run(
        "profile", "--data", str(qa), "--out", str(log), "--agents", str(pool), "--base-url", server.url, *key, "--json"
    )
    run(
        "bench",
        "run",
        "--logs",
        str(log),
        "--folds",
        "2",
        "--routers",
        "knn,best-single",
        "--out",
        str(tmp_path / "report"),
        "--json",
    )
    run("train", "--logs", str(log), "--out", str(tmp_path / "model.pt"), "--epochs", "1", "--json")
    run("ask", "What is 2 plus 2?", "--agents", str(pool), "--router", "all", "--base-url", refusing.url, *key, code=2)

    assert any("Incorrect API key provided: ***" in o for o in outputs)  # the echo reached us, scrubbed
    assert "refused the API key" in outputs[-1]
    written = [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert any("leaky-direct" in text for text in written)  # the routing log and reports were searched
    settings = LLMSettings(base_url=server.url, api_key_env="MY_PROVIDER_KEY")
    agents = load_agents(pool)
    for agent in agents:
        agent.connect(settings)
    reprs = [
        repr(settings),
        *(repr(a) for a in agents),
        *(repr(m) for m in settings.models),
        *(repr(m.__dict__) for m in settings.models),
    ]
    texts = outputs + written + reprs + [caplog.text]
    assert caplog.records  # DEBUG logging of the openai client and httpx was on
    assert not [t[:200] for t in texts if SENTINEL in t]
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {SENTINEL}"  # the key was really used


def test_redact_blanks_env_secrets_key_shapes_and_url_credentials() -> None:
    from agentroute.secrets import redact

    env = {"MY_SERVICE_TOKEN": "plain-value-123456", "HOME": "/home/someone-long"}
    text = "plain-value-123456 sk-abcdefghijkl bearer tok3n-abcdef https://al:pw@host/v1 /home/someone-long"
    assert redact(text, env) == "*** *** *** https://***@host/v1 /home/someone-long"
    assert redact("postgres://user:p@ss@db:5432/x", env) == "postgres://***@db:5432/x"  # up to the last @
    for unencoded in ("bolt://neo4j:hunter2#x@db:7687", "http://bob:hun/ter2@db:7687", "bolt://u:p?w@db:7687"):
        assert redact(f"failed: {unencoded}.", env) == f"failed: {unencoded.split('://')[0]}://***@db:7687."
    short = {"NEO4J_PASSWORD": "hunter2", "NEO4J_AUTH": "neo4j/s3cret", "PGPASS": "pgpass9", "PWD": "/home/me"}
    assert redact("hunter2 neo4j/s3cret pgpass9 /home/me", short) == "*** *** *** /home/me"  # PWD: a folder
    assert redact("Authorization: Basic dXNlcjpwYXNzd29yZA==", env) == "Authorization: Basic ***"
    nested = {"DB_PASSWORD": "pass1234", "SERVICE_SECRET": "pass1234EXTRA-tail"}  # one begins the other
    assert redact("got pass1234EXTRA-tail and pass1234.", nested) == "got *** and ***."
    assert redact("host=db password=pg999 user=u; GET /v1?api_key=abc123&q=1", env) == (
        "host=db password=*** user=u; GET /v1?api_key=***&q=1"
    )
    assert redact('refused {"api_key": "abc123", "model": "m"}', env) == 'refused {"api_key": "***", "model": "m"}'
    assert redact("redis://default:2024#Secret@cache:6379 postgres://u:p@ss/word@db", env) == (
        "redis://***@cache:6379 postgres://***@db"
    )
    # answers stay as they are: prose, code, addresses that only look alike
    prose = (
        'Basic Instinct (1992); Visual Basic; password = input("Password: "); if password == "x"; '
        'api_key = os.environ["KEY"]; http://[::1]:8080/api?user=a@b.com; PWD=/home/me'
    )
    assert redact(prose, env) == prose
    names = {"AUTH_PROVIDER": "github", "SSH_AUTH_SOCK": "/tmp/ssh-agent.1", "DB_PASS": "pass123456"}
    assert redact("github /tmp/ssh-agent.1 pass123456", names) == "github /tmp/ssh-agent.1 ***"
    innocent = "http://host:8080/v1?mail=a@b.com, the Bearer of bad news, basic arithmetic questions"
    assert redact(innocent, env) == innocent


def test_an_agent_that_quotes_a_key_in_its_error_never_shows_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("UPSTREAM_API_KEY", "plainsecretvalue42")
    pool = tmp_path / "pool.py"
    pool.write_text(
        "import os\nfrom agentroute import agent\n"
        "@agent(name='raiser')\ndef raiser(q):\n"
        "    raise RuntimeError('upstream said: invalid key ' + os.environ['UPSTREAM_API_KEY'])\n"
        "@agent(name='fine')\ndef fine(q):\n    return '42'\n"
    )
    runner = CliRunner()
    for extra in (["--json"], [], ["--stream"]):
        result = runner.invoke(app, ["ask", "What is 40 plus 2?", "--agents", str(pool), "--router", "all", *extra])
        assert result.exit_code == 0, result.stderr
        assert "42" in result.stdout
        assert "plainsecretvalue42" not in result.stdout + result.stderr
        assert "invalid key ***" in result.stdout + result.stderr


def test_credentials_in_the_base_url_never_reach_an_error(tmp_path: Path, monkeypatch) -> None:
    from agentroute.testing.ports import free_port

    for var in ("AGENTROUTE_BASE_URL", "OPENAI_BASE_URL", "AGENTROUTE_LLM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    pool = tmp_path / "pool.py"
    pool.write_text(POOL)
    url = f"http://user:pwsecret999@127.0.0.1:{free_port()}/v1"
    result = CliRunner().invoke(
        app, ["ask", "What is 2 plus 2?", "--agents", str(pool), "--base-url", url, "--llm-model", "good"]
    )
    assert result.exit_code == 2
    assert "cannot reach the LLM endpoint http://***@127.0.0.1" in result.stderr
    assert "pwsecret999" not in result.stdout + result.stderr


def test_a_router_models_error_quoting_credentials_never_reaches_the_rationale() -> None:
    from agentroute import AgentRoute, agent
    from agentroute.routers.reasoning import ReasoningRouter
    from agentroute.testing.scripted import ScriptedChatModel

    def fails(messages: list[dict[str, str]], params: dict) -> str:
        raise RuntimeError("upstream bolt://neo4j:hunter2@db refused sk-test-SECRET123456")

    @agent(name="echo", description="Repeats the question.")
    def echo(q) -> str:  # type: ignore[no-untyped-def]
        return q.text

    with AgentRoute([echo], ReasoningRouter(ScriptedChatModel(fails), fallback="all")) as ar:
        rationale = ar.ask("What is 2 plus 2?").decision.rationale or ""
    assert "the router model failed" in rationale or "fell back" in rationale, rationale
    assert "hunter2" not in rationale and "SECRET123456" not in rationale and "bolt://***@db" in rationale
