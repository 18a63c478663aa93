"""Datasets of synthetic songs on disk (:func:`write_dataset`), in MUSDB18-HQ layout.

Every track is a folder of 32-bit float WAV stems and mixture with a ``notes.json`` holding the
true score; track seeds derive from the dataset's seed, so a dataset is reproducible. Tracks are
generated in spawned worker processes and written to a hidden staging folder that is moved into
place only when every track is done.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wiass.data.synthetic.song import STEMS, check_song_options, generate_song
from wiass.errors import ConfigError, OutputError
from wiass.parallel import run_tasks

PathLike = str | os.PathLike[str]

SPLITS: tuple[str, ...] = ("train", "test")
"""Sub-folders of a written dataset."""

NOTES_FILE = "notes.json"
"""Per-track file holding the song's metadata and its vocal notes."""

DATASET_FILE = "dataset.json"
"""File at the dataset root describing how it was generated."""


def track_seed(seed: int, split: str, index: int) -> int:
    """The seed of track ``index`` of ``split``, derived from the dataset's base ``seed``."""
    state = np.random.SeedSequence([seed, SPLITS.index(split), index]).generate_state(1)
    return int(state[0])


def track_name(split: str, index: int) -> str:
    """Folder name of track ``index`` of ``split``."""
    return f"synthetic {split} {index:03d}"


@dataclass(frozen=True)
class _Task:
    """One track to write: its folder and the options of its song."""

    folder: str
    seed: int
    seconds: float
    sample_rate: int


def _write_track(task: _Task) -> str:
    """Generate one song and write its stems, mixture (32-bit float WAV) and notes.json."""
    from wiass.audio import write_audio
    from wiass.files import write_json

    song = generate_song(task.seed, task.seconds, task.sample_rate)
    folder = Path(task.folder)
    write_audio(folder / "mixture.wav", song.mixture, song.sample_rate, subtype="FLOAT")
    for name in STEMS:
        write_audio(folder / f"{name}.wav", song.stems[name], song.sample_rate, subtype="FLOAT")
    write_json(folder / NOTES_FILE, {"track": folder.name, **song.metadata()})
    return folder.name


def _check_dataset_options(
    n_train: int, n_test: int, seconds: float, sample_rate: int, seed: int, jobs: int | None
) -> None:
    """Raise ConfigError (naming the option) for bad :func:`write_dataset` options."""
    for name, count in (("n_train (--train)", n_train), ("n_test (--test)", n_test)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ConfigError(f"{name}: expected a non-negative number of tracks, got {count!r}")
    if n_train + n_test == 0:
        raise ConfigError("n_train, n_test (--train, --test): nothing to write (both are 0)")
    if jobs is not None and (not isinstance(jobs, int | np.integer) or jobs < 1):
        raise ConfigError(f"jobs (--jobs): expected at least 1 process, got {jobs!r}")
    check_song_options(seed, seconds, sample_rate)


def existing_dataset(out: PathLike) -> list[Path]:
    """The parts of a dataset already in ``out`` (train/, test/, dataset.json)."""
    folder = Path(out)
    return [p for p in (*(folder / s for s in SPLITS), folder / DATASET_FILE) if p.exists()]


def _run_tasks(tasks: list[_Task], jobs: int, progress: bool | None) -> None:
    """Run the tasks here (one job) or in spawned worker processes, with a progress bar."""
    disable = None if progress is None else not progress
    bar = tqdm(total=len(tasks), desc="synthetic songs", unit="track", disable=disable)
    with bar:
        run_tasks(_write_track, tasks, jobs, bar, lambda task: Path(task.folder).name, _died)


def _died(task: _Task) -> OutputError:
    """The error of a worker process that died writing ``task``."""
    return OutputError(
        "synthetic dataset: a worker process died (out of memory, or a main script without an "
        "`if __name__ == '__main__':` guard?); try jobs=1"
    )


def _install(staging: Path, out: Path) -> None:
    """Move the new splits from ``staging`` into ``out``; old splits go to ``staging`` first."""
    for split in SPLITS:
        old = out / split
        if old.exists():
            os.replace(old, staging / f"old {split}")
        if (staging / split).exists():
            os.replace(staging / split, old)


def _output_folder(folder: Path, force: bool) -> Path:
    """``folder``, checked writable; OutputError when it is a file or, without ``force``,
    already holds a dataset."""
    from wiass.files import check_writable_folder

    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    present = existing_dataset(folder)
    if present and not force:
        names = ", ".join(p.name for p in present)
        raise OutputError(f"{folder}: already holds a dataset ({names}); use --force to replace it")
    return check_writable_folder(folder)


def write_dataset(
    out: PathLike,
    n_train: int = 40,
    n_test: int = 10,
    seconds: float = 30.0,
    sample_rate: int = 16000,
    seed: int = 0,
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> Path:
    """Write synthetic songs in MUSDB18-HQ layout; return ``out``.

    ``out/train/<track>/`` and ``out/test/<track>/`` hold ``mixture.wav``, ``vocals.wav``,
    ``drums.wav``, ``bass.wav``, ``other.wav`` (stereo 32-bit float WAV, so the exact zeros of
    the vocals and ``mixture = sum of stems`` survive) and ``notes.json`` (tempo, key, sections,
    chords, vocal notes with their syllables' phonemes, and the lyrics: ``lines`` and ``words``
    with word and phoneme timings, see :class:`~wiass.data.synthetic.Song`);
    ``out/dataset.json`` records the options.
    Track seeds derive from ``seed``, the split and the index (:func:`track_seed`).

    Everything is generated in a hidden folder inside ``out`` first and moved into place at the
    end, so a failure leaves ``out`` as it was. ``jobs`` worker processes (default: up to 2)
    share the tracks; ``progress`` False hides the bar (None: shown on a terminal only).
    Raises ConfigError for bad options and OutputError when ``out`` cannot be written or already
    holds a dataset and ``force`` is not set (with ``force`` the old splits are replaced whole).
    """
    from wiass.files import write_json

    _check_dataset_options(n_train, n_test, seconds, sample_rate, seed, jobs)
    folder = _output_folder(Path(out), force)
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    counts = {"train": int(n_train), "test": int(n_test)}
    staging = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=folder))
    try:
        tasks = [
            _Task(
                str(staging / split / track_name(split, i)),
                track_seed(int(seed), split, i),
                float(seconds),
                int(sample_rate),
            )
            for split in SPLITS
            for i in range(counts[split])
        ]
        _run_tasks(tasks, int(jobs), progress)
        _install(staging, folder)
        write_json(
            folder / DATASET_FILE,
            {
                "generator": "wiass.data.synthetic",
                "seed": int(seed),
                "seconds": float(seconds),
                "sample_rate": int(sample_rate),
                "tracks": {s: [track_name(s, i) for i in range(counts[s])] for s in SPLITS},
            },
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
