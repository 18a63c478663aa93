"""Atomic writes leave either the old file or the complete new one, never a partial file;
temporary files are tracked; write failures, bad names and full disks are one-line errors;
an output folder is locked by one run at a time."""

import errno
import os
from collections import namedtuple
from pathlib import Path

import pytest

from wiass.errors import OutputError
from wiass.files import (
    LOCK_NAME,
    atomic_path,
    check_free_space,
    check_output_names,
    check_writable_folder,
    folder_lock,
    live_temporary_files,
    remove_temporary_files,
    write_error,
    write_json,
)


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text().strip().startswith("{")
    assert os.listdir(tmp_path) == ["out.json"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_writable_folder(folder)
    finally:
        folder.chmod(0o700)


def test_output_folder_under_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        check_writable_folder(blocker / "sub")


def test_atomic_files_follow_the_umask(tmp_path):
    target = tmp_path / "out.txt"
    old = os.umask(0o022)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_live_temporary_files_are_registered_and_removable(tmp_path):
    target = tmp_path / "big.wav"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        assert live_temporary_files() == [tmp]
        assert remove_temporary_files() == [tmp]
        assert not tmp.exists() and live_temporary_files() == []
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert live_temporary_files() == [] and target.read_bytes() == b"whole"


def test_write_json_writes_nan_and_infinity_as_null_at_any_depth(tmp_path):
    import json
    import math

    import numpy as np

    data = {"a": math.nan, "b": [1.5, math.inf, (-math.inf, 2)], "c": {"d": np.float64("nan")}}
    write_json(tmp_path / "x.json", data)
    text = (tmp_path / "x.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [1.5, None, [None, 2]], "c": {"d": None}}
    assert data["a"] != data["a"], "the caller's data is left as it was"
    write_json(tmp_path / "museval.json", {"SDR": [math.nan, 1.0]}, nan_as_null=False)
    assert '"SDR": [\n    NaN,\n    1.0\n  ]' in (tmp_path / "museval.json").read_text()


def test_a_long_target_name_gets_a_temporary_name_that_fits(tmp_path):
    target = tmp_path / ("n" * 250 + ".json")
    write_json(target, [1])
    assert os.listdir(tmp_path) == [target.name]


def test_write_errors_say_why_and_name_the_file(tmp_path):
    target = tmp_path / "out.wav"
    full = write_error(target, OSError(errno.ENOSPC, "No space left on device"))
    assert str(full) == f"{target}: cannot write (no space left on the device (disk full))"
    hidden = RuntimeError("System error")
    assert str(write_error(target, hidden)) == f"{target}: cannot write (System error)"
    working = tmp_path / "probe"
    working.write_bytes(b"")
    assert "System error" in str(write_error(target, hidden, probe=working))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_hidden_write_failure_is_explained_by_a_probe():
    error = write_error(Path("vocals.wav"), RuntimeError("System error"), probe=Path("/dev/full"))
    assert str(error) == "vocals.wav: cannot write (no space left on the device (disk full))"


def test_output_names_are_checked_without_leaving_anything(tmp_path):
    check_output_names(tmp_path / "new" / "deeper", ["tracks/a.json", "summary.json"])
    check_output_names(tmp_path, ["summary.json"])
    assert os.listdir(tmp_path) == []
    with pytest.raises(OutputError, match="file name too long .* is 300 bytes"):
        check_output_names(tmp_path, ["tracks/" + "t" * 295 + ".json"])
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="blocker is a file, not a folder"):
        check_output_names(blocker, ["summary.json"])
    assert os.listdir(tmp_path) == ["blocker"]


def test_free_space_is_checked(tmp_path, monkeypatch):
    check_free_space(tmp_path / "new", 1000)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("wiass.files.shutil.disk_usage", lambda path: usage(10**9, 0, 2_500_000))
    check_free_space(tmp_path / "new", 2_000_000)
    with pytest.raises(OutputError, match=r"need about 3.0 MB, only 2.5 MB free"):
        check_free_space(tmp_path / "new", 3_000_000)


def test_a_folder_lock_is_exclusive_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with folder_lock(out):
        assert (out / LOCK_NAME).read_text().strip() == str(os.getpid())
        busy = pytest.raises(OutputError, match=r"another wiass run \(pid \d+\) is writing")
        with busy, folder_lock(out):
            pass
    assert os.listdir(out) == []
    (out / LOCK_NAME).write_text("12345\n")  # left behind by a killed run: no lock held
    with folder_lock(out):
        pass
    assert os.listdir(out) == []
