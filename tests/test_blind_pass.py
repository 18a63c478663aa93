"""The blind first pass of whole-song alignment: the same vocals with bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_separators import MODEL_RATE, noise, save_tiny

import wiass
from wiass.inference.runner import ChunkRunner
from wiass.inference.song_alignment import mono_overlap_add
from wiass.separator import load_separator
from wiass.sideinfo import frame_energy
from wiass.transforms import STFTConfig, magnitude, magnitude_in_blocks


@pytest.mark.parametrize("seconds", [0.01, 0.5, 3.0])
def test_magnitude_in_blocks_is_the_whole_magnitude(seconds):
    config = STFTConfig(n_fft=256, hop=64)
    audio = noise(1, seconds, MODEL_RATE, seed=1)[0]
    whole = magnitude(audio, config).numpy()
    blocks = magnitude_in_blocks(audio, config, block_frames=7)
    assert blocks.shape == whole.shape == (config.n_frames(audio.size), config.n_bins)
    assert blocks.dtype == np.float32
    np.testing.assert_allclose(blocks, whole, rtol=1e-5, atol=1e-6)


def test_mono_overlap_add_is_the_channel_mean_of_the_chunked_separation(tmp_path):
    separator = load_separator(save_tiny(tmp_path, ("none",))["none"])
    mixture = noise(2, 4.3, MODEL_RATE, seed=6)
    runner = ChunkRunner(separator, None, mixture.shape[1], chunk_seconds=1.0)
    assert len(runner.chunks) > 3 and runner.chunks[-1][1] > mixture.shape[1]
    mono = mono_overlap_add(runner, mixture, workers=2)
    separated = wiass.separate(
        mixture, MODEL_RATE, separator, chunk_seconds=1.0, precision="32-true"
    )
    np.testing.assert_allclose(mono, separated.vocals.mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("shape", [(10_000, 33), (2, 5000, 7), (0, 5)])
def test_frame_energy_in_blocks_is_the_float64_sum(shape):
    magnitudes = np.random.default_rng(0).random(shape, dtype=np.float32)
    expected = np.sum(magnitudes.astype(np.float64) ** 2, axis=-1)
    energy = frame_energy(magnitudes)
    assert energy.dtype == np.float64 and energy.shape == shape[:-1]
    np.testing.assert_allclose(energy, expected, rtol=1e-12)
