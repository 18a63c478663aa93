"""Separation metrics: BSSEval v4 (museval-compatible numbers), PES, EPS and their aggregation.

Layouts
-------
The low-level functions use museval's layout, samples first:

* :func:`pes_eps` takes one source as ``(samples,)`` (mono) or ``(samples, channels)``;
* :func:`bss_eval_v4` takes all sources at once as ``(sources, samples, channels)``, or
  ``(sources, samples)`` for mono sources (exactly like ``numpy.atleast_3d`` in museval).

:func:`evaluate_track` is the wiass-facing entry point: it takes dicts of waveforms in the wiass
layout ``(channels, samples)`` (or ``(samples,)``) and converts at the boundary.

Definitions
-----------
* BSSEval v4 (Vincent et al. 2006; Liutkus et al. 2018), as computed by ``museval.evaluate(...,
  mode="v4")``: the estimate of source j is projected onto the span of the 512-tap delayed
  versions of (a) every channel of source j and (b) every channel of every reference source,
  with *one* set of distortion filters for the whole signal. Per frame, with ``s`` the true
  source image, ``P_j`` and ``P`` the two projections of the frame's references and ``e`` the
  estimate (all zero-padded by 511 samples, all channels together)::

      SDR = 10 log10 |s|^2 / |e - s|^2        ISR = 10 log10 |s|^2 / |P_j - s|^2
      SIR = 10 log10 |P_j|^2 / |P - P_j|^2    SAR = 10 log10 |P|^2 / |e - P|^2

  A frame is NaN for every source when, in that frame, any reference or any estimate is
  silent. museval calls a source silent when the sum over its channels is exactly zero at
  every sample (the same as "all samples zero" unless channels cancel exactly).
* PES (Predicted Energy at Silence): on each frame where the reference is silent (every sample
  of every channel exactly zero), the energy of the estimate in dB, ``10 log10(sum e^2 + 1e-12)``.
* EPS (Energy at Predicted Silence): on each frame where the estimate is silent, the energy of
  the reference in dB (also on frames where both are silent, -120 dB, unless
  ``eps_for_silent_target=False``, which reproduces the paper).

Aggregation (SiSEC convention): per track and target the median over frames of SDR/ISR/SIR/SAR
ignoring NaN frames and the mean of the PES/EPS values; over tracks the median and the mean of
those per-track values (see :func:`aggregate`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from wiass.errors import MetricsError

FILTERS_LEN = 512
"""Length of the distortion filters of BSSEval (museval's ``filters_len``)."""

ENERGY_FLOOR = 1e-12
"""Added to energies before taking decibels: an all-zero frame is -120 dB."""

BSS_METRICS = ("SDR", "ISR", "SIR", "SAR")
SILENCE_METRICS = ("PES", "EPS")

_GRAM_EPS = np.finfo(float).eps
_CONDITIONING_LIMIT = 1e-12
"""Below this (see :func:`_solve_block_toeplitz`) the Gram matrix counts as singular."""
_BLOCK_BYTES = 48 * 2**20
"""Rough size of the largest temporary spectra held at once (the work is done in chunks)."""


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


# --------------------------------------------------------------------------------------------
# BSSEval v4


class BssEvalScores(NamedTuple):
    """Framewise BSSEval v4 metrics in dB, each ``(sources, frames)``; NaN where undefined."""

    sdr: np.ndarray
    isr: np.ndarray
    sir: np.ndarray
    sar: np.ndarray


def _as_sources(x: np.ndarray, name: str) -> np.ndarray:
    """``(sources, samples[, channels])`` -> ``(sources, samples, channels)`` (no copy)."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or 0 in x.shape:
        raise MetricsError(
            f"{name}: expected (sources, samples, channels) or (sources, samples), "
            f"got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _signals(sources: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of every channel of every source as ``(sources * channels, n)``
    float64, zero past the end of the signal."""
    n_src, n_samples, n_chan = sources.shape
    out = np.zeros((n_src * n_chan, stop - start))
    end = min(stop, n_samples)
    if end > start:
        part = sources[:, start:end, :].transpose(0, 2, 1).reshape(n_src * n_chan, end - start)
        out[:, : end - start] = part
    return out


def _lagged_correlations(
    references: np.ndarray, estimates: np.ndarray, filters_len: int
) -> np.ndarray:
    """``r[k, x, y] = sum_t x(t) y(t + k)`` for ``0 <= k < filters_len``.

    ``x`` runs over the reference signals (source-major, then channel), ``y`` over the reference
    signals followed by the estimate signals; signals are zero outside ``[0, samples)``. Computed
    blockwise: the cross-spectra of all pairs are summed over blocks (a matrix product per
    frequency), so only one short inverse FFT per pair is needed and memory stays bounded.
    """
    n_samples = references.shape[1]
    n_fft = 1 << max(int(math.ceil(math.log2(16 * filters_len))), 8)
    block = n_fft - filters_len + 1
    n_blocks = -(-n_samples // block)
    n_x = references.shape[0] * references.shape[2]
    n_y = n_x + estimates.shape[0] * estimates.shape[2]
    per_block = (n_x + n_y) * (n_fft // 2 + 1) * 16 * 2
    chunk = max(1, _BLOCK_BYTES // per_block)
    cross = np.zeros((n_fft // 2 + 1, n_x, n_y), dtype=np.complex128)
    for first in range(0, n_blocks, chunk):
        count = min(chunk, n_blocks - first)
        start, stop = first * block, (first + count) * block
        short = _signals(references, start, stop).reshape(n_x, count, block)
        longer = np.concatenate(
            [
                _signals(references, start, stop + filters_len - 1),
                _signals(estimates, start, stop + filters_len - 1),
            ]
        )
        longer = sliding_window_view(longer, n_fft, axis=1)[:, ::block][:, :count]
        spec_x = scipy.fft.rfft(short, n=n_fft, axis=-1).transpose(2, 0, 1)
        spec_y = scipy.fft.rfft(longer, n=n_fft, axis=-1).transpose(2, 1, 0)
        cross += np.matmul(spec_x.conj(), spec_y)
    return scipy.fft.irfft(cross, n=n_fft, axis=0)[:filters_len]


class IllConditionedWarning(RuntimeWarning):
    """The references' Gram matrix is numerically singular: BSSEval scores are unreliable."""


def _solve_block_toeplitz(lags: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve the symmetric block-Toeplitz system ``sum_b R(a - b) c_b = d_a`` (``0 <= a < L``).

    ``R(k) = lags[..., k, :, :]`` for ``k >= 0`` and ``R(-k) = R(k)^T``; ``lags`` is
    ``(..., L, n, n)``, ``rhs`` is ``(..., L, n, m)``; leading axes are a batch. Block Levinson
    recursion (Whittle / Wiggins-Robinson): ``O(L^2 n^3)`` instead of ``O(L^3 n^3)`` for a dense
    factorisation. Returns ``(c (..., L, n, m), conditioning)`` where ``conditioning`` is the
    smallest eigenvalue of the final forward and backward prediction-error matrices scaled by
    ``diag(R(0))^(-1/2)`` on both sides (so independent of the signals' levels; the smallest
    over the batch): between 0 and 1 for a well-posed system, negative, tiny or NaN where the
    matrix is numerically singular.
    """
    *batch, length, n, _ = lags.shape
    m = rhs.shape[-1]
    # reversed[..., a, i, b] = R(L-1-i)[a, b]; transposed[..., a, k, b] = R(k)[b, a]
    reversed_rows = np.ascontiguousarray(np.swapaxes(lags[..., ::-1, :, :], -3, -2))
    transposed_rows = np.ascontiguousarray(np.moveaxis(lags, -3, -2).swapaxes(-3, -1))
    forward = np.zeros((*batch, length, n, n))
    backward = np.zeros((*batch, length + 1, n, n))  # block 0 stays zero: [0; B_p]
    solution = np.zeros((*batch, length, n, m))
    forward[..., 0, :, :] = np.eye(n)
    backward[..., 1, :, :] = np.eye(n)
    error_f = lags[..., 0, :, :].copy()
    error_b = error_f.copy()
    solution[..., 0, :, :] = np.linalg.solve(error_f, rhs[..., 0, :, :])
    for order in range(1, length):
        lag_row = reversed_rows[..., length - 1 - order : length - 1, :]
        lag_row = lag_row.reshape(*batch, n, order * n)
        delta_f = lag_row @ forward[..., :order, :, :].reshape(*batch, order * n, n)
        theta = lag_row @ solution[..., :order, :, :].reshape(*batch, order * n, m)
        delta_b = transposed_rows[..., 1 : order + 1, :].reshape(*batch, n, order * n) @ (
            backward[..., 1 : order + 1, :, :].reshape(*batch, order * n, n)
        )
        gain_f = np.linalg.solve(error_b, delta_f)
        gain_b = np.linalg.solve(error_f, delta_b)
        fwd_ext = forward[..., : order + 1, :, :]
        bwd_ext = backward[..., : order + 1, :, :]
        new_forward = fwd_ext - bwd_ext @ gain_f[..., None, :, :]
        new_backward = bwd_ext - fwd_ext @ gain_b[..., None, :, :]
        forward[..., : order + 1, :, :] = new_forward
        backward[..., 1 : order + 2, :, :] = new_backward
        error_f = error_f - delta_b @ gain_f
        error_b = error_b - delta_f @ gain_b
        step = np.linalg.solve(error_b, rhs[..., order, :, :] - theta)
        solution[..., : order + 1, :, :] += (
            backward[..., 1 : order + 2, :, :] @ step[..., None, :, :]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = 1.0 / np.sqrt(np.diagonal(lags[..., 0, :, :], axis1=-2, axis2=-1))
        norm = norm[..., :, None] * norm[..., None, :]
        smallest = np.minimum(
            np.linalg.eigvalsh(error_f * norm)[..., 0], np.linalg.eigvalsh(error_b * norm)[..., 0]
        )
    return solution, float(np.min(np.nan_to_num(smallest, nan=-1.0)))


def _dense_gram(lags: np.ndarray) -> np.ndarray:
    """The ``(L * n, L * n)`` matrix of :func:`_solve_block_toeplitz` from ``lags (L, n, n)``."""
    length, n, _ = lags.shape
    both = np.concatenate([np.swapaxes(lags[:0:-1], -1, -2), lags])  # R(-(L-1)) .. R(L-1)
    index = np.arange(length)[:, None] - np.arange(length)[None, :] + length - 1
    return both[index].transpose(0, 2, 1, 3).reshape(length * n, length * n)


def _solve_gram(lags: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Least-squares filters: solve ``(G + eps I) c = d`` for block-Toeplitz Gram matrices ``G``.

    ``lags (..., L, n, n)`` and ``rhs (..., L, n, m)`` as in :func:`_solve_block_toeplitz`
    (``eps`` is museval's). Where ``G`` is numerically singular, warn with
    :class:`IllConditionedWarning` and take museval's route on the dense matrix (LU, then least
    squares), whose result is as arbitrary there as museval's.
    """
    lags = lags.copy()
    lags[..., 0, :, :] += _GRAM_EPS * np.eye(lags.shape[-1])
    with np.errstate(all="ignore"):
        try:
            solution, conditioning = _solve_block_toeplitz(lags, rhs)
            if conditioning > _CONDITIONING_LIMIT and np.all(np.isfinite(solution)):
                return solution
        except np.linalg.LinAlgError:
            pass
    warnings.warn(
        "BSSEval: the delayed references are numerically linearly dependent (a reference "
        "without energy in some frequency band, e.g. synthetic audio without a noise floor, or "
        "duplicated references); the distortion filters are not determined and the scores are "
        "dominated by rounding errors (museval's as well)",
        IllConditionedWarning,
        stacklevel=4,
    )
    flat_lags = lags.reshape(-1, *lags.shape[-3:])
    flat_rhs = rhs.reshape(-1, *rhs.shape[-3:])
    out = np.empty(flat_rhs.shape)
    for index, (one_lags, one_rhs) in enumerate(zip(flat_lags, flat_rhs, strict=True)):
        gram = _dense_gram(one_lags)
        column = one_rhs.reshape(gram.shape[0], -1)
        try:
            out[index] = np.linalg.solve(gram, column).reshape(one_rhs.shape)
        except np.linalg.LinAlgError:
            out[index] = np.linalg.lstsq(gram, column, rcond=None)[0].reshape(one_rhs.shape)
    return out.reshape(rhs.shape)


def _distortion_filters(
    references: np.ndarray, estimates: np.ndarray, filters_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Time-invariant distortion filters of BSSEval v4, computed once on the whole signals.

    Returns ``(filters, own_filters)``, both ``(L, sources * channels, sources * channels)``:
    ``filters[a, x, e]`` is tap ``a`` of the filter from reference signal ``x`` to estimate
    signal ``e`` in the least-squares projection of ``e`` onto the delayed versions of all
    reference signals; ``own_filters`` is the same for the projection of each estimate onto its
    own source's channels only (zero between different sources). Signals are ordered source
    first, then channel.
    """
    n_src, _, n_chan = references.shape
    n_sig = n_src * n_chan
    corr = _lagged_correlations(references, estimates, filters_len)
    lags, rhs = corr[:, :, :n_sig], corr[:, :, n_sig:]
    filters = _solve_gram(lags, rhs)
    own_filters = np.zeros_like(filters)
    if n_src == 1:
        own_filters[:] = filters
        return filters, own_filters
    blocks = [slice(j * n_chan, (j + 1) * n_chan) for j in range(n_src)]
    own = _solve_gram(
        np.stack([lags[:, b, b] for b in blocks]), np.stack([rhs[:, b, b] for b in blocks])
    )
    for j, block in enumerate(blocks):
        own_filters[:, block, block] = own[j]
    return filters, own_filters


def _silent_sources(sources: np.ndarray, channel_axis: int, sample_axis: int) -> np.ndarray:
    """museval's silence test: the sum over channels is exactly zero at every sample.

    Returns ``sources`` reduced over both axes (bool). The channel sum is built by adding
    channel slices (much faster than a reduction over a short innermost axis).
    """
    channels = np.moveaxis(sources, channel_axis, 0)
    channel_sum = channels[0]
    for channel in channels[1:]:
        channel_sum = channel_sum + channel
    if sample_axis > channel_axis:
        sample_axis -= 1
    return ~np.any(channel_sum, axis=sample_axis)


def _frames(sources: np.ndarray, first: int, count: int, hop: int, length: int) -> np.ndarray:
    """Frames ``first .. first + count - 1`` as ``(count, sources * channels, length)`` float64."""
    n_src, _, n_chan = sources.shape
    view = sliding_window_view(sources, length, axis=1)
    view = view[:, first * hop : (first + count - 1) * hop + 1 : hop]
    out = np.empty((count, n_src, n_chan, length))
    out[:] = view.transpose(1, 0, 2, 3)
    return out.reshape(count, n_src * n_chan, length)


def _ratio_db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``10 log10(num / den)``, +inf where ``den`` is zero (as museval)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 10.0 * np.log10(num / den)
    return np.where(den == 0, np.inf, ratio)


def bss_eval_v4(
    references: np.ndarray,
    estimates: np.ndarray,
    win: int,
    hop: int,
    *,
    filters_len: int = FILTERS_LEN,
) -> BssEvalScores:
    """Framewise BSSEval v4 (SDR, ISR, SIR, SAR), the numbers of ``museval.evaluate(mode="v4")``.

    Args:
        references: true sources ``(sources, samples, channels)``, or ``(sources, samples)`` for
            mono (museval layout; float32 or float64).
        estimates: estimated sources, same shape, ``estimates[j]`` estimating ``references[j]``.
        win: frame length in samples; frames start every ``hop`` samples and there are
            ``floor((samples - win) / hop) + 1`` of them (the incomplete tail is not evaluated),
            or a single frame of the whole signal when ``win >= samples`` (as museval).
        hop: hop between frame starts in samples.
        filters_len: taps of the distortion filters (museval: 512).

    Returns:
        :class:`BssEvalScores` ``(sdr, isr, sir, sar)``, each ``(sources, frames)`` float64 dB.
        Frames where any reference or any estimate is silent are NaN for every source. Where a
        source is silent over the whole signal museval raises; here every frame is NaN instead.

    Warns with :class:`IllConditionedWarning` when the delayed references are numerically
    linearly dependent. Near that point (references without energy in a frequency band and
    without a noise floor, e.g. band-limited synthetic audio in float32) the distortion filters
    are ill-determined and museval's numbers, like these, are dominated by rounding errors;
    values above ~150 dB (near-perfect estimates) are rounding noise too.

    The distortion filters are computed once from whole-signal correlations (one block-Levinson
    solve of the block-Toeplitz Gram system of the delayed references); the per-frame
    projections and energies are computed for batches of frames in the frequency domain
    (Parseval).
    """
    refs = _as_sources(references, "references")
    ests = _as_sources(estimates, "estimates")
    if refs.shape != ests.shape:
        raise MetricsError(
            f"references {refs.shape} and estimates {ests.shape} must have the same shape "
            "(sources, samples, channels)"
        )
    _check_win_hop(win, hop)
    _check_positive_int("filters_len", filters_len)
    n_src, n_samples, n_chan = refs.shape
    length = min(win, n_samples)
    n_frames = 1 if win >= n_samples else (n_samples - win) // hop + 1
    scores = np.full((4, n_src, n_frames), np.nan)
    if _silent_sources(refs, 2, 1).any() or _silent_sources(ests, 2, 1).any():
        return BssEvalScores(*scores)

    filters, own_filters = _distortion_filters(refs, ests, filters_len)
    n_fft = scipy.fft.next_fast_len(length + filters_len - 1, real=True)
    filter_spec = scipy.fft.rfft(filters, n=n_fft, axis=0).transpose(1, 2, 0).copy()
    own_spec = scipy.fft.rfft(own_filters, n=n_fft, axis=0).transpose(1, 2, 0).copy()
    del filters, own_filters
    weights = np.full(n_fft // 2 + 1, 2.0 / n_fft)
    weights[0] = 1.0 / n_fft
    if n_fft % 2 == 0:
        weights[-1] = 1.0 / n_fft

    n_sig = n_src * n_chan
    per_frame = n_sig * (2 * length * 8 + 6 * (n_fft // 2 + 1) * 16)
    chunk = max(1, _BLOCK_BYTES // per_frame)
    for first in range(0, n_frames, chunk):
        count = min(chunk, n_frames - first)
        ref_frames = _frames(refs, first, count, hop, length)
        est_frames = _frames(ests, first, count, hop, length)
        shape = (count, n_src, n_chan, length)
        silent = _silent_sources(ref_frames.reshape(shape), 2, 3).any(axis=1)
        silent |= _silent_sources(est_frames.reshape(shape), 2, 3).any(axis=1)
        keep = np.flatnonzero(~silent)
        if keep.size == 0:
            continue
        ref_spec = scipy.fft.rfft(ref_frames[keep], n=n_fft, axis=-1)
        est_spec = scipy.fft.rfft(est_frames[keep], n=n_fft, axis=-1)
        del ref_frames, est_frames
        ratios = _frame_ratios(ref_spec, est_spec, filter_spec, own_spec, weights, n_src)
        scores[:, :, first + keep] = ratios.transpose(0, 2, 1)
    return BssEvalScores(*scores)


def _frame_ratios(
    ref_spec: np.ndarray,
    est_spec: np.ndarray,
    filter_spec: np.ndarray,
    own_spec: np.ndarray,
    weights: np.ndarray,
    n_src: int,
) -> np.ndarray:
    """SDR, ISR, SIR, SAR of a batch of frames from their spectra.

    ``ref_spec``, ``est_spec``: ``(frames, signals, freq)`` rFFTs of the zero-padded frames;
    ``filter_spec``, ``own_spec``: ``(signals, signals, freq)`` rFFTs of the distortion filters;
    ``weights``: Parseval weights ``(freq,)``. Returns ``(4, frames, sources)``.
    """
    count, n_sig, _ = ref_spec.shape
    proj = np.einsum("txf,xef->tef", ref_spec, filter_spec)
    own = np.einsum("txf,xef->tef", ref_spec, own_spec)

    def energy(spec: np.ndarray) -> np.ndarray:
        power = spec.real**2 + spec.imag**2
        return (power @ weights).reshape(count, n_src, n_sig // n_src).sum(axis=-1)

    true = energy(ref_spec)
    sdr = _ratio_db(true, energy(est_spec - ref_spec))
    isr = _ratio_db(true, energy(own - ref_spec))
    sir = _ratio_db(energy(own), energy(proj - own))
    sar = _ratio_db(energy(proj), energy(est_spec - proj))
    return np.stack([sdr, isr, sir, sar])


# --------------------------------------------------------------------------------------------
# per-track scores and aggregation


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
    """Scores of every target of one track; ``win`` and ``hop`` are in samples."""

    targets: dict[str, TargetScores]
    sample_rate: int
    win: int
    hop: int

    def summary(self) -> dict[str, dict[str, float]]:
        """``{target: TargetScores.summary()}``; the input of :func:`aggregate`."""
        return {name: scores.summary() for name, scores in self.targets.items()}

    def to_dict(self) -> dict[str, Any]:
        """Framewise values and framing as a JSON-ready dict."""
        return {
            "sample_rate": self.sample_rate,
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
    return TrackScores(targets=targets, sample_rate=int(sample_rate), win=win, hop=hop)
