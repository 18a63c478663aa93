"""The fast training data pipeline: side information from per-track features, hop-aligned
excerpts, stems in memory, magnitudes computed in the training step, workers.

Tiny datasets of noise at 8 kHz (``helpers.write_dataset``), 1 s excerpts, a 256-point STFT.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import SR, TINY_MODEL, write_dataset, write_track
from torch.utils.data import DataLoader

from wiass.config import AudioConfig, Config, DataConfig, ModelConfig, SideInfoConfig
from wiass.data.dataset import Excerpt, SeparationDataset, batch_magnitudes, collate
from wiass.data.tracks import FolderSource, open_source
from wiass.errors import ConfigError
from wiass.sideinfo import SideInfo, generate
from wiass.training import LOSSES, SeparationDataModule, SeparatorModule
from wiass.transforms import magnitude

N_FFT = 256
HOP = 64
GENERATED = ["A1", "A2", "A3.1", "A3.2", "M1", "M2"]


def make_config(**data: object) -> Config:
    """8 kHz, 256-point STFT, 1 s excerpts, short side-information margins, random mix and
    gains."""
    return Config(
        audio=AudioConfig(sample_rate=SR, n_fft=N_FFT, hop=HOP),
        side_info=SideInfoConfig(pad_range=(2, 4), rate_range=(2, 3), bands=6),
        data=DataConfig(
            **{
                "excerpt_seconds": 1.0,
                "examples_per_epoch": 12,
                "validation_examples": 8,
                "random_mix": True,
                "augment": True,
                **data,
            }
        ),
        model=ModelConfig(**TINY_MODEL),
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"))


def generate_from(dataset: SeparationDataset, rng, target_mag: np.ndarray, first: int) -> SideInfo:
    return generate(
        dataset.kind,
        target_mag,
        first,
        dataset.n_frames,
        rng,
        dataset.config.side_info,
        sample_rate=SR,
        n_fft=N_FFT,
    )


class FromTrackMagnitude(SeparationDataset):
    """Side information generated from the magnitudes of the whole gained target (zero-padded
    to an excerpt) over the excerpt and its margins: what the features must reproduce."""

    def _side_info(self, rng: np.random.Generator, target: Excerpt) -> SideInfo:
        audio = self.source.read_whole(target.track, "vocals", mono=True)[0]
        audio = np.pad(audio, (0, max(0, self.excerpt_samples - audio.size)))
        mag = magnitude(audio * np.float32(target.gain), self.config.audio.stft).numpy()
        first = target.start // HOP
        low = max(0, first - self.margin_frames)
        high = min(mag.shape[0], first + self.n_frames + self.margin_frames)
        return generate_from(self, rng, mag[low:high], first - low)


class FromContextRead(SeparationDataset):
    """The path before per-track features: the gained target read over the excerpt and its
    margins (whole hops, clipped at the track's edges), one STFT of that context."""

    def _side_info(self, rng: np.random.Generator, target: Excerpt) -> SideInfo:
        left = min(self.margin_frames, target.start // HOP)
        end = target.start + self.excerpt_samples
        right = min(self.margin_frames, max(0, self.source.length(target.track) - end) // HOP)
        start = target.start - left * HOP
        length = (left + right) * HOP + self.excerpt_samples
        audio = self.source.read(target.track, "vocals", start, length, mono=True)[0]
        mag = magnitude(audio * np.float32(target.gain), self.config.audio.stft).numpy()
        return generate_from(self, rng, mag, left)


def paired_items(first: SeparationDataset, second: SeparationDataset, count: int):
    """Items ``i`` of both datasets drawn from the same torch seed."""
    for index in range(count):
        torch.manual_seed(index)
        a = first[index]
        torch.manual_seed(index)
        yield a, second[index]


# ---------------------------------------------------------------------------------------------
# Side information from per-track features


@pytest.mark.parametrize("kind", GENERATED)
@pytest.mark.parametrize("train", [True, False])
def test_side_info_equals_generating_from_the_gained_target_magnitude(root, kind, train):
    config = make_config()
    source = open_source(root)
    dataset = SeparationDataset(source, config, kind=kind, train=train, length=12)
    reference = FromTrackMagnitude(source, config, kind=kind, train=train, length=12)
    for a, b in paired_items(dataset, reference, 12):
        assert torch.equal(a["mix_audio"], b["mix_audio"])
        assert torch.equal(a["alignment"], b["alignment"])
        if kind.startswith("A"):
            assert torch.equal(a["side_info"], b["side_info"])
        else:
            torch.testing.assert_close(a["side_info"], b["side_info"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["A1", "A3.1", "A3.2"])
def test_activity_equals_the_old_context_path(root, kind):
    config = make_config()
    source = open_source(root)
    dataset = SeparationDataset(source, config, kind=kind, length=12)
    old = FromContextRead(source, config, kind=kind, length=12)
    for a, b in paired_items(dataset, old, 12):
        assert torch.equal(a["side_info"], b["side_info"])
        assert torch.equal(a["alignment"], b["alignment"])


@pytest.mark.parametrize("kind", ["M1", "M2"])
def test_band_features_equal_the_old_path_where_its_context_was_the_whole_track(tmp_path, kind):
    # The old path reflect-padded the edges of its context window, so its band features differ
    # wherever that window ends inside a track; here every window spans the whole track.
    for k, extra in enumerate((0, 3, 7)):
        write_track(tmp_path / f"t{k}", seconds=1.0 + extra * HOP / SR, silent_vocals=False, seed=k)
    config = make_config()
    source = FolderSource(tmp_path, subset=None)
    dataset = SeparationDataset(source, config, kind=kind, length=12)
    old = FromContextRead(source, config, kind=kind, length=12)
    for a, b in paired_items(dataset, old, 12):
        torch.testing.assert_close(a["side_info"], b["side_info"], atol=1e-6, rtol=0)


def test_target_excerpts_start_on_the_hop_grid(root):
    config = make_config()
    source = open_source(root)
    starts = []
    for train in (True, False):
        dataset = SeparationDataset(source, config, kind="A3.1", train=train, length=30)
        torch.manual_seed(0)
        for index in range(len(dataset)):
            item = dataset[index]
            track = source.names.index(item["track"])
            assert item["start"] % HOP == 0
            assert 0 <= item["start"] <= max(0, source.length(track) - SR)
            starts.append(item["start"])
    assert len(set(starts)) > 20


def test_features_are_computed_once_per_track(root, monkeypatch):
    dataset = SeparationDataset(open_source(root), make_config(), kind="M2")
    assert len(dataset.features) == len(dataset.source)
    assert [f.n_frames for f in dataset.features] == [
        dataset.source.length(t) // HOP + 1 for t in range(len(dataset.source))
    ]
    monkeypatch.setattr("wiass.data.dataset.magnitude", None)
    torch.manual_seed(0)
    assert dataset[0]["side_info"].shape[1] == 6


# ---------------------------------------------------------------------------------------------
# Stems in memory


@pytest.mark.parametrize("train", [False, True])
def test_stems_in_memory_and_from_files_give_the_same_items(root, train):
    config = make_config()
    source = open_source(root)
    memory = SeparationDataset(source, config, kind="M2", train=train)
    files = SeparationDataset(source, config, kind="M2", train=train, cache_mb=0)
    assert memory.cached and not files.cached
    for a, b in paired_items(memory, files, len(memory)):
        assert a.keys() == b.keys()
        for key in ("mix_audio", "target_audio", "side_info", "alignment"):
            assert torch.equal(a[key], b[key]), key
        assert (a["track"], a["start"]) == (b["track"], b["start"])


def test_memory_holds_only_the_stems_examples_read(root):
    source = open_source(root)
    mixing = SeparationDataset(source, make_config(), kind="none")
    assert {stem for _, stem in mixing.audio} == {"vocals", "drums", "bass", "other"}
    reading = SeparationDataset(source, make_config(), kind="none", train=False)
    assert {stem for _, stem in reading.audio} == {"mixture", "vocals"}
    assert reading.cache_bytes() == 2 * 4 * sum(info.frames for info in source.tracks)


def test_cache_over_the_limit_falls_back_to_reading_files(root):
    source = open_source(root)
    config = make_config(cache_mb=1)
    with pytest.warns(UserWarning, match=r"more than data.cache_mb = 1; reading the excerpts"):
        limited = SeparationDataset(source, config, kind="A3.1")
    assert limited.cache_bytes() > 2**20
    assert not limited.cached and limited.audio is None
    assert len(limited.features) == len(source)
    cached = SeparationDataset(source, make_config(), kind="A3.1")
    assert cached.cached
    for a, b in paired_items(limited, cached, len(limited)):
        assert torch.equal(a["mix_audio"], b["mix_audio"])
        assert torch.equal(a["side_info"], b["side_info"])


def test_negative_cache_limit_is_a_config_error(root):
    with pytest.raises(ConfigError, match="data.cache_mb"):
        SeparationDataset(open_source(root), make_config(cache_mb=-1))


# ---------------------------------------------------------------------------------------------
# Magnitudes in the training step


def test_batch_magnitudes_equal_each_examples_magnitudes(root):
    config = make_config()
    dataset = SeparationDataset(open_source(root), config, kind="A3.1")
    torch.manual_seed(0)
    items = [dataset[i] for i in range(4)]
    mix, target = batch_magnitudes(collate(items), config.audio.stft)
    assert mix.shape == target.shape == (4, SR // HOP + 1, N_FFT // 2 + 1)
    for row, item in enumerate(items):
        torch.testing.assert_close(mix[row], magnitude(item["mix_audio"], config.audio.stft))
        torch.testing.assert_close(target[row], magnitude(item["target_audio"], config.audio.stft))


@pytest.mark.parametrize("kind", ["A3.1", "none"])
def test_training_step_loss_uses_the_batch_magnitudes(root, kind):
    config = make_config()
    config.side_info.kind = kind
    dataset = SeparationDataset(open_source(root), config)
    torch.manual_seed(0)
    items = [dataset[i] for i in range(3)]
    batch = collate(items)
    module = SeparatorModule(config.to_dict())
    stft = config.audio.stft
    mix = torch.stack([magnitude(item["mix_audio"], stft) for item in items])
    target = torch.stack([magnitude(item["target_audio"], stft) for item in items])
    if module.model.informed:
        estimate, _ = module.model(mix, batch["side_info"], batch["side_mask"])
    else:
        estimate, _ = module.model(mix)
    expected = LOSSES[config.train.loss](estimate, target)
    torch.testing.assert_close(module.batch_loss(batch), expected)


def test_normalization_is_over_mixture_magnitudes(root):
    config = make_config()
    datamodule = SeparationDataModule(root, config)
    mean, std = datamodule.normalization()
    assert mean.shape == std.shape == (N_FFT // 2 + 1,)
    dataset = SeparationDataset(
        datamodule.train_source, config, train=False, kind="none", length=32, cache_mb=0
    )
    frames = torch.cat([magnitude(dataset[i]["mix_audio"], config.audio.stft) for i in range(32)])
    torch.testing.assert_close(mean, frames.mean(dim=0))
    torch.testing.assert_close(std, frames.std(dim=0))


# ---------------------------------------------------------------------------------------------
# Workers


def batches_of(dataset: SeparationDataset, seed: int) -> list[dict]:
    loader = DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collate)
    torch.manual_seed(seed)
    return list(loader)


def test_workers_are_deterministic_per_seed(root):
    dataset = SeparationDataset(open_source(root), make_config(), kind="M2")
    first, again, other = batches_of(dataset, 7), batches_of(dataset, 7), batches_of(dataset, 8)
    assert len(first) == len(again) == 3
    for a, b in zip(first, again, strict=True):
        for key in ("mix_audio", "target_audio", "side_info", "side_mask", "alignment", "start"):
            assert torch.equal(a[key], b[key]), key
        assert a["track"] == b["track"]
    assert not torch.equal(first[0]["mix_audio"], other[0]["mix_audio"])
