"""The report in a real headless browser (Debian's chromium driven by playwright).

The reports of a ``wiass demo`` run and of a ``wiass separate`` output folder (built by the real
commands) are served over http://127.0.0.1 as a user would serve them (the separate run from the
folder above it, which holds the mixture too); each page must load without console errors,
every audio element must load its data and every image must decode. A full-page screenshot is
kept under the pytest tmp dir, and in tests/artifacts/ when the environment variable
WIASS_KEEP_ARTIFACTS is set. The lyrics panel of a ``wiass separate --lyrics`` report, opened
from the file system, must follow its audio: a word clicked seeks the audio to it, and seeking
or playing moves the highlighted word.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from run_folders import copy_with_mixtures

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
ARTIFACTS = Path(__file__).parent / "artifacts"


def _chromium() -> str:
    found = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    found = found or shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not found (install Debian's chromium: scripts/system-deps.sh)")
    return found


def _launch(playwright: Any, tmp_path: Path, executable: str, args: list[str]) -> Any:
    """A headless Chromium context with a profile under ``tmp_path``."""
    return playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=executable,
        headless=True,
        args=args,
        viewport={"width": 1280, "height": 900},
    )


def _watched_page(context: Any, problems: list[str]) -> Any:
    """A new page whose console errors and page errors are added to ``problems``."""
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean; failed requests show up as browser errors."""


@dataclass(frozen=True)
class Served:
    """A report served over HTTP and what the page must hold."""

    url: str
    name: str
    audio: int
    images: int
    title: str
    rows: int
    song_rows: int


def _serve(root: Path, page: Path, **expected: Any) -> Iterator[Served]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = page.relative_to(root).as_posix()
        yield Served(f"http://127.0.0.1:{server.server_address[1]}/{path}", **expected)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["demo", "separate"])
def served_report(
    request: pytest.FixtureRequest,
    demo_folder: Path,
    separate_folders: dict[str, Path],
    tmp_path: Path,
) -> Iterator[Served]:
    """The report of the demo run (three songs, three systems) or of the separate run of one
    mixture (its folder and the mixture's served from the folder above both)."""
    if request.param == "demo":
        page = demo_folder / "report.html"
        yield from _serve(
            demo_folder,
            page,
            name="demo",
            audio=18,
            images=30,
            title="wiass demo",
            rows=4,
            song_rows=3,
        )
        return
    out = copy_with_mixtures(separate_folders["one"], tmp_path / "separate")
    page = report.build_report(out)
    yield from _serve(
        out.parent,
        page,
        name="separate",
        audio=2,
        images=3,
        title="wiass separate",
        rows=0,
        song_rows=0,
    )


def test_report_loads_in_headless_chromium(served_report: Served, tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    executable = _chromium()
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = _launch(playwright, tmp_path, executable, CHROMIUM_ARGS)
        try:
            page = _watched_page(context, problems)
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            response = page.goto(served_report.url, wait_until="load")
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
    assert len(audio) == served_report.audio
    assert [(src, state, error) for src, state, error in audio if state < 2] == []
    assert len(images) == served_report.images
    assert [src for src, complete, width in images if not complete or width <= 0] == []
    assert (title, rows, song_rows) == (
        served_report.title,
        served_report.rows,
        served_report.song_rows,
    )
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("WIASS_KEEP_ARTIFACTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, ARTIFACTS / f"report-{served_report.name}-screenshot.png")


def _even_lyrics(out: Path) -> list[tuple[float, float]]:
    """Give the words of the lyrics run in ``out`` chosen times (word i from 0.5 + 0.6 i s,
    0.5 s long, 0.1 s apart) in its lyrics.json; returns them."""
    path = out / "lyrics.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    times = []
    for i, word in enumerate(data["words"]):
        start = round(0.5 + 0.6 * i, 3)
        word.update(start=start, end=round(start + 0.5, 3), phonemes=[])
        times.append((word["start"], word["end"]))
    path.write_text(json.dumps(data), encoding="utf-8")
    return times


def test_lyrics_follow_the_audio_in_a_page_opened_from_the_file_system(
    lyrics_folder: Path, tmp_path: Path
) -> None:
    """Clicking a word seeks the estimate to it; seeking and playing move the highlight."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    executable = _chromium()
    out = copy_with_mixtures(lyrics_folder, tmp_path / "lyrics")
    times = _even_lyrics(out)
    assert len(times) == 16
    page_file = report.build_report(out)
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        autoplay = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        context = _launch(playwright, tmp_path, executable, autoplay)
        try:
            page = _watched_page(context, problems)
            page.goto(page_file.as_uri(), wait_until="load")
            _follow_the_words(page, times)
        finally:
            context.close()
    assert problems == []


def _follow_the_words(page: Any, times: list[tuple[float, float]]) -> None:
    box = page.locator(".lyrics")
    audio = f"document.getElementById('{box.get_attribute('data-audio')}')"
    page.wait_for_function(f"() => {audio}.readyState >= 1", timeout=30_000)

    def shown(word: int) -> None:
        page.wait_for_function(
            f"() => document.querySelector('.lyrics').dataset.word === '{word}'", timeout=10_000
        )
        now = page.eval_on_selector_all(".lyrics .w.now", "els => els.map(e => e.textContent)")
        assert now == ([] if word < 0 else [box.locator(".w").nth(word).inner_text()])

    box.locator(".w").nth(3).click()
    shown(3)
    assert times[3][0] <= page.evaluate(f"() => {audio}.currentTime") < times[3][1]
    done = page.eval_on_selector_all(".lyrics .w", "els => els.map(e => e.matches('.done'))")
    assert done == [True] * 3 + [False] * 13
    assert page.locator(".lyrics .line-now .w.now").count() == 1
    page.evaluate(f"() => {{ {audio}.currentTime = {times[10][0] + 0.05}; }}")
    shown(10)
    page.evaluate(f"() => {{ {audio}.currentTime = {times[5][1] + 0.05}; }}")  # between words
    shown(-1)
    page.evaluate(f"() => {{ {audio}.currentTime = {times[12][0] - 0.15}; }}")
    shown(11)
    page.evaluate(f"() => {audio}.play()")
    shown(12)  # reached by playing
    page.evaluate(f"() => {audio}.pause()")
    assert page.evaluate(f"() => {audio}.currentTime") >= times[12][0]
