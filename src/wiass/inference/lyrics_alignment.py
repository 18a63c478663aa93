"""Whole-song alignment of lyrics (the ``phonemes`` kind) from the model's symbol recogniser.

Activity and band side information can be compared with a blind estimate of the voice; phonemes
cannot: only the model knows what an ``AH`` sounds like. A symbolic model has, beside its
separator, a recogniser (a BLSTM of its own on the mixture and a linear head) that learns which
symbol is sung at every frame (:func:`wiass.training.symbol_loss`). At separation time it reads
the whole song once and gives every frame's log-probabilities of the symbols. The best
monotonic path (:mod:`wiass.inference.alignment`: each frame stays on its step or moves to the
next) through ``S[n, m] = log p(symbol of step m | frame n)``, less a part of each symbol's
prior (:func:`scaled_likelihoods`), that starts on the opening pause and ends on the closing
one places every step: a step lasts from the first frame the path puts on it to the
first frame of the next. Word boundaries make no sound and take no time: they sit where the next
word starts. The chunks then attend to the steps the path puts near them, as for the other
kinds, and the vocals of the pauses the path finds are silenced (:class:`PauseGate`): the lyrics
say the voice rests there. On 10 development songs that took the energy in the pauses (PES) from
-83.1 to -120 dB, the floor, at the same SDR (9.71 dB).

Why a recogniser, and why frame labels: the attention's own content scores, learned only
through the separation loss, placed words 4.3 s off on average, and a recogniser learnt with a
CTC loss from the untimed lyrics of each excerpt stayed near all-blank within the training
budget (words 1.9 s off); see ``benchmarks/lyrics_alignment.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from wiass.inference.alignment import GlobalAlignment, best_path, pool_rows
from wiass.inference.step_times import StepTimes
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, WORD_BOUNDARY
from wiass.separator import Separator
from wiass.sideinfo import SideInfo
from wiass.transforms import stft

PRIOR_WEIGHT = 0.75
"""How much of the log of each symbol's mean probability over the song is taken off its
log-probabilities before the path is searched (``log p(s | n) - w log mean_n p(s | n)``, the
scaled likelihoods of hybrid speech recognisers): a symbol the recogniser favours everywhere (a
pause) no longer pulls the path. Chosen on 10 development songs (``wiass make-synthetic --seed
7``), not on the test songs: mean word-onset error 0.197 s at 0, 0.132 s at 0.5, 0.089 s at
0.75, 0.101 s at 1 (``benchmarks/lyrics_alignment.md``)."""

FORCED_ENDS = 1e6
"""Score lost per frame's worth of steps skipped at the start or end: lyrics cover the song."""


class SymbolScores:
    """``S[n, m] = frames[n] . steps[m]`` a block at a time (the interface of
    :class:`~wiass.inference.alignment.StepScores`): with ``frames`` the log-probabilities
    ``(N, V)`` and ``steps`` the steps' one-hot symbols ``(M, V)``, the log-probability of each
    step's symbol. Pooling averages blocks of frames and of steps, which averages ``S`` over
    the block (the score is bilinear)."""

    binary = False

    def __init__(self, frames: np.ndarray, steps: np.ndarray) -> None:
        self.frames = np.asarray(frames, dtype=np.float64)
        self.steps = np.asarray(steps, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, int]:
        return self.frames.shape[0], self.steps.shape[0]

    def rows(self, frames: slice, steps: slice) -> np.ndarray:
        return self.frames[frames] @ self.steps[steps].T

    def pooled(self, factor: int) -> SymbolScores:
        return SymbolScores(pool_rows(self.frames, factor), pool_rows(self.steps, factor))


@torch.inference_mode()
def symbol_log_probs(separator: Separator, model_audio: np.ndarray) -> np.ndarray:
    """Log-probabilities ``(N, V)`` of the symbols at every frame of ``model_audio (C, T)``
    (at the model's rate), from the model's recogniser."""
    model = separator.model.eval()
    audio = torch.from_numpy(np.ascontiguousarray(model_audio, dtype=np.float32))
    mono = stft(audio[None].to(separator.device), separator.stft).mean(dim=1).abs()
    return model.symbol_log_probs(mono)[0].cpu().numpy().astype(np.float64)


def scaled_likelihoods(log_probs: np.ndarray, weight: float = PRIOR_WEIGHT) -> np.ndarray:
    """``log_probs (N, V)`` less ``weight`` times the log of each symbol's mean probability
    over the frames (:data:`PRIOR_WEIGHT`)."""
    prior = np.log(np.exp(log_probs).mean(axis=0) + 1e-6)
    return log_probs - weight * prior


def symbol_path(log_probs: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """The step ``(N,)`` of every frame on the best monotonic path of ``symbols (M,)`` through
    ``log_probs (N, V)``, from the first step to the last (needs ``N >= M``)."""
    one_hot = np.eye(log_probs.shape[1])[symbols]
    return best_path(SymbolScores(log_probs, one_hot), skip_cost=FORCED_ENDS)


def step_confidence(log_probs: np.ndarray, symbols: np.ndarray, path: np.ndarray) -> np.ndarray:
    """``(M,)`` in [0, 1]: per step, the mean probability the recogniser gives its symbol on
    the frames the path puts on it (0 for a step without frames)."""
    probability = np.exp(log_probs[np.arange(path.size), symbols[path]])
    total = np.bincount(path, weights=probability, minlength=symbols.size)
    count = np.bincount(path, minlength=symbols.size)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def align_lyrics(separator: Separator, side: SideInfo, model_audio: np.ndarray) -> GlobalAlignment:
    """The whole-song alignment of the symbol steps of ``side`` to the frames of
    ``model_audio (C, T)`` (the song must have at least as many frames as steps)."""
    log_probs = symbol_log_probs(separator, model_audio)
    symbols = side.values[:, 0].round().astype(np.int64)
    sounding = np.flatnonzero(symbols != SYMBOL_INDEX[WORD_BOUNDARY])
    path = sounding[symbol_path(scaled_likelihoods(log_probs), symbols[sounding])]
    steps = np.arange(symbols.size)
    first = np.searchsorted(path, steps, side="left")
    last = np.searchsorted(path, steps, side="right") - 1
    centres = (first + np.maximum(first, last)) / 2.0
    rate = log_probs.shape[0] / symbols.size
    confidence = step_confidence(log_probs, symbols, path)
    return GlobalAlignment(path, centres, rate, _boundary_confidence(confidence, symbols))


def _boundary_confidence(confidence: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """Word boundaries take no frames; each gets the mean confidence of its two neighbours."""
    out = confidence.copy()
    for step in np.flatnonzero(symbols == SYMBOL_INDEX[WORD_BOUNDARY]):
        out[step] = confidence[max(step - 1, 0) : step + 2 : 2].mean()
    return out


MIN_SILENT_PAUSE_S = 0.1
"""Shortest aligned pause (s) whose vocals are silenced; a pause shorter than this is a line
break sung through."""

FADE_S = 0.01
"""Length (s) of the fades at the edges of a silenced pause, inside the pause."""


@dataclass(frozen=True)
class PauseGate:
    """Where the aligned lyrics say the voice pauses: ``spans (K, 2)`` start and end in seconds.
    The vocals there are silenced (with :data:`FADE_S` fades inside the span) and what they held
    goes to the accompaniment, so that both still sum to the mixture."""

    spans: np.ndarray

    def gains(self, first: int, count: int, sample_rate: int) -> np.ndarray:
        """Gains ``(count,)`` in [0, 1] of samples ``[first, first + count)`` at ``sample_rate``."""
        times = (first + np.arange(count)) / sample_rate
        gains = np.ones(count)
        for start, end in self.spans:
            inside = np.minimum(times - start, end - times)
            gains = np.minimum(gains, np.clip(1.0 - inside / FADE_S, 0.0, 1.0))
        return gains

    def apply(
        self, vocals: np.ndarray, accompaniment: np.ndarray, first: int, sample_rate: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The block ``(C, n)`` of vocals and accompaniment starting at sample ``first``, with
        the vocals of the pauses moved to the accompaniment."""
        gains = self.gains(first, vocals.shape[1], sample_rate).astype(vocals.dtype)
        if np.all(gains == 1.0):
            return vocals, accompaniment
        silenced = vocals * gains
        return silenced, accompaniment + (vocals - silenced)


def pause_gate(times: StepTimes, symbols: np.ndarray) -> PauseGate:
    """The :class:`PauseGate` of the pause steps (at least :data:`MIN_SILENT_PAUSE_S` long) of
    aligned lyrics: ``times`` of the steps, ``symbols (M,)`` their symbol indices."""
    pauses = np.flatnonzero(symbols == SYMBOL_INDEX[PAUSE])
    spans = np.stack([times.start[pauses], times.end[pauses]], axis=1)
    return PauseGate(spans[spans[:, 1] - spans[:, 0] >= MIN_SILENT_PAUSE_S])


__all__ = [
    "FADE_S",
    "FORCED_ENDS",
    "MIN_SILENT_PAUSE_S",
    "PRIOR_WEIGHT",
    "PauseGate",
    "SymbolScores",
    "align_lyrics",
    "pause_gate",
    "step_confidence",
    "scaled_likelihoods",
    "symbol_log_probs",
    "symbol_path",
]
