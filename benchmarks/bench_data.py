"""Throughput of the training data pipeline against the training step it feeds.

Measures training examples per second of ``SeparationDataset`` + ``collate`` in a DataLoader (6 s
excerpts, random mix and gain augmentation on, the ``small`` preset's 16 kHz / 1024-point STFT)
for the side-information kinds A3.1 and M2, with 0 and 2 DataLoader workers, on two synthetic
datasets written to a temporary folder:

- ``44.1k stereo``: MUSDB18-HQ-like files (44.1 kHz, 2 channels), resampled to 16 kHz with soxr;
- ``16k``: files already at the model's rate (no resampling).

"stems" says where excerpts come from: ``memory`` (the default: the dataset decodes the stems
once when it is built, mono at 16 kHz, and slices them) or ``files`` (``cache_mb=0``: a partial
read of every stem per example, resampled where needed); "setup" is the time to build the
dataset (decoding the stems into memory and the per-track target features of the side
information).

In the same run it measures the ``small`` preset's training rate in examples per second on
batches from the same pipeline (16 x 6 s): ``SeparatorModule.batch_loss`` (the batched STFT of
mixture and target, now done in the step, the model with its mask output and the project's
loss), backward, gradient clipping and an Adam step, on the CPU, in a fresh process for each
number of torch threads (1 and torch's default): on a busy machine the default threads wait for
each other in every parallel operation and one thread trains faster, so the reference is the
fastest training measured; "x training rate" is the loader's best rate over it. The loader runs
with torch's default threads in the main process and one per DataLoader worker (as torch sets
them).

The tracks come from ``wiass.data.synthetic.write_dataset`` when that module exists, else from
a small noise-and-tones generator below. Each loader measurement builds a fresh dataset and
DataLoader (batch 16), takes the first ``max(1, workers)`` batches as warm-up (worker start, one
batch in flight per worker), then times ``--batches`` batches; "first batch" is the time to the
first batch. Every row is measured in ``--rounds`` rounds, the rows interleaved, and the table
gives the best and the median round: on a shared machine the load of other processes slows some
rounds down, and the best round is the least disturbed one (the load average at the start is
printed with the table).

Run: ``python benchmarks/bench_data.py`` (writes ``benchmarks/bench_data.md``), or ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from wiass.audio import write_audio
from wiass.config import Config, load_config
from wiass.data.dataset import SeparationDataset, collate
from wiass.data.tracks import STEMS, open_source
from wiass.files import write_text
from wiass.training import SeparatorModule

HERE = Path(__file__).resolve().parent
BATCH = 16
KINDS = ("A3.1", "M2")


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


def bench_config(kind: str) -> Config:
    """The ``small`` preset with 6 s excerpts, random mix and gains, side information ``kind``."""
    config = load_config("small")
    config.data.excerpt_seconds = 6.0
    config.data.random_mix = True
    config.data.augment = True
    config.side_info.kind = kind
    return config


@dataclass
class Case:
    """One loader row: dataset ``files``, side-information ``kind``, ``workers``, and whether
    the stems are held in ``memory`` (else read from the files)."""

    files: str
    kind: str
    workers: int
    memory: bool


def measure_loader(root: Path, case: Case, batches: int) -> tuple[float, float, float]:
    """``(examples per second after the warm-up, seconds to the first batch, seconds to build
    the dataset)``."""
    torch.manual_seed(0)
    warmup = max(1, case.workers)
    begin = time.perf_counter()
    dataset = SeparationDataset(
        open_source(root, "train"),
        bench_config(case.kind),
        length=BATCH * (warmup + batches),
        cache_mb=None if case.memory else 0,
    )
    setup = time.perf_counter() - begin
    loader = DataLoader(dataset, batch_size=BATCH, num_workers=case.workers, collate_fn=collate)
    begin = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    first = time.perf_counter() - begin
    for _ in range(warmup - 1):
        next(iterator)
    begin = time.perf_counter()
    count = sum(len(batch["track"]) for batch in iterator)
    return count / (time.perf_counter() - begin), first, setup


def training_batches(root: Path, kind: str, count: int) -> list[dict]:
    """``count`` training batches of the pipeline (stems in memory, no workers)."""
    torch.manual_seed(1)
    dataset = SeparationDataset(
        open_source(root, "train"), bench_config(kind), length=BATCH * count
    )
    return list(DataLoader(dataset, batch_size=BATCH, collate_fn=collate))


def measure_training(batches: list[dict], kind: str) -> float:
    """Training examples per second of the ``small`` preset on ``batches`` (the first one is a
    warm-up): batched STFT, forward, loss, backward, gradient clipping, Adam step, under
    bfloat16 autocast when the preset trains in ``bf16-mixed`` (as Lightning does on CPU)."""
    config = bench_config(kind)
    torch.manual_seed(0)
    module = SeparatorModule(config.to_dict())
    optimizer = torch.optim.Adam(module.parameters(), lr=config.train.learning_rate)
    bf16 = config.train.precision == "bf16-mixed"

    def step(batch: dict) -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = module.batch_loss(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), config.train.gradient_clip)
        optimizer.step()

    step(batches[0])
    begin = time.perf_counter()
    for batch in batches[1:]:
        step(batch)
    return BATCH * (len(batches) - 1) / (time.perf_counter() - begin)


def training_rate(root: Path, kind: str, threads: int, steps: int) -> float:
    """:func:`measure_training` in a fresh subprocess with ``threads`` torch threads (changing
    the number of threads inside a process made later steps many times slower)."""
    command = [sys.executable, __file__, "--train-worker", str(root), kind, str(threads)]
    command += ["--steps", str(steps)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def train_worker(root: Path, kind: str, threads: int, steps: int) -> None:
    """The subprocess of :func:`training_rate`: prints the examples per second."""
    torch.set_num_threads(threads)
    print(measure_training(training_batches(root, kind, steps + 1), kind))


def summary(runs: list[float]) -> tuple[float, float]:
    """``(best, median)`` of the rounds' rates."""
    return max(runs), statistics.median(runs)


def reading(training: dict[tuple[str, int], list[float]], rows: list[tuple]) -> list[str]:
    """The paragraph under the tables, from the measured numbers."""
    train = {kind: best_training(training, kind) for kind in KINDS}
    memory = [row for row in rows if row[3] == "memory"]
    files = [row for row in rows if row[3] == "files"]
    low = min(memory, key=lambda row: row[6])
    high = max(memory, key=lambda row: row[6])
    lines = [
        f"Reading: the `small` preset trains at up to {train['A3.1']:.1f} (A3.1) and "
        f"{train['M2']:.1f} (M2) examples of 6 s per second here, the batched STFT included. "
        f"With the stems in memory the loader gives {low[6]:.1f}x ({low[0]}, {low[1]}, "
        f"{low[2]} workers) to {high[6]:.1f}x ({high[0]}, {high[1]}, {high[2]} workers) that "
        "rate."
    ]
    if files:
        slow = min(files, key=lambda row: row[6])
        fast = max(files, key=lambda row: row[6])
        lines.append(
            f"Reading every excerpt from the files instead gives {slow[6]:.1f}x ({slow[0]}, "
            f"{slow[2]} workers) to {fast[6]:.1f}x ({fast[0]}, {fast[2]} workers)."
        )
    return [" ".join(lines)]


def best_training(training: dict[tuple[str, int], list[float]], kind: str) -> float:
    """The fastest training rate of ``kind`` over thread counts and rounds."""
    return max(max(runs) for (k, _), runs in training.items() if k == kind)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="timed batches per loader round")
    parser.add_argument("--steps", type=int, default=4, help="timed training steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row")
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each track")
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 4 batches and 2 steps, 3 short tracks"
    )
    parser.add_argument("--out", type=Path, default=HERE / "bench_data.md")
    parser.add_argument("--train-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.batches, args.steps, args.tracks, args.seconds = 1, 4, 2, 3, 10.0
    return args


def main() -> None:
    args = parse_args()
    if args.train_worker:
        root, kind, threads = args.train_worker
        train_worker(Path(root), kind, int(threads), args.steps)
        return
    thread_counts = sorted({1, torch.get_num_threads()})
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wiass-bench-data-") as tmp:
        roots = {"44.1k stereo": Path(tmp) / "44k", "16k": Path(tmp) / "16k"}
        for label, rate in (("44.1k stereo", 44100), ("16k", 16000)):
            generator = write_tracks(roots[label], args.tracks, args.seconds, rate)
        cases = [Case(f, k, w, True) for f in roots for k in KINDS for w in (0, 2)]
        cases += [Case(f, "A3.1", w, False) for f in roots for w in (0, 2)]
        loader: dict[int, list[tuple[float, float, float]]] = {i: [] for i in range(len(cases))}
        training: dict[tuple[str, int], list[float]] = {
            (kind, n): [] for kind in KINDS for n in thread_counts
        }
        for round_index in range(args.rounds):
            for index, case in enumerate(cases):
                speed, first, setup = measure_loader(roots[case.files], case, args.batches)
                loader[index].append((speed, first, setup))
                print(
                    f"round {round_index}: {case.files:>12} {case.kind:>5} "
                    f"{'memory' if case.memory else 'files':>6} workers={case.workers}: "
                    f"{speed:7.1f} examples/s"
                )
            for kind, threads in training:
                rate = training_rate(roots["16k"], kind, threads, args.steps)
                training[(kind, threads)].append(rate)
                print(f"round {round_index}: training {kind} threads={threads}: {rate:.1f} ex/s")
    rows = []
    for index, case in enumerate(cases):
        best, median = summary([s for s, _, _ in loader[index]])
        first = statistics.median(f for _, f, _ in loader[index])
        setup = statistics.median(s for _, _, s in loader[index])
        ratio = best / best_training(training, case.kind)
        stems = "memory" if case.memory else "files"
        rows.append((case.files, case.kind, case.workers, stems, best, median, ratio, first, setup))
    lines = [
        "# Data pipeline throughput",
        "",
        f"`python benchmarks/bench_data.py{' --quick' if args.quick else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        f"(torch threads: {thread_counts[-1]}; 1 in each DataLoader worker), torch "
        f"{torch.__version__}; load average {load:.1f} at the start (other processes share the "
        "machine).",
        f"Training examples of 6 s (preset `small`: 16 kHz, n_fft 1024, hop 256), random mix "
        f"and gains on, batch {BATCH}; {args.rounds} round(s) per row of {args.batches} timed "
        f"batches after the warm-up; {args.tracks} tracks of {args.seconds:g} s from "
        f"{generator}. Training rate: {args.rounds} round(s) of {args.steps} timed steps of the "
        f"`small` preset in its precision ({load_config('small').train.precision}: batched STFT, "
        "forward, loss, backward, clipping, Adam) on 16 x 6 s, in "
        "a fresh process per thread count; x training rate = the loader's best over the "
        "fastest training of its kind.",
        "",
        "| kind | torch threads | training examples/s (best) | training examples/s (median) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for (kind, threads), runs in training.items():
        best, median = summary(runs)
        lines.append(f"| {kind} | {threads} | {best:.1f} | {median:.1f} |")
    lines += [
        "",
        "| files | kind | workers | stems | examples/s (best) | examples/s (median) "
        "| x training rate | first batch (s) | setup (s) |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f}x "
        f"| {r[7]:.2f} | {r[8]:.2f} |"
        for r in rows
    ]
    lines += ["", *reading(training, rows)]
    write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
