"""wiass.metrics: BSSEval v4 against museval, PES/EPS against a per-frame loop, aggregation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.signal

from wiass.audio import resample
from wiass.errors import MetricsError
from wiass.metrics import (
    BssEvalScores,
    IllConditionedWarning,
    TargetScores,
    aggregate,
    bss_eval_v4,
    evaluate_track,
    frame_count,
    pes_eps,
)

SR = 8000


def _museval():
    """museval, the BSSEval v4 reference, or a skip that says why it cannot be imported.

    Like ``pytest.importorskip``, but also for the RuntimeError that stempeg (imported by musdb,
    imported by museval) raises when ffmpeg is not installed.
    """
    try:
        import museval
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"museval (the BSSEval v4 reference; needs musdb and ffmpeg) unusable: {exc}")
    return museval


def _sources(rng: np.random.Generator, n_src: int, n_samples: int, channels: int) -> np.ndarray:
    """Coloured noise with slow envelopes and silent stretches, ``(sources, samples, channels)``.

    Each source is silent (exact zeros) over a different quarter-second stretch, so some frames
    of the evaluation are NaN.
    """
    b, a = scipy.signal.butter(2, rng.uniform(0.1, 0.6, size=n_src).min())
    noise = rng.standard_normal((n_src, n_samples, channels))
    coloured = 0.5 * noise + scipy.signal.lfilter(b, a, noise, axis=1)
    t = np.arange(n_samples) / SR
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 2.0, (n_src, 1)) * t)
    out = coloured * envelope[:, :, None]
    for j in range(n_src):
        start = int((0.2 + 0.45 * j) * SR)
        out[j, start : start + SR // 4] = 0.0
    return out


def _estimates(rng: np.random.Generator, refs: np.ndarray) -> np.ndarray:
    """Plausible estimates: filtered reference, leakage of the others, added noise."""
    n_src = refs.shape[0]
    smeared = scipy.signal.lfilter([0.9, 0.25, -0.1], [1.0], refs, axis=1)
    leakage = 0.2 * np.roll(refs, 1, axis=0) + 0.1 * np.roll(refs, 2, axis=0) * (n_src > 2)
    est = smeared + leakage + 0.05 * rng.standard_normal(refs.shape)
    est[0, SR // 10 : SR // 10 + SR // 2] = 0.0  # an estimate silent over whole frames
    return est


def _assert_matches_museval(refs, ests, win, hop):
    museval = _museval()
    expected = np.array(museval.evaluate(refs, ests, win=win, hop=hop))
    got = np.array(bss_eval_v4(refs, ests, win, hop))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))
    finite = np.isfinite(expected)
    assert np.max(np.abs(got[finite] - expected[finite])) <= 0.01
    return got


@pytest.mark.parametrize("n_src", [2, 3, 4])
def test_bss_eval_v4_matches_museval_stereo(n_src):
    rng = np.random.default_rng(n_src)
    refs = _sources(rng, n_src, 2 * SR, channels=2)
    ests = _estimates(rng, refs)
    got = _assert_matches_museval(refs, ests, win=SR // 4, hop=SR // 4)
    nan_frames = np.isnan(got[0, 0])
    assert nan_frames.any() and not nan_frames.all()
    assert np.isnan(got[:, :, nan_frames]).all()


def test_bss_eval_v4_matches_museval_overlapping_frames_float32():
    rng = np.random.default_rng(10)
    refs = _sources(rng, 2, 2 * SR, channels=2).astype(np.float32)
    ests = _estimates(rng, refs).astype(np.float32)
    got = _assert_matches_museval(refs, ests, win=SR // 5, hop=SR // 10)
    assert np.isnan(got).any()


def test_bss_eval_v4_matches_museval_mono_gaps_and_one_frame():
    rng = np.random.default_rng(11)
    refs = _sources(rng, 3, 3 * SR, channels=1)[..., 0]
    ests = _estimates(rng, refs[..., None])[..., 0]
    got = _assert_matches_museval(refs, ests, win=SR // 4, hop=SR // 3)
    assert got.shape == (4, 3, frame_count(3 * SR, SR // 4, SR // 3, incomplete_last_frame=False))
    single = _assert_matches_museval(refs, ests, win=10 * SR, hop=10 * SR)
    assert single.shape == (4, 3, 1) and np.isfinite(single).all()  # not silent as a whole


def test_bss_eval_v4_one_frame_of_the_whole_signal_without_silence():
    rng = np.random.default_rng(12)
    refs = rng.standard_normal((2, SR, 2))
    ests = refs + 0.3 * refs[::-1] + 0.1 * rng.standard_normal(refs.shape)
    got = _assert_matches_museval(refs, ests, win=2 * SR, hop=SR)
    assert np.isfinite(got).all()
    assert np.all(got[2] < 15) and np.all(got[2] > 5)  # SIR of a 0.3 leakage is ~10 dB


def test_bss_eval_v4_single_source_has_infinite_sir():
    rng = np.random.default_rng(13)
    refs = rng.standard_normal((1, 2 * SR, 2))
    ests = refs + 0.2 * rng.standard_normal(refs.shape)
    got = _assert_matches_museval(refs, ests, win=SR, hop=SR)
    assert np.isposinf(got[2]).all()


def test_bss_eval_v4_known_values_for_scaled_reference_plus_noise():
    """Estimate 2 s + n (white n, 1/16 of the power of 2 s), one source, one frame.

    The projection onto the delayed source is ~2 s, so e_spat ~ s (ISR ~ 0 dB), the artefacts
    are ~n (SAR ~ 10 log10 16), there is no interference (SIR = +inf) and SDR is exact.
    """
    rng = np.random.default_rng(14)
    s = rng.standard_normal((1, 4 * SR, 1))
    n = 0.5 * rng.standard_normal(s.shape)
    sdr, isr, sir, sar = bss_eval_v4(s, 2 * s + n, 4 * SR, 4 * SR)
    assert sdr[0, 0] == pytest.approx(10 * np.log10(np.sum(s**2) / np.sum((s + n) ** 2)))
    assert isr[0, 0] == pytest.approx(0.0, abs=0.1)
    assert sar[0, 0] == pytest.approx(10 * np.log10(16), abs=0.15)
    assert np.isposinf(sir[0, 0])


def test_bss_eval_v4_silent_whole_source_gives_nan_everywhere():
    rng = np.random.default_rng(15)
    refs = rng.standard_normal((2, SR, 2))
    ests = refs.copy()
    ests[1] = 0.0
    scores = bss_eval_v4(refs, ests, SR // 4, SR // 4)
    assert all(np.isnan(metric).all() and metric.shape == (2, 4) for metric in scores)


def _exact_copies(first: np.ndarray, kind: str) -> np.ndarray:
    """A second reference that is exactly a scaled copy of ``first``, or exactly ``first``
    delayed by 3 samples (its last 3 samples are zero, so nothing wraps around)."""
    if kind == "scaled":
        return 0.5 * first
    first[-3:] = 0.0
    return np.concatenate([np.zeros((3, first.shape[1])), first[:-3]])


@pytest.mark.parametrize("kind", ["scaled", "delayed"])
def test_bss_eval_v4_warns_when_references_are_linearly_dependent(kind):
    rng = np.random.default_rng(16)
    first = rng.standard_normal((SR, 2))
    second = _exact_copies(first, kind)
    refs = np.stack([first, second])
    ests = refs + 0.1 * rng.standard_normal(refs.shape)
    with pytest.warns(IllConditionedWarning, match="linearly dependent"):
        # short filters: a singular system goes to a dense least-squares solve, O((L n)^3)
        bss_eval_v4(refs, ests, SR // 2, SR // 2, filters_len=64)


def test_bss_eval_v4_warns_on_broadband_audio_resampled_to_16k():
    """The issue's case: 44.1 kHz recordings resampled to 16 kHz (soxr HQ) leave the band just
    below 8 kHz empty; the scores then depend on what lies 100 dB down, and must be flagged."""
    rng = np.random.default_rng(19)
    sources = rng.standard_normal((2, 2, 4 * 44100)).astype(np.float32)
    sources[1] *= 0.7

    def scores(refs: np.ndarray, rate: int) -> BssEvalScores:
        refs = refs.transpose(0, 2, 1)
        ests = refs + 0.1 * refs[::-1] + 0.01 * rng.standard_normal(refs.shape)
        return bss_eval_v4(refs, ests, rate, rate)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        native = scores(sources, 44100)
    assert np.isfinite(native.sar).all()
    resampled = np.stack([resample(source, 44100, 16000) for source in sources])
    with pytest.warns(IllConditionedWarning, match=r"noise floor 100 dB below .* moves a median"):
        scores(resampled, 16000)


def test_bss_eval_v4_does_not_warn_on_ordinary_signals_of_very_different_levels():
    rng = np.random.default_rng(17)
    refs = _sources(rng, 3, SR, channels=2)
    refs[1] *= 1e-7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = bss_eval_v4(refs, _estimates(rng, refs), SR // 2, SR // 2)
    assert np.isfinite(scores.sdr).any()


def test_bss_eval_v4_does_not_warn_on_the_mixture_as_estimate():
    """The mixture as every estimate: SAR is rounding noise (~150 dB), which a -100 dB floor
    moves by itself; that says nothing about the conditioning."""
    rng = np.random.default_rng(20)
    refs = rng.standard_normal((2, SR, 2))
    mixture = refs.sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = bss_eval_v4(refs, np.stack([mixture, mixture]), SR // 2, SR // 2)
    assert np.all(scores.sar > 100)


def test_bss_eval_v4_matches_museval_with_a_very_quiet_source():
    rng = np.random.default_rng(18)
    refs = rng.standard_normal((3, SR, 2))
    refs[2] *= 1e-6
    ests = refs + 0.2 * refs[[1, 2, 0]] + 0.01 * rng.standard_normal(refs.shape)
    _assert_matches_museval(refs, ests, SR // 4, SR // 4)


@pytest.mark.parametrize(
    ("refs_shape", "ests_shape", "win", "match"),
    [
        ((2, 100, 2), (2, 99, 2), 10, "same shape"),
        ((2, 100, 2, 1), (2, 100, 2, 1), 10, "expected"),
        ((2, 100, 2), (2, 100, 2), 0, "positive integer"),
    ],
)
def test_bss_eval_v4_rejects_bad_inputs(refs_shape, ests_shape, win, match):
    with pytest.raises(MetricsError, match=match):
        bss_eval_v4(np.ones(refs_shape), np.ones(ests_shape), win, 10)


# ---------------------------------------------------------------------------------------------
# PES / EPS


def _pes_eps_loop(ref, est, win, hop, incomplete, eps_for_silent_target):
    """The definition, one frame at a time."""
    ref = ref.reshape(ref.shape[0], -1).astype(np.float64)
    est = est.reshape(est.shape[0], -1).astype(np.float64)
    n = ref.shape[0]
    n_frames = int(np.ceil((n - win) / hop)) + 1
    pes, eps, pes_frames, eps_frames = [], [], [], []
    for k in range(n_frames):
        start, stop = k * hop, k * hop + win
        if stop > n and not incomplete:
            continue
        r, e = ref[start:stop], est[start:stop]
        r_silent, e_silent = not np.any(r), not np.any(e)
        if r_silent:
            pes.append(10 * np.log10(np.sum(e**2) + 1e-12))
            pes_frames.append(k)
        if e_silent and (eps_for_silent_target or not r_silent):
            eps.append(10 * np.log10(np.sum(r**2) + 1e-12))
            eps_frames.append(k)
    return np.array(pes), np.array(eps), np.array(pes_frames), np.array(eps_frames)


def _silence_signals(rng, n, channels):
    ref = rng.standard_normal((n, channels))
    est = ref + 0.1 * rng.standard_normal((n, channels))
    for start in rng.integers(0, n, size=6):
        ref[start : start + rng.integers(20, 200)] = 0.0
    for start in rng.integers(0, n, size=6):
        est[start : start + rng.integers(20, 200)] = 0.0
    est[np.abs(ref[:, 0]) < 0.01] = 1e-3  # quiet, not silent, estimates in some samples
    return ref, est


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("win", "hop"), [(40, 40), (60, 25), (30, 45), (37, 16), (50, 7)])
@pytest.mark.parametrize("incomplete", [False, True])
@pytest.mark.parametrize("eps_for_silent_target", [False, True])
def test_pes_eps_matches_frame_loop(channels, win, hop, incomplete, eps_for_silent_target):
    rng = np.random.default_rng(win * 1000 + hop)
    ref, est = _silence_signals(rng, 2003, channels)
    if channels == 1:
        ref, est = ref[:, 0], est[:, 0]
    got = pes_eps(
        ref,
        est,
        win,
        hop,
        eval_incomplete_last_frame=incomplete,
        eps_for_silent_target=eps_for_silent_target,
    )
    expected = _pes_eps_loop(ref, est, win, hop, incomplete, eps_for_silent_target)
    assert len(got.pes_frames) > 0 and len(got.eps_frames) > 0
    np.testing.assert_array_equal(got.pes_frames, expected[2])
    np.testing.assert_array_equal(got.eps_frames, expected[3])
    np.testing.assert_allclose(got.pes, expected[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.eps, expected[1], rtol=0, atol=1e-9)


def test_pes_eps_hand_checked_incomplete_last_frame():
    # 11 samples, win 4, hop 3: frames [0,4) [3,7) [6,10) and the incomplete [9,11).
    ref = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], dtype=float)
    est = np.array([2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0], dtype=float)
    assert frame_count(11, 4, 3, incomplete_last_frame=False) == 3
    assert frame_count(11, 4, 3, incomplete_last_frame=True) == 4
    pes, eps, pes_frames, eps_frames = pes_eps(ref, est, 4, 3)
    assert pes_frames.tolist() == [0, 2] and eps_frames.tolist() == [1]
    np.testing.assert_allclose(pes, [10 * np.log10(4), 10 * np.log10(9)])
    np.testing.assert_allclose(eps, [10 * np.log10(2)])
    full = pes_eps(ref, est, 4, 3, eval_incomplete_last_frame=True)
    assert full.pes_frames.tolist() == [0, 2, 3]
    np.testing.assert_allclose(full.pes[-1], 10 * np.log10(9))


def test_pes_eps_silent_target_and_estimate_both_ways():
    ref = np.zeros(8)
    ref[4:] = 1.0
    est = np.zeros(8)
    est[6] = 0.5
    with_silent = pes_eps(ref, est, 4, 4)
    assert with_silent.pes_frames.tolist() == [0] and with_silent.pes.tolist() == [-120.0]
    assert with_silent.eps_frames.tolist() == [0] and with_silent.eps.tolist() == [-120.0]
    paper = pes_eps(ref, est, 4, 4, eps_for_silent_target=False)
    assert paper.eps_frames.size == 0 and paper.eps.size == 0
    assert paper.pes_frames.tolist() == [0]


def test_pes_eps_multichannel_silence_needs_every_channel_zero():
    ref = np.zeros((6, 2))
    ref[:3, 1] = 1.0  # frame 0 has a non-silent right channel; frame 1 is silent
    est = np.ones((6, 2))
    out = pes_eps(ref, est, 3, 3)
    assert out.pes_frames.tolist() == [1]
    np.testing.assert_allclose(out.pes, [10 * np.log10(6)])


def test_pes_eps_signal_shorter_than_a_frame():
    ref, est = np.zeros(5), np.ones(5)
    assert pes_eps(ref, est, 10, 10).pes.size == 0
    out = pes_eps(ref, est, 10, 10, eval_incomplete_last_frame=True)
    np.testing.assert_allclose(out.pes, [10 * np.log10(5)])


@pytest.mark.parametrize(
    ("ref", "est", "win", "match"),
    [
        (np.zeros(10), np.zeros(11), 4, "same shape"),
        (np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), 4, "expected"),
        (np.zeros(10), np.zeros(10), 0, "positive integer"),
        (np.zeros(10), np.zeros(10), 2.5, "positive integer"),
    ],
)
def test_pes_eps_rejects_bad_inputs(ref, est, win, match):
    with pytest.raises(MetricsError, match=match):
        pes_eps(ref, est, win, 2)


def test_frame_count_is_museval_count_without_incomplete_frame():
    for n, win, hop in [(100, 10, 10), (105, 10, 10), (105, 30, 7), (9, 10, 10), (10, 10, 3)]:
        expected = n >= win and int(np.floor((n - win + hop) / hop))
        assert frame_count(n, win, hop, incomplete_last_frame=False) == expected


# ---------------------------------------------------------------------------------------------
# per-track scores, aggregation, evaluate_track


def _target(sdr, pes=(), eps=()):
    sdr = np.array(sdr, dtype=float)
    return TargetScores(
        sdr=sdr,
        isr=sdr + 1,
        sir=sdr + 2,
        sar=sdr + 3,
        pes=np.array(pes, dtype=float),
        eps=np.array(eps, dtype=float),
        pes_frames=np.arange(len(pes)),
        eps_frames=np.arange(len(eps)),
    )


def test_target_summary_is_nan_median_and_mean_of_silence_metrics():
    summary = _target([1.0, np.nan, 3.0, 10.0], pes=[-60.0, -40.0], eps=[]).summary()
    assert summary["SDR"] == 3.0 and summary["SAR"] == 6.0
    assert summary["PES"] == -50.0 and math.isnan(summary["EPS"])
    assert (summary["frames"], summary["nan_frames"]) == (4, 1)
    assert (summary["pes_frames"], summary["eps_frames"]) == (2, 0)
    assert math.isnan(_target([np.nan, np.nan]).summary()["SDR"])


def test_aggregate_over_tracks():
    tracks = [
        {"vocals": _target([1.0, 2.0, 3.0], pes=[-60.0], eps=[-30.0]).summary()},
        {"vocals": _target([5.0, np.nan], pes=[-20.0, -40.0, -60.0]).summary()},
        {"vocals": _target([np.nan]).summary(), "bass": _target([7.0]).summary()},
    ]
    result = aggregate(tracks)
    vocals = result["vocals"]
    assert vocals["SDR"] == {"median": 3.5, "mean": 3.5, "tracks": 2}
    assert vocals["PES"]["mean"] == -50.0 and vocals["PES"]["median"] == -50.0
    assert vocals["PES"]["frame_mean"] == pytest.approx(-45.0)
    assert vocals["EPS"]["tracks"] == 1 and vocals["EPS"]["frame_mean"] == -30.0
    assert vocals["frames"] == {"total": 6, "nan": 2, "pes": 4, "eps": 1}
    assert result["bass"]["SDR"]["median"] == 7.0 and result["bass"]["SDR"]["tracks"] == 1
    assert math.isnan(result["bass"]["PES"]["frame_mean"])


def test_evaluate_track_converts_layout_and_pads_estimates():
    rng = np.random.default_rng(20)
    refs = _sources(rng, 2, 2 * SR, channels=2)
    ests = _estimates(rng, refs)
    references = {"vocals": refs[0].T.astype(np.float32), "accompaniment": refs[1].T}
    estimates = {"accompaniment": ests[1].T[:, :-100], "vocals": ests[0].T}
    track = evaluate_track(references, estimates, SR, win_seconds=0.125, hop_seconds=0.125)
    assert list(track.targets) == ["vocals", "accompaniment"]
    padded = ests.copy()
    padded[1, -100:] = 0.0
    expected = bss_eval_v4(refs, padded, SR // 8, SR // 8)
    np.testing.assert_allclose(track.targets["accompaniment"].sdr, expected.sdr[1], atol=1e-4)
    silence = pes_eps(refs[0], padded[0], SR // 8, SR // 8)
    np.testing.assert_array_equal(track.targets["vocals"].pes_frames, silence.pes_frames)
    assert track.targets["vocals"].pes_frames.size > 0
    assert (track.win, track.hop, track.sample_rate) == (SR // 8, SR // 8, SR)
    assert set(track.summary()) == {"vocals", "accompaniment"}
    assert set(track.to_dict()["targets"]["vocals"]) >= {"SDR", "PES", "eps_frames"}


def test_evaluate_track_matches_museval_on_mono():
    museval = _museval()
    rng = np.random.default_rng(21)
    refs = _sources(rng, 2, 2 * SR, channels=1)
    ests = _estimates(rng, refs)
    track = evaluate_track(
        {"a": refs[0, :, 0], "b": refs[1, :, 0]}, {"a": ests[0, :, 0], "b": ests[1, :, 0]}, SR
    )
    expected = museval.evaluate(refs, ests, win=SR, hop=SR)
    for index, name in enumerate("ab"):
        np.testing.assert_allclose(track.targets[name].sdr, expected[0][index], atol=0.01)
        np.testing.assert_allclose(track.targets[name].sar, expected[3][index], atol=0.01)


_STEREO = np.ones((2, 50))


@pytest.mark.parametrize(
    ("references", "estimates", "match"),
    [
        ({"a": _STEREO}, {"b": _STEREO}, "same targets"),
        ({"a": _STEREO}, {"a": np.ones((1, 50))}, "channel"),
        ({"a": _STEREO, "b": np.ones((2, 40))}, {"a": _STEREO, "b": _STEREO}, "same \\(channels"),
        ({"a": np.ones((50, 2))}, {"a": np.ones((50, 2))}, "more channels than samples"),
        ({"a": _STEREO}, {"a": np.full((2, 50), np.nan)}, "finite"),
        ({}, {}, "no reference"),
    ],
)
def test_evaluate_track_rejects_inputs_that_do_not_fit(references, estimates, match):
    with pytest.raises(MetricsError, match=match):
        evaluate_track(references, estimates, 10)
