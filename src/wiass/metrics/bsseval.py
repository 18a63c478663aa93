"""BSSEval v4 (museval-compatible numbers) of :mod:`wiass.metrics`, and when to distrust them.

When the scores are unreliable. The distortion filters are fitted once on the whole signals
and then applied to every frame; where the delayed references are (nearly) linearly dependent,
e.g. a band without energy, the filters take huge, arbitrary gains there, which the whole
signals hide and the frames (cut out with a rectangular window) do not. :func:`bss_eval_v4`
therefore also solves for the filters as if every reference had an independent white noise
floor :data:`FLOOR_DB` (-100 dB) below its power, far below any recording's, scores every frame
with both and warns with :class:`IllConditionedWarning` when a per-source median (over frames)
of ISR, SIR or SAR moves by more than :data:`SENSITIVITY_DB` (0.01 dB; frames whose values
reach 60 dB, which the floor itself moves, are left out), or when the Gram matrix is
numerically singular. Measured (two broadband stereo sources of 6 s, the second 3 dB
quieter; estimate = source + 10 % of the other + white noise 40 dB below the references; 1 s
frames; "move": the largest move of a median, scores of the first source):

| references | move (dB) | SIR | SAR | warns |
| --- | ---: | ---: | ---: | --- |
| 44.1 kHz | 3e-9 | 23.1 | 41.3 | no |
| low-passed at 15.5 kHz (255-tap FIR), float32 / 16 bit | 0.002 / 0.001 | 23.1 | 40.5 | no |
| resampled to 16 kHz by soxr MQ | 0.004 | 23.1 | 40.8 | no |
| resampled to 22.05 kHz by soxr HQ | 0.09 | 23.1 | 39.1 | yes |
| resampled to 16 kHz by soxr HQ (``wiass.audio.resample``) | 0.26 | 23.1 | 36.8 | yes |
| the same, mono sources | 1e-7 | 20.1 | 40.1 | no |
| resampled to 16 kHz by soxr VHQ | 8 | 19.3 | 21.9 | yes |
| low-passed by a 1023-tap Kaiser FIR, float32 | 52 | -8.4 | 0.0 | yes |

The check costs one more solve and one more projection of every frame.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from wiass.errors import MetricsError
from wiass.metrics.gram import _solve_gram
from wiass.metrics.silence import _check_positive_int, _check_win_hop

FILTERS_LEN = 512
"""Length of the distortion filters of BSSEval (museval's ``filters_len``)."""

BSS_METRICS = ("SDR", "ISR", "SIR", "SAR")

FLOOR_DB = -100.0
"""Level (relative to each reference's power) of the noise floor of the sensitivity check."""

SENSITIVITY_DB = 0.01
"""Largest move of a median ISR/SIR/SAR under that noise floor that counts as well-conditioned."""

_CHECKED_BELOW_DB = -FLOOR_DB - 40.0
"""Values whose magnitude reaches this (60 dB) are left out of the check."""

_BLOCK_BYTES = 48 * 2**20
"""Rough size of the largest temporary spectra held at once (the work is done in chunks)."""


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
    """The references' Gram system is (nearly) singular: BSSEval scores are unreliable."""


def _distortion_filters(
    correlations: np.ndarray, n_src: int, n_chan: int, floor: float = 0.0
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Time-invariant distortion filters of BSSEval v4, computed once on the whole signals.

    ``correlations``: :func:`_lagged_correlations` of the references and estimates; ``floor``:
    see :func:`wiass.metrics.gram._solve_gram`. Returns ``(filters, own_filters, singular)``,
    the filters ``(L, sources * channels, sources * channels)``: ``filters[a, x, e]`` is tap
    ``a`` of the filter from reference signal ``x`` to estimate signal ``e`` in the
    least-squares projection of ``e`` onto the delayed versions of all reference signals;
    ``own_filters`` is the same for the projection of each estimate onto its own source's
    channels only (zero between different sources). Signals are ordered source first, then
    channel. ``singular``: whether a Gram matrix was numerically singular.
    """
    n_sig = n_src * n_chan
    lags, rhs = correlations[:, :, :n_sig], correlations[:, :, n_sig:]
    filters, singular = _solve_gram(lags, rhs, floor)
    own_filters = np.zeros_like(filters)
    if n_src == 1:
        own_filters[:] = filters
        return filters, own_filters, singular
    blocks = [slice(j * n_chan, (j + 1) * n_chan) for j in range(n_src)]
    own, own_singular = _solve_gram(
        np.stack([lags[:, b, b] for b in blocks]), np.stack([rhs[:, b, b] for b in blocks]), floor
    )
    for j, block in enumerate(blocks):
        own_filters[:, block, block] = own[j]
    return filters, own_filters, singular or own_singular


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

    Warns with :class:`IllConditionedWarning` when the scores are not determined by the audio
    (see the module docstring): the delayed references are numerically linearly dependent, or
    a noise floor 100 dB below them would move a median ISR/SIR/SAR by more than 0.01 dB.
    museval's numbers are then as unreliable; values above ~150 dB (near-perfect estimates) are
    rounding noise too.

    The distortion filters are computed once from whole-signal correlations (one block-Levinson
    solve of the block-Toeplitz Gram system of the delayed references, and one more for the
    check); the per-frame projections and energies are computed for batches of frames in the
    frequency domain (Parseval).
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
    n_frames = 1 if win >= n_samples else (n_samples - win) // hop + 1
    if _silent_sources(refs, 2, 1).any() or _silent_sources(ests, 2, 1).any():
        return BssEvalScores(*np.full((4, n_src, n_frames), np.nan))
    correlations = _lagged_correlations(refs, ests, filters_len)
    filters, own_filters, singular = _distortion_filters(correlations, n_src, n_chan)
    filter_sets = [(filters, own_filters)]
    if not singular:
        floor = 10.0 ** (FLOOR_DB / 10.0)
        filter_sets.append(_distortion_filters(correlations, n_src, n_chan, floor)[:2])
    del correlations
    scores, *floored = _score_frames(refs, ests, filter_sets, win, hop)
    if singular:
        _warn_ill_conditioned("the delayed references are numerically linearly dependent")
    else:
        metric, move = _largest_move(scores, floored[0])
        if move > SENSITIVITY_DB:
            _warn_ill_conditioned(
                f"a noise floor {-FLOOR_DB:g} dB below the references moves a median {metric} "
                f"by {move:.2g} dB (the delayed references are nearly linearly dependent)"
            )
    return BssEvalScores(*scores)


def _warn_ill_conditioned(reason: str) -> None:
    warnings.warn(
        f"BSSEval scores not determined by the audio: {reason}; a band without energy (audio "
        "resampled to a lower rate, synthetic audio without a noise floor) or references "
        "that are (almost) copies of each other; museval's SIR/SAR are as unreliable",
        IllConditionedWarning,
        stacklevel=3,
    )


def _largest_move(scores: np.ndarray, floored: np.ndarray) -> tuple[str, float]:
    """The metric among ISR, SIR, SAR whose per-source median moves most between ``scores``
    and ``floored`` (both ``(4, sources, frames)``), and by how much.

    The medians are taken over the frames where both values are finite and below
    :data:`_CHECKED_BELOW_DB`: a ratio of ``x`` dB moves by about ``10^((x - 100) / 10)`` dB
    under the floor itself (the 155 dB SAR of an estimate that sums the references exactly
    moves by several dB), which says nothing about the conditioning.
    """
    worst, name = 0.0, BSS_METRICS[1]
    for index in range(1, len(BSS_METRICS)):
        for source in range(scores.shape[1]):
            a, b = scores[index, source], floored[index, source]
            both = (np.abs(a) < _CHECKED_BELOW_DB) & (np.abs(b) < _CHECKED_BELOW_DB)
            if both.any():
                move = abs(float(np.median(a[both])) - float(np.median(b[both])))
                if move > worst:
                    worst, name = move, BSS_METRICS[index]
    return name, worst


def _score_frames(
    refs: np.ndarray,
    ests: np.ndarray,
    filter_sets: list[tuple[np.ndarray, np.ndarray]],
    win: int,
    hop: int,
) -> list[np.ndarray]:
    """Framewise ``(4, sources, frames)`` SDR, ISR, SIR, SAR for every ``(filters,
    own_filters)`` in ``filter_sets`` (see :func:`bss_eval_v4` for the frames); the frames are
    read and transformed once for all sets."""
    n_src, n_samples, n_chan = refs.shape
    filters_len = filter_sets[0][0].shape[0]
    length = min(win, n_samples)
    n_frames = 1 if win >= n_samples else (n_samples - win) // hop + 1
    n_fft = scipy.fft.next_fast_len(length + filters_len - 1, real=True)
    spectra = [
        [scipy.fft.rfft(f, n=n_fft, axis=0).transpose(1, 2, 0).copy() for f in pair]
        for pair in filter_sets
    ]
    weights = np.full(n_fft // 2 + 1, 2.0 / n_fft)
    weights[0] = 1.0 / n_fft
    if n_fft % 2 == 0:
        weights[-1] = 1.0 / n_fft
    scores = [np.full((4, n_src, n_frames), np.nan) for _ in filter_sets]
    per_frame = n_src * n_chan * (2 * length * 8 + 6 * (n_fft // 2 + 1) * 16)
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
        for out, (filter_spec, own_spec) in zip(scores, spectra, strict=True):
            ratios = _frame_ratios(ref_spec, est_spec, filter_spec, own_spec, weights, n_src)
            out[:, :, first + keep] = ratios.transpose(0, 2, 1)
    return scores


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
