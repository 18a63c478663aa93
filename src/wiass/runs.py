"""The run folder: what ``wiass separate`` and ``wiass demo`` write and ``wiass report`` reads.

A run folder ``RUN`` holds an index, ``RUN/results.json``, and one *output folder* per track and
system, the same in every run::

    <output>/vocals.wav, accompaniment.wav    the estimates (float WAV, the mixture's rate and
                                              channels; they sum to the mixture)
    <output>/alignment.json                   step times and axes (below); informed systems only
    <output>/alignment.npy                    (frames, steps) float16 attention
    <output>/side_info.npy                    (steps, D) float32 side information the model got
    <output>/true_alignment.npy               (steps,) int64 model frame each step describes,
                                              -1 = padding; only where known (generated)
    <output>/alignment_labels.txt             activity kinds: the aligned sung regions as an
                                              Audacity label file, ``start<TAB>end<TAB>sung``
    <output>/alignment.png                    the alignment figure (:mod:`wiass.plots`)
    <output>/lyrics.json                      lyrics (phonemes kind): every word and phoneme
                                              with its start and end in seconds (the format
                                              of :func:`wiass.lyrics.timing_from_json`)
    <output>/lyrics_words.txt, lyrics_phonemes.txt   the same as Audacity label files
    <output>/lyrics.lrc                       synchronised lyrics: line and word times (LRC)

``wiass separate``: ``RUN`` is ``--out``; the output folder is ``RUN`` for one mixture and
``RUN/<mixture stem>`` for several; the mixture stays where it is. ``wiass demo``: the output
folder is ``RUN/tracks/<track>/<system>``, beside ``RUN/tracks/<track>/mixture.wav`` and
``vocals.wav`` (the true vocals).

``results.json`` (``version`` 2)::

    version, title, created (ISO 8601), wiass_version
    systems   [{name, kind, description, model}]    kind: side-information kind (none = BL1)
    tracks    [{name, seconds, mixture, vocals, outputs}]
              mixture, vocals: the mixture and the true vocals (vocals null when unknown);
              outputs: {system name: its output folder}. Paths are relative to RUN (with /),
              or absolute for files outside it (a mixture given to wiass separate).
    scores    {system: {track: {SDR, SIR, SAR, PES, EPS, ...}}}  dB, null = undefined;
    summary   {system: {metric: {median, mean}}}    over tracks; both only when the true
              vocals are known (the demo), absent otherwise

``alignment.json`` (``version`` 2; version 1 had the axes without ``step_times``)::

    version, kind, mixture (as given, or null), seconds (the mixture's duration)
    attention "alignment.npy"; side_info "side_info.npy"; true_alignment, labels: file or null
    model_sample_rate, hop        the model's STFT: frame n is centred at n * hop / rate s
    frame_pool, frames, frame_seconds   rows of alignment.npy: frame_pool model frames each,
                                  frame_seconds = frame_pool * hop / model_sample_rate apart
    steps, step_seconds           number of steps; their nominal length (null when unknown)
    step_times  [{step, start, end, confidence}]   for every step its span [start, end) in
                                  seconds in the mixture and a confidence in [0, 1]
                                  (:mod:`wiass.inference.step_times`)
    lyrics                        "lyrics.json" or null (added in wiass 0.x; absent = null)

:func:`load_run` and :func:`load_alignment` read and check a folder into :class:`Run` and
:class:`Alignment`; a damaged or foreign folder raises :class:`RunError`, one line naming the
file. Files under ``RUN`` that the index names must exist; files outside it (a mixture that
was moved) may be missing. :func:`write_results` and :func:`write_alignment` write them.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from wiass import __version__
from wiass.errors import WiassError
from wiass.files import atomic_path, write_error, write_json, write_text
from wiass.inference.step_times import StepTimes
from wiass.lyrics import (
    LyricsTiming,
    timing_from_json,
    write_lrc,
    write_phoneme_labels,
    write_timing_json,
    write_word_labels,
)
from wiass.sideinfo import KINDS

RESULTS = "results.json"
VERSION = 2
"""Version of ``results.json`` and ``alignment.json`` this module writes and reads."""
LYRICS_FILES = ("lyrics.json", "lyrics_words.txt", "lyrics_phonemes.txt", "lyrics.lrc")
"""The lyrics timings of a separation with lyrics (phonemes kind)."""
ALIGNMENT_FILES = (
    "alignment.json",
    "alignment.npy",
    "side_info.npy",
    "true_alignment.npy",
    "alignment_labels.txt",
    *LYRICS_FILES,
)
"""Files of an informed system's output folder besides the audio (from the fourth on, not
always)."""
METRICS = ("SDR", "SIR", "SAR", "PES", "EPS")
"""Metrics a run's scores hold (dB); SDR/SIR/SAR summarised by the median, PES/EPS the mean."""
TABLE_STATISTIC = {"SDR": "median", "SIR": "median", "SAR": "median", "PES": "mean", "EPS": "mean"}
Scores = dict[str, dict[str, dict[str, float | None]]]


class RunError(WiassError):
    """A run folder is missing, damaged or not a wiass run folder."""


@dataclass(frozen=True)
class System:
    """One separation system of a run: ``kind`` is its side-information kind (``none`` = BL1)."""

    name: str
    kind: str
    description: str = ""
    model: str | None = None

    @property
    def informed(self) -> bool:
        """True when the system gets side information."""
        return self.kind != "none"

    @property
    def has_alignment(self) -> bool:
        """True when its output folders hold alignment files (not BL1, not BL2's noise)."""
        return self.kind not in ("none", "random")


@dataclass(frozen=True)
class Track:
    """One mixture of a run: its duration in seconds, its files as stored in the index."""

    name: str
    seconds: float
    mixture: str
    vocals: str | None
    outputs: Mapping[str, str]


@dataclass(frozen=True)
class Run:
    """The checked content of ``RUN/results.json``; ``scores``/``summary`` are None when the
    run has no true vocals to score against (``wiass separate``)."""

    root: Path
    title: str
    created: str
    wiass_version: str
    systems: tuple[System, ...]
    tracks: tuple[Track, ...]
    scores: Scores | None = None
    summary: Scores | None = None

    def path(self, stored: str) -> Path:
        """A path as the index stores it, made usable (relative ones are under ``root``)."""
        return Path(stored) if os.path.isabs(stored) else self.root / stored

    def output_dir(self, track: Track, system: str) -> Path:
        return self.path(track.outputs[system])

    @property
    def baseline(self) -> System | None:
        """The first system without side information (BL1), if the run has one."""
        return next((s for s in self.systems if not s.informed), None)


@dataclass(frozen=True)
class Alignment:
    """How an informed system aligned its side information to one mixture.

    ``attention (rows, M)``: weight of every step for each row of the frame axis, a row being
    ``frame_pool`` model frames of ``hop`` samples at ``model_sample_rate``. ``side_info
    (M, D)``: what the model got. ``true_alignment (M,)``: the model frame each step describes,
    -1 for padding, None when unknown. ``seconds``: the mixture's duration. ``step_seconds``:
    the steps' nominal length, None when unknown. ``lyrics``: the words and phonemes with
    their times (phonemes kind with a lyrics text), else None.
    """

    attention: np.ndarray
    side_info: np.ndarray
    kind: str
    model_sample_rate: int
    hop: int
    frame_pool: int
    seconds: float
    step_times: StepTimes
    true_alignment: np.ndarray | None = None
    step_seconds: float | None = None
    mixture: str | None = field(default=None, compare=False)
    lyrics: LyricsTiming | None = None

    @property
    def hop_seconds(self) -> float:
        """Seconds between model frames (frame n is centred at ``n * hop_seconds``)."""
        return self.hop / self.model_sample_rate

    @property
    def frame_seconds(self) -> float:
        """Seconds between the rows of ``attention``."""
        return self.frame_pool * self.hop_seconds

    @property
    def is_activity(self) -> bool:
        """Binary vocal activity (the A kinds)."""
        kind = KINDS.get(self.kind)
        return kind is not None and kind.features == "activity" and self.side_info.shape[1] == 1


# --------------------------------------------------------------------------- writing


def stored_path(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """``path`` as the index stores it: relative to ``root`` (with /) when inside it, else
    absolute."""
    full, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    if full == base or base in full.parents:
        return full.relative_to(base).as_posix() or "."
    return str(full)


def write_results(
    root: str | os.PathLike[str],
    *,
    title: str,
    systems: Sequence[System],
    tracks: Sequence[Track],
    scores: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> Path:
    """Write the index ``root/results.json`` (the tracks' paths as :func:`stored_path` gives
    them); scores and summary only where given. Returns its path."""
    data: dict[str, Any] = {
        "version": VERSION,
        "title": title,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "wiass_version": __version__,
        "systems": [
            {"name": s.name, "kind": s.kind, "description": s.description, "model": s.model}
            for s in systems
        ],
        "tracks": [
            {
                "name": t.name,
                "seconds": t.seconds,
                "mixture": t.mixture,
                "vocals": t.vocals,
                "outputs": dict(t.outputs),
            }
            for t in tracks
        ],
    }
    if scores is not None:
        data["scores"], data["summary"] = scores, summary
    path = Path(root) / RESULTS
    write_json(path, data)
    return path


def _save_npy(path: Path, array: np.ndarray) -> Path:
    with atomic_path(path) as tmp:
        try:
            np.save(tmp, array)
        except OSError as exc:
            raise write_error(path, exc) from exc
    return path


def _step_entries(times: StepTimes) -> list[dict[str, float | int]]:
    return [
        {
            "step": m,
            "start": round(float(a), 4),
            "end": round(float(b), 4),
            "confidence": round(float(c), 3),
        }
        for m, (a, b, c) in enumerate(zip(times.start, times.end, times.confidence, strict=True))
    ]


def write_labels(path: Path, regions: Sequence[tuple[float, float]], label: str = "sung") -> Path:
    """An Audacity label file: one ``start<TAB>end<TAB>label`` line per region (seconds)."""
    write_text(path, "".join(f"{a:.6f}\t{b:.6f}\t{label}\n" for a, b in regions))
    return path


def write_lyrics_files(folder: Path, timing: LyricsTiming) -> list[Path]:
    """Write :data:`LYRICS_FILES` of ``timing`` into ``folder``; returns their paths."""
    paths = [folder / name for name in LYRICS_FILES]
    write_timing_json(paths[0], timing)
    write_word_labels(paths[1], timing)
    write_phoneme_labels(paths[2], timing)
    write_lrc(paths[3], timing, words=True)
    return paths


def write_alignment(folder: str | os.PathLike[str], alignment: Alignment) -> list[Path]:
    """Write the alignment files of an output folder (see the module docstring); returns their
    paths, ``alignment.json`` first. A true alignment or label file of an earlier run that this
    one has not is removed, so that every file in the folder belongs to this run."""
    out = Path(folder)
    written = [
        _save_npy(out / "alignment.npy", alignment.attention.astype(np.float16)),
        _save_npy(out / "side_info.npy", alignment.side_info.astype(np.float32)),
    ]
    if alignment.true_alignment is not None:
        written.append(_save_npy(out / "true_alignment.npy", alignment.true_alignment))
    if alignment.is_activity:
        regions = alignment.step_times.regions(alignment.side_info[:, 0] > 0.5)
        written.append(write_labels(out / "alignment_labels.txt", regions))
    if alignment.lyrics is not None:
        written += write_lyrics_files(out, alignment.lyrics)
    for stale in {out / name for name in ALIGNMENT_FILES[3:]} - set(written):
        stale.unlink(missing_ok=True)
    names = {path.name for path in written}
    meta = {
        "version": VERSION,
        "kind": alignment.kind,
        "mixture": alignment.mixture,
        "seconds": alignment.seconds,
        "attention": "alignment.npy",
        "side_info": "side_info.npy",
        "true_alignment": "true_alignment.npy" if "true_alignment.npy" in names else None,
        "labels": "alignment_labels.txt" if "alignment_labels.txt" in names else None,
        "model_sample_rate": alignment.model_sample_rate,
        "hop": alignment.hop,
        "frame_pool": alignment.frame_pool,
        "frames": int(alignment.attention.shape[0]),
        "frame_seconds": alignment.frame_seconds,
        "steps": int(alignment.attention.shape[1]),
        "step_seconds": alignment.step_seconds,
        "step_times": _step_entries(alignment.step_times),
        "lyrics": "lyrics.json" if alignment.lyrics is not None else None,
    }
    write_json(out / "alignment.json", meta)
    return [out / "alignment.json", *written]


# --------------------------------------------------------------------------- reading


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise RunError(f"{path}: no such file ({what})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object at the top level")
    version = data.get("version")
    if version != VERSION:
        found = "no version" if version is None else f"version {version!r}"
        raise RunError(
            f"{path}: {found}, this wiass reads version {VERSION} (not written by this wiass; "
            "run it again)"
        )
    return data


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]``, checked to be present and of ``kind`` (a bool never counts as a number)."""
    if key not in data:
        raise RunError(f"{where}: missing field '{key}'")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise RunError(f"{where}: field '{key}' has the wrong type ({type(value).__name__})")
    return value


def _number(data: Mapping[str, Any], key: str, where: str, positive: bool = True) -> float:
    value = float(_field(data, key, (int, float), where))
    if not math.isfinite(value) or (positive and value <= 0):
        raise RunError(f"{where}: field '{key}' must be a positive number, got {value}")
    return value


def _metric_value(value: Any, where: str) -> float | None:
    """A dB value from JSON: a number, or None for null / NaN / infinity (undefined)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RunError(f"{where}: expected a number or null, got {value!r}")
    return float(value) if math.isfinite(value) else None


def _stored(value: Any, where: str) -> str:
    """A path from the index: absolute, or relative without '..' (it stays inside RUN)."""
    if not isinstance(value, str) or not value:
        raise RunError(f"{where}: expected a path, got {value!r}")
    if not os.path.isabs(value) and ".." in PurePosixPath(value).parts:
        raise RunError(f"{where}: path {value!r} leaves the run folder")
    return value


def _entries(data: Mapping[str, Any], key: str, where: str) -> list[tuple[str, dict]]:
    entries = _field(data, key, list, where)
    if not entries:
        raise RunError(f"{where}: '{key}' is empty")
    checked = []
    for i, entry in enumerate(entries):
        at = f"{where}: {key}[{i}]"
        if not isinstance(entry, dict):
            raise RunError(f"{at}: expected an object")
        name = _field(entry, "name", str, at)
        if not name.strip():
            raise RunError(f"{at}: empty name")
        checked.append((at, entry))
    names = [entry["name"] for _, entry in checked]
    if len(set(names)) != len(names):
        raise RunError(f"{where}: {key} names are not unique ({', '.join(names)})")
    return checked


def _parse_systems(data: Mapping[str, Any], where: str) -> tuple[System, ...]:
    return tuple(
        System(
            name=entry["name"],
            kind=_field(entry, "kind", str, at),
            description=str(entry.get("description") or ""),
            model=None if entry.get("model") is None else str(entry["model"]),
        )
        for at, entry in _entries(data, "systems", where)
    )


def _parse_tracks(
    data: Mapping[str, Any], systems: Sequence[System], where: str
) -> tuple[Track, ...]:
    tracks = []
    for at, entry in _entries(data, "tracks", where):
        outputs = _field(entry, "outputs", dict, at)
        for system in systems:
            _stored(_field(outputs, system.name, str, f"{at}.outputs"), f"{at}.outputs")
        vocals = entry.get("vocals")
        tracks.append(
            Track(
                name=entry["name"],
                seconds=_number(entry, "seconds", at),
                mixture=_stored(_field(entry, "mixture", str, at), f"{at}.mixture"),
                vocals=None if vocals is None else _stored(vocals, f"{at}.vocals"),
                outputs={s.name: outputs[s.name] for s in systems},
            )
        )
    return tuple(tracks)


def _parse_scores(
    data: Mapping[str, Any], systems: Sequence[System], tracks: Sequence[Track], where: str
) -> Scores:
    table = _field(data, "scores", dict, where)
    scores: Scores = {}
    for system in systems:
        per_track = _field(table, system.name, dict, f"{where}: scores")
        scores[system.name] = {}
        for track in tracks:
            at = f"{where}: scores.{system.name}"
            values = _field(per_track, track.name, dict, at)
            scores[system.name][track.name] = {
                metric: _metric_value(
                    _field(values, metric, (int, float, type(None)), f"{at}.{track.name}"),
                    f"{at}.{track.name}.{metric}",
                )
                for metric in METRICS
            }
    return scores


def _parse_summary(data: Mapping[str, Any], systems: Sequence[System], where: str) -> Scores:
    table = _field(data, "summary", dict, where)
    summary: Scores = {}
    for system in systems:
        metrics = _field(table, system.name, dict, f"{where}: summary")
        summary[system.name] = {}
        for metric in METRICS:
            at = f"{where}: summary.{system.name}.{metric}"
            stats = _field(metrics, metric, dict, f"{where}: summary.{system.name}")
            if TABLE_STATISTIC[metric] not in stats:
                raise RunError(f"{at}: missing field '{TABLE_STATISTIC[metric]}'")
            summary[system.name][metric] = {
                name: _metric_value(value, f"{at}.{name}")
                for name, value in stats.items()
                if name in ("median", "mean")
            }
    return summary


def _needed_files(run: Run) -> list[Path]:
    """Files the index names under RUN (relative paths): the tracks' audio, every output
    folder's vocals and, for systems with an alignment, its files."""
    files = []
    for track in run.tracks:
        stored = [p for p in (track.mixture, track.vocals) if p is not None]
        files += [run.path(p) for p in stored if not os.path.isabs(p)]
        for system in run.systems:
            if os.path.isabs(track.outputs[system.name]):
                continue
            folder = run.output_dir(track, system.name)
            files.append(folder / "vocals.wav")
            if system.has_alignment:
                files += [folder / name for name in ALIGNMENT_FILES[:3]]
    return files


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read and check ``run_dir/results.json`` and make sure the files it names under
    ``run_dir`` exist; RunError (one line naming the file) for anything missing or damaged."""
    root = Path(run_dir)
    if not root.is_dir():
        raise RunError(f"{root}: no such run folder")
    path = root / RESULTS
    data = _read_json(path, "not a wiass run folder, or the run did not finish")
    where = str(path)
    systems = _parse_systems(data, where)
    tracks = _parse_tracks(data, systems, where)
    scored = "scores" in data
    run = Run(
        root=root,
        title=str(data.get("title") or "wiass run"),
        created=str(data.get("created") or ""),
        wiass_version=str(data.get("wiass_version") or ""),
        systems=systems,
        tracks=tracks,
        scores=_parse_scores(data, systems, tracks, where) if scored else None,
        summary=_parse_summary(data, systems, where) if scored else None,
    )
    for file in _needed_files(run):
        if not file.is_file():
            raise RunError(f"{file}: no such file (listed by {path.name})")
    return run


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise RunError(f"{path}: no such file (named by alignment.json)") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise RunError(f"{path}: not a readable .npy array ({exc})") from exc


def _array(
    folder: Path, name: str, shape: tuple[int | None, ...], kinds: str = "fiu"
) -> np.ndarray:
    """The array ``folder/name``, checked against ``shape`` (None: any size) and the dtype
    ``kinds`` (numpy kind letters)."""
    path = folder / name
    array = _load_npy(path)
    fits = array.ndim == len(shape) and all(
        s is None or s == a for s, a in zip(shape, array.shape, strict=False)
    )
    if not fits or array.dtype.kind not in kinds:
        wanted = " x ".join("any" if s is None else str(s) for s in shape)
        raise RunError(
            f"{path}: {array.dtype} {array.shape} does not fit alignment.json ({wanted})"
        )
    return array


def _step_times(entries: Any, steps: int, where: str) -> StepTimes:
    if not isinstance(entries, list) or len(entries) != steps:
        raise RunError(f"{where}: 'step_times' must list the {steps} steps")
    try:
        table = np.array([[e["start"], e["end"], e["confidence"]] for e in entries], dtype=float)
    except (TypeError, KeyError, ValueError) as exc:
        raise RunError(f"{where}: step_times entries need numbers start, end, confidence") from exc
    table = table.reshape(steps, 3)
    start, end, confidence = table.T
    if (
        not np.all(np.isfinite(table))
        or np.any(end < start)
        or np.any((confidence < 0) | (confidence > 1))
    ):
        raise RunError(f"{where}: step_times need start <= end and a confidence in [0, 1]")
    return StepTimes(start=start, end=end, confidence=confidence)


def load_alignment(folder: str | os.PathLike[str]) -> Alignment:
    """Read and check the alignment files of an output folder (see the module docstring)."""
    out = Path(folder)
    path = out / "alignment.json"
    meta = _read_json(path, "no alignment in this output folder")
    where = str(path)
    frames, steps = (int(_number(meta, key, where)) for key in ("frames", "steps"))
    attention = _array(out, _stored(_field(meta, "attention", str, where), where), (frames, steps))
    side_info = _array(out, _stored(_field(meta, "side_info", str, where), where), (steps, None))
    true_name = meta.get("true_alignment")
    true = None if true_name is None else _array(out, _stored(true_name, where), (steps,), "iu")
    step_seconds = meta.get("step_seconds")
    lyrics_name = meta.get("lyrics")
    lyrics = None if lyrics_name is None else _lyrics(out / _stored(lyrics_name, where))
    return Alignment(
        attention=np.nan_to_num(attention.astype(np.float32)),
        side_info=np.nan_to_num(side_info.astype(np.float32)),
        kind=_field(meta, "kind", str, where),
        model_sample_rate=int(_number(meta, "model_sample_rate", where)),
        hop=int(_number(meta, "hop", where)),
        frame_pool=int(_number(meta, "frame_pool", where)),
        seconds=_number(meta, "seconds", where),
        step_times=_step_times(meta.get("step_times"), steps, where),
        true_alignment=None if true is None else true.astype(np.int64),
        step_seconds=None if step_seconds is None else _number(meta, "step_seconds", where),
        mixture=None if meta.get("mixture") is None else str(meta["mixture"]),
        lyrics=lyrics,
    )


def _lyrics(path: Path) -> LyricsTiming:
    """The timed lyrics an alignment.json names; RunError when missing or damaged."""
    try:
        timing = timing_from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as exc:
        raise RunError(
            f"{path}: the lyrics timing that alignment.json names cannot be read"
        ) from exc
    except WiassError as exc:
        raise RunError(str(exc)) from exc
    if timing is None:
        raise RunError(f"{path}: holds no words")
    return timing


__all__ = [
    "ALIGNMENT_FILES",
    "LYRICS_FILES",
    "METRICS",
    "RESULTS",
    "TABLE_STATISTIC",
    "VERSION",
    "Alignment",
    "Run",
    "RunError",
    "System",
    "Track",
    "load_alignment",
    "load_run",
    "stored_path",
    "write_alignment",
    "write_labels",
    "write_results",
]
