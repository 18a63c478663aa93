"""Lyrics as side information: symbols, pronunciation, reading lyrics files and writing timings.

- :mod:`~wiass.lyrics.symbols`: the ARPAbet symbol set of the ``phonemes`` side information;
- :mod:`~wiass.lyrics.pronounce` and :mod:`~wiass.lyrics.letters`: words to phonemes (CMU
  Pronouncing Dictionary, spelling rules for the words it lacks);
- :mod:`~wiass.lyrics.text`: a user's lyrics text as lines, words and symbol steps;
- :mod:`~wiass.lyrics.timing`: word and phoneme times and their JSON form;
- :mod:`~wiass.lyrics.export`: JSON, Audacity label and LRC files;
- :mod:`~wiass.lyrics.musdb`: the public MUSDB18 lyrics annotations;
- :mod:`~wiass.lyrics.metrics`: word-onset errors as the lyrics-alignment field reports them.
"""

from wiass.lyrics.export import (
    lrc_text,
    lrc_time,
    phoneme_labels,
    word_labels,
    write_lrc,
    write_phoneme_labels,
    write_timing_json,
    write_word_labels,
)
from wiass.lyrics.letters import letter_to_sound
from wiass.lyrics.metrics import ONSET_TOLERANCE_S, onset_summary, word_onset_errors
from wiass.lyrics.musdb import (
    LINE_TYPES,
    SUNG_TYPES,
    LyricLine,
    read_line_annotations,
    read_musdb_lyrics,
)
from wiass.lyrics.pronounce import (
    Pronunciation,
    dictionary_pronunciation,
    normalize_word,
    pronounce,
    spell_number,
    split_token,
)
from wiass.lyrics.symbols import PAUSE, PHONEMES, SYMBOL_INDEX, SYMBOLS, WORD_BOUNDARY
from wiass.lyrics.text import Lyrics, Word, parse_lyrics, read_lyrics, symbol_indices
from wiass.lyrics.timing import (
    LyricsTiming,
    TimedPhoneme,
    TimedWord,
    timing_from_json,
    timing_from_steps,
)

__all__ = [
    "LINE_TYPES",
    "ONSET_TOLERANCE_S",
    "PAUSE",
    "PHONEMES",
    "SUNG_TYPES",
    "SYMBOLS",
    "SYMBOL_INDEX",
    "WORD_BOUNDARY",
    "LyricLine",
    "Lyrics",
    "LyricsTiming",
    "Pronunciation",
    "TimedPhoneme",
    "TimedWord",
    "Word",
    "dictionary_pronunciation",
    "letter_to_sound",
    "lrc_text",
    "lrc_time",
    "normalize_word",
    "onset_summary",
    "parse_lyrics",
    "phoneme_labels",
    "pronounce",
    "read_line_annotations",
    "read_lyrics",
    "read_musdb_lyrics",
    "spell_number",
    "split_token",
    "symbol_indices",
    "timing_from_json",
    "timing_from_steps",
    "word_labels",
    "word_onset_errors",
    "write_lrc",
    "write_phoneme_labels",
    "write_timing_json",
    "write_word_labels",
]
