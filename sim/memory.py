"""How much memory a run needs, estimated before anything is allocated.

The figures are peak resident memory measured on the project's machine (Python 3.12,
NumPy 2; ``bench/memory.py`` re-measures them) and err on the high side:

==========================  ===========================================================
what                        bytes
==========================  ===========================================================
interpreter and imports     280 MB (numpy, pandas, scipy, Mesa, numba; pyarrow for tables)
a customer                  200 + 100 per firm: the state columns (about 140 + 47 per
                            firm; ids int32, see :mod:`sim.population`) and the
                            temporaries of a period
a tie                       20 per directed entry (2 per link; none for the implicit
                            complete graph): the sorted link keys while the network is
                            built; afterwards the CSR holds 4 (int32), plus 12 while
                            imitation needs the adjacency matrix
full-information policy     7,000 per customer (``best_response_full``: a 161 × N
                            price grid and its temporaries, while it decides)
an event in the log         35 while the run holds it, 175 when the log is also made a
                            table (``model.events()``, ``sim run``); times
                            ``output.event_sample``.
                            Rate: 0.5 per customer-period up to 20,000 customers (word
                            of mouth heard is logged), 0.12 above
a panel row                 160
==========================  ===========================================================

A run folder written by ``sim run`` streams every replication's event log and panel to
disk, so memory does not grow with the number of replications; an in-memory
:func:`sim.runner.run_scenario` keeps them all (``streamed=False``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import params as P

__all__ = ["MemoryEstimate", "estimate", "available_bytes", "check_memory", "MemoryRefused"]

MB = 1024**2
GB = 1024**3

#: measured coefficients (see the module docstring)
BASE = 280 * MB
PER_CUSTOMER = 200
PER_CUSTOMER_PER_FIRM = 100  # beliefs, awareness, its source, fit, money; temporaries
PER_TIE = 20
PER_CUSTOMER_FULL_INFO = 7_000
PER_EVENT = 175  # held during the run and made a table at the end
PER_EVENT_HELD = 35  # held during the run only (the table is never built)
EVENT_RATE_SMALL = 0.5
EVENT_RATE_LARGE = 0.12
HEARD_LOGGED_UP_TO = 20_000
PER_PANEL_ROW = 160
#: share of the available memory a run may plan to use
HEADROOM = 0.9


class MemoryRefused(ValueError):
    """A run would need more memory than is available (``str(err)`` is one line)."""


@dataclass
class MemoryEstimate:
    """Estimated peak memory of a run, by part (bytes)."""

    parts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(sum(self.parts.values()))

    def largest(self) -> str:
        """The name of the largest part (what to change first)."""
        return max(self.parts, key=lambda k: self.parts[k])


def _ties(p: P.ModelParams) -> int:
    """Directed adjacency entries (2 per link) the network will hold."""
    n, net = int(p.market.n_customers), p.network
    if net.kind == "complete":  # implicit ties (sim.network.CompleteNetwork)
        return 0
    if net.kind == "edgelist":
        try:  # about 8 bytes a line: an over-estimate of links is fine here
            return 2 * max(os.path.getsize(net.path) // 4, 0)
        except OSError:
            return 0
    return int(n * float(net.degree))


def _event_log(p: P.ModelParams, events: float, tables: bool) -> float:
    """Bytes of ``events`` events of the whole market, of which the log keeps the sample."""
    if not p.record_events:
        return 0
    return events * float(p.event_sample) * (PER_EVENT if tables else PER_EVENT_HELD)


def _full_information(p: P.ModelParams) -> bool:
    from .strategies import REGISTRY

    for f in p.firms:
        name = f.policy if isinstance(f.policy, str) else (f.policy or {}).get("name")
        cls = REGISTRY.get(name)
        if cls is not None and "full_information" in cls.classifier.get("observes", ()):
            return True
    return False


def estimate(
    p: P.ModelParams,
    replications: int = 1,
    *,
    periods: int | None = None,
    streamed: bool = True,
    tables: bool = True,
) -> MemoryEstimate:
    """Estimate the peak memory of running ``p``.

    Args:
        p: the model parameters.
        replications: number of replications run one after the other.
        periods: periods run (default ``p.market.periods``); the warm-up adds none to
            the log.
        streamed: whether replications' event logs and panels go to disk as they finish
            (``sim run``) or are all kept (:func:`sim.runner.run_scenario`).
        tables: whether the event log is made a table at the end (``sim run``,
            ``model.events()``); False for a run that only holds it (``bench/scale.py``).

    Returns:
        The estimate by part: ``base``, ``customers``, ``network``, ``policies``,
        ``event log``, ``panel``.

    Examples:
        >>> from sim.params import ModelParams
        >>> estimate(ModelParams()).total < 400 * 1024**2
        True
    """
    n = int(p.market.n_customers)
    T = int(periods if periods is not None else p.market.periods)
    kept = 1 if streamed else max(int(replications), 1)
    rate = EVENT_RATE_SMALL if n <= HEARD_LOGGED_UP_TO else EVENT_RATE_LARGE
    parts = {
        "base": BASE,
        "customers": n * (PER_CUSTOMER + PER_CUSTOMER_PER_FIRM * len(p.firms)),
        "network": _ties(p) * PER_TIE,
        "policies": n * PER_CUSTOMER_FULL_INFO if _full_information(p) else 0,
        "event log": _event_log(p, n * T * rate * kept, tables),
        "panel": min(int(p.panel_size), n) * (T + 1) * PER_PANEL_ROW * kept,
    }
    return MemoryEstimate({k: int(v) for k, v in parts.items()})


def available_bytes() -> int:
    """Memory available to a new allocation now: psutil's ``available`` if psutil is
    installed, else ``MemAvailable`` from /proc/meminfo, else the physical memory."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


#: what to change, by the largest part of the estimate
_REMEDY = {
    "customers": "fewer customers (market.n_customers)",
    "network": "a sparser network (network.degree) or fewer customers",
    "policies": "a policy without full information, or fewer customers",
    "event log": "a smaller output.event_sample, output.record_events = false, or fewer periods",
    "panel": "a smaller output.panel_size or fewer periods",
    "base": "fewer customers",
}


def _gb(x: float) -> str:
    return f"{x / GB:.1f} GB" if x >= 0.1 * GB else f"{x / MB:.0f} MB"


def check_memory(
    p: P.ModelParams,
    replications: int = 1,
    *,
    source: str = "",
    streamed: bool = True,
    available: int | None = None,
    copies: int = 1,
    base: bool = True,
) -> MemoryEstimate:
    """Refuse, before any allocation, a run that would not fit in the available memory.

    Args:
        p: the model parameters.
        replications: number of replications.
        source: shown first in the message (the scenario file).
        streamed: see :func:`estimate`.
        available: bytes available (default: :func:`available_bytes`).
        copies: runs held at the same time (a sweep's worker processes).
        base: count the interpreter and imports (False for a model built inside a
            process that already holds them, e.g. ``MarketModel`` from Python).

    Returns:
        The estimate, when the run fits.

    Raises:
        MemoryRefused: one line: how much the run needs, by its largest parts, how much
            is available and what to change.
    """
    est = estimate(p, replications, streamed=streamed)
    est = MemoryEstimate(
        {k: v * max(int(copies), 1) for k, v in est.parts.items() if base or k != "base"}
    )
    avail = available_bytes() if available is None else int(available)
    if est.total <= HEADROOM * avail:
        return est
    big = sorted((v, k) for k, v in est.parts.items() if k != "base")[::-1][:3]
    detail = ", ".join(f"{k} {_gb(v)}" for v, k in big if v >= MB)
    detail = f" ({detail})" if detail else ""
    where = f"{source}: " if source else ""
    runs = f"{copies} runs at a time need" if copies > 1 else "this run needs"
    fewer = "fewer workers (--workers) or " if copies > 1 else ""
    raise MemoryRefused(
        f"{where}{runs} about {_gb(est.total)} of memory{detail}, "
        f"{_gb(avail)} is available; use {fewer}{_REMEDY[est.largest()]}"
    )
