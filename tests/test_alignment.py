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


def test_a_shifted_and_stretched_activity_is_found_at_its_offset():
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
    result = align(StepScores(activity_scores(levels, 40.0), steps, binary=True))
    error = np.abs(result.centres[inside] - described[inside])
    assert np.median(error) < 2.0
    assert np.mean(error <= rate) > 0.95
    assert result.rate == pytest.approx(rate * stretch, rel=0.02)


def test_without_changes_the_steps_cover_the_frames_uniformly():
    centres, rate = step_centres(np.repeat(np.arange(10), 4), np.ones((10, 1)))
    assert rate == 4.0
    np.testing.assert_allclose(centres, np.arange(10) * 4 + 1.5)
