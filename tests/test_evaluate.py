"""Tests of wiass.evaluate and the ``wiass evaluate`` command on tiny generated folders."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from wiass import metrics
from wiass.audio import read_audio, resample, write_audio
from wiass.cli import main
from wiass.errors import AudioError, DataError, MetricsError
from wiass.evaluate import (
    evaluate_folders,
    find_tracks,
    format_table,
    load_references,
    parse_targets,
    score_track,
    validate_folders,
    validate_track,
)

RATE = 8000
TRACKS = ("Artist - Song A", "Band - Song B")


def _stems(seed: int, seconds: float) -> dict[str, np.ndarray]:
    """Stereo vocals with a silent stretch, accompaniment, their mixture; (2, samples)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    vocals = np.stack([np.sin(2 * np.pi * 330 * t), 0.5 * np.sin(2 * np.pi * 440 * t)])
    vocals = (0.3 * vocals * (1 + 0.2 * rng.standard_normal(n))).astype(np.float32)
    vocals[:, RATE : 2 * RATE] = 0.0
    accompaniment = (0.2 * rng.standard_normal((2, n))).astype(np.float32)
    return {"vocals": vocals, "accompaniment": accompaniment, "mixture": vocals + accompaniment}


def _make_folders(
    root: Path, *, derive_accompaniment: bool = False, seconds: tuple[float, ...] = (3.0, 2.5)
) -> tuple[Path, Path]:
    """references/<track>/{vocals,accompaniment|mixture}.wav and noisy estimates (FLOAT wav)."""
    refs, ests = root / "references", root / "estimates"
    for index, (track, length) in enumerate(zip(TRACKS, seconds, strict=True)):
        stems = _stems(index, length)
        rng = np.random.default_rng(100 + index)
        kept = ("vocals", "mixture") if derive_accompaniment else ("vocals", "accompaniment")
        for name in kept:
            write_audio(refs / track / f"{name}.wav", stems[name], RATE, subtype="FLOAT")
        for name in ("vocals", "accompaniment"):
            noisy = stems[name] + 0.05 * rng.standard_normal(stems[name].shape)
            if name == "vocals":
                noisy[:, RATE + 100 : RATE + 4000] = 0.0
            write_audio(ests / track / f"{name}.wav", noisy, RATE, subtype="FLOAT")
    return refs, ests


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _run(*args: str):
    return CliRunner().invoke(main, ["evaluate", *args])


@pytest.fixture
def folders(tmp_path):
    return _make_folders(tmp_path)


# ---------------------------------------------------------------------------- discovery


def test_parse_targets():
    assert parse_targets("vocals, accompaniment") == ("vocals", "accompaniment")
    assert parse_targets("vocals") == ("vocals",)
    for bad in ("", "vocals,", "vocals,vocals", "../x"):
        with pytest.raises(DataError):
            parse_targets(bad)


def test_find_tracks_and_validate(folders):
    refs, ests = folders
    assert find_tracks(refs, ests) == sorted(TRACKS)
    pairs = validate_folders(refs, ests)
    assert [p.name for p in pairs] == sorted(TRACKS)
    assert (pairs[0].sample_rate, pairs[0].channels, pairs[0].samples) == (RATE, 2, 3 * RATE)
    assert pairs[1].estimates["vocals"] == ests / TRACKS[1] / "vocals.wav"


def test_track_only_in_one_folder(folders):
    refs, ests = folders
    (ests / "Extra - Track").mkdir()
    with pytest.raises(DataError, match="Extra - Track"):
        find_tracks(refs, ests)
    (ests / "Extra - Track").rmdir()
    (refs / "Lonely - Track").mkdir()
    with pytest.raises(DataError, match="Lonely - Track"):
        find_tracks(refs, ests)


def test_missing_folders(tmp_path, folders):
    refs, ests = folders
    with pytest.raises(DataError, match="nowhere"):
        find_tracks(tmp_path / "nowhere", ests)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no track folders"):
        find_tracks(tmp_path / "empty", ests)


def test_excluded_output_folder_is_not_a_track(folders):
    refs, ests = folders
    (ests / "scores").mkdir()
    assert find_tracks(refs, ests, exclude=(ests / "scores",)) == sorted(TRACKS)
    with pytest.raises(DataError, match="output folder"):
        find_tracks(refs, ests, exclude=(ests / TRACKS[0],))


def test_derived_accompaniment(tmp_path):
    refs, ests = _make_folders(tmp_path, derive_accompaniment=True)
    pair = validate_track(TRACKS[0], refs, ests, ("vocals", "accompaniment"))
    track_dir = refs / TRACKS[0]
    expected_label = f"{track_dir / 'mixture.wav'} - {track_dir / 'vocals.wav'}"
    assert pair.references["accompaniment"].describe() == expected_label
    loaded = load_references(pair)
    expected = _stems(0, 3.0)["accompaniment"]
    np.testing.assert_allclose(loaded["accompaniment"], expected, atol=1e-6)
    (refs / TRACKS[0] / "vocals.wav").unlink()
    with pytest.raises(DataError, match="accompaniment.wav"):
        validate_track(TRACKS[0], refs, ests, ("accompaniment",))


def test_validation_errors_name_the_file(folders):
    refs, ests = folders
    track = TRACKS[1]
    est = ests / track / "vocals.wav"
    audio, _ = read_audio(est)
    write_audio(est, audio[:, :-10], RATE, subtype="FLOAT")
    with pytest.raises(MetricsError, match="length") as exc:
        validate_folders(refs, ests)
    assert str(est) in str(exc.value)
    write_audio(est, audio[:1], RATE, subtype="FLOAT")
    with pytest.raises(MetricsError, match="channel"):
        validate_folders(refs, ests)
    write_audio(est, audio, 16000, subtype="FLOAT")
    with pytest.raises(MetricsError, match="16000 Hz"):
        validate_folders(refs, ests)
    est.write_bytes(b"RIFF garbage")
    with pytest.raises(AudioError, match="not a readable audio file"):
        validate_folders(refs, ests)
    est.unlink()
    with pytest.raises(DataError, match="no such file"):
        validate_folders(refs, ests)


# ---------------------------------------------------------------------------- scoring


def test_score_track_equals_metrics(folders):
    refs, ests = folders
    pair = validate_track(TRACKS[0], refs, ests, ("vocals", "accompaniment"))
    result = score_track(pair)
    references = {n: read_audio(refs / TRACKS[0] / f"{n}.wav")[0] for n in pair.targets}
    estimates = {n: read_audio(ests / TRACKS[0] / f"{n}.wav")[0] for n in pair.targets}
    direct = metrics.evaluate_track(references, estimates, RATE)
    for name in pair.targets:
        for field in ("sdr", "isr", "sir", "sar", "pes", "eps"):
            np.testing.assert_array_equal(
                getattr(result.scores.targets[name], field), getattr(direct.targets[name], field)
            )
    vocals = result.scores.targets["vocals"]
    assert vocals.sdr.shape == (3,)
    assert np.isnan(vocals.sdr[1]) and np.isfinite(vocals.sdr[[0, 2]]).all()
    assert vocals.pes_frames.tolist() == [1]


def test_format_table(folders):
    refs, ests = folders
    evaluation = evaluate_folders(refs, ests, progress=False)
    table = format_table(evaluation)
    for word in ("vocals", "accompaniment", "SDR", "SIR", "SAR", "ISR", "PES", "EPS", "median"):
        assert word in table
    assert "2 tracks" in table


# ---------------------------------------------------------------------------- command line


def test_cli_writes_json_and_csv(folders):
    refs, ests = folders
    result = _run("--references", str(refs), "--estimates", str(ests))
    assert result.exit_code == 0, result.output
    out = ests / "scores"
    assert "SDR" in result.output and str(out) in result.output
    assert {p.relative_to(out).as_posix() for p in _files(out)} == {
        f"tracks/{TRACKS[0]}.json",
        f"tracks/{TRACKS[1]}.json",
        f"museval/test/{TRACKS[0]}.json",
        f"museval/test/{TRACKS[1]}.json",
        "summary.json",
        "scores.csv",
    }
    with open(out / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["track"], r["target"]) for r in rows] == [
        (t, n) for t in sorted(TRACKS) for n in ("vocals", "accompaniment")
    ]
    for track in TRACKS:
        references = {
            n: read_audio(refs / track / f"{n}.wav")[0] for n in ("vocals", "accompaniment")
        }
        estimates = {
            n: read_audio(ests / track / f"{n}.wav")[0] for n in ("vocals", "accompaniment")
        }
        direct = metrics.evaluate_track(references, estimates, RATE)
        document = json.loads((out / "tracks" / f"{track}.json").read_text())
        assert document["track"] == track and document["sample_rate"] == RATE
        for target in document["targets"]:
            scores = direct.targets[target["name"]]
            frame_sdr = [f["metrics"]["SDR"] for f in target["frames"]]
            expected = [None if math.isnan(v) else v for v in scores.sdr.tolist()]
            assert frame_sdr == expected
            assert [f["time"] for f in target["frames"]] == [float(k) for k in range(len(expected))]
            assert [p["value"] for p in target["PES"]] == scores.pes.tolist()
            summary = scores.summary()
            assert target["summary"]["SDR"] == pytest.approx(summary["SDR"])
            row = next(r for r in rows if r["track"] == track and r["target"] == target["name"])
            assert float(row["SIR"]) == pytest.approx(summary["SIR"], rel=1e-12)
            silent_vocal_frames = 1 if target["name"] == "vocals" else 0
            assert int(row["pes_frames"]) == summary["pes_frames"] == silent_vocal_frames
    summary_json = json.loads((out / "summary.json").read_text())
    assert summary_json["tracks"] == sorted(TRACKS)
    sdr = [float(r["SDR"]) for r in rows if r["target"] == "vocals"]
    assert summary_json["aggregate"]["vocals"]["SDR"]["median"] == pytest.approx(np.median(sdr))


def test_cli_rerun_skips_its_output_folder_and_out_option(folders, tmp_path):
    refs, ests = folders
    assert _run("--references", str(refs), "--estimates", str(ests)).exit_code == 0
    again = _run("--references", str(refs), "--estimates", str(ests), "--targets", "vocals")
    assert again.exit_code == 0, again.output
    assert "accompaniment" not in again.output
    out = tmp_path / "elsewhere" / "scores"
    result = _run("--references", str(refs), "--estimates", str(ests), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "scores.csv").exists()


def test_cli_jobs_2_matches_jobs_1(folders, tmp_path):
    refs, ests = folders
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        args = ["--references", str(refs), "--estimates", str(ests), "--out", str(out)]
        result = _run(*args, "--jobs", jobs)
        assert result.exit_code == 0, result.output
        outputs.append({p.relative_to(out): p.read_bytes() for p in _files(out)})
    assert outputs[0] == outputs[1]


def test_cli_derives_accompaniment(tmp_path):
    refs, ests = _make_folders(tmp_path, derive_accompaniment=True)
    result = _run(
        "--references", str(refs), "--estimates", str(ests), "--win", "0.5", "--hop", "0.5"
    )
    assert result.exit_code == 0, result.output
    document = json.loads((ests / "scores" / "tracks" / f"{TRACKS[0]}.json").read_text())
    accompaniment = next(t for t in document["targets"] if t["name"] == "accompaniment")
    assert accompaniment["reference"].endswith(
        "mixture.wav - " + str(refs / TRACKS[0] / "vocals.wav")
    )
    assert [f["time"] for f in accompaniment["frames"]] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert document["win_samples"] == document["hop_samples"] == RATE // 2


def _break_length(refs: Path, ests: Path) -> Path:
    path = ests / TRACKS[1] / "accompaniment.wav"
    audio, _ = read_audio(path)
    write_audio(path, audio[:, :-1], RATE, subtype="FLOAT")
    return path


def _break_rate(refs: Path, ests: Path) -> Path:
    path = ests / TRACKS[1] / "vocals.wav"
    audio, _ = read_audio(path)
    write_audio(path, audio, 16000, subtype="FLOAT")
    return path


def _break_missing(refs: Path, ests: Path) -> Path:
    path = ests / TRACKS[1] / "vocals.wav"
    path.unlink()
    return path


def _break_corrupt(refs: Path, ests: Path) -> Path:
    path = refs / TRACKS[1] / "accompaniment.wav"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    return path


def _break_extra_track(refs: Path, ests: Path) -> Path:
    path = ests / "Unknown - Track"
    path.mkdir()
    return path


def _break_non_finite(refs: Path, ests: Path) -> Path:
    path = ests / TRACKS[1] / "vocals.wav"
    audio, _ = read_audio(path)
    audio[0, 5000] = np.nan
    sf.write(path, audio.T, RATE, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "breaker",
    [
        _break_length,
        _break_rate,
        _break_missing,
        _break_corrupt,
        _break_extra_track,
        _break_non_finite,
    ],
)
def test_cli_errors_exit_2_with_one_line_and_no_outputs(folders, breaker):
    refs, ests = folders
    bad = breaker(refs, ests)
    before = _files(refs) | _files(ests)
    result = _run("--references", str(refs), "--estimates", str(ests), "--jobs", "2")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("wiass: error: ") and str(bad) in lines[0]
    assert not (ests / "scores").exists()
    assert _files(refs) | _files(ests) == before


def test_cli_bad_out_and_frame_options(folders, tmp_path):
    refs, ests = folders
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    for extra, needle in (
        (["--out", str(blocker / "scores")], str(blocker)),
        (["--win", "0.00001"], "--win"),
        (["--targets", "vocals,,drums"], "--targets"),
    ):
        result = _run("--references", str(refs), "--estimates", str(ests), *extra)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("wiass: error: ") and needle in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (ests / "scores").exists()


# ---------------------------------------------------------------------------- museval, marks


def _museval():
    """museval, or a skip that says why it cannot be imported (stempeg, imported by musdb,
    imported by museval, raises RuntimeError without ffmpeg)."""
    try:
        import museval
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"museval unusable: {exc}")
    return museval


def test_museval_reads_the_museval_json_with_the_same_medians(folders):
    museval = _museval()
    import jsonschema

    refs, ests = folders
    assert _run("--references", str(refs), "--estimates", str(ests)).exit_code == 0
    out = ests / "scores"
    schema = json.loads((Path(museval.__file__).parent / "musdb.schema.json").read_text())
    for track in TRACKS:
        jsonschema.validate(
            json.loads((out / "museval" / "test" / f"{track}.json").read_text()), schema
        )
    store = museval.EvalStore()
    store.add_eval_dir(out / "museval")
    medians = store.agg_frames_scores()
    with open(out / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        for metric in ("SDR", "SIR", "SAR", "ISR"):
            expected = float(row[metric])
            got = medians[(row["track"], row["target"], metric)]
            assert got == pytest.approx(expected, abs=1e-9), (row["track"], metric)


def test_long_track_name_fails_before_scoring(folders, monkeypatch):
    refs, ests = folders
    long_name = "L" * 240  # a folder name, but "<name>.json" with its temporary name is too long
    for folder in (refs, ests):
        (folder / TRACKS[0]).rename(folder / long_name)
    scored = []
    monkeypatch.setattr("wiass.evaluate.score_track", lambda *args: scored.append(args))
    before = _files(refs) | _files(ests)
    result = _run("--references", str(refs), "--estimates", str(ests))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("wiass: error: ")
    assert f"{long_name}.json" in lines[0] and "cannot be written" in lines[0]
    assert scored == [], "scored before checking the output names"
    assert not (ests / "scores").exists()
    assert _files(refs) | _files(ests) == before


def test_output_path_that_is_a_folder_fails_before_scoring(folders, tmp_path):
    refs, ests = folders
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)
    result = _run("--references", str(refs), "--estimates", str(ests), "--out", str(out))
    assert result.exit_code == 2 and "summary.json: is a folder" in result.output
    assert not _files(out)


def test_ill_conditioned_track_is_marked(tmp_path):
    """One track's references are broadband noise resampled 44.1 -> 16 kHz (an empty top
    band): that track is marked in every output, the other is not."""
    refs, ests = _make_folders(tmp_path)
    rng = np.random.default_rng(7)
    track = TRACKS[1]
    stems = {
        name: resample(rng.standard_normal((2, 2 * 44100)).astype(np.float32), 44100, RATE)
        for name in ("vocals", "accompaniment")
    }
    for name, audio in stems.items():
        write_audio(refs / track / f"{name}.wav", audio, RATE, subtype="FLOAT")
        noisy = audio + 0.1 * stems["accompaniment" if name == "vocals" else "vocals"]
        noisy += 0.01 * rng.standard_normal(audio.shape)
        write_audio(ests / track / f"{name}.wav", noisy, RATE, subtype="FLOAT")
    result = _run("--references", str(refs), "--estimates", str(ests))
    assert result.exit_code == 0, result.output
    assert "ill-conditioned on 1 of 2 track(s)" in result.output and track in result.output
    out = ests / "scores"
    with open(out / "scores.csv", newline="") as handle:
        marks = {(r["track"], r["target"]): r["ill_conditioned"] for r in csv.DictReader(handle)}
    assert marks == {
        (t, n): "yes" if t == track else "" for t in TRACKS for n in ("vocals", "accompaniment")
    }
    assert json.loads((out / "summary.json").read_text())["ill_conditioned_tracks"] == [track]
    for name in TRACKS:
        document = json.loads((out / "tracks" / f"{name}.json").read_text())
        assert document["ill_conditioned"] is (name == track)
        museval_doc = json.loads((out / "museval" / "test" / f"{name}.json").read_text())
        assert museval_doc["wiass"]["ill_conditioned"] is (name == track)
        assert museval_doc["wiass"]["sample_rate"] == RATE and museval_doc["wiass"]["channels"] == 2
