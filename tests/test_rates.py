"""Side information brought into the model's trained rates, and placed over the whole song."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_separators import MODEL_RATE, noise, save_tiny

import wiass
from wiass.errors import WiassWarning
from wiass.separator import load_separator
from wiass.sideinfo import SideInfo
from wiass.sideinfo.rates import RateFit, fit_rate, fitting_factor


def test_coarse_steps_are_held_and_fine_steps_pooled_into_the_range():
    assert fitting_factor(62.5, (2, 6)) == RateFit(held=16)
    assert fitting_factor(1.0, (2, 6)) == RateFit(pooled=4)
    assert fitting_factor(4.0, (2, 6)) == RateFit()
    assert fitting_factor(1251 / 626, (2, 6)) == RateFit()


def test_holding_keeps_what_every_step_says_and_warns_once():
    values = np.array([[0], [1], [1], [0]], np.float32)
    with pytest.warns(WiassWarning, match="held 10 times") as record:
        fitted, fit = fit_rate(SideInfo(values, None, "A3.1"), 160, (2, 6))
    assert len(record) == 1
    assert fit.held == 10 and fitted.n_steps == 40
    np.testing.assert_array_equal(fitted.values[::10], values)
    np.testing.assert_array_equal(fitted.values.reshape(4, 10), np.repeat(values, 10, axis=1))


def test_pooling_keeps_the_middle_step_of_every_block():
    values = np.arange(12, dtype=np.float32)[:, None]
    with pytest.warns(WiassWarning, match="every 4th step"):
        fitted, fit = fit_rate(SideInfo(values, None, "M2"), 12, (2, 6))
    assert fit.pooled == 4
    np.testing.assert_array_equal(fitted.values[:, 0], [2, 6, 10])


def test_user_steps_get_their_share_of_the_model_steps_times():
    starts, ends = np.arange(6.0), np.arange(1.0, 7.0)
    held = RateFit(held=3).user_edges(starts, ends, 2)
    np.testing.assert_array_equal(held[0], [0, 3])
    np.testing.assert_array_equal(held[1], [3, 6])
    pooled = RateFit(pooled=2).user_edges(starts[:2], ends[:2], 4)
    np.testing.assert_allclose(pooled[0], [0, 0.5, 1, 1.5])
    np.testing.assert_allclose(pooled[1], [0.5, 1, 1.5, 2])


def test_steps_in_the_trained_range_are_left_alone():
    side = SideInfo(np.ones((40, 1), np.float32), None, "A3.1")
    fitted, fit = fit_rate(side, 160, (2, 6))
    assert fitted is side and fit == RateFit()


def test_whole_song_alignment_has_no_jump_at_chunk_boundaries(tmp_path):
    """A mixture that is loud where the activity says the voice sings (so that even an
    untrained model's blind estimate follows it), separated in 2 s chunks: the steps are
    placed evenly across the chunk boundaries."""
    separator = load_separator(save_tiny(tmp_path, ("A3.1",))["A3.1"])
    activity = np.repeat(np.random.default_rng(0).random(60) > 0.5, 10).astype(np.float32)
    mixture = noise(1, 12.0, MODEL_RATE, seed=4)
    loudness = np.repeat(np.where(activity > 0, 1.0, 0.01), mixture.shape[1] // activity.size + 1)
    mixture = (mixture * loudness[: mixture.shape[1]]).astype(np.float32)
    result = wiass.separate(mixture, MODEL_RATE, separator, activity[:, None], chunk_seconds=2.0)
    centres = result.steps.timeline.centres
    gaps = np.diff(centres)
    assert np.all(gaps > 0)
    assert gaps.max() <= 3 * np.median(gaps)


def test_drifted_side_info_describes_the_frames_it_says_it_does():
    from wiass.sideinfo import drifted_side_info

    frames = np.arange(1000, dtype=np.float32)[:, None]
    side = drifted_side_info("A3.1", frames, 4, 62.5, np.random.default_rng(3))
    inside = side.alignment >= 0
    assert side.n_steps == 250 and 0 < inside.sum() < 250
    np.testing.assert_array_equal(side.values[inside, 0], side.alignment[inside])
    assert np.all(side.values[~inside] == 0)
    assert 3.6 <= side.rate <= 4.4
    steps = np.diff(side.alignment[inside])
    assert np.all((steps >= 3) & (steps <= 5))


def test_placement_scores_count_steps_within_one_step():
    from wiass.experiment.alignment import placement_scores

    truth = np.array([-1, 0, 4, 8, 12])
    placed = np.array([99.0, 1.0, 4.0, 13.0, 12.5])
    scores = placement_scores(placed, truth, 4.0, 0.016)
    assert scores["accuracy"] == 0.75
    assert scores["error_s"] == pytest.approx(0.75 * 0.016)


def test_placed_steps_are_in_seconds_on_the_frame_grid():
    from wiass.inference.song_alignment import StepPlan, placed_steps
    from wiass.sideinfo.timeline import uniform_timeline

    side = SideInfo(np.ones((10, 1), np.float32), None, "A3.1")
    plan = StepPlan(side, uniform_timeline(10, 40), None, RateFit(held=2), user_steps=5)
    placed = placed_steps(plan, 0.016)
    np.testing.assert_allclose(placed.start, (np.arange(5) * 8 - 0.5) * 0.016)
    np.testing.assert_allclose(placed.end, (np.arange(5) * 8 + 7.5) * 0.016)
    assert np.all(np.isnan(placed.confidence))


@pytest.mark.parametrize(
    ("activity", "problem"),
    [("01" * 10_100, "too long for this file"), ("1", "too short for this file")],
)
def test_side_information_too_long_or_too_short_is_one_line_and_exit_2(tmp_path, activity, problem):
    import subprocess
    import sys

    import soundfile as sf

    model = save_tiny(tmp_path, ("A3.1",))["A3.1"]
    mixture = tmp_path / "song.wav"
    sf.write(mixture, noise(1, 40.0, MODEL_RATE, seed=1).T, MODEL_RATE, subtype="FLOAT")
    # 40 s at 8 kHz with a 64-sample hop: 5,001 frames; 20,200 steps are over 4 per frame
    values = tmp_path / "activity.npy"
    np.save(values, np.array([float(c) for c in activity], np.float32))
    done = subprocess.run(
        [sys.executable, "-m", "wiass", "separate", str(mixture), "--model", str(model),
         "--side-info", str(values), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("wiass: error:") and problem in done.stderr
    assert not (tmp_path / "out").exists()
