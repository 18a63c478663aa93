"""Per-track scores (every target, museval's way) and their aggregation over tracks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wiass.errors import MetricsError
from wiass.metrics.bsseval import BSS_METRICS, bss_eval_v4
from wiass.metrics.silence import SILENCE_METRICS, _check_win_hop, pes_eps


def _nan_median(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(np.median(finite)) if finite.size else math.nan


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else math.nan


@dataclass
class TargetScores:
    """Framewise scores of one target in one track (all values in dB).

    ``sdr``, ``isr``, ``sir``, ``sar``: ``(frames,)`` BSSEval v4, NaN on frames where any
    reference or estimate of the track is silent. ``pes`` / ``eps``: PES and EPS values with the
    indices of their frames in ``pes_frames`` / ``eps_frames`` (see :func:`pes_eps`).
    """

    sdr: np.ndarray
    isr: np.ndarray
    sir: np.ndarray
    sar: np.ndarray
    pes: np.ndarray
    eps: np.ndarray
    pes_frames: np.ndarray
    eps_frames: np.ndarray

    def summary(self) -> dict[str, float]:
        """Per-track numbers: median over frames of SDR/ISR/SIR/SAR ignoring NaN frames (SiSEC),
        mean of PES/EPS (NaN where there is no such frame), and frame counts.

        Keys: ``SDR ISR SIR SAR PES EPS`` (float dB) and ``frames``, ``nan_frames``,
        ``pes_frames``, ``eps_frames`` (int counts).
        """
        out = {
            name: _nan_median(values)
            for name, values in zip(
                BSS_METRICS, (self.sdr, self.isr, self.sir, self.sar), strict=True
            )
        }
        out["PES"] = _mean(self.pes)
        out["EPS"] = _mean(self.eps)
        out["frames"] = int(self.sdr.size)
        out["nan_frames"] = int(np.count_nonzero(np.isnan(self.sdr)))
        out["pes_frames"] = int(self.pes.size)
        out["eps_frames"] = int(self.eps.size)
        return out

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        """Framewise values as JSON-ready lists (NaN stays NaN)."""
        return {
            "SDR": self.sdr.tolist(),
            "ISR": self.isr.tolist(),
            "SIR": self.sir.tolist(),
            "SAR": self.sar.tolist(),
            "PES": self.pes.tolist(),
            "EPS": self.eps.tolist(),
            "pes_frames": self.pes_frames.tolist(),
            "eps_frames": self.eps_frames.tolist(),
        }


@dataclass
class TrackScores:
    """Scores of every target of one track; ``win`` and ``hop`` are in samples, ``channels``
    is the channel count the track was scored with (0: not given)."""

    targets: dict[str, TargetScores]
    sample_rate: int
    win: int
    hop: int
    channels: int = 0

    def summary(self) -> dict[str, dict[str, float]]:
        """``{target: TargetScores.summary()}``; the input of :func:`aggregate`."""
        return {name: scores.summary() for name, scores in self.targets.items()}

    def to_dict(self) -> dict[str, Any]:
        """Framewise values and framing as a JSON-ready dict."""
        return {
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "win": self.win,
            "hop": self.hop,
            "targets": {name: scores.to_dict() for name, scores in self.targets.items()},
        }


def aggregate(summaries: Sequence[Mapping[str, Mapping[str, float]]]) -> dict[str, dict[str, Any]]:
    """Aggregate per-track summaries (:meth:`TrackScores.summary`) over tracks.

    For every target and every metric of ``SDR ISR SIR SAR PES EPS``: the ``median`` and the
    ``mean`` over tracks of the per-track values (tracks where the value is NaN are left out)
    and ``tracks``, how many tracks had a value. PES and EPS also get ``frame_mean``, the mean
    over all their frames of all tracks. ``frames`` holds the summed counts ``total``, ``nan``,
    ``pes`` and ``eps``. A target missing from some tracks is aggregated over the others.

    Returns ``{target: {"SDR": {"median", "mean", "tracks"}, ..., "PES": {..., "frame_mean"},
    "frames": {"total", "nan", "pes", "eps"}}}``.
    """
    targets: list[str] = []
    for summary in summaries:
        targets.extend(name for name in summary if name not in targets)
    result: dict[str, dict[str, Any]] = {}
    for target in targets:
        rows = [summary[target] for summary in summaries if target in summary]
        entry: dict[str, Any] = {}
        for metric in BSS_METRICS + SILENCE_METRICS:
            values = np.array([row[metric] for row in rows], dtype=np.float64)
            values = values[~np.isnan(values)]
            entry[metric] = {
                "median": float(np.median(values)) if values.size else math.nan,
                "mean": _mean(values),
                "tracks": int(values.size),
            }
        for metric, count_key in (("PES", "pes_frames"), ("EPS", "eps_frames")):
            total = sum(int(row[count_key]) for row in rows)
            weighted = sum(row[metric] * row[count_key] for row in rows if row[count_key] > 0)
            entry[metric]["frame_mean"] = weighted / total if total else math.nan
        entry["frames"] = {
            "total": int(sum(row["frames"] for row in rows)),
            "nan": int(sum(row["nan_frames"] for row in rows)),
            "pes": int(sum(row["pes_frames"] for row in rows)),
            "eps": int(sum(row["eps_frames"] for row in rows)),
        }
        result[target] = entry
    return result


def _channels_first(audio: np.ndarray, name: str) -> np.ndarray:
    """A wiass waveform ``(channels, samples)`` or ``(samples,)`` as ``(channels, samples)``."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise MetricsError(f"{name}: expected (channels, samples) audio, got shape {audio.shape}")
    if audio.shape[0] > audio.shape[1]:
        raise MetricsError(
            f"{name}: shape {audio.shape} has more channels than samples; wiass audio is "
            "(channels, samples)"
        )
    if not np.issubdtype(audio.dtype, np.floating) or not np.all(np.isfinite(audio)):
        raise MetricsError(f"{name}: expected finite floating-point samples")
    return audio


def _fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Zero-pad or truncate ``(channels, samples)`` to ``n_samples`` (museval's padding)."""
    if audio.shape[1] >= n_samples:
        return audio[:, :n_samples]
    return np.pad(audio, [(0, 0), (0, n_samples - audio.shape[1])])


def evaluate_track(
    references: Mapping[str, np.ndarray],
    estimates: Mapping[str, np.ndarray],
    sample_rate: int,
    win_seconds: float = 1.0,
    hop_seconds: float = 1.0,
    *,
    eval_incomplete_last_frame: bool = False,
    eps_for_silent_target: bool = True,
) -> TrackScores:
    """BSSEval v4, PES and EPS of every target of one track, the way museval scores a track.

    Args:
        references: ``{target: (channels, samples)}`` true sources (wiass layout; ``(samples,)``
            for mono). Together they are the sources of the track: the estimate of each target is
            judged against the span of all of them (museval's ``eval_mus_track`` uses the targets
            it is given the same way), so pass every source, e.g. vocals and accompaniment.
        estimates: ``{target: (channels, samples)}`` with the same targets and channel count.
            Estimates are zero-padded or truncated to the reference length, as museval does.
        sample_rate: sample rate of all signals in Hz.
        win_seconds, hop_seconds: frame length and hop in seconds (museval: 1 s, 1 s); converted
            to samples with ``int(seconds * sample_rate)`` as museval does.
        eval_incomplete_last_frame, eps_for_silent_target: passed to :func:`pes_eps`.

    Returns:
        :class:`TrackScores` with one :class:`TargetScores` per target (in ``references`` order).

    Raises:
        MetricsError: targets, channel counts or reference lengths do not fit together, or the
            audio is not finite floating-point ``(channels, samples)``.
    """
    names = list(references)
    if not names:
        raise MetricsError("no reference sources given")
    missing = [name for name in names if name not in estimates]
    extra = [name for name in estimates if name not in references]
    if missing or extra:
        raise MetricsError(
            f"estimates and references must have the same targets: missing {missing}, "
            f"unexpected {extra}"
        )
    refs = {name: _channels_first(references[name], f"reference '{name}'") for name in names}
    ests = {name: _channels_first(estimates[name], f"estimate '{name}'") for name in names}
    first = refs[names[0]]
    for name in names:
        if refs[name].shape != first.shape:
            raise MetricsError(
                f"reference '{name}' has shape {refs[name].shape}, reference '{names[0]}' "
                f"{first.shape}: all references must have the same (channels, samples)"
            )
        if ests[name].shape[0] != first.shape[0]:
            raise MetricsError(
                f"estimate '{name}' has {ests[name].shape[0]} channel(s), the references "
                f"{first.shape[0]}"
            )
    win = int(win_seconds * sample_rate)
    hop = int(hop_seconds * sample_rate)
    _check_win_hop(win, hop)
    n_samples = first.shape[1]
    ref_stack = np.stack([refs[name].T for name in names])
    est_stack = np.stack([_fit_length(ests[name], n_samples).T for name in names])
    bss = bss_eval_v4(ref_stack, est_stack, win, hop)
    targets = {}
    for index, name in enumerate(names):
        silent = pes_eps(
            ref_stack[index],
            est_stack[index],
            win,
            hop,
            eval_incomplete_last_frame=eval_incomplete_last_frame,
            eps_for_silent_target=eps_for_silent_target,
        )
        targets[name] = TargetScores(
            sdr=bss.sdr[index],
            isr=bss.isr[index],
            sir=bss.sir[index],
            sar=bss.sar[index],
            pes=silent.pes,
            eps=silent.eps,
            pes_frames=silent.pes_frames,
            eps_frames=silent.eps_frames,
        )
    return TrackScores(targets, int(sample_rate), win, hop, channels=int(first.shape[0]))
