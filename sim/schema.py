"""The JSON Schema of scenario files, generated from the parameter metadata.

Editors that read JSON Schema (VS Code with Even Better TOML or Taplo, for instance)
can then check and complete scenario files. Every parameter comes from
:mod:`sim.params` (type, range, choices, unit, source, meaning), timeline event kinds
from :data:`sim.scenario.EVENTS`, policies from the strategy registry and user stages
from :data:`sim.stages.REGISTRY`. The schema is a first line of checks; the scenario
loader also checks what a schema cannot (firm names in events, periods within the run,
the edge-list file), with the one-line messages of :mod:`sim.scenario`.

Command line::

    sim schema                         # print it
    sim schema --out scenario.schema.json

Examples:
    >>> s = scenario_schema()
    >>> s["properties"]["complaints"]["properties"]["shortfall_scale"]["minimum"]
    1e-06
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from . import params as P

__all__ = ["scenario_schema", "field_schema", "section_schema", "main"]

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
#: strings the loader reads as None for optional numbers (capacity, promise)
NONE_WORDS = ["none", "unlimited", "honest"]


def field_schema(f: dataclasses.Field) -> dict[str, Any]:
    """The schema of one documented parameter field."""
    meta = f.metadata or {}
    typ = str(f.type).replace(" ", "")
    base = typ.replace("|None", "")
    out: dict[str, Any] = {}
    if base == "bool":
        out["type"] = "boolean"
    elif base in ("int", "float"):
        out["type"] = "integer" if base == "int" else "number"
        lo, hi = meta.get("range", (None, None))
        if lo is not None and math.isfinite(lo):
            out["minimum"] = lo
        if hi is not None and math.isfinite(hi):
            out["maximum"] = hi
    elif base == "str":
        out["type"] = "string"
    if meta.get("choices"):
        out["enum"] = list(meta["choices"])
    if "None" in typ:
        out = {"anyOf": [out, {"type": "string", "enum": NONE_WORDS}]}
    parts = [meta.get("doc", "")]
    if meta.get("symbol"):
        parts.append(f"Symbol: {meta['symbol']}.")
    if meta.get("unit"):
        parts.append(f"Unit: {meta['unit']}.")
    if meta.get("source"):
        parts.append(f"Source: {meta['source']}.")
    out["description"] = " ".join(p for p in parts if p)
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, (bool, int, float, str)) and not (
        isinstance(default, float) and not math.isfinite(default)
    ):
        out["default"] = default
    return out


def section_schema(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema for the documented fields of parameter dataclass ``cls``."""
    props = {
        f.name: field_schema(f)
        for f in dataclasses.fields(cls)
        if f.metadata and f.name not in skip and f.name != "segments"
    }
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    return {
        "type": "object",
        "description": doc,
        "properties": props,
        "additionalProperties": False,
    }


def _policy_schema() -> dict[str, Any]:
    from .strategies import REGISTRY

    names = sorted(REGISTRY)
    return {
        "description": "The firm's decision rule: a name, or a table with name and parameters.",
        "anyOf": [
            {"type": "string", "enum": names},
            {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": names}},
                "required": ["name"],
            },
        ],
    }


def _firm_schema() -> dict[str, Any]:
    s = section_schema(P.FirmParams, skip=("policy",))
    s["properties"]["policy"] = _policy_schema()
    return s


def _event_schema() -> dict[str, Any]:
    from .agents import LEVERS
    from .scenario import EVENTS

    lever_props = {
        f.name: field_schema(f) for f in dataclasses.fields(P.FirmParams) if f.name in LEVERS
    }
    kinds = []
    for name, spec in EVENTS.items():
        props: dict[str, Any] = {
            "period": {"type": "integer", "minimum": 1, "description": "Period it applies."},
            "firm": {"type": "string", "description": "Name of the firm."},
            "kind": {"const": name} if name != "set" else {"const": "set"},
        }
        for key in (*spec.required, *spec.optional):
            props[key] = {"type": "number"}
        if "duration" in props:
            props["duration"] = {"type": "integer", "minimum": 1, "description": "Periods."}
        if "on" in props:
            props["on"] = {"type": "boolean"}
        if name == "set":
            props["set"] = {
                "type": "object",
                "properties": lever_props,
                "additionalProperties": False,
                "minProperties": 1,
            }
        required = ["period", "firm", *spec.required]
        if name != "set":
            required.append("kind")
        kinds.append(
            {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
            }
        )
    return {"description": "A timeline event.", "oneOf": kinds}


def _stages_schema() -> dict[str, Any]:
    from .stages import REGISTRY

    props = {
        name: section_schema(cls.Params)
        if cls.Params is not None
        else {"type": "object", "additionalProperties": False}
        for name, cls in sorted(REGISTRY.items())
    }
    return {
        "type": "object",
        "description": "Parameters of registered user stages (sim.stages.register).",
        "properties": props,
        "additionalProperties": False,
    }


def _game_schema() -> dict[str, Any]:
    """The [game] section (sim game): scalars by their metadata; ``levers`` maps a game
    lever to [lo, hi], ``max_change`` to a number ≥ 0."""
    out = section_schema(P.GameParams)
    numeric = [lev for lev in P.GAME_LEVERS if lev != "loyalty"]
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    for key, item in (("levers", pair), ("max_change", {"type": "number", "minimum": 0})):
        out["properties"][key] = {
            "type": "object",
            "description": out["properties"][key]["description"],
            "properties": {lev: item for lev in numeric},
            "additionalProperties": False,
        }
    return out


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    from .scenario import SCENARIO_KEYS, SECTIONS

    meta = {
        k: {"type": "integer" if t is int else "string", **({"minimum": 0} if t is int else {})}
        for k, t in SCENARIO_KEYS.items()
    }
    props: dict[str, Any] = {
        "scenario": {"type": "object", "properties": meta, "additionalProperties": False}
    }
    for name, cls in SECTIONS.items():
        props[name] = section_schema(cls)
    props["market"]["properties"]["segments"] = {
        "type": "array",
        "minItems": 1,
        "items": section_schema(P.SegmentParams),
    }
    props["firms"] = {"type": "array", "minItems": 1, "items": _firm_schema()}
    props["events"] = {"type": "array", "items": _event_schema()}
    out_fields = [f for f in dataclasses.fields(P.ModelParams) if f.name in P.OUTPUT_KEYS]
    props["output"] = {
        "type": "object",
        "properties": {f.name: field_schema(f) for f in out_fields},
        "additionalProperties": False,
    }
    props["stages"] = _stages_schema()
    props["game"] = _game_schema()
    return {
        "$schema": SCHEMA_URI,
        "$id": "https://github.com/sim/sim/scenario.schema.json",
        "title": "sim scenario file",
        "description": "A scenario of the sim market model (TOML). Generated by `sim schema`.",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


def main(argv: list[str] | None = None) -> int:
    """``sim schema [--out FILE]``: print or write the JSON Schema of scenario files."""
    from .cli import OneLineParser, UsageError

    ap = OneLineParser(prog="sim schema", description=main.__doc__)
    ap.add_argument("--out", metavar="FILE", help="write the schema to FILE (default: print)")
    a = ap.parse_args(argv)
    text = json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
    if a.out is None:
        print(text, end="")
        return 0
    out = Path(a.out)
    if out.is_dir() or not out.parent.is_dir():
        raise UsageError(f"--out: {a.out}: must be a file in an existing folder")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(f"wrote {out}")
    return 0
