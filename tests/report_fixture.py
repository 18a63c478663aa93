"""A small but valid run folder, as ``wiass demo`` writes it, for the report tests.

Real WAV files of noise (8 kHz) with exactly silent vocal regions, random attention matrices,
side information and true alignments, and a results.json whose numbers the tests choose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 8000
HOP_SECONDS = 256 / SR
SYSTEMS = (
    {"name": "BL1", "kind": "none", "description": "no side information, no attention"},
    {"name": "A3.1", "kind": "A3.1", "description": "vocal activity, coarse, unknown offset"},
    {"name": "M2", "kind": "M2", "description": "coarse vocal magnitude, unknown offset"},
)
SIDE_DIM = {"A3.1": 1, "M2": 8}
LEAK = {"BL1": 0.1, "A3.1": 0.01, "M2": 0.03}
"""Gain of the accompaniment leaking into each system's estimate."""
SUMMARY = {
    "BL1": {"SDR": 2.98, "SIR": 7.99, "SAR": 6.41, "ISR": 9.0, "PES": -44.89, "EPS": -25.58},
    "A3.1": {"SDR": 3.16, "SIR": 7.75, "SAR": 6.17, "ISR": 9.1, "PES": -85.20, "EPS": -34.53},
    "M2": {"SDR": 3.40, "SIR": 8.10, "SAR": 6.00, "ISR": 9.2, "PES": -70.00, "EPS": None},
}
"""The paper's Table 1 for BL1 and A3.1, invented numbers for M2 (EPS undefined)."""


def _summary_entry(values: dict[str, float | None]) -> dict[str, dict[str, float | None]]:
    return {
        metric: ({"mean": value} if metric in ("PES", "EPS") else {"median": value, "mean": value})
        for metric, value in values.items()
    }


def write_results(run: Path, tracks: list[str], summary: dict[str, dict[str, Any]]) -> None:
    """Write run/results.json for ``tracks`` and the systems of ``summary`` (values in dB)."""
    names = list(summary)
    results = {
        "wiass_version": "0.1.0",
        "created": "2024-05-01T12:00:00",
        "title": "wiass demo",
        "sample_rate": SR,
        "hop_seconds": HOP_SECONDS,
        "systems": [s for s in SYSTEMS if s["name"] in names],
        "tracks": [{"name": track, "seconds": 3.0} for track in tracks],
        "scores": {
            system: {
                track: {
                    **{m: (None if v is None else v + 0.1 * i) for m, v in values.items()},
                    "silent_target_frames": 1,
                    "silent_estimate_frames": 0,
                    "frames": 3,
                }
                for i, track in enumerate(tracks)
            }
            for system, values in summary.items()
        },
        "summary": {system: _summary_entry(values) for system, values in summary.items()},
    }
    (run / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


def _write_wav(path: Path, audio: np.ndarray, subtype: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio.T, SR, subtype=subtype)


def _write_alignment(folder: Path, kind: str, n_frames: int, rng: np.random.Generator) -> None:
    """Attention (frames pooled by 2) peaked near a true alignment with padding, side info."""
    steps, pad = 24, 3
    true = np.full(steps, -1, dtype=np.int64)
    true[pad:-pad] = np.linspace(0, n_frames - 1, steps - 2 * pad).round().astype(np.int64)
    centres = 2 * np.arange(n_frames // 2)[:, np.newaxis] + 0.5
    distance = np.where(true >= 0, centres - true, 1e3) / 3.0
    attention = np.exp(-0.5 * distance**2) + 0.05 * rng.random((n_frames // 2, steps))
    attention /= attention.sum(axis=1, keepdims=True)
    np.save(folder / "alignment.npy", attention.astype(np.float16))
    meta = {"frame_seconds": 2 * HOP_SECONDS, "steps": steps, "step_seconds": 0.1, "kind": kind}
    (folder / "alignment.json").write_text(json.dumps(meta), encoding="utf-8")
    values = rng.random((steps, SIDE_DIM[kind]))
    if kind.startswith("A"):
        values = (values > 0.4).astype(np.float32)
    np.save(folder / "side_info.npy", values.astype(np.float32))
    np.save(folder / "true_alignment.npy", true)


def write_fake_run(
    run: Path,
    tracks: tuple[str, ...] = ("song a", "song-b"),
    summary: dict[str, dict[str, Any]] | None = None,
    seconds: float = 3.0,
    subtype: str = "PCM_16",
) -> Path:
    """Write a complete run folder at ``run`` and return it.

    ``summary`` maps system -> metric -> dB value (default: SUMMARY); its systems are the ones
    written. The vocals are silent over their second third; each estimate is the vocals plus a
    system-dependent leak of the accompaniment.
    """
    summary = SUMMARY if summary is None else summary
    rng = np.random.default_rng(0)
    n = round(seconds * SR)
    for track in tracks:
        folder = run / "tracks" / track
        vocals = 0.2 * rng.standard_normal((1, n))
        vocals[:, n // 3 : 2 * n // 3] = 0.0
        accompaniment = 0.2 * rng.standard_normal((2, n))
        _write_wav(folder / "mixture.wav", vocals + accompaniment, subtype)
        _write_wav(folder / "vocals.wav", vocals, subtype)
        for system in summary:
            estimate = vocals + LEAK[system] * accompaniment[:1]
            _write_wav(folder / system / "vocals.wav", estimate, subtype)
            _write_wav(
                folder / system / "accompaniment.wav", vocals + accompaniment - estimate, subtype
            )
            if system in SIDE_DIM:
                _write_alignment(folder / system, system, n // 256 + 1, rng)
    write_results(run, list(tracks), summary)
    return run
