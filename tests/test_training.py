"""Training on Lightning: runs, checkpoints, resume after a kill, reproducibility, DDP, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from helpers import write_dataset

from wiass.config import load_config
from wiass.errors import CheckpointError, ConfigError, OutputError, SideInfoError
from wiass.separator import FORMAT_VERSION, build_model, load_separator, save_separator
from wiass.training import TrainOptions, prepare_config, train

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
