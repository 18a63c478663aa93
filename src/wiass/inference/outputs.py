"""The alignment files ``wiass separate`` writes beside the audio.

``alignment.npy`` (float16, frames x steps, frames average-pooled by an integer factor when
frames x steps would exceed :data:`~wiass.inference.attention.MAX_ALIGNMENT_VALUES`),
``alignment.json`` (the axes: seconds per row and per step, the pooling, the kind, the mixture)
and ``alignment.png`` (:func:`plot_alignment`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wiass.files import atomic_path, write_error, write_json
from wiass.separator import Separator
from wiass.sideinfo import SideInfo

if TYPE_CHECKING:
    from matplotlib.axes import Axes

AUDIO_OUTPUTS = ("vocals.wav", "accompaniment.wav")
ALIGNMENT_OUTPUTS = ("alignment.png", "alignment.npy", "alignment.json")

_MAX_PLOT_SIZE = 2000


def write_alignment(
    folder: Path,
    mixture: Path,
    separator: Separator,
    side_info: SideInfo,
    attention: np.ndarray,
    *,
    pool: int,
    n_frames: int,
) -> list[Path]:
    """Write ``alignment.npy``, ``alignment.json`` and ``alignment.png`` of the attention
    ``(ceil(n_frames / pool), M)`` over ``side_info`` into ``folder``; returns their paths.
    ``n_frames``: frames of ``mixture`` at the model's rate."""
    audio = separator.config.audio
    frame_seconds = pool * audio.hop / audio.sample_rate
    step_seconds = n_frames * audio.hop / audio.sample_rate / side_info.n_steps
    if side_info.rate:
        step_seconds = side_info.rate * audio.hop / audio.sample_rate
    npy, json_path, png = (
        folder / name for name in ("alignment.npy", "alignment.json", "alignment.png")
    )
    with atomic_path(npy) as tmp:
        try:
            np.save(tmp, attention.astype(np.float16))
        except OSError as exc:
            raise write_error(npy, exc) from exc
    axes = {
        "frame_seconds": frame_seconds,
        "frame_pool": pool,
        "frames": int(attention.shape[0]),
        "steps": int(attention.shape[1]),
        "step_seconds": step_seconds,
        "kind": separator.side_info_kind,
        "mixture": str(mixture),
        "model_sample_rate": audio.sample_rate,
        "hop": audio.hop,
    }
    write_json(json_path, axes)
    plot_alignment(
        png,
        attention,
        side_info.values,
        frame_seconds=frame_seconds,
        step_seconds=step_seconds,
        title=f"{mixture.name}: attention over side information ({separator.side_info_kind})",
    )
    return [png, npy, json_path]


def remove_stale_alignment(folder: Path) -> list[Path]:
    """Alignment files of an earlier run in ``folder`` (only there with ``--force``) would
    no longer match the new audio; remove them."""
    removed = []
    for name in ALIGNMENT_OUTPUTS:
        path = folder / name
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _pool_mean(array: np.ndarray, axis: int, limit: int) -> tuple[np.ndarray, int]:
    """``array`` averaged over consecutive groups of ``factor`` entries along ``axis``, the
    smallest factor leaving at most ``limit`` entries; returns it and the factor."""
    size = array.shape[axis]
    factor = max(1, math.ceil(size / limit))
    if factor == 1:
        return array, 1
    starts = np.arange(0, size, factor)
    counts = np.diff(np.append(starts, size)).astype(np.float32)
    shape = [1] * array.ndim
    shape[axis] = -1
    return np.add.reduceat(array, starts, axis=axis) / counts.reshape(shape), factor


def plot_alignment(
    path: str | os.PathLike[str],
    attention: np.ndarray,
    side_values: np.ndarray,
    *,
    frame_seconds: float,
    step_seconds: float,
    title: str,
) -> None:
    """Save a figure of ``attention (frames, M)``: time in seconds across, side-information
    steps up (with their nominal position in seconds on the right), the side information
    ``(M, D)`` beside it."""
    from matplotlib.figure import Figure

    shown, frame_factor = _pool_mean(attention, 0, _MAX_PLOT_SIZE)
    shown, step_factor = _pool_mean(shown, 1, _MAX_PLOT_SIZE)
    n_frames, n_steps = attention.shape
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    grid = figure.add_gridspec(1, 2, width_ratios=(6, 1))
    axis = figure.add_subplot(grid[0])
    side_axis = figure.add_subplot(grid[1], sharey=axis)
    image = axis.imshow(
        shown.T,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap="magma",
        extent=(0.0, n_frames * frame_seconds, -0.5, n_steps - 0.5),
    )
    axis.set_xlabel("mixture time (s)")
    axis.set_ylabel("side-information step")
    axis.set_title(title, fontsize=10)
    figure.colorbar(image, ax=axis, location="left", label="attention", pad=0.02)
    _plot_side_values(side_axis, side_values, step_seconds)
    if frame_factor > 1 or step_factor > 1:
        axis.text(
            0.01,
            0.99,
            f"display pooled {frame_factor}x{step_factor}",
            transform=axis.transAxes,
            va="top",
            color="white",
            fontsize=8,
        )
    with atomic_path(path) as tmp:
        try:
            figure.savefig(tmp, dpi=110)
        except OSError as exc:
            raise write_error(Path(path), exc) from exc


def _plot_side_values(side_axis: Axes, side_values: np.ndarray, step_seconds: float) -> None:
    """The side information ``(M, D)`` up the steps: a filled curve for one value per step,
    an image of the bands otherwise; the steps' nominal position in seconds on the right."""
    n_steps = side_values.shape[0]
    steps = np.arange(n_steps)
    if side_values.shape[1] == 1:
        side_axis.fill_betweenx(steps, 0.0, side_values[:, 0], step="mid", color="tab:blue")
        side_axis.set_xlim(0.0, 1.05)
        side_axis.set_xlabel("value")
    else:
        side_axis.imshow(
            side_values,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            cmap="viridis",
            extent=(0.5, side_values.shape[1] + 0.5, -0.5, n_steps - 0.5),
        )
        side_axis.set_xlabel("band")
    side_axis.set_title("side information", fontsize=10)
    side_axis.tick_params(labelleft=False)
    seconds = side_axis.secondary_yaxis(
        "right", functions=(lambda m: (m + 0.5) * step_seconds, lambda t: t / step_seconds - 0.5)
    )
    seconds.set_ylabel("nominal position (s)")


__all__ = [
    "ALIGNMENT_OUTPUTS",
    "AUDIO_OUTPUTS",
    "plot_alignment",
    "remove_stale_alignment",
    "write_alignment",
]
