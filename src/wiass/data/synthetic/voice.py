"""The singing voice: vocal notes rendered by a source-filter model (:func:`sing`).

Vocals (source-filter, rendered per phrase, vectorised over samples with a loop over notes and
harmonics): the f0 contour is the note pitches joined by portamento glides, with a scoop at the
phrase onset, a fall at its end, slow drift and a vibrato (5-7 Hz) that starts a while after each
vowel onset and grows in. The source is a glottal-pulse-like harmonic series with a spectral
tilt; every harmonic is weighted by the vocal-tract envelope at its frequency, a parallel bank of
five formant resonances interpolated between the phonemes' formant rows. A little
pitch-synchronous aspiration noise gives breathiness. Between phrases the vocals are exactly zero
(no breaths).

Phonemes. A note sings one syllable of ARPAbet phonemes: onset consonants lead into the beat,
the vowel sits on the beat and holds, coda consonants close the note. Each phoneme sounds over
exactly the span the note gives it (:meth:`VocalNote.timed_phonemes`); how it sounds (formant
rows, voicing level, noise) is in :mod:`~wiass.data.synthetic.articulation`. The voicing
cross-fades over at most 20 ms around each boundary; a consonant's noise stays inside its span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wiass.data.synthetic.articulation import (
    CONSONANTS,
    VOWEL_HOLD,
    consonant_row,
    voicing_level,
    vowel_rows,
)
from wiass.data.synthetic.dsp import filtered_noise, midi_to_hz, rms, smoothstep

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

    The syllable sounds over ``[start, end)``: its onset ``consonant``s (ARPAbet, space
    separated, "" for none) from ``start``, its ``vowel`` from ``vowel_start`` (the beat), its
    ``coda`` consonants up to ``end``; ``syllable`` is all its phonemes, space separated.
    ``pitch`` is a MIDI note number; notes of one ``phrase`` are sung legato. ``word`` is the
    word the syllable belongs to and ``word_syllable`` the syllable's index in it (0 starts a
    word). ``times`` holds the phoneme boundaries (one more than phonemes, from ``start`` to
    ``end``); empty, the onset consonants share ``[start, vowel_start)`` and the coda takes
    60 ms per consonant (at most 30 % of the vowel's time).
    """

    start: float
    end: float
    pitch: int
    syllable: str
    vowel: str
    consonant: str = ""
    vowel_start: float | None = None
    phrase: int = 0
    coda: str = ""
    word: str = ""
    word_syllable: int = 0
    times: tuple[float, ...] = ()

    @property
    def onset(self) -> float:
        """Start of the vowel (s)."""
        return self.start if self.vowel_start is None else self.vowel_start

    @property
    def phonemes(self) -> tuple[str, ...]:
        """Onset consonants, vowel, coda consonants."""
        return (*self.consonant.split(), self.vowel, *self.coda.split())

    def timed_phonemes(self) -> list[tuple[str, float, float]]:
        """``(symbol, start, end)`` of every phoneme (s), contiguous from ``start`` to ``end``."""
        phonemes = self.phonemes
        times = self.times or self._default_times()
        if len(times) != len(phonemes) + 1:
            raise ValueError(f"note {self.syllable!r}: {len(times)} times for {len(phonemes)}")
        return [(p, times[i], times[i + 1]) for i, p in enumerate(phonemes)]

    def _default_times(self) -> tuple[float, ...]:
        """Phoneme boundaries when ``times`` is empty (see the class docstring)."""
        onset, coda = self.consonant.split(), self.coda.split()
        lead = np.linspace(self.start, self.onset, len(onset) + 1)[:-1]
        tail = min(0.06 * len(coda), 0.3 * (self.end - self.onset))
        close = np.linspace(self.end - tail, self.end, len(coda) + 1)[:-1]
        return (*map(float, lead), self.onset, *map(float, close), self.end)


def phrase_span(phrase: Sequence[VocalNote], sample_rate: int) -> tuple[int, int]:
    """Samples ``[first, last)`` a phrase may be non-zero in."""
    return round(phrase[0].start * sample_rate), round(phrase[-1].end * sample_rate)


def _phrase_phonemes(notes: Sequence[VocalNote], origin: float) -> list[tuple[str, float, float]]:
    """Every phoneme of a phrase as ``(symbol, start, end)`` in seconds from ``origin``."""
    return [(p, a - origin, b - origin) for n in notes for p, a, b in n.timed_phonemes()]


def _formant_tracks(
    notes: Sequence[VocalNote], voice: Voice, origin: float, times: np.ndarray
) -> np.ndarray:
    """``(15, len(times))`` formant parameters over a phrase: a plateau per vowel (a diphthong
    holds its first row, then glides to its last), a shorter one per voiced consonant,
    linear transitions between them; voiceless consonants take no row of their own."""
    rows = vowel_rows(voice.register)
    scale = np.concatenate([np.full(5, voice.formant_scale), np.ones(10)])
    points: list[tuple[float, np.ndarray]] = []
    for symbol, start, end in _phrase_phonemes(notes, origin):
        length = end - start
        if symbol in rows:
            first, last = rows[symbol]
            points.append((start + min(0.05, 0.3 * length), first))
            if last is not first:
                points.append((start + VOWEL_HOLD * length, first))
            points.append((end - min(0.04, 0.2 * length), last))
        elif CONSONANTS[symbol].row is not None:
            row = consonant_row(CONSONANTS[symbol].row)
            ramp = min(0.015, 0.25 * length)
            points += [(start + ramp, row), (end - ramp, row)]
    xp = np.maximum.accumulate(np.array([t for t, _ in points]))
    values = np.stack([v for _, v in points], axis=1) * scale[:, None]
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


_VOICING_RAMP = 0.02
"""Longest cross-fade (s) of the voicing level on each side of a phoneme boundary."""


def _articulation_level(
    notes: Sequence[VocalNote], origin: float, t: np.ndarray
) -> tuple[np.ndarray, float]:
    """Voicing level per sample from the phonemes (1 on vowels, lower on voiced consonants, 0
    on voiceless ones; a dip to 0.6 where a syllable starts on its vowel) and the time (s) the
    first voiced phoneme starts."""
    xs, ys = [notes[0].start - origin], [0.0]
    voice_on = None
    for j, note in enumerate(notes):
        for symbol, start, end in _phrase_phonemes([note], origin):
            level = voicing_level(symbol)
            if level > 0 and voice_on is None:
                voice_on = start
            ramp = min(_VOICING_RAMP, 0.25 * (end - start))
            if j > 0 and not note.consonant and symbol == note.vowel:
                xs.append(start)
                ys.append(0.6)
            xs += [start + ramp, end - ramp]
            ys += [level, level]
    xs.append(notes[-1].end - origin)
    ys.append(0.0)
    return np.interp(t, np.maximum.accumulate(xs), ys), float(voice_on)


def _voicing(
    rng: np.random.Generator, notes: Sequence[VocalNote], origin: float, t: np.ndarray
) -> np.ndarray:
    """Amplitude of the voiced sound per sample: the articulation's level, an attack at the
    first voiced sound, dynamics per note, a release at the end. Exactly zero before the first
    voiced sound and at the last sample."""
    level, voice_on = _articulation_level(notes, origin, t)
    end = notes[-1].end - origin
    attack = min(rng.uniform(0.03, 0.08), 0.3 * (end - voice_on))
    release = min(rng.uniform(0.05, 0.15), 0.4 * (end - (notes[-1].onset - origin)))
    times = [voice_on, voice_on + attack, end - release, t[-1]]
    envelope = np.interp(t, times, [0.0, 1.0, 1.0, 0.0], left=0.0)
    levels_t, levels = [], []
    for note in notes:
        note_level = 10.0 ** (rng.uniform(-3.0, 1.5) / 20.0)
        levels_t += [note.onset - origin, note.end - origin]
        levels += [note_level, note_level * 10.0 ** (rng.uniform(-1.5, 1.5) / 20.0)]
    envelope *= np.interp(t, np.maximum.accumulate(levels_t), levels)
    return envelope * level


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


def _noise_shape(kind: str, length: int, sr: int) -> np.ndarray:
    """Envelope ``(length,)`` of a consonant's noise over its span: a fricative's hiss fades in
    and out; a plosive is a closure (silent) then a burst decaying in 10 ms over a weak
    aspiration; an affricate a shorter closure, a burst and a hiss; HH rises into the vowel."""
    x = np.linspace(0.0, 1.0, length)
    seconds = (x * (length - 1)) / sr
    if kind == "fricative":
        return np.interp(x, [0.0, 0.15, 0.85, 1.0], [0.0, 1.0, 1.0, 0.0])
    if kind == "aspirate":
        return np.interp(x, [0.0, 0.3, 1.0], [0.0, 1.0, 0.5])
    release = 0.55 if kind == "plosive" else 0.35
    after = seconds - release * seconds[-1]
    burst = np.exp(-np.maximum(after, 0.0) / 0.010)
    if kind == "plosive":
        return np.where(after >= 0.0, burst + 0.15, 0.0)
    hiss = np.interp(x, [release, 0.5, 0.85, 1.0], [0.3, 0.8, 0.8, 0.0])
    return np.where(after >= 0.0, 0.6 * burst + hiss, 0.0)


def _consonant_noise(
    rng: np.random.Generator, notes: Sequence[VocalNote], origin: float, phase: np.ndarray, sr: int
) -> np.ndarray:
    """The consonants' noise (unit level = voice RMS), each inside its own span; a voiced
    consonant's noise is modulated by the glottal cycle."""
    out = np.zeros(len(phase))
    for symbol, start, end in _phrase_phonemes(notes, origin):
        spec = CONSONANTS.get(symbol)
        first, last = round(start * sr), min(round(end * sr), len(out))
        if spec is None or spec.band is None or last - first < 4:
            continue
        shape = _noise_shape(spec.kind, last - first, sr)
        if spec.voicing > 0:
            shape = shape * (0.6 + 0.4 * np.cos(phase[first:last]))
        noise = filtered_noise(rng, last - first, *spec.band, sr)
        out[first:last] += 10.0 ** (spec.noise_db / 20.0) * shape * noise
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
        voicing = _voicing(rng, phrase, origin, t)
        voiced = _harmonics(phase, f0, tracks, hop, voice, sample_rate) * voicing
        voiced /= max(rms(voiced), 1e-12)
        aspiration = filtered_noise(rng, len(t), 1500.0, 0.5 * sample_rate, sample_rate)
        aspiration *= voicing * (0.55 + 0.45 * np.cos(phase)) * voice.breathiness
        floor = 10.0 ** (-60.0 / 20.0) * rng.standard_normal(len(t)) * (voicing > 0)
        noise = _consonant_noise(rng, phrase, origin, phase, sample_rate)
        gain = 10.0 ** (rng.uniform(-2.5, 1.5) / 20.0)
        out[first:last] += gain * (voiced + aspiration + floor + noise)
    return out
