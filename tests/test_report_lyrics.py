"""Lyrics in the report: the words on the alignment figure, the symbols in its strip, the
lyrics panel beside the estimate (every word with its found times) and the word timing against
the truth (run folders of ``wiass separate --lyrics`` and ``wiass demo``, tiny untrained
models; timings built by hand where a test needs to know them)."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from run_folders import copy_run, copy_with_mixtures

from wiass import plots, report, report_text, runs
from wiass.data.synthetic import generate_song
from wiass.inference.step_times import StepTimes
from wiass.lyrics import (
    ONSET_TOLERANCE_S,
    LyricsTiming,
    TimedWord,
    onset_summary,
    parse_lyrics,
    timing_from_json,
    timing_from_steps,
    word_onset_errors,
)
from wiass.sideinfo.phonemes import phoneme_steps

HOP_SECONDS = 64 / 8000


def song_alignment(seconds: float, seed: int = 90_000, pool: int = 4) -> runs.Alignment:
    """The alignment of a synthetic song's lyrics text as a perfect separation would find it:
    every step at its true time (the attention on it), the found word times = the true ones."""
    song = generate_song(seed, seconds, 8000)
    truth = timing_from_json({"lines": song.lines, "words": song.words}, "song")
    assert truth is not None
    lyrics = parse_lyrics("\n".join(truth.lines), "song")
    steps = phoneme_steps(truth, seconds)
    rows = int(np.ceil(seconds / (HOP_SECONDS * pool)))
    centres = np.arange(rows) * HOP_SECONDS * pool
    attention = np.full((rows, steps.n_steps), 1e-3, dtype=np.float32)
    for m in range(steps.n_steps):
        attention[(centres >= steps.start[m]) & (centres < steps.end[m]), m] = 1.0
    return runs.Alignment(
        attention=attention / attention.sum(axis=1, keepdims=True),
        side_info=lyrics.symbol_indices().astype(np.float32)[:, None],
        kind="phonemes",
        model_sample_rate=8000,
        hop=64,
        frame_pool=pool,
        seconds=seconds,
        step_times=StepTimes(steps.start, steps.end, np.ones(steps.n_steps)),
        true_alignment=np.rint((steps.start + steps.end) / 2 / HOP_SECONDS).astype(np.int64),
        lyrics=timing_from_steps(lyrics, steps.start, steps.end),
    )


def _word_labels(ax, alignment: runs.Alignment) -> list:
    words = {w.text for w in alignment.lyrics.words}
    return [t for t in ax.texts if t.get_text() in words]


def _attention_axes(figure) -> list:
    return [ax for ax in figure.axes if ax.get_xlabel() == "mixture time (s)"]


# --------------------------------------------------------------------------- the figure


def test_word_steps_are_the_steps_of_each_first_phoneme() -> None:
    alignment = song_alignment(20.0)
    steps = plots.word_steps(alignment.lyrics, alignment.side_info, alignment.step_times)
    names = plots.symbol_names(alignment.side_info)
    assert [names[m] for m in steps] == [w.phonemes[0].symbol for w in alignment.lyrics.words]
    assert [names[m - 1] for m in steps] == ["_"] + [
        "_" if b.line != a.line else "|"
        for a, b in zip(alignment.lyrics.words, alignment.lyrics.words[1:], strict=False)
    ]
    # without phonemes, each word goes to the step that starts where (or last before) it does
    bare = LyricsTiming(
        alignment.lyrics.lines,
        tuple(dataclasses.replace(w, phonemes=()) for w in alignment.lyrics.words),
    )
    np.testing.assert_array_equal(
        plots.word_steps(bare, alignment.side_info, alignment.step_times), steps
    )


def test_the_figure_labels_the_words_where_they_were_found() -> None:
    alignment = song_alignment(20.0)
    figure = plots.alignment_figure(alignment, "phonemes")
    whole, close_up = _attention_axes(figure)
    steps = plots.word_steps(alignment.lyrics, alignment.side_info, alignment.step_times)
    where = {w.text: (w.start, m) for w, m in zip(alignment.lyrics.words, steps, strict=True)}
    for ax in (whole, close_up):
        labels = _word_labels(ax, alignment)
        assert labels, "no word written"
        for label in labels:
            assert label.xy == pytest.approx(where[label.get_text()])
            assert label.get_fontsize() <= 7
    assert len(_word_labels(whole, alignment)) <= len(alignment.lyrics.words)
    dots = [line for line in close_up.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 1 and len(dots[0].get_xdata()) == len(_word_labels(close_up, alignment))


def test_labels_of_a_three_minute_song_do_not_overlap() -> None:
    alignment = song_alignment(180.0)
    assert alignment.attention.shape[1] > 500  # several hundred steps
    figure = plots.alignment_figure(alignment, "phonemes")
    renderer = figure.canvas.get_renderer()
    whole, close_up = _attention_axes(figure)
    written = {}
    for name, ax in (("whole", whole), ("close-up", close_up)):
        boxes = [label.get_window_extent(renderer) for label in _word_labels(ax, alignment)]
        inside = ax.get_window_extent(renderer)
        for i, box in enumerate(boxes):
            assert not any(box.overlaps(other) for other in boxes[:i]), (name, i)
            assert inside.x0 - 1 <= box.x0 and box.x1 <= inside.x1 + 1, (name, i)
        written[name] = len(boxes)
    assert 10 <= written["whole"] < len(alignment.lyrics.words)  # some left out, many kept
    start = plots.close_up_start(alignment)
    assert start > 0 and close_up.get_xlim() == (start, start + plots.ZOOM_SECONDS)
    first = min(w.start for w in alignment.lyrics.words)
    assert start <= first < start + 1.0  # the close-up opens on the first words
    assert close_up.get_title() == f"close-up: {start:g}\u2013{start + 5:g} s"


def test_the_strip_names_the_symbols_when_the_steps_are_tall_enough() -> None:
    short = song_alignment(6.0)
    figure = plots.alignment_figure(short, "phonemes")
    strip = figure.axes[1]  # the strip is added second (it shares the attention's y axis)
    names = plots.symbol_names(short.side_info)
    assert [t.get_text() for t in strip.texts] == names
    assert [t.get_position()[1] for t in strip.texts] == list(range(len(names)))
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert legend[:4] == ["pause", "word boundary", "vowel", "consonant"]
    assert "level (1: loudest)" not in [ax.get_xlabel() for ax in figure.axes]
    long = plots.alignment_figure(song_alignment(180.0), "phonemes")
    assert len(long.axes[1].texts) == 0 and long.axes[1].get_xticks().size == 0


def test_symbol_classes() -> None:
    classes = plots.symbol_classes(["_", "|", "AH", "T", "<pad>", "?", "IY", "NG"])
    assert [plots.SYMBOL_CLASSES[c] for c in classes] == [
        "pause",
        "word boundary",
        "vowel",
        "consonant",
        "pause",
        "pause",
        "vowel",
        "consonant",
    ]
    assert plots.symbol_names(np.array([[1.0], [2.0], [3.0], [99.0]])) == ["_", "|", "AA", "?"]


def test_close_up_starts_at_zero_without_lyrics() -> None:
    alignment = song_alignment(20.0)
    assert plots.close_up_start(dataclasses.replace(alignment, lyrics=None)) == 0.0
    late = LyricsTiming(("x",), (TimedWord("x", 0, 17.7, 18.0),))
    assert plots.close_up_start(dataclasses.replace(alignment, lyrics=late)) == 15.0  # 20 - 5
    assert plots.close_up_title(0.0, 5.0) == "close-up: first 5 s"


def test_a_real_lyrics_run_figure_has_its_words(lyrics_folder: Path, tmp_path: Path) -> None:
    alignment = runs.load_alignment(lyrics_folder)
    assert alignment.lyrics is not None and plots.is_symbolic(alignment)
    figure = plots.alignment_figure(alignment, "phonemes")
    assert _word_labels(_attention_axes(figure)[0], alignment)
    path = plots.plot_alignment(alignment, "phonemes", tmp_path / "a.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- the page


class _Lyrics(HTMLParser):
    """The lyrics panels of a page: per panel its audio id, its lines of word spans
    ``(text, attributes)`` and its links; and every audio element by id."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: list[dict] = []
        self.audio: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self._depth = 0
        self._word: dict | None = None
        self._in_legend = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "audio" and values.get("id"):
            self.audio[str(values["id"])] = str(values.get("src"))
        elif tag == "script":
            self.scripts.append(values)
        elif tag == "div" and "lyrics-panel" in classes:
            self.panels.append({"audio": None, "lines": [], "links": []})
        elif tag == "div" and "lyrics" in classes:
            self.panels[-1]["audio"] = values.get("data-audio")
        elif tag == "p" and "line" in classes and self.panels:
            self.panels[-1]["lines"].append([])
        elif tag == "span" and "w" in classes:
            self._word = {"text": "", **values}
            self.panels[-1]["lines"][-1].append(self._word)
        elif tag == "a" and self.panels and self._in_legend:
            self.panels[-1]["links"].append(values.get("href"))
        if tag == "p" and "legend" in classes and self.panels:
            self._in_legend = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._word = None
        elif tag == "p":
            self._in_legend = False

    def handle_data(self, data: str) -> None:
        if self._word is not None:
            self._word["text"] += data


def _lyrics_of(page: Path) -> _Lyrics:
    parser = _Lyrics()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_the_lyrics_panel_holds_every_word_with_its_found_times(
    lyrics_folder: Path, tmp_path: Path
) -> None:
    out = copy_with_mixtures(lyrics_folder, tmp_path / "lyrics")
    page = report.build_report(out)
    found = json.loads((out / "lyrics.json").read_text(encoding="utf-8"))
    (panel,) = _lyrics_of(page).panels
    by_line = [[w for w in found["words"] if w["line"] == i] for i in range(len(found["lines"]))]
    assert [[w["text"] for w in line] for line in panel["lines"]] == [
        [w["text"] for w in line] for line in by_line
    ]
    words = [w for line in panel["lines"] for w in line]
    for span, word in zip(words, found["words"], strict=True):
        assert float(span["data-start"]) == pytest.approx(word["start"], abs=5e-4)
        assert float(span["data-end"]) == pytest.approx(word["end"], abs=5e-4)
        assert span["title"].startswith(f"{word['start']:.2f}\u2013{word['end']:.2f} s")
        assert "off" not in span["class"].split()  # no truth to be off from
    parsed = _lyrics_of(page)
    assert parsed.audio[panel["audio"]] == "vocals.wav"  # it follows the estimate
    assert [unquote(link) for link in panel["links"]] == [
        "lyrics.json",
        "lyrics_words.txt",
        "lyrics_phonemes.txt",
        "lyrics.lrc",
    ]
    for link in panel["links"]:
        assert (page.parent / unquote(link)).is_file()
    html = page.read_text(encoding="utf-8")
    assert parsed.scripts == [{}]  # one inline script, nothing loaded from anywhere
    assert "http://" not in html and "https://" not in html and "fetch(" not in html
    for hook in ('"timeupdate"', '"seeked"', "requestAnimationFrame", "currentTime ="):
        assert hook in html
    assert 'href="lyrics.lrc"' in html.split("Learned alignment")[1]  # under the figure too
    assert "the lyrics: one symbol per step" in html and "White labels: each word" in html


def test_a_report_without_lyrics_has_no_script(
    separate_folders: dict[str, Path], tmp_path: Path
) -> None:
    out = copy_with_mixtures(separate_folders["one"], tmp_path / "one")
    html = report.build_report(out).read_text(encoding="utf-8")
    assert "<script" not in html and 'class="lyrics' not in html


def _timing(starts: list[float], lines: tuple[str, ...] = ("a b", "c")) -> LyricsTiming:
    texts, owners = ["a", "b", "c"], [0, 0, 1]
    words = tuple(
        TimedWord(t, line, s, s + 0.2) for t, line, s in zip(texts, owners, starts, strict=True)
    )
    return LyricsTiming(lines, words)


def test_lyrics_panel_marks_the_words_found_off_their_true_onset() -> None:
    truth = _timing([1.0, 2.0, 3.0])
    found = _timing([1.1, 2.5, 3.0])
    panel = report.lyrics_panel(found, truth, [("lyrics.lrc", "x/lyrics.lrc")])
    assert [[w.text for w in line] for line in panel.lines] == [["a", "b"], ["c"]]
    words = [w for line in panel.lines for w in line]
    assert [w.off for w in words] == [False, True, False]
    assert words[1].title == "2.50\u20132.70 s · true onset 2.00 s (0.50 s off)"
    summary = onset_summary(word_onset_errors(found, truth), ONSET_TOLERANCE_S)
    assert panel.note == (
        f"Word onsets against the true timing: mean error {summary['mean_abs_error_s']:.2f} s, "
        f"median {summary['median_abs_error_s']:.2f} s, 67 % within 0.3 s (3 words)."
    )
    other = LyricsTiming(truth.lines, tuple(dataclasses.replace(w, text="z") for w in truth.words))
    plain = report.lyrics_panel(found, other, [])
    assert plain.note == "" and not any(w.off for line in plain.lines for w in line)
    assert "true onset" not in plain.lines[0][0].title


def test_demo_report_scores_the_word_timing_against_the_truth(
    demo_folder: Path, tmp_path: Path
) -> None:
    run_dir = copy_run(demo_folder, tmp_path / "run")
    track = run_dir / "tracks" / "synthetic-000"
    truth = timing_from_json(json.loads((track / "lyrics.json").read_text()), "truth")
    found = timing_from_json(json.loads((track / "phonemes" / "lyrics.json").read_text()), "f")
    assert truth is not None and found is not None
    errors = word_onset_errors(found, truth)
    page = report.build_report(run_dir)
    (panel,) = _lyrics_of(page).panels  # the other two 3 s songs sing no word
    words = [w for line in panel["lines"] for w in line]
    assert [("off" in w["class"].split()) for w in words] == list(errors > ONSET_TOLERANCE_S)
    assert all("true onset" in w["title"] for w in words)
    onsets = report_text.word_onsets(runs.load_run(run_dir))
    assert list(onsets) == ["phonemes"]
    assert onsets["phonemes"].songs == 1 and onsets["phonemes"].words == errors.size
    assert onsets["phonemes"].mean_s == pytest.approx(errors.mean())
    html = page.read_text(encoding="utf-8")
    sentence = report_text.onset_sentence(runs.load_run(run_dir).systems[3], onsets["phonemes"])
    assert sentence in html
    assert re.search(r"mean onset error of \d+\.\d\d s \(median \d+\.\d\d s\)", sentence)


def test_word_onsets_take_the_mean_over_songs(demo_folder: Path, tmp_path: Path) -> None:
    """Two songs with words (the first song's timings written into the second): the mean of
    the per-song means, the words of both."""
    run_dir = copy_run(demo_folder, tmp_path / "run")
    first, second = run_dir / "tracks" / "synthetic-000", run_dir / "tracks" / "synthetic-001"
    truth = json.loads((first / "lyrics.json").read_text())
    found = json.loads((first / "phonemes" / "lyrics.json").read_text())
    moved = json.loads(json.dumps(found))
    for word in moved["words"]:
        word["start"] = word["start"] + 1.0
        word["end"] = word["end"] + 1.0
    (second / "lyrics.json").write_text(json.dumps(truth))
    (second / "phonemes" / "lyrics.json").write_text(json.dumps(moved))
    onsets = report_text.word_onsets(runs.load_run(run_dir))["phonemes"]
    a = np.abs(
        [f["start"] - t["start"] for f, t in zip(found["words"], truth["words"], strict=True)]
    )
    b = np.abs(
        [f["start"] - t["start"] for f, t in zip(moved["words"], truth["words"], strict=True)]
    )
    assert onsets.songs == 2 and onsets.words == a.size + b.size
    assert onsets.mean_s == pytest.approx((a.mean() + b.mean()) / 2)
    assert onsets.share_within == pytest.approx((np.mean(a <= 0.3) + np.mean(b <= 0.3)) / 2)
    assert "mean over 2 songs" in report_text.onset_sentence(
        runs.load_run(run_dir).systems[3], onsets
    )
