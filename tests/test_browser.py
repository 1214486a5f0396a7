"""The dashboard in a real browser: `sim dashboard` serves the page, headless Chromium
(Debian's, installed by scripts/install_browser.sh; driven by playwright) loads it, moves a
slider, presses Step, and the page must answer without a console error.

Skipped when chromium or playwright is missing, except in CI (CI=true), where it must run.
The screenshot goes to the test's tmp_path and to test-output/dashboard.png.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim import MarketModel
from sim.app.session import list_scenarios, load

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI (scripts/test.sh installs it)")
    pytest.skip(
        f"{what} not available (scripts/install_browser.sh installs Debian's chromium); "
        "in CI (CI=true) this test must run"
    )


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium")
    _need("chromium", path is not None)
    try:
        import playwright.sync_api  # noqa: F401
    except ModuleNotFoundError:
        _need("playwright", False)
    try:
        import solara  # noqa: F401
    except ModuleNotFoundError:
        _need("solara", False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sim_command() -> list[str]:
    exe = Path(sys.executable).with_name("sim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]


@pytest.fixture
def server(chromium_path, tmp_path):
    """`sim dashboard baseline --port N` in its own process group; killed afterwards."""
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*_sim_command(), "dashboard", "baseline", "--port", str(port)],
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
                pytest.fail(
                    f"sim dashboard exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("sim dashboard did not answer within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _kpi(page, firm: str, kpi: str) -> float:
    return float(
        page.locator(f'[data-firm="{firm}"][data-kpi="{kpi}"]').get_attribute("data-value")
    )


def test_dashboard_in_chromium(server, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    # what the market does without the change, for comparison
    twin = MarketModel(copy.deepcopy(load(list_scenarios()["baseline"]).params))
    twin.step()
    f = twin.firm_frame()
    share_unchanged = f.loc[(f["firm"] == "A") & (f["period"] == 1), "share"].item()

    messages: list[tuple[str, str]] = []
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: messages.append((m.type, m.text)))
            page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
            page.goto(server)
            page.wait_for_selector('.sim-period[data-period="0"]')
            page.wait_for_selector(".sim-indicators img")
            page.wait_for_selector("img.sim-network-img")
            assert "Baseline duopoly" in page.inner_text(".sim-main")
            assert _kpi(page, "A", "price") == 1.0
            plot_before = page.locator(".sim-indicators img").get_attribute("src")

            # move A's price slider to its maximum (2.00) with the keyboard
            thumb = page.locator(".lever-A-price [role=slider]")
            thumb.focus()
            thumb.press("End")
            page.wait_for_function(
                "() => document.querySelector('.lever-A-price .val').textContent.trim() === '2.00'"
            )
            page.wait_for_selector("text=Takes effect from month 1")

            page.locator(".sim-step").click()
            page.wait_for_selector('.sim-period[data-period="1"]')
            page.wait_for_selector('table.sim-kpi[data-period="1"]')
            # the plotted outcome follows the lever: A charges 2.00 and loses customers
            assert _kpi(page, "A", "price") == 2.0
            share = _kpi(page, "A", "share")
            assert share < share_unchanged - 0.02, (share, share_unchanged)
            page.wait_for_function(
                "(before) => document.querySelector('.sim-indicators img').getAttribute('src') !== before",
                arg=plot_before,
            )
            # the event log speaks in the sliders' words
            assert "Price: 1.00 → 2.00 (your change)" in page.inner_text(".sim-events")

            for month in (2, 3, 4):
                page.locator(".sim-step").click()
                page.wait_for_selector(f'.sim-period[data-period="{month}"]')
            assert "Month 4" in page.inner_text(".sim-period")
            assert _kpi(page, "A", "share") < share_unchanged
            _explains_itself(page, tmp_path)
            # play on to month 10, so the iceberg can follow problems for 6 months
            for month in range(5, 11):
                page.locator(".sim-step").click()
                page.wait_for_selector(f'.sim-period[data-period="{month}"]')
            page.wait_for_selector('.sim-iceberg [data-outcome="silent"]')
            kept = page.locator('.sim-iceberg [data-outcome="silent"]').get_attribute("data-value")
            assert 0.0 < float(kept) < 1.0
            page.set_viewport_size({"width": 1600, "height": 2500})
            page.evaluate("document.querySelector('.sim-main').scrollTop = 0")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            shutil.copyfile(tmp_path / "dashboard.png", out / "dashboard.png")
        finally:
            browser.close()
    errors = [m for m in messages if m[0] in ("error", "pageerror")]
    assert not errors, errors


def _explains_itself(page, tmp_path):
    """The items of a dashboard that explains itself, checked in the browser."""
    main = page.inner_text(".sim-main")
    # what to try, in slider words
    try_box = page.inner_text(".sim-try")
    assert "--set" not in try_box and '"Price"' in try_box
    # every firm's controls are reachable without scrolling: firm B's price slider is one click
    # away and lies within the first screen
    page.get_by_role("button", name="Firm B").click()
    page.wait_for_selector(".lever-B-price [role=slider]", state="visible")
    box = page.locator(".lever-B-price").bounding_box()
    assert box is not None and box["y"] + box["height"] < page.viewport_size["height"] * 0.6
    # the complaint iceberg, live: problems = complaints + silent, most of them silent
    ice = {
        kind: float(
            page.locator(f'.sim-iceberg [data-firm="A"][data-ice="{kind}"]').get_attribute(
                "data-value"
            )
        )
        for kind in ("problems", "complaints", "silent")
    }
    assert (
        ice["problems"] == ice["complaints"] + ice["silent"] and ice["silent"] > ice["complaints"]
    )
    assert "still a customer 6 months later" in page.inner_text(".sim-iceberg")
    # how it works: open the complaints mechanism and read its equation and a parameter
    how = page.locator('.sim-how details[data-section="complaints"]')
    how.locator("summary").click()
    assert "c_i = e_j · c_max" in how.inner_text() and "recovery_quick" in how.inner_text()
    assert "How it works" in main
    # export the plot data (CSV) and the plots (PNG)
    with page.expect_download() as dl:
        page.locator(".sim-export-csv").click()
    csv = tmp_path / "plots.csv"
    dl.value.save_as(csv)
    head = csv.read_text().splitlines()
    assert {"period", "firm", "share", "price", "problems"} <= set(head[0].split(","))
    assert len(head) == 1 + 2 * 5  # two firms, months 0-4
    with page.expect_download() as dl:
        page.locator(".sim-export-png").click()
    png = tmp_path / "plots.png"
    dl.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # click a customer in the network view for their story
    img = page.locator(".sim-network-img")
    b = img.bounding_box()
    for fx, fy in ((0.5, 0.55), (0.45, 0.5), (0.55, 0.6), (0.4, 0.65), (0.6, 0.45), (0.5, 0.7)):
        img.click(position={"x": b["width"] * fx, "y": b["height"] * fy})
        try:
            page.wait_for_selector(".sim-story", timeout=5_000)
            break
        except Exception:  # nobody near that point: try another
            continue
    story = page.inner_text(".sim-story")
    cid = page.locator(".sim-story").get_attribute("data-customer")
    assert story.startswith(f"Customer {cid}:") and "Month" in story
