"""The HTML listening report of a run folder: what the side information did, in one page.

A run folder (written by ``wiass demo``) holds ``results.json`` and the audio, alignments and side
information of every track and system::

    RUN/results.json
    RUN/tracks/<track>/mixture.wav, vocals.wav            (mixture, true vocals)
    RUN/tracks/<track>/<system>/vocals.wav                (estimate)
    RUN/tracks/<track>/<system>/alignment.npy             (frames, steps) attention, informed only
    RUN/tracks/<track>/<system>/alignment.json            frame_seconds, steps, step_seconds, kind
    RUN/tracks/<track>/<system>/side_info.npy             (M, D) side information, informed only
    RUN/tracks/<track>/<system>/true_alignment.npy        (M,) mixture frame per step, -1 = padding

:func:`load_run` reads and checks that folder, :func:`build_report` draws the figures into
``<page>_assets/`` next to the page (``report_assets/`` for the default ``report.html``) and
renders ``templates/report.html`` into the page.
Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg canvas, no pyplot state), so
memory stays flat however many tracks there are.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import numpy as np
from matplotlib import colors
from matplotlib.figure import Figure
from tqdm import tqdm

from wiass.audio import read_audio
from wiass.errors import WiassError
from wiass.files import atomic_path, write_text

METRICS = ("SDR", "SIR", "SAR", "PES", "EPS")
"""Metrics shown in the report; SDR/SIR/SAR as medians over tracks, PES/EPS as means."""
LOWER_IS_BETTER = frozenset({"PES", "EPS"})
TABLE_STATISTIC = {"SDR": "median", "SIR": "median", "SAR": "median", "PES": "mean", "EPS": "mean"}
METRIC_LEGEND = (
    "SDR, SIR, SAR: BSSEval v4 signal-to-distortion, -interference and -artifact ratios, median "
    "over tracks, dB, higher is better. PES: energy of the estimate where the true vocals are "
    "silent; EPS: energy of the true vocals where the estimate is silent; mean over tracks, dB, "
    "lower is better."
)
KIND_PHRASES = {
    "none": "no side information",
    "random": "meaningless random side information",
    "A1": "frame-aligned vocal-activity information",
    "A2": "coarse vocal-activity information",
    "A3.1": "vocal-activity information",
    "A3.2": "time-warped vocal-activity information",
    "M1": "frame-aligned vocal-magnitude information",
    "M2": "coarse vocal-magnitude information",
}
SPECTROGRAM_RANGE_DB = 80.0
"""Colour range of the spectrograms: from the loudest bin of a track down by this many dB."""
ZOOM_SECONDS = 5.0
"""Length of the alignment figure's close-up of a track's start (seconds)."""
ACTIVITY_COLOURS = ("#ffffff", "#1f2933")
"""Colours of binary vocal activity in the side-information strip: silent (0), active (1)."""
TRUE_ALIGNMENT_STYLE: dict[str, Any] = {
    "color": "#22d3ee",
    "linewidth": 0.9,
    "linestyle": (0, (4, 3)),
    "alpha": 0.9,
}
"""The true alignment over the attention: thin and dashed, so the attention under it shows."""
ENERGY_FRAME_SECONDS = 0.1
ENERGY_FLOOR_DB = -125.0
_CHANGE_DB = 0.05
"""Differences smaller than this (dB) are reported as no change."""
_TIE_DB = 0.005
"""Values closer than this (dB) print the same with two decimals and count as equal."""
FLOOR_DB = -120.0
"""``10 log10(0 + 1e-12)``: the level of an exactly silent signal, the lowest PES/EPS can be."""


class ReportError(WiassError):
    """A run folder is missing, incomplete or inconsistent, so no report can be built from it."""


@dataclass(frozen=True)
class System:
    """One separation system of a run: ``kind`` is its side-information kind (``none`` = BL1)."""

    name: str
    kind: str
    description: str

    @property
    def informed(self) -> bool:
        """True when the system gets side information (and so has an attention alignment)."""
        return self.kind != "none"


@dataclass(frozen=True)
class Track:
    """One test song of a run and its duration in seconds."""

    name: str
    seconds: float


@dataclass(frozen=True)
class RunResults:
    """The checked content of a run folder's ``results.json``.

    ``scores[system][track][metric]`` and ``summary[system][metric][statistic]`` are in dB,
    ``None`` where a metric is undefined (no frame to measure it on).
    """

    root: Path
    title: str
    created: str
    version: str
    sample_rate: int
    hop_seconds: float
    systems: tuple[System, ...]
    tracks: tuple[Track, ...]
    scores: dict[str, dict[str, dict[str, float | None]]]
    summary: dict[str, dict[str, dict[str, float | None]]]

    def track_dir(self, track: str) -> Path:
        return self.root / "tracks" / track

    def system_dir(self, track: str, system: str) -> Path:
        return self.track_dir(track) / system

    @property
    def baseline(self) -> System | None:
        """The first system without side information (BL1), if the run has one."""
        return next((s for s in self.systems if not s.informed), None)


@dataclass(frozen=True)
class AlignmentData:
    """What an informed system saw and how it aligned it to one track.

    ``attention`` is ``(frames, steps)``: for every (possibly pooled) mixture frame of
    ``frame_seconds``, the weight given to each side-information step. ``side_info`` is the
    ``(steps, D)`` side information, ``true_alignment`` the ``(steps,)`` mixture frame (of
    ``hop_seconds``) each step describes, -1 for padding, or None where it is unknown.
    """

    attention: np.ndarray
    frame_seconds: float
    step_seconds: float | None
    kind: str
    side_info: np.ndarray
    true_alignment: np.ndarray | None


# --------------------------------------------------------------------------- loading


def _read_results_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReportError(
            f"{path}: no such file (not a wiass run folder, or the run did not finish)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object at the top level")
    return data


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]``, checked to be present and of ``kind`` (a bool never counts as a number)."""
    if key not in data:
        raise ReportError(f"{where}: missing field '{key}'")
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ReportError(f"{where}: field '{key}' has the wrong type (bool)")
    if not isinstance(value, kind):
        raise ReportError(f"{where}: field '{key}' has the wrong type ({type(value).__name__})")
    return value


def _metric_value(value: Any, where: str) -> float | None:
    """A dB value from JSON: a number, or None for null / NaN / infinity (undefined)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError(f"{where}: expected a number or null, got {value!r}")
    return float(value) if math.isfinite(value) else None


def _path_name(name: Any, where: str) -> str:
    """A track or system name, which is also a folder name inside the run folder."""
    if not isinstance(name, str) or not name or name in (".", "..") or Path(name).name != name:
        raise ReportError(f"{where}: invalid name {name!r} (must be a plain folder name)")
    return name


def _parse_systems(data: Mapping[str, Any], where: str) -> tuple[System, ...]:
    entries = _field(data, "systems", list, where)
    if not entries:
        raise ReportError(f"{where}: 'systems' is empty")
    systems = []
    for i, entry in enumerate(entries):
        at = f"{where}: systems[{i}]"
        if not isinstance(entry, dict):
            raise ReportError(f"{at}: expected an object")
        systems.append(
            System(
                name=_path_name(_field(entry, "name", str, at), at),
                kind=_field(entry, "kind", str, at),
                description=str(entry.get("description", "")),
            )
        )
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise ReportError(f"{where}: system names are not unique ({', '.join(names)})")
    return tuple(systems)


def _parse_tracks(data: Mapping[str, Any], where: str) -> tuple[Track, ...]:
    entries = _field(data, "tracks", list, where)
    if not entries:
        raise ReportError(f"{where}: 'tracks' is empty")
    tracks = []
    for i, entry in enumerate(entries):
        at = f"{where}: tracks[{i}]"
        if not isinstance(entry, dict):
            raise ReportError(f"{at}: expected an object")
        name = _path_name(_field(entry, "name", str, at), at)
        tracks.append(Track(name=name, seconds=float(_field(entry, "seconds", (int, float), at))))
    names = [t.name for t in tracks]
    if len(set(names)) != len(names):
        raise ReportError(f"{where}: track names are not unique")
    return tuple(tracks)


def _parse_scores(
    data: Mapping[str, Any], systems: Sequence[System], tracks: Sequence[Track], where: str
) -> dict[str, dict[str, dict[str, float | None]]]:
    table = _field(data, "scores", dict, where)
    scores: dict[str, dict[str, dict[str, float | None]]] = {}
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


def _parse_summary(
    data: Mapping[str, Any], systems: Sequence[System], where: str
) -> dict[str, dict[str, dict[str, float | None]]]:
    table = _field(data, "summary", dict, where)
    summary: dict[str, dict[str, dict[str, float | None]]] = {}
    for system in systems:
        metrics = _field(table, system.name, dict, f"{where}: summary")
        summary[system.name] = {}
        for metric in METRICS:
            at = f"{where}: summary.{system.name}.{metric}"
            stats = _field(metrics, metric, dict, f"{where}: summary.{system.name}")
            if TABLE_STATISTIC[metric] not in stats:
                raise ReportError(f"{at}: missing field '{TABLE_STATISTIC[metric]}'")
            summary[system.name][metric] = {
                name: _metric_value(value, f"{at}.{name}")
                for name, value in stats.items()
                if name in ("median", "mean")
            }
    return summary


def _expected_files(run: RunResults) -> list[Path]:
    """Files the report needs: audio of every track and system, alignments of informed ones."""
    files = []
    for track in run.tracks:
        files += [
            run.track_dir(track.name) / "mixture.wav",
            run.track_dir(track.name) / "vocals.wav",
        ]
        for system in run.systems:
            folder = run.system_dir(track.name, system.name)
            files.append(folder / "vocals.wav")
            if system.informed:
                files += [
                    folder / "alignment.npy",
                    folder / "alignment.json",
                    folder / "side_info.npy",
                ]
    return files


def load_run(run_dir: str | os.PathLike[str]) -> RunResults:
    """Read and check ``run_dir/results.json`` and make sure every file the report needs exists.

    Raises ReportError (one line naming the file) for a missing folder, a missing or corrupt
    ``results.json``, a field of the wrong type, or a missing audio / alignment file.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise ReportError(f"{root}: no such run folder")
    path = root / "results.json"
    data = _read_results_json(path)
    where = str(path)
    systems = _parse_systems(data, where)
    tracks = _parse_tracks(data, where)
    sample_rate = _field(data, "sample_rate", int, where)
    hop_seconds = float(_field(data, "hop_seconds", (int, float), where))
    if sample_rate <= 0 or hop_seconds <= 0:
        raise ReportError(f"{where}: 'sample_rate' and 'hop_seconds' must be positive")
    run = RunResults(
        root=root,
        title=str(data.get("title", "wiass run")),
        created=str(data.get("created", "")),
        version=str(data.get("wiass_version", "")),
        sample_rate=sample_rate,
        hop_seconds=hop_seconds,
        systems=systems,
        tracks=tracks,
        scores=_parse_scores(data, systems, tracks, where),
        summary=_parse_summary(data, systems, where),
    )
    for file in _expected_files(run):
        if not file.is_file():
            raise ReportError(f"{file}: no such file (listed by {path.name}, needed by the report)")
    return run


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ReportError(f"{path}: not a readable .npy array ({exc})") from exc


def _load_alignment_json(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(meta, dict):
        raise ReportError(f"{path}: expected a JSON object")
    frame_seconds = _field(meta, "frame_seconds", (int, float), str(path))
    step_seconds = meta.get("step_seconds")
    if frame_seconds <= 0:
        raise ReportError(f"{path}: 'frame_seconds' must be positive")
    if step_seconds is not None and (
        isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, float))
    ):
        raise ReportError(f"{path}: 'step_seconds' must be a number or null")
    return meta


def load_alignment(run: RunResults, track: str, system: str) -> AlignmentData:
    """Read the attention, side information and true alignment of an informed system on a track.

    Raises ReportError when a file is unreadable or the shapes do not fit together (steps of the
    attention, of the side information and of the true alignment must agree).
    """
    folder = run.system_dir(track, system)
    meta = _load_alignment_json(folder / "alignment.json")
    attention = _load_npy(folder / "alignment.npy")
    side_info = _load_npy(folder / "side_info.npy")
    if attention.ndim != 2 or attention.size == 0:
        raise ReportError(
            f"{folder / 'alignment.npy'}: expected a (frames, steps) array, got {attention.shape}"
        )
    if side_info.ndim == 1:
        side_info = side_info[:, np.newaxis]
    if side_info.ndim != 2 or side_info.shape[0] != attention.shape[1]:
        raise ReportError(
            f"{folder / 'side_info.npy'}: shape {side_info.shape} does not fit the "
            f"{attention.shape[1]} steps of alignment.npy"
        )
    steps = meta.get("steps", attention.shape[1])
    if steps != attention.shape[1]:
        raise ReportError(
            f"{folder / 'alignment.json'}: says {steps} steps, "
            f"alignment.npy has {attention.shape[1]}"
        )
    true_path = folder / "true_alignment.npy"
    true_alignment = None
    if true_path.is_file():
        true_alignment = _load_npy(true_path)
        if true_alignment.shape != (attention.shape[1],):
            raise ReportError(
                f"{true_path}: shape {true_alignment.shape} does not fit the "
                f"{attention.shape[1]} steps of alignment.npy"
            )
    return AlignmentData(
        attention=np.nan_to_num(attention.astype(np.float32)),
        frame_seconds=float(meta["frame_seconds"]),
        step_seconds=None if meta.get("step_seconds") is None else float(meta["step_seconds"]),
        kind=str(meta.get("kind", "")),
        side_info=np.nan_to_num(side_info.astype(np.float32)),
        true_alignment=None if true_alignment is None else true_alignment.astype(np.int64),
    )


# --------------------------------------------------------------------------- numbers and text


def format_db(value: float | None, digits: int = 2) -> str:
    """``value`` with a typographic minus, or an em dash where it is undefined."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}".replace("-", "−")


def kind_phrase(system: System) -> str:
    """A few words on what side information a system gets (e.g. 'vocal-activity information')."""
    return KIND_PHRASES.get(system.kind, f"{system.kind} side information")


def table_value(run: RunResults, system: str, metric: str) -> float | None:
    """The value of ``metric`` in the summary table: median (SDR/SIR/SAR) or mean (PES/EPS)."""
    return run.summary[system][metric].get(TABLE_STATISTIC[metric])


def _better(value: float, base: float, metric: str) -> bool:
    """Whether ``value`` beats ``base`` on ``metric`` by more than _CHANGE_DB."""
    diff = value - base
    return diff < -_CHANGE_DB if metric in LOWER_IS_BETTER else diff > _CHANGE_DB


def song_count(run: RunResults, system: str, baseline: str, metric: str) -> tuple[int, int]:
    """``(better, songs)``: on how many songs ``system`` beats ``baseline`` on ``metric`` (by
    more than _CHANGE_DB), of the songs where both values are defined."""
    pairs = [
        (run.scores[system][t.name][metric], run.scores[baseline][t.name][metric])
        for t in run.tracks
    ]
    defined = [(v, b) for v, b in pairs if v is not None and b is not None]
    return sum(_better(v, b, metric) for v, b in defined), len(defined)


def songs_phrase(count: tuple[int, int], metric: str) -> str:
    """'lower on 2 of 3 songs' (PES/EPS) or 'higher on all 3 songs' (SDR...); '' for < 2 songs."""
    better, songs = count
    if songs < 2:
        return ""
    direction = "lower" if metric in LOWER_IS_BETTER else "higher"
    if better == songs:
        return f"{direction} on {'both' if songs == 2 else f'all {songs}'} songs"
    if better == 0:
        return f"{direction} on none of the {songs} songs"
    return f"{direction} on {better} of {songs} songs"


def _numbers(label: str, value: float, base: float, count: tuple[int, int], metric: str) -> str:
    """'(PES −92.5 vs −84.5 dB; lower on 2 of 3 songs)' (one decimal for PES/EPS, two else)."""
    digits = 1 if metric in LOWER_IS_BETTER else 2
    songs = songs_phrase(count, metric)
    return (
        f"({label}{format_db(value, digits)} vs {format_db(base, digits)} dB"
        f"{'; ' + songs if songs else ''})"
    )


def _pes_clause(
    value: float | None, base: float | None, baseline: str, count: tuple[int, int]
) -> str:
    if value is None or base is None:
        return (
            f"its energy where the voice is silent (PES) cannot be compared with {baseline} "
            "(undefined: no silent vocal frames)"
        )
    diff = value - base
    numbers = _numbers("PES ", value, base, count, "PES")
    if abs(diff) < _CHANGE_DB:
        return (
            f"the estimate puts as much energy as {baseline} into the parts where the voice is "
            f"silent {numbers}"
        )
    more_less = "less" if diff < 0 else "more"
    return (
        f"the estimate puts {abs(diff):.1f} dB {more_less} energy than {baseline} into the parts "
        f"where the voice is silent {numbers}"
    )


def _sdr_clause(
    value: float | None, base: float | None, count: tuple[int, int], subject: str = "the"
) -> str:
    if value is None or base is None:
        return f"{subject} median SDR cannot be compared (undefined)"
    diff = value - base
    numbers = _numbers("", value, base, count, "SDR")
    if abs(diff) < _CHANGE_DB:
        return f"{subject} median SDR is unchanged {numbers}"
    verb = "rises" if diff > 0 else "drops"
    return f"{subject} median SDR {verb} by {abs(diff):.2f} dB {numbers}"


def summary_sentences(run: RunResults) -> list[str]:
    """One sentence per informed system on what its side information changed against BL1,
    with the number of songs on which it did better.

    Without a baseline in the run, each system's own PES and SDR are stated instead.
    """
    baseline = run.baseline
    sentences = []
    for system in run.systems:
        if not system.informed:
            continue
        pes, sdr = table_value(run, system.name, "PES"), table_value(run, system.name, "SDR")
        opening = f"With {kind_phrase(system)} ({system.name}), "
        if baseline is None:
            sentences.append(
                f"{opening}the estimate has a median SDR of {format_db(sdr)} dB and a PES of "
                f"{format_db(pes, 1)} dB."
            )
            continue
        base = baseline.name
        pes_clause = _pes_clause(
            pes, table_value(run, base, "PES"), base, song_count(run, system.name, base, "PES")
        )
        sdr_clause = _sdr_clause(
            sdr, table_value(run, base, "SDR"), song_count(run, system.name, base, "SDR")
        )
        sentences.append(f"{opening}{pes_clause}, and {sdr_clause}.")
    if not sentences:
        sentences.append(
            "No system in this run received side information; the table compares them."
        )
    return sentences


def _leader(run: RunResults, metric: str, names: Sequence[str]) -> str | None:
    """The system among ``names`` with the best defined table value of ``metric``."""
    values = {n: v for n in names if (v := table_value(run, n, metric)) is not None}
    if not values:
        return None
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(values, key=lambda name: values[name])


def _sdr_spread(run: RunResults) -> str:
    """How far apart the systems' median SDRs are, e.g. 'the median SDR differs by at most
    0.91 dB between systems (9.80 to 10.70 dB; highest: M2)'."""
    names = [s.name for s in run.systems]
    values = [v for name in names if (v := table_value(run, name, "SDR")) is not None]
    if not values:
        return "the median SDR is undefined for every system"
    low, high = min(values), max(values)
    if len(values) == 1 or high - low < _CHANGE_DB:
        return f"the median SDR is the same for every system ({format_db(high)} dB)"
    return (
        f"the median SDR differs by at most {high - low:.2f} dB between systems "
        f"({format_db(low)} to {format_db(high)} dB; highest: {_leader(run, 'SDR', names)})"
    )


def _pes_lead(run: RunResults) -> str:
    """Which informed system leaks least into the pauses (lowest PES), by how much against
    the baseline and on how many songs; the lowest PES of all where there is nothing to
    compare."""
    baseline = run.baseline
    best = _leader(run, "PES", [s.name for s in run.systems if s.informed])
    base_pes = None if baseline is None else table_value(run, baseline.name, "PES")
    pes = None if best is None else table_value(run, best, "PES")
    if baseline is None or best is None or pes is None or base_pes is None:
        leader = _leader(run, "PES", [s.name for s in run.systems])
        if leader is None:
            return "PES is undefined for every system (no silent vocal frames)"
        value = format_db(table_value(run, leader, "PES"), 1)
        return f"{leader} leaks least into the pauses (PES {value} dB)"
    base = baseline.name
    numbers = _numbers("PES ", pes, base_pes, song_count(run, best, base, "PES"), "PES")
    diff = pes - base_pes
    if diff < -_CHANGE_DB:
        return (
            f"{best} leaks least into the pauses: {-diff:.1f} dB less energy than {base} where "
            f"the voice is silent {numbers}"
        )
    if diff > _CHANGE_DB:
        return (
            f"No side information lowers the energy where the voice is silent below {base}'s: "
            f"the best informed system, {best}, puts {diff:.1f} dB more there {numbers}"
        )
    return f"{best} leaks as much as {base} into the pauses {numbers}"


def reading(run: RunResults) -> str:
    """The run in one sentence, from its numbers: the informed system that leaks least into the
    pauses (lowest PES), by how much against the baseline and on how many songs, and how far
    apart the systems' median SDRs are."""
    return f"{_pes_lead(run)}; {_sdr_spread(run)}."


@dataclass(frozen=True)
class SongCount:
    """'2 of 3': on how many songs a system beats the baseline on one metric; ``mixed`` when
    the songs do not all go the same way."""

    text: str
    mixed: bool


def song_table(run: RunResults) -> dict[str, list[SongCount]]:
    """Per informed system and metric: on how many songs it beats the baseline.

    Empty without a baseline or with fewer than two songs.
    """
    baseline = run.baseline
    if baseline is None or len(run.tracks) < 2:
        return {}
    table = {}
    for system in run.systems:
        if system.informed:
            counts = [song_count(run, system.name, baseline.name, m) for m in METRICS]
            table[system.name] = [
                SongCount(f"{better} of {songs}" if songs else "—", 0 < better < songs)
                for better, songs in counts
            ]
    return table


@dataclass(frozen=True)
class Cell:
    """One metric cell of a table: formatted text, whether it is the best of its column, and
    whether every value of its column is the same (so none is best)."""

    text: str
    best: bool
    tie: bool = False


def _is_tie(values: Sequence[float | None]) -> bool:
    """Whether at least two values are defined and all defined ones print the same."""
    defined = [v for v in values if v is not None]
    return len(defined) >= 2 and max(defined) - min(defined) < _TIE_DB


def _best_flags(values: Sequence[float | None], lower_is_better: bool) -> list[bool]:
    """Which values are the best of a column; none when fewer than two values are defined or
    when they are all the same."""
    defined = [v for v in values if v is not None]
    if len(defined) < 2 or _is_tie(values):
        return [False] * len(values)
    best = min(defined) if lower_is_better else max(defined)
    return [v is not None and abs(v - best) < _TIE_DB for v in values]


def tie_note(metric: str, values: Sequence[float | None]) -> str | None:
    """A sentence for a column in which every system has the same value, else None."""
    if not _is_tie(values):
        return None
    value = min(v for v in values if v is not None)
    if value <= FLOOR_DB + _TIE_DB:
        return (
            f"{metric}: every system is at {format_db(FLOOR_DB)} dB, the floor (an exactly "
            "silent signal), so this column does not tell them apart."
        )
    return (
        f"{metric}: every system has {format_db(value)} dB, so this column does not tell them "
        "apart."
    )


def metric_rows(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, list[Cell]]:
    """``values[row][metric]`` as formatted cells per row, with the best value per column marked
    (none in a column where all values are the same)."""
    rows = list(values)
    cells: dict[str, list[Cell]] = {row: [] for row in rows}
    for metric in METRICS:
        column = [values[row][metric] for row in rows]
        tie = _is_tie(column)
        for row, value, best in zip(
            rows, column, _best_flags(column, metric in LOWER_IS_BETTER), strict=True
        ):
            cells[row].append(Cell(format_db(value), best, tie))
    return cells


def summary_values(run: RunResults) -> dict[str, dict[str, float | None]]:
    """``values[system][metric]``: the summary table's numbers."""
    return {s.name: {m: table_value(run, s.name, m) for m in METRICS} for s in run.systems}


def _statistics_legend() -> str:
    """'SDR, SIR, SAR: median over songs, higher is better. PES, EPS: mean ...' from
    TABLE_STATISTIC and LOWER_IS_BETTER."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for metric in METRICS:
        groups.setdefault((TABLE_STATISTIC[metric], metric in LOWER_IS_BETTER), []).append(metric)
    return " ".join(
        f"{', '.join(metrics)}: {statistic} over songs, {'lower' if lower else 'higher'} is better."
        for (statistic, lower), metrics in groups.items()
    )


def text_table(run: RunResults, width: int = 100) -> str:
    """The summary table as plain text for a terminal, the best of each column marked *,
    followed by what the columns mean and any column that does not tell the systems apart
    (lines wrapped at ``width``)."""
    values = summary_values(run)
    cells = metric_rows(values)
    name_width = max(len("system"), *(len(name) for name in values))
    lines = [
        f"Scores over {len(run.tracks)} song{'s' if len(run.tracks) != 1 else ''}, vocals, dB:",
        f"{'system':<{name_width}}" + "".join(f"{m:>10}" for m in METRICS),
    ]
    for name, row in cells.items():
        numbers = [
            "n/a " if v is None else f"{v:.2f}{'*' if c.best else ' '}"
            for v, c in zip(values[name].values(), row, strict=True)
        ]
        lines.append((f"{name:<{name_width}}" + "".join(f"{n:>10}" for n in numbers)).rstrip())
    notes = [tie_note(m, [values[n][m] for n in values]) for m in METRICS]
    legend = " ".join(
        [_statistics_legend(), "Marked *: the best of each column.", *filter(None, notes)]
    )
    lines += textwrap.wrap(legend, width)
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots


def spectrogram_db(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Log-magnitude spectrogram ``(frames, freq)`` in dB of the mono downmix of ``audio``.

    Windows of about 64 ms with a hop of a quarter window; returns the dB values
    (``20 log10(|X| + 1e-8)``) and the hop in seconds.
    """
    from wiass.transforms import STFTConfig, magnitude

    n_fft = 2 ** max(6, round(math.log2(0.064 * sample_rate)))
    config = STFTConfig(n_fft=n_fft, hop=n_fft // 4)
    mono = np.asarray(audio, dtype=np.float32).mean(axis=0)
    mag = magnitude(mono, config).numpy()
    return 20.0 * np.log10(mag + 1e-8), config.hop / sample_rate


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def plot_spectrograms(
    signals: Mapping[str, np.ndarray], sample_rate: int, paths: Mapping[str, Path]
) -> dict[str, Path]:
    """Draw one spectrogram per signal (label -> ``(channels, samples)``), all on one colour scale.

    The scale runs from the loudest bin over all signals (0 dB) down by SPECTROGRAM_RANGE_DB, so
    the images of a track can be compared side by side. Writes ``paths[label]`` for every label.
    """
    spectra = {label: spectrogram_db(audio, sample_rate) for label, audio in signals.items()}
    top = max(float(db.max()) for db, _ in spectra.values())
    for label, (db, hop_seconds) in spectra.items():
        fig = Figure(figsize=(4.2, 2.6), dpi=110, layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(
            (db - top).T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-SPECTROGRAM_RANGE_DB,
            vmax=0.0,
            extent=(0.0, db.shape[0] * hop_seconds, 0.0, sample_rate / 2000.0),
            interpolation="nearest",
        )
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (kHz)")
        fig.colorbar(image, ax=ax, label="dB", pad=0.02, fraction=0.05)
        _save(fig, paths[label])
    return dict(paths)


def _side_info_label(kind: str, dim: int) -> str:
    if dim == 1:
        return "activity" if kind.startswith("A") else "value"
    return "band (low → high)"


def _is_activity(alignment: AlignmentData) -> bool:
    """Binary vocal activity (the A kinds): drawn in two colours with a legend."""
    return alignment.kind.startswith("A") and alignment.side_info.shape[1] == 1


def _side_info_strip(ax: Any, alignment: AlignmentData) -> list[Any]:
    """Draw the ``(steps, D)`` side information as a strip, step on y; returns legend handles
    (activity) or adds a colour bar under the strip (other kinds)."""
    from matplotlib.patches import Patch

    side = alignment.side_info
    steps, dim = side.shape
    style: dict[str, Any] = {"cmap": "Greys" if dim == 1 else "viridis"}
    if _is_activity(alignment):
        style = {"cmap": colors.ListedColormap(ACTIVITY_COLOURS), "vmin": 0.0, "vmax": 1.0}
    image = ax.imshow(
        side,
        origin="lower",
        aspect="auto",
        extent=(-0.5, dim - 0.5, -0.5, steps - 0.5),
        interpolation="nearest",
        **style,
    )
    ax.set_xticks([] if dim == 1 else [0, dim - 1])
    ax.set_xlabel(_side_info_label(alignment.kind, dim))
    ax.set_ylabel("side-information step")
    ax.set_title("side info", fontsize="medium")
    if not _is_activity(alignment):
        ax.figure.colorbar(image, ax=ax, location="bottom", label="level (1: loudest)", pad=0.02)
        return []
    return [
        Patch(facecolor=ACTIVITY_COLOURS[1], label="side info 1: voice active"),
        Patch(facecolor=ACTIVITY_COLOURS[0], edgecolor="0.4", label="side info 0: silent"),
    ]


def _true_times(true_alignment: np.ndarray, hop_seconds: float) -> np.ndarray:
    """Mixture time (s) of the centre of the frame each step describes; NaN for padding."""
    times = (true_alignment.astype(np.float64) + 0.5) * hop_seconds
    return np.where(true_alignment >= 0, times, np.nan)


def _attention_panel(ax: Any, alignment: AlignmentData, hop_seconds: float) -> Any:
    """Draw the attention ``(frames, steps)`` transposed (time on x) and the true alignment as
    a thin dashed line that leaves the attention under it visible; returns the image."""
    frames, steps = alignment.attention.shape
    image = ax.imshow(
        alignment.attention.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        norm=colors.PowerNorm(
            gamma=0.5, vmin=0.0, vmax=max(float(alignment.attention.max()), 1e-6)
        ),
        extent=(0.0, frames * alignment.frame_seconds, -0.5, steps - 0.5),
        interpolation="antialiased",
    )
    if alignment.true_alignment is not None:
        times = _true_times(alignment.true_alignment, hop_seconds)
        ax.plot(times, np.arange(steps), label="true alignment", **TRUE_ALIGNMENT_STYLE)
    ax.set_xlabel("mixture time (s)")
    return image


def _zoom_steps(alignment: AlignmentData, hop_seconds: float, seconds: float) -> float:
    """The highest step to show in a close-up of the first ``seconds``: the last step the
    true alignment (or else the attention's peak) puts there, plus a margin."""
    if alignment.true_alignment is not None and np.any(alignment.true_alignment >= 0):
        inside = np.flatnonzero(_true_times(alignment.true_alignment, hop_seconds) < seconds)
    else:
        frames = max(1, round(seconds / alignment.frame_seconds))
        inside = alignment.attention[:frames].argmax(axis=1)
    steps = alignment.attention.shape[1]
    last = int(inside.max()) if inside.size else steps - 1
    return min(steps - 0.5, last + max(2, round(0.15 * last)))


def has_close_up(alignment: AlignmentData) -> bool:
    """Whether the alignment figure gets a close-up: tracks longer than twice ZOOM_SECONDS."""
    return alignment.attention.shape[0] * alignment.frame_seconds > 2 * ZOOM_SECONDS


def plot_alignment(alignment: AlignmentData, hop_seconds: float, title: str, path: Path) -> Path:
    """Draw :func:`alignment_figure` into the PNG file ``path``."""
    return _save(alignment_figure(alignment, hop_seconds, title), path)


def alignment_figure(alignment: AlignmentData, hop_seconds: float, title: str) -> Figure:
    """Side information (left strip, step on y), the learned attention over the whole track
    (mixture time on x) and, for tracks longer than twice ZOOM_SECONDS, a close-up of the
    first ZOOM_SECONDS where errors of a few steps can be seen.

    The true alignment, where known, is a thin dashed cyan line over the attention: step ``m``
    at the centre of mixture frame ``true_alignment[m]`` (frames of ``hop_seconds``); padding
    is skipped. A legend under the figure says what the strip's colours and the line mean.
    """
    zoom = has_close_up(alignment)
    dim = alignment.side_info.shape[1]
    fig = Figure(figsize=(10.0 if zoom else 6.4, 3.8), dpi=110, layout="constrained")
    ratios = [0.6 + 0.12 * min(dim, 16), 6] + ([4] if zoom else [])
    grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios)
    whole_ax = fig.add_subplot(grid[1])
    strip_ax = fig.add_subplot(grid[0], sharey=whole_ax)
    whole_ax.tick_params(labelleft=False)
    handles = _side_info_strip(strip_ax, alignment)
    image = _attention_panel(whole_ax, alignment, hop_seconds)
    whole_ax.set_title(title, fontsize="medium")
    colour_ax = whole_ax
    if zoom:
        colour_ax = fig.add_subplot(grid[2])
        _attention_panel(colour_ax, alignment, hop_seconds)
        colour_ax.set_xlim(0.0, ZOOM_SECONDS)
        colour_ax.set_ylim(-0.5, _zoom_steps(alignment, hop_seconds, ZOOM_SECONDS))
        colour_ax.set_title(f"close-up: first {ZOOM_SECONDS:g} s", fontsize="medium")
    fig.colorbar(image, ax=colour_ax, label="attention weight", pad=0.02, fraction=0.05)
    handles += whole_ax.get_legend_handles_labels()[0]
    if handles:
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            frameon=False,
            fontsize="small",
        )
    return fig


def frame_energy_db(audio: np.ndarray, sample_rate: int, frame_seconds: float) -> np.ndarray:
    """Energy in dB of consecutive frames of ``audio (channels, samples)`` (last frame partial).

    ``10 log10(energy + 1e-12)``: an all-zero frame is -120 dB.
    """
    size = max(1, round(frame_seconds * sample_rate))
    power = np.square(np.asarray(audio, dtype=np.float64)).sum(axis=0)
    n_frames = math.ceil(power.size / size)
    padded = np.zeros(n_frames * size)
    padded[: power.size] = power
    return 10.0 * np.log10(padded.reshape(n_frames, size).sum(axis=1) + 1e-12)


def plot_energy(
    truth: np.ndarray, estimates: Mapping[str, np.ndarray], sample_rate: int, path: Path
) -> Path:
    """Energy over time of the true vocals and each estimate, silent true-vocal frames shaded.

    Shows where PES comes from: whatever an estimate puts into the shaded frames.
    """
    true_db = frame_energy_db(truth, sample_rate, ENERGY_FRAME_SECONDS)
    times = np.arange(true_db.size + 1) * ENERGY_FRAME_SECONDS
    fig = Figure(figsize=(10.0, 2.8), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    silent = true_db <= -120.0 + 1e-6
    for start, stop in _runs(silent):
        ax.axvspan(times[start], times[stop], color="0.88", linewidth=0)
    ax.stairs(true_db, times, baseline=None, color="black", linewidth=1.6, label="true vocals")
    palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
    for i, (label, audio) in enumerate(estimates.items()):
        db = frame_energy_db(audio, sample_rate, ENERGY_FRAME_SECONDS)[: true_db.size]
        ax.stairs(
            db,
            times[: db.size + 1],
            baseline=None,
            color=palette[i % len(palette)],
            linewidth=1.0,
            label=label,
        )
    ax.set_ylim(bottom=ENERGY_FLOOR_DB)
    ax.set_xlim(0.0, times[-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"energy per {ENERGY_FRAME_SECONDS * 1000:.0f} ms (dB)")
    fig.legend(loc="outside upper center", ncol=len(estimates) + 1, frameon=False)
    return _save(fig, path)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of the runs of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


# --------------------------------------------------------------------------- the page


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def _href(target: Path, page_dir: Path) -> str:
    """A relative, URL-quoted link from a page in ``page_dir`` to ``target``."""
    return quote(Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix())


@dataclass(frozen=True)
class Panel:
    """One source of a track in the page: label, audio link, spectrogram link, caption."""

    label: str
    note: str
    audio: str
    image: str
    cells: tuple[Cell, ...] = ()


@dataclass(frozen=True)
class AlignmentFigure:
    """An informed system's alignment figure; ``zoom``: seconds of its close-up, if any."""

    system: str
    phrase: str
    image: str
    zoom: float | None = None


@dataclass(frozen=True)
class TrackSection:
    name: str
    anchor: str
    seconds: float
    references: tuple[Panel, ...]
    estimates: tuple[Panel, ...]
    alignments: tuple[AlignmentFigure, ...]
    energy: str


def _system_key(index: int, system: System) -> str:
    """A file-name part unique to a system (names like 'A3.1' and 'A3-1' would share a slug)."""
    return f"system-{index}-{_slug(system.name)}"


def _alignment_figure(
    run: RunResults, track: Track, system: System, path: Path, page_dir: Path
) -> AlignmentFigure:
    """Draw the alignment figure of an informed system on a track into ``path``."""
    alignment = load_alignment(run, track.name, system.name)
    plot_alignment(alignment, run.hop_seconds, f"{system.name}: learned alignment", path)
    zoom = ZOOM_SECONDS if has_close_up(alignment) else None
    return AlignmentFigure(system.name, kind_phrase(system), _href(path, page_dir), zoom)


def _render_track(
    run: RunResults, index: int, track: Track, page_dir: Path, assets: Path
) -> TrackSection:
    """Draw every figure of one track and describe its section of the page."""
    prefix = f"{index:02d}-{_slug(track.name)}"
    folder = run.track_dir(track.name)
    system_keys = [_system_key(i, s) for i, s in enumerate(run.systems)]
    files = {"mixture": folder / "mixture.wav", "true-vocals": folder / "vocals.wav"}
    for key, system in zip(system_keys, run.systems, strict=True):
        files[key] = run.system_dir(track.name, system.name) / "vocals.wav"
    signals, rate = {}, run.sample_rate
    for key, file in files.items():
        signals[key], rate = read_audio(file)
    images = {key: assets / f"{prefix}-spectrogram-{key}.png" for key in files}
    plot_spectrograms(signals, rate, images)
    estimates = {s.name: signals[key] for key, s in zip(system_keys, run.systems, strict=True)}
    energy = plot_energy(signals["true-vocals"], estimates, rate, assets / f"{prefix}-energy.png")
    cells = metric_rows({s.name: run.scores[s.name][track.name] for s in run.systems})

    def panel(key: str, label: str, note: str, row: Sequence[Cell] = ()) -> Panel:
        href = _href(files[key], page_dir), _href(images[key], page_dir)
        return Panel(label, note, *href, tuple(row))

    alignments = [
        _alignment_figure(run, track, system, assets / f"{prefix}-alignment-{key}.png", page_dir)
        for key, system in zip(system_keys, run.systems, strict=True)
        if system.informed
    ]
    return TrackSection(
        name=track.name,
        anchor=f"track-{prefix}",
        seconds=track.seconds,
        references=(
            panel("mixture", "Mixture", "input"),
            panel("true-vocals", "True vocals", "target"),
        ),
        estimates=tuple(
            panel(key, s.name, f"estimate · {kind_phrase(s)}", cells[s.name])
            for key, s in zip(system_keys, run.systems, strict=True)
        ),
        alignments=tuple(alignments),
        energy=_href(energy, page_dir),
    )


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wiass", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html")


def _when(created: str) -> str:
    """An ISO time from results.json as 'YYYY-MM-DD HH:MM', or as it is when not ISO."""
    try:
        return datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return created


def render_html(run: RunResults, sections: Sequence[TrackSection]) -> str:
    """The page's HTML for a loaded run and its drawn track sections."""
    values = summary_values(run)
    notes = [tie_note(m, [row[m] for row in values.values()]) for m in METRICS]
    return _template().render(
        run=run,
        created=_when(run.created),
        reading=reading(run),
        sentences=summary_sentences(run),
        metrics=METRICS,
        statistic=TABLE_STATISTIC,
        legend=METRIC_LEGEND,
        table=metric_rows(values),
        notes=[note for note in notes if note],
        songs=song_table(run),
        kind_phrase=kind_phrase,
        sections=sections,
        total_seconds=sum(t.seconds for t in run.tracks),
    )


def assets_folder(page: Path) -> Path:
    """The figures' folder of a page: ``<name>_assets/`` beside it (``report_assets/`` for
    ``report.html``), so that pages written into one folder never share figure files."""
    return page.with_name(f"{page.stem}_assets")


def build_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Build the listening report of a run folder and return the path of the HTML page.

    ``out`` defaults to ``run_dir/report.html``; figures go to :func:`assets_folder` beside it
    (``report_assets/`` for ``report.html``, ``mine_assets/`` for ``mine.html``) and every link
    in the page (audio, images) is relative, so the folder can be moved or served as it is.
    Raises ReportError / AudioError for a run folder the report cannot be built from.
    """
    run = load_run(run_dir)
    page = Path(out) if out is not None else run.root / "report.html"
    if page.is_dir():
        raise ReportError(f"{page}: is a folder; --out must name the HTML file to write")
    assets = assets_folder(page)
    sections = [
        _render_track(run, i, track, page.parent, assets)
        for i, track in enumerate(tqdm(run.tracks, desc="report", unit="track", disable=None))
    ]
    write_text(page, render_html(run, sections))
    return page
