"""Side information generated from the true target, for training excerpts and whole tracks.

:func:`generate` takes the target's magnitudes over a context window around an excerpt;
:func:`generate_from_features` takes what the kind needs of them per frame
(:class:`~wiass.sideinfo.TargetFeatures`). The kind's timing places the steps on the excerpt's
frames (:func:`~wiass.sideinfo.timeline.training_timeline`), and each step takes the value of
the frame it describes (nearest neighbour): averaging or voting over a step's block would blur
what the step says, and no single frame would then be "the" frame the step describes; sampling
keeps the true alignment exact: ``values[m] == frame_values[alignment[m]]`` for every aligned
step. :func:`whole_track_side_info` gives a whole track's side information from its true target
(separation with the true target: the experiment, the demo, the benchmarks).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from wiass.config import Config, SideInfoConfig
from wiass.sideinfo.features import TargetFeatures, target_features
from wiass.sideinfo.kinds import SideInfo, check_params, get_kind
from wiass.sideinfo.timeline import take_rows, training_timeline
from wiass.transforms import magnitude


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
    of the window's :func:`~wiass.sideinfo.target_features`.
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
    """:func:`generate` from the :class:`~wiass.sideinfo.TargetFeatures` of the context window
    (None for the kinds that are not generated from the target: ``none``, ``random``)."""
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
    timeline = training_timeline(spec.timing, n_frames, rng, params)
    values = take_rows(frame_values, first + timeline.frames)
    return SideInfo(values, timeline.alignment, spec.name, timeline.rate)


def random_side_info(rng: np.random.Generator, params: SideInfoConfig) -> SideInfo:
    """BL2's meaningless side information: uniform noise ``(L, 1)`` in ``[0, 1)``, with ``L``
    drawn from ``params.random_length_range`` (inclusive); no alignment."""
    low, high = params.random_length_range
    length = int(rng.integers(low, high + 1))
    return SideInfo(rng.random((length, 1)).astype(np.float32), None, "random")


def whole_track_side_info(
    kind: str, config: Config, vocals: np.ndarray, index: int
) -> SideInfo | None:
    """Side information of ``kind`` over a whole track, generated from its true ``vocals``
    ``(C, T)`` at ``config.audio.sample_rate`` (the channels averaged) with ``config``'s STFT
    and side-information parameters, without padding (the whole track is there). None for the
    kinds not generated from the target (``none``; ``random``, whose noise
    :func:`wiass.inference.separate` draws per chunk).

    The ``index``-th track of a test set: the draw is seeded by ``index`` alone, and the frames
    per step of the coarse kinds cycle through ``side_info.rate_range`` with the index, so that
    the tracks cover every rate evenly.
    """
    if not get_kind(kind).generated:
        return None
    low, high = config.side_info.rate_range
    rate = low + index % (high - low + 1)
    params = replace(config.side_info, pad_range=(0, 0), rate_range=(rate, rate))
    target_mag = magnitude(np.asarray(vocals).mean(axis=0), config.audio.stft).numpy()
    return generate(
        kind,
        target_mag,
        0,
        target_mag.shape[0],
        np.random.default_rng(index),
        params,
        sample_rate=config.audio.sample_rate,
        n_fft=config.audio.n_fft,
    )


__all__ = [
    "MAX_DRIFT",
    "MAX_OFFSET_SECONDS",
    "drifted_side_info",
    "generate",
    "generate_from_features",
    "random_side_info",
    "whole_track_side_info",
]


MAX_DRIFT = 0.10
"""Largest tempo drift of :func:`drifted_side_info` (a share of the nominal rate)."""

MAX_OFFSET_SECONDS = 5.0
"""Largest offset of :func:`drifted_side_info`, in seconds."""


def drifted_side_info(
    kind: str,
    frame_values: np.ndarray,
    rate: float,
    frame_rate: float,
    rng: np.random.Generator,
) -> SideInfo:
    """Whole-song side information as a person writes it: ``len / rate`` steps at a nominal
    ``rate`` frames per step whose tempo drifts by a factor drawn from ``1 +- MAX_DRIFT`` and
    whose start is off by up to ``MAX_OFFSET_SECONDS`` (``frame_rate`` frames per second).

    ``frame_values (N, D)``: the kind's value of every frame of the true target
    (:meth:`TargetFeatures.frame_values`). Step m describes frame ``round(offset + (m * rate +
    (rate - 1) / 2) * stretch)``; steps that land outside the song are zero and their true
    alignment is -1.
    """
    n_frames = frame_values.shape[0]
    stretch = 1.0 + rng.uniform(-MAX_DRIFT, MAX_DRIFT)
    offset = rng.uniform(-MAX_OFFSET_SECONDS, MAX_OFFSET_SECONDS) * frame_rate
    n_steps = max(1, int(n_frames // rate))
    centre = np.arange(n_steps) * rate + (rate - 1) / 2.0
    described = np.round(offset + centre * stretch).astype(np.int64)
    inside = (described >= 0) & (described < n_frames)
    values = np.zeros((n_steps, frame_values.shape[1]), np.float32)
    values[inside] = frame_values[described[inside]]
    return SideInfo(values, np.where(inside, described, -1), kind, rate * stretch)
