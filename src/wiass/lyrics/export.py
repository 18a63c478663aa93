"""Timed lyrics written out: JSON, Audacity label files and LRC (synchronised lyrics).

Every writer is atomic (:func:`wiass.files.write_text` / :func:`wiass.files.write_json`): a
reader never sees half a file and a failure leaves the previous one.

- Audacity labels: one ``start<TAB>end<TAB>label`` line per word or phoneme, seconds with six
  decimals (Audacity's File > Import > Labels reads them).
- LRC: one ``[mm:ss.xx]`` line time per sung line. With ``words=True``, the "enhanced LRC" of
  the A2 Media Player: a word time tag ``<mm:ss.xx>`` before every word, and one more after the
  last word of the line for the time it ends::

      [00:01.23] <00:01.23> love <00:01.61> me <00:02.00> tender <00:03.10>

  ``words=False`` writes plain LRC (``[00:01.23]love me tender``), for players that show the
  word tags as text. An optional ``[length: m:ss]`` header gives the song's length.
"""

from __future__ import annotations

import os

from wiass.files import write_json, write_text
from wiass.lyrics.timing import LyricsTiming, TimedWord


def write_timing_json(path: str | os.PathLike[str], timing: LyricsTiming) -> None:
    """``timing`` in the shared JSON form (:meth:`LyricsTiming.to_json`)."""
    write_json(path, timing.to_json())


def word_labels(timing: LyricsTiming) -> str:
    """Audacity label text with one line per word."""
    return "".join(_label(w.start, w.end, w.text) for w in timing.words)


def phoneme_labels(timing: LyricsTiming) -> str:
    """Audacity label text with one line per phoneme."""
    return "".join(_label(p.start, p.end, p.symbol) for w in timing.words for p in w.phonemes)


def write_word_labels(path: str | os.PathLike[str], timing: LyricsTiming) -> None:
    """An Audacity label file of the words (:func:`word_labels`)."""
    write_text(path, word_labels(timing))


def write_phoneme_labels(path: str | os.PathLike[str], timing: LyricsTiming) -> None:
    """An Audacity label file of the phonemes (:func:`phoneme_labels`)."""
    write_text(path, phoneme_labels(timing))


def _label(start: float, end: float, text: str) -> str:
    return f"{start:.6f}\t{end:.6f}\t{text}\n"


def lrc_time(seconds: float) -> str:
    """``mm:ss.xx`` (minutes with at least two digits, hundredths rounded): 83.456 -> 01:23.46."""
    hundredths = max(0, round(seconds * 100))
    minutes, rest = divmod(hundredths, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def lrc_text(timing: LyricsTiming, words: bool = True, length: float | None = None) -> str:
    """The LRC text of ``timing`` (see the module); lines without words are left out."""
    header = []
    if length is not None:
        minutes, seconds = divmod(max(0, round(length)), 60)
        header.append(f"[length: {minutes}:{seconds:02d}]\n")
    by_line: list[list[TimedWord]] = [[] for _ in timing.lines]
    for word in timing.words:
        by_line[word.line].append(word)
    body = []
    for index, line_words in enumerate(by_line):
        if not line_words:
            continue
        start = f"[{lrc_time(min(w.start for w in line_words))}]"
        if words:
            tags = " ".join(f"<{lrc_time(w.start)}> {w.text}" for w in line_words)
            body.append(f"{start} {tags} <{lrc_time(line_words[-1].end)}>\n")
        else:
            body.append(f"{start}{timing.lines[index]}\n")
    return "".join(header + body)


def write_lrc(
    path: str | os.PathLike[str],
    timing: LyricsTiming,
    words: bool = True,
    length: float | None = None,
) -> None:
    """An LRC file of ``timing``: line times, and word times when ``words`` (enhanced LRC);
    ``length`` (seconds) adds a ``[length: m:ss]`` header."""
    write_text(path, lrc_text(timing, words=words, length=length))


__all__ = [
    "lrc_text",
    "lrc_time",
    "phoneme_labels",
    "word_labels",
    "write_lrc",
    "write_phoneme_labels",
    "write_timing_json",
    "write_word_labels",
]
