"""The HTML report of a run folder: files it links, the numbers it states, its errors and CLI."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pytest
from click.testing import CliRunner
from report_fixture import SUMMARY, write_fake_run, write_results

from wiass import report
from wiass.cli import main
from wiass.errors import WiassError


class _PageParser(HTMLParser):
    """Collects the links of a page and the cells of its scores table (``<table id="scores">``)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.rows: list[list[tuple[str, str]]] = []
        self._in_scores = self._in_body = False
        self._cell: list[str] | None = None
        self._cell_class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("src"):
            self.links.append((tag, values["src"]))
        if tag == "table":
            self._in_scores = values.get("id") == "scores"
        elif tag == "tbody" and self._in_scores:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell, self._cell_class = [], values.get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(("".join(self._cell).strip(), self._cell_class))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake run folder with its report built once for the tests that only read it."""
    run = write_fake_run(tmp_path_factory.mktemp("report") / "run")
    return report.build_report(run)


def _small_run(folder: Path, **kwargs: Any) -> Path:
    summary = {name: SUMMARY[name] for name in ("BL1", "A3.1")}
    return write_fake_run(folder, tracks=("only",), summary=summary, **kwargs)


def test_every_linked_file_exists(built: Path) -> None:
    parser = _parse(built)
    assert built == built.parent / "report.html"
    audio = [src for tag, src in parser.links if tag == "audio"]
    images = [src for tag, src in parser.links if tag == "img"]
    assert len(audio) == 2 * (2 + 3)  # two tracks: mixture, true vocals, three estimates
    assert len(images) == 2 * (5 + 2 + 1)  # spectrograms, two alignments, one energy figure
    for src in audio + images:
        assert not src.startswith(("/", "http", "file:")), src
        assert (built.parent / unquote(src)).is_file(), src
    assert all(unquote(src).startswith("report_assets/") for src in images)
    assert "tracks/song%20a/A3.1/vocals.wav" in audio


def test_table_has_one_row_per_system_and_marks_the_best(built: Path) -> None:
    rows = _parse(built).rows
    assert [row[0][0] for row in rows] == ["BL1", "A3.1", "M2"]
    cells = {row[0][0]: row[2:] for row in rows}  # name, description, then SDR..EPS
    assert [text for text, _ in cells["A3.1"]] == ["3.16", "7.75", "6.17", "−85.20", "−34.53"]
    best = {
        name: [report.METRICS[i] for i, (_, cls) in enumerate(c) if cls == "best"]
        for name, c in cells.items()
    }
    assert best == {"BL1": ["SAR"], "A3.1": ["PES", "EPS"], "M2": ["SDR", "SIR"]}
    assert cells["M2"][4] == ("—", "")


def test_page_states_the_summary_and_legend(built: Path) -> None:
    html = built.read_text(encoding="utf-8")
    run = report.load_run(built.parent)
    for sentence in report.summary_sentences(run):
        assert sentence in html
    assert "lower is better" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_summary_sentence_follows_the_numbers(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    (sentence,) = report.summary_sentences(report.load_run(run_dir))
    assert sentence.startswith("With vocal-activity information (A3.1), ")
    assert "40.3 dB less energy than BL1" in sentence
    assert "the median SDR rises by 0.18 dB (3.16 vs 2.98 dB)" in sentence

    changed = {"BL1": dict(SUMMARY["BL1"]), "A3.1": dict(SUMMARY["A3.1"], PES=-30.0, SDR=2.5)}
    write_results(run_dir, ["only"], changed)
    (sentence,) = report.summary_sentences(report.load_run(run_dir))
    assert "14.9 dB more energy than BL1" in sentence
    assert "(PES −30.0 vs −44.9 dB)" in sentence
    assert "the median SDR drops by 0.48 dB (2.50 vs 2.98 dB)" in sentence

    changed["A3.1"] = dict(SUMMARY["A3.1"], PES=None, SDR=2.98)
    write_results(run_dir, ["only"], changed)
    (sentence,) = report.summary_sentences(report.load_run(run_dir))
    assert "cannot be compared with BL1" in sentence
    assert "the median SDR is unchanged" in sentence


def test_summary_without_baseline_states_each_system(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "run", tracks=("x",), summary={"M2": SUMMARY["M2"]})
    assert report.summary_sentences(report.load_run(run_dir)) == [
        "With coarse vocal-magnitude information (M2), the estimate has a median SDR of "
        "3.40 dB and a PES of −70.0 dB."
    ]


def test_nan_in_results_means_undefined(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    path = run_dir / "results.json"
    path.write_text(path.read_text().replace("-85.2", "NaN"), encoding="utf-8")
    run = report.load_run(run_dir)
    assert report.table_value(run, "A3.1", "PES") is None
    assert report.format_db(None) == "—"


def _one_line_error(run_dir: Path, needle: str) -> str:
    with pytest.raises(WiassError) as info:
        report.load_run(run_dir)
    message = str(info.value)
    assert "\n" not in message
    assert needle in message
    return message


def test_missing_or_corrupt_results_json(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    results = run_dir / "results.json"
    text = results.read_text()
    results.write_text(text[: len(text) // 2], encoding="utf-8")
    assert "not valid JSON" in _one_line_error(run_dir, str(results))
    results.write_text(json.dumps({"systems": []}), encoding="utf-8")
    assert "'systems' is empty" in _one_line_error(run_dir, str(results))
    data = json.loads(text)
    data["tracks"][0]["name"] = "../escape"
    results.write_text(json.dumps(data), encoding="utf-8")
    assert "invalid name" in _one_line_error(run_dir, str(results))
    del data["summary"]["A3.1"]["PES"]
    data["tracks"][0]["name"] = "only"
    results.write_text(json.dumps(data), encoding="utf-8")
    assert "missing field 'PES'" in _one_line_error(run_dir, "summary.A3.1")
    results.unlink()
    assert "no such file" in _one_line_error(run_dir, str(results))
    assert "no such run folder" in _one_line_error(tmp_path / "absent", "absent")


@pytest.mark.parametrize(
    "missing",
    ["mixture.wav", "vocals.wav", "A3.1/vocals.wav", "BL1/vocals.wav", "A3.1/side_info.npy"],
)
def test_missing_file_is_named(tmp_path: Path, missing: str) -> None:
    run_dir = _small_run(tmp_path / "run")
    file = run_dir / "tracks" / "only" / missing
    file.unlink()
    assert "no such file" in _one_line_error(run_dir, str(file))


def test_inconsistent_alignment_is_refused(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    folder = run_dir / "tracks" / "only" / "A3.1"
    np.save(folder / "side_info.npy", np.zeros((5, 1), dtype=np.float32))
    with pytest.raises(WiassError, match=r"side_info\.npy: shape \(5, 1\) does not fit the 24"):
        report.load_alignment(report.load_run(run_dir), "only", "A3.1")
    (folder / "alignment.npy").write_bytes(b"not numpy")
    with pytest.raises(WiassError, match=r"alignment\.npy: not a readable \.npy array"):
        report.load_alignment(report.load_run(run_dir), "only", "A3.1")


def test_corrupt_audio_fails_with_one_line(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    (run_dir / "tracks" / "only" / "BL1" / "vocals.wav").write_bytes(b"RIFF garbage")
    with pytest.raises(WiassError) as info:
        report.build_report(run_dir)
    assert "BL1/vocals.wav" in str(info.value) and "\n" not in str(info.value)
    assert not (run_dir / "report.html").exists()


def test_plot_alignment_without_true_alignment(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    alignment = report.AlignmentData(
        attention=rng.random((40, 7)).astype(np.float32),
        frame_seconds=0.05,
        step_seconds=None,
        kind="A3.1",
        side_info=(rng.random((7, 1)) > 0.5).astype(np.float32),
        true_alignment=None,
    )
    path = report.plot_alignment(alignment, 0.025, "A3.1", tmp_path / "a" / "align.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_frame_energy_db_marks_silence() -> None:
    audio = np.zeros((2, 250), dtype=np.float32)
    audio[:, :100] = 1.0
    energy = report.frame_energy_db(audio, 1000, 0.1)
    np.testing.assert_allclose(energy, [10 * np.log10(200), -120.0, -120.0], atol=1e-6)


def test_cli_report(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    elsewhere = tmp_path / "pages" / "mine.html"
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(run_dir), "--out", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert str(elsewhere) in result.output
    audio = [src for tag, src in _parse(elsewhere).links if tag == "audio"]
    assert audio and all((elsewhere.parent / unquote(src)).is_file() for src in audio)
    assert (tmp_path / "pages" / "mine_assets").is_dir()

    missing = runner.invoke(main, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"wiass: error: {tmp_path / 'nope'}: no such run folder"
    ]


def test_report_can_be_rebuilt_after_moving_the_run(tmp_path: Path) -> None:
    run_dir = _small_run(tmp_path / "run")
    report.build_report(run_dir)
    moved = Path(shutil.move(run_dir, tmp_path / "moved"))
    page = report.build_report(moved)
    for _, src in _parse(page).links:
        assert (moved / unquote(src)).is_file(), src


def _images(page: Path) -> dict[str, bytes]:
    """The images a page links, by link, with their bytes."""
    return {
        src: (page.parent / unquote(src)).read_bytes()
        for tag, src in _parse(page).links
        if tag == "img"
    }


def test_two_reports_in_one_folder_keep_their_own_figures(tmp_path: Path) -> None:
    """Two runs with the same track and system names, reported into one folder."""
    first = _small_run(tmp_path / "first", seconds=3.0)
    second = _small_run(tmp_path / "second", seconds=4.0)
    pages = tmp_path / "pages"
    runner = CliRunner()
    for run_dir, name in ((first, "first.html"), (second, "second.html")):
        result = runner.invoke(main, ["report", str(run_dir), "--out", str(pages / name)])
        assert result.exit_code == 0, result.output
    before = report.build_report(first, tmp_path / "alone" / "first.html")
    first_images, second_images = _images(pages / "first.html"), _images(pages / "second.html")
    assert set(first_images).isdisjoint(second_images)
    assert list(first_images.values()) == list(_images(before).values())
    assert list(first_images.values()) != list(second_images.values())


def _lines(figure) -> list:
    return [line for ax in figure.axes for line in ax.get_lines()]


def _legend_texts(figure) -> list[str]:
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_alignment_figure_keeps_the_attention_visible(tmp_path: Path) -> None:
    run = report.load_run(write_fake_run(tmp_path / "run", tracks=("x",), seconds=12.0))
    alignment = report.load_alignment(run, "x", "A3.1")
    figure = report.alignment_figure(alignment, run.hop_seconds, "A3.1")
    lines = _lines(figure)
    assert len(lines) == 2  # the true alignment on the whole track and on the close-up
    for line in lines:
        assert line.get_linewidth() <= 1.0
        assert line.get_linestyle() in ("--", "-.", ":")
        assert line.get_marker() in ("None", "", None)
    real = np.flatnonzero(alignment.true_alignment >= 0)
    x, y = lines[0].get_data()
    np.testing.assert_allclose(y[real], real)
    np.testing.assert_allclose(x[real], (alignment.true_alignment[real] + 0.5) * run.hop_seconds)
    assert np.all(np.isnan(np.asarray(x)[alignment.true_alignment < 0]))
    titles = [ax.get_title() for ax in figure.axes]
    assert "close-up: first 5 s" in titles
    legend = _legend_texts(figure)
    assert "side info 1: voice active" in legend and "side info 0: silent" in legend
    assert "true alignment" in legend


def test_magnitude_side_info_gets_a_colour_scale_not_an_activity_legend(tmp_path: Path) -> None:
    run = report.load_run(write_fake_run(tmp_path / "run", tracks=("x",)))
    figure = report.alignment_figure(report.load_alignment(run, "x", "M2"), run.hop_seconds, "M2")
    assert _legend_texts(figure) == ["true alignment"]
    assert any(ax.get_xlabel() == "level (1: loudest)" for ax in figure.axes)
    assert "close-up: first 5 s" not in [ax.get_title() for ax in figure.axes]  # 3 s track
