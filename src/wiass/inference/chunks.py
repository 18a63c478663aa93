"""Chunk planning: lengths, overlapping chunks, crossfade weights and batches.

Nothing here knows the model (as Demucs' ``apply_model``): a signal of ``n`` samples is cut into
chunks of ``length`` samples that overlap by ``overlap`` and start every ``length - overlap``
samples; the last chunk ends at the end of the signal (padded with zeros to a whole hop) and
therefore overlaps its neighbour more. Chunk length and overlap are whole STFT hops, so every
chunk's frames are frames of the whole signal. Over ``overlap`` samples the earlier chunk fades
out and the later one fades in linearly, the two weights summing to 1; elsewhere a chunk's
output is exactly what the model gives for that chunk alone.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from wiass.errors import ConfigError

DEFAULT_OVERLAP_SECONDS = 1.0
"""Overlap of consecutive chunks (seconds), crossfaded linearly."""

BATCH_CHUNKS = 4
"""Chunks run through the model together (memory grows with it, not with the file)."""


def resampled_length(n_samples: int, sr_in: int, sr_out: int) -> int:
    """Samples that soxr (and :func:`wiass.audio.resample`) gives for ``n_samples`` at
    ``sr_in`` resampled to ``sr_out``: ``n * sr_out / sr_in`` rounded half up."""
    return (2 * n_samples * sr_out + sr_in) // (2 * sr_in)


def chunk_sizes(
    chunk_seconds: float, overlap_seconds: float, sample_rate: int, hop: int
) -> tuple[int, int]:
    """Chunk length and overlap in samples at ``sample_rate``, both whole ``hop``\\ s.

    ``chunk_seconds`` ``math.inf``: the whole signal in one chunk. The overlap is at most half
    a chunk. ConfigError for a chunk of no length or a negative or infinite overlap.
    """
    if not chunk_seconds > 0:
        raise ConfigError(f"chunk length: expected > 0 seconds, got {chunk_seconds}")
    if not (math.isfinite(overlap_seconds) and overlap_seconds >= 0):
        raise ConfigError(f"chunk overlap: expected >= 0 seconds, got {overlap_seconds}")
    if math.isinf(chunk_seconds):
        return sys.maxsize, 0
    length = max(1, round(chunk_seconds * sample_rate / hop)) * hop
    overlap = round(overlap_seconds * sample_rate / hop) * hop
    return length, min(overlap, (length // 2) // hop * hop)


def plan_chunks(n_samples: int, length: int, overlap: int, hop: int = 1) -> list[tuple[int, int]]:
    """``[start, end)`` sample ranges of the chunks of a signal of ``n_samples``.

    A signal of at most ``length`` samples is one chunk. Otherwise every chunk is ``length``
    long: chunk k starts at ``k * (length - overlap)``, and the last one ends at the signal's
    end rounded up to a whole ``hop`` (the few samples past the end are zeros), so that all
    chunks can run as one batch; it overlaps the one before by ``overlap`` samples or more.
    Starts are whole hops when ``length`` and ``overlap`` are.
    """
    if n_samples < 1:
        return []
    if n_samples <= length:
        return [(0, n_samples)]
    step = length - overlap
    count = math.ceil((n_samples - overlap) / step)
    padded = math.ceil(n_samples / hop) * hop
    chunks = [(k * step, k * step + length) for k in range(count - 1)]
    return [*chunks, (padded - length, padded)]


def chunk_weights(chunks: list[tuple[int, int]], index: int, overlap: int) -> np.ndarray:
    """Crossfade weights ``(length,)`` float32 of chunk ``index`` of a :func:`plan_chunks` plan.

    A chunk fades out linearly over its last ``overlap`` samples (unless it is the last) and
    fades in over the same samples of the chunk before it; the last chunk, which may start
    earlier, weighs 0 before that. Where two chunks overlap their weights sum to 1.
    """
    start, end = chunks[index]
    weights = np.ones(end - start, dtype=np.float32)
    ramp = ((np.arange(overlap) + 0.5) / max(overlap, 1)).astype(np.float32)
    if index < len(chunks) - 1 and overlap > 0:
        weights[end - start - overlap :] = 1.0 - ramp
    if index > 0:
        fade = chunks[index - 1][1] - overlap - start
        weights[:fade] = 0.0
        weights[fade : fade + overlap] = ramp
    return weights


def batch_sizes(n_chunks: int, most: int) -> list[int]:
    """Sizes of the fewest batches of at most ``most`` chunks, as even as possible (6 chunks
    in batches of 4: 3 and 3), so that parallel workers finish together."""
    count = math.ceil(n_chunks / most)
    return [n_chunks // count + (k < n_chunks % count) for k in range(count)]


__all__ = [
    "BATCH_CHUNKS",
    "DEFAULT_OVERLAP_SECONDS",
    "batch_sizes",
    "chunk_sizes",
    "chunk_weights",
    "plan_chunks",
    "resampled_length",
]
