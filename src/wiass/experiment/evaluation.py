"""Scoring a trained system on the test tracks: side information of its kind generated from
each track's true vocals (:func:`wiass.sideinfo.whole_track_side_info`), the mixture separated
at the model's rate, the estimates scored at the track's own rate and channels
(:mod:`wiass.scoring`), the attention scored against the true alignment
(:mod:`wiass.experiment.alignment`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wiass.audio import resample, write_audio
from wiass.data.tracks import Track, TrackSource, open_source
from wiass.errors import DataError
from wiass.experiment.alignment import alignment_scores, placement_scores
from wiass.experiment.figures import plot_attention
from wiass.lyrics import onset_summary, parse_lyrics, word_onset_errors
from wiass.scoring import Scored, score_vocals, write_museval_json
from wiass.separator import Separator
from wiass.sideinfo import SideInfo, drifted_side_info, target_features, whole_track_side_info
from wiass.sideinfo.timeline import file_timeline
from wiass.transforms import magnitude

DRIFT_SEED = 1000
"""First entropy word of the drift set's draws (the second is the track's index)."""


SCORING_PRECISION = "32-true"
"""The precision the experiment separates in: float32, so that a checkpoint scores the same on
every machine (``auto`` would run bfloat16 where the CPU can; on the shipped models that moves
SDR by at most 0.002 dB and PES by 0.1 dB, ``benchmarks/separation_precision.md``)."""


def model_rate_vocals(track: Track, separator: Separator) -> np.ndarray:
    """The track's vocals as one channel (the mean of all) at the model's rate, ``(1, n)`` with
    ``n`` the length :func:`wiass.inference.separate` works with (soxr, as it resamples)."""
    from wiass.inference.chunks import resampled_length

    mono = track.stems["vocals"].mean(axis=0, keepdims=True)
    audio = resample(mono, track.sample_rate, separator.sample_rate)
    length = resampled_length(mono.shape[1], track.sample_rate, separator.sample_rate)
    return np.pad(audio[:, :length], ((0, 0), (0, max(0, length - audio.shape[1]))))


@dataclass(frozen=True)
class ScoreFiles:
    """Where the scoring of one system (one seed, or an oracle) writes: museval's per-track
    JSON under ``museval``, and the estimates under ``estimates`` (None: not kept)."""

    museval: Path
    estimates: Path | None = None

    def write(
        self, track: Track, scored: Scored, vocals: np.ndarray, accompaniment: np.ndarray
    ) -> None:
        """Write one track's museval JSON and, when kept, the estimates it scored."""
        write_museval_json(self.museval, track.name, scored)
        if self.estimates is not None:
            folder, rate = self.estimates / track.name, track.sample_rate
            write_audio(folder / "vocals.wav", vocals, rate, subtype="FLOAT")
            write_audio(folder / "accompaniment.wav", accompaniment, rate, subtype="FLOAT")


def score_system(
    separator: Separator, track: Track, index: int, files: ScoreFiles | None = None
) -> tuple[dict[str, Any], np.ndarray | None, SideInfo | None]:
    """Separate the ``index``-th test track (the model at its rate, the vocals back at the
    track's rate and channels) and score it there; returns the scores, the attention ``(N, M)``
    (None for BL1) and the side information.

    The separation gets the side information without its true alignment, as a user's file
    comes, so that its placement is found by ``wiass separate``'s own whole-song alignment
    and scored against the truth (:func:`wiass.experiment.alignment.placement_scores`); coarse
    kinds are also placed once more with a tempo drift and an offset (:func:`drift_scores`).
    """
    from wiass.inference import separate

    if separator.kind.features == "symbols":
        return score_lyrics_system(separator, track, files)
    vocals = model_rate_vocals(track, separator)
    side_info = whole_track_side_info(separator.side_info_kind, separator.config, vocals, index)
    result = separate(
        track.mixture,
        track.sample_rate,
        separator,
        side_info=_as_user_input(side_info),
        max_attention_values=2**62,
        precision=SCORING_PRECISION,
    )
    scores, scored = score_vocals(track, result["vocals"], result["accompaniment"])
    if files is not None:
        files.write(track, scored, result["vocals"], result["accompaniment"])
    attention = result["attention"]
    if attention is not None and side_info is not None and side_info.alignment is not None:
        attention = np.asarray(attention, dtype=np.float32)
        scores.update(_attention_scores(attention, side_info.alignment))
        scores.update(_placement(result, side_info, separator))
        scores["frames_per_step"] = float(side_info.rate)
        if separator.kind.timing != "aligned":
            scores.update(drift_scores(separator, track, vocals, index))
    return scores, attention, side_info


def score_lyrics_system(
    separator: Separator, track: Track, files: ScoreFiles | None = None
) -> tuple[dict[str, Any], np.ndarray | None, SideInfo | None]:
    """:func:`score_system` for a ``phonemes`` model: the track's lyrics go in as a user's
    text (its lines, no timing), and the word onsets the separation finds are scored against
    the track's true timing (:func:`wiass.lyrics.word_onset_errors`)."""
    from wiass.inference import separate

    if track.lyrics is None:
        raise DataError(f"test track {track.name}: no timed lyrics to evaluate a phonemes model on")
    lyrics = parse_lyrics("\n".join(track.lyrics.lines), f"{track.name} lyrics")
    result = separate(
        track.mixture,
        track.sample_rate,
        separator,
        lyrics,
        max_attention_values=2**62,
        precision=SCORING_PRECISION,
    )
    scores, scored = score_vocals(track, result["vocals"], result["accompaniment"])
    if files is not None:
        files.write(track, scored, result["vocals"], result["accompaniment"])
    found = result.lyrics
    summary = onset_summary(word_onset_errors(found, track.lyrics), tolerance=0.3)
    scores["word_onset_mean_s"] = summary["mean_abs_error_s"]
    scores["word_onset_median_s"] = summary["median_abs_error_s"]
    scores["word_onset_within_0.3s"] = summary["share_within"]
    attention = result["attention"]
    return scores, None if attention is None else np.asarray(attention), result.side_info


def _as_user_input(side_info: SideInfo | None) -> SideInfo | None:
    """The side information as a user gives it: values only, no alignment, no rate."""
    if side_info is None:
        return None
    return SideInfo(side_info.values, None, side_info.kind)


def _attention_scores(attention: np.ndarray, alignment: np.ndarray) -> dict[str, float]:
    scores = alignment_scores(attention, alignment)
    return {"attention_accuracy": scores["accuracy"], "mass": scores["mass"]}


def _placement(result: Any, side_info: SideInfo, separator: Separator) -> dict[str, float]:
    """:func:`placement_scores` of the steps where the separation put them."""
    plan = result.steps
    n_frames = separator.stft.n_frames(model_samples(result, separator))
    timeline = plan.timeline or file_timeline(plan.side, n_frames, separator.kind)
    centres = timeline.centres.astype(np.float64)
    if plan.fit.held > 1:
        centres = centres.reshape(-1, plan.fit.held).mean(axis=1)
    frame_seconds = separator.stft.hop / separator.sample_rate
    return placement_scores(centres, side_info.alignment, float(side_info.rate), frame_seconds)


def model_samples(result: Any, separator: Separator) -> int:
    from wiass.inference.chunks import resampled_length

    return resampled_length(result.vocals.shape[1], result.sample_rate, separator.sample_rate)


def drift_scores(
    separator: Separator, track: Track, vocals: np.ndarray, index: int
) -> dict[str, float]:
    """``drift_accuracy`` and ``drift_error_s``: the placement of whole-song side information
    at 4 frames per step with a tempo drift of up to 10 % and an offset of up to 5 s
    (:func:`wiass.sideinfo.drifted_side_info`, seeded by the track's index)."""
    from wiass.inference import separate

    config, audio = separator.config, separator.config.audio
    magnitudes = magnitude(vocals.mean(axis=0), audio.stft).numpy()
    kind = separator.kind.name
    features = target_features(kind, magnitudes, config.side_info, audio.sample_rate, audio.n_fft)
    frame_rate = audio.sample_rate / audio.hop
    rng = np.random.default_rng([DRIFT_SEED, index])
    drifted = drifted_side_info(kind, features.frame_values(config.side_info), 4, frame_rate, rng)
    result = separate(
        track.mixture,
        track.sample_rate,
        separator,
        _as_user_input(drifted),
        precision=SCORING_PRECISION,
    )
    placed = _placement(result, drifted, separator)
    return {"drift_accuracy": placed["accuracy"], "drift_error_s": placed["error_s"]}


class EvaluationTracks(Sequence[Track]):
    """The test tracks of a source, each read in full (at the source's rate: their own when
    the source was opened without one) only when asked for, so that one is in memory at a
    time."""

    def __init__(self, source: TrackSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Track:  # type: ignore[override]
        if not 0 <= index < len(self.source):
            raise IndexError(index)
        return self.source.read_track(index)


def test_tracks(data: Path, sample_rate: int | None = None) -> EvaluationTracks:
    """The dataset's test tracks at ``sample_rate`` (None: each at its own rate)."""
    source = open_source(data, "test", sample_rate=sample_rate)
    if len(source) == 0:
        raise DataError(f"{data}: no test tracks to evaluate on")
    return EvaluationTracks(source)


def evaluate_system(
    separator: Separator,
    tracks: Sequence[Track],
    plot: Path | None,
    files: ScoreFiles | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-track scores of one trained system; draws the attention of the first track.

    A track's side information is drawn from its index alone, so every training seed is tested
    on the same side information and the spread over seeds is the models' own."""
    scores = {}
    for index, track in enumerate(tracks):
        track_scores, attention, side_info = score_system(separator, track, index, files)
        scores[track.name] = track_scores
        if plot is not None and index == 0 and attention is not None and side_info is not None:
            plot_attention(plot, attention, side_info, separator, track.name)
    return scores
