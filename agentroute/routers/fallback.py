""" "First, do no harm": a learned router falls back to the training prior unless it expects a real gain.

Why: on a log where one agent is right most of the time, a learned router's disagreements with that agent
are mostly noise, and routing then scores *below* always calling it. ``GuardedRouter`` wraps any learned
router (``make_router`` wraps every router registered ``guarded``; ``guard=False`` turns it off)
and decides, on training data only, how far to trust it:

1. The prior is the best single agent by mean training score (among each question's candidates).
2. An inner validation split (``val_fraction`` of the training examples, seeded) is held out; a fresh copy
   of the router is trained on the rest and routes the held-out questions. With ``folds=k`` every training
   question is held out once, by k copies each trained without its fold (cross-fitting).
3. A margin ``delta`` may be learned there: where the router's top agent differs from the prior's, the
   router is followed only when its probability for its top agent exceeds the prior agent's by at least
   ``delta``. The margin is 0 ("always follow") unless the best margin of the grid beats margin 0 by
   ``z`` paired standard errors on the held-out questions: picking the best of nine margins on a hundred
   questions otherwise fits their noise. A question where both agree, or where a set router's set already
   includes the prior's agent, keeps the router's decision (the vote then includes the prior's answer;
   replacing the set by one agent would throw away what the vote adds).
4. If the router with that margin does not beat always calling the prior by ``z`` paired standard errors
   on the held-out questions, the router falls back to the prior everywhere.

The final router is then trained on all examples (or, after a full fallback, the held-out copy is kept, for
its probabilities only). Every decision says what happened in its ``rationale``. The held-out predictions
are also what ``calibrate`` uses to pick a cost weight or a call budget (``agentroute calibrate``).

A decision's value on held-out questions is the recorded score of its top agent (training examples carry
scores, not answers, so a vote cannot be replayed there); for set routers this judges the agent they trust
most. ``cost_weight`` (λ, from ``calibrate``) switches to cost-aware routing: the agent with the best
``probability − λ · mean cost / max mean cost`` (a single call), and the quality guard steps aside.
``target_cost`` (also from ``calibrate``) paces the budget on batches of at least ``PACE_MIN_BATCH``
questions: λ is re-chosen on the batch so that its predicted cost per question meets the target, with each
question's own predicted cost per agent (``cost_model.py``, fitted with the router; ``pacing.py``). Smaller
batches and single questions are paced on the last ``STREAM_WINDOW`` questions the router routed and what
they spent so far (``StreamPacer``): what their agents reported, once the router graph passes it on
(``spent``), their predicted costs until then.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentroute.routers.base import BaseRouter, Router, SharesTraining
from agentroute.routers.baselines import mean_by_agent
from agentroute.routers.cost_model import CostModel
from agentroute.routers.decided import decision_key
from agentroute.routers.pacing import PACE_MIN_BATCH, StreamPacer, pace
from agentroute.types import AgentResult, Query, QueryGraph, RoutingDecision, TrainExample

_NEW_STREAM = threading.Lock()

#: Margins tried on the held-out questions (probability of the router's top agent minus the prior agent's).
DEFAULT_DELTAS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


@dataclass
class GuardConfig:
    """How cautious the guard is. ``z``: standard errors of gain required over the prior (0 = any gain).

    ``folds``: 1 holds out one ``val_fraction`` slice (one extra training); k > 1 cross-fits (k extra
    trainings), so the verdict and ``calibrate`` see every training question instead of a ``val_fraction``
    share of them (``agentroute calibrate --folds``)."""

    val_fraction: float = 0.2
    folds: int = 1
    z: float = 1.0
    deltas: tuple[float, ...] = DEFAULT_DELTAS
    min_examples: int = 50
    seed: int = 0

    @classmethod
    def from_option(cls, option: bool | Mapping[str, Any] | GuardConfig, seed: int = 0) -> GuardConfig | None:
        """``guard=`` as given to ``make_router``: True (defaults), False/None (off), a mapping or a config."""
        if option is None or option is False:
            return None
        if isinstance(option, GuardConfig):
            return option
        if option is True:
            return cls(seed=seed)
        if not isinstance(option, Mapping):
            raise ValueError(f"guard must be true, false or an object of guard settings, got {option!r}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(option) - known)
        if unknown:
            raise ValueError(
                f"unknown guard setting(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}"
            )
        opts = {"seed": seed, **dict(option)}
        if "deltas" in opts:
            opts["deltas"] = tuple(float(d) for d in opts["deltas"])
        return cls(**opts)


@dataclass
class HeldOut:
    """The held-out questions as the guard saw them: router probabilities, recorded scores and costs."""

    probs: list[dict[str, float]] = field(default_factory=list)
    selected: list[list[str]] = field(default_factory=list)
    scores: list[dict[str, float]] = field(default_factory=list)
    costs: list[dict[str, float]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the questions' ids (answer-aware selection trains on them)
    reliability: list[dict[str, float]] = field(default_factory=list)  # the decisions' (the vote reads them)


@runtime_checkable
class KeepsHeldOut(Protocol):
    """A router that keeps the questions it held out of training, as routed by a copy trained without
    them (the guard): answer-aware selection is fitted on them."""

    name: str
    held: HeldOut


@dataclass
class GuardState:
    """What the guard learned (saved in checkpoints): the prior, the margin, and whether it fell back."""

    prior_means: dict[str, float] = field(default_factory=dict)
    prior_costs: dict[str, float] = field(default_factory=dict)
    delta: float = 0.0
    fallback: bool = False
    gain: float | None = None  # held-out accuracy of the guarded router minus the prior's
    needed: float | None = None  # the gain it had to exceed
    n_val: int = 0
    note: str = "guard not fitted"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardState:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def top_agent(values: Mapping[str, float], among: Sequence[str]) -> str | None:
    """The candidate with the highest value (ties by name); None without candidates."""
    ranked = sorted(among, key=lambda a: (-values.get(a, -math.inf), a))
    return ranked[0] if ranked else None


def cost_scale(prior_costs: Mapping[str, float]) -> float:
    """The largest mean cost, so λ is in units of 'probability per most expensive call'."""
    return max((c for c in prior_costs.values() if c > 0), default=1.0)


def utility_pick(probs: Mapping[str, float], prior_costs: Mapping[str, float], cost_weight: float) -> str | None:
    """The agent maximising ``p − λ · cost / scale`` (λ = ``cost_weight``)."""
    scale = cost_scale(prior_costs)
    u = {a: p - cost_weight * prior_costs.get(a, 0.0) / scale for a, p in probs.items()}
    return top_agent(u, list(probs))


def gate_values(held: HeldOut, prior_means: Mapping[str, float], delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per held-out question: the guarded router's value (top agent's score) and the prior's value."""
    guarded, prior = [], []
    for probs, scores in zip(held.probs, held.scores, strict=True):
        cands = [a for a in probs if a in scores]
        if not cands:
            continue
        top = top_agent(probs, cands)
        base = top_agent(prior_means, cands)
        assert top is not None and base is not None
        follow = top == base or probs[top] - probs.get(base, 0.0) >= delta - 1e-12
        guarded.append(scores[top] if follow else scores[base])
        prior.append(scores[base])
    return np.asarray(guarded, dtype=float), np.asarray(prior, dtype=float)


def paired_gain(better: np.ndarray, base: np.ndarray, z: float) -> tuple[float, float]:
    """Mean gain of ``better`` over ``base`` on the same questions, and the gain it must exceed to count:
    ``z`` paired standard errors (0 when the two never differ; infinite with one question)."""
    diff = better - base
    n = int(diff.size)
    if n < 2:
        return float(diff.mean()) if n else 0.0, math.inf
    se = float(diff.std(ddof=1) / math.sqrt(n))
    return float(diff.mean()), max(z * se, 0.0)


def choose_margin(held: HeldOut, prior_means: Mapping[str, float], config: GuardConfig) -> GuardState:
    """Trust the router (margin 0) unless a larger margin beats it by ``z`` paired standard errors on the
    held-out questions; then fall back fully unless the result beats the prior by ``z`` paired standard
    errors.

    Why two tests: picking the margin with the best held-out accuracy overfits a grid of nine margins to a
    hundred-odd questions (on the quickstart it cost ``gnn-top1`` 0.05 on the test set), so a margin must
    earn its place against trusting the router, as the router must against the prior."""
    follow, prior = gate_values(held, prior_means, 0.0)
    n = int(follow.size)
    if n == 0:
        return GuardState(
            dict(prior_means), fallback=True, note="fallback: no held-out question to judge the router on"
        )
    delta, values = 0.0, follow
    gated = [(d, gate_values(held, prior_means, d)[0]) for d in sorted(config.deltas) if d > 0]
    if gated:  # the best larger margin (ties: the smaller), kept only if it clearly beats margin 0
        best_d, best_v = max(gated, key=lambda dv: (float(dv[1].mean()), -dv[0]))
        edge, needed_edge = paired_gain(best_v, follow, config.z)
        if edge > needed_edge:
            delta, values = best_d, best_v
    gain, needed = paired_gain(values, prior, config.z)
    fallback = not gain > needed
    verdict = "falls back to" if fallback else "beats"
    note = (
        f"on {n} held-out questions the router with margin {delta:g} {verdict} the best single agent "
        f"(gain {gain:+.3f}, needed > {needed:.3f})"
    )
    return GuardState(
        dict(prior_means), delta=float(delta), fallback=fallback, gain=gain, needed=needed, n_val=n, note=note
    )


#: the wrapped router's other ways to route: passed on, the pipeline would call them and route past the guard
_ROUTES_PAST_THE_GUARD = frozenset({"aroute", "turn", "aturn", "decision"})


class GuardedRouter(BaseRouter):
    """A learned router that defers to the best single agent unless held-out data says it gains.

    ``make`` builds a fresh, untrained copy of the wrapped router (used for the held-out fit and the final
    fit). Attributes the wrapper does not define (``device``, ``save``, ``models``, …) are the wrapped
    router's.
    """

    def __init__(
        self,
        make: Callable[[], Router],
        config: GuardConfig | None = None,
        cost_weight: float = 0.0,
        inner: Router | None = None,
    ) -> None:
        self._make = make
        self.inner: Router = inner if inner is not None else make()
        self.name = self.inner.name
        self.config = config or GuardConfig()
        self.cost_weight = float(cost_weight)
        self.cost_model: CostModel | None = None
        self.target_cost: float | None = None  # set by ``calibrate(target_cost=...)``
        self.state = GuardState()
        self.held = HeldOut()

    @property
    def learns_from_history(self) -> bool:  # type: ignore[override]
        """As the wrapped router declares (the cold-start path reads it)."""
        return bool(getattr(self.inner, "learns_from_history", False))

    @property
    def target_cost(self) -> float | None:
        """The budget in USD per question that routing paces to (None: not calibrated for one)."""
        return self._target_cost

    @target_cost.setter
    def target_cost(self, value: float | None) -> None:
        self._target_cost = value
        self._stream: StreamPacer | None = None  # a new budget starts a new stream

    @property
    def paces_batches(self) -> bool:  # type: ignore[override]
        """Whether ``route_many`` on a batch depends on the whole batch (a budget to pace: ``target_cost``);
        ``AgentRoute.ask_many`` then routes its questions together (``routers/decided.py``)."""
        return self.target_cost is not None and self.cost_model is not None

    def __getattr__(self, item: str) -> Any:
        if item in ("inner", "_target_cost", "_stream") or item.startswith("__") or item in _ROUTES_PAST_THE_GUARD:
            raise AttributeError(item)
        value = getattr(self.inner, item)
        if item == "save":  # routers that save (the GNN) store the guard's state with their weights
            return lambda path: value(path, extra={"guard": self.guard_state()})
        return value

    # -- training ------------------------------------------------------------------------------------
    def fit(self, examples: Sequence[TrainExample], **fit_options: Any) -> GuardedRouter:
        """``fit_options`` (e.g. a GNN's ``progress``) go to every fit of the wrapped router. Everything is
        trained aside and swapped in at the end: questions routed meanwhile (other threads) use the previous
        model, never a half-trained one."""
        prior = mean_by_agent(examples)
        costs = mean_by_agent(examples, costs=True)
        cost_model = CostModel.fit(examples)
        n_val = int(round(len(examples) * self.config.val_fraction))
        if len(examples) < self.config.min_examples or n_val < 10:
            inner = self._make()
            inner.fit(examples, **fit_options)
            note = f"guard off: {len(examples)} training questions are too few to hold some out"
            self._swap_in(inner, HeldOut(), GuardState(prior, costs, note=note), cost_model)
            return self
        order = np.random.default_rng([self.config.seed, len(examples)]).permutation(len(examples))
        parts = np.array_split(order, self.config.folds) if self.config.folds > 1 else [order[:n_val]]
        held, probe = HeldOut(), None
        for part in parts:
            inside = set(part.tolist())
            val = [examples[i] for i in part]
            copy = self._make()
            copy.fit([examples[i] for i in order if i not in inside], **fit_options)
            decisions = copy.route_many([ex.graph for ex in val])
            held.probs += [dict(d.probs) for d in decisions]
            held.selected += [list(d.selected) for d in decisions]
            held.reliability += [dict(d.reliability) for d in decisions]
            held.scores += [dict(ex.scores) for ex in val]
            held.costs += [dict(ex.costs) for ex in val]
            held.ids += [ex.graph.query.id for ex in val]
            probe = probe or copy
        assert probe is not None
        state = self._judge(held, prior, costs)
        if state.fallback:
            inner = probe  # its probabilities still inform the rationale and cost-aware routing
        else:
            inner = self._make()
            inner.fit(examples, **fit_options)
        self._swap_in(inner, held, state, cost_model)
        return self

    def _judge(self, held: HeldOut, prior: dict[str, float], costs: dict[str, float]) -> GuardState:
        state = choose_margin(held, prior, self.config)
        state.prior_costs = costs
        return state

    def _swap_in(self, inner: Router, held: HeldOut, state: GuardState, cost_model: CostModel | None) -> None:
        """A fit's results replace the previous ones (the wrapped router first: what routing reads most)."""
        self.inner, self.held, self.state, self.cost_model = inner, held, state, cost_model
        self._stream = None  # a budget stream restarts with the new model

    # -- routing -------------------------------------------------------------------------------------
    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        decisions = self.inner.route_many(graphs, k)
        if not self.paces_batches:
            return [self.guard(d) for d in decisions]
        if len(graphs) >= PACE_MIN_BATCH:
            return self.paced(graphs, decisions)
        return self.streamed(graphs, decisions)

    def paced(self, graphs: Sequence[QueryGraph], decisions: list[RoutingDecision]) -> list[RoutingDecision]:
        """One agent per question, by ``p − λ · predicted cost / scale`` with the λ that meets the target cost
        on this batch's predicted costs (``pacing.py``)."""
        target = self.target_cost
        assert target is not None, "paced routing needs calibrate(target_cost=...)"
        costs = self._predicted_costs(graphs, decisions)
        lam, picks, spend = pace([d.probs for d in decisions], costs, target, cost_scale(self.state.prior_costs))
        why = (
            f"budget: λ {lam:+.3g} chosen on this batch of {len(graphs)} questions, predicted "
            f"${spend:.3g} per question for a target of ${target:.3g}"
        )
        return [self._single(d, pick, why) if d.probs else d for d, pick in zip(decisions, picks, strict=True)]

    def streamed(self, graphs: Sequence[QueryGraph], decisions: list[RoutingDecision]) -> list[RoutingDecision]:
        """Questions that come a few at a time (``ask``, the server), paced on the last questions this
        router routed and what they spent (``StreamPacer``); the calibrated λ until ``PACE_MIN_BATCH`` of
        them were seen."""
        target = self.target_cost
        assert target is not None, "paced routing needs calibrate(target_cost=...)"
        stream = self._stream_for(target)
        out = []
        predicted = self._predicted_costs(graphs, decisions)
        for graph, d, costs in zip(graphs, decisions, predicted, strict=True):
            if not d.probs:
                out.append(d)
                continue
            lam, pick, aim, window = stream.pick(d.probs, costs, key=decision_key(graph.query))
            why = (
                f"budget: λ {lam:+.3g} chosen on the last {window} questions routed (aiming at ${aim:.3g} per "
                f"question to meet the target of ${target:.3g} so far)"
                if window
                else f"budget: calibrated λ {lam:+.3g} until {PACE_MIN_BATCH} questions were routed"
            )
            out.append(self._single(d, pick, why))
        return out

    def _stream_for(self, target: float) -> StreamPacer:
        with _NEW_STREAM:  # concurrent first requests of a server share one stream
            if self._stream is None:
                self._stream = StreamPacer(target, cost_scale(self.state.prior_costs), start_lambda=self.cost_weight)
            return self._stream

    def budget(self) -> dict[str, Any] | None:
        """The target cost and how the questions routed one by one since calibration (or the last fit or
        load) spent it (``StreamPacer.snapshot``); None without a budget to pace."""
        target = self.target_cost
        if target is None or not self.paces_batches:
            return None
        return {"target_cost": target, **self._stream_for(target).snapshot()}

    def spent(self, query: Query, results: Sequence[AgentResult]) -> None:
        """What a question this router paced on its stream really cost: the sum of its agents' reported costs
        replaces the pick's predicted cost in the stream's spend (``StreamPacer.charge``). A total of 0 says
        nothing (agents that do not price their calls report 0), so the prediction stays."""
        stream, cost = self._stream, sum(r.cost for r in results)
        if stream is not None and cost > 0:
            stream.charge(decision_key(query), cost)

    def _predicted_costs(
        self, graphs: Sequence[QueryGraph], decisions: Sequence[RoutingDecision]
    ) -> list[dict[str, float]]:
        """Each question's predicted cost per candidate (an agent the cost model lacks: its mean cost)."""
        model, means = self.cost_model, self.state.prior_costs
        assert model is not None, "paced routing needs a cost model (examples with costs)"
        return [
            {a: predicted.get(a, means.get(a, 0.0)) for a in d.probs}
            for d, predicted in zip(decisions, model.predict(graphs), strict=True)
        ]

    def guard(self, decision: RoutingDecision) -> RoutingDecision:
        """The wrapped router's decision, kept, replaced by the prior's agent, or made cost-aware."""
        probs = decision.probs
        if not probs:
            return decision
        s = self.state
        if self.cost_weight != 0:
            pick = utility_pick(probs, s.prior_costs, self.cost_weight)
            why = f"cost-aware: best of probability − {self.cost_weight:g} × relative mean cost"
            return self._single(decision, pick, why)
        cands = list(probs)
        base = top_agent(s.prior_means, cands)
        if base is None:
            return decision
        if s.fallback:
            return self._single(decision, base, f"fallback to best single agent {base!r}: {s.note}")
        top = decision.selected[0] if decision.selected else top_agent(probs, cands)
        if top == base or top is None:
            return _note(decision, f"guard: agrees with the best single agent {base!r}")
        if base in decision.selected:  # a set that already asks the best single agent: its vote includes it
            return _note(decision, f"guard: the set includes the best single agent {base!r}")
        edge = probs.get(top, 0.0) - probs.get(base, 0.0)
        if edge >= s.delta - 1e-12:
            return _note(decision, f"guard: {top!r} over best single {base!r} by {edge:.2f} ≥ margin {s.delta:g}")
        why = f"kept best single agent {base!r}: {decision.router} prefers {top!r} by {edge:.2f} < margin {s.delta:g}"
        return self._single(decision, base, why)

    def _single(self, decision: RoutingDecision, agent: str | None, why: str) -> RoutingDecision:
        selected = [agent] if agent is not None else decision.selected[:1]
        return decision.model_copy(
            update={"selected": selected, "early_stop": False, "rationale": _join(decision, why)}
        )

    # -- calibration and persistence -----------------------------------------------------------------
    def guard_state(self) -> dict[str, Any]:
        """Everything to restore the guard (plain values, stored in GNN checkpoints)."""
        return {
            "state": self.state.to_dict(),
            "config": {**asdict(self.config), "deltas": list(self.config.deltas)},
            "cost_weight": self.cost_weight,
            "target_cost": self.target_cost,
            "cost_model": self.cost_model.to_dict() if self.cost_model is not None else None,
        }

    def restore(self, data: Mapping[str, Any]) -> GuardedRouter:
        self.state = GuardState.from_dict(data.get("state", {}))
        self.config = GuardConfig.from_option(dict(data.get("config", {}))) or GuardConfig()
        self.cost_weight = float(data.get("cost_weight", 0.0))
        target = data.get("target_cost")
        self.target_cost = float(target) if target is not None else None
        model = data.get("cost_model")
        self.cost_model = CostModel.from_dict(model) if model else None
        return self


class SharedGuardedRouter(GuardedRouter):
    """A guarded router whose wrapped router shares training (``SharesTraining``, e.g. gnn / gnn-top1)."""

    def training_key(self) -> str | None:
        """Routers whose wrapped routers train identically (``gnn`` / ``gnn-top1``) share one training."""
        key = getattr(self.inner, "training_key", lambda: None)()
        return None if key is None else f"guarded:{self.config!r}:{key}"

    def share_training(self, other: GuardedRouter) -> GuardedRouter:
        """Use ``other``'s trained router, held-out predictions and verdict (they depend on the wrapped
        router's probabilities only, which the two share)."""
        self.inner.share_training(other.inner)  # type: ignore[attr-defined]
        self.held = other.held
        self.state = GuardState.from_dict(other.state.to_dict())
        self.cost_model = other.cost_model
        return self


def _join(decision: RoutingDecision, why: str) -> str:
    return f"{decision.rationale} | {why}" if decision.rationale else why


def _note(decision: RoutingDecision, why: str) -> RoutingDecision:
    return decision.model_copy(update={"rationale": _join(decision, why)})


def guard_router(
    router: Router, make: Callable[[], Router], option: bool | Mapping[str, Any] | GuardConfig, seed: int = 0
) -> Router:
    """``router`` wrapped in a guard unless ``option`` is off (``make_router`` calls this for routers
    registered ``guarded``)."""
    config = GuardConfig.from_option(option, seed=seed)
    if config is None or isinstance(router, GuardedRouter):
        return router
    kind = SharedGuardedRouter if isinstance(router, SharesTraining) else GuardedRouter
    return kind(make, config, inner=router)


def restore_guard(router: Router, make: Callable[[], Router], extra: Mapping[str, Any] | None) -> Router:
    """A loaded router, wrapped again in the guard saved with it (checkpoints without one load bare)."""
    data = (extra or {}).get("guard")
    if not data:
        return router
    kind = SharedGuardedRouter if isinstance(router, SharesTraining) else GuardedRouter
    return kind(make, inner=router).restore(data)
