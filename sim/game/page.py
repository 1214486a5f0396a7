"""The market game's pages (Solara). Served by ``sim game SCENARIO --teams N``.

Addresses: ``/?game=ID`` (a team: enter the join code), ``/?game=ID&key=KEY`` (the
instructor). The games live in one server-side :class:`~sim.game.engine.GameRegistry`
shared by every browser session (``solara.reactive`` state is per tab); each session polls
its game's ``version`` twice a second and redraws when it changed (a game's timer is also
checked there). All rules are in :mod:`sim.game.engine`; this module only draws and calls.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import threading
from urllib.parse import parse_qs

import pandas as pd
import reacton.ipyvuetify as rv
import solara

from ..app.figures import firm_color
from ..params import GAME_LEVERS
from . import ENV_GAME, game_from_spec, saver
from .engine import EVENTS, TEAM_NAMES, Game, GameError, GameRegistry
from .figures import debrief_png

__all__ = ["Page", "REGISTRY", "LEVER_LABELS", "table_html"]

#: the games of this server, by id
REGISTRY = GameRegistry()
_SPEC: dict = {}
if os.environ.get(ENV_GAME):
    _SPEC = json.loads(os.environ[ENV_GAME])
    REGISTRY.add(game_from_spec(_SPEC))

#: how each lever is labelled on the team page
LEVER_LABELS = {
    "price": "Price",
    "quality": "Quality (0–1)",
    "service": "Service level (0–1)",
    "complaint_ease": "Complaint ease (0–1)",
    "resolve_share": "Complaints resolved (share)",
    "resolve_speed": "Resolved quickly (share)",
    "marketing": "Marketing reach (per month)",
    "loyalty": "Loyalty programme",
    "loyalty_discount": "Member discount (share of price)",
    "referral_reward": "Referral reward (cu)",
    "capacity": "Capacity (purchases a month)",
}
POLL = 0.3  # seconds between checks of the game's version

CSS = """
.game-shell { background: #f7fafc; min-height: 100vh; }
.game-top { background: #22543d; color: white; padding: 8px 18px; font-size: 1.2rem; }
.game-top small { color: #c6f6d5; margin-left: 10px; font-size: 0.95rem; }
.game-body { padding: 10px 18px 40px 18px; }
.game-card { background: white; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 14px; margin-bottom: 10px; }
.game-card h3 { font-size: 1.05rem; margin: 0 0 6px 0; }
.game-status { font-size: 1.3rem; font-weight: 700; margin: 4px 0 8px 0; }
.game-error { background: #fff5f5; border-left: 5px solid #c53030; padding: 6px 10px; margin: 6px 0; }
.game-ok { background: #f0fff4; border-left: 5px solid #38a169; padding: 6px 10px; margin: 6px 0; }
.game-muted { color: #718096; font-size: 0.88rem; }
table.game-table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
table.game-table th { text-align: right; color: #4a5568; font-weight: 600; padding: 3px 8px; border-bottom: 2px solid #cbd5e0; }
table.game-table td { text-align: right; padding: 3px 8px; border-bottom: 1px solid #edf2f7; font-variant-numeric: tabular-nums; }
table.game-table th:first-child, table.game-table td:first-child { text-align: left; }
table.game-table td.text, table.game-table th.text { text-align: left; }
.game-lever { margin-bottom: -4px; }
.game-figure img { width: 100%; height: auto; }
"""


def _fmt(col: str, v) -> str:
    if isinstance(v, str):
        return html.escape(v)
    if v is None or v != v:
        return "–"
    if col in ("share",):
        return f"{100 * v:.1f}%"
    if col in ("satisfaction", "survey", "mean_satisfaction"):
        return f"{v:+.2f}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return f"{v:,}"


def table_html(df: pd.DataFrame, cls: str = "", text: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table; every cell carries ``data-col`` and ``data-value``."""
    head = "".join(
        f'<th class="{"text" if c in text else ""}">{html.escape(str(c))}</th>' for c in df.columns
    )
    rows = []
    for r in df.itertuples(index=False):
        cells = "".join(
            f'<td class="{"text" if c in text else ""}" data-col="{html.escape(str(c))}" '
            f'data-value="{html.escape(str(v))}">{_fmt(str(c), v)}</td>'
            for c, v in zip(df.columns, r, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="game-table {cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _html(text: str, *classes: str, **attrs) -> None:
    solara.HTML(tag="div", classes=list(classes), unsafe_innerHTML=text, attributes=attrs or None)


def _status(game: Game) -> None:
    _html(
        html.escape(game.status()),
        "game-status",
        **{
            "data-round": str(game.round),
            "data-finished": "1" if game.finished else "0",
            "data-submitted": str(len(game.submitted)),
        },
    )


# ---------------------------------------------------------------- debrief
@solara.component
def Debrief(game: Game, version: int = 0):
    """The end of the game: the replay with every decision marked, the leaderboard and
    the decisions in words."""
    with solara.Div(classes=["game-card", "game-debrief"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Debrief: the game replayed")
        GameFigure(game, version=version)
        _html(
            "▲ a team's decision (hollow: it kept its levers); dashed red: an instructor event; "
            "grey lines: the rounds.",
            "game-muted",
        )
    Leaderboard(game, version=version)
    with solara.Div(classes=["game-card", "game-decisions"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Decisions, round by round")
        _html(table_html(game.decision_log(), text=("who", "what")))
        if game.save_error:
            _html(html.escape(game.save_error), "game-error")
        if game.saved is not None:
            _html(
                f"Saved as a run folder: <code>{html.escape(str(game.saved))}</code> "
                f"(<code>sim game --replay {html.escape(str(game.saved))}</code> plays it again).",
                "game-muted",
                **{"data-saved": str(game.saved)},
            )


@solara.component
def GameFigure(game: Game, version: int = 0):
    """The game month by month with every decision marked (redrawn after each round)."""
    png = solara.use_memo(lambda: debrief_png(game), [game.id, game.round])
    with solara.Div(classes=["game-figure"]):
        solara.Image(png, width="100%")


@solara.component
def Leaderboard(game: Game, version: int = 0):
    with solara.Div(classes=["game-card", "game-leaderboard"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Leaderboard")
        board = game.leaderboard().rename(columns={"clv": "CLV"})
        _html(table_html(board, text=("firm",)))
        _html(
            "Profit: total over the rounds played. Share and satisfaction (mean of the firm's "
            "customers, −1…1): last month. CLV: customer lifetime value m·r/(1+i−r), last month.",
            "game-muted",
        )


# ---------------------------------------------------------------- team
@solara.component
def LeverInput(game: Game, lever: str, value, on_value):
    """One lever of the decision form: a switch (loyalty), a text field (capacity: a
    number, or unlimited when the game allows it) or a number field, labelled with the
    lever's limits in this game."""
    label = LEVER_LABELS[lever]
    with solara.Div(classes=["game-lever", f"game-lever-{lever}"]):
        if lever == "loyalty":
            solara.Switch(label=label, value=bool(value), on_value=on_value)
            return
        lo, hi = game.bounds(lever)
        hint = f"{lo:g} … {hi:g}" if hi < 1e9 else f"at least {lo:g}"
        if lever == "capacity":
            if game.config.capacity_unlimited:
                hint += " or unlimited"
            solara.InputText(
                f"{label}: {hint}",
                value="unlimited" if value is None else f"{value:g}",
                on_value=on_value,
                continuous_update=True,  # typed text survives a redraw
            )
            return
        solara.InputFloat(
            f"{label}: {hint}", value=float(value), on_value=on_value, continuous_update=True
        )


@solara.component
def DraftSummary(game: Game, team: str, draft: dict):
    """What the draft changes against the team's current levers, and (with a budget) what
    it commits."""
    current = game.levers[team]
    changes = [
        f"{lever} {_lever_text(current[lever])} → {_lever_text(_parse(lever, draft[lever]))}"
        for lever in GAME_LEVERS
        if _changed(current[lever], _parse(lever, draft[lever]))
    ]
    _html(
        "Changes: " + html.escape(", ".join(changes))
        if changes
        else "No changes: you keep your levers.",
        "game-changes",
    )
    if game.config.budget is not None:
        try:
            spend = game.spending(game.validate(team, {}) | _numbers(draft))
            used = f"; this decision commits {sum(spend.values()):,.1f} cu"
        except (GameError, TypeError, ValueError):
            used = ""
        _html(
            f"Budget: {game.config.budget:,.1f} cu a round for marketing and capacity{used}.",
            "game-muted",
        )


@solara.component
def DecisionForm(game: Game, team: str, version: int = 0):
    """The team's levers for the next round, with their limits; Submit validates."""
    draft, set_draft = solara.use_state(dict(game.submitted.get(team) or game.levers[team]))
    message, set_message = solara.use_state(("", ""))

    def setter(lever):
        def set_value(v):
            set_draft({**draft, lever: v})

        return set_value

    def submit():
        try:
            game.submit(team, draft)
        except GameError as exc:
            set_message(("error", str(exc)))
            return
        set_message(("ok", "Decisions recorded."))

    with solara.Div(classes=["game-card", "game-decide"]):
        solara.HTML(tag="h3", unsafe_innerHTML=f"Your decisions for round {game.round + 1}")
        for lever in GAME_LEVERS:
            LeverInput(game, lever, draft[lever], setter(lever))
        DraftSummary(game, team, draft)
        solara.Button("Submit decisions", on_click=submit, color="primary", classes=["game-submit"])
        kind, text = message
        if text:
            _html(html.escape(text), "game-error" if kind == "error" else "game-ok")
        if team in game.submitted and not game.finished:
            _html(
                f"Submitted. Waiting for the other teams ({len(game.submitted)} of "
                f"{len(game.teams)} in); you may change and submit again until the round is played.",
                "game-muted",
                **{"data-waiting": "1"},
            )


def _parse(lever: str, v):
    """A draft value as the game reads it (capacity typed as text: a number or unlimited)."""
    if lever == "capacity" and isinstance(v, str):
        text = v.strip().lower()
        if text == "unlimited":
            return None
        try:
            return float(text)
        except ValueError:
            return v
    return v


def _changed(old, new) -> bool:
    if old is None or new is None:
        return old is not new
    return old != new


def _lever_text(v) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return "unlimited"
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:g}"


def _numbers(draft: dict) -> dict:
    return {k: _parse(k, v) for k, v in draft.items()}


@solara.component
def TeamView(game: Game, team: str, version: int = 0):
    j = game.teams.index(team)
    _html(
        f'<span style="color:{firm_color(j)}">■</span> You are firm <b>{team}</b> in game '
        f"<b>{html.escape(game.id)}</b>",
        "game-team",
        **{"data-team": team},
    )
    _status(game)
    if game.finished:
        Debrief(game, version=version)
        return
    with solara.Columns([2, 3]):
        DecisionForm(game, team, version=version).key(f"{team}-{game.round}")
        with solara.Div():
            with solara.Div(classes=["game-card", "game-accounts"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Your accounts, by round")
                acc = game.accounts(team)
                if acc.empty:
                    _html("No round played yet.", "game-muted")
                else:
                    _html(table_html(acc))
            if game.leaderboard_shown:
                Leaderboard(game, version=version)
            r = game.research(team)
            with solara.Div(classes=["game-card", "game-research"]):
                solara.HTML(tag="h3", unsafe_innerHTML="Market research")
                firms = pd.DataFrame(r["firms"])
                _html(table_html(firms, text=("firm",)))
                if r["round"]:
                    _html(
                        f"Satisfaction survey of your customers: <b>{_fmt('survey', r['survey'])}</b> "
                        f"(−1…1, up to 100 asked). Complaints you received last round: <b>{r['complaints']}</b>.",
                        "game-survey",
                    )


@solara.component
def TeamPage(game: Game, version: int = 0):
    team, set_team = solara.use_state("")
    code, set_code = solara.use_state("")
    error, set_error = solara.use_state("")
    if team:
        TeamView(game, team, version=version)
        return

    def join(value: str | None = None):
        try:
            set_team(game.team_of(code if value is None else value))
            set_error("")
        except GameError as exc:
            set_error(str(exc))

    def entered(value: str):  # a whole code (four characters or more) is tried at once
        set_code(value)
        if len(value.strip()) >= 4:
            join(value)

    with solara.Div(classes=["game-card", "game-join"]):
        solara.HTML(tag="h3", unsafe_innerHTML=f"Join game {html.escape(game.id)}")
        solara.InputText("Your team's code", value=code, on_value=entered, continuous_update=True)
        solara.Button(
            "Join", on_click=lambda: join(), color="primary", classes=["game-join-button"]
        )
        if error:
            _html(html.escape(error), "game-error")


# ---------------------------------------------------------------- instructor
def _round_controls(game: Game, act) -> None:
    """Pause or resume, end the round now, show the leaderboard to the teams."""
    solara.HTML(tag="h3", unsafe_innerHTML="Round")
    with solara.Row():
        if game.paused:
            solara.Button("Resume", on_click=act(game.resume), classes=["game-resume"])
        else:
            solara.Button("Pause", on_click=act(game.pause), classes=["game-pause"])
        solara.Button(
            "End round now",
            on_click=act(game.advance, "instructor"),
            color="primary",
            classes=["game-end-round"],
        )
    solara.Switch(
        label="Show the leaderboard to the teams",
        value=game.leaderboard_shown,
        on_value=game.show_leaderboard,
        classes=["game-show-board"],
    )


def _event_controls(game: Game, act, outage_team: str, set_outage_team) -> None:
    """Inject an outage, a new entrant or a recession from the next round; the pending ones."""
    solara.HTML(tag="h3", unsafe_innerHTML="Events (from the next round)")
    rv.Select(
        label="Outage at",
        items=list(game.teams),
        v_model=outage_team,
        on_v_model=set_outage_team,
        dense=True,
        hide_details=True,
    )
    with solara.Row():
        solara.Button(
            "Outage",
            on_click=act(game.inject, "outage", outage_team),
            classes=["game-ev-outage"],
        )
        solara.Button(
            "New entrant",
            on_click=act(game.inject, "entrant"),
            classes=["game-ev-entrant"],
        )
        solara.Button(
            "Recession",
            on_click=act(game.inject, "recession"),
            classes=["game-ev-recession"],
        )
    _html(
        "<br>".join(f"<b>{k}</b>: {html.escape(v)}" for k, v in EVENTS.items()),
        "game-muted",
    )
    if game.pending_events:
        pend = ", ".join(
            e["kind"] + (f" at {e['firm']}" if "firm" in e else "") for e in game.pending_events
        )
        _html(
            f"Next round: {html.escape(pend)}",
            "game-ok",
            **{"data-pending": str(len(game.pending_events))},
        )


def _teams_card(game: Game) -> None:
    """The teams, their join codes and whether they submitted this round."""
    with solara.Div(classes=["game-card", "game-teams"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Teams")
        rows = pd.DataFrame(
            {
                "team": game.teams,
                "code": [game.codes[t] for t in game.teams],
                "submitted": ["yes" if t in game.submitted else "–" for t in game.teams],
            }
        )
        _html(table_html(rows, text=("team", "code", "submitted")))
        _html(
            f"Teams join at <code>/?game={html.escape(game.id)}</code> with their code.",
            "game-muted",
        )


def _levers_card(game: Game) -> None:
    """Every active firm's levers now."""
    with solara.Div(classes=["game-card", "game-levers"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Every firm's levers now")
        firms = [f for f in game.model.firms if f.active]
        lv = pd.DataFrame(
            {"lever": [LEVER_LABELS[k] for k in GAME_LEVERS]}
            | {f.name: [_lever_text(getattr(f.levers, k)) for k in GAME_LEVERS] for f in firms}
        )
        _html(table_html(lv, text=("lever",)))


@solara.component
def InstructorView(game: Game, version: int = 0):
    outage_team, set_outage_team = solara.use_state(game.teams[0])
    error, set_error = solara.use_state("")
    _status(game)

    def act(fn, *args):
        def run():
            try:
                fn(*args)
                set_error("")
            except GameError as exc:
                set_error(str(exc))

        return run

    if game.finished:
        Debrief(game, version=version)
        NewGame(game)
        return
    with solara.Columns([2, 3]):
        with solara.Div():
            with solara.Div(classes=["game-card", "game-controls"]):
                _round_controls(game, act)
                _event_controls(game, act, outage_team, set_outage_team)
                if error:
                    _html(html.escape(error), "game-error")
            _teams_card(game)
        with solara.Div():
            Leaderboard(game, version=version)
            _levers_card(game)
            with solara.Div(classes=["game-card", "game-live"]):
                solara.HTML(tag="h3", unsafe_innerHTML="The game so far")
                GameFigure(game, version=version)
    NewGame(game)


@solara.component
def NewGame(game: Game):
    """Start another game on this server (same scenario, any number of teams)."""
    teams, set_teams = solara.use_state(len(game.teams))
    made, set_made = solara.use_state("")
    error, set_error = solara.use_state("")

    def start():
        try:
            g = Game(
                game.scenario,
                int(teams),
                game_id=secrets.token_hex(3),
                rounds=game.config.rounds,
                round_months=game.config.round_months,
                timer=game.config.timer,
            )
            g.on_finish = saver(_SPEC.get("out", "results"))
            REGISTRY.add(g)
        except GameError as exc:
            set_error(str(exc))
            return
        codes = ", ".join(f"{t} {c}" for t, c in g.codes.items())
        set_made(
            f'Game {g.id}: instructor <a href="?game={g.id}&key={g.instructor_key}">?game={g.id}&key={g.instructor_key}</a>; '
            f"teams <code>?game={g.id}</code>; codes {codes}"
        )
        set_error("")

    with solara.Div(classes=["game-card", "game-new"]):
        solara.HTML(tag="h3", unsafe_innerHTML="Start another game on this server")
        solara.InputInt(f"Teams (1–{len(TEAM_NAMES)})", value=teams, on_value=set_teams)
        solara.Button("Start", on_click=start, classes=["game-new-start"])
        if made:
            _html(made, "game-ok")
        if error:
            _html(html.escape(error), "game-error")


# ---------------------------------------------------------------- the page
@solara.component
def Page():
    router = solara.use_router()
    query = parse_qs((router.search or "").lstrip("?"))
    gid = query.get("game", [""])[0]
    key = query.get("key", [""])[0]
    game = REGISTRY.get(gid) if gid else None
    version, set_version = solara.use_state(-1)

    def poll(cancel: threading.Event):
        last = None
        while not cancel.is_set():
            if game is not None:
                game.tick()
                left = game.seconds_left()
                now = (game.version, None if left is None else int(left))
                if now != last:
                    last = now
                    set_version(game.version * 100_000 + (now[1] or 0))
            cancel.wait(POLL)

    solara.use_thread(poll, dependencies=[gid], intrusive_cancel=False)
    solara.Style(CSS)
    role = (
        "instructor"
        if game is not None and key and secrets.compare_digest(key, game.instructor_key)
        else "team"
    )
    with solara.Div(classes=["game-shell"]):
        if version >= 0:  # the session follows its game (the browser test waits for this)
            _html("", "game-ready")
        title = html.escape(game.scenario.title or game.scenario.name) if game else ""
        _html(f"<b>sim market game</b><small>{title}</small>", "game-top")
        with solara.Div(classes=["game-body", f"game-{role}"]):
            if game is None:
                _html(
                    "No such game here. Open the address your instructor gave you "
                    "(<code>/?game=ID</code>)."
                    if gid
                    else "Open the address your instructor gave you (<code>/?game=ID</code>).",
                    "game-card",
                )
            elif role == "instructor":
                InstructorView(game, version=version)
            else:
                TeamPage(game, version=version)


@solara.component
def Layout(children=[]):  # noqa: B006 (solara's layout signature)
    """No app bar or drawer: the page draws its own top bar."""
    return solara.Div(children=children)
