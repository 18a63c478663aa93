"""The tables of ``wiass experiment``: Table 1, the alignment tables and every track's scores.

``results`` maps each system (and oracle) to a list over seeds of ``{track: scores}``, the
scores being those of :func:`wiass.scoring.score_vocals` plus the alignment figures
(:mod:`wiass.experiment.alignment`). Table 1 says at which sample rates and channel counts the
tracks were scored and on which tracks BSSEval was ill-conditioned (their SDR/SIR/SAR are not
determined by the audio; they are counted in the medians, marked in ``tracks.csv`` and named
in Table 1's note).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wiass.experiment.alignment import Results, alignment_by_rate
from wiass.files import write_text
from wiass.metrics import aggregate

TABLE1_COLUMNS = [
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
ALIGNMENT_COLUMNS = ["accuracy", "attention_accuracy", "mass", "drift_accuracy", "drift_error_s"]
"""The alignment table's columns (:mod:`wiass.experiment.alignment`)."""
LYRICS_COLUMNS = ["word_onset_mean_s", "word_onset_median_s", "word_onset_within_0.3s"]
"""The lyrics-alignment table's columns (the Jamendo/MIREX protocol)."""
TRACK_COLUMNS = (
    "SDR",
    "SIR",
    "SAR",
    "ISR",
    "PES",
    "EPS",
    "EPS_nonsilent",
    *ALIGNMENT_COLUMNS,
    *LYRICS_COLUMNS,
)
"""The per-track values in ``tracks.csv``."""


def system_row(per_seed: Sequence[dict[str, dict[str, Any]]]) -> dict[str, float]:
    """Table 1 numbers of one system: per seed, the median and mean over tracks of the per-track
    values (PES/EPS: mean); over seeds, their mean and standard deviation."""
    per_seed_values: dict[str, list[float]] = {}
    for scores in per_seed:
        tracks = list(scores.values())
        summary = aggregate([{"vocals": row} for row in tracks])["vocals"]
        for metric in ("SDR", "SAR", "SIR"):
            per_seed_values.setdefault(metric, []).append(summary[metric]["median"])
            per_seed_values.setdefault(f"{metric}_mean", []).append(summary[metric]["mean"])
        for metric in ("PES", "EPS", "EPS_nonsilent", *ALIGNMENT_COLUMNS, *LYRICS_COLUMNS):
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


def write_tables(out: Path, results: Results, model_rate: int | None = None) -> dict[str, Path]:
    """Write Table 1, the alignment tables and ``tracks.csv``; ``model_rate``: the models'
    sample rate, for Table 1's note."""
    rows = {name: system_row(per_seed) for name, per_seed in results.items()}
    marks = {name: _marked_count(per_seed) for name, per_seed in results.items()}
    alignment_rows = {
        name: row for name, row in rows.items() if not math.isnan(row.get("accuracy", math.nan))
    }
    lyrics_rows = {
        name: row
        for name, row in rows.items()
        if not math.isnan(row.get(LYRICS_COLUMNS[0], math.nan))
    }
    paths = {
        "table1.csv": out / "table1.csv",
        "table1.md": out / "table1.md",
        "alignment.csv": out / "alignment.csv",
        "alignment.md": out / "alignment.md",
        "alignment_by_rate.csv": out / "alignment_by_rate.csv",
        "tracks.csv": out / "tracks.csv",
    }
    counts = {name: {"ill_conditioned": float(k)} for name, (k, _) in marks.items()}
    write_text(paths["table1.csv"], _csv(rows, TABLE1_COLUMNS, counts))
    note = f"{TABLE1_NOTE}\n\n{scoring_note(results, model_rate)}"
    cells = {name: {"ill-cond.": f"{k}/{n}"} for name, (k, n) in marks.items()}
    write_text(paths["table1.md"], _markdown(rows, TABLE1_COLUMNS, note, cells))
    write_text(paths["tracks.csv"], tracks_csv(results))
    by_rate = alignment_by_rate(results)
    write_text(paths["alignment.csv"], _csv(alignment_rows, ALIGNMENT_COLUMNS))
    write_text(
        paths["alignment.md"],
        _markdown(alignment_rows, ALIGNMENT_COLUMNS, ALIGNMENT_NOTE)
        + "\n"
        + _by_rate_markdown(by_rate),
    )
    write_text(paths["alignment_by_rate.csv"], _by_rate_csv(by_rate))
    if lyrics_rows:
        paths["lyrics.csv"], paths["lyrics.md"] = out / "lyrics.csv", out / "lyrics.md"
        write_text(paths["lyrics.csv"], _csv(lyrics_rows, LYRICS_COLUMNS))
        write_text(paths["lyrics.md"], _markdown(lyrics_rows, LYRICS_COLUMNS, LYRICS_NOTE))
    return paths


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
    "Side information over each whole test song, given without its alignment, separated as "
    "`wiass separate` does. accuracy: share of the steps that the separation placed within ±1 "
    "step of the frame they describe (frame-aligned kinds are placed by definition); "
    "attention_accuracy: share of mixture frames whose attention argmax lies within ±1 step of "
    "the true step; mass: mean attention on the steps within ±1 of the true step; drift: the "
    "same songs with side information at 4 frames per step, a tempo drift of up to ±10 % and "
    "an offset of up to ±5 s (drift_error_s: median placement error in seconds). Mean ± std "
    "over seeds."
)

LYRICS_NOTE = (
    "Lyrics alignment in the protocol of the Jamendo lyrics benchmark (MIREX): each test song's "
    "lyrics given as plain text (one line per sung phrase, no timing) and separated as "
    "`wiass separate --lyrics` does; per song the mean and the median absolute error of the "
    "word onsets in seconds and the share of onsets within 0.3 s, then the mean over songs. "
    "Mean ± std over seeds."
)


def _csv(
    rows: dict[str, dict[str, float]],
    columns: list[str],
    extra: dict[str, dict[str, float]] | None = None,
) -> str:
    """One row per system: every column with its ``_std``, the ``extra`` columns (counts)
    and the number of seeds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra_columns = list(next(iter(extra.values()))) if extra else []
    header = ["system"]
    for column in columns:
        header += [column, f"{column}_std"]
    writer.writerow(header + extra_columns + ["seeds"])
    for name, row in rows.items():
        values = []
        for column in columns:
            values += [_number(row.get(column)), _number(row.get(f"{column}_std"))]
        counts = [int(extra[name][column]) for column in extra_columns] if extra else []
        writer.writerow([name, *values, *counts, int(row["seeds"])])
    return buffer.getvalue()


def _markdown(
    rows: dict[str, dict[str, float]],
    columns: list[str],
    note: str,
    extra: dict[str, dict[str, str]] | None = None,
) -> str:
    """A Markdown table (mean ± std over seeds), the ``extra`` text columns, and ``note``."""
    extra_columns = list(next(iter(extra.values()))) if extra else []
    lines = [
        "| system | " + " | ".join(columns + extra_columns) + " | seeds |",
        "| --- | " + " | ".join("---:" for _ in columns + extra_columns) + " | ---: |",
    ]
    for name, row in rows.items():
        cells = [_pm(row.get(c), row.get(f"{c}_std"), int(row["seeds"])) for c in columns]
        cells += [extra[name][column] for column in extra_columns] if extra else []
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {int(row['seeds'])} |")
    return "\n".join(lines) + f"\n\n{note}\n"


def _marked_count(per_seed: Sequence[dict[str, dict[str, Any]]]) -> tuple[int, int]:
    """How many (track, seed) scores of a system are marked ill-conditioned, of how many."""
    rows = [row for scores in per_seed for row in scores.values()]
    return sum(bool(row.get("ill_conditioned")) for row in rows), len(rows)


def marked_tracks(results: Results) -> dict[str, list[str]]:
    """Per track on which BSSEval was ill-conditioned, the systems (``name`` or ``name seed
    k`` when a system has several seeds) whose scores of it are marked."""
    marked: dict[str, list[str]] = {}
    for name, per_seed in results.items():
        for seed, scores in enumerate(per_seed):
            label = f"{name} seed {seed}" if len(per_seed) > 1 else name
            for track, row in scores.items():
                if row.get("ill_conditioned"):
                    marked.setdefault(track, []).append(label)
    return marked


def _formats(results: Results) -> dict[str, tuple[Any, Any]]:
    """Per track: the sample rate and channel count it was scored at (None: not recorded)."""
    return {
        track: (row.get("sample_rate"), row.get("channels"))
        for per_seed in results.values()
        for scores in per_seed
        for track, row in scores.items()
    }


def scoring_note(results: Results, model_rate: int | None = None) -> str:
    """Where the tracks were scored (rate, channels) and which ones are marked."""
    formats = _formats(results)
    counts: dict[tuple[Any, Any], int] = {}
    for key in formats.values():
        counts[key] = counts.get(key, 0) + 1
    parts = [
        f"{rate} Hz, {channels} channel(s) ({n} track{'s' if n != 1 else ''})"
        if rate is not None
        else f"rate and channels not recorded ({n} track{'s' if n != 1 else ''})"
        for (rate, channels), n in sorted(counts.items(), key=str)
    ]
    model = f"; the models run at {model_rate} Hz" if model_rate else ""
    lines = [f"Scored at each test track's own rate and channels: {', '.join(parts)}{model}."]
    marked = marked_tracks(results)
    if not marked:
        return lines[0] + " BSSEval was well-conditioned on every track."
    every = sum(len(per_seed) for per_seed in results.values())
    names = [
        f"{track} ({'every system' if len(labels) == every else ', '.join(labels)})"
        for track, labels in sorted(marked.items())
    ]
    lines.append(
        f"BSSEval was ill-conditioned on {len(marked)} of {len(formats)} test tracks: "
        f"{'; '.join(names)}. Their SDR/SIR/SAR are not determined by the audio (see "
        "wiass.metrics.bsseval); they are counted in the medians above (column ill-cond.: "
        "marked track scores of the system) and marked in tracks.csv."
    )
    return " ".join(lines)


def tracks_csv(results: Results) -> str:
    """Every system's, seed's and track's scores, one row each (empty cell = undefined)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["system", "seed", "track", "sample_rate", "channels", *TRACK_COLUMNS]
    writer.writerow([*header, "ill_conditioned"])
    for name, per_seed in results.items():
        for seed, scores in enumerate(per_seed):
            for track, row in scores.items():
                values = [_number(row.get(metric)) for metric in TRACK_COLUMNS]
                fmt = [row.get("sample_rate", ""), row.get("channels", "")]
                mark = "yes" if row.get("ill_conditioned") else ""
                writer.writerow([name, seed, track, *fmt, *values, mark])
    return buffer.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3f}"


def _pm(value: float | None, std: float | None, seeds: int) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f} ± {std:.2f}" if seeds > 1 else f"{value:.2f}"
