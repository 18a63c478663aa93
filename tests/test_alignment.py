"""Whole-song alignment: the monotonic path, step placement, coarse-to-fine search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wiass.inference import alignment
from wiass.inference.alignment import StepScores, activity_scores, align, best_path, step_centres


def _all_paths(n_frames: int, n_steps: int):
    """Every monotonic path (stay or move on by one step per frame, free start and end)."""
    for start in range(n_steps):
        for moves in itertools.product((0, 1), repeat=n_frames - 1):
            path = start + np.concatenate([[0], np.cumsum(moves)])
            if path[-1] < n_steps:
                yield path


@pytest.mark.parametrize("seed", range(5))
def test_monotonic_path_is_the_best_of_all_monotonic_paths(seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((7, 4))
    scores = StepScores(values, np.eye(4), binary=False)
    table = scores.rows(slice(None), slice(None))

    def total(path):
        skipped = path[0] + 3 - path[-1]
        return table[np.arange(7), path].sum() - alignment.SKIP_COST * skipped

    best = max(_all_paths(7, 4), key=total)
    found = best_path(scores)
    assert total(found) == pytest.approx(total(best))
    assert np.all(np.diff(found) >= 0) and np.all(np.diff(found) <= 1)


def test_hand_made_scores_give_the_known_path():
    # frames 0-2 match step 0, 3-4 step 1, 5-7 step 2 (a feature per step, one-hot)
    frames = np.array([[1, 0, 0]] * 3 + [[0, 1, 0]] * 2 + [[0, 0, 1]] * 3, dtype=float)
    path = best_path(StepScores(frames, np.eye(3), binary=False))
    assert path.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]


def test_coarse_to_fine_finds_the_same_path_as_the_full_search(monkeypatch):
    rng = np.random.default_rng(3)
    runs = rng.integers(5, 20, size=12)
    activity = np.concatenate([np.full(r, i % 2, dtype=float) for i, r in enumerate(runs)])
    steps = activity[:, None]
    frames = np.repeat(activity, 4)
    levels = np.where(frames > 0, 0.0, -80.0) + rng.normal(0, 1, frames.size)
    scores = StepScores(activity_scores(levels, 40.0), steps, binary=True)
    full = best_path(scores)
    monkeypatch.setattr(alignment, "MAX_CELLS", 2000)
    banded = best_path(scores)
    table = scores.rows(slice(None), slice(None))
    frames_index = np.arange(full.size)
    assert table[frames_index, banded].sum() == pytest.approx(table[frames_index, full].sum())


@pytest.mark.parametrize("band", [None, 30.0])
def test_a_shifted_and_stretched_activity_is_found_at_its_offset(band):
    rng = np.random.default_rng(7)
    runs = rng.integers(20, 80, size=30)
    frame_activity = np.concatenate([np.full(r, i % 2, dtype=float) for i, r in enumerate(runs)])
    n_frames = frame_activity.size
    rate, stretch, offset = 4.0, 1.08, -150.0
    n_steps = int(n_frames / rate)
    described = offset + (np.arange(n_steps) * rate + 1.5) * stretch
    inside = (described >= 0) & (described < n_frames)
    steps = np.zeros((n_steps, 1))
    steps[inside, 0] = frame_activity[described[inside].astype(int)]
    levels = np.where(frame_activity > 0, -10.0, -90.0) + rng.normal(0, 2, n_frames)
    scores = StepScores(activity_scores(levels, 40.0), steps, binary=True)
    result = align(scores, band_frames=band, line_tolerance=15.0)
    error = np.abs(result.centres[inside] - described[inside])
    assert np.median(error) < 2.0
    assert np.mean(error <= rate) > 0.95
    assert result.rate == pytest.approx(rate * stretch, rel=0.02)


def test_without_changes_the_steps_cover_the_frames_uniformly():
    centres, rate = step_centres(np.repeat(np.arange(10), 4), np.ones((10, 1)))
    assert rate == 4.0
    np.testing.assert_allclose(centres, np.arange(10) * 4 + 1.5)


def activity_song(seed: int, phrases: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed)
    runs = rng.integers(20, 80, size=phrases)
    return np.concatenate([np.full(r, i % 2, dtype=float) for i, r in enumerate(runs)])


@pytest.mark.parametrize("binary", [True, False])
def test_line_totals_are_the_sums_of_the_scores_along_each_line(binary):
    """Every offset's total from the FFT correlation equals the sum, frame by frame, of the
    (line-search) scores of the step the line puts on the frame (clamped to the first and last
    steps outside them)."""
    rng = np.random.default_rng(4)
    n_frames, n_steps, rate = 60, 17, 2.6
    if binary:
        scores = StepScores(
            np.log(rng.dirichlet([1, 1], n_frames)), rng.integers(0, 2, (n_steps, 1)), True
        )
    else:
        scores = StepScores(rng.random((n_frames, 3)), rng.random((n_steps, 3)), False)
    frame_terms, step_terms = alignment._line_terms(scores)
    totals, offsets = alignment._line_totals(frame_terms, step_terms, rate)
    assert offsets.size > 10
    table = frame_terms @ step_terms.T
    for total, offset in zip(totals, offsets, strict=True):
        frame = np.arange(n_frames) - offset
        step = np.where(
            frame < 0, 0, np.minimum(np.floor(np.maximum(frame, 0) / rate), n_steps - 1)
        )
        expected = table[np.arange(n_frames), step.astype(int)].sum()
        assert total == pytest.approx(expected, abs=1e-9)
    if not binary:
        full = scores.frames @ scores.steps.T * 2 / 3 - (scores.steps**2).sum(1) / 3
        np.testing.assert_allclose(table, full)


def test_phrases_that_look_alike_are_not_swapped():
    """A song of one phrase repeated, whose blind estimate misses a phrase: the line through
    the whole song keeps every step on its own phrase."""
    phrase = np.concatenate([np.zeros(30), np.ones(50), np.zeros(10), np.ones(30)])
    frame_activity = np.tile(phrase, 12)
    rate = 2.0
    steps = frame_activity[::2, None]
    heard = frame_activity.copy()
    heard[5 * phrase.size : 6 * phrase.size] = 0.0
    rng = np.random.default_rng(2)
    levels = np.where(heard > 0, -10.0, -90.0) + rng.normal(0, 2, heard.size)
    scores = StepScores(activity_scores(levels, 40.0), steps, binary=True)
    result = align(scores, band_frames=60.0, line_tolerance=15.0)
    truth = np.arange(steps.shape[0]) * rate + 0.5
    assert np.mean(np.abs(result.centres - truth) <= rate) > 0.95


def test_a_warp_is_followed_between_anchors_not_forced_on_a_line():
    """Side information whose tempo changes half-way (steps twice as long in the second half):
    no line fits, and the steps are placed between the anchors the path finds."""
    frame_activity = activity_song(5, phrases=40)
    n_frames = frame_activity.size
    half = n_frames // 2
    described = np.concatenate([np.arange(0, half, 2), np.arange(half, n_frames, 4)]) + 0.5
    steps = frame_activity[described.astype(int), None]
    rng = np.random.default_rng(6)
    levels = np.where(frame_activity > 0, -10.0, -90.0) + rng.normal(0, 2, n_frames)
    scores = StepScores(activity_scores(levels, 40.0), steps, binary=True)
    result = align(scores, band_frames=n_frames / 2, line_tolerance=10.0)
    error = np.abs(result.centres - described)
    assert np.mean(error <= 4.0) > 0.8
    line = alignment.line_search(scores)
    on_line = line.offset + (np.arange(steps.shape[0]) + 0.5) * line.rate - 0.5
    assert np.mean(np.abs(on_line - described) <= 4.0) < 0.5, "a line fits after all"
