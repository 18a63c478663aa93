"""What a separation takes, checked for a separator: the device, the mixture's length in model
frames, and whole-file side information of the separator's kind.

Side information at separation time describes the whole file: its M steps are taken to cover
the file uniformly (step m stands for frames ``[m, m + 1) * N / M`` of the N frames at the
model's rate), unless it carries its true alignment (side information generated from the true
target by :func:`wiass.sideinfo.generate` over the whole file, ``first=0``, ``n_frames=N``) or
its rate; see :mod:`wiass.sideinfo.timeline`. The user therefore gives side information "of any
length" for the whole song. It is read and validated by the one resolver,
:func:`wiass.sideinfo.resolve_side_info`; this module adds what depends on the separator: ``none``
(BL1) and ``random`` (BL2) models take none, informed ones need some, and label files become
activity at the model's frame rate.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from wiass.errors import AudioError, ConfigError, SideInfoError, WiassWarning
from wiass.inference.chunks import resampled_length
from wiass.lyrics import Lyrics, read_lyrics
from wiass.lyrics.symbols import SYMBOLS
from wiass.separator import Separator
from wiass.sideinfo import (
    MAX_STEPS,
    SideInfo,
    SideInfoKind,
    parse_activity,
    read_labels,
    resolve_side_info,
)
from wiass.sideinfo import label_timing as _label_timing
from wiass.sideinfo.phonemes import symbol_side_info
from wiass.sideinfo.rates import check_step_count

SideInfoInput = SideInfo | Lyrics | np.ndarray | str | os.PathLike[str] | None
"""Whole-file side information as a caller gives it (see :func:`side_info_for`)."""


def check_device(device: str | torch.device | None) -> torch.device | None:
    """The torch device for ``device`` (None: keep the model's); ConfigError when it names CUDA
    and CUDA is not available."""
    if device is None:
        return None
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device '{device}': not a torch device") from exc
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}': CUDA is not available on this machine")
    return target


def model_frames(n_samples: int, sample_rate: int, separator: Separator) -> int:
    """Frames N of a mixture of ``n_samples`` at ``sample_rate`` once resampled to the model's
    rate: the length whole-file side information refers to."""
    samples = resampled_length(n_samples, sample_rate, separator.sample_rate)
    return separator.stft.n_frames(samples)


def check_length(n_samples: int, sample_rate: int, separator: Separator, name: str) -> None:
    """AudioError naming ``name`` when the mixture is shorter than one sample at the model's
    rate."""
    if resampled_length(n_samples, sample_rate, separator.sample_rate) < 1:
        raise AudioError(
            f"{name}: too short ({n_samples} samples at {sample_rate} Hz is less than one sample "
            f"at the model's {separator.sample_rate} Hz)"
        )


def label_timing(separator: Separator, n_frames: int) -> tuple[float, float]:
    """``(step_rate, duration)`` for turning label files into activity for this model
    (:func:`wiass.sideinfo.label_timing` at the model's frame rate)."""
    audio = separator.config.audio
    params = separator.config.side_info
    return _label_timing(separator.kind, params, n_frames, audio.sample_rate / audio.hop)


def side_info_for(
    separator: Separator, side_info: SideInfoInput, n_frames: int, *, source: str | None = None
) -> SideInfo | None:
    """Validate whole-file side information for ``separator`` and a mixture of ``n_frames``.

    ``side_info``: a :class:`SideInfo` (user input or generated from the true target over the
    whole file), an array ``(M, D)`` or ``(M,)``, an activity string of 0s and 1s, a
    side-information file (:func:`wiass.sideinfo.read_side_info`; label files become activity
    at :func:`label_timing`'s rate), or None. Returns None for ``none`` and ``random``
    models (which take none), the validated SideInfo otherwise. Raises SideInfoError, naming
    ``source``, for side information given to a model that takes none, none given to a model
    that needs it, the wrong kind, shape or values, or an alignment outside the mixture.
    """
    kind = separator.kind
    if not kind.informative:
        if side_info is not None:
            raise SideInfoError(f"{source or 'side information'}: {_takes_none(kind)}")
        return None
    if side_info is None:
        options = (
            "--lyrics" if kind.features == "symbols" else "--activity, --side-info or --labels"
        )
        raise SideInfoError(
            f"the model (side-information kind {kind.name}) needs side information: give "
            f"{options} (Python: side_info=...)"
        )
    if kind.features == "symbols":
        return lyrics_side_info(side_info, n_frames, source)
    audio = separator.config.audio
    side = resolve_side_info(
        side_info,
        kind,
        separator.config.side_info,
        n_frames=n_frames,
        frame_rate=audio.sample_rate / audio.hop,
        source=source,
    )
    if kind.timing != "aligned" and side.alignment is None and not side.rate:
        frame_rate = audio.sample_rate / audio.hop
        check_step_count(side.n_steps, n_frames, frame_rate, source or "side information")
    return side


def lyrics_side_info(
    side_info: SideInfoInput | Lyrics, n_frames: int, source: str | None
) -> SideInfo:
    """The ``phonemes`` side information of lyrics: a :class:`~wiass.lyrics.Lyrics`, a lyrics
    text file, symbol indices ``(M,)`` or a :class:`SideInfo` of them. SideInfoError (naming
    ``source``) for other input, invalid symbols, or more symbols than the mixture has frames
    (each symbol takes at least one frame)."""
    where = source or "lyrics"
    lyrics = None
    if isinstance(side_info, Lyrics):
        lyrics = side_info
        where = source or lyrics.source
    elif isinstance(side_info, str | os.PathLike):
        lyrics = read_lyrics(side_info)
        where = source or str(side_info)
    if lyrics is not None:
        if lyrics.guessed_note() is not None:
            warnings.warn(lyrics.guessed_note(), WiassWarning, stacklevel=3)
        side = dataclasses.replace(symbol_side_info(lyrics.symbol_indices()), lyrics=lyrics)
    elif isinstance(side_info, SideInfo):
        side = side_info
    else:
        side = symbol_side_info(np.asarray(side_info).reshape(-1))
    _check_symbols(side.values, where)
    if side.n_steps > MAX_STEPS:
        raise SideInfoError(
            f"{where}: {side.n_steps} lyric symbols, more than the limit {MAX_STEPS}"
        )
    if side.n_steps > n_frames:
        raise SideInfoError(
            f"{where}: {side.n_steps} lyric symbols (phonemes, pauses, word boundaries) but "
            f"the mixture has only {n_frames} frames; each symbol needs at least one"
        )
    return side


def _check_symbols(values: np.ndarray, where: str) -> None:
    """SideInfoError unless ``values (M, 1)`` are indices of real symbols (1 .. len - 1)."""
    if values.ndim != 2 or values.shape[1] != 1 or values.shape[0] == 0:
        raise SideInfoError(
            f"{where}: expected a sequence of symbol indices, got shape {values.shape}"
        )
    bad = np.flatnonzero(
        (values[:, 0] != np.round(values[:, 0]))
        | (values[:, 0] < 1)
        | (values[:, 0] >= len(SYMBOLS))
    )
    if bad.size:
        raise SideInfoError(
            f"{where}: value {values[bad[0], 0]:g} at step {bad[0] + 1} is not a symbol index "
            f"(1 to {len(SYMBOLS) - 1}, see wiass.lyrics.symbols.SYMBOLS)"
        )


def _takes_none(kind: SideInfoKind) -> str:
    if kind.name == "random":
        return "the model is BL2 (kind random): it draws its own random side information"
    return "the model is BL1 (kind none): it takes no side information"


def side_info_from_options(
    separator: Separator,
    n_frames: int,
    *,
    activity: str | None = None,
    side_info_path: str | os.PathLike[str] | None = None,
    labels_path: str | os.PathLike[str] | None = None,
    lyrics_path: str | os.PathLike[str] | None = None,
) -> SideInfo | None:
    """Whole-file side information from the CLI options (at most one of them), validated for
    ``separator`` and a mixture of ``n_frames`` frames; see :func:`side_info_for`."""
    options = {
        "--activity": activity,
        "--side-info": side_info_path,
        "--labels": labels_path,
        "--lyrics": lyrics_path,
    }
    given = [(name, value) for name, value in options.items() if value is not None]
    if len(given) > 1:
        raise SideInfoError(
            f"give at most one of {', '.join(options)} (got {given[0][0]} and {given[1][0]})"
        )
    if not given:
        return side_info_for(separator, None, n_frames)
    option, value = given[0]
    kind = separator.kind
    source = str(value)
    if option == "--activity":
        source = f"--activity '{value if len(value) <= 20 else value[:20] + '...'}'"
    if not kind.informative:
        raise SideInfoError(f"{source}: {_takes_none(kind)}")
    if (option == "--lyrics") != (kind.features == "symbols"):
        wanted = "--lyrics" if kind.features == "symbols" else "--activity, --side-info or --labels"
        raise SideInfoError(f"{source}: the model (kind {kind.name}) takes {wanted}, not {option}")
    if option == "--lyrics":
        return side_info_for(separator, Path(value), n_frames, source=source)
    if option in ("--activity", "--labels") and not kind.binary:
        raise SideInfoError(
            f"{source}: {option} gives binary activity, but the model (kind {kind.name}) takes "
            f"{kind.dim(separator.config.side_info)} band values per step; use --side-info FILE"
        )
    side_info: np.ndarray | Path
    if option == "--activity":
        side_info = parse_activity(str(value), source=source)
    elif option == "--labels":
        step_rate, duration = label_timing(separator, n_frames)
        labels = read_labels(value, duration, step_rate)
        side = side_info_for(separator, labels, n_frames, source=source)
        audio = separator.config.audio
        return dataclasses.replace(side, rate=audio.sample_rate / audio.hop / step_rate)
    else:
        side_info = Path(value)  # --side-info names a file, never an activity string
    return side_info_for(separator, side_info, n_frames, source=source)


__all__ = [
    "SideInfoInput",
    "check_device",
    "check_length",
    "label_timing",
    "model_frames",
    "side_info_for",
    "side_info_from_options",
]
