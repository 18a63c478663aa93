"""Speed and memory of ``wiass.model.InformedSeparator`` against a straightforward reference.

The reference (:class:`ReferenceSeparator`, below) re-implements the published forward pass of
the paper's model the plain way: ``nn.LSTM`` stacks, ``torch.bmm`` attention with the bilinear
weight applied per batch, a concatenation before the tanh layer, no padding masks, no packing,
inference under ``torch.no_grad``. Both models get the same sizes (``configs/<preset>.yaml``),
the same inputs (side information padded to a common length, as a collated batch is) and the
same optimiser (``torch.optim.Adam`` with its defaults). Before timing, the wiass model is
loaded with the reference's weights and its output compared (unpadded input): the two compute
the same function.

Measures, per preset:
- training throughput: spectrogram frames per second of forward + L1 loss + backward + Adam
  step (batch x frames per step / median step time);
- inference real-time factor: seconds of compute per second of audio, batch 1 (median time /
  (frames x hop / sample rate));
- peak memory: a separate fresh subprocess per model runs two steps and reports its peak
  resident set size (``VmHWM``: the whole process, Python, torch, model, optimiser state,
  activations); "base" is its resident size just before the first step, so "peak - base" is what
  the steps themselves added (activations, gradients, optimiser state, workspaces). It runs with
  ``MALLOC_MMAP_THRESHOLD_=65536`` so that glibc maps every large tensor on its own and returns it
  on free: RSS then follows the live tensors and repeats to the MiB (with the default dynamic
  threshold, peaks wander by tens of MiB from run to run). Timed runs keep the default malloc.

Timing runs both models in one subprocess per round, taking turns step by step (ABBA order) so
that load from other processes on a shared machine hits both alike; times are medians over all
timed steps of all rounds (``--rounds`` subprocesses).

Where the time goes (``torch.profiler`` on the 2-core CPU of the committed table): oneDNN's LSTM
kernels (``mkldnn_rnn_layer`` and its backward) take about 85 % of a paper training step, 95 % of
paper inference and 70 % of a small training step. Both models call the same kernels with the
same shapes, so wiass's savings (attention projections on the M side steps, no concatenation, no
packing, ``inference_mode``) act only on the remainder: expect parity, not 1.5x, at float32 on
CPU.

Run: ``python benchmarks/bench_model.py`` (writes ``benchmarks/bench_model.md``), or
``--quick`` for a fast smoke run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from wiass.config import Config, ModelConfig, load_config
from wiass.files import write_text
from wiass.model import InformedSeparator

HERE = Path(__file__).resolve().parent
SIDE_DIM = 1


class ReferenceSeparator(nn.Module):
    """The published forward pass, written the straightforward way (see module docstring)."""

    def __init__(self, n_bins: int, side_dim: int, config: ModelConfig) -> None:
        super().__init__()
        hid, side_hid, att = config.hidden_size, config.side_hidden_size, config.attention_size
        self.output = config.output
        self.mix_lstm = nn.LSTM(
            n_bins, hid, config.mix_layers, batch_first=True, bidirectional=True
        )
        self.side_lstm = nn.LSTM(
            side_dim, side_hid, config.side_layers, batch_first=True, bidirectional=True
        )
        bound = 1.0 / math.sqrt(2 * side_hid)
        self.w_s = nn.Parameter(torch.empty(2 * hid, 2 * side_hid).uniform_(-bound, bound))
        self.connection = nn.Linear(2 * side_hid + 2 * hid, att)
        self.dec_lstm = nn.LSTM(
            att, hid, config.decoder_layers, batch_first=True, bidirectional=True
        )
        self.fc = nn.Linear(2 * hid, n_bins)
        self.frequencies = config.position_frequencies
        if self.frequencies:
            size = 2 * self.frequencies
            self.w_p = nn.Parameter(config.position_prior * torch.eye(size))

    def position_scores(self, frames: int, steps: int) -> torch.Tensor:
        """phi(p_n) . P . phi(q_m) for every (n, m), ``(N, M)``, with the features written out."""
        k = torch.arange(1, self.frequencies + 1, dtype=torch.float32)
        p = (torch.arange(frames, dtype=torch.float32) + 0.5) / frames
        q = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
        phi_p = torch.cat(
            (torch.cos(math.pi * p[:, None] * k), torch.sin(math.pi * p[:, None] * k)), 1
        )
        phi_q = torch.cat(
            (torch.cos(math.pi * q[:, None] * k), torch.sin(math.pi * q[:, None] * k)), 1
        )
        return phi_p @ self.w_p @ phi_q.T

    def forward(self, mix: torch.Tensor, side: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g, _ = self.mix_lstm(mix)
        h, _ = self.side_lstm(side)
        batch = mix.shape[0]
        w_h = torch.bmm(self.w_s.expand(batch, -1, -1), h.transpose(1, 2))
        scores = torch.bmm(g, w_h)
        if self.frequencies:
            scores = scores + self.position_scores(mix.shape[1], side.shape[1])
        alphas = torch.softmax(scores, dim=2)
        context = torch.bmm(h.transpose(1, 2), alphas.transpose(1, 2)).transpose(1, 2)
        q = torch.tanh(self.connection(torch.cat((context, g), dim=2)))
        d, _ = self.dec_lstm(q)
        y = self.fc(d)
        if self.output == "mask":
            return torch.sigmoid(y) * mix, alphas
        if self.output == "clamped_mask":
            return torch.clamp(y + 0.5, 0.0, 1.0) * mix, alphas
        return torch.relu(y), alphas


def copy_reference_weights(ref: ReferenceSeparator, model: InformedSeparator) -> None:
    """Load the reference's weights into the wiass model (same function, other layout)."""
    model.mix_encoder.load_state_dict(ref.mix_lstm.state_dict())
    model.decoder.load_state_dict(ref.dec_lstm.state_dict())
    model.output_layer.load_state_dict(ref.fc.state_dict())
    side = ref.side_lstm.state_dict()
    for k, (fwd, bwd) in enumerate(
        zip(model.side_encoder.forward_layers, model.side_encoder.backward_layers, strict=True)
    ):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, f"{name}_l0").data.copy_(side[f"{name}_l{k}"])
            getattr(bwd, f"{name}_l0").data.copy_(side[f"{name}_l{k}_reverse"])
    split = model.context_proj.in_features
    with torch.no_grad():
        model.attention_weight.copy_(ref.w_s)
        model.context_proj.weight.copy_(ref.connection.weight[:, :split])
        model.mix_proj.weight.copy_(ref.connection.weight[:, split:])
        model.mix_proj.bias.copy_(ref.connection.bias)
        if ref.frequencies:
            model.position_weight.copy_(ref.w_p)


@dataclass
class Job:
    """One measurement: preset, ``train`` or ``infer``, batch, frames, side steps."""

    preset: str
    mode: str
    batch: int
    frames: int
    steps: int
    iters: int


def make_inputs(config: Config, job: Job) -> tuple[torch.Tensor, ...]:
    """Mixture, target ``(B, N, F)``, binary side information ``(B, M, 1)`` padded to M steps
    (example b has between M/2 and M real steps; the first has all M), and its mask."""
    gen = torch.Generator().manual_seed(0)
    n_bins = config.audio.n_fft // 2 + 1
    mix = torch.rand(job.batch, job.frames, n_bins, generator=gen)
    target = mix * torch.rand(job.batch, job.frames, n_bins, generator=gen)
    lengths = torch.randint(job.steps // 2, job.steps + 1, (job.batch,), generator=gen)
    lengths[0] = job.steps
    mask = torch.arange(job.steps).unsqueeze(0) < lengths.unsqueeze(1)
    side = (torch.rand(job.batch, job.steps, SIDE_DIM, generator=gen) > 0.5).float() * mask[
        ..., None
    ]
    return mix, target, side, mask


def build(impl: str, config: Config) -> nn.Module:
    n_bins = config.audio.n_fft // 2 + 1
    if impl == "reference":
        return ReferenceSeparator(n_bins, SIDE_DIM, config.model)
    return InformedSeparator(n_bins, SIDE_DIM, config.model)


def rss_mib(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) resident set size of this process, MiB.

    Read from ``/proc/self/status`` because ``ru_maxrss`` survives ``exec``: a subprocess would
    report its parent's peak when that is higher. Falls back to ``ru_maxrss`` off Linux.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_step(
    impl: str, job: Job, config: Config, inputs: tuple[torch.Tensor, ...]
) -> Callable[[], None]:
    """A closure running one training step (forward, L1, backward, Adam) or one inference."""
    torch.manual_seed(0)
    model = build(impl, config)
    mix, target, side, mask = inputs

    def run() -> tuple[torch.Tensor, torch.Tensor]:
        return model(mix, side) if impl == "reference" else model(mix, side, mask)

    if job.mode == "train":
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            estimate, _ = run()
            nn.functional.l1_loss(estimate, target).backward()
            optimizer.step()

        return step
    model.eval()

    def infer() -> None:
        if impl == "reference":
            with torch.no_grad():
                model(mix, side)
        else:
            model.infer(mix, side, mask)

    return infer


def worker(impls: list[str], job: Job) -> dict[str, object]:
    """Time ``job.iters`` steps of each model in ``impls`` after one warm-up step, taking turns
    step by step (ABBA order) so that load from other processes hits both alike. Returns step
    times (s) per model, resident size before the first step and peak (MiB)."""
    config = load_config(job.preset)
    inputs = make_inputs(config, job)
    steps = {impl: make_step(impl, job, config, inputs) for impl in impls}
    base = rss_mib("VmRSS")
    times: dict[str, list[float]] = {impl: [] for impl in impls}
    for i in range(job.iters + 1):
        for impl in impls if i % 2 == 0 else impls[::-1]:
            start = time.perf_counter()
            steps[impl]()
            if i > 0:
                times[impl].append(time.perf_counter() - start)
    return {"times": times, "rss_base": base, "rss_peak": rss_mib("VmHWM")}


def equivalence_error(preset: str) -> float:
    """Max |wiass - reference| estimate with the reference's weights, unpadded side info."""
    torch.manual_seed(0)
    config = load_config(preset)
    ref = build("reference", config)
    model = build("wiass", config)
    copy_reference_weights(ref, model)
    job = Job(preset, "infer", 2, 40, 12, 0)
    mix, _, side, _ = make_inputs(config, job)
    side = torch.rand_like(side)
    with torch.no_grad():
        expected, alpha_ref = ref(mix, side)
    estimate, alpha = model.infer(mix, side)
    return max(
        (estimate - expected).abs().max().item() / expected.abs().max().item(),
        (alpha - alpha_ref).abs().max().item(),
    )


def spawn(
    impls: list[str], job: Job, threads: int | None, env: dict[str, str] | None = None
) -> dict[str, object]:
    command = [sys.executable, __file__, "--worker", ",".join(impls), json.dumps(job.__dict__)]
    if threads:
        command += ["--threads", str(threads)]
    environment = {**os.environ, **(env or {})}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
    return json.loads(done.stdout.strip().splitlines()[-1])


def jobs_for(preset: str, quick: bool) -> list[Job]:
    """Training and inference sizes. Training: paper 8 x 188 frames, small 16 x 376 frames
    (6 s at 16 kHz); inference: batch 1, paper 10 s of audio, small 30 s. Side information:
    M = N / 4 steps (an A3.1-like rate)."""
    config = load_config(preset)
    frames_per_second = config.audio.sample_rate / config.audio.hop
    if quick:
        return [Job(preset, "train", 2, 32, 8, 2), Job(preset, "infer", 1, 64, 16, 2)]
    train_batch, train_frames = (8, 188) if preset == "paper" else (16, 376)
    seconds = 10.0 if preset == "paper" else 30.0
    infer_frames = int(seconds * frames_per_second) + 1
    iters = 5 if preset == "paper" else 8
    return [
        Job(preset, "train", train_batch, train_frames, train_frames // 4, iters),
        Job(preset, "infer", 1, infer_frames, infer_frames // 4, iters),
    ]


def measure(job: Job, rounds: int, threads: int | None) -> dict[str, dict[str, float]]:
    """Time both models in ``rounds`` subprocesses, then each one's memory in its own."""
    impls = ["reference", "wiass"]
    times: dict[str, list[float]] = {impl: [] for impl in impls}
    for r in range(rounds):
        result = spawn(impls if r % 2 == 0 else impls[::-1], job, threads)
        for impl in impls:
            times[impl] += result["times"][impl]
            line = f"  {job.preset} {job.mode} {impl}: {_fmt_times(result['times'][impl])}"
            print(line, flush=True)
    stats = {}
    for impl in impls:
        memory = spawn([impl], replace(job, iters=1), threads, {"MALLOC_MMAP_THRESHOLD_": "65536"})
        stats[impl] = {
            "median_s": statistics.median(times[impl]),
            "min_s": min(times[impl]),
            "peak_mib": memory["rss_peak"],
            "grown_mib": memory["rss_peak"] - memory["rss_base"],
        }
    return stats


def _fmt_times(times: list[float]) -> str:
    return " ".join(f"{t:.3f}" for t in times)


def row(job: Job, stats: dict[str, dict[str, float]], config: Config) -> str:
    ref, ours = stats["reference"], stats["wiass"]
    ratio = ref["median_s"] / ours["median_s"]
    best = ref["min_s"] / ours["min_s"]
    if job.mode == "train":
        size = f"{job.batch} x {job.frames} fr, M {job.steps}"
        frames = job.batch * job.frames
        speed = f"{frames / ref['median_s']:,.0f} | {frames / ours['median_s']:,.0f}"
        what = "train (frames/s)"
    else:
        audio_s = job.frames * config.audio.hop / config.audio.sample_rate
        size = f"1 x {job.frames} fr ({audio_s:.1f} s), M {job.steps}"
        speed = f"{ref['median_s'] / audio_s:.4f} | {ours['median_s'] / audio_s:.4f}"
        what = "infer (RTF)"
    memory = (
        f"{ref['peak_mib']:,.0f} ({ref['grown_mib']:+,.0f}) | "
        f"{ours['peak_mib']:,.0f} ({ours['grown_mib']:+,.0f})"
    )
    return f"| {job.preset} | {what} | {size} | {speed} | {ratio:.2f}x ({best:.2f}x) | {memory} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["paper", "small"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per worker")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no output file")
    parser.add_argument("--out", type=Path, default=HERE / "bench_model.md")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        impls, job = args.worker[0].split(","), Job(**json.loads(args.worker[1]))
        print(json.dumps(worker(impls, job)))
        return
    lines = [
        "| preset | measure | size | reference | wiass | speed-up (best) | "
        "peak RSS MiB (steps added), reference | wiass |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    load_start = os.getloadavg()[0]
    for preset in args.presets:
        config = load_config(preset)
        model = build("wiass", config)
        error = equivalence_error(preset)
        notes.append(
            f"- {preset}: {model.n_parameters:,} parameters (wiass) vs "
            f"{sum(p.numel() for p in build('reference', config).parameters()):,} (reference); "
            f"max relative difference of the outputs with equal weights: {error:.1e}"
        )
        for job in jobs_for(preset, args.quick):
            lines.append(row(job, measure(job, args.rounds, args.threads), config))
            print(lines[-1], flush=True)
    text = _report(lines, notes, args, (load_start, os.getloadavg()[0]))
    print(text)
    if not args.quick:
        write_text(args.out, text)


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _report(
    lines: list[str], notes: list[str], args: argparse.Namespace, load: tuple[float, float]
) -> str:
    threads = f" --threads {args.threads}" if args.threads else ""
    header = (
        "# Model speed and memory: wiass vs straightforward reference (CPU)\n\n"
        f"Command: `python benchmarks/bench_model.py --rounds {args.rounds}{threads}` on "
        f"{_cpu_name()} ({os.cpu_count()} cores), {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}; 1-minute load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (other processes share the "
        "machine).\n\n"
        "Speed-up = reference median step time / wiass median step time (>1 = wiass faster); "
        "in brackets the same from the fastest steps, less sensitive to other processes. "
        "Training: frames/s of forward + L1 + backward + Adam; inference: real-time factor "
        "(compute seconds per audio second, lower is better), batch 1. Memory: peak RSS of the "
        "measuring subprocess (fixed malloc mmap threshold, see the script), in brackets how "
        "much the steps added to it.\n\n"
    )
    return header + "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


if __name__ == "__main__":
    main()
