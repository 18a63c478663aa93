"""Scoring folders of separated estimates against references (MUSDB18-HQ layout).

Both folders hold one sub-folder per track with a ``<target>.wav`` per target::

    references/<track>/vocals.wav  (accompaniment.wav, or mixture.wav to derive it)
    estimates/<track>/vocals.wav, accompaniment.wav

A reference ``accompaniment`` missing from a track is derived as ``mixture - vocals``.
Evaluation runs in three phases so that a bad input never leaves half-written outputs:

1. :func:`find_tracks` and :func:`validate_track` check every track's files from their headers
   (present, readable, not empty, same sample rate, channel count and length) before any
   audio is decoded, and :func:`check_output_names` that every output file can be created in
   the output folder (a track name too long for a file name there fails here, not after the
   scoring);
2. :func:`score_track` reads the audio (refusing non-finite samples) and computes BSSEval v4
   (SDR, ISR, SIR, SAR over frames) and PES/EPS with :mod:`wiass.metrics`, the targets of a
   track evaluated jointly as museval does, at the files' own rate and channels; a track on
   which BSSEval is ill-conditioned (:class:`wiass.metrics.IllConditionedWarning`) is marked;
   tracks run in parallel processes and the results stay in memory, so a failure here still
   writes nothing;
3. :func:`write_results` writes one JSON per track (``tracks/<track>.json``), the same scores in
   museval's per-track format (``museval/test/<track>.json``, :mod:`wiass.scoring`; load them
   with ``museval.EvalStore().add_eval_dir(OUT/museval)``), a JSON summary and a CSV, each
   atomically.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from wiass.audio import audio_info, read_audio
from wiass.errors import AudioError, DataError, MetricsError
from wiass.evaluate_outputs import (
    check_output_folder,
    check_output_names,
    format_table,
    output_files,
    output_paths,
    summary_csv,
    track_json,
    write_results,
)
from wiass.metrics import TrackScores, aggregate
from wiass.parallel import run_tasks
from wiass.scoring import Scored, score_sources

__all__ = [
    "Evaluation",
    "TrackPair",
    "TrackResult",
    "check_output_folder",
    "check_output_names",
    "evaluate_folders",
    "find_tracks",
    "format_table",
    "load_estimates",
    "load_references",
    "output_files",
    "output_paths",
    "parse_targets",
    "score_track",
    "summary_csv",
    "track_json",
    "validate_folders",
    "validate_track",
    "write_results",
]

PathLike = str | os.PathLike[str]

DEFAULT_TARGETS = ("vocals", "accompaniment")
AUDIO_SUFFIX = ".wav"


@dataclass(frozen=True)
class ReferenceSpec:
    """Where a reference target comes from: ``file`` minus the sum of ``subtract``."""

    file: Path
    subtract: tuple[Path, ...] = ()

    def describe(self) -> str:
        """``<track>/vocals.wav`` or ``<track>/mixture.wav - <track>/vocals.wav``."""
        return " - ".join(str(p) for p in (self.file, *self.subtract))


@dataclass(frozen=True)
class TrackPair:
    """A validated track: its reference and estimate files per target, and their format."""

    name: str
    references: dict[str, ReferenceSpec]
    estimates: dict[str, Path]
    sample_rate: int
    channels: int
    samples: int
    targets: tuple[str, ...] = field(default=DEFAULT_TARGETS)


def parse_targets(text: str) -> tuple[str, ...]:
    """Split a comma-separated target list (``vocals,accompaniment``) and check the names."""
    names = tuple(part.strip() for part in text.split(","))
    if not names or any(not name for name in names):
        raise DataError(f"--targets '{text}': expected comma-separated names like vocals,drums")
    for name in names:
        if "/" in name or "\\" in name or name.startswith("."):
            raise DataError(f"--targets: '{name}' is not a valid target name")
    if len(set(names)) != len(names):
        raise DataError(f"--targets '{text}': a target is named twice")
    return names


def _is_scores_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the output of an earlier ``wiass evaluate``."""
    return (folder / "scores.csv").is_file() and (folder / "summary.json").is_file()


def _track_folders(folder: Path, what: str, exclude: set[Path]) -> dict[str, Path]:
    """The visible sub-folders of ``folder`` (name -> path), skipping ``exclude`` and the
    output folders of earlier evaluations."""
    if not folder.exists():
        raise DataError(f"{folder}: no such {what} folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: the {what} folder is a file, not a folder")
    found = {}
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or not child.is_dir() or child.resolve() in exclude:
            continue
        if _is_scores_folder(child):
            continue
        found[child.name] = child
    return found


def find_tracks(
    references: PathLike, estimates: PathLike, *, exclude: tuple[PathLike, ...] = ()
) -> list[str]:
    """Names of the track folders present in both folders, sorted.

    A track folder found in only one of the two is a DataError naming it; so is a references
    folder without any track folder. Folders in ``exclude`` (e.g. an output folder placed inside
    the estimates folder), folders holding an earlier evaluation's ``scores.csv`` and
    ``summary.json``, and hidden folders are skipped.
    """
    skip = {Path(p).resolve() for p in exclude}
    ref_dir, est_dir = Path(references), Path(estimates)
    refs = _track_folders(ref_dir, "references", skip)
    ests = _track_folders(est_dir, "estimates", skip)
    if not refs:
        raise DataError(
            f"{ref_dir}: no track folders (expected {ref_dir}/<track>/<target>{AUDIO_SUFFIX})"
        )
    for path in skip:
        if path.parent == est_dir.resolve() and path.name in refs:
            raise DataError(f"{path}: the output folder has the name of a track; choose another")
    for name in sorted(set(refs) - set(ests)):
        raise DataError(f"{est_dir / name}: missing track folder (the references have '{name}')")
    for name in sorted(set(ests) - set(refs)):
        raise DataError(f"{ests[name]}: track '{name}' has no folder in the references {ref_dir}")
    return sorted(refs)


def _reference_spec(track_dir: Path, target: str) -> ReferenceSpec:
    """The reference file of ``target``; ``accompaniment`` may come from mixture - vocals."""
    file = track_dir / f"{target}{AUDIO_SUFFIX}"
    if file.exists() or target != "accompaniment":
        return ReferenceSpec(file)
    mixture, vocals = track_dir / f"mixture{AUDIO_SUFFIX}", track_dir / f"vocals{AUDIO_SUFFIX}"
    if mixture.exists() and vocals.exists():
        return ReferenceSpec(mixture, (vocals,))
    raise DataError(f"{file}: no such file (nor mixture.wav and vocals.wav to derive it)")


def _check_same_format(
    file: Path, info: tuple[int, int, int], ref: Path, ref_info: tuple[int, int, int]
) -> None:
    """Raise MetricsError when ``file`` differs from ``ref`` in rate, channels or length."""
    (rate, channels, samples), (ref_rate, ref_channels, ref_samples) = info, ref_info
    if rate != ref_rate:
        raise MetricsError(f"{file}: sample rate {rate} Hz differs from {ref_rate} Hz of {ref}")
    if channels != ref_channels:
        raise MetricsError(f"{file}: {channels} channel(s) but {ref} has {ref_channels}")
    if samples != ref_samples:
        raise MetricsError(
            f"{file}: length {samples} samples differs from {ref_samples} samples of {ref}"
        )


def validate_track(
    name: str, references: PathLike, estimates: PathLike, targets: tuple[str, ...]
) -> TrackPair:
    """Check one track's files from their headers and describe them as a :class:`TrackPair`.

    Every reference file (including mixture/vocals used to derive an accompaniment) and every
    estimate must exist, be readable, hold samples, and share one sample rate, channel count and
    length. Raises AudioError, DataError or MetricsError naming the offending file.
    """
    ref_dir, est_dir = Path(references) / name, Path(estimates) / name
    specs = {target: _reference_spec(ref_dir, target) for target in targets}
    estimate_files = {target: est_dir / f"{target}{AUDIO_SUFFIX}" for target in targets}
    for target, file in estimate_files.items():
        if not file.exists():
            raise DataError(f"{file}: no such file (estimate of '{target}' for track '{name}')")
    first: tuple[Path, tuple[int, int, int]] | None = None
    ref_files = [p for spec in specs.values() for p in (spec.file, *spec.subtract)]
    for file in dict.fromkeys([*ref_files, *estimate_files.values()]):
        info = audio_info(file)
        if first is None:
            first = (file, info)
        else:
            _check_same_format(file, info, *first)
    assert first is not None
    rate, channels, samples = first[1]
    return TrackPair(name, specs, estimate_files, rate, channels, samples, targets)


def validate_folders(
    references: PathLike,
    estimates: PathLike,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    *,
    exclude: tuple[PathLike, ...] = (),
) -> list[TrackPair]:
    """Find and validate every track (phase 1); nothing is read beyond the file headers."""
    names = find_tracks(references, estimates, exclude=exclude)
    return [validate_track(name, references, estimates, targets) for name in names]


# --------------------------------------------------------------------------------------------
# scoring


@dataclass
class TrackResult:
    """The scores of one track (:class:`wiass.metrics.TrackScores`), where they came from, and
    whether BSSEval was ill-conditioned on it (``warning``: the warning's text)."""

    pair: TrackPair
    scores: TrackScores
    ill_conditioned: bool = False
    warning: str = ""

    @property
    def scored(self) -> Scored:
        return Scored(self.scores, self.ill_conditioned, self.warning)

    @property
    def name(self) -> str:
        return self.pair.name

    def summary(self) -> dict[str, dict[str, float]]:
        """Per target: medians over frames of SDR/ISR/SIR/SAR, means of PES/EPS, frame counts."""
        return self.scores.summary()


@dataclass
class Evaluation:
    """Results of every track (sorted by name) and the aggregate over tracks."""

    tracks: list[TrackResult]
    targets: tuple[str, ...]
    win_seconds: float
    hop_seconds: float
    aggregate: dict[str, dict[str, Any]]


def load_references(pair: TrackPair) -> dict[str, np.ndarray]:
    """Read the reference of every target as ``(channels, samples)`` float32.

    A derived reference is its file minus the files in ``subtract`` (mixture - vocals).
    """
    cache: dict[Path, np.ndarray] = {}

    def read(file: Path) -> np.ndarray:
        if file not in cache:
            cache[file] = _read_checked(file, pair)
        return cache[file]

    out = {}
    for target, spec in pair.references.items():
        audio = read(spec.file)
        for other in spec.subtract:
            audio = audio - read(other)
        out[target] = audio
    return out


def load_estimates(pair: TrackPair) -> dict[str, np.ndarray]:
    """Read the estimate of every target as ``(channels, samples)`` float32."""
    return {target: _read_checked(file, pair) for target, file in pair.estimates.items()}


def _read_checked(file: Path, pair: TrackPair) -> np.ndarray:
    """Read ``file`` and make sure it still has the format its header promised."""
    audio, rate = read_audio(file)
    if rate != pair.sample_rate or audio.shape != (pair.channels, pair.samples):
        raise AudioError(
            f"{file}: holds {audio.shape[0]} channel(s) of {audio.shape[1]} samples at {rate} Hz, "
            f"not the {pair.channels} x {pair.samples} at {pair.sample_rate} Hz its header said"
        )
    return audio


def score_track(pair: TrackPair, win_seconds: float = 1.0, hop_seconds: float = 1.0) -> TrackResult:
    """Read one validated track and compute its framewise scores (all targets jointly)."""
    scored = score_sources(
        load_references(pair), load_estimates(pair), pair.sample_rate, win_seconds, hop_seconds
    )
    return TrackResult(pair, scored.scores, scored.ill_conditioned, scored.warning)


def _track_died(pair: TrackPair) -> MetricsError:
    """The error of a worker process that died scoring ``pair``."""
    return MetricsError(
        f"track '{pair.name}': the worker process scoring it died (out of memory? try fewer --jobs)"
    )


def evaluate_folders(
    references: PathLike,
    estimates: PathLike,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    *,
    jobs: int = 1,
    win_seconds: float = 1.0,
    hop_seconds: float = 1.0,
    exclude: tuple[PathLike, ...] = (),
    progress: bool = True,
    out: PathLike | None = None,
) -> Evaluation:
    """Validate every track of the two folders, then score them all.

    Nothing is computed before every track has passed :func:`validate_folders` and, when the
    output folder ``out`` is given, :func:`check_output_names`. ``jobs`` is the number of
    worker processes (each holds one track's audio and its BSSEval matrices).
    """
    if jobs < 1:
        raise MetricsError(f"--jobs {jobs}: must be at least 1")
    for name, value in (("win", win_seconds), ("hop", hop_seconds)):
        if not value > 0:
            raise MetricsError(f"--{name} {value}: must be a positive number of seconds")
    pairs = validate_folders(references, estimates, targets, exclude=exclude)
    if out is not None:
        check_output_names(out, [pair.name for pair in pairs])
    for pair in pairs:
        if int(min(win_seconds, hop_seconds) * pair.sample_rate) < 1:
            raise MetricsError(
                f"--win {win_seconds} / --hop {hop_seconds}: shorter than one sample at "
                f"{pair.sample_rate} Hz (track '{pair.name}')"
            )
    disable = None if progress else True
    with tqdm(total=len(pairs), desc="evaluating", unit="track", disable=disable) as bar:
        score = functools.partial(score_track, win_seconds=win_seconds, hop_seconds=hop_seconds)
        results = run_tasks(score, pairs, jobs, bar, lambda pair: pair.name, _track_died)
    results.sort(key=lambda result: result.name)
    summary = aggregate([result.summary() for result in results])
    return Evaluation(results, targets, win_seconds, hop_seconds, summary)
