"""The dashboard's state, kept apart from the page: scenarios, live runs and the controls.

Nothing here imports solara, so the logic is tested without a browser. The page
(:mod:`sim.app.page`) only draws what a :class:`Controller` holds and calls its methods.

A :class:`Run` is one live :class:`~sim.model.MarketModel` built from a scenario. Controls
changed in the dashboard are *staged* and committed at the start of the next period: a firm
lever through :meth:`~sim.agents.Firm.set_lever` (``source="dashboard"``), a mechanism
parameter by setting it on the model's parameters and logging a ``lever`` event with firm
``-1``. Either way the change takes effect from the next period and appears in the event log
at the period in which it was made, like any lever change. Staging means that a slider
dragged through many values logs one change, with the value it was left at.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import complaint_iceberg, referral_cascades
from ..checks import ParamError, check_lever, check_path
from ..model import MarketModel
from ..params import FirmParams, ModelParams
from ..scenario import Scenario, load_scenario

__all__ = [
    "Control",
    "controls",
    "FIRM_CONTROLS",
    "LIVE_PARAMS",
    "STRUCTURE",
    "Run",
    "Snapshot",
    "Controller",
    "scenario_dir",
    "list_scenarios",
    "resolve_scenario",
    "network_sample",
    "label_of",
    "plain_change",
    "try_text",
    "customer_story",
    "slider_decimals",
]

ENV_SCENARIO = "SIM_DASHBOARD_SCENARIO"
ENV_SCENARIO_DIR = "SIM_DASHBOARD_SCENARIOS"


# ---------------------------------------------------------------- controls
@dataclass(frozen=True)
class Control:
    """One input of the dashboard, built from a parameter's metadata (:func:`controls`).

    ``key`` is a firm lever (:data:`FIRM_CONTROLS`) or a dotted parameter path
    (``"wom.negative_reach"``). ``kind`` is ``float``, ``int``, ``bool`` or ``choice``.
    ``lo``/``hi`` are the slider's ends (the parameter's allowed range unless its ``control``
    metadata narrows it); ``help`` is the parameter's doc and ``unit`` its unit. ``none_label``
    names the ``None`` value of an optional lever (capacity: unlimited; promise: honest);
    ``scale`` multiplies ``lo``/``hi`` by a market quantity (``"price"``: the reference
    price, ``"customers"``: the number of customers); ``choices`` are the values a
    ``choice`` control offers; ``reset`` marks market structure, which applies at reset.
    """

    key: str
    label: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    kind: str = "float"
    help: str = ""
    none_label: str = ""
    scale: str = ""
    unit: str = ""
    choices: tuple[str, ...] = ()
    reset: bool = False

    @property
    def tooltip(self) -> str:
        """The help text shown on hover: the doc, its unit, and when structure applies."""
        text = self.help
        if self.unit and self.kind != "choice":
            text += f" ({self.unit})"
        return text + (" Applies at reset." if self.reset else "")


def _kind(f: dataclasses.Field) -> str:
    """A field's control kind from its annotation (``"float | None"`` → ``float``)."""
    base = str(f.type).split("|")[0].strip()
    return {"bool": "bool", "int": "int", "str": "choice"}.get(base, "float")


def _control(f: dataclasses.Field, key: str) -> Control:
    """The control of one field with ``control`` metadata: label, slider settings and choices
    from that metadata; range, unit and help from the field's own metadata."""
    meta = f.metadata
    ui = dict(meta["control"])
    kind = _kind(f)
    lo, hi = meta.get("range") or (None, None)
    ui.setdefault("lo", 0.0 if lo is None else lo)
    ui.setdefault("hi", 1.0 if hi is None else hi)
    ui.setdefault("step", 1 if kind == "int" else 0.01)
    ui["choices"] = tuple(ui.get("choices") or meta.get("choices") or ())
    return Control(key, kind=kind, help=meta["doc"], unit=meta.get("unit", ""), **ui)


def controls(cls: type = ModelParams, prefix: str = "") -> tuple[Control, ...]:
    """Every field of the parameter dataclass ``cls`` (and of its sections, before its own
    fields) with ``control`` metadata, in field order, as dashboard controls keyed by
    their dotted path.

    Args:
        cls: a parameter dataclass (:class:`~sim.params.ModelParams`, a section, …).
        prefix: the dotted path of ``cls`` inside the model's parameters.

    Returns:
        The controls: those of each section in order, then those of ``cls`` itself.

    Examples:
        >>> [c.key for c in controls(ModelParams) if c.reset]
        ['market.n_customers', 'network.kind', 'network.degree', 'seed']
    """
    own, nested = [], []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            nested.extend(controls(type(default), f"{prefix}{f.name}."))
        elif (f.metadata or {}).get("control"):
            own.append(_control(f, prefix + f.name))
    return (*nested, *own)


_ALL = controls(ModelParams)

#: firm levers shown for every firm (derived from the parameter metadata)
FIRM_CONTROLS: tuple[Control, ...] = controls(FirmParams)

#: mechanism parameters that can change while a run goes on (they are read every period):
#: sliders first, then switches, each in schedule order
LIVE_PARAMS: tuple[Control, ...] = tuple(
    sorted((c for c in _ALL if not c.reset), key=lambda c: c.kind == "bool")
)

#: market structure: applies when the run is reset
STRUCTURE: tuple[Control, ...] = tuple(c for c in _ALL if c.reset)
NETWORK_KINDS = next(c.choices for c in STRUCTURE if c.key == "network.kind")

_BY_KEY = {c.key: c for c in (*FIRM_CONTROLS, *LIVE_PARAMS, *STRUCTURE)}


def _get_path(params: ModelParams, path: str) -> Any:
    obj: Any = params
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _set_path(params: ModelParams, path: str, value: Any) -> None:
    *head, last = path.split(".")
    obj: Any = params
    for part in head:
        obj = getattr(obj, part)
    setattr(obj, last, value)


def _cast(control: Control, value: Any) -> Any:
    if value is None:
        if not control.none_label:
            raise ValueError(f"{control.key}: a value is required")
        return None
    if control.kind == "bool":
        return bool(value)
    if control.kind == "int":
        return int(round(float(value)))
    if control.kind == "choice":
        return str(value)
    return float(value)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) < 1e-12
    return a == b


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


#: source of a lever change (the event detail's last parenthesis) in plain words
_SOURCES = {"dashboard": "your change", "timeline": "the scenario's timeline"}


def label_of(key: str) -> str:
    """The dashboard label of a lever or parameter (``resolve_share`` → "Complaints
    resolved"); keys without a control keep their name, with spaces for underscores."""
    c = _BY_KEY.get(key)
    if c is not None:
        return c.label
    return key.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _plain_value(key: str, text: str) -> str:
    c = _BY_KEY.get(key)
    if text in ("none", "None") and c is not None and c.none_label:
        return c.none_label
    if text in ("True", "true", "on"):
        return "on"
    if text in ("False", "false", "off"):
        return "off"
    try:
        v = float(text)
    except ValueError:
        return text
    if c is not None and (c.kind == "int" or c.step >= 1 or c.scale == "customers"):
        return f"{v:,.0f}"
    return f"{v:.{slider_decimals(c.step if c else 0.01)}f}"


def slider_decimals(step: float) -> int:
    """Decimals that show every value of a slider with this step (0.005 → 3)."""
    d = 0
    while d < 6 and abs(round(step, d) - step) > 1e-12:
        d += 1
    return max(d, 2) if step < 1 else 0


def plain_change(detail: str) -> str:
    """A lever event's detail in the dashboard's words:
    ``"resolve_share: 0.3 -> 0.8 (dashboard)"`` → ``"Complaints resolved: 0.30 → 0.80 (your change)"``."""
    head, sep, rest = str(detail).partition(": ")
    if not sep or " -> " not in rest:
        return str(detail)
    source = ""
    if rest.endswith(")") and " (" in rest:
        rest, _, source = rest[:-1].rpartition(" (")
    old, _, new = rest.partition(" -> ")
    if source.startswith("policy"):
        source = "the firm's policy" + source[len("policy") :].replace(" ", ": ", 1)
    src = _SOURCES.get(source, source)
    out = f"{label_of(head)}: {_plain_value(head, old)} → {_plain_value(head, new)}"
    return f"{out} ({src})" if src else out


def try_text(name: str, fallback: str = "") -> str:
    """What to try in the dashboard for a scenario (sim/app/try.toml: slider instructions);
    the scenario's own ``try`` text when the file has none for it."""
    return _try_texts().get(name, fallback)


_TRY: dict[str, str] = {}


def _try_texts() -> dict[str, str]:
    if not _TRY:
        import tomllib

        with open(Path(__file__).with_name("try.toml"), "rb") as fh:
            _TRY.update({k: " ".join(str(v).split()) for k, v in tomllib.load(fh).items()})
    return _TRY


def customer_story(model: MarketModel, cid: int) -> str:
    """The story of one customer of a live model, as ``sim explain`` tells it for a run folder."""
    from ..cli import explain_customer

    run = {
        "customers": model.customer_frame(),
        "events": model.events(),
        "panel": model.panel_frame(),
        "manifest": {"firms": [f.name for f in model.firms]},
    }
    return (
        explain_customer(run, int(cid))
        .replace("Period ", "Month ")
        .replace("(every period", "(every month")
    )


# ---------------------------------------------------------------- scenarios
def scenario_dir() -> Path:
    """The scenario library: $SIM_DASHBOARD_SCENARIOS, else the repository's scenarios/."""
    env = os.environ.get(ENV_SCENARIO_DIR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "scenarios"


def list_scenarios(folder: Path | None = None) -> dict[str, Path]:
    """Scenario name → file, for every ``*.toml`` in the library (sorted by name)."""
    folder = scenario_dir() if folder is None else Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def resolve_scenario(arg: str | None, folder: Path | None = None) -> Path:
    """A scenario argument (a file, or a name in the library) → its file.

    Raises FileNotFoundError with a one-line message when there is no such scenario."""
    lib = list_scenarios(folder)
    if not arg:
        if "baseline" in lib:
            return lib["baseline"]
        if lib:
            return next(iter(lib.values()))
        return Path("")  # no library: the documented defaults
    p = Path(arg)
    if p.is_file():
        return p.resolve()
    name = p.stem if p.suffix == ".toml" else arg
    if name in lib:
        return lib[name]
    known = ", ".join(lib) or "none found"
    raise FileNotFoundError(f"scenario {arg!r} not found (a .toml file, or one of: {known})")


def load(path: Path | str) -> Scenario:
    """Load a scenario file; an empty path gives the documented defaults."""
    if not str(path):
        return Scenario(
            name="defaults",
            params=ModelParams(),
            title="Documented defaults",
            description="A symmetric duopoly with every parameter at its default.",
        )
    return load_scenario(path)


# ---------------------------------------------------------------- network view
_LAYOUTS: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_LAYOUT_LOCK = threading.Lock()


def _neighbourhoods(net: Any, size: int, rng: np.random.Generator, ball: int = 50) -> np.ndarray:
    """About ``size`` customers (sorted ids) as breadth-first balls of about ``ball``
    customers around random customers, following at most 4 random ties per customer."""
    n = net.n
    chosen: set[int] = set()
    while len(chosen) < size:
        start = int(rng.integers(n))
        if start in chosen:
            continue
        frontier, got = [start], {start}
        while frontier and len(got) < ball:
            nxt = []
            for u in frontier:
                for v in rng.permutation(net.neighbors(u))[:4]:
                    v = int(v)
                    if v not in got and v not in chosen and len(got) < ball:
                        got.add(v)
                        nxt.append(v)
            frontier = nxt
        chosen |= got
    return np.array(sorted(chosen)[:size])


def network_sample(
    model: MarketModel, size: int = 400, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes to draw, their 2-D positions and the edges among them.

    Markets of at most ``size`` customers are drawn whole. Larger ones are sampled as a few
    local neighbourhoods (breadth-first balls of about 50 customers around random
    customers), so that ties, clusters and cascades stay visible. The spring layout is
    computed once per network and cached (the network does not change during a run, and a
    reset with the same seed rebuilds the same network).

    Returns ``(nodes, pos, edges)``: node ids (sorted), an array of shape (len(nodes), 2),
    and edges as pairs of *positions in nodes*.
    """
    net = model.network
    np_ = model.params.network
    key = (
        net.n,
        int(net.indices.size),
        np_.kind,
        int(np_.degree),
        float(np_.rewire),
        np_.path,
        int(model.params.seed),
        size,
        seed,
    )
    with _LAYOUT_LOCK:
        hit = _LAYOUTS.get(key)
    if hit is not None:
        return hit
    import networkx as nx

    n = net.n
    rng = np.random.default_rng(seed)
    nodes = np.arange(n) if n <= size else _neighbourhoods(net, size, rng)
    index = -np.ones(n, np.int64)
    index[nodes] = np.arange(nodes.size)
    src_all = np.repeat(np.arange(n), net.degree)
    inside = index[src_all] >= 0
    src, dst = src_all[inside], net.indices[inside].astype(np.int64)
    keep = (index[dst] >= 0) & (src < dst)
    edges = np.stack([index[src[keep]], index[dst[keep]]], axis=1)
    g = nx.Graph()
    g.add_nodes_from(range(nodes.size))
    g.add_edges_from(map(tuple, edges.tolist()))
    pos_d = nx.spring_layout(g, seed=seed, iterations=60, k=1.6 / np.sqrt(max(nodes.size, 1)))
    pos = np.array([pos_d[i] for i in range(nodes.size)], dtype=float)
    out = (nodes, pos, edges)
    with _LAYOUT_LOCK:
        if len(_LAYOUTS) > 16:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
        _LAYOUTS[key] = out
    return out


# ---------------------------------------------------------------- one live run
class Run:
    """A scenario's live model, the staged dashboard changes and the caches of its views."""

    def __init__(
        self,
        scenario: Scenario,
        path: Path | str = "",
        *,
        structure: dict[str, Any] | None = None,
        live: dict[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.path = Path(path) if str(path) else Path("")
        self.structure: dict[str, Any] = dict(structure or {})
        self.live: dict[str, Any] = dict(live or {})
        self.pending_levers: dict[tuple[int, str], Any] = {}
        self.pending_params: dict[str, Any] = {}
        self.lock = threading.RLock()
        self.generation = 0
        self.reset()

    # --- construction
    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def title(self) -> str:
        return self.scenario.title or self.scenario.name

    @property
    def horizon(self) -> int:
        return int(self.model.params.market.periods)

    def base_params(self) -> ModelParams:
        """The scenario's parameters with the dashboard's structure and live settings."""
        p = copy.deepcopy(self.scenario.params)
        for key, value in {**self.structure, **self.live}.items():
            _set_path(p, key, value)
        return p

    def reset(self) -> None:
        """Restart from period 0: the scenario's firms and timeline, the dashboard's market
        settings (structure and mechanism parameters, staged ones included). Staged firm
        lever changes are dropped."""
        with self.lock:
            self.live.update(self.pending_params)  # mechanism settings are settings: keep them
            self.model = MarketModel(self.base_params())
            self.pending_levers.clear()
            self.pending_params.clear()
            self.generation += 1
            self._cache: dict[str, Any] = {}

    # --- reading
    def value(self, key: str, firm: int | None = None) -> Any:
        """Current value of a control, staged changes included."""
        if firm is not None:
            if (firm, key) in self.pending_levers:
                return self.pending_levers[(firm, key)]
            return getattr(self.model.firms[firm].levers, key)
        if key in self.pending_params:
            return self.pending_params[key]
        if key in self.structure:
            return self.structure[key]
        return _get_path(self.model.params, key)

    def bounds(self, control: Control) -> tuple[float, float, float]:
        """(min, max, step) of a control's slider in this market."""
        if control.scale == "price":
            r = float(self.model.params.market.reference_price)
            return control.lo * r, control.hi * r, control.step * r
        if control.scale == "customers":
            n = float(self.model.params.market.n_customers)
            step = max(1.0, round(control.step * n))
            return 0.0, max(step, round(control.hi * n)), step
        return control.lo, control.hi, control.step

    def firm_names(self) -> list[str]:
        return [f.name for f in self.model.firms]

    # --- changing
    def set_lever(self, firm: int | str, lever: str, value: Any) -> None:
        """Stage a firm lever change; committed (``Firm.set_lever``, logged) at the next step."""
        control = _BY_KEY.get(lever)
        if control is None or control not in FIRM_CONTROLS:
            raise ValueError(f"lever {lever!r} is not a dashboard control")
        with self.lock:
            j = self.model.firm_by_name(firm).index if isinstance(firm, str) else int(firm)
            value = _cast(control, value)
            check_lever(self.model.firms[j].name, lever, value, "dashboard")
            if _same(value, getattr(self.model.firms[j].levers, lever)):
                self.pending_levers.pop((j, lever), None)
            else:
                self.pending_levers[(j, lever)] = value

    def set_param(self, key: str, value: Any) -> None:
        """Stage a mechanism parameter (committed at the next step) or set a structural one
        (applies at the next reset)."""
        control = _BY_KEY.get(key)
        if control is None or control in FIRM_CONTROLS:
            raise ValueError(f"parameter {key!r} is not a dashboard control")
        with self.lock:
            value = _cast(control, value)
            check_path(self.model.params, key, value, "dashboard")
            if control in STRUCTURE:
                if control.choices and value not in control.choices:
                    raise ParamError(
                        "dashboard", key, value, "allowed: " + ", ".join(control.choices)
                    )
                self.structure[key] = value
                return
            if _same(value, _get_path(self.model.params, key)):
                self.pending_params.pop(key, None)
            else:
                self.pending_params[key] = value

    def structure_pending(self) -> dict[str, Any]:
        """Structural settings that differ from the running model (apply at reset)."""
        out = {}
        for key, value in self.structure.items():
            if not _same(value, _get_path(self.model.params, key)):
                out[key] = value
        return out

    def _commit(self) -> None:
        m = self.model
        for (j, lever), value in sorted(self.pending_levers.items()):
            m.firms[j].set_lever(lever, value, source="dashboard")
        for key, value in self.pending_params.items():
            old = _get_path(m.params, key)
            _set_path(m.params, key, value)
            self.live[key] = value
            if m.params.record_events:
                num = (
                    float(value)
                    if isinstance(value, (int, float)) and not isinstance(value, bool)
                    else np.nan
                )
                m.recorder.add_events(
                    m.period,
                    "lever",
                    [-1],
                    -1,
                    value=num,
                    detail=f"{key}: {_show(old)} -> {_show(value)} (dashboard)",
                )
        self.pending_levers.clear()
        self.pending_params.clear()

    def step(self, periods: int = 1) -> int:
        """Commit staged changes, then advance ``periods`` periods. Returns the period."""
        with self.lock:
            for _ in range(int(periods)):
                self._commit()
                self.model.step()
            return self.model.period

    # --- views
    def snapshot(self) -> Snapshot:
        """A consistent view of the run as it stands (cached until the next step or reset).

        Taken under the run's lock, so a page drawing while the play thread steps never
        sees half a period."""
        with self.lock:
            key = (id(self), self.generation, int(self.model.period))
            snap = self._cache.get("snapshot")
            if snap is None or snap.key != key:
                snap = self._cache["snapshot"] = Snapshot.take(self, key)
            return snap

    def firms(self) -> pd.DataFrame:
        return self.snapshot().firms

    def kpis(self) -> pd.DataFrame:
        return self.snapshot().kpis()

    def lever_log(self, limit: int = 12) -> pd.DataFrame:
        return self.snapshot().lever_log(limit)

    def latest_cascade(self) -> dict | None:
        return self.snapshot().cascade

    def pending(self) -> list[str]:
        """Staged changes as readable lines."""
        with self.lock:
            names = self.firm_names()
            lines = [
                f"{names[j]} · "
                + plain_change(
                    f"{lever}: {_show(getattr(self.model.firms[j].levers, lever))} -> {_show(v)}"
                )
                for (j, lever), v in sorted(self.pending_levers.items())
            ]
            lines += [
                plain_change(f"{k}: {_show(_get_path(self.model.params, k))} -> {_show(v)}")
                for k, v in self.pending_params.items()
            ]
            return lines


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A run at the end of a period: its tables and the state the network view colours by."""

    key: tuple
    period: int
    horizon: int
    n_customers: int
    firm_names: tuple[str, ...]
    firms: pd.DataFrame
    market: pd.DataFrame
    levers: pd.DataFrame
    cascade: dict | None
    firm_of: np.ndarray
    satisfaction: np.ndarray
    events: pd.DataFrame

    @classmethod
    def take(cls, run: Run, key: tuple) -> Snapshot:
        m = run.model
        ev = m.events()
        lv = ev[ev["event"] == "lever"]
        detail = lv["detail"].astype(str).to_numpy()
        made = lv["period"].to_numpy().astype(int)
        # dashboard (and API) changes are made between periods and act from the next one;
        # timeline events and policies act in the period in which they are applied
        inside = np.array([d.endswith("(timeline)") or "(policy " in d for d in detail], dtype=bool)
        levers = (
            pd.DataFrame(
                {
                    "period": made,
                    "effective": np.where(inside, made, made + 1),
                    "firm": np.where(lv["firm"].to_numpy() == "", "market", lv["firm"].to_numpy()),
                    "change": [plain_change(d) for d in detail],
                    "detail": detail,
                }
            )
            .iloc[::-1]
            .reset_index(drop=True)
        )
        return cls(
            key=key,
            period=int(m.period),
            horizon=int(m.params.market.periods),
            n_customers=int(m.pop.n),
            firm_names=tuple(f.name for f in m.firms),
            firms=m.firm_frame(),
            market=m.market_frame(),
            levers=levers,
            cascade=_latest_cascade(ev),
            firm_of=m.pop.firm.copy(),
            satisfaction=m.pop.satisfaction.copy(),
            events=ev,
        )

    def kpis(self) -> pd.DataFrame:
        """The latest period's outcomes, one row per firm."""
        f = self.firms
        last = f[f["period"] == f["period"].max()]
        cols = [
            "firm",
            "active",
            "customers",
            "share",
            "mean_satisfaction",
            "churn_rate",
            "complaints",
            "wom_pos",
            "wom_neg",
            "referrals",
            "profit",
            "price",
        ]
        return last[cols].reset_index(drop=True)

    def lever_log(self, limit: int = 12) -> pd.DataFrame:
        """Lever changes (dashboard, timeline, policies), newest first: ``period`` (made),
        ``effective`` (first period it acts in), ``firm`` ("market" for mechanism
        parameters), ``change``."""
        return self.levers.head(limit).reset_index(drop=True)

    def iceberg(self, months: int = 12, horizon: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The complaint iceberg: per firm, problems, complaints and silent problems of the
        last ``months`` months (from the firm table); and, over the whole market, the share of
        problems of each outcome whose customer was still with the firm ``horizon`` months
        later (:func:`sim.analysis.complaint_iceberg`, problems of the last two years)."""
        f = self.firms
        recent = f[(f["period"] > max(0, self.period - months)) & (f["period"] > 0)]
        per_firm = (
            recent.groupby(["firm_index", "firm"], sort=True)[["problems", "complaints"]]
            .sum()
            .reset_index()
        )
        per_firm["silent"] = (per_firm["problems"] - per_firm["complaints"]).clip(lower=0)
        ev = self.events
        window = ev[ev["period"] > self.period - 2 * months - horizon]
        kept = complaint_iceberg(window, period=self.period, horizon=horizon)
        return per_firm, kept

    def lever_periods(self) -> list[int]:
        """Periods from which a lever change acts (marked on the plots)."""
        return sorted(set(self.levers["effective"].astype(int).tolist()))


def _latest_cascade(events: pd.DataFrame) -> dict | None:
    """The referral cascade with the most recent referral (the largest, on ties).

    Returns ``firm`` (name), ``firm_index``, ``root``, ``edges`` (referrer, referred) pairs
    in order, ``size`` (customers referred), ``depth``, ``start``, ``end``; or None before
    the first referral."""
    c = referral_cascades(events)
    if c.empty:
        return None
    stats = (
        c.groupby(["firm_index", "root"])
        .agg(
            end=("period", "max"),
            start=("period", "min"),
            size=("referred", "size"),
            depth=("depth", "max"),
        )
        .reset_index()
    )
    best = stats.sort_values(["end", "size", "depth", "root"], ascending=False).iloc[0]
    rows = c[(c["firm_index"] == best["firm_index"]) & (c["root"] == best["root"])]
    return {
        "firm": str(rows["firm"].iloc[0]),
        "firm_index": int(best["firm_index"]),
        "root": int(best["root"]),
        "edges": list(
            zip(
                rows["referrer"].astype(int).tolist(),
                rows["referred"].astype(int).tolist(),
                strict=True,
            )
        ),
        "size": int(best["size"]),
        "depth": int(best["depth"]),
        "start": int(best["start"]),
        "end": int(best["end"]),
    }


# ---------------------------------------------------------------- the dashboard session
class Controller:
    """Everything one browser session holds: the explore run, the two compare runs, the
    mode and whether it is playing. The page calls these methods and redraws when
    ``version`` changes (``on_change`` is called after every change)."""

    MODES = ("Explore", "Compare")

    def __init__(
        self,
        scenario: str | Path | None = None,
        *,
        folder: Path | None = None,
        compare_with: str | None = None,
    ) -> None:
        self.folder = scenario_dir() if folder is None else Path(folder)
        self.library = list_scenarios(self.folder)
        first = resolve_scenario(str(scenario) if scenario else None, self.folder)
        if str(first) and first.stem not in self.library:
            self.library = {first.stem: first, **self.library}
        elif str(first) and self.library.get(first.stem) != first:
            self.library[first.stem] = first
        if not self.library:
            self.library = {"defaults": Path("")}
        self.titles = {name: (load(p).title or name) for name, p in self.library.items()}
        self.run = Run(load(first), first)
        names = list(self.library)
        other = compare_with or next((n for n in names if n != self.run.name), self.run.name)
        if other not in self.library:
            raise ValueError(f"scenario {other!r} unknown; known: {', '.join(names)}")
        self.left = Run(load(first), first)
        self.right = Run(load(self.library[other]), self.library[other])
        self.mode = "Explore"
        self.playing = False
        self.speed = 1
        self.version = 0
        self.drawn = 0
        self._drawn = threading.Condition()
        self.on_change: Callable[[], None] | None = None
        self.lock = threading.RLock()

    # --- notification
    def changed(self) -> None:
        with self._drawn:
            self.version += 1
        if self.on_change is not None:
            self.on_change()

    def mark_drawn(self, version: int) -> None:
        """The page calls this once it has drawn ``version``."""
        with self._drawn:
            self.drawn = max(self.drawn, int(version))
            self._drawn.notify_all()

    def wait_drawn(self, cancel: threading.Event | None = None, timeout: float = 10.0) -> bool:
        """Wait until the page has drawn the latest version (play never outruns drawing)."""
        end = time.monotonic() + timeout
        with self._drawn:
            while self.drawn < self.version:
                left = end - time.monotonic()
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    return False
                self._drawn.wait(min(left, 0.05))
        return True

    # --- scenarios
    def scenario_names(self) -> list[str]:
        return list(self.library)

    def label(self, name: str) -> str:
        return f"{self.titles.get(name, name)} ({name})"

    def pick(self, name: str, side: str = "explore") -> None:
        """Load a scenario from the library into the explore run or one compare side. The
        explore run keeps the dashboard's market and mechanism settings."""
        if name not in self.library:
            raise ValueError(f"scenario {name!r} unknown; known: {', '.join(self.library)}")
        with self.lock:
            self.playing = False
            path = self.library[name]
            if side == "explore":
                self.run = Run(
                    load(path),
                    path,
                    structure=self.run.structure,
                    live={**self.run.live, **self.run.pending_params},
                )
            elif side == "left":
                self.left = Run(load(path), path)
            elif side == "right":
                self.right = Run(load(path), path)
            else:
                raise ValueError(f"side {side!r}; allowed: explore, left, right")
        self.changed()

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode {mode!r}; allowed: {', '.join(self.MODES)}")
        self.playing = False
        self.mode = mode
        self.changed()

    # --- running
    def runs(self) -> list[Run]:
        return [self.run] if self.mode == "Explore" else [self.left, self.right]

    def step(self, periods: int = 1) -> None:
        with self.lock:
            for r in self.runs():
                r.step(periods)
        self.changed()

    def reset(self) -> None:
        with self.lock:
            self.playing = False
            for r in self.runs():
                r.reset()
        self.changed()

    def set_lever(self, firm: int | str, lever: str, value: Any) -> None:
        self.run.set_lever(firm, lever, value)
        self.changed()

    def set_param(self, key: str, value: Any) -> None:
        self.run.set_param(key, value)
        self.changed()

    def advance(self, start_period: int) -> bool:
        """One tick of play: step ``speed`` periods. Returns False (and stops playing) at
        the end: the scenario's last period if play started before it, otherwise one more
        scenario length (so a forgotten tab never runs for ever)."""
        runs = self.runs()
        horizon = max(r.horizon for r in runs)
        period = max(r.model.period for r in runs)
        stop = horizon if start_period < horizon else start_period + horizon
        if period >= stop:
            self.playing = False
            self.changed()
            return False
        n = max(1, min(self.speed, stop - period))
        self.step(n)
        return True
