"""End-to-end speed and memory of ``wiass separate`` on long files (CPU).

For each preset (``paper``, ``small``) a checkpoint with the untrained weights of
``wiass.separator.build_model`` is saved (timing does not depend on training; the separations
themselves are meaningless), and 44.1 kHz stereo 16-bit WAV files of 1, 3 and 10 minutes (noise:
the work does not depend on the content) are separated through the real command line,
``wiass separate MIX --model CKPT --side-info ACTIVITY --out DIR``, each in its own subprocess.
The presets are A3.1 models, so they get side information: vocal activity at one value per
second (a sung region of 8 s every 20 s), which separation holds into the model's trained rates
and places over the whole song (a blind first pass, then the monotonic path: the cost of
whole-song alignment is in these times).

Measures, per case:
- wall time of the whole command (Python start, torch import, checkpoint load, the read-through
  check of the mixture, separation, writing) and the real-time factor = wall time / audio
  duration (lower is better; goal for ``paper``: <= 0.1 on 2 CPU cores);
- the separation time the command reports itself (without start-up) and its real-time factor;
- peak resident memory of the command (``ru_maxrss`` of a wrapper process whose only child is
  the command); goal: flat in the file's length beyond one chunk, 10 minutes within 2 GB.

Run: ``python benchmarks/bench_separate.py`` (writes ``benchmarks/bench_separate.md``), or
``--quick`` for a fast smoke run (short files, nothing written).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from wiass.config import load_config
from wiass.files import write_text
from wiass.inference.jobs import plan_threads
from wiass.precision import bf16_support
from wiass.separator import build_model, save_separator

HERE = Path(__file__).resolve().parent
RATE = 44100
PRESETS = ("paper", "small")
MINUTES = (1.0, 3.0, 10.0)

WRAPPER = """
import resource, subprocess, sys, time
began = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - began
sys.stderr.write(done.stderr)
sys.stdout.write(done.stdout)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(f"BENCH wall={wall:.3f} cpu={cpu:.3f} maxrss_kib={usage.ru_maxrss}")
sys.exit(done.returncode)
"""


def write_mixture(path: Path, minutes: float) -> None:
    """A stereo 16-bit WAV of ``minutes`` of noise, written block by block."""
    rng = np.random.default_rng(0)
    frames = round(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as file:
        for start in range(0, frames, 10 * RATE):
            count = min(10 * RATE, frames - start)
            file.write((0.1 * rng.standard_normal((count, 2))).astype(np.float32))


def write_activity(path: Path, minutes: float) -> None:
    """Vocal activity as a person writes it: one value per second, a sung region of 8 s every
    20 s (whole-song alignment: held into the model's rates, blind pass, monotonic path)."""
    seconds = np.arange(int(minutes * 60))
    active = ((seconds % 20) >= 5) & ((seconds % 20) < 13)
    path.write_text("\n".join(str(int(a)) for a in active) + "\n")


def run_case(
    checkpoint: Path, mixture: Path, activity: Path, out: Path, *options: str
) -> dict[str, Any]:
    """Run ``wiass separate`` in a wrapper subprocess; wall time, peak RSS and its own report."""
    command = [
        sys.executable, "-m", "wiass", "separate", str(mixture), "--model", str(checkpoint),
        "--side-info", str(activity), "--out", str(out), "--force", *options,
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wiass separate failed: {done.stderr.strip()}")
    bench = re.search(r"BENCH wall=([\d.]+) cpu=([\d.]+) maxrss_kib=(\d+)", done.stdout)
    own = re.search(r"done in ([\d.]+) s", done.stdout)
    chunks = re.search(r"(\d+) chunk\(s\)", done.stdout)
    attention = re.search(r"attention: (\d+) frames x (\d+) steps", done.stdout)
    assert bench and own and chunks and attention, done.stdout
    return {
        "wall": float(bench.group(1)),
        "cpu": float(bench.group(2)),
        "rss_mib": int(bench.group(3)) / 1024,
        "separation": float(own.group(1)),
        "chunks": int(chunks.group(1)),
        "attention": f"{attention.group(1)} x {attention.group(2)}",
        "stdout": done.stdout,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short files, nothing written")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    args = parser.parse_args()
    minutes = (0.25, 0.5) if args.quick else MINUTES
    load_start = os.getloadavg()
    began = time.perf_counter()
    rows, example, measured = [], "", []
    with tempfile.TemporaryDirectory(prefix="bench_separate_") as tmp:
        folder = Path(tmp)
        for length in minutes:
            write_mixture(folder / f"{length:g}min.wav", length)
            write_activity(folder / f"{length:g}min.txt", length)
        for preset in args.presets:
            config = load_config(preset)
            torch.manual_seed(0)
            checkpoint = folder / f"{preset}.pt"
            save_separator(checkpoint, build_model(config), config)
            cases = [(length, ()) for length in minutes]
            if preset == "paper":
                cases.append((minutes[1], ("--threads", "1")))
                cases.append((minutes[1], ("--precision", "32-true")))
            for length, options in cases:
                name = f"{length:g}min"
                result = run_case(
                    checkpoint,
                    folder / f"{name}.wav",
                    folder / f"{name}.txt",
                    folder / "out",
                    *options,
                )
                seconds = length * 60
                label = f"{preset} {' '.join(options)}".strip()
                row = (
                    f"| {label} | {length:g} | {result['chunks']} | {result['wall']:.1f} "
                    f"| {result['wall'] / seconds:.3f} | {result['cpu'] / seconds:.3f} "
                    f"| {result['separation']:.1f} "
                    f"| {result['separation'] / seconds:.3f} | {result['rss_mib']:,.0f} "
                    f"| {result['attention']} |"
                )
                print(row, flush=True)
                rows.append(row)
                measured.append((preset, options, length, result))
                if preset == "paper" and length == minutes[0] and not options:
                    lines = result["stdout"].replace(tmp, "$TMP").splitlines()
                    example = "\n".join(line for line in lines if not line.startswith("BENCH"))
    load_end = os.getloadavg()
    text = report(rows, example, goals(measured), load_start, load_end, time.perf_counter() - began)
    print(text)
    if not args.quick:
        write_text(HERE / "bench_separate.md", text)


def goals(measured: list[tuple[str, tuple[str, ...], float, dict[str, Any]]]) -> list[str]:
    """The goals, checked against the default-option rows of the ``paper`` preset."""
    paper = [(length, r) for preset, opts, length, r in measured if preset == "paper" and not opts]
    if not paper:
        return []
    rtf = ", ".join(f"{length:g} min {r['wall'] / (60 * length):.3f}" for length, r in paper)
    met = [length for length, r in paper if r["wall"] / (60 * length) <= 0.1]
    rss = ", ".join(f"{length:g} min {r['rss_mib']:,.0f} MiB" for length, r in paper)
    cpu = ", ".join(f"{length:g} min {r['cpu'] / (60 * length):.3f}" for length, r in paper)
    longest = max(paper, key=lambda item: item[0])[1]["rss_mib"]
    return [
        f"- `paper` end-to-end RTF (goal <= 0.1): {rtf}; met for "
        + (", ".join(f"{m:g}" for m in met) + " min" if met else "none")
        + " (start-up weighs most on short files). CPU seconds per second of audio: "
        + cpu
        + "; with both cores free, two workers would need about half of that in wall time "
        "(an estimate, not measured here).",
        f"- `paper` peak RSS: {rss}; the longest file "
        + ("stays within" if longest <= 2048 else "exceeds")
        + " 2 GB. By design memory grows only until a file fills the batches in flight "
        "(workers x 4 chunks) and the attention map reaches its cap (16 M values, 64 MB); "
        "beyond that it does not depend on the file's length.",
    ]


def report(
    rows: list[str],
    example: str,
    findings: list[str],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    seconds: float,
) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    date = datetime.date.today().isoformat()
    workers, threads = plan_threads(0, "cpu")
    support = bf16_support("cpu")
    header = [
        "# `wiass separate` end to end: real-time factor and peak memory (CPU)",
        "",
        f"Command: `python benchmarks/bench_separate.py` on {cpu_model()} ({cores} cores), "
        f"torch {torch.__version__}, "
        f"Python {platform.python_version()}, {date}; the run took {seconds / 60:.1f} min. "
        f"Load average (1, 5, 15 min) {', '.join(f'{v:.1f}' for v in load_start)} at the start "
        f"and {', '.join(f'{v:.1f}' for v in load_end)} at the end (which counts the "
        "benchmark's own work): "
        + (
            "other processes were running on the machine, so the times are noisy (upper bounds "
            "for an idle machine)."
            if load_start[0] > 0.5
            else "the machine was otherwise idle at the start."
        ),
        "",
        "Untrained weights (`wiass.separator.build_model`): the timings are those of trained "
        "models, the separations themselves are meaningless. Inputs: 44.1 kHz stereo 16-bit WAV "
        "(noise), vocal activity at one value per second as side information (both presets are "
        "A3.1 models; whole-song alignment: held into the trained rates, blind pass, path). "
        "Each case is one `wiass separate MIX --model CKPT --side-info ACTIVITY --out DIR` in its "
        "own subprocess. RTF = seconds per second of audio (lower is better); 'end to end' is the "
        "wall time of the whole command (start-up, torch import, checkpoint load, read-through "
        "check of the file, separation, writing), 'separation' the time the command reports "
        "after its checks. 'CPU s per s': CPU time (user + system, all threads) of the whole "
        "command per second of audio, which depends much less on other processes than wall "
        "time (shared caches still inflate it somewhat); on free cores the "
        "wall time of the parallel workers approaches it divided by the number of workers. "
        "Peak RSS: `ru_maxrss` of the command. By default the command "
        "separates batches of 4 chunks in parallel worker threads, one per core (here "
        f"{workers} worker(s) of {threads} torch thread(s) each); the `--threads 1` row uses a "
        "single worker. Precision: the default `--precision auto` runs the network in "
        + (
            f"bfloat16 here ({support.reason}); the `--precision 32-true` row in float32."
            if support.ok
            else f"float32 here ({support.reason}), as `--precision 32-true` does."
        ),
        "",
        "Goals: `paper` end to end at RTF <= 0.1 on 2 CPU cores; peak memory flat in the "
        "file's length beyond one chunk (10 minutes within 2 GB).",
        "",
        "| preset | minutes | chunks | end to end (s) | RTF end to end | CPU s per s "
        "| separation (s) | RTF separation | peak RSS (MiB) | alignment.npy (frames x steps) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    footer = ["", *findings, "", "Output of the first `paper` case:", "", "```", example.strip()]
    footer += ["```", ""]
    return "\n".join(header + rows + footer)


if __name__ == "__main__":
    main()
