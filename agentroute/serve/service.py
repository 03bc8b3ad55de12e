"""``RoutingService``: what the HTTP app calls. A thin layer over ``AgentRoute`` plus the routing memory.

Every answered request is recorded in the graph store (query, entities, each called agent's answer, cost
and latency; no score). Feedback later writes scores onto that run's PERFORMED edges and adds the run to
the query-graph history, so the next similar question is routed with it; ``refit_every`` also retrains the
routers every N feedbacks. Served runs stay out of the history until they have a score, so unscored
traffic never crowds scored neighbours out of a query graph.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentroute.agents.executor import AgentExecutor
from agentroute.agents.pool import AgentPool
from agentroute.kg.store import Flushes, GraphStore
from agentroute.kg.view import graph_view
from agentroute.llm import LLMSettings, connect_parts
from agentroute.normalize import exact_match, normalize_answer
from agentroute.routers.base import Router, TracksSpend
from agentroute.routers.registry import make_router, router_info, router_names
from agentroute.types import SERVED_DATASET, AgentRecord, AgentResult, Answer, Query, RunRecord
from agentroute.workflow import AgentRoute, answer_channels, answer_from, recorded_cost

log = logging.getLogger("agentroute.serve")

SERVED = SERVED_DATASET  # the ``dataset`` of Query nodes recorded by the server
BASE_MODEL = "agentroute"
_BATCH_WAIT_S = 0.01  # how long a served run waits for others to be recorded with it


class UnknownModel(ValueError):
    """A ``model`` that names no router."""


class UnknownRun(KeyError):
    """A completion id the store holds no served run for."""


@dataclass
class Served:
    """One answered request: what the response and the store are built from."""

    id: str
    model: str
    query: Query
    answer: Answer
    latency_s: float
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def failed(self) -> list[AgentResult]:
        return [r for r in self.answer.results if r.error is not None]


def scored_history(store: GraphStore) -> list[RunRecord]:
    """The store's runs that carry at least one score (what routers may learn from)."""
    return [r for r in store.history() if r.scores()]


class RoutingService:
    """Answers questions through one ``AgentRoute`` per router, sharing one store and one query-graph builder.

    ``router`` is the default (``model="agentroute"``); ``model="agentroute:NAME"`` builds and fits router
    NAME on first use. ``fitted=True`` means ``router`` is already trained (a checkpoint): it is never refit.
    Agents and routers that call an LLM by name are bound to ``llm``'s endpoint (unset: the environment's).
    """

    def __init__(
        self,
        agents: AgentPool,
        router: Router,
        store: GraphStore,
        *,
        fitted: bool = False,
        seed: int = 0,
        k: int | None = None,
        timeout_s: float | None = 60.0,
        refit_every: int = 0,
        llm: LLMSettings | None = None,
        redact: Callable[[str | None], str | None] = lambda text: text,
    ) -> None:
        self.agents, self.store, self.seed, self.llm = agents, store, seed, llm
        self.redact = redact  # what the store keeps of the answers (an agent may echo a secret)
        if llm is not None:  # else each part keeps its own settings (or the environment's, on first use)
            connect_parts([*agents, router], llm, check=False)
        self.k, self.timeout_s, self.refit_every = k, timeout_s, refit_every
        self.default = router.name
        self.executor = AgentExecutor()  # one pool of agent threads for every router's AgentRoute
        history = scored_history(store)
        main = AgentRoute(agents, router, store=store, k=k, timeout_s=timeout_s, executor=self.executor)
        if not fitted and history:
            main.fit(history)  # also makes the scored runs the query graphs' history
        else:
            main.builder.set_history(history)
        self._frozen = {router.name} if fitted else set()
        self._engines: dict[str, AgentRoute] = {router.name: main}
        self._building: dict[str, asyncio.Future[AgentRoute]] = {}  # routers being built on first use
        self._refit_lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[None]] = {}  # run id -> its recording batch
        self._batch: list[Served] = []
        self._batch_done: asyncio.Future[None] | None = None
        self._feedbacks = 0
        self._refit_queued = False
        # completion ids: random per server start (unique across restarts sharing a store), then a counter
        self._id_prefix, self._ids = secrets.token_hex(8), itertools.count()
        self._background: set[asyncio.Task[Any]] = set()

    # -- models ------------------------------------------------------------------------------------------

    def models(self) -> list[str]:
        """``agentroute`` (the default router) and ``agentroute:NAME`` for every deployable router (not those
        that read the recorded scores of the question itself, like ``oracle``)."""
        names = sorted({n for n in router_names() if not router_info(n).reads_scores} | {self.default})
        return [BASE_MODEL] + [f"{BASE_MODEL}:{n}" for n in names]

    def router_of(self, model: str) -> str:
        if model == BASE_MODEL:
            return self.default
        prefix, _, name = model.partition(":")
        if prefix == BASE_MODEL and name in self._engines:
            return name
        if prefix != BASE_MODEL or not name or f"{BASE_MODEL}:{name}" not in self.models():
            raise UnknownModel(f"unknown model {model!r}: expected one of {', '.join(self.models())}")
        return name

    async def engine(self, model: str) -> AgentRoute:
        """The ``AgentRoute`` for a model name; a router not built yet is built and fitted (in a thread),
        once: requests for it wait on that one build, which a request that stops waiting does not stop."""
        name = self.router_of(model)
        ar = self._engines.get(name)
        if ar is not None:
            return ar
        build = self._building.get(name)
        if build is None:
            build = self._building[name] = asyncio.ensure_future(asyncio.to_thread(self._build, name))
            build.add_done_callback(functools.partial(self._built, name))
        return await asyncio.shield(build)

    def _built(self, name: str, build: asyncio.Future[AgentRoute]) -> None:
        self._building.pop(name, None)
        if build.cancelled():
            return
        error = build.exception()
        if error is None:
            self._engines.setdefault(name, build.result())
        else:  # the requests that waited for it may have given up: the operator hears it here
            log.warning("building router %r failed: %s: %s", name, type(error).__name__, error)

    def _build(self, name: str) -> AgentRoute:
        main = self._engines[self.default]
        router = make_router(name, seed=self.seed)
        if self.llm is not None:
            connect_parts([router], self.llm, check=False)
        ar = AgentRoute(
            self.agents,
            router,
            store=self.store,
            builder=main.builder,
            k=self.k,
            timeout_s=self.timeout_s,
            executor=self.executor,
        )
        history = scored_history(self.store)
        if history and _trainable(name):
            ar.fit(history)
        return ar

    def budgets(self) -> list[dict[str, Any]]:
        """Each router served so far that paces a budget (a checkpoint calibrated with ``--target-cost``):
        its target and how the questions it answered have spent it (``TracksSpend.budget``)."""
        out = []
        for name, ar in sorted(self._engines.items()):
            budget = ar.router.budget() if isinstance(ar.router, TracksSpend) else None
            if budget is not None:
                model = BASE_MODEL if name == self.default else f"{BASE_MODEL}:{name}"
                out.append({"model": model, "router": name, **budget})
        return out

    # -- asking ------------------------------------------------------------------------------------------

    def query(self, question: str, context: Sequence[str] = ()) -> Query:
        if not question.strip():
            raise ValueError("the last user message is empty: there is no question to route")
        return Query(id=f"chatcmpl-{self._id_prefix}{next(self._ids):08x}", text=question, context=list(context))

    async def ask(self, model: str, query: Query) -> Served:
        """Route, run and aggregate one question, then record it (in the background)."""
        ar = await self.engine(model)
        start = time.perf_counter()
        answer = await ar.aask(query)
        served = Served(query.id, model, query, answer, time.perf_counter() - start)
        self.remember(served)
        return served

    async def events(self, model: str, query: Query, graph: bool = False) -> AsyncGenerator[tuple[str, Any], None]:
        """The pipeline as it runs: ``("graph", dict)`` (when asked), ``("decision", RoutingDecision)``,
        ``("agent", AgentResult)`` per agent as it finishes, then ``("answer", Served)``."""
        ar = await self.engine(model)
        start = time.perf_counter()
        output: dict[str, Any] = {}
        channels = [*answer_channels(), "graph"]  # the updates stream shows only these channels too
        stream = ar.compiled.astream({"question": query}, stream_mode=["updates", "values"], output_keys=channels)
        async for mode, update in stream:
            if mode == "values":
                output = update
                continue
            for node, out in update.items():
                if not out:
                    continue
                if node == "build_graph" and graph:
                    yield "graph", graph_view(out["graph"])
                elif node == "route" and "decision" in out:  # a multi-round router's turns carry none
                    yield "decision", out["decision"]
                elif node == "run_agent":
                    for result in out["results"]:
                        yield "agent", result
        if "answer" not in output:  # pragma: no cover - the graph always ends in aggregate
            raise RuntimeError("the router graph ended without an answer")
        answer = answer_from(output)
        served = Served(query.id, model, query, answer, time.perf_counter() - start)
        self.remember(served)
        yield "answer", served

    # -- routing memory ----------------------------------------------------------------------------------

    def remember(self, served: Served) -> None:
        """Record a served run without delaying the response: runs that arrive together are written in one
        batch (one thread hop and one store transaction); feedback on a run waits for its batch."""
        if self._batch_done is None:
            self._batch_done = asyncio.get_running_loop().create_future()
            self._spawn(self._flush_soon())
        self._batch.append(served)
        self._pending[served.id] = self._batch_done

    async def _flush_soon(self) -> None:
        await asyncio.sleep(_BATCH_WAIT_S)
        batch, done = self._batch, self._batch_done
        self._batch, self._batch_done = [], None
        try:
            await asyncio.to_thread(self._record, batch)
        except Exception as e:  # noqa: BLE001 - a store hiccup must not take the server down
            log.error("recording %d served runs failed: %s: %s", len(batch), type(e).__name__, e)
        finally:
            for served in batch:
                self._pending.pop(served.id, None)
            if done is not None:
                done.set_result(None)

    def _record(self, batch: Sequence[Served]) -> None:
        extract = self._engines[self.default].builder.extractor.extract
        runs, nodes = [], []
        now = time.time()
        for served in batch:
            answer, d = served.answer, served.answer.decision
            cells = {
                r.agent: AgentRecord(
                    pred=self.redact(r.answer),
                    cost_usd=recorded_cost(self.agents.get(r.agent), r),
                    latency_s=round(r.latency_s, 6),
                )
                for r in answer.results
            }
            runs.append(RunRecord(qid=served.id, question=served.query.text, dataset=SERVED, agents=cells))
            nodes.append(
                {
                    "id": served.id,
                    "served_at": now,
                    "model": served.model,
                    "router": d.router,
                    "answer": self.redact(answer.text),
                    "selected": list(d.selected),
                    "called": [r.agent for r in answer.results],
                    "failed": [r.agent for r in served.failed],
                    "latency_s": round(served.latency_s, 6),
                    "cost": sum(r.cost for r in answer.results),
                }
            )
        self.store.record_many(runs, [[e.id for e in extract(r.question)] for r in runs])
        self.store.upsert_nodes("Query", nodes)

    async def recorded(self, id: str | None = None) -> None:
        """Wait until run ``id`` (default: every run served so far) is in the store."""
        pending = self._pending.get(id) if id is not None else self._batch_done
        if pending is not None:
            await asyncio.shield(pending)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait until every served run has been recorded and background refits are done."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def feedback(
        self,
        id: str,
        score: float | None = None,
        preferred: str | None = None,
        scores: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        """Score a served run: ``score`` of the served answer, or a ``preferred`` answer, or per-agent
        ``scores``. Returns the scores written onto the run's PERFORMED edges."""
        await self.recorded(id)
        written, first = await asyncio.to_thread(self._feedback, id, score, preferred, scores)
        self._feedbacks += first  # feedback again on one run changes its scores, not how much was learned
        if first and self.refit_every > 0 and self._feedbacks % self.refit_every == 0 and not self._refit_queued:
            self._refit_queued = True  # at most one refit waiting behind the one running: they coalesce
            self._spawn(self._queued_refit())
        return {"id": id, "scores": written}

    async def _queued_refit(self) -> None:
        async with self._refit_lock:
            self._refit_queued = False  # feedback from now on may queue the next one
            await self._refit_unlocked()

    def _feedback(
        self, id: str, score: float | None, preferred: str | None, scores: Mapping[str, float] | None
    ) -> tuple[dict[str, float], bool]:
        """The scores written, and whether this was the run's first feedback."""
        node = self.store.get_node("Query", id)
        if node is None or node.get("dataset") != SERVED:
            raise UnknownRun(f"no served run with id {id!r}")
        first = "feedback_at" not in node
        edges = {e["dst"]: e for e in self.store.edges("PERFORMED", src=id)}
        failed = set(node.get("failed") or ())
        if scores is not None:
            unknown = sorted(set(scores) - set(edges))
            if unknown:
                raise ValueError(f"scores name agents not called for {id}: {', '.join(unknown)}")
            if any(not 0.0 <= float(v) <= 1.0 for v in scores.values()):
                raise ValueError("scores: every score must be between 0 and 1")
            written = {a: float(v) for a, v in scores.items()}
        elif preferred is not None:
            written = {a: 0.0 if a in failed else exact_match(e.get("pred"), [preferred]) for a, e in edges.items()}
        elif score is not None:
            written = _spread(float(score), str(node.get("answer") or ""), edges, failed)
        else:
            raise ValueError("feedback needs one of score, preferred or scores")
        self.store.upsert_edges("PERFORMED", [{"src": id, "dst": a, "score": s} for a, s in written.items()])
        props: dict[str, Any] = {"id": id, "feedback_at": time.time()}
        if score is not None:
            props["feedback"] = float(score)
        if preferred is not None:
            props["gold"] = [preferred]
        self.store.upsert_nodes("Query", [props])
        if isinstance(self.store, Flushes):
            self.store.flush()
        run = _run_from_store(self.store, id, str(node.get("text", "")))
        if run.scores():
            self._engines[self.default].builder.add_history([run])
        return written, first

    async def refit(self) -> list[str]:
        """Retrain every router built by name on the store's scored history; swap each in when trained."""
        async with self._refit_lock:
            return await self._refit_unlocked()

    async def _refit_unlocked(self) -> list[str]:
        names = [n for n in self._engines if n not in self._frozen and _trainable(n)]
        for name in names:  # requests still running on the old instance finish there
            self._engines[name] = await asyncio.to_thread(self._build, name)
        return names

    # -- reading runs back ------------------------------------------------------------------------------

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent served runs, newest first."""
        nodes = [n for n in self.store.nodes("Query") if n.get("dataset") == SERVED]
        nodes.sort(key=lambda n: -float(n.get("served_at", 0.0)))
        return [self._view(n) for n in nodes[: max(0, limit)]]

    def run(self, id: str) -> dict[str, Any]:
        node = self.store.get_node("Query", id)
        if node is None or node.get("dataset") != SERVED:
            raise UnknownRun(f"no served run with id {id!r}")
        return self._view(node)

    def _view(self, node: Mapping[str, Any]) -> dict[str, Any]:
        agents = [
            {
                "agent": e["dst"],
                "answer": e.get("pred"),
                "score": e.get("score"),
                "cost": e.get("cost"),
                "latency_s": e.get("latency_s"),
            }
            for e in sorted(self.store.edges("PERFORMED", src=node["id"]), key=lambda e: e["dst"])
        ]
        keys = ("answer", "model", "router", "served_at", "latency_s", "cost", "feedback", "selected", "failed")
        return {"id": node["id"], "question": node.get("text", ""), **{k: node.get(k) for k in keys}, "agents": agents}

    async def aclose(self) -> None:
        """Finish recording, then stop the agents' threads (the store stays open: it is the caller's)."""
        await self.settle()
        for ar in self._engines.values():
            await ar.aclose()  # also the chat clients its parts opened on this loop
        self.executor.shutdown(wait=False, cancel_futures=True)


def _trainable(name: str) -> bool:
    try:
        return router_info(name).trainable
    except ValueError:  # a router object the registry does not know: assume it learns
        return True


def _spread(score: float, served: str, edges: Mapping[str, Mapping[str, Any]], failed: set[str]) -> dict[str, float]:
    """A score of the served answer, per agent: agents that gave that answer get it, failed agents 0, and
    agents that answered something else 0 when the served answer was right (else they stay unscored)."""
    target = normalize_answer(served)
    out: dict[str, float] = {}
    for agent, edge in edges.items():
        if agent in failed:
            out[agent] = 0.0
        elif target and normalize_answer(edge.get("pred")) == target:
            out[agent] = score
        elif score >= 1.0:
            out[agent] = 0.0
    return out


def _run_from_store(store: GraphStore, id: str, question: str) -> RunRecord:
    keys = {"score": "score", "pred": "pred", "cost": "cost_usd", "latency_s": "latency_s"}
    agents = {
        e["dst"]: AgentRecord(**{f: e[p] for p, f in keys.items() if e.get(p) is not None})
        for e in store.edges("PERFORMED", src=id)
    }
    return RunRecord(qid=id, question=question, dataset=SERVED, agents=agents)
