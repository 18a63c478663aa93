"""The main job: ``wiass demo`` on the embedded synthetic default.

It generates a few synthetic test songs, separates each with BL1 (no side information), with
A3.1 (vocal activity) and M2 (coarse magnitude) side information generated from the true vocals,
and with the song's lyrics as a text (``phonemes``: its lines, as a user gives them, without any
timing), scores every estimate with :mod:`wiass.metrics` and the word timing the lyrics system
found against the true one (:func:`wiass.lyrics.word_onset_errors`), and writes an HTML
listening report. The models are the small ones shipped in ``wiass/pretrained`` or, with
``train=True``, small presets trained first on synthetic songs (the same recipe as the shipped
ones).

The run folder is a :mod:`wiass.runs` run folder (the one format, which :mod:`wiass.report`
reads): ``tracks/<track>/`` holds the mixture, the true vocals and, for a song with words, their
true timing (``lyrics.json``, the format of :func:`wiass.lyrics.timing_from_json`);
``tracks/<track>/<system>/`` the estimates and, for informed systems, the alignment files, as
``wiass separate`` writes them (for the lyrics system with its lyrics timing files). A song
without words (short songs may have none) goes to the lyrics system as a lyrics of one pause:
nothing sung.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from wiass import runs
from wiass.audio import write_audio
from wiass.data.synthetic import generate_song
from wiass.data.tracks import Track
from wiass.errors import ConfigError, OutputError
from wiass.files import check_writable_folder
from wiass.inference import separate
from wiass.inference.outputs import separation_alignment, write_alignment
from wiass.lyrics import (
    PAUSE,
    SYMBOL_INDEX,
    Lyrics,
    LyricsTiming,
    parse_lyrics,
    timing_from_json,
    write_timing_json,
)
from wiass.metrics import aggregate
from wiass.scoring import score_vocals
from wiass.separator import Separator, load_separator, shipped_model_path
from wiass.sideinfo import SideInfo, whole_track_side_info
from wiass.sideinfo.phonemes import phoneme_steps


@dataclass(frozen=True)
class DemoSystem:
    """A system of the demo: its name, side-information kind and what it means."""

    name: str
    kind: str
    description: str


SYSTEMS: tuple[DemoSystem, ...] = (
    DemoSystem("BL1", "none", "baseline: no side information, no attention"),
    DemoSystem("A3.1", "A3.1", "binary vocal activity, coarser time scale, unknown offset"),
    DemoSystem("M2", "M2", "coarse vocal magnitude in bands, coarser time scale, unknown offset"),
    DemoSystem("phonemes", "phonemes", "the lyrics as text (phonemes), no timing"),
)
TEST_SEED = 90_000
"""Seeds of the demo songs start here, far from the seeds of the training songs."""


def shipped_model(system: str) -> Path:
    """Path of the small model shipped for ``system`` (``BL1``, ``A3.1``, ``M2``, ``phonemes``)."""
    return shipped_model_path(system)


def run_demo(
    out: Path,
    *,
    train: bool = False,
    songs: int = 3,
    seconds: float = 20.0,
    force: bool = False,
    progress: bool = True,
    models: dict[str, Path] | None = None,
    precision: str | None = None,
) -> Path:
    """Run the demo into ``out``; returns the path of the HTML report.

    ``models`` maps system names to checkpoints to use instead of the shipped ones;
    ``precision`` overrides the training precision of the small presets (``train=True``).
    """
    from wiass.report import build_report

    if train and precision is not None:
        from wiass.training import resolve_precision

        resolve_precision(precision)
    _check_out(out, force)
    separators = _separators(out, train, models, precision)
    sample_rate = next(iter(separators.values())).sample_rate
    tracks: list[runs.Track] = []
    scores: dict[str, dict[str, Any]] = {s.name: {} for s in SYSTEMS}
    summaries: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SYSTEMS}
    seeds = range(TEST_SEED, TEST_SEED + songs)
    for index, seed in enumerate(tqdm(seeds, desc="demo songs", unit="song", disable=not progress)):
        track = f"synthetic-{index:03d}"
        song = generate_song(seed, seconds, sample_rate)
        folder = out / "tracks" / track
        write_audio(folder / "mixture.wav", song.mixture, sample_rate, subtype="FLOAT")
        write_audio(folder / "vocals.wav", song.stems["vocals"], sample_rate, subtype="FLOAT")
        truth = song_lyrics(song)
        if truth is not None:
            write_timing_json(folder / "lyrics.json", truth)
        else:
            (folder / "lyrics.json").unlink(missing_ok=True)
        tracks.append(_run_track(out, track, seconds))
        for system in SYSTEMS:
            row = _run_system(system, separators[system.name], song, seed, folder / system.name)
            scores[system.name][track] = row
            summaries[system.name].append({"vocals": row})
    summary = {name: aggregate(rows)["vocals"] for name, rows in summaries.items()}
    runs.write_results(
        out,
        title="wiass demo",
        systems=[runs.System(s.name, s.kind, s.description) for s in SYSTEMS],
        tracks=tracks,
        scores=scores,
        summary=summary,
    )
    return build_report(out)


def summary_text(out: Path) -> str:
    """What ``wiass demo`` prints when done: the scores table of the run in ``out``, the
    one-sentence reading of it and how well the lyrics system timed the words, as plain ASCII
    text."""
    from wiass.report_text import onset_sentences, reading, text_table

    run = runs.load_run(out)
    paragraphs = [
        text_table(run),
        *(textwrap.fill(p, 100) for p in [reading(run), *onset_sentences(run)]),
    ]
    return "\n\n".join(paragraphs).replace("−", "-").replace("\u2013", "-")


def _check_out(out: Path, force: bool) -> None:
    check_writable_folder(out)
    if (out / "results.json").exists() and not force:
        raise OutputError(f"{out}: holds an earlier demo run; pass --force to replace it")


def _separators(
    out: Path, train: bool, models: dict[str, Path] | None, precision: str | None = None
) -> dict[str, Separator]:
    if train:
        return {
            system.name: load_separator(_train_small(out, system, precision)) for system in SYSTEMS
        }
    models = models or {system.name: shipped_model(system.name) for system in SYSTEMS}
    separators = {system.name: load_separator(models[system.name]) for system in SYSTEMS}
    rates = {separator.sample_rate for separator in separators.values()}
    if len(rates) > 1:
        raise ConfigError(f"demo models work at different sample rates: {sorted(rates)}")
    return separators


def _train_small(out: Path, system: DemoSystem, precision: str | None = None) -> Path:
    """Train the small preset for ``system`` on synthetic songs shared by the three runs."""
    from wiass.training import TrainOptions, prepare_config, synthetic_default, train

    run = out / "models" / system.name
    config = prepare_config("small", run, False, side_info=system.kind, precision=precision)
    data = synthetic_default(out / "models" / "data", config.audio.sample_rate, n_test=0)
    return train(config, TrainOptions(out=run, data=data))


def _run_track(out: Path, track: str, seconds: float) -> runs.Track:
    """The index entry of a demo track: its mixture and true vocals, one output per system."""
    folder = out / "tracks" / track
    return runs.Track(
        name=track,
        seconds=seconds,
        mixture=runs.stored_path(folder / "mixture.wav", out),
        vocals=runs.stored_path(folder / "vocals.wav", out),
        outputs={s.name: runs.stored_path(folder / s.name, out) for s in SYSTEMS},
    )


def song_lyrics(song: Any) -> LyricsTiming | None:
    """The true timed lyrics of a synthetic song, None when it sings no word."""
    if not song.words:
        return None
    return timing_from_json({"lines": song.lines, "words": song.words}, f"song {song.seed}")


def lyrics_input(song: Any) -> Lyrics | np.ndarray:
    """What the lyrics system gets for ``song``: its lyrics as a user gives them, the text of
    its lines through :func:`wiass.lyrics.parse_lyrics` (no timing); for a song without words,
    the symbol sequence of one pause (nothing sung)."""
    truth = song_lyrics(song)
    if truth is None:
        return np.array([SYMBOL_INDEX[PAUSE]], dtype=np.int64)
    return parse_lyrics("\n".join(truth.lines), f"song {song.seed} lyrics")


def true_step_frames(side: SideInfo, song: Any, hop_seconds: float) -> np.ndarray | None:
    """The model frame each lyrics step truly describes (the middle of its true span), for the
    alignment figure; None when the steps are not those of the song's true lyrics."""
    truth = song_lyrics(song)
    if truth is None:
        return None
    steps = phoneme_steps(truth, song.mixture.shape[1] / song.sample_rate)
    if not np.array_equal(steps.symbols, np.rint(side.values[:, 0]).astype(np.int64)):
        return None
    return np.rint((steps.start + steps.end) / 2 / hop_seconds).astype(np.int64)


def _inputs(separator: Separator, song: Any, seed: int) -> tuple[Any, SideInfo | None]:
    """What the separation of ``song`` gets (the user's input) and, for generated kinds, the
    side information with its true alignment (for the figure); lyrics: the text only."""
    if separator.kind.features == "symbols":
        return lyrics_input(song), None
    vocals = song.stems["vocals"]
    side_info = whole_track_side_info(separator.side_info_kind, separator.config, vocals, seed)
    user_side_info = None if side_info is None else SideInfo(side_info.values, None, side_info.kind)
    return user_side_info, side_info


def _figure_side_info(
    separator: Separator, song: Any, result: Any, generated: SideInfo | None
) -> SideInfo | None:
    """The side information the alignment files show: the generated one with its true
    alignment, or for lyrics the separation's steps with their true frames where known."""
    if generated is not None or result.side_info is None:
        return generated
    audio = separator.config.audio
    truth = true_step_frames(result.side_info, song, audio.hop / audio.sample_rate)
    return dataclasses.replace(result.side_info, alignment=truth)


def _run_system(
    system: DemoSystem, separator: Separator, song: Any, seed: int, folder: Path
) -> dict[str, Any]:
    """Separate ``song`` with one system, save its outputs, return its vocals scores (at the
    song's rate and channels, :func:`wiass.scoring.score_vocals`: the BSSEval medians, PES,
    EPS, and whether BSSEval was ill-conditioned on the song)."""
    user_input, generated = _inputs(separator, song, seed)
    result = separate(song.mixture, song.sample_rate, separator, side_info=user_input)
    write_audio(folder / "vocals.wav", result["vocals"], song.sample_rate, subtype="FLOAT")
    write_audio(
        folder / "accompaniment.wav", result["accompaniment"], song.sample_rate, subtype="FLOAT"
    )
    side_info = _figure_side_info(separator, song, result, generated)
    if side_info is not None and result.attention is not None and result.step_times is not None:
        alignment = separation_alignment(
            separator,
            side_info,
            result.attention,
            pool=result.frame_pool,
            seconds=song.mixture.shape[1] / song.sample_rate,
            step_times=result.step_times,
            lyrics=result.lyrics,
        )
        write_alignment(folder, alignment, f"{system.name}: learned alignment")
    track = Track(folder.parent.name, song.sample_rate, song.mixture, song.stems)
    return score_vocals(track, result["vocals"], result["accompaniment"])[0]
