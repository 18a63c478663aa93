"""What the report and ``wiass demo`` say about a run's numbers: the one-sentence reading,
songs going the other way than the summary, and columns that do not tell the systems apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_folders import SUMMARY, copy_run, keep_systems, set_scores

from wiass import report, report_text, runs
from wiass.demo import summary_text


@pytest.fixture(scope="module")
def run_dir(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the three-song demo run whose numbers these tests set, with its systems of
    :data:`SUMMARY` (BL1, A3.1, M2)."""
    run = copy_run(demo_folder, tmp_path_factory.mktemp("reading") / "run")
    keep_systems(run, list(SUMMARY))
    return run


def _set(run_dir: Path, summary: dict, per_song: dict | None = None) -> runs.Run:
    """Set ``summary`` (system -> metric -> dB) and, from ``per_song`` (system -> metric ->
    one value per song), the per-song scores; load the run."""
    set_scores(run_dir, summary, per_song)
    return runs.load_run(run_dir)


def _summary(**changes: dict) -> dict:
    """SUMMARY with some values changed (keyword A3_1 for system A3.1)."""
    return {n: dict(SUMMARY[n], **changes.get(n.replace(".", "_"), {})) for n in SUMMARY}


def test_reading_names_the_system_that_leaks_least(run_dir: Path) -> None:
    run = _set(run_dir, _summary())
    assert report_text.reading(run) == (
        "A3.1 leaks least into the pauses: 40.3 dB less energy than BL1 where the voice is "
        "silent (PES −85.2 vs −44.9 dB; lower on all 3 songs); the median SDR differs by at "
        "most 0.42 dB between systems (2.98 to 3.40 dB; highest: M2)."
    )
    run = _set(run_dir, _summary(M2={"PES": -90.0}, A3_1={"SDR": 2.98}))
    assert report_text.reading(run).startswith(
        "M2 leaks least into the pauses: 45.1 dB less energy"
    )


def test_reading_when_side_information_does_not_help(run_dir: Path) -> None:
    run = _set(run_dir, _summary(BL1={"PES": -95.0, "SDR": 3.0}, M2={"SDR": 3.0, "PES": -80.0}))
    sentence = report_text.reading(run)
    assert sentence.startswith(
        "No side information lowers the energy where the voice is silent below BL1's: "
        "the best informed system, A3.1, puts 9.8 dB more there (PES −85.2 vs −95.0 dB; "
        "lower on none of the 3 songs)"
    )
    equal = {m: 3.0 for m in ("SDR", "SIR", "SAR")}
    run = _set(run_dir, {n: dict(SUMMARY[n], **equal) for n in SUMMARY})
    assert report_text.reading(run).endswith(
        "the median SDR is the same for every system (3.00 dB)."
    )


def test_reading_without_baseline_or_pes(run_dir: Path, tmp_path: Path) -> None:
    no_baseline = copy_run(run_dir, tmp_path / "run")
    keep_systems(no_baseline, ["A3.1", "M2"])
    run = _set(no_baseline, {"A3.1": SUMMARY["A3.1"], "M2": SUMMARY["M2"]})
    assert report_text.reading(run).startswith("A3.1 leaks least into the pauses (PES −85.2 dB); ")
    no_pes = {n: dict(SUMMARY[n], PES=None) for n in SUMMARY}
    run = _set(run_dir, no_pes)
    assert report_text.reading(run).startswith("PES is undefined for every system")


def test_songs_going_the_other_way_are_stated(run_dir: Path) -> None:
    """A3.1's mean PES is lower than BL1's, but on one of the three songs it is higher."""
    per_song = {
        "BL1": {"PES": [-90.0, -80.0, -60.0], "SDR": [3.0, 3.0, 3.0]},
        "A3.1": {"PES": [-110.0, -108.0, -50.0], "SDR": [3.5, 2.0, 3.0]},
    }
    run = _set(run_dir, _summary(), per_song)
    assert report_text.song_count(run, "A3.1", "BL1", "PES") == (2, 3)
    assert report_text.song_count(run, "A3.1", "BL1", "SDR") == (1, 3)
    a31 = report_text.summary_sentences(run)[0]
    assert "(PES −85.2 vs −44.9 dB; lower on 2 of 3 songs)" in a31
    assert "(3.16 vs 2.98 dB; higher on 1 of 3 songs)" in a31
    table = report_text.song_table(run)
    sdr, pes = table["A3.1"][0], table["A3.1"][3]
    assert (pes.text, pes.mixed) == ("2 of 3", True)
    assert (sdr.text, sdr.mixed) == ("1 of 3", True)


def test_songs_phrase() -> None:
    assert report_text.songs_phrase((2, 2), "PES") == "lower on both songs"
    assert report_text.songs_phrase((3, 3), "SDR") == "higher on all 3 songs"
    assert report_text.songs_phrase((0, 4), "SDR") == "higher on none of the 4 songs"
    assert report_text.songs_phrase((1, 1), "SDR") == ""


def test_a_column_at_the_floor_has_no_best(run_dir: Path) -> None:
    run = _set(run_dir, {n: dict(SUMMARY[n], EPS=-120.0) for n in SUMMARY})
    rows = report_text.metric_rows(report_text.summary_values(run))
    eps = [row[4] for row in rows.values()]
    assert all(cell.tie and not cell.best for cell in eps)
    assert [cell.best for cell in rows["A3.1"]] == [False, False, False, True, False]
    note = report_text.tie_note("EPS", [-120.0, -120.0, None])
    assert note is not None and "the floor" in note
    assert "every system has 3.00 dB" in str(report_text.tie_note("SDR", [3.0, 3.001]))
    assert report_text.tie_note("SDR", [3.0, 3.1]) is None
    assert report_text.tie_note("SDR", [3.0, None]) is None


def test_page_says_a_column_does_not_tell_the_systems_apart(run_dir: Path) -> None:
    run = _set(run_dir, {n: dict(SUMMARY[n], EPS=-120.0) for n in SUMMARY})
    html = report.render_html(run, [])
    assert 'class="best">−120.00' not in html
    assert "EPS: every system is at −120.00 dB, the floor" in html
    assert "all equal" in html
    assert "Song by song against BL1" in html
    assert report_text.reading(runs.load_run(run_dir)) in html


def test_demo_summary_text_is_the_table_and_the_reading(run_dir: Path) -> None:
    run = _set(run_dir, {n: dict(SUMMARY[n], EPS=-120.0) for n in SUMMARY})
    text = summary_text(run_dir)
    assert text.isascii()
    lines = text.splitlines()
    assert lines[0] == "Scores over 3 songs, vocals, dB:"
    assert lines[1].split() == ["system", "SDR", "SIR", "SAR", "PES", "EPS"]
    assert lines[2].split() == ["BL1", "2.98", "7.99", "6.41*", "-44.89", "-120.00"]
    assert lines[3].split() == ["A3.1", "3.16", "7.75", "6.17", "-85.20*", "-120.00"]
    assert lines[4].split() == ["M2", "3.40*", "8.10*", "6.00", "-70.00", "-120.00"]
    assert "EPS: every system is at -120.00 dB" in text
    assert " ".join(text.split()).endswith(report_text.reading(run).replace("−", "-"))
