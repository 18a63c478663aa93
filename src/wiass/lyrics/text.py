"""Lyrics from a user: a plain text, one lyric line per line, as words, phonemes and the symbol
sequence of the ``phonemes`` side information.

What is read (:func:`parse_lyrics`): blank lines are skipped, and so are section markers on a
line of their own (``[Chorus]``, ``{Verse 2}``, ``(x2)``, ``(Repeat chorus)``); inside a line,
``[...]`` notes, repeat marks (``(x2)``, ``(2x)``) and LRC time tags (``[00:12.34]``,
``<00:12.34>``) are removed; a line left with nothing to sing is dropped, so ``Lyrics.lines``
holds only sung lines and a word's ``line`` indexes into it. Words and numbers as in
:mod:`wiass.lyrics.pronounce`.

Files (:func:`read_lyrics`): UTF-8 (a byte-order mark allowed), UTF-16 with a byte-order mark,
or Latin-1 when the bytes are not UTF-8 but still look like text. Every refusal is one line
naming the file (:class:`~wiass.errors.LyricsError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiass.errors import LyricsError
from wiass.files import MAX_TEXT_BYTES
from wiass.lyrics.pronounce import pronounce, split_token
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, WORD_BOUNDARY

_REPEAT = r"(?:[x\u00d7]\s*\d+|\d+\s*[x\u00d7])"
_SECTION_NAMES = (
    r"(?:repeat|chorus|pre-?chorus|verse|bridge|intro|outro|hook|refrain|instrumental|solo|"
    r"interlude|break|coda|fade(?:\s*out)?|spoken)"
)
_MARKER_LINE = re.compile(
    rf"^(?:\[[^\]]*\]|\{{[^}}]*\}}|\(\s*(?:{_REPEAT}|{_SECTION_NAMES}\b[^)]*)\s*\))$", re.IGNORECASE
)
_INLINE_MARKS = re.compile(
    r"\[[^\]]*\]"
    r"|<\d+:\d+(?:[.:]\d+)?>"
    rf"|\(\s*{_REPEAT}\s*\)"
    r"|(?<!\S)(?:[x\u00d7]\d+|\d+[x\u00d7])(?!\S)",
    re.IGNORECASE,
)
"""Removed inside a line: ``[...]`` notes and LRC line tags, LRC word tags, repeat marks."""

BINARY_SHARE = 0.10
"""A file whose share of control characters (other than tab, line and page breaks) exceeds
this is taken for binary."""

BINARY_SAMPLE = 65536
"""Characters at the start of a file whose control characters are counted."""

_EXAMPLES = 5
"""How many words an error or note names at most."""


@dataclass(frozen=True)
class Word:
    """One sung word: ``text`` as written (punctuation at its ends stripped), its ``phonemes``
    (ARPAbet without stress), the index of its ``line`` in :attr:`Lyrics.lines`, and whether
    the phonemes were ``guessed`` by spelling rules (not in the CMU dictionary)."""

    text: str
    phonemes: tuple[str, ...]
    line: int
    guessed: bool


@dataclass(frozen=True)
class Lyrics:
    """Parsed lyrics: the sung ``lines`` (markers removed), their ``words`` in order, and the
    ``source`` they came from (a file name or a short description) for messages."""

    lines: tuple[str, ...]
    words: tuple[Word, ...]
    source: str

    @property
    def guessed_words(self) -> tuple[str, ...]:
        """The distinct words (as written, in order of appearance) whose pronunciation was
        guessed because the CMU dictionary does not know them."""
        return tuple(dict.fromkeys(w.text for w in self.words if w.guessed))

    def guessed_note(self) -> str | None:
        """One line naming the guessed words for the user, or None when there are none."""
        guessed = self.guessed_words
        if not guessed:
            return None
        return (
            f"{self.source}: {len(guessed)} word(s) not in the CMU Pronouncing Dictionary, "
            f"pronounced by spelling rules: {_name_some(guessed)}"
        )

    def symbols(self) -> list[str]:
        """The symbol sequence of the side information: PAUSE at the start, at every line
        break and at the end, WORD_BOUNDARY between two words of one line, and each word's
        phonemes in order (``_ L AH V | M IY _ T EH N D ER _`` for "love me / tender")."""
        return [symbol for symbol, _ in self._steps()]

    def symbol_words(self) -> list[int]:
        """For each step of :meth:`symbols`, the index of the word it belongs to in
        :attr:`words` (-1 for PAUSE and WORD_BOUNDARY)."""
        return [word for _, word in self._steps()]

    def symbol_indices(self) -> np.ndarray:
        """:meth:`symbols` as indices into :data:`~wiass.lyrics.symbols.SYMBOLS`, shape (M,)."""
        return symbol_indices(self.symbols())

    def _steps(self) -> list[tuple[str, int]]:
        steps: list[tuple[str, int]] = [(PAUSE, -1)]
        for index, word in enumerate(self.words):
            if index > 0:
                if word.line != self.words[index - 1].line:
                    steps.append((PAUSE, -1))
                else:
                    steps.append((WORD_BOUNDARY, -1))
            steps.extend((phoneme, index) for phoneme in word.phonemes)
        steps.append((PAUSE, -1))
        return steps


def symbol_indices(symbols: list[str] | tuple[str, ...]) -> np.ndarray:
    """Symbols -> their indices in :data:`~wiass.lyrics.symbols.SYMBOLS` (int64, shape (M,));
    LyricsError for a symbol outside the set."""
    try:
        return np.array([SYMBOL_INDEX[s] for s in symbols], dtype=np.int64)
    except KeyError as exc:
        raise LyricsError(f"unknown lyrics symbol {exc.args[0]!r}") from None


def _name_some(words: tuple[str, ...] | list[str]) -> str:
    named = ", ".join(repr(w) for w in words[:_EXAMPLES])
    return named + (f" and {len(words) - _EXAMPLES} more" if len(words) > _EXAMPLES else "")


def clean_line(line: str) -> str:
    """A raw text line without markers (``""`` for a marker line or a blank one)."""
    stripped = line.strip()
    if not stripped or _MARKER_LINE.match(stripped):
        return ""
    return " ".join(_INLINE_MARKS.sub(" ", stripped).split())


def line_words(line: str, index: int) -> list[Word]:
    """The words of one cleaned lyric line (see :func:`clean_line`), numbered ``index``."""
    words = []
    for token in line.split():
        for written, normalized in split_token(token):
            sung = pronounce(normalized)
            words.append(Word(written, sung.phonemes, index, sung.guessed))
    return words


def parse_lyrics(text: str, source: str) -> Lyrics:
    """Lyrics from a text, one lyric line per line; LyricsError naming ``source`` when no word
    is left to sing or none of the words is in the CMU Pronouncing Dictionary."""
    lines: list[str] = []
    words: list[Word] = []
    for raw in text.splitlines():
        line = clean_line(raw)
        found = line_words(line, len(lines)) if line else []
        if found:
            lines.append(line)
            words.extend(found)
    if not words:
        raise LyricsError(f"{source}: no lyrics (no word with letters to sing)")
    if all(w.guessed for w in words):
        distinct = list(dict.fromkeys(w.text for w in words))
        raise LyricsError(
            f"{source}: none of the {len(distinct)} distinct words is in the CMU Pronouncing "
            f"Dictionary ({_name_some(distinct)}); English lyrics are expected"
        )
    return Lyrics(tuple(lines), tuple(words), source)


def read_lyrics(path: str | Path) -> Lyrics:
    """Lyrics from a text file (see the module); LyricsError naming the file when it is
    missing, unreadable, a folder, too large, binary, empty or without a known word."""
    file = Path(path)
    return parse_lyrics(read_text(file), str(file))


def read_text(file: Path) -> str:
    """The text of a lyrics or annotation file, decoded as the module says; LyricsError naming
    the file for a missing, unreadable, oversized or binary one."""

    try:
        if file.is_dir():
            raise LyricsError(f"{file}: is a folder, not a lyrics text file")
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise LyricsError(f"{file}: {size} bytes, larger than the limit {MAX_TEXT_BYTES}")
        data = file.read_bytes()
    except FileNotFoundError:
        raise LyricsError(f"{file}: no such file") from None
    except OSError as exc:
        raise LyricsError(f"{file}: cannot read ({exc.strerror or exc})") from None
    return _decode(data, file)


def _decode(data: bytes, file: Path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked_text(data.decode("utf-16"), file)
        except UnicodeDecodeError:
            raise LyricsError(f"{file}: binary file, not a lyrics text") from None
    if b"\x00" in data:
        raise LyricsError(f"{file}: binary file (NUL bytes), not a lyrics text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _checked_text(text, file)


def _checked_text(text: str, file: Path) -> str:
    """``text`` unless its start (:data:`BINARY_SAMPLE` characters) is mostly control
    characters (then LyricsError: a binary file)."""
    sample = text[:BINARY_SAMPLE]
    control = sum(1 for c in sample if (c < " " and c not in "\t\n\r\f\v") or "\x7f" <= c <= "\x9f")
    if sample and control / len(sample) > BINARY_SHARE:
        raise LyricsError(f"{file}: binary file (mostly not text), not a lyrics text")
    return text


__all__ = [
    "BINARY_SHARE",
    "Lyrics",
    "Word",
    "clean_line",
    "line_words",
    "parse_lyrics",
    "read_lyrics",
    "read_text",
    "symbol_indices",
]
