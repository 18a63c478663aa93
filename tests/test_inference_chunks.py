"""Chunk planning, streaming resampling and the whole-file attention map: the parts of
inference that know nothing of the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tiny_separators import HOP, MODEL_RATE, noise

from wiass.audio import resample
from wiass.errors import ConfigError
from wiass.inference.attention import AttentionMap
from wiass.inference.chunks import (
    batch_sizes,
    chunk_sizes,
    chunk_weights,
    plan_chunks,
    resampled_length,
)
from wiass.inference.stream import Resampler, ordered_map


def test_streaming_resampler_gives_the_samples_of_wiass_audio_resample():
    audio = noise(2, 1.3, 44100)
    whole = resample(audio, 44100, 8000)
    stream = Resampler(44100, 8000, 2, resampled_length(audio.shape[1], 44100, 8000))
    blocks = [audio[:, i : i + 5000] for i in range(0, audio.shape[1], 5000)]
    pieces = [stream.push(b, last=i == len(blocks) - 1) for i, b in enumerate(blocks)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)


def test_resampled_length_matches_soxr():
    for n, sr_in, sr_out in [(13473, 44100, 22050), (999, 8000, 44100), (4, 48000, 8000)]:
        assert resample(np.zeros((1, n)), sr_in, sr_out).shape[1] == resampled_length(
            n, sr_in, sr_out
        )


def test_chunk_sizes_are_whole_hops_and_refuse_bad_lengths():
    length, overlap = chunk_sizes(1.0, 0.25, MODEL_RATE, HOP)
    assert (length, overlap) == (
        round(MODEL_RATE / HOP) * HOP,
        round(0.25 * MODEL_RATE / HOP) * HOP,
    )
    assert chunk_sizes(1.0, 5.0, MODEL_RATE, HOP)[1] == length // 2 // HOP * HOP
    assert chunk_sizes(math.inf, 1.0, MODEL_RATE, HOP)[1] == 0
    for seconds, overlap_seconds in ((0.0, 1.0), (-1.0, 1.0), (1.0, -0.5), (1.0, math.inf)):
        with pytest.raises(ConfigError, match="chunk"):
            chunk_sizes(seconds, overlap_seconds, MODEL_RATE, HOP)


def test_chunk_plan_covers_the_signal_with_equal_chunks():
    length, overlap = chunk_sizes(1.0, 0.25, MODEL_RATE, HOP)
    assert length % 64 == 0 and overlap % 64 == 0 and 0 < overlap <= length // 2
    assert plan_chunks(length, length, overlap, 64) == [(0, length)]
    for total in (length + 1, 2 * length, 5 * length + 17, 7 * (length - overlap) + overlap):
        chunks = plan_chunks(total, length, overlap, 64)
        assert chunks[0][0] == 0 and chunks[-1][1] == math.ceil(total / 64) * 64
        assert all(end - start == length and start % 64 == 0 for start, end in chunks)
        for (start, end), (next_start, _) in zip(chunks, chunks[1:], strict=False):
            assert start < next_start and end - next_start >= overlap
        for (_, end), (next_start, _) in zip(chunks[:-2], chunks[1:-1], strict=True):
            assert end - next_start == overlap


def test_chunk_weights_sum_to_one_everywhere():
    for total in (2000, 2600, 3333):
        chunks = plan_chunks(total, 1000, 128, 64)
        coverage = np.zeros(chunks[-1][1])
        for index, (start, end) in enumerate(chunks):
            weights = chunk_weights(chunks, index, 128)
            assert weights.shape == (end - start,) and np.all((weights >= 0) & (weights <= 1))
            coverage[start:end] += weights
        np.testing.assert_allclose(coverage, 1.0, atol=1e-6)
    ramp = chunk_weights([(0, 1000), (872, 1872)], 1, 128)[:128]
    assert np.all(np.diff(ramp) > 0)


def test_batches_are_even():
    assert batch_sizes(6, 4) == [3, 3]
    assert batch_sizes(17, 4) == [4, 4, 3, 3, 3]
    assert batch_sizes(1, 4) == [1] and batch_sizes(8, 4) == [4, 4]
    assert batch_sizes(0, 4) == []


def test_ordered_map_keeps_the_order_with_several_workers():
    items = list(range(23))
    for workers in (1, 3):
        assert list(ordered_map(lambda x: x * x, iter(items), workers)) == [x * x for x in items]


def test_attention_map_weights_overlapping_chunks():
    attention = AttentionMap(n_frames=6, n_steps=3)
    ones = torch.ones(4)
    attention.add(0, ones, torch.tensor([[1.0, 0.0]] * 4), np.array([0, 1]))
    attention.add(
        2, torch.tensor([1.0, 3.0, 1.0, 1.0]), torch.tensor([[0.0, 1.0]] * 4), np.array([1, 2])
    )
    result = attention.result()
    np.testing.assert_allclose(result[:2], [[1, 0, 0]] * 2)
    np.testing.assert_allclose(result[2], [0.5, 0.0, 0.5])
    np.testing.assert_allclose(result[3], [0.25, 0.0, 0.75])
    np.testing.assert_allclose(result[4:], [[0, 0, 1]] * 2)


def test_attention_map_pools_frames_to_the_size_limit():
    attention = AttentionMap(n_frames=10, n_steps=4, max_values=12)
    assert attention.pool == 4 and attention.result().shape == (3, 4)
    alpha = torch.arange(40, dtype=torch.float32).reshape(10, 4)
    attention.add(0, torch.ones(10), alpha, np.arange(4))
    np.testing.assert_allclose(attention.result()[0], alpha[:4].mean(dim=0).numpy())
    np.testing.assert_allclose(attention.result()[2], alpha[8:].mean(dim=0).numpy())
