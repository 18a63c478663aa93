"""Whole-song alignment of lyrics (the ``phonemes`` kind) from the model's own attention scores.

Activity and band side information can be compared with a blind estimate of the voice; phonemes
cannot: only the model knows what an ``AH`` sounds like. So the scores come from the model: the
mixture encoder reads the whole song's magnitude once, the side encoder the whole symbol
sequence once, and ``S[n, m] = g_n . W . h_m`` is the content part of the attention score of
frame n for step m (the position term is left out: it places steps within a training window,
and over a whole song the monotonic path does that job). The path through ``S`` with the
recursion of :mod:`wiass.inference.alignment` starts on the first step (the opening pause) and
ends on the last (the closing pause): lyrics cover the whole song. Each step gets the frames the
path puts on it, which gives its start and end; the chunks then attend to the steps the path
puts near them, as for the other kinds.

Confidence of a step: the mean, over its frames, of the softmax of the scores over the steps
within :data:`CONFIDENCE_STEPS` of it (how sure the model is of this step against its
neighbours).
"""

from __future__ import annotations

import numpy as np
import torch

from wiass.inference.alignment import GlobalAlignment, best_path
from wiass.separator import Separator
from wiass.sideinfo import SideInfo
from wiass.transforms import stft

CONFIDENCE_STEPS = 4
"""Steps on either side of a step that its confidence weighs it against."""

CONFIDENCE_BLOCK = 2048
"""Frames whose confidence is computed at once (bounds the memory of the neighbour scores)."""

FORCED_ENDS = 1e6
"""Score lost per frame's worth of steps skipped at the start or end: lyrics cover the song."""


class ModelScores:
    """``S[n, m] = frames[n] . keys[m]`` computed a block at a time (the interface of
    :class:`~wiass.inference.alignment.StepScores`); ``frames (N, K)``, ``keys (M, K)``.
    Pooling averages blocks of frames and of keys, which averages ``S`` over the block
    (the score is bilinear)."""

    binary = False

    def __init__(self, frames: np.ndarray, keys: np.ndarray) -> None:
        self.frames = np.asarray(frames, dtype=np.float64)
        self.steps = np.asarray(keys, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, int]:
        return self.frames.shape[0], self.steps.shape[0]

    def rows(self, frames: slice, steps: slice) -> np.ndarray:
        return self.frames[frames] @ self.steps[steps].T

    def pooled(self, factor: int) -> ModelScores:
        return ModelScores(_pool(self.frames, factor), _pool(self.steps, factor))


def _pool(rows: np.ndarray, factor: int) -> np.ndarray:
    count = -(-rows.shape[0] // factor)
    padded = np.concatenate([rows, np.repeat(rows[-1:], count * factor - rows.shape[0], 0)])
    return padded.reshape(count, factor, -1).mean(axis=1)


@torch.inference_mode()
def model_scores(separator: Separator, side: SideInfo, model_audio: np.ndarray) -> ModelScores:
    """The content scores of every frame of ``model_audio (C, T)`` (at the model's rate) for
    every step of ``side``."""
    model = separator.model.eval()
    audio = torch.from_numpy(np.ascontiguousarray(model_audio, dtype=np.float32))
    mono = stft(audio[None].to(separator.device), separator.stft).mean(dim=1).abs()
    frames = model.encode_mix(mono)[0]
    values = torch.from_numpy(side.values).to(separator.device)[None]
    keys = model.encode_side(values)[0]
    return ModelScores(frames.float().cpu().numpy(), keys.float().cpu().numpy())


def step_confidence(scores: ModelScores, path: np.ndarray) -> np.ndarray:
    """``(M,)`` in [0, 1]: per step, the mean over its frames of the softmax of the frame's
    scores over the steps within :data:`CONFIDENCE_STEPS` of the path's step."""
    n_frames, n_steps = scores.shape
    probability = np.empty(n_frames)
    for begin in range(0, n_frames, CONFIDENCE_BLOCK):
        block = slice(begin, min(begin + CONFIDENCE_BLOCK, n_frames))
        probability[block] = _local_probability(scores, path[block], block)
    total = np.bincount(path, weights=probability, minlength=n_steps)
    count = np.bincount(path, minlength=n_steps)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _local_probability(scores: ModelScores, path: np.ndarray, block: slice) -> np.ndarray:
    """Softmax probability of each frame's path step among its neighbours, for a block."""
    n_steps = scores.shape[1]
    offsets = np.arange(-CONFIDENCE_STEPS, CONFIDENCE_STEPS + 1)
    neighbours = path[:, None] + offsets
    valid = (neighbours >= 0) & (neighbours < n_steps)
    keys = scores.steps[np.clip(neighbours, 0, n_steps - 1)]
    local = np.where(valid, np.einsum("nk,njk->nj", scores.frames[block], keys), -np.inf)
    local -= local.max(axis=1, keepdims=True)
    return np.exp(local[:, CONFIDENCE_STEPS]) / np.exp(local).sum(axis=1)


def align_lyrics(separator: Separator, side: SideInfo, model_audio: np.ndarray) -> GlobalAlignment:
    """The whole-song alignment of the symbol steps of ``side`` to the frames of
    ``model_audio (C, T)``; every step gets at least one frame (SideInfoError upstream when
    the song has fewer frames than steps)."""
    scores = model_scores(separator, side, model_audio)
    path = best_path(scores, skip_cost=FORCED_ENDS)
    n_frames, n_steps = scores.shape
    steps = np.arange(n_steps)
    first = np.searchsorted(path, steps, side="left")
    last = np.searchsorted(path, steps, side="right") - 1
    centres = (first + np.maximum(first, last)) / 2.0
    return GlobalAlignment(path, centres, n_frames / n_steps, step_confidence(scores, path))


__all__ = [
    "CONFIDENCE_STEPS",
    "ModelScores",
    "align_lyrics",
    "model_scores",
    "step_confidence",
]
