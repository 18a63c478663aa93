"""The attention figure of ``wiass experiment``: one test track per informed system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wiass.files import atomic_path
from wiass.separator import Separator
from wiass.sideinfo import SideInfo

ZOOM_SECONDS = 10.0
"""Length of the attention figure's close-up of the track's start (in seconds)."""


def plot_attention(
    path: Path, attention: np.ndarray, side_info: SideInfo, separator: Separator, track: str
) -> None:
    """Attention (mixture time x side-information step) with the true alignment on top: the
    whole track, and a close-up of its first :data:`ZOOM_SECONDS` where errors of a few steps
    can be seen."""
    from matplotlib.figure import Figure

    audio = separator.config.audio
    frame_seconds = audio.hop / audio.sample_rate
    attention = np.asarray(attention, dtype=np.float32)
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    whole, close_up = figure.subplots(1, 2, width_ratios=(3, 2))
    image = _attention_panel(whole, attention, side_info, frame_seconds)
    _attention_panel(close_up, attention, side_info, frame_seconds)
    whole.set_title(f"{separator.side_info_kind}: learned attention on {track}")
    close_up.set_xlim(0, min(ZOOM_SECONDS, attention.shape[0] * frame_seconds))
    close_up.set_ylim(*_steps_in_view(side_info, ZOOM_SECONDS / frame_seconds, attention.shape[1]))
    close_up.set_title(f"first {ZOOM_SECONDS:g} s")
    figure.colorbar(image, ax=close_up, label="attention")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110)


def _attention_panel(
    axes: Any, attention: np.ndarray, side_info: SideInfo, frame_seconds: float
) -> Any:
    """Draw ``attention (N, M)`` and the true alignment (thin line) on ``axes``; returns the
    image for the colour bar."""
    n_frames, n_steps = attention.shape
    image = axes.imshow(
        attention.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        interpolation="nearest",
        extent=(0, n_frames * frame_seconds, -0.5, n_steps - 0.5),
    )
    if side_info.alignment is not None:
        real = side_info.alignment >= 0
        axes.plot(
            side_info.alignment[real] * frame_seconds,
            np.flatnonzero(real),
            color="cyan",
            linewidth=0.8,
            alpha=0.8,
            label="true alignment",
        )
        axes.legend(loc="upper left")
    axes.set(xlabel="mixture time (s)", ylabel="side-information step")
    return image


def _steps_in_view(side_info: SideInfo, n_frames: float, n_steps: int) -> tuple[float, float]:
    """Step range of the close-up: the steps describing its frames, with a margin."""
    if side_info.alignment is None or not np.any(side_info.alignment >= 0):
        return -0.5, n_steps - 0.5
    inside = np.flatnonzero((side_info.alignment >= 0) & (side_info.alignment < n_frames))
    last = int(inside.max()) if inside.size else n_steps - 1
    margin = max(2, round(0.1 * last))
    return -0.5, min(n_steps - 0.5, last + margin)
