"""Side information at the rates people write it, brought into the rates a model was trained on.

A model of a coarse kind (A2, A3.x, M2) learned side information at ``side_info.rate_range``
frames per step (2 to 6 with the small presets: 10 to 31 steps per second at 16 kHz with a
256-sample hop). People write it at one step per frame or at one step every few seconds. Before
the model sees it, whole-file side information whose steps cover the file uniformly is resampled
on the step axis by a whole factor ``k``:

* coarser than the trained range: every step is *held* ``k`` times (a step of activity held for
  its duration says exactly what it said before, only in more steps);
* finer: every ``k``-th step is kept, the middle one of each block of ``k`` (as training samples
  a step at the middle frame of its block).

The factor brings the rate closest to the middle of the trained range. :class:`RateFit` keeps
the factor so that the alignment found for the model's steps can be given back per user step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from wiass.errors import SideInfoError, WiassWarning
from wiass.sideinfo.kinds import SideInfo

MAX_STEPS_PER_FRAME = 4.0
"""More steps per frame than this cannot describe the file (its side information is too long)."""

MAX_STEP_SECONDS = 30.0
"""A step longer than this says too little about the file (its side information is too short)."""

RATE_TOLERANCE = 0.1
"""Rates this close (a share) outside the trained range are left as they are."""


@dataclass(frozen=True)
class RateFit:
    """How user steps became model steps: ``held`` steps per user step (>= 1) or one model step
    per ``pooled`` user steps (>= 1); at most one of them is above 1."""

    held: int = 1
    pooled: int = 1

    def user_edges(self, model_starts: np.ndarray, model_ends: np.ndarray, n_user: int):
        """Start and end (any unit) of every user step ``(n_user,)`` from those of the model's
        steps: a held step spans its ``held`` copies; the user steps pooled into one model step
        share its span equally."""
        if self.held > 1:
            return model_starts[:: self.held][:n_user], model_ends[self.held - 1 :: self.held]
        index = np.arange(n_user)
        block, within = index // self.pooled, index % self.pooled
        width = (model_ends - model_starts)[block] / self.pooled
        starts = model_starts[block] + within * width
        return starts, starts + width


def fitting_factor(rate: float, rate_range: tuple[int, int]) -> RateFit:
    """The :class:`RateFit` that brings ``rate`` frames per step closest to the middle of
    ``rate_range`` (none when it lies in the range, give or take :data:`RATE_TOLERANCE`: a
    file's last step is often shorter)."""
    low, high = rate_range
    if low * (1.0 - RATE_TOLERANCE) <= rate <= high * (1.0 + RATE_TOLERANCE):
        return RateFit()
    middle = (low + high) / 2.0
    if rate > high:
        return RateFit(held=max(1, round(rate / middle)))
    return RateFit(pooled=max(1, round(middle / rate)))


def check_step_count(n_steps: int, n_frames: int, frame_rate: float, source: str) -> None:
    """SideInfoError unless ``n_steps`` steps spread over ``n_frames`` frames (``frame_rate``
    per second) could describe the file: at most :data:`MAX_STEPS_PER_FRAME` steps per frame,
    steps at most :data:`MAX_STEP_SECONDS` long."""
    seconds = n_frames / frame_rate
    if n_steps > MAX_STEPS_PER_FRAME * n_frames:
        raise SideInfoError(
            f"{source}: {n_steps} steps for {seconds:.1f} s of audio ({n_frames} frames) is more "
            f"than {MAX_STEPS_PER_FRAME:g} steps per frame: too long for this file"
        )
    if seconds / n_steps > MAX_STEP_SECONDS:
        raise SideInfoError(
            f"{source}: {n_steps} step(s) for {seconds:.1f} s of audio is one step per "
            f"{seconds / n_steps:.0f} s (at most {MAX_STEP_SECONDS:g} s): too short for this file"
        )


def fit_rate(
    side: SideInfo, n_frames: int, rate_range: tuple[int, int], source: str = "side information"
) -> tuple[SideInfo, RateFit]:
    """``side`` (steps covering ``n_frames`` frames uniformly) resampled into ``rate_range``,
    with the :class:`RateFit` used; warns in one line when the rate had to change."""
    rate = n_frames / side.n_steps
    fit = fitting_factor(rate, rate_range)
    if fit.held > 1:
        values = np.repeat(side.values, fit.held, axis=0)
    elif fit.pooled > 1:
        values = side.values[fit.pooled // 2 :: fit.pooled]
    else:
        return side, fit
    new_rate = n_frames / values.shape[0]
    how = f"each step held {fit.held} times" if fit.held > 1 else f"every {fit.pooled}th step"
    warnings.warn(
        f"{source}: {side.n_steps} steps over {n_frames} frames ({rate:.1f} frames per step) lie "
        f"outside the model's trained {rate_range[0]}-{rate_range[1]} frames per step; the "
        f"model gets {how} ({new_rate:.1f} frames per step)",
        WiassWarning,
        stacklevel=3,
    )
    return replace(side, values=np.ascontiguousarray(values)), fit


__all__ = [
    "MAX_STEPS_PER_FRAME",
    "MAX_STEP_SECONDS",
    "RATE_TOLERANCE",
    "RateFit",
    "check_step_count",
    "fit_rate",
    "fitting_factor",
]
