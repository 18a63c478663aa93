"""The one family of user-facing errors.

Every failure a user can cause (a bad file, bad side information, a bad config, a foreign
checkpoint) raises a subclass of :class:`WiassError` whose message is one line naming the file
and the problem. The CLI prints that line and exits with status 2; it never shows a traceback.
"""


class WiassError(Exception):
    """Base of every user-facing wiass error."""


class AudioError(WiassError):
    """An audio file is missing, unreadable, empty, silent, non-finite or of the wrong format."""


class DataError(WiassError):
    """A dataset folder or track is missing, incomplete or inconsistent."""


class SideInfoError(WiassError):
    """Side information has the wrong format, shape, type or length for its kind."""


class LyricsError(SideInfoError):
    """A lyrics text or timing is unusable: missing, binary, too large, empty, without a single
    word of the CMU Pronouncing Dictionary, or a malformed annotation or timing file."""


class ConfigError(WiassError):
    """A configuration file or option is invalid."""


class CheckpointError(WiassError):
    """A file is not a wiass checkpoint, or comes from an incompatible version."""


class MetricsError(WiassError):
    """Inputs to an evaluation do not fit together (lengths, sample rates, shapes)."""


class OutputError(WiassError):
    """An output cannot be written (not writable, or it exists and overwriting was not asked)."""


class WiassWarning(UserWarning):
    """Something in a user's input that wiass works around, with what it assumed; the CLI
    prints it as one line ``wiass: warning: ...``."""
