"""Scoring estimates the SiSEC / MUSDB18 way, and museval's per-track JSON.

* :func:`score_sources`: :func:`wiass.metrics.evaluate_track` with the BSSEval conditioning
  warning (:class:`wiass.metrics.IllConditionedWarning`) caught per track instead of printed:
  the result says whether the track's SDR/SIR/SAR can be trusted.
* :func:`track_references` and :func:`score_vocals`: the vocals scores of one estimate of a
  dataset track at the track's own sample rate and channels, against its untouched stems:
  vocals and accompaniment evaluated together (the accompaniment is the sum of the other stems,
  as musdb builds it), 1 s frames, BSSEval v4 medians over frames, PES, EPS and the paper's EPS
  (only where the target is not silent).
* :func:`museval_document` and :func:`write_museval_json`: a track's framewise scores in
  museval's format (``museval.TrackStore``; what ``museval.EvalStore.add_eval_dir`` and the
  SiSEC result tools read): ``{"targets": [{"name", "frames": [{"time", "duration",
  "metrics": {"SDR", "SIR", "SAR", "ISR"}}]}]}``, written as ``<folder>/test/<track>.json``.
  As museval, undefined and infinite values are written as ``NaN``. A ``wiass`` entry (which
  museval's schema allows and its readers ignore) says at which rate and channels the track
  was scored and whether its scores are unreliable.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wiass import __version__
from wiass.data.tracks import Track
from wiass.files import write_json
from wiass.metrics import IllConditionedWarning, TrackScores, evaluate_track, pes_eps

MUSEVAL_METRICS = ("SDR", "SIR", "SAR", "ISR")
"""The framewise metrics of museval's JSON, in its order."""

MUSEVAL_SUBSET = "test"
"""The sub-folder that museval's readers (``add_eval_dir``) look for."""


@dataclass
class Scored:
    """The scores of one track and whether BSSEval was ill-conditioned on it."""

    scores: TrackScores
    ill_conditioned: bool = False
    warning: str = ""
    """The text of the conditioning warning ('' when there was none)."""


def score_sources(
    references: Mapping[str, np.ndarray],
    estimates: Mapping[str, np.ndarray],
    sample_rate: int,
    win_seconds: float = 1.0,
    hop_seconds: float = 1.0,
) -> Scored:
    """:func:`wiass.metrics.evaluate_track` of one track (arguments as there), with the
    conditioning warning recorded in the result; other warnings are passed on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = evaluate_track(references, estimates, sample_rate, win_seconds, hop_seconds)
    texts = []
    for item in caught:
        if issubclass(item.category, IllConditionedWarning):
            texts.append(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return Scored(scores, bool(texts), "; ".join(dict.fromkeys(texts)))


def track_references(track: Track) -> dict[str, np.ndarray]:
    """The true ``vocals`` and ``accompaniment`` of a track, ``(channels, samples)`` at its
    rate: the accompaniment is the sum of the other stems (as musdb and museval build it), or
    the mixture minus the vocals where the track holds no other stem."""
    vocals = track.stems["vocals"]
    others = [audio for name, audio in track.stems.items() if name != "vocals"]
    accompaniment = np.sum(others, axis=0, dtype=np.float32) if others else track.mixture - vocals
    return {"vocals": vocals, "accompaniment": accompaniment}


def score_vocals(
    track: Track,
    vocals_estimate: np.ndarray,
    accompaniment_estimate: np.ndarray | None = None,
) -> tuple[dict[str, Any], Scored]:
    """Score one estimate ``(channels, samples)`` of a track at the track's rate and channels.

    The accompaniment estimate defaults to the mixture minus the vocals estimate. Returns the
    vocals row (BSSEval v4 medians over 1 s frames, PES, EPS, ``EPS_nonsilent`` (the paper's
    EPS: only where the target is not silent), ``sample_rate``, ``channels`` and
    ``ill_conditioned``) and the whole result (every target, framewise).
    """
    if accompaniment_estimate is None:
        accompaniment_estimate = track.mixture - vocals_estimate
    references = track_references(track)
    estimates = {"vocals": vocals_estimate, "accompaniment": accompaniment_estimate}
    scored = score_sources(references, estimates, track.sample_rate)
    row: dict[str, Any] = dict(scored.scores.summary()["vocals"])
    second = int(track.sample_rate)
    paper_eps = pes_eps(
        references["vocals"].T, vocals_estimate.T, second, second, eps_for_silent_target=False
    ).eps
    row["EPS_nonsilent"] = float(paper_eps.mean()) if paper_eps.size else math.nan
    row["sample_rate"] = int(track.sample_rate)
    row["channels"] = int(track.mixture.shape[0])
    row["ill_conditioned"] = scored.ill_conditioned
    return row, scored


def _museval_value(value: float) -> float:
    """museval writes infinite values as NaN."""
    return float(value) if math.isfinite(value) else math.nan


def museval_document(
    scored: Scored, win_seconds: float = 1.0, hop_seconds: float = 1.0
) -> dict[str, Any]:
    """The framewise BSSEval scores of one track in museval's JSON layout (module docstring)."""
    targets = []
    for name, values in scored.scores.targets.items():
        series = {metric: getattr(values, metric.lower()) for metric in MUSEVAL_METRICS}
        frames = [
            {
                "time": k * hop_seconds,
                "duration": win_seconds,
                "metrics": {m: _museval_value(series[m][k]) for m in MUSEVAL_METRICS},
            }
            for k in range(values.sdr.size)
        ]
        targets.append({"name": name, "frames": frames})
    return {
        "targets": targets,
        "wiass": {
            "version": __version__,
            "sample_rate": scored.scores.sample_rate,
            "channels": scored.scores.channels,
            "ill_conditioned": scored.ill_conditioned,
            "warning": scored.warning,
        },
    }


def museval_path(folder: Path, track: str) -> Path:
    """Where :func:`write_museval_json` writes ``track``'s file under ``folder``."""
    return Path(folder) / MUSEVAL_SUBSET / f"{track}.json"


def write_museval_json(
    folder: Path, track: str, scored: Scored, win_seconds: float = 1.0, hop_seconds: float = 1.0
) -> Path:
    """Write ``<folder>/test/<track>.json`` (atomically, with NaN as museval writes it, not
    null); returns its path."""
    path = museval_path(folder, track)
    write_json(path, museval_document(scored, win_seconds, hop_seconds), nan_as_null=False)
    return path
