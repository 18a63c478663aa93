"""The public ``separate()``: an in-memory mixture of any rate and channel count in, a
:class:`SeparationResult` out (``wiass.separate``).

A thin wrapper, as Open-Unmix's ``predict.separate``: it checks the audio and the side
information (:mod:`wiass.inference.inputs`), runs the separator chunk by chunk
(:class:`~wiass.inference.runner.ChunkRunner`) through the streaming resampler and crossfade
(:func:`~wiass.inference.stream.stream_separation`), and returns vocals, accompaniment and the
attention over the whole file (:class:`~wiass.inference.attention.AttentionMap`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from wiass.audio import check_audio
from wiass.errors import AudioError
from wiass.inference.attention import MAX_ALIGNMENT_VALUES
from wiass.inference.chunks import BATCH_CHUNKS, DEFAULT_OVERLAP_SECONDS, resampled_length
from wiass.inference.inputs import (
    SideInfoInput,
    check_device,
    check_length,
    model_frames,
    side_info_for,
)
from wiass.inference.lyrics_alignment import PauseGate, pause_gate
from wiass.inference.runner import ChunkRunner
from wiass.inference.song_alignment import (
    StepPlan,
    model_rate_audio,
    needs_alignment,
    placed_steps,
    plan_steps,
)
from wiass.inference.step_times import StepTimes, step_times, step_times_from_path
from wiass.inference.stream import array_blocks, progress_bar, stream_separation
from wiass.lyrics import LyricsTiming, timing_from_steps
from wiass.precision import inference_bf16
from wiass.separator import Separator, load_separator
from wiass.sideinfo import SideInfo
from wiass.sideinfo.rates import RateFit


@dataclass
class SeparationResult:
    """What :func:`separate` returns; also readable as ``result["vocals"]`` and so on.

    ``vocals`` and ``accompaniment``: ``(C, T)`` float32 at ``sample_rate`` (they sum to the
    mixture). ``attention``: ``(frames, M)`` float32 over the global side-information steps,
    frames pooled by ``frame_pool`` and ``frame_seconds`` apart (None for BL1/BL2).
    ``side_info``: the whole-file side information as the model got it (None for BL1/BL2):
    the user's, or for coarse kinds brought into the model's trained rates (see ``steps``).
    ``steps``: how the side information was placed: its whole-song alignment, when one was
    searched (:class:`~wiass.inference.song_alignment.StepPlan`).
    ``step_times``: the alignment as times, for every step of ``side_info`` its start and end
    in seconds in the mixture and a confidence in [0, 1]: where the whole-song alignment put it
    (coarse kinds) or read from the attention (:mod:`wiass.inference.step_times`); None for
    BL1/BL2. When ``steps.fit`` held each user step k times, k rows belong to one user step.
    ``lyrics``: for a lyrics text (phonemes kind), its words and phonemes with the times the
    alignment found (:class:`wiass.lyrics.LyricsTiming`), else None.
    """

    vocals: np.ndarray
    accompaniment: np.ndarray
    attention: np.ndarray | None
    side_info: SideInfo | None
    sample_rate: int
    frame_seconds: float
    frame_pool: int
    steps: StepPlan | None = None
    step_times: StepTimes | None = None
    lyrics: LyricsTiming | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        """The field names (so that ``dict(result)`` works)."""
        return [field.name for field in dataclasses.fields(self)]


def frame_seconds(separator: Separator, pool: int) -> float:
    """Seconds between the rows of an attention map pooled by ``pool`` frames."""
    audio = separator.config.audio
    return pool * audio.hop / audio.sample_rate


def attention_step_times(
    attention: np.ndarray, separator: Separator, pool: int, seconds: float
) -> StepTimes:
    """The step times of ``attention (rows, M)`` (model frames pooled by ``pool``) over a
    mixture of ``seconds``."""
    audio = separator.config.audio
    return step_times(
        attention,
        frame_seconds(separator, pool),
        hop_seconds=audio.hop / audio.sample_rate,
        duration=seconds,
    )


def result_step_times(
    plan: StepPlan, attention: np.ndarray | None, separator: Separator, pool: int, seconds: float
) -> StepTimes | None:
    """The step times of a separation: where the whole-song alignment placed the steps when it
    was searched, else read from the attention (None without attention)."""
    if attention is None:
        return None
    if plan.alignment is None:
        return attention_step_times(attention, separator, pool, seconds)
    audio = separator.config.audio
    if separator.kind.features == "symbols":
        return path_step_times(plan, separator, seconds)
    identity = dataclasses.replace(plan, fit=RateFit(), user_steps=plan.side.n_steps)
    placed = placed_steps(identity, audio.hop / audio.sample_rate)
    return StepTimes(placed.start, placed.end, np.nan_to_num(placed.confidence))


def path_step_times(plan: StepPlan, separator: Separator, seconds: float) -> StepTimes:
    """The step times of a plan's whole-song path (lyrics: every step from its first frame on
    the path to the next step's) over a mixture of ``seconds``."""
    assert plan.alignment is not None and plan.side is not None
    audio = separator.config.audio
    return step_times_from_path(
        plan.alignment.path,
        plan.side.n_steps,
        audio.hop / audio.sample_rate,
        plan.alignment.confidence,
        duration=seconds,
    )


def lyrics_gate(
    plan: StepPlan, separator: Separator, seconds: float, silence_pauses: bool
) -> PauseGate | None:
    """The :class:`~wiass.inference.lyrics_alignment.PauseGate` of aligned lyrics (None for
    other side information, or when ``silence_pauses`` is off)."""
    if not silence_pauses or plan.alignment is None or separator.kind.features != "symbols":
        return None
    assert plan.side is not None
    symbols = plan.side.values[:, 0].round().astype(np.int64)
    return pause_gate(path_step_times(plan, separator, seconds), symbols)


def result_lyrics(side: SideInfo | None, times: StepTimes | None) -> LyricsTiming | None:
    """The timed words of a separation with a lyrics text, else None."""
    if side is None or side.lyrics is None or times is None:
        return None
    return timing_from_steps(side.lyrics, times.start, times.end)


def as_separator(
    separator: Separator | str | os.PathLike[str], device: torch.device | None
) -> Separator:
    """``separator`` moved to ``device`` (None: where it is), or the checkpoint or shipped
    model it names loaded onto ``device`` (None: the CPU)."""
    if isinstance(separator, Separator):
        return separator if device is None else separator.to(device)
    return load_separator(separator, device or "cpu")


def check_sample_rate(sample_rate: object) -> int:
    """``sample_rate`` as an int; AudioError unless it is a positive integer."""
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, (int, np.integer))
        or sample_rate <= 0
    ):
        raise AudioError(f"audio: sample rate must be a positive integer, got {sample_rate!r}")
    return int(sample_rate)


def separate(
    audio: np.ndarray,
    sample_rate: int,
    separator: Separator | str | os.PathLike[str],
    side_info: SideInfoInput = None,
    *,
    wiener: bool = False,
    device: str | torch.device | None = None,
    chunk_seconds: float | None = None,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
    batch_chunks: int = BATCH_CHUNKS,
    workers: int = 1,
    max_attention_values: int = MAX_ALIGNMENT_VALUES,
    progress: bool = False,
    whole_song_alignment: bool = True,
    silence_pauses: bool = True,
    precision: str = "auto",
) -> SeparationResult:
    """Separate an in-memory mixture into vocals and accompaniment.

    ``audio``: ``(channels, samples)`` or ``(samples,)`` float at ``sample_rate`` Hz (any rate).
    ``separator``: a :class:`~wiass.separator.Separator`, a checkpoint path or a shipped
    model's name. ``side_info``: whole-file side information for informed models (see
    :func:`wiass.inference.inputs.side_info_for`; its steps are taken to cover the file
    uniformly unless it carries its alignment or rate). ``wiener``: multichannel Wiener
    filtering instead of plain masking. ``device``: None keeps the separator's device.
    ``chunk_seconds``: None = twice the training excerpt, ``math.inf`` = one chunk.
    ``batch_chunks``: chunks per model call; ``workers``: model calls at once (threads; this
    function leaves torch's thread count alone). The separator is put in eval mode.
    ``whole_song_alignment``: place coarse side information of unknown position by a monotonic
    path over the whole song (:mod:`wiass.inference.song_alignment`); False spreads its steps
    uniformly over the file (at the model's trained rate), as wiass did before.
    ``silence_pauses``: with lyrics, silence the vocals where the aligned lyrics pause
    (:class:`~wiass.inference.lyrics_alignment.PauseGate`; what they held goes to the
    accompaniment). ``precision``: ``auto`` runs the network in bfloat16 where the
    device does (:func:`wiass.precision.inference_bf16`; on the shipped models SDR moves by at
    most 0.002 dB, PES by 0.1 dB), ``32-true`` in float32 everywhere, ``bf16-mixed`` in
    bfloat16 or not at all.
    """
    mixture = check_audio(audio, "audio", allow_silent=False)
    rate = check_sample_rate(sample_rate)
    separator = as_separator(separator, check_device(device))
    bf16 = inference_bf16(precision, separator.device)
    channels, n_samples = mixture.shape
    check_length(n_samples, rate, separator, "audio")
    side = side_info_for(separator, side_info, model_frames(n_samples, rate, separator))
    plan = StepPlan(side)
    if needs_alignment(separator, side):
        model_audio = model_rate_audio(mixture, rate, separator)
        plan = plan_steps(
            separator,
            side,
            model_audio,
            chunk_seconds=chunk_seconds,
            search=whole_song_alignment,
            workers=workers,
            bf16=bf16,
        )
    runner = ChunkRunner(
        separator,
        plan.side,
        resampled_length(n_samples, rate, separator.sample_rate),
        timeline=plan.timeline,
        wiener=wiener,
        chunk_seconds=chunk_seconds,
        overlap_seconds=overlap_seconds,
        batch_chunks=batch_chunks,
        max_attention_values=max_attention_values,
        bf16=bf16,
    )
    gate = lyrics_gate(plan, separator, n_samples / rate, silence_pauses)
    vocals = np.empty_like(mixture)
    position = 0
    with progress_bar(len(runner.chunks), "separating", progress) as bar:
        blocks = array_blocks(mixture)
        for block, _ in stream_separation(
            blocks, n_samples, rate, channels, runner, bar, "audio", workers
        ):
            if gate is not None:
                block = block * gate.gains(position, block.shape[1], rate).astype(block.dtype)
            vocals[:, position : position + block.shape[1]] = block
            position += block.shape[1]
    pool = 1 if runner.attention is None else runner.attention.pool
    attention = None if runner.attention is None else runner.attention.result()
    times = result_step_times(plan, attention, separator, pool, n_samples / rate)
    return SeparationResult(
        vocals=vocals,
        accompaniment=mixture - vocals,
        attention=attention,
        side_info=plan.side,
        sample_rate=rate,
        frame_seconds=frame_seconds(separator, pool),
        frame_pool=pool,
        steps=plan,
        step_times=times,
        lyrics=result_lyrics(plan.side, times),
    )


__all__ = [
    "SeparationResult",
    "as_separator",
    "attention_step_times",
    "check_sample_rate",
    "frame_seconds",
    "separate",
]
