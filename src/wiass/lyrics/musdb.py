"""The public MUSDB18 lyrics annotations (Schulze-Forster, Doire, Richard and Badeau, "Phoneme
level lyrics alignment and text-informed singing voice separation", IEEE/ACM TASLP 2021;
the "MUSDB18 lyrics extension" on Zenodo, record 3989267).

Format, as read by the preparation script published with the authors' code (``plla_tisvs``,
``prepare_musdb``) and by a second public user of the data: one file per track,
``train_lyrics/<track name>.txt`` and ``test_lyrics/<track name>.txt``, one lyric line per
text line::

    00:12 00:15 a love me tender
    00:16 00:21 b love me sweet
    * 00:22 00:25 a a line the annotators rejected

start and end as ``mm:ss`` (whole seconds; fractions are accepted here), a one-letter type, then
the words. A line starting with ``*`` (in the training files also ``-``) was rejected and is
skipped. The type letters, as that script translates them to its older letters (a->n, b->s,
c->d, d->x): ``a`` one singer (other users of the data take the ``a`` lines as its "single
vocal regions"); ``b`` and ``c`` sung lines with lyrics too (the authors train on them; what
sets them apart is not stated in the sources found); ``d`` lines without lyrics to align (the
script replaces their text by a single pause; another user reads them as "no vocals").

Only line times are annotated: :func:`read_musdb_lyrics` spreads each line's time over its words
in proportion to their phoneme counts, and each word's time evenly over its phonemes, so that
line onsets and ends are exact and word times are an approximation (do not score word onsets
against them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from wiass.errors import LyricsError
from wiass.lyrics.text import Word, clean_line, line_words, read_text
from wiass.lyrics.timing import LyricsTiming, TimedPhoneme, TimedWord

LINE_TYPES: dict[str, str] = {
    "a": "one singer",
    "b": "sung lyrics (the authors' older letter s)",
    "c": "sung lyrics (the authors' older letter d)",
    "d": "no lyrics to align (the authors' older letter x)",
}
"""The type letters of the public annotations and what is known of them (see the module)."""

SUNG_TYPES = frozenset("abc")
"""Types whose lines are sung lyrics (kept by :func:`read_musdb_lyrics`)."""

_TIME = r"\d+:\d{1,2}(?:\.\d+)?"
_LINE = re.compile(
    rf"^(?P<mark>[*-]\s*)?(?P<start>{_TIME})\s+(?P<end>{_TIME})\s+(?P<type>\S+)(?:\s+(?P<text>.*))?$"
)


@dataclass(frozen=True)
class LyricLine:
    """One annotated line: ``start`` and ``end`` (seconds), its ``type`` letter (a-d), its
    ``text`` (may be empty) and whether the annotators ``rejected`` it (``*``)."""

    start: float
    end: float
    type: str
    text: str = ""
    rejected: bool = False


def read_line_annotations(path: str | Path) -> list[LyricLine]:
    """The annotated lines of one MUSDB18 lyrics file; LyricsError naming the file and the line
    number for a malformed line, and the file for one without any line."""
    file = Path(path)
    lines = []
    for number, raw in enumerate(read_text(file).splitlines(), 1):
        if raw.strip():
            lines.append(_parse_line(raw.strip(), f"{file}:{number}"))
    if not lines:
        raise LyricsError(f"{file}: no annotated lines (expected 'mm:ss mm:ss type lyrics')")
    return lines


def _parse_line(line: str, where: str) -> LyricLine:
    match = _LINE.match(line)
    if match is None:
        shown = line if len(line) <= 40 else line[:40] + "..."
        raise LyricsError(f"{where}: expected 'mm:ss mm:ss type lyrics', got {shown!r}")
    kind = match["type"]
    if kind not in LINE_TYPES:
        raise LyricsError(f"{where}: line type {kind!r} is not one of a, b, c, d")
    start, end = _seconds(match["start"], where), _seconds(match["end"], where)
    if end < start:
        raise LyricsError(f"{where}: the line ends ({match['end']}) before it starts")
    return LyricLine(start, end, kind, (match["text"] or "").strip(), match["mark"] is not None)


def _seconds(stamp: str, where: str) -> float:
    minutes, seconds = stamp.split(":")
    if float(seconds) >= 60:
        raise LyricsError(f"{where}: {stamp!r} has {seconds} seconds (must be below 60)")
    return int(minutes) * 60 + float(seconds)


def read_musdb_lyrics(
    text_path: str | Path, annotation_path: str | Path | None = None
) -> LyricsTiming:
    """The sung lines of one MUSDB18 track, timed at line level (see the module).

    ``text_path`` alone: the public format, times and words on each line. With
    ``annotation_path``: the lyric lines of ``text_path`` (blank lines skipped) are paired in
    order with the annotated lines of ``annotation_path``, which must be as many (LyricsError
    naming both files otherwise). Rejected lines, ``d`` lines and lines without words are left
    out; LyricsError when none is left.
    """
    source = Path(annotation_path) if annotation_path is not None else Path(text_path)
    annotated = read_line_annotations(source)
    if annotation_path is not None:
        texts = [line.strip() for line in read_text(Path(text_path)).splitlines() if line.strip()]
        if len(texts) != len(annotated):
            raise LyricsError(
                f"{text_path}: {len(texts)} lyric lines, but {annotation_path} annotates "
                f"{len(annotated)}; they must pair one to one"
            )
        annotated = [replace(a, text=t) for a, t in zip(annotated, texts, strict=True)]
    return timing_from_lines(annotated, str(text_path))


def timing_from_lines(annotated: list[LyricLine], source: str) -> LyricsTiming:
    """A line-level timing of the sung, accepted lines (word times spread as the module says)."""
    lines: list[str] = []
    words: list[TimedWord] = []
    for line in annotated:
        if line.rejected or line.type not in SUNG_TYPES:
            continue
        text = clean_line(line.text)
        found = line_words(text, len(lines)) if text else []
        if found:
            words.extend(_spread(found, line.start, line.end))
            lines.append(text)
    if not words:
        raise LyricsError(f"{source}: no accepted sung line with words")
    return LyricsTiming(tuple(lines), tuple(words))


def _spread(found: list[Word], start: float, end: float) -> list[TimedWord]:
    """``found`` timed over ``[start, end]`` in proportion to their phoneme counts."""
    total = sum(len(w.phonemes) for w in found)

    def at(count: int) -> float:
        return end if count == total else start + (end - start) * count / total

    timed, done = [], 0
    for word in found:
        phonemes = tuple(
            TimedPhoneme(p, at(done + k), at(done + k + 1)) for k, p in enumerate(word.phonemes)
        )
        timed.append(TimedWord(word.text, word.line, at(done), at(done + len(phonemes)), phonemes))
        done += len(phonemes)
    return timed


__all__ = [
    "LINE_TYPES",
    "SUNG_TYPES",
    "LyricLine",
    "read_line_annotations",
    "read_musdb_lyrics",
    "timing_from_lines",
]
