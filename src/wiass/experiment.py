"""The paper's experiment (Table 1) for every side-information kind, with alignment and oracles.

``wiass experiment`` trains ``BL1``, ``BL2``, ``A1``, ``A2``, ``A3.1``, ``A3.2``, ``M1`` and ``M2``
with the same config (budget) and seeds on one dataset, evaluates each on the dataset's test
tracks, and adds reference rows computed from the true stems with the model's STFT: the ideal
ratio mask (``IRM1``: |V| / (|V| + |A|)), the ideal binary mask (``IBM1``: |V| > |A|) and the
mixture as estimate (``Mix``).

Per test track every system gets side information of its kind generated from the true vocals of
the whole track (as in training, minus the random padding, which is not needed on whole tracks)
and is scored like museval scores MUSDB18 (vocals and accompaniment together, 1 s frames): SDR,
SIR, SAR (median over frames), PES and EPS (mean over frames; EPS both over every frame with a
silent estimate and, as in the paper, only where the target is not silent). Over tracks: median
and mean; over seeds: mean and standard deviation of those.

Alignment accuracy (generated kinds with a true alignment): for every mixture frame n the true
step is the real (non-padding) step whose described frame is nearest to n; the accuracy is the
share of frames whose attention argmax lies within +-1 step of it, and the attention mass is the
mean over frames of the attention on the steps within +-1 step of it. A step of coarse side
information spans ``frames_per_step`` mixture frames (2 to 6 by default), so +-1 step is a
tighter tolerance in time for fine side information; the alignment table therefore also breaks
the accuracy down by frames per step.

A test track's side information is drawn from the track's index, the same for every training
seed, and the frames per step of the coarse kinds cycle through ``side_info.rate_range`` over
the test tracks so that every rate is tested equally often.

Run folder::

    OUT/runs/<system>/seed<k>/        a wiass train run (resumable; skipped when finished)
    OUT/scores/<system>-seed<k>.json  per-track scores and alignment figures (skipped when there)
    OUT/attention/<system>.png        attention of one test track per informed system
    OUT/table1.md, table1.csv         Table 1 (one row per system)
    OUT/alignment.md, alignment.csv   the alignment table
    OUT/alignment_by_rate.csv         accuracy and mass per system and frames per step
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from wiass.config import Config, load_config
from wiass.data.tracks import Track, open_source
from wiass.errors import ConfigError, DataError
from wiass.files import atomic_path, write_json, write_text
from wiass.metrics import aggregate, evaluate_track, pes_eps
from wiass.separator import Separator, load_separator
from wiass.sideinfo import SideInfo, generate
from wiass.transforms import STFTConfig, istft, stft


@dataclass(frozen=True)
class System:
    """A trained system of Table 1: its name and side-information kind."""

    name: str
    kind: str


SYSTEMS: tuple[System, ...] = (
    System("BL1", "none"),
    System("BL2", "random"),
    System("A1", "A1"),
    System("A2", "A2"),
    System("A3.1", "A3.1"),
    System("A3.2", "A3.2"),
    System("M1", "M1"),
    System("M2", "M2"),
)
ORACLES: tuple[str, ...] = ("IRM1", "IBM1", "Mix")
TABLE_METRICS: tuple[str, ...] = ("SDR", "SAR", "SIR", "PES", "EPS", "EPS_nonsilent")


# ---------------------------------------------------------------------------------------------
# Oracles


def oracle_vocals(
    mixture: np.ndarray, vocals: np.ndarray, kind: str, config: STFTConfig
) -> np.ndarray:
    """Vocals estimate ``(C, T)`` of an oracle: ``IRM1`` / ``IBM1`` masks from the true stems
    applied to every channel's STFT, or ``Mix`` (the mixture itself; its accompaniment estimate
    is the mixture too, as museval's MIX baseline)."""
    if kind == "Mix":
        return mixture.copy()
    mix_spec = stft(mixture, config)
    vocals_mag = stft(vocals, config).abs()
    accompaniment_mag = stft(mixture - vocals, config).abs()
    if kind == "IRM1":
        mask = vocals_mag / (vocals_mag + accompaniment_mag).clamp_min(1e-12)
    elif kind == "IBM1":
        mask = (vocals_mag > accompaniment_mag).to(vocals_mag.dtype)
    else:
        raise ConfigError(f"unknown oracle '{kind}' (known: {', '.join(ORACLES)})")
    return istft(mix_spec * mask, config, mixture.shape[-1]).numpy()


# ---------------------------------------------------------------------------------------------
# Alignment accuracy


def true_steps(alignment: np.ndarray, n_frames: int) -> np.ndarray:
    """For every mixture frame ``(n_frames,)``, the real step whose described frame
    (``alignment[m]``, -1 = padding) is nearest; -1 where there is no real step."""
    real = np.flatnonzero(alignment >= 0)
    if real.size == 0:
        return np.full(n_frames, -1, dtype=np.int64)
    described = alignment[real]
    order = np.argsort(described, kind="stable")
    described, real = described[order], real[order]
    frames = np.arange(n_frames)
    right = np.clip(np.searchsorted(described, frames), 0, described.size - 1)
    left = np.clip(right - 1, 0, described.size - 1)
    closer_left = np.abs(described[left] - frames) <= np.abs(described[right] - frames)
    return np.where(closer_left, real[left], real[right])


def alignment_scores(
    attention: np.ndarray, alignment: np.ndarray, tolerance: int = 1
) -> dict[str, float]:
    """Accuracy and attention mass (see the module docstring) of ``attention (N, M)`` against
    the true ``alignment (M,)``."""
    n_frames, n_steps = attention.shape
    truth = true_steps(alignment, n_frames)
    valid = truth >= 0
    if not valid.any():
        return {"accuracy": math.nan, "mass": math.nan}
    hit = np.abs(attention.argmax(axis=1) - truth) <= tolerance
    steps = np.arange(n_steps)
    near = np.abs(steps[None, :] - truth[:, None]) <= tolerance
    mass = (attention * near).sum(axis=1)
    return {"accuracy": float(hit[valid].mean()), "mass": float(mass[valid].mean())}


# ---------------------------------------------------------------------------------------------
# Scoring one track


def track_side_info(separator: Separator, vocals: np.ndarray, index: int) -> SideInfo | None:
    """Side information of the separator's kind for the ``index``-th test track, generated from
    its true ``vocals (C, T)`` at the model's rate (None for BL1; BL2's random side information is
    drawn per chunk by :func:`wiass.inference.separate`).

    The draw is seeded by ``index`` alone, and the frames per step of the coarse kinds cycle
    through ``side_info.rate_range`` with the index, so the test tracks cover every rate evenly.
    """
    kind = separator.side_info_kind
    if kind in ("none", "random"):
        return None
    config = separator.config
    low, high = config.side_info.rate_range
    rate = low + index % (high - low + 1)
    params = replace(config.side_info, pad_range=(0, 0), rate_range=(rate, rate))
    target_mag = stft(vocals.mean(axis=0), config.audio.stft).abs().numpy()
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


def score_estimate(
    track: Track, vocals_estimate: np.ndarray, accompaniment_estimate: np.ndarray | None = None
) -> dict[str, float]:
    """Vocals scores of one estimate: BSSEval v4 medians, PES, EPS (every frame with a silent
    estimate) and EPS_nonsilent (the paper's: only where the target is not silent). The
    accompaniment estimate defaults to the mixture minus the vocals estimate."""
    vocals = track.stems["vocals"]
    if accompaniment_estimate is None:
        accompaniment_estimate = track.mixture - vocals_estimate
    references = {"vocals": vocals, "accompaniment": track.mixture - vocals}
    estimates = {"vocals": vocals_estimate, "accompaniment": accompaniment_estimate}
    scores = evaluate_track(references, estimates, track.sample_rate).summary()["vocals"]
    second = int(track.sample_rate)
    paper_eps = pes_eps(
        vocals.T, vocals_estimate.T, second, second, eps_for_silent_target=False
    ).eps
    scores["EPS_nonsilent"] = float(paper_eps.mean()) if paper_eps.size else math.nan
    return scores


def score_system(
    separator: Separator, track: Track, index: int
) -> tuple[dict[str, float], np.ndarray | None, SideInfo | None]:
    """Separate the ``index``-th test track (at the model's rate) and score it; returns the
    scores, the attention ``(N, M)`` (None for BL1) and the side information."""
    from wiass.inference import separate

    side_info = track_side_info(separator, track.stems["vocals"], index)
    result = separate(
        track.mixture, track.sample_rate, separator, side_info=side_info, max_attention_values=2**62
    )
    scores = score_estimate(track, result["vocals"])
    attention = result["attention"]
    if attention is not None and side_info is not None and side_info.alignment is not None:
        attention = np.asarray(attention, dtype=np.float32)
        scores.update(alignment_scores(attention, side_info.alignment))
        scores["frames_per_step"] = float(side_info.rate)
    return scores, attention, side_info


# ---------------------------------------------------------------------------------------------
# Training and evaluating every system


@dataclass
class ExperimentOptions:
    """What ``wiass experiment`` was asked for."""

    out: Path
    config: Config
    data: Path | None = None
    seeds: int = 1
    systems: tuple[System, ...] = SYSTEMS
    progress: bool = True


def dataset_root(options: ExperimentOptions) -> Path:
    """``--data``, or the synthetic default written once into ``OUT/data``."""
    if options.data is not None:
        return options.data
    from wiass.data.synthetic import write_dataset

    folder = options.out / "data"
    if not (folder / "test").is_dir():
        write_dataset(folder, sample_rate=options.config.audio.sample_rate)
    return folder


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


def test_tracks(data: Path, config: Config) -> list[Track]:
    """The dataset's test tracks in full at the model's sample rate."""
    source = open_source(data, "test", sample_rate=config.audio.sample_rate)
    if len(source) == 0:
        raise DataError(f"{data}: no test tracks to evaluate on")
    return [source.read_track(index) for index in range(len(source))]


def evaluate_system(
    separator: Separator, tracks: Sequence[Track], plot: Path | None
) -> dict[str, dict[str, float]]:
    """Per-track scores of one trained system; draws the attention of the first track.

    A track's side information is drawn from its index alone, so every training seed is tested
    on the same side information and the spread over seeds is the models' own."""
    scores = {}
    for index, track in enumerate(tracks):
        track_scores, attention, side_info = score_system(separator, track, index)
        scores[track.name] = track_scores
        if plot is not None and index == 0 and attention is not None and side_info is not None:
            plot_attention(plot, attention, side_info, separator, track.name)
    return scores


def evaluate_oracle(kind: str, tracks: Sequence[Track], config: Config) -> dict[str, dict]:
    """Per-track scores of an oracle with the model's STFT."""
    scores = {}
    for track in tracks:
        vocals = oracle_vocals(track.mixture, track.stems["vocals"], kind, config.audio.stft)
        accompaniment = track.mixture if kind == "Mix" else None
        scores[track.name] = score_estimate(track, vocals, accompaniment)
    return scores


def cached_scores(path: Path, compute: Any) -> dict[str, dict[str, float]]:
    """Scores stored at ``path``, or ``compute()`` stored there first (NaN as null)."""
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            t: {k: math.nan if v is None else v for k, v in s.items()} for t, s in stored.items()
        }
    scores = compute()
    write_json(path, _nan_to_none(scores))
    return scores


def run_experiment(options: ExperimentOptions) -> dict[str, Path]:
    """Train, evaluate and tabulate; returns the paths of the tables."""
    started = time.monotonic()
    data = dataset_root(options)
    config = options.config
    tracks = test_tracks(data, config)
    results: dict[str, list[dict[str, dict[str, float]]]] = {}
    jobs = [(system, seed) for system in options.systems for seed in range(options.seeds)]
    for system, seed in tqdm(jobs, desc="systems", unit="run", disable=not options.progress):
        separator_path = train_system(options, system, seed, data)
        plot = options.out / "attention" / f"{system.name}.png" if seed == 0 else None

        def compute(path: Path = separator_path, plot: Path | None = plot) -> dict:
            return evaluate_system(load_separator(path), tracks, plot)

        score_path = options.out / "scores" / f"{system.name}-seed{seed}.json"
        results.setdefault(system.name, []).append(cached_scores(score_path, compute))
    for oracle in ORACLES:

        def compute_oracle(oracle: str = oracle) -> dict:
            return evaluate_oracle(oracle, tracks, config)

        score_path = options.out / "scores" / f"{oracle}.json"
        results[oracle] = [cached_scores(score_path, compute_oracle)]
    paths = write_tables(options.out, results)
    minutes = (time.monotonic() - started) / 60
    write_text(options.out / "wall_time.txt", f"{minutes:.1f} minutes (this invocation)\n")
    return paths


# ---------------------------------------------------------------------------------------------
# Tables and plots


def system_row(per_seed: Sequence[dict[str, dict[str, float]]]) -> dict[str, float]:
    """Table 1 numbers of one system: per seed, the median and mean over tracks of the per-track
    values (PES/EPS: mean); over seeds, their mean and standard deviation."""
    per_seed_values: dict[str, list[float]] = {}
    for scores in per_seed:
        tracks = list(scores.values())
        summary = aggregate([{"vocals": row} for row in tracks])["vocals"]
        for metric in ("SDR", "SAR", "SIR"):
            per_seed_values.setdefault(metric, []).append(summary[metric]["median"])
            per_seed_values.setdefault(f"{metric}_mean", []).append(summary[metric]["mean"])
        for metric in ("PES", "EPS", "EPS_nonsilent", "accuracy", "mass"):
            values = np.array([row.get(metric, math.nan) for row in tracks], dtype=float)
            values = values[~np.isnan(values)]
            per_seed_values.setdefault(metric, []).append(
                float(values.mean()) if values.size else math.nan
            )
    row: dict[str, float] = {"seeds": float(len(per_seed))}
    for metric, values in per_seed_values.items():
        array = np.array(values, dtype=float)
        row[metric] = float(array.mean())
        row[f"{metric}_std"] = float(array.std()) if array.size > 1 else 0.0
    return row


def write_tables(
    out: Path, results: dict[str, list[dict[str, dict[str, float]]]]
) -> dict[str, Path]:
    """Write Table 1 and the alignment table as Markdown and CSV."""
    rows = {name: system_row(per_seed) for name, per_seed in results.items()}
    table_columns = [
        "SDR",
        "SAR",
        "SIR",
        "PES",
        "EPS",
        "EPS_nonsilent",
        "SDR_mean",
        "SAR_mean",
        "SIR_mean",
    ]
    alignment_rows = {
        name: row for name, row in rows.items() if not math.isnan(row.get("accuracy", math.nan))
    }
    paths = {
        "table1.csv": out / "table1.csv",
        "table1.md": out / "table1.md",
        "alignment.csv": out / "alignment.csv",
        "alignment.md": out / "alignment.md",
        "alignment_by_rate.csv": out / "alignment_by_rate.csv",
    }
    write_text(paths["table1.csv"], _csv(rows, table_columns))
    write_text(paths["table1.md"], _markdown(rows, table_columns, TABLE1_NOTE))
    by_rate = alignment_by_rate(results)
    write_text(paths["alignment.csv"], _csv(alignment_rows, ["accuracy", "mass"]))
    write_text(
        paths["alignment.md"],
        _markdown(alignment_rows, ["accuracy", "mass"], ALIGNMENT_NOTE)
        + "\n"
        + _by_rate_markdown(by_rate),
    )
    write_text(paths["alignment_by_rate.csv"], _by_rate_csv(by_rate))
    return paths


def alignment_by_rate(
    results: dict[str, list[dict[str, dict[str, float]]]],
) -> dict[str, dict[int, dict[str, float]]]:
    """Per system and (rounded) frames per step: accuracy and mass averaged over every track of
    every seed with that rate, and how many such (track, seed) pairs there are."""
    table: dict[str, dict[int, dict[str, float]]] = {}
    for name, per_seed in results.items():
        pooled: dict[int, list[tuple[float, float]]] = {}
        for scores in per_seed:
            for row in scores.values():
                rate = row.get("frames_per_step", math.nan)
                accuracy = row.get("accuracy", math.nan)
                if math.isnan(rate) or math.isnan(accuracy):
                    continue
                pooled.setdefault(round(rate), []).append((accuracy, row["mass"]))
        if pooled:
            table[name] = {
                rate: {
                    "accuracy": float(np.mean([a for a, _ in pairs])),
                    "mass": float(np.mean([m for _, m in pairs])),
                    "count": float(len(pairs)),
                }
                for rate, pairs in sorted(pooled.items())
            }
    return table


def _by_rate_csv(table: dict[str, dict[int, dict[str, float]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["system", "frames_per_step", "accuracy", "mass", "tracks"])
    for name, rates in table.items():
        for rate, cell in rates.items():
            writer.writerow(
                [name, rate, _number(cell["accuracy"]), _number(cell["mass"]), int(cell["count"])]
            )
    return buffer.getvalue()


def _by_rate_markdown(table: dict[str, dict[int, dict[str, float]]]) -> str:
    if not table:
        return ""
    rates = sorted({rate for cells in table.values() for rate in cells})
    lines = [
        "Accuracy by frames per step (tracks of every seed pooled; in brackets: how many):",
        "",
        "| system | " + " | ".join(str(rate) for rate in rates) + " |",
        "| --- | " + " | ".join("---:" for _ in rates) + " |",
    ]
    for name, cells in table.items():
        texts = [
            f"{cells[r]['accuracy']:.2f} ({int(cells[r]['count'])})" if r in cells else "–"
            for r in rates
        ]
        lines.append(f"| {name} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


TABLE1_NOTE = (
    "Vocals, dB. SDR/SAR/SIR: median over 1 s frames per track, then median over tracks "
    "(`_mean`: mean over tracks). PES, EPS: mean per track over silent frames, then mean over "
    "tracks (lower is better); EPS counts every frame with a silent estimate, EPS_nonsilent only "
    "those where the target is not silent (the paper's). Mean ± std over seeds."
)
ALIGNMENT_NOTE = (
    "accuracy: share of mixture frames whose attention argmax lies within ±1 step of the true "
    "step; mass: mean attention on the steps within ±1 of the true step. Mean ± std over seeds."
)


def _csv(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["system"]
    for column in columns:
        header += [column, f"{column}_std"]
    writer.writerow(header + ["seeds"])
    for name, row in rows.items():
        values = []
        for column in columns:
            values += [_number(row.get(column)), _number(row.get(f"{column}_std"))]
        writer.writerow([name, *values, int(row["seeds"])])
    return buffer.getvalue()


def _markdown(rows: dict[str, dict[str, float]], columns: list[str], note: str) -> str:
    lines = [
        "| system | " + " | ".join(columns) + " | seeds |",
        "| --- | " + " | ".join("---:" for _ in columns) + " | ---: |",
    ]
    for name, row in rows.items():
        cells = [_pm(row.get(c), row.get(f"{c}_std"), int(row["seeds"])) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {int(row['seeds'])} |")
    return "\n".join(lines) + f"\n\n{note}\n"


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3f}"


def _pm(value: float | None, std: float | None, seeds: int) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f} ± {std:.2f}" if seeds > 1 else f"{value:.2f}"


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


ZOOM_SECONDS = 10.0
"""Length of the attention figure's close-up of the track's start (in seconds)."""


def plot_attention(
    path: Path, attention: np.ndarray, side_info: SideInfo, separator: Separator, track: str
) -> None:
    """Attention (mixture time x side-information step) with the true alignment on top: the
    whole track, and a close-up of its first :data:`ZOOM_SECONDS` where errors of a few steps
    can be seen."""
    from matplotlib.figure import Figure

    audio = separator.config.audio
    frame_seconds = audio.hop / audio.sample_rate
    attention = np.asarray(attention, dtype=np.float32)
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    whole, close_up = figure.subplots(1, 2, width_ratios=(3, 2))
    image = _attention_panel(whole, attention, side_info, frame_seconds)
    _attention_panel(close_up, attention, side_info, frame_seconds)
    whole.set_title(f"{separator.side_info_kind}: learned attention on {track}")
    close_up.set_xlim(0, min(ZOOM_SECONDS, attention.shape[0] * frame_seconds))
    close_up.set_ylim(*_steps_in_view(side_info, ZOOM_SECONDS / frame_seconds, attention.shape[1]))
    close_up.set_title(f"first {ZOOM_SECONDS:g} s")
    figure.colorbar(image, ax=close_up, label="attention")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110)


def _attention_panel(
    axes: Any, attention: np.ndarray, side_info: SideInfo, frame_seconds: float
) -> Any:
    """Draw ``attention (N, M)`` and the true alignment (thin line) on ``axes``; returns the
    image for the colour bar."""
    n_frames, n_steps = attention.shape
    image = axes.imshow(
        attention.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        interpolation="nearest",
        extent=(0, n_frames * frame_seconds, -0.5, n_steps - 0.5),
    )
    if side_info.alignment is not None:
        real = side_info.alignment >= 0
        axes.plot(
            side_info.alignment[real] * frame_seconds,
            np.flatnonzero(real),
            color="cyan",
            linewidth=0.8,
            alpha=0.8,
            label="true alignment",
        )
        axes.legend(loc="upper left")
    axes.set(xlabel="mixture time (s)", ylabel="side-information step")
    return image


def _steps_in_view(side_info: SideInfo, n_frames: float, n_steps: int) -> tuple[float, float]:
    """Step range of the close-up: the steps describing its frames, with a margin."""
    if side_info.alignment is None or not np.any(side_info.alignment >= 0):
        return -0.5, n_steps - 0.5
    inside = np.flatnonzero((side_info.alignment >= 0) & (side_info.alignment < n_frames))
    last = int(inside.max()) if inside.size else n_steps - 1
    margin = max(2, round(0.1 * last))
    return -0.5, min(n_steps - 0.5, last + margin)


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


def select_systems(names: str | None) -> tuple[System, ...]:
    """The systems named in a comma-separated list (all when None), in Table 1's order."""
    if not names:
        return SYSTEMS
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {system.name: system for system in SYSTEMS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"--systems: unknown system '{unknown[0]}' (known: {', '.join(known)})")
    return tuple(system for system in SYSTEMS if system.name in wanted)
