"""The words the synthetic voice sings: a lexicon of common English words and their syllables.

:data:`WORDS` holds about 400 common, singable English words of one to three syllables that the
CMU Pronouncing Dictionary knows. Their pronunciations come from the dictionary
(:func:`wiass.lyrics.pronounce.dictionary_pronunciation`, stress marks dropped) the first time
they are needed and are kept for the life of the process (:func:`lexicon`).

Syllables. A pronunciation has one syllable per vowel. Consonants before the first vowel open
the first syllable, those after the last vowel close the last one; a cluster between two vowels
is split by onset maximisation: the longest tail of the cluster (up to three consonants) that
can start an English syllable (:data:`LEGAL_ONSETS`) opens the next syllable, the rest closes
the previous one (``children`` = ``CH IH L | D R AH N``, ``sister`` = ``S IH | S T ER``).

:func:`draw_words` fills a phrase of ``K`` notes with words whose syllable counts sum to ``K``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from wiass.lyrics.symbols import PHONEME_CLASSES, is_vowel

_WORD_TEXT = """
love heart night day light sun moon star sky rain home road time dream soul song sing
dance fly run hold hand eyes face smile cry tears kiss touch feel know see go come stay
wait call fall rise shine burn break free true blue gold sweet slow fast deep wide wild
young old new long strong cold warm bright dark me you we they my your her she he the a
and but now here there when where why how all one no yes so oh in on to with up down
back way world life mind land sea wave wind sand stone tree leaf rose bird wings dawn
storm cloud snow spring sound voice word name friend girl boy man child king queen town
street door room bed dust gone lost found sleep wake walk talk laugh live give take make
say tell keep need want hope care think turn move stand find leave meet play sail swim
climb ride lips blood skin breath change chance reach watch catch joy pain peace grace
truth faith ship shore path bridge church thing strange bring good could would book look
stood should this that still then be heard learned first last best rest west east north
south near far dear fear clear year soon boat show throw grow glow flow own
fire hour alone again away baby before begin believe better between beyond broken candle
carry children city river water golden silver summer winter morning evening garden
heaven hollow honey journey lady little lonely maybe mountain never ocean only open over
people promise rainbow shadow simple sister brother mother father sorrow story sunny
tender thunder today tonight under window yellow wonder hello music pleasure treasure
measure vision darling dancing singing falling flying running happy pretty silent spirit
freedom kingdom moment feeling dreaming heartbeat sunlight moonlight starlight seven
crazy easy zero echo motion rhythm answer highway lovely power flower shower whisper
letter forget goodbye nothing something someone forgive inside outside without into
above below behind along around angel velvet diamond island valley meadow secret
beautiful remember forever tomorrow yesterday together everyone everything melody memory
imagine another family butterfly universe wonderful happiness holiday paradise harmony
energy enemy galaxy history mystery fantasy tenderly silently suddenly carefully
romantic fantastic umbrella piano already december september november october elephant
violin animal saturday emotion horizon surrender wonderland underneath overcome evermore
believer somebody anyone innocent beginning sympathy
"""

WORDS: tuple[str, ...] = tuple(_WORD_TEXT.split())
"""The lexicon: lower-case English words of one to three syllables, each in the CMU dictionary."""

_SINGLE_ONSETS = tuple((p,) for p, c in PHONEME_CLASSES.items() if c != "vowel" and p != "NG")
_CLUSTER_ONSETS = (
    "P L", "P R", "B L", "B R", "K L", "K R", "G L", "G R", "F L", "F R", "T R", "D R",
    "TH R", "SH R", "S P", "S T", "S K", "S M", "S N", "S L", "S W", "S F", "T W", "D W",
    "K W", "G W", "TH W", "P Y", "B Y", "K Y", "G Y", "M Y", "F Y", "V Y", "HH Y",
    "S P L", "S P R", "S T R", "S K R", "S K W", "S P Y", "S K Y",
)  # fmt: skip

LEGAL_ONSETS: frozenset[tuple[str, ...]] = frozenset(
    _SINGLE_ONSETS + tuple(tuple(c.split()) for c in _CLUSTER_ONSETS)
)
"""Consonant sequences that may open an English syllable (every consonant but NG alone)."""

SYLLABLE_WEIGHTS: dict[int, float] = {1: 0.55, 2: 0.3, 3: 0.15}
"""How often a word of each syllable count is drawn (where it still fits the phrase)."""


@dataclass(frozen=True)
class Syllable:
    """One syllable: onset consonants, its vowel and coda consonants (ARPAbet, no stress)."""

    onset: tuple[str, ...]
    vowel: str
    coda: tuple[str, ...] = ()

    @property
    def phonemes(self) -> tuple[str, ...]:
        """The syllable's phonemes in order."""
        return (*self.onset, self.vowel, *self.coda)


@dataclass(frozen=True)
class Word:
    """A lexicon word: its text, its dictionary pronunciation and that split into syllables."""

    text: str
    phonemes: tuple[str, ...]
    syllables: tuple[Syllable, ...]


def _split_cluster(cluster: Sequence[str]) -> int:
    """How many consonants of a cluster between two vowels stay as the previous coda: the
    longest legal onset (at most three consonants) goes to the next syllable."""
    for size in range(min(3, len(cluster)), 0, -1):
        if tuple(cluster[len(cluster) - size :]) in LEGAL_ONSETS:
            return len(cluster) - size
    return len(cluster)


def syllabify(phonemes: Sequence[str]) -> tuple[Syllable, ...]:
    """Split a pronunciation (ARPAbet without stress) into syllables, one per vowel.

    Raises ValueError when ``phonemes`` has no vowel.
    """
    vowels = [i for i, p in enumerate(phonemes) if is_vowel(p)]
    if not vowels:
        raise ValueError(f"no vowel in the pronunciation {' '.join(phonemes)!r}")
    onsets = [0]
    for left, right in zip(vowels[:-1], vowels[1:], strict=True):
        onsets.append(left + 1 + _split_cluster(phonemes[left + 1 : right]))
    ends = [*onsets[1:], len(phonemes)]
    return tuple(
        Syllable(
            tuple(phonemes[first:vowel]),
            phonemes[vowel],
            tuple(phonemes[vowel + 1 : end]),
        )
        for first, vowel, end in zip(onsets, vowels, ends, strict=True)
    )


@lru_cache(maxsize=1)
def lexicon() -> dict[int, tuple[Word, ...]]:
    """The words of :data:`WORDS` by syllable count (1, 2, 3), with their pronunciations.

    Loads the CMU dictionary on the first call (under a second). Raises RuntimeError when the
    dictionary does not know a word or gives it more than three syllables (a broken install).
    """
    from wiass.lyrics.pronounce import dictionary_pronunciation

    groups: dict[int, list[Word]] = {n: [] for n in SYLLABLE_WEIGHTS}
    for text in WORDS:
        phonemes = dictionary_pronunciation(text)
        if phonemes is None:
            raise RuntimeError(f"synthetic lexicon: the CMU dictionary does not know {text!r}")
        syllables = syllabify(phonemes)
        if len(syllables) not in groups:
            raise RuntimeError(f"synthetic lexicon: {text!r} has {len(syllables)} syllables")
        groups[len(syllables)].append(Word(text, phonemes, syllables))
    return {n: tuple(words) for n, words in groups.items()}


def draw_words(rng: np.random.Generator, syllables: int) -> list[Word]:
    """Random lexicon words whose syllable counts sum to ``syllables`` (at least 1); the same
    word is not drawn twice in a row."""
    words = lexicon()
    chosen: list[Word] = []
    remaining = syllables
    while remaining > 0:
        counts = [n for n in SYLLABLE_WEIGHTS if n <= remaining]
        weights = np.array([SYLLABLE_WEIGHTS[n] for n in counts])
        count = counts[int(rng.choice(len(counts), p=weights / weights.sum()))]
        options = words[count]
        word = options[int(rng.integers(len(options)))]
        if chosen and word == chosen[-1]:
            word = options[(options.index(word) + 1) % len(options)]
        chosen.append(word)
        remaining -= count
    return chosen
