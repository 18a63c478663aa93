"""Tests of wiass.data.tracks (track sources) and wiass.data.dataset (examples, collation).

Every test writes its own tiny dataset: a few tracks of 3-5 s at 8 kHz made of noise, whose
vocals hold stretches of exact zeros.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers import SR, write_dataset, write_track
from torch.utils.data import DataLoader

from wiass.audio import read_audio
from wiass.config import AudioConfig, Config, DataConfig, SideInfoConfig
from wiass.data import tracks as tracks_module
from wiass.data.dataset import SeparationDataset, collate
from wiass.data.tracks import (
    STEMS,
    FolderSource,
    MusdbSource,
    check_track_folder,
    iter_tracks,
    open_source,
    validation_names,
)
from wiass.errors import ConfigError, DataError
from wiass.transforms import magnitude

MUSDB_VALIDATION_TRACK = "Actions - One Minute Smile"


def make_config(**data: object) -> Config:
    """A small config: 8 kHz, 256-point STFT, 1 s excerpts, short side-information margins."""
    return Config(
        audio=AudioConfig(sample_rate=SR, n_fft=256, hop=64),
        side_info=SideInfoConfig(pad_range=(2, 4), rate_range=(2, 3), bands=6),
        data=DataConfig(
            **{"excerpt_seconds": 1.0, "examples_per_epoch": 8, "validation_examples": 6, **data}
        ),
    )


def mag(audio: np.ndarray | torch.Tensor, config: Config) -> torch.Tensor:
    """Magnitude of a mono waveform ``(samples,)``."""
    return magnitude(audio, config.audio.stft)


def mono(source: FolderSource, track: int, stem: str, start: int) -> torch.Tensor:
    """One second of ``stem`` from ``start``, read from the file as the mono downmix."""
    return torch.from_numpy(source.read(track, stem, start, SR, mono=True)[0])


@pytest.fixture
def dataset_root(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data")


# ---------------------------------------------------------------------------------------------
# Track sources


def test_folder_source_reads_musdb18hq_layout(dataset_root: Path) -> None:
    train = open_source(dataset_root, "train")
    test = open_source(dataset_root, "test")
    assert isinstance(train, FolderSource)
    assert train.names == [f"song {i}" for i in range(4)]
    assert test.names == ["test song 0"]
    assert [info.frames for info in train.tracks] == [24000, 28000, 32000, 36000]
    assert {info.sample_rate for info in train.tracks} == {SR}


def test_folder_source_accepts_a_root_of_track_folders(tmp_path: Path) -> None:
    for i in range(2):
        write_track(tmp_path / f"t{i}", seed=i)
    (tmp_path / "notes").mkdir()
    source = open_source(tmp_path)
    assert source.names == ["t0", "t1"]


def test_partial_reads_match_the_files(tmp_path: Path) -> None:
    stems = write_track(tmp_path / "t", seconds=3.0)
    source = FolderSource(tmp_path, subset=None)
    excerpt = source.read(0, "vocals", 5000, 3000)
    np.testing.assert_array_equal(excerpt, stems["vocals"][:, 5000:8000])
    tail = source.read(0, "mixture", 23000, 2000, mono=True)
    assert tail.shape == (1, 2000)
    np.testing.assert_allclose(tail[0, :1000], stems["mixture"][:, 23000:].mean(axis=0), atol=1e-7)
    assert not tail[0, 1000:].any()
    with pytest.raises(ValueError, match="unknown stem"):
        source.read(0, "piano", 0, 10)


def test_whole_reads_match_partial_reads(tmp_path: Path) -> None:
    stems = write_track(tmp_path / "t", seconds=3.0)
    source = FolderSource(tmp_path, subset=None)
    whole = source.read_whole(0, "bass", mono=True)
    assert whole.shape == (1, 24000) and whole.dtype == np.float32
    np.testing.assert_array_equal(whole, source.read(0, "bass", 0, 24000, mono=True))
    np.testing.assert_array_equal(source.read_whole(0, "mixture"), stems["mixture"])
    resampled = source.at_rate(16000)
    assert resampled.read_whole(0, "vocals", mono=True).shape == (1, 48000)
    with pytest.raises(ValueError, match="unknown stem"):
        source.read_whole(0, "piano")


def test_resampled_reads_match_the_resampled_track(tmp_path: Path) -> None:
    write_track(tmp_path / "t", seconds=3.0)
    source = FolderSource(tmp_path, subset=None, sample_rate=16000)
    assert source.length(0) == 48000
    track = next(iter_tracks(source))
    whole, rate = read_audio(tmp_path / "t" / "drums.wav", sample_rate=16000)
    assert rate == track.sample_rate == 16000
    np.testing.assert_allclose(track.stems["drums"], whole, atol=1e-6)
    for start in (0, 777, 20001, 47000):
        part = source.read(0, "drums", start, 2000)
        expected = np.zeros((2, 2000), dtype=np.float32)
        piece = whole[:, start : start + 2000]
        expected[:, : piece.shape[1]] = piece
        np.testing.assert_allclose(part, expected, atol=1e-4)


def test_iter_tracks_yields_whole_tracks(dataset_root: Path) -> None:
    source = open_source(dataset_root, "train")
    tracks = list(iter_tracks(source))
    assert [t.name for t in tracks] == source.names
    first = tracks[0]
    assert set(first.stems) == set(STEMS)
    assert first.mixture.shape == (2, 24000)
    mixture, _ = read_audio(dataset_root / "train" / "song 0" / "mixture.wav")
    np.testing.assert_array_equal(first.mixture, mixture)


def test_validation_split_is_deterministic_and_disjoint(dataset_root: Path) -> None:
    train = open_source(dataset_root, "train", "train", validation_fraction=0.3)
    valid = open_source(dataset_root, "train", "valid", validation_fraction=0.3)
    assert set(train.names).isdisjoint(valid.names)
    assert sorted(train.names + valid.names) == [f"song {i}" for i in range(4)]
    assert valid.names and train.names
    again = open_source(dataset_root, "train", "valid", validation_fraction=0.3)
    assert again.names == valid.names


def test_validation_names_keep_one_track_on_each_side() -> None:
    names = [f"track {i}" for i in range(20)]
    assert len(validation_names(names, 0.0)) == 1
    assert len(validation_names(names, 0.999999)) == 19
    assert validation_names(names, 0.5) == validation_names(list(reversed(names)), 0.5)
    some = validation_names(names, 0.3)
    assert some <= validation_names([*names, "another"], 0.3) | {"another"}
    assert validation_names(["only"], 0.999) in (set(), {"only"})
    with pytest.raises(ConfigError, match="validation_fraction"):
        validation_names(names, 1.5)


def test_one_track_has_no_validation_split(tmp_path: Path) -> None:
    write_track(tmp_path / "train" / "alone")
    train = open_source(tmp_path, "train", "train", validation_fraction=0.0)
    assert train.names == ["alone"]
    with pytest.raises(DataError, match="split 'valid' has no tracks"):
        open_source(tmp_path, "train", "valid", validation_fraction=0.0)


def _missing_stem(folder: Path) -> None:
    (folder / "drums.wav").unlink()


def _short_stem(folder: Path) -> None:
    sf.write(folder / "bass.wav", np.zeros((100, 2), np.float32), SR, subtype="FLOAT")


def _other_rate(folder: Path) -> None:
    audio, _ = sf.read(folder / "other.wav")
    sf.write(folder / "other.wav", audio, 16000, subtype="FLOAT")


def _garbage(folder: Path) -> None:
    (folder / "vocals.wav").write_bytes(b"this is not audio at all")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_missing_stem, r"song 0: missing stem file\(s\) drums\.wav"),
        (_short_stem, r"bass\.wav: 100 samples, but mixture\.wav has 24000"),
        (_other_rate, r"other\.wav: sample rate 16000 Hz differs from mixture\.wav \(8000 Hz\)"),
        (_garbage, r"vocals\.wav: not a readable audio file"),
    ],
)
def test_bad_track_folders_raise_data_errors(dataset_root: Path, damage, message: str) -> None:
    damage(dataset_root / "train" / "song 0")
    with pytest.raises(DataError, match=message):
        open_source(dataset_root, "train")


def test_empty_or_missing_dataset_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such dataset folder"):
        open_source(tmp_path / "nowhere")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no track folders"):
        open_source(tmp_path / "empty", "train")
    with pytest.raises(DataError, match="unknown split"):
        open_source(tmp_path / "empty", "train", "validation")
    with pytest.raises(DataError, match="applies to the 'train' subset"):
        open_source(tmp_path / "empty", "test", "valid")


def test_check_track_folder_reads_headers_only(tmp_path: Path) -> None:
    write_track(tmp_path / "t", seconds=3.5)
    info = check_track_folder(tmp_path / "t")
    assert (info.name, info.sample_rate, info.frames) == ("t", SR, 28000)


# ---------------------------------------------------------------------------------------------
# MUSDB18 through musdb


def test_musdb_wav_source_uses_the_fixed_validation_tracks(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("musdb needs ffmpeg")
    for i, name in enumerate([MUSDB_VALIDATION_TRACK, "Some - Song", "Other - Song"]):
        write_track(tmp_path / "train" / name, seed=i)
    valid = MusdbSource(tmp_path, "train", "valid", is_wav=True)
    train = open_source(tmp_path, "train", "train", kind="musdb-wav")
    assert valid.names == [MUSDB_VALIDATION_TRACK]
    assert sorted(train.names) == ["Other - Song", "Some - Song"]
    folder = FolderSource(tmp_path, "train")
    index = folder.names.index(MUSDB_VALIDATION_TRACK)
    np.testing.assert_array_equal(
        valid.read(0, "vocals", 1000, 500), folder.read(index, "vocals", 1000, 500)
    )


def test_musdb_stem_files_are_decoded_in_parts(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    stems = write_track(tmp_path / "wav" / "t", seconds=3.0, silent_vocals=False)
    (tmp_path / "mp4" / "test").mkdir(parents=True)
    order = ["mixture", "drums", "bass", "other", "vocals"]
    command = ["ffmpeg", "-loglevel", "error", "-y"]
    for name in order:
        command += ["-i", str(tmp_path / "wav" / "t" / f"{name}.wav")]
    for k in range(len(order)):
        command += ["-map", str(k)]
    command += ["-c:a", "aac", "-b:a", "96k", str(tmp_path / "mp4" / "test" / "t.stem.mp4")]
    subprocess.run(command, check=True)
    source = open_source(tmp_path / "mp4", "test")
    assert isinstance(source, MusdbSource)
    assert source.tracks[0].sample_rate == SR
    part = source.read(0, "vocals", 8000, 4000)
    assert part.shape == (2, 4000)
    assert np.corrcoef(part[0], stems["vocals"][0, 8000:12000])[0, 1] > 0.95
    assert np.corrcoef(part[0], stems["drums"][0, 8000:12000])[0, 1] < 0.2
    whole = next(iter_tracks(source))
    assert whole.stems["bass"].shape == (2, source.length(0))


def test_musdb_without_ffmpeg_is_a_data_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tracks_module.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="needs ffmpeg"):
        MusdbSource(tmp_path, "train")


def test_musdb_import_failure_is_a_data_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tracks_module.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setitem(sys.modules, "musdb", None)
    with pytest.raises(DataError, match=r"cannot import musdb .*pip install"):
        MusdbSource(tmp_path, "train")


# ---------------------------------------------------------------------------------------------
# Examples


@pytest.mark.parametrize(("kind", "dim"), [("A3.1", 1), ("M2", 6), ("A1", 1), ("none", 0)])
def test_items_have_the_documented_shapes(dataset_root: Path, kind: str, dim: int) -> None:
    config = make_config()
    dataset = SeparationDataset(open_source(dataset_root), config, kind=kind)
    item = dataset[0]
    frames = SR // 64 + 1
    assert item["mix_audio"].shape == item["target_audio"].shape == (SR,)
    assert item["mix_audio"].dtype == item["target_audio"].dtype == torch.float32
    assert item["start"] % config.audio.hop == 0
    steps = item["side_info"].shape[0]
    assert item["side_info"].shape == ((steps, dim) if dim else (0, 0))
    assert item["alignment"].shape == (steps,)
    assert item["alignment"].dtype == torch.int64
    if kind == "A1":
        assert torch.equal(item["alignment"], torch.arange(frames))
    assert item["track"] in dataset.source.names


def test_validation_examples_are_fixed_and_unaugmented(dataset_root: Path) -> None:
    config = make_config(random_mix=True, augment=True)
    source = open_source(dataset_root)
    first = SeparationDataset(source, config, train=False, kind="A3.1", seed=3)
    second = SeparationDataset(source, config, train=False, kind="A3.1", seed=3)
    other = SeparationDataset(source, config, train=False, kind="A3.1", seed=4)
    assert len(first) == 6
    for index in range(len(first)):
        a, b = first[index], second[index]
        for key in ("mix_audio", "target_audio", "side_info", "alignment"):
            assert torch.equal(a[key], b[key])
        assert (a["track"], a["start"]) == (b["track"], b["start"])
        track = source.names.index(a["track"])
        assert torch.equal(a["mix_audio"], mono(source, track, "mixture", a["start"]))
        assert torch.equal(a["target_audio"], mono(source, track, "vocals", a["start"]))
    assert [first[i]["track"] for i in range(4)] == source.names
    starts = [first[i]["start"] for i in range(len(first))]
    assert starts != [other[i]["start"] for i in range(len(other))]


def test_training_examples_follow_the_torch_seed(dataset_root: Path) -> None:
    dataset = SeparationDataset(open_source(dataset_root), make_config(), kind="M2")
    torch.manual_seed(11)
    a = dataset[2]
    b = dataset[2]
    torch.manual_seed(11)
    c = dataset[2]
    assert torch.equal(a["mix_audio"], c["mix_audio"])
    assert torch.equal(a["side_info"], c["side_info"])
    assert not torch.equal(a["mix_audio"], b["mix_audio"])


def test_random_mix_sums_stems_of_other_tracks(dataset_root: Path) -> None:
    source = open_source(dataset_root)
    config = make_config(random_mix=True, augment=False)
    dataset = SeparationDataset(source, config, kind="A1")
    torch.manual_seed(0)
    differs = 0
    for index in range(len(dataset)):
        item = dataset[index]
        track = source.names.index(item["track"])
        vocals = mono(source, track, "vocals", item["start"])
        mixture = mono(source, track, "mixture", item["start"])
        assert torch.equal(item["target_audio"], vocals)
        differs += not torch.allclose(item["mix_audio"], mixture, atol=1e-3)
        assert torch.all(mag(item["mix_audio"], config).pow(2).sum(-1) > 0)
    assert differs == len(dataset)


def test_without_augmentation_training_uses_the_mixture_file(dataset_root: Path) -> None:
    source = open_source(dataset_root)
    config = make_config(random_mix=False, augment=False)
    item = SeparationDataset(source, config, kind="A3.1")[0]
    track = source.names.index(item["track"])
    assert torch.equal(item["mix_audio"], mono(source, track, "mixture", item["start"]))


def test_gains_scale_the_stems_of_the_same_excerpt(dataset_root: Path) -> None:
    source = open_source(dataset_root)
    config = make_config(random_mix=False, augment=True)
    dataset = SeparationDataset(source, config, kind="A3.1")
    torch.manual_seed(1)
    ratios = []
    for index in range(len(dataset)):
        item = dataset[index]
        track = source.names.index(item["track"])
        reference = mono(source, track, "vocals", item["start"])
        if not reference.any():
            assert not item["target_audio"].any()
            continue
        ratio = item["target_audio"].abs().sum() / reference.abs().sum()
        torch.testing.assert_close(item["target_audio"], ratio * reference)
        ratios.append(float(ratio))
    assert all(0.25 <= r <= 1.25 for r in ratios)
    assert np.std(ratios) > 0.01


def test_side_info_describes_the_target_in_the_mix(dataset_root: Path) -> None:
    config = make_config(random_mix=True, augment=True)
    dataset = SeparationDataset(open_source(dataset_root), config, kind="A3.1")
    torch.manual_seed(5)
    for index in range(len(dataset)):
        item = dataset[index]
        energy = mag(item["target_audio"], config).pow(2).sum(-1)
        aligned = item["alignment"] >= 0
        frames = item["alignment"][aligned]
        values = item["side_info"][aligned, 0]
        assert torch.all(values[energy[frames] == 0] == 0)
        assert torch.all(values[energy[frames] > 1e-3 * energy.max()] == 1)


def test_padding_comes_from_the_audio_around_the_excerpt(tmp_path: Path) -> None:
    write_track(tmp_path / "long", seconds=5.0, silent_vocals=False, seed=1)
    write_track(tmp_path / "exact", seconds=1.0, silent_vocals=False, seed=2)
    config = make_config()
    source = FolderSource(tmp_path, subset=None)
    dataset = SeparationDataset(source, config, train=False, kind="A3.1", length=40)
    margin = 4 * 3 * config.audio.hop
    inside = 0
    for index in range(len(dataset)):
        item = dataset[index]
        padding = item["side_info"][item["alignment"] < 0, 0]
        if item["track"] == "exact":
            assert item["start"] == 0 and torch.all(padding == 0)
        elif margin <= item["start"] <= 5 * SR - SR - margin:
            assert torch.all(padding == 1)
            inside += padding.numel()
    assert inside > 0


def test_short_tracks_are_zero_padded(tmp_path: Path) -> None:
    write_track(tmp_path / "short", seconds=0.5, silent_vocals=False)
    config = make_config()
    item = SeparationDataset(FolderSource(tmp_path, subset=None), config, kind="A1")[0]
    assert item["start"] == 0
    energy = mag(item["target_audio"], config).pow(2).sum(-1)
    n_audio = SR // 2 // config.audio.hop
    assert torch.all(energy[: n_audio - 4] > 0)
    assert torch.all(energy[n_audio + 4 :] == 0)
    assert torch.all(item["side_info"][n_audio + 4 :, 0] == 0)


def test_dataset_resamples_to_the_config_rate(tmp_path: Path) -> None:
    write_track(tmp_path / "t", seconds=3.0)
    config = make_config()
    config.audio.sample_rate = 16000
    dataset = SeparationDataset(FolderSource(tmp_path, subset=None), config, train=False)
    item = dataset[0]
    assert item["mix_audio"].shape == (16000,)
    mixture, _ = read_audio(tmp_path / "t" / "mixture.wav", sample_rate=16000)
    expected = mixture[:, item["start"] : item["start"] + 16000].mean(axis=0)
    torch.testing.assert_close(item["mix_audio"], torch.from_numpy(expected), atol=1e-4, rtol=0)


def test_bad_dataset_settings_are_config_errors(dataset_root: Path) -> None:
    source = open_source(dataset_root)
    with pytest.raises(ConfigError, match="data.target"):
        SeparationDataset(source, make_config(target="piano"))
    with pytest.raises(ConfigError, match="data.gain_range"):
        SeparationDataset(source, make_config(gain_range=(1.0, 0.5)))
    with pytest.raises(ConfigError, match="data.excerpt_seconds"):
        SeparationDataset(source, make_config(excerpt_seconds=0.0))


# ---------------------------------------------------------------------------------------------
# Collation


def test_collate_pads_side_information_and_masks_it(dataset_root: Path) -> None:
    dataset = SeparationDataset(open_source(dataset_root), make_config(), kind="random")
    torch.manual_seed(2)
    items = [dataset[i] for i in range(4)]
    lengths = [item["side_info"].shape[0] for item in items]
    assert len(set(lengths)) > 1
    batch = collate(items)
    assert batch["mix_audio"].shape == batch["target_audio"].shape == (4, SR)
    assert batch["side_info"].shape == (4, max(lengths), 1)
    assert batch["side_mask"].dtype == torch.bool
    assert batch["side_mask"].sum(dim=1).tolist() == lengths
    for row, item in enumerate(items):
        n = lengths[row]
        assert torch.equal(batch["side_info"][row, :n], item["side_info"])
        assert torch.all(batch["side_info"][row, n:] == 0)
        assert torch.all(batch["alignment"][row] == -1)
    assert batch["track"] == [item["track"] for item in items]


def test_collate_keeps_true_alignments(dataset_root: Path) -> None:
    dataset = SeparationDataset(open_source(dataset_root), make_config(), kind="M2")
    torch.manual_seed(3)
    batch = collate([dataset[i] for i in range(3)])
    assert batch["side_info"].shape[2] == 6
    assert torch.all(batch["alignment"][~batch["side_mask"]] == -1)
    real = batch["alignment"][batch["side_mask"]]
    assert real.max() < SR // 64 + 1 and (real >= 0).any()


def test_collate_without_side_information(dataset_root: Path) -> None:
    dataset = SeparationDataset(open_source(dataset_root), make_config(), kind="none")
    batch = collate([dataset[0], dataset[1]])
    assert batch["side_info"].shape == (2, 0, 0)
    assert batch["side_mask"].shape == batch["alignment"].shape == (2, 0)


def test_data_loader_with_workers(dataset_root: Path) -> None:
    dataset = SeparationDataset(open_source(dataset_root), make_config(), kind="A3.1")
    loader = DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collate)
    batches = list(loader)
    assert len(batches) == 2
    assert batches[0]["mix_audio"].shape == (4, SR)
    assert not torch.equal(batches[0]["mix_audio"][0], batches[0]["mix_audio"][1])
