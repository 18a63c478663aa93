"""Separation of files and arrays through wiass.separate and wiass separate: shapes and rates,
exact complement, chunks, side information over the whole file, attention on global steps,
Wiener filtering, threads, the CLI and its bad inputs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from tiny_separators import HOP, MODEL_RATE, noise, save_tiny

import wiass
from wiass.audio import resample
from wiass.cli import main
from wiass.errors import AudioError, ConfigError, SideInfoError, WiassWarning
from wiass.inference.chunks import chunk_sizes, plan_chunks
from wiass.inference.inputs import model_frames
from wiass.inference.jobs import MAX_WORKERS, plan_threads
from wiass.inference.runner import ChunkRunner
from wiass.separator import Separator, load_separator
from wiass.sideinfo import SideInfo, get_kind, whole_track_side_info
from wiass.sideinfo.timeline import StepMap, chunk_margin, step_map

KINDS = ("none", "random", "A3.1", "M1")
FP32 = "32-true"
"""The precision of the tests of exact invariants: bfloat16 results depend on the batch's shape."""


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny models run fastest (and most steadily on a shared machine) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def passive_openmp(monkeypatch):
    """``wiass separate`` sets OMP_WAIT_POLICY; keep that change inside each test."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """An untrained tiny checkpoint per kind (seeded, with a non-trivial normalisation)."""
    return save_tiny(tmp_path_factory.mktemp("models"), KINDS)


@pytest.fixture(scope="module")
def separators(checkpoints) -> dict[str, Separator]:
    return {kind: load_separator(path) for kind, path in checkpoints.items()}


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    sf.write(path, audio.T, rate, subtype="FLOAT")
    return path


def generated(kind: str, audio: np.ndarray, rate: int, separator: Separator) -> SideInfo:
    """Side information of ``kind`` generated from ``audio`` (as the target) over the file."""
    mono = resample(audio.mean(axis=0, keepdims=True), rate, MODEL_RATE)
    assert mono.shape[1] // HOP + 1 == model_frames(audio.shape[1], rate, separator)
    return whole_track_side_info(kind, separator.config, mono, 7)


def run_cli(*args: str):
    return CliRunner().invoke(main, ["separate", *map(str, args)])


# ---------------------------------------------------------------------------------------------
# Shapes, rates, exact complement


@pytest.mark.parametrize(
    ("kind", "rate", "channels"),
    [("none", 22050, 1), ("A3.1", 44100, 2), ("M1", 22050, 1), ("random", 44100, 2)],
)
def test_outputs_keep_rate_channels_length_and_sum_to_the_mixture(separators, kind, rate, channels):
    separator = separators[kind]
    mixture = noise(channels, 3.3, rate)
    side = {"A3.1": "0011100110011", "M1": None}.get(kind)
    if kind == "M1":
        side = generated("M1", mixture, rate, separator)
    result = wiass.separate(mixture, rate, separator, side, chunk_seconds=1.0)
    assert result["sample_rate"] == rate
    for name in ("vocals", "accompaniment"):
        assert result[name].shape == mixture.shape
        assert result[name].dtype == np.float32
    np.testing.assert_allclose(result["vocals"] + result["accompaniment"], mixture, atol=1e-6)
    assert np.abs(result["vocals"]).max() > 0 and not np.allclose(result["vocals"], mixture)
    frames = model_frames(mixture.shape[1], rate, separator)
    if kind in ("none", "random"):
        assert result["attention"] is None and result["side_info"] is None
    else:
        assert result["attention"].shape == (frames, result["side_info"].n_steps)
        assert result["frame_seconds"] == pytest.approx(64 / MODEL_RATE)


def test_mono_1d_input_gives_one_channel(separators):
    mixture = noise(1, 1.5, 16000)[0]
    result = wiass.separate(mixture, 16000, separators["none"])
    assert result["vocals"].shape == (1, mixture.size)
    np.testing.assert_allclose(result["vocals"][0] + result["accompaniment"][0], mixture, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Chunks


def test_chunk_interior_is_exactly_the_chunk_separated_alone(separators):
    separator = separators["none"]
    mixture = noise(2, 5.01, MODEL_RATE)
    total = mixture.shape[1]
    chunked = wiass.separate(mixture, MODEL_RATE, separator, chunk_seconds=1.0, precision=FP32)[
        "vocals"
    ]
    length, overlap = chunk_sizes(1.0, 1.0, MODEL_RATE, HOP)
    chunks = plan_chunks(total, length, overlap, 64)
    assert len(chunks) > 3 and chunks[-1][1] > total
    padded = np.pad(mixture, ((0, 0), (0, chunks[-1][1] - total)))
    for k, (start, end) in enumerate(chunks):
        alone = wiass.separate(
            padded[:, start:end], MODEL_RATE, separator, chunk_seconds=math.inf, precision=FP32
        )
        low = chunks[k - 1][1] if k > 0 else 0
        high = end - overlap if k < len(chunks) - 1 else total
        np.testing.assert_allclose(
            chunked[:, low:high], alone["vocals"][:, low - start : high - start], atol=1e-6
        )


def test_chunked_is_close_to_unchunked_away_from_chunk_edges(separators):
    separator = separators["none"]
    mixture = noise(2, 6.0, MODEL_RATE, seed=3)
    whole = wiass.separate(mixture, MODEL_RATE, separator, chunk_seconds=math.inf, precision=FP32)[
        "vocals"
    ]
    chunked = wiass.separate(
        mixture, MODEL_RATE, separator, chunk_seconds=2.0, overlap_seconds=0.25, precision=FP32
    )["vocals"]
    length, overlap = chunk_sizes(2.0, 0.25, MODEL_RATE, HOP)
    edges = np.array(
        sorted({e for chunk in plan_chunks(6 * MODEL_RATE, length, overlap, 64) for e in chunk})
    )
    distance = np.abs(np.arange(mixture.shape[1])[:, None] - edges[None]).min(axis=1)
    error = np.abs(chunked - whole).max(axis=0)
    scale = np.sqrt(np.mean(whole**2))
    assert error.max() < 0.05 * scale
    assert error[distance >= 0.4 * MODEL_RATE].max() < 0.002 * scale


def test_batches_and_parallel_workers_do_not_change_the_result(separators):
    mixture = noise(2, 4.0, 44100)
    side = "01" * 40
    results = [
        wiass.separate(
            mixture,
            44100,
            separators["A3.1"],
            side,
            chunk_seconds=1.0,
            batch_chunks=b,
            workers=w,
            precision=FP32,
        )
        for b, w in ((1, 1), (4, 1), (2, 3))
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other["vocals"], results[0]["vocals"], atol=1e-6)
        np.testing.assert_allclose(other["attention"], results[0]["attention"], atol=1e-6)


def test_thread_plan_uses_the_threads_without_oversubscribing(monkeypatch):
    for cores in (1, 2, 3, 7, 16):
        monkeypatch.setattr("wiass.inference.jobs.available_cores", lambda cores=cores: cores)
        assert plan_threads(0, "cpu") == plan_threads(None, "cpu") == plan_threads(cores, "cpu")
        for threads in range(1, cores + 1):
            workers, per_worker = plan_threads(threads, "cpu")
            assert 1 <= workers <= MAX_WORKERS and per_worker >= 1
            assert workers * per_worker <= threads, "more threads than asked for"
            assert threads - workers * per_worker < workers, "a whole thread left idle"
            assert workers == MAX_WORKERS or per_worker == 1, "a worker on several threads"
            assert plan_threads(threads, None) == (workers, per_worker)
    assert plan_threads(4, "cuda") == (1, torch.get_num_threads())


def test_threads_above_the_cores_are_capped_with_a_warning(monkeypatch):
    monkeypatch.setattr("wiass.inference.jobs.available_cores", lambda: 3)
    with pytest.warns(WiassWarning, match="--threads 64 is more than the 3 core"):
        assert plan_threads(64, "cpu") == (2, 1)
    assert plan_threads(3, "cpu") == (2, 1)


# ---------------------------------------------------------------------------------------------
# Side information over the whole file, attention on global steps


def test_each_chunk_gets_its_steps_plus_the_margin_of_its_pad_range(separators):
    values = (np.arange(40) % 2).astype(np.float32)[:, None]
    runner = ChunkRunner(separators["A3.1"], SideInfo(values, None, "A3.1"), 399 * HOP)
    assert runner.n_frames == 400 and runner.steps.rate == 10
    assert runner.steps.margin == 3, "the middle of pad_range (2, 4) on each side"
    window, index = runner.side_for(1, 100, 50)
    assert list(index) == list(range(7, 18))
    np.testing.assert_array_equal(window[:, 0], values[7:18, 0])
    window, index = runner.side_for(0, 0, 30)
    assert list(index) == [-1, -1, -1, *range(0, 6)]
    assert np.all(window[:3] == 0)


def test_frame_aligned_windows_are_exact(separators):
    separator = separators["M1"]
    mixture = noise(1, 2.0, MODEL_RATE)
    side = generated("M1", mixture, MODEL_RATE, separator)
    steps = step_map(side, side.n_steps, get_kind("M1"), (2, 4))
    window, index = steps.window(64, 125)
    np.testing.assert_array_equal(index, np.arange(64, 189))
    np.testing.assert_array_equal(window, side.values[64:189])


def test_attention_maps_chunks_to_global_steps(separators):
    separator = separators["A3.1"]
    mixture = noise(1, 5.0, MODEL_RATE, seed=5)
    activity = (np.random.default_rng(1).random(120) > 0.5).astype(np.float32)
    result = wiass.separate(
        mixture,
        MODEL_RATE,
        separator,
        activity,
        chunk_seconds=2.0,
        overlap_seconds=0.5,
        precision=FP32,
        whole_song_alignment=False,  # an untrained model on noise: no alignment to find
    )
    attention = result["attention"]
    frames = model_frames(mixture.shape[1], MODEL_RATE, separator)
    plan = result.steps
    n_steps = result.side_info.n_steps
    assert n_steps == 120 * plan.fit.held and attention.shape == (frames, n_steps)
    length, overlap = chunk_sizes(2.0, 0.5, MODEL_RATE, HOP)
    start, end = plan_chunks(mixture.shape[1], length, overlap, 64)[1]
    hop = 64
    margin = chunk_margin(get_kind("A3.1"), (2, 4))
    steps = StepMap(result.side_info.values, plan.timeline, margin)
    first, n = start // hop, (end - start) // hop + 1
    values, index = steps.window(first, n)
    assert np.all(index >= 0), "an interior chunk needs no padding steps"
    with torch.inference_mode():
        audio = torch.from_numpy(mixture[:, start:end])[None]
        _, alpha = separator(audio, torch.from_numpy(values)[None])
    alone = alpha[0].numpy()
    own = slice(overlap // hop + 1, (length - overlap) // hop)  # frames where the chunk weighs 1
    rows = attention[first + own.start : first + own.stop]
    np.testing.assert_allclose(rows[:, index], alone[own], atol=1e-5)
    outside = np.setdiff1d(np.arange(n_steps), index)
    assert np.all(rows[:, outside] == 0)
    np.testing.assert_allclose(attention.sum(axis=1)[first + own.start], 1.0, atol=1e-5)


def test_generated_alignment_places_every_step_in_its_chunk(separators):
    separator = separators["A3.1"]
    mixture = noise(1, 6.0, MODEL_RATE, seed=2)
    side = generated("A3.1", mixture, MODEL_RATE, separator)
    frames = model_frames(mixture.shape[1], MODEL_RATE, separator)
    steps = step_map(side, frames, get_kind("A3.1"), (2, 4))
    for start in range(0, frames - 100, 60):
        _, index = steps.window(start, 100)
        described = np.flatnonzero((side.alignment >= start) & (side.alignment < start + 100))
        assert set(described) <= set(index[index >= 0])
    result = wiass.separate(mixture, MODEL_RATE, separator, side, chunk_seconds=2.0)
    assert result["attention"].shape == (frames, side.n_steps)


def test_attention_is_pooled_to_the_size_limit(separators):
    separator = separators["A3.1"]
    mixture = noise(1, 3.0, MODEL_RATE)
    activity = "0110" * 20
    full = wiass.separate(mixture, MODEL_RATE, separator, activity)
    pooled = wiass.separate(mixture, MODEL_RATE, separator, activity, max_attention_values=5000)
    frames, n_steps = full["attention"].shape
    assert n_steps == full["side_info"].n_steps
    pool = next(p for p in range(1, frames) if math.ceil(frames / p) * n_steps <= 5000)
    assert pooled["frame_pool"] == pool and full["frame_pool"] == 1
    assert pooled["attention"].shape == (math.ceil(frames / pool), n_steps)
    assert pooled["frame_seconds"] == pytest.approx(pool * 64 / MODEL_RATE)
    np.testing.assert_allclose(
        pooled["attention"][0], full["attention"][:pool].mean(axis=0), atol=1e-5
    )


def periodic_chunks(kind: str, separators: dict[str, Separator]) -> tuple[np.ndarray, ...]:
    """Vocals of a mixture that repeats with the chunk step, so that chunks 0 and 1 hold the
    same audio: the samples where each chunk alone makes the output (weight 1), both runs."""
    length, overlap = chunk_sizes(1.0, 0.25, MODEL_RATE, HOP)
    step = length - overlap
    mixture = np.tile(noise(2, step / MODEL_RATE, MODEL_RATE, seed=6), 4)
    runs = [
        wiass.separate(
            mixture,
            MODEL_RATE,
            separators[kind],
            chunk_seconds=1.0,
            overlap_seconds=0.25,
            batch_chunks=1,
        )["vocals"]
        for _ in range(2)
    ]
    own = slice(overlap, step)  # chunk 0 weighs 1 there, and chunk 1 at the same offset
    return runs[0][:, own], runs[0][:, step + own.start : step + own.stop], runs[1][:, own]


def test_random_side_information_is_fresh_per_chunk_but_repeatable(separators):
    runner = ChunkRunner(separators["random"], None, 4 * MODEL_RATE)
    draws = [runner.side_for(index, 0, 100)[0] for index in (0, 1, 0)]
    assert not np.array_equal(draws[0][: len(draws[1])], draws[1][: len(draws[0])])
    np.testing.assert_array_equal(draws[0], draws[2])
    first, second, again = periodic_chunks("random", separators)
    assert not np.array_equal(first, second), "two chunks of the same audio got the same draw"
    np.testing.assert_array_equal(first, again)
    same_first, same_second, _ = periodic_chunks("none", separators)
    np.testing.assert_array_equal(same_first, same_second)  # same audio, no side information
    result = wiass.separate(noise(1, 1.0, MODEL_RATE), MODEL_RATE, separators["random"])
    assert result.attention is None


@pytest.mark.parametrize(
    ("kind", "side", "message"),
    [
        ("none", "0101", "BL1"),
        ("random", "0101", "BL2"),
        ("A3.1", None, "needs side information"),
        ("A3.1", np.full((10, 1), 0.5), "not 0 or 1"),
        ("A3.1", np.ones((10, 3)), "3 values per step"),
        ("A3.1", SideInfo(np.ones((5, 6), np.float32), None, "M2"), "kind M2"),
        ("M1", np.full((10, 6), 0.5), "needs one step per frame"),
    ],
)
def test_bad_side_information_in_python(separators, kind, side, message):
    with pytest.raises(SideInfoError, match=message):
        wiass.separate(noise(1, 1.0, MODEL_RATE), MODEL_RATE, separators[kind], side)


def test_alignment_outside_the_mixture_is_refused(separators):
    separator = separators["A3.1"]
    mixture = noise(1, 2.0, MODEL_RATE)
    side = generated("A3.1", mixture, MODEL_RATE, separator)
    with pytest.raises(SideInfoError, match="alignment refers to frame"):
        wiass.separate(mixture[:, :8000], MODEL_RATE, separator, side)


def test_bad_audio_and_options_in_python(separators):
    with pytest.raises(AudioError, match="silent"):
        wiass.separate(np.zeros((2, 800)), MODEL_RATE, separators["none"])
    with pytest.raises(AudioError, match="shape"):
        wiass.separate(np.ones((1, 2, 800)), MODEL_RATE, separators["none"])
    with pytest.raises(AudioError, match="sample rate"):
        wiass.separate(noise(1, 0.1, MODEL_RATE), 0, separators["none"])
    with pytest.raises(ConfigError, match="chunk"):
        wiass.separate(noise(1, 0.1, MODEL_RATE), MODEL_RATE, separators["none"], chunk_seconds=0)


def test_wiener_filtering_runs_and_keeps_the_complement(separators):
    mixture = noise(2, 2.5, 44100, seed=4)
    mixture[1] = 0.5 * mixture[0] + 0.5 * mixture[1]
    plain = wiass.separate(mixture, 44100, separators["A3.1"], "0111", chunk_seconds=1.0)
    wiener = wiass.separate(
        mixture, 44100, separators["A3.1"], "0111", chunk_seconds=1.0, wiener=True
    )
    assert wiener["vocals"].shape == mixture.shape
    assert np.all(np.isfinite(wiener["vocals"]))
    assert not np.allclose(wiener["vocals"], plain["vocals"], atol=1e-4)
    np.testing.assert_allclose(wiener["vocals"] + wiener["accompaniment"], mixture, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# The command line


def test_cli_writes_audio_and_alignment(checkpoints, separators, tmp_path):
    mixture = noise(2, 3.0, 44100)
    path = write_wav(tmp_path / "song.wav", mixture, 44100)
    labels = tmp_path / "labels.txt"
    labels.write_text("0.5\t1.5\tverse\n2.0\t2.8\tchorus\n")
    out = tmp_path / "out"
    result = run_cli(path, "--model", checkpoints["A3.1"], "--labels", labels, "--out", out)
    assert result.exit_code == 0, result.output
    assert "alignment.npy" in result.stdout and "real-time factor" in result.stdout
    vocals, rate = sf.read(out / "vocals.wav", dtype="float32", always_2d=True)
    accompaniment, _ = sf.read(out / "accompaniment.wav", dtype="float32", always_2d=True)
    assert rate == 44100 and vocals.shape == mixture.T.shape
    np.testing.assert_allclose(vocals + accompaniment, mixture.T, atol=1e-6)
    axes = json.loads((out / "alignment.json").read_text())
    attention = np.load(out / "alignment.npy")
    frames = model_frames(mixture.shape[1], 44100, separators["A3.1"])
    assert attention.dtype == np.float16
    assert attention.shape == (axes["frames"], axes["steps"]) == (frames, math.ceil(frames / 2.5))
    assert axes["kind"] == "A3.1" and axes["frame_seconds"] == pytest.approx(0.008)
    assert (out / "alignment.png").stat().st_size > 10_000
    api = wiass.separate(mixture, 44100, separators["A3.1"], labels)
    np.testing.assert_allclose(vocals.T, api["vocals"], atol=1e-5)
    np.testing.assert_allclose(attention, api["attention"], atol=1e-3)
    assert {p.name for p in out.iterdir()} == {
        "vocals.wav",
        "accompaniment.wav",
        "alignment.png",
        "alignment.npy",
        "alignment.json",
        "alignment_labels.txt",
        "side_info.npy",
        "results.json",
    }


def test_cli_several_mixtures_get_subfolders_and_bl1_writes_no_alignment(checkpoints, tmp_path):
    paths = [
        write_wav(tmp_path / "first.wav", noise(1, 1.0, 16000), 16000),
        write_wav(tmp_path / "second.flac.wav", noise(2, 1.5, 48000), 48000),
    ]
    out = tmp_path / "out"
    result = run_cli(*paths, "--model", checkpoints["none"], "--out", out, "--wiener")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("no alignment: the model is BL1") == 2
    for path, rate, channels in zip(paths, (16000, 48000), (1, 2), strict=True):
        folder = out / path.stem
        assert sorted(p.name for p in folder.iterdir()) == ["accompaniment.wav", "vocals.wav"]
        info = sf.info(folder / "vocals.wav")
        assert (info.samplerate, info.channels, info.frames) == (
            rate,
            channels,
            sf.info(path).frames,
        )
    assert sorted(p.name for p in out.iterdir()) == ["first", "results.json", "second.flac"]


def test_cli_force_overwrites_and_removes_stale_alignment(checkpoints, tmp_path):
    path = write_wav(tmp_path / "song.wav", noise(1, 1.0, MODEL_RATE), MODEL_RATE)
    out = tmp_path / "out"
    assert (
        run_cli(path, "--model", checkpoints["A3.1"], "--activity", "0110", "--out", out).exit_code
        == 0
    )
    result = run_cli(path, "--model", checkpoints["none"], "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "accompaniment.wav",
        "results.json",
        "vocals.wav",
    ]


def test_cli_entry_point_runs_in_a_subprocess(checkpoints, tmp_path):
    path = write_wav(tmp_path / "song.wav", noise(2, 1.0, 22050), 22050)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "wiass",
            "separate",
            str(path),
            "--model",
            str(checkpoints["M1"]),
            "--side-info",
            str(tmp_path / "missing.npy"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "missing.npy: no such side-information file" in completed.stderr
    assert not (tmp_path / "out").exists()


def bad_input_cases(tmp: Path, checkpoints: dict[str, Path]) -> dict[str, tuple[list, str]]:
    """name -> (CLI arguments, expected part of the one-line message)."""
    good = write_wav(tmp / "good.wav", noise(2, 1.0, 44100), 44100)
    silent = write_wav(tmp / "silent.wav", np.zeros((1, 4000), np.float32), 8000)
    garbage = tmp / "garbage.wav"
    garbage.write_bytes(b"RIFF not really a wave file" * 10)
    text_model = tmp / "notes.pt"
    text_model.write_text("not a checkpoint")
    foreign_model = tmp / "foreign.pt"
    torch.save({"state_dict": {}}, foreign_model)
    letters = tmp / "letters.txt"
    letters.write_text("0\n1\nx\n")
    half = tmp / "half.npy"
    np.save(half, np.full(20, 0.5))
    wide = tmp / "wide.npy"
    np.save(wide, np.ones((20, 3)))
    short = tmp / "short.npy"
    np.save(short, np.full((20, 6), 0.5))
    labels = tmp / "labels.txt"
    labels.write_text("0.1\t0.5\tsung\n")
    a31, none, m1 = checkpoints["A3.1"], checkpoints["none"], checkpoints["M1"]
    blocker = tmp / "blocker"
    blocker.write_text("a file, not a folder")
    return {
        "missing mixture": ([tmp / "nope.wav", "--model", none], "no such file"),
        "unreadable mixture": ([garbage, "--model", none], "not a readable audio file"),
        "silent mixture": ([silent, "--model", none], "completely silent"),
        "text checkpoint": ([good, "--model", text_model], "not a wiass checkpoint"),
        "foreign checkpoint": ([good, "--model", foreign_model], "not a wiass checkpoint"),
        "missing checkpoint": ([good, "--model", tmp / "none.pt"], "no such checkpoint"),
        "no side info": ([good, "--model", a31], "needs side information"),
        "side info to BL1": ([good, "--model", none, "--activity", "0110"], "BL1"),
        "bad activity": ([good, "--model", a31, "--activity", "0120"], "not 0 or 1"),
        "not numbers": ([good, "--model", a31, "--side-info", letters], "not a number"),
        "non-binary": ([good, "--model", a31, "--side-info", half], "not 0 or 1"),
        "wrong D": ([good, "--model", a31, "--side-info", wide], "3 values per step"),
        "labels for bands": ([good, "--model", m1, "--labels", labels], "band values"),
        "wrong length for M1": ([good, "--model", m1, "--side-info", short], "one step per frame"),
        "two side infos": (
            [good, "--model", a31, "--activity", "01", "--labels", labels],
            "at most one",
        ),
        "same stems": ([good, good, "--model", none], "same name"),
        "unwritable out": ([good, "--model", none, "--out", blocker / "out"], "cannot write"),
    }


def test_every_bad_input_exits_2_with_one_line_and_writes_nothing(checkpoints, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = bad_input_cases(inputs, checkpoints)
    for name, (arguments, message) in cases.items():
        out = tmp_path / f"out {name}"
        if "--out" not in arguments:
            arguments = [*arguments, "--out", out]
        result = run_cli(*arguments)
        assert result.exit_code == 2, (name, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wiass: error: "), (name, lines)
        assert message in lines[0], (name, lines[0])
        assert not out.exists(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs"]


def test_existing_outputs_are_kept_without_force(checkpoints, tmp_path):
    path = write_wav(tmp_path / "song.wav", noise(1, 1.0, MODEL_RATE), MODEL_RATE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "accompaniment.wav").write_bytes(b"earlier result")
    result = run_cli(path, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 2
    assert "accompaniment.wav: already exists (use --force" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["accompaniment.wav"]
    assert (out / "accompaniment.wav").read_bytes() == b"earlier result"


def test_another_runs_index_is_kept_without_force(checkpoints, tmp_path):
    """OUT holds the results.json of another run (e.g. a demo run): separating several
    mixtures into OUT/<stem>/ would replace that index, so it is refused."""
    paths = [
        write_wav(tmp_path / f"{name}.wav", noise(1, 1.0, MODEL_RATE), MODEL_RATE)
        for name in ("first", "second")
    ]
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"earlier": "run"}')
    result = run_cli(*paths, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 2
    assert "results.json: already exists (use --force" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_device_without_cuda_is_a_clear_error(checkpoints, tmp_path):
    path = write_wav(tmp_path / "song.wav", noise(1, 1.0, MODEL_RATE), MODEL_RATE)
    result = run_cli(
        path, "--model", checkpoints["none"], "--out", tmp_path / "out", "--device", "cuda"
    )
    assert result.exit_code == 2
    assert "CUDA is not available" in result.stderr
    assert not (tmp_path / "out").exists()
