"""Tests of wiass.data.synthetic (procedural songs and datasets) and ``wiass make-synthetic``.

Songs are short (4-10 s at 8-16 kHz); voice checks render single notes with :func:`sing`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy import signal

from wiass.cli import main
from wiass.data import synthetic
from wiass.data.synthetic import (
    SILENT_FRAME_FRACTION,
    STEMS,
    VocalNote,
    Voice,
    generate_song,
    sing,
    write_dataset,
)
from wiass.data.tracks import find_track_folders, open_source
from wiass.errors import ConfigError, OutputError
from wiass.lyrics.symbols import PHONEMES, VOICED

SR = 8000


def frame_is_silent(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per complete 1 s frame of ``(channels, samples)``: all samples exactly zero."""
    frames = audio.shape[-1] // sample_rate
    blocks = audio[:, : frames * sample_rate].reshape(audio.shape[0], frames, sample_rate)
    return np.all(blocks == 0.0, axis=(0, 2))


def note_mask(notes: list[dict], n: int, sample_rate: int) -> np.ndarray:
    """True on the samples of every phrase: first note start to last note end."""
    mask = np.zeros(n, dtype=bool)
    phrases: dict[int, list[dict]] = {}
    for note in notes:
        phrases.setdefault(note["phrase"], []).append(note)
    for phrase in phrases.values():
        mask[round(phrase[0]["start"] * sample_rate) : round(phrase[-1]["end"] * sample_rate)] = (
            True
        )
    return mask


def autocorrelation_f0(x: np.ndarray, sample_rate: int, low: float, high: float) -> np.ndarray:
    """f0 (Hz) per 30 ms frame (5 ms hop): autocorrelation peak between ``low`` and ``high`` Hz,
    refined by parabolic interpolation."""
    size, hop = int(0.03 * sample_rate), int(0.005 * sample_rate)
    frames = np.lib.stride_tricks.sliding_window_view(x, size)[::hop] * np.hanning(size)
    spectrum = np.fft.rfft(frames, 4 * size, axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)
    first, last = int(sample_rate / high), int(np.ceil(sample_rate / low))
    lag = first + np.argmax(acf[:, first : last + 1], axis=1)
    rows = np.arange(len(lag))
    left, mid, right = acf[rows, lag - 1], acf[rows, lag], acf[rows, lag + 1]
    shift = 0.5 * (left - right) / (left - 2 * mid + right)
    return sample_rate / (lag + shift)


def sung_note(vowel: str, voice: Voice, pitch: int = 57, seconds: float = 2.0) -> np.ndarray:
    """One sustained syllable L + vowel (ARPAbet) from 0.1 s, rendered at 16 kHz."""
    note = VocalNote(0.1, 0.1 + seconds, pitch, "L " + vowel, vowel, "L", 0.16, 0)
    return sing([note], voice, int((seconds + 0.3) * 16000), 16000, np.random.default_rng(1))


def band_db(x: np.ndarray, sample_rate: int, low: float, high: float) -> float:
    freqs, power = signal.welch(x, sample_rate, nperseg=min(2048, len(x)))
    return 10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() + 1e-20)


# ---------------------------------------------------------------------------------------------
# songs


def test_same_seed_same_song_and_different_seed_different_song():
    first, again, other = (generate_song(s, 6.0, SR) for s in (7, 7, 8))
    for name in STEMS:
        assert np.array_equal(first.stems[name], again.stems[name])
        assert not np.array_equal(first.stems[name], other.stems[name])
    assert np.array_equal(first.mixture, again.mixture)
    assert first.metadata() == again.metadata()
    assert first.metadata() != other.metadata()


@pytest.mark.parametrize(("seed", "seconds", "sample_rate"), [(0, 5.0, 8000), (3, 7.5, 16000)])
def test_shapes_dtypes_exact_sum_and_no_clipping(seed, seconds, sample_rate):
    song = generate_song(seed, seconds, sample_rate)
    n = round(seconds * sample_rate)
    assert set(song.stems) == set(STEMS)
    for audio in (song.mixture, *song.stems.values()):
        assert audio.shape == (2, n)
        assert audio.dtype == np.float32
        assert np.all(np.isfinite(audio))
        assert np.max(np.abs(audio)) < 1.0
    total = song.stems["vocals"] + song.stems["drums"] + song.stems["bass"] + song.stems["other"]
    assert np.array_equal(song.mixture, total)
    assert song.sample_rate == sample_rate
    assert song.seconds == pytest.approx(seconds)
    for name in ("drums", "bass", "other"):
        assert np.sqrt(np.mean(song.stems[name] ** 2)) > 1e-3


def test_vocals_have_silent_frames_and_sung_frames():
    for seed in range(8):
        song = generate_song(seed, 10.0, SR)
        silent = frame_is_silent(song.stems["vocals"], SR)
        assert silent.mean() >= SILENT_FRAME_FRACTION, seed
        assert not silent.all(), seed
        assert song.notes, seed


def test_vocals_are_exactly_zero_outside_the_sung_phrases():
    song = generate_song(4, 10.0, 16000)
    vocals = song.stems["vocals"]
    inside = note_mask(song.notes, vocals.shape[1], 16000)
    assert np.all(vocals[:, ~inside] == 0.0)
    assert np.count_nonzero(vocals[:, inside]) > 0.9 * vocals[:, inside].size
    assert {n["vowel"] for n in song.notes} <= set(synthetic.VOWELS)
    for note in song.notes:
        assert note["start"] <= note["vowel_start"] < note["end"]
        phonemes = note["consonant"].split() + [note["vowel"]] + note["coda"].split()
        assert note["syllable"].split() == phonemes


def test_metadata_form_and_harmony():
    song = generate_song(2, 30.0, SR)
    meta = json.loads(json.dumps(song.metadata()))
    assert 80 <= meta["tempo"] <= 140
    tonic, mode = meta["key"].split()
    assert tonic in synthetic.PITCH_NAMES and mode in synthetic.SCALES
    sections = meta["sections"]
    assert sections[0]["name"] == "intro" and not sections[0]["vocals"]
    assert sections[0]["start"] == 0.0 and sections[-1]["end"] == pytest.approx(30.0)
    for before, after in zip(sections[:-1], sections[1:], strict=True):
        assert before["end"] == pytest.approx(after["start"])
    assert any(s["vocals"] for s in sections)
    scale = {(synthetic.PITCH_NAMES.index(tonic) + i) % 12 for i in synthetic.SCALES[mode]}
    assert {n["pitch"] % 12 for n in meta["notes"]} <= scale
    assert {p % 12 for c in meta["chords"] for p in c["pitches"]} <= scale


def test_sung_notes_have_the_pitch_of_the_score():
    sample_rate = 16000
    song = generate_song(5, 10.0, sample_rate)
    vocals = song.stems["vocals"].mean(axis=0)
    checked = hits = 0
    for note in song.notes:
        first = round((note["vowel_start"] + 0.1) * sample_rate)
        last = round((note["end"] - 0.05) * sample_rate)
        if last - first < 0.15 * sample_rate:
            continue
        expected = 440.0 * 2 ** ((note["pitch"] - 69) / 12)
        f0 = autocorrelation_f0(vocals[first:last], sample_rate, expected / 1.4, expected * 1.4)
        checked += 1
        hits += abs(12 * np.log2(np.median(f0) / expected)) < 0.7
    assert checked >= 5
    assert hits >= 0.8 * checked


# ---------------------------------------------------------------------------------------------
# the voice


def test_sustained_note_has_vibrato_at_the_voice_rate():
    voice = Voice("alto", vibrato_rate=6.0, vibrato_depth=0.5, vibrato_delay=0.25)
    x = sung_note("AA", voice, pitch=60)
    expected = 440.0 * 2 ** ((60 - 69) / 12)
    f0 = autocorrelation_f0(x[int(1.0 * 16000) : int(1.85 * 16000)], 16000, 150, 500)
    cents = 1200 * np.log2(f0 / expected)
    assert abs(np.median(cents)) < 50
    assert 15 < np.std(cents) < 80
    wobble = cents - cents.mean()
    spectrum = np.abs(np.fft.rfft(wobble * np.hanning(len(wobble)), 4096))
    rates = np.fft.rfftfreq(4096, d=0.005)
    assert 5.0 <= rates[np.argmax(spectrum)] <= 7.0
    onset = autocorrelation_f0(x[int(0.2 * 16000) : int(0.35 * 16000)], 16000, 150, 500)
    assert np.std(1200 * np.log2(onset / expected)) < 0.5 * np.std(cents)


def test_voice_is_harmonic_not_a_sine():
    voice = Voice("tenor", vibrato_depth=0.0)
    x = sung_note("AA", voice, pitch=55)[int(0.5 * 16000) : int(1.9 * 16000)]
    f0 = 440.0 * 2 ** ((55 - 69) / 12)
    freqs, power = signal.welch(x, 16000, nperseg=4096)
    near = np.zeros_like(freqs, dtype=bool)
    levels = []
    for k in range(1, 11):
        band = np.abs(freqs - k * f0) < 25
        near |= band
        levels.append(power[band].sum())
    below = freqs < 10.5 * f0
    assert power[near & below].sum() > 0.95 * power[below].sum()
    levels_db = 10 * np.log10(np.array(levels) / max(levels))
    assert np.sum(levels_db > -40) >= 8


def test_vowels_have_their_formants():
    voice = Voice("tenor", vibrato_depth=0.0)
    a, i = (
        sung_note(v, voice, pitch=55)[int(0.5 * 16000) : int(1.9 * 16000)] for v in ("AA", "IY")
    )
    # tenor /a/: F1 650 Hz, F2 1080 Hz; /i/: F1 290 Hz, F2 1870 Hz
    f2_high = [band_db(x, 16000, 1700, 2200) - band_db(x, 16000, 900, 1250) for x in (a, i)]
    assert f2_high[1] - f2_high[0] > 8
    f1_high = [band_db(x, 16000, 550, 850) - band_db(x, 16000, 150, 400) for x in (a, i)]
    assert f1_high[0] - f1_high[1] > 15


def test_unvoiced_consonant_is_noise_before_the_vowel():
    voice = Voice("alto", vibrato_depth=0.0)
    notes = [
        VocalNote(0.1, 0.6, 60, "L AA", "AA", "L", 0.15, 0),
        VocalNote(0.6, 1.2, 62, "S AA", "AA", "S", 0.7, 0),
    ]
    x = sing(notes, voice, 16000 * 2, 16000, np.random.default_rng(0))
    hiss = x[int(0.63 * 16000) : int(0.68 * 16000)]
    vowel = x[int(0.9 * 16000) : int(1.0 * 16000)]
    assert band_db(hiss, 16000, 4000, 8000) - band_db(hiss, 16000, 0, 1000) > 10
    assert band_db(vowel, 16000, 4000, 8000) - band_db(vowel, 16000, 0, 1000) < -10
    assert np.all(x[: int(0.1 * 16000)] == 0.0) and np.all(x[int(1.2 * 16000) :] == 0.0)


def test_every_phoneme_has_its_articulation():
    tables = synthetic.articulation
    assert set(tables.VOWELS) == set(tables.VOWEL_RECIPES) == set(PHONEMES) - set(tables.CONSONANTS)
    for register in synthetic.voice.REGISTERS:
        assert set(tables.BASE_VOWELS) <= set(tables.VOWEL_FORMANTS[register])
        assert set(tables.vowel_rows(register)) == set(tables.VOWELS)
    for name, consonant in tables.CONSONANTS.items():
        assert (consonant.voicing > 0) == (name in VOICED), name
        assert consonant.band is not None or consonant.row is not None, name
        assert consonant.row is None or consonant.row in tables.CONSONANT_ROWS, name


@pytest.mark.parametrize("register", ["soprano", "alto", "tenor", "bass"])
def test_every_phoneme_renders_in_every_register(register):
    """Every ARPAbet consonant before and after every vowel in turn (0.3 s per note, one
    phrase) sounds: finite, no note near silent."""
    singer = Voice(register)
    low, _ = singer.pitch_range
    consonants = sorted(synthetic.articulation.CONSONANTS)
    vowels = synthetic.VOWELS
    syllables = [(c, vowels[j % len(vowels)], consonants[-1 - j]) for j, c in enumerate(consonants)]
    notes = [
        VocalNote(
            0.1 + 0.3 * j, 0.4 + 0.3 * j, low + j % 12, f"{c} {v} {k}", v, c, 0.2 + 0.3 * j, 0, k
        )
        for j, (c, v, k) in enumerate(syllables)
    ]
    x = sing(notes, singer, round((notes[-1].end + 0.1) * SR), SR, np.random.default_rng(0))
    assert np.all(np.isfinite(x))
    sung = x[round(notes[0].start * SR) : round(notes[-1].end * SR)].reshape(len(notes), -1)
    assert np.all(np.sqrt(np.mean(sung**2, axis=1)) > 1e-3 * np.sqrt(np.mean(sung**2)))


def test_bad_song_options_raise_config_errors():
    with pytest.raises(ConfigError, match="sample rate"):
        generate_song(0, 5.0, 4000)
    with pytest.raises(ConfigError, match="seconds"):
        generate_song(0, 0.5, SR)
    with pytest.raises(ConfigError, match="seed"):
        generate_song(-1, 5.0, SR)


# ---------------------------------------------------------------------------------------------
# datasets


def read_folder(folder: Path) -> dict[str, np.ndarray]:
    return {
        name: sf.read(folder / f"{name}.wav", dtype="float32", always_2d=True)[0].T
        for name in ("mixture", *STEMS)
    }


def test_written_dataset_layout_audio_and_notes(tmp_path):
    out = write_dataset(tmp_path / "synth", 2, 1, 4.0, SR, 3, jobs=1, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "test", "train"]
    train = find_track_folders(out, "train")
    assert [p.name for p in train] == ["synthetic train 000", "synthetic train 001"]
    assert [p.name for p in find_track_folders(out, "test")] == ["synthetic test 000"]
    for folder in (*train, out / "test" / "synthetic test 000"):
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted([*(f"{s}.wav" for s in ("mixture", *STEMS)), "notes.json"])
        info = sf.info(folder / "vocals.wav")
        assert (info.samplerate, info.channels, info.frames) == (SR, 2, 4 * SR)
        assert info.subtype == "FLOAT"
        audio = read_folder(folder)
        total = audio["vocals"] + audio["drums"] + audio["bass"] + audio["other"]
        assert np.array_equal(audio["mixture"], total)
        meta = json.loads((folder / "notes.json").read_text())
        assert meta["track"] == folder.name and meta["sample_rate"] == SR
        song = generate_song(meta["seed"], 4.0, SR)
        assert np.array_equal(audio["vocals"], song.stems["vocals"])
        assert meta["notes"] == json.loads(json.dumps(song.notes))
        assert meta["lines"] == song.lines and meta["words"] == song.words
    seeds = {json.loads((f / "notes.json").read_text())["seed"] for f in train}
    assert len(seeds) == 2
    dataset = json.loads((out / "dataset.json").read_text())
    assert dataset["tracks"]["train"] == ["synthetic train 000", "synthetic train 001"]
    source = open_source(out, "train", sample_rate=SR)
    assert len(source) == 2


def test_dataset_is_deterministic_and_the_same_with_two_jobs(tmp_path):
    one = write_dataset(tmp_path / "one", 2, 1, 3.0, SR, 11, jobs=1, progress=False)
    two = write_dataset(tmp_path / "two", 2, 1, 3.0, SR, 11, jobs=2, progress=False)
    other = write_dataset(tmp_path / "other", 2, 0, 3.0, SR, 12, jobs=1, progress=False)
    for split, name in (("train", "synthetic train 001"), ("test", "synthetic test 000")):
        first, second = read_folder(one / split / name), read_folder(two / split / name)
        for stem in ("mixture", *STEMS):
            assert np.array_equal(first[stem], second[stem])
        notes = (one / split / name / "notes.json").read_text()
        assert notes == (two / split / name / "notes.json").read_text()
    track = "synthetic train 000"
    assert not np.array_equal(
        read_folder(one / "train" / track)["mixture"],
        read_folder(other / "train" / track)["mixture"],
    )
    assert not (other / "test").exists()


def test_existing_dataset_is_refused_then_replaced_whole_with_force(tmp_path):
    out = write_dataset(tmp_path / "synth", 3, 1, 3.0, SR, 0, jobs=1, progress=False)
    before = (out / "train" / "synthetic train 002" / "mixture.wav").read_bytes()
    with pytest.raises(OutputError, match="already holds a dataset.*--force"):
        write_dataset(out, 1, 0, 3.0, SR, 5, jobs=1, progress=False)
    assert (out / "train" / "synthetic train 002" / "mixture.wav").read_bytes() == before
    write_dataset(out, 1, 0, 3.0, SR, 5, jobs=1, force=True, progress=False)
    assert [p.name for p in (out / "train").iterdir()] == ["synthetic train 000"]
    assert not (out / "test").exists()
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "train"]
    assert json.loads((out / "dataset.json").read_text())["seed"] == 5


def test_failure_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "synth"
    out.mkdir()
    (out / "README").write_text("mine")
    calls = []

    def failing(task):
        calls.append(task)
        if len(calls) == 2:
            raise OutputError("disk full")
        return real(task)

    real = synthetic.writer._write_track
    monkeypatch.setattr(synthetic.writer, "_write_track", failing)
    with pytest.raises(OutputError, match="disk full"):
        write_dataset(out, 3, 0, 3.0, SR, 0, jobs=1, progress=False)
    assert [p.name for p in out.iterdir()] == ["README"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_train": -1}, ConfigError, "--train"),
        ({"n_test": -2}, ConfigError, "--test"),
        ({"n_train": 0, "n_test": 0}, ConfigError, "nothing to write"),
        ({"sample_rate": 7999}, ConfigError, "--sr"),
        ({"seconds": 0.0}, ConfigError, "--seconds"),
        ({"jobs": 0}, ConfigError, "--jobs"),
    ],
)
def test_bad_dataset_options(tmp_path, kwargs, error, match):
    options = {"n_train": 1, "n_test": 0, "seconds": 3.0, "sample_rate": SR, **kwargs}
    with pytest.raises(error, match=match):
        write_dataset(tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        write_dataset(blocker, 1, 0, 3.0, SR, progress=False)
    with pytest.raises(OutputError, match="cannot create"):
        write_dataset(blocker / "below", 1, 0, 3.0, SR, progress=False)


def test_track_seeds_depend_on_base_seed_split_and_index():
    seeds = {
        synthetic.track_seed(base, split, i)
        for base in (0, 1)
        for split in synthetic.SPLITS
        for i in range(5)
    }
    assert len(seeds) == 20
    assert synthetic.track_seed(0, "train", 3) == synthetic.track_seed(0, "train", 3)


# ---------------------------------------------------------------------------------------------
# command line


def invoke(*args: str):
    return CliRunner().invoke(main, ["make-synthetic", *args])


def test_cli_writes_a_dataset_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "synth"
    options = ["--train", "1", "--test", "1", "--seconds", "3", "--sr", "8000", "--jobs", "1"]
    result = invoke(str(out), *options, "--seed", "4")
    assert result.exit_code == 0, result.output
    assert "1 training and 1 test tracks written" in result.output
    assert (out / "test" / "synthetic test 000" / "notes.json").is_file()
    again = invoke(str(out), *options)
    assert again.exit_code == 2
    assert again.stderr.strip().count("\n") == 0
    assert "already holds a dataset" in again.stderr and "--force" in again.stderr
    forced = invoke(str(out), *options, "--force")
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train", "-1"], "--train"),
        (["--test", "-3"], "--test"),
        (["--sr", "4000"], "--sr"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(tmp_path, args, message):
    result = invoke(str(tmp_path / "out"), "--seconds", "3", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("wiass: error:")
    assert result.stderr.strip().count("\n") == 0
    assert message in result.stderr


def test_cli_unwritable_output_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke(str(blocker / "out"), "--train", "1", "--test", "0", "--seconds", "3")
    assert result.exit_code == 2
    assert "cannot create the output folder" in result.stderr
