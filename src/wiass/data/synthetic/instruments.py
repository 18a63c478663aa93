"""The accompaniment: drums, bass and other, rendered from the score as ``(2, samples)`` stems.

Drums are a synthesised kit (kick, snare, closed/open hi-hat, crash) playing a groove per section,
with fills; the bass follows the chord roots with a pattern per section; other is detuned pads and
a comping keys part. Drum kit and pads are stereo, bass and keys panned mono sources.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from wiass.data.synthetic.composition import Chord, Section
from wiass.data.synthetic.dsp import band_sos, filtered_noise, midi_to_hz, oscillator, pan

SECTION_ENERGY = {
    "intro": 0.7,
    "verse": 0.85,
    "chorus": 1.0,
    "bridge": 0.75,
    "break": 0.9,
    "outro": 0.7,
}
"""Relative level of the accompaniment per section."""

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
"""The grooves a section may get (None: no drums)."""

_DRUM_PAN = {"kick": 0.0, "snare": 0.1, "hat": 0.35, "open": 0.35, "crash": -0.3}
"""Pan position per drum, in [-1, 1]."""


def _fade_tail(x: np.ndarray, sr: int, seconds: float = 0.01) -> np.ndarray:
    """Fade the last ``seconds`` of ``x`` linearly to zero, in place; returns ``x``."""
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
    kick += 0.3 * filtered_noise(rng, len(t), 100, 4000, sr) * np.exp(-t / 0.003)
    t = times(0.35)
    f_snare = rng.uniform(170, 230)
    tone = (np.sin(2 * np.pi * f_snare * t) + 0.5 * np.sin(2 * np.pi * 1.52 * f_snare * t)) * (
        np.exp(-t / 0.05)
    )
    rattle = filtered_noise(rng, len(t), 1000, 7000, sr) * np.exp(-t / rng.uniform(0.07, 0.15))
    snare = 0.5 * tone + 0.6 * rattle
    base = rng.uniform(35, 45)
    t = times(2.0)
    metal = sum(
        np.sign(np.sin(2 * np.pi * base * r * t + rng.uniform(0, 6)))
        for r in (2.0, 3.0, 4.16, 5.43, 6.79, 8.21)
    )
    top = min(7000.0, 0.35 * sr)
    metal = signal.sosfilt(band_sos(top, sr, sr, order=4), metal)
    metal /= np.sqrt(np.mean(metal**2))
    air = filtered_noise(rng, len(t), top, sr, sr)
    shimmer = 0.5 * metal + air
    sounds = {
        "kick": kick,
        "snare": snare,
        "hat": 0.4 * shimmer[: int(0.12 * sr)] * np.exp(-t[: int(0.12 * sr)] / 0.025),
        "open": 0.35 * shimmer[: int(0.6 * sr)] * np.exp(-t[: int(0.6 * sr)] / 0.18),
        "crash": 0.4 * (filtered_noise(rng, len(t), 3000, sr, sr) + 0.4 * metal) * np.exp(-t / 0.7),
    }
    return {name: _fade_tail(x, sr) for name, x in sounds.items()}


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


def render_drums(
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
        out += pan(signal.oaconvolve(train, sounds[drum])[:n], _DRUM_PAN[drum])
    return out


_BASS_PATTERNS = {
    "whole": ((0, 0),),
    "quarters": ((0, 0), (4, 0), (8, 0), (12, 0)),
    "eighths": tuple((i, 0) for i in range(0, 16, 2)),
    "fifths": ((0, 0), (6, 0), (8, 7), (12, 12)),
    "syncopated": ((0, 0), (3, 0), (6, 0), (8, 0), (11, 7), (14, 0)),
}
"""Bass lines per bar: (16th step, interval above the chord root in semitones)."""


def render_bass(
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
                freq = float(midi_to_hz(root + interval))
                tone = oscillator(brightness, 24, freq, length, sr, rng.uniform())
                t = np.arange(length) / sr
                envelope = np.minimum(t / 0.004, 1.0) * (0.55 + 0.45 * np.exp(-t / 0.25))
                envelope *= np.clip((length - np.arange(length)) / (0.015 * sr), 0.0, 1.0)
                out[start : start + length] += SECTION_ENERGY[section.name] * envelope * tone
    return pan(out, rng.uniform(-0.1, 0.1))


def render_other(
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
            freq = float(midi_to_hz(pitch + cents / 100.0))
            tone = oscillator(1.3, 10, freq, length, sr, rng.uniform())
            out[channel, start : start + length] += envelope * tone


def _add_keys(
    out: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    chord: Chord,
    comp: str,
    step: float,
    gain: float,
    position: float,
) -> None:
    """Add the chord struck on the marks of ``comp`` (16th steps of ``step`` s) to ``out``,
    panned to ``position`` in [-1, 1]."""
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
            tone = oscillator(2.0, 12, float(midi_to_hz(pitch)), length, sr, rng.uniform())
            out[:, start : start + length] += pan(envelope * tone, position)
