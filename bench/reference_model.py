"""The same market, written the usual Mesa way: the speed reference and the statistical cross-check.

``ReferenceModel`` implements every rule of ``sim.MarketModel`` (docs/model.md, section 7)
as an idiomatic, per-agent Mesa 3.5 model, so that

- **speed**: ``bench/compare.py`` can time the package's vectorised model against the way
  most Mesa models are written (one Python object per customer, per-agent methods, plain
  floats, per-agent random draws), on the same market, network and schedule;
- **cross-check**: ``tests/test_reference.py`` can check that an independent
  implementation of the documented equations gives the same outcome *distributions*
  (share, satisfaction, churn, complaints, word of mouth, referrals, profit) as the
  package. It is a statistical twin, not a bitwise one: it draws its own random numbers
  (``self.random``, Python's generator seeded by Mesa from ``rng=seed``), one at a time
  per agent, in its own order.

How it is written (the usual Mesa way):

- one ``CustomerAgent(mesa.discrete_space.CellAgent)`` per customer, placed on a
  ``mesa.discrete_space.Network(G, layout=None, random=...)`` built from the **same**
  networkx graph as the package for a seed (``sim.network.build_network`` with the
  package's "network" random stream, then ``.to_networkx()``); neighbours come from
  ``self.cell.neighborhood``;
- one ``Firm(mesa.Agent)`` per firm, holding its levers (read from ``FirmParams``),
  its flows and accounts for the period and its queue of late complaint resolutions;
- ``ReferenceModel.step`` runs the 13 stages of ``MarketModel.step`` in the same order,
  each as ``AgentSet.do``/``shuffle_do`` of a per-agent stage method; where the package
  updates a stage synchronously and agents read each other's state (word of mouth), the
  stage is split into compute (talk: messages go to inboxes) then apply (listen);
- a Mesa ``DataCollector`` with model reporters (the market row) and
  ``agenttype_reporters`` for ``Firm`` (the firm row): ``firm_frame()`` has the same
  column names and meanings as ``MarketModel.firm_frame()``, ``market_frame()`` the
  main columns of ``MarketModel.market_frame()``.

Every parameter is read from ``sim.params.ModelParams``; nothing is hard-coded. The
``market.warmup`` periods run before period 0 as in the package (unrecorded, incumbents
active, no policies, customers' accounts reset afterwards) and, as docs/model.md section 5
says, without timeline events. Not reproduced: the event log and the panel (``record_events``
and ``panel_size`` are ignored), and firm policies other than ``fixed``/``scheduled``
(timeline events are applied). As in the package, the switching cost γ used by churn
(stage 12) is the one computed at the choice stage (stage 4; customers who moved since
cannot churn this period anyway), referrals (stage 10) use the recipient's switching
cost at that moment, and the promise pull of stage 11 applies to every firm known then.

Usage::

    from sim import ModelParams
    from bench.reference_model import ReferenceModel

    m = ReferenceModel(ModelParams(), seed=1)
    m.run(24)
    m.firm_frame()        # period, firm, customers, share, mean_satisfaction, churn_rate, ...
"""

from __future__ import annotations

import copy
import math

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import CellAgent, Network

from sim.agents import LEVERS
from sim.model import ACQ_CHANNELS, STREAMS
from sim.network import build_network
from sim.params import FirmParams, ModelParams

__all__ = ["ReferenceModel", "CustomerAgent", "Firm", "FIRM_COLUMNS", "MARKET_COLUMNS"]

PROSPECT, CUSTOMER, LAPSED = 0, 1, 2
VIA_INITIAL, VIA_MARKETING, VIA_IMITATION, VIA_WOM, VIA_REFERRAL = 0, 1, 2, 3, 4
_VIA_CHANNEL = ("known", "marketing", "imitation", "wom", "referral")
SILENT, QUICK, LATE, UNRESOLVED = 0, 1, 2, 3
PROMOTER_S, DETRACTOR_S = 0.8, 0.2

#: flows a firm accumulates during a period
FLOWS = (
    "buyers",
    "units",
    "revenue",
    "variable",
    "service",
    "discounts",
    "complaint_costs",
    "contribution",
    "problems",
    "complaints",
    "resolved_quick",
    "resolved_late",
    "unresolved",
    "remedies_late",
    "wom_pos",
    "wom_neg",
    "referrals",
    "lost_to_rival",
    "lost_out",
    "lost_after_negative_wom",
    "winback_contacts",
    *[f"acq_{c}" for c in ACQ_CHANNELS],
)

#: columns of ``firm_frame()`` (those of ``MarketModel.firm_frame()``)
FIRM_COLUMNS = (
    "period",
    "firm",
    "firm_index",
    "active",
    "price",
    "quality",
    "service",
    "promise",
    "capacity",
    "complaint_ease",
    "resolve_share",
    "resolve_speed",
    "marketing",
    "switching_cost",
    "loyalty",
    "referral_reward",
    "winback",
    "customers",
    "share",
    "penetration",
    "aware",
    "buyers",
    "units",
    "sales_share",
    "acquired",
    *[f"acq_{c}" for c in ACQ_CHANNELS],
    "lost",
    "lost_to_rival",
    "lost_out",
    "lost_after_negative_wom",
    "churn_rate",
    "mean_satisfaction",
    "mean_expectation",
    "problems",
    "complaints",
    "resolved_quick",
    "resolved_late",
    "unresolved",
    "wom_pos",
    "wom_neg",
    "referrals",
    "load",
    "wait",
    "revenue",
    "cost_variable",
    "cost_service",
    "cost_capacity",
    "cost_complaints",
    "cost_marketing",
    "cost_programme",
    "cost_fixed",
    "cost_total",
    "profit",
    "margin_per_customer",
    "retention",
    "clv",
)

#: columns of ``market_frame()``
MARKET_COLUMNS = (
    "period",
    "population",
    "customers",
    "unserved",
    "prospects",
    "lapsed",
    "unaware",
    "buyers",
    "mean_satisfaction",
    "promoters",
    "detractors",
    "nps",
    "complaints",
    "wom_pos",
    "wom_neg",
    "referrals",
    "switches",
    "lapsed_now",
    "revenue",
    "profit",
)


def _logit_pick(options: list[tuple[int, float]], outside: float | None, u: float) -> int:
    """Inverse-CDF logit draw over the available firms ``(index, utility)`` in index
    order, then buying nothing. Returns the firm index, or -1 for buying nothing (or
    nothing available)."""
    if not options and outside is None:
        return -1
    top = -math.inf if outside is None else outside
    for _, v in options:
        if v > top:
            top = v
    weights = [(j, math.exp(v - top)) for j, v in options]
    total = 0.0 if outside is None else math.exp(outside - top)
    for _, w in weights:
        total += w
    target = u * total
    acc = 0.0
    for j, w in weights:
        acc += w
        if target < acc:
            return j
    return -1


# --------------------------------------------------------------------------- firms
class Firm(mesa.Agent):
    """A firm: its levers (plain attributes), this period's flows and its accounts."""

    def __init__(self, model: ReferenceModel, params: FirmParams, index: int) -> None:
        super().__init__(model)
        if params.policy not in ("fixed", "scheduled"):
            raise NotImplementedError(
                f"ReferenceModel supports the fixed and scheduled policies, not {params.policy!r}"
            )
        self.index = index
        for f in FirmParams.__dataclass_fields__:
            setattr(self, f, copy.deepcopy(getattr(params, f)))
        self.late_queue: list[tuple] = []  # (due, customer, z, loss, weight)
        self.public_wait = 0.0  # last period's waiting (seen when choosing)
        self.public_load = 0.0
        self.flows = dict.fromkeys(FLOWS, 0.0)
        self.customers = 0  # stock at the end of the last recorded period
        self.begin_period()

    # levers as the period sees them ------------------------------------------------
    def begin_period(self) -> None:
        m = self.model
        # incumbents (enter_at = 0) are also active during a warm-up (negative periods)
        self.active = max(m.period, 0) >= self.enter_at
        self.capacity_level = math.inf if self.capacity is None else float(self.capacity)
        self.loyalty_on = bool(self.loyalty) and m.params.loyalty.enabled
        if self.promise is not None:
            self.promise_level = float(self.promise)
        else:
            w = m.mean_w_quality
            self.promise_level = w * self.quality + (1 - w) * self.service
        # the parts of its customers' switching cost γ_i the firm sets (docs/model.md 7.11)
        P = m.params
        self.base_gamma = P.choice.inertia + self.switching_cost
        gamma_points = P.loyalty.points_switching_cost if P.loyalty.enabled else 0.0
        self.points_gamma = gamma_points if self.loyalty_on else 0.0
        self.points_cap = P.loyalty.points_cap
        self.flows = dict.fromkeys(FLOWS, 0.0)
        self.customers_start = self.customers
        self.factor, self.wait_now, self.load_now = 1.0, 0.0, 0.0

    def set_lever(self, name: str, value) -> None:
        if name not in LEVERS:
            raise ValueError(f"firm lever {name!r} unknown")
        setattr(self, name, value)

    # stage 5: capacity ---------------------------------------------------------------
    def stage_capacity(self) -> None:
        cp = self.model.params.capacity
        demand = self.flows["buyers"]
        load = 0.0
        if cp.enabled and math.isfinite(self.capacity_level):
            if self.capacity_level > 0:
                load = demand / self.capacity_level
            else:
                load = math.inf if demand > 0 else 0.0
        self.load_now = load
        if load > 1.0:
            self.factor = load ** (-cp.service_elasticity)
            self.wait_now = min(load - 1.0, 1e6)
        else:
            self.factor, self.wait_now = 1.0, 0.0

    # stage 1 (end): late complaint resolutions falling due, before the period's choices ----
    def stage_late_resolutions(self) -> None:
        t = self.model.period
        due = [e for e in self.late_queue if e[0] <= t]
        if not due:
            return
        self.late_queue = [e for e in self.late_queue if e[0] > t]
        for _, customer, z, loss, w in due:
            customer.pending -= 1
            self.flows["resolved_late"] += 1
            self.flows["remedies_late"] += self.remedy_cost
            if customer.last_firm == self.index:
                customer.revise_incident(z, loss, w)

    # stage 13: accounts ------------------------------------------------------------------
    def reset_tally(self) -> None:
        self.tally = {"customers": 0, "sat_sum": 0.0, "sat_n": 0, "exp_sum": 0.0, "aware": 0}

    def close_books(self) -> None:
        m, P = self.model, self.model.params
        fl, tl = self.flows, self.tally
        n = m.n_customers
        charge = self.active and m.period > 0
        self.customers = tl["customers"]
        self.share = self.customers / m.served if m.served > 0 else 0.0
        self.penetration = self.customers / n
        self.aware_share = tl["aware"] / n
        self.sales_share = fl["buyers"] / m.buyers_total if m.buyers_total > 0 else 0.0
        self.cost_marketing = (
            self.marketing * self.marketing_cost * n
            if charge and P.acquisition.marketing_enabled
            else 0.0
        )
        self.cost_capacity = (
            self.capacity_cost * self.capacity_level
            if charge and P.capacity.enabled and math.isfinite(self.capacity_level)
            else 0.0
        )
        self.cost_programme = (
            fl["discounts"]
            + (self.loyalty_fixed_cost if charge and self.loyalty_on else 0.0)
            + fl["referrals"] * self.referral_reward
            + fl["winback_contacts"] * self.winback_cost
        )
        self.cost_fixed = self.fixed_cost if charge else 0.0
        self.cost_complaints = fl["complaint_costs"] + fl["remedies_late"]
        self.cost_total = (
            fl["variable"]
            + fl["service"]
            + self.cost_complaints
            + self.cost_marketing
            + self.cost_capacity
            + self.cost_fixed
            + self.cost_programme
        )
        self.profit = fl["revenue"] - self.cost_total
        self.lost = fl["lost_to_rival"] + fl["lost_out"]
        start = self.customers_start
        self.churn_rate = self.lost / start if start > 0 else 0.0
        self.retention = 1.0 - self.churn_rate
        self.margin_per_customer = (
            fl["contribution"] / self.customers if self.customers > 0 else 0.0
        )
        i = P.market.discount_rate
        r = self.retention
        self.clv = self.margin_per_customer * r / (1.0 + i - r) if r < 1.0 + i else 0.0
        self.mean_satisfaction = tl["sat_sum"] / tl["sat_n"] if tl["sat_n"] > 0 else math.nan
        self.mean_expectation = tl["exp_sum"] / self.customers if self.customers > 0 else math.nan
        self.acquired = sum(fl[f"acq_{c}"] for c in ACQ_CHANNELS)

    def publish_wait(self) -> None:
        """This period's waiting becomes public for the next period's choices."""
        self.public_wait, self.public_load = self.wait_now, self.load_now


def _firm_reporters() -> dict:
    """The DataCollector's agenttype reporters for ``Firm``: one per firm-table column."""
    flow = (
        "buyers",
        "problems",
        "complaints",
        "resolved_quick",
        "resolved_late",
        "unresolved",
        "wom_pos",
        "wom_neg",
        "referrals",
        "lost_to_rival",
        "lost_out",
        "lost_after_negative_wom",
        *[f"acq_{c}" for c in ACQ_CHANNELS],
    )
    rep: dict = {
        "period": lambda a: a.model.period,
        "firm": "name",
        "firm_index": "index",
        "active": "active",
        "price": lambda a: float(a.price),
        "quality": lambda a: float(a.quality),
        "service": lambda a: float(a.service),
        "promise": "promise_level",
        "capacity": "capacity_level",
        "complaint_ease": "complaint_ease",
        "resolve_share": "resolve_share",
        "resolve_speed": "resolve_speed",
        "marketing": "marketing",
        "switching_cost": "switching_cost",
        "loyalty": "loyalty_on",
        "referral_reward": "referral_reward",
        "winback": "winback",
        "customers": "customers",
        "share": "share",
        "penetration": "penetration",
        "aware": "aware_share",
        "units": lambda a: a.flows["units"],
        "sales_share": "sales_share",
        "acquired": lambda a: int(a.acquired),
        "lost": lambda a: int(a.lost),
        "churn_rate": "churn_rate",
        "mean_satisfaction": "mean_satisfaction",
        "mean_expectation": "mean_expectation",
        "load": "load_now",
        "wait": "wait_now",
        "revenue": lambda a: a.flows["revenue"],
        "cost_variable": lambda a: a.flows["variable"],
        "cost_service": lambda a: a.flows["service"],
        "cost_capacity": "cost_capacity",
        "cost_complaints": "cost_complaints",
        "cost_marketing": "cost_marketing",
        "cost_programme": "cost_programme",
        "cost_fixed": "cost_fixed",
        "cost_total": "cost_total",
        "profit": "profit",
        "margin_per_customer": "margin_per_customer",
        "retention": "retention",
        "clv": "clv",
    }
    for name in flow:
        rep[name] = lambda a, k=name: int(a.flows[k])
    return {c: rep[c] for c in FIRM_COLUMNS}


# --------------------------------------------------------------------------- customers
class CustomerAgent(CellAgent):
    """One customer: tastes, relationship, feelings and memory as plain Python values."""

    def __init__(self, model: ReferenceModel, cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.index = cell.coordinate
        P = model.params
        rnd = self.random
        k = model.n_firms
        segs = P.market.segments
        seg_i = rnd.choices(range(len(segs)), weights=[s.share for s in segs])[0]
        seg = segs[seg_i]
        sigma = P.market.taste_sigma

        def taste(mean: float) -> float:  # mean-preserving lognormal spread
            return mean * math.exp(sigma * rnd.gauss(0.0, 1.0) - 0.5 * sigma * sigma)

        self.segment = seg_i
        self.w_quality = min(1.0, max(0.0, seg.w_quality + 0.1 * rnd.gauss(0.0, 1.0)))
        self.beta_perf = taste(seg.beta_perf)
        self.beta_price = taste(seg.beta_price)
        self.beta_time = taste(seg.beta_time)
        self.beta_wom = taste(seg.beta_wom)
        self.beta_brand = taste(seg.beta_brand)
        self.purchase_prob = seg.purchase_prob
        qs = seg.quantity_sigma
        self.quantity = seg.quantity_mean * math.exp(qs * rnd.gauss(0.0, 1.0) - 0.5 * qs * qs)
        # relationship
        self.status, self.firm, self.last_firm, self.lapsed_from = PROSPECT, -1, -1, -1
        self.since, self.points, self.n_complaints = 0, 0, 0
        self.pending = 0  # complaints waiting for a late resolution
        # feelings and memory
        self.satisfaction = self.peak = self.last_x = self.perf_memory = 0.0
        self.experienced = False
        self.neg_src, self.neg_firm, self.neg_t = -1, -1, -(10**6)
        # per firm
        self.expect = [0.0] * k
        self.attitude = [0.0] * k
        self.aware = [False] * k
        self.aware_via = [VIA_INITIAL] * k
        self.tried = [False] * k
        fit_sd = P.experience.fit_sd  # persistent fit with each firm
        self.fit = [fit_sd * rnd.gauss(0.0, 1.0) if fit_sd > 0 else 0.0 for _ in range(k)]
        self.profit = [0.0] * k
        self.revenue = [0.0] * k
        # this period's scratch
        self.known: list[bool] = [False] * k
        self.shopper = False
        self.bf = -1
        self.gamma = 0.0
        self.outcome = SILENT
        self.inbox: list[tuple] = []
        self.wom_w: list[float] | None = None
        self.wom_c: list[float] | None = None

    # helpers ------------------------------------------------------------------------------
    def switching_cost(self) -> float:
        """γ_i = γ + structural switching cost + Γ · min(points / cap, 1) (0 without a firm)."""
        if self.firm < 0:
            return 0.0
        f = self.model.firm_list[self.firm]
        if f.points_gamma > 0:
            return f.base_gamma + f.points_gamma * min(self.points / f.points_cap, 1.0)
        return f.base_gamma

    def price_at(self, f: Firm) -> float:
        """Price this customer pays at firm ``f`` (member discount at its own firm)."""
        if f.index == self.firm and self.points >= 1 and f.loyalty_on:
            return f.price * (1.0 - f.loyalty_discount)
        return f.price

    def utility(self, f: Firm, *, inertia: bool = True, novelty: bool = True) -> float:
        """V_ij of firm ``f`` (docs/model.md 7.1)."""
        P = self.model.params
        j = f.index
        v = (
            self.beta_perf * self.expect[j]
            + self.beta_brand * f.brand
            + self.beta_wom * math.tanh(self.attitude[j])
            - self.beta_price * self.price_at(f) / P.market.reference_price
            - self.beta_time * (f.public_wait + f.effort)
        )
        if novelty and not self.tried[j]:
            v -= P.choice.novelty_risk
        if inertia and j == self.firm:
            s = self.satisfaction if self.last_firm == self.firm else 0.0
            v += self.gamma + P.choice.satisfaction_weight * s
        return v

    def new_expectation(self, j: int) -> None:
        noise = self.model.params.expectations.initial_noise
        self.expect[j] = self.model.firm_list[j].promise_level + noise * self.random.gauss(0.0, 1.0)

    def negative_source(self, firm: int) -> int:
        if (
            self.neg_firm == firm
            and self.model.period - self.neg_t <= self.model.params.wom.memory_window
        ):
            return self.neg_src
        return -1

    def join(self, to: int, prev: int, how: str) -> None:
        """Start a relationship with firm ``to`` (``prev``: previous firm or -1)."""
        firms = self.model.firm_list
        if how in ("referral", "winback"):
            channel = how
        elif prev >= 0:
            channel = "switch"
        else:
            channel = _VIA_CHANNEL[self.aware_via[to]]
        firms[to].flows[f"acq_{channel}"] += 1
        if prev >= 0:
            firms[prev].flows["lost_to_rival"] += 1
            if self.negative_source(prev) >= 0:
                firms[prev].flows["lost_after_negative_wom"] += 1
        self.firm, self.status, self.since = to, CUSTOMER, self.model.period
        self.points, self.lapsed_from = 0, -1
        self.aware[to] = True

    # initial market (section 5) -------------------------------------------------------------
    def init_market(self) -> None:
        P = self.model.params
        m, rnd = P.market, self.random
        firms = self.model.firm_list
        for f in firms:
            if f.active and rnd.random() < m.initial_awareness:
                self.aware[f.index] = True
                self.new_expectation(f.index)
        if not any(self.aware) or rnd.random() >= m.initial_customers:
            return
        v = [
            (f.index, self.utility(f, inertia=False, novelty=False))
            for f in firms
            if self.aware[f.index]
        ]
        j = _logit_pick(v, None, rnd.random())
        f = firms[j]
        perf = self.w_quality * f.quality + (1 - self.w_quality) * f.service + self.fit[j]
        sp = P.satisfaction
        s0 = math.tanh(
            sp.performance_weight * (perf - sp.neutral_performance)
            - sp.price_weight * (f.price / m.reference_price - 1.0)
        )
        self.firm = self.last_firm = j
        self.status = CUSTOMER
        self.tried[j] = True
        self.experienced = True
        self.expect[j] = self.perf_memory = perf
        self.satisfaction = self.peak = self.last_x = s0

    # stage 2: awareness ----------------------------------------------------------------------
    def stage_awareness(self) -> None:
        firms = self.model.firm_list
        unknown = [f for f in firms if f.active and not self.aware[f.index]]
        if not unknown:
            return
        acq = self.model.params.acquisition
        q = acq.imitation if acq.imitation_enabled else 0.0
        counts = [0] * len(firms)
        degree = 0
        if q > 0:
            for neighbour in self.cell.neighborhood.agents:
                degree += 1
                if neighbour.firm >= 0:
                    counts[neighbour.firm] += 1
        per_tie = q / degree if degree > 0 else 0.0
        for f in unknown:
            p = f.marketing if acq.marketing_enabled else 0.0
            if acq.hazard == "bass":  # p + q · adopted share of contacts
                a = min(1.0, p + per_tie * counts[f.index])
            else:
                a = 1.0 - (1.0 - p) * (1.0 - per_tie) ** counts[f.index]
            u = self.random.random()
            if u < a:
                self.aware[f.index] = True
                self.aware_via[f.index] = VIA_MARKETING if u < p else VIA_IMITATION
                self.new_expectation(f.index)

    # stage 3: purchase occasion ----------------------------------------------------------------
    def stage_occasion(self) -> None:
        known = [f.active and self.aware[f.index] for f in self.model.firm_list]
        self.known = known
        self.bf = -1
        self.outcome = SILENT
        self.wom_w = None
        self.shopper = (
            self.status != LAPSED and True in known and self.random.random() < self.purchase_prob
        )

    # stage 4: choice -----------------------------------------------------------------------------
    def stage_choice(self) -> None:
        self.gamma = self.switching_cost()  # kept for referrals (10) and churn (12)
        if not self.shopper:
            return
        P = self.model.params
        v = [(f.index, self.utility(f)) for f in self.model.firm_list if self.known[f.index]]
        outside = P.choice.outside_utility if P.choice.outside_option else None
        j = _logit_pick(v, outside, self.random.random())
        if j < 0:
            return
        f = self.model.firm_list[j]
        self.bf = j
        self.paid = self.price_at(f)
        self.list_price = f.price
        prev = self.firm
        self.new_rel = prev != j
        if self.new_rel:
            self.join(j, prev, "choice")
        f.flows["buyers"] += 1

    # stage 6: experience -------------------------------------------------------------------------
    def stage_experience(self) -> None:
        P = self.model.params
        f = self.model.firm_list[self.bf]
        ex = P.experience
        q = f.quality + ex.quality_noise * self.random.gauss(0.0, 1.0)
        s = f.service * f.factor + ex.service_noise * self.random.gauss(0.0, 1.0)
        kappa_w = P.capacity.wait_weight if P.capacity.enabled else 0.0
        self.perf = (
            self.w_quality * q
            + (1.0 - self.w_quality) * s
            - kappa_w * f.wait_now
            + self.fit[f.index]
        )

    # stage 7: transaction satisfaction --------------------------------------------------------------
    def stage_transaction(self) -> None:
        P = self.model.params
        sp = P.satisfaction
        self.e_pre = e = self.expect[self.bf]
        d = self.perf - e
        g = sp.gain_weight * d if d >= 0 else sp.loss_weight * d
        # the shortfall's whole effect on z, which complaint handling can undo
        self.loss = (sp.loss_weight + sp.performance_weight) * min(d, 0.0)
        self.z = (
            sp.performance_weight * (self.perf - sp.neutral_performance)
            + g
            - sp.price_weight * (self.paid / P.market.reference_price - 1.0)
        )
        self.x = math.tanh(self.z)
        self.fresh = self.new_rel or self.last_firm != self.bf
        problem = (e - self.perf) > sp.problem_threshold
        self.omega = sp.problem_weight if problem else sp.memory_weight
        self.problem = problem
        self.cost_complaint = 0.0

    # stage 8: complaints -------------------------------------------------------------------------------
    def stage_complaints(self) -> None:
        P = self.model.params
        cp = P.complaints
        f = self.model.firm_list[self.bf]
        shortfall = self.e_pre - self.perf
        if shortfall <= max(P.satisfaction.problem_threshold, 0.0):  # only problems
            return
        prob = f.complaint_ease * cp.max_prob * (1.0 - math.exp(-shortfall / cp.shortfall_scale))
        if self.random.random() >= prob:
            return
        rnd = self.random
        if rnd.random() < f.resolve_share:
            self.outcome = QUICK if rnd.random() < f.resolve_speed else LATE
        else:
            self.outcome = UNRESOLVED
        share = {
            QUICK: cp.recovery_quick,
            LATE: cp.recovery_unresolved,
            UNRESOLVED: cp.recovery_unresolved,
        }[self.outcome]
        bonus = cp.recovery_paradox if self.outcome == QUICK and self.n_complaints == 0 else 0.0
        self.x = math.tanh(self.z - share * self.loss + bonus)
        self.n_complaints += 1
        f.flows["complaints"] += 1
        self.cost_complaint = f.complaint_cost
        if self.outcome == QUICK:
            f.flows["resolved_quick"] += 1
            self.cost_complaint += f.remedy_cost * (1.0 + cp.quick_premium)
        elif self.outcome == UNRESOLVED:
            f.flows["unresolved"] += 1
        else:
            self.pending += 1
            f.late_queue.append(
                (self.model.period + cp.late_delay, self, self.z, self.loss, self.omega)
            )

    # stage 9: remembered satisfaction ----------------------------------------------------------------------
    def stage_remember(self) -> None:
        sp = self.model.params.satisfaction
        if self.problem or self.outcome != SILENT:  # the complaint iceberg
            self.model.firm_list[self.bf].flows["problems"] += 1
        x, w = self.x, self.omega
        peak = x if (self.fresh or abs(x) > abs(self.peak)) else self.peak
        if self.fresh:
            s = x
        elif sp.memory == "peak_end":
            s = (1.0 - w) * peak + w * x
        else:
            s = (1.0 - w) * self.satisfaction + w * x
        self.satisfaction = min(1.0, max(-1.0, s))
        self.peak, self.last_x = peak, x
        om = sp.memory_weight
        self.perf_memory = self.perf if self.fresh else (1 - om) * self.perf_memory + om * self.perf
        self.last_firm = self.bf
        self.experienced = True
        self.tried[self.bf] = True

    def revise_incident(self, z: float, loss: float, w: float) -> None:
        """A late resolution arrives: the incident remembered as tanh(z − r_u ℓ) becomes
        tanh(z − r_l ℓ) (docs/model.md 7.4, 7.6)."""
        P = self.model.params
        cp = P.complaints
        old = math.tanh(z - cp.recovery_unresolved * loss)
        new = math.tanh(z - cp.recovery_late * loss)
        if P.satisfaction.memory == "peak_end":

            def close(a: float, b: float) -> bool:  # numpy.isclose
                return abs(a - b) <= 1e-8 + 1e-5 * abs(b)

            if close(self.peak, old):
                self.peak = new
            if close(self.last_x, old):
                self.last_x = new
            s = (1.0 - w) * self.peak + w * self.last_x
        else:
            s = self.satisfaction + w * (new - old)
        self.satisfaction = min(1.0, max(-1.0, s))

    # stage 10: word of mouth (compute: talk) then referrals (apply: listen) ---------------------------------
    def stage_talk(self) -> None:
        wp = self.model.params.wom
        firms = self.model.firm_list
        lf = self.last_firm
        if self.bf >= 0 and self.outcome == QUICK:
            valence, reach = 1, wp.recovery_reach
        elif self.bf >= 0 and self.outcome == UNRESOLVED:
            valence, reach = -1, wp.unresolved_reach
        else:
            if not (self.experienced and lf >= 0 and firms[lf].active):
                return
            S = self.satisfaction
            if wp.negative_threshold <= S <= wp.positive_threshold:
                return  # the silent middle of the U: no talk
            p_pos = wp.positive_talk * min(
                1.0, max(0.0, (S - wp.positive_threshold) / max(1.0 - wp.positive_threshold, 1e-9))
            )
            p_neg = wp.negative_talk * min(
                1.0, max(0.0, (wp.negative_threshold - S) / max(1.0 + wp.negative_threshold, 1e-9))
            )
            u = self.random.random()
            if u < p_pos:
                valence, reach = 1, wp.positive_reach
            elif u < p_pos + p_neg:
                valence, reach = -1, wp.negative_reach
            else:
                return
        if reach <= 0:
            return
        neighbours = list(self.cell.neighborhood.agents)
        if not neighbours:
            return
        weight = abs(self.satisfaction) * (wp.negative_weight if valence < 0 else 1.0)
        weight = max(weight, 1e-3)
        refers = valence > 0 and self.satisfaction >= self.model.params.referrals.threshold
        message = (lf, valence, weight, self.perf_memory, refers, self.index)
        firms[lf].flows["wom_pos" if valence > 0 else "wom_neg"] += reach
        for recipient in self.random.choices(neighbours, k=reach):  # with replacement
            if not recipient.inbox:
                self.model.listeners.append(recipient)
            recipient.inbox.append(message)

    def stage_listen(self) -> None:
        P = self.model.params
        firms = self.model.firm_list
        t = self.model.period
        k = len(firms)
        self.wom_w = [0.0] * k
        self.wom_c = [0.0] * k
        rp = P.referrals
        best = None
        for f, valence, w, content, refers, sender in self.inbox:
            if not self.aware[f]:
                self.aware[f] = True
                self.aware_via[f] = VIA_WOM
                self.new_expectation(f)
            self.attitude[f] += valence * w
            self.wom_w[f] += w
            self.wom_c[f] += w * content
            if valence < 0:
                self.neg_src, self.neg_firm, self.neg_t = sender, f, t
            elif refers and rp.enabled and self.firm != f and firms[f].active:
                u = self.random.random()
                prob = rp.prob * (
                    1 + rp.reward_gain * firms[f].referral_reward / P.market.reference_price
                )
                prob *= math.exp(-P.churn.switching_cost_effect * self.switching_cost())
                if u < prob and (best is None or u < best[0]):
                    best = (u, f)
        self.inbox = []
        if best is not None:
            f = best[1]
            firms[f].flows["referrals"] += 1
            self.aware_via[f] = VIA_REFERRAL
            self.join(f, self.firm, "referral")

    # stage 11: expectations --------------------------------------------------------------------------------
    def stage_expectations(self, heard: bool) -> None:
        xp = self.model.params.expectations
        if self.bf >= 0 and xp.experience_weight > 0:
            e = self.expect[self.bf]
            self.expect[self.bf] = e + xp.experience_weight * (self.perf - e)
        if heard and xp.wom_weight > 0 and self.wom_w is not None:
            for j, w in enumerate(self.wom_w):
                if w > 0:
                    pull = 1.0 - (1.0 - xp.wom_weight) ** w
                    self.expect[j] += pull * (self.wom_c[j] / w - self.expect[j])
        if xp.promise_weight > 0:
            for f in self.model.firm_list:
                if self.aware[f.index] and f.active:
                    self.expect[f.index] += xp.promise_weight * (
                        f.promise_level - self.expect[f.index]
                    )
        self.wom_w = None

    # stage 12: churn, win-back, returns ---------------------------------------------------------------------
    def stage_churn(self) -> None:
        P = self.model.params
        cp = P.churn
        t = self.model.period
        firms = self.model.firm_list
        rnd = self.random
        if self.status == CUSTOMER and self.since < t and not self.pending:
            S = self.satisfaction if self.last_firm == self.firm else 0.0
            extra = max(self.gamma - P.choice.inertia, 0.0)
            h = (
                cp.base_rate
                + cp.dissatisfaction_rate * min(1.0, max(0.0, (1.0 - S) / 2.0)) ** cp.curvature
            )
            if cp.defection_rate:  # quick defection of a dissatisfied customer
                arg = (cp.defection_midpoint - S) / max(cp.defection_width, 1e-9)
                h += cp.defection_rate / (1.0 + math.exp(-min(max(arg, -50.0), 50.0)))
            h = min(1.0, h * math.exp(-cp.switching_cost_effect * extra))
            if rnd.random() >= h:
                return
            cur = self.firm
            v = [
                (f.index, self.utility(f, inertia=False))
                for f in firms
                if f.index != cur and f.active and self.aware[f.index]
            ]
            dest = _logit_pick(v, P.choice.outside_utility, rnd.random())
            if dest >= 0:
                self.join(dest, cur, "churn")
                return
            firms[cur].flows["lost_out"] += 1
            if self.negative_source(cur) >= 0:
                firms[cur].flows["lost_after_negative_wom"] += 1
            self.lapsed_from, self.firm, self.status = cur, -1, LAPSED
            self.since, self.points = t, 0
        elif self.status == LAPSED and self.since < t:
            lf = self.lapsed_from
            back = False
            if lf >= 0 and firms[lf].active and rnd.random() < firms[lf].winback:
                firms[lf].flows["winback_contacts"] += 1
                back = rnd.random() < cp.winback_response * (1.0 + self.satisfaction) / 2.0
                if back:
                    self.join(lf, -1, "winback")
            if not back and rnd.random() < cp.return_rate:
                self.status, self.lapsed_from = PROSPECT, -1

    # stage 13: points, accounts, attitude decay, tallies -------------------------------------------------------
    def stage_accounts(self) -> None:
        P = self.model.params
        if self.bf >= 0:
            j = self.bf
            f = self.model.firm_list[j]
            if self.firm == j:
                self.points += 1
            qty = self.quantity
            rev = self.paid * qty
            variable = f.unit_cost * qty
            service = f.service_cost * f.service + f.serve_cost
            contrib = rev - variable - service - self.cost_complaint
            self.profit[j] += contrib
            self.revenue[j] += rev
            fl = f.flows
            fl["units"] += qty
            fl["revenue"] += self.list_price * qty
            fl["variable"] += variable
            fl["service"] += service
            fl["discounts"] += (self.list_price - self.paid) * qty
            fl["complaint_costs"] += self.cost_complaint
            fl["contribution"] += contrib
        delta = P.wom.attitude_decay
        if P.wom.enabled and delta < 1.0:
            self.attitude = [a * delta for a in self.attitude]
        self.tally()

    def tally(self) -> None:
        """Add this customer to the firm and market stocks of the period."""
        m = self.model
        mt = m.market_tally
        knows_active = False
        for f in m.firm_list:
            if self.aware[f.index]:
                f.tally["aware"] += 1
                knows_active = knows_active or f.active
        if not knows_active:
            mt["unaware"] += 1
        if self.status == PROSPECT:
            mt["prospects"] += 1
        elif self.status == LAPSED:
            mt["lapsed"] += 1
        if self.firm >= 0:
            tl = m.firm_list[self.firm].tally
            tl["customers"] += 1
            tl["exp_sum"] += self.expect[self.firm]
            if self.last_firm == self.firm:
                tl["sat_sum"] += self.satisfaction
                tl["sat_n"] += 1
                mt["sat"].append(self.satisfaction)


# --------------------------------------------------------------------------- model
class ReferenceModel(mesa.Model):
    """The package's market as an idiomatic per-agent Mesa model (see the module docstring).

    Args:
        params: the full parameter set (``sim.params.ModelParams``); copied.
        seed: overrides ``params.seed``; seeds Mesa's ``random``/``rng`` and selects the
            same network as ``MarketModel`` with this seed.
    """

    def __init__(self, params: ModelParams | None = None, *, seed: int | None = None) -> None:
        params = copy.deepcopy(params) if params is not None else ModelParams()
        if seed is not None:
            params.seed = int(seed)
        super().__init__(rng=int(params.seed))
        self.params = params
        self.period = 0
        net = params.network
        n = int(params.market.n_customers)
        self.n_customers = n
        # the package's network for this seed: its "network" random stream
        streams = np.random.SeedSequence(int(params.seed)).spawn(len(STREAMS))
        net_rng = np.random.default_rng(streams[STREAMS.index("network")])
        graph = build_network(
            net.kind, n, int(net.degree), float(net.rewire), net_rng, net.path
        ).to_networkx()
        self.grid = Network(graph, layout=None, random=self.random)
        self.mean_w_quality = 0.0
        self.firm_list = [Firm(self, fp, j) for j, fp in enumerate(params.firms)]
        self.n_firms = len(self.firm_list)
        for i in range(n):
            CustomerAgent(self, self.grid[i])
        self.customers = self.agents_by_type[CustomerAgent]
        self.firms = self.agents_by_type[Firm]
        self.mean_w_quality = sum(self.customers.get("w_quality")) / n
        self.firms.do("begin_period")
        self._timeline = sorted(params.events, key=lambda e: int(e["period"]))
        self.listeners: list[CustomerAgent] = []
        self._warming = False
        self.customers.do("init_market")
        warm = int(getattr(params.market, "warmup", 0))
        if warm > 0:  # settle the starting market, unrecorded, then call it period 0
            self.period = -warm
            for c in self.customers.select(lambda a: a.status == CUSTOMER):
                c.since = -warm  # relationships began before
            self._warming = True
            for _ in range(warm):
                self._advance()
            self._warming = False
            for c in self.customers:
                c.profit = [0.0] * self.n_firms
                c.revenue = [0.0] * self.n_firms
            self.firms.do("begin_period")  # period 0: no flows (last waiting stays public)
        self.datacollector = mesa.DataCollector(
            model_reporters={c: (lambda m, c=c: m.market_row[c]) for c in MARKET_COLUMNS},
            agenttype_reporters={Firm: _firm_reporters()},
        )
        self._start_tally()
        self.customers.do("tally")
        self._close_period()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ the period
    def step(self) -> None:
        """One period: the 13 stages of ``MarketModel.step`` in the same order."""
        self._advance()
        self.datacollector.collect(self)

    def _advance(self) -> None:
        self.period += 1
        t = self.period
        P = self.params
        # 1. timeline (not during the warm-up; policies fixed/scheduled keep their levers)
        while not self._warming and self._timeline and int(self._timeline[0]["period"]) <= t:
            ev = self._timeline.pop(0)
            firm = next(f for f in self.firm_list if f.name == ev["firm"])
            for lever, value in ev.get("set", {}).items():
                firm.set_lever(lever, value)
        self.firms.do("begin_period")
        if P.complaints.enabled:  # late resolutions falling due, before the period's choices
            self.firms.do("stage_late_resolutions")
        # 2. awareness
        self.customers.shuffle_do("stage_awareness")
        # 3. purchase occasions
        self.customers.do("stage_occasion")
        # 4. choice
        self.customers.shuffle_do("stage_choice")
        buyers = self.customers.select(lambda a: a.bf >= 0)
        # 5. capacity
        self.firms.do("stage_capacity")
        # 6. experience
        buyers.do("stage_experience")
        # 7. transaction satisfaction
        buyers.do("stage_transaction")
        # 8. complaints
        if P.complaints.enabled:
            buyers.do("stage_complaints")
        # 9. remembered satisfaction
        buyers.do("stage_remember")
        # 10. word of mouth and referrals: everyone talks, then recipients listen
        heard = False
        if P.wom.enabled:
            self.listeners = []
            self.customers.shuffle_do("stage_talk")
            for recipient in self.listeners:
                recipient.stage_listen()
            heard = bool(self.listeners)
        # 11. expectations
        if P.expectations.enabled:
            self.customers.do("stage_expectations", heard)
        # 12. churn, win-back, returns
        if P.churn.enabled:
            self.customers.shuffle_do("stage_churn")
        # 13. loyalty points, accounts, recording
        self._start_tally()
        self.customers.do("stage_accounts")
        self.firms.do("publish_wait")
        self._close_period()

    def _start_tally(self) -> None:
        self.market_tally = {"unaware": 0, "prospects": 0, "lapsed": 0, "sat": []}
        self.firms.do("reset_tally")

    def _close_period(self) -> None:
        firms = self.firm_list
        self.served = sum(f.tally["customers"] for f in firms)
        self.buyers_total = sum(f.flows["buyers"] for f in firms)
        self.firms.do("close_books")
        mt = self.market_tally
        sat = mt["sat"]
        prom = sum(s >= PROMOTER_S for s in sat) / len(sat) if sat else math.nan
        det = sum(s <= DETRACTOR_S for s in sat) / len(sat) if sat else math.nan

        def total(key: str) -> float:
            return sum(f.flows[key] for f in firms)

        self.market_row = {
            "period": self.period,
            "population": self.n_customers,
            "customers": self.served,
            "unserved": self.n_customers - self.served,
            "prospects": mt["prospects"],
            "lapsed": mt["lapsed"],
            "unaware": mt["unaware"],
            "buyers": int(self.buyers_total),
            "mean_satisfaction": sum(sat) / len(sat) if sat else math.nan,
            "promoters": prom,
            "detractors": det,
            "nps": 100.0 * (prom - det) if sat else math.nan,
            "complaints": int(total("complaints")),
            "wom_pos": int(total("wom_pos")),
            "wom_neg": int(total("wom_neg")),
            "referrals": int(total("referrals")),
            "switches": int(total("lost_to_rival")),
            "lapsed_now": int(total("lost_out")),
            "revenue": total("revenue"),
            "profit": sum(f.profit for f in firms),
        }

    # ------------------------------------------------------------------ public API
    def run(self, periods: int | None = None) -> ReferenceModel:
        """Run ``periods`` periods (default: ``params.market.periods`` minus those done)."""
        if periods is None:
            periods = max(int(self.params.market.periods) - self.period, 0)
        for _ in range(int(periods)):
            self.step()
        return self

    def firm_frame(self) -> pd.DataFrame:
        """One row per firm and period (period 0 = the initial state), the columns of
        ``MarketModel.firm_frame()``, from the DataCollector's agenttype reporters."""
        df = self.datacollector.get_agenttype_vars_dataframe(Firm).reset_index(drop=True)
        return df.sort_values(["period", "firm_index"], kind="stable").reset_index(drop=True)

    def market_frame(self) -> pd.DataFrame:
        """One row per period for the whole market (DataCollector model reporters)."""
        return self.datacollector.get_model_vars_dataframe()
