"""Whole-song alignment: where every step of the side information sits in the mixture.

Side information describes a whole song and its steps map monotonically onto the mixture's
frames: each frame stays on the step of the frame before it or moves on to the next one. The
alignment is decided over the whole song, once, before the chunks are separated:

1. A first, *blind* pass separates the mixture without side information (models trained with
   ``side_info.dropout > 0`` learned to; other models get the side information spread uniformly
   over the file), and the estimate is described frame by frame in the kind's own terms: the
   probability that the voice is active (A kinds) or its band features (M kinds).
2. The best straight placement over the whole song (:func:`line_search`: a tempo within 15 %
   of the even one and any offset, every offset of a tempo at once by an FFT correlation of
   the frame-by-step scores ``S[n, m]``, how well step m describes frame n, with a weak prior
   towards the even placement). A line weighs every frame of the song, so one phrase the blind
   estimate gets wrong, or phrases that look alike, do not move it.
3. A monotonic path through ``S`` within a band around that line maximises
   ``D[n, m] = S[n, m] + max(D[n-1, m], D[n-1, m-1])`` with a free start and end on the step
   axis (the side information may begin before or end after the audio), the recursion of the
   authors' follow-up work on lyrics; :func:`monotonic_path` back-traces it. (:func:`best_path`
   searches without a line, coarse to fine for long files so memory stays bounded,
   :data:`MAX_CELLS`; the lyrics use it.)
4. Within a run of equal steps (a sung phrase, a pause) the scores cannot tell where one step
   ends and the next begins; only the changes of value can be placed. So the path fixes the
   frames where the steps that *change* value begin (anchors). When most anchors lie near the
   line, every step goes on the line; else on a line fitted to the anchors if most lie on one,
   otherwise linearly between anchors (a tempo that changes, a warp; :func:`step_centres`).

The result is a :class:`~wiass.sideinfo.timeline.Timeline` from which every chunk takes the
steps that the path puts near it (with the margin of training), so chunk boundaries leave no
trace in the alignment, and the step times the user gets.

The dynamic programme is written here rather than taken from librosa or dtw-python: both fill
the whole N x M cost matrix (3.5e8 cells for a 10-minute song at 4 frames per step), and neither
has this step pattern with a free start and end on one axis only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft

from wiass.sideinfo.timeline import Timeline

MAX_CELLS = 20_000_000
"""Largest score matrix searched at full resolution; larger ones are searched coarse to fine."""

BAND_STEPS = 4
"""Half-width, in coarse cells, of the band around the coarse path at full resolution."""

SKIP_COST = 0.5
"""Score lost per frame's worth of steps (steps times the mean frames per step) that the path
leaves out at the start or the end (side information that begins before or ends after the
audio): without it, a path may skip whole phrases there."""

LINE_TOLERANCE = 3.0
"""Frames: an anchor this close to the fitted line counts as lying on it."""

DENSE_ANCHORS = 0.25
"""Anchors at this share of the steps or more are dense (see :func:`step_centres`)."""

EDGE_ANCHORS = 4
"""Anchors at each end whose slope places the steps before the first and after the last one."""

LINE_SHARE = 0.6
"""When this share of the anchors lies on one straight line, every step goes on the line."""

ACTIVITY_WIDTH_DB = 2.0
"""Width (dB) of the soft threshold that turns an estimate's frame level into a probability."""

SLOPE_RANGE = 0.15
"""The line search tries steps up to this share longer or shorter than the audio's frames
divided by the steps (a tempo off by up to 15 %)."""

LINE_SEARCH_FRAMES = 4000
"""The line search's first pass runs on the scores pooled to at most this many frames."""

LINE_PRIOR = 1.0
"""Score lost per frame by which a line departs from the uniform placement (its offset plus
how far its tempo moves the last step), in units of :func:`_score_spread`: of lines that fit
about equally well, the search keeps the one nearest to the side information covering the
audio evenly. Chosen on development songs (``wiass make-synthetic --seed 7``) among 0.3, 1
and 3 by the mean placement accuracy of A3.1 and M2 over 2-6 frames per step and drift."""

SEARCH_BAND_SECONDS = 1.0
"""Whole-song alignment searches its path within this many seconds of the best line."""

LINE_AGREEMENT_SECONDS = 0.25
"""The steps go on the best line when :data:`LINE_SHARE` of the anchors lie this close to it."""

COARSE_SLOPES = 101
"""Tempi of the line search's first pass, evenly over :data:`SLOPE_RANGE`."""

FINE_SLOPES = 41
"""Tempi of its second pass, between the first pass's neighbours of its best one."""

_PROBABILITY_FLOOR = 1e-3


@dataclass(frozen=True)
class GlobalAlignment:
    """The alignment of ``M`` steps to ``N`` frames.

    ``path (N,)``: the step of every frame (monotonic). ``centres (M,)``: the frame each step
    describes (float; below 0 or from N on for steps outside the audio). ``rate``: mean frames
    per step. ``confidence (M,)``: in [0, 1], how well the blind estimate agrees with each step
    where the path puts it (NaN for steps outside the audio).
    """

    path: np.ndarray
    centres: np.ndarray
    rate: float
    confidence: np.ndarray

    def timeline(self, n_frames: int) -> Timeline:
        return Timeline(self.centres, self.rate, n_frames)


def activity_scores(frame_levels_db: np.ndarray, threshold_db: float) -> np.ndarray:
    """Log-probabilities ``(N, 2)`` that each frame is silent (column 0) or active (column 1),
    from the estimate's frame levels in dB: a soft version of the activity rule (active above
    the loudest frame minus ``threshold_db``)."""
    levels = np.asarray(frame_levels_db, dtype=np.float64)
    edge = levels.max() - threshold_db
    active = 1.0 / (1.0 + np.exp(-(levels - edge) / ACTIVITY_WIDTH_DB))
    active = np.clip(active, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR)
    return np.log(np.stack([1.0 - active, active], axis=1))


class StepScores:
    """``S[n, m]``, how well step m describes frame n, computed a block of frames at a time.

    ``frame_features (N, D)`` and ``step_values (M, D)``. For binary activity (``binary``),
    ``frame_features`` are :func:`activity_scores` and ``S[n, m]`` is the log-probability of the
    step's value; otherwise ``S[n, m] = -mean_d |frame_features[n, d] - step_values[m, d]|``.
    """

    def __init__(self, frame_features: np.ndarray, step_values: np.ndarray, binary: bool):
        self.frames = np.asarray(frame_features, dtype=np.float64)
        self.steps = np.asarray(step_values, dtype=np.float64)
        self.binary = binary

    @property
    def shape(self) -> tuple[int, int]:
        return self.frames.shape[0], self.steps.shape[0]

    def rows(self, frames: slice, steps: slice) -> np.ndarray:
        """``S`` for a block of frames and steps, ``(n, m)``."""
        if self.binary:
            value = self.steps[steps, 0]
            scores = self.frames[frames]
            return np.outer(scores[:, 0], 1.0 - value) + np.outer(scores[:, 1], value)
        diff = self.frames[frames, None, :] - self.steps[None, steps, :]
        return -np.abs(diff).mean(axis=2)

    def pooled(self, factor: int) -> StepScores:
        """The scores of frames and steps averaged in blocks of ``factor`` (coarse search)."""
        return StepScores(
            pool_rows(self.frames, factor), pool_rows(self.steps, factor), self.binary
        )


def pool_rows(rows: np.ndarray, factor: int) -> np.ndarray:
    """Means of consecutive blocks of ``factor`` rows (the last block may be shorter)."""
    count = math.ceil(rows.shape[0] / factor)
    padded = np.concatenate([rows, np.repeat(rows[-1:], count * factor - rows.shape[0], 0)])
    return padded.reshape(count, factor, -1).mean(axis=1)


def monotonic_path(
    scores: StepScores, low: np.ndarray, high: np.ndarray, skip_cost: float = SKIP_COST
) -> np.ndarray:
    """The best monotonic path ``(N,)`` through ``scores`` within the band ``[low[n], high[n])``
    of steps per frame (both non-decreasing, ``high > low``): each frame stays on the step of
    the frame before it or moves to the next; it may start on any step of the first frame's
    band and end on any step of the last frame's band, losing ``skip_cost`` (default
    :data:`SKIP_COST`) times the mean frames per step for every step it leaves out before its
    start and after its end."""
    n_frames, n_steps = scores.shape
    width = int((high - low).max())
    moved = np.zeros((n_frames, width), dtype=bool)
    columns = np.arange(width)
    skip = skip_cost * n_frames / n_steps
    total = _band_row(scores, 0, low, high, width) - skip * (low[0] + columns)
    for n in range(1, n_frames):
        stay, advance = _previous(total, int(low[n] - low[n - 1]), width)
        moved[n] = advance > stay
        total = _band_row(scores, n, low, high, width) + np.maximum(stay, advance)
    total = total - skip * (n_steps - 1 - (low[-1] + columns))
    return _back_trace(total, moved, low)


def _band_row(
    scores: StepScores, n: int, low: np.ndarray, high: np.ndarray, width: int
) -> np.ndarray:
    """Frame n's scores over its band, ``(width,)``, -inf past the band's end."""
    row = np.full(width, -np.inf)
    row[: high[n] - low[n]] = scores.rows(slice(n, n + 1), slice(int(low[n]), int(high[n])))[0]
    return row


def _previous(total: np.ndarray, shift: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous frame's totals on the current frame's band, which starts ``shift`` steps
    later: ``(stay, advance)``, the totals at the same step and at the step before."""
    full = np.concatenate([[-np.inf], total, np.full(shift + 1, -np.inf)])
    return full[shift + 1 : shift + 1 + width], full[shift : shift + width]


def _back_trace(total: np.ndarray, moved: np.ndarray, low: np.ndarray) -> np.ndarray:
    """The steps ``(N,)`` of the best path ending on the best step of the last frame."""
    path = np.empty(moved.shape[0], dtype=np.int64)
    column = int(np.argmax(total))
    for n in range(moved.shape[0] - 1, -1, -1):
        path[n] = low[n] + column
        if n > 0:
            column += int(low[n] - low[n - 1]) - int(moved[n, column])
    return path


def best_path(scores: StepScores, skip_cost: float = SKIP_COST) -> np.ndarray:
    """:func:`monotonic_path` over all steps, coarse to fine when the matrix has more than
    :data:`MAX_CELLS` cells: the path through scores pooled by ``factor`` frames and steps
    bounds a band of :data:`BAND_STEPS` coarse cells on either side at full resolution."""
    n_frames, n_steps = scores.shape
    if n_frames * n_steps <= MAX_CELLS:
        return monotonic_path(
            scores, np.zeros(n_frames, np.int64), np.full(n_frames, n_steps, np.int64), skip_cost
        )
    factor = math.ceil(math.sqrt(n_frames * n_steps / MAX_CELLS))
    coarse = best_path(scores.pooled(factor), skip_cost)
    centre = np.repeat(coarse, factor)[:n_frames] * factor
    low = np.clip(centre - BAND_STEPS * factor, 0, n_steps - 1)
    high = np.clip(centre + (BAND_STEPS + 1) * factor, 1, n_steps)
    return monotonic_path(
        scores, np.maximum.accumulate(low), np.maximum.accumulate(high), skip_cost
    )


@dataclass(frozen=True)
class Line:
    """A straight placement of the steps: step m covers frames ``[offset + m * rate,
    offset + (m + 1) * rate)`` (``offset`` may be negative: steps before the audio)."""

    rate: float
    offset: float


def line_search(scores: StepScores, skip_cost: float = SKIP_COST) -> Line:
    """The :class:`Line` with the best total score over the whole song, tempo within
    :data:`SLOPE_RANGE` of the frames per step that would cover the audio exactly, at least half
    of the audio or of the steps overlapping. Frames outside the steps score as the first or
    last step (as in :func:`monotonic_path`), and steps outside the audio cost ``skip_cost``
    each per frame's worth. Band scores are compared by their squared distance here (a sum of
    correlations), binary activity by its log-probability. First :data:`COARSE_SLOPES` tempi
    on scores pooled to at most :data:`LINE_SEARCH_FRAMES` frames, then :data:`FINE_SLOPES`
    around the best one at full resolution; each tempo tries every offset at once (an FFT
    correlation)."""
    n_frames, n_steps = scores.shape
    nominal = n_frames / n_steps
    factor = max(1, math.ceil(n_frames / LINE_SEARCH_FRAMES))
    coarse = scores.pooled(factor) if factor > 1 else scores
    stretches = np.linspace(1.0 - SLOPE_RANGE, 1.0 + SLOPE_RANGE, COARSE_SLOPES)
    line = _best_line(coarse, factor, nominal, stretches, skip_cost)
    spacing = stretches[1] - stretches[0]
    best = line.rate / nominal
    fine = np.linspace(best - spacing, best + spacing, FINE_SLOPES)
    return _best_line(scores, 1, nominal, fine, skip_cost)


def _best_line(
    scores: StepScores, factor: int, nominal: float, stretches: np.ndarray, skip_cost: float
) -> Line:
    """The best line (in full-resolution frames) of ``scores`` pooled by ``factor``, among the
    rates ``nominal * stretches`` and all offsets."""
    frame_terms, step_terms = _line_terms(scores)
    spread = _score_spread(frame_terms, step_terms)
    best_total, best = -math.inf, Line(nominal, 0.0)
    for stretch in stretches:
        rate = nominal * stretch / factor
        totals, offsets = _line_totals(frame_terms, step_terms, rate)
        skipped = np.clip(-offsets / rate, 0, None) + np.clip(
            (offsets + step_terms.shape[0] * rate - frame_terms.shape[0]) / rate, 0, None
        )
        shift = np.abs(offsets) * factor + abs(stretch - 1.0) * nominal * step_terms.shape[0]
        totals = totals - (skip_cost * nominal * skipped + LINE_PRIOR * spread * shift) / factor
        k = int(np.argmax(totals))
        if totals[k] > best_total:
            best_total, best = float(totals[k]), Line(rate * factor, float(offsets[k]) * factor)
    return best


def _line_terms(scores: StepScores) -> tuple[np.ndarray, np.ndarray]:
    """``(C (N, J), W (M, J))`` with the part of ``S[n, m]`` that depends on the step equal to
    ``C[n] . W[m]`` (binary: exactly; bands: for the squared distance)."""
    if scores.binary:
        frames = (scores.frames[:, 1] - scores.frames[:, 0])[:, None]
        return frames, scores.steps[:, :1]
    dims = scores.frames.shape[1]
    frames = np.concatenate([2.0 * scores.frames, -np.ones((scores.frames.shape[0], 1))], axis=1)
    steps = np.concatenate([scores.steps, (scores.steps**2).sum(axis=1, keepdims=True)], axis=1)
    return frames / dims, steps


def _score_spread(frame_terms: np.ndarray, step_terms: np.ndarray) -> float:
    """How much a frame's score changes from step to step, on average over the frames (the
    standard deviation over the steps of ``C[n] . W[m]``): the unit of :data:`LINE_PRIOR`."""
    covariance = np.atleast_2d(np.cov(step_terms, rowvar=False))
    variance = np.einsum("nj,jk,nk->n", frame_terms, covariance, frame_terms)
    return float(np.mean(np.sqrt(np.clip(variance, 0.0, None))))


def _line_totals(
    frame_terms: np.ndarray, step_terms: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Totals of every line of ``rate`` frames per step, and their offsets (frames), for the
    offsets at which at least half of the shorter of the audio and the steps overlap."""
    n_frames, n_steps = frame_terms.shape[0], step_terms.shape[0]
    span = math.ceil(n_steps * rate)
    steps = np.minimum((np.arange(span) / rate).astype(np.int64), n_steps - 1)
    expanded = np.concatenate(
        [
            np.repeat(step_terms[:1], n_frames, 0),
            step_terms[steps],
            np.repeat(step_terms[-1:], n_frames, 0),
        ]
    )
    totals = _correlate(expanded, frame_terms)
    offsets = n_frames - np.arange(totals.size, dtype=np.float64)
    overlap = np.minimum(offsets + span, n_frames) - np.maximum(offsets, 0)
    keep = overlap >= 0.5 * min(n_frames, span)
    return totals[keep], offsets[keep]


def _correlate(long: np.ndarray, short: np.ndarray) -> np.ndarray:
    """``r[t] = sum_n sum_j long[t + n, j] * short[n, j]`` for every ``t`` at which ``short``
    fits inside ``long`` (both ``(L, J)``): products of real FFTs, summed over the columns. With
    ``scipy.fft`` rather than ``scipy.signal.fftconvolve``, whose import alone takes about half
    a second of every separation."""
    size = fft.next_fast_len(long.shape[0] + short.shape[0] - 1, real=True)
    spectrum = fft.rfft(long, size, axis=0) * fft.rfft(short[::-1], size, axis=0)
    full = fft.irfft(spectrum.sum(axis=1), size)
    return full[short.shape[0] - 1 : long.shape[0]]


def line_path(
    scores: StepScores, band_frames: float, skip_cost: float = SKIP_COST
) -> tuple[np.ndarray, Line]:
    """The best monotonic path (:func:`monotonic_path`) within ``band_frames`` frames of the
    best straight placement (:func:`line_search`), and that line: the line finds the tempo and
    the offset from the whole song, the band lets the path follow local deviations and keeps it
    from matching a phrase to the wrong one, which costs little score when phrases look
    alike."""
    n_frames, n_steps = scores.shape
    line = line_search(scores, skip_cost)
    frames = np.arange(n_frames, dtype=np.float64) - line.offset
    low = np.clip(np.floor((frames - band_frames) / line.rate), 0, n_steps - 1).astype(np.int64)
    high = np.clip(np.floor((frames + band_frames) / line.rate) + 1, 1, n_steps).astype(np.int64)
    return monotonic_path(scores, low, np.maximum(high, low + 1), skip_cost), line


def step_centres(
    path: np.ndarray,
    step_values: np.ndarray,
    line: Line | None = None,
    line_tolerance: float = LINE_TOLERANCE,
) -> tuple[np.ndarray, float]:
    """The frame each step describes, ``(M,)`` float, and the mean frames per step.

    Anchors: the first frame of every step that differs from the step before it and that the
    path visits after its first frame. When :data:`LINE_SHARE` of the anchors lie within
    ``line_tolerance`` frames of ``line`` (the whole song's best line,
    :func:`line_search`), every step is placed on it: it weighs every frame of the song, not
    only the few where the value changes. Else, when that share lies within
    :data:`LINE_TOLERANCE` frames of one straight line fitted to the anchors (a constant tempo
    and an offset), every step goes on that fit, which averages out the few frames by which
    each anchor errs. Otherwise (tempo changes, warps) the steps are placed linearly between
    the anchors, before the first and after the last one at the slope of the
    :data:`EDGE_ANCHORS` anchors at that end. Dense anchors (band features change at nearly
    every step; :data:`DENSE_ANCHORS`) are many and each nearly exact: their fit keeps the
    anchors within twice their median distance, counts those, and the steps go between them.
    Without two anchors, the steps go on ``line``, or cover the frames uniformly.
    """
    n_steps, n_frames = step_values.shape[0], path.size
    steps, frames = _anchors(path, step_values)
    edges = np.arange(n_steps + 1, dtype=np.float64)
    if line is not None and (
        steps.size < 2
        or np.mean(np.abs(frames - (line.offset + steps * line.rate)) <= line_tolerance)
        >= LINE_SHARE
    ):
        return line.offset + (edges[:-1] + 0.5) * line.rate - 0.5, line.rate
    if steps.size < 2:
        rate = n_frames / n_steps
        return (edges[:-1] + 0.5) * rate - 0.5, rate
    slope, intercept, inliers = _robust_line(steps, frames)
    dense = steps.size >= DENSE_ANCHORS * n_steps
    if dense:
        on_fit = inliers
        steps, frames = steps[inliers], frames[inliers]
    else:
        on_fit = np.abs(frames - (slope * steps + intercept)) <= LINE_TOLERANCE
    if on_fit.mean() >= LINE_SHARE:
        starts = slope * edges + intercept
    else:
        starts = np.interp(edges, steps, frames)
        before, after = edges < steps[0], edges > steps[-1]
        first, last = (
            (slope, slope)
            if dense
            else (
                _edge_slope(steps[:EDGE_ANCHORS], frames[:EDGE_ANCHORS], slope),
                _edge_slope(steps[-EDGE_ANCHORS:], frames[-EDGE_ANCHORS:], slope),
            )
        )
        starts[before] = frames[0] + (edges[before] - steps[0]) * first
        starts[after] = frames[-1] + (edges[after] - steps[-1]) * last
    return (starts[:-1] + starts[1:]) / 2.0 - 0.5, float(slope)


def _edge_slope(steps: np.ndarray, frames: np.ndarray, fallback: float) -> float:
    """Frames per step of the anchors at one end of the song (least squares), for the steps
    beyond them; ``fallback`` when they do not give a positive one."""
    if steps.size < 2 or steps[-1] <= steps[0]:
        return fallback
    slope = float(np.polyfit(steps, frames, 1)[0])
    return slope if slope > 0 else fallback


def _robust_line(steps: np.ndarray, frames: np.ndarray) -> tuple[float, float, np.ndarray]:
    """``frames ~ slope * steps + intercept`` fitted to the anchors within
    :data:`LINE_TOLERANCE` frames of the line, refitted a few times from a least-squares start
    (an anchor the blind estimate placed a phrase off does not bend the line); the inliers."""
    inliers = np.ones(steps.size, dtype=bool)
    slope, intercept = np.polyfit(steps, frames, 1)
    for _ in range(5):
        residual = np.abs(frames - (slope * steps + intercept))
        tolerance = max(LINE_TOLERANCE, 2.0 * float(np.median(residual)))
        new = residual <= tolerance
        if new.sum() < 2 or np.array_equal(new, inliers):
            break
        inliers = new
        slope, intercept = np.polyfit(steps[inliers], frames[inliers], 1)
    if slope <= 0:
        slope = (frames[-1] - frames[0]) / max(steps[-1] - steps[0], 1.0)
        intercept = frames[0] - slope * steps[0]
    return float(slope), float(intercept), inliers


def _anchors(path: np.ndarray, step_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, frames)`` float: the steps whose value changes, where the path enters them."""
    changes = np.flatnonzero(np.any(np.diff(step_values, axis=0) != 0, axis=1)) + 1
    entries = np.searchsorted(path, changes, side="left")
    visited = (entries > 0) & (entries < path.size)
    visited[visited] &= path[entries[visited]] == changes[visited]
    return changes[visited].astype(np.float64), entries[visited].astype(np.float64)


def step_confidence(scores: StepScores, path: np.ndarray, n_steps: int) -> np.ndarray:
    """Per step, how well the blind estimate agrees with it on the frames the path gives it:
    the mean probability of its value (activity) or ``1 - mean |difference|`` (bands), in
    [0, 1]; NaN for steps the path does not visit."""
    frames = np.arange(path.size)
    if scores.binary:
        value = scores.steps[path, 0].astype(np.int64)
        agreement = np.exp(scores.frames[frames, value])
    else:
        agreement = 1.0 - np.abs(scores.frames - scores.steps[path]).mean(axis=1)
    total = np.bincount(path, weights=agreement, minlength=n_steps)
    count = np.bincount(path, minlength=n_steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.where(count > 0, total / np.maximum(count, 1), np.nan), 0.0, 1.0)


def align(
    scores: StepScores, band_frames: float | None = None, line_tolerance: float = LINE_TOLERANCE
) -> GlobalAlignment:
    """The whole-song alignment of ``scores``' steps to its frames (see the module docstring);
    ``band_frames``: search within that many frames of the best line (:func:`line_path`),
    None: anywhere (:func:`best_path`); ``line_tolerance``: see :func:`step_centres`."""
    line = None
    if band_frames is None:
        path = best_path(scores)
    else:
        path, line = line_path(scores, band_frames)
    centres, rate = step_centres(path, scores.steps, line, line_tolerance)
    return GlobalAlignment(path, centres, rate, step_confidence(scores, path, scores.shape[1]))


__all__ = [
    "GlobalAlignment",
    "StepScores",
    "activity_scores",
    "align",
    "best_path",
    "Line",
    "line_path",
    "line_search",
    "monotonic_path",
    "pool_rows",
    "step_centres",
    "step_confidence",
]
