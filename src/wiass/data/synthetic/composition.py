"""The score of a song: form, harmony and the sung melody (:func:`compose`), before rendering.

A random tempo (80-140 BPM, 4/4), key (major or natural minor) and song form (intro, verse,
chorus, bridge, instrumental break, outro), one chord per bar from a common progression per
section. Vocal sections hold sung phrases of one or two bars separated by rests; a phrase is a
legato line of notes on the scale (chord tones on the beats) and a lyric line: words from the
lexicon (:mod:`~wiass.data.synthetic.lexicon`) whose syllables fill its notes, one syllable per
note. A syllable's onset consonants lead into the note's beat, its vowel starts on the beat and
holds, its coda consonants close the note; consonant durations are drawn per phoneme and shrunk
where a fast note needs it, so that a vowel keeps at least half of its note. Intro, break and
outro, and some bridges, have no vocals. The composition keeps at least
:data:`SILENT_FRAME_FRACTION` of the complete 1 s frames of the vocals silent (as MUSDB18 vocals
are), in songs of 3 s or more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from wiass.data.synthetic.articulation import phoneme_seconds
from wiass.data.synthetic.lexicon import Syllable, draw_words
from wiass.data.synthetic.voice import VocalNote, Voice, phrase_span, random_voice

SILENT_FRAME_FRACTION = 0.2
"""Least fraction of complete 1 s frames in which the vocals are exactly zero."""

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
"""The modes: semitones of the scale degrees above the tonic."""

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Names of the pitch classes 0-11 (for the song's key)."""

PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 0), (3, 0, 4, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (3, 4, 0, 0), (5, 6, 0, 0)),
}
"""Chord progressions as scale degrees (0 = tonic), one chord per bar."""

CONSONANT_SHARE = 0.5
"""Most of a note's time (from its beat to the next) its coda and the next onset may take."""

LAST_CODA_SHARE = 0.4
"""Most of a phrase's last note its coda may take."""

LEAD_SECONDS = 0.2
"""Most time the onset consonants of a phrase's first note may take before its beat (s); less
than the shortest rest between phrases (one eighth at 140 BPM)."""


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


@dataclass(frozen=True)
class Plan:
    """The score of a song, before rendering."""

    tempo: float
    tonic: int
    mode: str
    voice: Voice
    sections: list[Section]
    chords: list[Chord]
    notes: list[VocalNote]


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


def _consonant_seconds(
    rng: np.random.Generator, syllables: Sequence[Syllable], beats: Sequence[float]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Durations (s) of every syllable's onset and coda consonants, drawn per phoneme, then
    shrunk: the first onset to at most :data:`LEAD_SECONDS` (and not before 0 s), each coda and
    the next onset together to :data:`CONSONANT_SHARE` of the note between their beats."""
    onsets = [np.array([phoneme_seconds(rng, c) for c in s.onset]) for s in syllables]
    codas = [np.array([phoneme_seconds(rng, c) for c in s.coda]) for s in syllables]
    lead = min(LEAD_SECONDS, beats[0])
    if onsets[0].sum() > lead:
        onsets[0] *= lead / onsets[0].sum()
    for j, coda in enumerate(codas):
        last = j + 1 == len(codas)
        cap = (LAST_CODA_SHARE if last else CONSONANT_SHARE) * (beats[j + 1] - beats[j])
        total = coda.sum() + (0.0 if last else onsets[j + 1].sum())
        if total > cap:
            codas[j] = coda * (cap / total)
            if not last:
                onsets[j + 1] *= cap / total
    return onsets, codas


def syllable_times(
    rng: np.random.Generator, syllables: Sequence[Syllable], beats: Sequence[float]
) -> list[tuple[float, ...]]:
    """Phoneme boundaries (s) of the syllables sung on notes whose beats (vowel starts) are
    ``beats[:-1]``, the phrase ending at ``beats[-1]``: per note, one more boundary than
    phonemes, from the note's start (its first onset consonant) to its end (the next note's
    start, or the phrase end)."""
    onsets, codas = _consonant_seconds(rng, syllables, beats)
    starts = [beats[j] - onset.sum() for j, onset in enumerate(onsets)]
    ends = [*starts[1:], beats[-1]]
    times = []
    for j, (onset, coda) in enumerate(zip(onsets, codas, strict=True)):
        lead = starts[j] + np.concatenate([[0.0], np.cumsum(onset)])[:-1]
        close = ends[j] - np.cumsum(coda[::-1])[::-1]
        times.append((*map(float, lead), float(beats[j]), *map(float, close), float(ends[j])))
    return times


def _compose_phrase(
    rng: np.random.Generator,
    onsets: list[float],
    end: float,
    pitches: list[int],
    phrase: int,
) -> list[VocalNote]:
    """Notes with the syllables of random words: one syllable per note, each vowel on its
    beat (``onsets``), the phrase ending at ``end``."""
    sung = [(w, i, s) for w in draw_words(rng, len(onsets)) for i, s in enumerate(w.syllables)]
    times = syllable_times(rng, [s for _, _, s in sung], [*onsets, end])
    return [
        VocalNote(
            bounds[0],
            bounds[-1],
            pitch,
            " ".join(syllable.phonemes),
            syllable.vowel,
            " ".join(syllable.onset),
            onset,
            phrase,
            coda=" ".join(syllable.coda),
            word=word.text,
            word_syllable=index,
            times=bounds,
        )
        for (word, index, syllable), bounds, pitch, onset in zip(
            sung, times, pitches, onsets, strict=True
        )
    ]


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
            pitches = []
            for g, onset in zip(grid[:-1], onsets, strict=True):
                index = _melody_pitch(rng, candidates, index, _chord_at(chords, onset), g % 2 == 0)
                pitches.append(int(candidates[index]))
            end = float(begin + grid[-1] * eighth)
            phrases.append(_compose_phrase(rng, onsets, end, pitches, len(phrases)))
    return phrases


def silent_fraction(spans: Sequence[tuple[int, int]], n_samples: int, sample_rate: int) -> float:
    """Fraction of the complete 1 s frames that no span ``[first, last)`` (samples) touches."""
    frames = max(1, n_samples // sample_rate)
    busy = np.zeros(frames, dtype=bool)
    for first, last in spans:
        if last > first:
            busy[first // sample_rate : min(frames, (last - 1) // sample_rate + 1)] = True
    return float(np.mean(~busy))


def _word_starts(phrase: list[VocalNote]) -> list[int]:
    """Indices of the notes that start a word."""
    return [i for i, note in enumerate(phrase) if note.word_syllable == 0]


def _keep_silence(
    phrases: list[list[VocalNote]], n_samples: int, sample_rate: int
) -> list[list[VocalNote]]:
    """Drop phrases, the one whose removal silences most frames first (then trailing words of
    the one left), until at least :data:`SILENT_FRAME_FRACTION` of the complete 1 s frames are
    silent; one word always stays."""
    phrases = [list(p) for p in phrases]

    def fraction(candidate: list[list[VocalNote]]) -> float:
        spans = [phrase_span(p, sample_rate) for p in candidate]
        return silent_fraction(spans, n_samples, sample_rate)

    while len(phrases) > 1 and fraction(phrases) < SILENT_FRAME_FRACTION:
        gains = [fraction(phrases[:i] + phrases[i + 1 :]) for i in range(len(phrases))]
        best = max(range(len(phrases)), key=lambda i: (gains[i], i))
        del phrases[best]
    while (
        phrases and _word_starts(phrases[0])[-1] > 0 and fraction(phrases) < SILENT_FRAME_FRACTION
    ):
        del phrases[0][_word_starts(phrases[0])[-1] :]
    return phrases


def compose(rng: np.random.Generator, seconds: float, sample_rate: int) -> Plan:
    """The score of a song ``seconds`` long (``sample_rate`` places the phrases on samples when
    counting the silent 1 s frames)."""
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
    return Plan(tempo, tonic, mode, voice, sections, chords, notes)
