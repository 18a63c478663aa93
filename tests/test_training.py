"""Training on Lightning: runs, checkpoints, resume after a kill, reproducibility, DDP, errors."""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner
from helpers import write_dataset

from wiass.cli import PRECISION_CHOICES, main
from wiass.config import load_config
from wiass.errors import CheckpointError, ConfigError, OutputError, SideInfoError
from wiass.precision import BF16_PROBE_ENV, bf16_support
from wiass.separator import FORMAT_VERSION, build_model, load_separator, save_separator
from wiass.training import (
    PRECISIONS,
    SYNTHETIC_SECONDS,
    TrainOptions,
    _trainer,
    prepare_config,
    resolve_precision,
    synthetic_default,
    train,
)

TINY = {
    "audio": {"sample_rate": 8000, "n_fft": 256, "hop": 64},
    "side_info": {"kind": "A3.1", "pad_range": [2, 4], "rate_range": [2, 3], "bands": 6},
    "data": {
        "excerpt_seconds": 1.0,
        "examples_per_epoch": 16,
        "validation_examples": 4,
        "batch_size": 4,
    },
    "model": {
        "hidden_size": 16,
        "mix_layers": 1,
        "side_layers": 1,
        "decoder_layers": 1,
        "side_hidden_size": 8,
        "attention_size": 16,
    },
    "train": {"max_epochs": 2},
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"), n_train=4, n_test=1)


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def run_wiass(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wiass", *args], capture_output=True, text=True, **kwargs
    )


def quick_train(config_path: Path, data: Path, out: Path, **overrides) -> Path:
    config = prepare_config(str(config_path), out, False, **overrides)
    return train(config, TrainOptions(out=out, data=data, accelerator="cpu", progress=False))


def test_training_writes_a_loadable_separator(tiny_config, data_root, tmp_path):
    out = tmp_path / "run"
    separator_path = quick_train(tiny_config, data_root, out)
    assert {p.name for p in (out / "checkpoints").iterdir()} == {"best.ckpt", "last.ckpt"}
    assert (out / "config.yaml").is_file()
    assert list((out / "logs" / "csv").glob("version_*/metrics.csv"))
    assert list((out / "logs" / "tensorboard").glob("version_*/events.*"))

    separator = load_separator(separator_path)
    assert separator.side_info_kind == "A3.1" and separator.sample_rate == 8000
    assert not torch.all(separator.model.input_mean == 0), "normalisation was not stored"
    from_ckpt = load_separator(out / "checkpoints" / "best.ckpt")
    mix = torch.rand(2, 20, 129)
    side = torch.rand(2, 7, 1).round()
    expected, alpha = from_ckpt.model.infer(mix, side)
    got, _ = separator.model.infer(mix, side)
    torch.testing.assert_close(got, expected)
    assert alpha.shape == (2, 20, 7)


def test_same_seed_same_weights(tiny_config, data_root, tmp_path):
    first = load_separator(quick_train(tiny_config, data_root, tmp_path / "a", seed=3))
    second = load_separator(quick_train(tiny_config, data_root, tmp_path / "b", seed=3))
    other = load_separator(quick_train(tiny_config, data_root, tmp_path / "c", seed=4))
    for key, value in first.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value)
    assert not torch.equal(other.model.output_layer.weight, first.model.output_layer.weight), (
        "a different seed trained to the very same weights"
    )


def test_baseline_one_trains_without_side_information(tiny_config, data_root, tmp_path):
    separator = load_separator(
        quick_train(tiny_config, data_root, tmp_path / "bl1", side_info="none")
    )
    assert not separator.model.informed
    estimate, alpha = separator.model.infer(torch.rand(1, 10, 129))
    assert alpha is None and estimate.shape == (1, 10, 129)


@pytest.mark.skipif(not bf16_support().ok, reason=f"bf16 cannot run: {bf16_support().reason}")
def test_bf16_training_with_position_term_and_clamped_mask(data_root, tmp_path):
    config = {
        **TINY,
        "model": {**TINY["model"], "output": "clamped_mask", "position_frequencies": 4},
        "train": {**TINY["train"], "precision": "bf16-mixed"},
    }
    path = tmp_path / "bf16.yaml"
    path.write_text(yaml.safe_dump(config))
    separator = load_separator(quick_train(path, data_root, tmp_path / "run"))
    assert separator.config.train.precision == "bf16-mixed"
    assert separator.model.position_weight.dtype == torch.float32
    estimate, alpha = separator.model.infer(torch.rand(1, 20, 129), torch.rand(1, 7, 1).round())
    assert estimate.dtype == torch.float32 and torch.isfinite(estimate).all()
    assert alpha.shape == (1, 20, 7)


@pytest.mark.slow
def test_resume_after_kill_continues_the_run(tiny_config, data_root, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "wiass", "train", "--config", str(tiny_config)]
    command += ["--data", str(data_root), "--out", str(out), "--max-epochs", "500"]
    command += ["--accelerator", "cpu"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = out / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if last.is_file() and torch.load(last, weights_only=False)["epoch"] >= 1:
            break
        time.sleep(0.2)
    assert process.poll() is None, process.stderr.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = torch.load(last, weights_only=False)
    assert 1 <= killed_at["epoch"] < 499

    target_epochs = killed_at["epoch"] + 3
    result = run_wiass("train", "--out", str(out), "--resume", "--max-epochs", str(target_epochs))
    assert result.returncode == 0, result.stderr
    resumed = torch.load(last, weights_only=False)
    steps_per_epoch = 16 // 4
    assert resumed["epoch"] == target_epochs - 1
    assert resumed["global_step"] == target_epochs * steps_per_epoch
    assert (out / "separator.pt").is_file()


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tiny_config, data_root, tmp_path):
    out = tmp_path / "ddp"
    result = run_wiass(
        "train", "--config", str(tiny_config), "--data", str(data_root), "--out", str(out),
        "--devices", "2", "--accelerator", "cpu", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    # 16 examples per epoch shared by 2 processes, batches of 4: 2 steps per epoch and process.
    assert checkpoint["global_step"] == 2 * 2
    assert load_separator(out / "separator.pt").model.informed


def test_bad_config_is_one_line_and_exit_2(tmp_path, data_root):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  hidden_size: -3\n  bogus: 1\n")
    result = run_wiass(
        "train", "--config", str(bad), "--data", str(data_root), "--out", str(tmp_path / "r")
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown key 'bogus'" in result.stderr and str(bad) in result.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_side_info_kind_is_rejected(tiny_config, tmp_path):
    with pytest.raises(SideInfoError, match="A9"):
        prepare_config(str(tiny_config), tmp_path / "r", False, side_info="A9")


def test_bad_training_values_are_config_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"train": {"loss": "hinge"}}))
    with pytest.raises(ConfigError, match="train.loss"):
        prepare_config(str(path), tmp_path / "r", False)
    path.write_text(yaml.safe_dump({"train": {"precision": "8-bit"}}))
    with pytest.raises(ConfigError, match="train.precision"):
        prepare_config(str(path), tmp_path / "r", False)
    assert PRECISION_CHOICES == PRECISIONS, "--precision offers other values than the config"


def test_existing_run_is_not_overwritten_and_resume_needs_a_run(tiny_config, tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(OutputError, match="--resume"):
        prepare_config(str(tiny_config), tmp_path / "run", False)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        prepare_config(None, tmp_path / "empty", True)


def test_foreign_and_future_checkpoints_are_refused(tmp_path):
    not_torch = tmp_path / "notes.pt"
    not_torch.write_text("hello")
    with pytest.raises(CheckpointError, match="not a wiass checkpoint"):
        load_separator(not_torch)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a wiass checkpoint"):
        load_separator(foreign)

    config = load_config("small")
    future = tmp_path / "future.pt"
    save_separator(future, build_model(config), config)
    payload = torch.load(future, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, future)
    with pytest.raises(CheckpointError, match="format 2 was written by wiass"):
        load_separator(future)


def test_bad_dataset_leaves_no_run_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    result = run_wiass("train", "--data", str(tmp_path / "empty"), "--out", str(out))
    assert result.returncode == 2
    assert "no track folders" in result.stderr and str(tmp_path / "empty") in result.stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Precision by capability


@pytest.mark.parametrize(
    ("probe", "requested", "chosen"),
    [
        ("pass", "auto", "bf16-mixed"),
        ("fail", "auto", "32-true"),
        ("pass", "bf16-mixed", "bf16-mixed"),
        ("pass", "32-true", "32-true"),
        ("fail", "32-true", "32-true"),
    ],
)
def test_precision_follows_the_probe(monkeypatch, probe, requested, chosen):
    monkeypatch.setenv(BF16_PROBE_ENV, probe)
    precision, line = resolve_precision(requested, "cpu")
    assert precision == chosen
    assert line.startswith(f"precision: {chosen} (") and "\n" not in line
    if requested == "auto":
        assert f"forced by {BF16_PROBE_ENV}={probe}" in line


def test_explicit_bf16_where_the_probe_fails_is_a_config_error(monkeypatch):
    monkeypatch.setenv(BF16_PROBE_ENV, "fail")
    with pytest.raises(ConfigError, match="train.precision: bf16-mixed cannot run here"):
        resolve_precision("bf16-mixed", "cpu")
    with pytest.raises(ConfigError, match="16-mixed needs a CUDA GPU"):
        resolve_precision("16-mixed", "cpu")


@pytest.mark.parametrize(("native", "chosen"), [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_on_a_gpu_takes_bf16_only_where_it_is_native(monkeypatch, native, chosen):
    monkeypatch.delenv(BF16_PROBE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Test GPU")
    monkeypatch.setattr(
        torch.cuda,
        "is_bf16_supported",
        lambda including_emulation=True: native or including_emulation,
    )
    precision, line = resolve_precision("auto", "auto")
    assert precision == chosen and "Test GPU" in line
    assert resolve_precision("16-mixed", "gpu")[0] == "16-mixed"


def test_the_real_probe_gives_a_reason_and_runs_once():
    first = bf16_support("cpu")
    assert first.reason and isinstance(first.ok, bool)
    assert bf16_support("cpu") is first, "the probe ran again"


def test_bf16_probe_fails_where_onednn_has_no_bf16_lstm():
    """ONEDNN_MAX_CPU_ISA=AVX2 makes oneDNN behave as on an AVX2-only CPU (no bf16 LSTM)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("ONEDNN_MAX_CPU_ISA=AVX2 stands for an AVX2-only CPU on x86 only")
    code = "from wiass.precision import bf16_support; s = bf16_support(); print(s.ok, s.reason)"
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    env.pop(BF16_PROBE_ENV, None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False this CPU cannot run a bf16 LSTM"), result.stdout


@pytest.mark.slow
def test_training_falls_back_to_fp32_where_bf16_cannot_run(tiny_config, data_root, tmp_path):
    """On an AVX2-only CPU (stood for by ONEDNN_MAX_CPU_ISA=AVX2) auto trains in 32-true, and
    an explicit bf16-mixed is refused before the run folder exists."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("ONEDNN_MAX_CPU_ISA=AVX2 stands for an AVX2-only CPU on x86 only")
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    env.pop(BF16_PROBE_ENV, None)
    out = tmp_path / "run"
    args = ["train", "--config", str(tiny_config), "--data", str(data_root), "--out", str(out)]
    refused = run_wiass(*args, "--precision", "bf16-mixed", env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "bf16-mixed cannot run here" in refused.stderr and not out.exists()

    result = run_wiass(*args, "--accelerator", "cpu", "--max-epochs", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "precision: 32-true (auto: this CPU cannot run a bf16 LSTM" in result.stderr
    assert (out / "separator.pt").is_file()


@pytest.mark.skipif(not bf16_support().ok, reason=f"bf16 cannot run: {bf16_support().reason}")
def test_auto_trains_in_bf16_where_the_probe_passes(tiny_config, data_root, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        quick_train(tiny_config, data_root, tmp_path / "run", max_epochs=1)
    assert "precision: bf16-mixed (auto: " in caplog.text


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--precision", "bf16-mixed", "--out", "{out}"],
        ["experiment", "--precision", "bf16-mixed", "--out", "{out}"],
        ["demo", "--train", "--precision", "bf16-mixed", "--out", "{out}"],
    ],
)
def test_commands_refuse_bf16_before_writing_where_it_cannot_run(monkeypatch, tmp_path, command):
    monkeypatch.setenv(BF16_PROBE_ENV, "fail")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [arg.format(out=out) for arg in command])
    assert result.exit_code == 2, result.output
    assert "train.precision: bf16-mixed cannot run here" in result.output
    assert f"{BF16_PROBE_ENV}=fail" in result.output and not out.exists()


def test_two_line_config_trains_the_small_preset_in_fp32(monkeypatch, tmp_path):
    monkeypatch.setenv(BF16_PROBE_ENV, "pass")
    mine = tmp_path / "my.yaml"
    mine.write_text("base: small\ntrain: {precision: 32-true}\n")
    config = prepare_config(str(mine), tmp_path / "run", False)
    small = load_config("small")
    assert config.model == small.model and config.data == small.data
    options = TrainOptions(out=tmp_path / "run", accelerator="cpu", progress=False)
    precision, line = resolve_precision(config.train.precision, options.accelerator)
    assert line == "precision: 32-true (as configured)"
    assert _trainer(config, options, precision).precision == "32-true"
    assert _trainer(small, options, "bf16-mixed").precision == "bf16-mixed"


# ---------------------------------------------------------------------------------------------
# Impossible values and damaged checkpoints: one line, exit 2, nothing written


@pytest.mark.parametrize("command", ["train", "experiment"])
def test_nan_learning_rate_is_refused_before_anything_is_written(tmp_path, command):
    bad = tmp_path / "nan.yaml"
    bad.write_text("base: small\ntrain: {learning_rate: .nan}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [command, "--config", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{bad}: train.learning_rate: expected a number > 0, got nan" in result.output
    assert not out.exists()


@pytest.mark.parametrize("command", ["train", "experiment"])
def test_excerpt_longer_than_every_track_is_refused(tiny_config, data_root, tmp_path, command):
    long = tmp_path / "long.yaml"
    long.write_text(f"base: {tiny_config}\ndata: {{excerpt_seconds: 100000}}\n")
    out = tmp_path / "out"
    args = [command, "--config", str(long), "--data", str(data_root), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "data.excerpt_seconds: 100000 s is longer than every training track" in result.output
    assert "the longest lasts 4.5 s" in result.output and not out.exists()


def test_excerpt_longer_than_the_synthetic_songs_is_refused(tmp_path):
    config = load_config("small")
    config.data = replace(config.data, excerpt_seconds=SYNTHETIC_SECONDS + 1)
    with pytest.raises(ConfigError, match="synthetic default songs"):
        train(config, TrainOptions(out=tmp_path / "run", progress=False))
    assert not (tmp_path / "run").exists()


def test_the_synthetic_default_is_written_once_per_folder(tmp_path, monkeypatch):
    """train, demo and experiment share it: written when its splits are missing, then kept."""
    calls = []

    def write_dataset(folder, **options):
        calls.append((folder, options))
        for split in ("train", "test") if options["n_test"] else ("train",):
            (folder / split).mkdir(parents=True)
        return folder

    monkeypatch.setattr("wiass.data.synthetic.write_dataset", write_dataset)
    demo, experiment = tmp_path / "demo", tmp_path / "experiment"
    for _ in range(2):
        assert synthetic_default(demo, 16000, n_test=0) == demo
        assert synthetic_default(experiment, 8000) == experiment
    common = {"n_train": 40, "seconds": SYNTHETIC_SECONDS}
    assert calls == [
        (demo, {**common, "n_test": 0, "sample_rate": 16000}),
        (experiment, {**common, "n_test": 10, "sample_rate": 8000}),
    ]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, data_root) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "train": {"max_epochs": 1}}))
    quick_train(config, data_root, folder / "run")
    return folder / "run"


class Pickled:
    """An object that only a full (unsafe) unpickling can rebuild."""


def _damage(last: Path, how: str) -> None:
    if how == "truncated":
        last.write_bytes(last.read_bytes()[:1000])
    elif how == "pickled":
        torch.save({"state_dict": {}, "wiass": {}, "loops": {}, "object": Pickled()}, last)
    elif how == "foreign":
        torch.save({"state_dict": {"weight": torch.zeros(3)}, "epoch": 3}, last)
    elif how == "other model":
        checkpoint = torch.load(last, weights_only=True)
        key = next(iter(checkpoint["state_dict"]))
        checkpoint["state_dict"][key] = torch.zeros(1, 2, 3)
        torch.save(checkpoint, last)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("truncated", "damaged, torch cannot read it"),
        ("pickled", "holds pickled Python objects"),
        ("foreign", "not a wiass training checkpoint"),
        ("other model", r"holds another model than the run's config.yaml \(model\."),
    ],
)
def test_resume_refuses_a_bad_last_checkpoint(finished_run, tmp_path, how, message):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    last = run / "checkpoints" / "last.ckpt"
    _damage(last, how)
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    result = CliRunner().invoke(main, ["train", "--out", str(run), "--resume", "--max-epochs", "3"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("wiass: error: ") and result.output.count("\n") == 1
    assert str(last) in result.output and re.search(message, result.output), result.output
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before, "the run was changed"
