"""Chunks of one file through a :class:`~wiass.separator.Separator`, a batch at a time.

:class:`ChunkRunner` plans the chunks of the signal at the model's rate
(:mod:`wiass.inference.chunks`), gives every chunk its side information and runs batches of
chunks through the separator. Each chunk gets the steps of the whole-file side information that
cover it plus, for the kinds trained with padding (A3.x, M2: timing ``offset`` or ``warped``),
the middle of ``side_info.pad_range`` extra steps on each side (zeros beyond the file's ends, as
in training at a track's edges); frame-aligned kinds (A1, M1) get exactly their chunk's frames
(:class:`~wiass.sideinfo.timeline.StepMap`). ``random`` (BL2) models get fresh random side
information per chunk, from a seed fixed per chunk (:data:`RANDOM_SEED`); ``none`` (BL1) models
none. The chunks' attention goes back onto the global steps (:class:`AttentionMap`).

Speed. Chunks go through the model ``batch_chunks`` at a time (all chunks have the same length
for that): for a batch the LSTMs read their weights once per time step, and on a CPU that read,
not the arithmetic, bounds a single sequence (about twice faster per chunk with 4 chunks than
with 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from wiass.errors import CheckpointError, ConfigError
from wiass.inference.attention import MAX_ALIGNMENT_VALUES, AttentionMap, ChunkAttention
from wiass.inference.chunks import (
    BATCH_CHUNKS,
    DEFAULT_OVERLAP_SECONDS,
    chunk_sizes,
    chunk_weights,
    plan_chunks,
)
from wiass.separator import NonFiniteOutputError, Separator
from wiass.sideinfo import SideInfo, random_side_info
from wiass.sideinfo.timeline import StepMap, Timeline, step_map

RANDOM_SEED = 0
"""Seed of the random side information of BL2 models (chunk k uses ``[RANDOM_SEED, k]``)."""

Chunk = tuple[int, int, np.ndarray]
"""A chunk: its index, its first sample and its audio ``(C, L)`` at the model's rate."""


@dataclass
class ChunkResult:
    """A separated chunk: its vocals ``(C, L)`` weighted by its crossfade and, for models with
    user or generated side information, its attention."""

    index: int
    vocals: np.ndarray
    attention: ChunkAttention | None = None


class ChunkRunner:
    """Runs a separator on the chunks of a model-rate signal and accumulates their attention.

    ``side``: whole-file side information for informed models with user/generated side
    information (None for ``none`` and ``random``); ``n_samples``: length of the whole signal
    at the model's rate; ``chunk_seconds``: None = twice the training excerpt, ``math.inf`` =
    one chunk; ``batch_chunks``: chunks of equal length run through the model together.
    ``timeline``: where the steps of ``side`` sit (default: :func:`step_map`'s, uniform unless
    ``side`` carries its alignment), e.g. a whole-song alignment; ``blind``: run the model
    without side information (zero steps), as models trained with side-information dropout can;
    ``bf16``: the network in bfloat16 (:meth:`~wiass.separator.Separator.forward`).
    """

    def __init__(
        self,
        separator: Separator,
        side: SideInfo | None,
        n_samples: int,
        *,
        wiener: bool = False,
        chunk_seconds: float | None = None,
        overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
        batch_chunks: int = BATCH_CHUNKS,
        max_attention_values: int = MAX_ALIGNMENT_VALUES,
        timeline: Timeline | None = None,
        blind: bool = False,
        bf16: bool = False,
    ) -> None:
        if batch_chunks < 1:
            raise ConfigError(f"batch_chunks: expected at least 1, got {batch_chunks}")
        self.separator = separator.eval()
        self.stft = separator.stft
        self.kind = separator.kind
        self.wiener = wiener
        self.bf16 = bf16
        self.batch_chunks = batch_chunks
        if chunk_seconds is None:
            chunk_seconds = 2.0 * separator.config.data.excerpt_seconds
        length, self.overlap = chunk_sizes(
            chunk_seconds, overlap_seconds, separator.sample_rate, self.stft.hop
        )
        self.chunks = plan_chunks(n_samples, length, self.overlap, self.stft.hop)
        self.n_frames = self.stft.n_frames(n_samples)
        self.steps: StepMap | None = None
        self.attention: AttentionMap | None = None
        self.blind = blind
        if side is not None:
            pad_range = separator.config.side_info.pad_range
            self.steps = step_map(side, self.n_frames, self.kind, pad_range)
            if timeline is not None:
                self.steps = StepMap(side.values, timeline, self.steps.margin)
            self.attention = AttentionMap(self.n_frames, side.n_steps, max_attention_values)

    @property
    def sample_rate(self) -> int:
        return self.separator.sample_rate

    def side_for(
        self, index: int, first_frame: int, n_frames: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The model's side information ``(m, D)`` for chunk ``index`` and the global step of
        each of its rows (None for random side information and BL1; no rows when blind)."""
        if self.blind:
            dim = self.separator.model.side_dim
            return np.zeros((0, dim), np.float32), np.zeros(0, np.int64)
        if not self.kind.informative:
            if self.kind.features == "nothing":
                return None, None
            rng = np.random.default_rng([RANDOM_SEED, index])
            return random_side_info(rng, self.separator.config.side_info).values, None
        assert self.steps is not None
        return self.steps.window(first_frame, n_frames)

    @torch.inference_mode()
    def __call__(self, chunks: list[Chunk]) -> list[ChunkResult]:
        """Separate chunks of equal length as one batch. Touches no shared state, so batches
        may run in parallel threads; pass the results to :meth:`record` in order."""
        length = chunks[0][2].shape[1]
        n_frames = self.stft.n_frames(length)
        audio = torch.from_numpy(np.stack([chunk[2] for chunk in chunks]))
        firsts = [start // self.stft.hop for _, start, _ in chunks]
        sides = [
            self.side_for(index, first, n_frames)
            for (index, _, _), first in zip(chunks, firsts, strict=True)
        ]
        side, side_mask = self._collate([values for values, _ in sides])
        try:
            vocals, alpha = self.separator(
                audio.to(self.separator.device), side, side_mask, wiener=self.wiener, bf16=self.bf16
            )
        except NonFiniteOutputError as exc:
            raise CheckpointError(
                f"{self.separator.source}: the model gave non-finite output (NaN or infinity) "
                f"for the chunks from {chunks[0][1] / self.sample_rate:.1f} s on; it cannot "
                "separate this mixture"
            ) from exc
        vocals = vocals.cpu().numpy()
        centres = np.minimum(np.arange(n_frames) * self.stft.hop, length - 1)
        results = []
        for row, (index, _, _) in enumerate(chunks):
            weights = chunk_weights(self.chunks, index, self.overlap)
            result = ChunkResult(index, vocals[row] * weights)
            steps = sides[row][1]
            if alpha is not None and steps is not None:
                attention = alpha[row, :, : steps.size].float().cpu()
                frame_weights = torch.from_numpy(weights[centres])
                result.attention = ChunkAttention(firsts[row], frame_weights, attention, steps)
            results.append(result)
        return results

    def record(self, result: ChunkResult) -> None:
        """Add a chunk's attention to :attr:`attention` (call in chunk order, one thread)."""
        if self.attention is not None and result.attention is not None:
            self.attention.add_chunk(result.attention)

    def _collate(
        self, values: list[np.ndarray | None]
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Side information ``(B, M, D)`` zero-padded to the longest, and its mask ``(B, M)``
        (None when no row is padded); None for BL1."""
        if values[0] is None:
            return None, None
        device = self.separator.device
        lengths = [v.shape[0] for v in values]
        side = torch.zeros(len(values), max(lengths), values[0].shape[1])
        mask = torch.zeros(len(values), max(lengths), dtype=torch.bool)
        for row, v in enumerate(values):
            side[row, : v.shape[0]] = torch.from_numpy(v)
            mask[row, : v.shape[0]] = True
        return side.to(device), None if bool(mask.all()) else mask.to(device)


__all__ = ["RANDOM_SEED", "Chunk", "ChunkResult", "ChunkRunner"]
