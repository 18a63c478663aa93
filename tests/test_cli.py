"""The command line: version, help, and the one-line error contract."""

import subprocess
import sys

from wiass import __version__


def run_wiass(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wiass", *args], capture_output=True, text=True, check=False
    )


def test_version_and_help():
    version = run_wiass("--version")
    assert version.returncode == 0
    assert __version__ in version.stdout
    helptext = run_wiass("--help")
    assert helptext.returncode == 0
    assert "Usage: wiass" in helptext.stdout
