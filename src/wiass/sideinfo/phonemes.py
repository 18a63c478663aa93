"""The ``phonemes`` kind: lyrics as a sequence of symbols, with their timing where it is known.

A lyrics text becomes one step per symbol (:mod:`wiass.lyrics.symbols`): a pause at the start,
at every line break and at the end, a word boundary between two words of a line, and each
word's ARPAbet phonemes in order. The values the model gets are the symbols' indices ``(M, 1)``;
no timing. Where the timing is known (the synthetic songs' ``notes.json``, annotated datasets)
:class:`PhonemeSteps` holds it per step: a phoneme lasts as long as it is sung, a pause spans
the gap between two lines (and the song's start and end), a word boundary takes no time.

Training excerpts (:func:`excerpt_phonemes`) take the steps that sound in the excerpt plus a
random number of steps of the context on each side (``side_info.pad_range``), as A3.1 pads
with the activity around an excerpt: where the excerpt's lyrics begin and end in the sequence
is unknown to the model. The true alignment of a step is the excerpt frame at the middle of
the part of the step inside the excerpt. :func:`frame_symbols` names the symbol sung at every
frame, which the model's symbol recogniser learns.

The symbols of a timed lyrics follow the same rule as those of a text
(:meth:`wiass.lyrics.Lyrics.symbols`), so that what a model trains on is what a user gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wiass.config import SideInfoConfig
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, WORD_BOUNDARY
from wiass.sideinfo.kinds import SideInfo


@dataclass(frozen=True)
class PhonemeSteps:
    """The symbol steps of a song's lyrics and their timing.

    ``symbols (M,)`` int64: indices into :data:`~wiass.lyrics.symbols.SYMBOLS`; ``start`` and
    ``end (M,)`` float64: seconds from the start of the song (``end == start`` for a word
    boundary); ``words (M,)`` int64: the word each step belongs to (-1 for pauses and word
    boundaries).
    """

    symbols: np.ndarray
    start: np.ndarray
    end: np.ndarray
    words: np.ndarray

    @property
    def n_steps(self) -> int:
        return int(self.symbols.size)


def phoneme_steps(timing: Any, duration: float) -> PhonemeSteps:
    """The steps of a timed lyrics (``timing.words``: words with ``line``, ``phonemes`` of
    ``symbol``, ``start``, ``end`` in seconds, in time order) of a song of ``duration`` s."""
    rows: list[tuple[str, float, float, int]] = []
    last_end, last_line = 0.0, None
    for index, word in enumerate(timing.words):
        first = float(word.phonemes[0].start)
        if last_line is None or word.line != last_line:
            rows.append((PAUSE, last_end, first, -1))
        else:
            rows.append((WORD_BOUNDARY, last_end, last_end, -1))
        rows += [(p.symbol, float(p.start), float(p.end), index) for p in word.phonemes]
        last_end, last_line = float(word.phonemes[-1].end), word.line
    rows.append((PAUSE, last_end, max(float(duration), last_end), -1))
    symbols, starts, ends, words = zip(*rows, strict=True)
    return PhonemeSteps(
        np.array([SYMBOL_INDEX[s] for s in symbols], dtype=np.int64),
        np.array(starts, dtype=np.float64),
        np.array(ends, dtype=np.float64),
        np.array(words, dtype=np.int64),
    )


def excerpt_phonemes(
    steps: PhonemeSteps,
    first: int,
    n_frames: int,
    frame_rate: float,
    rng: np.random.Generator,
    params: SideInfoConfig,
) -> SideInfo:
    """Side information of an excerpt of frames ``[first, first + n_frames)`` (frame n centred
    at ``n / frame_rate`` s): the steps that sound in it (a word boundary: that falls in it),
    and up to ``params.pad_range`` steps before and after, drawn per side; the true alignment
    is the excerpt frame at the middle of each real step's part inside the excerpt, -1 for the
    padding steps."""
    low_s, high_s = (first - 0.5) / frame_rate, (first + n_frames - 0.5) / frame_rate
    inside = (steps.end > low_s) & (steps.start < high_s)
    inside |= (steps.end == steps.start) & (steps.start >= low_s) & (steps.start < high_s)
    real = np.flatnonzero(inside)
    if real.size == 0:
        real = np.array([int(np.searchsorted(steps.start, low_s, side="right")) - 1])
    pad_low, pad_high = params.pad_range
    n_left, n_right = (int(k) for k in rng.integers(pad_low, pad_high + 1, size=2))
    begin = max(0, int(real[0]) - n_left)
    stop = min(steps.n_steps, int(real[-1]) + 1 + n_right)
    chosen = np.arange(begin, stop)
    middle = (np.maximum(steps.start[chosen], low_s) + np.minimum(steps.end[chosen], high_s)) / 2
    frames = np.clip(np.floor(middle * frame_rate + 0.5).astype(np.int64) - first, 0, n_frames - 1)
    is_real = (chosen >= real[0]) & (chosen <= real[-1])
    alignment = np.where(is_real, frames, -1)
    values = steps.symbols[chosen].astype(np.float32)[:, None]
    return SideInfo(values, alignment, "phonemes", _mean_rate(steps, frame_rate))


def frame_symbols(steps: PhonemeSteps, first: int, n_frames: int, frame_rate: float) -> np.ndarray:
    """The symbol sounding at every frame of ``[first, first + n_frames)`` ``(n_frames,)``
    int64: the step whose span holds the frame's centre (``n / frame_rate`` s), a pause where
    none does (a rest inside a line); word boundaries take no time and are never a frame's."""
    sounding = np.flatnonzero(steps.end > steps.start)
    times = (first + np.arange(n_frames)) / frame_rate
    index = np.searchsorted(steps.start[sounding], times, side="right") - 1
    step = sounding[np.clip(index, 0, None)]
    inside = (index >= 0) & (times < steps.end[step])
    return np.where(inside, steps.symbols[step], SYMBOL_INDEX[PAUSE]).astype(np.int64)


def _mean_rate(steps: PhonemeSteps, frame_rate: float) -> float:
    """Mean frames per step over the song."""
    span = float(steps.end.max() - steps.start.min())
    return max(1.0, span * frame_rate / max(steps.n_steps, 1))


def symbol_side_info(symbols: np.ndarray) -> SideInfo:
    """User side information of the ``phonemes`` kind from symbol indices ``(M,)``: no timing,
    no alignment."""
    return SideInfo(np.asarray(symbols, dtype=np.float32).reshape(-1, 1), None, "phonemes")


__all__ = [
    "PhonemeSteps",
    "excerpt_phonemes",
    "frame_symbols",
    "phoneme_steps",
    "symbol_side_info",
]
