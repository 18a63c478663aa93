"""Tests of wiass.sideinfo: the kinds, their true alignments, and the user readers."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from wiass.config import SideInfoConfig
from wiass.errors import ConfigError, SideInfoError, WiassWarning
from wiass.sideinfo import (
    KINDS,
    MAX_STEPS,
    band_features,
    band_matrix,
    frame_activity,
    generate,
    generate_from_features,
    get_kind,
    kind_dim,
    label_timing,
    labels_to_activity,
    parse_activity,
    read_labels,
    read_side_info,
    resolve_side_info,
    target_features,
)

SR = 16000
N_FFT = 64
F = N_FFT // 2 + 1
PARAMS = SideInfoConfig(bands=6)
ACTIVITY_KINDS = ["A1", "A2", "A3.1", "A3.2"]
COARSE_KINDS = ["A2", "A3.1", "A3.2", "M2"]


def target_from_activity(active: np.ndarray, seed: int = 0) -> np.ndarray:
    """Magnitudes (N, F): loud random spectra on active frames, silence elsewhere."""
    rng = np.random.default_rng(seed)
    mag = rng.uniform(0.5, 1.5, size=(active.size, F)).astype(np.float32)
    return mag * np.asarray(active, dtype=np.float32)[:, None]


def random_target(n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return target_from_activity(rng.random(n) < 0.5, seed)


def make(kind: str, mag: np.ndarray, first: int, n: int, seed: int = 0, **changes):
    params = dataclasses.replace(PARAMS, **changes)
    rng = np.random.default_rng(seed)
    return generate(kind, mag, first, n, rng, params, sample_rate=SR, n_fft=N_FFT)


def context_frame_values(kind: str, mag: np.ndarray) -> np.ndarray:
    if get_kind(kind).features == "activity":
        return frame_activity(mag, PARAMS.activity_threshold_db)[:, None].astype(np.float32)
    return band_features(mag, SR, N_FFT, PARAMS.bands)


# --- frame activity and band features ------------------------------------------------------


def test_frame_activity_threshold_relative_to_loudest_frame():
    mag = np.zeros((5, F), dtype=np.float32)
    mag[0] = 1.0  # loudest
    mag[1] = 10 ** (-30 / 20)  # 30 dB below: active at a 40 dB threshold
    mag[2] = 10 ** (-50 / 20)  # 50 dB below: inactive
    mag[4, 3] = 1e-30  # energy > 0 but far below
    assert frame_activity(mag, 40.0).tolist() == [True, True, False, False, False]
    assert frame_activity(mag, 60.0).tolist() == [True, True, True, False, False]


def test_frame_activity_of_silence_is_all_false():
    assert not frame_activity(np.zeros((7, F)), 40.0).any()


def test_band_matrix_gives_every_band_bins_and_averages():
    weights = band_matrix(SR, N_FFT, 12)
    assert weights.shape == (F, 12)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    assert (weights[0] == 0).all()  # DC lies below 50 Hz
    fine = band_matrix(SR, 1024, 12)
    assert ((fine > 0).sum(axis=1) <= 1).all(), "with enough bins, bands do not overlap"
    assert (fine[:4] == 0).all() and (fine[4:] > 0).any(axis=1).all()  # 4 * 15.6 Hz > 50 Hz


def test_band_features_range_silence_and_gain_invariance():
    mag = random_target(60)
    features = band_features(mag, SR, N_FFT, 6)
    assert features.shape == (60, 6) and features.dtype == np.float32
    assert features.min() >= 0 and features.max() == pytest.approx(1.0)
    silent = (mag**2).sum(axis=1) == 0
    assert (features[silent] == 0).all() and (features[~silent] > 0).all()
    np.testing.assert_allclose(band_features(mag * 0.01, SR, N_FFT, 6), features, atol=1e-5)
    assert not band_features(np.zeros((4, F)), SR, N_FFT, 6).any()


# --- registry -------------------------------------------------------------------------------


def test_registry_names_dims_and_lookup():
    assert list(KINDS) == ["none", "random", "A1", "A2", "A3.1", "A3.2", "M1", "M2", "phonemes"]
    assert [kind_dim(k, PARAMS) for k in KINDS] == [0, 1, 1, 1, 1, 1, 6, 6, 1]
    assert get_kind("a3.1").name == "A3.1"
    assert not KINDS["none"].has_alignment and not KINDS["random"].generated
    assert all(KINDS[k].has_alignment and KINDS[k].generated for k in ACTIVITY_KINDS)


def test_unknown_kind_lists_known_names():
    with pytest.raises(SideInfoError, match=r"unknown side-information kind 'A4'.*A3\.1"):
        get_kind("A4")


@pytest.mark.parametrize(
    "changes",
    [{"rate_range": (0, 3)}, {"rate_range": (4, 2)}, {"pad_range": (-1, 2)}, {"bands": 0}],
)
def test_bad_params_are_config_errors(changes):
    with pytest.raises(ConfigError, match="side_info"):
        make("A3.1", random_target(), 10, 50, **changes)


def test_excerpt_outside_the_context_is_rejected():
    with pytest.raises(ValueError, match="does not fit"):
        make("A1", random_target(100), 60, 50)


# --- generation: shapes, values, alignment ---------------------------------------------------


AUDIO_KINDS = [name for name, kind in KINDS.items() if kind.features != "symbols"]
"""The kinds generated from audio (phonemes come from lyrics: tests/test_phonemes.py)."""


@pytest.mark.parametrize("kind", AUDIO_KINDS)
def test_every_kind_shape_dtype_range(kind):
    side = make(kind, random_target(), 40, 90, seed=3)
    spec = KINDS[kind]
    assert side.kind == kind
    assert side.values.dtype == np.float32 and side.values.ndim == 2
    assert side.values.shape[1] == kind_dim(kind, PARAMS)
    if kind == "none":
        assert side.values.shape == (0, 0)
    else:
        assert side.values.shape[0] >= 1
        assert side.values.min() >= 0 and side.values.max() <= 1
    if spec.binary:
        assert set(np.unique(side.values)) <= {0.0, 1.0}
    if spec.has_alignment:
        assert side.alignment.dtype == np.int64 and side.alignment.shape == (side.n_steps,)
        assert side.alignment.min() >= -1 and side.alignment.max() < 90
    else:
        assert side.alignment is None


@pytest.mark.parametrize("kind", ["A1", "M1"])
def test_frame_aligned_kinds_are_the_identity(kind):
    mag = random_target()
    side = make(kind, mag, 30, 100)
    np.testing.assert_array_equal(side.alignment, np.arange(100))
    np.testing.assert_array_equal(side.values, context_frame_values(kind, mag)[30:130])


def test_activity_threshold_uses_the_whole_context():
    active = np.ones(100, dtype=bool)
    mag = target_from_activity(active)
    mag[50:] *= 10 ** (-50 / 20)  # the excerpt is 50 dB below the loud context
    side = make("A1", mag, 50, 50)
    assert not side.values.any()


@pytest.mark.parametrize("kind", COARSE_KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aligned_steps_describe_the_frames_they_name(kind, seed):
    mag = random_target(300, seed)
    first, n = 100, 97
    side = make(kind, mag, first, n, seed=seed)
    real = side.alignment >= 0
    frame_values = context_frame_values(kind, mag)
    np.testing.assert_array_equal(side.values[real], frame_values[first + side.alignment[real]])
    steps = np.flatnonzero(real)
    assert steps.size == math.ceil(n / side.rate)
    assert (np.diff(steps) == 1).all(), "padding only at the ends"
    assert (np.diff(side.alignment[real]) >= 0).all()
    if kind == "A2":
        assert real.all()


@pytest.mark.parametrize("kind", ["A2", "A3.1", "M2"])
def test_uniform_rate_steps_take_the_centre_of_their_block(kind):
    side = make(kind, random_target(), 50, 50)
    r = int(side.rate)
    assert PARAMS.rate_range[0] <= r <= PARAMS.rate_range[1]
    aligned = side.alignment[side.alignment >= 0]
    starts = np.arange(aligned.size) * r
    ends = np.minimum(starts + r, 50)
    np.testing.assert_array_equal(aligned, starts + (ends - starts - 1) // 2)


def test_a2_block_centres_for_a_fixed_rate():
    side = make("A2", random_target(), 0, 10, rate_range=(4, 4))
    assert side.alignment.tolist() == [1, 5, 8]


def test_padding_reads_the_activity_outside_the_excerpt():
    # Context of 40 frames, excerpt [20, 32), rate 4, three padding steps at each end.
    # Left blocks [-12,-8) [-8,-4) [-4,0) -> centres -11 -7 -3 -> context frames 9 13 17.
    # Right blocks [12,16) [16,20) [20,24) -> centres 13 17 21 -> context 33 37 (41: beyond).
    active = np.zeros(40, dtype=bool)
    active[20:32] = True
    active[[9, 17, 37]] = True
    mag = target_from_activity(active)
    for kind in ("A3.1", "A3.2"):
        side = make(kind, mag, 20, 12, rate_range=(4, 4), pad_range=(3, 3), warp_strength=0.0)
        assert side.alignment[:3].tolist() == [-1, -1, -1] == side.alignment[-3:].tolist()
        assert side.values[:3, 0].tolist() == [1, 0, 1]
        assert side.values[-3:, 0].tolist() == [0, 1, 0]


@pytest.mark.parametrize("rate", [1, 3])
def test_padding_is_zero_at_the_track_edges(rate):
    mag = target_from_activity(np.ones(60, dtype=bool))
    for kind in ("A3.1", "A3.2", "M2"):
        side = make(kind, mag, 0, 60, pad_range=(5, 5), rate_range=(rate, rate))
        pad = side.alignment == -1
        assert pad.sum() == 10
        assert not side.values[pad].any()
        assert side.values[~pad].all()


def test_a3_2_warp_is_monotone_and_departs_from_uniform():
    mag = random_target(400)
    uniform = make("A3.2", mag, 100, 200, rate_range=(4, 4), pad_range=(0, 0), warp_strength=0)
    np.testing.assert_array_equal(uniform.alignment, np.arange(50) * 4 + 2)
    differs = 0
    for seed in range(5):
        side = make("A3.2", mag, 100, 200, seed=seed, rate_range=(4, 4), warp_strength=0.5)
        aligned = side.alignment[side.alignment >= 0]
        assert (np.diff(aligned) >= 0).all() and aligned.min() >= 0 and aligned.max() < 200
        differs += not np.array_equal(aligned, uniform.alignment)
    assert differs == 5


@pytest.mark.parametrize("kind", AUDIO_KINDS)
def test_generation_is_deterministic_by_seed(kind):
    mag = random_target()
    a, b = make(kind, mag, 40, 90, seed=7), make(kind, mag, 40, 90, seed=7)
    np.testing.assert_array_equal(a.values, b.values)
    if a.alignment is not None:
        np.testing.assert_array_equal(a.alignment, b.alignment)


@pytest.mark.parametrize("kind", ["random", "A3.1", "A3.2", "M2"])
def test_different_seeds_give_different_side_information(kind):
    mag = random_target()
    outputs = {make(kind, mag, 40, 90, seed=s).values.tobytes() for s in range(6)}
    assert len(outputs) > 1


# --- generation from per-frame features ------------------------------------------------------


GENERATED = [name for name, spec in KINDS.items() if spec.generated]


@pytest.mark.parametrize("kind", GENERATED)
@pytest.mark.parametrize("gain", [1.0, 0.3, 1.7])
def test_window_of_scaled_features_equals_generating_from_the_scaled_window(kind, gain):
    mag = random_target(300, seed=4)
    features = target_features(kind, mag, PARAMS, sample_rate=SR, n_fft=N_FFT)
    assert features.n_frames == 300
    window = features.window(60, 230).scaled(gain)
    got = generate_from_features(kind, window, 40, 90, np.random.default_rng(2), PARAMS)
    expected = make(kind, gain * mag[60:230], 40, 90, seed=2)
    np.testing.assert_array_equal(got.alignment, expected.alignment)
    if get_kind(kind).binary:
        np.testing.assert_array_equal(got.values, expected.values)
    else:
        np.testing.assert_allclose(got.values, expected.values, atol=1e-6, rtol=0)
    assert got.rate == expected.rate and got.kind == expected.kind


def test_features_must_match_the_kind():
    mag = random_target(100)
    activity = target_features("A1", mag, PARAMS, sample_rate=SR, n_fft=N_FFT)
    assert activity.features == "activity" and activity.power.shape == (100, 1)
    bands = target_features("M1", mag, PARAMS, sample_rate=SR, n_fft=N_FFT)
    assert bands.features == "bands" and bands.power.shape == (100, PARAMS.bands)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="needs bands features, got activity"):
        generate_from_features("M2", activity, 0, 50, rng, PARAMS)
    with pytest.raises(ValueError, match="needs activity features, got None"):
        generate_from_features("A1", None, 0, 50, rng, PARAMS)
    with pytest.raises(ValueError, match="does not fit"):
        generate_from_features("A1", activity, 60, 50, rng, PARAMS)
    with pytest.raises(ValueError, match="not generated"):
        target_features("random", mag, PARAMS)
    assert generate_from_features("none", None, 0, 50, rng, PARAMS).values.shape == (0, 0)


def test_random_length_comes_from_the_range():
    sides = [make("random", None, 0, 1, seed=s, random_length_range=(3, 5)) for s in range(40)]
    assert {side.n_steps for side in sides} == {3, 4, 5}
    assert all(side.values.max() < 1 and side.alignment is None for side in sides)


# --- user side information -----------------------------------------------------------------


def test_parse_activity():
    values = parse_activity("0011 100\n")
    assert values.dtype == np.float32 and values[:, 0].tolist() == [0, 0, 1, 1, 1, 0, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [("0012", "character '2' at position 4"), ("", "empty"), ("  ", "empty")],
)
def test_parse_activity_errors(text, message):
    with pytest.raises(SideInfoError, match=message):
        parse_activity(text)


def test_parse_activity_length_limit():
    with pytest.raises(SideInfoError, match="more than the limit"):
        parse_activity("1" * (MAX_STEPS + 1))


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_text_one_value_per_line(tmp_path):
    path = write(tmp_path, "act.txt", "# vocals\n0\n1\n\n1\n0\n")
    side = read_side_info(path, "A3.1", PARAMS)
    assert side.values[:, 0].tolist() == [0, 1, 1, 0]
    assert side.alignment is None and side.kind == "A3.1"


def test_read_text_single_activity_line_and_single_row(tmp_path):
    assert read_side_info(write(tmp_path, "a.txt", "0011100\n"), "A2", PARAMS).n_steps == 7
    row = read_side_info(write(tmp_path, "b.csv", "0,1,1\n"), "A2", PARAMS)
    assert row.values.shape == (3, 1)


def test_read_csv_rows_with_header_for_band_kind(tmp_path):
    rows = np.random.default_rng(0).random((5, 6)).round(4)
    text = "b0,b1,b2,b3,b4,b5\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    side = read_side_info(write(tmp_path, "m.csv", text), "M2", PARAMS)
    np.testing.assert_allclose(side.values, rows, rtol=1e-6)


def test_read_npy(tmp_path):
    np.save(tmp_path / "a.npy", np.array([0, 1, 1, 0], dtype=np.int64))
    side = read_side_info(tmp_path / "a.npy", "A1", PARAMS)
    assert side.values.shape == (4, 1) and side.values.dtype == np.float32
    np.save(tmp_path / "m.npy", np.full((3, 6), 0.5))
    assert read_side_info(tmp_path / "m.npy", "M1", PARAMS).values.shape == (3, 6)


def test_labels_to_activity_steps():
    regions = np.array([[0.5, 1.0], [2.2, 2.2]])
    values = labels_to_activity(regions, duration=3.0, step_rate=4.0)
    expected = np.zeros(12)
    expected[2:4] = 1  # 0.5-1.0 s
    expected[8] = 1  # point label at 2.2 s
    np.testing.assert_array_equal(values[:, 0], expected)


def test_labels_past_the_end_of_the_audio_warn_and_are_cut(recwarn):
    regions = np.array([[0.5, 5.0]])
    with pytest.warns(WiassWarning, match=r"labels end at 5 s, after the end of the audio \(3 s\)"):
        values = labels_to_activity(regions, duration=3.0, step_rate=4.0, source="sung.txt")
    assert values.shape == (12, 1) and values[2:, 0].all()
    labels_to_activity(np.array([[0.5, 3.2]]), duration=3.0, step_rate=4.0)
    labels_to_activity(regions, duration=None, step_rate=4.0)
    assert not recwarn.list


def test_read_audacity_labels(tmp_path):
    text = "0.500000\t1.000000\tverse\n\\\t100.0\t2000.0\n2.0\t2.6\tchorus\n"
    path = write(tmp_path, "labels.txt", text)
    side = read_side_info(path, "A3.1", PARAMS, step_rate=2.0, duration=4.0)
    assert side.values[:, 0].tolist() == [0, 1, 0, 0, 1, 1, 0, 0]
    assert read_labels(path, None, 2.0)[:, 0].tolist() == [0, 1, 0, 0, 1, 1]


@pytest.mark.parametrize(
    ("name", "text", "kind", "message"),
    [
        ("empty.txt", "\n# nothing\n", "A1", "empty file"),
        ("nan.txt", "0\nnan\n1\n", "A1", "non-finite value .* at step 2"),
        ("inf.csv", "0.5,0.5,0.5,0.5,0.5,0.5\ninf,0,0,0,0,0\n", "M1", "non-finite"),
        ("wide.csv", "0,1\n1,0\n", "M1", "2 values per step, kind M1 needs 6"),
        ("one.txt", "1\n0\n", "M2", "1 values per step, kind M2 needs 6"),
        ("half.txt", "0\n0.5\n1\n", "A3.1", "value 0.5 at step 2 is not 0 or 1"),
        ("big.csv", "0,0,0,0,0,2\n", "M1", "outside \\[0, 1\\]"),
        ("ragged.csv", "0.1,0.2\n0.1\n", "M1", "line 2 has 1 values, line 1 has 2"),
        ("word.txt", "0\n1\nyes\n", "A1", "line 3: 'yes' is not a number"),
        ("bad.txt", "0.0\t1.0\tv\n3.0\t2.0\tw\n", "A1", "line 2: end 2 s is before start 3 s"),
        ("neg.txt", "-1.0\t1.0\tv\n", "A1", "start -1 s is negative"),
        ("late.txt", "9.0\t12.0\tv\n", "A1", "after the end of the audio"),
        ("lab.txt", "0.0\t1.0\tvocals\n", "M1", "label file gives activity"),
        ("data.wav", "0\n1\n", "A1", "unsupported side-information file type '.wav'"),
    ],
)
def test_reader_errors_name_the_file_and_problem(tmp_path, name, text, kind, message):
    path = write(tmp_path, name, text)
    with pytest.raises(SideInfoError, match=message) as info:
        read_side_info(path, kind, PARAMS, step_rate=4.0, duration=5.0)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_label_file_needs_a_step_rate(tmp_path):
    path = write(tmp_path, "l.txt", "0.0\t1.0\tv\n")
    with pytest.raises(SideInfoError, match="needs a step rate"):
        read_side_info(path, "A1", PARAMS)


def test_missing_file_directory_and_binary_file(tmp_path):
    with pytest.raises(SideInfoError, match="no such side-information file"):
        read_side_info(tmp_path / "nope.npy", "A1", PARAMS)
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(SideInfoError, match="not a file"):
        read_side_info(tmp_path / "dir.txt", "A1", PARAMS)
    (tmp_path / "latin.txt").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(SideInfoError, match="not a UTF-8 text file"):
        read_side_info(tmp_path / "latin.txt", "A1", PARAMS)
    with pytest.raises(SideInfoError, match="no such label file"):
        read_labels(tmp_path / "nope.txt", 3.0, 2.0)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 3, 1)), r"shape \(2, 3, 1\)"),
        (np.zeros(0), "no side information"),
        (np.array([1 + 1j, 0]), "not real numbers"),
        (np.array([0.0, np.nan]), "non-finite"),
    ],
)
def test_npy_errors(tmp_path, array, message):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(SideInfoError, match=message):
        read_side_info(tmp_path / "x.npy", "A1", PARAMS)


def test_corrupt_and_object_npy(tmp_path):
    (tmp_path / "c.npy").write_bytes(b"not numpy at all")
    with pytest.raises(SideInfoError, match="not a readable .npy array"):
        read_side_info(tmp_path / "c.npy", "A1", PARAMS)
    np.save(tmp_path / "o.npy", np.array(["a", None], dtype=object), allow_pickle=True)
    with pytest.raises(SideInfoError, match=r"o\.npy: not a readable \.npy array"):
        read_side_info(tmp_path / "o.npy", "A1", PARAMS)


def test_kinds_without_user_input(tmp_path):
    path = write(tmp_path, "a.txt", "1\n")
    for kind in ("none", "random"):
        with pytest.raises(SideInfoError, match=f"'{kind}' takes no user input"):
            read_side_info(path, kind, PARAMS)


def test_resolver_takes_strings_or_paths(tmp_path):
    assert resolve_side_info("0110", "A3.1", PARAMS).values[:, 0].tolist() == [0, 1, 1, 0]
    path = write(tmp_path, "a.txt", "1\n1\n")
    assert resolve_side_info(str(path), "A3.1", PARAMS).n_steps == 2
    with pytest.raises(SideInfoError, match="no such side-information file"):
        resolve_side_info("vocals.txt", "A3.1", PARAMS)


def test_overlong_side_info_argument_is_a_clear_error():
    params = SideInfoConfig()
    with pytest.raises(SideInfoError, match="no such side-information file"):
        resolve_side_info("x" * 300 + ".txt", "A3.1", params)
    activity = resolve_side_info("01" * 200, "A3.1", params)
    assert activity.values.shape == (400, 1)


# --- the resolver: one precedence for every form ---------------------------------------------


def test_an_existing_file_comes_before_an_activity_string(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_side_info("0110", "A3.1", PARAMS).n_steps == 4, "no file yet: activity"
    (tmp_path / "0110").write_text("1\n1\n1\n")
    with pytest.raises(SideInfoError, match="both an activity string and the name of an existing"):
        resolve_side_info("0110", "A3.1", PARAMS)
    array = resolve_side_info(np.array([0, 1, 1, 0]), "A3.1", PARAMS)
    assert array.values[:, 0].tolist() == [0, 1, 1, 0], "an array is never a file"
    (tmp_path / "0110.txt").write_text("1\n1\n1\n")
    assert resolve_side_info("0110.txt", "A3.1", PARAMS).n_steps == 3


def test_a_path_object_is_always_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SideInfoError, match="0110: no such side-information file"):
        resolve_side_info(Path("0110"), "A3.1", PARAMS)
    with pytest.raises(SideInfoError, match="empty"):
        resolve_side_info("", "A3.1", PARAMS)


def test_the_resolver_reads_every_form_like_its_reader(tmp_path):
    labels = write(tmp_path, "labels.txt", "0.5\t1.5\tverse\n2.0\t2.8\tchorus\n")
    # A3.1 at 10 frames/s over 40 frames: labels at 10 / mean(rate_range) = 2.5 steps/s, 4 s.
    assert label_timing("A3.1", PARAMS, 40, 10.0) == (2.5, 4.0)
    assert label_timing("A1", PARAMS, 40, 10.0) == (10.0, 4.0)
    side = resolve_side_info(labels, "A3.1", PARAMS, n_frames=40, frame_rate=10.0)
    np.testing.assert_array_equal(side.values, read_labels(labels, 4.0, 2.5))
    explicit = resolve_side_info(labels, "A3.1", PARAMS, step_rate=1.0, duration=3.0)
    np.testing.assert_array_equal(explicit.values, read_labels(labels, 3.0, 1.0))
    np.save(tmp_path / "m.npy", np.full((3, 6), 0.25))
    bands = resolve_side_info(tmp_path / "m.npy", get_kind("M2"), PARAMS)
    assert bands.kind == "M2" and bands.values.shape == (3, 6) and bands.alignment is None


def test_a_side_info_object_keeps_its_alignment_and_is_checked():
    side = make("A3.1", random_target(200), 0, 200)
    kept = resolve_side_info(side, "A3.1", PARAMS, n_frames=200)
    np.testing.assert_array_equal(kept.alignment, side.alignment)
    assert kept.rate == side.rate and kept.values.dtype == np.float32
    last = int(side.alignment.max())
    with pytest.raises(SideInfoError, match=f"refers to frame {last}, but the mixture has {last} "):
        resolve_side_info(side, "A3.1", PARAMS, n_frames=last)
    backwards = dataclasses.replace(side, alignment=side.alignment[::-1].copy())
    with pytest.raises(SideInfoError, match="not monotonic"):
        resolve_side_info(backwards, "A3.1", PARAMS)
    with pytest.raises(SideInfoError, match="kind A3.1, but the model takes kind M2"):
        resolve_side_info(side, "M2", PARAMS)


@pytest.mark.parametrize(
    ("value", "source", "message"),
    [
        ("0101", None, "activity string '0101': side-information kind 'none' takes no user input"),
        (np.ones(4), "my array", "my array: side-information kind 'none' takes no user input"),
    ],
)
def test_kinds_without_user_input_refuse_every_form(value, source, message):
    with pytest.raises(SideInfoError, match=message):
        resolve_side_info(value, "none", PARAMS, source=source)


def test_frame_aligned_kinds_need_one_step_per_frame():
    assert resolve_side_info("0110", "A1", PARAMS, n_frames=4).n_steps == 4
    with pytest.raises(SideInfoError, match=r"needs one step per frame, 5 steps .*got 4"):
        resolve_side_info("0110", "A1", PARAMS, n_frames=5, frame_rate=62.5)
    assert resolve_side_info("0110", "A2", PARAMS, n_frames=5).n_steps == 4
