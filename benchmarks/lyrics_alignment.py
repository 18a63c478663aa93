"""Lyrics-to-audio alignment of phonemes models on whole test songs, through wiass.separate.

Every test song's lyrics go in as a user's text (its lines, no timing), the song is separated
as ``wiass separate --lyrics`` does, and the word onsets found are compared with the song's
true timing (the Jamendo/MIREX protocol: mean and median absolute onset error, share within
0.3 s). Prints a table and writes ``lyrics_alignment.md`` (or ``--out``) next to this script.

    python benchmarks/lyrics_alignment.py --data DATA [DATA ...] MODEL [MODEL ...] [--label ...]

DATA: synthetic datasets, each scored on its test split; MODEL: checkpoints or shipped names.
The committed table: ``/tmp/syn`` the test songs (``wiass make-synthetic /tmp/syn``: 10 test songs,
seed 0, those of Table 1), ``/tmp/syndev`` the development songs the alignment's one constant
was chosen on (``wiass make-synthetic /tmp/syndev --train 1 --test 10 --seed 7``).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from wiass.data.tracks import open_source
from wiass.inference import separate
from wiass.lyrics import onset_summary, parse_lyrics, word_onset_errors
from wiass.separator import load_separator

HERE = Path(__file__).resolve().parent


def song_errors(separator, track) -> tuple[np.ndarray, float]:
    """Absolute word-onset errors (s) of one test song, and the separation time (s)."""
    lyrics = parse_lyrics("\n".join(track.lyrics.lines), track.name)
    began = time.perf_counter()
    result = separate(track.mixture, track.sample_rate, separator, lyrics)
    return word_onset_errors(result.lyrics, track.lyrics), time.perf_counter() - began


def model_row(model: str, data: Path) -> dict[str, float]:
    """Mean over songs of each song's mean/median error and share within 0.3 s."""
    separator = load_separator(model)
    source = open_source(data, "test")
    per_song, seconds, audio = [], 0.0, 0.0
    for index in range(len(source)):
        track = source.read_track(index)
        errors, took = song_errors(separator, track)
        per_song.append(onset_summary(errors, tolerance=0.3))
        seconds += took
        audio += track.mixture.shape[1] / track.sample_rate
    return {
        "songs": len(per_song),
        "words": sum(int(s["words"]) for s in per_song),
        "mean_s": float(np.mean([s["mean_abs_error_s"] for s in per_song])),
        "median_s": float(np.mean([s["median_abs_error_s"] for s in per_song])),
        "within": float(np.mean([s["share_within"] for s in per_song])),
        "rtf": seconds / audio,
    }


def table(rows: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = [
        "| model | songs of | songs | words | mean abs error (s) | median abs error (s) "
        "| within 0.3 s | RTF |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (name, data), r in rows.items():
        lines.append(
            f"| {name} | {data} | {r['songs']} | {r['words']} | {r['mean_s']:.3f} "
            f"| {r['median_s']:.3f} | {r['within']:.3f} | {r['rtf']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--label", nargs="*", help="names for the models in the table")
    parser.add_argument("--out", type=Path, default=HERE / "lyrics_alignment.md")
    args = parser.parse_args()
    labels = args.label or args.models
    rows = {
        (label, str(data)): model_row(model, data)
        for label, model in zip(labels, args.models, strict=True)
        for data in args.data
    }
    text = table(rows)
    print(text)
    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    header = (
        "# Lyrics alignment on whole synthetic test songs (through wiass.separate)\n\n"
        f"Machine: {machine}. Per song the mean and median absolute word-onset "
        "error and the share of onsets within 0.3 s, then the mean over songs. RTF: separation "
        "seconds per second of audio (the lyrics alignment and the separation).\n\n"
    )
    args.out.write_text(header + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
