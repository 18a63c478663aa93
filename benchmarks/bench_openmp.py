"""Training step time of the ``small`` preset under OpenMP's wait policies and both precisions.

Why: the LSTMs run one small parallel region per time step, so how idle OpenMP threads wait
(spinning or sleeping, ``OMP_WAIT_POLICY``) decides how fast the barriers are. ``wiass train``
and ``wiass experiment`` keep OpenMP's default policy; ``wiass separate`` asks for ``PASSIVE``
(several batches run at once in threads there). This script measures one training step
(forward, L1 loss, backward, Adam) of the ``small`` preset on 16 excerpts of 4 s (251 frames,
80 side-information steps) in float32 and under bfloat16 autocast, with the policy unset,
``PASSIVE`` and ``ACTIVE``, each in a fresh process (the policy is read when torch loads).

    python benchmarks/bench_openmp.py [--steps 5] [--rounds 3]

Prints a Markdown table and writes it to ``bench_openmp.md`` next to this script.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICIES = ("default", "PASSIVE", "ACTIVE")
PRECISIONS = ("32-true", "bf16-mixed")


def measure(precision: str, steps: int) -> float:
    """Median seconds per training step of the ``small`` preset (after one warm-up step)."""
    import torch

    from wiass.config import load_config
    from wiass.model import InformedSeparator

    torch.manual_seed(0)
    config = load_config("small")
    model = InformedSeparator(513, 1, config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    mix, target = torch.rand(16, 251, 513), torch.rand(16, 251, 513)
    side = torch.rand(16, 80, 1).round()
    bf16 = precision == "bf16-mixed"

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


def run_worker(policy: str, precision: str, steps: int) -> float:
    """:func:`measure` in a fresh process with ``OMP_WAIT_POLICY`` set to ``policy``."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    command = [sys.executable, __file__, "--worker", precision, "--steps", str(steps)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per cell")
    parser.add_argument("--out", type=Path, default=HERE / "bench_openmp.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(measure(args.worker, args.steps))
        return
    import torch

    load = os.getloadavg()[0]
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for precision in PRECISIONS:
            for policy in POLICIES:
                seconds = run_worker(policy, precision, args.steps)
                results.setdefault((policy, precision), []).append(seconds)
                print(f"{precision:>10} {policy:>8}: {seconds:.3f} s/step", flush=True)
    fastest = min(min(v) for v in results.values())
    lines = [
        "# Training step time under OpenMP wait policies",
        "",
        f"`python benchmarks/bench_openmp.py --steps {args.steps} --rounds {args.rounds}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}; load average "
        f"{load:.1f} at the start. One step of the `small` preset: forward, L1, backward, Adam "
        "on 16 x 251 frames with 80 side-information steps; best and median over the rounds of "
        "each process's median step.",
        "",
        "| precision | OMP_WAIT_POLICY | s/step (best) | s/step (median) | x fastest |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for (policy, precision), values in results.items():
        best, median = min(values), statistics.median(values)
        lines.append(
            f"| {precision} | {policy} | {best:.3f} | {median:.3f} | {best / fastest:.1f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
