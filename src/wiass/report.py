"""The HTML listening report of a run folder: what the side information did, in one page.

Reads any run folder (:mod:`wiass.runs`: a ``wiass demo`` run or a ``wiass separate`` output
folder), draws the figures (:mod:`wiass.plots`) into ``<page>_assets/`` next to the page
(``report_assets/`` for the default ``report.html``) and renders ``templates/report.html`` into
the page. Per track: the mixture and, where known, the true vocals; every system's estimate
with its spectrogram and scores; the alignment figure of every system with side information;
and, where the true vocals are known, the energy where the voice is silent. A run with scores
(the demo) opens with what the side information did (:mod:`wiass.report_text`) and the scores
table; a run without (``wiass separate``) says so. Every link in the page is relative.

An estimate separated with lyrics gets a lyrics panel beside its audio player: the sung lines,
every word a ``<span class="w">`` carrying its found ``data-start`` and ``data-end`` (seconds).
The page's one inline script (no library, nothing fetched, so it works from the file system)
highlights the word being sung while the audio plays and seeks the audio to a word clicked.
Where the true timing is known (the demo), every word's title gives its true onset and a word
found more than :data:`~wiass.lyrics.ONSET_TOLERANCE_S` off is marked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from tqdm import tqdm

from wiass.audio import read_audio
from wiass.errors import OutputError
from wiass.files import write_text
from wiass.lyrics import ONSET_TOLERANCE_S, LyricsTiming
from wiass.plots import (
    ZOOM_SECONDS,
    close_up_start,
    has_close_up,
    is_symbolic,
    plot_alignment,
    plot_energy,
    plot_spectrograms,
)
from wiass.report_text import (
    METRIC_LEGEND,
    Cell,
    kind_phrase,
    metric_rows,
    onset_sentences,
    reading,
    song_onsets,
    song_table,
    summary_sentences,
    summary_values,
    tie_note,
    true_lyrics,
)
from wiass.runs import (
    LYRICS_FILES,
    METRICS,
    TABLE_STATISTIC,
    Alignment,
    Run,
    System,
    Track,
    load_alignment,
    load_run,
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def _href(target: Path, page_dir: Path) -> str:
    """A relative, URL-quoted link from a page in ``page_dir`` to ``target``."""
    return quote(Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix())


@dataclass(frozen=True)
class LyricWord:
    """A word of the lyrics panel: found ``start`` and ``end`` (seconds), a ``title`` with its
    times (and its true onset where known), ``off`` when found farther than the tolerance."""

    text: str
    start: float
    end: float
    title: str
    off: bool = False


@dataclass(frozen=True)
class LyricsPanel:
    """The lyrics of an estimate with their found timing: ``lines`` of words, the timing files
    ``(name, link)`` and a ``note`` on the timing against the truth ("" where unknown)."""

    lines: tuple[tuple[LyricWord, ...], ...]
    files: tuple[tuple[str, str], ...]
    note: str = ""


@dataclass(frozen=True)
class Panel:
    """One source of a track in the page: label, audio link and element id, spectrogram link,
    scores, and for an estimate with lyrics its lyrics panel."""

    label: str
    note: str
    audio: str
    image: str
    cells: tuple[Cell, ...] = ()
    audio_id: str = ""
    lyrics: LyricsPanel | None = None


@dataclass(frozen=True)
class AlignmentFigure:
    """A system's alignment figure; ``zoom``: seconds of its close-up, if any, starting at
    ``zoom_start``; ``files``: ``(name, link)`` of the alignment files a user can take away;
    ``symbols``: the side information is lyrics symbols; ``has_words``: the words are written
    over the attention."""

    system: str
    phrase: str
    image: str
    zoom: float | None = None
    files: tuple[tuple[str, str], ...] = ()
    zoom_start: float = 0.0
    symbols: bool = False
    has_words: bool = False


@dataclass(frozen=True)
class TrackSection:
    name: str
    anchor: str
    seconds: float
    references: tuple[Panel, ...]
    estimates: tuple[Panel, ...]
    alignments: tuple[AlignmentFigure, ...]
    energy: str | None
    notes: tuple[str, ...] = ()


def _system_key(index: int, system: System) -> str:
    """A file-name part unique to a system (names like 'A3.1' and 'A3-1' would share a slug)."""
    return f"system-{index}-{_slug(system.name)}"


def _alignment_figure(
    system: System, alignment: Alignment, folder: Path, path: Path, page_dir: Path
) -> AlignmentFigure:
    """Draw the alignment figure of a system's output ``folder`` into ``path``."""
    plot_alignment(alignment, f"{system.name}: learned alignment", path)
    names = ["alignment.json"] + (["alignment_labels.txt"] if alignment.is_activity else [])
    if alignment.lyrics is not None:
        names += [name for name in LYRICS_FILES if (folder / name).is_file()]
    close_up = has_close_up(alignment)
    return AlignmentFigure(
        system=system.name,
        phrase=kind_phrase(system),
        image=_href(path, page_dir),
        zoom=ZOOM_SECONDS if close_up else None,
        files=tuple((name, _href(folder / name, page_dir)) for name in names),
        zoom_start=close_up_start(alignment) if close_up else 0.0,
        symbols=is_symbolic(alignment),
        has_words=alignment.lyrics is not None and bool(alignment.lyrics.words),
    )


def _word(word_text: str, start: float, end: float, true_start: float | None) -> LyricWord:
    title = f"{start:.2f}\u2013{end:.2f} s"
    if true_start is None:
        return LyricWord(word_text, start, end, title)
    error = abs(start - true_start)
    return LyricWord(
        word_text,
        start,
        end,
        f"{title} · true onset {true_start:.2f} s ({error:.2f} s off)",
        error > ONSET_TOLERANCE_S,
    )


def lyrics_panel(
    timing: LyricsTiming, truth: LyricsTiming | None, files: Sequence[tuple[str, str]]
) -> LyricsPanel:
    """The lyrics panel of an estimate: its ``timing``'s words by line (lines without words
    left out), compared word by word with ``truth`` where it times the same words."""
    summary = song_onsets(timing, truth)
    true_starts: list[float | None] = [None] * len(timing.words)
    if summary is not None and truth is not None:
        true_starts = [w.start for w in truth.words]
    lines: list[list[LyricWord]] = [[] for _ in timing.lines]
    for word, true_start in zip(timing.words, true_starts, strict=True):
        lines[word.line].append(_word(word.text, word.start, word.end, true_start))
    note = ""
    if summary is not None:
        note = (
            f"Word onsets against the true timing: mean error {summary['mean_abs_error_s']:.2f} s,"
            f" median {summary['median_abs_error_s']:.2f} s,"
            f" {100 * summary['share_within']:.0f} % within {ONSET_TOLERANCE_S:g} s"
            f" ({summary['words']} word{'s' if summary['words'] != 1 else ''})."
        )
    return LyricsPanel(tuple(tuple(line) for line in lines if line), tuple(files), note)


def _track_files(run: Run, track: Track, keys: Sequence[str]) -> tuple[dict[str, Path], list[str]]:
    """The audio of a track by key (``mixture``, ``true-vocals``, one key per system) and notes
    on files the run names outside its folder that are gone (a mixture moved since)."""
    files: dict[str, Path] = {}
    notes = []
    mixture = run.path(track.mixture)
    if mixture.is_file():
        files["mixture"] = mixture
    else:
        notes.append(f"The mixture is no longer at {mixture}, so it is not shown.")
    if track.vocals is not None:
        files["true-vocals"] = run.path(track.vocals)
    for key, system in zip(keys, run.systems, strict=True):
        files[key] = run.output_dir(track, system.name) / "vocals.wav"
    return files, notes


def _estimate_note(system: System) -> str:
    return f"estimate · {kind_phrase(system)}"


def _alignments(run: Run, track: Track, keys: Sequence[str]) -> dict[str, Alignment]:
    """The alignment of every system of the run that has one on ``track``, by system key."""
    return {
        key: load_alignment(run.output_dir(track, system.name))
        for key, system in zip(keys, run.systems, strict=True)
        if system.has_alignment
    }


def _lyrics_panels(
    run: Run, track: Track, keys: Sequence[str], alignments: dict[str, Alignment], page_dir: Path
) -> dict[str, LyricsPanel]:
    """The lyrics panel of every system of the run that found the timing of lyrics."""
    truth = true_lyrics(run, track)
    panels = {}
    for key, system in zip(keys, run.systems, strict=True):
        timing = alignments[key].lyrics if key in alignments else None
        if timing is not None and timing.words:
            folder = run.output_dir(track, system.name)
            files = [
                (n, _href(folder / n, page_dir)) for n in LYRICS_FILES if (folder / n).is_file()
            ]
            panels[key] = lyrics_panel(timing, truth, files)
    return panels


def _render_track(run: Run, index: int, track: Track, page_dir: Path, assets: Path) -> TrackSection:
    """Draw every figure of one track and describe its section of the page."""
    prefix = f"{index:02d}-{_slug(track.name)}"
    anchor = f"track-{prefix}"
    keys = [_system_key(i, s) for i, s in enumerate(run.systems)]
    files, notes = _track_files(run, track, keys)
    signals = {key: read_audio(file) for key, file in files.items()}
    images = {key: assets / f"{prefix}-spectrogram-{key}.png" for key in files}
    plot_spectrograms(signals, images)
    cells = {}
    if run.scores is not None:
        cells = metric_rows({s.name: run.scores[s.name][track.name] for s in run.systems})
    alignments = _alignments(run, track, keys)
    lyrics = _lyrics_panels(run, track, keys, alignments, page_dir)

    def panel(key: str, label: str, note: str, row: Sequence[Cell] = ()) -> Panel:
        return Panel(
            label,
            note,
            _href(files[key], page_dir),
            _href(images[key], page_dir),
            tuple(row),
            audio_id=f"audio-{prefix}-{key}",
            lyrics=lyrics.get(key),
        )

    energy = None
    if "true-vocals" in signals:
        truth, rate = signals["true-vocals"]
        estimates = {s.name: signals[key][0] for key, s in zip(keys, run.systems, strict=True)}
        energy = _href(
            plot_energy(truth, estimates, rate, assets / f"{prefix}-energy.png"), page_dir
        )
    references = [("mixture", "Mixture", "input"), ("true-vocals", "True vocals", "target")]
    figures = [
        _alignment_figure(
            system,
            alignments[key],
            run.output_dir(track, system.name),
            assets / f"{prefix}-alignment-{key}.png",
            page_dir,
        )
        for key, system in zip(keys, run.systems, strict=True)
        if key in alignments
    ]
    return TrackSection(
        name=track.name,
        anchor=anchor,
        seconds=track.seconds,
        references=tuple(panel(*ref) for ref in references if ref[0] in files),
        estimates=tuple(
            panel(key, s.name, _estimate_note(s), cells.get(s.name, ()))
            for key, s in zip(keys, run.systems, strict=True)
        ),
        alignments=tuple(figures),
        energy=energy,
        notes=tuple(notes),
    )


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wiass", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html")


def _when(created: str) -> str:
    """An ISO time from results.json as 'YYYY-MM-DD HH:MM', or as it is when not ISO."""
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return created


def render_html(run: Run, sections: Sequence[TrackSection]) -> str:
    """The page's HTML for a loaded run and its drawn track sections."""
    scored = run.scores is not None
    values = summary_values(run) if scored else {}
    notes = [tie_note(m, [row[m] for row in values.values()]) for m in METRICS] if scored else []
    return _template().render(
        run=run,
        scored=scored,
        created=_when(run.created),
        reading=reading(run) if scored else "",
        sentences=summary_sentences(run) + onset_sentences(run) if scored else [],
        metrics=METRICS,
        statistic=TABLE_STATISTIC,
        legend=METRIC_LEGEND,
        table=metric_rows(values) if scored else {},
        notes=[note for note in notes if note],
        songs=song_table(run) if scored else {},
        kind_phrase=kind_phrase,
        sections=sections,
        total_seconds=sum(t.seconds for t in run.tracks),
        has_lyrics=any(p.lyrics is not None for s in sections for p in s.estimates),
        tolerance=ONSET_TOLERANCE_S,
    )


def assets_folder(page: Path) -> Path:
    """The figures' folder of a page: ``<name>_assets/`` beside it (``report_assets/`` for
    ``report.html``), so that pages written into one folder never share figure files."""
    return page.with_name(f"{page.stem}_assets")


def build_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Build the listening report of a run folder and return the path of the HTML page.

    ``out`` defaults to ``run_dir/report.html``; figures go to :func:`assets_folder` beside it
    (``report_assets/`` for ``report.html``, ``mine_assets/`` for ``mine.html``) and every link
    in the page (audio, images) is relative, so the folder can be moved or served as it is.
    Raises RunError / AudioError for a run folder the report cannot be built from.
    """
    run = load_run(run_dir)
    page = Path(out) if out is not None else run.root / "report.html"
    if page.is_dir():
        raise OutputError(f"{page}: is a folder; --out must name the HTML file to write")
    assets = assets_folder(page)
    sections = [
        _render_track(run, i, track, page.parent, assets)
        for i, track in enumerate(tqdm(run.tracks, desc="report", unit="track", disable=None))
    ]
    write_text(page, render_html(run, sections))
    return page


__all__ = [
    "LyricWord",
    "LyricsPanel",
    "assets_folder",
    "build_report",
    "lyrics_panel",
    "render_html",
]
