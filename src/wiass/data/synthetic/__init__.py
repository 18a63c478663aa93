"""Procedural songs: vocals, drums, bass and other, with the score that made them.

:func:`generate_song` composes and renders one song from a seed (numpy and scipy only, the
same seed always gives the same arrays); :func:`write_dataset` writes many of them as a
MUSDB18-HQ-layout folder with a ``notes.json`` per track holding the true score and the lyrics
with the timing of every word and phoneme.

One module per part, each describing its part in its docstring:

- :mod:`~wiass.data.synthetic.composition`: the score (tempo, key, song form, chords, the sung
  phrases with their words, one syllable per note, and the timing of every phoneme);
- :mod:`~wiass.data.synthetic.lexicon`: the words the voice sings, their CMU pronunciations and
  syllables;
- :mod:`~wiass.data.synthetic.articulation`: how each ARPAbet phoneme sounds (formant rows,
  voicing, noise);
- :mod:`~wiass.data.synthetic.voice`: the singer and the source-filter rendering of the vocal
  notes (:func:`sing`);
- :mod:`~wiass.data.synthetic.instruments`: drums, bass and other;
- :mod:`~wiass.data.synthetic.song`: one song from a seed, stem levels and the exact mixture;
- :mod:`~wiass.data.synthetic.writer`: datasets on disk, tracks written by worker processes;
- :mod:`~wiass.data.synthetic.dsp`: small signal helpers the voice and instruments share.
"""

from wiass.data.synthetic.articulation import VOWELS
from wiass.data.synthetic.composition import (
    PITCH_NAMES,
    PROGRESSIONS,
    SCALES,
    SILENT_FRAME_FRACTION,
    Chord,
    Section,
    silent_fraction,
)
from wiass.data.synthetic.instruments import SECTION_ENERGY
from wiass.data.synthetic.lexicon import WORDS, syllabify
from wiass.data.synthetic.song import MIN_SAMPLE_RATE, STEMS, Song, generate_song, lyrics
from wiass.data.synthetic.voice import VocalNote, Voice, random_voice, sing
from wiass.data.synthetic.writer import (
    DATASET_FILE,
    NOTES_FILE,
    SPLITS,
    existing_dataset,
    track_name,
    track_seed,
    write_dataset,
)

__all__ = [
    "DATASET_FILE",
    "MIN_SAMPLE_RATE",
    "NOTES_FILE",
    "PITCH_NAMES",
    "PROGRESSIONS",
    "SCALES",
    "SECTION_ENERGY",
    "SILENT_FRAME_FRACTION",
    "SPLITS",
    "STEMS",
    "VOWELS",
    "WORDS",
    "Chord",
    "Section",
    "Song",
    "VocalNote",
    "Voice",
    "existing_dataset",
    "generate_song",
    "lyrics",
    "random_voice",
    "silent_fraction",
    "sing",
    "syllabify",
    "track_name",
    "track_seed",
    "write_dataset",
]
