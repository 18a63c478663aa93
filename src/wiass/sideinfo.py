"""Side information: the kinds of DESIGN.md, their generation from the true target, user files.

Every kind yields a :class:`SideInfo`: ``values`` of shape ``(M, D)`` (float32) and, for kinds
generated from the true target, the true ``alignment``: for every step ``m`` the frame of the
excerpt it describes, or ``-1`` for a padding step. The model never sees the alignment; it is
the reference against which the learned attention is scored.

Kinds (see :data:`KINDS`):

* ``none`` (BL1): no side information, ``D = 0``, values of shape ``(0, 0)``.
* ``random`` (BL2): uniform noise in ``[0, 1)`` of a random length, ``D = 1``, no alignment.
* ``A1``: frame-aligned binary activity of the target (:func:`frame_activity`), ``M = N``.
* ``A2``: activity at a coarser time scale of ``r`` frames per step, ``M = ceil(N / r)``.
* ``A3.1``: A2 padded at both ends with steps taken from the activity just outside the excerpt.
* ``A3.2``: A3.1 with a random smooth monotonic time warp instead of a uniform rate.
* ``M1``: frame-aligned band features of the target (:func:`band_features`), ``D = bands``.
* ``M2``: M1 put through the A3.1 treatment.

Coarser time scales sample the frame values at one frame per step (nearest neighbour): step
``m`` takes the value of the frame ``alignment[m]`` (the centre of the block of frames it
stands for). Averaging or voting over the block would blur what the step says, and no single
frame would then be "the" frame the step describes; sampling keeps the true alignment exact:
``values[m] == frame_values[alignment[m]]`` for every aligned step.

:func:`generate` takes the target's magnitudes over a context window. What it needs of them per
frame, the frame energy (activity kinds) or the band powers (M1/M2), is a
:class:`TargetFeatures` (:func:`target_features`); both scale with the square of a gain and a
stretch of frames is a slice, so a dataset computes them once per track and generates every
excerpt's side information from a window of them with :func:`generate_from_features`, without
an STFT per excerpt. The activity threshold and the band scaling then apply within the window,
exactly as :func:`generate` does on the window's magnitudes.

At separation time a user gives side information as an activity string (``0011100``), a text
or CSV file (one value per line, or one row of ``D`` values per line), an Audacity label file
(``start<TAB>end<TAB>label`` lines marking the sung regions) or a ``.npy`` array; see
:func:`user_side_info`, :func:`read_side_info`, :func:`parse_activity` and :func:`read_labels`.
Every problem with such input is a :class:`~wiass.errors.SideInfoError` naming the input.
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from wiass.config import SideInfoConfig
from wiass.errors import ConfigError, SideInfoError, WiassWarning

MAX_STEPS = 100_000
"""Longest side information accepted from a user (steps)."""

MAX_TEXT_BYTES = 64 * 1024 * 1024
"""Largest text, CSV or label file read (bytes)."""

BAND_FMIN_HZ = 50.0
"""Lower edge of the lowest band of M1/M2; the highest band ends at the Nyquist frequency."""

BAND_RANGE_DB = 80.0
"""Dynamic range of the band features: ``[max - 80 dB, max]`` maps onto ``[0, 1]``."""

_TEXT_SUFFIXES = (".txt", ".csv")
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass
class SideInfo:
    """Side information for one excerpt or file.

    ``values``: ``(M, D)`` float32. ``alignment``: ``(M,)`` int64, the excerpt frame each step
    describes or -1 for padding; None when unknown (user input, ``random``, ``none``).
    ``kind``: the kind's name. ``rate``: frames per step (the mean for A3.2) where known.
    """

    values: np.ndarray
    alignment: np.ndarray | None
    kind: str
    rate: float | None = None

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True)
class SideInfoKind:
    """One kind of side information.

    ``features``: what each step holds, ``activity`` (binary, D = 1), ``bands`` (D = bands),
    ``noise`` or ``nothing``. ``timing``: ``aligned`` (one step per frame), ``coarse``
    (``r`` frames per step), ``offset`` (coarse and padded from the context), ``warped``
    (time-warped and padded) or ``unrelated``. ``generated``: the values are derived from the
    true target. ``has_alignment``: :func:`generate` returns a true alignment.
    """

    name: str
    description: str
    features: str
    timing: str
    generated: bool
    has_alignment: bool

    def dim(self, params: SideInfoConfig) -> int:
        """Number of values per step (D) under ``params``."""
        return {"nothing": 0, "noise": 1, "activity": 1, "bands": params.bands}[self.features]

    @property
    def binary(self) -> bool:
        """Whether every value is 0 or 1."""
        return self.features == "activity"


_KIND_TABLE = (
    ("none", "BL1: no side information, no attention", "nothing", "unrelated"),
    ("random", "BL2: uniform noise of a random length", "noise", "unrelated"),
    ("A1", "frame-aligned binary activity", "activity", "aligned"),
    ("A2", "binary activity at a coarser time scale", "activity", "coarse"),
    ("A3.1", "coarse activity at an unknown offset (padded from context)", "activity", "offset"),
    ("A3.2", "A3.1 with a smooth monotonic time warp", "activity", "warped"),
    ("M1", "frame-aligned log band magnitudes", "bands", "aligned"),
    ("M2", "M1 at a coarser time scale and an unknown offset", "bands", "offset"),
)

KINDS: dict[str, SideInfoKind] = {
    name: SideInfoKind(
        name,
        description,
        features,
        timing,
        generated=features in ("activity", "bands"),
        has_alignment=features in ("activity", "bands"),
    )
    for name, description, features, timing in _KIND_TABLE
}
"""The side-information kinds by name, in the order of DESIGN.md."""


def get_kind(name: str) -> SideInfoKind:
    """The kind called ``name`` (case-insensitive); SideInfoError listing the known names."""
    for kind in KINDS.values():
        if kind.name.lower() == str(name).lower():
            return kind
    raise SideInfoError(f"unknown side-information kind '{name}' (known: {', '.join(KINDS)})")


def kind_dim(kind: str, params: SideInfoConfig) -> int:
    """Values per step (D) of ``kind``; 0 for ``none``, which the model treats as BL1."""
    return get_kind(kind).dim(params)


def check_params(params: SideInfoConfig) -> None:
    """Raise ConfigError when the generation parameters cannot be used."""
    ranges = {
        "rate_range": (params.rate_range, 1),
        "pad_range": (params.pad_range, 0),
        "random_length_range": (params.random_length_range, 1),
    }
    for name, ((low, high), minimum) in ranges.items():
        if low < minimum or high < low:
            raise ConfigError(
                f"side_info.{name}: expected {minimum} <= low <= high, got ({low}, {high})"
            )
    if params.bands < 1:
        raise ConfigError(f"side_info.bands: expected at least 1, got {params.bands}")
    if not (math.isfinite(params.warp_strength) and params.warp_strength >= 0):
        raise ConfigError(f"side_info.warp_strength: expected >= 0, got {params.warp_strength}")
    if not (math.isfinite(params.activity_threshold_db) and params.activity_threshold_db > 0):
        raise ConfigError(
            f"side_info.activity_threshold_db: expected > 0, got {params.activity_threshold_db}"
        )


# ---------------------------------------------------------------------------------------------
# Frame values: activity and band features


def frame_activity(target_mag: np.ndarray, threshold_db: float) -> np.ndarray:
    """Binary activity ``(N,)`` of a target magnitude spectrogram ``(N, F)``.

    A frame is active when its energy (sum of squared magnitudes) is above zero and its level
    ``10*log10(energy + 1e-12)`` is above the loudest frame's level minus ``threshold_db``.
    """
    return energy_activity(frame_energy(target_mag), threshold_db)


def frame_energy(target_mag: np.ndarray) -> np.ndarray:
    """Energy ``(N,)`` float64 of every frame of a magnitude spectrogram ``(N, F)``: the sum of
    its squared magnitudes."""
    mag = np.asarray(target_mag, dtype=np.float64)
    return np.sum(mag * mag, axis=-1)


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


# ---------------------------------------------------------------------------------------------
# Generation from the true target


@dataclass(frozen=True)
class TargetFeatures:
    """What generation needs from the target's magnitudes, one row per STFT frame.

    ``features``: the kind's features, ``activity`` or ``bands``. ``power (N, D)``: for
    ``activity`` the frame energy (:func:`frame_energy`, ``D = 1``), for ``bands`` the mean
    band power (:func:`band_power`, ``D = bands``). Both are linear in the squared magnitudes:
    a target scaled by a gain has the features :meth:`scaled` by it, and a stretch of frames has
    a :meth:`window` of them. A dataset computes them once per track and generates the side
    information of every excerpt from a window (:func:`generate_from_features`) instead of
    from the excerpt's magnitudes.
    """

    features: str
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


def generate(
    kind: str,
    target_mag: np.ndarray,
    first: int,
    n_frames: int,
    rng: np.random.Generator,
    params: SideInfoConfig,
    sample_rate: int = 16000,
    n_fft: int | None = None,
) -> SideInfo:
    """Side information of ``kind`` for an excerpt, generated from the true target.

    ``target_mag (N_ctx, F)``: target magnitudes over a context window around the excerpt,
    which is frames ``[first, first + n_frames)`` of it. The activity threshold refers to the
    loudest frame of the whole window, and the padding of A3.x/M2 reads the frames outside the
    excerpt (zeros beyond the window). ``sample_rate`` and ``n_fft`` (default ``2 * (F - 1)``)
    place the bands of M1/M2. The returned alignment indexes excerpt frames ``0..n_frames-1``
    (-1 for padding). All randomness comes from ``rng``. Equals :func:`generate_from_features`
    of the window's :func:`target_features`.
    """
    spec = get_kind(kind)
    check_params(params)
    features = None
    if spec.generated:
        mag = np.asarray(target_mag, dtype=np.float32)
        if mag.ndim != 2:
            raise ValueError(
                f"generate: excerpt [{first}, {first + n_frames}) does not fit a target of "
                f"shape {mag.shape}"
            )
        features = target_features(spec.name, mag, params, sample_rate, n_fft)
    return generate_from_features(spec.name, features, first, n_frames, rng, params)


def generate_from_features(
    kind: str,
    features: TargetFeatures | None,
    first: int,
    n_frames: int,
    rng: np.random.Generator,
    params: SideInfoConfig,
) -> SideInfo:
    """:func:`generate` from the :class:`TargetFeatures` of the context window (None for the
    kinds that are not generated from the target: ``none``, ``random``)."""
    spec = get_kind(kind)
    check_params(params)
    if spec.features == "nothing":
        return SideInfo(np.zeros((0, 0), dtype=np.float32), None, spec.name)
    if spec.features == "noise":
        return random_side_info(rng, params)
    if features is None or features.features != spec.features:
        found = None if features is None else features.features
        raise ValueError(f"generate: kind {spec.name} needs {spec.features} features, got {found}")
    if n_frames < 1 or first < 0 or first + n_frames > features.n_frames:
        raise ValueError(
            f"generate: excerpt [{first}, {first + n_frames}) does not fit a target of "
            f"{features.n_frames} frames"
        )
    frame_values = features.frame_values(params)
    frames, padding, rate = _timing(spec.timing, n_frames, rng, params)
    values = _sample(frame_values, first + frames)
    alignment = np.where(padding, -1, frames).astype(np.int64)
    return SideInfo(values, alignment, spec.name, rate)


def random_side_info(rng: np.random.Generator, params: SideInfoConfig) -> SideInfo:
    """BL2's meaningless side information: uniform noise ``(L, 1)`` in ``[0, 1)``, with ``L``
    drawn from ``params.random_length_range`` (inclusive); no alignment."""
    low, high = params.random_length_range
    length = int(rng.integers(low, high + 1))
    return SideInfo(rng.random((length, 1)).astype(np.float32), None, "random")


def _timing(
    timing: str, n_frames: int, rng: np.random.Generator, params: SideInfoConfig
) -> tuple[np.ndarray, np.ndarray, float]:
    """Step-to-frame map of a timing: ``(frames, padding, rate)``.

    ``frames (M,)`` int64: the excerpt-relative frame whose value each step takes (negative or
    ``>= n_frames`` for padding read from the context); ``padding (M,)`` bool marks the padding
    steps; ``rate``: the (mean) number of frames per step.
    """
    if timing == "aligned":
        return np.arange(n_frames, dtype=np.int64), np.zeros(n_frames, dtype=bool), 1.0
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
        return inner, np.zeros(inner.size, dtype=bool), mean_rate
    pad_low, pad_high = params.pad_range
    n_left, n_right = (int(k) for k in rng.integers(pad_low, pad_high + 1, size=2))
    left, right = outside_frames(n_frames, mean_rate, n_left, n_right)
    frames = np.concatenate([left, inner, right])
    padding = np.ones(frames.size, dtype=bool)
    padding[n_left : n_left + inner.size] = False
    return frames, padding, mean_rate


def _sample(frame_values: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Rows of ``frame_values (N_ctx, D)`` at context ``frames (M,)``; zeros outside the window."""
    values = np.zeros((frames.size, frame_values.shape[1]), dtype=np.float32)
    inside = (frames >= 0) & (frames < frame_values.shape[0])
    values[inside] = frame_values[frames[inside]]
    return values


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
    """Excerpt-relative frames of the padding steps at ``rate`` frames per step.

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
# User side information at separation time


def user_side_info(
    source: str | os.PathLike[str],
    kind: str,
    params: SideInfoConfig,
    *,
    step_rate: float | None = None,
    duration: float | None = None,
) -> SideInfo:
    """Side information a user gave on the command line: a file path or an activity string.

    An existing path (or anything with a file suffix) is read by :func:`read_side_info`; a
    string of 0s and 1s is an activity string (:func:`parse_activity`).
    """
    text = os.fspath(source)
    if re.fullmatch(r"[01\s]+", text) and not _is_file(text):
        spec = _user_kind(kind, f"activity string '{_short(text)}'")
        values = parse_activity(text)
        return SideInfo(check_values(values, spec.name, params, "activity string"), None, spec.name)
    return read_side_info(text, kind, params, step_rate=step_rate, duration=duration)


def _is_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an existing file (False for names the OS cannot even look up)."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def _is_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an existing folder (False for names the OS cannot look up)."""
    try:
        return Path(path).is_dir()
    except OSError:
        return False


def parse_activity(text: str, *, source: str = "activity string") -> np.ndarray:
    """Activity ``(M, 1)`` float32 from a string of 0s and 1s (whitespace is ignored)."""
    compact = re.sub(r"\s+", "", text)
    if not compact:
        raise SideInfoError(f"{source}: empty (expected 0s and 1s such as 0011100)")
    bad = re.search(r"[^01]", compact)
    if bad:
        raise SideInfoError(
            f"{source}: character '{bad.group()}' at position {bad.start() + 1} is not 0 or 1"
        )
    if len(compact) > MAX_STEPS:
        raise SideInfoError(f"{source}: {len(compact)} steps, more than the limit {MAX_STEPS}")
    ones = np.frombuffer(compact.encode("ascii"), dtype=np.uint8) == ord("1")
    return ones.astype(np.float32)[:, None]


def read_side_info(
    path: str | os.PathLike[str],
    kind: str,
    params: SideInfoConfig,
    *,
    step_rate: float | None = None,
    duration: float | None = None,
) -> SideInfo:
    """Read and validate a user's side-information file for ``kind``.

    ``.npy``: a ``(M, D)`` or ``(M,)`` array. ``.txt`` / ``.csv``: one value per line or one
    row of D values per line (separated by commas, semicolons, tabs or spaces; blank lines and
    ``#`` comments are skipped, and so is a non-numeric header line); for activity kinds also a
    single line of 0s and 1s, or an Audacity label file (``start<TAB>end[<TAB>label]`` in
    seconds, the sung regions) turned into activity at ``step_rate`` steps per second over
    ``duration`` seconds (default: the end of the last label). The alignment is unknown (None).
    """
    file = Path(path)
    spec = _user_kind(kind, str(file))
    if not _is_file(file):
        problem = "not a file" if _is_dir(file) else "no such side-information file"
        raise SideInfoError(f"{_short(str(file), 80)}: {problem}")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        values = _read_npy(file)
    elif suffix in _TEXT_SUFFIXES:
        values = _read_text(file, spec, step_rate, duration)
    else:
        raise SideInfoError(
            f"{file}: unsupported side-information file type '{suffix or file.name}' "
            "(use .npy, .txt or .csv)"
        )
    return SideInfo(check_values(values, spec.name, params, str(file)), None, spec.name)


def read_labels(
    path: str | os.PathLike[str], duration: float | None, step_rate: float
) -> np.ndarray:
    """Activity ``(M, 1)`` float32 from an Audacity label file; see :func:`labels_to_activity`.

    ``duration``: length of the audio in seconds (None: the end of the last label).
    """
    file = Path(path)
    if not file.is_file():
        raise SideInfoError(f"{file}: no such label file")
    lines = _text_lines(file)
    if not lines:
        raise SideInfoError(f"{file}: empty label file")
    return labels_to_activity(_parse_labels(file, lines, duration), duration, step_rate, file)


def labels_to_activity(
    regions: np.ndarray,
    duration: float | None,
    step_rate: float,
    source: str | os.PathLike[str] = "labels",
) -> np.ndarray:
    """Activity ``(M, 1)`` float32 at ``step_rate`` steps per second from ``regions (K, 2)``.

    ``M = ceil(duration * step_rate)``; step m covers ``[m, m + 1) / step_rate`` seconds and is
    active when a region ``[start, end]`` touches it (a point label marks its own step).
    """
    regions = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
    if not (math.isfinite(step_rate) and step_rate > 0):
        raise SideInfoError(f"{source}: step rate must be a positive number, got {step_rate}")
    if duration is not None:
        _warn_labels_past_end(regions, duration, step_rate, source)
    if duration is None:
        duration = float(regions[:, 1].max()) if len(regions) else 0.0
    if not (math.isfinite(duration) and duration > 0):
        raise SideInfoError(f"{source}: duration must be positive, got {duration} s")
    n_steps = max(1, math.ceil(duration * step_rate - 1e-9))
    if n_steps > MAX_STEPS:
        raise SideInfoError(
            f"{source}: {duration} s at {step_rate} steps/s is {n_steps} steps, "
            f"more than the limit {MAX_STEPS}"
        )
    starts = np.floor(regions[:, 0] * step_rate).astype(np.int64)
    stops = np.maximum(starts + 1, np.ceil(regions[:, 1] * step_rate).astype(np.int64))
    starts, stops = np.clip(starts, 0, n_steps), np.clip(stops, 0, n_steps)
    change = np.zeros(n_steps + 1, dtype=np.int64)
    np.add.at(change, starts, 1)
    np.add.at(change, stops, -1)
    return (np.cumsum(change[:-1]) > 0).astype(np.float32)[:, None]


def _warn_labels_past_end(
    regions: np.ndarray, duration: float, step_rate: float, source: str | os.PathLike[str]
) -> None:
    """Warn when labels end more than a step after the audio's ``duration`` (seconds)."""
    end = float(regions[:, 1].max()) if len(regions) else 0.0
    if end > duration + 1.0 / step_rate:
        warnings.warn(
            f"{source}: the labels end at {end:g} s, after the end of the audio "
            f"({duration:g} s); assumed the audio's length: activity after {duration:g} s "
            "is dropped",
            WiassWarning,
            stacklevel=4,
        )


def check_values(values: np.ndarray, kind: str, params: SideInfoConfig, source: str) -> np.ndarray:
    """Validate user side information for ``kind``; returns it as ``(M, D)`` float32.

    Checks: numeric, 1-D or 2-D, at least one and at most :data:`MAX_STEPS` steps, D values
    per step as the kind needs, finite, 0/1 for activity kinds, ``[0, 1]`` for band kinds
    (the range of :func:`band_features`).
    """
    spec = get_kind(kind)
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise SideInfoError(f"{source}: values of type {array.dtype} are not real numbers")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SideInfoError(f"{source}: shape {array.shape}, expected (steps, values per step)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SideInfoError(f"{source}: no side information (shape {array.shape})")
    if array.shape[0] > MAX_STEPS:
        raise SideInfoError(f"{source}: {array.shape[0]} steps, more than the limit {MAX_STEPS}")
    dim = spec.dim(params)
    if array.shape[1] != dim:
        raise SideInfoError(
            f"{source}: {array.shape[1]} values per step, kind {spec.name} needs {dim}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = array.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if bad.size:
        raise SideInfoError(f"{source}: non-finite value (NaN or infinity) at step {bad[0] + 1}")
    if spec.binary:
        bad = np.flatnonzero((out != 0) & (out != 1))
        if bad.size:
            value = out.ravel()[bad[0]]
            raise SideInfoError(
                f"{source}: value {value:g} at step {bad[0] + 1} is not 0 or 1 "
                f"(kind {spec.name} takes binary activity)"
            )
    elif spec.features == "bands":
        bad = np.flatnonzero(((out < 0) | (out > 1)).any(axis=1))
        if bad.size:
            raise SideInfoError(
                f"{source}: values at step {bad[0] + 1} lie outside [0, 1] "
                f"(kind {spec.name} takes band features scaled like wiass band_features)"
            )
    return np.ascontiguousarray(out)


def _user_kind(kind: str, source: str) -> SideInfoKind:
    spec = get_kind(kind)
    if not spec.generated:
        raise SideInfoError(f"{source}: side-information kind '{spec.name}' takes no user input")
    return spec


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _read_npy(file: Path) -> np.ndarray:
    try:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise SideInfoError(f"{file}: not a readable .npy array ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise SideInfoError(f"{file}: not a single .npy array")
    if array.ndim in (1, 2) and array.shape[0] > MAX_STEPS:
        raise SideInfoError(f"{file}: {array.shape[0]} steps, more than the limit {MAX_STEPS}")
    if array.dtype.kind not in "biuf":
        raise SideInfoError(f"{file}: values of type {array.dtype} are not real numbers")
    return np.array(array)


def _text_lines(file: Path) -> list[tuple[int, str]]:
    """Numbered lines of a text file, without blank lines and ``#`` comments."""
    try:
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise SideInfoError(f"{file}: {size} bytes, larger than the limit {MAX_TEXT_BYTES}")
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SideInfoError(f"{file}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SideInfoError(f"{file}: not a UTF-8 text file") from exc
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    return [(number, line) for number, line in lines if line and not line.startswith("#")]


def _read_text(
    file: Path, spec: SideInfoKind, step_rate: float | None, duration: float | None
) -> np.ndarray:
    lines = _text_lines(file)
    if not lines:
        raise SideInfoError(f"{file}: empty file (no side-information values)")
    if _looks_like_labels(lines, spec):
        if not spec.binary:
            raise SideInfoError(
                f"{file}: a label file gives activity, but kind {spec.name} takes band values"
            )
        if step_rate is None:
            raise SideInfoError(f"{file}: a label file needs a step rate (steps per second)")
        return labels_to_activity(_parse_labels(file, lines, duration), duration, step_rate, file)
    if spec.binary and len(lines) == 1 and re.fullmatch(r"[01]{2,}", lines[0][1]):
        return parse_activity(lines[0][1], source=str(file))
    rows = _numeric_rows(file, lines)
    if spec.binary and len(rows) == 1:
        return np.asarray(rows[0], dtype=np.float64)[:, None]
    return np.asarray(rows, dtype=np.float64)


def _numbers(fields: list[str]) -> list[float] | None:
    try:
        return [float(field) for field in fields]
    except ValueError:
        return None


def _numeric_rows(file: Path, lines: list[tuple[int, str]]) -> list[list[float]]:
    if _numbers(_SEPARATORS.split(lines[0][1])) is None and len(lines) > 1:
        lines = lines[1:]
    rows: list[list[float]] = []
    width_line = lines[0][0]
    for number, line in lines:
        fields = _SEPARATORS.split(line)
        row = _numbers(fields)
        if row is None:
            token = next(f for f in fields if _numbers([f]) is None)
            raise SideInfoError(f"{file}: line {number}: '{_short(token)}' is not a number")
        if rows and len(row) != len(rows[0]):
            raise SideInfoError(
                f"{file}: line {number} has {len(row)} values, line {width_line} has {len(rows[0])}"
            )
        rows.append(row)
    return rows


def _looks_like_labels(lines: list[tuple[int, str]], spec: SideInfoKind) -> bool:
    """An Audacity label file: tab-separated ``start, end[, label]`` lines.

    A two-column numeric table only counts as labels for activity kinds (whose D is 1, so it
    cannot be a table of values for them).
    """
    data = [line for _, line in lines if not line.startswith("\\")]
    if not data or "\t" not in data[0]:
        return False
    fields = data[0].split("\t")
    if len(fields) not in (2, 3) or _numbers(fields[:2]) is None:
        return False
    return spec.binary or (len(fields) == 3 and _numbers(fields[2:]) is None)


def _parse_labels(file: Path, lines: list[tuple[int, str]], duration: float | None) -> np.ndarray:
    """Regions ``(K, 2)`` in seconds from label lines; spectral-selection lines are skipped."""
    regions = []
    for number, line in lines:
        if line.startswith("\\"):
            continue
        fields = line.split("\t")
        times = _numbers(fields[:2]) if len(fields) >= 2 else None
        if times is None:
            raise SideInfoError(
                f"{file}: line {number}: expected 'start<TAB>end[<TAB>label]' in seconds"
            )
        start, end = times
        if not (math.isfinite(start) and math.isfinite(end)):
            raise SideInfoError(f"{file}: line {number}: non-finite time")
        if start < 0:
            raise SideInfoError(f"{file}: line {number}: start {start:g} s is negative")
        if end < start:
            raise SideInfoError(f"{file}: line {number}: end {end:g} s is before start {start:g} s")
        if duration is not None and start >= duration:
            raise SideInfoError(
                f"{file}: line {number}: start {start:g} s is after the end of the audio "
                f"({duration:g} s)"
            )
        regions.append((start, end))
    if not regions:
        raise SideInfoError(f"{file}: no labels")
    return np.asarray(regions, dtype=np.float64)


__all__ = [
    "BAND_FMIN_HZ",
    "BAND_RANGE_DB",
    "KINDS",
    "MAX_STEPS",
    "SideInfo",
    "SideInfoKind",
    "TargetFeatures",
    "band_edges",
    "band_features",
    "band_matrix",
    "band_power",
    "check_params",
    "check_values",
    "coarse_frames",
    "energy_activity",
    "frame_activity",
    "frame_energy",
    "generate",
    "generate_from_features",
    "get_kind",
    "kind_dim",
    "labels_to_activity",
    "outside_frames",
    "parse_activity",
    "power_features",
    "random_side_info",
    "read_labels",
    "read_side_info",
    "target_features",
    "user_side_info",
    "warped_frames",
]
