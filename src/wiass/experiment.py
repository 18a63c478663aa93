"""The paper's experiment (Table 1) for every side-information kind, with alignment and oracles.

``wiass experiment`` trains ``BL1``, ``BL2``, ``A1``, ``A2``, ``A3.1``, ``A3.2``, ``M1`` and ``M2``
with the same config (budget) and seeds on one dataset, evaluates each on the dataset's test
tracks, and adds reference rows computed from the true stems with the model's STFT: the ideal
ratio mask (``IRM1``: |V| / (|V| + |A|)), the ideal binary mask (``IBM1``: |V| > |A|) and the
mixture as estimate (``Mix``).

Per test track every system gets side information of its kind generated from the true vocals of
the whole track (as in training, minus the random padding, which is not needed on whole tracks)
and is scored the SiSEC / MUSDB18 way (:mod:`wiass.scoring`): at the track's own sample rate
and channels, against its untouched stems (vocals, and the accompaniment as the sum of the
other stems), vocals and accompaniment together, museval v4, 1 s frames: SDR, SIR, SAR (median
over frames), PES and EPS (mean over frames; EPS both over every frame with a silent estimate
and, as in the paper, only where the target is not silent). Over tracks: median and mean; over
seeds: mean and standard deviation of those. The model runs at its own rate: the mixture goes
through :func:`wiass.inference.separate`, which resamples it to the model's rate and the vocals
back to the track's rate and channels (scoring after resampling the references to the model's
rate would leave their top band empty and SIR/SAR meaningless). The oracles are computed at the
track's rate and channels too, with the model's STFT durations (:func:`native_stft`). A track
on which BSSEval is ill-conditioned (:class:`wiass.metrics.IllConditionedWarning`) is marked in
its scores, in ``tracks.csv`` and in the note of Table 1.

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
    OUT/museval/<system>-seed<k>/test/<track>.json  museval's per-track JSON (oracles: <oracle>/;
                                      a '.' in a system name becomes '_', so that museval's
                                      MethodStore, which names a method by the folder's stem,
                                      keeps it whole)
    OUT/estimates/<system>-seed<k>/<track>/vocals.wav, accompaniment.wav  with keep_estimates
                                      (32-bit float at the track's rate and channels)
    OUT/attention/<system>.png        attention of one test track per informed system
    OUT/table1.md, table1.csv         Table 1 (one row per system)
    OUT/tracks.csv                    every system's, seed's and track's scores, marks included
    OUT/alignment.md, alignment.csv   the alignment table
    OUT/alignment_by_rate.csv         accuracy and mass per system and frames per step
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from wiass.audio import resample, write_audio
from wiass.config import AudioConfig, Config, load_config
from wiass.data.tracks import Track, TrackSource, open_source
from wiass.errors import ConfigError, DataError
from wiass.experiment_tables import Results, write_tables
from wiass.files import write_json, write_text
from wiass.scoring import Scored, score_vocals, track_references, write_museval_json
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


# ---------------------------------------------------------------------------------------------
# Oracles


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


def model_rate_vocals(track: Track, separator: Separator) -> np.ndarray:
    """The track's vocals as one channel (the mean of all) at the model's rate, ``(1, n)`` with
    ``n`` the length :func:`wiass.inference.separate` works with (soxr, as it resamples)."""
    from wiass.inference.chunks import resampled_length

    mono = track.stems["vocals"].mean(axis=0, keepdims=True)
    audio = resample(mono, track.sample_rate, separator.sample_rate)
    length = resampled_length(mono.shape[1], track.sample_rate, separator.sample_rate)
    return np.pad(audio[:, :length], ((0, 0), (0, max(0, length - audio.shape[1]))))


@dataclass(frozen=True)
class ScoreFiles:
    """Where the scoring of one system (one seed, or an oracle) writes: museval's per-track
    JSON under ``museval``, and the estimates under ``estimates`` (None: not kept)."""

    museval: Path
    estimates: Path | None = None

    def write(
        self, track: Track, scored: Scored, vocals: np.ndarray, accompaniment: np.ndarray
    ) -> None:
        """Write one track's museval JSON and, when kept, the estimates it scored."""
        write_museval_json(self.museval, track.name, scored)
        if self.estimates is not None:
            folder, rate = self.estimates / track.name, track.sample_rate
            write_audio(folder / "vocals.wav", vocals, rate, subtype="FLOAT")
            write_audio(folder / "accompaniment.wav", accompaniment, rate, subtype="FLOAT")


def score_system(
    separator: Separator, track: Track, index: int, files: ScoreFiles | None = None
) -> tuple[dict[str, Any], np.ndarray | None, SideInfo | None]:
    """Separate the ``index``-th test track (the model at its rate, the vocals back at the
    track's rate and channels) and score it there; returns the scores, the attention ``(N, M)``
    (None for BL1) and the side information."""
    from wiass.inference import separate

    side_info = track_side_info(separator, model_rate_vocals(track, separator), index)
    result = separate(
        track.mixture, track.sample_rate, separator, side_info=side_info, max_attention_values=2**62
    )
    scores, scored = score_vocals(track, result["vocals"], result["accompaniment"])
    if files is not None:
        files.write(track, scored, result["vocals"], result["accompaniment"])
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
    keep_estimates: bool = False

    def score_files(self, label: str) -> ScoreFiles:
        """Where the scoring of ``label`` (``<system>-seed<k>`` or an oracle) writes."""
        estimates = self.out / "estimates" / label if self.keep_estimates else None
        return ScoreFiles(self.out / "museval" / label.replace(".", "_"), estimates)


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


class EvaluationTracks(Sequence[Track]):
    """The test tracks of a source, each read in full (at the source's rate: their own when
    the source was opened without one) only when asked for, so that one is in memory at a
    time."""

    def __init__(self, source: TrackSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Track:  # type: ignore[override]
        if not 0 <= index < len(self.source):
            raise IndexError(index)
        return self.source.read_track(index)


def test_tracks(data: Path, sample_rate: int | None = None) -> EvaluationTracks:
    """The dataset's test tracks at ``sample_rate`` (None: each at its own rate)."""
    source = open_source(data, "test", sample_rate=sample_rate)
    if len(source) == 0:
        raise DataError(f"{data}: no test tracks to evaluate on")
    return EvaluationTracks(source)


def evaluate_system(
    separator: Separator,
    tracks: Sequence[Track],
    plot: Path | None,
    files: ScoreFiles | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-track scores of one trained system; draws the attention of the first track.

    A track's side information is drawn from its index alone, so every training seed is tested
    on the same side information and the spread over seeds is the models' own."""
    scores = {}
    for index, track in enumerate(tracks):
        track_scores, attention, side_info = score_system(separator, track, index, files)
        scores[track.name] = track_scores
        if plot is not None and index == 0 and attention is not None and side_info is not None:
            plot_attention(plot, attention, side_info, separator, track.name)
    return scores


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


def cached_scores(path: Path, compute: Any) -> dict[str, dict[str, Any]]:
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


# ---------------------------------------------------------------------------------------------
# Plots


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
    """The alignment figure (:func:`wiass.plots.plot_alignment`) of ``attention (N, M)``, one
    row per model frame: the whole track with the true alignment and the step times, and a
    close-up of its first :data:`ZOOM_SECONDS` where errors of a few steps can be seen."""
    from wiass.inference.outputs import separation_alignment
    from wiass.inference.step_times import step_times
    from wiass.plots import plot_alignment

    audio = separator.config.audio
    hop_seconds = audio.hop / audio.sample_rate
    seconds = attention.shape[0] * hop_seconds
    alignment = separation_alignment(
        separator,
        side_info,
        attention,
        pool=1,
        seconds=seconds,
        step_times=step_times(attention, hop_seconds, duration=seconds),
    )
    title = f"{separator.side_info_kind}: learned attention on {track}"
    plot_alignment(alignment, title, path, zoom=ZOOM_SECONDS)


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
