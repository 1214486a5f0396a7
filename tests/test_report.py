"""``sim report``: one self-contained HTML file, checked in headless Chromium (renders, no
console error, no request leaves the page) with a screenshot in test-output/report.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.cli import main

from .test_browser import CHROMIUM_ARGS, TIMEOUT_MS, _need

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    small = ["--set", "market.n_customers=400", "--periods", "24", "--quiet", "--no-plots"]
    sc = str(SCEN / "new_entrant.toml")
    assert main(["run", sc, *small, "--replications", "2", "--out", str(out / "r")]) == 0
    assert (
        main(
            ["run", sc, *small, "--replications", "2", "--out", str(out / "s")]
            + ["--set", "firms.A.price=1.1", "--name", "A dearer"]
        )
        == 0
    )
    a = next((out / "r" / "new_entrant").iterdir())
    b = next((out / "s" / "new_entrant").iterdir())
    html = out / "report.html"
    assert main(["report", str(a), str(b), "--out", str(html), "--lost-between", "12", "24"]) == 0
    return html


def test_report_is_self_contained_and_complete(report):
    text = report.read_text()
    # nothing to fetch: no external URL in any src/href, no script
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<script" not in text
    assert text.count("data:image/png;base64,") >= 4
    for part in (
        "What was run",
        "Inputs that differ",
        "firms.A.price",
        "A dearer",
        "Headline figures",
        "Difference: A dearer − new_entrant",
        "Whom each firm lost",
        "complaint_outcome",
        "Referral cascades",
        "Economics",
        "complaint_handling_roi",
        "incremental_clv",
        "Methods",
        "@media print",
    ):
        assert part in text, part


def test_report_bad_input(report, tmp_path, capsys):
    run = next(p for p in report.parent.joinpath("r", "new_entrant").iterdir())
    assert main(["report", str(run), "--firm", "Z", "--out", str(tmp_path / "x.html")]) == 2
    assert "--firm Z" in capsys.readouterr().err
    assert main(["report", str(run), "--lost-between", "5", "2"]) == 2
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert not (tmp_path / "x.html").exists()


def test_report_in_chromium(report):
    import shutil

    path = shutil.which("chromium")
    _need("chromium", path is not None)
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        _need("playwright", False)
    messages: list[tuple[str, str]] = []
    requests: list[str] = []
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 2000})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: messages.append((m.type, m.text)))
            page.on("pageerror", lambda e: messages.append(("error", str(e))))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text().startswith("Market simulation report")
            imgs = page.locator("img")
            assert imgs.count() >= 4
            widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
            assert all(w > 100 for w in widths)  # every image decoded
            page.screenshot(path=str(out / "report.png"), full_page=False)
            page.emulate_media(media="print")
            assert page.locator("nav").is_hidden()
        finally:
            browser.close()
    assert not [m for m in messages if m[0] in ("error", "warning")], messages
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert external == []
    assert (out / "report.png").stat().st_size > 10_000
