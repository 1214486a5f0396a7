"""Experimental designs: which parameter values a sweep runs.

A design names the parameters to vary (scenario key paths, the same syntax as
``sim run --set``: ``firms.B.price``, ``complaints.max_prob``, ``market.segments.0.beta_price``)
and yields a list of *design points*, each a ``{key path: value}`` dict.

- :class:`Grid`: the Cartesian product of value lists (a :class:`Range` with ``num`` is a
  ``numpy.linspace``).
- :class:`Points`: an explicit list of points.
- :class:`LatinHypercube`: ``samples`` points, one in each of ``samples`` equal strata of
  every parameter's range (``scipy.stats.qmc.LatinHypercube``).
- :class:`Saltelli`: the Saltelli/Sobol' sample of SALib (``SALib.sample.sobol``) for
  first- and total-order Sobol' indices: ``samples · (D + 2)`` points
  (``samples · (2D + 2)`` with second-order indices), in SALib's order.

Sampled designs draw in the unit hypercube and map each coordinate onto the parameter's
range; a parameter the scenario declares as an integer is mapped onto the integers of its
range (equal probability each). Designs are pure: they know nothing of scenarios; the
:class:`~sim.experiments.Sweep` checks every point against the scenario schema.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario import ScenarioError

__all__ = ["Design", "Grid", "LatinHypercube", "Points", "Range", "Saltelli", "SweepError"]


class SweepError(ScenarioError):
    """A sweep (file, design, option or store) is invalid. ``str(err)`` is one line naming
    the file, the key path, the value and what is allowed."""

    def with_source(self, source: str) -> SweepError:
        """The same error, attributed to ``source`` (a sweep file)."""
        return SweepError(source, self.key, self.value, self.allowed)


@dataclass(frozen=True)
class Range:
    """A parameter range ``[low, high]``; ``num`` values (inclusive linspace) in a grid.

    Args:
        low: lower end.
        high: upper end (≥ low).
        num: number of grid values (grids only; sampled designs ignore it).
    """

    low: float
    high: float
    num: int | None = None

    def check(self, key: str, *, grid: bool) -> None:
        for end, v in (("min", self.low), ("max", self.high)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SweepError("", f"{key}.{end}", v, "must be a finite number")
        if self.high < self.low:
            raise SweepError("", f"{key}.max", self.high, f"must be ≥ min = {self.low}")
        if grid:
            if (
                self.num is None
                or isinstance(self.num, bool)
                or not isinstance(self.num, int)
                or self.num < 1
            ):
                raise SweepError(
                    "",
                    f"{key}.num",
                    self.num,
                    "a grid range needs num, an integer ≥ 1 (values from min to max)",
                )
        elif self.num is not None:
            raise SweepError(
                "",
                f"{key}.num",
                self.num,
                "num is for grids; sampled designs draw 'samples' points",
            )

    def values(self, integer: bool) -> list:
        """The grid values (integers rounded and de-duplicated for an integer parameter)."""
        vals = np.linspace(self.low, self.high, int(self.num or 1)).tolist()
        if integer:
            return sorted({int(round(v)) for v in vals})
        return [float(v) for v in vals]

    def scale(self, u: np.ndarray, integer: bool) -> list:
        """Map unit-interval coordinates onto the range (integers: equal-width strata)."""
        if integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            return [int(v) for v in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
        return [float(v) for v in self.low + u * (self.high - self.low)]


def _as_range(key: str, spec: Any) -> Range:
    if isinstance(spec, Range):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return Range(spec[0], spec[1])
    raise SweepError("", key, spec, "a range: {min = …, max = …} (or Range(low, high))")


class Design:
    """Base class: a list of design points over named parameters."""

    kind: str = ""

    @property
    def parameters(self) -> list[str]:
        """The key paths this design varies, in column order."""
        raise NotImplementedError

    def ranges(self) -> dict[str, Range]:
        """The parameters given as ranges (every parameter of a sampled design)."""
        return {}

    def points(self, integer: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The design points; ``integer`` names parameters that take integer values."""
        raise NotImplementedError

    def spec(self) -> dict:
        """A JSON-able description (for the store's manifest)."""
        raise NotImplementedError

    def _check_names(self, names: Iterable[str]) -> list[str]:
        out = []
        for k in names:
            if not isinstance(k, str) or "." not in k or not all(k.split(".")):
                raise SweepError(
                    "",
                    "design.parameters",
                    k,
                    "a parameter is a scenario key path such as firms.B.price",
                )
            if k.split(".")[0] == "scenario":
                raise SweepError(
                    "",
                    f"design.parameters.{k}",
                    None,
                    "scenario.* keys cannot be swept (seeds and replications are set by the sweep)",
                )
            out.append(k)
        if not out:
            raise SweepError("", "design.parameters", {}, "name at least one parameter to vary")
        return out


class Grid(Design):
    """Every combination of the given values (Cartesian product, last parameter fastest).

    Args:
        parameters: key path → list of values, or a :class:`Range` with ``num``.

    Examples:
        >>> Grid({"firms.B.price": [0.9, 1.0], "firms.B.service": Range(0.5, 0.9, num=3)}).points()[:2]
        [{'firms.B.price': 0.9, 'firms.B.service': 0.5}, {'firms.B.price': 0.9, 'firms.B.service': 0.7}]
    """

    kind = "grid"

    def __init__(self, parameters: Mapping[str, Sequence | Range]) -> None:
        self.values = dict(parameters)

    @property
    def parameters(self) -> list[str]:
        return self._check_names(self.values)

    def ranges(self) -> dict[str, Range]:
        out = {k: v for k, v in self.values.items() if isinstance(v, Range)}
        for k, r in out.items():
            r.check(f"design.parameters.{k}", grid=True)
        return out

    def points(self, integer: Iterable[str] = ()) -> list[dict[str, Any]]:
        integer = set(integer)
        axes = []
        for k in self.parameters:
            v = self.values[k]
            if isinstance(v, Range):
                v.check(f"design.parameters.{k}", grid=True)
                v = v.values(k in integer)
            elif isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Sequence) or len(v) == 0:
                raise SweepError(
                    "", f"design.parameters.{k}", v, "a non-empty list of values or {min, max, num}"
                )
            axes.append(list(v))
        names = self.parameters
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]

    def spec(self) -> dict:
        return {
            "method": self.kind,
            "parameters": {
                k: (vars(v) if isinstance(v, Range) else list(v)) for k, v in self.values.items()
            },
        }


class Points(Design):
    """An explicit list of design points (each a ``{key path: value}`` dict; every point
    names the same parameters).

    Examples:
        >>> Points([{"firms.B.price": 0.9}, {"firms.B.price": 1.1}]).parameters
        ['firms.B.price']
    """

    kind = "list"

    def __init__(self, points: Sequence[Mapping[str, Any]]) -> None:
        self._points = [dict(p) for p in points]

    @property
    def parameters(self) -> list[str]:
        if not self._points:
            raise SweepError("", "design.points", [], "a non-empty list of points")
        return self._check_names(self._points[0])

    def points(self, integer: Iterable[str] = ()) -> list[dict[str, Any]]:
        names = self.parameters
        for i, p in enumerate(self._points):
            if set(p) != set(names):
                raise SweepError(
                    "",
                    f"design.points[{i}]",
                    p,
                    "every point must set the same parameters: " + ", ".join(names),
                )
        return [{k: p[k] for k in names} for p in self._points]

    def spec(self) -> dict:
        return {"method": self.kind, "points": self._points}


class _Sampled(Design):
    def __init__(
        self, parameters: Mapping[str, Range | tuple[float, float]], samples: int, seed: int = 0
    ) -> None:
        self.raw = dict(parameters)
        self.samples = samples
        self.seed = seed

    @property
    def parameters(self) -> list[str]:
        return self._check_names(self.raw)

    def ranges(self) -> dict[str, Range]:
        out = {}
        for k in self.parameters:
            r = _as_range(f"design.parameters.{k}", self.raw[k])
            r.check(f"design.parameters.{k}", grid=False)
            out[k] = r
        return out

    def _check_common(self) -> None:
        s = self.samples
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise SweepError("", "design.samples", s, "must be an integer ≥ 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SweepError("", "design.seed", self.seed, "must be a non-negative integer")

    def unit_sample(self) -> np.ndarray:
        raise NotImplementedError

    def points(self, integer: Iterable[str] = ()) -> list[dict[str, Any]]:
        integer = set(integer)
        ranges = self.ranges()
        u = self.unit_sample()
        cols = {k: r.scale(u[:, j], k in integer) for j, (k, r) in enumerate(ranges.items())}
        return [{k: cols[k][i] for k in ranges} for i in range(u.shape[0])]

    def spec(self) -> dict:
        return {
            "method": self.kind,
            "samples": self.samples,
            "seed": self.seed,
            "parameters": {k: [r.low, r.high] for k, r in self.ranges().items()},
        }


class LatinHypercube(_Sampled):
    """Latin hypercube sample: ``samples`` points, each parameter's range cut into
    ``samples`` equal strata with one point in each.

    Args:
        parameters: key path → :class:`Range` (or ``(low, high)``).
        samples: number of points.
        seed: seed of the sample (the same seed gives the same points).
    """

    kind = "lhs"

    def unit_sample(self) -> np.ndarray:
        self._check_common()
        from scipy.stats import qmc

        return qmc.LatinHypercube(
            d=len(self.parameters), rng=np.random.default_rng(self.seed)
        ).random(self.samples)


class Saltelli(_Sampled):
    """Saltelli's extension of the Sobol' sequence (SALib) for Sobol' sensitivity indices.

    Args:
        parameters: key path → :class:`Range` (or ``(low, high)``); at least two.
        samples: base sample size N, a power of 2; the design has N·(D+2) points
            (N·(2D+2) with ``second_order``).
        second_order: also compute second-order indices.
        seed: scrambling seed of the Sobol' sequence.
    """

    kind = "saltelli"

    def __init__(
        self,
        parameters: Mapping[str, Range | tuple[float, float]],
        samples: int,
        *,
        second_order: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(parameters, samples, seed)
        self.second_order = second_order

    def problem(self) -> dict:
        """The SALib problem over the unit hypercube (names = key paths)."""
        names = self.parameters
        return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}

    def unit_sample(self) -> np.ndarray:
        self._check_common()
        n = self.samples
        if n & (n - 1):
            raise SweepError(
                "", "design.samples", n, "Saltelli needs a power of 2 (e.g. 64, 128, 256)"
            )
        if len(self.parameters) < 2:
            raise SweepError(
                "",
                "design.parameters",
                self.parameters,
                "Sobol' indices need at least two parameters",
            )
        if not isinstance(self.second_order, bool):
            raise SweepError("", "design.second_order", self.second_order, "must be true or false")
        from SALib.sample import sobol

        return sobol.sample(
            self.problem(), n, calc_second_order=self.second_order, scramble=True, seed=self.seed
        )

    def spec(self) -> dict:
        return {**super().spec(), "second_order": self.second_order}
