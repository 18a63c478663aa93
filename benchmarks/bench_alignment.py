"""Whole-song alignment, measured the way users separate: through ``wiass.separate``.

For every test song of a synthetic (or stems) folder and every model given, side information of
the model's kind is generated from the true vocals over the *whole song*, stripped of its
alignment (as a user's file is), and separated twice: with the steps spread uniformly over the
file (``whole_song_alignment=False``, what wiass did before) and with the whole-song alignment.
Reported per model, placement and test set:

* ``acc``: share of the steps placed within +-1 step of the frame they describe (steps inside
  the audio), the alignment the user gets (``result.steps``: the step centres);
* ``median error``: of those placements, in frames and in milliseconds;
* test sets: ``r=2`` .. ``r=6`` frames per step (uniform rate, no offset), and ``drift``: a
  tempo drift of up to +-10 % and an unknown offset of up to +-5 s (steps describing frames
  outside the song are silent/zero), at 4 frames per step nominal;
* for activity models, ``1 step/s``: PES (mean energy of the estimate on the silent 1 s frames of
  the true vocals, dB) with the correct and the inverted activity at one step per second.

    python benchmarks/bench_alignment.py --data DIR --models A3.1.pt,M2.pt [--songs 10]

Prints Markdown tables and writes them to ``bench_alignment.md`` next to this script.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

import wiass
from wiass.audio import resample
from wiass.data.tracks import Track
from wiass.experiment import test_tracks
from wiass.inference.api import SeparationResult
from wiass.metrics import pes_eps
from wiass.separator import Separator, load_separator
from wiass.sideinfo import SideInfo, generate, target_features
from wiass.transforms import stft

HERE = Path(__file__).resolve().parent
RATES = (2, 3, 4, 5, 6)


def target_frames(separator: Separator, track: Track) -> np.ndarray:
    """Per-frame values ``(N, D)`` of the kind (activity or band features) of the true vocals
    at the model's rate."""
    vocals = resample(track.stems["vocals"], track.sample_rate, separator.sample_rate)
    mag = stft(vocals.mean(axis=0), separator.stft).abs().numpy()
    params, audio = separator.config.side_info, separator.config.audio
    features = target_features(separator.kind.name, mag, params, audio.sample_rate, audio.n_fft)
    return features.frame_values(params)


def uniform_side(separator: Separator, track: Track, rate: int, seed: int) -> SideInfo:
    """Whole-song side information at ``rate`` frames per step with its true alignment."""
    vocals = resample(track.stems["vocals"], track.sample_rate, separator.sample_rate)
    mag = stft(vocals.mean(axis=0), separator.stft).abs().numpy()
    params = replace(separator.config.side_info, pad_range=(0, 0), rate_range=(rate, rate))
    audio = separator.config.audio
    rng = np.random.default_rng(seed)
    kind = separator.kind.name
    return generate(kind, mag, 0, mag.shape[0], rng, params, audio.sample_rate, audio.n_fft)


def drifted_side(frames: np.ndarray, kind: str, rng: np.random.Generator) -> SideInfo:
    """Side information at 4 frames per step nominal whose tempo drifts by up to +-10 % and
    whose start is off by up to +-5 s (16 kHz, 256-sample hop)."""
    n_frames, rate = frames.shape[0], 4
    stretch, offset = 1.0 + rng.uniform(-0.1, 0.1), rng.uniform(-5, 5) * 16000 / 256
    n_steps = n_frames // rate
    described = np.round(offset + (np.arange(n_steps) * rate + 1.5) * stretch).astype(np.int64)
    inside = (described >= 0) & (described < n_frames)
    values = np.zeros((n_steps, frames.shape[1]), np.float32)
    values[inside] = frames[described[inside]]
    return SideInfo(values, np.where(inside, described, -1), kind)


def placement_errors(result: SeparationResult, truth: np.ndarray) -> np.ndarray:
    """Frames between where each step inside the audio was placed and where it belongs."""
    plan = result.steps
    centres = _per_user_step(plan.timeline.centres, plan)
    inside = truth >= 0
    return np.abs(centres[inside] - truth[inside])


def _per_user_step(centres: np.ndarray, plan) -> np.ndarray:
    if plan.fit.held > 1:
        return centres.reshape(-1, plan.fit.held).mean(axis=1)
    return centres


def silent_energy(track: Track, vocals: np.ndarray) -> float:
    """PES: mean energy (dB) of the estimate on the 1 s frames where the true vocals are silent."""
    second = track.sample_rate
    pes = pes_eps(track.stems["vocals"].T, vocals.T, second, second).pes
    return float(np.mean(pes)) if pes.size else float("nan")


def one_step_per_second(separator: Separator, track: Track) -> dict[str, float]:
    """PES with correct and inverted activity at one step per second, placed both ways."""
    active = target_frames(separator, track)[:, 0]
    per_second = round(separator.sample_rate / separator.stft.hop)
    blocks = [active[i : i + per_second] for i in range(0, active.size, per_second)]
    values = np.array([[float(b.mean() > 0.5)] for b in blocks], np.float32)
    out = {}
    for name, side in (("correct", values), ("inverted", 1.0 - values)):
        for whole in (False, True):
            result = wiass.separate(
                track.mixture, track.sample_rate, separator, side, whole_song_alignment=whole
            )
            out[f"{name}, {'whole-song' if whole else 'uniform'}"] = silent_energy(
                track, result.vocals
            )
    return out


def measure(separator: Separator, tracks: list[Track]) -> tuple[dict, dict]:
    """Errors per (test set, placement) and the 1 step/s energies (activity kinds)."""
    errors: dict[tuple[str, str], list[np.ndarray]] = {}
    energies: dict[str, list[float]] = {}
    kind = separator.kind.name
    for index, track in enumerate(tracks):
        sets = {f"r={r}": uniform_side(separator, track, r, index) for r in RATES}
        frames = target_frames(separator, track)
        sets["drift"] = drifted_side(frames, kind, np.random.default_rng(1000 + index))
        for name, side in sets.items():
            user = SideInfo(side.values, None, kind)
            for whole in (False, True):
                result = wiass.separate(
                    track.mixture, track.sample_rate, separator, user, whole_song_alignment=whole
                )
                key = (name, "whole-song" if whole else "uniform")
                errors.setdefault(key, []).append(placement_errors(result, side.alignment))
        if separator.kind.features == "activity":
            for key, value in one_step_per_second(separator, track).items():
                energies.setdefault(key, []).append(value)
    return errors, energies


def error_table(name: str, errors: dict) -> str:
    frame_ms = 256 / 16000 * 1000
    lines = [
        f"### {name}",
        "",
        "| test set | placement | acc (+-1 step) | median error (frames) | median error (ms) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for (test_set, placement), per_track in errors.items():
        rate = 4 if test_set == "drift" else int(test_set[2:])
        all_errors = np.concatenate(per_track)
        accuracy = np.mean([np.mean(e <= rate) for e in per_track])
        median = float(np.median(all_errors))
        cells = f"{accuracy:.3f} | {median:.1f} | {median * frame_ms:.0f}"
        lines.append(f"| {test_set} | {placement} | {cells} |")
    return "\n".join(lines)


def energy_table(name: str, energies: dict) -> str:
    lines = [
        f"### {name}: activity at one step per second",
        "",
        "| activity, placement | PES (dB, mean over songs) |",
        "| --- | ---: |",
    ]
    lines += [f"| {key} | {np.nanmean(v):.1f} |" for key, v in energies.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models", required=True, help="comma-separated checkpoints or names")
    parser.add_argument("--songs", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sections = [
        "# Whole-song alignment (bench_alignment.py)",
        "",
        f"`python benchmarks/bench_alignment.py --data {args.data} --models {args.models} "
        f"--songs {args.songs}`",
        "",
        "Accuracy: a step counts when placed within +-1 step (rate frames) of its frame; "
        "steps describing frames outside the song (drift set) are left out.",
    ]
    for model in args.models.split(","):
        separator = load_separator(model)
        tracks = list(test_tracks(args.data, separator.sample_rate))[: args.songs]
        start = time.perf_counter()
        errors, energies = measure(separator, tracks)
        name = f"{separator.kind.name} ({Path(model).name}, {len(tracks)} songs)"
        sections += ["", error_table(name, errors)]
        if energies:
            sections += ["", energy_table(name, energies)]
        sections += ["", f"({time.perf_counter() - start:.0f} s)"]
    text = "\n".join(sections) + "\n"
    print(text)
    (HERE / "bench_alignment.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
