"""Error, warning and signal handling of the ``wiass`` command (:class:`WiassGroup`).

Every :class:`~wiass.errors.WiassError` (and an OSError of the place written to: a full disk, a
name too long) becomes one line on stderr and exit status 2, and so does a usage error of a
command (a missing option, an option value out of range); a
:class:`~wiass.errors.WiassWarning` one line ``wiass: warning: ...``. SIGTERM and SIGINT stop a
command cleanly: the temporary files of unfinished outputs are removed, one line says so, and
the exit status is 143 or 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from types import FrameType
from typing import Any, NoReturn

import click

from wiass.errors import WiassError, WiassWarning
from wiass.files import is_write_failure, remove_temporary_files


class WiassGroup(click.Group):
    """A click group that turns user-facing errors (usage errors of its commands included) into
    one line and exit status 2, warnings into one line, and SIGTERM/SIGINT into a clean stop
    (exit 143/130)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _fail(_usage_message(exc))

    def invoke(self, ctx: click.Context) -> object:
        with _stop_signals() as received, _one_line_warnings():
            try:
                return super().invoke(ctx)
            except WiassError as exc:
                _fail(str(exc))
            except OSError as exc:
                if not is_write_failure(exc):
                    raise
                _fail(f"{exc.filename or 'output'}: {exc.strerror or exc}")
            except click.exceptions.NoArgsIsHelpError:
                raise
            except click.UsageError as exc:
                _fail(_usage_message(exc))
            except KeyboardInterrupt:
                _stopped(received[0] if received else signal.SIGINT)
            except SystemExit:
                if received:  # a library that exits on KeyboardInterrupt (Lightning)
                    _stopped(received[0])
                raise
        return None


def _usage_message(exc: click.UsageError) -> str:
    """Click's message of a usage error on one line, with where to read the command's help."""
    message = " ".join(exc.format_message().split())
    if exc.ctx is None:
        return message
    return f"{message} (see '{exc.ctx.command_path} --help')"


def _fail(message: str) -> NoReturn:
    click.echo(f"wiass: error: {message}", err=True)
    sys.exit(2)


def _stopped(signum: int) -> NoReturn:
    """Remove what is left of unfinished outputs, say so in one line, exit 128 + signum."""
    remove_temporary_files()
    name = signal.Signals(signum).name
    click.echo(f"wiass: stopped by {name}; no partial outputs left", err=True)
    sys.exit(128 + signum)


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """While a command runs, SIGTERM and SIGINT raise KeyboardInterrupt in the main thread, so
    that every ``with`` and ``finally`` block runs (the atomic writes remove their temporary
    files) and libraries stop as on Ctrl-C; the signal is recorded in the yielded list. A
    second signal removes the temporary files and exits at once. Signals a parent process set
    to be ignored stay ignored; forked child processes get the default behaviour."""
    received: list[int] = []
    owner = os.getpid()

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            if signum == signal.SIGINT:
                signal.default_int_handler(signum, frame)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if received:
            remove_temporary_files()
            os._exit(128 + signum)
        received.append(signum)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {
        signum: signal.getsignal(signum)
        for signum in (signal.SIGTERM, signal.SIGINT)
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    for signum in previous:
        signal.signal(signum, handler)
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Show each :class:`~wiass.errors.WiassWarning` as one line ``wiass: warning: ...``."""
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, WiassWarning):
            click.echo(f"wiass: warning: {message}", err=True)
        else:
            original(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original
