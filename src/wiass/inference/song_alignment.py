"""Whole-song alignment at separation time: from user side information to the model's timeline.

:func:`plan_steps` takes whole-file side information whose position is unknown (user input of a
coarse kind: A2, A3.x, M2) and returns what the chunks need: the side information at the model's
trained rate (:mod:`wiass.sideinfo.rates`) and the timeline on which the whole-song alignment
(:mod:`wiass.inference.alignment`) puts its steps. The blind first pass separates the mixture
at the model's rate without side information when the model was trained with
``side_info.dropout > 0``; other models get the side information spread uniformly over the file
for that pass (what separation did before whole-song alignment). The path is searched near
the whole song's best line (:func:`wiass.inference.alignment.line_search`) for activity, whose
values change only at the edges of phrases. It is searched freely for band features (M2),
which change at nearly every step, so that the path's many anchors place the steps
(development songs: as well as the line on even side information, better under drift), and
for kinds whose side information is warped by definition (A3.2), which no line fits.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from wiass.audio import resample
from wiass.inference.alignment import (
    LINE_AGREEMENT_SECONDS,
    SEARCH_BAND_SECONDS,
    GlobalAlignment,
    StepScores,
    activity_scores,
    align,
)
from wiass.inference.chunks import batch_sizes
from wiass.inference.lyrics_alignment import align_lyrics
from wiass.inference.runner import Chunk, ChunkRunner
from wiass.inference.stream import ordered_map
from wiass.separator import Separator
from wiass.sideinfo import SideInfo, frame_energy, target_features
from wiass.sideinfo.rates import RateFit, fit_rate
from wiass.sideinfo.timeline import Timeline, uniform_timeline
from wiass.transforms import magnitude_in_blocks


@dataclass(frozen=True)
class StepPlan:
    """Side information as the model gets it, where its steps sit, and how it came to be.

    ``side``: the model's steps (:class:`~wiass.sideinfo.rates.RateFit` applied); ``timeline``:
    their places on the frames (None: as :func:`~wiass.sideinfo.timeline.step_map` places
    them); ``alignment``: the whole-song alignment (None where none was searched); ``fit``: how
    user steps became model steps; ``user_steps``: the user's step count.
    """

    side: SideInfo | None
    timeline: Timeline | None = None
    alignment: GlobalAlignment | None = None
    fit: RateFit = RateFit()
    user_steps: int = 0


@dataclass(frozen=True)
class PlacedSteps:
    """Where every user step lies in the mixture: ``start`` and ``end`` ``(M,)`` in seconds
    (outside ``[0, duration)`` for steps before or after the audio) and ``confidence (M,)`` in
    [0, 1] (NaN where unknown: steps outside the audio, or no whole-song alignment)."""

    start: np.ndarray
    end: np.ndarray
    confidence: np.ndarray


def placed_steps(plan: StepPlan, frame_seconds: float) -> PlacedSteps | None:
    """The user's steps placed in seconds from ``plan``'s timeline (``frame_seconds``: seconds
    per STFT frame; frame n is centred at ``n * frame_seconds``, and a step of ``rate`` frames
    centred on frame c spans ``(c +- rate / 2) * frame_seconds``); None without a timeline."""
    if plan.timeline is None:
        return None
    centres, rate = plan.timeline.centres.astype(np.float64), plan.timeline.rate
    starts = (centres - rate / 2.0) * frame_seconds
    ends = (centres + rate / 2.0) * frame_seconds
    confidence = (
        plan.alignment.confidence if plan.alignment is not None else np.full(centres.size, np.nan)
    )
    user = plan.user_steps or centres.size
    start, end = plan.fit.user_edges(starts, ends, user)
    if plan.fit.held > 1:
        with warnings.catch_warnings():  # all-NaN groups: steps outside the audio
            warnings.simplefilter("ignore", RuntimeWarning)
            confidence = np.nanmean(confidence[: user * plan.fit.held].reshape(user, -1), axis=1)
    elif plan.fit.pooled > 1:
        confidence = np.repeat(confidence, plan.fit.pooled)[:user]
    return PlacedSteps(start, end, confidence)


def needs_alignment(separator: Separator, side: SideInfo | None) -> bool:
    """True for side information of a coarse generated kind whose position is unknown, and
    for lyrics without timing."""
    kind = separator.kind
    if kind.features == "symbols":
        return side is not None and side.alignment is None
    return (
        side is not None
        and kind.generated
        and kind.timing != "aligned"
        and side.alignment is None
        and not side.rate
    )


def plan_steps(
    separator: Separator,
    side: SideInfo | None,
    model_audio: np.ndarray,
    *,
    chunk_seconds: float | None = None,
    search: bool = True,
    workers: int = 1,
    bf16: bool = False,
) -> StepPlan:
    """The :class:`StepPlan` for ``side`` over ``model_audio (C, T)`` at the model's rate;
    ``search=False`` only fits the rate and spreads the steps uniformly; ``bf16``: the blind
    pass runs the network in bfloat16."""
    if not needs_alignment(separator, side):
        return StepPlan(side, user_steps=0 if side is None else side.n_steps)
    assert side is not None
    n_frames = separator.stft.n_frames(model_audio.shape[1])
    if separator.kind.features == "symbols":
        if not search:
            return StepPlan(
                side, uniform_timeline(side.n_steps, n_frames), None, user_steps=side.n_steps
            )
        alignment = align_lyrics(separator, side, model_audio)
        return StepPlan(side, alignment.timeline(n_frames), alignment, user_steps=side.n_steps)
    params = separator.config.side_info
    fitted, fit = fit_rate(side, n_frames, params.rate_range)
    if not search:
        timeline = uniform_timeline(fitted.n_steps, n_frames)
        return StepPlan(fitted, timeline, None, fit, side.n_steps)
    estimate = blind_estimate(separator, fitted, model_audio, chunk_seconds, workers, bf16)
    frame_rate = separator.sample_rate / separator.stft.hop
    free = separator.kind.timing == "warped" or separator.kind.features == "bands"
    alignment = align(
        step_scores(separator, estimate, fitted.values),
        band_frames=None if free else SEARCH_BAND_SECONDS * frame_rate,
        line_tolerance=LINE_AGREEMENT_SECONDS * frame_rate,
    )
    return StepPlan(fitted, alignment.timeline(n_frames), alignment, fit, side.n_steps)


def blind_estimate(
    separator: Separator,
    side: SideInfo,
    model_audio: np.ndarray,
    chunk_seconds: float | None,
    workers: int = 1,
    bf16: bool = False,
) -> np.ndarray:
    """Mono magnitude ``(N, F)`` of the vocals the model estimates at its rate without side
    information (or, for models not trained for it, with ``side`` spread uniformly)."""
    blind = separator.config.side_info.dropout > 0
    runner = ChunkRunner(
        separator,
        None if blind else side,
        model_audio.shape[1],
        chunk_seconds=chunk_seconds,
        blind=blind,
        bf16=bf16,
    )
    mono = mono_overlap_add(runner, model_audio, workers)
    return magnitude_in_blocks(mono, separator.stft)


def mono_overlap_add(runner: ChunkRunner, audio: np.ndarray, workers: int = 1) -> np.ndarray:
    """The mean over channels ``(T,)`` of the runner's vocals for all its chunks of ``audio
    (C, T)``, crossfaded; batches of chunks run in up to ``workers`` threads at once. Holds one
    channel of output and the batches in flight, not a copy of ``audio``."""
    chunks, n_samples = runner.chunks, audio.shape[1]

    def chunk_audio(k: int) -> np.ndarray:
        start, stop = chunks[k]
        piece = audio[:, start : min(stop, n_samples)]
        return np.pad(piece, ((0, 0), (0, stop - start - piece.shape[1])))

    def batches() -> Iterator[list[Chunk]]:
        first = 0
        for size in batch_sizes(len(chunks), runner.batch_chunks):
            yield [(k, chunks[k][0], chunk_audio(k)) for k in range(first, first + size)]
            first += size

    vocals = np.zeros(n_samples, np.float32)
    for results in ordered_map(runner, batches(), workers):
        for result in results:
            start, stop = chunks[result.index]
            stop = min(stop, n_samples)
            vocals[start:stop] += result.vocals[:, : stop - start].mean(axis=0)
    return vocals


def step_scores(separator: Separator, estimate: np.ndarray, values: np.ndarray) -> StepScores:
    """Frame-by-step scores of the blind ``estimate (N, F)`` against the model's steps."""
    params = separator.config.side_info
    kind = separator.kind
    if kind.features == "activity":
        levels = 10.0 * np.log10(frame_energy(estimate) + 1e-12)
        return StepScores(activity_scores(levels, params.activity_threshold_db), values, True)
    audio = separator.config.audio
    features = target_features(kind.name, estimate, params, audio.sample_rate, audio.n_fft)
    return StepScores(features.frame_values(params), values, False)


def model_rate_audio(mixture: np.ndarray, sample_rate: int, separator: Separator) -> np.ndarray:
    """The mixture ``(C, T)`` at the model's rate (soxr, as the streaming separation does)."""
    return resample(mixture, sample_rate, separator.sample_rate)


__all__ = [
    "PlacedSteps",
    "StepPlan",
    "placed_steps",
    "blind_estimate",
    "mono_overlap_add",
    "model_rate_audio",
    "needs_alignment",
    "plan_steps",
    "step_scores",
]
