"""Stylized facts: one measurement function per fact, so a run can be checked against the
literature (docs/validation.md) and calibrated to it.

Each function takes a model (run or to be run) or a run's event table and returns a float
or a small tidy DataFrame. The same code measured the model before and after the
magnitudes were set, and the tests in ``tests/test_validation.py`` assert each figure
within a stated tolerance.

- :func:`loss_by_satisfaction`: share of a firm's customers lost within ``horizon``
  periods, by satisfaction band at the start (Jones & Sasser 1995; Mittal & Kamakura 2001).
- :func:`repurchase_by_outcome`: repurchase from the same firm at the next purchase
  occasion after a problem, by complaint outcome (TARP; seed 002).
- :func:`iceberg`: share of problems the firm hears of (TARP: a few in a hundred).
- :func:`wom_by_outcome` and :func:`wom_reach`: people told per complainant by outcome
  (TARP: 9–10 unresolved against 4–5 satisfied) and per talk by valence.
- :func:`cascade_sizes`: influence trees of acquisitions through word of mouth,
  imitation and referral.
- :func:`retention_economics`: lifetime profit per customer against annual defections
  (Reichheld & Sasser 1990).

Run ``python -m sim.validation`` to print every table (``--quick`` for a smaller market).
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .complaints import OUTCOME_NAMES
from .params import ModelParams
from .population import CUSTOMER, LAPSED

__all__ = [
    "BANDS",
    "OUTCOMES",
    "loss_by_satisfaction",
    "measure_loss_by_satisfaction",
    "repurchase_by_outcome",
    "measure_repurchase_by_outcome",
    "iceberg",
    "wom_by_outcome",
    "wom_reach",
    "cascade_sizes",
    "cascade_stats",
    "retention_economics",
    "lifetime_profit",
]

#: satisfaction bands (upper edges; the first band is S ≤ 0)
BANDS: tuple[tuple[str, float, float], ...] = (
    ("<=0", -np.inf, 0.0),
    ("0-0.3", 0.0, 0.3),
    ("0.3-0.5", 0.3, 0.5),
    ("0.5-0.7", 0.5, 0.7),
    ("0.7-0.8", 0.7, 0.8),
    ("0.8-0.9", 0.8, 0.9),
    (">0.9", 0.9, np.inf),
)

#: complaint outcomes in TARP's order (worst first)
OUTCOMES = ("silent", "unresolved", "resolved_late", "resolved_quick")


def _model(params: ModelParams | None, seed: int, n_customers: int | None, **market):
    from .model import MarketModel

    p = copy.deepcopy(params) if params is not None else ModelParams()
    if n_customers is not None:
        p.market.n_customers = int(n_customers)
    for k, v in market.items():
        setattr(p.market, k, v)
    return MarketModel(p, seed=seed)


# --------------------------------------------------------------------------- 1. retention
def loss_by_satisfaction(
    model, *, horizon: int = 12, bands: Sequence[tuple[str, float, float]] = BANDS
) -> pd.DataFrame:
    """Share of each firm's current customers lost within ``horizon`` periods, by their
    remembered satisfaction now. Steps ``model`` ``horizon`` periods.

    A customer counts if it is a firm's customer now and its satisfaction is about that
    firm (its last purchase was there); it is lost if at the end of any of the next
    ``horizon`` periods it is not that firm's customer (switched or lapsed).

    Args:
        model: a :class:`~sim.model.MarketModel`, run to the start of the follow-up.
        horizon: periods followed.
        bands: (label, low, high] satisfaction bands.

    Returns:
        DataFrame with columns band, customers, lost (count), loss (share).

    Examples:
        >>> from sim import MarketModel, ModelParams
        >>> m = MarketModel(ModelParams(), seed=0).run(6)
        >>> loss_by_satisfaction(m, horizon=3).columns.tolist()
        ['band', 'customers', 'lost', 'loss']
    """
    pop = model.pop
    ids = np.nonzero((pop.firm >= 0) & (pop.last_firm == pop.firm))[0]
    f0 = pop.firm[ids].copy()
    s0 = pop.satisfaction[ids].copy()
    lost = np.zeros(ids.size, bool)
    for _ in range(int(horizon)):
        model.step()
        lost |= pop.firm[ids] != f0
    rows = []
    for label, lo, hi in bands:
        sel = (s0 > lo) & (s0 <= hi)
        c = int(sel.sum())
        k = int(lost[sel].sum())
        rows.append({"band": label, "customers": c, "lost": k, "loss": k / c if c else np.nan})
    return pd.DataFrame(rows)


def measure_loss_by_satisfaction(
    params: ModelParams | None = None,
    seeds: Iterable[int] = (0, 1),
    *,
    n_customers: int | None = 10_000,
    start: int = 24,
    horizon: int = 12,
) -> pd.DataFrame:
    """:func:`loss_by_satisfaction` for customers at period ``start``, pooled over seeds,
    with each seed's loss as a column ``loss_<seed>``.

    Args:
        params: model parameters (default: the documented defaults, the default duopoly).
        seeds: root seeds.
        n_customers: market size (None keeps ``params``').
        start: period at which customers are classified.
        horizon: periods followed.

    Returns:
        DataFrame: band, customers, lost, loss (pooled), loss_<seed> per seed.
    """
    per = []
    for s in seeds:
        m = _model(params, s, n_customers)
        m.params.record_events = False
        m._log = False
        m.run(start)
        per.append((s, loss_by_satisfaction(m, horizon=horizon)))
    out = per[0][1][["band"]].copy()
    out["customers"] = sum(d["customers"] for _, d in per)
    out["lost"] = sum(d["lost"] for _, d in per)
    out["loss"] = out["lost"] / out["customers"].where(out["customers"] > 0)
    for s, d in per:
        out[f"loss_{s}"] = d["loss"].to_numpy()
    return out


# --------------------------------------------------------------------------- 2. complaints
def repurchase_by_outcome(model, periods: int, *, horizon: int = 6) -> pd.DataFrame:
    """Repurchase after a problem, by complaint outcome (TARP's measure).

    Steps ``model`` ``periods`` periods (then up to ``horizon`` more to observe the last
    problems). For every problem (a silent ``problem`` event, a shortfall above δ, or a
    ``complaint`` event) with firm j at period t, the customer's *next purchase occasion once the
    outcome is known* decides: it repurchases if its first purchase after t (after
    t + late_delay for a late resolution) is from j, having bought from no other firm
    and not left the market in between. Problems with no purchase within ``horizon``
    periods are not counted (``censored``).

    Args:
        model: a :class:`~sim.model.MarketModel` with ``record_events`` on.
        periods: periods whose problems are measured.
        horizon: periods to wait for the next purchase.

    Returns:
        DataFrame with columns outcome, problems, observed, repurchased, repurchase
        (share of observed), one row per outcome in :data:`OUTCOMES`.
    """
    if not model._log:
        raise ValueError("repurchase_by_outcome: the model must record events (record_events)")
    t0 = model.period
    steps = int(periods) + int(horizon)
    trace = _trace_purchases(model, steps)
    pr = _problems(model.events())
    pr = pr[(pr["period"] > t0) & (pr["period"] <= t0 + periods)]
    outcome = pr["detail"].to_numpy().astype(str)
    pt = pr["period"].to_numpy() - t0  # 1-based step index
    known = pt + np.where(outcome == "resolved_late", int(model.params.complaints.late_delay), 0)
    result = _follow_problems(
        trace, pr["customer"].to_numpy(), pr["firm_index"].to_numpy(), pt, known, horizon
    )
    rows = []
    for o in OUTCOMES:
        sel = outcome == o
        obs = sel & (result >= 0)
        n_obs = int(obs.sum())
        rep = int((result[obs] == 1).sum())
        rows.append(
            {
                "outcome": o,
                "problems": int(sel.sum()),
                "observed": n_obs,
                "repurchased": rep,
                "repurchase": rep / n_obs if n_obs else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _trace_purchases(model, steps: int) -> tuple[list, list, list]:
    """Step ``model`` ``steps`` periods; per step, who bought, from which firm they last
    bought and who is lapsed (one array of the population each)."""
    pop = model.pop
    bought, firm, lapsed = [], [], []
    for _ in range(steps):
        model.step()
        t = model.period
        bought.append(pop.last_buy == t)
        firm.append(pop.last_firm.copy())
        lapsed.append(pop.status == LAPSED)
    return bought, firm, lapsed


def _follow_problems(
    trace: tuple[list, list, list],
    cust: np.ndarray,
    pf: np.ndarray,
    pt: np.ndarray,
    known: np.ndarray,
    horizon: int,
) -> np.ndarray:
    """What became of each problem (customer ``cust`` with firm ``pf`` at step ``pt``,
    outcome known at step ``known``): 1 when the next purchase once the outcome is known is
    from the firm, 0 when the customer bought elsewhere or lapsed first, -1 when nothing
    happened within ``horizon`` steps (censored)."""
    bought, firm, lapsed = trace
    result = np.full(cust.size, -1, np.int8)  # -1 open, 0 lost, 1 repurchased
    for s in range(1, len(bought) + 1):
        open_ = (result < 0) & (s > pt) & (s <= pt + horizon)
        if not open_.any():
            continue
        idx = np.nonzero(open_)[0]
        c = cust[idx]
        gone = lapsed[s - 1][c]
        b = bought[s - 1][c]
        other = b & (firm[s - 1][c] != pf[idx])
        result[idx[gone | other]] = 0
        ok = b & ~other & ~gone & (s > known[idx])
        result[idx[ok]] = 1
    return result


def measure_repurchase_by_outcome(
    params: ModelParams | None = None,
    seeds: Iterable[int] = (0, 1),
    *,
    n_customers: int | None = 10_000,
    start: int = 12,
    periods: int = 12,
    horizon: int = 6,
) -> pd.DataFrame:
    """:func:`repurchase_by_outcome` from period ``start`` on, pooled over seeds, with each
    seed's repurchase share as a column ``repurchase_<seed>``."""
    per = []
    for s in seeds:
        m = _model(params, s, n_customers)
        m.run(start)
        per.append((s, repurchase_by_outcome(m, periods, horizon=horizon)))
    out = per[0][1][["outcome"]].copy()
    for c in ("problems", "observed", "repurchased"):
        out[c] = sum(d[c] for _, d in per)
    out["repurchase"] = out["repurchased"] / out["observed"].where(out["observed"] > 0)
    for s, d in per:
        out[f"repurchase_{s}"] = d["repurchase"].to_numpy()
    return out


def iceberg(events: pd.DataFrame) -> float:
    """Share of problems the firm hears of: complaints / problems in the event log.

    TARP: firms hear from a few in a hundred customers with a problem (about 4%).

    Args:
        events: a run's event table (``model.events()``).

    Returns:
        complaints per problem (NaN without problems).
    """
    pr = _problems(events)
    if pr.empty:
        return float("nan")
    return float((pr["detail"] != OUTCOME_NAMES[0]).mean())


def _problems(events: pd.DataFrame) -> pd.DataFrame:
    """Every problem of a run: the ``problem`` events (silent ones) and the ``complaint``
    events (detail = outcome)."""
    return events[(events["event"] == "problem") | (events["event"] == "complaint")]


# --------------------------------------------------------------------------- 3. word of mouth
def wom_by_outcome(events: pd.DataFrame, *, window: int = 0) -> pd.DataFrame:
    """People told about the firm by a complainant, by complaint outcome, in the period
    of the complaint and the next ``window`` periods (``heard`` events).

    TARP: customers whose complaint was resolved tell 4–5 people, those left dissatisfied
    9–10 (seed 002: each recovered customer tells 5).

    Args:
        events: a run's event table with ``heard`` events (markets up to 20,000).
        window: further periods counted after the complaint's.

    Returns:
        DataFrame: outcome, complainants, told (mean people told), negative (share of
        those messages that were negative).
    """
    comp = events[events["event"] == "complaint"][["period", "customer", "firm", "detail"]]
    heard = events[events["event"] == "heard"][["period", "other", "firm", "value"]]
    heard = heard.rename(columns={"other": "customer", "period": "hp"})
    rows = []
    for o in ("resolved_quick", "resolved_late", "unresolved"):
        c = comp[comp["detail"] == o].reset_index(drop=True)
        if c.empty:
            rows.append({"outcome": o, "complainants": 0, "told": np.nan, "negative": np.nan})
            continue
        c["key"] = np.arange(len(c))
        j = c.merge(heard, on=["customer", "firm"])
        j = j[(j["hp"] >= j["period"]) & (j["hp"] <= j["period"] + window)]
        told = j.groupby("key").size().reindex(c["key"], fill_value=0)
        rows.append(
            {
                "outcome": o,
                "complainants": len(c),
                "told": float(told.mean()),
                "negative": float((j["value"] < 0).mean()) if len(j) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def wom_reach(events: pd.DataFrame) -> pd.DataFrame:
    """People told per talk (a talker in a period), by valence: negative word of mouth
    spreads faster when a negative talk reaches more people.

    Returns:
        DataFrame: valence (positive/negative), talks, messages, per_talk.
    """
    h = events[events["event"] == "heard"]
    rows = []
    for name, sign in (("positive", 1), ("negative", -1)):
        x = h[np.sign(h["value"]) == sign]
        talks = x.groupby(["period", "other", "firm"]).size()
        rows.append(
            {
                "valence": name,
                "talks": int(talks.size),
                "messages": int(len(x)),
                "per_talk": float(talks.mean()) if talks.size else np.nan,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- 4. cascades
def cascade_sizes(events: pd.DataFrame) -> pd.DataFrame:
    """Influence trees of acquisitions: one row per cascade.

    An ``acquire`` event whose ``other`` column names a customer (the talker, adopter
    neighbour or referrer who caused it) links that source to the acquired customer for
    the firm. Following sources back (for the same firm) to a customer who was not so
    acquired gives the cascade's root. Size = customers acquired in the tree (root not
    counted); depth = generations.

    Args:
        events: a run's event table.

    Returns:
        DataFrame: firm (name), root, size, depth, start, end; largest first.
    """
    acq = events[(events["event"] == "acquire") & (events["other"] >= 0)]
    cols = ["firm", "root", "size", "depth", "start", "end"]
    if acq.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in cols})
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    roots, depths = [], []
    for f, a, b in zip(acq["firm_index"], acq["other"], acq["customer"], strict=True):
        key = (int(f), int(a))
        root, depth = (parent[key][0], parent[key][1] + 1) if key in parent else (int(a), 1)
        parent[(int(f), int(b))] = (root, depth)
        roots.append(root)
        depths.append(depth)
    df = pd.DataFrame(
        {
            "firm": acq["firm"].to_numpy(),
            "root": roots,
            "depth": depths,
            "period": acq["period"].to_numpy(),
        }
    )
    g = df.groupby(["firm", "root"], sort=True)
    out = g.agg(
        size=("depth", "size"),
        depth=("depth", "max"),
        start=("period", "min"),
        end=("period", "max"),
    ).reset_index()
    return out.sort_values(["size", "depth"], ascending=False).reset_index(drop=True)[cols]


def cascade_stats(sizes: pd.DataFrame | np.ndarray) -> dict[str, float]:
    """Summary of a cascade-size distribution: count, mean, median, p90, p99, max, the
    share of cascades of size ≥ 10, and the share of acquisitions in the largest 1% of
    cascades (heavy tail: a few cascades hold much of the spread)."""
    s = np.asarray(sizes["size"] if isinstance(sizes, pd.DataFrame) else sizes, dtype=float)
    if s.size == 0:
        return {"cascades": 0}
    top = np.sort(s)[::-1][: max(1, int(np.ceil(0.01 * s.size)))]
    return {
        "cascades": int(s.size),
        "mean": float(s.mean()),
        "median": float(np.median(s)),
        "p90": float(np.quantile(s, 0.9)),
        "p99": float(np.quantile(s, 0.99)),
        "max": int(s.max()),
        "share_ge_10": float((s >= 10).mean()),
        "top1pct_share": float(top.sum() / s.sum()),
    }


# --------------------------------------------------------------------------- 6. retention economics
def lifetime_profit(margin: float, defection: float, discount: float) -> float:
    """Expected discounted profit of a customer over its lifetime (Gupta & Lehmann 2003):
    m · r / (1 + i − r), with annual margin m, retention r = 1 − defection and discount
    rate i, margins received at the end of each year the customer stays."""
    r = 1.0 - defection
    return float(margin * r / (1.0 + discount - r))


def _year_of_defections(m) -> list[dict]:
    """Step ``m`` 12 periods and follow the firms' customers at the start: per firm, the
    share lost (``defection``), the profit a kept customer brought (``margin``) and the
    annual discount rate (``discount``)."""
    i_year = (1 + m.params.market.discount_rate) ** 12 - 1
    pop = m.pop
    ids = np.nonzero(pop.status == CUSTOMER)[0]
    f0 = pop.firm[ids].copy()
    prof0 = pop.profit[ids, f0].copy()
    lost = np.zeros(ids.size, bool)
    for _ in range(12):
        m.step()
        lost |= pop.firm[ids] != f0
    gain = pop.profit[ids, f0] - prof0
    rows = []
    for j, f in enumerate(m.firms):
        sel = f0 == j
        if not sel.any():
            continue
        kept = sel & ~lost
        rows.append(
            {
                "firm": f.name,
                "defection": float(lost[sel].mean()),
                "margin": float(gain[kept].mean()) if kept.any() else np.nan,
                "discount": i_year,
            }
        )
    return rows


def retention_economics(
    params: ModelParams | None = None,
    seeds: Iterable[int] = (0, 1),
    *,
    n_customers: int | None = 5_000,
    start: int = 12,
    years: int = 2,
    cut: float = 0.05,
) -> pd.DataFrame:
    """Reichheld & Sasser's experiment: what cutting annual defections by ``cut`` does to
    lifetime profit per customer.

    Runs the model and measures, for the customers of each firm at ``start``, the annual
    defection rate d (share lost within 12 months, averaged over ``years`` years) and the
    annual contribution m per retained customer; the lifetime profit is
    m · r / (1 + i − r) with r = 1 − d and i the annual discount rate. The same customers
    with d − cut give the gain.

    Returns:
        DataFrame per firm: defection, margin, lifetime_profit, lifetime_profit_cut, gain.
    """
    rows = []
    for s in seeds:
        m = _model(params, s, n_customers)
        m.params.record_events = False
        m._log = False
        m.run(start)
        for _ in range(int(years)):
            rows += [{"seed": s, **r} for r in _year_of_defections(m)]
    d = pd.DataFrame(rows).groupby("firm", sort=True)[["defection", "margin", "discount"]].mean()
    d["lifetime_profit"] = [
        lifetime_profit(r.margin, r.defection, r.discount) for r in d.itertuples()
    ]
    d["lifetime_profit_cut"] = [
        lifetime_profit(r.margin, max(r.defection - cut, 0.0), r.discount) for r in d.itertuples()
    ]
    d["gain"] = d["lifetime_profit_cut"] / d["lifetime_profit"] - 1.0
    return d.reset_index()


# --------------------------------------------------------------------------- command line
def _referral_events(seed: int | None = None) -> pd.DataFrame:
    from pathlib import Path

    from .model import MarketModel
    from .scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "scenarios" / "referral_programme.toml"
    sc = load_scenario(path)
    m = MarketModel(sc.params, seed=seed)
    m.run()
    return m.events()


def _print_complaints(seeds: list[int], n: int) -> None:
    """Tables 2 and 3: repurchase by complaint outcome, the iceberg, and word of mouth by
    complainants."""
    print("\n2. Repurchase at the next purchase occasion after a problem, by outcome")
    print("   (complaint_ease 0.8 at both firms, for enough complaints; periods 13-36)")
    tarp = ModelParams()
    for f in tarp.firms:
        f.complaint_ease = 0.8
    rep = measure_repurchase_by_outcome(tarp, seeds=seeds, n_customers=n, periods=24)
    print(rep.round(3).to_string())
    m = _model(None, seeds[0], min(n, 5_000))
    m.run(24)
    print(f"   iceberg (defaults): complaints per problem = {iceberg(m.events()):.3f}")
    m = _model(tarp, seeds[0], min(n, 5_000))
    m.run(24)
    ev = m.events()
    print("\n3. Word of mouth: people told by complainants (period of the complaint)")
    print(wom_by_outcome(ev).round(2).to_string())
    print(wom_reach(ev).round(2).to_string())


def _print_cascades(seeds: list[int]) -> None:
    """Table 4: cascade sizes in the referral scenario, and independent cascades on a random
    graph against their theory."""
    from .cascade import cascade_sizes_from_random_seeds, giant_cascade_share, mean_cascade_size
    from .network import build_network

    print("\n4. Cascade sizes, referral_programme scenario (seed 42 and the given seeds)")
    for s in (42, *seeds):
        st = cascade_stats(cascade_sizes(_referral_events(s)))
        print(f"   seed {s}:", {k: round(v, 3) for k, v in st.items()})
    g = build_network("random", 20_000, 4, 0.0, np.random.default_rng(0))
    c = float(g.degree.mean())
    rng = np.random.default_rng(1)
    print(f"   independent cascades on a random graph (N = 20,000, c = {c:.2f}):")
    for beta in (0.1, 0.2):
        sz = cascade_sizes_from_random_seeds(g, beta, 1500, rng)
        print(
            f"     beta {beta}: mean size {sz.mean():.2f} (theory {mean_cascade_size(beta, c):.2f})"
        )
    for beta in (0.4, 0.5):
        sz = cascade_sizes_from_random_seeds(g, beta, 80, rng)
        big = sz > 0.05 * g.n
        print(
            f"     beta {beta}: giant share {sz[big].mean() / g.n:.3f}, started by {big.mean():.2f}"
            f" of seeds (theory {giant_cascade_share(beta, c):.3f})"
        )


def _bass_params(kind: str, degree: int) -> ModelParams:
    """A new market of 50,000 on a ``kind`` network where only Bass awareness acts: one
    firm with marketing p = 0.03, imitation q = 0.38 (``bass`` hazard), everyone buying."""
    from .params import FirmParams, SegmentParams

    p = ModelParams()
    p.market.n_customers, p.market.warmup = 50_000, 0
    p.market.initial_customers = p.market.initial_awareness = 0.0
    p.market.segments = [SegmentParams(name="all", purchase_prob=1.0)]
    p.firms = [FirmParams(name="A", marketing=0.03)]
    p.network.kind, p.network.degree, p.network.rewire = kind, degree, 0.0
    p.choice.outside_option = False
    p.acquisition.imitation, p.acquisition.hazard = 0.38, "bass"
    for sec in ("churn", "complaints", "wom", "referrals", "expectations", "capacity"):
        getattr(p, sec).enabled = False
    p.record_events, p.panel_size = False, 0
    return p


def main(argv: list[str] | None = None) -> int:
    """Print every stylized-fact table (``python -m sim.validation [--quick]``)."""
    from .acquisition import bass_curve, ring_curve

    ap = argparse.ArgumentParser(prog="python -m sim.validation", description=main.__doc__)
    ap.add_argument("--quick", action="store_true", help="3,000 customers instead of 10,000")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    a = ap.parse_args(argv)
    n = 3_000 if a.quick else 10_000
    pd.set_option("display.width", 200)
    print("1. 12-month loss by satisfaction band (customers at month 24)")
    print(measure_loss_by_satisfaction(seeds=a.seeds, n_customers=n).round(3).to_string())
    _print_complaints(a.seeds, n)
    _print_cascades(a.seeds)
    print("\n5. Bass hazard: largest gap to the closed form over 25 periods (p 0.03, q 0.38)")
    for kind, deg, ref in (("complete", 2, bass_curve), ("small_world", 2, ring_curve)):
        p = _bass_params(kind, deg)
        mm = _model(p, a.seeds[0], None)
        mm.run(25)
        F = mm.market_frame()["customers"].to_numpy() / p.market.n_customers
        print(f"   {kind}: {np.abs(F - ref(0.03, 0.38, 25)).max():.4f} (N = 50,000)")
    print("\n6. Retention economics (Reichheld & Sasser): defections cut by 5 points")
    print(retention_economics(seeds=a.seeds, n_customers=min(n, 5_000)).round(3).to_string())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
