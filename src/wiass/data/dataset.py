"""Training and validation examples: random excerpts with side information, and their collation.

:class:`SeparationDataset` turns a :class:`~wiass.data.tracks.TrackSource` into examples of
``excerpt_seconds`` each: the magnitude spectrograms of the mixture and of the target (mono
downmix, :func:`wiass.transforms.magnitude`), side information of the chosen kind generated from
the target (:func:`wiass.sideinfo.generate`) and its true alignment.

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

The side information needs the target around the excerpt: A3.x/M2 pad it with the activity just
outside. The target is therefore read over the excerpt plus a margin of ``max(pad_range) *
max(rate_range)`` frames on each side (clipped at the track's edges), its magnitude computed
once, and the excerpt passed to :func:`~wiass.sideinfo.generate` by its frame offset.

Excerpts in which the target is silent are kept as they are: their target magnitude is zero and
their activity-based side information (A-kinds) is all zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from wiass.config import Config
from wiass.data.tracks import MIXTURE, STEMS, TrackSource
from wiass.errors import ConfigError, DataError
from wiass.sideinfo import SideInfo, check_params, generate, get_kind
from wiass.transforms import magnitude


@dataclass(frozen=True)
class Excerpt:
    """Where one stem of an example comes from: ``track`` index, ``start`` sample (at the
    source's rate) and ``gain``."""

    track: int
    start: int
    gain: float = 1.0


class SeparationDataset(Dataset):
    """Excerpts of a track source as model inputs (see the module docstring).

    ``source``: the tracks (read at ``config.audio.sample_rate``). ``train``: random, augmented
    examples (else fixed validation examples). ``kind``: the side-information kind (default
    ``config.side_info.kind``). ``length``: examples per epoch (default
    ``data.examples_per_epoch`` or ``data.validation_examples``). ``seed``: mixes into every
    example's randomness; the only source of it for validation.

    Items are dicts: ``mix`` and ``target`` ``(N, F)`` float32 magnitudes, ``side_info``
    ``(M, D)`` float32, ``alignment`` ``(M,)`` int64 (the excerpt frame each step describes, -1
    for padding or when unknown), ``track`` (name of the target's track) and ``start`` (its
    first sample).
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
        _check_config(config, self.length)
        check_params(config.side_info)
        self.excerpt_samples = max(1, round(data.excerpt_seconds * config.audio.sample_rate))
        self.n_frames = config.audio.stft.n_frames(self.excerpt_samples)
        self.generated = get_kind(self.kind).generated
        self.margin_frames = self._margin_frames()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(f"example {index} out of range (dataset of {self.length})")
        rng = self._rng(index)
        target = self._draw(rng, index % len(self.source) if not self.train else None)
        context, first = self._read_context(target)
        hop = self.config.audio.hop
        target_audio = context[first * hop : first * hop + self.excerpt_samples]
        mix_audio = self._mix(rng, target, target_audio)
        stft = self.config.audio.stft
        target_mag = magnitude(target_audio, stft)
        side = self._side_info(rng, context, first, target_mag)
        alignment = side.alignment
        if alignment is None:
            alignment = np.full(side.n_steps, -1, dtype=np.int64)
        return {
            "mix": magnitude(mix_audio, stft),
            "target": target_mag,
            "side_info": torch.from_numpy(np.ascontiguousarray(side.values, dtype=np.float32)),
            "alignment": torch.from_numpy(np.asarray(alignment, dtype=np.int64)),
            "track": self.source.tracks[target.track].name,
            "start": target.start,
        }

    @property
    def mixing(self) -> bool:
        """Whether the mixture is summed from (drawn, gained) stems instead of read."""
        return self.train and (self.config.data.random_mix or self.config.data.augment)

    def _rng(self, index: int) -> np.random.Generator:
        """The example's generator: from ``(seed, index)`` for validation; for training also
        from a draw of torch's generator, so that repeated epochs differ."""
        if not self.train:
            return np.random.default_rng([self.seed, index])
        draw = int(torch.randint(0, 2**62, ()).item())
        return np.random.default_rng([self.seed, draw, index])

    def _draw(self, rng: np.random.Generator, track: int | None = None) -> Excerpt:
        """An excerpt of ``track`` (a random track when None) at a uniform random position,
        with a random gain when augmenting."""
        if track is None:
            track = int(rng.integers(len(self.source)))
        room = max(0, self.source.length(track) - self.excerpt_samples)
        start = int(rng.integers(room + 1))
        return Excerpt(track, start, self._gain(rng))

    def _gain(self, rng: np.random.Generator) -> float:
        """A random gain from ``data.gain_range`` when augmenting training examples, else 1."""
        if not (self.train and self.config.data.augment):
            return 1.0
        low, high = self.config.data.gain_range
        return float(rng.uniform(low, high))

    def _margin_frames(self) -> int:
        """Frames of context read on each side of the excerpt for the side information."""
        if not self.generated:
            return 0
        params = self.config.side_info
        return int(params.pad_range[1]) * int(params.rate_range[1])

    def _read_context(self, excerpt: Excerpt) -> tuple[np.ndarray, int]:
        """The target (mono, gained) over the excerpt and its margins, ``(samples,)``, and the
        excerpt's first frame in it. The margins are whole hops, clipped at the track edges."""
        hop = self.config.audio.hop
        left = min(self.margin_frames, excerpt.start // hop)
        end = excerpt.start + self.excerpt_samples
        right = min(self.margin_frames, max(0, self.source.length(excerpt.track) - end) // hop)
        start = excerpt.start - left * hop
        length = (left + right) * hop + self.excerpt_samples
        audio = self.source.read(excerpt.track, self.config.data.target, start, length, mono=True)
        return audio[0] * np.float32(excerpt.gain), left

    def _mix(
        self, rng: np.random.Generator, target: Excerpt, target_audio: np.ndarray
    ) -> np.ndarray:
        """The mixture excerpt ``(samples,)``: the file's, or the sum of the target and the
        other stems drawn (from other tracks with random_mix) and gained."""
        if not self.mixing:
            audio = self.source.read(
                target.track, MIXTURE, target.start, self.excerpt_samples, mono=True
            )
            return audio[0]
        mix = target_audio.copy()
        for stem in STEMS:
            if stem == self.config.data.target:
                continue
            if self.config.data.random_mix:
                excerpt = self._draw(rng)
            else:
                excerpt = Excerpt(target.track, target.start, self._gain(rng))
            audio = self.source.read(
                excerpt.track, stem, excerpt.start, self.excerpt_samples, mono=True
            )
            mix += np.float32(excerpt.gain) * audio[0]
        return mix

    def _side_info(
        self,
        rng: np.random.Generator,
        context: np.ndarray,
        first: int,
        target_mag: torch.Tensor,
    ) -> SideInfo:
        """Side information of the dataset's kind for the excerpt at frame ``first`` of the
        target ``context``."""
        audio = self.config.audio
        if self.generated:
            context_mag = magnitude(context, audio.stft).numpy()
        else:
            context_mag, first = target_mag.numpy(), 0
        return generate(
            self.kind,
            context_mag,
            first,
            self.n_frames,
            rng,
            self.config.side_info,
            sample_rate=audio.sample_rate,
            n_fft=audio.n_fft,
        )


def _check_config(config: Config, length: int) -> None:
    data = config.data
    if data.target not in STEMS:
        raise ConfigError(f"data.target: unknown stem '{data.target}' (known: {', '.join(STEMS)})")
    if not (math.isfinite(data.excerpt_seconds) and data.excerpt_seconds > 0):
        raise ConfigError(f"data.excerpt_seconds: expected > 0, got {data.excerpt_seconds}")
    low, high = data.gain_range
    if not 0 <= low <= high:
        raise ConfigError(f"data.gain_range: expected 0 <= low <= high, got ({low}, {high})")
    if length < 1:
        raise ConfigError(f"dataset length: expected at least 1 example, got {length}")


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack examples into a batch, zero-padding the side information to the longest.

    Returns ``mix``/``target`` ``(B, N, F)``, ``side_info`` ``(B, M, D)`` (zeros past each
    example's length), ``side_mask`` ``(B, M)`` bool (True = real step), ``alignment``
    ``(B, M)`` int64 (-1 for padding), ``track`` (list of names) and ``start`` ``(B,)``.
    """
    if not items:
        raise ValueError("collate: empty batch")
    shapes = {tuple(item["mix"].shape) for item in items}
    if len(shapes) != 1:
        raise ValueError(f"collate: spectrograms of different shapes {sorted(shapes)}")
    dims = {int(item["side_info"].shape[1]) for item in items}
    if len(dims) != 1:
        raise ValueError(f"collate: side information of different dimensions {sorted(dims)}")
    batch = len(items)
    steps = max(int(item["side_info"].shape[0]) for item in items)
    side_info = torch.zeros(batch, steps, dims.pop(), dtype=torch.float32)
    side_mask = torch.zeros(batch, steps, dtype=torch.bool)
    alignment = torch.full((batch, steps), -1, dtype=torch.int64)
    for row, item in enumerate(items):
        count = int(item["side_info"].shape[0])
        side_info[row, :count] = item["side_info"]
        side_mask[row, :count] = True
        alignment[row, :count] = item["alignment"]
    return {
        "mix": torch.stack([item["mix"] for item in items]),
        "target": torch.stack([item["target"] for item in items]),
        "side_info": side_info,
        "side_mask": side_mask,
        "alignment": alignment,
        "track": [item["track"] for item in items],
        "start": torch.tensor([item["start"] for item in items], dtype=torch.int64),
    }
