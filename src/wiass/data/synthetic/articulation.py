"""How the synthetic voice articulates every ARPAbet phoneme: formant rows, voicing and noise.

Vowels. The Csound formant table gives five vowels (a e i o u) per register (soprano, alto,
tenor, bass); the 15 ARPAbet vowels are derived from them (:data:`VOWEL_RECIPES`): a monophthong
is one row or a weighted mix of rows (AE between a and e, IH between i and e, UH between u and
o, AH near a, AO near o; ER a mix with its third formant lowered), a diphthong (AW AY EY OW OY)
glides from one mix to another over its note.

Consonants (:data:`CONSONANTS`). Nasals M N NG, liquids L R and glides W Y are voiced murmurs
with their own formant rows, sung into the vowel; the voiced obstruents (B D G, V Z ZH DH, JH)
keep a weak voicing through a closed-tract row (a voice bar) under their noise; fricatives are
shaped band noise, plosives a closure then a burst, affricates a closure, a burst and SH-like
frication, HH aspiration noise. A consonant's duration is drawn from its range; the voice
renders it over exactly the span the score gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeAlias

import numpy as np

from wiass.lyrics.symbols import PHONEME_CLASSES

FormantRow: TypeAlias = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
"""Five formants of a phoneme: frequencies (Hz), levels (dB re the first), bandwidths (Hz)."""

BASE_VOWELS: tuple[str, ...] = ("a", "e", "i", "o", "u")
"""The vowels of the Csound table, from which the ARPAbet vowels are derived."""

VOWELS: tuple[str, ...] = tuple(p for p, c in PHONEME_CLASSES.items() if c == "vowel")
"""The 15 ARPAbet vowels the voice sings."""

# Formants per register and vowel: frequencies (Hz), levels (dB), bandwidths (Hz), after the
# formant table in the Csound manual (appendix "Formant values").
VOWEL_FORMANTS: dict[str, dict[str, FormantRow]] = {
    "soprano": {
        "a": ((800, 1150, 2900, 3900, 4950), (0, -6, -32, -20, -50), (80, 90, 120, 130, 140)),
        "e": ((350, 2000, 2800, 3600, 4950), (0, -20, -15, -40, -56), (60, 100, 120, 150, 200)),
        "i": ((270, 2140, 2950, 3900, 4950), (0, -12, -26, -26, -44), (60, 90, 100, 120, 120)),
        "o": ((450, 800, 2830, 3800, 4950), (0, -11, -22, -22, -50), (70, 80, 100, 130, 135)),
        "u": ((325, 700, 2700, 3800, 4950), (0, -16, -35, -40, -60), (50, 60, 170, 180, 200)),
    },
    "alto": {
        "a": ((800, 1150, 2800, 3500, 4950), (0, -4, -20, -36, -60), (80, 90, 120, 130, 140)),
        "e": ((400, 1600, 2700, 3300, 4950), (0, -24, -30, -35, -60), (60, 80, 120, 150, 200)),
        "i": ((350, 1700, 2700, 3700, 4950), (0, -20, -30, -36, -60), (50, 100, 120, 150, 200)),
        "o": ((450, 800, 2830, 3500, 4950), (0, -9, -16, -28, -55), (70, 80, 100, 130, 135)),
        "u": ((325, 700, 2530, 3500, 4950), (0, -12, -30, -40, -64), (50, 60, 170, 180, 200)),
    },
    "tenor": {
        "a": ((650, 1080, 2650, 2900, 3250), (0, -6, -7, -8, -22), (80, 90, 120, 130, 140)),
        "e": ((400, 1700, 2600, 3200, 3580), (0, -14, -12, -14, -20), (70, 80, 100, 120, 120)),
        "i": ((290, 1870, 2800, 3250, 3540), (0, -15, -18, -20, -30), (40, 90, 100, 120, 120)),
        "o": ((400, 800, 2600, 2800, 3000), (0, -10, -12, -12, -26), (40, 80, 100, 120, 120)),
        "u": ((350, 600, 2700, 2900, 3300), (0, -20, -17, -14, -26), (40, 60, 100, 120, 120)),
    },
    "bass": {
        "a": ((600, 1040, 2250, 2450, 2750), (0, -7, -9, -9, -20), (60, 70, 110, 120, 130)),
        "e": ((400, 1620, 2400, 2800, 3100), (0, -12, -9, -12, -18), (40, 80, 100, 120, 120)),
        "i": ((250, 1750, 2600, 3050, 3340), (0, -30, -16, -22, -28), (60, 90, 100, 120, 120)),
        "o": ((400, 750, 2400, 2600, 2900), (0, -11, -21, -20, -40), (40, 80, 100, 120, 120)),
        "u": ((350, 600, 2400, 2675, 2950), (0, -20, -32, -28, -36), (40, 80, 100, 120, 120)),
    },
}

Mix: TypeAlias = tuple[tuple[str, float], ...]
"""Weights of base vowels (summing to 1) whose formant rows are mixed."""

VOWEL_RECIPES: dict[str, tuple[Mix, Mix]] = {
    "AA": ((("a", 1.0),), (("a", 1.0),)),
    "AE": ((("a", 0.5), ("e", 0.5)), (("a", 0.5), ("e", 0.5))),
    "AH": ((("a", 0.75), ("e", 0.25)), (("a", 0.75), ("e", 0.25))),
    "AO": ((("a", 0.35), ("o", 0.65)), (("a", 0.35), ("o", 0.65))),
    "EH": ((("e", 0.7), ("a", 0.3)), (("e", 0.7), ("a", 0.3))),
    "ER": ((("e", 0.5), ("o", 0.5)), (("e", 0.5), ("o", 0.5))),
    "IH": ((("i", 0.5), ("e", 0.5)), (("i", 0.5), ("e", 0.5))),
    "IY": ((("i", 1.0),), (("i", 1.0),)),
    "UH": ((("u", 0.5), ("o", 0.5)), (("u", 0.5), ("o", 0.5))),
    "UW": ((("u", 1.0),), (("u", 1.0),)),
    "AW": ((("a", 1.0),), (("u", 0.5), ("o", 0.5))),
    "AY": ((("a", 1.0),), (("i", 0.6), ("e", 0.4))),
    "EY": ((("e", 1.0),), (("i", 1.0),)),
    "OW": ((("o", 1.0),), (("u", 1.0),)),
    "OY": ((("o", 1.0),), (("i", 0.7), ("e", 0.3))),
}
"""Every ARPAbet vowel as (first, last) mixes of base vowels; a diphthong's mixes differ."""

ER_THIRD_FORMANT = 0.62
"""ER (r-coloured) has its third formant at this fraction of the a row's third formant."""

ConsonantKind = Literal["plosive", "affricate", "fricative", "aspirate", "sonorant"]


@dataclass(frozen=True)
class Consonant:
    """How a consonant sounds.

    ``voicing`` is the level of the voiced source during it (0 = voiceless, 1 = a vowel's);
    ``row`` its formant row while voiced (None: formants glide between its neighbours); noise
    in ``band`` (Hz) at ``noise_db`` re the voice's RMS, shaped by ``kind``; ``seconds`` the
    range its duration is drawn from.
    """

    kind: ConsonantKind
    voicing: float
    seconds: tuple[float, float]
    band: tuple[float, float] | None = None
    noise_db: float = 0.0
    row: str | None = None


_LABIAL, _ALVEOLAR, _VELAR = (400.0, 2500.0), (2500.0, 8000.0), (1200.0, 4000.0)
_SIBILANT, _POSTALVEOLAR, _LABIODENTAL = (4500.0, 9000.0), (1800.0, 6000.0), (1200.0, 8000.0)
_DENTAL = (1400.0, 8000.0)

CONSONANTS: dict[str, Consonant] = {
    "P": Consonant("plosive", 0.0, (0.05, 0.07), _LABIAL, -6.0),
    "B": Consonant("plosive", 0.2, (0.04, 0.06), _LABIAL, -14.0, "bar"),
    "T": Consonant("plosive", 0.0, (0.04, 0.06), _ALVEOLAR, -4.0),
    "D": Consonant("plosive", 0.2, (0.04, 0.06), _ALVEOLAR, -12.0, "bar"),
    "K": Consonant("plosive", 0.0, (0.05, 0.07), _VELAR, -4.0),
    "G": Consonant("plosive", 0.2, (0.04, 0.06), _VELAR, -12.0, "bar"),
    "CH": Consonant("affricate", 0.0, (0.08, 0.11), _POSTALVEOLAR, -6.0),
    "JH": Consonant("affricate", 0.25, (0.07, 0.1), _POSTALVEOLAR, -12.0, "bar"),
    "F": Consonant("fricative", 0.0, (0.06, 0.09), _LABIODENTAL, -16.0),
    "V": Consonant("fricative", 0.4, (0.05, 0.08), _LABIODENTAL, -22.0, "bar"),
    "TH": Consonant("fricative", 0.0, (0.06, 0.09), _DENTAL, -18.0),
    "DH": Consonant("fricative", 0.45, (0.04, 0.06), _DENTAL, -24.0, "bar"),
    "S": Consonant("fricative", 0.0, (0.07, 0.11), _SIBILANT, -6.0),
    "Z": Consonant("fricative", 0.35, (0.06, 0.09), _SIBILANT, -12.0, "bar"),
    "SH": Consonant("fricative", 0.0, (0.08, 0.11), _POSTALVEOLAR, -6.0),
    "ZH": Consonant("fricative", 0.35, (0.06, 0.09), _POSTALVEOLAR, -12.0, "bar"),
    "HH": Consonant("aspirate", 0.0, (0.05, 0.08), (500.0, 4000.0), -18.0),
    "M": Consonant("sonorant", 0.35, (0.05, 0.08), row="M"),
    "N": Consonant("sonorant", 0.35, (0.05, 0.08), row="N"),
    "NG": Consonant("sonorant", 0.35, (0.05, 0.08), row="NG"),
    "L": Consonant("sonorant", 0.7, (0.04, 0.07), row="L"),
    "R": Consonant("sonorant", 0.7, (0.04, 0.07), row="R"),
    "W": Consonant("sonorant", 0.8, (0.04, 0.06), row="W"),
    "Y": Consonant("sonorant", 0.8, (0.04, 0.06), row="Y"),
}
"""Every ARPAbet consonant."""

# Murmurs of the nasals (6 dB down: the damping of the nasal tract), liquids and glides, and the
# voice bar of the voiced obstruents: the same in every register.
CONSONANT_ROWS: dict[str, FormantRow] = {
    "M": ((280, 1000, 2200, 2900, 3500), (-6, -30, -36, -42, -46), (100, 150, 200, 250, 250)),
    "N": ((280, 1600, 2500, 3100, 3600), (-6, -28, -34, -40, -46), (100, 150, 200, 250, 250)),
    "NG": ((280, 2000, 2700, 3200, 3700), (-6, -30, -36, -42, -46), (100, 150, 200, 250, 250)),
    "L": ((360, 1200, 2600, 3200, 3700), (0, -10, -18, -24, -34), (60, 120, 150, 200, 250)),
    "R": ((340, 1100, 1550, 3000, 3600), (0, -8, -12, -26, -34), (60, 100, 120, 200, 250)),
    "W": ((300, 650, 2300, 3000, 3600), (0, -12, -30, -36, -44), (50, 70, 150, 200, 250)),
    "Y": ((260, 2150, 3000, 3500, 4200), (0, -14, -20, -26, -34), (50, 100, 120, 150, 200)),
    "bar": ((250, 1100, 2300, 3000, 3600), (0, -30, -40, -46, -52), (100, 200, 250, 250, 250)),
}

VOWEL_HOLD = 0.5
"""A diphthong holds its first mix over this fraction of its vowel, then glides."""


def _row(row: FormantRow) -> np.ndarray:
    """``(15,)``: frequencies, levels (dB), bandwidths of a formant row."""
    return np.concatenate([np.asarray(part, dtype=np.float64) for part in row])


def _mix(register: str, mix: Mix) -> np.ndarray:
    """``(15,)``: the weighted mix of base vowel rows of ``register``."""
    table = VOWEL_FORMANTS[register]
    return sum(weight * _row(table[base]) for base, weight in mix)


@lru_cache(maxsize=8)
def vowel_rows(register: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every ARPAbet vowel's ``(first, last)`` formant rows ``(15,)`` in ``register`` (the same
    array twice for a monophthong). Frequencies before the voice's formant scale."""
    rows = {}
    for vowel, (first, last) in VOWEL_RECIPES.items():
        start = _mix(register, first)
        end = start if last == first else _mix(register, last)
        if vowel == "ER":
            third = ER_THIRD_FORMANT * VOWEL_FORMANTS[register]["a"][0][2]
            start = start.copy()
            start[2] = max(third, start[1] + 250.0)
            end = start
        rows[vowel] = (start, end)
    return rows


@lru_cache(maxsize=16)
def consonant_row(name: str) -> np.ndarray:
    """``(15,)`` formant row of a murmur (M N NG L R W Y) or of the voice bar (``"bar"``)."""
    return _row(CONSONANT_ROWS[name])


def voicing_level(symbol: str) -> float:
    """Level of the voiced source while ``symbol`` sounds (1 for a vowel)."""
    consonant = CONSONANTS.get(symbol)
    return 1.0 if consonant is None else consonant.voicing


def phoneme_seconds(rng: np.random.Generator, symbol: str) -> float:
    """A random duration (s) for the consonant ``symbol``, from its range."""
    low, high = CONSONANTS[symbol].seconds
    return float(rng.uniform(low, high))
