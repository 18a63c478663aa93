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

    python benchmarks/bench_openmp.py [--steps 5] [--rounds 3] [--tables precision openmp]

Prints the tables and writes them to ``bench_openmp.md`` next to this script.
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
from dataclasses import asdict, dataclass
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
    Cell("precision", "32-true", "AVX2", "1 torch thread", AVX2, threads=1),
    *(
        Cell("openmp", precision, setting=policy, env=(("OMP_WAIT_POLICY", policy),))
        for precision in ("32-true", "bf16-mixed")
        for policy in ("default", "PASSIVE", "ACTIVE")
    ),
)


def measure(cell: Cell, steps: int) -> float:
    """Median seconds per training step of the ``small`` preset (after one warm-up step)."""
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
    return statistics.median(times)


def run_worker(cell: Cell, steps: int) -> float:
    """:func:`measure` in a fresh process with the cell's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",)}
    env.update({name: value for name, value in cell.env if value != "default"})
    command = [sys.executable, __file__, "--worker", json.dumps(asdict(cell))]
    command += ["--steps", str(steps)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def precision_table(results: dict[Cell, list[float]]) -> list[str]:
    """Table 1: s/step and minutes per system, relative to bf16 on the native kernels."""
    cells = [cell for cell in results if cell.table == "precision"]
    reference = min(results[cells[0]])
    lines = [
        "| CPU kernels | precision | setting | s/step (best) | s/step (median) | "
        f"min/system ({STEPS_PER_SYSTEM} steps, median) | x bf16 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        best, median = min(results[cell]), statistics.median(results[cell])
        lines.append(
            f"| {cell.kernels} | {cell.precision} | {cell.setting} | {best:.3f} | {median:.3f} "
            f"| {median * STEPS_PER_SYSTEM / 60:.1f} | {best / reference:.1f}x |"
        )
    return lines


def openmp_table(results: dict[Cell, list[float]]) -> list[str]:
    """Table 2: s/step under OpenMP's wait policies."""
    cells = [cell for cell in results if cell.table == "openmp"]
    fastest = min(min(results[cell]) for cell in cells)
    lines = [
        "| precision | OMP_WAIT_POLICY | s/step (best) | s/step (median) | x fastest |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for cell in cells:
        best, median = min(results[cell]), statistics.median(results[cell])
        lines.append(
            f"| {cell.precision} | {cell.setting} | {best:.3f} | {median:.3f} | "
            f"{best / fastest:.1f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per cell")
    parser.add_argument("--tables", nargs="+", default=["precision", "openmp"])
    parser.add_argument("--out", type=Path, default=HERE / "bench_openmp.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fields = json.loads(args.worker)
        fields["env"] = tuple(tuple(pair) for pair in fields["env"])
        print(measure(Cell(**fields), args.steps))
        return
    import torch

    load = os.getloadavg()[0]
    cells = [cell for cell in CELLS if cell.table in args.tables]
    results: dict[Cell, list[float]] = {cell: [] for cell in cells}
    for _ in range(args.rounds):
        for cell in cells:
            results[cell].append(run_worker(cell, args.steps))
            print(f"{cell.kernels} {cell.precision} {cell.setting}: {results[cell][-1]:.3f} s/step")
    tables = {"precision": precision_table, "openmp": openmp_table}
    lines = [
        "# Training step time of the `small` preset: precision, CPU kernels, threads",
        "",
        f"`python benchmarks/bench_openmp.py --steps {args.steps} --rounds {args.rounds}` on "
        f"{_cpu_name()}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}; load average {load:.1f} at "
        f"the start, {os.getloadavg()[0]:.1f} at the end. One step of the `small` preset: "
        "forward, L1, backward, Adam on 16 x 251 frames with 80 side-information steps; best "
        "and median over the rounds of each process's median step. AVX2 kernels: this CPU "
        "kept to AVX2 code (see the script), standing in for an AVX2-only CPU.",
    ]
    for name in args.tables:
        lines += ["", *tables[name](results)]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
