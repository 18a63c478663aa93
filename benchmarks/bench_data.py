"""Throughput of the training data pipeline: ``SeparationDataset`` + ``collate`` in a DataLoader.

Measures training examples per second (6 s excerpts, random mix and gain augmentation on, the
``small`` preset's 16 kHz / 1024-point STFT) for the side-information kinds A3.1 and M2, with 0
and 2 DataLoader workers, on two synthetic datasets written to a temporary folder:

- ``44.1k stereo``: MUSDB18-HQ-like files (44.1 kHz, 2 channels), so every read is resampled
  to 16 kHz with soxr;
- ``16k``: files already at the model's rate (no resampling).

The tracks come from ``wiass.data.synthetic.write_dataset`` when that module exists, else from
a small noise-and-tones generator below. Each measurement builds a fresh DataLoader (batch 16),
takes the first batch as warm-up (worker start, file caches), then times ``--batches`` batches;
"first batch" is the warm-up's time. Every row is measured in ``--rounds`` rounds, the rows
interleaved, and the table gives the best and the median round: on a shared machine the load of
other processes slows some rounds down, and the best round is the least disturbed one (the
load average at the start is printed with the table).

Run: ``python benchmarks/bench_data.py`` (writes ``benchmarks/bench_data.md``), or ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from wiass.audio import write_audio
from wiass.config import load_config
from wiass.data.dataset import SeparationDataset, collate
from wiass.data.tracks import STEMS, open_source
from wiass.files import write_text

HERE = Path(__file__).resolve().parent
BATCH = 16


def _fallback_track(folder: Path, seconds: float, sample_rate: int, seed: int) -> None:
    """Noise and tones in MUSDB18-HQ layout; vocals are a tone silent one second in three."""
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    tone = np.sin(2 * np.pi * rng.uniform(200, 600) * t)
    stems = {
        "vocals": 0.3 * tone * (np.floor(t) % 3 != 0),
        "drums": 0.2 * rng.standard_normal(n) * (np.sin(2 * np.pi * 2 * t) > 0.5),
        "bass": 0.3 * np.sin(2 * np.pi * rng.uniform(40, 90) * t),
        "other": 0.05 * rng.standard_normal(n),
    }
    audio = {name: np.stack([x, np.roll(x, 7)]).astype(np.float32) for name, x in stems.items()}
    audio["mixture"] = sum(audio[name] for name in STEMS)
    for name, x in audio.items():
        write_audio(folder / f"{name}.wav", x, sample_rate)


def write_tracks(root: Path, n_tracks: int, seconds: float, sample_rate: int) -> str:
    """Write ``n_tracks`` training tracks under ``root/train``; return the generator's name."""
    try:
        from wiass.data.synthetic import write_dataset
    except ImportError:
        for i in range(n_tracks):
            _fallback_track(root / "train" / f"track {i:02d}", seconds, sample_rate, seed=i)
        return "noise and tones (bench_data fallback)"
    write_dataset(root, n_tracks, 0, seconds, sample_rate, 0, progress=False)
    return "wiass.data.synthetic.write_dataset"


def measure(root: Path, kind: str, workers: int, batches: int) -> tuple[float, float]:
    """``(examples per second after the first batch, seconds of the first batch)``."""
    config = load_config("small")
    config.data.excerpt_seconds = 6.0
    config.data.random_mix = True
    config.data.augment = True
    torch.manual_seed(0)
    dataset = SeparationDataset(
        open_source(root, "train"), config, kind=kind, length=BATCH * (batches + 1)
    )
    loader = DataLoader(dataset, batch_size=BATCH, num_workers=workers, collate_fn=collate)
    begin = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    first = time.perf_counter() - begin
    begin = time.perf_counter()
    count = sum(batch["mix"].shape[0] for batch in iterator)
    return count / (time.perf_counter() - begin), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5, help="timed batches per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row")
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each track")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 batches, 3 short tracks")
    parser.add_argument("--out", type=Path, default=HERE / "bench_data.md")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.batches, args.tracks, args.seconds = 1, 2, 3, 10.0
    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wiass-bench-data-") as tmp:
        roots = {"44.1k stereo": Path(tmp) / "44k", "16k": Path(tmp) / "16k"}
        for label, rate in (("44.1k stereo", 44100), ("16k", 16000)):
            generator = write_tracks(roots[label], args.tracks, args.seconds, rate)
        cases = [(f, k, w) for f in roots for k in ("A3.1", "M2") for w in (0, 2)]
        results: dict[tuple[str, str, int], list[tuple[float, float]]] = {c: [] for c in cases}
        for round_index in range(args.rounds):
            for files, kind, workers in cases:
                speed, first = measure(roots[files], kind, workers, args.batches)
                results[(files, kind, workers)].append((speed, first))
                print(
                    f"round {round_index}: {files:>12} {kind:>5} workers={workers}: "
                    f"{speed:7.1f} examples/s"
                )
    rows = [
        (
            *case,
            max(s for s, _ in runs),
            statistics.median(s for s, _ in runs),
            statistics.median(f for _, f in runs),
        )
        for case, runs in results.items()
    ]
    lines = [
        "# Data pipeline throughput",
        "",
        f"`python benchmarks/bench_data.py{' --quick' if args.quick else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        f"(torch threads per process: 1), torch {torch.__version__}; load average "
        f"{load:.1f} at the start (other processes share the machine).",
        f"Training examples of 6 s (preset `small`: 16 kHz, n_fft 1024, hop 256), random mix "
        f"and gains on, batch {BATCH}; {args.rounds} round(s) per row of {args.batches} timed "
        f"batches after one warm-up batch; {args.tracks} tracks of {args.seconds:g} s from "
        f"{generator}.",
        "",
        "| files | kind | workers | examples/s (best) | examples/s (median) | first batch (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.2f} |" for r in rows]
    write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
