"""Separation's precision: bfloat16 where the device runs it, float32 elsewhere, both tested."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tiny_separators import MODEL_RATE, noise, save_tiny

import wiass
from wiass.errors import ConfigError
from wiass.precision import BF16_PROBE_ENV, SEPARATION_PRECISIONS, bf16_support, inference_bf16
from wiass.separator import load_separator

BF16_RUNS = bf16_support().ok
needs_bf16 = pytest.mark.skipif(not BF16_RUNS, reason=f"no bf16 here: {bf16_support().reason}")
x86_only = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"),
    reason="ONEDNN_MAX_CPU_ISA=AVX2 stands for an AVX2-only CPU on x86 only",
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    return save_tiny(tmp_path_factory.mktemp("models"), ("none", "A3.1"))


def test_the_command_line_offers_the_separation_precisions():
    from wiass.cli import SEPARATION_PRECISION_CHOICES

    assert SEPARATION_PRECISION_CHOICES == SEPARATION_PRECISIONS


def test_float32_is_float32_everywhere(monkeypatch):
    monkeypatch.setenv(BF16_PROBE_ENV, "pass")
    assert inference_bf16("32-true") is False
    assert inference_bf16("auto") is True and inference_bf16("bf16-mixed") is True


def test_auto_falls_back_and_an_explicit_bf16_is_refused_where_it_cannot_run(monkeypatch):
    monkeypatch.setenv(BF16_PROBE_ENV, "fail")
    assert inference_bf16("auto") is False
    with pytest.raises(ConfigError, match="bf16-mixed cannot run here: forced by"):
        inference_bf16("bf16-mixed")
    with pytest.raises(ConfigError, match="expected one of"):
        inference_bf16("16-mixed")


@needs_bf16
@pytest.mark.parametrize("kind", ["none", "A3.1"])
def test_bf16_separation_is_close_to_float32_and_really_bf16(checkpoints, kind):
    separator = load_separator(checkpoints[kind])
    mixture = noise(2, 3.0, MODEL_RATE, seed=2)
    side = "0011" * 10 if kind == "A3.1" else None
    results = {
        precision: wiass.separate(mixture, MODEL_RATE, separator, side, precision=precision)
        for precision in ("32-true", "bf16-mixed")
    }
    fp32, bf16 = results["32-true"].vocals, results["bf16-mixed"].vocals
    assert not np.array_equal(fp32, bf16), "bf16-mixed ran in float32"
    scale = np.sqrt(np.mean(fp32**2))
    assert np.sqrt(np.mean((bf16 - fp32) ** 2)) < 0.05 * scale
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(bf16 + results["bf16-mixed"].accompaniment, mixture, atol=1e-6)
    if kind == "A3.1":
        attention = results["bf16-mixed"].attention
        assert attention.dtype == np.float32
        np.testing.assert_allclose(attention, results["32-true"].attention, atol=0.02)


def test_auto_on_a_cpu_without_bf16_gives_the_float32_result(checkpoints, monkeypatch):
    separator = load_separator(checkpoints["A3.1"])
    mixture = noise(1, 2.0, MODEL_RATE, seed=3)
    fp32 = wiass.separate(mixture, MODEL_RATE, separator, "01" * 8, precision="32-true")
    monkeypatch.setenv(BF16_PROBE_ENV, "fail")
    auto = wiass.separate(mixture, MODEL_RATE, separator, "01" * 8, precision="auto")
    np.testing.assert_array_equal(auto.vocals, fp32.vocals)


def run_separate(checkpoint: Path, mixture: Path, out: Path, *options: str, env=None):
    command = [sys.executable, "-m", "wiass", "separate", str(mixture), "--model"]
    return subprocess.run(
        [*command, str(checkpoint), "--out", str(out), *options],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_cli_refuses_bf16_where_it_cannot_run_before_writing(checkpoints, tmp_path):
    mixture = tmp_path / "mix.wav"
    sf.write(mixture, noise(2, 1.0, MODEL_RATE).T, MODEL_RATE)
    env = {**os.environ, BF16_PROBE_ENV: "fail"}
    out = tmp_path / "out"
    done = run_separate(checkpoints["none"], mixture, out, "--precision", "bf16-mixed", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "bf16-mixed cannot run here" in done.stderr and not out.exists()


@pytest.mark.slow
@x86_only
def test_cli_on_an_avx2_cpu_separates_in_float32(checkpoints, tmp_path):
    """ONEDNN_MAX_CPU_ISA=AVX2 makes oneDNN behave as on an AVX2-only CPU: the default
    (auto) separates in float32 there, the same as --precision 32-true."""
    mixture = tmp_path / "mix.wav"
    sf.write(mixture, noise(2, 2.0, MODEL_RATE, seed=4).T, MODEL_RATE, subtype="FLOAT")
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    env.pop(BF16_PROBE_ENV, None)
    auto = run_separate(checkpoints["none"], mixture, tmp_path / "auto", env=env)
    assert auto.returncode == 0, auto.stderr
    fp32 = run_separate(checkpoints["none"], mixture, tmp_path / "fp32", "--precision", "32-true")
    assert fp32.returncode == 0, fp32.stderr
    vocals_auto, _ = sf.read(tmp_path / "auto" / "vocals.wav")
    vocals_fp32, _ = sf.read(tmp_path / "fp32" / "vocals.wav")
    np.testing.assert_array_equal(vocals_auto, vocals_fp32)
