"""``MarketModel``: customers, firms and the whole satisfaction chain on Mesa.

One call of :meth:`MarketModel.step` is one period (a month): it runs the stages of
``model.stages`` in order (a :class:`~sim.stages.Schedule`; ``print(model.stages)``
shows it, and docs/model.md, "Process overview and scheduling", describes it). Each
stage lives in its mechanism's module:

  1. ``levers`` (sim.levers): Timeline events of the period apply; then each firm's policy sets its levers.
  2. ``awareness`` (sim.acquisition): Awareness: marketing (external) and imitation (internal influence) make firms known.
  3. ``purchase`` (sim.choice): Purchase occasions: who, not lapsed and knowing an active firm, shops this period.
  4. ``choice`` (sim.choice): Choice: logit over known firms and buying nothing, with inertia; new relationships.
  5. ``capacity`` (sim.capacity): Capacity: purchases against capacity give each firm's service factor and waiting.
  6. ``experience`` (sim.experience): Experience: buyers perceive quality and service with noise and the overload effect.
  7. ``satisfaction`` (sim.satisfaction): Transaction satisfaction: experience against expectation and the price paid.
  8. ``complaints`` (sim.complaints): Complaints: buyers with a shortfall may complain; the firm resolves some, quick or late.
  9. ``memory`` (sim.satisfaction): Remembered satisfaction: buyers fold the transaction into memory.
 10. ``late_resolutions`` (sim.complaints): Late resolutions falling due revise the remembered incident (interim → resolved).
 11. ``wom`` (sim.wom): Word of mouth: customers talk to neighbours; awareness, attitude and content move.
 12. ``referrals`` (sim.referrals): Referrals: positive messages from promoters may bring the recipient to the firm.
 13. ``expectations`` (sim.expectations): Expectations: pulled towards own experience, what was heard and the promises.
 14. ``churn`` (sim.churn): Churn, win-back and returns: customers leave (to a rival or out); lapsed ones come back.
 15. ``accounts`` (sim.accounts): Accounts: loyalty points; revenue, costs and contribution per buyer; waiting public.
 16. ``forgetting`` (sim.wom): Attitudes from word of mouth decay (A ← δ_A · A).
 17. ``record`` (sim.accounts): Recording: the firm rows (accounts, CLV), the market row (NPS) and the panel.

Before period 0, ``market.warmup`` periods run unrecorded (no timeline, no policies) so a
mature market starts settled.

Within a stage every customer acts on the state at the start of the stage (synchronous
update), so results do not depend on any agent order. This module keeps the set-up, the
stage list, the recording hooks and the public tables.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import cascade as _cascade  # noqa: F401  (registers the 'cascade' stage)
from .accounts import DETRACTOR_S, PROMOTER_S, AccountsStage, RecordStage, empty_flows, record
from .acquisition import ACQ_CHANNELS, AwarenessStage
from .agents import CustomerViews, Firm
from .capacity import CapacityStage
from .choice import ChoiceStage, PurchaseStage, logit_choice, market_utilities
from .churn import ChurnStage
from .complaints import ComplaintStage, LateResolutionStage, PendingResolutions
from .expectations import ExpectationStage
from .experience import ExperienceStage, composite
from .levers import LeverStage, lever_arrays
from .loyalty import switching_costs
from .memory import check_memory
from .network import build_network
from .params import ModelParams
from .population import CUSTOMER, VIA_INITIAL, VIA_NAMES, Population
from .recorder import Recorder, sample_ids
from .referrals import ReferralStage
from .satisfaction import MemoryStage, TransactionStage
from .stages import PeriodState, Schedule, Stage, configure, stage_stream
from .strategies import make_policy
from .wom import ForgetStage, WordOfMouthStage

__all__ = [
    "ACQ_CHANNELS",
    "DETRACTOR_S",
    "MarketModel",
    "PROMOTER_S",
    "STREAMS",
    "VIA_NAMES",
    "default_stages",
]

#: independent random streams, one per mechanism (common random numbers across scenarios);
#: a user stage gets a stream of its own (:func:`sim.stages.stage_stream`)
STREAMS = (
    "init",
    "network",
    "awareness",
    "purchase",
    "choice",
    "experience",
    "complaints",
    "wom",
    "referrals",
    "churn",
    "winback",
    "survey",
    "policy",
    "fit",
    "attribution",
)

#: the built-in schedule, in order
STAGE_CLASSES: tuple[type[Stage], ...] = (
    LeverStage,
    LateResolutionStage,
    AwarenessStage,
    PurchaseStage,
    ChoiceStage,
    CapacityStage,
    ExperienceStage,
    TransactionStage,
    ComplaintStage,
    MemoryStage,
    WordOfMouthStage,
    ReferralStage,
    ExpectationStage,
    ChurnStage,
    AccountsStage,
    ForgetStage,
    RecordStage,
)


def default_stages() -> Schedule:
    """A fresh copy of the built-in period schedule.

    Examples:
        >>> default_stages().names()[-3:]
        ['accounts', 'forgetting', 'record']
    """
    return Schedule(cls() for cls in STAGE_CLASSES)


class MarketModel(mesa.Model):
    """A market of ``N`` customers and ``K`` firms on a social network.

    Args:
        params: the full parameter set (a :class:`~sim.params.ModelParams`); copied and
            validated (:func:`sim.checks.validate_params`).
        seed: overrides ``params.seed``.
        stages: a whole :class:`~sim.stages.Schedule` to run instead of the built-in one
            (see :func:`default_stages`), or extra stages (:class:`~sim.stages.Stage`)
            added to the built-in schedule, each placed by its own ``after``/``before``.

    Attributes:
        pop: customer state as numpy columns (:class:`~sim.population.Population`).
        customers: ``model.customers[i]`` is a Mesa agent viewing customer ``i``'s row.
        firms: the :class:`~sim.agents.Firm` agents.
        network: the social network (:class:`~sim.network.Network`).
        stages: the period schedule (:class:`~sim.stages.Schedule`), editable.
        period: periods completed.

    Raises:
        sim.checks.ParamError: a parameter is out of its documented range.
        sim.memory.MemoryRefused: the model would not fit in the available memory
            (checked before anything is allocated).

    Examples:
        >>> from sim import MarketModel, ModelParams
        >>> m = MarketModel(ModelParams(), seed=1)
        >>> m.run(12)  # doctest: +ELLIPSIS
        <sim.model.MarketModel object at ...>
        >>> m.firm_frame().groupby("firm")["share"].last()  # doctest: +SKIP
    """

    _warming = False

    def __init__(
        self,
        params: ModelParams | None = None,
        *,
        seed: int | None = None,
        stages: Schedule | list[Stage] | tuple[Stage, ...] = (),
    ) -> None:
        params = copy.deepcopy(params) if params is not None else ModelParams()
        if seed is not None:
            params.seed = int(seed)
        from .checks import validate_params

        validate_params(params, "ModelParams")
        check_memory(params, source="ModelParams", base=False)
        super().__init__(rng=int(params.seed))
        self.params = params
        seqs = np.random.SeedSequence(int(params.seed)).spawn(len(STREAMS))
        self.streams = {
            name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs, strict=True)
        }
        if isinstance(stages, Schedule):
            self.stages = Schedule(stages)
        else:
            self.stages = default_stages()
            for st in stages:
                self.stages.add(st)
        configure(self.stages, params.stages, "ModelParams")
        self.period = 0
        self._build()
        self._init_market()
        self._warm_up()
        record(self, empty_flows(self), lever_arrays(self))

    def _build(self) -> None:
        """Network, population, firms, views, recorder and bookkeeping."""
        params = self.params
        n, k = int(params.market.n_customers), len(params.firms)
        if k < 1:
            raise ValueError("firms: at least one firm is needed")
        net = params.network
        self.network = build_network(
            net.kind, n, int(net.degree), float(net.rewire), self.streams["network"], net.path
        )
        self.degree = self.network.degree.astype(float)
        self.pop = Population.create(params.market, k, self.streams["init"])
        if params.experience.fit_sd > 0:  # persistent customer-firm fit φ (experience)
            self.pop.fit[:] = params.experience.fit_sd * self.streams["fit"].standard_normal((n, k))
        self.mean_w_quality = float(self.pop.w_quality.mean())
        self.firms: list[Firm] = [
            Firm(self, fp, j, policy=make_policy(fp.policy)) for j, fp in enumerate(params.firms)
        ]
        for f in self.firms:  # stochastic policies draw from the "policy" stream
            if hasattr(f.policy, "bind"):
                f.policy.bind(self.streams["policy"], f)
        self.customers = CustomerViews(self)
        keep = None
        if float(params.event_sample) < 1.0:  # the log keeps a sample of customers' events
            keep = np.zeros(n, bool)
            keep[sample_ids(n, round(float(params.event_sample) * n))] = True
        self.recorder = Recorder(keep, n)
        self.wait = np.zeros(k)  # last period's waiting per firm (public knowledge)
        self.load = np.zeros(k)
        self.pending = PendingResolutions()
        self._timeline = sorted(params.events, key=lambda e: int(e["period"]))
        self._lever_log: list[tuple] = []
        self.panel_ids = sample_ids(n, int(params.panel_size))
        self._panel: list[dict] = []
        self._log = bool(params.record_events)

    def _warm_up(self) -> None:
        """Run ``market.warmup`` unrecorded periods, then call the state period 0."""
        warm = int(self.params.market.warmup)
        if warm <= 0:
            return
        self._log, self._warming = False, True
        self.period = -warm
        self.pop.since[self.pop.status == CUSTOMER] = -warm  # relationships began before
        for _ in range(warm):
            self._advance()
        self._log, self._warming = bool(self.params.record_events), False
        self.pop.profit[:] = 0.0
        self.pop.revenue[:] = 0.0

    # ------------------------------------------------------------------ helpers
    @property
    def n_firms(self) -> int:
        return len(self.firms)

    def firm_by_name(self, name: str) -> Firm:
        for f in self.firms:
            if f.name == name:
                return f
        raise KeyError(f"firm {name!r} unknown; firms: {', '.join(f.name for f in self.firms)}")

    def stream(self, stage: Stage) -> np.random.Generator:
        """The random stream of ``stage``: its built-in stream, or one of its own spawned
        from the run seed and its name (:func:`sim.stages.stage_stream`)."""
        key = stage.stream or stage.name
        rng = self.streams.get(key)
        if rng is None:
            rng = self.streams[key] = stage_stream(int(self.params.seed), key)
        return rng

    def _lever_arrays(self) -> dict[str, np.ndarray]:
        return lever_arrays(self)

    def _switching_cost(self, L) -> np.ndarray:
        return switching_costs(self, L)

    def _utilities(self, rows, L, gamma, *, inertia=True, novelty=True):
        return market_utilities(self, rows, L, gamma, inertia=inertia, novelty=novelty)

    def _init_market(self) -> None:
        """Initial awareness, expectations and customers (logit over known firms)."""
        pop, m, rng = self.pop, self.params.market, self.streams["init"]
        n, k = pop.n, self.n_firms
        L = lever_arrays(self)
        aware = (rng.random((n, k)) < m.initial_awareness) & L["active"][None, :]
        pop.aware[:] = aware
        pop.aware_via[:] = VIA_INITIAL
        rows, cols = np.nonzero(aware)
        z = rng.standard_normal(rows.size)
        pop.expect[rows, cols] = L["promise"][cols] + self.params.expectations.initial_noise * z
        cand = np.nonzero(aware.any(axis=1) & (rng.random(n) < m.initial_customers))[0]
        u = rng.random(cand.size)
        if not cand.size:
            return
        v, _ = market_utilities(self, cand, L, np.zeros(n), inertia=False, novelty=False)
        choice = logit_choice(v, aware[cand], None, u)
        ok = choice >= 0
        who, f = cand[ok], choice[ok]
        perf = composite(pop.w_quality[who], L["quality"][f], L["service"][f]) + pop.fit[who, f]
        sp = self.params.satisfaction
        s0 = np.tanh(
            sp.performance_weight * (perf - sp.neutral_performance)
            - sp.price_weight * (L["price"][f] / m.reference_price - 1.0)
        )
        pop.firm[who] = f
        pop.last_firm[who] = f
        pop.status[who] = CUSTOMER
        pop.tried[who, f] = True
        pop.experienced[who] = True
        pop.expect[who, f] = perf
        pop.perf_memory[who] = perf
        pop.satisfaction[who] = s0
        pop.peak[who] = s0
        pop.last_x[who] = s0

    # ------------------------------------------------------------------ timeline and policies
    def _log_lever(self, firm: Firm, name: str, old: Any, new: Any, source: str) -> None:
        self._lever_log.append((self.period, firm.index, name, old, new, source))
        if self._log:
            self.recorder.add_events(
                self.period,
                "lever",
                [-1],
                firm.index,
                value=float(new)
                if isinstance(new, (int, float)) and not isinstance(new, bool)
                else np.nan,
                detail=f"{name}: {old} -> {new} ({source})",
            )

    def _apply_timeline(self, t: int) -> None:
        while self._timeline and int(self._timeline[0]["period"]) <= t:
            ev = self._timeline.pop(0)
            firm = self.firm_by_name(ev["firm"])
            for lever, value in ev.get("set", {}).items():
                firm.set_lever(lever, value, source="timeline")

    def observe(self, firm: Firm) -> dict:
        """What a firm can see at the start of a period about the last one.

        Returns a dict with ``period`` (the period about to be played), ``own`` (its own row of the
        firm table for the last period: sales, customers, share, revenue, costs, profit,
        complaints, churn …), ``levers`` (its current levers), ``survey`` (mean
        satisfaction of a random sample of ``survey_size`` of its customers, each answer
        with noise ``survey_noise``; NaN without customers, and NaN unless the policy's
        classifier lists ``"survey"`` among what it observes, since surveys cost time), ``rivals`` (each rival's
        posted price, and its share when the policy's classifier says
        ``observes_rival_shares``) and, in full-information mode (classifier
        ``full_information``), ``model``: the model itself, for teaching and for checks
        against theory.
        """
        rows = self.recorder.firm_rows
        k = self.n_firms
        own = dict(rows[-k + firm.index]) if rows else {}
        cls = getattr(firm.policy, "classifier", {}) or {}
        see_shares = bool(cls.get("observes_rival_shares", False))
        rivals = {}
        for f in self.firms:
            if f is firm:
                continue
            r = {"price": float(f.levers.price), "active": f.active}
            if see_shares and rows:
                r["share"] = rows[-k + f.index]["share"]
            rivals[f.name] = r
        survey = self._survey(firm) if "survey" in tuple(cls.get("observes", ())) else float("nan")
        obs = {
            "period": self.period,
            "own": own,
            "levers": dataclasses.asdict(firm.levers),
            "survey": survey,
            "rivals": rivals,
        }
        if cls.get("full_information", False):
            obs["model"] = self
        return obs

    #: customers sampled by the satisfaction survey, and the noise of each answer
    survey_size = 100
    survey_noise = 0.2

    def _survey(self, firm: Firm) -> float:
        mine = np.nonzero((self.pop.firm == firm.index) & (self.pop.last_firm == firm.index))[0]
        rng = self.streams["survey"]
        if mine.size == 0:
            return float("nan")
        pick = rng.choice(mine, size=min(self.survey_size, mine.size), replace=False)
        answers = self.pop.satisfaction[pick] + self.survey_noise * rng.standard_normal(pick.size)
        return float(np.clip(answers, -1, 1).mean())

    # ------------------------------------------------------------------ the period
    def step(self) -> None:
        """Advance one period: run every stage of ``self.stages`` in order."""
        self._advance()

    def _advance(self) -> None:
        self.period += 1
        s = PeriodState(self, empty_flows(self))
        for stage in self.stages:
            if stage.enabled(self):
                s.rng, s.stage = self.stream(stage), stage
                stage(s)

    # ------------------------------------------------------------------ public API
    def run(self, periods: int | None = None, *, progress: bool = False) -> MarketModel:
        """Run ``periods`` periods (default: ``params.market.periods`` minus those done)."""
        if periods is None:
            periods = max(int(self.params.market.periods) - self.period, 0)
        it = range(int(periods))
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, desc="periods", unit="period")
        for _ in it:
            self.step()
        return self

    def firm_frame(self) -> pd.DataFrame:
        """One row per firm and period (period 0 = the initial state)."""
        return self.recorder.firms()

    def market_frame(self) -> pd.DataFrame:
        """One row per period for the whole market."""
        return self.recorder.market()

    def _with_names(self, df: pd.DataFrame, *cols: str) -> pd.DataFrame:
        """Insert a firm-name column ``c`` before each index column ``c_index`` ("" for none)."""
        names = np.array([*(f.name for f in self.firms), ""], dtype=object)
        for c in cols:
            idx = df[f"{c}_index"].to_numpy()
            df.insert(df.columns.get_loc(f"{c}_index"), c, names[idx] if len(df) else [])
        return df

    def panel_frame(self) -> pd.DataFrame:
        """Per-period state of the panel customers (``model.panel_ids``): status (0
        prospect, 1 customer, 2 lapsed), firm (name and index), satisfaction, expectation of
        the firm last used, loyalty points."""
        cols = [
            "period",
            "customer",
            "status",
            "firm_index",
            "last_firm_index",
            "satisfaction",
            "expectation",
            "points",
        ]
        if not self._panel:
            df = pd.DataFrame({c: pd.Series(dtype="int64") for c in cols})
        else:
            df = pd.DataFrame({c: np.concatenate([p[c] for p in self._panel]) for c in cols})
        return self._with_names(df, "firm", "last_firm")

    def events(self) -> pd.DataFrame:
        """The event log: complaints, resolutions, referrals, acquisitions, switches,
        churns, win-backs, returns, word of mouth heard (small markets) and lever changes."""
        return self.recorder.events([f.name for f in self.firms])

    def customer_frame(self) -> pd.DataFrame:
        """Current state of every customer, one row each (per-firm columns flattened as
        ``expect_<firm>`` …)."""
        pop = self.pop
        d = {"id": np.arange(pop.n)}
        for c in (
            "segment",
            "status",
            "firm",
            "last_firm",
            "since",
            "points",
            "satisfaction",
            "perf_memory",
            "n_complaints",
            "quantity",
            "beta_price",
            "beta_perf",
        ):
            d[f"{c}_index" if c in ("firm", "last_firm") else c] = getattr(pop, c)
        for j, f in enumerate(self.firms):
            d[f"expect_{f.name}"] = pop.expect[:, j]
            d[f"aware_{f.name}"] = pop.aware[:, j]
            d[f"profit_{f.name}"] = pop.profit[:, j]
        return self._with_names(pd.DataFrame(d), "firm", "last_firm")
