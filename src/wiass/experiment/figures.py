"""The attention figure of ``wiass experiment``: one test track per informed system."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wiass.separator import Separator
from wiass.sideinfo import SideInfo

ZOOM_SECONDS = 10.0
"""Length of the attention figure's close-up of the track's start (in seconds)."""


def plot_attention(
    path: Path, attention: np.ndarray, side_info: SideInfo, separator: Separator, track: str
) -> None:
    """The alignment figure (:func:`wiass.plots.plot_alignment`) of ``attention (N, M)``, one
    row per model frame: the whole track with the true alignment and the step times, and a
    close-up of its first :data:`ZOOM_SECONDS` where errors of a few steps can be seen."""
    from wiass.inference.outputs import separation_alignment
    from wiass.inference.step_times import step_times
    from wiass.plots import plot_alignment

    audio = separator.config.audio
    hop_seconds = audio.hop / audio.sample_rate
    seconds = attention.shape[0] * hop_seconds
    alignment = separation_alignment(
        separator,
        side_info,
        attention,
        pool=1,
        seconds=seconds,
        step_times=step_times(attention, hop_seconds, duration=seconds),
    )
    title = f"{separator.side_info_kind}: learned attention on {track}"
    plot_alignment(alignment, title, path, zoom=ZOOM_SECONDS)
