"""The run folder (wiass.runs) and the alignment as times (wiass.inference.step_times): the step
times of known paths, the half-frame convention, what ``wiass separate`` and ``wiass demo`` write
and read back, and one-line errors for damaged or foreign folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import LABELS
from run_folders import copy_run

import wiass
from wiass.inference.step_times import (
    confidence_from_attention,
    path_from_attention,
    row_edges,
    step_times,
    step_times_from_path,
)
from wiass.plots import attention_extent, true_times
from wiass.runs import RunError, load_alignment, load_run, stored_path
from wiass.transforms import STFTConfig, magnitude

# ---------------------------------------------------------------------------------------------
# Step times


def test_step_times_of_a_known_path() -> None:
    """Rows 0.1 s apart (no pooling): row r spans [0.1 r - 0.05, 0.1 r + 0.05), the first from
    0, the last to the end of the 0.7 s mixture; step 2 is skipped, step 4 never reached."""
    path = np.array([0, 0, 1, 1, 1, 3, 3])
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    times = step_times_from_path(path, 5, 0.1, confidence, duration=0.7)
    np.testing.assert_allclose(times.start, [0.0, 0.15, 0.45, 0.45, 0.7])
    np.testing.assert_allclose(times.end, [0.15, 0.45, 0.45, 0.7, 0.7])
    np.testing.assert_allclose(times.confidence, [0.9, 0.8, 0.0, 0.6, 0.0])
    assert times.regions(np.array([1, 1, 0, 1, 0])) == [(0.0, 0.45), (0.45, 0.7)]


def test_pooled_rows_cover_their_frames() -> None:
    """Pooled by 4 (frames 0.1 s, rows 0.4 s): row 1 holds frames 4..7, centred at 0.4..0.7 s,
    so it spans [0.35, 0.75)."""
    np.testing.assert_allclose(row_edges(3, 0.4, 0.1), [0.0, 0.35, 0.75, 1.15])
    np.testing.assert_allclose(row_edges(3, 0.4, 0.1, duration=1.0), [0.0, 0.35, 0.75, 1.0])


def test_a_frame_is_centred_at_n_hop_on_every_axis() -> None:
    """The STFT is centred: a click at sample 10 * hop peaks in frame 10. The attention image,
    the true alignment and the step times all put frame 10 at 10 * hop / rate seconds."""
    rate, hop = 8000, 64
    audio = np.zeros(40 * hop, dtype=np.float32)
    audio[10 * hop] = 1.0
    energy = magnitude(audio, STFTConfig(n_fft=256, hop=hop)).numpy().sum(axis=1)
    assert int(np.argmax(energy)) == 10
    centre = 10 * hop / rate

    attention = np.full((40, 3), 0.01, dtype=np.float32)
    attention[:10, 0] = attention[10, 1] = attention[11:, 2] = 0.98
    times = step_times(attention, hop / rate, duration=len(audio) / rate)
    assert times.start[1] < centre < times.end[1]
    assert times.end[1] - times.start[1] == pytest.approx(hop / rate)
    assert true_times(np.array([10]), hop / rate)[0] == pytest.approx(centre)

    from wiass.runs import Alignment

    alignment = Alignment(attention, np.ones((3, 1)), "A3.1", rate, hop, 1, 0.32, times)
    left, right, _, _ = attention_extent(alignment)
    pixel = (right - left) / attention.shape[0]
    assert left + 10.5 * pixel == pytest.approx(centre)


def test_the_path_is_monotonic_and_one_stray_row_does_not_carry_it() -> None:
    """A diagonal attention with one stray row at the last step: a running maximum would stay
    on the last step from there on; the path goes back to the diagonal."""
    rows, steps = 60, 12
    attention = np.full((rows, steps), 0.02)
    diagonal = np.arange(rows) * steps // rows
    attention[np.arange(rows), diagonal] = 0.8
    attention[5] = 0.02
    attention[5, steps - 1] = 0.8
    path = path_from_attention(attention)
    assert np.all(np.diff(path) >= 0)
    assert np.abs(path - diagonal)[10:].max() <= 1
    confidence = confidence_from_attention(attention, path)
    assert np.all((confidence >= 0) & (confidence <= 1))
    assert confidence[6] == pytest.approx(0.8)


def test_a_path_that_goes_back_is_refused() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        step_times_from_path(np.array([0, 2, 1]), 3, 0.1, np.ones(3))
    with pytest.raises(ValueError, match=r"steps in \[0, 3\)"):
        step_times_from_path(np.array([0, 3]), 3, 0.1, np.ones(3))


# ---------------------------------------------------------------------------------------------
# What wiass separate and wiass demo write


def test_stored_paths_are_relative_inside_the_run(tmp_path: Path) -> None:
    assert stored_path(tmp_path / "run" / "a b" / "x.wav", tmp_path / "run") == "a b/x.wav"
    assert stored_path(tmp_path / "run", tmp_path / "run") == "."
    assert stored_path(tmp_path / "song.wav", tmp_path / "run") == str(tmp_path / "song.wav")


def _labels(path: Path) -> list[tuple[float, float, str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    return [(float(a), float(b), label) for a, b, label in rows]


def test_a_separate_folder_is_a_run_folder(separate_folders: dict[str, Path]) -> None:
    out = separate_folders["one"]
    run = load_run(out)
    assert [(s.name, s.kind) for s in run.systems] == [("A3.1", "A3.1")]
    assert run.scores is None and run.summary is None
    (track,) = run.tracks
    assert track.name == "song" and track.seconds == pytest.approx(12.0) and track.vocals is None
    assert run.path(track.mixture).is_file() and run.output_dir(track, "A3.1") == out / "."
    alignment = load_alignment(out)
    times = alignment.step_times
    assert times.start[0] == 0.0 and times.end[-1] == pytest.approx(12.0)
    np.testing.assert_allclose(times.start[1:], times.end[:-1], atol=1e-4)
    assert np.all((times.confidence >= 0) & (times.confidence <= 1))
    np.testing.assert_allclose(alignment.attention, np.load(out / "alignment.npy"))
    active = alignment.side_info[:, 0] > 0.5
    regions = times.regions(active)
    assert len(regions) == LABELS.count("\n")
    labels = _labels(out / "alignment_labels.txt")
    assert [label for _, _, label in labels] == ["sung"] * len(regions)
    np.testing.assert_allclose([(a, b) for a, b, _ in labels], regions, atol=1e-5)


def test_alignment_json_keeps_the_version_1_fields(separate_folders: dict[str, Path]) -> None:
    meta = json.loads((separate_folders["one"] / "alignment.json").read_text())
    attention = np.load(separate_folders["one"] / "alignment.npy")
    assert meta["version"] == 2 and meta["kind"] == "A3.1"
    assert (meta["frames"], meta["steps"]) == attention.shape
    assert meta["frame_seconds"] == pytest.approx(meta["frame_pool"] * meta["hop"] / 8000)
    assert meta["model_sample_rate"] == 8000 and meta["mixture"].endswith("song.wav")
    assert meta["step_seconds"] == pytest.approx(12.0 / meta["steps"], rel=0.05)
    assert len(meta["step_times"]) == meta["steps"]
    assert set(meta["step_times"][0]) == {"step", "start", "end", "confidence"}
    assert meta["labels"] == "alignment_labels.txt" and meta["true_alignment"] is None


def test_the_api_returns_the_step_times_the_folder_holds(separate_folders: dict[str, Path]) -> None:
    out = separate_folders["one"]
    run = load_run(out)
    mixture, rate = sf.read(run.path(run.tracks[0].mixture), dtype="float32", always_2d=True)
    labels = Path(run.tracks[0].mixture).with_name("song labels.txt")
    result = wiass.separate(mixture.T, rate, run.systems[0].model, labels)
    stored = load_alignment(out).step_times
    assert result.step_times is not None and result["step_times"] is result.step_times
    np.testing.assert_allclose(result.step_times.start, stored.start, atol=1e-4)
    np.testing.assert_allclose(result.step_times.end, stored.end, atol=1e-4)
    np.testing.assert_allclose(result.step_times.confidence, stored.confidence, atol=2e-3)


def test_several_mixtures_are_one_track_each(separate_folders: dict[str, Path]) -> None:
    out = separate_folders["several"]
    run = load_run(out)
    assert [(t.name, dict(t.outputs)) for t in run.tracks] == [
        ("first", {"M2": "first"}),
        ("second", {"M2": "second"}),
    ]
    alignment = load_alignment(out / "first")
    # 20 user steps held 10 times each into the tiny model's trained 2-3 frames per step
    assert alignment.kind == "M2" and alignment.side_info.shape == (200, 6)
    assert not alignment.is_activity and not (out / "first" / "alignment_labels.txt").exists()
    bl1 = load_run(separate_folders["bl1"])
    assert [(s.name, s.has_alignment) for s in bl1.systems] == [("BL1", False)]


def test_a_demo_folder_has_scores_and_true_alignments(demo_folder: Path) -> None:
    run = load_run(demo_folder)
    assert [s.name for s in run.systems] == ["BL1", "A3.1", "M2", "phonemes"]
    assert run.scores is not None and set(run.scores["M2"]) == {t.name for t in run.tracks}
    track = run.tracks[0]
    assert run.path(track.vocals or "").is_file()
    for system, labels in (("A3.1", True), ("M2", False)):
        folder = run.output_dir(track, system)
        alignment = load_alignment(folder)
        assert alignment.true_alignment is not None
        assert alignment.true_alignment.shape == (alignment.attention.shape[1],)
        assert (folder / "alignment_labels.txt").is_file() == labels
    assert not (run.output_dir(track, "BL1") / "alignment.json").exists()


# ---------------------------------------------------------------------------------------------
# Damaged and foreign folders


def _results(run: Path, change) -> None:
    path = run / "results.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _alignment(run: Path, change) -> None:
    path = run / "alignment.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


RESULTS_CASES = {
    "not JSON": (lambda r: (r / "results.json").write_text("{ half"), "not valid JSON"),
    "a list": (lambda r: (r / "results.json").write_text("[]"), "expected a JSON object"),
    "no version": (lambda r: _results(r, lambda d: d.pop("version")), "no version"),
    "version 3": (lambda r: _results(r, lambda d: d.update(version=3)), "version 3"),
    "no systems": (lambda r: _results(r, lambda d: d.update(systems=[])), "'systems' is empty"),
    "escaping path": (
        lambda r: _results(r, lambda d: d["tracks"][0]["outputs"].update({"A3.1": "../x"})),
        "leaves the run folder",
    ),
    "no output": (
        lambda r: _results(r, lambda d: d["tracks"][0]["outputs"].clear()),
        "missing field 'A3.1'",
    ),
    "estimate gone": (lambda r: (r / "vocals.wav").unlink(), "vocals.wav: no such file"),
    "attention gone": (lambda r: (r / "alignment.npy").unlink(), "alignment.npy: no such file"),
}


@pytest.mark.parametrize("case", RESULTS_CASES)
def test_a_damaged_run_folder_is_one_line_naming_the_file(
    separate_folders: dict[str, Path], tmp_path: Path, case: str
) -> None:
    run = copy_run(separate_folders["one"], tmp_path / "run")
    damage, message = RESULTS_CASES[case]
    damage(run)
    with pytest.raises(RunError) as info:
        load_run(run)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(run) in str(info.value)


ALIGNMENT_CASES = {
    "version 1": (lambda r: _alignment(r, lambda d: d.pop("version")), "alignment.json: no ver"),
    "no step times": (lambda r: _alignment(r, lambda d: d.pop("step_times")), "'step_times'"),
    "short step times": (
        lambda r: _alignment(r, lambda d: d["step_times"].pop()),
        "'step_times' must list",
    ),
    "confidence 2": (
        lambda r: _alignment(r, lambda d: d["step_times"][0].update(confidence=2)),
        "confidence in [0, 1]",
    ),
    "corrupt npy": (
        lambda r: (r / "alignment.npy").write_bytes(b"not numpy"),
        "alignment.npy: not a readable .npy array",
    ),
    "wrong side info": (
        lambda r: np.save(r / "side_info.npy", np.zeros((5, 1), np.float32)),
        "side_info.npy: float32 (5, 1) does not fit alignment.json",
    ),
}


@pytest.mark.parametrize("case", ALIGNMENT_CASES)
def test_damaged_alignment_files_are_one_line_naming_the_file(
    separate_folders: dict[str, Path], tmp_path: Path, case: str
) -> None:
    run = copy_run(separate_folders["one"], tmp_path / "run")
    damage, message = ALIGNMENT_CASES[case]
    damage(run)
    with pytest.raises(RunError) as info:
        load_alignment(run)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_folder_and_foreign_folder(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no such run folder"):
        load_run(tmp_path / "absent")
    with pytest.raises(RunError, match=r"results\.json: no such file \(not a wiass run folder"):
        load_run(tmp_path)
