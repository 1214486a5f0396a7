"""The market game for student teams: ``sim game SCENARIO --teams N``.

Each team runs one firm of a market and decides its levers round by round in its own
browser tab; the instructor watches everything, pauses, injects events and shows the
leaderboard; at the end a debrief replays the game with every decision marked, and the
game is saved as a run folder that ``sim game --replay FOLDER`` plays again to identical
results. docs/game.md describes a game in class.

The rules live in :mod:`sim.game.engine` (no browser needed); :mod:`sim.game.page` is the
Solara page; :func:`main` checks the arguments, prints the addresses and join codes, and
serves the page with ``solara run sim.game.page`` in a child process (offline, like the
dashboard).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from ..app import _ArgError, _Parser  # one-line argument errors, as the dashboard's
from .engine import ENTRANT, EVENTS, TEAM_NAMES, Game, GameError, GameRegistry, replay

__all__ = [
    "main",
    "Game",
    "GameError",
    "GameRegistry",
    "replay",
    "EVENTS",
    "TEAM_NAMES",
    "ENTRANT",
    "ENV_GAME",
    "saver",
]

DEFAULT_PORT = 8766
#: environment variable carrying the first game's settings to the server process
ENV_GAME = "SIM_GAME_SPEC"


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="sim game",
        description="Run the market game: student teams each run a firm, round by round, "
        "in their browsers (docs/game.md).",
    )
    ap.add_argument("scenario", nargs="?", help="scenario file, or a name in scenarios/")
    ap.add_argument("--teams", type=int, help="number of teams (1–12)")
    ap.add_argument("--rounds", type=int, help="rounds (default: the scenario's [game] section)")
    ap.add_argument("--round-months", type=int, help="months per round (default 3)")
    ap.add_argument("--timer", type=float, help="seconds per round (0 = no timer)")
    ap.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. --set market.n_customers=1000 (repeatable)",
    )
    ap.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    ap.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: the classroom)"
    )
    ap.add_argument(
        "--out", default="results", help="results folder; games are saved in OUT/game/ID"
    )
    ap.add_argument("--replay", metavar="FOLDER", help="replay a saved game and check its tables")
    ap.add_argument("--check", action="store_true", help="check the arguments, then exit")
    return ap


def _csv(df) -> str:
    import pandas as pd

    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    return df.to_csv(index=False)


def replay_report(folder: str | Path) -> tuple[bool, str]:
    """Replay a saved game; compare its firm, market and event tables with the saved CSV
    files byte for byte. Returns (identical, report text)."""
    folder = Path(folder)
    g = replay(folder)
    m = g.model
    lines, same = [], True
    for name, df in (
        ("firms", m.firm_frame()),
        ("market", m.market_frame()),
        ("events", m.events()),
    ):
        saved = folder / f"{name}.csv"
        ok = saved.is_file() and saved.read_text() == _csv(df)
        same &= ok
        lines.append(f"  {name}.csv: {'identical' if ok else 'DIFFERENT'}")
    head = (
        f"sim game --replay: {folder}: {g.round} rounds of {g.config.round_months} months, "
        f"{len(g.teams)} teams, seed {int(m.params.seed)}"
    )
    board = g.leaderboard().to_string(index=False, float_format=lambda v: f"{v:,.3f}")
    return same, "\n".join([head, *lines, "", board])


def main(argv: list[str] | None = None) -> int:
    """``sim game``: 0 after a clean stop (or an identical replay), 1 when a replay
    differs, 2 on bad input (one line on stderr)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser()
    if any(a in ("-h", "--help") for a in argv):
        ap.print_help()
        return 0
    try:
        a = ap.parse_args(argv)
        if a.replay:
            try:
                same, text = replay_report(a.replay)
            except GameError as exc:
                raise _ArgError(f"--replay {exc}") from None
            print(text)
            return 0 if same else 1
        sc, spec, game, port = _checked(a)
    except _ArgError as exc:
        print(f"sim game: error: {exc}", file=sys.stderr)
        return 2
    shown = "127.0.0.1" if a.host in ("0.0.0.0", "") else a.host
    url = f"http://{shown}:{port}/"
    cfg = game.config
    print(
        f"sim game: {sc.title or sc.name}: {len(game.teams)} teams, {cfg.rounds} rounds of "
        f"{cfg.round_months} months, game {game.id}",
        flush=True,
    )
    print(f"  instructor: {url}?game={game.id}&key={game.instructor_key}", flush=True)
    print(f"  teams join: {url}?game={game.id}", flush=True)
    print("  codes:      " + "  ".join(f"{t}={c}" for t, c in game.codes.items()), flush=True)
    print(f"  saved at the end in {Path(spec['out']) / 'game' / game.id}", flush=True)
    if a.check:
        return 0
    return _serve(a.host, port, spec)


def _checked(a: argparse.Namespace) -> tuple[Any, dict, Game, int]:
    """The scenario, the game's settings, the game and the port, every setting checked
    before the server starts.

    Raises:
        _ArgError: a bad option, scenario or setting, no Solara, or a port in use.
    """
    if a.teams is None:
        raise _ArgError("--teams N is required (1–12)")
    if not 0 <= a.port <= 65535:
        raise _ArgError(f"--port {a.port}: must lie in 0..65535")
    from ..app import _free_port, _port_free
    from ..app.session import resolve_scenario
    from ..cli import _check_out
    from ..scenario import ScenarioError, load_scenario

    try:
        path = resolve_scenario(a.scenario)
        sc = load_scenario(path, list(a.set or []))
    except (FileNotFoundError, ScenarioError) as exc:
        raise _ArgError(str(exc)) from None
    spec = {
        "scenario": str(path),
        "set": list(a.set or []),
        "teams": a.teams,
        "rounds": a.rounds,
        "round_months": a.round_months,
        "timer": a.timer,
        "id": secrets.token_hex(3),
        "key": secrets.token_hex(4),
        "codes": {t: f"{secrets.randbelow(9000) + 1000}" for t in TEAM_NAMES[: max(a.teams, 0)]},
        "out": str(_check_out("--out", a.out)),
    }
    try:
        game = game_from_spec(spec, sc)  # every setting checked before the server starts
    except GameError as exc:
        raise _ArgError(str(exc)) from None
    try:
        import solara  # noqa: F401
    except ModuleNotFoundError:
        raise _ArgError(
            "the game needs solara==1.58.2 and solara-assets==1.58.2 (scripts/setup.sh installs them)"
        ) from None
    port = a.port or _free_port(a.host)
    if not _port_free(a.host, port):
        raise _ArgError(f"--port {port}: already in use on {a.host}; pick another (or --port 0)")
    return sc, spec, game, port


def _serve(host: str, port: int, spec: dict) -> int:
    """Run the game's Solara server until it stops or Ctrl-C / SIGTERM."""
    from ..app import SERVER_ENV, _run_server, server_command

    env = dict(os.environ)
    env.update(SERVER_ENV)
    env["SOLARA_THEME_TITLE"] = "sim market game"
    env[ENV_GAME] = json.dumps(spec)
    cmd = [("sim.game.page" if c == "sim.app.page" else c) for c in server_command(host, port)]
    return _run_server(cmd, env, "sim game")


def game_from_spec(spec: dict, scenario=None) -> Game:
    """A game from the settings :func:`main` passes to the server (``scenario`` loaded
    from ``spec`` when not given). Saved to ``spec["out"]`` when it ends."""
    from ..scenario import load_scenario

    sc = scenario if scenario is not None else load_scenario(spec["scenario"], spec["set"])
    game = Game(
        sc,
        spec["teams"],
        game_id=spec["id"],
        codes=spec["codes"],
        rounds=spec["rounds"],
        round_months=spec["round_months"],
        timer=spec["timer"],
        instructor_key=spec["key"],
    )
    game.on_finish = saver(spec["out"])
    return game


def saver(out: str | Path):
    """An ``on_finish`` callback that saves a finished game under ``out``; a failure to
    write is kept on the game (``save_error``, shown on its pages), not raised."""

    def save(game: Game) -> None:
        try:
            game.save(out)
        except OSError as exc:
            game.save_error = f"the game could not be saved in {out}: {exc.strerror or exc}"
            game.version += 1

    return save
