"""Run folders built by the real commands (``wiass demo``, ``wiass separate``) with untrained tiny
models, for the report and run-folder tests; and edits of a demo run's numbers, in the fields the
demo writes, for the tests of what the report says about them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import soundfile as sf
import torch
from click.testing import CliRunner
from tiny_separators import noise, save_tiny

from wiass.cli import main
from wiass.demo import run_demo

DEMO_KINDS = {"BL1": "none", "A3.1": "A3.1", "M2": "M2", "phonemes": "phonemes"}
SUMMARY: dict[str, dict[str, float | None]] = {
    "BL1": {"SDR": 2.98, "SIR": 7.99, "SAR": 6.41, "PES": -44.89, "EPS": -25.58},
    "A3.1": {"SDR": 3.16, "SIR": 7.75, "SAR": 6.17, "PES": -85.20, "EPS": -34.53},
    "M2": {"SDR": 3.40, "SIR": 8.10, "SAR": 6.00, "PES": -70.00, "EPS": None},
}
"""The paper's Table 1 for BL1 and A3.1, invented numbers for M2 (EPS undefined)."""


def demo_models(folder: Path) -> dict[str, Path]:
    """Untrained tiny checkpoints for the demo's systems (8 kHz)."""
    paths = save_tiny(folder, tuple(DEMO_KINDS.values()))
    return {name: paths[kind] for name, kind in DEMO_KINDS.items()}


def demo_run(out: Path, songs: int = 2, seconds: float = 3.0) -> Path:
    """A run folder written by ``run_demo`` (the ``wiass demo`` job) with tiny models, on one
    torch thread (the tiny models run fastest so on a shared machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_demo(out, songs=songs, seconds=seconds, progress=False, models=demo_models(out.parent))
    finally:
        torch.set_num_threads(threads)
    return out


def write_mixture(path: Path, seconds: float, rate: int = 22050, seed: int = 0) -> Path:
    """A stereo noise mixture (FLOAT WAV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, noise(2, seconds, rate, seed).T, rate, subtype="FLOAT")
    return path


def separate_run(out: Path, mixtures: Sequence[Path], model: Path, *options: str) -> Path:
    """A run folder written by ``wiass separate MIXTURES --model MODEL OPTIONS --out OUT``."""
    arguments = ["separate", *map(str, mixtures), "--model", str(model), *options, "--out"]
    result = CliRunner().invoke(main, [*arguments, str(out)])
    assert result.exit_code == 0, result.output
    return out


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run folder (tests that change it work on their own copy)."""
    return Path(shutil.copytree(run, to))


def _edit(run: Path, change: Any) -> None:
    path = run / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def set_scores(
    run: Path,
    summary: Mapping[str, Mapping[str, float | None]],
    per_song: Mapping[str, Mapping[str, Sequence[float | None]]] | None = None,
) -> None:
    """Put chosen numbers (dB) into a demo run's ``results.json``: the summary (median and mean
    alike) of every system in ``summary`` and its per-song scores (song ``i``: the summary
    value + 0.1 i, or the values of ``per_song``)."""

    def change(data: dict[str, Any]) -> None:
        tracks = [track["name"] for track in data["tracks"]]
        for system, values in summary.items():
            data["summary"][system] = {m: {"median": v, "mean": v} for m, v in values.items()}
            for i, track in enumerate(tracks):
                row = data["scores"][system][track]
                row.update({m: None if v is None else v + 0.1 * i for m, v in values.items()})
        for system, metrics in (per_song or {}).items():
            for metric, values in metrics.items():
                for track, value in zip(tracks, values, strict=True):
                    data["scores"][system][track][metric] = value

    _edit(run, change)


def keep_systems(run: Path, names: Sequence[str]) -> None:
    """Drop every other system from a run's index (its folders stay, unlisted)."""

    def change(data: dict[str, Any]) -> None:
        data["systems"] = [s for s in data["systems"] if s["name"] in names]
        for track in data["tracks"]:
            track["outputs"] = {n: f for n, f in track["outputs"].items() if n in names}
        for table in ("scores", "summary"):
            data[table] = {n: v for n, v in data[table].items() if n in names}

    _edit(run, change)


def copy_with_mixtures(out: Path, to: Path) -> Path:
    """A copy of a ``wiass separate`` output folder together with the folder above it (which
    holds its mixtures), the index pointing at the copied mixtures; returns the copied ``out``."""
    root = copy_run(out.parent, to)

    def change(data: dict[str, Any]) -> None:
        for track in data["tracks"]:
            track["mixture"] = str(root / Path(track["mixture"]).relative_to(out.parent))

    _edit(root / out.name, change)
    return root / out.name
