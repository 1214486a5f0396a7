"""One validation path: every value is checked against its parameter's metadata.

Ranges, choices and types come from the ``metadata`` of the fields in
:mod:`sim.params` (and of a user stage's ``Params``). The same check (the scenario
loader's) runs wherever values enter: scenario files, a
:class:`~sim.params.ModelParams` given to :class:`~sim.model.MarketModel`,
:meth:`sim.agents.Firm.set_lever` (timeline events, policies, the dashboard, the API)
and user stages. A refusal is a :class:`ParamError`, a :class:`ValueError` whose text is
one line, ``<source>: <key path> = <value>: <allowed>``, like the scenario loader's.
Non-finite numbers are refused unless a parameter's range says otherwise.

Examples:
    >>> from sim.params import ModelParams
    >>> p = ModelParams()
    >>> p.complaints.shortfall_scale = 0.0
    >>> validate_params(p)
    Traceback (most recent call last):
    ...
    sim.checks.ParamError: ModelParams: complaints.shortfall_scale = 0.0: must lie in [1e-06, 10.0]
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import params as P
from .scenario import ScenarioError, _check_value

__all__ = [
    "ParamError",
    "build_params",
    "check_field",
    "check_lever",
    "check_path",
    "validate_dataclass",
    "validate_params",
]


class ParamError(ScenarioError):
    """A value outside what its parameter's metadata allows. ``str(err)`` is one line."""


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars (sweeps and arrays produce them)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def check_field(source: str, path: str, value: Any, cls: type, name: str) -> Any:
    """Check ``value`` for field ``name`` of dataclass ``cls``; return it normalised.

    Args:
        source: where the value comes from (file, flag, ``ModelParams``, ``firm A``).
        path: the key path shown in the message (``complaints.shortfall_scale``).
        value: the value.
        cls: the parameter dataclass.
        name: the field name.

    Raises:
        ParamError: with the one-line message.
    """
    if value is None and "None" in str(
        next(f.type for f in dataclasses.fields(cls) if f.name == name)
    ):
        return None
    try:
        return _check_value(source, path, _plain(value), cls, name)
    except ScenarioError as exc:
        raise ParamError(exc.source, exc.key, exc.value, exc.allowed) from None


def _documented(f: dataclasses.Field) -> bool:
    return bool(f.metadata) and "range" in f.metadata


def validate_dataclass(obj: Any, source: str, prefix: str, skip: tuple[str, ...] = ()) -> None:
    """Check every documented field of the dataclass instance ``obj``.

    Raises:
        ParamError: the first field out of its range, of the wrong type or not a choice.
    """
    for f in dataclasses.fields(obj):
        if f.name in skip or not _documented(f) or f.name == "segments":
            continue
        path = f"{prefix}.{f.name}" if prefix else f.name
        check_field(source, path, getattr(obj, f.name), type(obj), f.name)


def validate_params(p: P.ModelParams, source: str = "ModelParams") -> None:
    """Check a whole :class:`~sim.params.ModelParams` (sections, segments, firms).

    Raises:
        ParamError: the first value that its metadata does not allow.
    """
    validate_dataclass(p, source, "")
    for f in dataclasses.fields(p):
        sub = getattr(p, f.name)
        if dataclasses.is_dataclass(sub):
            validate_dataclass(sub, source, f.name)
    for i, seg in enumerate(p.market.segments):
        validate_dataclass(seg, source, f"market.segments[{i}]")
    for i, fp in enumerate(p.firms):
        validate_dataclass(fp, source, f"firms[{i}]", skip=("policy",))


def build_params(cls: type, values: dict[str, Any], source: str, prefix: str) -> Any:
    """An instance of the parameter dataclass ``cls`` from ``values``, each checked.

    Raises:
        ParamError: an unknown key, or a value its metadata does not allow.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    checked = {}
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in names:
            raise ParamError(source, path, value, "unknown key; allowed: " + ", ".join(names))
        checked[key] = check_field(source, path, value, cls, key)
    obj = cls(**checked)
    validate_dataclass(obj, source, prefix)
    return obj


def check_lever(firm: str, name: str, value: Any, source: str = "api") -> Any:
    """Check a firm lever value (``Firm.set_lever``, policies, timeline, dashboard).

    Examples:
        >>> check_lever("A", "resolve_share", 7.0)
        Traceback (most recent call last):
        ...
        sim.checks.ParamError: firm A (api): resolve_share = 7.0: must lie in [0.0, 1.0]
    """
    return check_field(f"firm {firm} ({source})", name, value, P.FirmParams, name)


def check_path(params: P.ModelParams, path: str, value: Any, source: str) -> Any:
    """Check ``value`` for the parameter at dotted ``path`` of ``params``
    (``"complaints.shortfall_scale"``), e.g. a dashboard control or a sweep factor.

    Examples:
        >>> check_path(P.ModelParams(), "wom.positive_talk", -0.5, "dashboard")
        Traceback (most recent call last):
        ...
        sim.checks.ParamError: dashboard: wom.positive_talk = -0.5: must lie in [0.0, 1.0]
    """
    *head, last = path.split(".")
    obj: Any = params
    for part in head:
        obj = getattr(obj, part)
    return check_field(source, path, value, type(obj), last)
