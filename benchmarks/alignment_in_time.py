"""Alignment error of a finished ``wiass experiment`` in mixture frames, per frames per step.

Why: the experiment's alignment accuracy counts an argmax within +-1 *step* of the true step, a
tolerance that is 2 frames wide for fine side information (2 frames per step) and 6 frames for
coarse (6 frames per step). This script re-separates the experiment's test tracks with its
trained models, exactly as the experiment scores them (same side information per track), and
measures the error in time: for every mixture frame, the distance in frames between the frame
itself and the frame that the attention's argmax step describes. Per system and frames per step
it prints the step accuracy (as in ``alignment.md``), the share of frames within +-6 frames
(+-96 ms with the experiment-small config: 16 kHz, hop 256) and the median error.

    python benchmarks/alignment_in_time.py runs/final runs/final-data [--systems A3.1,M2]
        [--chunk-seconds 4]

``--chunk-seconds`` separates in chunks of that length instead of ``wiass separate``'s default
(twice the training excerpt), to see how the alignment depends on the chunk length. Prints a
Markdown table and writes it to ``results/alignment_in_time.md`` next to this script
(``results/alignment_in_time_chunk<S>s.md`` with ``--chunk-seconds S``).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wiass.data.tracks import Track
from wiass.experiment import alignment_scores, test_tracks, true_steps
from wiass.inference import separate
from wiass.separator import Separator, load_separator
from wiass.sideinfo import whole_track_side_info

HERE = Path(__file__).resolve().parent
FRAME_TOLERANCE = 6


def track_errors(
    separator: Separator, track: Track, index: int, chunk_seconds: float | None
) -> tuple[float, np.ndarray, float]:
    """``(step_accuracy, frame_errors, frames_per_step)`` of one test track."""
    vocals = track.stems["vocals"]
    side_info = whole_track_side_info(separator.side_info_kind, separator.config, vocals, index)
    result = separate(
        track.mixture,
        track.sample_rate,
        separator,
        side_info=side_info,
        max_attention_values=2**62,
        chunk_seconds=chunk_seconds,
    )
    attention = np.asarray(result["attention"], dtype=np.float32)
    step_accuracy = alignment_scores(attention, side_info.alignment)["accuracy"]
    picked = attention.argmax(axis=1)
    valid = true_steps(side_info.alignment, attention.shape[0]) >= 0
    described = side_info.alignment[picked]
    frames = np.arange(attention.shape[0])
    real = valid & (described >= 0)
    frame_errors = np.abs(described - frames)[real]
    return step_accuracy, frame_errors, float(side_info.rate)


def measure(
    run: Path, data: Path, systems: list[str], chunk_seconds: float | None
) -> tuple[list[dict[str, float | str]], float]:
    """The table's rows and the duration of a frame in milliseconds."""
    rows = []
    frame_ms = float("nan")
    tracks = None
    for system in systems:
        per_rate: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
        seed_folders = sorted((run / "runs" / system).glob("seed*"))
        for folder in tqdm(seed_folders, desc=system, unit="seed"):
            separator = load_separator(folder / "separator.pt")
            frame_ms = 1000 * separator.config.audio.hop / separator.config.audio.sample_rate
            tracks = tracks or list(test_tracks(data, separator.sample_rate))
            for index, track in enumerate(tracks):
                accuracy, errors, rate = track_errors(separator, track, index, chunk_seconds)
                within = float((errors <= FRAME_TOLERANCE).mean()) if errors.size else 0.0
                median = float(np.median(errors)) if errors.size else float("nan")
                per_rate[round(rate)].append((accuracy, within, median))
        for rate, values in sorted(per_rate.items()):
            mean = np.array(values).mean(axis=0)
            rows.append(
                {
                    "system": system,
                    "frames_per_step": rate,
                    "step_accuracy": float(mean[0]),
                    "within_frames": float(mean[1]),
                    "median_error": float(mean[2]),
                    "tracks": len(values),
                }
            )
    return rows, frame_ms


def markdown(
    rows: list[dict[str, float | str]], run: Path, frame_ms: float, chunk_seconds: float | None
) -> str:
    chunks = "default chunks" if chunk_seconds is None else f"chunks of {chunk_seconds:g} s"
    lines = [
        f"# Alignment error in time ({run}, {chunks})",
        "",
        "| system | frames per step | accuracy (±1 step) | within ±6 frames | median error "
        "(frames) | tracks |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['system']} | {row['frames_per_step']} | {row['step_accuracy']:.2f} | "
            f"{row['within_frames']:.2f} | {row['median_error']:.1f} | {row['tracks']} |"
        )
    lines += [
        "",
        f"Tracks of every seed pooled; a frame is {frame_ms:g} ms. Median error: the median "
        "over a track's frames, averaged over tracks.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the --out folder of wiass experiment")
    parser.add_argument("data", type=Path, help="the --data folder of wiass experiment")
    parser.add_argument("--systems", default="A3.1,M2")
    parser.add_argument("--chunk-seconds", type=float, default=None)
    args = parser.parse_args()
    systems = [name.strip() for name in args.systems.split(",")]
    rows, frame_ms = measure(args.run, args.data, systems, args.chunk_seconds)
    text = markdown(rows, args.run, frame_ms, args.chunk_seconds)
    print(text)
    suffix = "" if args.chunk_seconds is None else f"_chunk{args.chunk_seconds:g}s"
    (HERE / "results" / f"alignment_in_time{suffix}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
