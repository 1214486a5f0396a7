"""The market game in a real browser: `sim game` serves the pages, four headless Chromium
contexts (the instructor and three teams) play a two-round game to the end; the debrief
must show on every page and the saved run folder must replay to identical tables.

Skipped when chromium or playwright is missing, except in CI (CI=true), where it must run.
Screenshots go to test-output/game-*.png.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from sim.game import replay_report

from .test_browser import CHROMIUM_ARGS, ROOT, _free_port, _sim_command, chromium_path  # noqa: F401

TIMEOUT_MS = 30_000


@pytest.fixture
def game_server(chromium_path, tmp_path):  # noqa: F811 (the fixture imported above)
    """`sim game baseline --teams 3 --rounds 2` on a 600-customer market; killed afterwards."""
    port = _free_port()
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            *_sim_command(),
            "game",
            "baseline",
            "--teams",
            "3",
            "--rounds",
            "2",
            "--round-months",
            "2",
            "--set",
            "market.n_customers=600",
            "--port",
            str(port),
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sim game exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("sim game did not answer within 60 s")
            time.sleep(0.2)
        text = log_path.read_text()
        gid = re.search(r"\?game=(\w+)&key=(\w+)", text)
        codes = dict(re.findall(r"\b([ABC])=(\d{4})\b", text))
        yield {
            "url": url,
            "game": gid.group(1),
            "key": gid.group(2),
            "codes": codes,
            "out": tmp_path / "results",
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _set(page, lever: str, value: str, old: str = "1") -> None:
    """Type a lever's value and wait until the page lists the change (the server has it)."""
    box = page.locator(f".game-lever-{lever} input")
    box.fill(value)
    box.press("Tab")
    page.wait_for_selector(f'.game-changes:has-text("{lever} {old} → {value}")')


def test_three_teams_play_a_game_to_the_debrief(game_server, chromium_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    g = game_server
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    messages: list[tuple[str, str]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        pages = []
        try:

            def open_page(query: str):
                ctx = browser.new_context(viewport={"width": 1400, "height": 1300})
                page = ctx.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.on("console", lambda m: messages.append((m.type, m.text)))
                page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
                page.goto(g["url"] + query, wait_until="commit")  # the four load together
                pages.append(page)
                return page

            boss = open_page(f"?game={g['game']}&key={g['key']}")
            teams = {t: open_page(f"?game={g['game']}") for t in "ABC"}
            for page in pages:  # each session follows the game
                page.wait_for_selector(".game-ready", state="attached")
            boss.wait_for_selector('.game-status[data-round="0"]')
            assert "Start another game" in boss.inner_text(".game-body")
            page = teams["A"]
            page.locator(".game-join input").fill("0000")
            page.wait_for_selector(".game-error")  # a wrong code: one clear line
            for t, page in teams.items():
                page.locator(".game-join input").fill(g["codes"][t])
            for t, page in teams.items():
                page.wait_for_selector(f'.game-team[data-team="{t}"]')
                page.wait_for_selector(".game-decide")

            # round 1: A raises its price; B first asks for a price out of bounds
            _set(teams["A"], "price", "1.3")
            teams["A"].locator(".game-submit").click()
            teams["A"].wait_for_selector("[data-waiting]")
            _set(teams["B"], "price", "5")
            teams["B"].locator(".game-submit").click()
            err = teams["B"].wait_for_selector(".game-error")
            assert "price = 5: must lie in [0.5, 2]" in err.inner_text()
            boss.wait_for_selector('.game-status[data-submitted="1"]')
            _set(teams["B"], "price", "0.9")
            teams["B"].locator(".game-submit").click()
            teams["C"].locator(".game-lever-loyalty input").check(force=True)
            teams["C"].wait_for_selector('.game-changes:has-text("loyalty off → on")')
            teams["C"].locator(".game-submit").click()
            boss.wait_for_selector('.game-status[data-round="1"]')
            for page in teams.values():
                page.wait_for_selector('.game-status[data-round="1"]')
                page.wait_for_selector(".game-accounts table")
            # every page follows the game: the instructor's leaderboard has round 1's profits
            boss.wait_for_function(
                """() => [...document.querySelectorAll('.game-leaderboard td[data-col="profit"]')]
                .every(td => parseFloat(td.dataset.value) > 0)"""
            )
            research = teams["A"].inner_text(".game-research")
            assert "0.90" in research and "1.30" in research  # competitor prices
            boss.screenshot(path=str(out / "game-instructor.png"), full_page=True)

            # round 2: a recession; the teams see the leaderboard; only A decides
            boss.locator(".game-show-board input").check(force=True)
            teams["B"].wait_for_selector(".game-leaderboard")
            teams["B"].screenshot(path=str(out / "game-team.png"), full_page=True)
            boss.locator(".game-ev-recession").click()
            boss.wait_for_selector('[data-pending="1"]')
            _set(teams["A"], "price", "1.1", old="1.3")
            teams["A"].locator(".game-submit").click()
            boss.wait_for_selector('.game-status[data-submitted="1"]')
            boss.locator(".game-end-round").click()
            boss.wait_for_selector('.game-status[data-finished="1"]')
            for page in [boss, *teams.values()]:
                page.wait_for_selector(".game-debrief img")
                page.wait_for_selector("[data-saved]")
            text = boss.inner_text(".game-decisions")
            for line in ("price 1 → 1.3", "price 1 → 0.9", "loyalty off → on", "recession"):
                assert line in text, (line, text)
            assert text.count("kept its levers") == 2  # B and C in round 2
            board = boss.locator(".game-leaderboard tbody tr")
            assert board.count() == 3
            boss.screenshot(path=str(out / "game-debrief.png"), full_page=True)

            # a second game on the same server, at its own address
            boss.locator(".game-new-start").click()
            link = boss.wait_for_selector(".game-new .game-ok a").get_attribute("href")
            other = re.search(r"game=(\w+)&key=", link).group(1)
            assert other != g["game"]
            boss.goto(g["url"] + link)
            boss.wait_for_selector('.game-status[data-round="0"][data-finished="0"]')
            assert teams["A"].locator('.game-status[data-finished="1"]').count() == 1
        except Exception:
            for i, pg in enumerate(pages):
                pg.screenshot(path=str(out / f"game-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()
    errors = [m for m in messages if m[0] in ("error", "pageerror")]
    assert not errors, errors
    folder = g["out"] / "game" / g["game"]
    assert (folder / "game.json").is_file() and (folder / "debrief.png").is_file()
    same, report = replay_report(folder)
    assert same, report
    shutil.copyfile(folder / "debrief.png", out / "game-debrief-figure.png")
