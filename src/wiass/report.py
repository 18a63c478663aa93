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
``report_assets/`` next to the page and renders ``templates/report.html`` into ``report.html``.
Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg canvas, no pyplot state), so
memory stays flat however many tracks there are.
"""

from __future__ import annotations

import json
import math
import os
import re
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
ENERGY_FRAME_SECONDS = 0.1
ENERGY_FLOOR_DB = -125.0
_CHANGE_DB = 0.05
"""Differences smaller than this (dB) are reported as no change."""


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


def _pes_clause(value: float | None, base: float | None, baseline: str) -> str:
    if value is None or base is None:
        return (
            f"its energy where the voice is silent (PES) cannot be compared with {baseline} "
            "(undefined: no silent vocal frames)"
        )
    diff = value - base
    numbers = f"(PES {format_db(value, 1)} vs {format_db(base, 1)} dB)"
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


def _sdr_clause(value: float | None, base: float | None) -> str:
    if value is None or base is None:
        return "the median SDR cannot be compared (undefined)"
    diff = value - base
    numbers = f"({format_db(value)} vs {format_db(base)} dB)"
    if abs(diff) < _CHANGE_DB:
        return f"the median SDR is unchanged {numbers}"
    verb = "rises" if diff > 0 else "drops"
    return f"the median SDR {verb} by {abs(diff):.2f} dB {numbers}"


def summary_sentences(run: RunResults) -> list[str]:
    """One sentence per informed system on what its side information changed against BL1.

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
        base_pes = table_value(run, baseline.name, "PES")
        base_sdr = table_value(run, baseline.name, "SDR")
        sentences.append(
            f"{opening}{_pes_clause(pes, base_pes, baseline.name)}, and "
            f"{_sdr_clause(sdr, base_sdr)}."
        )
    if not sentences:
        sentences.append(
            "No system in this run received side information; the table compares them."
        )
    return sentences


@dataclass(frozen=True)
class Cell:
    """One metric cell of a table: formatted text, and whether it is the best of its column."""

    text: str
    best: bool


def _best_flags(values: Sequence[float | None], lower_is_better: bool) -> list[bool]:
    """Which values are the best of a column; none when fewer than two values are defined."""
    defined = [v for v in values if v is not None]
    if len(defined) < 2:
        return [False] * len(values)
    best = min(defined) if lower_is_better else max(defined)
    return [v is not None and abs(v - best) < 1e-9 for v in values]


def metric_rows(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, list[Cell]]:
    """``values[row][metric]`` as formatted cells per row, with the best value per column marked."""
    rows = list(values)
    cells: dict[str, list[Cell]] = {row: [] for row in rows}
    for metric in METRICS:
        column = [values[row][metric] for row in rows]
        for row, value, best in zip(
            rows, column, _best_flags(column, metric in LOWER_IS_BETTER), strict=True
        ):
            cells[row].append(Cell(format_db(value), best))
    return cells


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
    return "band"


def plot_alignment(alignment: AlignmentData, hop_seconds: float, title: str, path: Path) -> Path:
    """Side information (left strip, step on y) beside the learned attention (mixture time on x).

    The true alignment, where known, is drawn on the attention as cyan markers: step ``m`` at the
    centre of mixture frame ``true_alignment[m]`` (frames of ``hop_seconds``); padding is skipped.
    """
    attention = alignment.attention
    frames, steps = attention.shape
    dim = alignment.side_info.shape[1]
    fig = Figure(figsize=(6.4, 3.4), dpi=110, layout="constrained")
    strip_ax, att_ax = fig.subplots(
        1, 2, sharey=True, gridspec_kw={"width_ratios": [0.6 + 0.12 * min(dim, 16), 6]}
    )
    y_extent = (-0.5, steps - 0.5)
    side = alignment.side_info
    strip_ax.imshow(
        side,
        origin="lower",
        aspect="auto",
        cmap="Greys" if dim == 1 else "viridis",
        extent=(-0.5, dim - 0.5, *y_extent),
        interpolation="nearest",
    )
    strip_ax.set_xticks([] if dim == 1 else [0, dim - 1])
    strip_ax.set_xlabel(_side_info_label(alignment.kind, dim))
    strip_ax.set_ylabel("side-information step")
    strip_ax.set_title("side info", fontsize="medium")
    image = att_ax.imshow(
        attention.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        norm=colors.PowerNorm(gamma=0.5, vmin=0.0, vmax=max(float(attention.max()), 1e-6)),
        extent=(0.0, frames * alignment.frame_seconds, *y_extent),
        interpolation="nearest",
    )
    if alignment.true_alignment is not None:
        real = np.flatnonzero(alignment.true_alignment >= 0)
        if real.size:
            att_ax.plot(
                (alignment.true_alignment[real] + 0.5) * hop_seconds,
                real,
                linestyle="none",
                marker="o",
                markersize=4,
                markerfacecolor="none",
                markeredgewidth=1.2,
                color="#22d3ee",
                label="true alignment",
            )
            att_ax.legend(loc="upper left", fontsize="small", framealpha=0.8)
    att_ax.set_xlabel("mixture time (s)")
    att_ax.set_title(title, fontsize="medium")
    fig.colorbar(image, ax=att_ax, label="attention weight", pad=0.02, fraction=0.05)
    return _save(fig, path)


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
    system: str
    phrase: str
    image: str


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

    alignments = []
    for key, system in zip(system_keys, run.systems, strict=True):
        if system.informed:
            figure = plot_alignment(
                load_alignment(run, track.name, system.name),
                run.hop_seconds,
                f"{system.name}: learned alignment",
                assets / f"{prefix}-alignment-{key}.png",
            )
            alignments.append(
                AlignmentFigure(system.name, kind_phrase(system), _href(figure, page_dir))
            )
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
    table = metric_rows(
        {s.name: {m: table_value(run, s.name, m) for m in METRICS} for s in run.systems}
    )
    return _template().render(
        run=run,
        created=_when(run.created),
        sentences=summary_sentences(run),
        metrics=METRICS,
        statistic=TABLE_STATISTIC,
        legend=METRIC_LEGEND,
        table=table,
        kind_phrase=kind_phrase,
        sections=sections,
        total_seconds=sum(t.seconds for t in run.tracks),
    )


def build_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Build the listening report of a run folder and return the path of the HTML page.

    ``out`` defaults to ``run_dir/report.html``; figures go to ``report_assets/`` beside it and
    every link in the page (audio, images) is relative, so the folder can be moved or served as
    it is. Raises ReportError / AudioError for a run folder the report cannot be built from.
    """
    run = load_run(run_dir)
    page = Path(out) if out is not None else run.root / "report.html"
    if page.is_dir():
        raise ReportError(f"{page}: is a folder; --out must name the HTML file to write")
    assets = page.parent / "report_assets"
    sections = [
        _render_track(run, i, track, page.parent, assets)
        for i, track in enumerate(tqdm(run.tracks, desc="report", unit="track", disable=None))
    ]
    write_text(page, render_html(run, sections))
    return page
