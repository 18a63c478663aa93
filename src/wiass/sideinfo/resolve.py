"""Side information a user gives: one resolver for activity strings, arrays, files and labels.

A user gives side information for a whole file as

* an activity string of 0s and 1s (``0011100``, whitespace ignored; :func:`parse_activity`);
* a text or CSV file: one value per line, or one row of ``D`` values per line, or (activity
  kinds) a single line of 0s and 1s (:func:`read_side_info`);
* an Audacity label file, ``start<TAB>end[<TAB>label]`` lines in seconds marking the sung regions,
  which becomes activity at a step rate over the audio's duration (:func:`read_labels`,
  :func:`labels_to_activity`, :func:`label_timing`);
* a ``.npy`` array ``(M, D)`` or ``(M,)``; in Python also any array or a :class:`SideInfo`.

:func:`resolve_side_info` is the one entry point: it reads any of these for a kind and validates
it once (:func:`check_values`). Every problem is a :class:`~wiass.errors.SideInfoError`, one
line that names the input (the file, the activity string, or the caller's ``source``).

Precedence, for a value that could be read in more than one way:

1. a :class:`SideInfo` is checked as it is (its kind, values and alignment);
2. an ``os.PathLike`` is always a file;
3. a ``str`` that names an existing file is that file; otherwise it is an activity string when
   it holds only 0s, 1s and whitespace, else a file path (so a missing file is reported as one);
4. anything else is an array of values.

Why an existing file first: a name that exists on disk is never silently taken for something
else, and every string follows the same rule whatever the caller. An activity string holds no
dot and so no file suffix a reader accepts: when a file of exactly that name exists, resolving
refuses with a line that says so instead of guessing which was meant. Either reading stays
available without ambiguity: activity as an array, a file as a ``pathlib.Path``.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from wiass.config import SideInfoConfig
from wiass.errors import SideInfoError, WiassWarning
from wiass.sideinfo.kinds import (
    MAX_STEPS,
    MAX_TEXT_BYTES,
    SideInfo,
    SideInfoKind,
    get_kind,
)

_TEXT_SUFFIXES = (".txt", ".csv")
_SEPARATORS = re.compile(r"[,;\s]+")
_ACTIVITY = re.compile(r"[01\s]*")

UserSideInfo = SideInfo | np.ndarray | str | os.PathLike[str]
"""What :func:`resolve_side_info` reads (any array-like is taken as an array)."""


def resolve_side_info(
    value: UserSideInfo,
    kind: str | SideInfoKind,
    params: SideInfoConfig,
    *,
    n_frames: int | None = None,
    frame_rate: float | None = None,
    step_rate: float | None = None,
    duration: float | None = None,
    source: str | None = None,
) -> SideInfo:
    """User side information of ``kind`` (a generated kind) read from ``value``, validated.

    ``value``: see the module's precedence. ``n_frames``: frames of the audio the side
    information describes (the mixture at the model's frame rate): when given, a frame-aligned
    kind needs exactly that many steps and a :class:`SideInfo`'s alignment must stay inside
    them. ``frame_rate``: frames per second; with ``n_frames`` it sets the timing of label
    files (:func:`label_timing`) unless ``step_rate`` (steps per second) or ``duration``
    (seconds) are given. ``source``: how errors name the input (default: the file, the
    activity string, or ``side information``). Returns values ``(M, D)`` float32 under the
    kind's name; the alignment (and rate) only when a :class:`SideInfo` carries them.
    """
    spec = get_kind(kind)
    if step_rate is None and duration is None and n_frames and frame_rate:
        step_rate, duration = label_timing(spec, params, n_frames, frame_rate)
    if isinstance(value, SideInfo):
        label = source or "side information"
        side = _check_object(value, _user_kind(spec, label), params, n_frames, label)
    elif _reads_as_file(value):
        path = os.fspath(value)
        label = source or _short(path, 80)
        side = read_side_info(path, spec, params, step_rate=step_rate, duration=duration)
        if step_rate and frame_rate and is_label_file(path, spec):
            side = replace(side, rate=frame_rate / step_rate)
    elif isinstance(value, str):
        label = source or f"activity string '{_short(value)}'"
        _user_kind(spec, label)
        activity = parse_activity(value, source=label)
        side = SideInfo(check_values(activity, spec.name, params, label), None, spec.name)
    else:
        label = source or "side information"
        _user_kind(spec, label)
        side = SideInfo(check_values(value, spec.name, params, label), None, spec.name)
    if n_frames is not None and spec.timing == "aligned" and side.n_steps != n_frames:
        rate = f" ({frame_rate:g} frames per second)" if frame_rate else ""
        raise SideInfoError(
            f"{label}: kind {spec.name} is frame-aligned and needs one step per frame, "
            f"{n_frames} steps for this mixture{rate}, got {side.n_steps}"
        )
    return side


def is_label_file(path: str | os.PathLike[str], kind: str | SideInfoKind) -> bool:
    """Whether ``path`` is an Audacity label file (times in seconds: its steps are placed by
    their times, never re-aligned)."""
    file = Path(path)
    if file.suffix.lower() not in _TEXT_SUFFIXES:
        return False
    lines = _text_lines(file)
    return bool(lines) and _looks_like_labels(lines, get_kind(kind))


def label_timing(
    kind: str | SideInfoKind, params: SideInfoConfig, n_frames: int, frame_rate: float
) -> tuple[float, float]:
    """``(step_rate, duration)`` for turning label files into activity of ``kind`` for audio of
    ``n_frames`` frames at ``frame_rate`` frames per second: one step per frame for
    frame-aligned kinds, else the middle of the training rates (``params.rate_range``); the
    duration spans the frames, so the steps cover the audio."""
    spec = get_kind(kind)
    frames_per_step = 1.0 if spec.timing == "aligned" else sum(params.rate_range) / 2
    return frame_rate / frames_per_step, n_frames / frame_rate


def _reads_as_file(value: object) -> bool:
    """Whether :func:`resolve_side_info` reads ``value`` as a file (see the precedence);
    SideInfoError for an activity string that is also the name of an existing file."""
    if isinstance(value, os.PathLike):
        return True
    if not isinstance(value, str):
        return False
    if not _ACTIVITY.fullmatch(value):
        return True
    if _is_file(value):
        raise SideInfoError(
            f"'{_short(value)}': both an activity string and the name of an existing file "
            "(read first, but not a .npy, .txt or .csv file); give activity as an array or "
            "the file under a supported name"
        )
    return False


def _check_object(
    side: SideInfo,
    kind: SideInfoKind,
    params: SideInfoConfig,
    n_frames: int | None,
    source: str,
) -> SideInfo:
    """A :class:`SideInfo` for ``kind``: its kind, values and alignment (integers, monotonic,
    inside ``n_frames`` frames when given) checked; values as float32, alignment as int64."""
    if get_kind(side.kind).name != kind.name:
        raise SideInfoError(
            f"{source}: side information of kind {side.kind}, but the model takes kind {kind.name}"
        )
    values = check_values(side.values, kind.name, params, source)
    alignment = side.alignment
    if alignment is not None:
        alignment = np.asarray(alignment)
        if alignment.shape != (values.shape[0],) or alignment.dtype.kind not in "iu":
            raise SideInfoError(
                f"{source}: alignment must be {values.shape[0]} integers, got "
                f"{alignment.dtype} {alignment.shape}"
            )
        real = alignment[alignment >= 0]
        if n_frames is not None and real.size and real.max() >= n_frames:
            raise SideInfoError(
                f"{source}: alignment refers to frame {int(real.max())}, but the mixture has "
                f"{n_frames} frames at the model's rate (generate it over the whole file)"
            )
        if np.any(np.diff(real) < 0):
            raise SideInfoError(f"{source}: alignment is not monotonic")
        alignment = alignment.astype(np.int64)
    return SideInfo(values, alignment, kind.name, side.rate)


def _is_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an existing file (False for names the OS cannot even look up)."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def _is_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an existing folder (False for names the OS cannot look up)."""
    try:
        return Path(path).is_dir()
    except OSError:
        return False


def parse_activity(text: str, *, source: str = "activity string") -> np.ndarray:
    """Activity ``(M, 1)`` float32 from a string of 0s and 1s (whitespace is ignored)."""
    compact = re.sub(r"\s+", "", text)
    if not compact:
        raise SideInfoError(f"{source}: empty (expected 0s and 1s such as 0011100)")
    bad = re.search(r"[^01]", compact)
    if bad:
        raise SideInfoError(
            f"{source}: character '{bad.group()}' at position {bad.start() + 1} is not 0 or 1"
        )
    if len(compact) > MAX_STEPS:
        raise SideInfoError(f"{source}: {len(compact)} steps, more than the limit {MAX_STEPS}")
    ones = np.frombuffer(compact.encode("ascii"), dtype=np.uint8) == ord("1")
    return ones.astype(np.float32)[:, None]


def read_side_info(
    path: str | os.PathLike[str],
    kind: str | SideInfoKind,
    params: SideInfoConfig,
    *,
    step_rate: float | None = None,
    duration: float | None = None,
) -> SideInfo:
    """Read and validate a user's side-information file for ``kind``.

    ``.npy``: a ``(M, D)`` or ``(M,)`` array. ``.txt`` / ``.csv``: one value per line or one
    row of D values per line (separated by commas, semicolons, tabs or spaces; blank lines and
    ``#`` comments are skipped, and so is a non-numeric header line); for activity kinds also a
    single line of 0s and 1s, or an Audacity label file (``start<TAB>end[<TAB>label]`` in
    seconds, the sung regions) turned into activity at ``step_rate`` steps per second over
    ``duration`` seconds (default: the end of the last label). The alignment is unknown (None).
    """
    file = Path(path)
    spec = _user_kind(kind, str(file))
    if not _is_file(file):
        problem = "not a file" if _is_dir(file) else "no such side-information file"
        raise SideInfoError(f"{_short(str(file), 80)}: {problem}")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        values = _read_npy(file)
    elif suffix in _TEXT_SUFFIXES:
        values = _read_text(file, spec, step_rate, duration)
    else:
        raise SideInfoError(
            f"{file}: unsupported side-information file type '{suffix or file.name}' "
            "(use .npy, .txt or .csv)"
        )
    return SideInfo(check_values(values, spec.name, params, str(file)), None, spec.name)


def read_labels(
    path: str | os.PathLike[str], duration: float | None, step_rate: float
) -> np.ndarray:
    """Activity ``(M, 1)`` float32 from an Audacity label file; see :func:`labels_to_activity`.

    ``duration``: length of the audio in seconds (None: the end of the last label).
    """
    file = Path(path)
    if not file.is_file():
        raise SideInfoError(f"{file}: no such label file")
    lines = _text_lines(file)
    if not lines:
        raise SideInfoError(f"{file}: empty label file")
    return labels_to_activity(_parse_labels(file, lines, duration), duration, step_rate, file)


def labels_to_activity(
    regions: np.ndarray,
    duration: float | None,
    step_rate: float,
    source: str | os.PathLike[str] = "labels",
) -> np.ndarray:
    """Activity ``(M, 1)`` float32 at ``step_rate`` steps per second from ``regions (K, 2)``.

    ``M = ceil(duration * step_rate)``; step m covers ``[m, m + 1) / step_rate`` seconds and is
    active when a region ``[start, end]`` touches it (a point label marks its own step).
    """
    regions = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
    if not (math.isfinite(step_rate) and step_rate > 0):
        raise SideInfoError(f"{source}: step rate must be a positive number, got {step_rate}")
    if duration is not None:
        _warn_labels_past_end(regions, duration, step_rate, source)
    if duration is None:
        duration = float(regions[:, 1].max()) if len(regions) else 0.0
    if not (math.isfinite(duration) and duration > 0):
        raise SideInfoError(f"{source}: duration must be positive, got {duration} s")
    n_steps = max(1, math.ceil(duration * step_rate - 1e-9))
    if n_steps > MAX_STEPS:
        raise SideInfoError(
            f"{source}: {duration} s at {step_rate} steps/s is {n_steps} steps, "
            f"more than the limit {MAX_STEPS}"
        )
    starts = np.floor(regions[:, 0] * step_rate).astype(np.int64)
    stops = np.maximum(starts + 1, np.ceil(regions[:, 1] * step_rate).astype(np.int64))
    starts, stops = np.clip(starts, 0, n_steps), np.clip(stops, 0, n_steps)
    change = np.zeros(n_steps + 1, dtype=np.int64)
    np.add.at(change, starts, 1)
    np.add.at(change, stops, -1)
    return (np.cumsum(change[:-1]) > 0).astype(np.float32)[:, None]


def _warn_labels_past_end(
    regions: np.ndarray, duration: float, step_rate: float, source: str | os.PathLike[str]
) -> None:
    """Warn when labels end more than a step after the audio's ``duration`` (seconds)."""
    end = float(regions[:, 1].max()) if len(regions) else 0.0
    if end > duration + 1.0 / step_rate:
        warnings.warn(
            f"{source}: the labels end at {end:g} s, after the end of the audio "
            f"({duration:g} s); assumed the audio's length: activity after {duration:g} s "
            "is dropped",
            WiassWarning,
            stacklevel=4,
        )


def check_values(
    values: np.ndarray, kind: str | SideInfoKind, params: SideInfoConfig, source: str
) -> np.ndarray:
    """Validate user side information for ``kind``; returns it as ``(M, D)`` float32.

    Checks: numeric, 1-D or 2-D, at least one and at most :data:`MAX_STEPS` steps, D values
    per step as the kind needs, finite, 0/1 for activity kinds, ``[0, 1]`` for band kinds
    (the range of :func:`band_features`).
    """
    spec = get_kind(kind)
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise SideInfoError(f"{source}: values of type {array.dtype} are not real numbers")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise SideInfoError(f"{source}: shape {array.shape}, expected (steps, values per step)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise SideInfoError(f"{source}: no side information (shape {array.shape})")
    if array.shape[0] > MAX_STEPS:
        raise SideInfoError(f"{source}: {array.shape[0]} steps, more than the limit {MAX_STEPS}")
    dim = spec.dim(params)
    if array.shape[1] != dim:
        raise SideInfoError(
            f"{source}: {array.shape[1]} values per step, kind {spec.name} needs {dim}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = array.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if bad.size:
        raise SideInfoError(f"{source}: non-finite value (NaN or infinity) at step {bad[0] + 1}")
    if spec.binary:
        bad = np.flatnonzero((out != 0) & (out != 1))
        if bad.size:
            value = out.ravel()[bad[0]]
            raise SideInfoError(
                f"{source}: value {value:g} at step {bad[0] + 1} is not 0 or 1 "
                f"(kind {spec.name} takes binary activity)"
            )
    elif spec.features == "bands":
        bad = np.flatnonzero(((out < 0) | (out > 1)).any(axis=1))
        if bad.size:
            raise SideInfoError(
                f"{source}: values at step {bad[0] + 1} lie outside [0, 1] "
                f"(kind {spec.name} takes band features scaled like wiass band_features)"
            )
    return np.ascontiguousarray(out)


def _user_kind(kind: str | SideInfoKind, source: str) -> SideInfoKind:
    """The kind, which must take user input (a generated kind); SideInfoError naming ``source``."""
    spec = get_kind(kind)
    if not spec.generated:
        raise SideInfoError(f"{source}: side-information kind '{spec.name}' takes no user input")
    return spec


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _read_npy(file: Path) -> np.ndarray:
    try:
        array = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise SideInfoError(f"{file}: not a readable .npy array ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise SideInfoError(f"{file}: not a single .npy array")
    if array.ndim in (1, 2) and array.shape[0] > MAX_STEPS:
        raise SideInfoError(f"{file}: {array.shape[0]} steps, more than the limit {MAX_STEPS}")
    if array.dtype.kind not in "biuf":
        raise SideInfoError(f"{file}: values of type {array.dtype} are not real numbers")
    return np.array(array)


def _text_lines(file: Path) -> list[tuple[int, str]]:
    """Numbered lines of a text file, without blank lines and ``#`` comments."""
    try:
        size = file.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise SideInfoError(f"{file}: {size} bytes, larger than the limit {MAX_TEXT_BYTES}")
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SideInfoError(f"{file}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SideInfoError(f"{file}: not a UTF-8 text file") from exc
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    return [(number, line) for number, line in lines if line and not line.startswith("#")]


def _read_text(
    file: Path, spec: SideInfoKind, step_rate: float | None, duration: float | None
) -> np.ndarray:
    lines = _text_lines(file)
    if not lines:
        raise SideInfoError(f"{file}: empty file (no side-information values)")
    if _looks_like_labels(lines, spec):
        if not spec.binary:
            raise SideInfoError(
                f"{file}: a label file gives activity, but kind {spec.name} takes band values"
            )
        if step_rate is None:
            raise SideInfoError(f"{file}: a label file needs a step rate (steps per second)")
        return labels_to_activity(_parse_labels(file, lines, duration), duration, step_rate, file)
    if spec.binary and len(lines) == 1 and re.fullmatch(r"[01]{2,}", lines[0][1]):
        return parse_activity(lines[0][1], source=str(file))
    rows = _numeric_rows(file, lines)
    if spec.binary and len(rows) == 1:
        return np.asarray(rows[0], dtype=np.float64)[:, None]
    return np.asarray(rows, dtype=np.float64)


def _numbers(fields: list[str]) -> list[float] | None:
    try:
        return [float(field) for field in fields]
    except ValueError:
        return None


def _numeric_rows(file: Path, lines: list[tuple[int, str]]) -> list[list[float]]:
    if _numbers(_SEPARATORS.split(lines[0][1])) is None and len(lines) > 1:
        lines = lines[1:]
    rows: list[list[float]] = []
    width_line = lines[0][0]
    for number, line in lines:
        fields = _SEPARATORS.split(line)
        row = _numbers(fields)
        if row is None:
            token = next(f for f in fields if _numbers([f]) is None)
            raise SideInfoError(f"{file}: line {number}: '{_short(token)}' is not a number")
        if rows and len(row) != len(rows[0]):
            raise SideInfoError(
                f"{file}: line {number} has {len(row)} values, line {width_line} has {len(rows[0])}"
            )
        rows.append(row)
    return rows


def _looks_like_labels(lines: list[tuple[int, str]], spec: SideInfoKind) -> bool:
    """An Audacity label file: tab-separated ``start, end[, label]`` lines.

    A two-column numeric table only counts as labels for activity kinds (whose D is 1, so it
    cannot be a table of values for them).
    """
    data = [line for _, line in lines if not line.startswith("\\")]
    if not data or "\t" not in data[0]:
        return False
    fields = data[0].split("\t")
    if len(fields) not in (2, 3) or _numbers(fields[:2]) is None:
        return False
    return spec.binary or (len(fields) == 3 and _numbers(fields[2:]) is None)


def _parse_labels(file: Path, lines: list[tuple[int, str]], duration: float | None) -> np.ndarray:
    """Regions ``(K, 2)`` in seconds from label lines; spectral-selection lines are skipped."""
    regions = []
    for number, line in lines:
        if line.startswith("\\"):
            continue
        fields = line.split("\t")
        times = _numbers(fields[:2]) if len(fields) >= 2 else None
        if times is None:
            raise SideInfoError(
                f"{file}: line {number}: expected 'start<TAB>end[<TAB>label]' in seconds"
            )
        start, end = times
        if not (math.isfinite(start) and math.isfinite(end)):
            raise SideInfoError(f"{file}: line {number}: non-finite time")
        if start < 0:
            raise SideInfoError(f"{file}: line {number}: start {start:g} s is negative")
        if end < start:
            raise SideInfoError(f"{file}: line {number}: end {end:g} s is before start {start:g} s")
        if duration is not None and start >= duration:
            raise SideInfoError(
                f"{file}: line {number}: start {start:g} s is after the end of the audio "
                f"({duration:g} s)"
            )
        regions.append((start, end))
    if not regions:
        raise SideInfoError(f"{file}: no labels")
    return np.asarray(regions, dtype=np.float64)


__all__ = [
    "UserSideInfo",
    "check_values",
    "label_timing",
    "labels_to_activity",
    "parse_activity",
    "read_labels",
    "read_side_info",
    "resolve_side_info",
]
