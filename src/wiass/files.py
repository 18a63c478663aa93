"""Output files: atomic writes, the live temporary files, checks before long work, folder locks.

Atomic writes: a file (text, or JSON with NaN as null: :func:`write_json`) is written under a
temporary name in the same folder, then renamed, so a reader never sees a half-written output
and a failure leaves the previous file untouched. Every temporary file that exists is listed in
a registry, so that :func:`remove_temporary_files` can delete them when the process is stopped
by a signal (the command line does that on SIGTERM and SIGINT). Write failures (disk full, file
too large, name too long) become one-line :class:`~wiass.errors.OutputError` s naming the file
(:func:`write_error`); the checks :func:`check_output_names` and :func:`check_free_space` catch
what they can before long work; :func:`folder_lock` keeps two runs from writing into one folder
at once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from wiass.errors import OutputError

MAX_TEXT_BYTES = 64 * 1024 * 1024
"""Largest text, CSV, label or lyrics file read (bytes)."""

LOCK_NAME = ".wiass.lock"
"""Name of the lock file :func:`folder_lock` keeps in a folder while a run writes into it."""

_TEMP_STEM_CHARS = 40
"""Characters of the target's stem kept in a temporary name (so that the temporary name of a
file whose name fits the file system fits as well)."""

_LIVE: set[Path] = set()
_LIVE_GUARD = threading.Lock()

_REASONS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (the file system's or the process's file-size limit)",
    errno.ENAMETOOLONG: "file name too long",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error on the device",
}
"""Write failures a user can meet, with the words the errors name them by."""

_PROBE_BYTES = 1 << 20


# ---------------------------------------------------------------------------------------------
# Atomic writes and the registry of live temporary files


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s suffix so that libraries choosing a format by extension
    (soundfile, matplotlib) still do the right thing. It is listed in the registry of live
    temporary files (:func:`live_temporary_files`) until it is renamed or removed.
    """
    target = Path(path)
    tmp = _create_temporary(target)
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise write_error(target, exc) from exc
    finally:
        _discard(tmp)


def _create_temporary(target: Path) -> Path:
    """Create and register an empty temporary file next to ``target`` (folder made if needed)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _LIVE_GUARD:
            fd, name = tempfile.mkstemp(
                prefix=f".{target.stem[:_TEMP_STEM_CHARS]}.",
                suffix=f".tmp{target.suffix}",
                dir=target.parent,
            )
            _LIVE.add(Path(name))
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here ({_reason(exc)})") from exc
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())
    return Path(name)


def _discard(tmp: Path) -> None:
    """Remove ``tmp`` if it is still there and drop it from the registry."""
    with _LIVE_GUARD:
        _LIVE.discard(tmp)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


def live_temporary_files() -> list[Path]:
    """The temporary files of :func:`atomic_path` blocks that have not finished yet."""
    with _LIVE_GUARD:
        return sorted(_LIVE)


def remove_temporary_files() -> list[Path]:
    """Delete every live temporary file (for a process being stopped); returns those deleted."""
    with _LIVE_GUARD:
        paths = sorted(_LIVE)
        _LIVE.clear()
    removed = []
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _umask() -> int:
    """The process umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise write_error(Path(path), exc) from exc


def write_json(path: str | os.PathLike[str], data: Any, *, nan_as_null: bool = True) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically.

    JSON has no NaN or infinity: every such float (in dicts, lists and tuples, at any depth) is
    written as null, unless ``nan_as_null`` is False, which writes them as Python's ``json``
    does (``NaN``, ``Infinity``), as museval's files hold them.
    """
    document = json_ready(data) if nan_as_null else data
    write_text(path, json.dumps(document, indent=2, allow_nan=not nan_as_null) + "\n")


def json_ready(data: Any) -> Any:
    """``data`` with every NaN or infinite float replaced by None (recursively through dicts,
    lists and tuples; tuples become lists)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: json_ready(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_ready(value) for value in data]
    return data


# ---------------------------------------------------------------------------------------------
# Write failures


def write_error(target: Path, exc: BaseException, probe: Path | None = None) -> OutputError:
    """The one-line OutputError for a failed write of ``target``.

    An OSError names its own cause. Libraries that hide the cause (libsndfile's "System
    error", torch's zip writer) are explained by ``probe``: a temporary file of the failed
    write that one more plain write (then discarded with it) asks for the operating system's
    reason, e.g. a full disk.
    """
    reason = None
    if isinstance(exc, OSError) and exc.errno is not None:
        reason = _reason(exc)
    elif probe is not None:
        reason = _probe_reason(probe)
    if reason is None:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return OutputError(f"{target}: cannot write ({reason})")


def _reason(exc: OSError) -> str:
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or str(exc)


def _probe_reason(probe: Path) -> str | None:
    """The operating system's reason why writing to ``probe`` fails, or None if it works."""
    try:
        with open(probe, "ab") as handle:
            handle.write(bytes(_PROBE_BYTES))
            handle.flush()
    except OSError as exc:
        return _reason(exc)
    return None


def is_write_failure(exc: OSError) -> bool:
    """Whether ``exc`` is a failure of the place written to (full, read-only, name too long...)
    rather than of the program."""
    return exc.errno in _REASONS


# ---------------------------------------------------------------------------------------------
# Checks before long work


def check_writable_folder(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` if needed and make sure files can be created in it."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({_reason(exc)})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder is not writable")
    return out


def existing_ancestor(path: Path) -> Path:
    """``path`` itself if it exists, else its nearest existing ancestor."""
    current = Path(os.path.abspath(path))
    while not _exists(current) and current != current.parent:
        current = current.parent
    return current


def _exists(path: Path) -> bool:
    try:
        path.lstat()
    except OSError:
        return False
    return True


def check_output_names(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """OutputError, before any long work, when ``folder / name`` cannot be written for a name.

    ``names`` are relative paths (``tracks/a.json``). Checks that every missing part of each
    path fits the file system's name limit, that the nearest existing folder on the way is a
    writable folder and, where the file's folder exists, that a file of its temporary name can
    be created there (it is removed again). Creates nothing that stays.
    """
    root = Path(folder)
    for name in names:
        target = root / name
        ancestor = existing_ancestor(target.parent)
        if not ancestor.is_dir():
            raise OutputError(f"{target}: cannot write here ({ancestor} is a file, not a folder)")
        _check_name_lengths(target, ancestor)
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputError(f"{target}: cannot write here ({ancestor} is not writable)")
        if ancestor == Path(os.path.abspath(target.parent)):
            _try_create(target)


def _check_name_lengths(target: Path, ancestor: Path) -> None:
    """OutputError when a part of ``target`` below ``ancestor`` is longer than the file system
    allows (the limit of ``ancestor``'s file system, 255 bytes where it cannot be asked)."""
    try:
        limit = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    below = Path(os.path.abspath(target)).relative_to(ancestor).parts
    for part in below:
        size = len(os.fsencode(part))
        if size > limit:
            raise OutputError(
                f"{target}: file name too long ('{part[:30]}...' is {size} bytes, the file "
                f"system allows {limit})"
            )


def _try_create(target: Path) -> None:
    """Create and remove a temporary file of ``target``'s temporary name (OutputError if the
    operating system refuses)."""
    _discard(_create_temporary(target))


def check_free_space(folder: str | os.PathLike[str], needed_bytes: int) -> None:
    """OutputError when the device of ``folder`` (or of its nearest existing ancestor) has
    less than ``needed_bytes`` free."""
    place = existing_ancestor(Path(folder))
    try:
        free = shutil.disk_usage(place).free
    except OSError:
        return
    if free < needed_bytes:
        raise OutputError(
            f"{folder}: the outputs need about {_megabytes(needed_bytes)}, only "
            f"{_megabytes(free)} free on the device of {place} (disk full)"
        )


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


# ---------------------------------------------------------------------------------------------
# A lock on an output folder


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created if needed) for the block.

    OutputError at once when another process holds it. The lock is the operating system's
    (``flock`` on ``folder/.wiass.lock``), so a process that dies loses it: a lock file left
    behind by a killed run is not in the way. The lock file is removed when the block ends.
    """
    out = check_writable_folder(folder)
    path = out / LOCK_NAME
    fd = _acquire(path, out)
    try:
        yield out
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _acquire(path: Path, folder: Path) -> int:
    """A descriptor of ``path`` holding its lock (retrying if the file was replaced meanwhile)."""
    try:
        import fcntl
    except ImportError:  # Windows: an exclusive create, without stale-lock detection
        return _create_exclusive(path, folder)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode("ascii", "replace").strip()
            os.close(fd)
            raise _busy(folder, holder) from exc
        if _same_file(fd, path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            return fd
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (its holder may have removed it)."""
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except OSError:
        return False


def _create_exclusive(path: Path, folder: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError as exc:
        raise _busy(folder, f"see {path}, remove it if no run is active") from exc
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return fd


def _busy(folder: Path, holder: str) -> OutputError:
    who = f" (pid {holder})" if holder.isdigit() else (f" ({holder})" if holder else "")
    return OutputError(
        f"{folder}: another wiass run{who} is writing into this folder; wait for it to finish "
        "or choose another output folder"
    )
