"""The ``wiass`` command. Thin: it parses options and calls the library modules.

Errors, warnings and signals are handled once for every command (:mod:`wiass.cli_support`):
a bad input is one line on stderr and exit status 2. Each command imports its module inside
the function so that ``wiass --help`` stays fast.
"""

from __future__ import annotations

import os

import click

from wiass import __version__
from wiass.cli_support import WiassGroup


@click.group(cls=WiassGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wiass")
def main() -> None:
    """Weakly informed audio source separation."""


def _examples(*lines: str) -> str:
    """The epilog of a command's --help: example command lines, printed as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _sleeping_openmp_threads() -> None:
    """Make idle OpenMP threads sleep instead of spinning (unless the user chose a policy).

    For the commands that run several model batches at once in threads: spinning threads of
    one batch would stall the others' barriers. Training keeps OpenMP's default, under which
    a training step is 2.7-4.5x faster on a machine of its own (benchmarks/bench_openmp.md).
    Must run before torch is imported.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@main.command(
    "evaluate",
    epilog=_examples("wiass evaluate --references musdb18hq/test --estimates separated --jobs 2"),
)
@click.option(
    "--references",
    required=True,
    type=click.Path(),
    help="Folder with one sub-folder per track holding <target>.wav (MUSDB18-HQ layout, "
    "e.g. musdb18hq/test).",
)
@click.option(
    "--estimates",
    required=True,
    type=click.Path(),
    help="Folder with the same track sub-folders holding the estimated <target>.wav.",
)
@click.option(
    "--targets",
    default="vocals,accompaniment",
    show_default=True,
    help="Comma-separated targets, evaluated jointly. A missing reference accompaniment.wav "
    "is derived as mixture.wav - vocals.wav.",
)
@click.option(
    "--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Tracks in parallel."
)
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    help="Output folder: tracks/<track>.json (framewise scores and per-track summary), "
    "museval/test/<track>.json (museval's format), summary.json and scores.csv. "
    "Default: ESTIMATES/scores (skipped as a track).",
)
@click.option(
    "--win",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Frame length in seconds.",
)
@click.option(
    "--hop",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Hop between frames in seconds.",
)
def evaluate_command(
    references: str,
    estimates: str,
    targets: str,
    jobs: int,
    out: str | None,
    win: float,
    hop: float,
) -> None:
    """Score separated estimates: BSSEval v4 SDR/SIR/SAR/ISR, PES and EPS.

    Every track's files are checked (present, readable, same sample rate, channels and length)
    before anything is computed or written. Prints per target the median and mean over tracks
    of the per-track values (SDR/SIR/SAR/ISR: median over frames; PES/EPS: mean over silent
    frames, dB, lower is better).
    """
    from pathlib import Path

    from wiass import evaluate as ev

    out = out if out is not None else str(Path(estimates) / "scores")
    ev.check_output_folder(out)
    evaluation = ev.evaluate_folders(
        references,
        estimates,
        ev.parse_targets(targets),
        jobs=jobs,
        win_seconds=win,
        hop_seconds=hop,
        exclude=(out,),
        out=out,
    )
    ev.write_results(out, evaluation)
    click.echo(ev.format_table(evaluation))
    click.echo(f"\nscores of {len(evaluation.tracks)} track(s) written to {out}")


PRECISION_CHOICES = ("auto", "32-true", "bf16-mixed", "16-mixed")
"""``--precision`` values: :data:`wiass.training.PRECISIONS` (not imported: torch is slow)."""


SEPARATION_PRECISION_CHOICES = ("auto", "32-true", "bf16-mixed")
"""``wiass separate --precision`` values: :data:`wiass.precision.SEPARATION_PRECISIONS`."""


def _precision_option(function: click.decorators.FC) -> click.decorators.FC:
    """``--precision``, which overrides ``train.precision``."""
    return click.option(
        "--precision",
        type=click.Choice(PRECISION_CHOICES),
        help="Overrides train.precision. auto (the presets' choice): bf16-mixed where the "
        "device runs a bfloat16 LSTM (probed once), else 32-true.",
    )(function)


@main.command(
    epilog=_examples(
        "wiass train --config small --side-info A3.1 --out runs/a31",
        "wiass train --out runs/a31 --resume",
    )
)
@click.option(
    "--config",
    "config_path",
    help="Preset name (small, paper) or YAML file (it may start from a preset: base: small).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True),
    help="Stems folder (MUSDB18-HQ layout) or MUSDB18 root. Default: synthetic songs in OUT/data.",
)
@click.option("--side-info", help="Side-information kind (none, random, A1, ..., M2, phonemes).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder.")
@click.option("--devices", default="1", show_default=True, help="Devices per node (or 'auto').")
@click.option("--num-nodes", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--accelerator",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "cpu", "gpu", "cuda", "mps"]),
)
@click.option("--max-epochs", type=click.IntRange(min=1), help="Overrides train.max_epochs.")
@click.option("--seed", type=int, help="Overrides train.seed.")
@_precision_option
@click.option("--resume", is_flag=True, help="Continue the run in OUT from its last checkpoint.")
def train(
    config_path: str | None,
    data: str | None,
    side_info: str | None,
    out: str,
    devices: str,
    num_nodes: int,
    accelerator: str,
    max_epochs: int | None,
    seed: int | None,
    precision: str | None,
    resume: bool,
) -> None:
    """Train a separator; writes checkpoints, logs and OUT/separator.pt."""
    from pathlib import Path

    from wiass import training

    run = Path(out)
    config = training.prepare_config(
        config_path,
        run,
        resume,
        side_info=side_info,
        max_epochs=max_epochs,
        seed=seed,
        precision=precision,
        accelerator=accelerator,
    )
    options = training.TrainOptions(
        out=run,
        data=Path(data) if data else None,
        devices=_parse_devices(devices),
        num_nodes=num_nodes,
        accelerator=accelerator,
        resume=resume,
    )
    separator = training.train(config, options)
    click.echo(f"separator written to {separator}")


def _parse_devices(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        count = int(text)
    except ValueError:
        raise click.BadParameter(
            f"expected a number or 'auto', got {text!r}", param_hint="--devices"
        ) from None
    if count < 1:
        raise click.BadParameter("must be at least 1", param_hint="--devices")
    return count


@main.command(
    "report",
    epilog=_examples("wiass report wiass-demo", "wiass report runs/demo --out pages/demo.html"),
)
@click.argument("run_dir", type=click.Path())
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="HTML file to write. Default: RUN_DIR/report.html. Figures go to NAME_assets/ beside "
    "it (report_assets/ for report.html), so pages of several runs can share a folder.",
)
def report_command(run_dir: str, out: str | None) -> None:
    """Build the HTML listening report of a run folder (wiass demo or wiass separate --out).

    Reads RUN_DIR/results.json and the audio, alignments and side information it names, draws
    spectrograms, learned alignments and (with true vocals) silent-part energies, and writes
    one self-contained page with relative links (open it in a browser, or serve the folder).
    """
    from pathlib import Path

    from wiass import report

    page = report.build_report(Path(run_dir), Path(out) if out is not None else None)
    click.echo(f"report written to {page}")


@main.command(
    "separate",
    epilog=_examples(
        "wiass separate song.wav --model runs/a31/separator.pt --activity 0011100110 --out sep",
        "wiass separate a.wav b.flac --model runs/bl1/separator.pt --out separated --threads 4",
        "wiass separate song.wav --model phonemes --lyrics lyrics.txt --out sep",
    ),
)
@click.argument("mixtures", nargs=-1, required=True, type=click.Path())
@click.option(
    "--model",
    "model_path",
    required=True,
    help="A shipped model by name (BL1, A3.1, M2, phonemes; see 'wiass models') or a wiass "
    "checkpoint file (separator.pt, or a training .ckpt).",
)
@click.option(
    "--activity",
    help="Vocal activity over the whole song as 0s and 1s, any length (e.g. 0011100110).",
)
@click.option(
    "--side-info",
    "side_info_path",
    type=click.Path(),
    help="Side information over the whole song: .npy (steps x values), .txt/.csv (one step "
    "per line), or an Audacity label file.",
)
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(),
    help="Audacity label file of the sung regions (start<TAB>end[<TAB>label], seconds).",
)
@click.option(
    "--lyrics",
    "lyrics_path",
    type=click.Path(),
    help="The lyrics as plain text, one line per line (for a phonemes model); their word and "
    "phoneme timings are written as lyrics.json, Audacity labels and LRC.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(),
    help="Output folder; with several mixtures one sub-folder per mixture (OUT/<stem>/).",
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing outputs.")
@click.option(
    "--wiener", is_flag=True, help="Multichannel Wiener filtering (norbert) after masking."
)
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="CPU threads (0: the cores available); chunks are separated in parallel batches.",
)
@click.option(
    "--uniform-steps",
    is_flag=True,
    help="Spread the side information's steps evenly over the file instead of aligning them "
    "over the whole song (for side information known to be exactly aligned).",
)
@click.option(
    "--keep-pauses",
    is_flag=True,
    help="With --lyrics: keep the estimated vocals where the aligned lyrics pause (by default "
    "they are silenced there and go to the accompaniment).",
)
@click.option(
    "--precision",
    type=click.Choice(SEPARATION_PRECISION_CHOICES),
    default="auto",
    show_default=True,
    help="The network's precision. auto: bfloat16 where the device runs a bf16 LSTM (probed "
    "once; about twice faster on CPUs with AVX512-BF16), else float32; 32-true: float32 "
    "everywhere; bf16-mixed: bfloat16 or refuse.",
)
def separate_command(
    mixtures: tuple[str, ...],
    model_path: str,
    activity: str | None,
    side_info_path: str | None,
    labels_path: str | None,
    lyrics_path: str | None,
    out: str,
    device: str,
    force: bool,
    wiener: bool,
    threads: int,
    uniform_steps: bool,
    keep_pauses: bool,
    precision: str,
) -> None:
    """Separate vocals and accompaniment from mixture files of any rate and channel count.

    Writes vocals.wav and accompaniment.wav (float WAV at the mixture's rate and channels,
    summing to the mixture) and, for informed models, the alignment: alignment.json (each
    side-information step's start and end in seconds, and a confidence), alignment_labels.txt
    (activity: the aligned sung regions), alignment.png / .npy and side_info.npy; then
    OUT/results.json for 'wiass report OUT'. Side information describes the whole song at any
    rate (held or thinned into the rates the model was trained on, with a warning); --activity
    and --side-info are aligned to the song by a monotonic path over a blind first separation,
    label files are placed by their times. Everything is checked before anything is written
    (inputs, output names, free space); a second run into the same OUT at once is refused.
    """
    _sleeping_openmp_threads()
    import torch

    from wiass.inference.jobs import (
        locked_outputs,
        plan_threads,
        prepare_jobs,
        run_job,
        summary_lines,
        write_run_index,
    )
    from wiass.precision import inference_bf16

    workers, torch_threads = plan_threads(threads, device)
    torch.set_num_threads(torch_threads)
    separator, jobs = prepare_jobs(
        list(mixtures),
        model_path,
        out,
        activity=activity,
        side_info_path=side_info_path,
        labels_path=labels_path,
        lyrics_path=lyrics_path,
        device=device,
        force=force,
    )
    bf16 = inference_bf16(precision, separator.device)
    with locked_outputs(out, jobs, force):
        results = []
        for job in jobs:
            results.append(
                run_job(
                    job,
                    separator,
                    wiener=wiener,
                    workers=workers,
                    whole_song_alignment=not uniform_steps,
                    silence_pauses=not keep_pauses,
                    bf16=bf16,
                )
            )
            for line in summary_lines(results[-1], separator):
                click.echo(line)
        click.echo(f"wrote {write_run_index(out, model_path, separator, results)}")


@main.command(
    "models",
    epilog=_examples(
        "wiass models",
        "wiass models A3.1",
        "wiass separate song.wav --model A3.1 --activity 0011100110 --out sep",
    ),
)
@click.argument("names", nargs=-1)
def models_command(names: tuple[str, ...]) -> None:
    """List the models shipped with wiass (or those NAMES), usable by name in --model.

    For each: its side-information kind, the rates it was trained on (frames per step, from
    its stored config), its training data and command, and its size.
    """
    from wiass.separator import shipped_model_lines

    for line in shipped_model_lines(list(names) or None):
        click.echo(line)


@main.command(
    "make-synthetic",
    epilog=_examples("wiass make-synthetic data/synthetic --train 40 --test 10 --seconds 30"),
)
@click.argument("out", type=click.Path())
@click.option(
    "--train", "n_train", default=40, show_default=True, type=int, help="Training tracks."
)
@click.option("--test", "n_test", default=10, show_default=True, type=int, help="Test tracks.")
@click.option(
    "--seconds", default=30.0, show_default=True, type=float, help="Length of every track."
)
@click.option(
    "--sr", "sample_rate", default=16000, show_default=True, type=int, help="Sample rate (Hz)."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Base seed of the dataset.")
@click.option("--jobs", type=int, help="Worker processes (default: up to 2).")
@click.option("--force", is_flag=True, help="Replace a dataset already in OUT.")
def make_synthetic(
    out: str,
    n_train: int,
    n_test: int,
    seconds: float,
    sample_rate: int,
    seed: int,
    jobs: int | None,
    force: bool,
) -> None:
    """Write a synthetic dataset (MUSDB18-HQ layout) of procedural songs to OUT.

    OUT/train/<track>/ and OUT/test/<track>/ hold mixture.wav and the stems vocals, drums, bass,
    other (stereo 32-bit float WAV, mixture = exact sum of the stems) and notes.json (tempo, key,
    sections, chords, the sung notes with their syllables, and the lyrics: lines, and words with
    the start and end of every word and ARPAbet phoneme). The same seed gives the same dataset.
    """
    from wiass.data.synthetic import write_dataset

    folder = write_dataset(out, n_train, n_test, seconds, sample_rate, seed, jobs=jobs, force=force)
    click.echo(f"{n_train} training and {n_test} test tracks written to {folder}")


@main.command(
    "demo",
    epilog=_examples("wiass demo --out wiass-demo", "wiass demo --train --songs 5 --force"),
)
@click.option(
    "--out",
    default="wiass-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Run folder: audio, scores (results.json) and report.html.",
)
@click.option(
    "--train", is_flag=True, help="Train the small presets first instead of the shipped models."
)
@click.option("--songs", default=3, show_default=True, type=click.IntRange(1, 50))
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(5.0, 600.0))
@click.option("--force", is_flag=True, help="Replace an earlier demo run in OUT.")
@_precision_option
def demo_command(
    out: str, train: bool, songs: int, seconds: float, force: bool, precision: str | None
) -> None:
    """The main job: separate synthetic songs with BL1, A3.1 and M2, score them, write a report."""
    from pathlib import Path

    from wiass.demo import run_demo, summary_text

    if precision is not None and not train:
        raise click.UsageError("--precision applies to --train only")
    report = run_demo(
        Path(out), train=train, songs=songs, seconds=seconds, force=force, precision=precision
    )
    click.echo(summary_text(Path(out)) + "\n")
    click.echo(f"report written to {report}")


@main.command(
    "experiment",
    epilog=_examples(
        "wiass experiment --out experiments/table1",
        "wiass experiment --out experiments/quick --systems BL1,A3.1,M2 --seeds 1",
    ),
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True),
    help="Stems folder or MUSDB18 root with train/ and test/ (default: synthetic in OUT/data).",
)
@click.option(
    "--config",
    "config_path",
    help="Preset or YAML file shared by every system.  [default: experiment-small]",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Experiment folder.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--systems",
    help="Comma-separated subset of BL1,BL2,A1,A2,A3.1,A3.2,M1,M2,phonemes (default: all).",
)
@_precision_option
@click.option(
    "--keep-estimates",
    is_flag=True,
    help="Also write every estimate scored (OUT/estimates/<system>-seed<k>/<track>/"
    "vocals.wav, accompaniment.wav at the track's rate and channels), e.g. for museval.",
)
def experiment_command(
    data: str | None,
    config_path: str | None,
    out: str,
    seeds: int,
    systems: str | None,
    precision: str | None,
    keep_estimates: bool,
) -> None:
    """Table 1: train and evaluate every side-information kind, with oracle rows; resumable."""
    from pathlib import Path

    from wiass import experiment as ex

    options = ex.ExperimentOptions(
        out=Path(out),
        config=ex.load_experiment_config(
            config_path, precision=precision, data=Path(data) if data else None
        ),
        data=Path(data) if data else None,
        seeds=seeds,
        systems=ex.select_systems(systems),
        keep_estimates=keep_estimates,
    )
    paths = ex.run_experiment(options)
    click.echo(Path(paths["table1.md"]).read_text(encoding="utf-8"))
    click.echo(Path(paths["alignment.md"]).read_text(encoding="utf-8"))
    click.echo(f"tables written to {out}")
