from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.cli import app
from agentroute.types import AgentRecord, RunRecord

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_log(path: Path, n: int = 60) -> Path:
    """A routing log where 'math' is right on arithmetic and 'trivia' on the rest."""
    lines = []
    for i in range(n):
        arithmetic = i % 2 == 0
        text = f"What is {i} plus {i + 1}?" if arithmetic else f"Who wrote book number {i} of the saga?"
        gold = str(2 * i + 1) if arithmetic else f"author {i}"
        agents = {
            "math": AgentRecord(score=1.0 if arithmetic else 0.0, pred=gold if arithmetic else "0"),
            "trivia": AgentRecord(score=0.0 if arithmetic else 1.0, pred="unknown" if arithmetic else gold),
            "guesser": AgentRecord(score=0.0, pred=f"guess {i}"),
        }
        rec = RunRecord(dataset="toy", qid=f"t{i}", split="test", question=text, gold=[gold], agents=agents)
        lines.append(rec.model_dump_json())
    path.write_text("\n".join(lines) + "\n")
    return path


def test_agents_list_builtin_json() -> None:
    code, stdout, _ = run("agents", "list", "--json")
    assert code == 0
    rows = json.loads(stdout)
    names = {r["name"] for r in rows}
    assert {"calculator", "kb-lookup", "passage-reader"} <= names
    assert all(r["description"] and isinstance(r["skills"], list) for r in rows)


def test_agents_list_from_file_and_missing_file() -> None:
    code, stdout, _ = run("agents", "list", "--agents", str(REPO / "agents" / "toolbox.py"), "--json")
    assert code == 0 and len(json.loads(stdout)) >= 2
    code, _, stderr = run("agents", "list", "--agents", "no/such/pool.py")
    assert code == 2
    assert "no/such/pool.py" in stderr


def test_ask_json_with_builtin_agents() -> None:
    code, stdout, _ = run("ask", "What is 12 * 7?", "--json")
    assert code == 0
    out = json.loads(stdout)
    assert out["answer"] == "84"
    assert out["router"] == "knn"
    assert out["selected"] and set(out["selected"]) <= set(out["probs"])
    assert abs(sum(out["probs"].values()) - 1.0) < 1e-6
    assert {r["agent"] for r in out["results"]} == set(out["selected"]) == set(out["called"])


def test_routers_lists_every_registered_router_with_what_it_does() -> None:
    from agentroute import router_info, router_names

    result = CliRunner().invoke(app, ["routers"])
    assert result.exit_code == 0
    listed = [line.split(maxsplit=1) for line in result.stdout.splitlines() if line.strip()]
    assert [name for name, _ in listed] == router_names()
    assert all(summary == router_info(name).summary for name, summary in listed)
    assert {"gnn", "gnn-top1", "knn", "reasoning", "multiround", "oracle"} <= set(router_names())


def test_unknown_router_is_bad_input() -> None:
    code, _, stderr = run("ask", "hi", "--router", "nope")
    assert code == 2
    assert "unknown router 'nope'" in stderr


def test_kg_ingest_stats_export_roundtrip(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=20)
    store = f"file:{tmp_path / 'kg.json'}"
    code, stdout, _ = run("kg", "ingest", "--logs", str(log), "--store", store, "--json")
    assert code == 0
    counts = json.loads(stdout)
    assert counts["queries"] == 20 and counts["agents"] == 3 and counts["entities"] > 0
    code, stdout, _ = run("kg", "stats", "--store", store, "--json")
    stats = json.loads(stdout)
    assert stats["Query"] == 20 and stats["Agent"] == 3 and stats["PERFORMED"] == 60
    code, stdout, _ = run("kg", "export", "--format", "json", "--store", store)
    snap = json.loads(stdout)
    assert len(snap["nodes"]["Query"]) == 20 and len(snap["relationships"]["PERFORMED"]) == 60
    out = tmp_path / "kg.graphml"
    assert run("kg", "export", "--format", "graphml", "--store", store, "--out", str(out))[0] == 0
    assert "<graphml" in out.read_text()
    code, stdout, _ = run("kg", "export", "--format", "cypher", "--store", store)
    assert code == 0 and stdout.count("MERGE (a)-[r:PERFORMED") == 60


def test_bad_log_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=5)
    with log.open("a") as f:
        f.write("{not json\n")
    code, _, stderr = run("bench", "run", "--logs", str(log), "--routers", "knn", "--folds", "2")
    assert code == 2
    assert stderr.startswith(f"error: {log}:6: invalid JSON")


def test_bench_run_json_and_report(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=60)
    code, stdout, stderr = run(
        "bench",
        "run",
        "--logs",
        str(log),
        "--folds",
        "3",
        "--routers",
        "knn,best-single,all,oracle",
        "--out",
        str(tmp_path / "rep"),
        "--jobs",
        "0",
        "--json",
    )
    assert code == 0
    workers = min(3, os.cpu_count() or 1)
    assert (f"running 3 folds in {workers} worker processes" in stderr) == (workers > 1)  # 0: one per core
    out = json.loads(stdout)
    assert out["n"] == 60 and out["folds"] == 3
    acc = {r["router"]: r["accuracy"] for r in out["results"]}
    assert acc["oracle"] == pytest.approx(1.0)
    assert acc["knn"] > acc["best-single"]
    assert (tmp_path / "rep" / "report.md").exists()
    assert list((tmp_path / "rep").glob("*.png"))


def test_bench_run_takes_router_options_and_rejects_bad_ones(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=40)
    base = ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,all", "--json"]
    code, stdout, _ = run(*base, "--options", '{"knn": {"k": 2}}')
    assert code == 0
    calls = {r["router"]: r["calls_per_query"] for r in json.loads(stdout)["results"]}
    assert calls["knn"] == 2 and calls["all"] == 3
    for bad, message in [
        ("{not json", "not valid JSON"),
        ('{"knn": 2}', "JSON object of router"),
        ('{"mlp": {}}', "not in --routers"),
        ('{"knn": {"no_such_option": 1}}', "no_such_option"),
        ('{"knn": {"k": "x"}}', 'knn: k expects an integer, got "x"'),
        ('{"knn": {"k": 1e400}}', "k expects an integer, got Infinity"),
    ]:
        code, _, stderr = run(*base, "--options", bad)
        assert code == 2 and "--options" in stderr and message in stderr, stderr
    gnn = ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", "gnn", "--json"]
    code, _, stderr = run(*gnn, "--options", '{"gnn": {"mass": "high"}}')  # a GNNConfig field, via **options
    assert code == 2 and 'gnn: mass expects a finite number, got "high"' in stderr, stderr
    code, _, stderr = run(*base, "--aggregator", "weighted-vote", "--aggregator-options", '{"reliability": "no"}')
    assert code == 2 and "reliability expects true or false" in stderr, stderr


def test_train_writes_a_checkpoint(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=40)
    ckpt = tmp_path / "model.pt"
    code, stdout, _ = run("train", "--logs", str(log), "--out", str(ckpt), "--epochs", "3", "--device", "cpu", "--json")
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["questions"] == 40 and summary["agents"] == 3 and summary["device"] == "cpu"
    assert ckpt.stat().st_size > 0
    # asked with the built-in pool, none of whose agents the log named: said, and routed by description
    code, _, stderr = run("ask", "What is 2 plus 2?", "--model", str(ckpt))
    assert code == 0 and f"warning: {ckpt} was trained on other agents (" in stderr, stderr
    assert "none is in this pool, so every agent is routed as new, by its description" in stderr


def test_logs_scored_outside_0_1_get_a_warning_from_every_command_that_reads_them(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.jsonl"  # the same log, scored as 1-10 ratings
    rows = [json.loads(line) for line in write_log(tmp_path / "log.jsonl", n=40).read_text().splitlines()]
    for row in rows:
        for cell in row["agents"].values():
            cell["score"] = 1 + 9 * cell["score"]
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    warning = f"warning: {ratings}: scores range over [1, 10], but routers read them on [0, 1]"
    code, _, stderr = run("bench", "run", "--logs", str(ratings), "--folds", "2", "--routers", "best-single")
    assert code == 0 and warning in stderr
    code, _, stderr = run("train", "--logs", str(ratings), "--out", str(tmp_path / "m.pt"), "--epochs", "1")
    assert code == 0 and warning in stderr
    code, _, stderr = run("kg", "ingest", "--logs", str(ratings), "--store", f"file:{tmp_path / 'kg.json'}")
    assert code == 0 and warning in stderr
    code, _, stderr = run("bench", "run", "--logs", str(tmp_path / "log.jsonl"), "--folds", "2", "--routers", "knn")
    assert code == 0 and "warning" not in stderr


def test_bench_run_on_a_large_log_suggests_jobs_on_a_machine_with_cores_to_spare(tmp_path: Path) -> None:
    big, small = write_log(tmp_path / "big.jsonl", n=2000), write_log(tmp_path / "small.jsonl", n=40)
    code, _, stderr = run("bench", "run", "--logs", str(big), "--folds", "2", "--routers", "best-single")
    assert code == 0
    assert ("tip: --jobs 0 runs the 2 folds side by side" in stderr) == ((os.cpu_count() or 1) > 1)
    code, _, stderr = run("bench", "run", "--logs", str(small), "--folds", "2", "--routers", "best-single")
    assert code == 0 and "tip:" not in stderr


def test_train_needs_a_source(tmp_path: Path) -> None:
    code, _, stderr = run("train", "--out", str(tmp_path / "m.pt"))
    assert code == 2 and "--logs" in stderr


def test_quickstart_json_small(tmp_path: Path) -> None:
    code, stdout, _ = run("quickstart", "--train", "150", "--test", "60", "--json", "--out", str(tmp_path / "qs"))
    assert code == 0
    out = json.loads(stdout)
    assert out["n_test"] == 60
    routers = {r["router"] for r in out["results"]}
    assert {"gnn", "gnn-top1", "knn", "mlp", "best-single", "all", "random", "oracle"} <= routers
    assert out["oracle"] > out["best_single"]
    assert all(0.0 <= r["accuracy"] <= out["oracle"] + 1e-9 for r in out["results"])
    calls = {r["router"]: r["calls_per_query"] for r in out["results"]}
    assert calls["all"] == 7 and calls["gnn-top1"] == 1  # agents actually called per question
    assert 1 <= calls["gnn"] <= 3
    # every router is compared with best single on the same questions (the table's Δ columns)
    report = {r["router"]: r for r in json.loads((tmp_path / "qs" / "report.json").read_text())["results"]}
    assert report["best-single"]["vs_best_single"]["diff"] == 0.0
    for name, r in report.items():
        paired = r["vs_best_single"]
        accuracy = {x["router"]: x["accuracy"] for x in out["results"]}
        assert paired["diff"] == pytest.approx(accuracy[name] - out["best_single"])
        assert paired["low"] <= paired["diff"] <= paired["high"]
    assert report["oracle"]["vs_best_baseline"]["against"] in {"knn", "mlp", "best-single", "all", "random"}


def test_profile_writes_a_routing_log_and_resumes_without_duplicates(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    rows = [{"id": f"q{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(12)]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "runs.jsonl"
    toolbox = str(REPO / "agents" / "toolbox.py")
    code, stdout, _ = run(
        "profile", "--data", str(data), "--agents", toolbox, "--out", str(out), "--limit", "5", "--json"
    )
    assert code == 0 and json.loads(stdout)["profiled"] == 5
    with out.open("a") as f:  # a run killed in the middle of writing a line
        f.write('{"qid": "q5", "question": "What is 5')
    code, _, stderr = run("profile", "--data", str(data), "--agents", toolbox, "--out", str(out))
    assert code == 2 and "--resume" in stderr
    code, stdout, _ = run("profile", "--data", str(data), "--agents", toolbox, "--out", str(out), "--resume", "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["skipped"] == 5 and summary["profiled"] == 7
    records = [RunRecord.model_validate_json(line) for line in out.read_text().splitlines()]
    assert sorted(r.qid for r in records) == sorted(f"q{i}" for i in range(12))
    calc = [r.agents["toolbox-calculator"].score for r in records]
    assert sum(s or 0 for s in calc) >= 10  # the calculator answers "i + i" questions
    code, stdout, _ = run("bench", "run", "--logs", str(out), "--folds", "2", "--routers", "knn,oracle", "--json")
    assert code == 0 and json.loads(stdout)["n"] == 12
    # tool agents report no cost: none is recorded, so a prices file can price their calls later
    assert all(c.cost_usd is None for r in records for c in r.agents.values())
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({a: {"per_call": 0.001 * (i + 1)} for i, a in enumerate(records[0].agents)}))
    args = ["bench", "run", "--logs", str(out), "--folds", "2", "--routers", "all", "--prices", str(prices), "--json"]
    code, stdout, _ = run(*args)
    (all_agents,) = json.loads(stdout)["results"]
    assert code == 0 and all_agents["cost_per_query"] > 0
    other = tmp_path / "other.jsonl"  # resuming on another QA file, or with another pool, is refused
    other.write_text(json.dumps({"id": "z1", "question": "What is 1 + 1?", "answer": "2"}) + "\n")
    code, _, stderr = run("profile", "--data", str(other), "--agents", toolbox, "--out", str(out), "--resume")
    assert code == 2 and "holds questions that are not in --data (e.g. 'q0')" in stderr, stderr
    pool = tmp_path / "pool.py"
    pool.write_text("from agentroute import agent\n@agent(name='solo')\ndef solo(q):\n    return '1'\n")
    code, _, stderr = run("profile", "--data", str(data), "--agents", str(pool), "--out", str(out), "--resume")
    assert code == 2 and "the pool has solo" in stderr, stderr
    grown = tmp_path / "grown.py"  # the same pool and one agent more: its rows would lack the new agent
    grown.write_text(Path(toolbox).read_text() + "\n\n@agent(name='newcomer')\ndef newcomer(q):\n    return '1'\n")
    code, _, stderr = run("profile", "--data", str(data), "--agents", str(grown), "--out", str(out), "--resume")
    assert code == 2 and "newcomer" in stderr and "profile a changed pool into another --out" in stderr, stderr
    assert len(out.read_text().splitlines()) == 12  # nothing was added


def test_profile_keeps_failed_calls_errors_and_says_how_many_failed(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text(
        "\n".join(json.dumps({"id": f"q{i}", "question": f"What is {i}?", "answer": str(i)}) for i in range(3))
    )
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute import agent\n"
        "@agent(name='down')\ndef down(q):\n    raise ConnectionError('endpoint down')\n"
        "@agent(name='echo')\ndef echo(q):\n    return q.text.split()[-1].rstrip('?')\n"
    )
    out = tmp_path / "runs.jsonl"
    code, stdout, stderr = run("profile", "--data", str(data), "--agents", str(pool), "--out", str(out), "--json")
    assert code == 0 and json.loads(stdout)["failed_calls"] == 3
    assert "warning: failed calls" in stderr and "down 3/3" in stderr  # shown even with --json
    rows = [RunRecord.model_validate_json(line) for line in out.read_text().splitlines()]
    assert {(r.agents["down"].score, r.agents["down"].error) for r in rows} == {(0.0, "ConnectionError: endpoint down")}
    assert all(r.agents["echo"].score == 1.0 and r.agents["echo"].error is None for r in rows)
    code, _, stderr = run(
        "profile", "--data", str(data), "--agents", str(pool), "--out", str(out) + "2", "--timeout", "0"
    )
    assert code == 2 and "--timeout" in stderr


def test_ask_stream_prints_events_as_json_lines_then_the_result() -> None:
    toolbox = str(REPO / "agents" / "toolbox.py")
    code, stdout, _ = run("ask", "What is 12 * 7?", "--agents", toolbox, "--router", "all", "--stream", "--json")
    assert code == 0
    lines = [json.loads(line) for line in stdout.splitlines()]
    events, result = lines[:-1], lines[-1]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "decision" and kinds[-1] == "answer"
    n = len(result["called"])
    assert n > 1 and sorted(kinds[1:-1]) == ["agent_finish"] * n + ["agent_start"] * n
    finished = {e["agent"]: e for e in events if e["event"] == "agent_finish"}
    assert finished["toolbox-calculator"]["answer"] == "84" and finished["toolbox-calculator"]["error"] is None
    assert result["answer"] == events[-1]["answer"] == "84"


def test_ask_stream_prints_readable_lines() -> None:
    toolbox = str(REPO / "agents" / "toolbox.py")
    code, stdout, _ = run("ask", "What is 12 * 7?", "--agents", toolbox, "--router", "all", "--stream")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].startswith("routed by all: ")
    assert any(line.strip().startswith("toolbox-calculator finished in") and line.endswith("'84'") for line in lines)
    assert "answer: 84" in lines


def test_ask_says_why_when_no_agent_answered(tmp_path: Path) -> None:
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute import agent\n@agent(name='down')\ndef down(q):\n    raise ConnectionError('offline')\n"
    )
    code, stdout, _ = run("ask", "What is 2 plus 2?", "--agents", str(pool), "--json")
    out = json.loads(stdout)
    assert code == 1 and out["answer"] == "" and "no agent answered" in out["error"]  # a script can tell
    assert out["results"] == [{"agent": "down", "answer": None, "error": "ConnectionError: offline"}]
    code, stdout, _ = run("ask", "What is 2 plus 2?", "--agents", str(pool))
    assert code == 1 and "(no answer: no agent answered" in stdout


def test_ask_uses_a_router_the_agents_file_registers(tmp_path: Path) -> None:
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute import BaseRouter, RoutingDecision, agent, register_router\n"
        "@agent(name='terse', description='Says yes.')\ndef terse(q):\n    return 'yes'\n"
        "@agent(name='wordy', description='Says yes, with many more words.')\ndef wordy(q):\n    return 'yes indeed'\n"
        "@register_router('longest-description')\n"
        "class Longest(BaseRouter):\n"
        "    name = 'longest-description'\n"
        "    def __init__(self, seed=0):\n        self.seed = seed\n"
        "    def route(self, graph, k=None):\n"
        "        best = max(graph.agents, key=lambda a: len(a.description))\n"
        "        return RoutingDecision(router=self.name, probs={a.name: float(a is best) for a in graph.agents},"
        " selected=[best.name])\n"
    )
    code, stdout, stderr = run("ask", "Is it?", "--agents", str(pool), "--router", "longest-description", "--json")
    assert code == 0, stderr
    out = json.loads(stdout)
    assert (out["router"], out["selected"], out["answer"]) == ("longest-description", ["wordy"], "yes indeed")


def test_ask_json_stdout_holds_only_json_when_agents_print(tmp_path: Path) -> None:
    pool = tmp_path / "chatty.py"
    pool.write_text(
        "from agentroute import agent\n"
        "@agent(name='chatty')\n"
        "def chatty(q):\n"
        "    print('debug: thinking about', q.text)\n"
        "    return '42'\n"
    )
    code, stdout, stderr = run("ask", "What is 6 times 7?", "--agents", str(pool), "--json")
    assert code == 0 and json.loads(stdout)["answer"] == "42"  # one JSON object, nothing else
    assert "debug: thinking about" in stderr


def test_ask_with_a_checkpoint_warns_when_the_store_has_no_history(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", n=40)
    ckpt = tmp_path / "m.pt"
    assert run("train", "--logs", str(log), "--out", str(ckpt), "--epochs", "1")[0] == 0
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute import agent\n"
        "@agent(name='math')\ndef math(q):\n    return '4'\n"
        "@agent(name='trivia')\ndef trivia(q):\n    return 'x'\n"
    )
    code, _, stderr = run("ask", "What is 2 plus 2?", "--agents", str(pool), "--model", str(ckpt))
    assert code == 0 and "warning: the in-memory store (no --store given) holds no scored questions" in stderr
    store = f"file:{tmp_path / 'kg.json'}"
    assert run("kg", "ingest", "--logs", str(log), "--store", store)[0] == 0
    code, _, stderr = run("ask", "What is 2 plus 2?", "--agents", str(pool), "--model", str(ckpt), "--store", store)
    assert code == 0 and "no scored questions" not in stderr


def test_bench_run_refuses_what_it_would_silently_ignore(tmp_path: Path) -> None:
    log = str(write_log(tmp_path / "log.jsonl", n=40))
    code, _, stderr = run("bench", "run", "--logs", log, "--routers", "all", "--aggregator", "refine")
    assert code == 2 and "--aggregator refine: needs an LLM on every question" in stderr
    code, _, stderr = run("bench", "run", "--logs", log, "--test-logs", log, "--folds", "3", "--routers", "all")
    assert code == 2 and "--folds: no folds with --test-logs" in stderr
    code, stdout, _ = run("bench", "run", "--logs", log, "--routers", "all", "--aggregate", "majority", "--json")
    assert code == 0 and json.loads(stdout)["results"][0]["router"] == "all"  # ask's spelling works here too


def test_profile_warns_when_questions_have_no_gold(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    rows = [{"id": "g", "question": "What is 1 + 1?", "answer": "2"}, {"id": "n", "question": "What is 2 + 2?"}]
    rows.append({"id": "e", "question": "What is 3 + 3?", "gold": []})  # an empty gold list is no gold either
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    toolbox = str(REPO / "agents" / "toolbox.py")
    code, _, stderr = run("profile", "--data", str(data), "--agents", toolbox, "--out", str(tmp_path / "o.jsonl"))
    assert code == 0 and "warning: 2 of 3 questions have no gold answer" in stderr, stderr


def test_train_on_a_log_of_one_agent_warns(tmp_path: Path) -> None:
    log = tmp_path / "one.jsonl"
    rows = [{"qid": f"q{i}", "question": f"What is {i}?", "agents": {"solo": {"score": 1.0}}} for i in range(30)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, stderr = run("train", "--logs", str(log), "--out", str(tmp_path / "m.pt"), "--epochs", "1")
    assert code == 0 and "scores one agent (solo): the router has nothing to choose" in stderr, stderr


def test_profile_out_with_a_trailing_slash_is_a_folder(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "What is 1 + 1?", "answer": "2"}) + "\n")
    toolbox = str(REPO / "agents" / "toolbox.py")
    folder = tmp_path / "new"
    code, stdout, stderr = run("profile", "--data", str(data), "--agents", toolbox, "--out", f"{folder}/", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["out"] == str(folder / "results.jsonl") and (folder / "results.jsonl").is_file()
