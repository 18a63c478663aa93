"""The Table-1 experiment: oracles, alignment accuracy, tables, and a tiny resumable run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import yaml
from helpers import write_dataset, write_track

from wiass.config import AudioConfig
from wiass.data.tracks import Track
from wiass.errors import ConfigError
from wiass.experiment import (
    alignment_by_rate,
    alignment_scores,
    native_stft,
    oracle_vocals,
    select_systems,
    true_steps,
)
from wiass.experiment.tables import scoring_note, system_row, tracks_csv
from wiass.metrics import evaluate_track
from wiass.scoring import score_vocals, track_references
from wiass.sideinfo import whole_track_side_info
from wiass.transforms import STFTConfig

STFT = STFTConfig(n_fft=256, hop=64)


def test_true_steps_pick_the_nearest_described_frame():
    alignment = np.array([-1, -1, 1, 4, 7, -1])
    assert true_steps(alignment, 9).tolist() == [2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert true_steps(np.array([-1, -1]), 3).tolist() == [-1, -1, -1]


def test_alignment_scores_of_a_perfect_and_a_wrong_attention():
    alignment = np.array([-1, 0, 2, 4, 6, -1])
    n_frames = 8
    truth = true_steps(alignment, n_frames)
    perfect = np.eye(6)[truth]
    assert alignment_scores(perfect, alignment) == {"accuracy": 1.0, "mass": 1.0}
    wrong = np.zeros((n_frames, 6))
    wrong[:, 0] = 1.0
    scores = alignment_scores(wrong, alignment)
    assert scores["mass"] == pytest.approx(np.mean(np.abs(truth - 0) <= 1))
    assert scores["accuracy"] == scores["mass"] < 0.5


def test_oracles_separate_as_their_definitions_say():
    rng = np.random.default_rng(0)
    n = 8000
    vocals = rng.standard_normal((2, n)).astype(np.float32)
    vocals[:, 2000:4000] = 0.0
    accompaniment = 0.5 * rng.standard_normal((2, n)).astype(np.float32)
    mixture = vocals + accompaniment
    np.testing.assert_array_equal(oracle_vocals(mixture, vocals, "Mix", STFT), mixture)
    irm = oracle_vocals(mixture, vocals, "IRM1", STFT)
    ibm = oracle_vocals(mixture, vocals, "IBM1", STFT)
    for estimate in (irm, ibm):
        assert estimate.shape == mixture.shape
        error = np.mean((estimate - vocals) ** 2)
        assert error < 0.5 * np.mean((mixture - vocals) ** 2)
    inner = slice(2400, 3600)
    assert np.max(np.abs(ibm[:, inner])) == 0.0, "a binary mask keeps nothing where V is silent"
    with pytest.raises(ConfigError, match="unknown oracle"):
        oracle_vocals(mixture, vocals, "IRM9", STFT)


def test_system_row_takes_medians_over_tracks_and_mean_over_seeds():
    def seed(sdr_values, pes):
        return {
            f"t{i}": {"SDR": v, "SAR": v, "SIR": v, "PES": pes, "EPS": -30.0,
                      "EPS_nonsilent": -20.0, "frames": 3, "nan_frames": 0,
                      "pes_frames": 1, "eps_frames": 1, "ISR": v}
            for i, v in enumerate(sdr_values)
        }  # fmt: skip

    row = system_row([seed([1.0, 2.0, 9.0], -40.0), seed([3.0, 4.0, 5.0], -60.0)])
    assert row["SDR"] == pytest.approx((2.0 + 4.0) / 2)
    assert row["SDR_std"] == pytest.approx(1.0)
    assert row["SDR_mean"] == pytest.approx((4.0 + 4.0) / 2)
    assert row["PES"] == pytest.approx(-50.0) and row["PES_std"] == pytest.approx(10.0)
    assert row["seeds"] == 2


def test_alignment_by_rate_pools_tracks_of_every_seed_per_rounded_rate():
    def track(rate, accuracy):
        return {"SDR": 1.0, "accuracy": accuracy, "mass": accuracy / 2, "frames_per_step": rate}

    seed0 = {"a": track(2.0, 0.2), "b": track(5.9, 0.9)}
    seed1 = {"a": track(2.0, 0.4), "b": track(6.1, 0.7)}
    table = alignment_by_rate({"A3.1": [seed0, seed1], "BL1": [{"a": {"SDR": 2.0}}]})
    assert list(table) == ["A3.1"]
    assert table["A3.1"][2] == pytest.approx({"accuracy": 0.3, "mass": 0.15, "count": 2})
    assert table["A3.1"][6] == pytest.approx({"accuracy": 0.8, "mass": 0.4, "count": 2})


def test_test_tracks_cycle_through_the_rates_and_do_not_depend_on_the_seed():
    from wiass.demo import shipped_model
    from wiass.separator import load_separator

    separator = load_separator(shipped_model("A3.1"))
    low, high = separator.config.side_info.rate_range
    vocals = np.random.default_rng(0).standard_normal((1, 16000 * 4)).astype(np.float32)
    span = high - low + 1
    config = separator.config
    rates = [whole_track_side_info("A3.1", config, vocals, i).rate for i in range(2 * span)]
    assert rates == [float(low + index % span) for index in range(2 * span)]
    first, again = (whole_track_side_info("A3.1", config, vocals, 3) for _ in range(2))
    np.testing.assert_array_equal(first.values, again.values)
    assert np.all(first.alignment >= 0), "a whole track needs no padding"
    assert whole_track_side_info("none", config, vocals, 0) is None
    assert whole_track_side_info("random", config, vocals, 0) is None


def test_unknown_system_is_a_clear_error():
    assert [s.name for s in select_systems("M2, BL1")] == ["BL1", "M2"]
    with pytest.raises(ConfigError, match="unknown system 'BL3'"):
        select_systems("BL1,BL3")


TINY = {
    "audio": {"sample_rate": 8000, "n_fft": 256, "hop": 64},
    "side_info": {"pad_range": [2, 4], "rate_range": [2, 3], "bands": 6},
    "data": {"excerpt_seconds": 1.0, "examples_per_epoch": 8, "validation_examples": 4,
             "batch_size": 4},
    "model": {"hidden_size": 8, "mix_layers": 1, "side_layers": 1, "decoder_layers": 1,
              "side_hidden_size": 8, "attention_size": 8},
    "train": {"max_epochs": 1},
}  # fmt: skip


@pytest.mark.slow
def test_tiny_experiment_writes_tables_and_resumes(tmp_path):
    data = write_dataset(tmp_path / "data", n_train=3, n_test=2)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "exp"
    command = [sys.executable, "-m", "wiass", "experiment", "--data", str(data)]
    command += ["--config", str(config), "--out", str(out), "--systems", "BL1,A3.1,M1"]
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr

    with open(out / "table1.csv", newline="") as handle:
        rows = {row["system"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["BL1", "A3.1", "M1", "IRM1", "IBM1", "Mix"]
    assert {"system", "SDR", "SAR", "SIR", "PES", "EPS"} <= set(rows["BL1"])
    assert float(rows["IRM1"]["SDR"]) > float(rows["Mix"]["SDR"])
    alignment = (out / "alignment.csv").read_text()
    assert "A3.1" in alignment and "M1" in alignment and "BL1" not in alignment
    assert (out / "attention" / "A3.1.png").is_file()
    with open(out / "alignment_by_rate.csv", newline="") as handle:
        by_rate = list(csv.DictReader(handle))
    assert {row["system"] for row in by_rate} == {"A3.1", "M1"}
    assert {row["frames_per_step"] for row in by_rate if row["system"] == "M1"} == {"1"}
    assert {row["frames_per_step"] for row in by_rate if row["system"] == "A3.1"} == {"2", "3"}, (
        "the two test tracks should cover rate_range [2, 3]"
    )
    assert all(0.0 <= float(row["accuracy"]) <= 1.0 for row in by_rate)
    assert "Accuracy by frames per step" in (out / "alignment.md").read_text()

    stored = out / "scores" / "BL1-seed0.json"
    marker = json.loads(stored.read_text())
    first_track = next(iter(marker))
    marker[first_track]["SDR"] = 123.0
    stored.write_text(json.dumps(marker))
    separator = out / "runs" / "BL1" / "seed0" / "separator.pt"
    modified = separator.stat().st_mtime_ns
    second = subprocess.run(command, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert separator.stat().st_mtime_ns == modified, "a finished system was retrained"
    with open(out / "table1.csv", newline="") as handle:
        again = {row["system"]: row for row in csv.DictReader(handle)}
    assert float(again["BL1"]["SDR_mean"]) > float(rows["BL1"]["SDR_mean"]) + 30, (
        "the stored scores were not reused"
    )


def test_score_vocals_gives_both_eps_variants():
    rng = np.random.default_rng(1)
    n = 4 * 8000
    vocals = rng.standard_normal((2, n)).astype(np.float32)
    vocals[:, 8000:16000] = 0.0
    mixture = vocals + 0.5 * rng.standard_normal((2, n)).astype(np.float32)
    estimate = vocals + 0.1 * rng.standard_normal((2, n)).astype(np.float32)
    estimate[:, 24000:] = 0.0
    estimate[:, 8000:16000] = 0.0
    track = Track("t", 8000, mixture, {"vocals": vocals})
    scores, scored = score_vocals(track, estimate)
    references = {"vocals": vocals, "accompaniment": mixture - vocals}
    estimates = {"vocals": estimate, "accompaniment": mixture - estimate}
    paper = evaluate_track(references, estimates, 8000, eps_for_silent_target=False)
    assert scores["EPS_nonsilent"] == pytest.approx(paper.summary()["vocals"]["EPS"])
    assert scores["EPS"] == pytest.approx(
        evaluate_track(references, estimates, 8000).summary()["vocals"]["EPS"]
    )
    assert np.isfinite(scores["EPS_nonsilent"])
    assert scores["EPS"] < scores["EPS_nonsilent"], "the silent-target frame must count only in EPS"
    assert (scores["sample_rate"], scores["channels"], scores["ill_conditioned"]) == (
        8000,
        2,
        False,
    )
    assert scored.scores.targets["vocals"].sdr.shape == (4,)


def test_references_are_the_untouched_stems():
    rng = np.random.default_rng(2)
    stems = {
        name: rng.standard_normal((2, 100)).astype(np.float32)
        for name in ("vocals", "bass", "drums")
    }
    mixture = 0.5 * sum(stems.values())  # a mixture that is not the stems' sum
    references = track_references(Track("t", 8000, mixture, stems))
    np.testing.assert_array_equal(references["vocals"], stems["vocals"])
    np.testing.assert_allclose(
        references["accompaniment"], stems["bass"] + stems["drums"], rtol=1e-6
    )


def test_native_stft_keeps_the_model_stft_durations():
    audio = AudioConfig(sample_rate=16000, n_fft=1024, hop=256)
    assert native_stft(audio, 16000) == STFTConfig(n_fft=1024, hop=256)
    assert native_stft(audio, 44100) == STFTConfig(n_fft=2822, hop=706)
    assert native_stft(audio, 8000) == STFTConfig(n_fft=512, hop=128)


def test_tables_say_where_tracks_were_scored_and_which_are_marked():
    def track(marked):
        return {"SDR": 1.0, "SIR": 2.0, "SAR": 3.0, "ISR": 4.0, "PES": -50.0, "EPS": -40.0,
                "EPS_nonsilent": -30.0, "frames": 3, "nan_frames": 0, "pes_frames": 1,
                "eps_frames": 1, "sample_rate": 44100, "channels": 2,
                "ill_conditioned": marked}  # fmt: skip

    results = {
        "BL1": [{"a": track(False), "b": track(True)}, {"a": track(False), "b": track(True)}],
        "IRM1": [{"a": track(False), "b": track(True)}],
    }
    note = scoring_note(results, 8000)
    assert "44100 Hz, 2 channel(s) (2 tracks); the models run at 8000 Hz" in note
    assert "ill-conditioned on 1 of 2 test tracks: b (every system)" in note
    rows = list(csv.DictReader(tracks_csv(results).splitlines()))
    assert len(rows) == 6
    assert {(r["system"], r["seed"], r["track"]) for r in rows if r["ill_conditioned"]} == {
        ("BL1", "0", "b"),
        ("BL1", "1", "b"),
        ("IRM1", "0", "b"),
    }
    assert all(r["sample_rate"] == "44100" for r in rows)
    clean = {"BL1": [{"a": track(False)}]}
    assert "well-conditioned on every track" in scoring_note(clean)


def _museval():
    """museval, or a skip that says why it cannot be imported (stempeg, imported by musdb,
    imported by museval, raises RuntimeError without ffmpeg)."""
    try:
        import museval
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"museval unusable: {exc}")
    return museval


BSS = ("SDR", "ISR", "SIR", "SAR")
"""museval.evaluate's order."""


def _read(path):
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == 44100
    return audio


@pytest.mark.slow
def test_experiment_scores_44k_stereo_tracks_as_museval_does(tmp_path):
    """Real-rate data: stems at 44.1 kHz stereo (broadband), a tiny model at 8 kHz. Every
    track is scored at 44.1 kHz, against the untouched stems, and its medians are museval's on
    the estimate files the experiment kept."""
    museval = _museval()
    data = tmp_path / "data"
    for i in range(2):
        write_track(data / "train" / f"song {i}", seconds=3.0, seed=i, sample_rate=44100)
    tracks = ["test 0", "test 1"]
    for i, name in enumerate(tracks):
        write_track(data / "test" / name, seconds=3.0, seed=100 + i, sample_rate=44100)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "exp"
    command = [sys.executable, "-m", "wiass", "experiment", "--data", str(data), "--config"]
    command += [str(config), "--out", str(out), "--systems", "BL1", "--keep-estimates"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    # Mix: the estimates sum the references up to float32 rounding, so its SAR and ISR
    # (~150 dB) are rounding noise that no two implementations share
    compared = {"BL1-seed0": BSS, "IRM1": BSS, "Mix": ("SDR", "SIR")}
    for label, metrics in compared.items():
        stored = json.loads((out / "scores" / f"{label}.json").read_text())
        assert sorted(stored) == tracks
        for name in tracks:
            row, stems = stored[name], data / "test" / name
            assert (row["sample_rate"], row["channels"], row["frames"]) == (44100, 2, 3)
            assert row["ill_conditioned"] is False
            references = [
                _read(stems / "vocals.wav"),
                sum(_read(stems / f"{stem}.wav") for stem in ("drums", "bass", "other")),
            ]
            kept = out / "estimates" / label / name
            estimates = [_read(kept / "vocals.wav"), _read(kept / "accompaniment.wav")]
            expected = museval.evaluate(references, estimates, win=44100, hop=44100)
            for metric in metrics:
                values = expected[BSS.index(metric)][0]
                assert row[metric] == pytest.approx(np.nanmedian(values), abs=0.01), metric

    table = (out / "table1.md").read_text()
    assert "44100 Hz, 2 channel(s) (2 tracks); the models run at 8000 Hz" in table
    assert "well-conditioned on every track" in table
    store = museval.EvalStore()
    store.add_eval_dir(out / "museval" / "BL1-seed0")
    medians = store.agg_frames_scores()
    stored = json.loads((out / "scores" / "BL1-seed0.json").read_text())
    for name in tracks:
        for metric in ("SDR", "SIR", "SAR"):
            assert medians[(name, "vocals", metric)] == pytest.approx(stored[name][metric])
