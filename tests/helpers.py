"""Small datasets that tests write for themselves (MUSDB18-HQ layout, FLOAT WAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from wiass.data.tracks import STEMS

SR = 8000


def write_track(
    folder: Path,
    seconds: float = 3.0,
    seed: int = 0,
    sample_rate: int = SR,
    silent_vocals: bool = True,
    channels: int = 2,
) -> dict[str, np.ndarray]:
    """Write mixture.wav and the four stems (FLOAT WAV); return them as (channels, samples).

    The stems are noise of different levels; the vocals are silent (exact zeros) over their
    second quarter when ``silent_vocals``.
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    stems = {
        name: (0.1 * (k + 1) * rng.standard_normal((channels, n))).astype(np.float32)
        for k, name in enumerate(STEMS)
    }
    if silent_vocals:
        stems["vocals"][:, n // 4 : n // 2] = 0.0
    stems["mixture"] = sum(stems[name] for name in STEMS)
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in stems.items():
        sf.write(folder / f"{name}.wav", audio.T, sample_rate, subtype="FLOAT")
    return stems


def write_dataset(root: Path, n_train: int = 4, n_test: int = 1) -> Path:
    """A MUSDB18-HQ-layout folder of ``n_train`` + ``n_test`` short noise tracks."""
    for i in range(n_train):
        write_track(root / "train" / f"song {i}", seconds=3.0 + 0.5 * i, seed=i)
    for i in range(n_test):
        write_track(root / "test" / f"test song {i}", seconds=3.0, seed=100 + i)
    return root


TINY_MODEL = {
    "hidden_size": 8,
    "mix_layers": 1,
    "side_layers": 1,
    "decoder_layers": 1,
    "side_hidden_size": 8,
    "attention_size": 8,
}
"""Model sizes of the untrained separators that tests build (fast; their outputs mean nothing)."""
