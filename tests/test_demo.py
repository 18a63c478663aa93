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

from wiass.config import Config, load_config
from wiass.demo import SYSTEMS, run_demo, shipped_model
from wiass.errors import ConfigError, OutputError
from wiass.separator import build_model, save_separator


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
    assert [s["name"] for s in results["systems"]] == ["BL1", "A3.1", "M2"]
    assert [t["name"] for t in results["tracks"]] == ["synthetic-000", "synthetic-001"]
    for track in results["tracks"]:
        folder = out / "tracks" / track["name"]
        mixture, rate = sf.read(folder / "mixture.wav", always_2d=True)
        assert rate == 8000 and mixture.shape == (48000, 2)
        for system in ("BL1", "A3.1", "M2"):
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
    assert set(results["summary"]) == {"BL1", "A3.1", "M2"}
    html = report.read_text()
    assert html.count("<audio") == 2 * (2 + 3)


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
        path = shipped_model(system.name)
        assert path.is_file(), f"missing shipped model {path}"
        assert path.stat().st_size < 8 * 2**20
    config = load_config("small")
    from wiass.separator import load_separator

    separator = load_separator(shipped_model("A3.1"))
    assert separator.side_info_kind == "A3.1"
    assert separator.config.model == config.model


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

    from wiass import demo, report_text, runs
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
    assert lines[-1] == f"report written to {out / 'report.html'}"
