"""Framing and PES/EPS (energy on silent frames) of :mod:`wiass.metrics`."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from wiass.errors import MetricsError

ENERGY_FLOOR = 1e-12
"""Added to energies before taking decibels: an all-zero frame is -120 dB."""

SILENCE_METRICS = ("PES", "EPS")

# --------------------------------------------------------------------------------------------
# framing


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise MetricsError(f"{name}={value!r}: must be a positive integer number of samples")


def _check_win_hop(win: int, hop: int) -> None:
    _check_positive_int("win", win)
    _check_positive_int("hop", hop)


def frame_count(n_samples: int, win: int, hop: int, *, incomplete_last_frame: bool) -> int:
    """Number of frames ``[k * hop, k * hop + win)`` of a signal of ``n_samples``.

    All frames are ``ceil((n_samples - win) / hop) + 1`` (at least one); only the last one can be
    shorter than ``win`` and it counts only when ``incomplete_last_frame`` is True. Without it
    this is museval's count, ``floor((n_samples - win) / hop) + 1`` (0 if the signal is shorter
    than one frame, where :func:`bss_eval_v4`, like museval, scores the whole signal as one
    frame).
    """
    _check_win_hop(win, hop)
    if n_samples <= 0:
        return 0
    n_all = max(-(-(n_samples - win) // hop), 0) + 1
    last_complete = (n_all - 1) * hop + win <= n_samples
    return n_all if (last_complete or incomplete_last_frame) else n_all - 1


# --------------------------------------------------------------------------------------------
# PES / EPS


class SilentFrameScores(NamedTuple):
    """Result of :func:`pes_eps`: values in dB and the indices of the frames they belong to."""

    pes: np.ndarray
    """PES of every frame with a silent reference, ``(len(pes_frames),)`` float64 dB."""
    eps: np.ndarray
    """EPS of every evaluated frame with a silent estimate, ``(len(eps_frames),)`` float64 dB."""
    pes_frames: np.ndarray
    """Indices of the frames whose reference is silent, int64."""
    eps_frames: np.ndarray
    """Indices of the frames whose estimate is silent (and, with ``eps_for_silent_target=False``,
    whose reference is not), int64."""


def _as_samples_channels(x: np.ndarray, name: str) -> np.ndarray:
    """``(samples,)`` or ``(samples, channels)`` -> C-contiguous ``(samples, channels)`` floats."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise MetricsError(
            f"{name}: expected (samples,) or (samples, channels), got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise MetricsError(f"{name}: expected real numbers, got dtype {x.dtype}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


def _complete_frame_values(
    x: np.ndarray, frames: np.ndarray, win: int, hop: int, kind: str
) -> np.ndarray:
    """Per complete frame ``k`` in ``frames`` (samples ``[k * hop, k * hop + win)`` of ``x``):
    ``kind="active"``: whether any sample of any channel is non-zero (bool);
    ``kind="energy"``: the sum of squares over samples and channels (float64).

    Works on blocks of ``gcd(win, hop)`` samples: only the blocks covered by the requested
    frames are read, each once, then every frame adds up its blocks.
    """
    if frames.size == 0:
        return np.zeros(0, dtype=bool if kind == "active" else np.float64)
    block = math.gcd(win, hop)
    span, step = win // block, hop // block
    first_block = frames * step
    n_blocks = int(first_block.max()) + span
    edges = np.bincount(first_block, minlength=n_blocks + 1)
    edges -= np.bincount(first_block + span, minlength=n_blocks + 1)
    covered = np.flatnonzero(np.cumsum(edges[:n_blocks]) > 0)
    blocks = x[: n_blocks * block].reshape(n_blocks, block * x.shape[1])[covered]
    if kind == "active":
        per_block = np.zeros(n_blocks, dtype=np.int64)
        per_block[covered] = np.any(blocks, axis=1)
    else:
        blocks = blocks.astype(np.float64, copy=False)
        per_block = np.zeros(n_blocks)
        per_block[covered] = np.einsum("ij,ij->i", blocks, blocks)
    totals = sliding_window_view(per_block, span)[first_block].sum(axis=1)
    return totals > 0 if kind == "active" else totals


def _silent_frames(x: np.ndarray, win: int, hop: int, n_frames: int) -> np.ndarray:
    """Which of the first ``n_frames`` frames of ``x (samples, channels)`` are all zeros.

    A frame whose first or last sample is non-zero is active; only the others are read whole.
    The last frame may be incomplete (it then ends with the signal).
    """
    n_samples = x.shape[0]
    n_complete = min(n_frames, frame_count(n_samples, win, hop, incomplete_last_frame=False))
    starts = np.arange(n_complete) * hop
    probed = np.any(x[starts] != 0, axis=1) | np.any(x[starts + win - 1] != 0, axis=1)
    candidates = np.flatnonzero(~probed)
    silent = np.zeros(n_frames, dtype=bool)
    silent[candidates] = ~_complete_frame_values(x, candidates, win, hop, "active")
    if n_frames > n_complete:
        silent[-1] = not np.any(x[n_complete * hop :])
    return silent


def _frame_energies(x: np.ndarray, frames: np.ndarray, win: int, hop: int) -> np.ndarray:
    """Energy (sum of squares over samples and channels, float64) of the sorted ``frames`` of
    ``x (samples, channels)``; a frame reaching past the end is cut there (incomplete frame)."""
    n_complete = frame_count(x.shape[0], win, hop, incomplete_last_frame=False)
    complete = frames[frames < n_complete]
    energy = np.zeros(frames.size)
    energy[: complete.size] = _complete_frame_values(x, complete, win, hop, "energy")
    if frames.size > complete.size:  # the incomplete last frame
        tail = x[frames[-1] * hop :].astype(np.float64)
        energy[-1] = np.einsum("ij,ij->", tail, tail)
    return energy


def energy_db(energy: np.ndarray | float) -> np.ndarray:
    """Energy in decibels, ``10 log10(energy + 1e-12)``."""
    return 10.0 * np.log10(np.asarray(energy, dtype=np.float64) + ENERGY_FLOOR)


def pes_eps(
    reference: np.ndarray,
    estimate: np.ndarray,
    win: int,
    hop: int,
    *,
    eval_incomplete_last_frame: bool = False,
    eps_for_silent_target: bool = True,
) -> SilentFrameScores:
    """PES and EPS of one source, framewise.

    Args:
        reference: true source, ``(samples,)`` or ``(samples, channels)`` (museval layout).
        estimate: estimated source, same shape as ``reference``.
        win: frame length in samples.
        hop: hop between frame starts in samples.
        eval_incomplete_last_frame: also evaluate the last frame when it is shorter than ``win``
            (there are ``ceil((samples - win) / hop) + 1`` frames; only the last can be short).
        eps_for_silent_target: compute EPS also where the reference is silent too (-120 dB);
            False reproduces the paper (EPS only where the target is not silent).

    Returns:
        :class:`SilentFrameScores` ``(pes, eps, pes_frames, eps_frames)``; a frame is silent when
        all its samples in every channel are exactly zero.
    """
    ref = _as_samples_channels(reference, "reference")
    est = _as_samples_channels(estimate, "estimate")
    if ref.shape != est.shape:
        raise MetricsError(
            f"reference {ref.shape} and estimate {est.shape} must have the same shape "
            "(samples, channels)"
        )
    n_frames = frame_count(ref.shape[0], win, hop, incomplete_last_frame=eval_incomplete_last_frame)
    ref_silent = _silent_frames(ref, win, hop, n_frames)
    est_silent = _silent_frames(est, win, hop, n_frames)
    pes_frames = np.flatnonzero(ref_silent)
    eps_frames = np.flatnonzero(est_silent if eps_for_silent_target else est_silent & ~ref_silent)
    return SilentFrameScores(
        pes=energy_db(_frame_energies(est, pes_frames, win, hop)),
        eps=energy_db(_frame_energies(ref, eps_frames, win, hop)),
        pes_frames=pes_frames.astype(np.int64),
        eps_frames=eps_frames.astype(np.int64),
    )
