"""Separation that fails cleanly: shipped models by name, non-finite models, a lock on the output
folder, SIGTERM/SIGINT mid-work, write failures and bad output names, warnings that say what
was assumed. Signals and file-size limits are sent to real ``wiass`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from helpers import TINY_MODEL

import wiass
from wiass.cli import main
from wiass.config import Config
from wiass.errors import CheckpointError
from wiass.files import LOCK_NAME, folder_lock
from wiass.separator import (
    build_model,
    load_separator,
    save_separator,
    separator_payload,
    shipped_models,
)

RATE = 8000
ALIGNMENT = (
    "alignment.png",
    "alignment.npy",
    "alignment.json",
    "alignment_labels.txt",
    "side_info.npy",
)
POSIX_SIGNALS = pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signals and resource limits"
)


def tiny_config(kind: str) -> Config:
    return Config.from_dict(
        {
            "audio": {"sample_rate": RATE, "n_fft": 256, "hop": 64},
            "side_info": {"kind": kind, "pad_range": [2, 4], "rate_range": [2, 3]},
            "data": {"excerpt_seconds": 1.0},
            "model": TINY_MODEL,
        }
    )


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Untrained tiny checkpoints: ``none`` and ``A3.1``."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for kind in ("none", "A3.1"):
        torch.manual_seed(0)
        paths[kind] = folder / f"{kind}.pt"
        save_separator(paths[kind], build_model(tiny_config(kind)), tiny_config(kind))
    return paths


def write_noise(path: Path, seconds: float, channels: int = 1, rate: int = RATE) -> Path:
    rng = np.random.default_rng(0)
    audio = 0.1 * rng.standard_normal((round(seconds * rate), channels))
    sf.write(path, audio.astype(np.float32), rate, subtype="FLOAT")
    return path


def run_cli(*args: object):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wiass: error: "), lines
    return lines[0]


def wiass_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "wiass", *map(str, args)]


# ---------------------------------------------------------------------------------------------
# Shipped models by name


def test_shipped_models_load_by_name_and_a_file_of_that_name_wins(checkpoints, tmp_path):
    separator = wiass.load_separator("A3.1")
    assert separator.side_info_kind == "A3.1"
    assert separator.source == "A3.1"
    assert load_separator("bl1").side_info_kind == "none"
    local = tmp_path / "A3.1"
    local.write_bytes(checkpoints["none"].read_bytes())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert load_separator("A3.1").side_info_kind == "none"
    finally:
        os.chdir(cwd)


def test_an_unknown_model_name_lists_the_shipped_ones(tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    result = run_cli("separate", mixture, "--model", "A9", "--out", tmp_path / "out")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "A9: no such checkpoint file, nor the name of a shipped model" in line
    assert "(shipped: BL1, A3.1, M2" in line
    assert not (tmp_path / "out").exists()


def test_separate_finds_a_shipped_model_by_name(tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 2.0, rate=16000)
    result = run_cli(
        "separate", mixture, "--model", "A3.1", "--activity", "0110", "--out", tmp_path / "out"
    )
    assert result.exit_code == 0, result.output
    assert "model kind A3.1 at 16000 Hz" in result.stdout
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == sorted(["vocals.wav", "accompaniment.wav", "results.json", *ALIGNMENT])


def test_models_lists_kind_rates_data_command_and_size():
    result = run_cli("models")
    assert result.exit_code == 0, result.output
    text = result.stdout
    for shipped in shipped_models().values():
        separator = load_separator(shipped.path)
        parameters = sum(p.numel() for p in separator.model.parameters())
        assert f"{shipped.name}: {shipped.description}" in text
        assert f"{parameters:,} parameters" in text
        assert f"{shipped.path.stat().st_size / 1e6:.1f} MB" in text
        assert shipped.command in text
        low, high = separator.config.side_info.rate_range
        if separator.side_info_kind != "none":
            assert f"one step per {low}-{high} frames" in text
    assert "trained on: 200 synthetic training songs" in text
    helptext = " ".join(run_cli("separate", "--help").stdout.split())
    assert "A shipped model by name (BL1, A3.1, M2, phonemes; see 'wiass models')" in helptext


def test_models_shows_the_named_ones_and_refuses_unknown_names():
    result = run_cli("models", "m2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("M2: ") and "A3.1" not in result.stdout
    result = run_cli("models", "A3.1", "X1")
    assert result.exit_code == 2
    assert "'X1': not a shipped model (shipped: BL1, A3.1, M2, phonemes)" in one_error_line(result)


def test_models_metadata_is_package_data():
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"pretrained/*.json"' in pyproject
    assert set(shipped_models()) == {"BL1", "A3.1", "M2", "phonemes"}
    assert all(model.path.is_file() for model in shipped_models().values())


# ---------------------------------------------------------------------------------------------
# Non-finite models


def test_a_checkpoint_with_nan_weights_is_refused(checkpoints, tmp_path):
    payload = separator_payload(load_separator(checkpoints["none"]).model, tiny_config("none"))
    name = next(key for key in payload["state_dict"] if "weight" in key)
    payload["state_dict"][name][0, 0] = float("nan")
    damaged = tmp_path / "nan.pt"
    torch.save(payload, damaged)
    with pytest.raises(CheckpointError, match=f"weight '{name}' holds 1 non-finite value"):
        load_separator(damaged)
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    result = run_cli("separate", mixture, "--model", damaged, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "nan.pt: weight" in one_error_line(result)
    assert not (tmp_path / "out").exists()


def test_a_model_with_non_finite_output_is_refused_and_writes_nothing(checkpoints, tmp_path):
    separator = load_separator(checkpoints["none"])
    separator.model.input_scale.fill_(3e38)  # finite, but the scaled input overflows
    overflowing = tmp_path / "overflow.pt"
    save_separator(overflowing, separator.model, separator.config)
    mixture = write_noise(tmp_path / "song.wav", 3.0)
    out = tmp_path / "out"
    result = run_cli("separate", mixture, "--model", overflowing, "--out", out)
    assert result.exit_code == 2
    assert "overflow.pt: the model gave non-finite output" in one_error_line(result)
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# One run per output folder


def test_a_second_run_into_a_locked_folder_is_refused(checkpoints, tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    out = tmp_path / "out"
    with folder_lock(out):
        result = run_cli("separate", mixture, "--model", checkpoints["none"], "--out", out)
        assert result.exit_code == 2
        line = one_error_line(result)
        assert f"another wiass run (pid {os.getpid()}) is writing into this folder" in line
        assert sorted(path.name for path in out.iterdir()) == [LOCK_NAME]
    assert list(out.iterdir()) == []
    result = run_cli("separate", mixture, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 0, result.output


def test_a_lock_file_left_by_a_killed_run_is_not_in_the_way(checkpoints, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text("999999\n")
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    result = run_cli("separate", mixture, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [
        "accompaniment.wav",
        "results.json",
        "vocals.wav",
    ]


def start_long_separation(checkpoint: Path, tmp_path: Path, seconds: float = 300.0):
    """A ``wiass separate`` process on a long mixture (a few seconds of work for the tiny
    model) and its output folder."""
    mixture = write_noise(tmp_path / "long.wav", seconds)
    out = tmp_path / "out"
    command = wiass_command("separate", mixture, "--model", checkpoint, "--out", out)
    command += ["--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, out


def pause_mid_separation(process: subprocess.Popen, out: Path) -> list[Path]:
    """Wait until the process writes its temporary outputs, stop it (SIGSTOP) and return them;
    they still exist, so the process is stopped in the middle of the work."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        temporary = sorted(out.glob(".*.tmp.wav")) if out.is_dir() else []
        if len(temporary) == 2:
            process.send_signal(signal.SIGSTOP)
            assert all(path.exists() for path in temporary), "finished before it was stopped"
            return temporary
        time.sleep(0.002)
    process.kill()
    pytest.fail(f"no temporary outputs appeared: {process.communicate()}")


@POSIX_SIGNALS
def test_two_runs_at_once_never_mix_their_files(checkpoints, tmp_path):
    first, out = start_long_separation(checkpoints["none"], tmp_path)
    temporary = pause_mid_separation(first, out)
    second = run_cli(
        "separate", write_noise(tmp_path / "other.wav", 1.0), "--model", checkpoints["none"],
        "--out", out, "--force",
    )  # fmt: skip
    first.send_signal(signal.SIGCONT)
    _, stderr = first.communicate(timeout=120)
    assert second.exit_code == 2
    assert "is writing into this folder" in one_error_line(second)
    assert first.returncode == 0, stderr
    assert not any(path.exists() for path in temporary)
    names = sorted(path.name for path in out.iterdir())
    assert names == ["accompaniment.wav", "results.json", "vocals.wav"]
    assert sf.info(str(out / "vocals.wav")).duration == pytest.approx(300.0)


# ---------------------------------------------------------------------------------------------
# Signals


@POSIX_SIGNALS
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_separation_removes_the_temporary_files(checkpoints, tmp_path, signum, code):
    process, out = start_long_separation(checkpoints["none"], tmp_path)
    temporary = pause_mid_separation(process, out)
    process.send_signal(signum)
    process.send_signal(signal.SIGCONT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    name = signal.Signals(signum).name
    assert stderr.strip().splitlines() == [f"wiass: stopped by {name}; no partial outputs left"]
    assert "Traceback" not in stderr and stdout == ""
    assert not any(path.exists() for path in temporary)
    assert list(out.iterdir()) == []


def signal_handler_installed(pid: int, signum: int) -> bool:
    """Whether process ``pid`` catches ``signum`` (Linux: the SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_sigterm_during_evaluate_exits_143_and_writes_nothing(tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("references", "estimates"):
        for track in range(3):
            song = tmp_path / folder / f"song {track}"
            song.mkdir(parents=True)
            for target in ("vocals", "accompaniment"):
                audio = 0.1 * rng.standard_normal((60 * RATE, 2))
                sf.write(song / f"{target}.wav", audio.astype(np.float32), RATE, subtype="FLOAT")
    out = tmp_path / "scores"
    command = wiass_command(
        "evaluate", "--references", tmp_path / "references", "--estimates",
        tmp_path / "estimates", "--out", out,
    )  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not signal_handler_installed(process.pid, signal.SIGTERM):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    time.sleep(0.5)
    assert process.poll() is None, "evaluate finished before it could be stopped"
    process.terminate()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "wiass: stopped by SIGTERM; no partial outputs left"
    assert "Traceback" not in stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Full disks, long names, folders that are files


@POSIX_SIGNALS
def test_a_failed_write_is_one_line_naming_the_file_and_leaves_nothing(checkpoints, tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 20.0)
    out = tmp_path / "out"
    limited = (
        "import resource, runpy, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))\n"
        "sys.argv = ['wiass', *sys.argv[1:]]\n"
        "runpy.run_module('wiass', run_name='__main__')\n"
    )
    arguments = ["separate", mixture, "--model", checkpoints["none"], "--out", out]
    completed = subprocess.run(
        [sys.executable, "-c", limited, *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"wiass: error: {out / 'vocals.wav'}: cannot write (file too large")
    assert list(out.iterdir()) == []


def test_too_little_free_space_is_refused_before_separating(checkpoints, tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("wiass.files.shutil.disk_usage", lambda path: usage(10**9, 10**9, 1000))
    mixture = write_noise(tmp_path / "song.wav", 10.0, channels=2)
    out = tmp_path / "out"
    result = run_cli("separate", mixture, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "the outputs need about 1.3 MB, only 0.0 MB free" in line
    assert not out.exists()


def test_bad_output_folders_are_refused_before_separating(checkpoints, tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    cases = {
        "long name": (tmp_path / ("x" * 300), "file name too long"),
        "long name below": (tmp_path / "a" / ("x" * 300) / "b", "file name too long"),
        "a file": (blocker, "blocker is a file, not a folder"),
        "under a file": (blocker / "out", "blocker is a file, not a folder"),
    }
    for name, (out, message) in cases.items():
        result = run_cli("separate", mixture, "--model", checkpoints["none"], "--out", out)
        assert result.exit_code == 2, (name, result.output)
        assert message in one_error_line(result), name
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blocker", "song.wav"]


def test_a_mixture_name_too_long_to_look_up_is_one_line(checkpoints, tmp_path):
    result = run_cli(
        "separate", tmp_path / ("y" * 300 + ".wav"), "--model", checkpoints["none"],
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot be looked up (File name too long)" in one_error_line(result)


# ---------------------------------------------------------------------------------------------
# Warnings that say what was assumed


def test_a_truncated_wav_is_separated_with_a_warning(checkpoints, tmp_path):
    full = write_noise(tmp_path / "full.wav", 2.0)
    data = full.read_bytes()
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(data[: len(data) // 2])
    held = sf.info(str(truncated)).frames
    out = tmp_path / "out"
    result = run_cli("separate", truncated, "--model", checkpoints["none"], "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [
        f"wiass: warning: {truncated}: the WAV header promises {2 * RATE} samples per channel, "
        f"the file holds {held} (truncated?); using the {held} samples it holds"
    ]
    assert sf.info(str(out / "vocals.wav")).frames == held


def test_labels_past_the_end_and_dense_steps_warn_what_was_assumed(checkpoints, tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 2.0)
    labels = tmp_path / "labels.txt"
    labels.write_text("0.5\t9.0\tsung\n")
    result = run_cli(
        "separate", mixture, "--model", checkpoints["A3.1"], "--labels", labels,
        "--out", tmp_path / "a",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frames = 2 * RATE // 64 + 1
    seconds = frames * 64 / RATE
    assert result.stderr.strip().splitlines() == [
        f"wiass: warning: {labels}: the labels end at 9 s, after the end of the audio "
        f"({seconds:g} s); assumed the audio's length: activity after {seconds:g} s is dropped"
    ]
    dense = "01" * frames
    result = run_cli(
        "separate", mixture, "--model", checkpoints["A3.1"], "--activity", dense,
        "--out", tmp_path / "b",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and f"{2 * frames} steps over {frames} frames" in warning[0]
    assert "the model gets every 5th step" in warning[0]
    result = run_cli(
        "separate", mixture, "--model", checkpoints["A3.1"], "--activity", "0110" * 25,
        "--out", tmp_path / "c",
    )  # fmt: skip
    assert result.exit_code == 0 and result.stderr == ""


def test_threads_above_the_cores_are_capped_with_a_note(checkpoints, tmp_path):
    mixture = write_noise(tmp_path / "song.wav", 1.0)
    result = run_cli(
        "separate", mixture, "--model", checkpoints["none"], "--out", tmp_path / "out",
        "--threads", "4096",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wiass: warning: --threads 4096 is more than the" in result.stderr
    assert "; using " in result.stderr
