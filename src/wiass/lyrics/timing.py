"""Word and phoneme timings of lyrics (seconds) and their JSON form.

The JSON form is shared with the synthetic dataset's per-track ``notes.json``::

    {"lines": ["love me tender", ...],
     "words": [{"text": "love", "line": 0, "start": 1.23, "end": 1.61,
                "phonemes": [{"symbol": "L", "start": 1.23, "end": 1.30}, ...]}, ...]}

``line`` indexes ``lines``; ``symbol`` is an ARPAbet phoneme without stress
(:data:`~wiass.lyrics.symbols.PHONEMES`); times are seconds from the start of the audio with
``start <= end``. :func:`timing_from_json` returns None for data without a ``"words"`` key (a
synthetic folder written before the voice sang words) and raises a one-line
:class:`~wiass.errors.LyricsError` naming the source and the key for anything else malformed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wiass.errors import LyricsError
from wiass.lyrics.symbols import PHONEMES
from wiass.lyrics.text import Lyrics

TIME_DECIMALS = 6
"""Times are written to JSON rounded to microseconds."""

_PHONEME_SET = frozenset(PHONEMES)


@dataclass(frozen=True)
class TimedPhoneme:
    """One sung phoneme (ARPAbet without stress) from ``start`` to ``end`` (seconds)."""

    symbol: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedWord:
    """One sung word: ``text`` as written, the index of its ``line``, ``start`` and ``end``
    (seconds) and its timed ``phonemes`` (may be empty when only word times are known)."""

    text: str
    line: int
    start: float
    end: float
    phonemes: tuple[TimedPhoneme, ...] = ()


@dataclass(frozen=True)
class LyricsTiming:
    """Timed lyrics: the sung ``lines`` and their ``words`` in order (seconds)."""

    lines: tuple[str, ...]
    words: tuple[TimedWord, ...]

    def to_json(self) -> dict[str, Any]:
        """The shared JSON form (see the module), times rounded to microseconds."""
        return {
            "lines": list(self.lines),
            "words": [
                {
                    "text": w.text,
                    "line": w.line,
                    "start": _rounded(w.start),
                    "end": _rounded(w.end),
                    "phonemes": [
                        {"symbol": p.symbol, "start": _rounded(p.start), "end": _rounded(p.end)}
                        for p in w.phonemes
                    ],
                }
                for w in self.words
            ],
        }

    def line_spans(self) -> list[tuple[float, float] | None]:
        """For each line, ``(earliest word start, latest word end)`` in seconds; None for a
        line without words."""
        spans: list[tuple[float, float] | None] = [None] * len(self.lines)
        for word in self.words:
            span = spans[word.line]
            if span is None:
                spans[word.line] = (word.start, word.end)
            else:
                spans[word.line] = (min(span[0], word.start), max(span[1], word.end))
        return spans


def _rounded(seconds: float) -> float:
    return round(float(seconds), TIME_DECIMALS)


def timing_from_json(data: Any, source: str) -> LyricsTiming | None:
    """The timing in ``data`` (the JSON form of the module), None when ``data`` has no
    ``"words"``; LyricsError naming ``source`` and the key when it is malformed."""
    if not isinstance(data, dict):
        raise LyricsError(f"{source}: expected a JSON object with 'lines' and 'words'")
    if "words" not in data:
        return None
    lines = data.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise LyricsError(f"{source}: 'lines' must be a list of strings")
    words = data["words"]
    if not isinstance(words, list):
        raise LyricsError(f"{source}: 'words' must be a list")
    timed = tuple(_word(item, f"words[{i}]", len(lines), source) for i, item in enumerate(words))
    return LyricsTiming(tuple(lines), timed)


def _word(item: Any, key: str, n_lines: int, source: str) -> TimedWord:
    if not isinstance(item, dict):
        raise LyricsError(f"{source}: {key} must be an object with text, line, start, end")
    text = item.get("text")
    if not isinstance(text, str) or not text:
        raise LyricsError(f"{source}: {key}.text must be a non-empty string")
    line = item.get("line")
    if isinstance(line, bool) or not isinstance(line, int) or not 0 <= line < n_lines:
        raise LyricsError(f"{source}: {key}.line must be a line index from 0 to {n_lines - 1}")
    start, end = _span(item, key, source)
    phonemes = item.get("phonemes", [])
    if not isinstance(phonemes, list):
        raise LyricsError(f"{source}: {key}.phonemes must be a list")
    timed = tuple(_phoneme(p, f"{key}.phonemes[{j}]", source) for j, p in enumerate(phonemes))
    return TimedWord(text, line, start, end, timed)


def _phoneme(item: Any, key: str, source: str) -> TimedPhoneme:
    if not isinstance(item, dict):
        raise LyricsError(f"{source}: {key} must be an object with symbol, start, end")
    symbol = item.get("symbol")
    if symbol not in _PHONEME_SET:
        raise LyricsError(
            f"{source}: {key}.symbol {symbol!r} is not an ARPAbet phoneme without stress"
        )
    start, end = _span(item, key, source)
    return TimedPhoneme(symbol, start, end)


def _span(item: dict[str, Any], key: str, source: str) -> tuple[float, float]:
    times = []
    for name in ("start", "end"):
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LyricsError(f"{source}: {key}.{name} must be a number of seconds")
        if not math.isfinite(value) or value < 0:
            raise LyricsError(f"{source}: {key}.{name} must be finite and >= 0, not {value}")
        times.append(float(value))
    if times[1] < times[0]:
        raise LyricsError(f"{source}: {key} ends ({times[1]}) before it starts ({times[0]})")
    return times[0], times[1]


def timing_from_steps(
    lyrics: Lyrics, starts: Sequence[float] | np.ndarray, ends: Sequence[float] | np.ndarray
) -> LyricsTiming:
    """Word and phoneme times from the times of the side-information steps.

    ``starts`` and ``ends`` (seconds, shape (M,)) belong to the steps of
    :meth:`Lyrics.symbols`; each phoneme takes its step's times and each word runs from its
    first phoneme's start to its last phoneme's end (pauses and word boundaries are dropped).
    """
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    owners = lyrics.symbol_words()
    if starts.shape != (len(owners),) or ends.shape != (len(owners),):
        raise ValueError(
            f"{len(owners)} steps of lyrics, but times of shape {starts.shape} and {ends.shape}"
        )
    symbols = lyrics.symbols()
    phonemes: list[list[TimedPhoneme]] = [[] for _ in lyrics.words]
    for step, owner in enumerate(owners):
        if owner >= 0:
            phonemes[owner].append(
                TimedPhoneme(symbols[step], float(starts[step]), float(ends[step]))
            )
    words = tuple(
        TimedWord(word.text, word.line, timed[0].start, timed[-1].end, tuple(timed))
        for word, timed in zip(lyrics.words, phonemes, strict=True)
    )
    return LyricsTiming(lyrics.lines, words)


__all__ = [
    "TIME_DECIMALS",
    "LyricsTiming",
    "TimedPhoneme",
    "TimedWord",
    "timing_from_json",
    "timing_from_steps",
]
