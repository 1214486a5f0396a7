"""Every parameter of the model, with its one home: default, unit, range and source.

Each parameter is a dataclass field whose ``metadata`` carries ``unit``, ``range``,
``source`` and ``doc``. ``docs/model.md`` lists them (a test keeps the two in sync) and
the scenario loader validates against the ranges.

A period is one month. Money is in currency units (cu); the reference price is 1 cu.
Quality, service, promise and expectation levels are on a 0–1 performance scale.
Satisfaction is on [-1, 1] (0 = neutral: neither satisfied nor dissatisfied).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AcquisitionParams",
    "CapacityParams",
    "ChoiceParams",
    "ChurnParams",
    "ComplaintParams",
    "ExpectationParams",
    "ExperienceParams",
    "FirmParams",
    "GameParams",
    "GAME_LEVERS",
    "LoyaltyParams",
    "MarketParams",
    "ModelParams",
    "NetworkParams",
    "ReferralParams",
    "SatisfactionParams",
    "SegmentParams",
    "WomParams",
    "describe",
    "levers",
    "MECHANISMS",
]

INF = float("inf")


def P(
    default: Any,
    unit: str,
    lo: Any,
    hi: Any,
    source: str,
    doc: str,
    *,
    choices=None,
    lever: str | None = None,
    symbol: str = "",
    control: dict | None = None,
) -> Any:
    """A documented parameter: default, unit, allowed range [lo, hi], source, meaning.

    Args:
        default: the default value.
        unit: its unit ("" for none).
        lo: lowest allowed value (None: no bound).
        hi: highest allowed value (None: no bound).
        source: where the default comes from (a seed figure, a paper, "assumption").
        doc: what it means (one sentence).
        choices: the allowed values of a text parameter.
        lever: for a firm parameter that timeline events and policies may change: its kind,
            ``"recorded"`` (also a column of the firm table), ``"decision"`` or ``"cost"``.
        symbol: its symbol in docs/model.md and the docstrings (one symbol, one thing).
        control: for a parameter shown in the dashboard: its control, as keyword arguments
            of :class:`sim.app.session.Control` (``label``; optional ``lo``, ``hi`` and
            ``step`` of the slider, which default to the allowed range and 0.01 (1 for an
            integer), ``scale``, ``none_label``, ``choices`` offered of a text parameter,
            ``reset``: market structure that applies at reset); the tooltip is ``doc`` and
            ``unit``. A firm lever shows for every firm; any other parameter with a control
            is a mechanism setting (or, with ``reset``, market structure).
    """
    meta = {
        "unit": unit,
        "range": (lo, hi),
        "source": source,
        "doc": doc,
        "choices": choices,
        "lever": lever,
        "symbol": symbol,
        "control": control,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def Seg(default_factory, doc: str) -> Any:
    return field(
        default_factory=default_factory,
        metadata={"unit": "", "range": (None, None), "source": "", "doc": doc, "choices": None},
    )


# --------------------------------------------------------------------------- market
@dataclass
class SegmentParams:
    """A customer segment: the mean tastes of its members (seed 004: some buy on price,
    some on quality, some on reliability and other people's opinions)."""

    name: str = P("mainstream", "", None, None, "assumption", "Segment label.")
    share: float = P(
        1.0,
        "fraction",
        0.0,
        1.0,
        "assumption",
        "Share of the population in this segment (shares are normalised to sum to 1).",
    )
    beta_perf: float = P(
        4.0,
        "utility per performance unit",
        0.0,
        50.0,
        "assumption; ACSI: quality drives value (Fornell et al. 1996)",
        "Weight of the expected performance (quality and service) in utility.",
    )
    beta_price: float = P(
        3.0,
        "utility per reference price",
        0.0,
        50.0,
        "assumption; seed 003 survey: price 36.7% of value against 63.3% for quality",
        "Weight of the price (in units of the reference price) in utility.",
    )
    beta_time: float = P(
        1.0,
        "utility per unit of waiting/effort",
        0.0,
        50.0,
        "assumption; seed 000 time and effort costs",
        "Weight of waiting time and effort in utility.",
    )
    beta_wom: float = P(
        1.0,
        "utility per unit of tanh(attitude)",
        0.0,
        50.0,
        "assumption; seed 004 other people's opinions",
        "Weight of what friends said (word-of-mouth attitude) in utility.",
    )
    beta_brand: float = P(
        1.0,
        "utility per brand unit",
        0.0,
        50.0,
        "assumption; seed 000 image value",
        "Weight of the firm's brand/image level in utility.",
    )
    w_quality: float = P(
        0.6,
        "fraction",
        0.0,
        1.0,
        "seed 003 survey: consistency 19.8% and features 18.4% vs delivery/reliability 14.7%",
        "Weight of product quality against service in the customer's composite performance.",
    )
    purchase_prob: float = P(
        0.8,
        "probability per period",
        0.0,
        1.0,
        "assumption; seed 002 active class = at least 2 visits a month",
        "Probability of a purchase occasion in a period.",
    )
    quantity_mean: float = P(
        1.0,
        "units per purchase",
        0.0,
        1e6,
        "assumption",
        "Mean units bought per purchase occasion.",
    )
    quantity_sigma: float = P(
        0.8,
        "log-units",
        0.0,
        5.0,
        "assumption chosen so that about 20% of customers bring most profit (seed 000, 80/20)",
        "Dispersion (lognormal sigma) of units per purchase across customers.",
    )


def _default_segments() -> list[SegmentParams]:
    return [
        SegmentParams(
            name="price-driven",
            share=0.40,
            beta_perf=3.0,
            beta_price=4.5,
            beta_time=0.8,
            beta_wom=0.7,
            beta_brand=0.5,
            w_quality=0.6,
            purchase_prob=0.8,
        ),
        SegmentParams(
            name="quality-driven",
            share=0.35,
            beta_perf=5.0,
            beta_price=2.0,
            beta_time=1.0,
            beta_wom=0.8,
            beta_brand=1.0,
            w_quality=0.75,
            purchase_prob=0.7,
        ),
        SegmentParams(
            name="opinion-driven",
            share=0.25,
            beta_perf=4.0,
            beta_price=3.0,
            beta_time=1.2,
            beta_wom=2.0,
            beta_brand=1.0,
            w_quality=0.4,
            purchase_prob=0.8,
        ),
    ]


@dataclass
class MarketParams:
    """The population of potential customers and how the market starts."""

    n_customers: int = P(
        2000,
        "customers",
        1,
        50_000_000,
        "assumption",
        "Number of potential customers (agents).",
        control={"label": "Customers", "lo": 100, "hi": 10_000, "step": 100, "reset": True},
    )
    periods: int = P(
        60, "periods (months)", 1, 100_000, "assumption", "Number of periods a run lasts."
    )
    segments: list = Seg(_default_segments, "Customer segments (see SegmentParams).")
    taste_sigma: float = P(
        0.25,
        "log-units",
        0.0,
        3.0,
        "assumption",
        "Lognormal dispersion of each customer's weights around the segment mean.",
    )
    warmup: int = P(
        12,
        "periods",
        0,
        10_000,
        "assumption: the recorded run starts from a settled market",
        "Periods run before period 0 and not recorded (no timeline events or policies), so a mature market starts settled; use 0 for a new market.",
    )
    initial_customers: float = P(
        0.75,
        "fraction",
        0.0,
        1.0,
        "assumption: a mature market",
        "Fraction of the population that is some firm's customer at period 0 (assigned by logit choice).",
    )
    initial_awareness: float = P(
        1.0,
        "probability",
        0.0,
        1.0,
        "assumption: incumbents are known",
        "Probability that a customer knows each incumbent firm at period 0.",
    )
    reference_price: float = P(
        1.0,
        "cu",
        1e-9,
        1e9,
        "convention",
        "Price that scales the price term of utility and satisfaction.",
        symbol="p_ref",
    )
    discount_rate: float = P(
        0.01,
        "per period",
        0.0,
        1.0,
        "assumption (about 12.7% a year)",
        "Discount rate i for customer lifetime value CLV = m r / (1 + i - r) (Gupta & Lehmann 2003).",
        symbol="i",
    )


@dataclass
class NetworkParams:
    """The social network on which word of mouth, imitation and referrals travel."""

    kind: str = P(
        "small_world",
        "",
        None,
        None,
        "Watts & Strogatz 1998; Goldenberg, Libai & Muller 2001 (weak ties)",
        "Kind of friendship network on which word of mouth, imitation and referrals travel.",
        choices=("small_world", "scale_free", "random", "complete", "edgelist"),
        control={
            "label": "Network",
            "choices": ("small_world", "scale_free", "random"),
            "reset": True,
        },
    )
    degree: int = P(
        10,
        "ties per customer",
        0,
        10_000,
        "assumption (issue: degree-10 network)",
        "Mean degree (small_world: k of the ring lattice, random: expected degree, scale_free: 2m).",
        control={"label": "Friends per customer", "lo": 2, "hi": 30, "step": 1, "reset": True},
    )
    rewire: float = P(
        0.1,
        "probability",
        0.0,
        1.0,
        "Watts & Strogatz 1998",
        "Rewiring probability of the small-world network.",
    )
    path: str = P(
        "",
        "",
        None,
        None,
        "",
        "Edge-list file (two integer columns, whitespace or comma separated) for kind = 'edgelist'.",
    )


# --------------------------------------------------------------------------- firms
@dataclass
class FirmParams:
    """A firm's levers, costs and policy. Levers can change during a run."""

    name: str = P("Firm", "", None, None, "", "Firm name (unique).")
    price: float = P(
        1.0,
        "cu per unit",
        0.0,
        1e9,
        "assumption (the reference price)",
        "Posted price.",
        lever="recorded",
        control={"label": "Price", "lo": 0.3, "hi": 2.0, "scale": "price"},
    )
    unit_cost: float = P(
        0.5, "cu per unit", 0.0, 1e9, "assumption", "Variable cost per unit sold.", lever="cost"
    )
    quality: float = P(
        0.7,
        "0–1 level",
        0.0,
        1.0,
        "assumption",
        "Product quality level delivered.",
        lever="recorded",
        control={"label": "Quality"},
    )
    service: float = P(
        0.7,
        "0–1 level",
        0.0,
        1.0,
        "assumption",
        "Service level delivered (personnel, speed, attitude).",
        lever="recorded",
        control={"label": "Service level"},
    )
    service_cost: float = P(
        0.2,
        "cu per purchase per service unit",
        0.0,
        1e9,
        "assumption (service-profit chain: service costs money)",
        "Cost of delivering the service level, per purchase.",
        lever="cost",
    )
    serve_cost: float = P(
        0.1,
        "cu per purchase",
        0.0,
        1e9,
        "assumption; seed 000: small customers cost too much per transaction",
        "Fixed cost of serving one purchase, whatever its size.",
    )
    brand: float = P(
        0.0,
        "level (−1…1)",
        -1.0,
        1.0,
        "assumption",
        "Brand/image level (seed 000 image value).",
        lever="decision",
    )
    effort: float = P(
        0.0,
        "effort units",
        0.0,
        10.0,
        "assumption",
        "Effort cost a customer bears to buy (access, paperwork).",
        lever="decision",
    )
    promise: float | None = P(
        None,
        "0–1 level",
        0.0,
        1.0,
        "seed 000: 'sell the future'",
        "Advertised performance level. None = honest (the firm's true mean composite performance).",
        lever="recorded",
        control={"label": "Promise", "none_label": "honest"},
    )
    capacity: float | None = P(
        None,
        "purchases per period",
        0.0,
        1e12,
        "seed 004 warranty value",
        "Purchases the firm can serve per period without degradation. None = unlimited.",
        lever="recorded",
        control={
            "label": "Capacity",
            "hi": 0.6,
            "step": 0.005,
            "none_label": "unlimited",
            "scale": "customers",
        },
    )
    capacity_cost: float = P(
        0.05,
        "cu per unit of capacity per period",
        0.0,
        1e9,
        "assumption",
        "Cost of holding capacity (charged only when capacity is finite).",
    )
    complaint_ease: float = P(
        0.2,
        "0–1",
        0.0,
        1.0,
        "TARP: most dissatisfied customers never complain; seed 000: make complaining easy",
        "How easy the firm makes complaining (scales complaint probability).",
        lever="recorded",
        symbol="e_j",
        control={"label": "Complaint ease"},
    )
    resolve_share: float = P(
        0.5,
        "fraction",
        0.0,
        1.0,
        "assumption",
        "Share of complaints the firm resolves.",
        lever="recorded",
        control={"label": "Complaints resolved"},
    )
    resolve_speed: float = P(
        0.5,
        "fraction",
        0.0,
        1.0,
        "assumption",
        "Share of resolved complaints resolved quickly (within the period); the rest are resolved late.",
        lever="recorded",
        control={"label": "Resolved quickly"},
    )
    complaint_cost: float = P(
        0.3,
        "cu per complaint",
        0.0,
        1e9,
        "assumption",
        "Cost of handling one complaint (received).",
    )
    remedy_cost: float = P(
        0.5,
        "cu per resolved complaint",
        0.0,
        1e9,
        "assumption",
        "Cost of the remedy for a resolved complaint; a quick resolution costs complaints.quick_premium more.",
    )
    marketing: float = P(
        0.02,
        "probability per period",
        0.0,
        1.0,
        "assumption per month; Bass p ≈ 0.03 per year (Sultan, Farley & Lehmann 1990)",
        "Reach of marketing: probability per period that a person unaware of the firm learns of it (external influence).",
        lever="recorded",
        control={"label": "Marketing reach", "hi": 0.3, "step": 0.005},
    )
    marketing_cost: float = P(
        0.02,
        "cu per person reached",
        0.0,
        1e9,
        "assumption",
        "Cost per person reached by marketing (reach × population).",
    )
    switching_cost: float = P(
        0.0,
        "utility units",
        0.0,
        50.0,
        "seed 000/002 structural ties; Dubé, Hitsch & Rossi 2010",
        "Structural switching cost the firm builds (added to its own customers' inertia).",
        lever="recorded",
    )
    loyalty: bool = P(
        False,
        "",
        None,
        None,
        "seed 000/002 loyalty programmes",
        "Loyalty programme on or off.",
        lever="recorded",
        control={"label": "Loyalty programme"},
    )
    loyalty_discount: float = P(
        0.05,
        "fraction of price",
        0.0,
        1.0,
        "assumption",
        "Discount (or points value) a member gets on repeat purchases.",
        lever="decision",
        symbol="δ_L",
        control={"label": "Member discount", "hi": 0.3},
    )
    loyalty_fixed_cost: float = P(
        0.0,
        "cu per period",
        0.0,
        1e12,
        "assumption",
        "Fixed cost of running the loyalty programme.",
    )
    referral_reward: float = P(
        0.0,
        "cu per successful referral",
        0.0,
        1e9,
        "seed 001/002 rewards for referrals",
        "Reward paid to the referrer for each referred customer.",
        lever="recorded",
        control={"label": "Referral reward", "hi": 2.0, "step": 0.05, "scale": "price"},
    )
    winback: float = P(
        0.0,
        "probability per period",
        0.0,
        1.0,
        "seed 001: repeated contact wins some back",
        "Probability per period of contacting each lost customer.",
        lever="recorded",
    )
    winback_cost: float = P(
        0.05, "cu per contact", 0.0, 1e9, "assumption", "Cost of one win-back contact."
    )
    fixed_cost: float = P(
        0.0, "cu per period", 0.0, 1e12, "assumption", "Fixed cost per period.", lever="cost"
    )
    enter_at: int = P(
        0,
        "period",
        0,
        1_000_000,
        "scenario input (seed 002: a rival opens opposite)",
        "Period at which the firm enters the market (0 = incumbent).",
    )
    policy: str = P(
        "fixed",
        "",
        None,
        None,
        "",
        "Decision rule that sets the levers: a strategy name or a table {name = ..., parameters} (docs/strategies.md); 'fixed' keeps them. Timeline events apply whatever the policy.",
    )


# --------------------------------------------------------------------------- mechanisms
@dataclass
class ChoiceParams:
    """Multinomial logit choice over known firms and buying nothing."""

    outside_option: bool = P(
        True,
        "",
        None,
        None,
        "standard logit demand with an outside good",
        "Whether a customer can buy nothing.",
    )
    outside_utility: float = P(
        -0.5,
        "utility",
        -50.0,
        50.0,
        "assumption: about 90% of purchase occasions end in a purchase",
        "Utility of buying nothing.",
        symbol="u_0",
    )
    inertia: float = P(
        3.0,
        "utility units",
        0.0,
        50.0,
        "Dubé, Hitsch & Rossi 2010; P(stay) = e^γ/(e^γ + J - 1)",
        "Switching cost/inertia γ added to the current firm's utility.",
        symbol="γ",
        control={"label": "Inertia γ", "hi": 6.0, "step": 0.1},
    )
    satisfaction_weight: float = P(
        2.0,
        "utility per satisfaction unit",
        0.0,
        50.0,
        "Fornell et al. 1996 (satisfaction → loyalty); Mittal & Kamakura 2001",
        "Remembered satisfaction with the current firm added to its utility (repurchase).",
        symbol="β_S",
    )
    novelty_risk: float = P(
        0.3,
        "utility units",
        0.0,
        50.0,
        "seed 000 psychological cost (risk)",
        "Utility penalty for a firm the customer has never bought from.",
        symbol="κ_n",
    )


@dataclass
class CapacityParams:
    """Warranty value: demand above capacity lowers experienced service and adds waiting."""

    enabled: bool = P(True, "", None, None, "seed 004", "Capacity effects on or off.")
    service_elasticity: float = P(
        1.0,
        "dimensionless",
        0.0,
        10.0,
        "assumption: half the attention each when load doubles",
        "Exponent in s̃ = s · load^(−θ_c) for load > 1.",
        symbol="θ_c",
    )
    wait_weight: float = P(
        0.3,
        "performance per unit of excess load",
        0.0,
        10.0,
        "assumption",
        "How much waiting (excess load) lowers experienced performance.",
        symbol="κ_w",
    )


@dataclass
class ExperienceParams:
    """Delivered quality and service = the firm's level + noise."""

    quality_noise: float = P(
        0.06,
        "0–1 level",
        0.0,
        2.0,
        "calibrated with the satisfaction-band table and TARP's problem frequency (docs/validation.md)",
        "Standard deviation of experienced quality around the firm's level.",
        symbol="σ_q",
    )
    service_noise: float = P(
        0.10,
        "0–1 level",
        0.0,
        2.0,
        "calibrated as quality_noise; service more variable than product",
        "Standard deviation of experienced service around the firm's level.",
        symbol="σ_s",
    )
    fit_sd: float = P(
        0.1,
        "0–1 level",
        0.0,
        1.0,
        "seed 004 (value is fit for purpose; customers weigh attributes differently); calibrated with the satisfaction-band table (docs/validation.md)",
        "Spread of each customer's persistent fit with each firm, added to experienced performance.",
        symbol="σ_φ",
    )


@dataclass
class SatisfactionParams:
    """Expectation–disconfirmation with asymmetry, and remembered satisfaction."""

    performance_weight: float = P(
        5.0,
        "per performance unit",
        0.0,
        50.0,
        "Oliver 1980; Fornell et al. 1996 (perceived quality drives satisfaction)",
        "Direct effect of perceived performance relative to the neutral level.",
        symbol="κ_P",
    )
    neutral_performance: float = P(
        0.5,
        "0–1 level",
        0.0,
        1.0,
        "convention",
        "The performance level that is neither good nor bad.",
        symbol="P0",
    )
    gain_weight: float = P(
        2.0,
        "per performance unit",
        0.0,
        50.0,
        "Oliver 1980",
        "Effect of a pleasant surprise (performance above expectation).",
        symbol="λ+",
    )
    loss_weight: float = P(
        4.0,
        "per performance unit",
        0.0,
        50.0,
        "Anderson & Sullivan 1993; loss aversion ≈ 2 (Kahneman & Tversky)",
        "Effect of a shortfall (performance below expectation); λ− > λ+ is the asymmetry.",
        symbol="λ−",
        control={"label": "Loss weight λ⁻", "hi": 10.0, "step": 0.1},
    )
    price_weight: float = P(
        0.5,
        "per reference price",
        0.0,
        50.0,
        "Fornell et al. 1996: satisfaction more quality- than price-driven",
        "How much paying above the reference price lowers satisfaction.",
        symbol="κ_p",
    )
    memory: str = P(
        "exponential",
        "",
        None,
        None,
        "Johnson, Anderson & Fornell 1995 (cumulative); Kahneman peak-end (seed 003)",
        "Remembered satisfaction rule.",
        choices=("exponential", "peak_end"),
    )
    problem_threshold: float = P(
        0.15,
        "performance units",
        0.0,
        1.0,
        "calibrated: problems in about 1 purchase in 70, complaints from about 6% of them (TARP: a few in a hundred)",
        "A shortfall E − P above δ_P is a problem: a salient moment.",
        symbol="δ_P",
    )
    problem_weight: float = P(
        0.8,
        "fraction",
        0.0,
        1.0,
        "peak-end rule (seed 003); TARP repurchase after problems (37–95% by outcome)",
        "Memory weight of a problem experience (and of its complaint outcome), in place of ω (in peak-end memory: the weight of the last experience).",
        symbol="ω_p",
    )
    memory_weight: float = P(
        0.4,
        "fraction",
        0.0,
        1.0,
        "assumption",
        "Weight of the newest experience in exponential memory; in peak-end, weight of the last experience (the peak gets 1-ω).",
        symbol="ω",
    )


@dataclass
class ExpectationParams:
    """Expectations from promises, own experience and word of mouth."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "Johnson, Anderson & Fornell 1995",
        "Expectation updating on or off (off: expectations stay at their initial values).",
    )
    experience_weight: float = P(
        0.3,
        "fraction per purchase",
        0.0,
        1.0,
        "Johnson, Anderson & Fornell 1995 (adaptive expectations)",
        "Pull of own experience on the expectation of the firm used.",
        symbol="α_e",
    )
    promise_weight: float = P(
        0.05,
        "fraction per period",
        0.0,
        1.0,
        "seed 000: promises set expectations",
        "Pull of the firm's promise on the expectations of everyone aware of it.",
        symbol="α_p",
    )
    wom_weight: float = P(
        0.15,
        "fraction per message",
        0.0,
        1.0,
        "seed 004: others shape perception",
        "Pull of one word-of-mouth message towards the talker's remembered performance.",
        symbol="ψ",
    )
    initial_noise: float = P(
        0.05,
        "0–1 level",
        0.0,
        1.0,
        "assumption",
        "Spread of a new customer's first expectation around the promise.",
        symbol="σ_0",
    )


@dataclass
class ComplaintParams:
    """Who complains, and what the firm's handling does to satisfaction."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "TARP 1979–1986; seed 000/002",
        "Complaints on or off.",
        control={"label": "Complaints"},
    )
    max_prob: float = P(
        0.5,
        "probability",
        0.0,
        1.0,
        "assumption; TARP: about 1 in 25 dissatisfied customers complains at typical ease",
        "Complaint probability at full ease and a very large shortfall.",
        symbol="c_max",
        control={"label": "Complaint propensity"},
    )
    shortfall_scale: float = P(
        0.15,
        "performance units",
        1e-6,
        10.0,
        "assumption",
        "Complaint probability = ease · max_prob · (1 − exp(−shortfall/d0)).",
        symbol="d0",
    )
    recovery_unresolved: float = P(
        0.15,
        "fraction of the shortfall effect undone",
        0.0,
        1.0,
        "TARP: complaining, even unresolved, beats silence",
        "Share of a negative experience undone by being heard but not helped.",
        symbol="r_u",
    )
    recovery_late: float = P(
        0.5,
        "fraction",
        0.0,
        1.0,
        "calibrated to TARP's 70% (seed 002: 60%) repurchase when resolved (docs/validation.md); calibration: calibrations/defaults.toml (docs/calibration.md)",
        "Share undone by a late resolution.",
        symbol="r_l",
    )
    recovery_quick: float = P(
        1.0,
        "fraction",
        0.0,
        1.0,
        "seed 002: 95% come back when solved quickly and well",
        "Share undone by a quick resolution.",
        symbol="r_q",
    )
    recovery_paradox: float = P(
        0.0,
        "satisfaction units",
        0.0,
        1.0,
        "de Matos, Henrique & Rossi 2007; Maxham & Netemeyer 2002 (first failure only)",
        "A quick resolution of a first failure leaves the transaction this far above neutral.",
        symbol="π",
    )
    late_delay: int = P(
        1,
        "periods",
        1,
        120,
        "automotive data: resolution within 90 days vs 90–180 days (secondary)",
        "Periods until a late resolution arrives.",
    )
    quick_premium: float = P(
        0.5,
        "fraction",
        0.0,
        10.0,
        "assumption",
        "Extra remedy cost of a quick resolution (fraction of remedy_cost).",
    )


@dataclass
class WomParams:
    """Word of mouth on the network (U-shaped in satisfaction, negativity bias)."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "Anderson 1998",
        "Word of mouth (and with it referrals) on or off.",
        control={"label": "Word of mouth"},
    )
    positive_threshold: float = P(
        0.3,
        "satisfaction",
        -1.0,
        1.0,
        "Anderson 1998 (U-shape)",
        "Satisfaction above which a customer may talk positively.",
        symbol="θ+",
    )
    negative_threshold: float = P(
        -0.1,
        "satisfaction",
        -1.0,
        1.0,
        "Anderson 1998 (U-shape)",
        "Satisfaction below which a customer may talk negatively.",
        symbol="θ−",
    )
    positive_talk: float = P(
        0.3,
        "probability per period",
        0.0,
        1.0,
        "assumption",
        "Talk probability of a fully delighted customer (linear from θ+).",
        symbol="τ+",
    )
    negative_talk: float = P(
        0.5,
        "probability per period",
        0.0,
        1.0,
        "Anderson 1998: dissatisfied talk more",
        "Talk probability of a fully dissatisfied customer (linear from θ−).",
        symbol="τ−",
    )
    positive_reach: int = P(
        2,
        "contacts per talk",
        0,
        1000,
        "TARP: satisfied tell 4–5 (over time)",
        "Neighbours told per positive talk.",
        symbol="R+",
        control={"label": "Positive reach R⁺", "hi": 20, "step": 1},
    )
    negative_reach: int = P(
        4,
        "contacts per talk",
        0,
        1000,
        "TARP: dissatisfied tell 9–10 (twice as many)",
        "Neighbours told per negative talk.",
        symbol="R−",
        control={"label": "Negative reach R⁻", "hi": 20, "step": 1},
    )
    negative_weight: float = P(
        1.5,
        "multiplier",
        0.0,
        10.0,
        "negativity bias (assumption)",
        "Weight of a negative message on beliefs and attitude, relative to a positive one.",
        symbol="ν",
    )
    recovery_reach: int = P(
        5,
        "contacts",
        0,
        1000,
        "seed 002: each tells 5 others",
        "People told by a customer whose complaint was resolved quickly.",
        symbol="R_rec",
    )
    unresolved_reach: int = P(
        9,
        "contacts",
        0,
        1000,
        "TARP: 9–10",
        "People told by a customer whose complaint went unresolved.",
        symbol="R_unres",
    )
    attitude_decay: float = P(
        0.8,
        "fraction kept per period",
        0.0,
        1.0,
        "assumption",
        "Word-of-mouth attitude kept from one period to the next.",
        symbol="δ_A",
    )
    memory_window: int = P(
        3,
        "periods",
        0,
        1000,
        "assumption",
        "A loss counts as following negative talk if the talk came this many periods before.",
    )


@dataclass
class ReferralParams:
    """A positive message can bring the recipient to the firm (referral)."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "seed 001/002",
        "Referrals on or off.",
        control={"label": "Referrals"},
    )
    threshold: float = P(
        0.5,
        "satisfaction",
        -1.0,
        1.0,
        "assumption: promoters refer",
        "Minimum talker satisfaction for a message to carry a referral.",
        symbol="θ_ref",
    )
    prob: float = P(
        0.05,
        "probability per positive message",
        0.0,
        1.0,
        "assumption",
        "Probability a referral message converts the recipient.",
        symbol="ρ0",
        control={"label": "Referral probability ρ₀", "hi": 0.3, "step": 0.005},
    )
    reward_gain: float = P(
        2.0,
        "per reference price",
        0.0,
        100.0,
        "assumption",
        "Gain in ρ = ρ0 · (1 + κ_r · reward / reference price).",
        symbol="κ_r",
    )


@dataclass
class AcquisitionParams:
    """Awareness of firms: external (marketing) and internal (imitation) influence."""

    marketing_enabled: bool = P(
        True, "", None, None, "Bass 1969", "External influence (marketing reach) on or off."
    )
    imitation_enabled: bool = P(
        True,
        "",
        None,
        None,
        "Bass 1969",
        "Internal influence (adopters among neighbours) on or off.",
    )
    imitation: float = P(
        0.38,
        "per period",
        0.0,
        1.0,
        "assumption per month (awareness only; customers still choose); Bass q ≈ 0.38 per year (Sultan, Farley & Lehmann 1990)",
        "Hazard of learning of a firm when all neighbours are its customers.",
        symbol="q",
        control={"label": "Imitation q"},
    )
    hazard: str = P(
        "product",
        "",
        None,
        None,
        'Bass 1969; Fibich & Gibori 2010 ("bass" reproduces the Bass recursion on the complete graph)',
        "Awareness hazard: 'product' 1 − (1 − p)(1 − q/k)^n or 'bass' p + q·n/k (adopted share of contacts).",
        choices=("product", "bass"),
    )


@dataclass
class ChurnParams:
    """Leaving: a hazard that rises with dissatisfaction and falls with switching cost."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "seed 000; Jones & Sasser 1995",
        "Churn (leaving, win-back and returns) on or off.",
        control={"label": "Churn"},
    )
    base_rate: float = P(
        0.008,
        "probability per period",
        0.0,
        1.0,
        "calibrated: highly satisfied customers still lose about 40% a year in a competitive market (scenario satisfied_leave; seed 000), docs/validation.md",
        "Hazard of a fully satisfied customer.",
        symbol="h0",
        control={"label": "Base churn h₀", "hi": 0.2, "step": 0.005},
    )
    dissatisfaction_rate: float = P(
        0.05,
        "probability per period",
        0.0,
        1.0,
        "calibrated with the satisfaction-band table (docs/validation.md)",
        "Extra hazard of a fully dissatisfied customer.",
        symbol="h1",
    )
    curvature: float = P(
        0.3,
        "dimensionless",
        0.1,
        10.0,
        "Jones & Sasser 1995; Mittal & Kamakura 2001 (increasing returns at the top)",
        "Exponent η in h = h0 + h1 ((1 − S)/2)^η + h_d σ((S_d − S)/w); η < 1 gives increasing returns to satisfaction at the top.",
        symbol="η",
    )
    defection_rate: float = P(
        0.7,
        "probability per period",
        0.0,
        1.0,
        "TARP repurchase after a problem (37% silent, 46% unresolved, 70% resolved, 95% resolved quickly); calibrated with python -m sim.validation (docs/validation.md); calibration: calibrations/defaults.toml (docs/calibration.md)",
        "Hazard of quick defection of a dissatisfied customer, h_d · σ((S_d − S)/w).",
        symbol="h_d",
    )
    defection_midpoint: float = P(
        -0.2,
        "satisfaction",
        -1.0,
        1.0,
        "calibrated with the TARP outcome column (docs/validation.md)",
        "Remembered satisfaction at which half of h_d applies.",
        symbol="S_d",
    )
    defection_width: float = P(
        0.1,
        "satisfaction",
        1e-3,
        2.0,
        "calibrated with the TARP outcome column (docs/validation.md)",
        "Width of the logistic step of the quick-defection hazard.",
        symbol="w_d",
    )
    switching_cost_effect: float = P(
        0.5,
        "per utility unit",
        0.0,
        10.0,
        "assumption",
        "Hazard multiplied by exp(−ζ · switching cost).",
        symbol="ζ",
    )
    winback_response: float = P(
        0.5,
        "probability",
        0.0,
        1.0,
        "seed 001: repeated contact wins back some",
        "Probability that a contacted, fully satisfied lapsed customer returns (scaled by (1 + S)/2).",
        symbol="b",
    )
    return_rate: float = P(
        0.05,
        "probability per period",
        0.0,
        1.0,
        "assumption",
        "Probability per period that a lapsed customer returns to the market on their own.",
    )


@dataclass
class LoyaltyParams:
    """Loyalty programme points (switching cost) and discount."""

    enabled: bool = P(
        True,
        "",
        None,
        None,
        "seed 000/002",
        "Loyalty programmes on or off (a firm still has to launch one).",
    )
    points_switching_cost: float = P(
        1.0,
        "utility units at full points",
        0.0,
        50.0,
        "assumption",
        "Switching cost added by a full points balance.",
        symbol="Γ",
    )
    points_cap: int = P(
        12,
        "purchases",
        1,
        10_000,
        "assumption: a year of monthly purchases",
        "Purchases at which the points balance is full.",
    )


@dataclass
class ModelParams:
    """Everything a run needs."""

    seed: int = P(
        0,
        "",
        0,
        2**63 - 1,
        "",
        "Root seed; every mechanism draws from its own child stream.",
        control={"label": "Seed", "hi": 10_000, "step": 1, "reset": True},
    )
    market: MarketParams = field(default_factory=MarketParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    firms: list = field(default_factory=lambda: [FirmParams(name="A"), FirmParams(name="B")])
    choice: ChoiceParams = field(default_factory=ChoiceParams)
    capacity: CapacityParams = field(default_factory=CapacityParams)
    experience: ExperienceParams = field(default_factory=ExperienceParams)
    satisfaction: SatisfactionParams = field(default_factory=SatisfactionParams)
    expectations: ExpectationParams = field(default_factory=ExpectationParams)
    complaints: ComplaintParams = field(default_factory=ComplaintParams)
    wom: WomParams = field(default_factory=WomParams)
    referrals: ReferralParams = field(default_factory=ReferralParams)
    acquisition: AcquisitionParams = field(default_factory=AcquisitionParams)
    churn: ChurnParams = field(default_factory=ChurnParams)
    loyalty: LoyaltyParams = field(default_factory=LoyaltyParams)
    events: list = field(default_factory=list)
    #: parameters of user stages by stage name (``[stages.<name>]`` in a scenario file);
    #: each names a stage registered with :func:`sim.stages.register`
    stages: dict = field(default_factory=dict)
    panel_size: int = P(
        2000,
        "customers",
        0,
        10_000_000,
        "",
        "Customers whose state is recorded every period (all of them when N is smaller; evenly spaced ids otherwise).",
    )
    record_events: bool = P(
        True, "", None, None, "", "Keep the event log (complaints, referrals, switches, churns)."
    )
    event_sample: float = P(
        1.0,
        "share of customers",
        0.0,
        1.0,
        "",
        "Share of customers whose events the log keeps (evenly spaced ids, like the panel; lever changes are always kept); 1 keeps everybody's. For large markets: the log grows with customers × periods.",
    )


#: top-level settings of the scenario's ``[output]`` table (fields of :class:`ModelParams`)
OUTPUT_KEYS = ("record_events", "panel_size", "event_sample")

#: Mechanism sections, in the order of the period schedule.
MECHANISMS = (
    "acquisition",
    "choice",
    "capacity",
    "experience",
    "satisfaction",
    "complaints",
    "wom",
    "referrals",
    "expectations",
    "churn",
    "loyalty",
)


def describe(cls: type) -> list[dict]:
    """Rows (name, default, unit, range, source, doc) for a parameter dataclass."""
    rows = []
    inst = cls()
    for f in dataclasses.fields(cls):
        if not f.metadata:
            continue
        rows.append(
            {
                "name": f.name,
                "default": getattr(inst, f.name),
                "unit": f.metadata.get("unit", ""),
                "range": f.metadata.get("range"),
                "choices": f.metadata.get("choices"),
                "symbol": f.metadata.get("symbol", ""),
                "source": f.metadata.get("source", ""),
                "doc": f.metadata.get("doc", ""),
            }
        )
    return rows


def levers(*kinds: str) -> tuple[str, ...]:
    """Names of the firm levers (fields of :class:`FirmParams` with ``lever`` metadata),
    in field order; only those of the given kinds when any are given.

    Examples:
        >>> levers("recorded")[:3]
        ('price', 'quality', 'service')
        >>> "serve_cost" in levers()
        False
    """
    out = []
    for f in dataclasses.fields(FirmParams):
        kind = (f.metadata or {}).get("lever")
        if kind and (not kinds or kind in kinds):
            out.append(f.name)
    return tuple(out)


# --------------------------------------------------------------------------- market game
#: firm levers a team controls in the market game (``sim game``), in the order shown
GAME_LEVERS = (
    "price",
    "quality",
    "service",
    "complaint_ease",
    "resolve_share",
    "resolve_speed",
    "marketing",
    "loyalty",
    "loyalty_discount",
    "referral_reward",
    "capacity",
)


@dataclass
class GameParams:
    """The ``[game]`` section of a scenario: rounds, budget and lever limits of the market
    game (``sim game``, docs/game.md). Not a model parameter: it shapes what teams may
    decide between rounds."""

    rounds: int = P(8, "rounds", 1, 200, "assumption (two years of quarters)", "Rounds in a game.")
    round_months: int = P(
        3,
        "periods (months)",
        1,
        24,
        "assumption (a quarter, as business-simulation games use)",
        "Months simulated per round.",
    )
    timer: float = P(
        0.0,
        "seconds",
        0.0,
        86_400.0,
        "assumption",
        "Time teams have to decide in each round; when it ends the round is played with "
        "missing teams keeping their levers. 0 = no timer (the instructor ends the round).",
    )
    budget: float | None = P(
        None,
        "cu per round",
        0.0,
        1e12,
        "assumption",
        "Most a team may commit per round to marketing (reach × customers × marketing_cost) "
        "and capacity (capacity × capacity_cost, when finite), over the round's months. "
        "None = no limit.",
    )
    levers: dict = P(
        {
            "price": [0.5, 2.0],
            "quality": [0.3, 1.0],
            "service": [0.3, 1.0],
            "marketing": [0.0, 0.2],
            "loyalty_discount": [0.0, 0.3],
            "referral_reward": [0.0, 1.0],
        },
        "the lever's unit (firms[] table)",
        None,
        None,
        "assumption",
        "Bounds [lo, hi] of each lever a team may choose (keys: the levers of GAME_LEVERS "
        "except loyalty); a lever not listed may take its whole range (firms[] table).",
    )
    max_change: dict = P(
        {},
        "the lever's unit per round",
        None,
        None,
        "assumption",
        "Largest change of a lever from one round to the next ({price = 0.2} …); a lever not "
        "listed may change freely.",
    )
    capacity_unlimited: bool = P(
        True, "", None, None, "", "Whether a team may choose unlimited capacity (capacity = none)."
    )
    entrant: bool = P(
        True,
        "",
        None,
        None,
        "seed 002: a rival opens opposite with an opening discount",
        "Whether the instructor can bring a new entrant into the market.",
    )
    entrant_discount: float = P(
        0.1,
        "fraction of price",
        0.0,
        0.9,
        "seed 002: opening discount (size assumed)",
        "The entrant's price below the teams' starting price.",
    )
    entrant_marketing: float = P(
        0.1,
        "probability per period",
        0.0,
        1.0,
        "assumption",
        "The entrant's marketing reach.",
    )
    shock: float = P(
        1.3,
        "factor",
        1.0,
        5.0,
        "assumption",
        "Recession event: every customer's price weight (beta_price) is multiplied by this.",
    )
    outage_months: int = P(
        1,
        "periods (months)",
        1,
        24,
        "assumption",
        "Length of an outage event (service 0, quality at most 0.3), at most a round.",
    )
