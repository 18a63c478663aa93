"""Training and validation examples: random excerpts with side information, and their collation.

:class:`SeparationDataset` turns a :class:`~wiass.data.tracks.TrackSource` into examples of
``excerpt_seconds`` each. An example holds waveforms, not spectrograms: the mixture and the
target as mono float32 at the model's rate, side information of the chosen kind generated from
the target, and its true alignment (see :class:`SeparationDataset` for the item layout). The
magnitude spectrograms are computed from the collated batch by :func:`batch_magnitudes`, in the
training step on the training device (one batched STFT, as Open-Unmix does), not per example.

Training examples are random. Each picks a track and an excerpt uniformly; with
``DataConfig.random_mix`` every stem comes from its own random track and excerpt (the mixture
is then the sum of the drawn stems, not the file ``mixture.wav``), and with
``DataConfig.augment`` every stem gets a random gain from ``DataConfig.gain_range`` (the
open-unmix recipe; its random channel swap is left out because the mono downmix makes it a
no-op). The side information always describes the target actually in the mix. The randomness
comes from torch's generator (seeded by ``torch.manual_seed`` or Lightning's ``seed_everything``;
each DataLoader worker gets its own seed), so that every epoch sees new excerpts and a run is
repeatable for a given seed and number of workers.

Validation examples are fixed: example ``i`` is an excerpt of validation track ``i % tracks``
whose position and side information depend only on ``(seed, i)``; no augmentation, and the
mixture is the file's.

Side information without an STFT per example: when the dataset is built, the STFT of every
track's whole target (mono, zero-padded to at least one excerpt) is computed once and reduced to
what the kind needs per frame (:class:`~wiass.sideinfo.TargetFeatures`: frame energies for the
activity kinds, band powers for M1/M2). The target excerpt starts at a multiple of the hop, so
its frames are frames of the track's grid, and its side information is generated
(:func:`~wiass.sideinfo.generate_from_features`) from a window of those features: the excerpt
plus a margin of ``max(pad_range) * max(rate_range)`` frames on each side (clipped at the
track's edges; A3.x/M2 pad from it and the activity threshold refers to its loudest frame),
scaled by the target's gain. That equals generating from the magnitudes of the gained target
over the window. The other stems of a random mix start anywhere.

Stems in memory: when the stems the dataset reads (the four stems when it mixes, else the
mixture and the target) fit ``DataConfig.cache_mb``, they are decoded once, mono float32 at the
model's rate, and excerpts are array slices: no file read and no resampling per example. This
happens when the dataset is built, in the main process, so DataLoader workers (forked) share the
memory. A dataset that would need more memory warns and reads its excerpts from the files (a
partial read, resampled where the file's rate differs). Without resampling both give the same
samples; with it they differ by the resampling filter's edge effects (about 1e-4).

Per example a worker then only slices arrays, multiplies by gains, sums and samples a few frame
values: no STFT and no matrix product (the band pooling, whose multi-threaded BLAS call made
worker processes oversubscribe the cores, runs once per track in the main process).

Excerpts in which the target is silent are kept as they are: their target is zero and their
activity-based side information (A-kinds) is all zeros.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info
from tqdm import tqdm

from wiass.config import Config, SideInfoConfig
from wiass.data.tracks import MIXTURE, STEMS, TrackSource
from wiass.errors import ConfigError, DataError
from wiass.sideinfo import (
    SideInfo,
    TargetFeatures,
    check_params,
    generate_from_features,
    get_kind,
    kind_dim,
    target_features,
)
from wiass.sideinfo.phonemes import PhonemeSteps, excerpt_phonemes, frame_symbols, phoneme_steps
from wiass.transforms import STFTConfig, magnitude

MIB = 2**20


@dataclass(frozen=True)
class Excerpt:
    """Where one stem of an example comes from: ``track`` index, ``start`` sample (at the
    source's rate) and ``gain``."""

    track: int
    start: int
    gain: float = 1.0


class SeparationDataset(Dataset):
    """Excerpts of a track source as training examples (see the module docstring).

    ``source``: the tracks (read at ``config.audio.sample_rate``). ``train``: random, augmented
    examples (else fixed validation examples). ``kind``: the side-information kind (default
    ``config.side_info.kind``). ``length``: examples per epoch (default
    ``data.examples_per_epoch`` or ``data.validation_examples``). ``seed``: mixes into every
    example's randomness; the only source of it for validation. ``cache_mb``: memory for the
    stems in memory (default ``data.cache_mb``; 0: read every excerpt from the files).
    ``progress``: show a progress bar while loading takes more than a second.

    Items are dicts: ``mix_audio`` and ``target_audio`` ``(samples,)`` float32 mono waveforms
    at the model's rate (``samples = round(excerpt_seconds * sample_rate)``), ``side_info``
    ``(M, D)`` float32, ``alignment`` ``(M,)`` int64 (the excerpt frame each step describes, -1
    for padding or when unknown), ``track`` (name of the target's track) and ``start`` (its
    first sample, a multiple of the hop); for the ``phonemes`` kind also ``frame_symbols``
    ``(N,)`` int64, the symbol sung at every frame of the excerpt (what its recogniser learns).
    """

    def __init__(
        self,
        source: TrackSource,
        config: Config,
        *,
        train: bool = True,
        kind: str | None = None,
        length: int | None = None,
        seed: int = 0,
        cache_mb: int | None = None,
        progress: bool = False,
    ) -> None:
        if len(source) == 0:
            raise DataError(f"{source.description}: no tracks")
        self.source = source.at_rate(config.audio.sample_rate)
        self.config = config
        self.train = train
        self.kind = get_kind(kind if kind is not None else config.side_info.kind).name
        self.seed = seed
        data = config.data
        default_length = data.examples_per_epoch if train else data.validation_examples
        self.length = int(length if length is not None else default_length)
        self.cache_mb = int(data.cache_mb if cache_mb is None else cache_mb)
        _check_config(config, self.length, self.cache_mb)
        check_params(config.side_info)
        self.hop = config.audio.hop
        self.excerpt_samples = max(1, round(data.excerpt_seconds * config.audio.sample_rate))
        self.n_frames = config.audio.stft.n_frames(self.excerpt_samples)
        self.generated = get_kind(self.kind).generated
        self.symbolic = get_kind(self.kind).features == "symbols"
        self.margin_frames = self._margin_frames()
        self.audio: dict[tuple[int, str], np.ndarray] | None = None
        self.features: list[TargetFeatures] = []
        self.phonemes: list[PhonemeSteps] = []
        self._prepare(progress)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(f"example {index} out of range (dataset of {self.length})")
        rng = self._rng(index)
        target = self._draw(rng, None if self.train else index % len(self.source), aligned=True)
        target_audio = self._read(target, self.config.data.target)
        mix_audio = self._mix(rng, target, target_audio)
        side = self._side_info(rng, target)
        alignment = side.alignment
        if alignment is None:
            alignment = np.full(side.n_steps, -1, dtype=np.int64)
        item = {
            "mix_audio": torch.from_numpy(mix_audio),
            "target_audio": torch.from_numpy(target_audio),
            "side_info": torch.from_numpy(np.ascontiguousarray(side.values, dtype=np.float32)),
            "alignment": torch.from_numpy(np.asarray(alignment, dtype=np.int64)),
            "track": self.source.tracks[target.track].name,
            "start": target.start,
        }
        if self.symbolic:
            frame_rate = self.config.audio.sample_rate / self.hop
            labels = frame_symbols(
                self.phonemes[target.track], target.start // self.hop, self.n_frames, frame_rate
            )
            item["frame_symbols"] = torch.from_numpy(labels)
        return item

    @property
    def mixing(self) -> bool:
        """Whether the mixture is summed from (drawn, gained) stems instead of read."""
        return self.train and (self.config.data.random_mix or self.config.data.augment)

    @property
    def stems(self) -> tuple[str, ...]:
        """The stems that examples read: the four stems when mixing, else mixture and target."""
        return STEMS if self.mixing else (MIXTURE, self.config.data.target)

    @property
    def cached(self) -> bool:
        """Whether the stems are held in memory (else excerpts are read from the files)."""
        return self.audio is not None

    def cache_bytes(self) -> int:
        """Memory that holding :attr:`stems` of every track in memory takes (bytes)."""
        samples = sum(self.source.length(track) for track in range(len(self.source)))
        return samples * len(self.stems) * np.dtype(np.float32).itemsize

    # -- preparation: stems in memory and target features, once per track -----------------------

    def _prepare(self, progress: bool) -> None:
        """Load the stems into memory when they fit, and compute every track's target features
        (for generated kinds), in one pass over the tracks."""
        if self._cache_fits():
            self.audio = {}
        if self.symbolic:
            self.phonemes = [self._track_phonemes(track) for track in range(len(self.source))]
        if not (self.cached or self.generated):
            return
        tracks = tqdm(
            range(len(self.source)),
            desc="loading tracks" if self.cached else "target features",
            unit="track",
            delay=1.0,
            disable=None if progress else True,
            leave=False,
        )
        for track in tracks:
            if self.audio is not None:
                for stem in self.stems:
                    self.audio[(track, stem)] = self.source.read_whole(track, stem, mono=True)[0]
            if self.generated:
                self.features.append(self._track_features(track))

    def _track_phonemes(self, track: int) -> PhonemeSteps:
        """The timed lyric steps of ``track``; DataError when the source has no lyrics for it."""
        timing = self.source.lyrics(track)
        if timing is None or not timing.words:
            raise DataError(
                f"{self.source.description}: track {self.source.names[track]} has no timed "
                "lyrics (a lyrics.json, or a notes.json with words, in its folder), which the "
                "phonemes kind trains on"
            )
        duration = self.source.length(track) / self.config.audio.sample_rate
        return phoneme_steps(timing, duration)

    def _cache_fits(self) -> bool:
        """Whether the stems fit ``cache_mb``; warns when the cache is on but they do not."""
        if self.cache_mb <= 0:
            return False
        needed = self.cache_bytes()
        if needed <= self.cache_mb * MIB:
            return True
        warnings.warn(
            f"{self.source.description}: holding {len(self.stems)} stem(s) of "
            f"{len(self.source)} track(s) in memory takes {math.ceil(needed / MIB)} MiB, more "
            f"than data.cache_mb = {self.cache_mb}; reading the excerpts from the files instead",
            stacklevel=4,
        )
        return False

    def _track_features(self, track: int) -> TargetFeatures:
        """What the side information needs of the whole target of ``track``, on its STFT frame
        grid; the target is zero-padded to at least one excerpt."""
        target = self.config.data.target
        if self.audio is not None:
            audio = self.audio[(track, target)]
        else:
            audio = self.source.read_whole(track, target, mono=True)[0]
        if audio.size < self.excerpt_samples:
            audio = np.pad(audio, (0, self.excerpt_samples - audio.size))
        settings = self.config.audio
        return target_features(
            self.kind,
            magnitude(audio, settings.stft).numpy(),
            self.config.side_info,
            sample_rate=settings.sample_rate,
            n_fft=settings.n_fft,
        )

    # -- examples ---------------------------------------------------------------------------------

    def _rng(self, index: int) -> np.random.Generator:
        """The example's generator: from ``(seed, index)`` for validation; for training also
        from a draw of torch's generator, so that repeated epochs differ."""
        if not self.train:
            return np.random.default_rng([self.seed, index])
        draw = int(torch.randint(0, 2**62, ()).item())
        return np.random.default_rng([self.seed, draw, index])

    def _draw(
        self, rng: np.random.Generator, track: int | None = None, *, aligned: bool = False
    ) -> Excerpt:
        """An excerpt of ``track`` (a random track when None) at a uniform random position (a
        multiple of the hop when ``aligned``), with a random gain when augmenting."""
        if track is None:
            track = int(rng.integers(len(self.source)))
        room = max(0, self.source.length(track) - self.excerpt_samples)
        step = self.hop if aligned else 1
        start = step * int(rng.integers(room // step + 1))
        return Excerpt(track, start, self._gain(rng))

    def _gain(self, rng: np.random.Generator) -> float:
        """A random gain from ``data.gain_range`` when augmenting training examples, else 1."""
        if not (self.train and self.config.data.augment):
            return 1.0
        low, high = self.config.data.gain_range
        return float(rng.uniform(low, high))

    def _margin_frames(self) -> int:
        """Frames of context on each side of the excerpt for the side information."""
        if not self.generated:
            return 0
        params = self.config.side_info
        return int(params.pad_range[1]) * int(params.rate_range[1])

    def _read(self, excerpt: Excerpt, stem: str) -> np.ndarray:
        """The excerpt of ``stem``, mono and gained, ``(excerpt_samples,)`` float32 (a new
        array; zeros past the end of the track): a slice of the stems in memory, or a read."""
        if self.audio is None:
            audio = self.source.read(
                excerpt.track, stem, excerpt.start, self.excerpt_samples, mono=True
            )[0]
        else:
            audio = _slice(self.audio[(excerpt.track, stem)], excerpt.start, self.excerpt_samples)
        return audio * np.float32(excerpt.gain)

    def _mix(
        self, rng: np.random.Generator, target: Excerpt, target_audio: np.ndarray
    ) -> np.ndarray:
        """The mixture excerpt ``(samples,)``: the file's, or the sum of the target and the
        other stems drawn (from other tracks with random_mix) and gained."""
        if not self.mixing:
            return self._read(Excerpt(target.track, target.start), MIXTURE)
        mix = target_audio.copy()
        for stem in STEMS:
            if stem == self.config.data.target:
                continue
            if self.config.data.random_mix:
                excerpt = self._draw(rng)
            else:
                excerpt = Excerpt(target.track, target.start, self._gain(rng))
            mix += self._read(excerpt, stem)
        return mix

    def _side_info(self, rng: np.random.Generator, target: Excerpt) -> SideInfo:
        """Side information of the dataset's kind for the (hop-aligned) ``target`` excerpt,
        from a window of its track's features around it."""
        params = self.config.side_info
        if not (self.generated or self.symbolic):
            return generate_from_features(self.kind, None, 0, self.n_frames, rng, params)
        if params.dropout > 0 and rng.random() < params.dropout:
            return _no_side_info(self.kind, params)
        if self.symbolic:
            frame_rate = self.config.audio.sample_rate / self.hop
            first = target.start // self.hop
            steps = self.phonemes[target.track]
            return excerpt_phonemes(steps, first, self.n_frames, frame_rate, rng, params)
        features = self.features[target.track]
        first = target.start // self.hop
        low = max(0, first - self.margin_frames)
        high = min(features.n_frames, first + self.n_frames + self.margin_frames)
        window = features.window(low, high).scaled(target.gain)
        return generate_from_features(self.kind, window, first - low, self.n_frames, rng, params)


def _no_side_info(kind: str, params: SideInfoConfig) -> SideInfo:
    """Side information of zero steps (side-information dropout)."""
    dim = kind_dim(kind, params)
    return SideInfo(np.zeros((0, dim), np.float32), np.zeros(0, np.int64), kind)


def _slice(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """``audio[start : start + length]`` of a 1-D array, zero-padded past its end (a view when
    it fits)."""
    piece = audio[start : start + length]
    if piece.size == length:
        return piece
    out = np.zeros(length, dtype=audio.dtype)
    out[: piece.size] = piece
    return out


def _check_config(config: Config, length: int, cache_mb: int) -> None:
    data = config.data
    if data.target not in STEMS:
        raise ConfigError(f"data.target: unknown stem '{data.target}' (known: {', '.join(STEMS)})")
    if not (math.isfinite(data.excerpt_seconds) and data.excerpt_seconds > 0):
        raise ConfigError(f"data.excerpt_seconds: expected > 0, got {data.excerpt_seconds}")
    low, high = data.gain_range
    if not 0 <= low <= high:
        raise ConfigError(f"data.gain_range: expected 0 <= low <= high, got ({low}, {high})")
    if cache_mb < 0:
        raise ConfigError(f"data.cache_mb: expected >= 0 (0 turns the cache off), got {cache_mb}")
    if length < 1:
        raise ConfigError(f"dataset length: expected at least 1 example, got {length}")


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack examples into a batch, zero-padding the side information to the longest.

    Returns ``mix_audio``/``target_audio`` ``(B, samples)``, ``side_info`` ``(B, M, D)`` (zeros
    past each example's length), ``side_mask`` ``(B, M)`` bool (True = real step),
    ``alignment`` ``(B, M)`` int64 (-1 for padding), ``track`` (list of names) and ``start``
    ``(B,)``; for lyrics also ``frame_symbols`` ``(B, N)`` int64, the symbol sung at every
    frame. :func:`batch_magnitudes` gives the spectrograms.

    The arrays are built with numpy, whose copies never wait for torch's intra-op threads (on a
    busy machine a multi-threaded ``torch.stack`` or ``torch.zeros`` of a batch took 2-100 ms
    instead of 0.1 ms).
    """
    if not items:
        raise ValueError("collate: empty batch")
    shapes = {tuple(item[key].shape) for item in items for key in ("mix_audio", "target_audio")}
    if len(shapes) != 1:
        raise ValueError(f"collate: waveforms of different shapes {sorted(shapes)}")
    dims = {int(item["side_info"].shape[1]) for item in items}
    if len(dims) != 1:
        raise ValueError(f"collate: side information of different dimensions {sorted(dims)}")
    batch = len(items)
    steps = max(int(item["side_info"].shape[0]) for item in items)
    side_info = np.zeros((batch, steps, dims.pop()), dtype=np.float32)
    side_mask = np.zeros((batch, steps), dtype=bool)
    alignment = np.full((batch, steps), -1, dtype=np.int64)
    for row, item in enumerate(items):
        count = int(item["side_info"].shape[0])
        side_info[row, :count] = item["side_info"].numpy()
        side_mask[row, :count] = True
        alignment[row, :count] = item["alignment"].numpy()
    batch_dict = {
        "mix_audio": _stack([item["mix_audio"] for item in items]),
        "target_audio": _stack([item["target_audio"] for item in items]),
        "side_info": torch.from_numpy(side_info),
        "side_mask": torch.from_numpy(side_mask),
        "alignment": torch.from_numpy(alignment),
        "track": [item["track"] for item in items],
        "start": torch.tensor([item["start"] for item in items], dtype=torch.int64),
    }
    if "frame_symbols" in items[0]:
        batch_dict["frame_symbols"] = _stack([item["frame_symbols"] for item in items])
    return batch_dict


def _stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    """``torch.stack`` of equal-shape CPU tensors: in a DataLoader worker (one torch thread)
    straight into shared memory, as torch's ``default_collate`` does, which saves a copy on the
    way to the main process; else with numpy (see :func:`collate`)."""
    if get_worker_info() is not None:
        return default_collate(tensors)
    return torch.from_numpy(np.stack([tensor.numpy() for tensor in tensors]))


def batch_magnitudes(
    batch: Mapping[str, Any], stft: STFTConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitude spectrograms ``(B, N, F)`` of a batch's mixture and target.

    ``batch["mix_audio"]`` and ``batch["target_audio"]`` ``(B, samples)`` go through one
    batched :func:`wiass.transforms.magnitude` on their device; each row equals the magnitude
    of that example's waveform.
    """
    both = magnitude(torch.stack([batch["mix_audio"], batch["target_audio"]]), stft)
    return both[0], both[1]
