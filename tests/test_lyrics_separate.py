"""Separation with lyrics: wiass.separate and wiass separate --lyrics, their outputs and their
bad inputs (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from tiny_separators import MODEL_RATE, noise, save_tiny

import wiass
from wiass.cli import main
from wiass.errors import SideInfoError
from wiass.inference.lyrics_alignment import PauseGate, pause_gate
from wiass.inference.step_times import StepTimes
from wiass.lyrics import parse_lyrics, timing_from_json
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, SYMBOLS, WORD_BOUNDARY
from wiass.runs import LYRICS_FILES, load_alignment

LYRICS = "love me tender\nlove me true\n"


@pytest.fixture(autouse=True)
def passive_openmp(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    torch.set_num_threads(1)
    return save_tiny(tmp_path_factory.mktemp("models"), ("phonemes", "A3.1"))


@pytest.fixture
def song(tmp_path) -> Path:
    path = tmp_path / "song.wav"
    sf.write(path, noise(2, 4.0, 22050).T, 22050, subtype="FLOAT")
    return path


def _lyrics_file(tmp_path: Path, text: str | bytes, name: str = "lyrics.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_separate_returns_word_times_in_order(checkpoints) -> None:
    audio = noise(1, 3.0, MODEL_RATE)
    lyrics = parse_lyrics(LYRICS, "lyrics")
    result = wiass.separate(audio, MODEL_RATE, str(checkpoints["phonemes"]), lyrics)
    timing = result.lyrics
    assert [w.text for w in timing.words] == ["love", "me", "tender", "love", "me", "true"]
    starts = np.array([w.start for w in timing.words])
    ends = np.array([w.end for w in timing.words])
    assert np.all(np.diff(starts) > 0) and np.all(ends > starts)
    assert starts[0] > 0 and ends[-1] < 3.0, "the opening and closing pauses take some time"
    assert result.side_info.n_steps == len(lyrics.symbols())
    assert result.steps.alignment is not None
    covered = result.step_times.end - result.step_times.start
    boundary = np.array(lyrics.symbols()) == WORD_BOUNDARY
    assert np.all(covered[~boundary] > 0), "every sounding symbol gets at least one frame"
    assert np.all(covered[boundary] == 0), "word boundaries take no time"


def test_separate_accepts_a_lyrics_file(checkpoints, tmp_path) -> None:
    path = _lyrics_file(tmp_path, LYRICS)
    audio = noise(2, 2.0, MODEL_RATE)
    result = wiass.separate(audio, MODEL_RATE, str(checkpoints["phonemes"]), str(path))
    assert len(result.lyrics.words) == 6
    assert result.lyrics.lines == ("love me tender", "love me true")


def test_cli_writes_lyrics_timings(checkpoints, song, tmp_path) -> None:
    out = tmp_path / "out"
    lyrics = _lyrics_file(tmp_path, LYRICS)
    args = ["separate", str(song), "--model", str(checkpoints["phonemes"])]
    result = CliRunner().invoke(main, [*args, "--lyrics", str(lyrics), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in LYRICS_FILES:
        assert (out / name).is_file(), name
    timing = timing_from_json(json.loads((out / "lyrics.json").read_text()), "lyrics.json")
    assert [w.text for w in timing.words][:3] == ["love", "me", "tender"]
    labels = (out / "lyrics_words.txt").read_text().splitlines()
    assert len(labels) == 6 and labels[0].split("\t")[2] == "love"
    lrc = (out / "lyrics.lrc").read_text()
    assert "love" in lrc and "<" in lrc and lrc.count("[") >= 2
    assert load_alignment(out).lyrics == timing


def _refused(args: list[str], out: Path, match: str) -> None:
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and match in lines[0], result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "no lyrics"),
        ("\n\n[Chorus]\n", "no lyrics"),
        (b"\x00\x01\x02binary\x00" * 20, "binary"),
        ("xqzt vlorp\nbrrzk\n", "CMU"),
    ],
)
def test_cli_refuses_bad_lyrics(checkpoints, song, tmp_path, content, match) -> None:
    lyrics = _lyrics_file(tmp_path, content)
    args = ["separate", str(song), "--model", str(checkpoints["phonemes"]), "--lyrics", str(lyrics)]
    _refused(args, tmp_path / "out", match)


def test_cli_refuses_lyrics_for_an_activity_model(checkpoints, song, tmp_path) -> None:
    lyrics = _lyrics_file(tmp_path, LYRICS)
    args = ["separate", str(song), "--model", str(checkpoints["A3.1"]), "--lyrics", str(lyrics)]
    _refused(args, tmp_path / "out", "not --lyrics")


def test_cli_refuses_activity_for_a_lyrics_model(checkpoints, song, tmp_path) -> None:
    args = ["separate", str(song), "--model", str(checkpoints["phonemes"]), "--activity", "0110"]
    _refused(args, tmp_path / "out", "takes --lyrics")


def test_cli_refuses_a_missing_lyrics_file(checkpoints, song, tmp_path) -> None:
    missing = tmp_path / "none.txt"
    args = [
        "separate",
        str(song),
        "--model",
        str(checkpoints["phonemes"]),
        "--lyrics",
        str(missing),
    ]
    _refused(args, tmp_path / "out", "none.txt")


def test_more_symbols_than_frames_is_refused(checkpoints) -> None:
    audio = noise(1, 0.05, MODEL_RATE)
    lyrics = parse_lyrics("tender " * 10, "long")
    with pytest.raises(SideInfoError, match="long: .* lyric symbols .* only .* frames"):
        wiass.separate(audio, MODEL_RATE, str(checkpoints["phonemes"]), lyrics)


@pytest.mark.parametrize("bad", [[0, 3, 4], [3, 99], [1.5, 2.0]])
def test_symbol_indices_are_checked(checkpoints, bad) -> None:
    audio = noise(1, 1.0, MODEL_RATE)
    with pytest.raises(SideInfoError, match="not a symbol index"):
        wiass.separate(audio, MODEL_RATE, str(checkpoints["phonemes"]), np.array(bad))


def test_guessed_words_are_named_in_a_warning(checkpoints) -> None:
    audio = noise(1, 2.0, MODEL_RATE)
    lyrics = parse_lyrics("love me glorptastic", "lyrics.txt")
    with pytest.warns(wiass.errors.WiassWarning, match="glorptastic"):
        wiass.separate(audio, MODEL_RATE, str(checkpoints["phonemes"]), lyrics)


def test_pause_gate_silences_inside_pauses_and_keeps_the_sum() -> None:
    gate = PauseGate(np.array([[1.0, 2.0]]))
    rate = 100
    gains = gate.gains(0, 300, rate)
    assert np.all(gains[:100] == 1.0) and np.all(gains[200:] == 1.0)
    assert np.all(gains[102:199] == 0.0) and 0.0 < gains[100] <= 1.0
    vocals = np.ones((2, 300), np.float32)
    accompaniment = np.zeros((2, 300), np.float32)
    silenced, rest = gate.apply(vocals, accompaniment, 0, rate)
    np.testing.assert_allclose(silenced + rest, vocals + accompaniment)
    later, _ = gate.apply(vocals[:, :50], accompaniment[:, :50], 250, rate)
    np.testing.assert_array_equal(later, vocals[:, :50])


def test_pause_gate_keeps_short_pauses() -> None:
    times = StepTimes(np.array([0.0, 0.5, 0.55, 2.0]), np.array([0.5, 0.55, 2.0, 3.0]), np.ones(4))
    symbols = np.array([1, 10, 1, 1])  # pause, phoneme, pause, pause
    gate = pause_gate(times, symbols)
    np.testing.assert_allclose(gate.spans, [[0.0, 0.5], [0.55, 2.0], [2.0, 3.0]])
    short = StepTimes(np.array([0.0, 0.05]), np.array([0.05, 1.0]), np.ones(2))
    assert pause_gate(short, np.array([1, 10])).spans.shape == (0, 2)


def test_separation_silences_the_aligned_pauses_unless_told_not_to(
    checkpoints, monkeypatch
) -> None:
    from wiass.inference import lyrics_alignment

    def opening_pause(separator, model_audio):
        """A recogniser that hears a pause in the first 40 % of the song, then anything."""
        frames = separator.stft.n_frames(model_audio.shape[1])
        probs = np.full((frames, len(SYMBOLS)), 1.0)
        probs[: int(0.4 * frames), SYMBOL_INDEX[PAUSE]] = 1000.0
        return np.log(probs / probs.sum(axis=1, keepdims=True))

    monkeypatch.setattr(lyrics_alignment, "symbol_log_probs", opening_pause)
    audio = noise(1, 3.0, MODEL_RATE)
    lyrics = parse_lyrics(LYRICS, "lyrics")
    model = str(checkpoints["phonemes"])
    gated = wiass.separate(audio, MODEL_RATE, model, lyrics)
    kept = wiass.separate(audio, MODEL_RATE, model, lyrics, silence_pauses=False)
    np.testing.assert_allclose(gated.vocals + gated.accompaniment, audio, atol=1e-6)
    symbols = np.array(lyrics.symbols())
    times = gated.step_times
    long = [k for k in np.flatnonzero(symbols == "_") if times.end[k] - times.start[k] > 0.2]
    assert long and times.start[0] == 0.0 and times.end[0] > 1.0
    for k in long:
        a, b = (int(t * MODEL_RATE) for t in (times.start[k] + 0.02, times.end[k] - 0.02))
        assert np.all(gated.vocals[:, a:b] == 0.0)
        assert np.any(kept.vocals[:, a:b] != 0.0)
