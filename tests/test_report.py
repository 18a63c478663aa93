"""The HTML report of a run folder (a ``wiass demo`` run and ``wiass separate`` output folders,
built by the real commands): files it links, the numbers it states, its errors and CLI."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from click.testing import CliRunner
from run_folders import (
    SUMMARY,
    copy_run,
    copy_with_mixtures,
    keep_systems,
    separate_run,
    set_scores,
    write_mixture,
)

from wiass import plots, report, report_text, runs
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
        for attribute in ("src", "href"):
            if values.get(attribute) and not str(values[attribute]).startswith(("#", "data:")):
                self.links.append((tag, str(values[attribute])))
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
def built(demo_folder: Path) -> Path:
    """The report ``wiass demo`` built of its run (read only)."""
    return demo_folder / "report.html"


@pytest.fixture
def run_copy(demo_folder: Path, tmp_path: Path) -> Path:
    """A copy of the demo run that a test may change."""
    return copy_run(demo_folder, tmp_path / "run")


def _check_links(page: Path) -> dict[str, list[str]]:
    """Every link of ``page`` by tag: relative, and the file it names exists. Fails when the
    page has no links at all."""
    links: dict[str, list[str]] = {}
    for tag, src in _parse(page).links:
        links.setdefault(tag, []).append(src)
    assert links.get("audio") and links.get("img"), links
    for src in (src for sources in links.values() for src in sources):
        assert not src.startswith(("/", "http", "file:")), src
        assert (page.parent / unquote(src)).is_file(), src
    return links


def test_every_linked_file_exists(built: Path) -> None:
    links = _check_links(built)
    assert built == built.parent / "report.html"
    assert len(links["audio"]) == 3 * (2 + 4)  # three songs: mixture, true vocals, 4 estimates
    assert len(links["img"]) == 3 * (6 + 3 + 1)  # spectrograms, three alignments, one energy
    assert all(unquote(src).startswith("report_assets/") for src in links["img"])
    assert "tracks/synthetic-000/A3.1/vocals.wav" in links["audio"]
    assert "tracks/synthetic-000/A3.1/alignment_labels.txt" in links["a"]
    assert "tracks/synthetic-000/M2/alignment.json" in links["a"]
    assert "tracks/synthetic-000/phonemes/alignment.json" in links["a"]
    # the first song sings a word: the lyrics system's timing files, under its figure and
    # beside its audio; the others sing none
    for name in ("lyrics.json", "lyrics_words.txt", "lyrics_phonemes.txt", "lyrics.lrc"):
        assert links["a"].count(f"tracks/synthetic-000/phonemes/{name}") == 2
        assert f"tracks/synthetic-001/phonemes/{name}" not in links["a"]


def test_a_separate_folder_gets_a_report(separate_folders: dict[str, Path], tmp_path: Path) -> None:
    """The output folder of one mixture, copied with the mixture."""
    out = copy_with_mixtures(separate_folders["one"], tmp_path / "separate")
    page = report.build_report(out)
    links = _check_links(page)
    assert links["audio"] == ["../mixtures/song.wav", "vocals.wav"]
    assert len(links["img"]) == 2 + 1  # mixture and estimate spectrograms, the alignment
    assert links["a"] == ["alignment.json", "alignment_labels.txt"]
    html = page.read_text(encoding="utf-8")
    assert "Separated without true vocals" in html and 'id="scores"' not in html
    assert "Energy where the voice is silent" not in html


def test_cli_report_of_a_separate_folder_of_several_mixtures(
    separate_folders: dict[str, Path], tmp_path: Path
) -> None:
    out = copy_run(separate_folders["several"], tmp_path / "out")
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    links = _check_links(out / "report.html")
    assert [src for src in links["audio"] if "vocals" in src] == [
        "first/vocals.wav",
        "second/vocals.wav",
    ]
    assert len([src for src in links["img"] if "alignment" in src]) == 2


def test_a_moved_mixture_is_left_out_with_a_note(
    separate_folders: dict[str, Path], tmp_path: Path
) -> None:
    out = copy_run(separate_folders["bl1"], tmp_path / "out")
    runs_file = out / "results.json"
    data = json.loads(runs_file.read_text())
    data["tracks"][0]["mixture"] = str(tmp_path / "moved.wav")
    runs_file.write_text(json.dumps(data))
    page = report.build_report(out)
    links = _check_links(page)
    assert links["audio"] == ["vocals.wav"] and "Learned alignment" not in page.read_text()
    assert f"The mixture is no longer at {tmp_path / 'moved.wav'}" in page.read_text()


def test_table_has_one_row_per_system_and_marks_the_best(run_copy: Path) -> None:
    keep_systems(run_copy, list(SUMMARY))
    set_scores(run_copy, SUMMARY)
    page = run_copy / "page.html"
    page.write_text(report.render_html(runs.load_run(run_copy), []), encoding="utf-8")
    rows = _parse(page).rows
    assert [row[0][0] for row in rows] == ["BL1", "A3.1", "M2"]
    cells = {row[0][0]: row[2:] for row in rows}  # name, description, then SDR..EPS
    assert [text for text, _ in cells["A3.1"]] == ["3.16", "7.75", "6.17", "−85.20", "−34.53"]
    best = {
        name: [runs.METRICS[i] for i, (_, cls) in enumerate(c) if cls == "best"]
        for name, c in cells.items()
    }
    assert best == {"BL1": ["SAR"], "A3.1": ["PES", "EPS"], "M2": ["SDR", "SIR"]}
    assert cells["M2"][4] == ("—", "")


def test_page_states_the_summary_and_legend(built: Path) -> None:
    html = built.read_text(encoding="utf-8")
    run = runs.load_run(built.parent)
    for sentence in report_text.summary_sentences(run) + report_text.onset_sentences(run):
        assert sentence in html
    assert "lower is better" in html
    assert "http://" not in html and "https://" not in html
    assert html.count("<script>") == 1 and "<script src" not in html  # the lyrics follower


def test_summary_sentence_follows_the_numbers(run_copy: Path) -> None:
    keep_systems(run_copy, ["BL1", "A3.1"])
    set_scores(run_copy, {name: SUMMARY[name] for name in ("BL1", "A3.1")})
    (sentence,) = report_text.summary_sentences(runs.load_run(run_copy))
    assert sentence.startswith("With vocal-activity information (A3.1), ")
    assert "40.3 dB less energy than BL1" in sentence
    assert "the median SDR rises by 0.18 dB (3.16 vs 2.98 dB" in sentence

    set_scores(run_copy, {"A3.1": dict(SUMMARY["A3.1"], PES=-30.0, SDR=2.5)})
    (sentence,) = report_text.summary_sentences(runs.load_run(run_copy))
    assert "14.9 dB more energy than BL1" in sentence
    assert "(PES −30.0 vs −44.9 dB; lower on none of the 3 songs)" in sentence
    assert "the median SDR drops by 0.48 dB (2.50 vs 2.98 dB" in sentence

    set_scores(run_copy, {"A3.1": dict(SUMMARY["A3.1"], PES=None, SDR=2.98)})
    (sentence,) = report_text.summary_sentences(runs.load_run(run_copy))
    assert "cannot be compared with BL1" in sentence
    assert "the median SDR is unchanged" in sentence


def test_summary_without_baseline_states_each_system(run_copy: Path) -> None:
    keep_systems(run_copy, ["M2"])
    set_scores(run_copy, {"M2": SUMMARY["M2"]})
    assert report_text.summary_sentences(runs.load_run(run_copy)) == [
        "With coarse vocal-magnitude information (M2), the estimate has a median SDR of "
        "3.40 dB and a PES of −70.0 dB."
    ]


def test_nan_in_results_means_undefined(run_copy: Path) -> None:
    set_scores(run_copy, SUMMARY)
    path = run_copy / "results.json"
    path.write_text(path.read_text().replace("-85.2", "NaN"), encoding="utf-8")
    run = runs.load_run(run_copy)
    assert report_text.table_value(run, "A3.1", "PES") is None
    assert report_text.format_db(None) == "—"


def _one_line_error(run_dir: Path, needle: str) -> str:
    with pytest.raises(WiassError) as info:
        runs.load_run(run_dir)
    message = str(info.value)
    assert "\n" not in message
    assert needle in message
    return message


def test_missing_or_corrupt_results_json(run_copy: Path, tmp_path: Path) -> None:
    results = run_copy / "results.json"
    text = results.read_text()
    results.write_text(text[: len(text) // 2], encoding="utf-8")
    assert "not valid JSON" in _one_line_error(run_copy, str(results))
    data = json.loads(text)
    del data["summary"]["A3.1"]["PES"]
    results.write_text(json.dumps(data), encoding="utf-8")
    assert "missing field 'PES'" in _one_line_error(run_copy, "summary.A3.1")
    results.unlink()
    assert "no such file" in _one_line_error(run_copy, str(results))
    assert "no such run folder" in _one_line_error(tmp_path / "absent", "absent")


@pytest.mark.parametrize(
    "missing",
    ["mixture.wav", "vocals.wav", "A3.1/vocals.wav", "BL1/vocals.wav", "M2/side_info.npy"],
)
def test_missing_file_is_named(run_copy: Path, missing: str) -> None:
    file = run_copy / "tracks" / "synthetic-001" / missing
    file.unlink()
    assert "no such file" in _one_line_error(run_copy, str(file))


def test_corrupt_audio_fails_with_one_line(run_copy: Path) -> None:
    (run_copy / "tracks" / "synthetic-000" / "BL1" / "vocals.wav").write_bytes(b"RIFF garbage")
    (run_copy / "report.html").unlink()
    with pytest.raises(WiassError) as info:
        report.build_report(run_copy)
    assert "BL1/vocals.wav" in str(info.value) and "\n" not in str(info.value)
    assert not (run_copy / "report.html").exists()


def test_frame_energy_db_marks_silence() -> None:
    audio = np.zeros((2, 250), dtype=np.float32)
    audio[:, :100] = 1.0
    energy = plots.frame_energy_db(audio, 1000, 0.1)
    np.testing.assert_allclose(energy, [10 * np.log10(200), -120.0, -120.0], atol=1e-6)


def test_cli_report(separate_folders: dict[str, Path], tmp_path: Path) -> None:
    elsewhere = tmp_path / "pages" / "mine.html"
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(separate_folders["bl1"]), "--out", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert str(elsewhere) in result.output
    _check_links(elsewhere)
    assert (tmp_path / "pages" / "mine_assets").is_dir()

    missing = runner.invoke(main, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"wiass: error: {tmp_path / 'nope'}: no such run folder"
    ]
    with pytest.raises(WiassError, match="is a folder; --out must name the HTML file"):
        report.build_report(separate_folders["bl1"], tmp_path)


def test_report_can_be_rebuilt_after_moving_the_run(run_copy: Path, tmp_path: Path) -> None:
    moved = Path(shutil.move(run_copy, tmp_path / "moved"))
    _check_links(report.build_report(moved))


def _images(page: Path) -> dict[str, bytes]:
    """The images a page links, by link, with their bytes."""
    return {
        src: (page.parent / unquote(src)).read_bytes()
        for tag, src in _parse(page).links
        if tag == "img"
    }


def test_two_reports_in_one_folder_keep_their_own_figures(
    separate_folders: dict[str, Path], tmp_path: Path
) -> None:
    """Two runs with the same track and system names, reported into one folder."""
    model = runs.load_run(separate_folders["bl1"]).systems[0].model
    first, second = tmp_path / "first", tmp_path / "second"
    separate_run(first, [write_mixture(tmp_path / "a" / "song.wav", 2.0, seed=1)], Path(model))
    separate_run(second, [write_mixture(tmp_path / "b" / "song.wav", 2.5, seed=2)], Path(model))
    pages = tmp_path / "pages"
    runner = CliRunner()
    for run_dir, name in ((first, "first.html"), (second, "second.html")):
        result = runner.invoke(main, ["report", str(run_dir), "--out", str(pages / name)])
        assert result.exit_code == 0, result.output
    before = report.build_report(first, tmp_path / "alone" / "first.html")
    first_images, second_images = _images(pages / "first.html"), _images(pages / "second.html")
    assert first_images and set(first_images).isdisjoint(second_images)
    assert list(first_images.values()) == list(_images(before).values())
    assert list(first_images.values()) != list(second_images.values())


def _lines(figure) -> list:
    return [line for ax in figure.axes for line in ax.get_lines()]


def _legend_texts(figure) -> list[str]:
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_alignment_figure_keeps_the_attention_visible(demo_folder: Path) -> None:
    run = runs.load_run(demo_folder)
    alignment = runs.load_alignment(run.output_dir(run.tracks[0], "A3.1"))
    figure = plots.alignment_figure(alignment, "A3.1", zoom=1.0)
    lines = _lines(figure)
    assert len(lines) == 4  # true alignment and step path, on the whole track and the close-up
    for line in lines:
        assert line.get_linewidth() <= 1.0
        assert line.get_marker() in ("None", "", None)
    true_line, path_line = lines[:2]
    assert true_line.get_linestyle() in ("--", "-.", ":")
    real = np.flatnonzero(alignment.true_alignment >= 0)
    x, y = true_line.get_data()
    np.testing.assert_allclose(np.asarray(y)[real], real)
    np.testing.assert_allclose(
        np.asarray(x)[real], alignment.true_alignment[real] * alignment.hop_seconds
    )
    x, y = path_line.get_data()
    np.testing.assert_allclose(x[0::2], alignment.step_times.start)
    np.testing.assert_allclose(x[1::2], alignment.step_times.end)
    assert "close-up: first 1 s" in [ax.get_title() for ax in figure.axes]
    legend = _legend_texts(figure)
    assert "side info 1: voice active" in legend and "side info 0: silent" in legend
    assert "true alignment" in legend and "step times (alignment.json)" in legend


def test_magnitude_side_info_gets_a_colour_scale_not_an_activity_legend(
    separate_folders: dict[str, Path],
) -> None:
    alignment = runs.load_alignment(separate_folders["several"] / "first")
    figure = plots.alignment_figure(alignment, "M2")
    assert _legend_texts(figure) == ["step times (alignment.json)"]
    assert any(ax.get_xlabel() == "level (1: loudest)" for ax in figure.axes)
    assert "close-up: first 5 s" not in [ax.get_title() for ax in figure.axes]  # 4 s mixture


def test_plot_alignment_writes_one_png(separate_folders: dict[str, Path], tmp_path: Path) -> None:
    alignment = runs.load_alignment(separate_folders["one"])
    path = plots.plot_alignment(alignment, "A3.1", tmp_path / "a" / "align.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
