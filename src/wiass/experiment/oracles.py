"""Reference rows of Table 1 computed from the true stems with the model's STFT: the ideal
ratio mask (``IRM1``: |V| / (|V| + |A|)), the ideal binary mask (``IBM1``: |V| > |A|) and the
mixture as estimate (``Mix``), at each track's own rate and channels with the model's STFT
durations (:func:`native_stft`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from wiass.config import AudioConfig, Config
from wiass.data.tracks import Track
from wiass.errors import ConfigError
from wiass.experiment.evaluation import ScoreFiles
from wiass.scoring import score_vocals, track_references
from wiass.transforms import STFTConfig, istft, stft

ORACLES: tuple[str, ...] = ("IRM1", "IBM1", "Mix")


def native_stft(audio: AudioConfig, sample_rate: int) -> STFTConfig:
    """The model's STFT carried to ``sample_rate``: the same frame and hop durations, i.e.
    ``n_fft`` and ``hop`` scaled by ``sample_rate / audio.sample_rate`` and rounded to whole
    samples (the model's own STFT at its rate; 1024 / 256 at 16 kHz gives 2822 / 706 at
    44.1 kHz)."""
    scale = sample_rate / audio.sample_rate
    return STFTConfig(
        n_fft=max(2, round(audio.n_fft * scale)), hop=max(1, round(audio.hop * scale))
    )


def oracle_vocals(
    mixture: np.ndarray,
    vocals: np.ndarray,
    kind: str,
    config: STFTConfig,
    accompaniment: np.ndarray | None = None,
) -> np.ndarray:
    """Vocals estimate ``(C, T)`` of an oracle: ``IRM1`` / ``IBM1`` masks from the true
    ``vocals`` and ``accompaniment`` (default: mixture - vocals) applied to every channel's STFT,
    or ``Mix`` (the mixture itself; its accompaniment estimate is the mixture too, as museval's
    MIX baseline). All at the same rate; ``config`` is the STFT at that rate."""
    if kind == "Mix":
        return mixture.copy()
    if accompaniment is None:
        accompaniment = mixture - vocals
    mix_spec = stft(mixture, config)
    vocals_mag = stft(vocals, config).abs()
    accompaniment_mag = stft(accompaniment, config).abs()
    if kind == "IRM1":
        mask = vocals_mag / (vocals_mag + accompaniment_mag).clamp_min(1e-12)
    elif kind == "IBM1":
        mask = (vocals_mag > accompaniment_mag).to(vocals_mag.dtype)
    else:
        raise ConfigError(f"unknown oracle '{kind}' (known: {', '.join(ORACLES)})")
    return istft(mix_spec * mask, config, mixture.shape[-1]).numpy()


def evaluate_oracle(
    kind: str, tracks: Sequence[Track], config: Config, files: ScoreFiles | None = None
) -> dict[str, dict[str, Any]]:
    """Per-track scores of an oracle, computed and scored at each track's rate and channels
    with the model's STFT durations (:func:`native_stft`)."""
    scores = {}
    for track in tracks:
        references = track_references(track)
        stft_config = native_stft(config.audio, track.sample_rate)
        vocals = oracle_vocals(
            track.mixture, references["vocals"], kind, stft_config, references["accompaniment"]
        )
        accompaniment = track.mixture if kind == "Mix" else track.mixture - vocals
        scores[track.name], scored = score_vocals(track, vocals, accompaniment)
        if files is not None:
            files.write(track, scored, vocals, accompaniment)
    return scores
