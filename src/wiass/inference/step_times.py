"""The alignment as times: where every side-information step sits in the mixture, in seconds.

An alignment *path* gives, for every row ``r`` of a frame axis, the side-information step that
row belongs to; it never goes back (each row stays on a step or moves forward).
:func:`step_times_from_path` turns a path into :class:`StepTimes`: for every step its start and
end in seconds in the mixture and a confidence in ``[0, 1]``. Today the path is read from the
attention (:func:`path_from_attention`, :func:`confidence_from_attention`; :func:`step_times`
does both); a global monotonic alignment can hand its own path to :func:`step_times_from_path`.

Time axis (the STFT is centred): model frame ``n`` is centred at ``n * hop_seconds`` and stands
for ``[(n - 1/2) * hop_seconds, (n + 1/2) * hop_seconds)``. A row of an axis pooled by ``p``
(``frame_seconds = p * hop_seconds``) covers model frames ``[r * p, (r + 1) * p)``, i.e. the times
``[r * frame_seconds - hop_seconds / 2, (r + 1) * frame_seconds - hop_seconds / 2)``; the first row
starts at 0 and, when the mixture's ``duration`` is given, the last ends there. Step ``m`` spans
``[start[m], end[m])``: from the start of its first row to the end of its last, so consecutive
steps meet (``end[m] == start[m + 1]``). A step the path skips gets an empty span
(``start == end``) where the path passes it, and confidence 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression


@dataclass(frozen=True)
class StepTimes:
    """``start``, ``end``: ``(M,)`` float64 seconds in the mixture, step ``m`` spanning
    ``[start[m], end[m])``; ``confidence``: ``(M,)`` float64 in ``[0, 1]``."""

    start: np.ndarray
    end: np.ndarray
    confidence: np.ndarray

    @property
    def n_steps(self) -> int:
        return int(self.start.shape[0])

    def regions(self, active: np.ndarray) -> list[tuple[float, float]]:
        """``(start, end)`` seconds of every run of consecutive ``active (M,)`` steps: from the
        start of its first step to the end of its last (e.g. the sung regions of activity)."""
        flags = np.asarray(active, dtype=bool)
        if flags.shape != (self.n_steps,):
            raise ValueError(f"active must have shape ({self.n_steps},), got {flags.shape}")
        edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
        firsts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        return [
            (float(self.start[a]), float(self.end[b - 1]))
            for a, b in zip(firsts, stops, strict=True)
        ]


def path_from_attention(attention: np.ndarray) -> np.ndarray:
    """A monotonic path ``(N,)`` int64 through ``attention (N, M)``: each row's most attended
    step, made non-decreasing by isotonic regression (the closest non-decreasing sequence in
    least squares, each row weighted by its peak attention, then rounded), so that one stray
    row does not carry the rest of the path with it (as a running maximum would)."""
    weights = np.asarray(attention)
    if weights.ndim != 2 or weights.shape[1] == 0:
        raise ValueError(f"attention must be (frames, steps) with steps > 0, got {weights.shape}")
    if weights.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    peaks = weights.max(axis=1).astype(np.float64)
    fitted = isotonic_regression(weights.argmax(axis=1).astype(np.float64), weights=peaks + 1e-6).x
    return np.clip(np.rint(fitted), 0, weights.shape[1] - 1).astype(np.int64)


def confidence_from_attention(attention: np.ndarray, path: np.ndarray) -> np.ndarray:
    """``(M,)`` in ``[0, 1]``: for every step the mean attention ``attention (N, M)`` gives it
    over the rows ``path (N,)`` puts on it; 0 for a step no row is on."""
    weights = np.asarray(attention)
    n_steps = weights.shape[1]
    mass = weights[np.arange(path.shape[0]), path].astype(np.float64)
    totals = np.bincount(path, weights=mass, minlength=n_steps)
    counts = np.bincount(path, minlength=n_steps)
    return np.clip(np.divide(totals, np.maximum(counts, 1)), 0.0, 1.0)


def _check_path(path: np.ndarray, n_steps: int) -> np.ndarray:
    path = np.asarray(path)
    if path.ndim != 1 or path.dtype.kind not in "iu":
        raise ValueError(f"path must be a 1-D integer array, got {path.dtype} {path.shape}")
    if path.size and (path.min() < 0 or path.max() >= n_steps):
        raise ValueError(f"path must hold steps in [0, {n_steps}), got {path.min()}..{path.max()}")
    if np.any(np.diff(path) < 0):
        raise ValueError("path goes back to an earlier step (it must be non-decreasing)")
    return path.astype(np.int64, copy=False)


def row_edges(
    n_rows: int, frame_seconds: float, hop_seconds: float, duration: float | None = None
) -> np.ndarray:
    """``(n_rows + 1,)`` seconds: row ``r`` of the frame axis spans ``[edges[r], edges[r + 1])``
    (see the module docstring); the first edge is 0, the last ``duration`` when given."""
    edges = np.arange(n_rows + 1, dtype=np.float64) * frame_seconds - hop_seconds / 2
    edges = np.maximum(edges, 0.0)
    if duration is not None:
        edges = np.minimum(edges, duration)
        edges[-1] = duration
    return edges


def step_times_from_path(
    path: np.ndarray,
    n_steps: int,
    frame_seconds: float,
    confidence: np.ndarray,
    *,
    hop_seconds: float | None = None,
    duration: float | None = None,
) -> StepTimes:
    """:class:`StepTimes` of ``n_steps`` steps from ``path (N,)``, the non-decreasing step of
    every row of a frame axis with rows ``frame_seconds`` apart (model frames of
    ``hop_seconds``, default ``frame_seconds``, pooled); ``confidence (n_steps,)`` in
    ``[0, 1]``; ``duration``: the mixture's length in seconds (the last step ends there)."""
    path = _check_path(path, n_steps)
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.shape != (n_steps,):
        raise ValueError(f"confidence must have shape ({n_steps},), got {confidence.shape}")
    hop = frame_seconds if hop_seconds is None else hop_seconds
    edges = row_edges(path.shape[0], frame_seconds, hop, duration)
    steps = np.arange(n_steps)
    first = np.searchsorted(path, steps, side="left")
    stop = np.searchsorted(path, steps, side="right")
    covered = stop > first
    return StepTimes(
        start=edges[first],
        end=edges[stop],
        confidence=np.where(covered, np.clip(confidence, 0.0, 1.0), 0.0),
    )


def step_times(
    attention: np.ndarray,
    frame_seconds: float,
    *,
    hop_seconds: float | None = None,
    duration: float | None = None,
) -> StepTimes:
    """:class:`StepTimes` read from ``attention (N, M)`` (rows ``frame_seconds`` apart, model
    frames of ``hop_seconds`` pooled): :func:`path_from_attention`, its confidence
    (:func:`confidence_from_attention`) and :func:`step_times_from_path`."""
    path = path_from_attention(attention)
    return step_times_from_path(
        path,
        attention.shape[1],
        frame_seconds,
        confidence_from_attention(attention, path),
        hop_seconds=hop_seconds,
        duration=duration,
    )


__all__ = [
    "StepTimes",
    "confidence_from_attention",
    "path_from_attention",
    "row_edges",
    "step_times",
    "step_times_from_path",
]
