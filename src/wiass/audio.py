"""Reading, writing, resampling and validating audio.

Waveforms are ``(channels, samples)`` float32 numpy arrays (a mono file gives one channel).
Reading goes through soundfile (WAV, FLAC, OGG/Vorbis and the other libsndfile formats),
resampling through soxr, and writing is atomic (a temporary name in the same folder, then a
rename). Every bad file becomes an :class:`~wiass.errors.AudioError` whose message is one line
naming the file and the problem: missing, a folder, unreadable or corrupt, empty, non-finite,
silent (where silence is refused). A WAV whose header promises more samples than the file holds
(a truncated download or an interrupted recording) is read as far as it goes, with a
:class:`~wiass.errors.WiassWarning` naming the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from wiass.errors import AudioError, OutputError, WiassWarning
from wiass.files import atomic_path, write_error

PathLike = str | os.PathLike[str]


def _existing_file(path: PathLike) -> Path:
    """Return ``path`` as a Path after making sure it names an existing regular file."""
    file = Path(path)
    try:
        found = file.exists()
    except OSError as exc:
        raise AudioError(f"{file}: cannot be looked up ({exc.strerror or exc})") from exc
    if not found:
        raise AudioError(f"{file}: no such file")
    if file.is_dir():
        raise AudioError(f"{file}: is a folder, not an audio file")
    if not os.access(file, os.R_OK):
        raise AudioError(f"{file}: not readable (permission denied)")
    return file


def _describe(exc: Exception) -> str:
    """The useful part of a soundfile/libsndfile error, on one line."""
    text = getattr(exc, "error_string", None) or str(exc)
    return " ".join(str(text).split()).rstrip(".")


_MAX_WAV_CHUNKS = 64
"""Chunks of a RIFF header looked through for the data chunk."""


def wav_header_frames(path: PathLike) -> int | None:
    """Samples per channel that a RIFF/WAVE file's data chunk declares; None for other files
    and for the sizes 0 and 0xFFFFFFFF that streaming writers leave for "unknown"."""
    block_align = 0
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        for _ in range(_MAX_WAV_CHUNKS):
            header = handle.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"data":
                unknown = size in (0, 0xFFFFFFFF) or block_align <= 0
                return None if unknown else size // block_align
            skip = size + (size & 1)
            if chunk == b"fmt ":
                fmt = handle.read(min(skip, 64))
                block_align = int.from_bytes(fmt[12:14], "little")
                skip -= len(fmt)
            handle.seek(skip, os.SEEK_CUR)
    return None


def warn_if_truncated(path: PathLike, frames: int) -> None:
    """Warn (naming the file) when ``path``'s WAV header promises more than the ``frames``
    samples per channel it holds; the caller goes on with what the file holds."""
    try:
        promised = wav_header_frames(path)
    except OSError:
        return
    if promised is not None and promised > frames:
        warnings.warn(
            f"{path}: the WAV header promises {promised} samples per channel, the file holds "
            f"{frames} (truncated?); using the {frames} samples it holds",
            WiassWarning,
            stacklevel=3,
        )


def audio_info(path: PathLike, *, check_length: bool = True) -> tuple[int, int, int]:
    """Read only the header of ``path``: ``(sample_rate, channels, frames)``.

    ``frames`` is the number of samples per channel the file holds. Raises AudioError for a
    missing, unreadable or corrupt file and for a file without samples; warns when the header
    promises more samples than that (unless ``check_length`` is False).
    """
    file = _existing_file(path)
    try:
        info = sf.info(str(file))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{file}: not a readable audio file ({_describe(exc)})") from exc
    if info.frames <= 0:
        raise AudioError(f"{file}: contains no samples")
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioError(f"{file}: invalid header (sample rate or channel count is zero)")
    if check_length:
        warn_if_truncated(file, int(info.frames))
    return int(info.samplerate), int(info.channels), int(info.frames)


def check_audio(audio: np.ndarray, name: str, *, allow_silent: bool = True) -> np.ndarray:
    """Validate an in-memory waveform and return it as ``(channels, samples)`` float32.

    A 1-D array is taken as mono. ``name`` (a file name or a description) starts the message of
    the AudioError raised for an array that is not 1-D/2-D, has no samples, holds NaN or
    infinity, or (with ``allow_silent=False``) is all zeros.
    """
    array = np.asarray(audio)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise AudioError(f"{name}: expected (channels, samples) audio, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise AudioError(f"{name}: audio must be real numbers, got dtype {array.dtype}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise AudioError(f"{name}: contains no samples (shape {array.shape})")
    array = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(array.size - np.count_nonzero(finite))
        first = int(np.argwhere(~finite)[0][1])
        raise AudioError(
            f"{name}: contains {bad} non-finite sample(s) (NaN or infinity), "
            f"first at sample {first}"
        )
    if not allow_silent and not np.any(array):
        raise AudioError(f"{name}: is completely silent (all samples are zero)")
    return array


def read_audio(
    path: PathLike, *, sample_rate: int | None = None, allow_silent: bool = True
) -> tuple[np.ndarray, int]:
    """Read a whole file as ``(channels, samples)`` float32 and its sample rate.

    With ``sample_rate`` given, the audio is resampled to it (soxr) and that rate is returned.
    Raises AudioError when the file is missing, unreadable, corrupt, empty, holds non-finite
    samples, or is all zeros while ``allow_silent`` is False.
    """
    file = _existing_file(path)
    try:
        data, rate = sf.read(str(file), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{file}: not a readable audio file ({_describe(exc)})") from exc
    warn_if_truncated(file, data.shape[0])
    audio = check_audio(data.T, str(file), allow_silent=allow_silent)
    if sample_rate is not None and sample_rate != rate:
        audio = resample(audio, rate, sample_rate)
        rate = sample_rate
    return audio, int(rate)


def read_excerpt(path: PathLike, start: int, frames: int) -> np.ndarray:
    """Read ``frames`` samples per channel from sample ``start`` on, as ``(channels, frames)``.

    Only that part of the file is decoded. Samples past the end of the file are zeros, so the
    result always has ``frames`` columns. Raises AudioError for a bad file or non-finite
    samples, ValueError for a negative ``start`` or ``frames``.
    """
    if start < 0 or frames < 0:
        raise ValueError(f"start and frames must be >= 0, got start={start}, frames={frames}")
    file = _existing_file(path)
    _, channels, total = audio_info(file, check_length=False)
    out = np.zeros((channels, frames), dtype=np.float32)
    stop = min(start + frames, total)
    if stop <= start:
        return out
    try:
        data, _ = sf.read(str(file), start=start, stop=stop, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{file}: not a readable audio file ({_describe(exc)})") from exc
    out[:, : data.shape[0]] = data.T
    check_audio(out, f"{file} (samples {start}-{stop})")
    return out


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``(channels, samples)`` audio from ``sr_in`` to ``sr_out`` Hz with soxr (HQ).

    Returns float32 ``(channels, round(samples * sr_out / sr_in))``; the input unchanged (as
    float32) when the rates are equal. A 1-D input is taken as mono and gives a 2-D result.
    """
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_in} and {sr_out}")
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if sr_in == sr_out:
        return array
    out = soxr.resample(np.ascontiguousarray(array.T), sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def _format_for(path: Path) -> str:
    """The soundfile format name for ``path``'s extension (``.wav`` -> ``WAV``)."""
    extension = path.suffix.lower().lstrip(".")
    formats = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "aif": "AIFF", "aiff": "AIFF"}
    if extension not in formats:
        raise OutputError(
            f"{path}: unsupported audio extension '.{extension}' (use .wav, .flac, .ogg or .aiff)"
        )
    return formats[extension]


def write_audio(
    path: PathLike, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16"
) -> Path:
    """Write ``(channels, samples)`` audio to ``path`` atomically; return the path.

    The format follows the extension (.wav, .flac, .ogg, .aiff). ``subtype`` is a soundfile
    subtype such as ``PCM_16``, ``PCM_24`` or ``FLOAT`` (WAV only); integer subtypes clip
    samples to [-1, 1], ``FLOAT`` keeps them. Raises AudioError for invalid audio and
    OutputError for an unsupported extension/subtype pair or an unwritable place.
    """
    target = Path(path)
    array = check_audio(audio, f"audio for {target}")
    if sample_rate <= 0:
        raise OutputError(f"{target}: invalid sample rate {sample_rate}")
    file_format = _format_for(target)
    if file_format == "OGG" and subtype == "PCM_16":
        subtype = "VORBIS"
    if not sf.check_format(file_format, subtype):
        raise OutputError(f"{target}: subtype {subtype} is not available for {file_format} files")
    with atomic_path(target) as tmp:
        try:
            sf.write(str(tmp), array.T, sample_rate, subtype=subtype, format=file_format)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise write_error(target, exc, probe=tmp) from exc
    return target
