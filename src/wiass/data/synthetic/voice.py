"""The singing voice: vocal notes rendered by a source-filter model (:func:`sing`).

Vocals (source-filter, rendered per phrase, vectorised over samples with a loop over notes and
harmonics): the f0 contour is the note pitches joined by portamento glides, with a scoop at the
phrase onset, a fall at its end, slow drift and a vibrato (5-7 Hz) that starts a while after each
vowel onset and grows in. The source is a glottal-pulse-like harmonic series with a spectral
tilt; every harmonic is weighted by the vocal-tract envelope at its frequency, a parallel bank of
five formant resonances per vowel (after the Csound formant table for soprano, alto, tenor and
bass voices) interpolated at syllable transitions, with nasal/liquid formants for m, n, l.
Unvoiced consonants (s, sh, f, h, p, t, k) stop the voicing and add band-pass noise bursts; a
little pitch-synchronous aspiration noise gives breathiness. Between phrases the vocals are
exactly zero (no breaths).

Phonemes. A sung syllable is an optional consonant and a vowel; the tables at the top of this
module are all the voice knows about them, and the place to add one: a vowel needs a
:data:`FormantRow` in :data:`VOWEL_FORMANTS` for every register, a voiced consonant (a murmur or
liquid sung into its vowel) one in :data:`VOICED_CONSONANTS`, an unvoiced consonant (noise with
the voicing off) an :class:`Unvoiced` entry in :data:`UNVOICED_CONSONANTS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from wiass.data.synthetic.dsp import filtered_noise, midi_to_hz, rms, smoothstep

FormantRow: TypeAlias = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
"""Five formants of a phoneme: frequencies (Hz), levels (dB re the first), bandwidths (Hz)."""

VOWELS: tuple[str, ...] = ("a", "e", "i", "o", "u")
"""The vowels every register has formants for."""


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


# Voiced consonants: formants of the murmur or liquid that leads into the vowel.
VOICED_CONSONANTS: dict[str, FormantRow] = {
    "m": ((280, 1000, 2200, 2900, 3500), (0, -24, -30, -36, -40), (80, 150, 200, 250, 250)),
    "n": ((280, 1600, 2500, 3100, 3600), (0, -22, -28, -34, -40), (80, 150, 200, 250, 250)),
    "l": ((360, 1200, 2600, 3200, 3700), (0, -10, -18, -24, -34), (60, 120, 150, 200, 250)),
}


@dataclass(frozen=True)
class Unvoiced:
    """An unvoiced consonant: noise band (Hz), level re the voice (dB), duration range (s);
    a plosive is silence then a burst at the release, the others a sustained hiss."""

    band: tuple[float, float]
    level_db: float
    seconds: tuple[float, float]
    plosive: bool


UNVOICED_CONSONANTS: dict[str, Unvoiced] = {
    "s": Unvoiced((4500, 9000), -6, (0.07, 0.11), False),
    "sh": Unvoiced((1800, 6000), -6, (0.08, 0.11), False),
    "f": Unvoiced((1200, 8000), -16, (0.06, 0.09), False),
    "h": Unvoiced((500, 4000), -18, (0.05, 0.08), False),
    "t": Unvoiced((2500, 8000), -4, (0.04, 0.06), True),
    "k": Unvoiced((1200, 4000), -4, (0.05, 0.07), True),
    "p": Unvoiced((400, 2500), -6, (0.04, 0.06), True),
}

VOICED_SECONDS = (0.05, 0.08)
"""Shortest and longest murmur of a voiced consonant (s)."""


def consonant_range(consonant: str) -> tuple[float, float]:
    """Shortest and longest duration (s) of a consonant (voiced or unvoiced)."""
    if consonant in UNVOICED_CONSONANTS:
        return UNVOICED_CONSONANTS[consonant].seconds
    return VOICED_SECONDS


REGISTERS = {"soprano": (60, 79), "alto": (55, 74), "tenor": (48, 67), "bass": (41, 62)}
"""Singing range per voice register (MIDI pitches)."""


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
        return REGISTERS[self.register]


def random_voice(rng: np.random.Generator) -> Voice:
    """A random singer."""
    return Voice(
        register=str(rng.choice(list(REGISTERS))),
        formant_scale=float(rng.uniform(0.95, 1.06)),
        tilt=float(rng.uniform(0.85, 1.25)),
        vibrato_rate=float(rng.uniform(5.0, 7.0)),
        vibrato_depth=float(rng.uniform(0.25, 0.6)),
        vibrato_delay=float(rng.uniform(0.15, 0.35)),
        breathiness=float(rng.uniform(0.015, 0.05)),
    )


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


def phrase_span(phrase: Sequence[VocalNote], sample_rate: int) -> tuple[int, int]:
    """Samples ``[first, last)`` a phrase may be non-zero in."""
    return round(phrase[0].start * sample_rate), round(phrase[-1].end * sample_rate)


def _formant_set(voice: Voice, name: str) -> np.ndarray:
    """``(15,)``: five formant frequencies, levels (dB) and bandwidths of a vowel or m/n/l."""
    table = VOICED_CONSONANTS.get(name) or VOWEL_FORMANTS[voice.register][name]
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
        if note.consonant in VOICED_CONSONANTS:
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
    scoop = rng.uniform(0.3, 1.0) * (1.0 - smoothstep((t - onset0) / rng.uniform(0.06, 0.12)))
    contour -= scoop
    for previous, note in zip(notes[:-1], notes[1:], strict=True):
        arrive = note.onset - origin
        glide = min(rng.uniform(0.04, 0.12), 0.6 * (arrive - (previous.onset - origin)))
        contour += (note.pitch - previous.pitch) * smoothstep((t - arrive + glide) / glide)
    end = notes[-1].end - origin
    fall_seconds = min(rng.uniform(0.08, 0.2), 0.4 * (end - (notes[-1].onset - origin)))
    contour -= rng.uniform(0.0, 1.2) * smoothstep((t - end + fall_seconds) / fall_seconds)
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
    murmur = first_note.consonant in VOICED_CONSONANTS
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
        floor = 0.0 if note.consonant in UNVOICED_CONSONANTS else 0.4 if note.consonant else 0.7
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
        spec = UNVOICED_CONSONANTS.get(note.consonant)
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
        noise = filtered_noise(rng, length, *spec.band, sr)
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
        first, last = phrase_span(phrase, sample_rate)
        last = min(last, n_samples)
        if last - first < 2:
            continue
        origin = first / sample_rate
        t = np.arange(last - first) / sample_rate
        f0 = midi_to_hz(_pitch_contour(rng, phrase, voice, origin, t, sample_rate))
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate + rng.uniform(0, 2 * np.pi)
        control = np.arange(len(t) // hop + 2) * hop / sample_rate
        tracks = _formant_tracks(phrase, voice, origin, control)
        voicing = _voicing(rng, phrase, origin, t, sample_rate)
        voiced = _harmonics(phase, f0, tracks, hop, voice, sample_rate) * voicing
        voiced /= max(rms(voiced), 1e-12)
        aspiration = filtered_noise(rng, len(t), 1500.0, 0.5 * sample_rate, sample_rate)
        aspiration *= voicing * (0.55 + 0.45 * np.cos(phase)) * voice.breathiness
        floor = 10.0 ** (-60.0 / 20.0) * rng.standard_normal(len(t)) * (voicing > 0)
        noise = _consonant_noise(rng, phrase, origin, len(t), sample_rate)
        gain = 10.0 ** (rng.uniform(-2.5, 1.5) / 20.0)
        out[first:last] += gain * (voiced + aspiration + floor + noise)
    return out
