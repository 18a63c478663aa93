"""The outputs of ``wiass evaluate``: per-track JSON (wiass's and museval's), the summary, the
CSV and the printed table, and the checks that they can be written (see :mod:`wiass.evaluate`).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wiass.errors import OutputError
from wiass.files import check_writable_folder, write_json, write_text
from wiass.metrics import SILENCE_METRICS
from wiass.scoring import museval_path, write_museval_json

if TYPE_CHECKING:
    from wiass.evaluate import Evaluation, TrackResult

PathLike = str | os.PathLike[str]

REPORTED_METRICS = ("SDR", "SIR", "SAR", "ISR")
"""Order of the BSSEval metrics in the outputs (museval's order)."""

CSV_COLUMNS = (
    "track",
    "target",
    *REPORTED_METRICS,
    *SILENCE_METRICS,
    "frames",
    "nan_frames",
    "pes_frames",
    "eps_frames",
    "ill_conditioned",
)


def track_json(result: TrackResult, win_seconds: float, hop_seconds: float) -> dict[str, Any]:
    """The JSON document of one track.

    museval's layout (``targets[i].frames[k] = {time, duration, metrics: {SDR, SIR, SAR, ISR}}``,
    times in seconds) plus, per target, the reference and estimate files, the PES/EPS values of
    the frames where they are defined, and the per-track ``summary``; the track's rate and
    channels, and whether BSSEval was ill-conditioned on it. NaN (undefined) and infinity
    (e.g. SIR of a single evaluated target) are written as null (museval's own format, with
    NaN, is written by :func:`wiass.scoring.write_museval_json`).
    """
    scores, pair = result.scores, result.pair
    targets = []
    summaries = result.summary()
    for target, values in scores.targets.items():
        frames = [
            {
                "time": k * hop_seconds,
                "duration": win_seconds,
                "metrics": {m: float(getattr(values, m.lower())[k]) for m in REPORTED_METRICS},
            }
            for k in range(values.sdr.size)
        ]
        silence = {
            metric: [
                {"frame": int(k), "time": int(k) * hop_seconds, "value": float(v)}
                for k, v in zip(frame_ids, values_db, strict=True)
            ]
            for metric, frame_ids, values_db in (
                ("PES", values.pes_frames, values.pes),
                ("EPS", values.eps_frames, values.eps),
            )
        }
        targets.append(
            {
                "name": target,
                "reference": pair.references[target].describe(),
                "estimate": str(pair.estimates[target]),
                "summary": summaries[target],
                "frames": frames,
                **silence,
            }
        )
    document = {
        "track": pair.name,
        "sample_rate": pair.sample_rate,
        "channels": pair.channels,
        "ill_conditioned": result.ill_conditioned,
        "warning": result.warning,
        "win_seconds": win_seconds,
        "hop_seconds": hop_seconds,
        "win_samples": scores.win,
        "hop_samples": scores.hop,
        "targets": targets,
    }
    return document


def _csv_cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def summary_csv(results: list[TrackResult]) -> str:
    """One row per track and target with the per-track values (empty cell = undefined)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        mark = "yes" if result.ill_conditioned else ""
        for target, row in result.summary().items():
            cells = {"track": result.name, "target": target, **row, "ill_conditioned": mark}
            writer.writerow([_csv_cell(cells[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def output_paths(out: PathLike, names: list[str]) -> list[Path]:
    """The files :func:`write_results` writes for the tracks ``names``, in writing order: the
    track JSONs, museval's track JSONs, ``summary.json``, ``scores.csv``."""
    folder = Path(out)
    tracks = [folder / "tracks" / f"{name}.json" for name in names]
    museval = [museval_path(folder / "museval", name) for name in names]
    return [*tracks, *museval, folder / "summary.json", folder / "scores.csv"]


def output_files(out: PathLike, evaluation: Evaluation) -> list[Path]:
    """The files :func:`write_results` writes, in writing order."""
    return output_paths(out, [result.name for result in evaluation.tracks])


def check_output_names(out: PathLike, names: list[str]) -> None:
    """Make sure every output file for the tracks ``names`` can be created, before scoring.

    Each file's temporary name (``.<name>.<random>.tmp.json``, longer than the file's own) is
    created and removed again in the nearest existing folder of its path, so a name the file
    system refuses (too long, a character it does not allow) fails here with OutputError; so
    does an output path that is a folder or lies under a file. Nothing stays behind.
    """
    for path in output_paths(out, names):
        if path.is_dir():
            raise OutputError(f"{path}: is a folder, so the output file cannot be written")
        existing = path.parent
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise OutputError(f"{path}: cannot be written ({existing} is a file)")
        try:
            handle, probe = tempfile.mkstemp(
                prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=existing
            )
        except OSError as exc:
            raise OutputError(
                f"{path}: this output file cannot be written ({exc.strerror or exc}); "
                "rename the track folder"
            ) from exc
        os.close(handle)
        os.unlink(probe)


def check_output_folder(out: PathLike) -> Path:
    """Make sure ``out`` can be created and written, without creating anything yet."""
    folder = Path(out)
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{folder}: cannot create the output folder ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: the output folder is not writable")
    return folder


def write_results(out: PathLike, evaluation: Evaluation) -> list[Path]:
    """Write ``tracks/<track>.json``, ``summary.json`` and ``scores.csv`` into ``out``.

    Each file is written atomically (museval's JSONs too, under ``museval/test/``); returns
    their paths.
    """
    folder = check_writable_folder(out)
    paths = output_files(folder, evaluation)
    win, hop = evaluation.win_seconds, evaluation.hop_seconds
    for result, path in zip(evaluation.tracks, paths, strict=False):
        write_json(path, track_json(result, win, hop))
    for result in evaluation.tracks:
        write_museval_json(folder / "museval", result.name, result.scored, win, hop)
    summary = {
        "targets": list(evaluation.targets),
        "tracks": [result.name for result in evaluation.tracks],
        "ill_conditioned_tracks": marked_tracks(evaluation),
        "win_seconds": evaluation.win_seconds,
        "hop_seconds": evaluation.hop_seconds,
        "aggregate": evaluation.aggregate,
    }
    write_json(paths[-2], summary)
    write_text(paths[-1], summary_csv(evaluation.tracks))
    return paths


def marked_tracks(evaluation: Evaluation) -> list[str]:
    """The tracks on which BSSEval was ill-conditioned."""
    return [result.name for result in evaluation.tracks if result.ill_conditioned]


def _number(value: float, width: int = 8) -> str:
    return f"{'n/a':>{width}}" if math.isnan(value) else f"{value:{width}.2f}"


def format_table(evaluation: Evaluation) -> str:
    """One plain-text table per target: median and mean over tracks of every metric.

    SDR/SIR/SAR/ISR of a track are medians over its frames, PES/EPS means over its silent
    frames (dB; lower is better); the table adds the frame counts of all tracks.
    """
    n_tracks = len(evaluation.tracks)
    framing = f"{evaluation.win_seconds:g} s frames, {evaluation.hop_seconds:g} s hop"
    blocks = []
    for target in evaluation.targets:
        entry = evaluation.aggregate[target]
        lines = [
            f"{target}  ({n_tracks} track{'s' if n_tracks != 1 else ''}, {framing})",
            f"  {'metric':<7}{'median':>8}{'mean':>8}{'tracks':>8}",
        ]
        for metric in (*REPORTED_METRICS, *SILENCE_METRICS):
            values = entry[metric]
            lines.append(
                f"  {metric:<7}{_number(values['median'])}{_number(values['mean'])}"
                f"{values['tracks']:>8d}"
            )
        frames = entry["frames"]
        lines.append(
            f"  frames: {frames['total']} in all, {frames['nan']} undefined "
            "(a reference or estimate silent)"
        )
        lines.append(
            f"  silent frames: {frames['pes']} in the reference (PES), "
            f"{frames['eps']} in the estimate (EPS)"
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n" + conditioning_line(evaluation)


def conditioning_line(evaluation: Evaluation) -> str:
    """How many tracks are marked ill-conditioned, and which (one line)."""
    marked = marked_tracks(evaluation)
    if not marked:
        return "BSSEval was well-conditioned on every track."
    return (
        f"BSSEval was ill-conditioned on {len(marked)} of {len(evaluation.tracks)} track(s), "
        f"whose SDR/SIR/SAR/ISR are not determined by the audio and are counted above: "
        f"{', '.join(marked)} (marked in scores.csv and the track JSONs)"
    )
