"""The period as data: stages, the state they share, and the schedule that runs them.

One call of :meth:`sim.model.MarketModel.step` builds a :class:`PeriodState` and runs
every stage of ``model.stages`` (a :class:`Schedule`) on it, in order. A stage is a
small object with a ``name`` and a ``__call__(state)``; each mechanism module owns its
stage (its draws, state updates, flows and events). Users add, replace or remove
stages from Python::

    model.stages.add(MyStage(reach=0.2))          # placed by MyStage.after / before
    model.stages.replace("wom", MyWordOfMouth())
    model.stages.remove("referrals")
    print(model.stages)                           # the schedule, one line per stage

A user-defined stage declares its parameters as a dataclass of documented fields
(:func:`sim.params.P`, like the built-in ones) in ``Params``; they are validated when the
stage is made, listed by :meth:`Stage.describe_params` and set from a scenario file
under ``[stages.<name>]``. Its random numbers come from ``state.rng``: a stream of its
own, spawned from the run seed and the stage's name, so adding a stage leaves every
other stream, and so every built-in draw, unchanged (common random numbers).

Examples:
    >>> from sim import MarketModel
    >>> m = MarketModel(seed=1)
    >>> m.stages.names()[:4]
    ['levers', 'late_resolutions', 'awareness', 'purchase']
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from .model import MarketModel

__all__ = [
    "REGISTRY",
    "PeriodState",
    "Schedule",
    "Stage",
    "configure",
    "parse_stage_sections",
    "register",
    "stage_stream",
]


class PeriodState:
    """What the stages of one period share.

    Set-up fills ``model``, ``pop``, ``params``, ``t``, ``n``, ``k``, ``streams``,
    ``recorder``, ``log``, ``warming`` and ``fl`` (the flows: name -> per-firm array,
    summed into the firm table); the model sets ``rng`` and ``stage`` before each stage.
    Built-in stages leave their results for later ones (None until set):

    - ``levers``: ``L`` (lever arrays, name -> per-firm array)
    - ``purchase``: ``shopper`` (ids), ``known`` (N x K awareness of active firms)
    - ``choice``: ``gamma`` (switching cost per customer), ``buyers`` (ids),
      ``buyer_firm``, ``paid``, ``list_price`` and ``new_relationship`` (per buyer)
    - ``capacity``: ``demand``, ``load``, ``service_factor``, ``wait`` (per firm)
    - ``experience``: ``perf`` (perceived performance per buyer)
    - ``satisfaction``: ``expect_before``, ``x``, ``z``, ``loss``, ``fresh``, ``problem``
      (a shortfall above δ_P), ``omega``
    - ``complaints``: ``outcome`` (complaint outcome code per buyer), ``complaint_cost``
    - ``wom``: ``messages`` (dict: sender, recipient, firm, valence, negative),
      ``wom_weight_sum`` and ``wom_content_sum`` (N x K; numpy path) or, with compiled
      kernels, ``wom_heard`` (flat pairs r·K + j heard, their W and C sums)

    A stage may change the population columns, these values and the flows; later
    stages see the changes (synchronous within a stage, sequential between stages).
    """

    def __init__(self, model: MarketModel, fl: dict[str, np.ndarray]) -> None:
        self.model = model
        self.pop = model.pop
        self.params = model.params
        self.t = model.period
        self.n = model.pop.n
        self.k = model.n_firms
        self.streams = model.streams
        self.recorder = model.recorder
        self.log = model._log
        self.warming = model._warming
        self.fl = fl
        self.rng: np.random.Generator | None = None
        self.stage: Stage | None = None
        self.L: dict[str, np.ndarray] | None = None
        # the stage results (_RESULTS) start as None: class attributes, set per instance

    def event(self, kind: str, customer: Any, firm: Any, **columns: Any) -> None:
        """Record events of ``kind`` (one per customer) when the event log is on.

        Args:
            kind: one of :data:`sim.recorder.EVENT_KINDS`.
            customer: customer ids.
            firm: firm index per customer (or one for all).
            **columns: ``other_firm``, ``other``, ``value``, ``detail``.
        """
        if self.log:
            self.recorder.add_events(self.t, kind, customer, firm, **columns)

    def count(self, flow: str, firm: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add per-firm counts (or sums of ``weights``) of ``firm`` to flow ``flow``."""
        add = np.bincount(firm, weights, minlength=self.k)
        if flow in self.fl:
            self.fl[flow] = self.fl[flow] + add
        else:
            self.fl[flow] = add.astype(float)


_RESULTS = (
    "shopper",
    "known",
    "gamma",
    "buyers",
    "buyer_firm",
    "paid",
    "list_price",
    "new_relationship",
    "demand",
    "load",
    "service_factor",
    "wait",
    "perf",
    "expect_before",
    "x",
    "z",
    "loss",
    "fresh",
    "problem",
    "omega",
    "outcome",
    "complaint_cost",
    "messages",
    "wom_weight_sum",
    "wom_content_sum",
    "wom_heard",
)


for _name in _RESULTS:  # every stage result is None until a stage sets it
    setattr(PeriodState, _name, None)
del _name


class Stage:
    """One step of the period schedule.

    Subclasses set ``name`` and implement ``__call__(state)``; the first line of the
    class docstring is the stage's line in the printed schedule.

    Attributes:
        name: unique name in the schedule (also the name of its random stream).
        after: default placement for :meth:`Schedule.add`: after this stage...
        before: ...or before this one (``None`` for both: at the end).
        stream: the built-in stream it draws from (built-in stages only; a user stage
            leaves it ``None`` and gets a stream of its own, see :func:`stage_stream`).
        section: the :class:`~sim.params.ModelParams` section whose ``enabled`` switch
            turns a built-in stage on or off.
        Params: a dataclass of documented parameters (fields made with
            :func:`sim.params.P`), or ``None``.

    Examples:
        >>> from dataclasses import dataclass
        >>> from sim.params import P
        >>> @dataclass
        ... class BoostParams:
        ...     factor: float = P(1.1, "multiplier", 0.0, 10.0, "assumption", "Boost.")
        >>> class Boost(Stage):
        ...     '''Multiplies price sensitivity.'''
        ...     name = "boost"
        ...     after = "awareness"
        ...     Params = BoostParams
        ...     def __call__(self, s):
        ...         s.pop.beta_price *= self.params.factor
        >>> Boost(factor=1.2).params.factor
        1.2
        >>> Boost(factor=-1.0)
        Traceback (most recent call last):
        ...
        sim.checks.ParamError: stage boost: boost.factor = -1.0: must lie in [0.0, 10.0]
    """

    name: ClassVar[str] = ""
    after: ClassVar[str | None] = None
    before: ClassVar[str | None] = None
    stream: ClassVar[str | None] = None
    section: ClassVar[str | None] = None
    Params: ClassVar[type | None] = None

    def __init__(self, **values: Any) -> None:
        self.params: Any = None
        if self.Params is not None:
            from .checks import build_params

            self.params = build_params(self.Params, values, f"stage {self.name}", self.name)
        elif values:
            raise TypeError(f"stage {self.name} takes no parameters; got {sorted(values)}")

    def enabled(self, model: MarketModel) -> bool:
        """Whether the stage runs this period (its section's ``enabled`` switch)."""
        if self.section is None:
            return True
        return bool(getattr(getattr(model.params, self.section), "enabled", True))

    def __call__(self, s: PeriodState) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring."""
        return (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    @classmethod
    def describe_params(cls) -> list[dict]:
        """Rows (name, default, unit, range, source, doc) of the stage's parameters."""
        from .params import describe

        return describe(cls.Params) if cls.Params is not None else []

    def __repr__(self) -> str:
        if self.params is None:
            return f"{type(self).__name__}()"
        vals = ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self.params).items())
        return f"{type(self).__name__}({vals})"


class Schedule(list):
    """The ordered stages of a period: a list with name-based editing.

    Examples:
        >>> from sim import MarketModel
        >>> m = MarketModel(seed=1)
        >>> m.stages.index_of("choice") < m.stages.index_of("churn")
        True
        >>> print(str(m.stages).splitlines()[0])
        1. levers: Timeline events of the period apply; then each firm's policy sets its levers.
    """

    def names(self) -> list[str]:
        """Stage names in order."""
        return [st.name for st in self]

    def index_of(self, name: str) -> int:
        """Position of the stage called ``name``.

        Raises:
            KeyError: no stage has that name.
        """
        for i, st in enumerate(self):
            if st.name == name:
                return i
        raise KeyError(f"stage {name!r} unknown; stages: {', '.join(self.names())}")

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return super().__getitem__(self.index_of(key))
        return super().__getitem__(key)

    def add(self, stage: Stage, *, after: str | None = None, before: str | None = None) -> None:
        """Insert ``stage`` after or before a named stage (default: the stage's own
        ``after``/``before``; at the end when neither is given).

        Raises:
            ValueError: the name is taken, or both ``after`` and ``before`` are given.
            KeyError: the named neighbour does not exist.
        """
        if not stage.name:
            raise ValueError(f"{type(stage).__name__}: a stage needs a name")
        if stage.name in self.names():
            raise ValueError(f"stage {stage.name!r} is already in the schedule")
        if after is None and before is None:
            after, before = stage.after, stage.before
        if after is not None and before is not None:
            raise ValueError(f"stage {stage.name!r}: give after= or before=, not both")
        if after is not None:
            self.insert(self.index_of(after) + 1, stage)
        elif before is not None:
            self.insert(self.index_of(before), stage)
        else:
            self.append(stage)

    def remove(self, name: str) -> Stage:  # type: ignore[override]
        """Remove and return the stage called ``name``."""
        return self.pop(self.index_of(name))

    def replace(self, name: str, stage: Stage) -> Stage:
        """Put ``stage`` in the place of the stage called ``name``; return the old one."""
        i = self.index_of(name)
        old = self[i]
        if stage.name != name and stage.name in self.names():
            raise ValueError(f"stage {stage.name!r} is already in the schedule")
        super().__setitem__(i, stage)
        return old

    def __str__(self) -> str:
        return "\n".join(f"{i}. {st.name}: {st.summary()}" for i, st in enumerate(self, 1))

    def __repr__(self) -> str:
        return f"Schedule({self.names()})"


def stage_stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of a user stage: spawned from the run seed and the stage name.

    The built-in streams are the children ``0 .. len(STREAMS) - 1`` of
    ``SeedSequence(seed)``; a named stream uses the spawn key ``2**32 + h`` (``h`` from
    the SHA-256 of the name), which no built-in child uses, so it never shifts them.

    Examples:
        >>> a = stage_stream(1, "influencer").random()
        >>> a == stage_stream(1, "influencer").random() != stage_stream(2, "influencer").random()
        True
    """
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    seq = np.random.SeedSequence(int(seed), spawn_key=((1 << 32) + h,))
    return np.random.default_rng(seq)


#: user stages that scenario files may switch on under ``[stages.<name>]``
REGISTRY: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a user stage available to scenario files by its name.

    Examples:
        >>> @register
        ... class Quiet(Stage):
        ...     '''Does nothing.'''
        ...     name = "quiet"
        ...     def __call__(self, s): pass
        >>> REGISTRY["quiet"] is Quiet
        True
        >>> del REGISTRY["quiet"]
    """
    if not cls.name:
        raise ValueError(f"{cls.__name__}: a stage needs a name")
    REGISTRY[cls.name] = cls
    return cls


def parse_stage_sections(source: str, table: Any) -> dict[str, dict[str, Any]]:
    """Check the ``[stages.<name>]`` tables of a scenario (or ``ModelParams.stages``).

    Each name must be a registered stage (:func:`register`) and each table its
    parameters, checked against their metadata.

    Returns:
        ``{name: {parameter: value}}`` with every parameter filled in.

    Raises:
        sim.checks.ParamError: one line naming the source, key path and value.
    """
    from .checks import ParamError, build_params

    if not isinstance(table, dict):
        raise ParamError(source, "stages", table, "must be a table of [stages.<name>] tables")
    out = {}
    for name, values in table.items():
        cls = REGISTRY.get(name)
        if cls is None:
            known = ", ".join(sorted(REGISTRY)) or "none registered (sim.stages.register)"
            raise ParamError(source, f"stages.{name}", values, f"unknown stage; stages: {known}")
        if not isinstance(values, dict):
            raise ParamError(source, f"stages.{name}", values, "must be a table")
        if cls.Params is None:
            if values:
                raise ParamError(source, f"stages.{name}", values, "this stage has no parameters")
            out[name] = {}
            continue
        obj = build_params(cls.Params, values, source, f"stages.{name}")
        out[name] = dataclasses.asdict(obj)
    return out


def configure(schedule: Schedule, sections: dict[str, dict[str, Any]], source: str) -> None:
    """Add the registered stages named in ``sections`` to ``schedule`` with those
    parameters (a stage already in the schedule gets them instead)."""
    for name, values in parse_stage_sections(source, sections).items():
        stage = REGISTRY[name](**values)
        if name in schedule.names():
            schedule.replace(name, stage)
        else:
            schedule.add(stage)
