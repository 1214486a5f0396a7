"""Mesa agents.

``Customer`` is a thin view on one row of :class:`~sim.population.Population`:
reading or writing ``model.customers[42].satisfaction`` reads or writes the column.
Views are created on first access (a million Mesa agents would cost seconds and a
gigabyte for nothing); :meth:`CustomerViews.materialise` creates them all.

``Firm`` holds its levers (a :class:`~sim.params.FirmParams`), its accounts for the
last period (``firm.accounts``: its row of the firm table) and its policy, which sets the levers at the start of each period.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from .params import FirmParams, levers
from .population import STATUS_NAMES, Population

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = ["Customer", "CustomerViews", "Firm", "LEVERS"]

#: firm attributes that are levers a policy or a timeline event may change (the fields of
#: :class:`~sim.params.FirmParams` whose metadata names a ``lever`` kind)
LEVERS = levers()

#: every population column (derived from :class:`~sim.population.Population`): one-value
#: columns read as scalars, per-firm columns (N, K) as the row's K-vector
_COLUMNS = frozenset(f.name for f in dataclasses.fields(Population))

#: columns holding a firm's index that the view, like the output tables, names ``firm``
#: (the firm's name) and ``firm_index`` (the column)
_NAMED = ("firm", "last_firm")
_INDEXES = {f"{c}_index": c for c in _NAMED}


def _column(model: MarketModel, name: str) -> np.ndarray:
    return getattr(model.pop, name)


class Customer(mesa.Agent):
    """A view on customer ``row`` of the model's population.

    Every column of :class:`~sim.population.Population` is an attribute: one-value
    columns (``satisfaction``, ``firm``, ``beta_price``, ``experienced`` …) read and write
    the row; per-firm columns (``expect``, ``attitude``, ``aware``, ``aware_via`` …) return
    the row's K-vector (a numpy view: writing into it writes the model state).
    ``status`` reads as its name (``"customer"``); the code is ``status_code``. As in the
    output tables (``customer_frame()``, the panel and the events), ``firm`` and
    ``last_firm`` read as the firm's name (None for none) and ``firm_index`` and
    ``last_firm_index`` read and write the column (the firm's index, -1 for none).

    Examples:
        >>> from sim import MarketModel
        >>> m = MarketModel(seed=1)
        >>> c = m.customers[3]
        >>> c.satisfaction == float(m.pop.satisfaction[3])
        True
        >>> c.expect.shape == (m.n_firms,)
        True
        >>> c.firm == (m.firms[c.firm_index].name if c.firm_index >= 0 else None)
        True
    """

    def __init__(self, model: MarketModel, row: int) -> None:
        super().__init__(model)
        object.__setattr__(self, "row", int(row))

    def __getattr__(self, name: str) -> Any:
        column = _INDEXES.get(name, name)
        if column in _COLUMNS and "row" in self.__dict__:
            v = _column(self.model, column)[self.row]
            return v.item() if isinstance(v, np.generic) else v
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _NAMED:
            raise AttributeError(
                f"Customer.{name} is the firm's name (read-only); set {name}_index instead"
            )
        column = _INDEXES.get(name, name)
        if column in _COLUMNS and column != "status":
            _column(self.model, column)[self.row] = value
        else:
            object.__setattr__(self, name, value)

    def _firm_named(self, column: str) -> str | None:
        """The name of the firm whose index is in ``column`` at this row (None for -1)."""
        f = int(_column(self.model, column)[self.row])
        return self.model.firms[f].name if f >= 0 else None

    @property
    def status(self) -> str:
        return STATUS_NAMES[int(self.model.pop.status[self.row])]

    @property
    def status_code(self) -> int:
        return int(self.model.pop.status[self.row])

    @property
    def firm(self) -> str | None:
        """The current firm's name (None for none); its index is ``firm_index``."""
        return self._firm_named("firm")

    @property
    def last_firm(self) -> str | None:
        """The name of the firm of the last experience (None for none); its index is
        ``last_firm_index``."""
        return self._firm_named("last_firm")

    @property
    def firm_name(self) -> str | None:
        """Deprecated: the current firm's name, now ``firm``."""
        warnings.warn(
            "Customer.firm_name is deprecated; use Customer.firm (the name, as in the output "
            "tables) or Customer.firm_index",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.firm

    @property
    def neighbors(self) -> np.ndarray:
        return self.model.network.neighbors(self.row)

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict (per-firm values keyed by firm name)."""
        d: dict[str, Any] = {"id": self.row, "status": self.status}
        names = [firm.name for firm in self.model.firms]
        for f in dataclasses.fields(Population):
            if f.name == "status":
                continue
            col = _column(self.model, f.name)
            if f.name in _NAMED:
                d[f.name] = getattr(self, f.name)
                d[f"{f.name}_index"] = getattr(self, f"{f.name}_index")
            elif col.ndim == 1:
                d[f.name] = getattr(self, f.name)
            else:
                d[f.name] = dict(zip(names, col[self.row].tolist(), strict=True))
        return d

    def history(self):
        """This customer's rows of the event log (a DataFrame)."""
        ev = self.model.events()
        return ev[(ev["customer"] == self.row) | (ev["other"] == self.row)].reset_index(drop=True)

    def __repr__(self) -> str:
        return (
            f"Customer({self.row}, status={self.status}, firm={self.firm}, "
            f"satisfaction={self.satisfaction:.2f})"
        )


class CustomerViews:
    """``model.customers``: indexable by customer id, creating views lazily."""

    def __init__(self, model: MarketModel) -> None:
        self._model = model
        self._views: dict[int, Customer] = {}

    def __len__(self) -> int:
        return self._model.pop.n

    def __getitem__(self, i: int) -> Customer:
        i = int(i)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"customer id {i} out of range 0..{n - 1}")
        v = self._views.get(i)
        if v is None:
            v = self._views[i] = Customer(self._model, i)
        return v

    def __iter__(self) -> Iterator[Customer]:
        for i in range(len(self)):
            yield self[i]

    def materialise(self) -> AgentSet:
        """Create every customer view and return them as a Mesa AgentSet.

        The views are Mesa agents of the model, so ``model.agents_by_type[Customer]``
        and AgentSet operations (``select``, ``agg``, ``groupby`` …) work on them.

        Examples:
            >>> from sim import MarketModel
            >>> m = MarketModel(seed=1)
            >>> cs = m.customers.materialise()
            >>> len(cs) == m.pop.n
            True
        """
        return AgentSet([self[i] for i in range(len(self))], random=self._model.random)


class Firm(mesa.Agent):
    """A firm: levers (``firm.levers``, also readable as ``firm.price`` …), accounts, policy."""

    def __init__(self, model: MarketModel, params: FirmParams, index: int, policy=None) -> None:
        super().__init__(model)
        self.index = index
        self.levers = dataclasses.replace(params)
        self.policy = policy
        self.accounts: dict[str, float] = {}

    @property
    def name(self) -> str:
        return self.levers.name

    @property
    def active(self) -> bool:
        # incumbents (enter_at = 0) are also active during the warm-up (negative periods)
        return max(self.model.period, 0) >= self.levers.enter_at

    def __getattr__(self, name: str) -> Any:
        if (
            name != "levers"
            and "levers" in self.__dict__
            and hasattr(self.__dict__["levers"], name)
        ):
            return getattr(self.__dict__["levers"], name)
        raise AttributeError(name)

    def set_lever(self, name: str, value: Any, *, source: str = "api") -> None:
        """Change a lever; takes effect at the next period and is logged as an event.

        Raises:
            ValueError: an unknown lever.
            sim.checks.ParamError: a value outside the lever's documented range.
        """
        if name not in LEVERS:
            raise ValueError(f"firm lever {name!r} unknown; allowed: {', '.join(LEVERS)}")
        from .checks import check_lever

        check_lever(self.name, name, value, source)
        old = getattr(self.levers, name)
        setattr(self.levers, name, value)
        self.model._log_lever(self, name, old, value, source)

    def promise_level(self) -> float:
        """The advertised performance level (honest when ``promise`` is None)."""
        lv = self.levers
        if lv.promise is not None:
            return float(lv.promise)
        w = self.model.mean_w_quality
        return float(w * lv.quality + (1 - w) * lv.service)

    def __repr__(self) -> str:
        return f"Firm({self.index}, {self.name!r}, price={self.levers.price}, quality={self.levers.quality}, service={self.levers.service})"
