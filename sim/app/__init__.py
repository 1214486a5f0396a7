"""The classroom dashboard: ``sim dashboard [SCENARIO] [--port N]``.

A Solara app (:mod:`sim.app.page`) over the live model; the state and its rules live in
:mod:`sim.app.session` and the figures in :mod:`sim.app.figures`. :func:`main` checks its
arguments, then runs ``solara run sim.app.page`` on 127.0.0.1 in a child process (solara's
JavaScript and CSS come from the installed ``solara-assets``: nothing is fetched from the
internet). docs/dashboard.md describes the controls.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from typing import Any

__all__ = ["main", "server_command", "SERVER_ENV"]

DEFAULT_PORT = 8765

#: environment of the server: no telemetry, no banner, no browser-less matplotlib backend trouble,
#: and no warning about same-site cookies on plain-http 127.0.0.1
SERVER_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "sim classroom",
    "MPLBACKEND": "Agg",
    "PYTHONWARNINGS": "ignore:Cookies with samesite:UserWarning",
}


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise _ArgError(message)


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="sim dashboard",
        description="Start the classroom dashboard in the browser (a Solara app on this machine).",
    )
    ap.add_argument(
        "scenario", nargs="?", help="scenario file, or a name in scenarios/ (default: baseline)"
    )
    ap.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    ap.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    ap.add_argument(
        "--check", action="store_true", help="check the arguments and the scenario, then exit"
    )
    return ap


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def server_command(host: str, port: int, *, open_browser: bool = False) -> list[str]:
    """The command that serves the page (run with the environment from :func:`main`)."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.app.page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-check-version",
        "--open" if open_browser else "--no-open",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def main(argv: list[str] | None = None) -> int:
    """``sim dashboard``: returns 0 after a clean stop, 2 on bad input (one line on stderr)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser()
    if any(a in ("-h", "--help") for a in argv):
        ap.print_help()
        return 0
    try:
        a = ap.parse_args(argv)
        path, scenario, port = _checked(a)
    except _ArgError as exc:
        print(f"sim dashboard: error: {exc}", file=sys.stderr)
        return 2
    if a.check:
        print(f"sim dashboard: ok: {scenario.name} ({path or 'documented defaults'})")
        return 0
    url = f"http://{a.host}:{port}/"
    print(
        f"sim dashboard: {scenario.title or scenario.name} at {url}  (Ctrl-C to stop)", flush=True
    )
    return _serve(a.host, port, path, a.open)


def _checked(a: argparse.Namespace) -> tuple[Any, Any, int]:
    """The scenario's path, the scenario and the port, once every argument is checked.

    Raises:
        _ArgError: one line naming the bad argument or file.
    """
    if not 0 <= a.port <= 65535:
        raise _ArgError(f"--port {a.port}: must lie in 0..65535")
    from .session import load, resolve_scenario

    try:
        path = resolve_scenario(a.scenario)
    except FileNotFoundError as exc:
        raise _ArgError(str(exc)) from None
    try:
        scenario = load(path)
    except ValueError as exc:  # ScenarioError: names the file, key and what is allowed
        raise _ArgError(str(exc)) from None
    try:
        import solara  # noqa: F401
    except ModuleNotFoundError:
        raise _ArgError(
            "the dashboard needs solara==1.58.2 and solara-assets==1.58.2 "
            "(scripts/setup.sh installs them)"
        ) from None
    port = a.port or _free_port(a.host)
    if not _port_free(a.host, port):
        raise _ArgError(f"--port {port}: already in use on {a.host}; pick another (or --port 0)")
    return path, scenario, port


def _serve(host: str, port: int, path: Any, open_browser: bool) -> int:
    """Run the Solara server for the scenario at ``path`` until it stops or Ctrl-C /
    SIGTERM; the server never outlives this process."""
    from .session import ENV_SCENARIO

    env = dict(os.environ)
    env[ENV_SCENARIO] = str(path)
    env.update(SERVER_ENV)
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    proc = subprocess.Popen(
        server_command(host, port, open_browser=open_browser),
        env=env,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        return _exit_code(proc.wait())
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("sim dashboard: stopped", file=sys.stderr)
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _terminate(signum, frame):  # SIGTERM: stop the server too (the finally clause above)
    raise KeyboardInterrupt


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM if `sim dashboard` dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _exit_code(rc: int) -> int:
    # stopped by a signal (the test harness terminating us): a clean stop
    return 0 if rc < 0 or rc in (130, 143) else int(rc)


def __getattr__(name: str):
    # `solara run sim.app` finds the page here too
    if name in ("Page", "Layout"):
        from . import page

        return getattr(page, name)
    raise AttributeError(name)
