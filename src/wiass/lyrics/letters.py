"""Letter-to-sound rules: a guessed ARPAbet pronunciation for a word the CMU dictionary lacks.

Why rules written by hand: the grapheme-to-phoneme packages on PyPI that output ARPAbet
(``g2p_en`` and its forks ``g2p-en-plus`` and ``g2p-arpabet``) download NLTK data (a tagger and
the CMU corpus) when first imported, which fails offline, and ``g2p-arpabet`` pins ``numpy<2``;
those that work offline (``gruut`` with ``gruut-lang-en``, the eSpeak wrappers) output IPA and
bring a much larger dependency tree for what is, in lyrics, a handful of words per song. Those
words are named to the user as guessed, so a rough guess is enough.

The rules follow English spelling: consonant digraphs (``th sh ch ph ck ng qu wh``), vowel teams
(``ee ea oo ou ai ay oa ow``, ``igh``), r-coloured vowels, a silent final ``e`` that makes the
vowel before it long (``cake``), soft ``c`` and ``g`` before ``e i y``, double consonants sung
once, and the endings ``-tion -le -ed -es -s``. Every phoneme is one of
:data:`~wiass.lyrics.symbols.PHONEMES` and a word with letters gets at least one vowel.
"""

from __future__ import annotations

from collections.abc import Callable

from wiass.lyrics.symbols import PHONEME_CLASSES, VOICED

_VOWEL_LETTERS = frozenset("aeiouy")
_SOFTENING = frozenset("eiy")
_VOICELESS_FINAL = frozenset("pkfsxc") | frozenset(("sh", "ch", "th"))

Condition = Callable[[str, int, int], bool]
"""``(word, start, length) -> bool``: whether a rule applies to ``word[start:start+length]``."""


def _always(word: str, i: int, n: int) -> bool:
    return True


def _at_start(word: str, i: int, n: int) -> bool:
    return i == 0


def _at_end(word: str, i: int, n: int) -> bool:
    return i + n == len(word)


def _not_before_vowel(word: str, i: int, n: int) -> bool:
    """The grapheme is not followed by a vowel letter or an ``r`` (``her`` but not ``very``)."""
    return i + n == len(word) or word[i + n] not in _VOWEL_LETTERS | {"r"}


def _after_consonant_at_end(word: str, i: int, n: int) -> bool:
    return _at_end(word, i, n) and i >= 2 and word[i - 1] not in _VOWEL_LETTERS


def _before_softening(word: str, i: int, n: int) -> bool:
    return i + n < len(word) and word[i + n] in _SOFTENING


def _ow_as_aw(word: str, i: int, n: int) -> bool:
    """``ow`` sounds as in ``down``/``owl``/``crowd`` before n, l or d."""
    return i + n < len(word) and word[i + n] in "nld"


Rule = tuple[str, tuple[str, ...], Condition]

_RULES: tuple[Rule, ...] = (
    ("tion", ("SH", "AH", "N"), _always),
    ("sion", ("ZH", "AH", "N"), _always),
    ("cious", ("SH", "AH", "S"), _always),
    ("tious", ("SH", "AH", "S"), _always),
    ("cial", ("SH", "AH", "L"), _always),
    ("tial", ("SH", "AH", "L"), _always),
    ("ture", ("CH", "ER"), _always),
    ("ough", ("AO",), _always),
    ("augh", ("AO",), _always),
    ("eigh", ("EY",), _always),
    ("igh", ("AY",), _always),
    ("tch", ("CH",), _always),
    ("dge", ("JH",), _always),
    ("sch", ("S", "K"), _at_start),
    ("ous", ("AH", "S"), _at_end),
    ("ear", ("IY", "R"), _not_before_vowel),
    ("air", ("EH", "R"), _always),
    ("oar", ("AO", "R"), _always),
    ("our", ("AW", "ER"), _not_before_vowel),
    ("ere", ("IY", "R"), _at_end),
    ("are", ("EH", "R"), _at_end),
    ("ire", ("AY", "ER"), _at_end),
    ("ore", ("AO", "R"), _at_end),
    ("ure", ("Y", "UH", "R"), _at_end),
    ("qu", ("K", "W"), _always),
    ("ck", ("K",), _always),
    ("ch", ("CH",), _always),
    ("sh", ("SH",), _always),
    ("th", ("TH",), _always),
    ("ph", ("F",), _always),
    ("wh", ("W",), _always),
    ("gh", ("G",), _at_start),
    ("gh", (), _always),
    ("kn", ("N",), _at_start),
    ("wr", ("R",), _at_start),
    ("gn", ("N",), _at_start),
    ("gn", ("N",), _at_end),
    ("mb", ("M",), _at_end),
    ("ps", ("S",), _at_start),
    ("ng", ("NG",), _always),
    ("nk", ("NG", "K"), _always),
    ("le", ("AH", "L"), _after_consonant_at_end),
    ("ee", ("IY",), _always),
    ("ea", ("IY",), _always),
    ("oo", ("UW",), _always),
    ("ou", ("AW",), _always),
    ("ow", ("AW",), _ow_as_aw),
    ("ow", ("OW",), _always),
    ("ai", ("EY",), _always),
    ("ay", ("EY",), _always),
    ("oa", ("OW",), _always),
    ("oi", ("OY",), _always),
    ("oy", ("OY",), _always),
    ("au", ("AO",), _always),
    ("aw", ("AO",), _always),
    ("ew", ("UW",), _always),
    ("ie", ("IY",), _always),
    ("ei", ("IY",), _always),
    ("ey", ("IY",), _at_end),
    ("ey", ("EY",), _always),
    ("ue", ("UW",), _always),
    ("ui", ("UW",), _always),
    ("eu", ("UW",), _always),
    ("ar", ("AA", "R"), _not_before_vowel),
    ("or", ("AO", "R"), _not_before_vowel),
    ("er", ("ER",), _not_before_vowel),
    ("ir", ("ER",), _not_before_vowel),
    ("ur", ("ER",), _not_before_vowel),
    ("yr", ("ER",), _not_before_vowel),
)
"""Graphemes of two or more letters, most specific first; the first that matches wins."""

_CONSONANTS: dict[str, tuple[str, ...]] = {
    "b": ("B",),
    "d": ("D",),
    "f": ("F",),
    "h": ("HH",),
    "j": ("JH",),
    "k": ("K",),
    "l": ("L",),
    "m": ("M",),
    "n": ("N",),
    "p": ("P",),
    "q": ("K",),
    "r": ("R",),
    "t": ("T",),
    "v": ("V",),
    "w": ("W",),
    "x": ("K", "S"),
    "z": ("Z",),
}
"""Single consonant letters whose sound does not depend on their neighbours."""

_SHORT = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH", "y": "IH"}
_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}
_FINAL = {"a": "AH", "e": "IY", "i": "IY", "o": "OW", "u": "UW"}


def letter_to_sound(word: str) -> tuple[str, ...]:
    """A guessed pronunciation of ``word`` (ARPAbet without stress, at least one vowel).

    Only the letters a-z count (case-insensitive); a word without any gets the neutral vowel
    ``("AH",)`` as a placeholder (a word in another script is still sung).
    """
    letters = "".join(c for c in word.lower() if "a" <= c <= "z")
    if not letters:
        return ("AH",)
    long_vowels, silent = _magic_e(letters)
    phonemes: list[str] = []
    i = 0
    while i < len(letters):
        if i in silent:
            i += 1
            continue
        length, sounds = _grapheme(letters, i, long_vowels, phonemes)
        phonemes.extend(sounds)
        i += length
    return _with_vowel(_single_consonants(phonemes))


def _magic_e(word: str) -> tuple[set[int], set[int]]:
    """Indices of vowels made long by a silent final ``e`` (``cake``, ``rides``, ``hoped``) and
    of the silent ``e`` s (``cake``, ``horse``; not ``table``, whose ``-le`` is sung AH L, nor
    ``care``, whose ``-are`` has a rule of its own)."""
    for ending in ("e", "es", "ed"):
        e = len(word) - len(ending)
        if not word.endswith(ending) or e < 2:
            continue
        consonant, vowel = e - 1, e - 2
        if word[consonant] in _VOWEL_LETTERS or word[consonant] in "wxr":
            return set(), set()
        sibilant = ending == "es" and word[consonant] in "sxzcg"
        silent = {e} if ending == "e" or (ending == "es" and not sibilant) else set()
        opens = vowel == 0 or word[vowel - 1] not in _VOWEL_LETTERS
        if word[vowel] in _VOWEL_LETTERS and opens:
            return {vowel}, silent
        sung_before = any(c in _VOWEL_LETTERS for c in word[:consonant])
        if ending == "e" and word[consonant] != "l" and sung_before:
            return set(), silent
        return set(), set()
    return set(), set()


def _grapheme(
    word: str, i: int, long_vowels: set[int], before: list[str]
) -> tuple[int, tuple[str, ...]]:
    """The sound of the grapheme starting at ``word[i]``: ``(letters used, phonemes)``."""
    special = _ending(word, i)
    if special is not None:
        return special
    if i not in long_vowels:
        for grapheme, sounds, condition in _RULES:
            n = len(grapheme)
            if word.startswith(grapheme, i) and condition(word, i, n):
                return n, sounds
    letter = word[i]
    if letter in _VOWEL_LETTERS:
        return 1, _vowel(word, i, long_vowels, before)
    return 1, _consonant(word, i, before)


def _ending(word: str, i: int) -> tuple[int, tuple[str, ...]] | None:
    """``-ed`` and ``-es`` endings after a sung vowel: ``wanted`` IH D, ``hoped`` T, ``named``
    D; ``boxes``, ``places`` IH Z."""
    rest = word[i:]
    if rest not in ("ed", "es") or not any(c in _VOWEL_LETTERS for c in word[:i]):
        return None
    previous = word[i - 1]
    if rest == "ed" and previous != "e":
        if previous in "td":
            return 2, ("IH", "D")
        voiceless = previous in _VOICELESS_FINAL or word[i - 2 : i] in _VOICELESS_FINAL
        return 2, ("T",) if voiceless else ("D",)
    if rest == "es" and (previous in "sxzcg" or word[i - 2 : i] in ("sh", "ch")):
        return 2, ("IH", "Z")
    return None


def _vowel(word: str, i: int, long_vowels: set[int], before: list[str]) -> tuple[str, ...]:
    """A single vowel letter: long before a silent ``e``, open at the end of the word, short in
    the first syllable and reduced to AH after it (``salad``, ``lemon``; ``i`` stays IH, and is
    IY before another vowel: ``lithium``)."""
    letter = word[i]
    at_end = i == len(word) - 1
    if letter == "y":
        if i == 0 and len(word) > 1 and word[1] in _VOWEL_LETTERS:
            return ("Y",)
        if at_end:
            others = any(c in "aeiou" for c in word[:i])
            return ("IY",) if others else ("AY",)
    if i in long_vowels:
        return (
            ("Y", "UW") if letter == "u" and i > 0 and word[i - 1] in "cfmpv" else (_LONG[letter],)
        )
    if at_end and letter in _FINAL:
        return (_FINAL[letter],)
    if letter == "i" and not at_end and word[i + 1] in "aou":
        return ("IY",)
    sung = any(PHONEME_CLASSES[p] == "vowel" for p in before)
    if sung and letter in "aeou":
        return ("AH",)
    return (_SHORT[letter],)


def _consonant(word: str, i: int, before: list[str]) -> tuple[str, ...]:
    letter = word[i]
    if letter == "c":
        return ("S",) if _before_softening(word, i, 1) else ("K",)
    if letter == "g":
        return ("JH",) if _before_softening(word, i, 1) and i > 0 else ("G",)
    if letter == "x" and i == 0:
        return ("Z",)
    if letter == "h" and (i == len(word) - 1 or (i > 0 and word[i - 1] in _VOWEL_LETTERS)):
        return ()
    if letter == "s":
        return (_s_sound(word, i, before),)
    return _CONSONANTS.get(letter, ())


def _s_sound(word: str, i: int, before: list[str]) -> str:
    """``s`` is Z between vowel letters (``rose``) and at the end after a voiced sound that is
    not a single short vowel (``dogs``, ``goes`` but ``bus``); S elsewhere."""
    last = i == len(word) - 1
    between = 0 < i < len(word) - 1 and word[i - 1] in "aeiou" and word[i + 1] in "aeiouy"
    if between:
        return "Z"
    if last and before and before[-1] in VOICED:
        short_vowel = len(word) >= 3 and word[i - 1] in "aiou" and word[i - 2] not in "aeiou"
        return "S" if short_vowel else "Z"
    return "S"


def _single_consonants(phonemes: list[str]) -> list[str]:
    """Double consonants are sung once (``ll`` -> L, ``ck``+``k`` -> K)."""
    out: list[str] = []
    for phoneme in phonemes:
        if out and out[-1] == phoneme and PHONEME_CLASSES[phoneme] != "vowel":
            continue
        out.append(phoneme)
    return out


def _with_vowel(phonemes: list[str]) -> tuple[str, ...]:
    """Insert the neutral vowel AH after the first consonant when no vowel was found
    (``hmm`` -> HH AH M, ``nth`` -> N AH TH)."""
    if any(PHONEME_CLASSES[p] == "vowel" for p in phonemes):
        return tuple(phonemes)
    if not phonemes:
        return ("AH",)
    return (phonemes[0], "AH", *phonemes[1:])


__all__ = ["letter_to_sound"]
