"""The market game's rules, kept apart from any page: rounds, submissions, the timer,
validation, instructor events, the leaderboard, saving and replaying.

A :class:`Game` wraps one :class:`~sim.model.MarketModel` whose first firms are the teams'
(identical copies of the scenario's first firm, so every team starts equal). Between rounds
each team submits a decision (a value for each lever of :data:`~sim.params.GAME_LEVERS`);
the round is played (``round_months`` periods) when every team has submitted, or when the
instructor's timer ends or the instructor ends it; a team that did not submit keeps its
levers. Decisions act from the first month of the round, through
:meth:`~sim.agents.Firm.set_lever` (logged as ``lever`` events with source ``team X``).

Nothing here imports solara: the page (:mod:`sim.game.page`) only draws what a game holds
and calls its methods, and the tests drive it without a browser.

Examples:
    >>> from sim.scenario import parse_scenario
    >>> sc = parse_scenario({"market": {"n_customers": 300}, "game": {"rounds": 2}})
    >>> g = Game(sc, teams=2, game_id="demo")
    >>> g.submit("A", {"price": 1.1})
    >>> g.submit("B", {"price": 0.9})  # all teams in: round 1 is played
    >>> g.round, g.model.period
    (1, 3)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model import MarketModel
from ..params import GAME_LEVERS, FirmParams, GameParams
from ..scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "Game",
    "GameError",
    "EVENTS",
    "TEAM_NAMES",
    "ENTRANT",
    "GameRegistry",
    "replay",
]

#: firm names of the teams, in order
TEAM_NAMES = tuple("ABCDEFGHIJKL")
#: the firm the instructor can bring in
ENTRANT = "Entrant"
#: instructor events → what they do (shown on the instructor page)
EVENTS = {
    "outage": "a team's firm fails: service 0 and quality at most 0.3 for game.outage_months",
    "entrant": "a new rival enters with an opening discount and strong marketing",
    "recession": "customers become more price-sensitive: price weights × game.shock",
}
_FIELDS = {f.name: f for f in dataclasses.fields(FirmParams)}
_GAME_FIELDS = {f.name: f for f in dataclasses.fields(GameParams)}


class GameError(ValueError):
    """A team's or the instructor's input is not allowed. ``str(err)`` is one line."""


def _check_setting(name: str, value: Any, source: str) -> Any:
    """A game setting (rounds, round_months, timer) checked against its metadata range."""
    f = _GAME_FIELDS[name]
    lo, hi = f.metadata["range"]
    kind = int if str(f.type) == "int" else float
    where = f"{source} {value!r}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GameError(f"{where}: must be a number in [{lo}, {hi}] (game.{name})")
    if kind is int and value != int(value):
        raise GameError(f"{where}: must be an integer in [{lo}, {hi}] (game.{name})")
    if not lo <= value <= hi:
        raise GameError(f"{where}: must lie in [{lo}, {hi}] (game.{name})")
    return kind(value)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return a == b


def _show(v: Any) -> str:
    if v is None:
        return "unlimited"
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:g}" if isinstance(v, float) else str(v)


class Game:
    """One game: a market, its teams, rounds, decisions and instructor events.

    Args:
        scenario: the market (its first firm is every team's starting firm; its
            ``[game]`` section, or the defaults of :class:`~sim.params.GameParams`, sets
            rounds, budget and lever bounds). The scenario's timeline events are not used:
            the teams decide.
        teams: number of teams (1–12), named A, B, C …
        game_id: the id in the game's address (random when not given).
        codes: each team's join code (random 4-digit codes when not given).
        rounds, round_months, timer: override the ``[game]`` section.
        instructor_key: the key in the instructor's address (random when not given).
        clock: seconds now (``time.monotonic``); tests pass a fake clock.

    Raises:
        GameError: a bad number of teams or setting (one line naming it and what is allowed).
    """

    def __init__(
        self,
        scenario: Scenario,
        teams: int,
        *,
        game_id: str | None = None,
        codes: dict[str, str] | None = None,
        rounds: int | None = None,
        round_months: int | None = None,
        timer: float | None = None,
        instructor_key: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(teams, bool) or not isinstance(teams, int) or not 1 <= teams <= 12:
            raise GameError(f"--teams {teams!r}: must be an integer in [1, 12]")
        cfg = copy.deepcopy(scenario.game) if scenario.game is not None else GameParams()
        for name, value in (("rounds", rounds), ("round_months", round_months), ("timer", timer)):
            if value is not None:
                setattr(cfg, name, _check_setting(name, value, f"--{name.replace('_', '-')}"))
        if cfg.outage_months > cfg.round_months:
            cfg.outage_months = cfg.round_months
        self.scenario = scenario
        self.config = cfg
        self.id = game_id or secrets.token_hex(3)
        self.teams = list(TEAM_NAMES[:teams])
        self.codes = (
            dict(codes) if codes else {t: f"{secrets.randbelow(9000) + 1000}" for t in self.teams}
        )
        self.instructor_key = instructor_key or secrets.token_hex(4)
        self.clock = clock
        self.model = MarketModel(self.build_params(scenario, teams, cfg))
        first = self.model.firms[0].levers
        start = {lev: getattr(first, lev) for lev in GAME_LEVERS}
        #: each team's own decision in force (an outage may override its firm's levers)
        self.levers: dict[str, dict[str, Any]] = {t: dict(start) for t in self.teams}
        self._start_levers = dict(start)
        self.submitted: dict[str, dict[str, Any]] = {}
        self.pending_events: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.round = 0
        self.paused = False
        self.finished = False
        #: whether the teams see the leaderboard (the instructor decides)
        self.leaderboard_shown = False
        self.saved: Path | None = None
        self.save_error = ""
        self.version = 0
        self.lock = threading.RLock()
        self._remaining: float | None = None
        self.deadline: float | None = None
        self._start_timer()
        self.on_finish: Callable[[Game], None] | None = None

    # ------------------------------------------------------------ construction
    @staticmethod
    def build_params(scenario: Scenario, teams: int, cfg: GameParams):
        """The model's parameters: ``teams`` copies of the scenario's first firm (fixed
        policy, in the market from the start), plus the dormant entrant when
        ``cfg.entrant``; no timeline; the market lasts ``rounds × round_months`` months."""
        p = copy.deepcopy(scenario.params)
        base = p.firms[0]
        firms = [
            dataclasses.replace(base, name=TEAM_NAMES[i], enter_at=0, policy="fixed")
            for i in range(teams)
        ]
        if cfg.entrant:
            firms.append(
                dataclasses.replace(
                    base,
                    name=ENTRANT,
                    enter_at=_FIELDS["enter_at"].metadata["range"][1],  # not until brought in
                    policy="fixed",
                    price=base.price * (1 - cfg.entrant_discount),
                    marketing=cfg.entrant_marketing,
                )
            )
        p.firms = firms
        p.events = []
        p.market.periods = cfg.rounds * cfg.round_months
        return p

    # ------------------------------------------------------------ notification
    def _changed(self) -> None:
        self.version += 1

    def _start_timer(self) -> None:
        t = float(self.config.timer)
        self._remaining = t if t > 0 and not self.finished else None
        self.deadline = None if self._remaining is None or self.paused else self.clock() + t

    def seconds_left(self) -> float | None:
        """Seconds left on the round's timer (None without a timer)."""
        with self.lock:
            if self.deadline is not None:
                return max(0.0, self.deadline - self.clock())
            return self._remaining

    # ------------------------------------------------------------ teams
    def team_of(self, code: str) -> str:
        """The team whose join code is ``code``.

        Raises:
            GameError: no team has that code.
        """
        code = str(code).strip()
        for team, c in self.codes.items():
            if secrets.compare_digest(c, code):
                return team
        raise GameError(f"code {code!r}: no team of game {self.id} has this code")

    def bounds(self, lever: str) -> tuple[float, float]:
        """The range a team may choose for a numeric lever (game.levers, else the lever's
        own range)."""
        if lever in self.config.levers:
            lo, hi = self.config.levers[lever]
            return float(lo), float(hi)
        lo, hi = _FIELDS[lever].metadata["range"]
        return float(lo), float(hi)

    def spending(self, decision: dict[str, Any]) -> dict[str, float]:
        """Committed spending of a decision over one round, by item (cu): marketing
        (reach × customers × marketing_cost) and capacity (capacity × capacity_cost)."""
        fp = self.model.firms[0].levers
        months = self.config.round_months
        n = self.model.pop.n
        cap = decision["capacity"]
        return {
            "marketing": months * float(decision["marketing"]) * n * fp.marketing_cost,
            "capacity": 0.0 if cap is None else months * float(cap) * fp.capacity_cost,
        }

    def validate(self, team: str, decision: dict[str, Any]) -> dict[str, Any]:
        """A team's decision checked against the game's limits; returns all its levers.

        Args:
            team: the team's name (A, B …).
            decision: lever → value; levers not given keep their value.

        Returns:
            The full decision (every lever of GAME_LEVERS).

        Raises:
            GameError: one line naming the team, the lever, the value and what is allowed
                (the lever's bounds, its largest change per round, or the budget).
        """
        if team not in self.teams:
            raise GameError(f"team {team!r} unknown; teams: {', '.join(self.teams)}")
        where = f"team {team}, round {self.round + 1}"
        if not isinstance(decision, dict):
            raise GameError(f"{where}: a decision must map levers to values")
        old = self.levers[team]
        out = dict(old)
        for lever, value in decision.items():
            if lever not in GAME_LEVERS:
                raise GameError(
                    f"{where}: {lever!r} is not a lever of the game; allowed: {', '.join(GAME_LEVERS)}"
                )
            out[lever] = self._lever_value(where, lever, value, old[lever])
        self._check_budget(where, out)
        return out

    def _lever_value(self, where: str, lever: str, value: Any, prev: Any) -> Any:
        """One lever's new value (a bool, None for unlimited capacity, or a float) checked
        against its bounds and its largest change per round from ``prev``.

        Raises:
            GameError: a value of the wrong type, out of bounds or changed too much.
        """
        if lever == "loyalty":
            if not isinstance(value, bool):
                raise GameError(f"{where}: loyalty = {value!r}: must be on or off (true/false)")
            return value
        if lever == "capacity" and (
            value is None or (isinstance(value, str) and value.strip().lower() == "unlimited")
        ):
            if not self.config.capacity_unlimited:
                lo, hi = self.bounds(lever)
                raise GameError(
                    f"{where}: capacity = unlimited: not allowed in this game "
                    f"(game.capacity_unlimited); choose a number in [{lo:g}, {hi:g}]"
                )
            return None
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                value = value.strip()
        lo, hi = self.bounds(lever)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            extra = (
                " or unlimited" if lever == "capacity" and self.config.capacity_unlimited else ""
            )
            raise GameError(
                f"{where}: {lever} = {value!r}: must be a number in [{lo:g}, {hi:g}]{extra}"
            )
        if not lo <= value <= hi:
            src = f"game.levers.{lever}" if lever in self.config.levers else f"firms[].{lever}"
            raise GameError(f"{where}: {lever} = {value:g}: must lie in [{lo:g}, {hi:g}] ({src})")
        step = self.config.max_change.get(lever)
        if step is not None and prev is not None and abs(value - prev) > step + 1e-12:
            raise GameError(
                f"{where}: {lever} = {value:g}: may change by at most {step:g} a round "
                f"(game.max_change.{lever}), i.e. lie in [{prev - step:g}, {prev + step:g}]"
            )
        return float(value)

    def _check_budget(self, where: str, out: dict[str, Any]) -> None:
        """Raise GameError when the decision's committed spending exceeds the budget."""
        budget = self.config.budget
        if budget is not None:
            spend = self.spending(out)
            total = sum(spend.values())
            if total > budget + 1e-9:
                items = " + ".join(f"{k} {v:,.1f}" for k, v in spend.items())
                raise GameError(
                    f"{where}: committed spending {total:,.1f} cu a round ({items}) exceeds "
                    f"the budget of {budget:,.1f} cu (game.budget)"
                )

    def submit(self, team: str, decision: dict[str, Any]) -> None:
        """Validate and record a team's decision for this round (a later submission
        replaces an earlier one). When every team has submitted (and the game is not
        paused) the round is played.

        Raises:
            GameError: the decision breaks a limit, or the game is over.
        """
        with self.lock:
            if self.finished:
                raise GameError(f"game {self.id} is over; no more decisions")
            full = self.validate(team, decision)
            self.submitted[team] = full
            self._changed()
            if not self.paused and len(self.submitted) == len(self.teams):
                self.advance("all teams submitted")

    # ------------------------------------------------------------ instructor
    def pause(self) -> None:
        """Stop the clock: no round is played (submissions are still accepted)."""
        with self.lock:
            if self.paused or self.finished:
                return
            self.paused = True
            if self.deadline is not None:
                self._remaining = max(0.0, self.deadline - self.clock())
                self.deadline = None
            self._changed()

    def resume(self) -> None:
        """Start the clock again; plays the round at once if every team has submitted."""
        with self.lock:
            if not self.paused:
                return
            self.paused = False
            if self._remaining is not None:
                self.deadline = self.clock() + self._remaining
            self._changed()
            if len(self.submitted) == len(self.teams):
                self.advance("all teams submitted")

    def show_leaderboard(self, on: bool = True) -> None:
        """Show the leaderboard on the teams' pages too (or hide it again)."""
        with self.lock:
            self.leaderboard_shown = bool(on)
            self._changed()

    def inject(self, kind: str, firm: str | None = None) -> None:
        """Schedule an instructor event for the start of the next round.

        Args:
            kind: ``outage`` (needs ``firm``), ``entrant`` or ``recession``.
            firm: the team whose firm fails (outage only).

        Raises:
            GameError: an unknown kind or team, or an entrant already in (or not allowed).
        """
        with self.lock:
            if self.finished:
                raise GameError(f"game {self.id} is over")
            if kind not in EVENTS:
                raise GameError(f"event {kind!r} unknown; allowed: {', '.join(EVENTS)}")
            ev: dict[str, Any] = {"kind": kind}
            if kind == "outage":
                if firm not in self.teams:
                    raise GameError(
                        f"outage: team {firm!r} unknown; teams: {', '.join(self.teams)}"
                    )
                ev["firm"] = firm
            if kind == "entrant":
                entered = any(e["kind"] == "entrant" for r in self.history for e in r["events"])
                if not self.config.entrant:
                    raise GameError("entrant: not allowed in this game (game.entrant = false)")
                if entered or any(e["kind"] == "entrant" for e in self.pending_events):
                    raise GameError("entrant: the new entrant is already in the market")
            self.pending_events.append(ev)
            self._changed()

    def tick(self) -> bool:
        """Play the round if its timer has run out. Returns True if a round was played."""
        with self.lock:
            if (
                self.finished
                or self.paused
                or self.deadline is None
                or self.clock() < self.deadline
            ):
                return False
            self.advance("timer")
            return True

    # ------------------------------------------------------------ playing a round
    def _lever(self, firm, lever: str, value: Any, source: str) -> None:
        cur = getattr(firm.levers, lever)
        same = cur is value if (cur is None or value is None) else cur == value
        if not same:
            firm.set_lever(lever, value, source=source)

    def _log(self, firm: int, detail: str, value: float = np.nan) -> None:
        m = self.model
        if m.params.record_events:
            m.recorder.add_events(m.period, "lever", [-1], firm, value=value, detail=detail)

    def _apply_event(self, ev: dict[str, Any]) -> list[tuple[int, str, dict]]:
        """Apply an instructor event at the start of a round; returns restorations as
        (month of the round, team, levers)."""
        m = self.model
        kind = ev["kind"]
        if kind == "outage":
            f = m.firm_by_name(ev["firm"])
            self._lever(f, "service", 0.0, "instructor: outage")
            self._lever(f, "quality", min(float(f.levers.quality), 0.3), "instructor: outage")
            if self.config.outage_months < self.config.round_months:
                return [(self.config.outage_months, ev["firm"], {})]
        elif kind == "entrant":
            f = m.firm_by_name(ENTRANT)
            f.levers.enter_at = m.period + 1
            self._log(f.index, f"enter_at: -> {m.period + 1} (instructor: new entrant)")
        else:  # recession
            m.pop.beta_price *= self.config.shock
            self._log(-1, f"beta_price: x {self.config.shock:g} (instructor: recession)")
        return []

    def advance(self, reason: str = "instructor") -> None:
        """Play the round: decisions and instructor events act from its first month; then
        ``round_months`` periods. Teams that did not submit keep their levers.

        Raises:
            GameError: the game is over.
        """
        with self.lock:
            if self.finished:
                raise GameError(f"game {self.id} is over")
            m = self.model
            record: dict[str, Any] = {
                "round": self.round + 1,
                "start": m.period + 1,
                "end": m.period + self.config.round_months,
                "reason": reason,
                "submitted": sorted(self.submitted),
                "decisions": {t: dict(d) for t, d in sorted(self.submitted.items())},
                "events": [dict(e) for e in self.pending_events],
            }
            for team, decision in self.submitted.items():
                self.levers[team] = dict(decision)
            for team in self.teams:  # every team's own levers (this also ends an outage)
                firm = m.firm_by_name(team)
                for lever, value in self.levers[team].items():
                    self._lever(firm, lever, value, f"team {team}")
            restore: list[tuple[int, str, dict]] = []
            for ev in self.pending_events:
                restore += self._apply_event(ev)
            for month in range(self.config.round_months):
                for when, team, _ in restore:
                    if when == month:
                        firm = m.firm_by_name(team)
                        for lever in ("service", "quality"):
                            self._lever(firm, lever, self.levers[team][lever], f"team {team}")
                m.step()
            record["survey"] = {t: self._survey(t) for t in self.teams}
            self.history.append(record)
            self.submitted = {}
            self.pending_events = []
            self.round += 1
            self.finished = self.round >= self.config.rounds
            self._start_timer()
            self._changed()
        if self.finished and self.on_finish is not None:
            self.on_finish(self)

    def _survey(self, team: str) -> float:
        """A satisfaction survey of the team's customers (the model's survey stream)."""
        return float(self.model._survey(self.model.firm_by_name(team)))

    # ------------------------------------------------------------ views
    def firm_frame(self) -> pd.DataFrame:
        """The model's firm table (one row per firm and month), with the ``round`` each
        month belongs to (0 for month 0); the entrant only from its entry. Taken under the
        game's lock: a page never reads a round half played."""
        with self.lock:
            f = self.model.firm_frame()
        f = f[(f["firm"] != ENTRANT) | f["active"]].copy()
        f["round"] = np.ceil(f["period"] / self.config.round_months).astype(int)
        return f.reset_index(drop=True)

    def accounts(self, team: str) -> pd.DataFrame:
        """A team's accounts by round: revenue, costs, profit, customers and share at the
        round's end, complaints received."""
        f = self.firm_frame()
        f = f[(f["firm"] == team) & (f["period"] > 0)]
        if f.empty:
            return pd.DataFrame(
                columns=["round", "revenue", "costs", "profit", "customers", "share", "complaints"]
            )
        g = f.groupby("round")
        out = pd.DataFrame(
            {
                "revenue": g["revenue"].sum(),
                "costs": g["revenue"].sum() - g["profit"].sum(),
                "profit": g["profit"].sum(),
                "customers": g["customers"].last(),
                "share": g["share"].last(),
                "complaints": g["complaints"].sum(),
            }
        )
        return out.reset_index()

    def research(self, team: str) -> dict[str, Any]:
        """A team's market research after the last round: every active firm's share and
        posted price, the team's survey satisfaction and complaints last round."""
        with self.lock:
            m = self.model
            f = self.firm_frame()
            last = f[f["period"] == f["period"].max()]
            rivals = [
                {
                    "firm": str(r.firm),
                    "share": float(r.share),
                    "price": float(m.firm_by_name(r.firm).levers.price),
                }
                for r in last.itertuples()
            ]
            lr = self.history[-1] if self.history else None
            mine = f[(f["firm"] == team) & (f["round"] == self.round) & (f["period"] > 0)]
            return {
                "round": self.round,
                "firms": rivals,
                "survey": lr["survey"][team] if lr else float("nan"),
                "complaints": int(mine["complaints"].sum()) if lr else 0,
            }

    def leaderboard(self) -> pd.DataFrame:
        """One row per team (and the entrant once in), best first by total profit:
        ``profit`` (total), ``share`` and ``satisfaction`` (mean satisfaction of its
        customers) at the last month, ``clv`` (customer lifetime value at the last month)."""
        f = self.firm_frame()
        last = f[f["period"] == f["period"].max()].set_index("firm")
        played = f[f["period"] > 0].groupby("firm")["profit"].sum()
        rows = [
            {
                "firm": name,
                "profit": float(played.get(name, 0.0)),
                "share": float(last.loc[name, "share"]),
                "satisfaction": float(last.loc[name, "mean_satisfaction"]),
                "clv": float(last.loc[name, "clv"]),
            }
            for name in last.index
        ]
        out = pd.DataFrame(rows).sort_values("profit", ascending=False, kind="stable")
        out.insert(0, "rank", range(1, len(out) + 1))
        return out.reset_index(drop=True)

    def decision_log(self) -> pd.DataFrame:
        """Every round's decisions and events in words: ``round``, ``month`` (the first
        month they act in), ``who`` (a team or the instructor) and ``what``."""
        rows = []
        state = {t: None for t in self.teams}
        for rec in self.history:
            for t in self.teams:
                if t not in rec["submitted"]:
                    rows.append((rec["round"], rec["start"], f"team {t}", "kept its levers"))
                    continue
                new = rec["decisions"][t]
                old = state[t] if state[t] is not None else self._start_levers
                changes = [
                    f"{lev} {_show(old[lev])} → {_show(new[lev])}"
                    for lev in GAME_LEVERS
                    if not _same(old[lev], new[lev])
                ]
                rows.append(
                    (rec["round"], rec["start"], f"team {t}", ", ".join(changes) or "no change")
                )
                state[t] = new
            for ev in rec["events"]:
                what = ev["kind"] + (f" at {ev['firm']}" if "firm" in ev else "")
                rows.append((rec["round"], rec["start"], "instructor", what))
        return pd.DataFrame(rows, columns=["round", "month", "who", "what"])

    def status(self) -> str:
        """One line: round, who has submitted, pause and timer."""
        with self.lock:
            if self.finished:
                return f"Game over after {self.round} rounds"
            left = self.seconds_left()
            parts = [
                f"Round {self.round + 1} of {self.config.rounds}",
                f"{len(self.submitted)} of {len(self.teams)} teams submitted",
            ]
            if self.paused:
                parts.append("paused")
            if left is not None:
                parts.append(f"{int(left)} s left")
            return " · ".join(parts)

    # ------------------------------------------------------------ saving and replaying
    def record(self) -> dict[str, Any]:
        """Everything needed to replay the game (with the scenario): teams, settings,
        seed and every round's decisions and events."""
        cfg = self.config
        return {
            "game": self.id,
            "scenario": self.scenario.name,
            "teams": len(self.teams),
            "seed": int(self.model.params.seed),
            "rounds": cfg.rounds,
            "round_months": cfg.round_months,
            "rounds_played": self.round,
            "history": self.history,
        }

    def save(self, out_root: str | Path = "results") -> Path:
        """Write the game as a run folder ``out_root/game/<game id>/``: scenario.toml (the
        market with its [game] section), game.json (:meth:`record`), the firm, market and
        event tables, leaderboard.csv, debrief.png and manifest.json (so ``sim explain``
        and ``sim compare`` read it too). Written atomically; returns the folder."""
        import tomli_w

        from ..runner import _versions, _write_table, atomic_folder
        from ..scenario import scenario_to_dict
        from .figures import debrief_png

        with self.lock:
            sc = self.scenario
            with atomic_folder(Path(out_root) / "game", self.id) as (tmp, final):
                (tmp / "scenario.toml").write_text(tomli_w.dumps(scenario_to_dict(sc)))
                (tmp / "game.json").write_text(json.dumps(self.record(), indent=1) + "\n")
                files = ["scenario.toml", "game.json"]
                m = self.model
                for name, df in (
                    ("firms", m.firm_frame()),
                    ("market", m.market_frame()),
                    ("events", m.events()),
                    ("panel", m.panel_frame()),
                ):
                    files += _write_table(df, tmp, name, fmt="both")
                m.customer_frame().to_parquet(tmp / "customers.parquet", index=False)
                self.leaderboard().to_csv(tmp / "leaderboard.csv", index=False)
                (tmp / "debrief.png").write_bytes(debrief_png(self))
                files += ["customers.parquet", "leaderboard.csv", "debrief.png"]
                manifest = {
                    "scenario": sc.name,
                    "title": sc.title,
                    "game": self.id,
                    "seed": int(m.params.seed),
                    "periods": int(m.period),
                    "customers": int(m.pop.n),
                    "firms": [f.name for f in m.firms],
                    "versions": _versions(),
                    "command": ["sim", "game", "--replay", str(final)],
                    "files": files + ["manifest.json"],
                }
                (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            self.saved = final
            self._changed()
            return final


def replay(folder: str | Path) -> Game:
    """Play a saved game again from its scenario.toml and game.json (same seed, same
    decisions and events, in the same order). The result is identical to the original.

    Raises:
        GameError: the folder is not a saved game (one line naming the file).
    """
    folder = Path(folder)
    gj, st = folder / "game.json", folder / "scenario.toml"
    for p in (gj, st):
        if not p.is_file():
            raise GameError(f"{folder}: not a saved game ({p.name} is missing)")
    try:
        rec = json.loads(gj.read_text())
        teams, history = int(rec["teams"]), list(rec["history"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GameError(f"{gj}: not a valid game record ({type(exc).__name__}: {exc})") from None
    try:
        sc = load_scenario(st)
    except ScenarioError as exc:
        raise GameError(str(exc)) from None
    g = Game(
        sc,
        teams,
        game_id=str(rec.get("game", "replay")),
        rounds=int(rec["rounds"]),
        round_months=int(rec["round_months"]),
        timer=0,
    )
    for r in history:
        g.paused = True  # record submissions without playing, as in the game
        for team, decision in r["decisions"].items():
            g.submit(team, decision)
        for ev in r["events"]:
            g.inject(ev["kind"], ev.get("firm"))
        g.paused = False
        g.advance(r["reason"])
    return g


class GameRegistry:
    """The games one server runs at once, by id (shared by every browser session)."""

    def __init__(self) -> None:
        self.games: dict[str, Game] = {}
        self.lock = threading.Lock()

    def add(self, game: Game) -> Game:
        with self.lock:
            if game.id in self.games:
                raise GameError(f"game {game.id!r} exists already")
            self.games[game.id] = game
        return game

    def get(self, game_id: str) -> Game | None:
        with self.lock:
            return self.games.get(str(game_id))

    def ids(self) -> list[str]:
        with self.lock:
            return list(self.games)
