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


def test_every_command_help_shows_an_example_and_its_defaults():
    """`wiass <command> --help` ends with an example of that command and shows every default."""
    import click
    from click.testing import CliRunner

    from wiass.cli import main

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
