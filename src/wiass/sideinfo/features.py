"""Per-frame values of the true target that the generated kinds describe.

Activity kinds (A1, A2, A3.x) describe the frame activity: a frame is active when its energy is
above the loudest frame's energy minus ``activity_threshold_db``. Band kinds (M1, M2) describe
the mean power of a few log-spaced bands, log-compressed onto ``[0, 1]``.

What generation needs of the target per frame, the frame energy or the band powers, is a
:class:`TargetFeatures` (:func:`target_features`). Both are linear in the squared magnitudes, so
a target scaled by a gain has its features scaled and a stretch of frames has a slice of them:
a dataset computes them once per track and generates every excerpt's side information from a
window (:func:`~wiass.sideinfo.generate_from_features`) without an STFT per excerpt. The
activity threshold and the band scaling then apply within the window, exactly as
:func:`~wiass.sideinfo.generate` does on the window's magnitudes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from wiass.config import SideInfoConfig
from wiass.sideinfo.kinds import BAND_FMIN_HZ, BAND_RANGE_DB, Features, get_kind


def frame_activity(target_mag: np.ndarray, threshold_db: float) -> np.ndarray:
    """Binary activity ``(N,)`` of a target magnitude spectrogram ``(N, F)``.

    A frame is active when its energy (sum of squared magnitudes) is above zero and its level
    ``10*log10(energy + 1e-12)`` is above the loudest frame's level minus ``threshold_db``.
    """
    return energy_activity(frame_energy(target_mag), threshold_db)


ENERGY_BLOCK_FRAMES = 4096
"""Frames per block of :func:`frame_energy`."""


def frame_energy(target_mag: np.ndarray) -> np.ndarray:
    """Energy ``(N,)`` float64 of every frame of a magnitude spectrogram ``(N, F)``: the sum of
    its squared magnitudes, computed in float64 a block of frames at a time (a whole song's
    spectrogram is not copied)."""
    mag = np.asarray(target_mag)
    rows = mag.reshape(-1, mag.shape[-1])
    energy = np.empty(rows.shape[0], np.float64)
    for first in range(0, rows.shape[0], ENERGY_BLOCK_FRAMES):
        block = rows[first : first + ENERGY_BLOCK_FRAMES].astype(np.float64)
        energy[first : first + block.shape[0]] = np.sum(block * block, axis=-1)
    return energy.reshape(mag.shape[:-1])


def energy_activity(energy: np.ndarray, threshold_db: float) -> np.ndarray:
    """:func:`frame_activity` from the frame energies ``(N,)`` (:func:`frame_energy`)."""
    energy = np.asarray(energy, dtype=np.float64)
    if energy.size == 0:
        return np.zeros(energy.shape, dtype=bool)
    level = 10.0 * np.log10(energy + 1e-12)
    return (energy > 0) & (level > level.max() - threshold_db)


def band_edges(sample_rate: int, bands: int, fmin: float = BAND_FMIN_HZ) -> np.ndarray:
    """``bands + 1`` log-spaced band edges in Hz, from ``fmin`` to the Nyquist frequency."""
    nyquist = sample_rate / 2.0
    if not 0 < fmin < nyquist:
        raise ValueError(f"band edges: fmin {fmin} Hz must lie below Nyquist ({nyquist} Hz)")
    return np.geomspace(fmin, nyquist, bands + 1)


def band_matrix(sample_rate: int, n_fft: int, bands: int) -> np.ndarray:
    """Pooling matrix ``(F, bands)``: column b averages the bins of band b.

    Bin k (at ``k * sample_rate / n_fft`` Hz) belongs to the band whose edges surround it; the
    last band includes Nyquist; bins below the lowest edge belong to none. A band too narrow to
    hold a bin takes the bin nearest its geometric centre (never DC), so every column sums to 1.
    """
    edges = band_edges(sample_rate, bands)
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    index = np.searchsorted(edges, freqs, side="right") - 1
    index[freqs == edges[-1]] = bands - 1
    weights = np.zeros((freqs.size, bands))
    inside = (index >= 0) & (index < bands)
    weights[np.flatnonzero(inside), index[inside]] = 1.0
    centres = np.sqrt(edges[:-1] * edges[1:])
    for band in np.flatnonzero(weights.sum(axis=0) == 0):
        weights[1 + np.argmin(np.abs(freqs[1:] - centres[band])), band] = 1.0
    return weights / weights.sum(axis=0, keepdims=True)


@functools.lru_cache(maxsize=16)
def _pooling(sample_rate: int, n_fft: int, bands: int) -> np.ndarray:
    """:func:`band_matrix` as float32, computed once per setting (read-only)."""
    matrix = band_matrix(sample_rate, n_fft, bands).astype(np.float32)
    matrix.flags.writeable = False
    return matrix


def band_features(
    target_mag: np.ndarray,
    sample_rate: int,
    n_fft: int,
    bands: int,
    range_db: float = BAND_RANGE_DB,
) -> np.ndarray:
    """M1 features ``(N, bands)`` float32 in ``[0, 1]`` of a magnitude spectrogram ``(N, F)``.

    Each band's mean power (over its bins, :func:`band_matrix`) is log-compressed to
    ``10*log10(power + 1e-12)`` dB and mapped linearly from ``[max - range_db, max]`` onto
    ``[0, 1]`` (clipped), where ``max`` is the loudest band of the whole spectrogram given.
    A band with no energy is 0, like an inactive frame. The features do not depend on the
    overall gain of the target.
    """
    return power_features(band_power(target_mag, sample_rate, n_fft, bands), range_db)


def band_power(target_mag: np.ndarray, sample_rate: int, n_fft: int, bands: int) -> np.ndarray:
    """Mean power ``(N, bands)`` float32 of each band (:func:`band_matrix`) in every frame of a
    magnitude spectrogram ``(N, F)``: squared magnitudes, linear in the target's power."""
    mag = np.asarray(target_mag, dtype=np.float32)
    if mag.shape[-1] != n_fft // 2 + 1:
        raise ValueError(f"band features: {mag.shape[-1]} bins do not match n_fft={n_fft}")
    return (mag * mag) @ _pooling(sample_rate, n_fft, bands)


def power_features(power: np.ndarray, range_db: float = BAND_RANGE_DB) -> np.ndarray:
    """:func:`band_features` from the band powers ``(N, bands)`` (:func:`band_power`)."""
    power = np.asarray(power, dtype=np.float64)
    if power.size == 0 or power.max() <= 0:
        return np.zeros(power.shape, dtype=np.float32)
    level = 10.0 * np.log10(power + 1e-12)
    scaled = np.clip((level - level.max() + range_db) / range_db, 0.0, 1.0)
    return np.where(power > 0, scaled, 0.0).astype(np.float32)


@dataclass(frozen=True)
class TargetFeatures:
    """What generation needs from the target's magnitudes, one row per STFT frame.

    ``features``: the kind's features, ``activity`` or ``bands``. ``power (N, D)``: for
    ``activity`` the frame energy (:func:`frame_energy`, ``D = 1``), for ``bands`` the mean
    band power (:func:`band_power`, ``D = bands``). Both are linear in the squared magnitudes:
    a target scaled by a gain has the features :meth:`scaled` by it, and a stretch of frames has
    a :meth:`window` of them. A dataset computes them once per track and generates the side
    information of every excerpt from a window
    (:func:`~wiass.sideinfo.generate_from_features`) instead of
    from the excerpt's magnitudes.
    """

    features: Features
    power: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.power.shape[0])

    def window(self, start: int, stop: int) -> TargetFeatures:
        """The features of frames ``[start, stop)``."""
        return TargetFeatures(self.features, self.power[start:stop])

    def scaled(self, gain: float) -> TargetFeatures:
        """The features of the target multiplied by ``gain`` (float64 powers)."""
        if gain == 1.0:
            return self
        return TargetFeatures(self.features, self.power * np.float64(gain) ** 2)

    def frame_values(self, params: SideInfoConfig) -> np.ndarray:
        """Value of every frame ``(N, D)`` float32: activity (:func:`energy_activity`, relative
        to the loudest frame of these frames) or band features (:func:`power_features`)."""
        if self.features == "activity":
            active = energy_activity(self.power[:, 0], params.activity_threshold_db)
            return active[:, None].astype(np.float32)
        return power_features(self.power)


def target_features(
    kind: str,
    target_mag: np.ndarray,
    params: SideInfoConfig,
    sample_rate: int = 16000,
    n_fft: int | None = None,
) -> TargetFeatures:
    """The :class:`TargetFeatures` that ``kind`` (a generated kind) needs of the target
    magnitudes ``(N, F)``; ``sample_rate`` and ``n_fft`` (default ``2 * (F - 1)``) place the
    bands of M1/M2."""
    spec = get_kind(kind)
    if not spec.generated:
        raise ValueError(f"target features: kind {spec.name} is not generated from the target")
    mag = np.asarray(target_mag, dtype=np.float32)
    if mag.ndim != 2:
        raise ValueError(f"target features: expected magnitudes (frames, bins), got {mag.shape}")
    if spec.features == "activity":
        return TargetFeatures(spec.features, frame_energy(mag)[:, None])
    bins = n_fft if n_fft is not None else 2 * (mag.shape[1] - 1)
    return TargetFeatures(spec.features, band_power(mag, sample_rate, bins, params.bands))


__all__ = [
    "TargetFeatures",
    "band_edges",
    "band_features",
    "band_matrix",
    "band_power",
    "energy_activity",
    "frame_activity",
    "frame_energy",
    "power_features",
    "target_features",
]
