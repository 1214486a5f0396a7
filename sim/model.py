"""``MarketModel``: customers, firms and the whole satisfaction chain on Mesa.

One call of :meth:`MarketModel.step` is one period (a month). The schedule within a
period is fixed and documented in docs/model.md ("Process overview and scheduling"):

 1. timeline events of the period apply; each firm's policy sets its levers

Before period 0, ``market.warmup`` periods run unrecorded (no timeline, no policies) so a
mature market starts settled.

Stages:
 1. timeline events of the period apply; each firm's policy sets its levers
 2. awareness: marketing (external) and imitation (internal influence)
 3. purchase occasions
 4. choice (logit over known firms and buying nothing, with inertia)
 5. capacity: demand against capacity → service factor and waiting
 6. experience: perceived performance
 7. transaction satisfaction (disconfirmation)
 8. complaints and their handling
 9. remembered satisfaction; then late resolutions that fall due revise it
10. word of mouth and referrals
11. expectations (experience, word of mouth, promises)
12. churn, win-back and returns
13. loyalty points, accounts, recording

Within a stage every customer acts on the state at the start of the stage (synchronous
update), so results do not depend on any agent order.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import complaints as cmp
from .acquisition import awareness_probability
from .agents import LEVERS, CustomerViews, Firm
from .capacity import load_effects
from .choice import logit_choice, take_rows, utilities
from .churn import churn_hazard, winback_success
from .expectations import update_expectations
from .experience import composite, perceived_performance
from .loyalty import member_price, switching_cost
from .network import build_network
from .params import ModelParams
from .population import (
    CUSTOMER,
    LAPSED,
    PROSPECT,
    VIA_IMITATION,
    VIA_INITIAL,
    VIA_MARKETING,
    VIA_NAMES,
    VIA_REFERRAL,
    VIA_WOM,
    Population,
)
from .recorder import Recorder
from .satisfaction import remember, revise, transaction_satisfaction
from .strategies import make_policy
from .wom import pick_referrals, talk_probability

__all__ = ["MarketModel", "STREAMS", "ACQ_CHANNELS"]

#: independent random streams, one per mechanism (common random numbers across scenarios)
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

#: acquisition channels (column suffixes acq_<channel> in the firm table)
ACQ_CHANNELS = ("known", "marketing", "imitation", "wom", "referral", "switch", "winback")
_VIA_TO_CHANNEL = {
    VIA_INITIAL: "known",
    VIA_MARKETING: "marketing",
    VIA_IMITATION: "imitation",
    VIA_WOM: "wom",
    VIA_REFERRAL: "referral",
}

#: NPS cut-offs on the satisfaction scale: score = 5 (S + 1) on 0–10; promoters 9–10,
#: detractors 0–6 (Reichheld 2003)
PROMOTER_S, DETRACTOR_S = 0.8, 0.2


class MarketModel(mesa.Model):
    """A market of ``N`` customers and ``K`` firms on a social network.

    Args:
        params: the full parameter set (a :class:`~sim.params.ModelParams`); copied.
        seed: overrides ``params.seed``.

    Attributes:
        pop: customer state as numpy columns (:class:`~sim.population.Population`).
        customers: ``model.customers[i]`` is a Mesa agent viewing customer ``i``'s row.
        firms: the :class:`~sim.agents.Firm` agents.
        network: the social network (:class:`~sim.network.Network`).
        period: periods completed.

    Examples:
        >>> from sim import MarketModel, ModelParams
        >>> m = MarketModel(ModelParams(), seed=1)
        >>> m.run(12)
        >>> m.firm_frame().groupby("name")["share"].last()  # doctest: +SKIP
    """

    def __init__(self, params: ModelParams | None = None, *, seed: int | None = None) -> None:
        params = copy.deepcopy(params) if params is not None else ModelParams()
        if seed is not None:
            params.seed = int(seed)
        super().__init__(rng=int(params.seed))
        self.params = params
        seqs = np.random.SeedSequence(int(params.seed)).spawn(len(STREAMS))
        self.streams = {
            name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs, strict=True)
        }
        self.period = 0
        m = params.market
        n = int(m.n_customers)
        k = len(params.firms)
        if k < 1:
            raise ValueError("firms: at least one firm is needed")
        net = params.network
        self.network = build_network(
            net.kind, n, int(net.degree), float(net.rewire), self.streams["network"], net.path
        )
        self.degree = self.network.degree.astype(float)
        self.pop = Population.create(m, k, self.streams["init"])
        if params.experience.fit_sd > 0:
            self.pop.fit[:] = params.experience.fit_sd * self.streams["fit"].standard_normal((n, k))
        self.mean_w_quality = float(self.pop.w_quality.mean())
        self.firms: list[Firm] = [
            Firm(self, fp, j, policy=make_policy(fp.policy)) for j, fp in enumerate(params.firms)
        ]
        # stochastic policies draw from the model's "policy" stream (reproducible)
        for f in self.firms:
            if hasattr(f.policy, "bind"):
                f.policy.bind(self.streams["policy"], f)
        self.customers = CustomerViews(self)
        self.recorder = Recorder()
        self.wait = np.zeros(k)  # last period's waiting per firm (public knowledge)
        self.load = np.zeros(k)
        self._pending = {
            "customer": np.empty(0, np.int64),
            "firm": np.empty(0, np.int64),
            "due": np.empty(0, np.int64),
            "z": np.empty(0),
            "loss": np.empty(0),
            "w": np.empty(0),
        }
        self._timeline = sorted(params.events, key=lambda e: int(e["period"]))
        self._lever_log: list[tuple] = []
        ps = min(int(params.panel_size), n)
        self.panel_ids = (
            np.unique(np.linspace(0, n - 1, ps).round().astype(np.int64))
            if ps > 0
            else np.empty(0, np.int64)
        )
        self._panel: list[dict] = []
        self._log = bool(params.record_events)
        self._init_market()
        warm = int(m.warmup)
        if warm > 0:  # settle the starting market, unrecorded, then call it period 0
            self._log, self._warming = False, True
            self.period = -warm
            self.pop.since[self.pop.status == CUSTOMER] = -warm  # relationships began before
            for _ in range(warm):
                self._advance()
            self._log, self._warming = bool(params.record_events), False
            self.pop.profit[:] = 0.0
            self.pop.revenue[:] = 0.0
        self._record(self._empty_flows(), self._lever_arrays())

    # ------------------------------------------------------------------ helpers
    @property
    def n_firms(self) -> int:
        return len(self.firms)

    def firm_by_name(self, name: str) -> Firm:
        for f in self.firms:
            if f.name == name:
                return f
        raise KeyError(f"firm {name!r} unknown; firms: {', '.join(f.name for f in self.firms)}")

    def _lever_arrays(self) -> dict[str, np.ndarray]:
        fs = self.firms

        def arr(attr, dtype=float):
            return np.array([getattr(f.levers, attr) for f in fs], dtype=dtype)

        out = {
            a: arr(a)
            for a in (
                "price",
                "unit_cost",
                "quality",
                "service",
                "service_cost",
                "serve_cost",
                "brand",
                "effort",
                "capacity_cost",
                "complaint_ease",
                "resolve_share",
                "resolve_speed",
                "complaint_cost",
                "remedy_cost",
                "marketing",
                "marketing_cost",
                "switching_cost",
                "loyalty_discount",
                "loyalty_fixed_cost",
                "referral_reward",
                "winback",
                "winback_cost",
                "fixed_cost",
            )
        }
        out["capacity"] = np.array(
            [np.inf if f.levers.capacity is None else float(f.levers.capacity) for f in fs]
        )
        out["loyalty"] = np.array(
            [bool(f.levers.loyalty) and self.params.loyalty.enabled for f in fs]
        )
        out["promise"] = np.array([f.promise_level() for f in fs])
        out["active"] = np.array([f.active for f in fs])
        return out

    def _switching_cost(self, L) -> np.ndarray:
        lp = self.params.loyalty
        return switching_cost(
            self.pop.firm,
            self.pop.points,
            inertia=self.params.choice.inertia,
            firm_switching_cost=L["switching_cost"],
            loyalty_on=L["loyalty"],
            points_gamma=lp.points_switching_cost if lp.enabled else 0.0,
            points_cap=lp.points_cap,
        )

    def _utilities(self, rows, L, gamma, *, inertia=True, novelty=True):
        pop = self.pop
        firm = pop.firm[rows].astype(np.int64)
        price = member_price(
            L["price"], L["loyalty_discount"], L["loyalty"], firm, pop.points[rows]
        )
        v = utilities(
            expect=pop.expect,
            attitude=pop.attitude,
            tried=pop.tried,
            rows=rows,
            current=firm if inertia else np.full(rows.size, -1),
            beta_perf=pop.beta_perf[rows],
            beta_price=pop.beta_price[rows],
            beta_time=pop.beta_time[rows],
            beta_wom=pop.beta_wom[rows],
            beta_brand=pop.beta_brand[rows],
            price=price,
            brand=L["brand"],
            wait_effort=self.wait + L["effort"],
            ref_price=self.params.market.reference_price,
            novelty_risk=self.params.choice.novelty_risk if novelty else 0.0,
            inertia_current=gamma[rows]
            + self.params.choice.satisfaction_weight
            * np.where(pop.last_firm[rows] == pop.firm[rows], pop.satisfaction[rows], 0.0),
        )
        return v, price

    def _new_expectations(self, rows, cols, L):
        noise = self.params.expectations.initial_noise
        z = self.streams["awareness"].standard_normal(rows.size)
        self.pop.expect[rows, cols] = L["promise"][cols] + noise * z

    def _init_market(self) -> None:
        pop, m, rng = self.pop, self.params.market, self.streams["init"]
        n, k = pop.n, self.n_firms
        L = self._lever_arrays()
        incumbents = L["active"]
        aware = (rng.random((n, k)) < m.initial_awareness) & incumbents[None, :]
        pop.aware[:] = aware
        pop.aware_via[:] = VIA_INITIAL
        rows, cols = np.nonzero(aware)
        z = rng.standard_normal(rows.size)
        pop.expect[rows, cols] = L["promise"][cols] + self.params.expectations.initial_noise * z
        cand = np.nonzero(aware.any(axis=1) & (rng.random(n) < m.initial_customers))[0]
        u = rng.random(cand.size)
        if cand.size:
            gamma = np.zeros(n)
            v, _ = self._utilities(cand, L, gamma, inertia=False, novelty=False)
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

    def _empty_flows(self) -> dict[str, np.ndarray]:
        k = self.n_firms
        names = [
            "buyers",
            "units",
            "revenue",
            "contribution",
            "discounts",
            "complaints",
            "resolved_quick",
            "resolved_late",
            "unresolved",
            "remedies_quick",
            "remedies_late",
            "wom_pos",
            "wom_neg",
            "referrals",
            "lost_to_rival",
            "lost_out",
            "lost_after_negative_wom",
            "winback_contacts",
            "customers_start",
            *[f"acq_{c}" for c in ACQ_CHANNELS],
        ]
        fl = {name: np.zeros(k) for name in names}
        fl["customers_start"] = np.bincount(self.pop.firm[self.pop.firm >= 0], minlength=k).astype(
            float
        )
        fl["load"] = np.zeros(k)
        fl["wait"] = np.zeros(k)
        return fl

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
    _warming = False

    def step(self) -> None:
        """Advance one period (see the module docstring for the schedule)."""
        self._advance()

    def _advance(self) -> None:
        self.period += 1
        t = self.period
        P, pop = self.params, self.pop
        n, k = pop.n, self.n_firms
        rec_ev = self._log
        rec = self.recorder
        streams = self.streams

        # 1. timeline and policies ------------------------------------------------
        if not self._warming:  # the warm-up runs without timeline events or policies
            self._apply_timeline(t)
        for firm in self.firms if not self._warming else ():
            obs = self.observe(firm)
            for lever, value in (firm.policy.decide(firm, obs) or {}).items():
                if lever not in LEVERS:
                    raise ValueError(f"policy {firm.policy!r} set unknown lever {lever!r}")
                if getattr(firm.levers, lever) != value:
                    firm.set_lever(lever, value, source=f"policy {firm.policy.name}")
        L = self._lever_arrays()
        active = L["active"]
        fl = self._empty_flows()
        if P.complaints.enabled:  # late resolutions falling due arrive before this period's choices
            self._late_resolutions(t, fl, L)

        # 2. awareness -------------------------------------------------------------
        acq = P.acquisition
        marketing = np.where(active, L["marketing"], 0.0) if acq.marketing_enabled else np.zeros(k)
        u = streams["awareness"].random((n, k))  # drawn every period (common random numbers)
        unaware = np.zeros(n, bool)
        for j in range(k):
            if active[j]:
                unaware |= ~pop.aware[:, j]
        rows_u = np.nonzero(unaware)[0]
        if rows_u.size:
            counts = (
                self.network.adopter_counts(pop.firm, k, rows_u)
                if acq.imitation_enabled and acq.imitation > 0
                else None
            )
            a, p_ext = awareness_probability(
                pop.aware[rows_u],
                active,
                marketing,
                counts,
                self.degree[rows_u],
                acq.imitation,
                acq.hazard,
            )
            uu = u[rows_u]
            r_sub, cols = np.nonzero(uu < a)
            if r_sub.size:
                rows = rows_u[r_sub]
                pop.aware[rows, cols] = True
                via = np.where(uu[r_sub, cols] < p_ext[r_sub, cols], VIA_MARKETING, VIA_IMITATION)
                pop.aware_via[rows, cols] = via
                imi = via == VIA_IMITATION  # attributed to an adopter neighbour (cascades)
                pop.aware_src[rows, cols] = -1
                pop.aware_src[rows[imi], cols[imi]] = self.network.adopter_sources(
                    rows[imi], cols[imi], pop.firm, streams["attribution"]
                )
                self._new_expectations(rows, cols, L)

        # 3. purchase occasions ----------------------------------------------------
        known = pop.aware & active[None, :]
        knows_any = np.zeros(n, bool)
        for j in range(k):
            knows_any |= known[:, j]
        u = streams["purchase"].random(n)
        shopper = np.nonzero((u < pop.purchase_prob) & (pop.status != LAPSED) & knows_any)[0]

        # 4. choice ------------------------------------------------------------------
        gamma = self._switching_cost(L)
        u = streams["choice"].random(n)[shopper]
        v, price_nk = self._utilities(shopper, L, gamma)
        outside = P.choice.outside_utility if P.choice.outside_option else None
        choice = logit_choice(v, take_rows(known, shopper), outside, u)
        bought = choice >= 0
        buyers = shopper[bought]
        bf = choice[bought]
        paid = price_nk[bought, bf]
        list_price = L["price"][bf]
        prev = pop.firm[buyers].astype(np.int64)
        new_rel = prev != bf
        self._move(buyers[new_rel], bf[new_rel], prev[new_rel], t, fl, how="choice")

        # 5. capacity ----------------------------------------------------------------
        demand = np.bincount(bf, minlength=k).astype(float)
        if P.capacity.enabled:
            load, factor, wait = load_effects(demand, L["capacity"], P.capacity.service_elasticity)
        else:
            load, factor, wait = np.zeros(k), np.ones(k), np.zeros(k)
        fl["load"], fl["wait"] = load, wait

        # 6. experience ----------------------------------------------------------------
        z = streams["experience"].standard_normal((2, n))
        ex = P.experience
        perf = perceived_performance(
            pop.w_quality[buyers],
            L["quality"][bf],
            L["service"][bf],
            factor[bf],
            wait[bf],
            P.capacity.wait_weight if P.capacity.enabled else 0.0,
            z[0, buyers],
            z[1, buyers],
            ex.quality_noise,
            ex.service_noise,
            pop.fit[buyers, bf],
        )

        # 7. transaction satisfaction ----------------------------------------------------
        sp = P.satisfaction
        e_pre = pop.expect[buyers, bf]
        x, _, z_sat, loss = transaction_satisfaction(
            perf,
            e_pre,
            paid,
            P.market.reference_price,
            performance_weight=sp.performance_weight,
            neutral_performance=sp.neutral_performance,
            gain_weight=sp.gain_weight,
            loss_weight=sp.loss_weight,
            price_weight=sp.price_weight,
        )
        fresh = new_rel | (pop.last_firm[buyers] != bf)
        problem = (e_pre - perf) > sp.problem_threshold
        omega_i = np.where(problem, sp.problem_weight, sp.memory_weight)

        # 8. complaints --------------------------------------------------------------------
        cp = P.complaints
        outcome = np.zeros(buyers.size, np.int8)
        cost_complaint_i = np.zeros(buyers.size)
        if cp.enabled:
            uc = streams["complaints"].random((3, n))[:, buyers]
            prob = cmp.complaint_probability(
                e_pre - perf,
                L["complaint_ease"][bf],
                cp.max_prob,
                cp.shortfall_scale,
                sp.problem_threshold,
            )
            comp = uc[0] < prob
            resolved = uc[1] < L["resolve_share"][bf]
            quick = uc[2] < L["resolve_speed"][bf]
            outcome = np.where(
                comp,
                np.where(resolved, np.where(quick, cmp.QUICK, cmp.LATE), cmp.UNRESOLVED),
                cmp.SILENT,
            ).astype(np.int8)
            first = pop.n_complaints[buyers] == 0
            x = cmp.recover(
                z_sat,
                loss,
                outcome,
                first,
                r_unresolved=cp.recovery_unresolved,
                r_late=cp.recovery_late,
                r_quick=cp.recovery_quick,
                paradox=cp.recovery_paradox,
            )
            pop.n_complaints[buyers[comp]] += 1
            for code, key in ((cmp.QUICK, "resolved_quick"), (cmp.UNRESOLVED, "unresolved")):
                fl[key] = np.bincount(bf[outcome == code], minlength=k).astype(float)
            fl["complaints"] = np.bincount(bf[comp], minlength=k).astype(float)
            fl["remedies_quick"] = fl["resolved_quick"]
            cost_complaint_i = comp * L["complaint_cost"][bf] + (outcome == cmp.QUICK) * L[
                "remedy_cost"
            ][bf] * (1 + cp.quick_premium)
            late = outcome == cmp.LATE
            if late.any():
                pd_ = self._pending
                pd_["customer"] = np.concatenate([pd_["customer"], buyers[late]])
                pd_["firm"] = np.concatenate([pd_["firm"], bf[late]])
                pd_["due"] = np.concatenate(
                    [pd_["due"], np.full(int(late.sum()), t + cp.late_delay)]
                )
                pd_["w"] = np.concatenate([pd_["w"], omega_i[late]])
                pd_["z"] = np.concatenate([pd_["z"], z_sat[late]])
                pd_["loss"] = np.concatenate([pd_["loss"], loss[late]])
            if rec_ev and comp.any():
                names = np.array([cmp.OUTCOME_NAMES[c] for c in range(4)], dtype=object)
                rec.add_events(
                    t,
                    "complaint",
                    buyers[comp],
                    bf[comp],
                    value=(e_pre - perf)[comp],
                    detail=names[outcome[comp]],
                )

        if rec_ev:  # every problem, silent ones included (the iceberg)
            cmp.record_problems(rec, t, buyers, bf, e_pre - perf, problem, outcome)

        # 9. remembered satisfaction --------------------------------------------------------
        S, peak, last = remember(
            pop.satisfaction[buyers],
            pop.peak[buyers],
            pop.last_x[buyers],
            x,
            fresh,
            sp.memory,
            omega_i,
        )
        pop.satisfaction[buyers], pop.peak[buyers], pop.last_x[buyers] = S, peak, last
        om = sp.memory_weight
        pop.perf_memory[buyers] = np.where(
            fresh, perf, (1 - om) * pop.perf_memory[buyers] + om * perf
        )
        pop.last_firm[buyers] = bf
        pop.last_buy[buyers] = t
        pop.experienced[buyers] = True
        pop.tried[buyers, bf] = True

        # 10. word of mouth and referrals ------------------------------------------------------
        wom_w = wom_c = None
        if P.wom.enabled:
            wom_w, wom_c = self._word_of_mouth(t, buyers, outcome, gamma, L, fl)

        # 11. expectations --------------------------------------------------------------------
        xp = P.expectations
        if xp.enabled:
            update_expectations(
                pop.expect,
                pop.aware & active[None, :],
                buyers=buyers,
                buyer_firm=bf,
                perf=perf,
                alpha_e=xp.experience_weight,
                wom_weight_sum=wom_w,
                wom_content_sum=wom_c,
                psi=xp.wom_weight,
                promise=L["promise"],
                alpha_p=xp.promise_weight,
            )

        # 12. churn, win-back, returns -----------------------------------------------------------
        if P.churn.enabled:
            self._churn(t, L, gamma, fl)

        # 13. loyalty points, accounts, recording -----------------------------------------------
        same = pop.firm[buyers] == bf  # still with the firm they bought from
        pop.points[buyers[same]] += 1
        qty = pop.quantity[buyers]
        rev_i = paid * qty
        variable_i = L["unit_cost"][bf] * qty
        service_i = L["service_cost"][bf] * L["service"][bf] + L["serve_cost"][bf]
        contrib_i = rev_i - variable_i - service_i - cost_complaint_i
        pop.profit[buyers, bf] += contrib_i  # each buyer appears once: no np.add.at needed
        pop.revenue[buyers, bf] += rev_i
        fl["buyers"] = demand
        fl["units"] = np.bincount(bf, qty, minlength=k)
        fl["revenue"] = np.bincount(bf, list_price * qty, minlength=k)  # gross, at list prices
        fl["variable"] = np.bincount(bf, variable_i, minlength=k)
        fl["service"] = np.bincount(bf, service_i, minlength=k)
        fl["discounts"] = np.bincount(bf, (list_price - paid) * qty, minlength=k)
        fl["complaint_costs"] = np.bincount(bf, cost_complaint_i, minlength=k) + fl["remedies_late"]
        fl["contribution"] = np.bincount(bf, contrib_i, minlength=k)
        self.wait, self.load = wait, load
        attitude_decay = P.wom.attitude_decay
        if P.wom.enabled and attitude_decay < 1.0:
            pop.attitude *= attitude_decay
        if not self._warming:
            self._record(fl, L)

    # ------------------------------------------------------------------ stage helpers
    def _move(self, who, to, prev, t, fl, *, how: str, referrer=None) -> None:
        """Start new relationships: ``who`` become customers of ``to`` (previous firm
        ``prev``, -1 for none). Records acquisitions by channel and losses."""
        if who.size == 0:
            return
        pop, k = self.pop, self.n_firms
        was_lapsed = pop.status[who] == LAPSED
        if how == "referral":
            channel = np.full(who.size, "referral", dtype=object)
        elif how == "winback":
            channel = np.full(who.size, "winback", dtype=object)
        else:
            via = pop.aware_via[who, to]
            channel = np.array([_VIA_TO_CHANNEL[int(c)] for c in range(5)], dtype=object)[via]
            channel[prev >= 0] = "switch"
            if how == "choice":  # influence trees: who made the customer aware, if a customer
                src = pop.aware_src[who, to]
                referrer = np.where((via == VIA_WOM) | (via == VIA_IMITATION), src, -1)
        for c in ACQ_CHANNELS:
            sel = channel == c
            if sel.any():
                fl[f"acq_{c}"] += np.bincount(to[sel], minlength=k)
        had = prev >= 0
        if had.any():
            fl["lost_to_rival"] += np.bincount(prev[had], minlength=k)
            neg = self._negative_source(who[had], prev[had], t)
            fl["lost_after_negative_wom"] += np.bincount(prev[had][neg >= 0], minlength=k)
            if self._log:
                self.recorder.add_events(
                    t, "switch", who[had], prev[had], other_firm=to[had], other=neg, detail=how
                )
        if self._log:
            self.recorder.add_events(
                t,
                "acquire",
                who,
                to,
                other_firm=prev,
                other=referrer if referrer is not None else None,
                detail=channel,
            )
        pop.firm[who] = to
        pop.status[who] = CUSTOMER
        pop.since[who] = t
        pop.points[who] = 0
        pop.lapsed_from[who] = -1
        pop.aware[who, to] = True
        del was_lapsed

    def _negative_source(self, who, firm, t) -> np.ndarray:
        """The talker whose negative message about ``firm`` the customer heard within the
        attribution window, or -1."""
        pop = self.pop
        ok = (pop.neg_firm[who] == firm) & (t - pop.neg_t[who] <= self.params.wom.memory_window)
        return np.where(ok, pop.neg_src[who], -1)

    def _late_resolutions(self, t, fl, L) -> None:
        pd_ = self._pending
        due = pd_["due"] <= t
        if not due.any():
            return
        cust, firm, z0, loss0 = (
            pd_["customer"][due],
            pd_["firm"][due],
            pd_["z"][due],
            pd_["loss"][due],
        )
        w0 = pd_["w"][due]
        for key in pd_:
            pd_[key] = pd_[key][~due]
        k = self.n_firms
        cp, sp, pop = self.params.complaints, self.params.satisfaction, self.pop
        fl["resolved_late"] += np.bincount(firm, minlength=k)
        fl["remedies_late"] += np.bincount(firm, L["remedy_cost"][firm], minlength=k)
        still = pop.last_firm[cust] == firm
        c, zs, ls, ws = cust[still], z0[still], loss0[still], w0[still]
        interim = np.tanh(zs - cp.recovery_unresolved * ls)
        final = np.tanh(zs - cp.recovery_late * ls)
        S, peak, last = revise(
            pop.satisfaction[c], pop.peak[c], pop.last_x[c], interim, final, sp.memory, ws
        )  # the weight the incident was remembered with
        pop.satisfaction[c], pop.peak[c], pop.last_x[c] = S, peak, last
        if self._log:
            self.recorder.add_events(
                t, "resolved_late", cust, firm, value=np.tanh(z0 - cp.recovery_late * loss0)
            )

    def _word_of_mouth(self, t, buyers, outcome, gamma, L, fl):
        P, pop = self.params, self.pop
        wp = P.wom
        n, k = pop.n, self.n_firms
        rng = self.streams["wom"]
        active = L["active"]
        lf = pop.last_firm.astype(np.int64)
        can = pop.experienced & (lf >= 0)
        can &= active[np.where(lf >= 0, lf, 0)]
        p_pos, p_neg = talk_probability(
            pop.satisfaction,
            wp.positive_threshold,
            wp.negative_threshold,
            wp.positive_talk,
            wp.negative_talk,
        )
        u = rng.random(n)
        valence = np.zeros(n, np.int8)
        valence[can & (u < p_pos)] = 1
        valence[can & (u >= p_pos) & (u < p_pos + p_neg)] = -1
        reach = np.where(
            valence > 0, wp.positive_reach, np.where(valence < 0, wp.negative_reach, 0)
        )
        # complaint outcomes override: quick → tells R_rec; unresolved → tells R_unres
        quick = buyers[outcome == cmp.QUICK]
        unres = buyers[outcome == cmp.UNRESOLVED]
        valence[quick], reach[quick] = 1, wp.recovery_reach
        valence[unres], reach[unres] = -1, wp.unresolved_reach
        talkers = np.nonzero(valence != 0)[0]
        sender, recip = self.network.sample_neighbors(talkers, reach[talkers], rng)
        if sender.size == 0:
            return None, None
        f = lf[sender]
        val = valence[sender].astype(float)
        w = np.abs(pop.satisfaction[sender]) * np.where(val < 0, wp.negative_weight, 1.0)
        w = np.maximum(w, 1e-3)
        neg = val < 0
        fl["wom_pos"] += np.bincount(f[~neg], minlength=k)
        fl["wom_neg"] += np.bincount(f[neg], minlength=k)
        # awareness
        newly = ~pop.aware[recip, f]
        if newly.any():
            r_new, f_new = recip[newly], f[newly]
            pop.aware[r_new, f_new] = True
            pop.aware_via[r_new, f_new] = VIA_WOM
            pop.aware_src[r_new, f_new] = sender[newly]
            self._new_expectations(r_new, f_new, L)
        # attitude and expectation content, aggregated per (recipient, firm)
        key = recip * k + f
        nk = n * k
        pop.attitude.reshape(-1)[:] += np.bincount(key, val * w, minlength=nk)
        wsum = np.bincount(key, w, minlength=nk).reshape(n, k)
        csum = np.bincount(key, w * pop.perf_memory[sender], minlength=nk).reshape(n, k)
        # negative messages remembered for attributing losses
        if neg.any():
            pop.neg_src[recip[neg]] = sender[neg]
            pop.neg_firm[recip[neg]] = f[neg]
            pop.neg_t[recip[neg]] = t
        if self._log and n <= 20_000:
            self.recorder.add_events(t, "heard", recip, f, other=sender, value=val)
        # referrals
        rp = P.referrals
        if rp.enabled:
            cand = np.nonzero(
                ~neg
                & (pop.satisfaction[sender] >= rp.threshold)
                & (pop.firm[recip] != f)
                & active[f]
            )[0]
            ur = self.streams["referrals"].random(cand.size)
            r_c, f_c = recip[cand], f[cand]
            prob = rp.prob * (
                1 + rp.reward_gain * L["referral_reward"][f_c] / P.market.reference_price
            )
            lp = P.loyalty
            gamma_now = switching_cost(
                pop.firm[r_c],
                pop.points[r_c],
                inertia=P.choice.inertia,
                firm_switching_cost=L["switching_cost"],
                loyalty_on=L["loyalty"],
                points_gamma=lp.points_switching_cost if lp.enabled else 0.0,
                points_cap=lp.points_cap,
            )
            prob = prob * np.exp(-P.churn.switching_cost_effect * gamma_now)
            ok = ur < prob
            cand, ur = cand[ok], ur[ok]
            keep = cand[pick_referrals(recip[cand], ur)]
            if keep.size:
                r, ff, s = recip[keep], f[keep], sender[keep]
                prev = pop.firm[r].astype(np.int64)
                fl["referrals"] += np.bincount(ff, minlength=k)
                if self._log:
                    self.recorder.add_events(t, "referral", r, ff, other_firm=prev, other=s)
                pop.aware_via[r, ff] = VIA_REFERRAL
                self._move(r, ff, prev, t, fl, how="referral", referrer=s)
        return wsum, csum

    def _churn(self, t, L, gamma, fl) -> None:
        P, pop = self.params, self.pop
        cpar = P.churn
        n, k = pop.n, self.n_firms
        u = self.streams["churn"].random((2, n))
        cust = (pop.status == CUSTOMER) & (pop.since < t)
        S_eff = np.where(pop.last_firm == pop.firm, pop.satisfaction, 0.0)
        extra = np.maximum(gamma - P.choice.inertia, 0.0)  # structural + loyalty switching cost
        h = churn_hazard(
            S_eff,
            extra,
            base_rate=cpar.base_rate,
            dissatisfaction_rate=cpar.dissatisfaction_rate,
            curvature=cpar.curvature,
            switching_cost_effect=cpar.switching_cost_effect,
            defection_rate=cpar.defection_rate,
            defection_midpoint=cpar.defection_midpoint,
            defection_width=cpar.defection_width,
        )
        cust[self._pending["customer"]] = False  # waiting for a late resolution: stays
        leave = np.nonzero(cust & (u[0] < h))[0]
        if leave.size:
            active = L["active"]
            cur = pop.firm[leave].astype(np.int64)
            avail = take_rows(pop.aware, leave) & active[None, :]
            avail[np.arange(leave.size), cur] = False
            v, _ = self._utilities(leave, L, gamma, inertia=False)
            dest = logit_choice(v, avail, P.choice.outside_utility, u[1, leave])
            to_rival = dest >= 0
            self._move(leave[to_rival], dest[to_rival], cur[to_rival], t, fl, how="churn")
            out, fout = leave[~to_rival], cur[~to_rival]
            if out.size:
                fl["lost_out"] += np.bincount(fout, minlength=k)
                neg = self._negative_source(out, fout, t)
                fl["lost_after_negative_wom"] += np.bincount(fout[neg >= 0], minlength=k)
                if self._log:
                    self.recorder.add_events(t, "churn", out, fout, other=neg)
                pop.lapsed_from[out] = fout
                pop.firm[out] = -1
                pop.status[out] = LAPSED
                pop.since[out] = t
                pop.points[out] = 0
        # win-back and returns among customers lapsed before this period
        uw = self.streams["winback"].random((3, n))
        lapsed = np.nonzero((pop.status == LAPSED) & (pop.since < t))[0]
        if lapsed.size:
            lf = pop.lapsed_from[lapsed].astype(np.int64)
            has = lf >= 0
            lf0 = np.where(has, lf, 0)
            contacted = has & L["active"][lf0] & (uw[0, lapsed] < L["winback"][lf0])
            fl["winback_contacts"] += np.bincount(lf0[contacted], minlength=k)
            back = contacted & (
                uw[1, lapsed] < winback_success(pop.satisfaction[lapsed], cpar.winback_response)
            )
            if back.any():
                if self._log:
                    self.recorder.add_events(t, "winback", lapsed[back], lf0[back])
                self._move(
                    lapsed[back], lf0[back], np.full(int(back.sum()), -1), t, fl, how="winback"
                )
            ret = ~back & (uw[2, lapsed] < cpar.return_rate)
            if ret.any():
                r = lapsed[ret]
                pop.status[r] = PROSPECT
                pop.lapsed_from[r] = -1
                if self._log:
                    self.recorder.add_events(t, "return", r, -1)

    # ------------------------------------------------------------------ accounts and recording
    def _record(self, fl: dict, L: dict) -> None:
        pop, t, k, n = self.pop, self.period, self.n_firms, self.pop.n
        P = self.params
        firm = pop.firm
        has = firm >= 0
        customers = np.bincount(firm[has], minlength=k).astype(float)
        served = customers.sum()
        experienced = has & (pop.last_firm == firm)
        sat_sum = np.bincount(firm[experienced], pop.satisfaction[experienced], minlength=k)
        sat_n = np.bincount(firm[experienced], minlength=k)
        hi = np.nonzero(has)[0]
        exp_sum = np.bincount(firm[hi], pop.expect[hi, firm[hi]], minlength=k)
        aware_share = np.array([np.count_nonzero(pop.aware[:, j]) for j in range(k)]) / n
        knows_active = np.zeros(n, bool)
        for j in range(k):
            if L["active"][j]:
                knows_active |= pop.aware[:, j]
        active = L["active"]
        charge = active & (t > 0)  # period 0 is the initial state: no flows, no costs
        mk = P.acquisition.marketing_enabled
        cost_marketing = np.where(charge & mk, L["marketing"] * L["marketing_cost"] * n, 0.0)
        cost_capacity = np.where(
            charge & P.capacity.enabled & np.isfinite(L["capacity"]),
            L["capacity_cost"] * np.where(np.isfinite(L["capacity"]), L["capacity"], 0.0),
            0.0,
        )
        cost_programme = (
            fl["discounts"]
            + np.where(charge & L["loyalty"], L["loyalty_fixed_cost"], 0.0)
            + fl["referrals"] * L["referral_reward"]
            + fl["winback_contacts"] * L["winback_cost"]
        )
        cost_fixed = np.where(charge, L["fixed_cost"], 0.0)
        variable = fl.get("variable", np.zeros(k))
        service = fl.get("service", np.zeros(k))
        complaint_costs = fl.get("complaint_costs", np.zeros(k))
        # revenue is gross (list prices); loyalty discounts are part of the programme cost
        cost_total = (
            variable
            + service
            + complaint_costs
            + cost_marketing
            + cost_capacity
            + cost_fixed
            + cost_programme
        )
        profit = fl["revenue"] - cost_total
        lost = fl["lost_to_rival"] + fl["lost_out"]
        start = fl["customers_start"]
        with np.errstate(divide="ignore", invalid="ignore"):
            churn_rate = np.where(start > 0, lost / start, 0.0)
            retention = 1.0 - churn_rate
            margin = np.where(customers > 0, fl["contribution"] / customers, 0.0)
            i = P.market.discount_rate
            clv = np.where(retention < 1.0 + i, margin * retention / (1.0 + i - retention), 0.0)
            share = np.where(served > 0, customers / served, 0.0)
            buyers_total = fl["buyers"].sum()
            sales_share = np.where(buyers_total > 0, fl["buyers"] / buyers_total, 0.0)
            mean_sat = np.where(sat_n > 0, sat_sum / np.maximum(sat_n, 1), np.nan)
            mean_exp = np.where(customers > 0, exp_sum / np.maximum(customers, 1), np.nan)
        acquired = sum(fl[f"acq_{c}"] for c in ACQ_CHANNELS)
        for j, f in enumerate(self.firms):
            lv = f.levers
            row = {
                "period": t,
                "firm": j,
                "name": f.name,
                "active": bool(active[j]),
                "price": float(lv.price),
                "quality": float(lv.quality),
                "service": float(lv.service),
                "promise": float(L["promise"][j]),
                "capacity": float(L["capacity"][j]),
                "complaint_ease": float(lv.complaint_ease),
                "resolve_share": float(lv.resolve_share),
                "resolve_speed": float(lv.resolve_speed),
                "marketing": float(lv.marketing),
                "switching_cost": float(lv.switching_cost),
                "loyalty": bool(L["loyalty"][j]),
                "referral_reward": float(lv.referral_reward),
                "winback": float(lv.winback),
                "customers": int(customers[j]),
                "share": float(share[j]),
                "penetration": float(customers[j] / n),
                "aware": float(aware_share[j]),
                "buyers": int(fl["buyers"][j]),
                "units": float(fl["units"][j]),
                "sales_share": float(sales_share[j]),
                "acquired": int(acquired[j]),
                **{f"acq_{c}": int(fl[f"acq_{c}"][j]) for c in ACQ_CHANNELS},
                "lost": int(lost[j]),
                "lost_to_rival": int(fl["lost_to_rival"][j]),
                "lost_out": int(fl["lost_out"][j]),
                "lost_after_negative_wom": int(fl["lost_after_negative_wom"][j]),
                "churn_rate": float(churn_rate[j]),
                "mean_satisfaction": float(mean_sat[j]),
                "mean_expectation": float(mean_exp[j]),
                "complaints": int(fl["complaints"][j]),
                "resolved_quick": int(fl["resolved_quick"][j]),
                "resolved_late": int(fl["resolved_late"][j]),
                "unresolved": int(fl["unresolved"][j]),
                "wom_pos": int(fl["wom_pos"][j]),
                "wom_neg": int(fl["wom_neg"][j]),
                "referrals": int(fl["referrals"][j]),
                "load": float(fl["load"][j]),
                "wait": float(fl["wait"][j]),
                "revenue": float(fl["revenue"][j]),
                "cost_variable": float(variable[j]),
                "cost_service": float(service[j]),
                "cost_capacity": float(cost_capacity[j]),
                "cost_complaints": float(complaint_costs[j]),
                "cost_marketing": float(cost_marketing[j]),
                "cost_programme": float(cost_programme[j]),
                "cost_fixed": float(cost_fixed[j]),
                "cost_total": float(cost_total[j]),
                "profit": float(profit[j]),
                "margin_per_customer": float(margin[j]),
                "retention": float(retention[j]),
                "clv": float(clv[j]),
            }
            self.recorder.firm_rows.append(row)
            f.accounts = row
        if self.panel_ids.size:
            ids = self.panel_ids
            lf = pop.last_firm[ids].astype(np.int64)
            self._panel.append(
                {
                    "period": np.full(ids.size, t, np.int32),
                    "customer": ids,
                    "status": pop.status[ids].copy(),
                    "firm": pop.firm[ids].copy(),
                    "last_firm": lf.astype(np.int16),
                    "satisfaction": pop.satisfaction[ids].copy(),
                    "expectation": np.where(lf >= 0, pop.expect[ids, np.maximum(lf, 0)], np.nan),
                    "points": pop.points[ids].copy(),
                }
            )
        cust_exp = experienced
        S = pop.satisfaction[cust_exp]
        prom = float((S >= PROMOTER_S).mean()) if S.size else np.nan
        det = float((S <= DETRACTOR_S).mean()) if S.size else np.nan
        self.recorder.market_rows.append(
            {
                "period": t,
                "population": n,
                "customers": int(served),
                "unserved": int(n - served),
                "prospects": int((pop.status == PROSPECT).sum()),
                "lapsed": int((pop.status == LAPSED).sum()),
                "unaware": int(n - np.count_nonzero(knows_active)),
                "buyers": int(fl["buyers"].sum()),
                "mean_satisfaction": float(S.mean()) if S.size else np.nan,
                "promoters": prom,
                "detractors": det,
                "nps": 100.0 * (prom - det) if S.size else np.nan,
                "complaints": int(fl["complaints"].sum()),
                "wom_pos": int(fl["wom_pos"].sum()),
                "wom_neg": int(fl["wom_neg"].sum()),
                "referrals": int(fl["referrals"].sum()),
                "switches": int(fl["lost_to_rival"].sum()),
                "lapsed_now": int(fl["lost_out"].sum()),
                "revenue": float(fl["revenue"].sum()),
                "profit": float(profit.sum()),
            }
        )

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

    def panel_frame(self) -> pd.DataFrame:
        """Per-period state of the panel customers (``model.panel_ids``): status (0
        prospect, 1 customer, 2 lapsed), firm, satisfaction, expectation of the firm
        last used, loyalty points."""
        cols = [
            "period",
            "customer",
            "status",
            "firm",
            "last_firm",
            "satisfaction",
            "expectation",
            "points",
        ]
        if not self._panel:
            return pd.DataFrame(columns=cols)
        return pd.DataFrame({c: np.concatenate([p[c] for p in self._panel]) for c in cols})

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
            d[c] = getattr(pop, c)
        for j, f in enumerate(self.firms):
            d[f"expect_{f.name}"] = pop.expect[:, j]
            d[f"aware_{f.name}"] = pop.aware[:, j]
            d[f"profit_{f.name}"] = pop.profit[:, j]
        return pd.DataFrame(d)


_ = VIA_NAMES  # re-exported for users of aware_via codes
