"""Track sources: multitrack datasets that can be read in parts.

A source is a list of tracks, each with a mixture and the four MUSDB18 stems (vocals, drums,
bass, other), and reads any stretch of any stem at its output sample rate without decoding the
whole track. Two kinds of source exist:

* :class:`FolderSource`: WAV stems in MUSDB18-HQ layout, ``<root>/<subset>/<track>/<stem>.wav``
  with ``<stem>`` in ``mixture, vocals, drums, bass, other``. A root that directly holds track
  folders is accepted too. Every track is checked when the source is opened (missing stems,
  unreadable files, stems of different lengths or sample rates), so that training never stops
  half-way on a bad file. The validation split is deterministic: a track belongs to it when a
  hash of its name falls below ``validation_fraction`` (at least one track on each side when
  the subset has two or more).
* :class:`MusdbSource`: MUSDB18 through the ``musdb`` package: compressed ``.stem.mp4`` files
  (decoded by ffmpeg) or, with ``is_wav=True``, the MUSDB18-HQ WAV layout. Its validation split
  is musdb's fixed list of validation tracks.

Reads are ``(channels, samples)`` float32 at :attr:`TrackSource.sample_rate` (the native rate
of each track when None), resampled with soxr where the file's rate differs, and zero-padded
past the end of the track. :meth:`TrackSource.read_whole` decodes and resamples a whole stem
in one piece (what the training dataset holds in memory). :func:`open_source` picks the kind of
source for a folder; :func:`iter_tracks` yields whole tracks for evaluation.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wiass.audio import audio_info, read_audio, read_excerpt, resample
from wiass.errors import AudioError, ConfigError, DataError
from wiass.lyrics import timing_from_json

PathLike = str | os.PathLike[str]

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
"""The four sources of a MUSDB18 track, in the order wiass uses them."""

MIXTURE = "mixture"
"""Name of the mixture, readable like a stem."""

SPLITS: tuple[str, ...] = ("train", "valid")
"""Splits of a training subset: the training tracks and the validation tracks."""

RESAMPLE_MARGIN = 512
"""Extra samples (at the file's rate) read on each side of a stretch that gets resampled, so
that the resampling filter sees real neighbours instead of an edge."""


@dataclass(frozen=True)
class TrackInfo:
    """What a source knows of a track without reading its audio.

    ``sample_rate`` and ``frames`` (samples per channel) are those of the files, which all
    stems of a track share.
    """

    name: str
    sample_rate: int
    frames: int


@dataclass
class Track:
    """A whole track: ``mixture`` and ``stems[name]`` as ``(channels, samples)`` float32 at
    ``sample_rate`` Hz, all of the same length; ``lyrics``: its timed lyrics
    (:class:`wiass.lyrics.LyricsTiming`) where the source has them."""

    name: str
    sample_rate: int
    mixture: np.ndarray
    stems: dict[str, np.ndarray]
    lyrics: Any = None


class TrackSource(ABC):
    """Tracks with a mixture and the :data:`STEMS`, read in parts.

    ``description`` names the source in messages; ``sample_rate`` is the rate of what
    :meth:`read` returns (None: the native rate of each track).
    """

    def __init__(
        self, description: str, tracks: Sequence[TrackInfo], sample_rate: int | None = None
    ) -> None:
        self.description = description
        self.tracks: list[TrackInfo] = list(tracks)
        self.sample_rate = _check_rate(sample_rate, description)

    def __len__(self) -> int:
        return len(self.tracks)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r}, {len(self)} tracks)"

    @property
    def names(self) -> list[str]:
        """Track names, in the source's order."""
        return [track.name for track in self.tracks]

    def at_rate(self, sample_rate: int | None) -> TrackSource:
        """A shallow copy of this source that reads at ``sample_rate`` Hz (None: native)."""
        other = copy.copy(self)
        other.sample_rate = _check_rate(sample_rate, self.description)
        return other

    def rate(self, index: int) -> int:
        """Sample rate of what :meth:`read` returns for track ``index``."""
        return self.sample_rate or self.tracks[index].sample_rate

    def length(self, index: int) -> int:
        """Samples per channel of track ``index`` at :meth:`rate`."""
        info = self.tracks[index]
        if self.rate(index) == info.sample_rate:
            return info.frames
        return round(info.frames * self.rate(index) / info.sample_rate)

    def read(
        self, index: int, stem: str, start: int, length: int, *, mono: bool = False
    ) -> np.ndarray:
        """Samples ``[start, start + length)`` of ``stem`` (or ``"mixture"``) of track ``index``.

        ``start`` and ``length`` count samples at :meth:`rate`. Returns ``(channels, length)``
        float32 (one channel, the mean of all, with ``mono``); zeros past the end of the track.
        Only that stretch (plus a small margin when resampling) is decoded.
        """
        _check_stem(stem)
        if start < 0 or length < 0:
            raise ValueError(f"start and length must be >= 0, got start={start}, length={length}")
        info = self.tracks[index]
        rate = self.rate(index)
        if rate == info.sample_rate:
            return _downmix(self._read_native(index, stem, start, length), mono)
        ratio = info.sample_rate / rate
        first = max(0, math.floor(start * ratio) - RESAMPLE_MARGIN)
        last = math.ceil((start + length) * ratio) + RESAMPLE_MARGIN
        native = _downmix(self._read_native(index, stem, first, last - first), mono)
        audio = resample(native, info.sample_rate, rate)
        offset = round(start - first / ratio)
        out = np.zeros((audio.shape[0], length), dtype=np.float32)
        piece = audio[:, offset : offset + length]
        out[:, : piece.shape[1]] = piece
        out[:, max(0, self.length(index) - start) :] = 0.0
        return out

    def read_whole(self, index: int, stem: str, *, mono: bool = False) -> np.ndarray:
        """The whole ``stem`` (or ``"mixture"``) of track ``index`` at :meth:`rate`:
        ``(channels, length(index))`` float32, one channel (the mean of all) with ``mono``.

        The file is decoded in one piece and resampled as a whole, so a stretch of it may
        differ from :meth:`read` of that stretch by the resampling filter's edge effects
        (about 1e-4); without resampling they are equal.
        """
        _check_stem(stem)
        audio = _downmix(self._read_whole(index, stem), mono)
        audio = resample(audio, self.tracks[index].sample_rate, self.rate(index))
        return _fit(audio, self.length(index))

    def lyrics(self, index: int) -> Any:
        """The timed lyrics (:class:`wiass.lyrics.LyricsTiming`) of track ``index``, or None
        when the source has none for it."""
        return None

    def read_track(self, index: int) -> Track:
        """Track ``index`` in full, at :meth:`rate`."""
        parts = {stem: self.read_whole(index, stem) for stem in (MIXTURE, *STEMS)}
        mixture = parts.pop(MIXTURE)
        return Track(self.tracks[index].name, self.rate(index), mixture, parts, self.lyrics(index))

    @abstractmethod
    def _read_native(self, index: int, stem: str, start: int, frames: int) -> np.ndarray:
        """``(channels, frames)`` float32 at the file's rate from ``start``, zeros past the end."""

    def _read_whole(self, index: int, stem: str) -> np.ndarray:
        """The whole ``stem`` of track ``index`` at the file's rate, ``(channels, samples)``."""
        return self._read_native(index, stem, 0, self.tracks[index].frames)


def _check_rate(sample_rate: int | None, description: str) -> int | None:
    if sample_rate is not None and sample_rate <= 0:
        raise ConfigError(f"{description}: sample rate must be positive, got {sample_rate}")
    return sample_rate


def _check_stem(stem: str) -> None:
    if stem != MIXTURE and stem not in STEMS:
        raise ValueError(f"unknown stem '{stem}' (known: {MIXTURE}, {', '.join(STEMS)})")


def _downmix(audio: np.ndarray, mono: bool) -> np.ndarray:
    """The mean over channels as ``(1, samples)`` when ``mono``, else ``audio`` unchanged."""
    return audio.mean(axis=0, keepdims=True, dtype=np.float32) if mono else audio


def _fit(audio: np.ndarray, length: int) -> np.ndarray:
    """``audio (channels, samples)`` cut or zero-padded to ``length`` samples."""
    out = np.zeros((audio.shape[0], length), dtype=np.float32)
    piece = audio[:, :length]
    out[:, : piece.shape[1]] = piece
    return out


def _check_split(subset: str | None, split: str | None, description: str) -> None:
    if split is not None and split not in SPLITS:
        raise DataError(f"{description}: unknown split '{split}' (known: {', '.join(SPLITS)})")
    if split is not None and subset not in (None, "train"):
        raise DataError(
            f"{description}: split '{split}' applies to the 'train' subset, not '{subset}'"
        )


# ---------------------------------------------------------------------------------------------
# Stems folders (MUSDB18-HQ layout)


def stem_files(folder: Path) -> dict[str, Path]:
    """The WAV file of the mixture and of every stem of a track folder (they may not exist)."""
    return {name: folder / f"{name}.wav" for name in (MIXTURE, *STEMS)}


def check_track_folder(folder: PathLike) -> TrackInfo:
    """Check a MUSDB18-HQ track folder and return its metadata (from the file headers only).

    Raises DataError naming the file and the problem for a missing stem, an unreadable or empty
    file, and stems whose sample rates or lengths differ from the mixture's.
    """
    track = Path(folder)
    files = stem_files(track)
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        raise DataError(
            f"{track}: missing stem file(s) {', '.join(missing)} "
            f"(a track folder holds {', '.join(p.name for p in files.values())})"
        )
    headers = {}
    for name, path in files.items():
        try:
            rate, _, frames = audio_info(path)
        except AudioError as exc:
            raise DataError(str(exc)) from exc
        headers[name] = (rate, frames)
    rate, frames = headers[MIXTURE]
    for name, (stem_rate, stem_frames) in headers.items():
        if stem_rate != rate:
            raise DataError(
                f"{files[name]}: sample rate {stem_rate} Hz differs from mixture.wav ({rate} Hz)"
            )
        if stem_frames != frames:
            raise DataError(
                f"{files[name]}: {stem_frames} samples, but mixture.wav has {frames} "
                "(all stems of a track must have the same length)"
            )
    return TrackInfo(track.name, rate, frames)


def _is_track_folder(folder: Path) -> bool:
    return not folder.name.startswith(".") and any(p.exists() for p in stem_files(folder).values())


def find_track_folders(root: PathLike, subset: str | None = "train") -> list[Path]:
    """Track folders of ``root``: those in ``root/subset`` when that folder exists, else the
    track folders directly in ``root``; sorted by name. DataError when there are none."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: no such dataset folder")
    if subset is not None and (base / subset).is_dir():
        base = base / subset
    folders = sorted(p for p in base.iterdir() if p.is_dir() and _is_track_folder(p))
    if not folders:
        where = f"{Path(root) / subset}/<track>/ or " if subset else ""
        raise DataError(
            f"{base}: no track folders (expected {where}{Path(root)}/<track>/ holding "
            "mixture.wav, vocals.wav, drums.wav, bass.wav, other.wav)"
        )
    return folders


def split_fraction(name: str) -> float:
    """A number in [0, 1) fixed by the track name (SHA-256), used for the validation split."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def validation_names(names: Sequence[str], fraction: float) -> set[str]:
    """Names of the validation tracks among ``names``: those whose :func:`split_fraction` is
    below ``fraction``; with two or more names, at least one on each side of the split."""
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"data.validation_fraction: expected 0 <= value < 1, got {fraction}")
    valid = {name for name in names if split_fraction(name) < fraction}
    if len(names) >= 2 and not valid:
        valid = {min(names, key=split_fraction)}
    if len(names) >= 2 and len(valid) == len(names):
        valid.discard(max(names, key=split_fraction))
    return valid


class FolderSource(TrackSource):
    """WAV stems in MUSDB18-HQ layout (see the module docstring).

    ``subset`` picks ``<root>/<subset>`` when it exists (else the track folders in ``root``
    itself); ``split`` (``train``/``valid``/None) keeps the training or validation tracks of
    the deterministic split, or all. Every track is checked here; reads use soundfile's partial
    reads.
    """

    def __init__(
        self,
        root: PathLike,
        subset: str | None = "train",
        split: str | None = None,
        *,
        validation_fraction: float = 0.1,
        sample_rate: int | None = None,
    ) -> None:
        _check_split(subset, split, str(root))
        folders = find_track_folders(root, subset)
        description = str(folders[0].parent)
        infos = [check_track_folder(folder) for folder in folders]
        if split is not None:
            valid = validation_names([info.name for info in infos], validation_fraction)
            keep = [(info.name in valid) == (split == "valid") for info in infos]
            folders = [f for f, k in zip(folders, keep, strict=True) if k]
            infos = [i for i, k in zip(infos, keep, strict=True) if k]
            if not infos:
                raise DataError(
                    f"{description}: split '{split}' has no tracks ({len(keep)} track(s) in "
                    "all; a validation split needs at least 2)"
                )
        super().__init__(f"{description} ({split})" if split else description, infos, sample_rate)
        self.folders = folders

    def _read_native(self, index: int, stem: str, start: int, frames: int) -> np.ndarray:
        return read_excerpt(stem_files(self.folders[index])[stem], start, frames)

    def lyrics(self, index: int) -> Any:
        """The timed lyrics of track ``index``: ``lyrics.json`` in its folder, else the words
        of a synthetic track's ``notes.json`` (None when neither holds any)."""
        return track_lyrics(self.folders[index])

    def _read_whole(self, index: int, stem: str) -> np.ndarray:
        audio, _ = read_audio(stem_files(self.folders[index])[stem])
        return audio


# ---------------------------------------------------------------------------------------------
# MUSDB18 through musdb


def import_musdb() -> Any:
    """Import ``musdb`` (lazily: it needs ffmpeg); DataError saying what is missing."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise DataError(
            "reading MUSDB18 through musdb needs ffmpeg and ffprobe on the PATH "
            "(install ffmpeg, or use a MUSDB18-HQ WAV folder)"
        )
    try:
        import musdb
    except Exception as exc:
        raise DataError(
            f"cannot import musdb ({type(exc).__name__}: {exc}); install it with "
            "pip install 'wiass[musdb]'"
        ) from exc
    return musdb


class MusdbSource(TrackSource):
    """MUSDB18 through ``musdb``: ``.stem.mp4`` files, or WAV folders with ``is_wav=True``.

    ``subset`` is ``train`` or ``test``; ``split`` (``train``/``valid``, train subset only) is
    musdb's fixed validation split. Stem files are decoded by ffmpeg in parts; WAV stems are
    checked like a :class:`FolderSource` and read with soundfile.
    """

    def __init__(
        self,
        root: PathLike,
        subset: str = "train",
        split: str | None = None,
        *,
        is_wav: bool = False,
        sample_rate: int | None = None,
    ) -> None:
        description = f"{Path(root) / subset}"
        _check_split(subset, split, description)
        if not Path(root).is_dir():
            raise DataError(f"{root}: no such dataset folder")
        musdb = import_musdb()
        try:
            database = musdb.DB(root=str(root), subsets=subset, split=split, is_wav=is_wav)
        except Exception as exc:
            raise DataError(
                f"{description}: musdb cannot read the dataset ({type(exc).__name__}: {exc})"
            ) from exc
        if not database.tracks:
            kind = "track folders" if is_wav else ".stem.mp4 files"
            raise DataError(f"{description}: musdb found no {kind} (split {split})")
        self.is_wav = is_wav
        self.stem_ids: dict[str, int] = dict(database.setup["stem_ids"])
        self.musdb_tracks = list(database.tracks)
        infos = [self._check(track) for track in self.musdb_tracks]
        super().__init__(f"{description} ({split})" if split else description, infos, sample_rate)

    def _check(self, track: Any) -> TrackInfo:
        if self.is_wav:
            return check_track_folder(Path(track.path).parent)
        streams = track.info.nb_audio_streams
        if streams < len(self.stem_ids):
            raise DataError(
                f"{track.path}: {streams} audio stream(s), a MUSDB18 stem file has "
                f"{len(self.stem_ids)} (mixture, drums, bass, other, vocals)"
            )
        return TrackInfo(track.name, int(track.rate), int(track.samples))

    def _path(self, index: int, stem: str) -> Path:
        return stem_files(Path(self.musdb_tracks[index].path).parent)[stem]

    def _decode(self, index: int, stem: str, start: int, frames: int | None) -> np.ndarray:
        """Decode a stretch of a stem file with ffmpeg (through musdb): ``(channels, n)``."""
        track = self.musdb_tracks[index]
        rate = self.tracks[index].sample_rate
        duration = None if frames is None else frames / rate
        try:
            audio = track.load_audio(track.path, self.stem_ids[stem], start / rate, duration)
        except Exception as exc:
            raise DataError(
                f"{track.path}: cannot decode the {stem} stream ({type(exc).__name__}: {exc})"
            ) from exc
        return np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T)

    def _read_native(self, index: int, stem: str, start: int, frames: int) -> np.ndarray:
        if self.is_wav:
            return read_excerpt(self._path(index, stem), start, frames)
        if start >= self.tracks[index].frames or frames == 0:
            channels = self.musdb_tracks[index].info.channels(self.stem_ids[stem])
            return np.zeros((channels, frames), dtype=np.float32)
        return _fit(self._decode(index, stem, start, frames), frames)

    def _read_whole(self, index: int, stem: str) -> np.ndarray:
        if self.is_wav:
            audio, _ = read_audio(self._path(index, stem))
            return audio
        return _fit(self._decode(index, stem, 0, None), self.tracks[index].frames)


# ---------------------------------------------------------------------------------------------
# Opening and iterating


SOURCE_KINDS: tuple[str, ...] = ("auto", "folder", "musdb", "musdb-wav")
"""Values of :func:`open_source`'s ``kind``."""


def open_source(
    root: PathLike,
    subset: str = "train",
    split: str | None = None,
    *,
    kind: str = "auto",
    validation_fraction: float = 0.1,
    sample_rate: int | None = None,
) -> TrackSource:
    """Open a dataset folder as a track source.

    ``kind``: ``folder`` (:class:`FolderSource`), ``musdb`` (MUSDB18 ``.stem.mp4`` files),
    ``musdb-wav`` (MUSDB18-HQ read through musdb, for its fixed validation split) or ``auto``:
    ``musdb`` when ``root/subset`` holds ``.stem.mp4`` files, else ``folder``.
    """
    if kind not in SOURCE_KINDS:
        raise DataError(f"{root}: unknown dataset kind '{kind}' (known: {', '.join(SOURCE_KINDS)})")
    if kind == "auto":
        folder = Path(root) / subset
        kind = "musdb" if folder.is_dir() and any(folder.glob("*.stem.mp4")) else "folder"
    if kind == "folder":
        return FolderSource(
            root,
            subset,
            split,
            validation_fraction=validation_fraction,
            sample_rate=sample_rate,
        )
    return MusdbSource(root, subset, split, is_wav=kind == "musdb-wav", sample_rate=sample_rate)


def iter_tracks(source: TrackSource) -> Iterator[Track]:
    """Every track of ``source`` in full (mixture and stems as ``(channels, samples)``), one at
    a time, at the source's sample rate."""
    for index in range(len(source)):
        yield source.read_track(index)


LYRICS_FILES = ("lyrics.json", "notes.json")
"""Files of a track folder that may hold its timed lyrics, in the order they are looked for."""


def track_lyrics(folder: Path) -> Any:
    """The timed lyrics of a track folder (:data:`LYRICS_FILES`; the shared JSON format of
    :func:`wiass.lyrics.timing_from_json`), or None; DataError for an unreadable file."""
    for name in LYRICS_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable JSON file ({exc})") from exc
        if isinstance(data, dict) and "words" in data:
            return timing_from_json(data, str(path))
    return None
