"""Alignment accuracy against the true alignment of generated side information.

What the user gets is where the separation put every step (:func:`placement_scores`: the
whole-song alignment of :mod:`wiass.inference.song_alignment`, measured on the whole song
through the same path as ``wiass separate``). The attention is scored too
(:func:`alignment_scores`, reported as ``attention_accuracy`` and ``mass``):

For every mixture frame n the true step is the real (non-padding) step whose described frame is
nearest to n (:func:`true_steps`); the accuracy is the share of frames whose attention argmax
lies within +-1 step of it, and the attention mass is the mean over frames of the attention on
the steps within +-1 step of it (:func:`alignment_scores`). A step of coarse side information
spans ``frames_per_step`` mixture frames, so +-1 step is a tighter tolerance in time for fine
side information: :func:`alignment_by_rate` breaks the accuracy down by frames per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Results = dict[str, list[dict[str, dict[str, Any]]]]
"""Each system (and oracle) mapped to a list over seeds of ``{track: scores}``."""


def true_steps(alignment: np.ndarray, n_frames: int) -> np.ndarray:
    """For every mixture frame ``(n_frames,)``, the real step whose described frame
    (``alignment[m]``, -1 = padding) is nearest; -1 where there is no real step."""
    real = np.flatnonzero(alignment >= 0)
    if real.size == 0:
        return np.full(n_frames, -1, dtype=np.int64)
    described = alignment[real]
    order = np.argsort(described, kind="stable")
    described, real = described[order], real[order]
    frames = np.arange(n_frames)
    right = np.clip(np.searchsorted(described, frames), 0, described.size - 1)
    left = np.clip(right - 1, 0, described.size - 1)
    closer_left = np.abs(described[left] - frames) <= np.abs(described[right] - frames)
    return np.where(closer_left, real[left], real[right])


def alignment_scores(
    attention: np.ndarray, alignment: np.ndarray, tolerance: int = 1
) -> dict[str, float]:
    """Accuracy and attention mass (see the module docstring) of ``attention (N, M)`` against
    the true ``alignment (M,)``."""
    n_frames, n_steps = attention.shape
    truth = true_steps(alignment, n_frames)
    valid = truth >= 0
    if not valid.any():
        return {"accuracy": math.nan, "mass": math.nan}
    hit = np.abs(attention.argmax(axis=1) - truth) <= tolerance
    steps = np.arange(n_steps)
    near = np.abs(steps[None, :] - truth[:, None]) <= tolerance
    mass = (attention * near).sum(axis=1)
    return {"accuracy": float(hit[valid].mean()), "mass": float(mass[valid].mean())}


def placement_scores(
    centres: np.ndarray, alignment: np.ndarray, rate: float, frame_seconds: float
) -> dict[str, float]:
    """How well the separation placed the steps: ``centres (M,)``, the frame where each step
    was put, against the true ``alignment (M,)`` (-1: outside the audio, left out), for steps
    of ``rate`` frames. ``accuracy``: share within +-1 step (``rate`` frames); ``error_s``:
    the median absolute error in seconds."""
    inside = alignment >= 0
    if not inside.any():
        return {"accuracy": math.nan, "error_s": math.nan}
    error = np.abs(centres[inside] - alignment[inside])
    return {
        "accuracy": float(np.mean(error <= rate)),
        "error_s": float(np.median(error) * frame_seconds),
    }


def alignment_by_rate(
    results: Results,
) -> dict[str, dict[int, dict[str, float]]]:
    """Per system and (rounded) frames per step: accuracy and mass averaged over every track of
    every seed with that rate, and how many such (track, seed) pairs there are."""
    table: dict[str, dict[int, dict[str, float]]] = {}
    for name, per_seed in results.items():
        pooled: dict[int, list[tuple[float, float]]] = {}
        for scores in per_seed:
            for row in scores.values():
                rate = row.get("frames_per_step", math.nan)
                accuracy = row.get("accuracy", math.nan)
                if math.isnan(rate) or math.isnan(accuracy):
                    continue
                pooled.setdefault(round(rate), []).append((accuracy, row["mass"]))
        if pooled:
            table[name] = {
                rate: {
                    "accuracy": float(np.mean([a for a, _ in pairs])),
                    "mass": float(np.mean([m for _, m in pairs])),
                    "count": float(len(pairs)),
                }
                for rate, pairs in sorted(pooled.items())
            }
    return table
