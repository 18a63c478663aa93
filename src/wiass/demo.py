"""The main job: ``wiass demo`` on the embedded synthetic default.

It generates a few synthetic test songs, separates each with BL1 (no side information) and with
A3.1 (vocal activity) and M2 (coarse magnitude) side information generated from the true vocals,
scores every estimate with :mod:`wiass.metrics`, and writes an HTML listening report. The models
are the small ones shipped in ``wiass/pretrained`` or, with ``train=True``, small presets trained
first on synthetic songs (the same recipe as the shipped ones).

The run folder follows the layout that :mod:`wiass.report` reads (see its docstring).
"""

from __future__ import annotations

import datetime
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from wiass import __version__
from wiass.audio import write_audio
from wiass.data.synthetic import generate_song
from wiass.data.tracks import Track
from wiass.errors import ConfigError, OutputError
from wiass.files import atomic_path, check_writable_folder, write_json
from wiass.inference import separate
from wiass.metrics import aggregate
from wiass.scoring import score_vocals
from wiass.separator import Separator, load_separator, shipped_model_path
from wiass.sideinfo import SideInfo, whole_track_side_info


@dataclass(frozen=True)
class DemoSystem:
    """A system of the demo: its name, side-information kind and what it means."""

    name: str
    kind: str
    description: str


SYSTEMS: tuple[DemoSystem, ...] = (
    DemoSystem("BL1", "none", "baseline: no side information, no attention"),
    DemoSystem("A3.1", "A3.1", "binary vocal activity, coarser time scale, unknown offset"),
    DemoSystem("M2", "M2", "coarse vocal magnitude in bands, coarser time scale, unknown offset"),
)
TEST_SEED = 90_000
"""Seeds of the demo songs start here, far from the seeds of the training songs."""


def shipped_model(system: str) -> Path:
    """Path of the small model shipped for ``system`` (``BL1``, ``A3.1``, ``M2``)."""
    return shipped_model_path(system)


def run_demo(
    out: Path,
    *,
    train: bool = False,
    songs: int = 3,
    seconds: float = 20.0,
    force: bool = False,
    progress: bool = True,
    models: dict[str, Path] | None = None,
    precision: str | None = None,
) -> Path:
    """Run the demo into ``out``; returns the path of the HTML report.

    ``models`` maps system names to checkpoints to use instead of the shipped ones;
    ``precision`` overrides the training precision of the small presets (``train=True``).
    """
    from wiass.report import build_report

    if train and precision is not None:
        from wiass.training import resolve_precision

        resolve_precision(precision)
    _check_out(out, force)
    separators = _separators(out, train, models, precision)
    sample_rate = next(iter(separators.values())).sample_rate
    results = _empty_results(sample_rate, next(iter(separators.values())))
    summaries: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SYSTEMS}
    seeds = range(TEST_SEED, TEST_SEED + songs)
    for index, seed in enumerate(tqdm(seeds, desc="demo songs", unit="song", disable=not progress)):
        track = f"synthetic-{index:03d}"
        song = generate_song(seed, seconds, sample_rate)
        folder = out / "tracks" / track
        write_audio(folder / "mixture.wav", song.mixture, sample_rate, subtype="FLOAT")
        write_audio(folder / "vocals.wav", song.stems["vocals"], sample_rate, subtype="FLOAT")
        results["tracks"].append({"name": track, "seconds": seconds})
        for system in SYSTEMS:
            scores = _run_system(system, separators[system.name], song, seed, folder / system.name)
            results["scores"][system.name][track] = scores
            summaries[system.name].append({"vocals": scores})
    results["summary"] = {name: aggregate(rows)["vocals"] for name, rows in summaries.items()}
    write_json(out / "results.json", results)
    return build_report(out)


def summary_text(out: Path) -> str:
    """What ``wiass demo`` prints when done: the scores table of the run in ``out`` and the
    one-sentence reading of it, as plain ASCII text."""
    from wiass.report import load_run, reading, text_table

    run = load_run(out)
    text = f"{text_table(run)}\n\n{textwrap.fill(reading(run), 100)}"
    return text.replace("−", "-")


def _check_out(out: Path, force: bool) -> None:
    check_writable_folder(out)
    if (out / "results.json").exists() and not force:
        raise OutputError(f"{out}: holds an earlier demo run; pass --force to replace it")


def _separators(
    out: Path, train: bool, models: dict[str, Path] | None, precision: str | None = None
) -> dict[str, Separator]:
    if train:
        return {
            system.name: load_separator(_train_small(out, system, precision)) for system in SYSTEMS
        }
    models = models or {system.name: shipped_model(system.name) for system in SYSTEMS}
    separators = {system.name: load_separator(models[system.name]) for system in SYSTEMS}
    rates = {separator.sample_rate for separator in separators.values()}
    if len(rates) > 1:
        raise ConfigError(f"demo models work at different sample rates: {sorted(rates)}")
    return separators


def _train_small(out: Path, system: DemoSystem, precision: str | None = None) -> Path:
    """Train the small preset for ``system`` on synthetic songs shared by the three runs."""
    from wiass.training import TrainOptions, prepare_config, synthetic_default, train

    run = out / "models" / system.name
    config = prepare_config("small", run, False, side_info=system.kind, precision=precision)
    data = synthetic_default(out / "models" / "data", config.audio.sample_rate, n_test=0)
    return train(config, TrainOptions(out=run, data=data))


def _empty_results(sample_rate: int, separator: Separator) -> dict[str, Any]:
    return {
        "wiass_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "title": "wiass demo",
        "sample_rate": sample_rate,
        "hop_seconds": separator.config.audio.hop / sample_rate,
        "systems": [
            {"name": s.name, "kind": s.kind, "description": s.description} for s in SYSTEMS
        ],
        "tracks": [],
        "scores": {s.name: {} for s in SYSTEMS},
    }


def _run_system(
    system: DemoSystem, separator: Separator, song: Any, seed: int, folder: Path
) -> dict[str, Any]:
    """Separate ``song`` with one system, save its outputs, return its vocals scores (at the
    song's rate and channels, :func:`wiass.scoring.score_vocals`: the BSSEval medians, PES,
    EPS, and whether BSSEval was ill-conditioned on the song)."""
    vocals = song.stems["vocals"]
    side_info = whole_track_side_info(separator.side_info_kind, separator.config, vocals, seed)
    user_side_info = None if side_info is None else SideInfo(side_info.values, None, side_info.kind)
    result = separate(song.mixture, song.sample_rate, separator, side_info=user_side_info)
    write_audio(folder / "vocals.wav", result["vocals"], song.sample_rate, subtype="FLOAT")
    write_audio(
        folder / "accompaniment.wav", result["accompaniment"], song.sample_rate, subtype="FLOAT"
    )
    if side_info is not None:
        _save_side_info(folder, result, side_info, separator)
    track = Track(folder.parent.name, song.sample_rate, song.mixture, song.stems)
    return score_vocals(track, result["vocals"], result["accompaniment"])[0]


def _save_side_info(
    folder: Path, result: dict[str, Any], side_info: SideInfo, separator: Separator
) -> None:
    """The files of the report's alignment figure: attention, its axes, side information and
    the true alignment."""
    audio = separator.config.audio
    frame_seconds = audio.hop / audio.sample_rate
    axes = {
        "frame_seconds": result["frame_seconds"],
        "steps": side_info.n_steps,
        "step_seconds": side_info.rate * frame_seconds if side_info.rate else None,
        "kind": side_info.kind,
    }
    save_npy(folder / "alignment.npy", np.asarray(result["attention"], dtype=np.float16))
    write_json(folder / "alignment.json", axes)
    save_npy(folder / "side_info.npy", side_info.values)
    if side_info.alignment is not None:
        save_npy(folder / "true_alignment.npy", side_info.alignment)


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` written atomically."""
    with atomic_path(path) as tmp:
        np.save(tmp, array)
