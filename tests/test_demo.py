"""The main job: ``wiass demo`` writes audio, scores and a report that ``wiass report`` reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import TINY_MODEL

from wiass import report_text, runs
from wiass.config import Config, load_config
from wiass.data.synthetic import generate_song
from wiass.data.tracks import track_lyrics
from wiass.demo import (
    SYSTEMS,
    lyrics_input,
    run_demo,
    shipped_model,
    song_lyrics,
    summary_text,
    true_step_frames,
)
from wiass.errors import ConfigError, OutputError
from wiass.lyrics import PAUSE, SYMBOL_INDEX, Lyrics, parse_lyrics
from wiass.separator import build_model, save_separator
from wiass.sideinfo.phonemes import phoneme_steps, symbol_side_info


def tiny_models(folder: Path, sample_rate: int = 8000) -> dict[str, Path]:
    """Untrained tiny separators for the demo's systems (fast; the numbers mean nothing)."""
    models = {}
    for system in SYSTEMS:
        config = Config.from_dict(
            {
                "audio": {"sample_rate": sample_rate, "n_fft": 256, "hop": 64},
                "side_info": {"kind": system.kind, "bands": 6},
                "model": TINY_MODEL,
            }
        )
        models[system.name] = folder / f"{system.name}.pt"
        save_separator(models[system.name], build_model(config), config)
    return models


@pytest.mark.slow
def test_demo_run_folder_is_complete_and_consistent(tmp_path):
    models = tiny_models(tmp_path / "models")
    out = tmp_path / "demo"
    report = run_demo(out, songs=2, seconds=6.0, progress=False, models=models)
    assert report == out / "report.html" and report.is_file()
    results = json.loads((out / "results.json").read_text())
    names = ["BL1", "A3.1", "M2", "phonemes"]
    assert [s["name"] for s in results["systems"]] == names
    assert [t["name"] for t in results["tracks"]] == ["synthetic-000", "synthetic-001"]
    for track in results["tracks"]:
        folder = out / "tracks" / track["name"]
        mixture, rate = sf.read(folder / "mixture.wav", always_2d=True)
        assert rate == 8000 and mixture.shape == (48000, 2)
        for system in names:
            vocals, _ = sf.read(folder / system / "vocals.wav", always_2d=True)
            accompaniment, _ = sf.read(folder / system / "accompaniment.wav", always_2d=True)
            np.testing.assert_allclose(vocals + accompaniment, mixture, atol=1e-5)
            scores = results["scores"][system][track["name"]]
            assert {"SDR", "SIR", "SAR", "PES", "EPS"} <= set(scores)
        assert not (folder / "BL1" / "alignment.npy").exists()
        attention = np.load(folder / "A3.1" / "alignment.npy")
        side_info = np.load(folder / "A3.1" / "side_info.npy")
        truth = np.load(folder / "A3.1" / "true_alignment.npy")
        assert attention.shape[1] == side_info.shape[0] == truth.shape[0]
        row_sums = attention.astype(np.float32).sum(axis=1)
        assert np.all(row_sums <= 1.0 + 2e-2), "attention of a frame sums to more than 1"
        assert np.median(row_sums) > 0.5, "most attention fell outside the song's steps"
        assert np.load(folder / "M2" / "side_info.npy").shape[1] == 6
        _check_lyrics_outputs(folder)
    assert set(results["summary"]) == set(names)
    html = report.read_text()
    assert html.count("<audio") == 2 * (2 + 4)
    assert html.count('class="lyrics"') == 2  # both 6 s songs sing words
    text = summary_text(out)
    onsets = report_text.word_onsets(runs.load_run(out))["phonemes"]
    errors = [_song_errors(out / "tracks" / t["name"]) for t in results["tracks"]]
    assert onsets.words == sum(e.size for e in errors)
    assert onsets.mean_s == pytest.approx(np.mean([e.mean() for e in errors]))
    assert f"mean onset error of {onsets.mean_s:.2f} s" in " ".join(text.split())


def _check_lyrics_outputs(folder: Path) -> None:
    """The lyrics system of a demo song: the true timing beside the true vocals, the found
    timing files in its output folder, for the same words, and its steps those of the text."""
    truth = track_lyrics(folder)
    assert truth is not None and truth.words, "a 6 s demo song sings words"
    out = folder / "phonemes"
    for name in ("lyrics.json", "lyrics_words.txt", "lyrics_phonemes.txt", "lyrics.lrc"):
        assert (out / name).is_file(), name
    alignment = runs.load_alignment(out)
    assert alignment.lyrics is not None
    assert [w.text for w in alignment.lyrics.words] == [w.text for w in truth.words]
    text = parse_lyrics("\n".join(truth.lines), "truth")
    np.testing.assert_array_equal(alignment.side_info[:, 0], text.symbol_indices())
    assert alignment.true_alignment is not None  # the text's steps are the song's true ones


def _song_errors(folder: Path) -> np.ndarray:
    found, truth = track_lyrics(folder / "phonemes"), track_lyrics(folder)
    return np.abs([f.start - t.start for f, t in zip(found.words, truth.words, strict=True)])


def test_train_trains_every_system_the_lyrics_one_too(tmp_path, monkeypatch):
    """``train=True`` trains the small preset for every system, phonemes included (the training
    itself is replaced by tiny checkpoints here)."""
    from wiass import demo

    models = tiny_models(tmp_path / "m")
    trained = []

    def small(out: Path, system, precision=None) -> Path:
        trained.append((system.name, system.kind))
        return models[system.name]

    monkeypatch.setattr(demo, "_train_small", small)
    separators = demo._separators(tmp_path / "out", True, None)
    assert trained == [(s.name, s.kind) for s in SYSTEMS] and ("phonemes", "phonemes") in trained
    assert separators["phonemes"].side_info_kind == "phonemes"


def test_existing_run_needs_force(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(OutputError, match="--force"):
        run_demo(tmp_path, songs=1, seconds=6.0, models=tiny_models(tmp_path / "m"))


def test_models_of_different_rates_are_refused(tmp_path):
    models = tiny_models(tmp_path / "a")
    models["M2"] = tiny_models(tmp_path / "b", sample_rate=16000)["M2"]
    with pytest.raises(ConfigError, match="different sample rates"):
        run_demo(tmp_path / "out", songs=1, seconds=6.0, models=models)


def test_shipped_models_exist_and_load():
    for system in SYSTEMS:
        if system.name == "phonemes":
            continue  # test_the_phonemes_model_is_shipped
        path = shipped_model(system.name)
        assert path.is_file(), f"missing shipped model {path}"
        assert path.stat().st_size < 8 * 2**20
    config = load_config("small")
    from wiass.separator import load_separator

    separator = load_separator(shipped_model("A3.1"))
    assert separator.side_info_kind == "A3.1"
    assert separator.config.model == config.model


def test_the_phonemes_model_is_shipped():
    path = shipped_model("phonemes")
    assert path.is_file() and path.stat().st_size < 8 * 2**20
    from wiass.separator import load_separator

    assert load_separator(path).side_info_kind == "phonemes"


def test_the_lyrics_system_gets_the_text_of_the_song_not_its_timing():
    song = generate_song(90_000, 6.0, 8000)
    truth = song_lyrics(song)
    assert truth is not None and [w.text for w in truth.words] == [w["text"] for w in song.words]
    given = lyrics_input(song)
    assert isinstance(given, Lyrics)
    assert given == parse_lyrics("\n".join(song.lines), given.source)
    assert [w.text for w in given.words] == [w.text for w in truth.words]
    steps = phoneme_steps(truth, 6.0)
    frames = true_step_frames(symbol_side_info(given.symbol_indices()), song, 0.008)
    assert frames is not None
    np.testing.assert_array_equal(frames, np.rint((steps.start + steps.end) / 2 / 0.008))
    other = symbol_side_info(given.symbol_indices()[::-1].copy())
    assert true_step_frames(other, song, 0.008) is None


def test_a_song_without_words_gets_a_lyrics_of_one_pause():
    song = generate_song(90_001, 3.0, 8000)  # this 3 s song sings no word
    assert song_lyrics(song) is None
    np.testing.assert_array_equal(lyrics_input(song), [SYMBOL_INDEX[PAUSE]])
    assert true_step_frames(symbol_side_info(lyrics_input(song)), song, 0.008) is None


def test_demo_cli_refuses_to_overwrite(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "wiass", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("wiass: error:") and "--force" in result.stderr


def test_demo_cli_prints_the_table_the_reading_then_the_report(tmp_path, monkeypatch, demo_folder):
    """The run itself is replaced by a copy of a real demo run (tiny models, three songs);
    the printing is what is tested."""
    from click.testing import CliRunner
    from run_folders import copy_run

    from wiass import demo
    from wiass.cli import main

    def copied_run_demo(out: Path, **kwargs) -> Path:
        return copy_run(demo_folder, out) / "report.html"

    monkeypatch.setattr(demo, "run_demo", copied_run_demo)
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("Scores over 3 songs, vocals, dB:")
    assert [line.split()[0] for line in lines[start + 2 : start + 5]] == ["BL1", "A3.1", "M2"]
    reading = report_text.reading(runs.load_run(out)).replace("−", "-")
    assert reading in " ".join(result.output.split())
    (onsets,) = report_text.onset_sentences(runs.load_run(out))
    assert onsets.startswith("From the lyrics as text alone, phonemes found the words with")
    assert onsets in " ".join(result.output.split())
    assert lines[-1] == f"report written to {out / 'report.html'}"
