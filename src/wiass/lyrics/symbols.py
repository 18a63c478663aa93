"""The symbols of the ``phonemes`` side information: ARPAbet phonemes plus pause and word boundary.

The 39 phonemes of the CMU Pronouncing Dictionary without stress marks (``AH0``, ``AH1`` and
``AH2`` are all ``AH``), grouped by how the synthetic voice sings them and how a listener hears
them. A side-information step holds one symbol's index in :data:`SYMBOLS`; index 0 is kept for
padding so that a real symbol is never 0.
"""

from __future__ import annotations

from typing import Literal

PhonemeClass = Literal[
    "vowel", "plosive", "affricate", "fricative", "nasal", "liquid", "glide", "aspirate"
]
"""How a phoneme is produced (the classes of the CMU dictionary's ``cmudict.phones``)."""

PHONEME_CLASSES: dict[str, PhonemeClass] = {
    **dict.fromkeys(
        (
            "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
            "EY", "IH", "IY", "OW", "OY", "UH", "UW",
        ),
        "vowel",
    ),
    **dict.fromkeys(("B", "D", "G", "K", "P", "T"), "plosive"),
    **dict.fromkeys(("CH", "JH"), "affricate"),
    **dict.fromkeys(("DH", "F", "S", "SH", "TH", "V", "Z", "ZH"), "fricative"),
    "HH": "aspirate",
    **dict.fromkeys(("M", "N", "NG"), "nasal"),
    **dict.fromkeys(("L", "R"), "liquid"),
    **dict.fromkeys(("W", "Y"), "glide"),
}  # fmt: skip
"""Every ARPAbet phoneme (no stress digits) and its class."""

PHONEMES: tuple[str, ...] = tuple(sorted(PHONEME_CLASSES))
"""The 39 ARPAbet phonemes, sorted."""

VOICED: frozenset[str] = frozenset(
    p for p, c in PHONEME_CLASSES.items() if c in ("vowel", "nasal", "liquid", "glide")
) | frozenset(("B", "D", "G", "JH", "DH", "V", "Z", "ZH"))
"""Phonemes sung with the vocal folds vibrating."""

PADDING = "<pad>"
"""Symbol 0: padding, never a real step."""

PAUSE = "_"
"""A pause: the start and end of the lyrics and every line break (silence may or may not follow)."""

WORD_BOUNDARY = "|"
"""Between two words of one line (takes no time of its own)."""

SYMBOLS: tuple[str, ...] = (PADDING, PAUSE, WORD_BOUNDARY, *PHONEMES)
"""All symbols; a step's value is an index into this tuple."""

SYMBOL_INDEX: dict[str, int] = {symbol: i for i, symbol in enumerate(SYMBOLS)}
"""Index of every symbol in :data:`SYMBOLS`."""


def strip_stress(phoneme: str) -> str:
    """``"AH0"`` -> ``"AH"``: the phoneme without its CMU stress digit (upper case)."""
    return phoneme.upper().rstrip("012")


def is_vowel(phoneme: str) -> bool:
    """Whether the ARPAbet ``phoneme`` (stress digit allowed) is a vowel."""
    return PHONEME_CLASSES.get(strip_stress(phoneme)) == "vowel"


__all__ = [
    "PADDING",
    "PAUSE",
    "PHONEMES",
    "PHONEME_CLASSES",
    "SYMBOLS",
    "SYMBOL_INDEX",
    "VOICED",
    "WORD_BOUNDARY",
    "PhonemeClass",
    "is_vowel",
    "strip_stress",
]
