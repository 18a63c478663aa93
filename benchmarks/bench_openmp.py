"""Training step time of the ``small`` preset: precision, CPU kernels and thread settings.

Why: ``train.precision: auto`` trains in bf16 only where the CPU runs a bfloat16 LSTM (oneDNN on
AVX512 CPUs); elsewhere, e.g. on AVX2-only CPUs, it trains in float32. Table 1 states what that
costs per system, and tries cheap settings that could keep float32 fast. Table 2: how idle
OpenMP threads wait (``OMP_WAIT_POLICY``, spinning or sleeping) decides how fast the LSTMs'
per-time-step barriers are; ``wiass train`` and ``wiass experiment`` keep OpenMP's default
policy, ``wiass separate`` asks for ``PASSIVE`` (several batches run at once in threads there).

Every cell times one training step (forward, L1 loss, backward, Adam) of the ``small`` preset on
16 excerpts of 4 s (251 frames, 80 side-information steps) in a fresh process (environment
variables are read when torch loads), after one warm-up step; cells take turns round by round,
so that load from other processes on a shared machine hits them alike.

"AVX2 kernels" stands in for an AVX2-only CPU (such as an AMD EPYC without AVX512-BF16) on the
measuring machine: ``ONEDNN_MAX_CPU_ISA=AVX2``, ``ATEN_CPU_CAPABILITY=avx2`` and
``MKL_ENABLE_INSTRUCTIONS=AVX2`` keep oneDNN, PyTorch's own kernels and MKL to AVX2 code. A real
AVX2-only CPU has other clocks, caches and cores, so its times differ; the ratios are the point.
The precision table runs one torch thread per process unless ``--threads`` says otherwise: on a
machine shared with other busy processes, two spinning OpenMP threads stall each other's
barriers and the times say more about the neighbours than about the kernels (Table 2).

    python benchmarks/bench_openmp.py [--steps 5] [--rounds 3] [--tables precision openmp]

Prints the tables and writes each to ``bench_<table>.md`` next to this script
(``bench_precision.md``, ``bench_openmp.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
AVX2 = (
    ("ONEDNN_MAX_CPU_ISA", "AVX2"),
    ("ATEN_CPU_CAPABILITY", "avx2"),
    ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
)
STEPS_PER_SYSTEM = 80 * 256 // 16
"""Training steps of one system of the ``small`` preset: 80 epochs of 256 examples, batch 16."""


@dataclass(frozen=True)
class Cell:
    """One measured setting. ``env``: environment of the worker process (name, value) pairs;
    ``threads``: torch threads (None: torch's default); ``mkldnn``: whether the LSTMs run on
    oneDNN (else on PyTorch's own kernels); ``flush_denormal``: denormal floats read as zero."""

    table: str
    precision: str
    kernels: str = "native"
    setting: str = "default"
    env: tuple[tuple[str, str], ...] = ()
    threads: int | None = None
    mkldnn: bool = True
    flush_denormal: bool = False


CELLS: tuple[Cell, ...] = (
    Cell("precision", "bf16-mixed"),
    Cell("precision", "32-true"),
    Cell("precision", "32-true", "AVX2", env=AVX2),
    Cell("precision", "32-true", "AVX2", "LSTM without oneDNN", AVX2, mkldnn=False),
    Cell("precision", "32-true", "AVX2", "flush denormals", AVX2, flush_denormal=True),
    *(
        Cell("openmp", precision, setting=policy, env=(("OMP_WAIT_POLICY", policy),))
        for precision in ("32-true", "bf16-mixed")
        for policy in ("default", "PASSIVE", "ACTIVE")
    ),
)


def measure(cell: Cell, steps: int) -> tuple[float, float]:
    """Fastest and median seconds per training step of the ``small`` preset (after one warm-up
    step)."""
    import torch

    from wiass.config import load_config
    from wiass.model import InformedSeparator

    if cell.threads:
        torch.set_num_threads(cell.threads)
    torch.backends.mkldnn.enabled = cell.mkldnn
    torch.set_flush_denormal(cell.flush_denormal)
    torch.manual_seed(0)
    config = load_config("small")
    model = InformedSeparator(513, 1, config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    mix, target = torch.rand(16, 251, 513), torch.rand(16, 251, 513)
    side = torch.rand(16, 80, 1).round()
    bf16 = cell.precision == "bf16-mixed"

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            estimate, _ = model(mix, side)
        torch.nn.functional.l1_loss(estimate.float(), target).backward()
        optimizer.step()

    step()
    times = []
    for _ in range(steps):
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return min(times), statistics.median(times)


def run_worker(cell: Cell, steps: int) -> tuple[float, float]:
    """:func:`measure` in a fresh process with the cell's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",)}
    env.update({name: value for name, value in cell.env if value != "default"})
    command = [sys.executable, __file__, "--worker", json.dumps(asdict(cell))]
    command += ["--steps", str(steps)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    fastest, median = json.loads(done.stdout.splitlines()[-1])
    return fastest, median


Results = dict[Cell, list[tuple[float, float]]]
"""Per cell, every process's fastest and median step (s)."""


def precision_table(results: Results) -> list[str]:
    """Table 1: s/step and minutes per system, relative to bf16 on the native kernels. The
    fastest step is the least disturbed by other processes; the median shows the spread."""
    cells = [cell for cell in results if cell.table == "precision"]
    reference = min(fastest for fastest, _ in results[cells[0]])
    lines = [
        "| CPU kernels | precision | setting | s/step (fastest) | s/step (median) | "
        f"min/system ({STEPS_PER_SYSTEM} steps, fastest) | x bf16 native |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        fastest = min(value for value, _ in results[cell])
        median = statistics.median(value for _, value in results[cell])
        lines.append(
            f"| {cell.kernels} | {cell.precision} | {cell.setting} | {fastest:.3f} | "
            f"{median:.3f} | {fastest * STEPS_PER_SYSTEM / 60:.1f} | {fastest / reference:.1f}x |"
        )
    return lines


def openmp_table(results: Results) -> list[str]:
    """Table 2: s/step under OpenMP's wait policies (best and median of the processes'
    median steps)."""
    cells = [cell for cell in results if cell.table == "openmp"]
    medians = {cell: [median for _, median in results[cell]] for cell in cells}
    fastest = min(min(values) for values in medians.values())
    lines = [
        "| precision | OMP_WAIT_POLICY | s/step (best) | s/step (median) | x fastest |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for cell in cells:
        best, median = min(medians[cell]), statistics.median(medians[cell])
        lines.append(
            f"| {cell.precision} | {cell.setting} | {best:.3f} | {median:.3f} | "
            f"{best / fastest:.1f}x |"
        )
    return lines


TITLES = {
    "precision": "Training step time of the `small` preset: precision and CPU kernels",
    "openmp": "Training step time under OpenMP wait policies",
}
TABLES = {"precision": precision_table, "openmp": openmp_table}
NOTES = {
    "precision": (
        "",
        "AVX2: this CPU kept to AVX2 code (`ONEDNN_MAX_CPU_ISA=AVX2`, "
        "`ATEN_CPU_CAPABILITY=avx2`, `MKL_ENABLE_INSTRUCTIONS=AVX2`), standing in for an "
        "AVX2-only CPU, where `precision: auto` trains in 32-true (oneDNN has no bf16 LSTM "
        "there); a real one has other clocks and caches. Settings tried for float32: the LSTMs "
        "on PyTorch's own kernels instead of oneDNN (`torch.backends.mkldnn.enabled = False`), "
        "denormals flushed to zero (`torch.set_flush_denormal(True)`). The fastest step is the "
        "least disturbed by other processes on a shared machine.",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per cell")
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (precision table)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fields = json.loads(args.worker)
        fields["env"] = tuple(tuple(pair) for pair in fields["env"])
        print(json.dumps(measure(Cell(**fields), args.steps)))
        return
    cells = [cell for cell in CELLS if cell.table in args.tables]
    cells = [replace(c, threads=args.threads) if c.table == "precision" else c for c in cells]
    load = os.getloadavg()[0]
    results: Results = {cell: [] for cell in cells}
    for _ in range(args.rounds):
        for cell in cells:
            results[cell].append(run_worker(cell, args.steps))
            fastest, median = results[cell][-1]
            print(f"{cell.kernels} {cell.precision} {cell.setting}: {fastest:.3f} {median:.3f}")
    for table in args.tables:
        text = _report(table, TABLES[table](results), args, (load, os.getloadavg()[0]))
        print(text)
        (HERE / f"bench_{table}.md").write_text(text)


def _report(
    table: str, lines: list[str], args: argparse.Namespace, load: tuple[float, float]
) -> str:
    import torch

    threads = f"{args.threads} torch thread(s)" if table == "precision" else "torch's threads"
    header = [
        f"# {TITLES[table]}",
        "",
        f"`python benchmarks/bench_openmp.py --tables {table} --steps {args.steps} --rounds "
        f"{args.rounds}` on {_cpu_name()}, {os.cpu_count()} CPU cores, {threads}, torch "
        f"{torch.__version__}, {time.strftime('%Y-%m-%d')}; load average {load[0]:.1f} at the "
        f"start, {load[1]:.1f} at the end. One step of the `small` preset: forward, L1, "
        "backward, Adam on 16 x 251 frames with 80 side-information steps, in a fresh process "
        "per cell and round.",
        *(NOTES.get(table, ())),
    ]
    return "\n".join([*header, "", *lines]) + "\n"


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
