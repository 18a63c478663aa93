"""The attention of a whole file, accumulated from its chunks.

Every chunk's attention ``(n, m)`` covers its own frames and the window of side-information
steps it was given (:meth:`wiass.sideinfo.timeline.StepMap.window`: global step indices, -1 for
the padding steps added beyond the side information's ends). :class:`AttentionMap` puts it back
on the global frame x step grid, weighting the frames of overlapping chunks by their crossfade
weights (:func:`wiass.inference.chunks.chunk_weights`) as the audio is, and pools frames by an
integer factor when frames x steps would exceed :data:`MAX_ALIGNMENT_VALUES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

MAX_ALIGNMENT_VALUES = 16_000_000
"""Largest attention matrix (frames x steps) kept at full frame resolution."""


@dataclass
class ChunkAttention:
    """A chunk's attention ``alpha (n, m)`` over its frames ``first_frame + [0, n)``, with
    per-frame crossfade ``weights (n,)`` and the global step of every column ``steps (m,)``."""

    first_frame: int
    weights: torch.Tensor
    alpha: torch.Tensor
    steps: np.ndarray


class AttentionMap:
    """Accumulates the chunks' attention on the global frame x step grid.

    Frames are average-pooled by the smallest integer factor ``pool`` that keeps
    ``ceil(N / pool) * M <= max_values``; each cell is the weighted mean (crossfade weights)
    of the attention of the frames and chunks that fall into it.
    """

    def __init__(self, n_frames: int, n_steps: int, max_values: int = MAX_ALIGNMENT_VALUES) -> None:
        self.n_frames = n_frames
        self.n_steps = n_steps
        self.pool = max(1, math.ceil(n_frames * n_steps / max_values))
        while self.pool < n_frames and math.ceil(n_frames / self.pool) * n_steps > max_values:
            self.pool += 1
        rows = math.ceil(n_frames / self.pool)
        self.total = torch.zeros(rows, n_steps)
        self.weight = torch.zeros(rows)

    def add(
        self, first_frame: int, weights: torch.Tensor, alpha: torch.Tensor, steps: np.ndarray
    ) -> None:
        """Add ``alpha (n, m)`` of frames ``first_frame + [0, n)`` with per-frame ``weights
        (n,)``; ``steps (m,)``: the global step of each column, -1 for columns to drop (their
        global steps are consecutive). Frames past the end (zero padding) are dropped."""
        count = min(alpha.shape[0], self.n_frames - first_frame)
        alpha, weights = alpha[:count], weights[:count]
        rows = torch.arange(first_frame, first_frame + count) // self.pool
        self.weight.index_add_(0, rows, weights)
        keep = np.flatnonzero(steps >= 0)
        if keep.size == 0:
            return
        low, high = int(steps[keep[0]]), int(steps[keep[-1]]) + 1
        columns = alpha[:, int(keep[0]) : int(keep[-1]) + 1] * weights[:, None]
        self.total[:, low:high].index_add_(0, rows, columns)

    def add_chunk(self, chunk: ChunkAttention) -> None:
        """:meth:`add` for one chunk's :class:`ChunkAttention`."""
        self.add(chunk.first_frame, chunk.weights, chunk.alpha, chunk.steps)

    def result(self) -> np.ndarray:
        """The pooled attention ``(ceil(N / pool), M)`` float32."""
        return (self.total / self.weight.clamp_min(1e-12)[:, None]).numpy()


__all__ = ["MAX_ALIGNMENT_VALUES", "AttentionMap", "ChunkAttention"]
