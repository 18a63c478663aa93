"""Untrained tiny separators for the separation tests (fast; their outputs mean nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from helpers import TINY_MODEL

from wiass.config import Config
from wiass.separator import build_model, save_separator

MODEL_RATE = 8000
HOP = 64
TINY = {
    "audio": {"sample_rate": MODEL_RATE, "n_fft": 256, "hop": HOP},
    "side_info": {"kind": "A3.1", "pad_range": [2, 4], "rate_range": [2, 3], "bands": 6},
    "data": {"excerpt_seconds": 1.0},
    "model": TINY_MODEL,
}


def tiny_config(kind: str) -> Config:
    data = {**TINY, "side_info": {**TINY["side_info"], "kind": kind}}
    return Config.from_dict(data)


def save_tiny(folder: Path, kinds: tuple[str, ...]) -> dict[str, Path]:
    """An untrained tiny checkpoint per kind in ``folder`` (seeded, with a non-trivial
    normalisation)."""
    paths = {}
    for number, kind in enumerate(kinds):
        torch.manual_seed(number)
        config = tiny_config(kind)
        model = build_model(config)
        model.set_normalization(torch.full((129,), 0.5), torch.full((129,), 2.0))
        paths[kind] = folder / f"{kind}.pt"
        save_separator(paths[kind], model, config)
    return paths


def noise(channels: int, seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((channels, round(seconds * rate)))).astype(np.float32)
