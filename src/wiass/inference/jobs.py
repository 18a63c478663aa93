"""What ``wiass separate`` runs: mixture files checked up front, separated into output folders.

Outputs per mixture: ``vocals.wav`` and ``accompaniment.wav`` (32-bit float WAV at the input's
rate and channels, so that vocals + accompaniment == mixture and nothing clips) and, for
informed models, the alignment files (:mod:`wiass.inference.outputs`); once every mixture is
done, the run folder's index ``results.json`` (:func:`write_run_index`; the format is
:mod:`wiass.runs`, so ``wiass report OUT`` opens it). Everything that can
fail (the checkpoint, every mixture, the side information for every mixture, the output
folders and existing outputs, the output names and the free space) is checked before anything
is written (:func:`prepare_jobs`); every file is written atomically, and the output folder is
locked while a run writes into it (:func:`locked_outputs`), so that a second run into it is
refused.

Threads. ``workers`` chunk batches run at once in threads; the command line uses one worker of
one torch thread per core (:func:`plan_threads`), because several threads on one LSTM meet at a
barrier at every time step, and sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is set: spinning
OpenMP threads stall those barriers whenever another process holds a core (10x slower on a
shared machine).
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from wiass.audio import audio_info, read_audio
from wiass.errors import AudioError, OutputError, WiassWarning
from wiass.files import atomic_path, check_free_space, check_output_names, folder_lock, write_error
from wiass.inference.api import frame_seconds, lyrics_gate, result_lyrics, result_step_times
from wiass.inference.attention import MAX_ALIGNMENT_VALUES
from wiass.inference.chunks import BATCH_CHUNKS, DEFAULT_OVERLAP_SECONDS, resampled_length
from wiass.inference.inputs import check_device, check_length, model_frames, side_info_from_options
from wiass.inference.lyrics_alignment import PauseGate
from wiass.inference.outputs import (
    ALIGNMENT_OUTPUTS,
    AUDIO_OUTPUTS,
    remove_stale_alignment,
    separation_alignment,
    write_alignment,
)
from wiass.inference.runner import ChunkRunner
from wiass.inference.song_alignment import StepPlan, model_rate_audio, needs_alignment, plan_steps
from wiass.inference.stream import file_blocks, progress_bar, stream_separation
from wiass.runs import RESULTS, System, Track, stored_path, write_results
from wiass.separator import Separator, load_separator
from wiass.sideinfo import SideInfo

MAX_WORKERS = 2
"""Most chunk batches separated at once by the command line (see :func:`plan_threads`); each
worker's batch sits in memory (about 350 MB for the ``paper`` preset)."""

OUTPUT_SUBTYPE = "FLOAT"


@dataclass
class SeparationJob:
    """One mixture file to separate into ``out``: its header and validated side information."""

    mixture: Path
    out: Path
    sample_rate: int
    channels: int
    n_samples: int
    side_info: SideInfo | None

    @property
    def seconds(self) -> float:
        return self.n_samples / self.sample_rate


@dataclass
class JobResult:
    """What :func:`run_job` wrote."""

    job: SeparationJob
    written: list[Path]
    chunks: int
    seconds: float
    alignment_shape: tuple[int, int] | None = None
    frame_seconds: float | None = None
    removed: list[Path] = field(default_factory=list)


def plan_threads(threads: int | None, device: str | torch.device | None) -> tuple[int, int]:
    """``(workers, torch threads per worker)`` for ``threads`` CPU threads (None or 0: the
    cores this process may use). On a CPU, chunk batches run in parallel workers of one torch
    thread each (up to :data:`MAX_WORKERS`, whose batches all sit in memory at once), with
    the remaining threads shared among them: independent batches need no synchronisation,
    whereas several threads on one LSTM meet at a barrier at every time step. With CUDA: one
    worker and torch's own thread count."""
    if device is not None and torch.device(device).type == "cuda":
        return 1, torch.get_num_threads()
    cores = available_cores()
    if threads and threads > cores:
        warnings.warn(
            f"--threads {threads} is more than the {cores} core(s) this process may use; "
            f"using {cores}",
            WiassWarning,
            stacklevel=2,
        )
    threads = min(threads, cores) if threads else cores
    workers = min(threads, MAX_WORKERS)
    return workers, max(1, threads // workers)


def available_cores() -> int:
    """The CPU cores this process may use (its affinity where the OS tells, else all)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return cores or os.cpu_count() or 1


def scan_mixture(path: str | os.PathLike[str]) -> tuple[int, int, int]:
    """``(sample_rate, channels, samples)`` of a mixture file after reading it through once:
    AudioError when it is missing, unreadable, empty, non-finite or completely silent."""
    file = Path(path)
    sample_rate, channels, _ = audio_info(file)
    audible = False
    read = 0
    for block in file_blocks(file):
        if not np.isfinite(block).all():
            raise AudioError(f"{file}: contains non-finite samples (NaN or infinity)")
        audible = audible or bool(np.any(block))
        read += block.shape[1]
    if read == 0:
        raise AudioError(f"{file}: contains no samples")
    if not audible:
        raise AudioError(f"{file}: is completely silent (all samples are zero)")
    return sample_rate, channels, read


def check_output_folder(
    folder: Path, force: bool, names: tuple[str, ...] = AUDIO_OUTPUTS + ALIGNMENT_OUTPUTS
) -> None:
    """OutputError when ``folder`` cannot hold the outputs ``names`` (a file, under a file, not
    writable, a name too long), or holds some and not ``force``."""
    check_output_names(folder, names)
    for name in names:
        existing = folder / name
        if existing.is_dir():
            raise OutputError(f"{existing}: exists and is a folder")
        if existing.exists() and not force:
            raise OutputError(f"{existing}: already exists (use --force to overwrite)")


def output_bytes(job: SeparationJob, separator: Separator) -> int:
    """About how many bytes the outputs of ``job`` take (float WAVs, alignment files: the
    float16 attention, the side information, about 100 bytes per step of step times in
    alignment.json and labels, 2 MB for the figure and the rest)."""
    size = 2 * (4 * job.channels * job.n_samples + 4096)
    if job.side_info is not None:
        frames = model_frames(job.n_samples, job.sample_rate, separator)
        steps = job.side_info.n_steps
        size += 2 * min(frames * steps, MAX_ALIGNMENT_VALUES) + 2_000_000
        size += job.side_info.values.nbytes + 100 * steps
    return size


@contextlib.contextmanager
def locked_outputs(
    out: str | os.PathLike[str], jobs: list[SeparationJob], force: bool
) -> Iterator[None]:
    """Hold the lock on the output folder ``out`` while the jobs write into it: OutputError
    when another run holds it. The job folders are checked again under the lock (a run that
    held it may have written outputs meanwhile)."""
    with folder_lock(out):
        check_output_folder(Path(out), force, (RESULTS,))
        for job in jobs:
            check_output_folder(job.out, force)
        yield


def _check_stems(paths: list[Path], out: str | os.PathLike[str]) -> None:
    """OutputError when two mixtures would write the same ``out/<stem>`` folder."""
    stems: dict[str, Path] = {}
    for path in paths:
        if path.stem in stems:
            raise OutputError(
                f"{path}: same name as {stems[path.stem]}, both would write {Path(out) / path.stem}"
            )
        stems[path.stem] = path


def prepare_jobs(
    mixtures: list[str | os.PathLike[str]],
    model: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    activity: str | None = None,
    side_info_path: str | os.PathLike[str] | None = None,
    labels_path: str | os.PathLike[str] | None = None,
    lyrics_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    force: bool = False,
) -> tuple[Separator, list[SeparationJob]]:
    """Check everything ``wiass separate`` needs before it writes anything: the device, the
    checkpoint, every mixture (read through once), the side information for every mixture and
    the output folders (``out``, or ``out/<mixture stem>`` for several mixtures)."""
    paths = [Path(m) for m in mixtures]
    if not paths:
        raise AudioError("no mixture given")
    _check_stems(paths, out)
    separator = load_separator(model, check_device(device) or "cpu")
    jobs = []
    for path in paths:
        sample_rate, channels, n_samples = scan_mixture(path)
        check_length(n_samples, sample_rate, separator, str(path))
        side = side_info_from_options(
            separator,
            model_frames(n_samples, sample_rate, separator),
            activity=activity,
            side_info_path=side_info_path,
            labels_path=labels_path,
            lyrics_path=lyrics_path,
        )
        folder = Path(out) if len(paths) == 1 else Path(out) / path.stem
        jobs.append(SeparationJob(path, folder, sample_rate, channels, n_samples, side))
    check_output_folder(Path(out), force, (RESULTS,))
    for job in jobs:
        check_output_folder(job.out, force)
    check_free_space(out, sum(output_bytes(job, separator) for job in jobs))
    return separator, jobs


def run_job(
    job: SeparationJob,
    separator: Separator,
    *,
    wiener: bool = False,
    progress: bool = True,
    chunk_seconds: float | None = None,
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS,
    batch_chunks: int = BATCH_CHUNKS,
    workers: int = 1,
    whole_song_alignment: bool = True,
    silence_pauses: bool = True,
    bf16: bool = False,
) -> JobResult:
    """Separate one prepared mixture file and write its outputs (see the module docstring);
    ``silence_pauses``: see :func:`wiass.inference.separate`; ``bf16``: the network in
    bfloat16 (:func:`wiass.precision.inference_bf16`)."""
    began = time.perf_counter()
    n_model = resampled_length(job.n_samples, job.sample_rate, separator.sample_rate)
    plan = plan_job_steps(job, separator, chunk_seconds, whole_song_alignment, workers, bf16)
    runner = ChunkRunner(
        separator,
        plan.side,
        n_model,
        timeline=plan.timeline,
        wiener=wiener,
        chunk_seconds=chunk_seconds,
        overlap_seconds=overlap_seconds,
        batch_chunks=batch_chunks,
        bf16=bf16,
    )
    gate = lyrics_gate(plan, separator, job.seconds, silence_pauses)
    written = _write_audio(job, runner, progress, workers, gate)
    result = JobResult(job, written, len(runner.chunks), 0.0)
    if runner.attention is not None and plan.side is not None:
        attention, pool = runner.attention.result(), runner.attention.pool
        times = result_step_times(plan, attention, separator, pool, job.seconds)
        alignment = separation_alignment(
            separator,
            plan.side,
            attention,
            pool=pool,
            seconds=job.seconds,
            step_times=times,
            mixture=str(job.mixture),
            lyrics=result_lyrics(plan.side, times),
        )
        title = f"{job.mixture.name}: alignment of the side information ({alignment.kind})"
        result.written += write_alignment(job.out, alignment, title)
        result.alignment_shape = (int(attention.shape[0]), int(attention.shape[1]))
        result.frame_seconds = frame_seconds(separator, pool)
    else:
        result.removed = remove_stale_alignment(job.out)
    result.seconds = time.perf_counter() - began
    return result


def plan_job_steps(
    job: SeparationJob,
    separator: Separator,
    chunk_seconds: float | None,
    search: bool,
    workers: int = 1,
    bf16: bool = False,
) -> StepPlan:
    """Where the job's side information goes (:func:`wiass.inference.song_alignment.plan_steps`;
    the whole mixture is read once more for the blind pass when its steps must be placed)."""
    if not needs_alignment(separator, job.side_info):
        return StepPlan(job.side_info)
    mixture, _ = read_audio(job.mixture)
    model_audio = model_rate_audio(mixture, job.sample_rate, separator)
    return plan_steps(
        separator,
        job.side_info,
        model_audio,
        chunk_seconds=chunk_seconds,
        search=search,
        workers=workers,
        bf16=bf16,
    )


SYSTEM_NAMES = {"none": "BL1", "random": "BL2"}
"""The name a ``wiass separate`` run gives its model in ``results.json`` (else the kind's)."""


def write_run_index(
    out: str | os.PathLike[str],
    model: str | os.PathLike[str],
    separator: Separator,
    results: list[JobResult],
) -> Path:
    """Write ``out/results.json``, the index of a ``wiass separate`` run (:mod:`wiass.runs`):
    one system (the model), one track per separated mixture, no scores; returns its path."""
    kind = separator.side_info_kind
    system = System(SYSTEM_NAMES.get(kind, kind), kind, separator.kind.description, str(model))
    tracks = [
        Track(
            name=result.job.mixture.stem,
            seconds=result.job.seconds,
            mixture=stored_path(result.job.mixture, out),
            vocals=None,
            outputs={system.name: stored_path(result.job.out, out)},
        )
        for result in results
    ]
    return write_results(out, title="wiass separate", systems=[system], tracks=tracks)


def _write_audio(
    job: SeparationJob,
    runner: ChunkRunner,
    progress: bool,
    workers: int,
    gate: PauseGate | None = None,
) -> list[Path]:
    """Stream the job's mixture through ``runner`` into ``vocals.wav`` and
    ``accompaniment.wav`` (each written to a temporary name and renamed), the vocals of the
    pauses of ``gate`` silenced; returns their paths."""
    vocals_path, accompaniment_path = (job.out / name for name in AUDIO_OUTPUTS)
    with (
        atomic_path(vocals_path) as vocals_tmp,
        atomic_path(accompaniment_path) as accompaniment_tmp,
        _wav_writer(vocals_tmp, job) as vocals_file,
        _wav_writer(accompaniment_tmp, job) as accompaniment_file,
        progress_bar(len(runner.chunks), job.mixture.name, progress) as bar,
    ):
        blocks = file_blocks(job.mixture)
        name = str(job.mixture)
        position = 0
        for vocals, accompaniment in stream_separation(
            blocks, job.n_samples, job.sample_rate, job.channels, runner, bar, name, workers
        ):
            if gate is not None:
                vocals, accompaniment = gate.apply(vocals, accompaniment, position, job.sample_rate)
            position += vocals.shape[1]
            _write_block(vocals_file, vocals_path, vocals_tmp, vocals)
            _write_block(accompaniment_file, accompaniment_path, accompaniment_tmp, accompaniment)
    return [vocals_path, accompaniment_path]


def summary_lines(result: JobResult, separator: Separator) -> list[str]:
    """What ``wiass separate`` prints about one separated mixture."""
    job = result.job
    kind = separator.kind
    lines = [
        f"{job.mixture}: {job.seconds:.1f} s, {job.sample_rate} Hz, {job.channels} channel(s); "
        f"model kind {kind.name} at {separator.sample_rate} Hz, {result.chunks} chunk(s)",
        "  wrote " + ", ".join(str(path) for path in result.written[:2]),
    ]
    if result.alignment_shape is not None:
        frames, steps = result.alignment_shape
        lines.append(
            "  wrote "
            + ", ".join(str(path) for path in result.written[2:])
            + f" (attention: {frames} frames x {steps} steps, "
            f"{1000 * (result.frame_seconds or 0):.1f} ms per frame)"
        )
    elif kind.features == "nothing":
        lines.append("  no alignment: the model is BL1 (no side information, no attention)")
    else:
        lines.append(
            "  no alignment: the model is BL2 (its attention is over random side information "
            "drawn per chunk)"
        )
    lines.extend(f"  removed stale {path}" for path in result.removed)
    rtf = result.seconds / job.seconds
    lines.append(f"  done in {result.seconds:.1f} s (real-time factor {rtf:.3f})")
    return lines


def _write_block(file: sf.SoundFile, target: Path, tmp: Path, block: np.ndarray) -> None:
    """Append ``block (C, n)`` to ``file`` (the temporary file ``tmp`` of ``target``);
    OutputError naming ``target`` and the reason (e.g. a full disk) when that fails."""
    try:
        file.write(block.T)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        raise write_error(target, exc, probe=tmp) from exc


def _wav_writer(path: Path, job: SeparationJob) -> sf.SoundFile:
    try:
        return sf.SoundFile(
            str(path), "w", job.sample_rate, job.channels, subtype=OUTPUT_SUBTYPE, format="WAV"
        )
    except (sf.SoundFileError, RuntimeError) as exc:
        raise OutputError(f"{path}: cannot write audio ({exc})") from exc


__all__ = [
    "MAX_WORKERS",
    "JobResult",
    "SeparationJob",
    "available_cores",
    "check_output_folder",
    "locked_outputs",
    "output_bytes",
    "plan_threads",
    "prepare_jobs",
    "run_job",
    "scan_mixture",
    "summary_lines",
    "write_run_index",
]
