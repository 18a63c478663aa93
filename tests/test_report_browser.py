"""The report in a real headless browser (Debian's chromium driven by playwright).

The run folder is served over http://127.0.0.1 as a user would serve it; the page must load
without console errors, every audio element must load its data and every image must decode.
A full-page screenshot is kept under the pytest tmp dir, and in tests/artifacts/ when the
environment variable WIASS_KEEP_ARTIFACTS is set.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_fixture import write_fake_run

from wiass import report

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]
ARTIFACT = Path(__file__).parent / "artifacts" / "report-screenshot.png"


def _chromium() -> str:
    found = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    found = found or shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not found (install Debian's chromium: scripts/system-deps.sh)")
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean; failed requests show up as browser errors."""


@pytest.fixture(params=["PCM_16", "FLOAT"])
def served_report(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fake run's report (16-bit or float WAV), served from a thread on a local port."""
    run_dir = write_fake_run(tmp_path / "run", subtype=request.param)
    page = report.build_report(run_dir)
    handler = functools.partial(_QuietHandler, directory=str(run_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_report_loads_in_headless_chromium(
    served_report: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    executable = _chromium()
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            response = page.goto(served_report, wait_until="load")
            assert response is not None and response.ok
            page.wait_for_function(
                "() => [...document.querySelectorAll('audio')]"
                ".every(a => a.readyState >= 2 || a.error !== null)",
                timeout=30_000,
            )
            audio = page.eval_on_selector_all(
                "audio", "els => els.map(a => [a.getAttribute('src'), a.readyState, a.error?.code])"
            )
            images = page.eval_on_selector_all(
                "img", "els => els.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
            )
            title = page.inner_text("h1")
            rows = page.eval_on_selector_all("#scores tbody tr", "els => els.length")
            song_rows = page.eval_on_selector_all("#songs tbody tr", "els => els.length")
            screenshot = tmp_path / "report-screenshot.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()

    assert problems == []
    assert len(audio) == 10
    assert [(src, state, error) for src, state, error in audio if state < 2] == []
    assert len(images) == 16
    assert [src for src, complete, width in images if not complete or width <= 0] == []
    assert title == "wiass demo" and rows == 3 and song_rows == 2
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("WIASS_KEEP_ARTIFACTS") and "PCM_16" in request.node.name:
        ARTIFACT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, ARTIFACT)
