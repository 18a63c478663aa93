"""Separation of whole files and in-memory arrays: chunking, side information, outputs, alignment.

Flow, for a mixture of any sample rate and channel count::

    mixture (C, T) at its rate ──soxr──► model rate ──► overlapping chunks
        per chunk: STFT of every channel, mono downmix magnitude (the mean of the channels'
        STFTs), model.infer, mask = estimate / mono magnitude clipped to [0, 1], mask times
        every channel's STFT (or multichannel Wiener filtering with norbert), inverse STFT,
        linear crossfade with the neighbouring chunks
    vocals at the model rate ──soxr──► vocals at the input rate; accompaniment = mixture - vocals

For ``output="mask"`` models the estimate is the sigmoid mask times the mono magnitude, so the
ratio gives back the model's own mask; for ``output="magnitude"`` models it is the ratio mask of
the estimate. The accompaniment is the exact complement of the vocals at the input rate.

Chunks. The signal at the model rate is cut into chunks of ``chunk_seconds`` (default twice the
training excerpt, ``config.data.excerpt_seconds * 2``) that overlap by ``overlap_seconds`` (1 s)
and start every ``chunk - overlap`` samples; the last chunk ends at the end of the signal (padded
with zeros to a whole hop) and therefore overlaps its neighbour more. Chunk length and overlap
are whole STFT hops, so every chunk's frames are frames of the whole file. Over ``overlap``
samples the earlier chunk fades out and the later one fades in linearly, the two weights summing
to 1; elsewhere a chunk's output is exactly what the model gives for that chunk alone. Files
are read, resampled (``soxr.ResampleStream``, which gives the same samples as
:func:`wiass.audio.resample`), separated and written block by block, so memory stays bounded
whatever the file's length.

Speed. Chunks go through the model :data:`BATCH_CHUNKS` at a time (all chunks have the same
length for that): for a batch the LSTMs read their weights once per time step, and on a CPU
that read, not the arithmetic, bounds a single sequence (about twice faster per chunk with 4
chunks than with 1). ``workers`` batches run at once in threads; the command line uses one
worker of one torch thread per core (:func:`plan_threads`), because several threads on one LSTM
meet at a barrier at every time step, and sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set:
spinning OpenMP threads stall those barriers whenever another process holds a core (10x slower
on a shared machine).

Side information at separation time describes the whole file: its M steps are taken to cover the
file uniformly (step m stands for frames ``[m, m + 1) * N / M`` of the N frames at the model's
rate), unless it carries its true alignment (side information generated from the true target by
:func:`wiass.sideinfo.generate` over the whole file, ``first=0``, ``n_frames=N``) or its rate.
The user therefore gives side information "of any length" for the whole song. Each chunk gets
the steps that cover it plus, for the kinds trained with padding (A3.x, M2: timing ``offset`` or
``warped``), the middle of ``side_info.pad_range`` extra steps on each side (zeros beyond the
file's ends, as in training at a track's edges). Frame-aligned kinds (A1, M1) need exactly one
step per frame (M == N) and get exactly their chunk's frames. ``random`` (BL2) models get fresh
random side information per chunk (from a fixed seed); ``none`` (BL1) models none. The chunks'
attention is mapped back to the global steps and crossfaded like the audio; it is returned, and
written as ``alignment.npy`` (float16, frames x steps, frames average-pooled by an integer
factor when frames x steps would exceed :data:`MAX_ALIGNMENT_VALUES`), ``alignment.json`` (the
axes) and ``alignment.png``.

Outputs of ``wiass separate`` per mixture: ``vocals.wav`` and ``accompaniment.wav`` (32-bit float
WAV at the input's rate and channels, so that vocals + accompaniment == mixture and nothing
clips) and, for informed models, the alignment files. Everything that can fail (the checkpoint,
every mixture, the side information for every mixture, the output folders and existing outputs,
the output names and the free space) is checked before anything is written; every file is
written atomically, and the output folder is locked while a run writes into it
(:func:`locked_outputs`), so that a second run into it is refused.

``wiass.separate`` names both this module and its main function: the module is callable and
forwards to :func:`separate`, so ``wiass.separate(audio, rate, model)`` works either way.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import types
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import torch

from wiass.audio import audio_info, check_audio
from wiass.checkpoint import Separator, load_separator
from wiass.config import SideInfoConfig
from wiass.errors import (
    AudioError,
    CheckpointError,
    ConfigError,
    OutputError,
    SideInfoError,
    WiassWarning,
)
from wiass.files import (
    atomic_path,
    check_free_space,
    check_output_names,
    folder_lock,
    write_error,
    write_json,
)
from wiass.sideinfo import (
    SideInfo,
    SideInfoKind,
    get_kind,
    parse_activity,
    random_side_info,
    read_labels,
)
from wiass.sideinfo import label_timing as _label_timing
from wiass.sideinfo import resolve_side_info as _resolve
from wiass.sideinfo.timeline import StepMap, step_map
from wiass.transforms import istft, stft

DEFAULT_OVERLAP_SECONDS = 1.0
"""Overlap of consecutive chunks (seconds), crossfaded linearly."""

MAX_ALIGNMENT_VALUES = 16_000_000
"""Largest attention matrix (frames x steps) kept at full frame resolution."""

BATCH_CHUNKS = 4
"""Chunks run through the model together (memory grows with it, not with the file)."""

MAX_WORKERS = 2
"""Most chunk batches separated at once by the command line (see :func:`plan_threads`); each
worker's batch sits in memory (about 350 MB for the ``paper`` preset)."""

READ_BLOCK = 65_536
"""Samples per channel read (and written) at a time."""

RANDOM_SEED = 0
"""Seed of the random side information of BL2 models (chunk k uses ``[RANDOM_SEED, k]``)."""

AUDIO_OUTPUTS = ("vocals.wav", "accompaniment.wav")
ALIGNMENT_OUTPUTS = ("alignment.png", "alignment.npy", "alignment.json")
OUTPUT_SUBTYPE = "FLOAT"

_MAX_PLOT_SIZE = 2000


# ---------------------------------------------------------------------------------------------
# Lengths, chunks and crossfades


def resampled_length(n_samples: int, sr_in: int, sr_out: int) -> int:
    """Samples that soxr (and :func:`wiass.audio.resample`) gives for ``n_samples`` at
    ``sr_in`` resampled to ``sr_out``: ``n * sr_out / sr_in`` rounded half up."""
    return (2 * n_samples * sr_out + sr_in) // (2 * sr_in)


def model_frames(n_samples: int, sample_rate: int, separator: Separator) -> int:
    """Frames N of a mixture of ``n_samples`` at ``sample_rate`` once resampled to the model's
    rate: the length whole-file side information refers to."""
    samples = resampled_length(n_samples, sample_rate, separator.sample_rate)
    return separator.config.audio.stft.n_frames(samples)


def chunk_sizes(
    separator: Separator, chunk_seconds: float | None, overlap_seconds: float
) -> tuple[int, int]:
    """Chunk length and overlap in samples at the model's rate, both whole hops.

    ``chunk_seconds`` None: twice the training excerpt; ``math.inf``: the whole file in one
    chunk. The overlap is at most half a chunk.
    """
    audio = separator.config.audio
    if chunk_seconds is None:
        chunk_seconds = 2.0 * separator.config.data.excerpt_seconds
    if not chunk_seconds > 0:
        raise ConfigError(f"chunk length: expected > 0 seconds, got {chunk_seconds}")
    if not (math.isfinite(overlap_seconds) and overlap_seconds >= 0):
        raise ConfigError(f"chunk overlap: expected >= 0 seconds, got {overlap_seconds}")
    if math.isinf(chunk_seconds):
        return sys.maxsize, 0
    hop = audio.hop
    length = max(1, round(chunk_seconds * audio.sample_rate / hop)) * hop
    overlap = round(overlap_seconds * audio.sample_rate / hop) * hop
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


# ---------------------------------------------------------------------------------------------
# Side information over the whole file


def label_timing(separator: Separator, n_frames: int) -> tuple[float, float]:
    """``(step_rate, duration)`` for turning label files into activity for this model
    (:func:`wiass.sideinfo.label_timing` at the model's frame rate)."""
    audio = separator.config.audio
    kind, params = separator.side_info_kind, separator.config.side_info
    return _label_timing(kind, params, n_frames, audio.sample_rate / audio.hop)


def resolve_side_info(
    separator: Separator,
    side_info: SideInfo | np.ndarray | str | os.PathLike[str] | None,
    n_frames: int,
    *,
    source: str | None = None,
) -> SideInfo | None:
    """Validate whole-file side information for ``separator`` and a mixture of ``n_frames``.

    ``side_info``: a :class:`SideInfo` (user input or generated from the true target over the
    whole file), an array ``(M, D)`` or ``(M,)``, an activity string of 0s and 1s, a
    side-information file (:func:`wiass.sideinfo.read_side_info`; label files become activity
    at :func:`label_timing`'s rate), or None. Returns None for ``none`` and ``random``
    models (which take none), the validated SideInfo otherwise. Raises SideInfoError, naming
    ``source``, for side information given to a model that takes none, none given to a model
    that needs it, the wrong kind, shape or values, or an alignment outside the mixture.
    """
    kind = get_kind(separator.side_info_kind)
    if not kind.generated:
        if side_info is not None:
            raise SideInfoError(f"{source or 'side information'}: {_takes_none(kind)}")
        return None
    if side_info is None:
        raise SideInfoError(
            f"the model (side-information kind {kind.name}) needs side information: give "
            "--activity, --side-info or --labels (Python: side_info=...)"
        )
    audio = separator.config.audio
    side = _resolve(
        side_info,
        kind,
        separator.config.side_info,
        n_frames=n_frames,
        frame_rate=audio.sample_rate / audio.hop,
        source=source,
    )
    _warn_dense_steps(side, n_frames, kind, separator.config.side_info, source)
    return side


def _warn_dense_steps(
    side: SideInfo, n_frames: int, kind: SideInfoKind, params: SideInfoConfig, source: str
) -> None:
    """Warn when side information taken to cover the file uniformly has more steps than the
    file has frames (a model is trained on one step per frame or fewer)."""
    if kind.timing == "aligned" or side.alignment is not None or side.rate:
        return
    if side.n_steps > n_frames:
        low, high = params.rate_range
        warnings.warn(
            f"{source}: {side.n_steps} steps for {n_frames} frames "
            f"({side.n_steps / n_frames:.1f} steps per frame; the model was trained on one step "
            f"per {low}-{high} frames); assumed the steps cover the whole file uniformly",
            WiassWarning,
            stacklevel=3,
        )


def _takes_none(kind: SideInfoKind) -> str:
    if kind.name == "random":
        return "the model is BL2 (kind random): it draws its own random side information"
    return "the model is BL1 (kind none): it takes no side information"


def side_info_from_options(
    separator: Separator,
    n_frames: int,
    *,
    activity: str | None = None,
    side_info_path: str | os.PathLike[str] | None = None,
    labels_path: str | os.PathLike[str] | None = None,
) -> SideInfo | None:
    """Whole-file side information from the CLI options (at most one of them), validated for
    ``separator`` and a mixture of ``n_frames`` frames; see :func:`resolve_side_info`."""
    options = {"--activity": activity, "--side-info": side_info_path, "--labels": labels_path}
    given = [(name, value) for name, value in options.items() if value is not None]
    if len(given) > 1:
        raise SideInfoError(
            f"give at most one of {', '.join(options)} (got {given[0][0]} and {given[1][0]})"
        )
    if not given:
        return resolve_side_info(separator, None, n_frames)
    option, value = given[0]
    kind = get_kind(separator.side_info_kind)
    source = str(value)
    if option == "--activity":
        source = f"--activity '{value if len(value) <= 20 else value[:20] + '...'}'"
    if not kind.generated:
        raise SideInfoError(f"{source}: {_takes_none(kind)}")
    if option in ("--activity", "--labels") and not kind.binary:
        raise SideInfoError(
            f"{source}: {option} gives binary activity, but the model (kind {kind.name}) takes "
            f"{kind.dim(separator.config.side_info)} band values per step; use --side-info FILE"
        )
    side_info: np.ndarray | Path
    if option == "--activity":
        side_info = parse_activity(str(value), source=source)
    elif option == "--labels":
        step_rate, duration = label_timing(separator, n_frames)
        side_info = read_labels(value, duration, step_rate)
    else:
        side_info = Path(value)  # --side-info names a file, never an activity string
    return resolve_side_info(separator, side_info, n_frames, source=source)


# ---------------------------------------------------------------------------------------------
# Attention over the whole file


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

    def result(self) -> np.ndarray:
        """The pooled attention ``(ceil(N / pool), M)`` float32."""
        return (self.total / self.weight.clamp_min(1e-12)[:, None]).numpy()


# ---------------------------------------------------------------------------------------------
# One chunk through the model


Chunk = tuple[int, int, np.ndarray]
"""A chunk: its index, its first sample and its audio ``(C, L)`` at the model's rate."""


@dataclass
class ChunkResult:
    """A separated chunk: its vocals ``(C, L)`` weighted by its crossfade and, for informed
    models, ``(first frame, frame weights (n,), attention (n, m), global steps (m,))``."""

    index: int
    vocals: np.ndarray
    attention: tuple[int, torch.Tensor, torch.Tensor, np.ndarray] | None = None


class ChunkSeparator:
    """Runs the model on chunks of the model-rate signal and accumulates their attention.

    ``side``: whole-file side information for informed models with user/generated side
    information (None for ``none`` and ``random``); ``n_samples``: length of the whole signal
    at the model's rate; ``batch_chunks``: chunks of equal length run through the model
    together (the LSTMs read their weights once per time step for the whole batch, which
    makes batches much faster per chunk on a CPU).
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
    ) -> None:
        if batch_chunks < 1:
            raise ConfigError(f"batch_chunks: expected at least 1, got {batch_chunks}")
        self.separator = separator
        self.model = separator.model.eval()
        self.device = next(self.model.parameters()).device
        self.stft = separator.config.audio.stft
        self.kind = get_kind(separator.side_info_kind)
        self.wiener = wiener
        self.batch_chunks = batch_chunks
        length, self.overlap = chunk_sizes(separator, chunk_seconds, overlap_seconds)
        self.chunks = plan_chunks(n_samples, length, self.overlap, self.stft.hop)
        self.n_frames = self.stft.n_frames(n_samples)
        self.steps: StepMap | None = None
        self.attention: AttentionMap | None = None
        if side is not None:
            pad_range = separator.config.side_info.pad_range
            self.steps = step_map(side, self.n_frames, self.kind, pad_range)
            self.attention = AttentionMap(self.n_frames, side.n_steps, max_attention_values)

    @property
    def sample_rate(self) -> int:
        return self.separator.sample_rate

    def side_for(
        self, index: int, first_frame: int, n_frames: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The model's side information ``(m, D)`` for chunk ``index`` and the global step of
        each of its rows (None for random side information and BL1)."""
        if not self.kind.generated:
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
        audio = torch.from_numpy(np.stack([chunk[2] for chunk in chunks])).to(self.device)
        spec = stft(audio, self.stft)
        mono = spec.mean(dim=1).abs()
        firsts = [start // self.stft.hop for _, start, _ in chunks]
        sides = [
            self.side_for(index, first, mono.shape[1])
            for (index, _, _), first in zip(chunks, firsts, strict=True)
        ]
        side, side_mask = self._collate([values for values, _ in sides])
        estimate, alpha = self.model.infer(mono, side, side_mask)
        self._check_finite(estimate, alpha, chunks[0][1])
        mask = torch.where(mono > 0, estimate / mono.clamp_min(1e-20), 0.0).clamp(0.0, 1.0)
        vocals_spec = _wiener(spec, mask) if self.wiener else spec.mul_(mask[:, None])
        vocals = istft(vocals_spec, self.stft, length).cpu().numpy()
        centres = np.minimum(np.arange(mono.shape[1]) * self.stft.hop, length - 1)
        results = []
        for row, (index, _, _) in enumerate(chunks):
            weights = chunk_weights(self.chunks, index, self.overlap)
            result = ChunkResult(index, vocals[row] * weights)
            steps = sides[row][1]
            if alpha is not None and steps is not None:
                attention = alpha[row, :, : steps.size].float().cpu()
                frame_weights = torch.from_numpy(weights[centres])
                result.attention = (firsts[row], frame_weights, attention, steps)
            results.append(result)
        return results

    def _check_finite(self, estimate: torch.Tensor, alpha: torch.Tensor | None, start: int) -> None:
        """CheckpointError when the model's output for a batch holds NaN or infinity."""
        finite = bool(torch.isfinite(estimate).all())
        if finite and (alpha is None or bool(torch.isfinite(alpha).all())):
            return
        raise CheckpointError(
            f"{self.separator.source}: the model gave non-finite output (NaN or infinity) for "
            f"the chunks from {start / self.sample_rate:.1f} s on; it cannot separate this "
            "mixture"
        )

    def record(self, result: ChunkResult) -> None:
        """Add a chunk's attention to :attr:`attention` (call in chunk order, one thread)."""
        if self.attention is not None and result.attention is not None:
            self.attention.add(*result.attention)

    def _collate(
        self, values: list[np.ndarray | None]
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Side information ``(B, M, D)`` zero-padded to the longest, and its mask ``(B, M)``
        (None when no row is padded); None for BL1."""
        if values[0] is None:
            return None, None
        lengths = [v.shape[0] for v in values]
        side = torch.zeros(len(values), max(lengths), values[0].shape[1])
        mask = torch.zeros(len(values), max(lengths), dtype=torch.bool)
        for row, v in enumerate(values):
            side[row, : v.shape[0]] = torch.from_numpy(v)
            mask[row, : v.shape[0]] = True
        return side.to(self.device), None if bool(mask.all()) else mask.to(self.device)


def _wiener(spec: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Vocals STFT ``(B, C, N, F)`` by multichannel Wiener filtering (norbert, one EM
    iteration) of the mixture ``spec (B, C, N, F)``, from the per-channel magnitude estimates
    ``mask * |spec|`` (vocals) and ``(1 - mask) * |spec|`` (accompaniment), ``mask (B, N, F)``."""
    with warnings.catch_warnings():  # norbert 0.2.1 imports a deprecated scipy namespace
        warnings.simplefilter("ignore", DeprecationWarning)
        import norbert

    out = torch.empty_like(spec)
    for row in range(spec.shape[0]):
        mix = np.ascontiguousarray(spec[row].permute(1, 2, 0).cpu().numpy())
        magnitude = np.abs(mix)
        gain = mask[row].cpu().numpy()[..., None]
        estimates = np.stack([gain * magnitude, (1.0 - gain) * magnitude], axis=-1)
        sources = norbert.wiener(estimates, mix, iterations=1, use_softmask=False)
        vocals = np.ascontiguousarray(sources[..., 0].transpose(2, 0, 1), dtype=np.complex64)
        out[row] = torch.from_numpy(vocals)
    return out


# ---------------------------------------------------------------------------------------------
# Streaming: resample, cut into chunks, separate, crossfade, resample back


class _Resampler:
    """A soxr stream ``(C, n)`` blocks in, ``(C, k)`` out, giving exactly ``total`` samples."""

    def __init__(self, sr_in: int, sr_out: int, channels: int, total: int) -> None:
        self.stream = None
        if sr_in != sr_out:
            self.stream = soxr.ResampleStream(
                sr_in, sr_out, channels, dtype="float32", quality="HQ"
            )
        self.remaining = total

    def push(self, block: np.ndarray, last: bool) -> np.ndarray:
        out = block
        if self.stream is not None:
            out = self.stream.resample_chunk(np.ascontiguousarray(block.T), last=last).T
        out = out[:, : self.remaining]
        if last and out.shape[1] < self.remaining:
            out = np.pad(out, ((0, 0), (0, self.remaining - out.shape[1])))
        self.remaining -= out.shape[1]
        return np.ascontiguousarray(out, dtype=np.float32)


class _Chunker:
    """Cuts a stream of blocks into the planned ``[start, end)`` chunks (copies), zero-padding
    the stream's end up to the end of the last chunk."""

    def __init__(self, chunks: list[tuple[int, int]]) -> None:
        self.chunks = chunks
        self.next = 0
        self.blocks: list[np.ndarray] = []
        self.start = 0
        self.size = 0

    def push(self, block: np.ndarray, last: bool) -> Iterator[tuple[int, int, np.ndarray]]:
        if last and self.chunks:
            missing = self.chunks[-1][1] - (self.start + self.size + block.shape[1])
            block = np.pad(block, ((0, 0), (0, max(0, missing))))
        self.blocks.append(block)
        self.size += block.shape[1]
        while self.next < len(self.chunks) and self.start + self.size >= self.chunks[self.next][1]:
            buffer = np.concatenate(self.blocks, axis=1) if len(self.blocks) > 1 else self.blocks[0]
            begin, end = self.chunks[self.next]
            chunk = np.array(buffer[:, begin - self.start : end - self.start])
            self.next += 1
            keep = self.chunks[self.next][0] if self.next < len(self.chunks) else end
            rest = buffer[:, keep - self.start :].copy()
            self.blocks, self.start, self.size = [rest], keep, rest.shape[1]
            yield self.next - 1, begin, chunk


class _Fifo:
    """A queue of ``(C, n)`` blocks read back by sample count."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def push(self, block: np.ndarray) -> None:
        self.blocks.append(block)

    def pop(self, count: int) -> np.ndarray:
        taken, have = [], 0
        while have < count:
            block = self.blocks.pop(0)
            need = count - have
            if block.shape[1] > need:
                self.blocks.insert(0, block[:, need:])
                block = block[:, :need]
            taken.append(block)
            have += block.shape[1]
        return np.concatenate(taken, axis=1) if len(taken) > 1 else taken[0]


class _Joiner:
    """Overlap-adds the weighted chunks in order, resamples the finished part back to the
    mixture's rate and pairs it with the mixture: ``(vocals, accompaniment)`` blocks."""

    def __init__(self, chunk_separator: ChunkSeparator, down: _Resampler, total: int) -> None:
        self.overlap = chunk_separator.overlap
        self.chunks = chunk_separator.chunks
        self.total = total
        self.down = down
        self.mixture = _Fifo()
        self.pending: np.ndarray | None = None

    def add(self, index: int, vocals: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Take chunk ``index``'s weighted vocals ``(C, L)`` (chunks come in order)."""
        start, end = self.chunks[index]
        first = 0
        if self.pending is not None:
            first = self.chunks[index - 1][1] - self.overlap - start
            vocals[:, first : first + self.overlap] += self.pending
        last = index == len(self.chunks) - 1
        stop = min(end if last else end - self.overlap, self.total) - start
        self.pending = None if last else vocals[:, end - start - self.overlap :]
        out = self.down.push(vocals[:, first:stop], last)
        if not out.shape[1]:
            return None
        return out, self.mixture.pop(out.shape[1]) - out


def stream_separation(
    blocks: Iterable[np.ndarray],
    n_samples: int,
    sample_rate: int,
    channels: int,
    chunk_separator: ChunkSeparator,
    progress: Any = None,
    name: str = "mixture",
    workers: int = 1,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Separate a mixture given as consecutive ``(C, n)`` blocks at ``sample_rate`` (``n_samples``
    in all); yields ``(vocals, accompaniment)`` blocks at the same rate, ``n_samples`` in all.
    Chunks run through the model ``chunk_separator.batch_chunks`` at a time, ``workers``
    batches at once in threads. ``progress``: a tqdm bar advanced once per chunk, or None;
    ``name`` names the mixture in errors."""
    model_rate = chunk_separator.sample_rate
    n_model = resampled_length(n_samples, sample_rate, model_rate)
    down = _Resampler(model_rate, sample_rate, channels, n_samples)
    joiner = _Joiner(chunk_separator, down, n_model)
    batches = _batches(blocks, n_samples, sample_rate, channels, chunk_separator, joiner, name)
    for results in _ordered_map(chunk_separator, batches, workers):
        for result in results:
            chunk_separator.record(result)
            if progress is not None:
                progress.update(1)
            output = joiner.add(result.index, result.vocals)
            if output is not None:
                yield output


def batch_sizes(n_chunks: int, most: int) -> list[int]:
    """Sizes of the fewest batches of at most ``most`` chunks, as even as possible (6 chunks
    in batches of 4: 3 and 3), so that parallel workers finish together."""
    count = math.ceil(n_chunks / most)
    return [n_chunks // count + (k < n_chunks % count) for k in range(count)]


def _batches(
    blocks: Iterable[np.ndarray],
    n_samples: int,
    sample_rate: int,
    channels: int,
    chunk_separator: ChunkSeparator,
    joiner: _Joiner,
    name: str,
) -> Iterator[list[Chunk]]:
    """Batches of chunks at the model's rate from the mixture's blocks (which also go to the
    joiner, to be paired with the vocals)."""
    n_model = resampled_length(n_samples, sample_rate, chunk_separator.sample_rate)
    up = _Resampler(sample_rate, chunk_separator.sample_rate, channels, n_model)
    chunker = _Chunker(chunk_separator.chunks)
    n_chunks = len(chunk_separator.chunks)
    ends = {int(end) - 1 for end in np.cumsum(batch_sizes(n_chunks, chunk_separator.batch_chunks))}
    batch: list[Chunk] = []
    read = 0
    for block in blocks:
        read += block.shape[1]
        joiner.mixture.push(block)
        for chunk in chunker.push(up.push(block, read >= n_samples), read >= n_samples):
            batch.append(chunk)
            if chunk[0] in ends:
                yield batch
                batch = []
    if read != n_samples or chunker.next != n_chunks:
        raise AudioError(f"{name}: ended after {read} of {n_samples} samples")


def _ordered_map(
    function: Callable[[Any], Any], items: Iterable[Any], workers: int
) -> Iterator[Any]:
    """``map(function, items)`` with up to ``workers`` calls running at once in threads
    (torch releases the GIL), results in order; items are drawn only as workers free up."""
    if workers <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: deque[Future[Any]] = deque()
        for item in items:
            running.append(pool.submit(function, item))
            if len(running) >= workers:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


def _array_blocks(audio: np.ndarray) -> Iterator[np.ndarray]:
    for begin in range(0, audio.shape[1], READ_BLOCK):
        yield audio[:, begin : begin + READ_BLOCK]


def _file_blocks(path: Path) -> Iterator[np.ndarray]:
    try:
        with sf.SoundFile(str(path)) as file:
            while True:
                data = file.read(READ_BLOCK, dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    return
                yield np.ascontiguousarray(data.T)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: cannot be read ({exc})") from exc


# ---------------------------------------------------------------------------------------------
# Python API


def check_device(device: str | torch.device | None) -> torch.device | None:
    """The torch device for ``device`` (None: keep the model's); ConfigError when it names CUDA
    and CUDA is not available."""
    if device is None:
        return None
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device '{device}': not a torch device") from exc
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}': CUDA is not available on this machine")
    return target


def plan_threads(threads: int | None, device: str | torch.device | None) -> tuple[int, int]:
    """``(workers, torch threads per worker)`` for ``threads`` CPU threads (None or 0: the
    cores this process may use). On a CPU, chunk batches run in parallel workers of one torch
    thread each (up to :data:`MAX_WORKERS`, whose batches all sit in memory at once), with
    the remaining threads shared among them: independent batches need no synchronisation,
    whereas several threads on one LSTM meet at a barrier at every time step. With CUDA: one
    worker and torch's own thread count."""
    if device is not None and torch.device(device).type == "cuda":
        return 1, torch.get_num_threads()
    cores = available_cores()
    if threads and threads > cores:
        warnings.warn(
            f"--threads {threads} is more than the {cores} core(s) this process may use; "
            f"using {cores}",
            WiassWarning,
            stacklevel=2,
        )
    threads = min(threads, cores) if threads else cores
    workers = min(threads, MAX_WORKERS)
    return workers, max(1, threads // workers)


def available_cores() -> int:
    """The CPU cores this process may use (its affinity where the OS tells, else all)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return cores or os.cpu_count() or 1


def _separator(model: Separator | str | os.PathLike[str], device: torch.device | None) -> Separator:
    if isinstance(model, Separator):
        if device is not None:
            model.model.to(device)
        return model
    return load_separator(model, device or "cpu")


def separate(
    audio: np.ndarray,
    sample_rate: int,
    model: Separator | str | os.PathLike[str],
    side_info: SideInfo | np.ndarray | str | os.PathLike[str] | None = None,
    *,
    wiener: bool = False,
    device: str | torch.device | None = None,
    chunk_seconds: float | None = None,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
    batch_chunks: int = BATCH_CHUNKS,
    workers: int = 1,
    max_attention_values: int = MAX_ALIGNMENT_VALUES,
    progress: bool = False,
) -> dict[str, Any]:
    """Separate an in-memory mixture into vocals and accompaniment.

    ``audio``: ``(channels, samples)`` or ``(samples,)`` float at ``sample_rate`` Hz (any rate).
    ``model``: a :class:`~wiass.checkpoint.Separator` or a checkpoint path. ``side_info``:
    whole-file side information for informed models (see :func:`resolve_side_info`; the
    uniform-coverage assumption is in the module docstring). ``wiener``: multichannel Wiener
    filtering instead of plain masking. ``device``: None keeps the model's device.
    ``chunk_seconds``: None = twice the training excerpt, ``math.inf`` = one chunk.
    ``batch_chunks``: chunks per model call; ``workers``: model calls at once (threads; this
    function leaves torch's thread count alone). The model is put in eval mode.

    Returns ``vocals`` and ``accompaniment`` ``(C, T)`` float32 at ``sample_rate`` (they sum to
    the mixture), ``attention`` ``(frames, M)`` float32 over the global side-information steps
    (frames pooled by ``frame_pool``, ``frame_seconds`` apart; None for BL1/BL2), ``side_info``
    (the validated SideInfo or None), ``sample_rate``, ``frame_seconds``, ``frame_pool``.
    """
    mixture = check_audio(audio, "audio", allow_silent=False)
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, (int, np.integer))
        or sample_rate <= 0
    ):
        raise AudioError(f"audio: sample rate must be a positive integer, got {sample_rate!r}")
    separator = _separator(model, check_device(device))
    channels, n_samples = mixture.shape
    _check_length(n_samples, int(sample_rate), separator, "audio")
    n_frames = model_frames(n_samples, int(sample_rate), separator)
    side = resolve_side_info(separator, side_info, n_frames)
    n_model = resampled_length(n_samples, int(sample_rate), separator.sample_rate)
    runner = ChunkSeparator(
        separator,
        side,
        n_model,
        wiener=wiener,
        chunk_seconds=chunk_seconds,
        overlap_seconds=overlap_seconds,
        batch_chunks=batch_chunks,
        max_attention_values=max_attention_values,
    )
    vocals = np.empty_like(mixture)
    position = 0
    with _progress_bar(len(runner.chunks), "separating", progress) as bar:
        for block, _ in stream_separation(
            _array_blocks(mixture),
            n_samples,
            int(sample_rate),
            channels,
            runner,
            bar,
            "audio",
            workers,
        ):
            vocals[:, position : position + block.shape[1]] = block
            position += block.shape[1]
    return {
        "vocals": vocals,
        "accompaniment": mixture - vocals,
        "attention": None if runner.attention is None else runner.attention.result(),
        "side_info": side,
        "sample_rate": int(sample_rate),
        **_frame_axis(separator, runner.attention),
    }


def _check_length(n_samples: int, sample_rate: int, separator: Separator, name: str) -> None:
    if resampled_length(n_samples, sample_rate, separator.sample_rate) < 1:
        raise AudioError(
            f"{name}: too short ({n_samples} samples at {sample_rate} Hz is less than one sample "
            f"at the model's {separator.sample_rate} Hz)"
        )


def _frame_axis(separator: Separator, attention: AttentionMap | None) -> dict[str, Any]:
    pool = 1 if attention is None else attention.pool
    audio = separator.config.audio
    return {"frame_seconds": pool * audio.hop / audio.sample_rate, "frame_pool": pool}


def _progress_bar(total: int, description: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit="chunk",
        disable=None if enabled else True,
        leave=False,
        file=sys.stderr,
    )


# ---------------------------------------------------------------------------------------------
# Files: jobs, checks before writing, outputs


@dataclass
class SeparationJob:
    """One mixture file to separate into ``out``: its header and validated side information."""

    mixture: Path
    out: Path
    sample_rate: int
    channels: int
    n_samples: int
    side_info: SideInfo | None

    @property
    def seconds(self) -> float:
        return self.n_samples / self.sample_rate


@dataclass
class JobResult:
    """What :func:`run_job` wrote."""

    job: SeparationJob
    written: list[Path]
    chunks: int
    seconds: float
    alignment_shape: tuple[int, int] | None = None
    frame_seconds: float | None = None
    removed: list[Path] = field(default_factory=list)


def scan_mixture(path: str | os.PathLike[str]) -> tuple[int, int, int]:
    """``(sample_rate, channels, samples)`` of a mixture file after reading it through once:
    AudioError when it is missing, unreadable, empty, non-finite or completely silent."""
    file = Path(path)
    sample_rate, channels, _ = audio_info(file)
    audible = False
    read = 0
    for block in _file_blocks(file):
        if not np.isfinite(block).all():
            raise AudioError(f"{file}: contains non-finite samples (NaN or infinity)")
        audible = audible or bool(np.any(block))
        read += block.shape[1]
    if read == 0:
        raise AudioError(f"{file}: contains no samples")
    if not audible:
        raise AudioError(f"{file}: is completely silent (all samples are zero)")
    return sample_rate, channels, read


def check_output_folder(folder: Path, force: bool) -> None:
    """OutputError when ``folder`` cannot hold the outputs (a file, under a file, not
    writable, a name too long), or holds some and not ``force``."""
    check_output_names(folder, AUDIO_OUTPUTS + ALIGNMENT_OUTPUTS)
    for name in AUDIO_OUTPUTS + ALIGNMENT_OUTPUTS:
        existing = folder / name
        if existing.is_dir():
            raise OutputError(f"{existing}: exists and is a folder")
        if existing.exists() and not force:
            raise OutputError(f"{existing}: already exists (use --force to overwrite)")


def output_bytes(job: SeparationJob, separator: Separator) -> int:
    """About how many bytes the outputs of ``job`` take (float WAVs, alignment files)."""
    size = 2 * (4 * job.channels * job.n_samples + 4096)
    if job.side_info is not None:
        frames = model_frames(job.n_samples, job.sample_rate, separator)
        size += 2 * min(frames * job.side_info.n_steps, MAX_ALIGNMENT_VALUES) + 2_000_000
    return size


@contextlib.contextmanager
def locked_outputs(
    out: str | os.PathLike[str], jobs: list[SeparationJob], force: bool
) -> Iterator[None]:
    """Hold the lock on the output folder ``out`` while the jobs write into it: OutputError
    when another run holds it. The job folders are checked again under the lock (a run that
    held it may have written outputs meanwhile)."""
    with folder_lock(out):
        for job in jobs:
            check_output_folder(job.out, force)
        yield


def prepare_jobs(
    mixtures: list[str | os.PathLike[str]],
    model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    activity: str | None = None,
    side_info_path: str | os.PathLike[str] | None = None,
    labels_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    force: bool = False,
) -> tuple[Separator, list[SeparationJob]]:
    """Check everything ``wiass separate`` needs before it writes anything: the device, the
    checkpoint, every mixture (read through once), the side information for every mixture and
    the output folders (``out``, or ``out/<mixture stem>`` for several mixtures)."""
    paths = [Path(m) for m in mixtures]
    if not paths:
        raise AudioError("no mixture given")
    stems: dict[str, Path] = {}
    for path in paths:
        if path.stem in stems:
            raise OutputError(
                f"{path}: same name as {stems[path.stem]}, both would write {Path(out) / path.stem}"
            )
        stems[path.stem] = path
    separator = load_separator(model, check_device(device) or "cpu")
    jobs = []
    for path in paths:
        sample_rate, channels, n_samples = scan_mixture(path)
        _check_length(n_samples, sample_rate, separator, str(path))
        n_frames = model_frames(n_samples, sample_rate, separator)
        side = side_info_from_options(
            separator,
            n_frames,
            activity=activity,
            side_info_path=side_info_path,
            labels_path=labels_path,
        )
        folder = Path(out) if len(paths) == 1 else Path(out) / path.stem
        jobs.append(SeparationJob(path, folder, sample_rate, channels, n_samples, side))
    for job in jobs:
        check_output_folder(job.out, force)
    check_free_space(out, sum(output_bytes(job, separator) for job in jobs))
    return separator, jobs


def run_job(
    job: SeparationJob,
    separator: Separator,
    *,
    wiener: bool = False,
    progress: bool = True,
    chunk_seconds: float | None = None,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
    batch_chunks: int = BATCH_CHUNKS,
    workers: int = 1,
) -> JobResult:
    """Separate one prepared mixture file and write its outputs (see the module docstring)."""
    began = time.perf_counter()
    n_model = resampled_length(job.n_samples, job.sample_rate, separator.sample_rate)
    runner = ChunkSeparator(
        separator,
        job.side_info,
        n_model,
        wiener=wiener,
        chunk_seconds=chunk_seconds,
        overlap_seconds=overlap_seconds,
        batch_chunks=batch_chunks,
    )
    vocals_path, accompaniment_path = (job.out / name for name in AUDIO_OUTPUTS)
    with (
        atomic_path(vocals_path) as vocals_tmp,
        atomic_path(accompaniment_path) as accompaniment_tmp,
        _wav_writer(vocals_tmp, job) as vocals_file,
        _wav_writer(accompaniment_tmp, job) as accompaniment_file,
        _progress_bar(len(runner.chunks), job.mixture.name, progress) as bar,
    ):
        blocks = _file_blocks(job.mixture)
        for vocals, accompaniment in stream_separation(
            blocks,
            job.n_samples,
            job.sample_rate,
            job.channels,
            runner,
            bar,
            str(job.mixture),
            workers,
        ):
            _write_block(vocals_file, vocals_path, vocals_tmp, vocals)
            _write_block(accompaniment_file, accompaniment_path, accompaniment_tmp, accompaniment)
    result = JobResult(job, [vocals_path, accompaniment_path], len(runner.chunks), 0.0)
    if runner.attention is not None and job.side_info is not None:
        attention = runner.attention.result()
        result.written += write_alignment(job, separator, attention, runner.attention.pool)
        result.alignment_shape = (int(attention.shape[0]), int(attention.shape[1]))
        result.frame_seconds = _frame_axis(separator, runner.attention)["frame_seconds"]
    else:
        result.removed = _remove_stale_alignment(job.out)
    result.seconds = time.perf_counter() - began
    return result


def summary_lines(result: JobResult, separator: Separator) -> list[str]:
    """What ``wiass separate`` prints about one separated mixture."""
    job = result.job
    kind = get_kind(separator.side_info_kind)
    lines = [
        f"{job.mixture}: {job.seconds:.1f} s, {job.sample_rate} Hz, {job.channels} channel(s); "
        f"model kind {kind.name} at {separator.sample_rate} Hz, {result.chunks} chunk(s)",
        "  wrote " + ", ".join(str(path) for path in result.written[:2]),
    ]
    if result.alignment_shape is not None:
        frames, steps = result.alignment_shape
        lines.append(
            "  wrote "
            + ", ".join(str(path) for path in result.written[2:])
            + f" (attention: {frames} frames x {steps} steps, "
            f"{1000 * (result.frame_seconds or 0):.1f} ms per frame)"
        )
    elif kind.features == "nothing":
        lines.append("  no alignment: the model is BL1 (no side information, no attention)")
    else:
        lines.append(
            "  no alignment: the model is BL2 (its attention is over random side information "
            "drawn per chunk)"
        )
    lines.extend(f"  removed stale {path}" for path in result.removed)
    rtf = result.seconds / job.seconds
    lines.append(f"  done in {result.seconds:.1f} s (real-time factor {rtf:.3f})")
    return lines


def _write_block(file: sf.SoundFile, target: Path, tmp: Path, block: np.ndarray) -> None:
    """Append ``block (C, n)`` to ``file`` (the temporary file ``tmp`` of ``target``);
    OutputError naming ``target`` and the reason (e.g. a full disk) when that fails."""
    try:
        file.write(block.T)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        raise write_error(target, exc, probe=tmp) from exc


def _wav_writer(path: Path, job: SeparationJob) -> sf.SoundFile:
    try:
        return sf.SoundFile(
            str(path), "w", job.sample_rate, job.channels, subtype=OUTPUT_SUBTYPE, format="WAV"
        )
    except (sf.SoundFileError, RuntimeError) as exc:
        raise OutputError(f"{path}: cannot write audio ({exc})") from exc


def _remove_stale_alignment(folder: Path) -> list[Path]:
    """Alignment files of an earlier run in ``folder`` (only there with ``--force``) would
    no longer match the new audio; remove them."""
    removed = []
    for name in ALIGNMENT_OUTPUTS:
        path = folder / name
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def write_alignment(
    job: SeparationJob, separator: Separator, attention: np.ndarray, pool: int
) -> list[Path]:
    """Write ``alignment.npy`` (float16 frames x steps), ``alignment.json`` (its axes) and
    ``alignment.png`` into the job's folder; returns their paths."""
    assert job.side_info is not None
    audio = separator.config.audio
    n_frames = model_frames(job.n_samples, job.sample_rate, separator)
    frame_seconds = pool * audio.hop / audio.sample_rate
    step_seconds = n_frames * audio.hop / audio.sample_rate / job.side_info.n_steps
    if job.side_info.rate:
        step_seconds = job.side_info.rate * audio.hop / audio.sample_rate
    npy, json_path, png = (
        job.out / name for name in ("alignment.npy", "alignment.json", "alignment.png")
    )
    with atomic_path(npy) as tmp:
        try:
            np.save(tmp, attention.astype(np.float16))
        except OSError as exc:
            raise write_error(npy, exc) from exc
    axes = {
        "frame_seconds": frame_seconds,
        "frame_pool": pool,
        "frames": int(attention.shape[0]),
        "steps": int(attention.shape[1]),
        "step_seconds": step_seconds,
        "kind": separator.side_info_kind,
        "mixture": str(job.mixture),
        "model_sample_rate": audio.sample_rate,
        "hop": audio.hop,
    }
    write_json(json_path, axes)
    plot_alignment(
        png,
        attention,
        job.side_info.values,
        frame_seconds=frame_seconds,
        step_seconds=step_seconds,
        title=f"{job.mixture.name}: attention over side information ({separator.side_info_kind})",
    )
    return [png, npy, json_path]


def _pool_mean(array: np.ndarray, axis: int, limit: int) -> tuple[np.ndarray, int]:
    """``array`` averaged over consecutive groups of ``factor`` entries along ``axis``, the
    smallest factor leaving at most ``limit`` entries; returns it and the factor."""
    size = array.shape[axis]
    factor = max(1, math.ceil(size / limit))
    if factor == 1:
        return array, 1
    starts = np.arange(0, size, factor)
    counts = np.diff(np.append(starts, size)).astype(np.float32)
    shape = [1] * array.ndim
    shape[axis] = -1
    return np.add.reduceat(array, starts, axis=axis) / counts.reshape(shape), factor


def plot_alignment(
    path: str | os.PathLike[str],
    attention: np.ndarray,
    side_values: np.ndarray,
    *,
    frame_seconds: float,
    step_seconds: float,
    title: str,
) -> None:
    """Save a figure of ``attention (frames, M)``: time in seconds across, side-information
    steps up (with their nominal position in seconds on the right), the side information
    ``(M, D)`` beside it."""
    from matplotlib.figure import Figure

    shown, frame_factor = _pool_mean(attention, 0, _MAX_PLOT_SIZE)
    shown, step_factor = _pool_mean(shown, 1, _MAX_PLOT_SIZE)
    n_frames, n_steps = attention.shape
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    grid = figure.add_gridspec(1, 2, width_ratios=(6, 1))
    axis = figure.add_subplot(grid[0])
    side_axis = figure.add_subplot(grid[1], sharey=axis)
    image = axis.imshow(
        shown.T,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap="magma",
        extent=(0.0, n_frames * frame_seconds, -0.5, n_steps - 0.5),
    )
    axis.set_xlabel("mixture time (s)")
    axis.set_ylabel("side-information step")
    axis.set_title(title, fontsize=10)
    figure.colorbar(image, ax=axis, location="left", label="attention", pad=0.02)
    steps = np.arange(side_values.shape[0])
    if side_values.shape[1] == 1:
        side_axis.fill_betweenx(steps, 0.0, side_values[:, 0], step="mid", color="tab:blue")
        side_axis.set_xlim(0.0, 1.05)
        side_axis.set_xlabel("value")
    else:
        side_axis.imshow(
            side_values,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            cmap="viridis",
            extent=(0.5, side_values.shape[1] + 0.5, -0.5, n_steps - 0.5),
        )
        side_axis.set_xlabel("band")
    side_axis.set_title("side information", fontsize=10)
    side_axis.tick_params(labelleft=False)
    seconds = side_axis.secondary_yaxis(
        "right", functions=(lambda m: (m + 0.5) * step_seconds, lambda t: t / step_seconds - 0.5)
    )
    seconds.set_ylabel("nominal position (s)")
    if frame_factor > 1 or step_factor > 1:
        axis.text(
            0.01,
            0.99,
            f"display pooled {frame_factor}x{step_factor}",
            transform=axis.transAxes,
            va="top",
            color="white",
            fontsize=8,
        )
    with atomic_path(path) as tmp:
        try:
            figure.savefig(tmp, dpi=110)
        except OSError as exc:
            raise write_error(Path(path), exc) from exc


class _CallableModule(types.ModuleType):
    """``wiass.separate`` is both this module and its main function (the import system binds
    the package attribute to the module once it is imported), so calls forward to
    :func:`separate`."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return separate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "ALIGNMENT_OUTPUTS",
    "AUDIO_OUTPUTS",
    "AttentionMap",
    "ChunkSeparator",
    "JobResult",
    "SeparationJob",
    "StepMap",
    "check_device",
    "check_output_folder",
    "available_cores",
    "chunk_sizes",
    "batch_sizes",
    "chunk_weights",
    "label_timing",
    "locked_outputs",
    "model_frames",
    "output_bytes",
    "plan_chunks",
    "plan_threads",
    "plot_alignment",
    "prepare_jobs",
    "resampled_length",
    "resolve_side_info",
    "run_job",
    "scan_mixture",
    "separate",
    "side_info_from_options",
    "step_map",
    "summary_lines",
    "stream_separation",
    "write_alignment",
]
