"""Scenario files: TOML → validated :class:`~sim.params.ModelParams`.

The schema is the parameter dataclasses of :mod:`sim.params` (docs/scenarios.md lists
every key). Validation is strict: an unknown key, a wrong type, a value out of range, a
missing file, malformed TOML, an unknown policy or network, or an event outside the run
raises :class:`ScenarioError`, whose message names the file, the key path, the value and
what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import params as P
from .agents import LEVERS
from .strategies import REGISTRY as POLICIES

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "apply_override",
    "EVENT_KINDS",
    "scenario_to_dict",
]

#: mechanism and market sections: TOML table name → dataclass
SECTIONS: dict[str, type] = {
    "market": P.MarketParams,
    "network": P.NetworkParams,
    "choice": P.ChoiceParams,
    "capacity": P.CapacityParams,
    "experience": P.ExperienceParams,
    "satisfaction": P.SatisfactionParams,
    "expectations": P.ExpectationParams,
    "complaints": P.ComplaintParams,
    "wom": P.WomParams,
    "referrals": P.ReferralParams,
    "acquisition": P.AcquisitionParams,
    "churn": P.ChurnParams,
    "loyalty": P.LoyaltyParams,
}

SCENARIO_KEYS = {
    "name": str,
    "title": str,
    "description": str,
    "notice": str,
    "try": str,
    "seed": int,
    "replications": int,
}


class ScenarioError(ValueError):
    """A scenario (or override) is invalid. ``str(err)`` is the one-line message."""

    def __init__(self, source: str, key: str, value: Any, allowed: str) -> None:
        self.source, self.key, self.value, self.allowed = source, key, value, allowed
        shown = shorten(repr(value), 80)
        where = f"{shorten(str(source), 160)}: " if source else ""
        key = shorten(str(key), 160)
        super().__init__(f"{where}{key} = {shown}: {allowed}" if key else f"{where}{allowed}")


@dataclass
class Scenario:
    """A loaded scenario: metadata, the model parameters and where it came from."""

    name: str
    params: P.ModelParams
    title: str = ""
    description: str = ""
    notice: str = ""
    try_: str = ""
    replications: int = 1
    source: str = ""
    raw: dict = field(default_factory=dict)
    game: P.GameParams | None = None

    @property
    def seed(self) -> int:
        return int(self.params.seed)

    def replication_seeds(self) -> list[int]:
        """Seeds of the replications: the root seed, then seeds spawned from it."""
        if self.replications <= 1:
            return [self.seed]
        kids = np.random.SeedSequence(self.seed).spawn(self.replications - 1)
        return [self.seed] + [int(k.generate_state(1, np.uint32)[0]) for k in kids]

    def digest(self) -> str:
        """SHA-256 of the resolved scenario (stable across key order)."""
        blob = json.dumps(scenario_to_dict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its head and tail around '…'.

    Examples:
        >>> shorten("a" * 10, 5)
        'aa…aa'
    """
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2 + (limit - 1) % 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


# ---------------------------------------------------------------- type checking
def _type_of(cls: type, name: str) -> str:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return str(f.type)
    raise KeyError(name)


def _check_value(src: str, path: str, value: Any, cls: type, name: str) -> Any:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    typ = str(f.type).replace(" ", "")
    meta = f.metadata or {}
    optional = "None" in typ
    base = typ.replace("|None", "")
    if optional and isinstance(value, str) and value.lower() in ("none", "unlimited", "honest"):
        return None
    if base == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(src, path, value, "must be true or false")
    elif base == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(src, path, value, "must be an integer" + _range_text(meta))
    elif base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            extra = ' or "none"' if optional else ""
            raise ScenarioError(src, path, value, "must be a number" + extra + _range_text(meta))
        try:
            value = float(value)
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value):
            raise ScenarioError(src, path, value, "must be a finite number" + _range_text(meta))
    elif base == "str":
        if not isinstance(value, str):
            raise ScenarioError(src, path, value, "must be a string")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ScenarioError(src, path, value, "allowed: " + ", ".join(choices))
    lo, hi = meta.get("range", (None, None))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ScenarioError(src, path, value, f"must lie in [{lo}, {hi}]")
    return value


def _range_text(meta: dict) -> str:
    lo, hi = meta.get("range", (None, None))
    return f" in [{lo}, {hi}]" if lo is not None or hi is not None else ""


def _fill(src: str, prefix: str, table: Any, obj: Any, skip: tuple[str, ...] = ()) -> None:
    cls = type(obj)
    if not isinstance(table, dict):
        raise ScenarioError(src, prefix, table, "must be a table")
    names = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in names:
            raise ScenarioError(src, path, value, "unknown key; allowed: " + ", ".join(names))
        setattr(obj, key, _check_value(src, path, value, cls, key))


# ---------------------------------------------------------------- parsing
def parse_scenario(data: dict, source: str = "", base_dir: Path | None = None) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML) and build the parameters.

    Args:
        data: the parsed scenario (TOML tables as dicts).
        source: where it came from (shown in error messages).
        base_dir: folder that relative paths (an edge-list file) are read from.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: one line naming the source, the key path, the value and what is
            allowed, for any invalid input.

    Examples:
        >>> parse_scenario({"market": {"n_customers": 500}}).params.market.n_customers
        500
    """
    src = source
    if not isinstance(data, dict):
        raise ScenarioError(src, "", None, "a scenario must be a table of sections")
    check_depth(src, data)
    _check_sections(src, data)
    meta, name, seed, reps = _parse_meta(src, data, source)
    p = P.ModelParams(seed=seed)
    for section in SECTIONS:
        if section in data:
            _parse_section(src, section, data[section], p)
    _check_network(src, p, base_dir)
    _parse_firms(src, data.get("firms"), p)
    events = data.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ScenarioError(src, "events", events, "must be an array of tables ([[events]])")
    p.events = _compile_events(src, events, p)
    _parse_output(src, data.get("output", {}), p)
    if "stages" in data:  # user stages (sim.stages.register)
        from .stages import parse_stage_sections

        p.stages = parse_stage_sections(src, data["stages"])
    game = _parse_game(src, data["game"]) if "game" in data else None
    return Scenario(
        name=name,
        params=p,
        title=meta.get("title", ""),
        description=meta.get("description", ""),
        notice=meta.get("notice", ""),
        try_=meta.get("try", ""),
        replications=reps,
        source=source,
        raw=copy.deepcopy(data),
        game=game,
    )


#: longest scenario name (it becomes a folder name; file systems allow 255 bytes)
MAX_NAME = 100
#: deepest nesting of tables and arrays a scenario may have (the schema needs 4)
MAX_DEPTH = 32


def check_depth(src: str, data: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse tables and arrays nested deeper than ``limit`` (iteratively: no recursion).

    Raises:
        ScenarioError: the nesting is deeper than ``limit``.
    """
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise ScenarioError(
                src, "", None, f"tables and arrays nested deeper than {limit} levels"
            )
        items = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in items if isinstance(v, (dict, list)))


def _check_sections(src: str, data: dict) -> None:
    allowed_top = ["scenario", *SECTIONS, "firms", "events", "output", "stages", "game"]
    for key in data:
        if key not in allowed_top:
            raise ScenarioError(
                src, key, data[key], "unknown section; allowed: " + ", ".join(allowed_top)
            )


def _parse_meta(src: str, data: dict, source: str) -> tuple[dict, str, int, int]:
    """The ``[scenario]`` table: (table, name, seed, replications)."""
    meta = data.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError(src, "scenario", meta, "must be a table")
    for key, value in meta.items():
        if key not in SCENARIO_KEYS:
            raise ScenarioError(
                src, f"scenario.{key}", value, "unknown key; allowed: " + ", ".join(SCENARIO_KEYS)
            )
        want = SCENARIO_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, want):
            raise ScenarioError(
                src,
                f"scenario.{key}",
                value,
                f"must be {'an integer' if want is int else 'a string'}",
            )
    name = meta.get("name") or (Path(source).stem if source else "scenario")
    if not name.isascii() or not name.replace("-", "").replace("_", "").isalnum():
        raise ScenarioError(src, "scenario.name", name, "ASCII letters, digits, '-' and '_' only")
    if len(name) > MAX_NAME:
        raise ScenarioError(
            src, "scenario.name", name, f"at most {MAX_NAME} characters (it names a folder)"
        )
    seed = _check_value(src, "scenario.seed", meta.get("seed", 0), P.ModelParams, "seed")
    reps = meta.get("replications", 1)
    if not 1 <= reps <= 10_000:
        raise ScenarioError(src, "scenario.replications", reps, "must lie in [1, 10000]")
    return meta, name, seed, reps


def _parse_section(src: str, section: str, table: Any, p: P.ModelParams) -> None:
    obj = getattr(p, section)
    if section == "market" and isinstance(table, dict) and "segments" in table:
        p.market.segments = _parse_segments(src, table["segments"])
        table = {k: v for k, v in table.items() if k != "segments"}
    _fill(src, section, table, obj, skip=("segments",) if section == "market" else ())


def _parse_segments(src: str, segs: Any) -> list[P.SegmentParams]:
    if not isinstance(segs, list) or not segs or not all(isinstance(s, dict) for s in segs):
        raise ScenarioError(
            src,
            "market.segments",
            segs,
            "must be a non-empty array of tables ([[market.segments]])",
        )
    built = []
    for i, s in enumerate(segs):
        seg = P.SegmentParams(name=f"segment{i}")
        _fill(src, f"market.segments[{i}]", s, seg)
        built.append(seg)
    if sum(s.share for s in built) <= 0:
        raise ScenarioError(
            src, "market.segments", [s.share for s in built], "shares must add up to more than 0"
        )
    return built


#: largest edge-list file read (bytes)
MAX_EDGELIST_BYTES = 2 * 1024**3


def _check_network(src: str, p: P.ModelParams, base_dir: Path | None) -> None:
    """The edge-list file (relative to the scenario file). The complete network has
    implicit ties (memory linear in customers), so it needs no cap."""
    if p.network.kind == "edgelist":
        _check_edgelist(src, p, base_dir)


def _check_edgelist(src: str, p: P.ModelParams, base_dir: Path | None) -> None:
    key = "network.path"
    if not p.network.path:
        raise ScenarioError(
            src, key, "", "an edge-list file is required when network.kind = 'edgelist'"
        )
    path = Path(p.network.path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    regular_file_size(path, MAX_EDGELIST_BYTES, src, key, p.network.path, "edge-list file")
    from .network import read_edgelist

    try:
        read_edgelist(path, int(p.market.n_customers))
    except (ValueError, OSError, OverflowError) as exc:
        msg = str(exc).split(": ", 1)[-1]
        raise ScenarioError(src, key, p.network.path, msg) from None
    p.network.path = str(path)


def _parse_firms(src: str, firms: Any, p: P.ModelParams) -> None:
    if firms is not None:
        p.firms = _build_firms(src, firms)
    for i, fp in enumerate(p.firms):
        if fp.enter_at > p.market.periods:
            raise ScenarioError(
                src,
                f"firms[{i}].enter_at",
                fp.enter_at,
                f"must be at most market.periods = {p.market.periods}",
            )
    if all(fp.enter_at > 0 for fp in p.firms):
        raise ScenarioError(
            src,
            "firms",
            [fp.name for fp in p.firms],
            "at least one firm must be in the market at period 0 (enter_at = 0)",
        )


def _build_firms(src: str, firms: Any) -> list[P.FirmParams]:
    """The ``[[firms]]`` tables as checked :class:`~sim.params.FirmParams`."""
    if not isinstance(firms, list) or not firms or not all(isinstance(f, dict) for f in firms):
        raise ScenarioError(src, "firms", firms, "must be a non-empty array of tables ([[firms]])")
    built = []
    for i, ft in enumerate(firms):
        fp = P.FirmParams(
            name=ft.get("name", f"F{i + 1}") if isinstance(ft.get("name", ""), str) else ""
        )
        ft = dict(ft)
        policy = ft.pop("policy", "fixed")
        _fill(src, f"firms[{i}]", ft, fp)
        fp.policy = _check_policy(src, f"firms[{i}].policy", policy)
        built.append(fp)
    names = [f.name for f in built]
    for i, nm in enumerate(names):
        if not nm:
            raise ScenarioError(src, f"firms[{i}].name", nm, "must be a non-empty string")
        if len(nm) > MAX_NAME:
            raise ScenarioError(src, f"firms[{i}].name", nm, f"at most {MAX_NAME} characters")
        if names.index(nm) != i:
            raise ScenarioError(src, f"firms[{i}].name", nm, "firm names must be unique")
    return built


def _parse_output(src: str, out: Any, p: P.ModelParams) -> None:
    if not isinstance(out, dict):
        raise ScenarioError(src, "output", out, "must be a table")
    for key, value in out.items():
        if key not in P.OUTPUT_KEYS:
            raise ScenarioError(
                src, f"output.{key}", value, f"unknown key; allowed: {', '.join(P.OUTPUT_KEYS)}"
            )
        setattr(p, key, _check_value(src, f"output.{key}", value, P.ModelParams, key))


def _parse_game(src: str, table: Any) -> P.GameParams:
    """The ``[game]`` section (sim game): scalars by their metadata; ``levers`` and
    ``max_change`` map a game lever to bounds [lo, hi] within the lever's range, or to a
    largest change per round."""
    g = P.GameParams()
    if not isinstance(table, dict):
        raise ScenarioError(src, "game", table, "must be a table")
    tables = {k: table[k] for k in ("levers", "max_change") if k in table}
    _fill(src, "game", {k: v for k, v in table.items() if k not in tables}, g)
    numeric = [lev for lev in P.GAME_LEVERS if lev != "loyalty"]
    for key, value in tables.items():
        if not isinstance(value, dict):
            raise ScenarioError(src, f"game.{key}", value, "must be a table {lever = ...}")
        out = dict(g.levers) if key == "levers" else {}
        for lever, v in value.items():
            path = f"game.{key}.{lever}"
            if lever not in numeric:
                raise ScenarioError(src, path, v, "unknown lever; allowed: " + ", ".join(numeric))
            if key == "max_change":
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                    raise ScenarioError(src, path, v, "must be a number ≥ 0")
                out[lever] = float(v)
                continue
            if (
                not isinstance(v, list)
                or len(v) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            ):
                raise ScenarioError(src, path, v, "must be two numbers [lo, hi]")
            lo, hi = (float(x) for x in v)
            for x in (lo, hi):
                _check_value(src, path, x, P.FirmParams, lever)
            if lo > hi:
                raise ScenarioError(src, path, v, "lo must not exceed hi")
            out[lever] = [lo, hi]
        setattr(g, key, out)
    return g


def _check_policy(src: str, path: str, policy: Any) -> Any:
    if isinstance(policy, str):
        name = policy
    elif isinstance(policy, dict):
        name = policy.get("name")
    else:
        raise ScenarioError(src, path, policy, 'must be a name or a table {name = "...", ...}')
    if not isinstance(name, str) or name not in POLICIES:
        raise ScenarioError(
            src, path, name, "unknown policy; allowed: " + ", ".join(sorted(POLICIES))
        )
    try:
        from .strategies import make_policy

        make_policy(policy)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ScenarioError(src, path, policy, f"bad policy parameters ({exc})") from None
    return policy


# ---------------------------------------------------------------- timeline events
@dataclass(frozen=True)
class EventKind:
    """A timeline event kind: its keys and the function that turns one into lever changes.

    ``fields`` maps each numeric key of the event to the firm lever whose declared range
    (``FirmParams`` metadata) it must lie in, or to a fixed ``(lo, hi)`` range.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    changes: Callable[[_EventInput], dict]
    fields: dict[str, str | tuple[float, float]] = field(default_factory=dict)
    #: periods the event lasts when it has no ``duration`` key (None: until changed)
    default_duration: Callable[[dict], int | None] | None = None


@dataclass
class _EventInput:
    """What a kind's ``changes`` function sees: the event, its path and the firm."""

    src: str
    path: str
    ev: dict
    firm: P.FirmParams

    def num(self, key: str) -> float:
        """The event's value ``key``, checked against its declared range."""
        spec = EVENTS[self.ev.get("kind", "set")].fields[key]
        where = f"{self.path}.{key}"
        if isinstance(spec, str):  # a lever: its own declared range
            value = _check_value(self.src, where, self.ev[key], P.FirmParams, spec)
            if value is None:
                raise ScenarioError(self.src, where, self.ev[key], "must be a number")
            return float(value)
        lo, hi = spec
        v = self.ev[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ScenarioError(self.src, where, v, f"must be a number in [{lo}, {hi}]")
        try:  # math, not numpy: an integer beyond int64 is out of range, not a TypeError
            finite = math.isfinite(v)
        except OverflowError:
            finite = False
        if not finite or not lo <= v <= hi:
            raise ScenarioError(self.src, where, v, f"must lie in [{lo}, {hi}]")
        return float(v)


#: timeline event kinds by name (see :func:`event_kind`)
EVENTS: dict[str, EventKind] = {}


def event_kind(
    name: str,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    fields: dict[str, str | tuple[float, float]] | None = None,
    default_duration: Callable[[dict], int | None] | None = None,
) -> Callable:
    """Register a timeline event kind: ``@event_kind("price", ("value",), ("duration",),
    {"value": "price"})`` over a function ``(_EventInput) -> {lever: value}``. Every kind
    also takes ``enabled`` (default true; false switches the event off, e.g. with
    ``--set events.2.enabled=false``)."""

    def register(fn: Callable[[_EventInput], dict]) -> Callable[[_EventInput], dict]:
        EVENTS[name] = EventKind(name, required, optional, fn, dict(fields or {}), default_duration)
        return fn

    return register


@event_kind("set", ("set",), ("duration",))
def _ev_set(e: _EventInput) -> dict:
    st = e.ev["set"]
    if not isinstance(st, dict) or not st:
        raise ScenarioError(e.src, f"{e.path}.set", st, "must be a non-empty table of levers")
    changes = {}
    for lever, value in st.items():
        if lever not in LEVERS:
            raise ScenarioError(
                e.src,
                f"{e.path}.set.{lever}",
                value,
                "unknown lever; allowed: " + ", ".join(LEVERS),
            )
        changes[lever] = _check_value(e.src, f"{e.path}.set.{lever}", value, P.FirmParams, lever)
    return changes


@event_kind("price", ("value",), ("duration",), {"value": "price"})
def _ev_price(e: _EventInput) -> dict:
    return {"price": e.num("value")}


@event_kind(
    "service_drop",
    ("value",),
    ("duration", "quality"),
    {"value": "service", "quality": "quality"},
)
def _ev_service_drop(e: _EventInput) -> dict:
    changes = {"service": e.num("value")}
    if "quality" in e.ev:
        changes["quality"] = e.num("quality")
    return changes


#: days in a period (month), for events given in days
DAYS_PER_PERIOD = 30


@event_kind(
    "outage",
    (),
    ("duration", "days", "severity"),
    {"days": (0.0, float(DAYS_PER_PERIOD)), "severity": (0.0, 1.0)},
    default_duration=lambda ev: 1 if "duration" not in ev else None,
)
def _ev_outage(e: _EventInput) -> dict:
    """Service lost for whole periods (``duration``, default 1) or for ``days`` of one
    period, at ``severity`` (1 = nothing works, the default): with down-time share
    f = severity · days / 30 (f = severity for whole periods), service becomes
    service · (1 − f) and quality falls by f towards 0.3 (a full outage: service 0,
    quality at most 0.3)."""
    severity = e.num("severity") if "severity" in e.ev else 1.0
    days = e.num("days") if "days" in e.ev else None
    if days is not None and "duration" in e.ev:
        raise ScenarioError(
            e.src,
            f"{e.path}.days",
            e.ev["days"],
            "give either duration (whole periods) or days (within one period), not both",
        )
    f = severity * (days / DAYS_PER_PERIOD if days is not None else 1.0)
    q = e.firm.quality
    return {"service": e.firm.service * (1.0 - f), "quality": q - f * max(q - 0.3, 0.0)}


@event_kind("capacity", ("value",), ("duration",), {"value": "capacity"})
def _ev_capacity(e: _EventInput) -> dict:
    return {"capacity": e.num("value")}


@event_kind("opening_discount", ("discount", "duration"), (), {"discount": (0.0, 1.0)})
def _ev_opening_discount(e: _EventInput) -> dict:
    return {"price": e.firm.price * (1 - e.num("discount"))}


@event_kind("loyalty", ("on",), ("discount",), {"discount": "loyalty_discount"})
def _ev_loyalty(e: _EventInput) -> dict:
    on = e.ev["on"]
    if not isinstance(on, bool):
        raise ScenarioError(e.src, f"{e.path}.on", on, "must be true or false")
    changes: dict = {"loyalty": on}
    if "discount" in e.ev:
        changes["loyalty_discount"] = e.num("discount")
    return changes


@event_kind("referral_bonus", ("value",), ("duration",), {"value": "referral_reward"})
def _ev_referral_bonus(e: _EventInput) -> dict:
    return {"referral_reward": e.num("value")}


@event_kind("campaign", ("value", "duration"), (), {"value": "marketing"})
def _ev_campaign(e: _EventInput) -> dict:
    return {"marketing": e.num("value")}


_COMPLAINT_KEYS = {
    "ease": "complaint_ease",
    "resolve_share": "resolve_share",
    "resolve_speed": "resolve_speed",
}


@event_kind("complaint_handling", (), (*_COMPLAINT_KEYS, "duration"), dict(_COMPLAINT_KEYS))
def _ev_complaint_handling(e: _EventInput) -> dict:
    changes = {lever: e.num(key) for key, lever in _COMPLAINT_KEYS.items() if key in e.ev}
    if not changes:
        raise ScenarioError(
            e.src,
            e.path,
            e.ev,
            "complaint_handling needs at least one of ease, resolve_share, resolve_speed",
        )
    return changes


#: timeline event kinds → (required keys, optional keys)
EVENT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    k: (v.required, v.optional) for k, v in EVENTS.items()
}


def _check_event_keys(src: str, path: str, ev: dict, names: list[str], T: int) -> EventKind:
    """The event's kind, after checking its keys, period and firm."""
    kind = ev.get("kind", "set")
    if not isinstance(kind, str) or kind not in EVENTS:
        raise ScenarioError(
            src, f"{path}.kind", kind, "unknown event kind; allowed: " + ", ".join(EVENTS)
        )
    spec = EVENTS[kind]
    allowed = ("period", "firm", "kind", "enabled", *spec.required, *spec.optional)
    for key, value in ev.items():
        if key not in allowed:
            raise ScenarioError(
                src,
                f"{path}.{key}",
                value,
                f"unknown key for kind '{kind}'; allowed: " + ", ".join(allowed),
            )
    for key in ("period", "firm", *spec.required):
        if key not in ev:
            raise ScenarioError(
                src,
                f"{path}.{key}",
                None,
                f"missing; kind '{kind}' needs: " + ", ".join(("period", "firm", *spec.required)),
            )
    t = ev["period"]
    if isinstance(t, bool) or not isinstance(t, int) or t < 1:
        raise ScenarioError(src, f"{path}.period", t, "must be an integer ≥ 1")
    if t > T:
        raise ScenarioError(
            src, f"{path}.period", t, f"after the last period (market.periods = {T})"
        )
    if not isinstance(ev["firm"], str) or ev["firm"] not in names:
        raise ScenarioError(
            src, f"{path}.firm", ev["firm"], "unknown firm; firms: " + ", ".join(names)
        )
    dur = ev.get("duration")
    if dur is not None:
        if isinstance(dur, bool) or not isinstance(dur, int) or dur < 1:
            raise ScenarioError(src, f"{path}.duration", dur, "must be an integer ≥ 1 (periods)")
        if t + dur > T + 1:
            raise ScenarioError(
                src,
                f"{path}.duration",
                dur,
                f"the event would end after the last period (period {t} + {dur} > {T} + 1)",
            )
    return spec


def _levers_before(out: list[dict], fp: P.FirmParams, t: int, levers) -> dict:
    """The levers in force just before period ``t`` (earlier events applied)."""
    current = {lev: getattr(fp, lev) for lev in levers}
    for prev in out:
        if prev["firm"] == fp.name and prev["period"] <= t:
            current.update({lev: prev["set"][lev] for lev in levers if lev in prev["set"]})
    return current


def _compile_events(src: str, events: list[dict], p: P.ModelParams) -> list[dict]:
    """Turn timeline events into primitive {period, firm, set} lever changes (with a
    restoring change after ``duration`` periods where the kind has one)."""
    names = [f.name for f in p.firms]
    by_name = {f.name: f for f in p.firms}
    T = p.market.periods
    out: list[dict] = []
    for i, ev in enumerate(events):
        path = f"events[{i}]"
        spec = _check_event_keys(src, path, ev, names, T)
        on = ev.get("enabled", True)
        if not isinstance(on, bool):
            raise ScenarioError(src, f"{path}.enabled", on, "must be true or false")
        if not on:
            continue
        t, fp, dur = ev["period"], by_name[ev["firm"]], ev.get("duration")
        if dur is None and spec.default_duration is not None:
            dur = spec.default_duration(ev)
        changes = spec.changes(_EventInput(src, path, ev, fp))
        current = _levers_before(out, fp, t, changes)
        out.append({"period": t, "firm": fp.name, "set": changes, "kind": spec.name})
        if dur is not None and t + dur <= T:
            out.append(
                {"period": t + dur, "firm": fp.name, "set": current, "kind": f"end {spec.name}"}
            )
        out.sort(key=lambda e: e["period"])
    return out


# ---------------------------------------------------------------- reading files
#: largest scenario or sweep file read (bytes)
MAX_FILE_BYTES = 16 * 1024**2


def regular_file_size(path: Path, cap: int, src: str, key: str, value: Any, what: str) -> int:
    """Check that ``path`` is a regular file of at most ``cap`` bytes, without opening it
    (a FIFO or a device is refused, never read); return its size.

    Raises:
        ScenarioError: missing, not a regular file, too large, or the path is unusable.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(src, key, value, f"file not found (looked for {path})") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(src, key, value, f"cannot open the {what} ({reason})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(src, key, value, f"must be a file ({what}), not a folder")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(
            src,
            key,
            value,
            f"not a regular file (a FIFO, device or socket); the {what} must be a regular file",
        )
    if st.st_size > cap:
        raise ScenarioError(
            src, key, value, f"{st.st_size} bytes; a {what} may have at most {cap} bytes"
        )
    return st.st_size


def read_text_file(
    path: str | Path,
    cap: int = MAX_FILE_BYTES,
    error: type[ScenarioError] = ScenarioError,
    what: str = "scenario file",
) -> str:
    """Read a regular UTF-8 text file of at most ``cap`` bytes, never blocking.

    Raises:
        error: ``error(file, "", None, reason)`` for a missing file, a folder, a FIFO or a
            device, a file over ``cap`` bytes, an unreadable file or one not in UTF-8.
    """
    src = str(path)
    try:
        regular_file_size(Path(path), cap, "", "", None, what)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced since the check
                raise ScenarioError(
                    "",
                    "",
                    None,
                    f"not a regular file (a FIFO, device or socket); the {what} must be a regular file",
                )
            blob = fh.read(cap + 1)
    except ScenarioError as exc:
        raise error(src, "", None, exc.allowed.replace(" (looked for " + src + ")", "")) from None
    except OSError as exc:
        raise error(src, "", None, f"cannot be read ({exc.strerror or exc})") from None
    if len(blob) > cap:
        raise error(src, "", None, f"a {what} may have at most {cap} bytes")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        raise error(src, "", None, "not a UTF-8 text file") from None


def read_toml(
    path: str | Path, error: type[ScenarioError] = ScenarioError, what: str = "scenario file"
) -> dict:
    """Parse a TOML file (a regular file of at most :data:`MAX_FILE_BYTES`, nested at
    most :data:`MAX_DEPTH` deep).

    Raises:
        error: ``error(file, "", None, reason)`` for a missing file, a folder, a FIFO or a
            device, an oversized, unreadable, malformed, too deeply nested or non-UTF-8
            file.
    """
    src = str(path)
    text = read_text_file(path, MAX_FILE_BYTES, error, what)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(src, "", None, f"malformed TOML ({exc})") from None
    except RecursionError:
        raise error(
            src, "", None, f"tables and arrays nested too deeply (at most {MAX_DEPTH})"
        ) from None
    try:
        check_depth(src, data)
    except ScenarioError as exc:
        raise error(src, "", None, exc.allowed) from None
    return data


def load_scenario(
    path: str | Path,
    overrides: list[str] | None = None,
    flags: list[tuple[str, str]] | None = None,
) -> Scenario:
    """Read, override and validate a scenario file.

    Args:
        path: the scenario TOML file.
        overrides: ``key.path=value`` strings (``--set``), applied in order.
        flags: ``(flag, key.path=value)`` pairs applied after them; an error names the
            flag (``--periods``) rather than ``--set``.

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: one line naming the file (or flag), key path, value and what is
            allowed.
    """
    path = Path(path)
    src = str(path)
    data = read_toml(path)
    for ov in overrides or []:
        apply_override(data, ov, source=f"{src} (--set)")
    for flag, ov in flags or []:
        apply_override(data, ov, source=f"{src} ({flag})")
    return parse_scenario(data, source=src, base_dir=path.parent)


def apply_override(data: dict, override: str, source: str = "--set") -> None:
    """Apply ``key.path=value`` to a parsed scenario dict. Firms can be named:
    ``firms.B.price=0.9`` (or indexed: ``firms.1.price=0.9``). The value is read as TOML
    (``0.9``, ``true``, ``"text"``); a bare word is taken as a string.

    Raises:
        ScenarioError: a malformed override, a path through a value that is not a table,
            or a key path or value nested deeper than :data:`MAX_DEPTH`.
    """
    if "=" not in override:
        raise ScenarioError(source, override, None, "expected key.path=value")
    key, raw = override.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ScenarioError(
            source, key, raw[:40], f"nested too deeply (at most {MAX_DEPTH} levels)"
        ) from None
    parts = key.split(".")
    if not all(parts):
        raise ScenarioError(source, key, value, "empty part in key path")
    if len(parts) > MAX_DEPTH:
        raise ScenarioError(source, key, value, f"a key path has at most {MAX_DEPTH} parts")
    if isinstance(value, (dict, list)):
        check_depth(source, value, MAX_DEPTH - len(parts))
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = _list_item(node, part, source, ".".join(parts[: i + 1]), value)
        else:
            if part == "firms" and "firms" not in node:
                node["firms"] = [{"name": f.name} for f in P.ModelParams().firms]
            node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            where = ".".join(parts[: i + 1])
            raise ScenarioError(
                source, key, value, f"{where} is {node!r}, not a table, so it has no keys"
            )
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError(source, key, value, "a key path must end in a key, not a list item")
    node[last] = value


def _list_item(items: list, part: str, source: str, path: str, value: Any) -> dict:
    if part.isdigit():
        i = int(part)
        if i >= len(items):
            raise ScenarioError(source, path, value, f"index out of range (there are {len(items)})")
        if not isinstance(items[i], dict):
            raise ScenarioError(source, path, value, "that item is not a table")
        return items[i]
    for it in items:
        if isinstance(it, dict) and it.get("name") == part:
            return it
    names = [it.get("name") for it in items if isinstance(it, dict)]
    raise ScenarioError(
        source, path, value, "no item with that name; names: " + ", ".join(map(str, names))
    )


def scenario_to_dict(sc: Scenario) -> dict:
    """The resolved scenario (every parameter, defaults filled in) as a TOML-able dict."""
    p = sc.params

    def clean(obj):
        d = dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
        if isinstance(d, dict):
            return {k: clean(v) for k, v in d.items() if v is not None}
        if isinstance(d, list):
            return [clean(v) for v in d]
        return d

    out: dict[str, Any] = {
        "scenario": {"name": sc.name, "seed": int(p.seed), "replications": sc.replications}
    }
    for k in ("title", "description", "notice"):
        if getattr(sc, k):
            out["scenario"][k] = getattr(sc, k)
    if sc.try_:
        out["scenario"]["try"] = sc.try_
    for section in SECTIONS:
        out[section] = clean(getattr(p, section))
    out["firms"] = [clean(f) for f in p.firms]
    if p.stages:
        out["stages"] = copy.deepcopy(p.stages)
    out["events"] = [
        {
            "period": e["period"],
            "firm": e["firm"],
            "kind": "set",
            "set": {k: ("none" if v is None else v) for k, v in e["set"].items()},
        }
        for e in p.events
    ]
    out["output"] = {k: getattr(p, k) for k in P.OUTPUT_KEYS}
    if sc.game is not None:
        out["game"] = clean(sc.game)
    return out
