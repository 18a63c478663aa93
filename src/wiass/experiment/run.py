"""Training, evaluating and tabulating every system of ``wiass experiment``, resumably."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from wiass.config import Config, load_config
from wiass.experiment.evaluation import ScoreFiles, evaluate_system, test_tracks
from wiass.experiment.oracles import ORACLES, evaluate_oracle
from wiass.experiment.systems import SYSTEMS, System
from wiass.experiment.tables import Results, write_tables
from wiass.files import write_json, write_text
from wiass.separator import load_separator


@dataclass
class ExperimentOptions:
    """What ``wiass experiment`` was asked for."""

    out: Path
    config: Config
    data: Path | None = None
    seeds: int = 1
    systems: tuple[System, ...] = SYSTEMS
    progress: bool = True
    keep_estimates: bool = False

    def score_files(self, label: str) -> ScoreFiles:
        """Where the scoring of ``label`` (``<system>-seed<k>`` or an oracle) writes."""
        estimates = self.out / "estimates" / label if self.keep_estimates else None
        return ScoreFiles(self.out / "museval" / label.replace(".", "_"), estimates)


def dataset_root(options: ExperimentOptions) -> Path:
    """``--data``, or the synthetic default written once into ``OUT/data``."""
    if options.data is not None:
        return options.data
    from wiass.training import synthetic_default

    return synthetic_default(options.out / "data", options.config.audio.sample_rate)


def train_system(options: ExperimentOptions, system: System, seed: int, data: Path) -> Path:
    """Train one system with one seed, resuming an interrupted run; returns its separator."""
    from wiass.training import TrainOptions, prepare_config, train

    run = options.out / "runs" / system.name / f"seed{seed}"
    separator = run / "separator.pt"
    if separator.is_file():
        return separator
    resume = (run / "checkpoints" / "last.ckpt").is_file()
    if not resume and run.exists():
        import shutil

        shutil.rmtree(run)
    if resume:
        config = prepare_config(None, run, True)
    else:
        config = replace(
            options.config,
            side_info=replace(options.config.side_info, kind=system.kind),
            train=replace(options.config.train, seed=seed),
        )
        run.mkdir(parents=True)
    return train(config, TrainOptions(out=run, data=data, resume=resume, progress=options.progress))


def cached_scores(path: Path, compute: Any) -> dict[str, dict[str, Any]]:
    """Scores stored at ``path``, or ``compute()`` stored there first (NaN as null)."""
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            t: {k: math.nan if v is None else v for k, v in s.items()} for t, s in stored.items()
        }
    scores = compute()
    write_json(path, scores)
    return scores


def run_experiment(options: ExperimentOptions) -> dict[str, Path]:
    """Train, evaluate and tabulate; returns the paths of the tables."""
    started = time.monotonic()
    data = dataset_root(options)
    config = options.config
    tracks = test_tracks(data)
    results: Results = {}
    jobs = [(system, seed) for system in options.systems for seed in range(options.seeds)]
    for system, seed in tqdm(jobs, desc="systems", unit="run", disable=not options.progress):
        separator_path = train_system(options, system, seed, data)
        plot = options.out / "attention" / f"{system.name}.png" if seed == 0 else None
        label = f"{system.name}-seed{seed}"

        def compute(
            path: Path = separator_path, plot: Path | None = plot, label: str = label
        ) -> dict:
            return evaluate_system(load_separator(path), tracks, plot, options.score_files(label))

        score_path = options.out / "scores" / f"{label}.json"
        results.setdefault(system.name, []).append(cached_scores(score_path, compute))
    for oracle in ORACLES:

        def compute_oracle(oracle: str = oracle) -> dict:
            return evaluate_oracle(oracle, tracks, config, options.score_files(oracle))

        score_path = options.out / "scores" / f"{oracle}.json"
        results[oracle] = [cached_scores(score_path, compute_oracle)]
    paths = write_tables(options.out, results, config.audio.sample_rate)
    minutes = (time.monotonic() - started) / 60
    write_text(options.out / "wall_time.txt", f"{minutes:.1f} minutes (this invocation)\n")
    return paths


def load_experiment_config(
    path: str | None, *, precision: str | None = None, data: Path | None = None
) -> Config:
    """The experiment's config (default: the ``experiment-small`` preset), with ``precision``
    overriding ``train.precision``, checked for training on ``data`` (None: the synthetic
    default) before anything is written."""
    from wiass.training import check_config, check_training_data

    config = load_config(path or "experiment-small")
    if precision is not None:
        config.train = replace(config.train, precision=precision)
    check_config(config)
    check_training_data(config, data)
    return config
