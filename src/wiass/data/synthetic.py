"""Procedural songs: vocals, drums, bass and other, with the score that made them.

:func:`generate_song` composes and renders one song from a seed (numpy and scipy only, the
same seed always gives the same arrays); :func:`write_dataset` writes many of them as a
MUSDB18-HQ-layout folder with a ``notes.json`` per track holding the true score.

Composition. A random tempo (80-140 BPM, 4/4), key (major or natural minor) and song form
(intro, verse, chorus, bridge, instrumental break, outro), one chord per bar from a common
progression per section. Vocal sections hold sung phrases of one or two bars separated by rests;
a phrase is a legato line of notes on the scale (chord tones on the beats), one syllable per
note (an optional consonant and one of the vowels a e i o u). Intro, break and outro, and some
bridges, have no vocals.

Vocals (source-filter, rendered per phrase, vectorised over samples with a loop over notes and
harmonics): the f0 contour is the note pitches joined by portamento glides, with a scoop at the
phrase onset, a fall at its end, slow drift and a vibrato (5-7 Hz) that starts a while after each
vowel onset and grows in. The source is a glottal-pulse-like harmonic series with a spectral
tilt; every harmonic is weighted by the vocal-tract envelope at its frequency, a parallel bank of
five formant resonances per vowel (after the Csound formant table for soprano, alto, tenor and
bass voices) interpolated at syllable transitions, with nasal/liquid formants for m, n, l.
Unvoiced consonants (s, sh, f, h, p, t, k) stop the voicing and add band-pass noise bursts; a
little pitch-synchronous aspiration noise gives breathiness. Between phrases the vocals are
exactly zero (no breaths), and the composition keeps at least :data:`SILENT_FRAME_FRACTION` of
the complete 1 s frames of the vocals silent (as MUSDB18 vocals are), in songs of 3 s or more.

Accompaniment: drums (synthesised kick, snare, closed/open hi-hat, crash, with grooves per
section and fills), bass following the chord roots, and other (detuned pads and a comping keys
part). Every stem carries a noise floor 60 dB below its level, independent per channel (the
vocals only where they sound), so that no stem lacks energy in a frequency band and no stem's
channels are exact copies of each other: BSSEval's distortion filters are undetermined otherwise
(its Gram matrix of delayed references becomes singular).

Mixing. Stems are stereo ``(2, samples)``: panned mono sources, stereo drum kit and pads. Stem
levels are random; the song is scaled so that the peak of the mixture and of every stem is below
1, then stems are cast to float32 and the mixture is their float32 sum, so ``mixture ==
vocals + drums + bass + other`` holds exactly, also after a 32-bit float WAV round trip.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal
from tqdm import tqdm

from wiass.errors import ConfigError, OutputError

PathLike = str | os.PathLike[str]

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
"""The stems of a song, in MUSDB18 order (the mixture is their sum)."""

MIN_SAMPLE_RATE = 8000
"""Lowest sample rate the generator accepts (Hz)."""

SILENT_FRAME_FRACTION = 0.2
"""Least fraction of complete 1 s frames in which the vocals are exactly zero."""

SPLITS: tuple[str, ...] = ("train", "test")
"""Sub-folders of a written dataset."""

NOTES_FILE = "notes.json"
"""Per-track file holding the song's metadata and its vocal notes."""

DATASET_FILE = "dataset.json"
"""File at the dataset root describing how it was generated."""

VOWELS: tuple[str, ...] = ("a", "e", "i", "o", "u")

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 0), (3, 0, 4, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (3, 4, 0, 0), (5, 6, 0, 0)),
}
"""Chord progressions as scale degrees (0 = tonic), one chord per bar."""

SECTION_ENERGY = {
    "intro": 0.7,
    "verse": 0.85,
    "chorus": 1.0,
    "bridge": 0.75,
    "break": 0.9,
    "outro": 0.7,
}
"""Relative level of the accompaniment per section."""

# Formants per register and vowel: frequencies (Hz), levels (dB), bandwidths (Hz), after the
# formant table in the Csound manual (appendix "Formant values").
_FORMANTS: dict[str, dict[str, tuple[tuple[float, ...], ...]]] = {
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

# Voiced consonants: formants of the murmur or liquid that leads into the vowel.
_VOICED_CONSONANTS: dict[str, tuple[tuple[float, ...], ...]] = {
    "m": ((280, 1000, 2200, 2900, 3500), (0, -24, -30, -36, -40), (80, 150, 200, 250, 250)),
    "n": ((280, 1600, 2500, 3100, 3600), (0, -22, -28, -34, -40), (80, 150, 200, 250, 250)),
    "l": ((360, 1200, 2600, 3200, 3700), (0, -10, -18, -24, -34), (60, 120, 150, 200, 250)),
}


@dataclass(frozen=True)
class _Unvoiced:
    """An unvoiced consonant: noise band (Hz), level re the voice (dB), duration range (s)."""

    band: tuple[float, float]
    level_db: float
    seconds: tuple[float, float]
    plosive: bool


_UNVOICED: dict[str, _Unvoiced] = {
    "s": _Unvoiced((4500, 9000), -6, (0.07, 0.11), False),
    "sh": _Unvoiced((1800, 6000), -6, (0.08, 0.11), False),
    "f": _Unvoiced((1200, 8000), -16, (0.06, 0.09), False),
    "h": _Unvoiced((500, 4000), -18, (0.05, 0.08), False),
    "t": _Unvoiced((2500, 8000), -4, (0.04, 0.06), True),
    "k": _Unvoiced((1200, 4000), -4, (0.05, 0.07), True),
    "p": _Unvoiced((400, 2500), -6, (0.04, 0.06), True),
}

_CONSONANT_WEIGHTS = {
    "": 0.14,
    "l": 0.12,
    "m": 0.1,
    "n": 0.12,
    "s": 0.1,
    "t": 0.1,
    "k": 0.07,
    "p": 0.05,
    "sh": 0.05,
    "f": 0.05,
    "h": 0.05,
}
_VOICED_SECONDS = (0.05, 0.08)

_REGISTERS = {"soprano": (60, 79), "alto": (55, 74), "tenor": (48, 67), "bass": (41, 62)}
"""Singing range per voice register (MIDI pitches)."""

_TABLE_SIZE = 2048


@dataclass(frozen=True)
class Voice:
    """A singer: register (formant table and range) and the features of the performance.

    ``vibrato_depth`` is the peak deviation in semitones, ``vibrato_delay`` the time from a
    vowel onset to the start of the vibrato (s); ``tilt`` is the exponent of the source
    spectrum (harmonic k has amplitude k**-tilt before the formants); ``breathiness`` is the
    aspiration noise level relative to the voiced part (RMS ratio).
    """

    register: str = "alto"
    formant_scale: float = 1.0
    tilt: float = 1.0
    vibrato_rate: float = 6.0
    vibrato_depth: float = 0.4
    vibrato_delay: float = 0.25
    breathiness: float = 0.03

    @property
    def pitch_range(self) -> tuple[int, int]:
        """Lowest and highest MIDI pitch the voice sings."""
        return _REGISTERS[self.register]


@dataclass(frozen=True)
class VocalNote:
    """One sung note, one syllable: times in seconds from the start of the song.

    The syllable sounds over ``[start, end)``: its consonant (if any) from ``start``, its vowel
    from ``vowel_start``; ``pitch`` is a MIDI note number; notes of one ``phrase`` are sung legato.
    """

    start: float
    end: float
    pitch: int
    syllable: str
    vowel: str
    consonant: str = ""
    vowel_start: float | None = None
    phrase: int = 0

    @property
    def onset(self) -> float:
        """Start of the vowel (s)."""
        return self.start if self.vowel_start is None else self.vowel_start


@dataclass(frozen=True)
class Section:
    """A part of the song form: ``[start, end)`` in seconds, whole bars from ``bar``."""

    name: str
    start: float
    end: float
    bar: int
    bars: int
    vocals: bool


@dataclass(frozen=True)
class Chord:
    """A chord over ``[start, end)`` (s): scale ``degree``, root pitch class, triad pitches."""

    start: float
    end: float
    degree: int
    root: int
    pitches: tuple[int, ...]


@dataclass
class Song:
    """A generated song.

    ``stems`` maps vocals/drums/bass/other to ``(2, samples)`` float32 arrays; ``mixture`` is
    their exact float32 sum. ``notes`` lists the vocal notes as dicts (start, end, vowel_start in
    seconds; pitch as MIDI number; syllable, consonant, vowel, phrase), ``sections`` and
    ``chords`` the form and harmony as dicts, ``tempo`` is in BPM and ``key`` reads e.g.
    ``"A minor"``.
    """

    stems: dict[str, np.ndarray]
    mixture: np.ndarray
    sample_rate: int
    seed: int
    tempo: float
    key: str
    voice: str
    sections: list[dict[str, Any]] = field(default_factory=list)
    chords: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.mixture.shape[-1] / self.sample_rate

    def metadata(self) -> dict[str, Any]:
        """Everything but the audio, as JSON-compatible data."""
        return {
            "seed": self.seed,
            "sample_rate": self.sample_rate,
            "samples": int(self.mixture.shape[-1]),
            "seconds": self.seconds,
            "tempo": self.tempo,
            "key": self.key,
            "voice": self.voice,
            "sections": self.sections,
            "chords": self.chords,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _Plan:
    """The score of a song, before rendering."""

    tempo: float
    tonic: int
    mode: str
    voice: Voice
    sections: list[Section]
    chords: list[Chord]
    notes: list[VocalNote]


# ---------------------------------------------------------------------------------------------
# small signal helpers


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a smooth cubic in between."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def _pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of ``(samples,)`` to ``(2, samples)``; position in [-1, 1]."""
    angle = (position + 1.0) * math.pi / 4.0
    return np.stack([math.cos(angle) * mono, math.sin(angle) * mono])


def _rms(x: np.ndarray) -> float:
    active = x[x != 0.0]
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


@functools.lru_cache(maxsize=256)
def _band_sos(low: float, high: float, sample_rate: int, order: int = 2) -> np.ndarray:
    """Butterworth band-pass (high-pass when ``high`` reaches the top) as SOS."""
    top = 0.45 * sample_rate
    high = min(high, top)
    low = min(low, 0.6 * high)
    if high >= top:
        return signal.butter(order, low, btype="highpass", fs=sample_rate, output="sos")
    return signal.butter(order, [low, high], btype="bandpass", fs=sample_rate, output="sos")


def _filtered_noise(
    rng: np.random.Generator, n: int, low: float, high: float, sample_rate: int
) -> np.ndarray:
    """``n`` samples of band-limited noise with unit RMS."""
    noise = signal.sosfilt(_band_sos(low, high, sample_rate), rng.standard_normal(n))
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


@functools.lru_cache(maxsize=128)
def _wavetable(exponent: float, harmonics: int) -> np.ndarray:
    """One cycle (``_TABLE_SIZE + 1`` points, last = first) of sum_k k**-exponent sin(2 pi k x)."""
    x = np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE
    k = np.arange(1, harmonics + 1)[:, None]
    table = np.sum(k ** (-exponent) * np.sin(2 * np.pi * k * x), axis=0)
    return table / np.max(np.abs(table))


def _oscillator(
    exponent: float, max_harmonics: int, freq: float, n: int, sample_rate: int, phase: float
) -> np.ndarray:
    """A band-limited wavetable tone of ``n`` samples at ``freq`` Hz (no harmonic above 0.45 fs)."""
    harmonics = max(1, min(max_harmonics, int(0.45 * sample_rate / freq)))
    table = _wavetable(exponent, harmonics)
    x = (phase + freq * np.arange(n) / sample_rate) % 1.0
    return np.interp(x * _TABLE_SIZE, np.arange(_TABLE_SIZE + 1), table)


# ---------------------------------------------------------------------------------------------
# composition


def random_voice(rng: np.random.Generator) -> Voice:
    """A random singer."""
    return Voice(
        register=str(rng.choice(list(_REGISTERS))),
        formant_scale=float(rng.uniform(0.95, 1.06)),
        tilt=float(rng.uniform(0.85, 1.25)),
        vibrato_rate=float(rng.uniform(5.0, 7.0)),
        vibrato_depth=float(rng.uniform(0.25, 0.6)),
        vibrato_delay=float(rng.uniform(0.15, 0.35)),
        breathiness=float(rng.uniform(0.015, 0.05)),
    )


def _section_names(rng: np.random.Generator, total_bars: int) -> list[tuple[str, int]]:
    """The song form as ``(name, bars)`` pairs covering ``total_bars`` bars."""
    intro = 1 if total_bars < 12 else int(rng.choice([2, 4]))
    outro = 0 if total_bars < 10 else int(rng.choice([1, 2]))
    form = ["verse", "chorus", "verse", "chorus", "bridge", "chorus", "break", "chorus"]
    if rng.random() < 0.5:
        form[4], form[6] = form[6], form[4]
    long = total_bars >= 24
    choices = {
        "verse": (4, 8) if long else (4,),
        "chorus": (4, 8) if long else (4,),
        "bridge": (2, 4),
        "break": (2, 4) if long else (2,),
    }
    parts = [("intro", intro)]
    remaining = total_bars - intro - outro
    position = 0
    while remaining > 0:
        name = form[position % len(form)]
        bars = min(remaining, int(rng.choice(choices[name])))
        parts.append((name, bars))
        remaining -= bars
        position += 1
    if outro:
        parts.append(("outro", outro))
    return parts


def _compose_sections(
    rng: np.random.Generator, tempo: float, seconds: float
) -> tuple[list[Section], float]:
    """Sections and the bar length in seconds: whole bars, the last section ending at ``seconds``
    (up to half a bar early or late)."""
    bar_seconds = 4 * 60.0 / tempo
    total_bars = max(1, round(seconds / bar_seconds))
    sections = []
    bar = 0
    bridge_sung = bool(rng.random() < 0.5)
    parts = _section_names(rng, total_bars)
    for k, (name, bars) in enumerate(parts):
        start = bar * bar_seconds
        end = seconds if k == len(parts) - 1 else (bar + bars) * bar_seconds
        sung = name in ("verse", "chorus") or (name == "bridge" and bridge_sung)
        sections.append(Section(name, start, end, bar, bars, sung))
        bar += bars
    return sections, bar_seconds


def _triad(tonic: int, scale: Sequence[int], degree: int) -> tuple[int, tuple[int, ...]]:
    """Root pitch class and close-position triad pitches (MIDI 52-63) of a scale degree."""
    classes = [(tonic + scale[(degree + step) % 7]) % 12 for step in (0, 2, 4)]
    pitches = tuple(sorted(52 + (pc - 52) % 12 for pc in classes))
    return classes[0], pitches


def _compose_chords(
    rng: np.random.Generator,
    sections: list[Section],
    bar_seconds: float,
    tonic: int,
    mode: str,
) -> list[Chord]:
    """One chord per bar; a section type keeps its progression when it comes back."""
    scale = SCALES[mode]
    options = PROGRESSIONS[mode]
    progressions: dict[str, tuple[int, ...]] = {}
    chords = []
    for section in sections:
        if section.name not in progressions:
            progressions[section.name] = options[int(rng.integers(len(options)))]
        progression = progressions[section.name]
        for i in range(section.bars):
            start = (section.bar + i) * bar_seconds
            if start >= section.end:
                break
            degree = progression[i % len(progression)]
            root, pitches = _triad(tonic, scale, degree)
            end = section.end if i == section.bars - 1 else min(start + bar_seconds, section.end)
            chords.append(Chord(start, end, degree, root, pitches))
    return chords


def _chord_at(chords: list[Chord], time: float) -> Chord:
    """The chord sounding at ``time`` (the last one after the end)."""
    for chord in chords:
        if chord.start <= time < chord.end:
            return chord
    return chords[-1]


def _rhythm(rng: np.random.Generator, eighths: int) -> list[int]:
    """Note lengths in eighths that fill ``eighths``, the last note long."""
    last = min(eighths, int(rng.choice([2, 3, 4, 4, 6])))
    lengths = []
    remaining = eighths - last
    while remaining > 0:
        length = min(remaining, int(rng.choice([1, 2, 2, 3, 4], p=[0.3, 0.35, 0.1, 0.1, 0.15])))
        lengths.append(length)
        remaining -= length
    return [*lengths, last]


def _phrase_grid(rng: np.random.Generator, available: int) -> np.ndarray | None:
    """Note boundaries (in eighths from the phrase's first bar) of a phrase that has
    ``available`` eighths: an optional pickup offset, the notes, a rest of at least one eighth.
    None when there is no room for two eighths of singing."""
    offset = int(rng.choice([0, 0, 1, 2]))
    rest = int(rng.choice([2, 3, 4]))
    if available - offset - rest < 2:
        offset, rest = 0, 1
    sung = available - offset - rest
    if sung < 2:
        return None
    return offset + np.concatenate([[0], np.cumsum(_rhythm(rng, sung))])


def _melody_pitch(
    rng: np.random.Generator,
    candidates: np.ndarray,
    index: int,
    chord: Chord,
    strong: bool,
) -> int:
    """Next index into ``candidates`` (scale pitches of the range): a step of the random walk,
    moved to the nearest chord tone on strong beats."""
    step = int(rng.choice([-3, -2, -1, 0, 1, 2, 3], p=[0.05, 0.15, 0.27, 0.1, 0.27, 0.11, 0.05]))
    index = int(np.clip(index + step, 0, len(candidates) - 1))
    if strong and rng.random() < 0.75:
        chord_classes = {p % 12 for p in chord.pitches}
        tones = [i for i, p in enumerate(candidates) if p % 12 in chord_classes]
        if tones:
            index = min(tones, key=lambda i: (abs(i - index), i))
    return index


def _syllable(rng: np.random.Generator) -> tuple[str, str]:
    consonants = list(_CONSONANT_WEIGHTS)
    weights = np.array(list(_CONSONANT_WEIGHTS.values()))
    consonant = consonants[int(rng.choice(len(consonants), p=weights / weights.sum()))]
    vowel = VOWELS[int(rng.integers(len(VOWELS)))]
    return consonant, vowel


def _consonant_seconds(rng: np.random.Generator, consonant: str, note_seconds: float) -> float:
    if not consonant:
        return 0.0
    low, high = _UNVOICED[consonant].seconds if consonant in _UNVOICED else _VOICED_SECONDS
    return min(float(rng.uniform(low, high)), 0.35 * note_seconds)


def _compose_phrase(
    rng: np.random.Generator,
    onsets: list[float],
    ends: list[float],
    pitches: list[int],
    phrase: int,
) -> list[VocalNote]:
    """Notes with syllables; each consonant is sung just before its beat."""
    notes = []
    starts = []
    for onset, end in zip(onsets, ends, strict=True):
        consonant, vowel = _syllable(rng)
        lead = _consonant_seconds(rng, consonant, end - onset)
        starts.append((max(0.0, onset - lead), consonant, vowel))
    for j, (start, consonant, vowel) in enumerate(starts):
        end = starts[j + 1][0] if j + 1 < len(starts) else ends[j]
        notes.append(
            VocalNote(
                start, end, pitches[j], consonant + vowel, vowel, consonant, onsets[j], phrase
            )
        )
    return notes


def _compose_vocals(
    rng: np.random.Generator,
    sections: list[Section],
    chords: list[Chord],
    bar_seconds: float,
    tonic: int,
    mode: str,
    voice: Voice,
) -> list[list[VocalNote]]:
    """Phrases of notes in the sung sections."""
    low, high = voice.pitch_range
    scale_classes = {(tonic + s) % 12 for s in SCALES[mode]}
    candidates = np.array([p for p in range(low, high + 1) if p % 12 in scale_classes])
    index = len(candidates) // 2
    eighth = bar_seconds / 8
    phrases: list[list[VocalNote]] = []
    for section in (s for s in sections if s.vocals):
        bar = section.bar
        first = len(phrases)
        while bar < section.bar + section.bars:
            length = min(int(rng.choice([1, 2, 2])), section.bar + section.bars - bar)
            begin = bar * bar_seconds
            bar += length
            if len(phrases) > first and rng.random() < 0.12:
                continue
            available = int(math.floor((min(bar * bar_seconds, section.end) - begin) / eighth))
            grid = _phrase_grid(rng, available)
            if grid is None:
                continue
            onsets = [float(begin + g * eighth) for g in grid[:-1]]
            ends = [float(begin + g * eighth) for g in grid[1:]]
            pitches = []
            for g, onset in zip(grid[:-1], onsets, strict=True):
                index = _melody_pitch(rng, candidates, index, _chord_at(chords, onset), g % 2 == 0)
                pitches.append(int(candidates[index]))
            phrases.append(_compose_phrase(rng, onsets, ends, pitches, len(phrases)))
    return phrases


def _phrase_span(phrase: list[VocalNote], sample_rate: int) -> tuple[int, int]:
    """Samples ``[first, last)`` a phrase may be non-zero in."""
    return round(phrase[0].start * sample_rate), round(phrase[-1].end * sample_rate)


def silent_fraction(spans: Sequence[tuple[int, int]], n_samples: int, sample_rate: int) -> float:
    """Fraction of the complete 1 s frames that no span ``[first, last)`` (samples) touches."""
    frames = max(1, n_samples // sample_rate)
    busy = np.zeros(frames, dtype=bool)
    for first, last in spans:
        if last > first:
            busy[first // sample_rate : min(frames, (last - 1) // sample_rate + 1)] = True
    return float(np.mean(~busy))


def _keep_silence(
    phrases: list[list[VocalNote]], n_samples: int, sample_rate: int
) -> list[list[VocalNote]]:
    """Drop phrases, the one whose removal silences most frames first (then trailing notes of
    the one left), until at least :data:`SILENT_FRAME_FRACTION` of the complete 1 s frames are
    silent; one note always stays."""
    phrases = [list(p) for p in phrases]

    def fraction(candidate: list[list[VocalNote]]) -> float:
        spans = [_phrase_span(p, sample_rate) for p in candidate]
        return silent_fraction(spans, n_samples, sample_rate)

    while len(phrases) > 1 and fraction(phrases) < SILENT_FRAME_FRACTION:
        gains = [fraction(phrases[:i] + phrases[i + 1 :]) for i in range(len(phrases))]
        best = max(range(len(phrases)), key=lambda i: (gains[i], i))
        del phrases[best]
    while phrases and len(phrases[0]) > 1 and fraction(phrases) < SILENT_FRAME_FRACTION:
        phrases[0].pop()
    return phrases


def _compose(rng: np.random.Generator, seconds: float, sample_rate: int) -> _Plan:
    tempo = float(round(rng.uniform(80.0, 140.0), 1))
    tonic = int(rng.integers(12))
    mode = str(rng.choice(["major", "minor"]))
    voice = random_voice(rng)
    sections, bar_seconds = _compose_sections(rng, tempo, seconds)
    chords = _compose_chords(rng, sections, bar_seconds, tonic, mode)
    phrases = _compose_vocals(rng, sections, chords, bar_seconds, tonic, mode, voice)
    phrases = _keep_silence(phrases, round(seconds * sample_rate), sample_rate)
    notes = [replace(note, phrase=i) for i, phrase in enumerate(phrases) for note in phrase]
    sections = [replace(s, vocals=any(s.start <= n.onset < s.end for n in notes)) for s in sections]
    return _Plan(tempo, tonic, mode, voice, sections, chords, notes)


# ---------------------------------------------------------------------------------------------
# vocals


def _formant_set(voice: Voice, name: str) -> np.ndarray:
    """``(15,)``: five formant frequencies, levels (dB) and bandwidths of a vowel or m/n/l."""
    table = _VOICED_CONSONANTS.get(name) or _FORMANTS[voice.register][name]
    freqs, levels, widths = (np.asarray(row, dtype=np.float64) for row in table)
    return np.concatenate([freqs * voice.formant_scale, levels, widths])


def _formant_tracks(
    notes: Sequence[VocalNote], voice: Voice, origin: float, times: np.ndarray
) -> np.ndarray:
    """``(15, len(times))`` formant parameters over a phrase: a plateau per vowel, linear
    transitions between syllables, the m/n/l murmur before its vowel."""
    points: list[tuple[float, np.ndarray]] = []
    for note in notes:
        start, onset, end = note.start - origin, note.onset - origin, note.end - origin
        vowel_seconds = end - onset
        if note.consonant in _VOICED_CONSONANTS:
            murmur = _formant_set(voice, note.consonant)
            points += [(start, murmur), (onset, murmur)]
        vowel = _formant_set(voice, note.vowel)
        points += [
            (onset + min(0.05, 0.3 * vowel_seconds), vowel),
            (end - min(0.04, 0.2 * vowel_seconds), vowel),
        ]
    xp = np.maximum.accumulate(np.array([t for t, _ in points]))
    values = np.stack([v for _, v in points], axis=1)
    return np.stack([np.interp(times, xp, row) for row in values])


def _vocal_tract(freqs: np.ndarray, tracks: np.ndarray) -> np.ndarray:
    """Magnitude of the parallel formant bank at ``freqs`` ``(K, T)`` given tracks ``(15, T)``."""
    gain = np.zeros_like(freqs)
    for i in range(5):
        centre, level, width = tracks[i], tracks[5 + i], tracks[10 + i]
        detune = (freqs**2 - centre**2) / (freqs * width)
        gain += 10.0 ** (level / 20.0) / np.sqrt(1.0 + detune**2)
    return gain + 10.0 ** (-55.0 / 20.0)


def _pitch_contour(
    rng: np.random.Generator,
    notes: Sequence[VocalNote],
    voice: Voice,
    origin: float,
    t: np.ndarray,
    sr: int,
) -> np.ndarray:
    """Pitch (fractional MIDI) per sample: notes, glides, scoop, fall, drift and vibrato."""
    contour = np.full(len(t), float(notes[0].pitch))
    onset0 = notes[0].onset - origin
    scoop = rng.uniform(0.3, 1.0) * (1.0 - _smoothstep((t - onset0) / rng.uniform(0.06, 0.12)))
    contour -= scoop
    for previous, note in zip(notes[:-1], notes[1:], strict=True):
        arrive = note.onset - origin
        glide = min(rng.uniform(0.04, 0.12), 0.6 * (arrive - (previous.onset - origin)))
        contour += (note.pitch - previous.pitch) * _smoothstep((t - arrive + glide) / glide)
    end = notes[-1].end - origin
    fall_seconds = min(rng.uniform(0.08, 0.2), 0.4 * (end - (notes[-1].onset - origin)))
    contour -= rng.uniform(0.0, 1.2) * _smoothstep((t - end + fall_seconds) / fall_seconds)
    for frequency, depth in ((rng.uniform(0.2, 0.6), 0.06), (rng.uniform(0.8, 1.6), 0.04)):
        contour += depth * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))
    return contour + _vibrato(rng, notes, voice, origin, t, sr)


def _vibrato(
    rng: np.random.Generator,
    notes: Sequence[VocalNote],
    voice: Voice,
    origin: float,
    t: np.ndarray,
    sr: int,
) -> np.ndarray:
    """Vibrato (semitones per sample): after a delay from each vowel onset the depth grows to
    its target, and it fades out just before the next note."""
    depth = np.zeros(len(t))
    for note in notes:
        onset, note_end = note.onset - origin, note.end - origin
        begin = onset + voice.vibrato_delay * rng.uniform(0.8, 1.2)
        if note_end - begin < 0.12:
            continue
        fade = min(0.08, 0.3 * (note_end - begin))
        full = min(begin + rng.uniform(0.2, 0.35), note_end - fade)
        first, last = int(begin * sr), min(len(t), int(np.ceil(note_end * sr)))
        target = voice.vibrato_depth * rng.uniform(0.75, 1.2)
        xp = [begin, full, note_end - fade, note_end]
        depth[first:last] = np.interp(t[first:last], xp, [0.0, target, target, 0.0])
    rate = voice.vibrato_rate * (1.0 + 0.04 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6)))
    vibrato_phase = 2 * np.pi * np.cumsum(rate) / sr + rng.uniform(0, 2 * np.pi)
    return depth * np.sin(vibrato_phase)


def _voicing(
    rng: np.random.Generator, notes: Sequence[VocalNote], origin: float, t: np.ndarray, sr: int
) -> np.ndarray:
    """Amplitude of the voiced sound per sample: attack at the first voiced sound, dynamics per
    note, voicing off during unvoiced consonants, dips at m/n/l and bare vowels, release at the
    end. Exactly zero before the first voiced sound and at the last sample."""
    end = notes[-1].end - origin
    first_note = notes[0]
    murmur = first_note.consonant in _VOICED_CONSONANTS
    voice_on = (first_note.start if murmur else first_note.onset) - origin
    attack = min(rng.uniform(0.03, 0.08), 0.3 * (end - voice_on))
    release = min(rng.uniform(0.08, 0.25), 0.4 * (end - (notes[-1].onset - origin)))
    times = [voice_on, voice_on + attack, end - release, t[-1]]
    envelope = np.interp(t, times, [0.0, 1.0, 1.0, 0.0], left=0.0)
    levels_t, levels = [], []
    for note in notes:
        level = 10.0 ** (rng.uniform(-3.0, 1.5) / 20.0)
        levels_t += [note.onset - origin, note.end - origin]
        levels += [level, level * 10.0 ** (rng.uniform(-1.5, 1.5) / 20.0)]
    envelope *= np.interp(t, np.maximum.accumulate(levels_t), levels)
    ramp = 0.025
    for note in notes if murmur else notes[1:]:
        start, onset = note.start - origin, note.onset - origin
        floor = 0.0 if note.consonant in _UNVOICED else 0.4 if note.consonant else 0.7
        first, last = max(0, int((start - ramp) * sr)), min(len(t), int((onset + ramp) * sr) + 1)
        xp = [start - ramp, start, onset, onset + ramp]
        envelope[first:last] *= np.interp(t[first:last], xp, [1.0, floor, floor, 1.0])
    return envelope


def _harmonics(
    phase: np.ndarray, f0: np.ndarray, tracks: np.ndarray, hop: int, voice: Voice, sr: int
) -> np.ndarray:
    """The source-filter sum: harmonic k of the glottal source (k**-tilt), weighted by the
    vocal-tract envelope at k*f0, amplitudes computed every ``hop`` samples and interpolated."""
    n = len(phase)
    cutoff = min(0.45 * sr, 10000.0)
    f0_control = f0[np.minimum(np.arange(tracks.shape[1]) * hop, n - 1)]
    count = max(1, int(cutoff / max(float(f0.min()), 40.0)))
    k = np.arange(1, count + 1, dtype=np.float64)[:, None]
    freqs = k * f0_control[None, :]
    amps = _vocal_tract(freqs, tracks) * k ** (-voice.tilt)
    amps *= np.clip((cutoff - freqs) / (0.1 * cutoff), 0.0, 1.0)
    position = np.arange(n) / hop
    base = position.astype(np.int64)
    frac = position - base
    out = np.zeros(n)
    threshold = 1e-4 * float(amps.max())
    for i in range(count):
        row = amps[i]
        if row.max() < threshold:
            continue
        amp = row[base] + (row[base + 1] - row[base]) * frac
        out += amp * np.sin((i + 1) * phase)
    return out


def _consonant_noise(
    rng: np.random.Generator, notes: Sequence[VocalNote], origin: float, n: int, sr: int
) -> np.ndarray:
    """Band-pass noise bursts of the unvoiced consonants (unit level = voice RMS)."""
    out = np.zeros(n)
    for note in notes:
        spec = _UNVOICED.get(note.consonant)
        first, last = round((note.start - origin) * sr), round((note.onset - origin) * sr)
        if spec is None or last - first < 4:
            continue
        length = last - first
        x = np.linspace(0.0, 1.0, length)
        if spec.plosive:
            burst = np.where(x >= 0.5, np.exp(-(x - 0.5) * length / sr / 0.012), 0.0)
            shape = burst + 0.15 * (x >= 0.5)
        else:
            shape = np.interp(x, [0.0, 0.3, 0.8, 1.0], [0.0, 1.0, 0.9, 0.0])
        noise = _filtered_noise(rng, length, *spec.band, sr)
        out[first:last] += 10.0 ** (spec.level_db / 20.0) * shape * noise
    return out


def sing(
    notes: Sequence[VocalNote],
    voice: Voice,
    n_samples: int,
    sample_rate: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Render vocal ``notes`` as a mono ``(n_samples,)`` float64 signal.

    Notes of one ``phrase`` are sung legato (each phrase rendered as one line); outside every
    phrase's ``[first start, last end)`` the result is exactly zero.
    """
    out = np.zeros(n_samples)
    hop = max(1, round(0.004 * sample_rate))
    by_phrase: dict[int, list[VocalNote]] = {}
    for note in sorted(notes, key=lambda n: n.start):
        by_phrase.setdefault(note.phrase, []).append(note)
    for phrase in by_phrase.values():
        first, last = _phrase_span(phrase, sample_rate)
        last = min(last, n_samples)
        if last - first < 2:
            continue
        origin = first / sample_rate
        t = np.arange(last - first) / sample_rate
        f0 = _midi_to_hz(_pitch_contour(rng, phrase, voice, origin, t, sample_rate))
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate + rng.uniform(0, 2 * np.pi)
        control = np.arange(len(t) // hop + 2) * hop / sample_rate
        tracks = _formant_tracks(phrase, voice, origin, control)
        voicing = _voicing(rng, phrase, origin, t, sample_rate)
        voiced = _harmonics(phase, f0, tracks, hop, voice, sample_rate) * voicing
        voiced /= max(_rms(voiced), 1e-12)
        aspiration = _filtered_noise(rng, len(t), 1500.0, 0.5 * sample_rate, sample_rate)
        aspiration *= voicing * (0.55 + 0.45 * np.cos(phase)) * voice.breathiness
        floor = 10.0 ** (-60.0 / 20.0) * rng.standard_normal(len(t)) * (voicing > 0)
        noise = _consonant_noise(rng, phrase, origin, len(t), sample_rate)
        gain = 10.0 ** (rng.uniform(-2.5, 1.5) / 20.0)
        out[first:last] += gain * (voiced + aspiration + floor + noise)
    return out


# ---------------------------------------------------------------------------------------------
# drums, bass, other

_GROOVES: dict[str, dict[str, str]] = {
    "rock": {"kick": "X.....x.X.x.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
    "four": {
        "kick": "X...X...X...X...",
        "snare": "....X.......X...",
        "hat": "x...x...x...x...",
        "open": "..x...x...x...x.",
    },
    "half": {"kick": "X.....x.........", "snare": "........X.......", "hat": "x.x.x.x.x.x.x.x."},
    "funk": {"kick": "X..x..x...X..x..", "snare": "....X..x.x..X...", "hat": "xxxxxxxxxxxxxxxx"},
    "sparse": {"kick": "X.......X.......", "hat": "x...x...x...x..."},
}
"""Drum patterns on a 16th-note grid: X accent, x normal hit."""

_SECTION_GROOVES = {
    "intro": (None, "sparse"),
    "verse": ("rock", "half", "funk"),
    "chorus": ("four", "rock"),
    "bridge": (None, "half", "sparse"),
    "break": ("funk", "rock"),
    "outro": (None, "sparse"),
}


def _fade_tail(x: np.ndarray, sr: int, seconds: float = 0.01) -> np.ndarray:
    n = min(len(x), int(seconds * sr))
    x[len(x) - n :] *= np.linspace(1.0, 0.0, n)
    return x


def _drum_sounds(rng: np.random.Generator, sr: int) -> dict[str, np.ndarray]:
    """One-shot samples of the kit."""

    def times(seconds: float) -> np.ndarray:
        return np.arange(int(seconds * sr)) / sr

    t = times(0.4)
    f_hi, f_lo = rng.uniform(110, 170), rng.uniform(42, 60)
    sweep = f_lo + (f_hi - f_lo) * np.exp(-t / rng.uniform(0.025, 0.05))
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-t / rng.uniform(0.12, 0.25))
    kick += 0.3 * _filtered_noise(rng, len(t), 100, 4000, sr) * np.exp(-t / 0.003)
    t = times(0.35)
    f_snare = rng.uniform(170, 230)
    tone = (np.sin(2 * np.pi * f_snare * t) + 0.5 * np.sin(2 * np.pi * 1.52 * f_snare * t)) * (
        np.exp(-t / 0.05)
    )
    rattle = _filtered_noise(rng, len(t), 1000, 7000, sr) * np.exp(-t / rng.uniform(0.07, 0.15))
    snare = 0.5 * tone + 0.6 * rattle
    base = rng.uniform(35, 45)
    t = times(2.0)
    metal = sum(
        np.sign(np.sin(2 * np.pi * base * r * t + rng.uniform(0, 6)))
        for r in (2.0, 3.0, 4.16, 5.43, 6.79, 8.21)
    )
    top = min(7000.0, 0.35 * sr)
    metal = signal.sosfilt(_band_sos(top, sr, sr, order=4), metal)
    metal /= np.sqrt(np.mean(metal**2))
    air = _filtered_noise(rng, len(t), top, sr, sr)
    shimmer = 0.5 * metal + air
    sounds = {
        "kick": kick,
        "snare": snare,
        "hat": 0.4 * shimmer[: int(0.12 * sr)] * np.exp(-t[: int(0.12 * sr)] / 0.025),
        "open": 0.35 * shimmer[: int(0.6 * sr)] * np.exp(-t[: int(0.6 * sr)] / 0.18),
        "crash": 0.4
        * (_filtered_noise(rng, len(t), 3000, sr, sr) + 0.4 * metal)
        * np.exp(-t / 0.7),
    }
    return {name: _fade_tail(x, sr) for name, x in sounds.items()}


_DRUM_PAN = {"kick": 0.0, "snare": 0.1, "hat": 0.35, "open": 0.35, "crash": -0.3}


def _drum_hits(
    rng: np.random.Generator, sections: list[Section], bar_seconds: float
) -> dict[str, list[tuple[float, float]]]:
    """``(time, velocity)`` of every hit per drum."""
    hits: dict[str, list[tuple[float, float]]] = {name: [] for name in _DRUM_PAN}
    step = bar_seconds / 16
    for k, section in enumerate(sections):
        groove_name = _SECTION_GROOVES[section.name][
            int(rng.integers(len(_SECTION_GROOVES[section.name])))
        ]
        if groove_name is None:
            continue
        groove = _GROOVES[groove_name]
        energy = SECTION_ENERGY[section.name]
        if section.name == "chorus":
            hits["crash"].append((section.start, energy))
        fill = k + 1 < len(sections) and rng.random() < 0.5
        bars = math.ceil((section.end - section.start) / bar_seconds - 1e-9)
        for bar in range(section.bar, section.bar + bars):
            last_bar = bar == section.bar + section.bars - 1
            for drum, pattern in groove.items():
                if fill and last_bar and drum == "snare":
                    pattern = pattern[:12] + "xxXX"
                for i, mark in enumerate(pattern):
                    time = bar * bar_seconds + i * step + rng.normal(0.0, 0.003)
                    if mark == "." or not section.start <= time < section.end:
                        continue
                    velocity = (1.0 if mark == "X" else 0.7) * rng.uniform(0.85, 1.1) * energy
                    hits[drum].append((max(time, 0.0), velocity))
    return hits


def _render_drums(
    rng: np.random.Generator, sections: list[Section], bar_seconds: float, n: int, sr: int
) -> np.ndarray:
    """The kit's hits placed by convolving impulse trains with the one-shots, ``(2, n)``."""
    sounds = _drum_sounds(rng, sr)
    out = np.zeros((2, n))
    for drum, hits in _drum_hits(rng, sections, bar_seconds).items():
        if not hits:
            continue
        train = np.zeros(n)
        positions = np.minimum(np.round(np.array([h[0] for h in hits]) * sr).astype(int), n - 1)
        np.add.at(train, positions, [h[1] for h in hits])
        out += _pan(signal.oaconvolve(train, sounds[drum])[:n], _DRUM_PAN[drum])
    return out


_BASS_PATTERNS = {
    "whole": ((0, 0),),
    "quarters": ((0, 0), (4, 0), (8, 0), (12, 0)),
    "eighths": tuple((i, 0) for i in range(0, 16, 2)),
    "fifths": ((0, 0), (6, 0), (8, 7), (12, 12)),
    "syncopated": ((0, 0), (3, 0), (6, 0), (8, 0), (11, 7), (14, 0)),
}
"""Bass lines per bar: (16th step, interval above the chord root in semitones)."""


def _render_bass(
    rng: np.random.Generator,
    sections: list[Section],
    chords: list[Chord],
    bar_seconds: float,
    n: int,
    sr: int,
) -> np.ndarray:
    """A bass line on the chord roots (a pattern per section), plucked envelope, ``(2, n)``."""
    out = np.zeros(n)
    step = bar_seconds / 16
    names = list(_BASS_PATTERNS)
    brightness = rng.uniform(1.0, 1.6)
    for section in sections:
        if section.name == "intro" and rng.random() < 0.5:
            continue
        pattern = _BASS_PATTERNS[names[int(rng.integers(len(names)))]]
        legato = rng.uniform(0.6, 0.95)
        for chord in (c for c in chords if section.start <= c.start < section.end):
            root = 33 + (chord.root - 9) % 12
            steps = [s for s, _ in pattern] + [16]
            for (position, interval), following in zip(pattern, steps[1:], strict=True):
                start = round((chord.start + position * step) * sr)
                length = round((following - position) * step * legato * sr)
                length = min(length, n - start, round((chord.end - chord.start) * sr))
                if length <= 8:
                    continue
                freq = float(_midi_to_hz(root + interval))
                tone = _oscillator(brightness, 24, freq, length, sr, rng.uniform())
                t = np.arange(length) / sr
                envelope = np.minimum(t / 0.004, 1.0) * (0.55 + 0.45 * np.exp(-t / 0.25))
                envelope *= np.clip((length - np.arange(length)) / (0.015 * sr), 0.0, 1.0)
                out[start : start + length] += SECTION_ENERGY[section.name] * envelope * tone
    return _pan(out, rng.uniform(-0.1, 0.1))


def _render_other(
    rng: np.random.Generator,
    sections: list[Section],
    chords: list[Chord],
    bar_seconds: float,
    n: int,
    sr: int,
) -> np.ndarray:
    """Detuned stereo pads and a comping keys part, ``(2, n)``."""
    out = np.zeros((2, n))
    detune = rng.uniform(4.0, 9.0)
    keys_pan = rng.uniform(-0.4, 0.4)
    comp_options = ("x...x...x...x...", "x.....x...x.....", "x.x.x.x.x.x.x.x.", "x..x..x...x.x...")
    for section in sections:
        pad = section.name != "verse" or rng.random() < 0.4
        keys = section.name in ("verse", "chorus", "break") or rng.random() < 0.3
        comp = comp_options[int(rng.integers(len(comp_options)))]
        energy = SECTION_ENERGY[section.name]
        for chord in (c for c in chords if section.start <= c.start < section.end):
            if pad:
                _add_pad(out, sr, rng, chord, detune, 0.3 * energy)
            if keys:
                step = bar_seconds / 16
                _add_keys(out, sr, rng, chord, comp, step, 0.45 * energy, keys_pan)
    sos = signal.butter(2, min(rng.uniform(2500, 5000), 0.45 * sr), fs=sr, output="sos")
    return signal.sosfilt(sos, out, axis=-1)


def _add_pad(
    out: np.ndarray, sr: int, rng: np.random.Generator, chord: Chord, detune: float, gain: float
) -> None:
    """Add a pad chord to ``out`` ``(2, n)``: two detuned voices per note, one per channel."""
    start = round(chord.start * sr)
    release = 0.3
    length = min(round((chord.end - chord.start + release) * sr), out.shape[1] - start)
    if length <= 8:
        return
    t = np.arange(length) / sr
    attack = rng.uniform(0.1, 0.4)
    body = chord.end - chord.start
    envelope = gain * np.interp(t, [0.0, attack, body, body + release], [0.0, 1.0, 0.9, 0.0])
    for pitch in (*chord.pitches, chord.pitches[0] - 12):
        for channel, cents in enumerate((-detune, detune)):
            freq = float(_midi_to_hz(pitch + cents / 100.0))
            tone = _oscillator(1.3, 10, freq, length, sr, rng.uniform())
            out[channel, start : start + length] += envelope * tone


def _add_keys(
    out: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    chord: Chord,
    comp: str,
    step: float,
    gain: float,
    pan: float,
) -> None:
    """Add the chord struck on the marks of ``comp`` (16th steps of ``step`` s) to ``out``."""
    decay = rng.uniform(0.25, 0.6)
    marks = [i for i, m in enumerate(comp) if m != "."] + [len(comp)]
    for i, following in zip(marks[:-1], marks[1:], strict=True):
        start = round((chord.start + i * step) * sr)
        length = round((following - i) * step * sr)
        length = min(length, round(chord.end * sr) - start, out.shape[1] - start)
        if length <= 8:
            continue
        t = np.arange(length) / sr
        envelope = np.minimum(t / 0.003, 1.0) * np.exp(-t / decay)
        envelope *= np.clip((length - np.arange(length)) / (0.01 * sr), 0.0, 1.0)
        envelope *= gain * rng.uniform(0.7, 1.0)
        for pitch in chord.pitches:
            tone = _oscillator(2.0, 12, float(_midi_to_hz(pitch)), length, sr, rng.uniform())
            out[:, start : start + length] += _pan(envelope * tone, pan)


# ---------------------------------------------------------------------------------------------
# the song


def _check_song_options(seed: int, seconds: float, sample_rate: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed (--seed): expected a non-negative integer, got {seed!r}")
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 1.0):
        raise ConfigError(
            f"seconds (--seconds): expected a song length of at least 1 s, got {seconds!r}"
        )
    if not isinstance(sample_rate, int | np.integer) or sample_rate < MIN_SAMPLE_RATE:
        raise ConfigError(
            f"sample rate (--sr): expected an integer of at least {MIN_SAMPLE_RATE} Hz, "
            f"got {sample_rate!r}"
        )


_STEM_GAINS_DB = {
    "vocals": (-2.0, 5.0),
    "drums": (-5.0, 5.0),
    "bass": (-5.0, 5.0),
    "other": (-7.0, 5.0),
}
"""Stem level range: lowest gain and width of the range (dB) re an RMS of 0.1."""


def _mix(
    rng: np.random.Generator, stems: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Random stem levels, a noise floor 60 dB down independent per channel (on the vocals only
    where they sound, so that their silences stay exact zeros), one scale for the song (every
    peak < 1); returns float32 stems and their float32 sum."""
    levelled = {}
    for name, audio in stems.items():
        low, width = _STEM_GAINS_DB[name]
        target = 0.1 * 10.0 ** ((low + width * rng.random()) / 20.0)
        rms = _rms(audio)
        levelled[name] = audio * (target / rms) if rms > 0 else audio.copy()
        floor = 1e-3 * target * rng.standard_normal(audio.shape)
        levelled[name] += floor * (audio != 0) if name == "vocals" else floor
    total = sum(levelled.values())
    peak = max(float(np.max(np.abs(a))) for a in (total, *levelled.values()))
    scale = rng.uniform(0.5, 0.9) / max(peak, 1e-12)
    out = {name: (levelled[name] * scale).astype(np.float32) for name in STEMS}
    mixture = out["vocals"] + out["drums"] + out["bass"] + out["other"]
    return out, mixture


def generate_song(seed: int, seconds: float = 30.0, sample_rate: int = 16000) -> Song:
    """Compose and render one song, fully determined by ``seed``.

    Returns a :class:`Song` with stereo ``(2, round(seconds * sample_rate))`` float32 stems and
    mixture. The vocals are exactly zero between phrases and in at least
    :data:`SILENT_FRAME_FRACTION` of the complete 1 s frames (songs of 3 s or more). Raises
    ConfigError for a negative seed, ``seconds < 1`` or ``sample_rate < 8000``.
    """
    _check_song_options(seed, seconds, sample_rate)
    sample_rate = int(sample_rate)
    rng = np.random.default_rng(int(seed))
    plan = _compose(rng, float(seconds), sample_rate)
    n = round(seconds * sample_rate)
    bar_seconds = 4 * 60.0 / plan.tempo
    stems = {
        "vocals": _pan(
            sing(plan.notes, plan.voice, n, sample_rate, rng), float(rng.uniform(-0.15, 0.15))
        ),
        "drums": _render_drums(rng, plan.sections, bar_seconds, n, sample_rate),
        "bass": _render_bass(rng, plan.sections, plan.chords, bar_seconds, n, sample_rate),
        "other": _render_other(rng, plan.sections, plan.chords, bar_seconds, n, sample_rate),
    }
    stems, mixture = _mix(rng, stems)
    return Song(
        stems=stems,
        mixture=mixture,
        sample_rate=sample_rate,
        seed=int(seed),
        tempo=plan.tempo,
        key=f"{PITCH_NAMES[plan.tonic]} {plan.mode}",
        voice=plan.voice.register,
        sections=[asdict(s) for s in plan.sections],
        chords=[{**asdict(c), "pitches": list(c.pitches)} for c in plan.chords],
        notes=[asdict(note) for note in plan.notes],
    )


# ---------------------------------------------------------------------------------------------
# datasets


def track_seed(seed: int, split: str, index: int) -> int:
    """The seed of track ``index`` of ``split``, derived from the dataset's base ``seed``."""
    state = np.random.SeedSequence([seed, SPLITS.index(split), index]).generate_state(1)
    return int(state[0])


def track_name(split: str, index: int) -> str:
    """Folder name of track ``index`` of ``split``."""
    return f"synthetic {split} {index:03d}"


@dataclass(frozen=True)
class _Task:
    folder: str
    seed: int
    seconds: float
    sample_rate: int


def _write_track(task: _Task) -> str:
    """Generate one song and write its stems, mixture (32-bit float WAV) and notes.json."""
    from wiass.audio import write_audio
    from wiass.files import write_json

    song = generate_song(task.seed, task.seconds, task.sample_rate)
    folder = Path(task.folder)
    write_audio(folder / "mixture.wav", song.mixture, song.sample_rate, subtype="FLOAT")
    for name in STEMS:
        write_audio(folder / f"{name}.wav", song.stems[name], song.sample_rate, subtype="FLOAT")
    write_json(folder / NOTES_FILE, {"track": folder.name, **song.metadata()})
    return folder.name


def _check_dataset_options(
    n_train: int, n_test: int, seconds: float, sample_rate: int, seed: int, jobs: int | None
) -> None:
    for name, count in (("n_train (--train)", n_train), ("n_test (--test)", n_test)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ConfigError(f"{name}: expected a non-negative number of tracks, got {count!r}")
    if n_train + n_test == 0:
        raise ConfigError("n_train, n_test (--train, --test): nothing to write (both are 0)")
    if jobs is not None and (not isinstance(jobs, int | np.integer) or jobs < 1):
        raise ConfigError(f"jobs (--jobs): expected at least 1 process, got {jobs!r}")
    _check_song_options(seed, seconds, sample_rate)


def existing_dataset(out: PathLike) -> list[Path]:
    """The parts of a dataset already in ``out`` (train/, test/, dataset.json)."""
    folder = Path(out)
    return [p for p in (*(folder / s for s in SPLITS), folder / DATASET_FILE) if p.exists()]


def _run_tasks(tasks: list[_Task], jobs: int, progress: bool | None) -> None:
    """Run the tasks here (one job) or in spawned worker processes, with a progress bar."""
    disable = None if progress is None else not progress
    bar = tqdm(total=len(tasks), desc="synthetic songs", unit="track", disable=disable)
    with bar:
        if jobs == 1 or len(tasks) == 1:
            for task in tasks:
                bar.set_postfix_str(Path(task.folder).name, refresh=False)
                _write_track(task)
                bar.update()
            return
        context = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context)
        try:
            futures = [executor.submit(_write_track, task) for task in tasks]
            for future in as_completed(futures):
                try:
                    bar.set_postfix_str(future.result(), refresh=False)
                except BrokenProcessPool as exc:
                    raise OutputError(
                        "synthetic dataset: a worker process died (out of memory, or a main "
                        "script without an `if __name__ == '__main__':` guard?); try jobs=1"
                    ) from exc
                bar.update()
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


def _install(staging: Path, out: Path) -> None:
    """Move the new splits from ``staging`` into ``out``; old splits go to ``staging`` first."""
    for split in SPLITS:
        old = out / split
        if old.exists():
            os.replace(old, staging / f"old {split}")
        if (staging / split).exists():
            os.replace(staging / split, old)


def write_dataset(
    out: PathLike,
    n_train: int = 40,
    n_test: int = 10,
    seconds: float = 30.0,
    sample_rate: int = 16000,
    seed: int = 0,
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> Path:
    """Write synthetic songs in MUSDB18-HQ layout; return ``out``.

    ``out/train/<track>/`` and ``out/test/<track>/`` hold ``mixture.wav``, ``vocals.wav``,
    ``drums.wav``, ``bass.wav``, ``other.wav`` (stereo 32-bit float WAV, so the exact zeros of
    the vocals and ``mixture = sum of stems`` survive) and ``notes.json`` (tempo, key, sections,
    chords, vocal notes with syllables and vowels); ``out/dataset.json`` records the options.
    Track seeds derive from ``seed``, the split and the index (:func:`track_seed`).

    Everything is generated in a hidden folder inside ``out`` first and moved into place at the
    end, so a failure leaves ``out`` as it was. ``jobs`` worker processes (default: up to 2)
    share the tracks; ``progress`` False hides the bar (None: shown on a terminal only).
    Raises ConfigError for bad options and OutputError when ``out`` cannot be written or already
    holds a dataset and ``force`` is not set (with ``force`` the old splits are replaced whole).
    """
    from wiass.files import check_writable_folder, write_json

    _check_dataset_options(n_train, n_test, seconds, sample_rate, seed, jobs)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    present = existing_dataset(folder)
    if present and not force:
        names = ", ".join(p.name for p in present)
        raise OutputError(f"{folder}: already holds a dataset ({names}); use --force to replace it")
    folder = check_writable_folder(folder)
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    counts = {"train": int(n_train), "test": int(n_test)}
    staging = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=folder))
    try:
        tasks = [
            _Task(
                str(staging / split / track_name(split, i)),
                track_seed(int(seed), split, i),
                float(seconds),
                int(sample_rate),
            )
            for split in SPLITS
            for i in range(counts[split])
        ]
        _run_tasks(tasks, int(jobs), progress)
        _install(staging, folder)
        write_json(
            folder / DATASET_FILE,
            {
                "generator": "wiass.data.synthetic",
                "seed": int(seed),
                "seconds": float(seconds),
                "sample_rate": int(sample_rate),
                "tracks": {s: [track_name(s, i) for i in range(counts[s])] for s in SPLITS},
            },
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
