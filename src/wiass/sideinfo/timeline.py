"""Where the steps of side information sit on the frame axis: one home for training and separation.

A :class:`Timeline` holds, for every step ``m`` of side information, ``centres[m]``: the frame it
describes on an axis of ``n_frames`` frames (an excerpt in training, the whole mixture at
separation), and ``rate``, the (mean) number of frames per step. The value a step takes is the
value of frame ``floor(centres[m])`` (:attr:`Timeline.frames`); a step whose frame lies outside
``[0, n_frames)`` is padding (:attr:`Timeline.padding`): read from the context around an excerpt
in training, zeros beyond a file's ends at separation.

Training draws a timeline per excerpt (:func:`training_timeline`, from the kind's timing):

* ``aligned`` (A1, M1): one step per frame (:func:`aligned_timeline`);
* ``coarse`` (A2): ``r`` frames per step, each step at the centre of its block
  (:func:`coarse_frames`);
* ``offset`` (A3.1, M2): coarse, then padded at both ends, the block grid continued outside the
  excerpt (:func:`outside_frames`);
* ``warped`` (A3.2): a smooth monotonic time warp (:func:`warped_frames`), then padded.

Its centres are whole frames (int64), and :attr:`Timeline.alignment` is the true alignment.

Separation places whole-file side information with :func:`file_timeline`: one step per frame for
frame-aligned kinds, the true alignment where the side information carries one
(:func:`alignment_timeline`), else uniform coverage of the file (:func:`uniform_timeline`:
step ``m`` stands for frames ``[m, m + 1) * rate``, its centre at ``(m + 1/2) * rate - 1/2``).
For a whole block of ``r`` frames the uniform centre's floor is the frame :func:`coarse_frames`
gives in training, so both sides agree on where a step sits. A chunk of the file takes the
steps whose blocks meet its frames (:meth:`Timeline.window`), plus, for padded kinds, the
margin of steps that training put around an excerpt (:func:`chunk_margin`); a
:class:`StepMap` pairs a timeline with the values and hands each chunk its rows.

Nothing here copies the side information: a timeline holds only the step positions, and a
:class:`StepMap` refers to the values it was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from wiass.config import SideInfoConfig
from wiass.sideinfo.kinds import SideInfo, SideInfoKind, Timing


@dataclass(frozen=True)
class Timeline:
    """Positions of ``M`` steps on an axis of ``n_frames`` frames.

    ``centres (M,)``: the frame each step describes, non-decreasing; int64 when every step sits
    on a whole frame (training), float64 when steps cover the frames uniformly (separation);
    below 0 or from ``n_frames`` on for padding steps. ``rate``: (mean) frames per step.
    """

    centres: np.ndarray
    rate: float
    n_frames: int

    @property
    def n_steps(self) -> int:
        return int(self.centres.shape[0])

    @property
    def frames(self) -> np.ndarray:
        """The frame ``(M,)`` int64 whose value each step takes: the floor of its centre."""
        if self.centres.dtype.kind in "iu":
            return self.centres.astype(np.int64, copy=False)
        return np.floor(self.centres).astype(np.int64)

    @property
    def padding(self) -> np.ndarray:
        """``(M,)`` bool: the steps whose frame lies outside ``[0, n_frames)``."""
        frames = self.frames
        return (frames < 0) | (frames >= self.n_frames)

    @property
    def alignment(self) -> np.ndarray:
        """The true alignment ``(M,)`` int64: every step's frame, -1 for padding steps."""
        return np.where(self.padding, -1, self.frames).astype(np.int64)

    def window(self, first_frame: int, n_frames: int, margin: int = 0) -> np.ndarray:
        """The steps ``(m,)`` int64 for frames ``[first_frame, first_frame + n_frames)``.

        A step covers frames ``[centre - rate / 2 + 1 / 2, centre + rate / 2 + 1 / 2)``; the
        window holds every step whose cover meets the frames, plus ``margin`` steps on each
        side. Steps beyond the side information's ends are -1.
        """
        half = self.rate / 2.0 - 0.5
        low = int(np.searchsorted(self.centres, first_frame - 1 - half, side="right"))
        high = int(np.searchsorted(self.centres, first_frame + n_frames + half, side="left"))
        steps = np.arange(low - margin, high + margin, dtype=np.int64)
        return np.where((steps >= 0) & (steps < self.n_steps), steps, -1)


def take_rows(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``rows (K, D)`` at ``index (M,)`` as float32 ``(M, D)``; zeros where an index lies
    outside ``[0, K)`` (padding beyond a context window, steps beyond a file's ends)."""
    out = np.zeros((index.size, rows.shape[1]), dtype=np.float32)
    inside = (index >= 0) & (index < rows.shape[0])
    out[inside] = rows[index[inside]]
    return out


# ---------------------------------------------------------------------------------------------
# Training: one timeline drawn per excerpt


def training_timeline(
    timing: Timing, n_frames: int, rng: np.random.Generator, params: SideInfoConfig
) -> Timeline:
    """The timeline of one excerpt of ``n_frames`` frames under ``timing``, drawn from ``rng``.

    ``aligned``: one step per frame. Otherwise a rate ``r`` is drawn from ``params.rate_range``;
    ``coarse`` and ``offset`` take one step per block of ``r`` frames, ``warped`` as many steps
    under a smooth warp of strength ``params.warp_strength`` (mean rate ``n_frames / M``);
    ``offset`` and ``warped`` add a number of padding steps drawn from ``params.pad_range`` at
    each end, continuing the blocks outside the excerpt at the mean rate.
    """
    if timing == "aligned":
        return aligned_timeline(n_frames)
    low, high = params.rate_range
    rate = int(rng.integers(low, high + 1))
    if timing == "warped":
        n_steps = math.ceil(n_frames / rate)
        inner = warped_frames(n_frames, n_steps, params.warp_strength, rng)
        mean_rate = n_frames / n_steps
    else:
        inner = coarse_frames(n_frames, rate)
        mean_rate = float(rate)
    if timing == "coarse":
        return Timeline(inner, mean_rate, n_frames)
    pad_low, pad_high = params.pad_range
    n_left, n_right = (int(k) for k in rng.integers(pad_low, pad_high + 1, size=2))
    left, right = outside_frames(n_frames, mean_rate, n_left, n_right)
    return Timeline(np.concatenate([left, inner, right]), mean_rate, n_frames)


def aligned_timeline(n_frames: int) -> Timeline:
    """One step per frame: step ``m`` describes frame ``m``."""
    return Timeline(np.arange(n_frames, dtype=np.int64), 1.0, n_frames)


def coarse_frames(n_frames: int, rate: int) -> np.ndarray:
    """Frame described by each step at ``rate`` frames per step: ``(ceil(n_frames / rate),)``.

    Step m stands for frames ``[m * rate, min((m + 1) * rate, n_frames))`` and describes the
    centre frame of that block (the lower one of two centres).
    """
    starts = np.arange(0, n_frames, rate, dtype=np.int64)
    ends = np.minimum(starts + rate, n_frames)
    return starts + (ends - starts - 1) // 2


def warped_frames(
    n_frames: int, n_steps: int, strength: float, rng: np.random.Generator
) -> np.ndarray:
    """Frame described by each of ``n_steps`` steps under a smooth monotonic time warp.

    The local rate (frames per step) is ``exp(strength * z)`` where ``z`` is Gaussian noise
    smoothed over about a sixth of the steps and scaled to unit deviation, so ``strength`` is
    the deviation of the log-rate (0 = uniform). Its cumulative sum, scaled to span the
    excerpt, gives the block boundaries; each step describes the frame holding its block's
    centre. The result is non-decreasing and lies in ``[0, n_frames)``.
    """
    noise = rng.standard_normal(n_steps)
    if n_steps > 1:
        noise = gaussian_filter1d(noise, sigma=max(1.0, n_steps / 6.0), mode="nearest")
        noise -= noise.mean()
        deviation = noise.std()
        noise = noise / deviation if deviation > 0 else noise * 0.0
    rates = np.exp(strength * noise)
    bounds = np.concatenate([[0.0], np.cumsum(rates)])
    bounds *= n_frames / bounds[-1]
    centres = 0.5 * (bounds[:-1] + bounds[1:])
    return np.minimum(np.floor(centres).astype(np.int64), n_frames - 1)


def outside_frames(
    n_frames: int, rate: float, n_left: int, n_right: int
) -> tuple[np.ndarray, np.ndarray]:
    """Excerpt-relative frames of the padding steps at ``rate`` (>= 1) frames per step.

    The left steps (in time order) continue the block grid backwards from frame 0, the right
    steps forwards from ``n_frames``; each takes the centre frame of its block. Left frames
    are negative, right frames ``>= n_frames``.
    """
    j_left = np.arange(n_left, 0, -1, dtype=np.float64)
    j_right = np.arange(1, n_right + 1, dtype=np.float64)
    left = np.ceil((0.5 - j_left) * rate).astype(np.int64) - 1
    right = n_frames + np.ceil((j_right - 0.5) * rate).astype(np.int64) - 1
    return left, right


# ---------------------------------------------------------------------------------------------
# Separation: whole-file side information over the mixture's frames


def uniform_timeline(n_steps: int, n_frames: int, rate: float | None = None) -> Timeline:
    """``n_steps`` steps of ``rate`` frames each (default: covering the ``n_frames`` frames
    exactly); step ``m`` stands for frames ``[m, m + 1) * rate`` and sits at their centre."""
    rate = float(rate) if rate else n_frames / n_steps
    centres = (np.arange(n_steps, dtype=np.float64) + 0.5) * rate - 0.5
    return Timeline(centres, rate, n_frames)


def alignment_timeline(alignment: np.ndarray, n_frames: int, rate: float | None = None) -> Timeline:
    """The steps of a true ``alignment (M,)`` (at least one step >= 0): real steps at their
    frame, padding steps (-1) continued at ``rate`` frames per step (default: the mean rate of
    the real steps, at least 1) beyond the first and last real step."""
    alignment = np.asarray(alignment)
    real = np.flatnonzero(alignment >= 0)
    if not rate:
        span = float(alignment[real[-1]] - alignment[real[0]])
        rate = 1.0 if real.size < 2 else max(1.0, span / float(real[-1] - real[0]))
    index = np.arange(alignment.size, dtype=np.float64)
    frames = alignment[real].astype(np.float64)
    centres = np.interp(index, real, frames)
    centres[: real[0]] = frames[0] - (real[0] - index[: real[0]]) * rate
    centres[real[-1] + 1 :] = frames[-1] + (index[real[-1] + 1 :] - real[-1]) * rate
    return Timeline(centres, float(rate), n_frames)


def file_timeline(side: SideInfo, n_frames: int, kind: SideInfoKind) -> Timeline:
    """The timeline of validated whole-file side information over a mixture of ``n_frames``
    frames: one step per frame for frame-aligned kinds, the true alignment where ``side``
    carries one, else uniform coverage at ``side.rate`` (default: the whole file)."""
    if kind.timing == "aligned":
        return aligned_timeline(side.n_steps)
    if side.alignment is not None and np.any(side.alignment >= 0):
        return alignment_timeline(side.alignment, n_frames, side.rate)
    return uniform_timeline(side.n_steps, n_frames, side.rate)


def chunk_margin(kind: SideInfoKind, pad_range: tuple[int, int]) -> int:
    """Extra steps a chunk gets on each side of its own: the middle of ``pad_range`` for the
    kinds trained with padding (A3.x, M2), else none."""
    return round(sum(pad_range) / 2) if kind.padded else 0


@dataclass(frozen=True)
class StepMap:
    """Whole-file side information ``values (M, D)`` on its :class:`Timeline`, handed out per
    chunk with ``margin`` extra steps on each side (:func:`chunk_margin`)."""

    values: np.ndarray
    timeline: Timeline
    margin: int

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def rate(self) -> float:
        return self.timeline.rate

    @property
    def centres(self) -> np.ndarray:
        return self.timeline.centres

    def window(self, first_frame: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Side information for frames ``[first_frame, first_frame + n_frames)``: ``values
        (m, D)`` float32 and ``steps (m,)`` int64, the global step of every row (-1, and zero
        values, for the steps added beyond the side information's ends); see
        :meth:`Timeline.window`."""
        steps = self.timeline.window(first_frame, n_frames, self.margin)
        return take_rows(self.values, steps), steps


def step_map(
    side: SideInfo, n_frames: int, kind: SideInfoKind, pad_range: tuple[int, int]
) -> StepMap:
    """The :class:`StepMap` of validated whole-file side information for a mixture of
    ``n_frames`` frames (:func:`file_timeline`, :func:`chunk_margin`)."""
    return StepMap(side.values, file_timeline(side, n_frames, kind), chunk_margin(kind, pad_range))


__all__ = [
    "StepMap",
    "Timeline",
    "aligned_timeline",
    "alignment_timeline",
    "chunk_margin",
    "coarse_frames",
    "file_timeline",
    "outside_frames",
    "step_map",
    "take_rows",
    "training_timeline",
    "uniform_timeline",
    "warped_frames",
]
