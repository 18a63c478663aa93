"""Tests of wiass.sideinfo.timeline: where step m sits on the frame axis, in training and at
separation, and the windows of steps a chunk gets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from wiass.config import SideInfoConfig
from wiass.sideinfo import KINDS, SideInfo, generate, get_kind, step_map
from wiass.sideinfo.timeline import (
    Timeline,
    alignment_timeline,
    chunk_margin,
    coarse_frames,
    file_timeline,
    take_rows,
    training_timeline,
    uniform_timeline,
)

PARAMS = SideInfoConfig(rate_range=(2, 5), pad_range=(1, 6))


@pytest.mark.parametrize("rate", [1, 2, 3, 4, 7])
def test_training_and_separation_put_whole_blocks_on_the_same_frame(rate):
    n_frames = 12 * rate
    uniform = uniform_timeline(12, n_frames, rate)
    np.testing.assert_array_equal(uniform.frames, coarse_frames(n_frames, rate))
    assert uniform.rate == rate and not uniform.padding.any()
    covering = uniform_timeline(12, n_frames)
    np.testing.assert_array_equal(covering.centres, uniform.centres)


@pytest.mark.parametrize("timing", ["aligned", "coarse", "offset", "warped"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_padding_lies_outside_the_excerpt_and_only_at_the_ends(timing, seed):
    timeline = training_timeline(timing, 50, np.random.default_rng(seed), PARAMS)
    frames, padding = timeline.frames, timeline.padding
    assert frames.dtype == np.int64 and (np.diff(frames) >= 0).all()
    inner = np.flatnonzero(~padding)
    assert (np.diff(inner) == 1).all() and frames[inner].min() >= 0 and frames[inner].max() < 50
    assert (timeline.alignment[padding] == -1).all()
    if timing in ("aligned", "coarse"):
        assert not padding.any()
    np.testing.assert_array_equal(timeline.alignment[inner], frames[inner])


@pytest.mark.parametrize("kind", ["A2", "A3.1", "A3.2", "M2"])
def test_whole_file_generated_side_information_sits_on_its_true_frames(kind):
    rng = np.random.default_rng(3)
    target = rng.uniform(0.1, 1.0, (300, 33)).astype(np.float32)
    side = generate(kind, target, 0, 300, rng, PARAMS, n_fft=64)
    timeline = file_timeline(side, 300, get_kind(kind))
    real = side.alignment >= 0
    np.testing.assert_array_equal(timeline.centres[real], side.alignment[real])
    assert (np.diff(timeline.centres) >= 0).all()
    for first in range(0, 280, 37):
        steps = timeline.window(first, 20)
        described = np.flatnonzero(real & (side.alignment >= first) & (side.alignment < first + 20))
        assert set(described) <= set(steps), "a chunk gets every step describing its frames"


def test_padding_steps_continue_at_the_rate_beyond_the_real_ones():
    alignment = np.array([-1, -1, 10, 14, 18, -1])
    timeline = alignment_timeline(alignment, 40)
    assert timeline.rate == 4.0
    np.testing.assert_array_equal(timeline.centres, [2, 6, 10, 14, 18, 22])
    assert alignment_timeline(alignment, 40, rate=2.0).centres.tolist() == [6, 8, 10, 14, 18, 20]
    assert alignment_timeline(np.array([-1, 5, -1]), 10).rate == 1.0


def test_windows_hold_the_covering_steps_plus_margin_and_minus_one_beyond_the_ends():
    timeline = uniform_timeline(10, 100)  # step m covers frames [10 m, 10 m + 10)
    assert timeline.window(25, 10).tolist() == [2, 3]
    assert timeline.window(25, 10, margin=2).tolist() == [0, 1, 2, 3, 4, 5]
    assert timeline.window(0, 5, margin=2).tolist() == [-1, -1, 0, 1, 2]
    assert timeline.window(95, 5, margin=1).tolist() == [8, 9, -1]


def test_take_rows_gives_zeros_outside_the_rows():
    rows = np.arange(6, dtype=np.float64).reshape(3, 2)
    out = take_rows(rows, np.array([-2, 0, 2, 3, -1]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0], [0, 1], [4, 5], [0, 0], [0, 0]])


@pytest.mark.parametrize("kind", list(KINDS))
def test_chunk_margin_only_for_padded_kinds(kind):
    expected = 4 if get_kind(kind).timing in ("offset", "warped", "spoken") else 0
    assert chunk_margin(get_kind(kind), (2, 6)) == expected


def test_step_map_refers_to_the_values_and_windows_them():
    values = np.arange(20, dtype=np.float32)[:, None]
    side = SideInfo(values, None, "A3.1", rate=5.0)
    steps = step_map(side, 100, get_kind("A3.1"), (2, 2))
    assert steps.values is values and steps.margin == 2 and steps.rate == 5.0
    window, index = steps.window(0, 10)
    assert index.tolist() == [-1, -1, 0, 1, 2, 3]
    np.testing.assert_array_equal(window[:, 0], [0, 0, 0, 1, 2, 3])
    aligned = step_map(dataclasses.replace(side, kind="A1"), 20, get_kind("A1"), (2, 2))
    assert aligned.margin == 0 and aligned.window(4, 3)[1].tolist() == [4, 5, 6]


def test_fractional_centres_take_the_frame_below():
    timeline = Timeline(np.array([-0.5, 0.5, 2.5, 3.9, 4.0]), 1.0, 4)
    assert timeline.n_steps == 5 and timeline.frames.tolist() == [-1, 0, 2, 3, 4]
    assert timeline.alignment.tolist() == [-1, 0, 2, 3, -1]
