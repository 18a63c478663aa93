"""One song from a seed (:func:`generate_song`): compose, render every part, mix.

Every stem carries a noise floor 60 dB below its level, independent per channel (the vocals only
where they sound), so that no stem lacks energy in a frequency band and no stem's channels are
exact copies of each other: BSSEval's distortion filters are undetermined otherwise (its Gram
matrix of delayed references becomes singular).

Mixing. Stems are stereo ``(2, samples)``: panned mono sources, stereo drum kit and pads. Stem
levels are random; the song is scaled so that the peak of the mixture and of every stem is below
1, then stems are cast to float32 and the mixture is their float32 sum, so ``mixture ==
vocals + drums + bass + other`` holds exactly, also after a 32-bit float WAV round trip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from wiass.data.synthetic.composition import PITCH_NAMES, compose
from wiass.data.synthetic.dsp import pan, rms
from wiass.data.synthetic.instruments import render_bass, render_drums, render_other
from wiass.data.synthetic.voice import VocalNote, sing
from wiass.errors import ConfigError

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
"""The stems of a song, in MUSDB18 order (the mixture is their sum)."""

MIN_SAMPLE_RATE = 8000
"""Lowest sample rate the generator accepts (Hz)."""


@dataclass
class Song:
    """A generated song.

    ``stems`` maps vocals/drums/bass/other to ``(2, samples)`` float32 arrays; ``mixture`` is
    their exact float32 sum. ``notes`` lists the vocal notes as dicts (start, end, vowel_start in
    seconds; pitch as MIDI number; syllable, consonant, vowel, coda as ARPAbet phonemes, word,
    word_syllable, phrase, and times: the phoneme boundaries), ``sections`` and ``chords`` the
    form and harmony as dicts, ``tempo`` is in BPM and ``key`` reads e.g. ``"A minor"``.

    The lyrics: ``lines`` holds one string per phrase (its words, lower case, joined by single
    spaces); ``words`` every sung word in time order as ``{"text", "line", "start", "end",
    "phonemes": [{"symbol", "start", "end"}, ...]}``, times in seconds from the start of the
    song (rounded to 0.1 ms), the phonemes contiguous and exactly the spans the voice sings them
    over, the word from its first phoneme's start to its last phoneme's end.
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
    lines: list[str] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)

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
            "lines": self.lines,
            "words": self.words,
        }


def check_song_options(seed: int, seconds: float, sample_rate: int) -> None:
    """Raise ConfigError (naming the option) for a bad seed, length or sample rate."""
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


def lyrics(notes: Sequence[VocalNote]) -> tuple[list[str], list[dict[str, Any]]]:
    """The lyric lines (one per phrase, in time order) and the sung words with their phoneme
    timings (see :class:`Song`) of vocal ``notes``."""
    lines: list[list[str]] = []
    line_of: dict[int, int] = {}
    words: list[dict[str, Any]] = []
    for note in sorted(notes, key=lambda n: n.start):
        line = line_of.setdefault(note.phrase, len(line_of))
        if line == len(lines):
            lines.append([])
        phonemes = [
            {"symbol": p, "start": round(a, 4), "end": round(b, 4)}
            for p, a, b in note.timed_phonemes()
        ]
        if note.word_syllable == 0 or not words or words[-1]["line"] != line:
            lines[line].append(note.word)
            start = phonemes[0]["start"]
            words.append(
                {"text": note.word, "line": line, "start": start, "end": start, "phonemes": []}
            )
        words[-1]["phonemes"] += phonemes
        words[-1]["end"] = phonemes[-1]["end"]
    return [" ".join(line) for line in lines], words


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
        level = rms(audio)
        levelled[name] = audio * (target / level) if level > 0 else audio.copy()
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
    check_song_options(seed, seconds, sample_rate)
    sample_rate = int(sample_rate)
    rng = np.random.default_rng(int(seed))
    plan = compose(rng, float(seconds), sample_rate)
    n = round(seconds * sample_rate)
    bar_seconds = 4 * 60.0 / plan.tempo
    stems = {
        "vocals": pan(
            sing(plan.notes, plan.voice, n, sample_rate, rng), float(rng.uniform(-0.15, 0.15))
        ),
        "drums": render_drums(rng, plan.sections, bar_seconds, n, sample_rate),
        "bass": render_bass(rng, plan.sections, plan.chords, bar_seconds, n, sample_rate),
        "other": render_other(rng, plan.sections, plan.chords, bar_seconds, n, sample_rate),
    }
    stems, mixture = _mix(rng, stems)
    lines, words = lyrics(plan.notes)
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
        lines=lines,
        words=words,
    )
