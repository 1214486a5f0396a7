"""Customer state as numpy columns (structure of arrays): one row per customer.

Per-customer columns have shape (N,); per customer-and-firm columns have shape (N, K).
All mechanisms read and write these arrays in place, vectorised over customers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .params import MarketParams

__all__ = [
    "Population",
    "PROSPECT",
    "CUSTOMER",
    "LAPSED",
    "STATUS_NAMES",
    "VIA_NAMES",
    "id_dtype",
]

#: status codes
PROSPECT, CUSTOMER, LAPSED = 0, 1, 2
STATUS_NAMES = {PROSPECT: "prospect", CUSTOMER: "customer", LAPSED: "lapsed"}

#: how a customer learnt of a firm (aware_via codes)
VIA_INITIAL, VIA_MARKETING, VIA_IMITATION, VIA_WOM, VIA_REFERRAL = 0, 1, 2, 3, 4
VIA_NAMES = {
    VIA_INITIAL: "initial",
    VIA_MARKETING: "marketing",
    VIA_IMITATION: "imitation",
    VIA_WOM: "wom",
    VIA_REFERRAL: "referral",
}


def id_dtype(n: int) -> type[np.signedinteger]:
    """The integer type of customer ids in a market of ``n`` customers: int32 while every
    id and -1 fit (n < 2^31), int64 above (ids are half the bytes of int64 there).

    Args:
        n: number of customers.

    Returns:
        ``np.int32`` or ``np.int64``.

    Examples:
        >>> id_dtype(10_000_000).__name__, id_dtype(2**31).__name__
        ('int32', 'int64')
    """
    return np.int32 if int(n) < 2**31 else np.int64


@dataclass(eq=False)
class Population:
    """All customer state. Create with :meth:`Population.create`."""

    # tastes (fixed)
    segment: np.ndarray  # int16 segment index
    w_quality: np.ndarray  # weight of quality vs service in composite performance
    beta_perf: np.ndarray
    beta_price: np.ndarray
    beta_time: np.ndarray
    beta_wom: np.ndarray
    beta_brand: np.ndarray
    purchase_prob: np.ndarray
    quantity: np.ndarray  # units per purchase
    # relationship
    status: np.ndarray  # int8: PROSPECT, CUSTOMER, LAPSED
    firm: np.ndarray  # int16 current firm, -1 none
    last_firm: np.ndarray  # int16 firm of the last experience (talked about), -1 none
    since: np.ndarray  # int32 period the current relationship began
    points: np.ndarray  # int32 purchases at the current firm (loyalty points)
    lapsed_from: np.ndarray  # int16 firm left when lapsing, -1
    # feelings and memory
    satisfaction: np.ndarray  # remembered satisfaction with last_firm, [-1, 1]
    peak: np.ndarray  # most extreme transaction satisfaction (peak-end)
    last_x: np.ndarray  # last transaction satisfaction
    perf_memory: np.ndarray  # remembered performance of last_firm (message content)
    n_complaints: np.ndarray  # int32 complaints ever made
    experienced: np.ndarray  # bool: has an experience to talk about
    last_buy: np.ndarray  # int32 period of the last purchase, -10**6 never
    # negative word of mouth last heard (for attributing losses)
    neg_src: np.ndarray  # talker id (:func:`id_dtype`: int32 below 2^31 customers), -1
    neg_firm: np.ndarray  # int16
    neg_t: np.ndarray  # int32 period
    # per firm (N, K)
    expect: np.ndarray  # expected performance of each firm
    attitude: np.ndarray  # word-of-mouth attitude towards each firm
    aware: np.ndarray  # bool: knows the firm
    aware_via: np.ndarray  # int8 VIA_* code
    aware_src: (
        np.ndarray
    )  # customer id (:func:`id_dtype`) whose talk or adoption made i aware of j, -1
    tried: np.ndarray  # bool: has bought from the firm
    fit: np.ndarray  # persistent fit φ with each firm (performance units)
    profit: np.ndarray  # cumulative profit contributed to each firm (cu)
    revenue: np.ndarray  # cumulative revenue paid to each firm (cu)

    @property
    def n(self) -> int:
        return int(self.status.size)

    @property
    def n_firms(self) -> int:
        return int(self.expect.shape[1])

    def columns(self) -> list[str]:
        return [f.name for f in fields(self)]

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    @classmethod
    def create(cls, market: MarketParams, n_firms: int, rng: np.random.Generator) -> Population:
        """Draw N customers from the segments, with lognormal individual tastes."""
        n = int(market.n_customers)
        segs = market.segments
        shares = np.array([s.share for s in segs], dtype=float)
        shares = shares / shares.sum()
        seg = rng.choice(len(segs), size=n, p=shares).astype(np.int16)

        def seg_col(attr: str) -> np.ndarray:
            return np.array([getattr(s, attr) for s in segs], dtype=float)[seg]

        sigma = market.taste_sigma

        def taste(attr: str) -> np.ndarray:
            # lognormal around the segment mean (mean-preserving)
            z = rng.standard_normal(n)
            return seg_col(attr) * np.exp(sigma * z - 0.5 * sigma**2)

        qsig = seg_col("quantity_sigma")
        quantity = seg_col("quantity_mean") * np.exp(qsig * rng.standard_normal(n) - 0.5 * qsig**2)
        k, ids = n_firms, id_dtype(n)
        return cls(
            segment=seg,
            w_quality=np.clip(seg_col("w_quality") + 0.1 * rng.standard_normal(n), 0.0, 1.0),
            beta_perf=taste("beta_perf"),
            beta_price=taste("beta_price"),
            beta_time=taste("beta_time"),
            beta_wom=taste("beta_wom"),
            beta_brand=taste("beta_brand"),
            purchase_prob=seg_col("purchase_prob"),
            quantity=quantity,
            status=np.full(n, PROSPECT, np.int8),
            firm=np.full(n, -1, np.int16),
            last_firm=np.full(n, -1, np.int16),
            since=np.zeros(n, np.int32),
            points=np.zeros(n, np.int32),
            lapsed_from=np.full(n, -1, np.int16),
            satisfaction=np.zeros(n),
            peak=np.zeros(n),
            last_x=np.zeros(n),
            perf_memory=np.zeros(n),
            n_complaints=np.zeros(n, np.int32),
            experienced=np.zeros(n, bool),
            last_buy=np.full(n, -(10**6), np.int32),
            neg_src=np.full(n, -1, ids),
            neg_firm=np.full(n, -1, np.int16),
            neg_t=np.full(n, -(10**6), np.int32),
            expect=np.zeros((n, k)),
            attitude=np.zeros((n, k)),
            aware=np.zeros((n, k), bool),
            aware_via=np.zeros((n, k), np.int8),
            aware_src=np.full((n, k), -1, ids),
            tried=np.zeros((n, k), bool),
            fit=np.zeros((n, k)),
            profit=np.zeros((n, k)),
            revenue=np.zeros((n, k)),
        )
