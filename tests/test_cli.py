"""The command line: version, help, and the one-line error contract: for every command, a
typical mistake (a missing file, a bad option value, a corrupt input) is one line
``wiass: error: ...`` on stderr naming what is wrong, exit status 2, no traceback, and nothing
written."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_track

from wiass import __version__
from wiass.cli import main


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


def test_every_command_help_shows_an_example_and_its_defaults():
    """`wiass <command> --help` ends with an example of that command and shows every default."""
    import click

    runner = CliRunner()
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"], terminal_width=100)
        assert result.exit_code == 0, result.output
        assert "Example" in result.output, f"wiass {name} --help has no example"
        assert f"wiass {name} " in result.output.split("Example", 1)[1], name
        for option in command.params:
            has_default = isinstance(option.default, (str, int, float))  # not None, not unset
            if not isinstance(option, click.Option) or option.is_flag or not has_default:
                continue
            assert option.show_default, f"wiass {name} {option.opts[0]}: default not shown"
            packed = "".join(result.output.split())  # help lines wrap anywhere, even at '-'
            assert f"[default:{option.default}" in packed, option.opts


# ---------------------------------------------------------------------------------------------
# The error contract


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Small inputs: a good references folder, estimates with a corrupt vocals.wav, a corrupt
    WAV, a corrupt YAML config, a run folder with a corrupt results.json."""
    folder = tmp_path_factory.mktemp("inputs")
    write_track(folder / "refs" / "song", seconds=1.0)
    estimates = folder / "ests" / "song"
    estimates.mkdir(parents=True)
    (estimates / "vocals.wav").write_bytes(b"RIFF, but not a WAV file")
    (estimates / "accompaniment.wav").write_bytes((folder / "refs/song/drums.wav").read_bytes())
    (folder / "bad.wav").write_bytes(b"not audio at all")
    (folder / "bad.yaml").write_text("train: [unclosed\n")
    (folder / "run").mkdir()
    (folder / "run" / "results.json").write_text("{oops")
    return folder


MISTAKES = {
    "evaluate: missing folder": (
        ["evaluate", "--references", "{in}/nope", "--estimates", "{in}/ests", "--out", "{out}"],
        "nope: no such references folder",
    ),
    "evaluate: bad --jobs": (
        ["evaluate", "--references", "{in}/refs", "--estimates", "{in}/ests", "--jobs", "0"],
        "Invalid value for '--jobs'",
    ),
    "evaluate: corrupt estimate": (
        ["evaluate", "--references", "{in}/refs", "--estimates", "{in}/ests", "--out", "{out}"],
        "vocals.wav: not a readable audio file",
    ),
    "train: missing config": (
        ["train", "--config", "{in}/missing.yaml", "--out", "{out}"],
        "missing.yaml: no such config file or preset",
    ),
    "train: corrupt config": (
        ["train", "--config", "{in}/bad.yaml", "--out", "{out}"],
        "bad.yaml: cannot read YAML (line 2, column 1: expected ',' or ']'",
    ),
    "train: bad --max-epochs": (
        ["train", "--max-epochs", "0", "--out", "{out}"],
        "Invalid value for '--max-epochs'",
    ),
    "train: missing --data": (
        ["train", "--data", "{in}/nope", "--out", "{out}"],
        "Invalid value for '--data'",
    ),
    "report: missing run": (["report", "{in}/nope"], "nope: no such run folder"),
    "report: corrupt results": (["report", "{in}/run"], "results.json: not valid JSON"),
    "separate: missing file": (
        ["separate", "{in}/missing.wav", "--model", "BL1", "--out", "{out}"],
        "missing.wav: no such file",
    ),
    "separate: corrupt file": (
        ["separate", "{in}/bad.wav", "--model", "BL1", "--out", "{out}"],
        "bad.wav: not a readable audio file",
    ),
    "separate: bad --threads": (
        ["separate", "{in}/bad.wav", "--model", "BL1", "--threads", "-1", "--out", "{out}"],
        "Invalid value for '--threads'",
    ),
    "separate: no mixture": (["separate", "--model", "BL1", "--out", "{out}"], "MIXTURES"),
    "models: unknown name": (["models", "A9"], "'A9': not a shipped model"),
    "make-synthetic: bad --sr": (["make-synthetic", "{out}", "--sr", "4000"], "--sr"),
    "make-synthetic: bad --seconds": (
        ["make-synthetic", "{out}", "--seconds", "long"],
        "Invalid value for '--seconds'",
    ),
    "demo: bad --songs": (["demo", "--songs", "0", "--out", "{out}"], "'--songs'"),
    "demo: --precision without --train": (
        ["demo", "--precision", "32-true", "--out", "{out}"],
        "--precision applies to --train only",
    ),
    "experiment: unknown system": (
        ["experiment", "--systems", "BL1,BL3", "--out", "{out}"],
        "--systems: unknown system 'BL3'",
    ),
    "experiment: corrupt config": (
        ["experiment", "--config", "{in}/bad.yaml", "--out", "{out}"],
        "bad.yaml: cannot read YAML",
    ),
    "unknown command": (["separat", "{in}/bad.wav"], "No such command 'separat'"),
}


def test_mistakes_cover_every_command():
    assert {args[0] for args, _ in MISTAKES.values()} >= set(main.commands)


@pytest.mark.parametrize("case", list(MISTAKES))
def test_a_mistake_is_one_line_exit_2_and_writes_nothing(inputs, tmp_path, monkeypatch, case):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # wiass separate sets it if unset
    arguments, message = MISTAKES[case]
    out = tmp_path / "out"
    args = [arg.replace("{in}", str(inputs)).replace("{out}", str(out)) for arg in arguments]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and result.stderr == result.output, result.output
    assert lines[0].startswith("wiass: error: "), lines[0]
    assert message in lines[0], lines[0]
    assert not out.exists()


def test_the_installed_command_prints_no_traceback(inputs, tmp_path):
    done = run_wiass("evaluate", "--references", str(inputs / "refs"), "--estimates", "nope")
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr == "wiass: error: nope: no such estimates folder\n"
