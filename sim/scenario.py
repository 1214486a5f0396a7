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
import tomllib
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

#: timeline event kinds → (required keys, optional keys)
EVENT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "set": (("set",), ("duration",)),
    "price": (("value",), ("duration",)),
    "service_drop": (("value",), ("duration", "quality")),
    "outage": (("duration",), ()),
    "capacity": (("value",), ("duration",)),
    "opening_discount": (("discount", "duration"), ()),
    "loyalty": (("on",), ("discount",)),
    "referral_bonus": (("value",), ("duration",)),
    "campaign": (("value", "duration"), ()),
    "complaint_handling": ((), ("ease", "resolve_share", "resolve_speed", "duration")),
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
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        where = f"{source}: " if source else ""
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
        value = float(value)
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
    """Validate a scenario given as a dict (the parsed TOML) and build the parameters."""
    src = source
    allowed_top = ["scenario", *SECTIONS, "firms", "events", "output", "game"]
    for key in data:
        if key not in allowed_top:
            raise ScenarioError(
                src, key, data[key], "unknown section; allowed: " + ", ".join(allowed_top)
            )
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
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ScenarioError(src, "scenario.name", name, "letters, digits, '-' and '_' only")
    seed = meta.get("seed", 0)
    if seed < 0:
        raise ScenarioError(src, "scenario.seed", seed, "must be a non-negative integer")
    reps = meta.get("replications", 1)
    if not 1 <= reps <= 10_000:
        raise ScenarioError(src, "scenario.replications", reps, "must lie in [1, 10000]")

    p = P.ModelParams(seed=seed)
    for section in SECTIONS:
        if section not in data:
            continue
        table = data[section]
        obj = getattr(p, section)
        if section == "market" and isinstance(table, dict) and "segments" in table:
            segs = table["segments"]
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
                    src,
                    "market.segments",
                    [s.share for s in built],
                    "shares must add up to more than 0",
                )
            p.market.segments = built
            table = {k: v for k, v in table.items() if k != "segments"}
        _fill(src, section, table, obj, skip=("segments",) if section == "market" else ())

    # network file relative to the scenario file
    if p.network.kind == "edgelist":
        if not p.network.path:
            raise ScenarioError(
                src,
                "network.path",
                "",
                "an edge-list file is required when network.kind = 'edgelist'",
            )
        path = Path(p.network.path)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ScenarioError(
                src, "network.path", p.network.path, f"file not found (looked for {path})"
            )
        if not path.is_file():
            raise ScenarioError(
                src, "network.path", p.network.path, "must be an edge-list file, not a folder"
            )
        from .network import read_edgelist

        try:
            read_edgelist(path, int(p.market.n_customers))
        except (ValueError, OSError) as exc:
            msg = str(exc).split(": ", 1)[-1]
            raise ScenarioError(src, "network.path", p.network.path, msg) from None
        p.network.path = str(path)
    if p.network.kind == "complete" and p.market.n_customers > 20_000:
        raise ScenarioError(
            src,
            "network.kind",
            "complete",
            "a complete network allows at most 20000 customers (market.n_customers)",
        )

    # firms
    firms = data.get("firms")
    if firms is not None:
        if not isinstance(firms, list) or not firms or not all(isinstance(f, dict) for f in firms):
            raise ScenarioError(
                src, "firms", firms, "must be a non-empty array of tables ([[firms]])"
            )
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
            if names.index(nm) != i:
                raise ScenarioError(src, f"firms[{i}].name", nm, "firm names must be unique")
        p.firms = built
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

    # events
    events = data.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ScenarioError(src, "events", events, "must be an array of tables ([[events]])")
    p.events = _compile_events(src, events, p)
    out = data.get("output", {})
    if not isinstance(out, dict):
        raise ScenarioError(src, "output", out, "must be a table")
    for key, value in out.items():
        if key not in ("record_events", "panel_size"):
            raise ScenarioError(
                src, f"output.{key}", value, "unknown key; allowed: record_events, panel_size"
            )
        setattr(p, key, _check_value(src, f"output.{key}", value, P.ModelParams, key))
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
    if name not in POLICIES:
        raise ScenarioError(
            src, path, name, "unknown policy; allowed: " + ", ".join(sorted(POLICIES))
        )
    try:
        from .strategies import make_policy

        make_policy(policy)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(src, path, policy, f"bad policy parameters ({exc})") from None
    return policy


def _compile_events(src: str, events: list[dict], p: P.ModelParams) -> list[dict]:
    """Turn timeline events into primitive {period, firm, set} lever changes (with a
    restoring change after ``duration`` periods where the kind has one)."""
    names = [f.name for f in p.firms]
    by_name = {f.name: f for f in p.firms}
    T = p.market.periods
    out: list[dict] = []
    for i, ev in enumerate(events):
        path = f"events[{i}]"
        kind = ev.get("kind", "set")
        if kind not in EVENT_KINDS:
            raise ScenarioError(
                src, f"{path}.kind", kind, "unknown event kind; allowed: " + ", ".join(EVENT_KINDS)
            )
        required, optional = EVENT_KINDS[kind]
        allowed = ("period", "firm", "kind", *required, *optional)
        for key, value in ev.items():
            if key not in allowed:
                raise ScenarioError(
                    src,
                    f"{path}.{key}",
                    value,
                    f"unknown key for kind '{kind}'; allowed: " + ", ".join(allowed),
                )
        for key in ("period", "firm", *required):
            if key not in ev:
                raise ScenarioError(
                    src,
                    f"{path}.{key}",
                    None,
                    f"missing; kind '{kind}' needs: " + ", ".join(("period", "firm", *required)),
                )
        t = ev["period"]
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ScenarioError(src, f"{path}.period", t, "must be an integer ≥ 1")
        if t > T:
            raise ScenarioError(
                src, f"{path}.period", t, f"after the last period (market.periods = {T})"
            )
        firm = ev["firm"]
        if firm not in names:
            raise ScenarioError(
                src, f"{path}.firm", firm, "unknown firm; firms: " + ", ".join(names)
            )
        dur = ev.get("duration")
        if dur is not None and (isinstance(dur, bool) or not isinstance(dur, int) or dur < 1):
            raise ScenarioError(src, f"{path}.duration", dur, "must be an integer ≥ 1 (periods)")
        fp = by_name[firm]

        def num(key, lo=0.0, hi=None, _ev=ev, _path=path):
            v = _ev[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ScenarioError(src, f"{_path}.{key}", v, "must be a number")
            if v < lo or (hi is not None and v > hi):
                raise ScenarioError(
                    src,
                    f"{_path}.{key}",
                    v,
                    f"must lie in [{lo}, {hi if hi is not None else 'inf'}]",
                )
            return float(v)

        if kind == "set":
            st = ev["set"]
            if not isinstance(st, dict) or not st:
                raise ScenarioError(src, f"{path}.set", st, "must be a non-empty table of levers")
            changes = {}
            for lever, value in st.items():
                if lever not in LEVERS:
                    raise ScenarioError(
                        src,
                        f"{path}.set.{lever}",
                        value,
                        "unknown lever; allowed: " + ", ".join(LEVERS),
                    )
                changes[lever] = _check_value(
                    src, f"{path}.set.{lever}", value, P.FirmParams, lever
                )
        elif kind == "price":
            changes = {"price": num("value")}
        elif kind == "service_drop":
            changes = {"service": num("value", 0.0, 1.0)}
            if "quality" in ev:
                changes["quality"] = num("quality", 0.0, 1.0)
        elif kind == "outage":
            changes = {"service": 0.0, "quality": min(fp.quality, 0.3)}
        elif kind == "capacity":
            changes = {"capacity": num("value")}
        elif kind == "opening_discount":
            d = num("discount", 0.0, 1.0)
            changes = {"price": fp.price * (1 - d)}
            dur = ev["duration"]
        elif kind == "loyalty":
            on = ev["on"]
            if not isinstance(on, bool):
                raise ScenarioError(src, f"{path}.on", on, "must be true or false")
            changes = {"loyalty": on}
            if "discount" in ev:
                changes["loyalty_discount"] = num("discount", 0.0, 1.0)
        elif kind == "referral_bonus":
            changes = {"referral_reward": num("value")}
        elif kind == "campaign":
            changes = {"marketing": num("value", 0.0, 1.0)}
        else:  # complaint_handling
            changes = {}
            for key, lever in (
                ("ease", "complaint_ease"),
                ("resolve_share", "resolve_share"),
                ("resolve_speed", "resolve_speed"),
            ):
                if key in ev:
                    changes[lever] = num(key, 0.0, 1.0)
            if not changes:
                raise ScenarioError(
                    src,
                    path,
                    ev,
                    "complaint_handling needs at least one of ease, resolve_share, resolve_speed",
                )
        # the levers in force just before this event (earlier events applied)
        current = {lev: getattr(fp, lev) for lev in changes}
        for prev in out:
            if prev["firm"] == firm and prev["period"] <= t:
                for lev in changes:
                    if lev in prev["set"]:
                        current[lev] = prev["set"][lev]
        out.append({"period": t, "firm": firm, "set": changes, "kind": kind})
        if dur is not None:
            if t + dur > T + 1:
                raise ScenarioError(
                    src,
                    f"{path}.duration",
                    dur,
                    f"the event would end after the last period (period {t} + {dur} > {T} + 1)",
                )
            if t + dur <= T:
                out.append({"period": t + dur, "firm": firm, "set": current, "kind": f"end {kind}"})
        out.sort(key=lambda e: e["period"])
    return out


def read_toml(
    path: str | Path, error: type[ScenarioError] = ScenarioError, what: str = "scenario file"
) -> dict:
    """Parse a TOML file; a missing file, a folder, malformed TOML or a non-UTF-8 file
    raises ``error(file, "", None, reason)``."""
    path = Path(path)
    src = str(path)
    if not path.exists():
        raise error(src, "", None, "file not found")
    if path.is_dir():
        raise error(src, "", None, f"is a folder, not a {what}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(src, "", None, f"malformed TOML ({exc})") from None
    except UnicodeDecodeError:
        raise error(src, "", None, "not a UTF-8 text file") from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, override (``key.path=value`` strings) and validate a scenario file."""
    path = Path(path)
    src = str(path)
    data = read_toml(path)
    for ov in overrides or []:
        apply_override(data, ov, source=f"{src} (--set)")
    return parse_scenario(data, source=src, base_dir=path.parent)


def apply_override(data: dict, override: str, source: str = "--set") -> None:
    """Apply ``key.path=value`` to a parsed scenario dict. Firms can be named:
    ``firms.B.price=0.9`` (or indexed: ``firms.1.price=0.9``). The value is read as TOML
    (``0.9``, ``true``, ``"text"``); a bare word is taken as a string."""
    if "=" not in override:
        raise ScenarioError(source, override, None, "expected key.path=value")
    key, raw = override.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    parts = key.split(".")
    if not all(parts):
        raise ScenarioError(source, key, value, "empty part in key path")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = _list_item(node, part, source, ".".join(parts[: i + 1]), value)
        else:
            if part == "firms" and "firms" not in node:
                node["firms"] = [{"name": f.name} for f in P.ModelParams().firms]
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        raise ScenarioError(source, key, value, "a key path must end in a key, not a list item")
    node[last] = value


def _list_item(items: list, part: str, source: str, path: str, value: Any) -> dict:
    if part.isdigit():
        i = int(part)
        if i >= len(items):
            raise ScenarioError(source, path, value, f"index out of range (there are {len(items)})")
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
    out["events"] = [
        {
            "period": e["period"],
            "firm": e["firm"],
            "kind": "set",
            "set": {k: ("none" if v is None else v) for k, v in e["set"].items()},
        }
        for e in p.events
    ]
    out["output"] = {"record_events": p.record_events, "panel_size": p.panel_size}
    if sc.game is not None:
        out["game"] = clean(sc.game)
    return out
