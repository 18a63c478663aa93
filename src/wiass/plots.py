"""The figures of a separation: the one alignment figure, spectrograms, energy over time.

Every figure is drawn on a :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state), so
memory stays flat however many are drawn, and saved atomically as PNG.

Time on the alignment figure follows :mod:`wiass.inference.step_times`: model frame ``n`` is
centred at ``n * hop_seconds`` (the STFT is centred), so the attention image puts row ``r`` over
``[r * frame_seconds - hop_seconds / 2, (r + 1) * frame_seconds - hop_seconds / 2)``
(:func:`attention_extent`), the true alignment puts step ``m`` at the centre of the frame it
describes, ``true_alignment[m] * hop_seconds`` (:func:`true_times`), and the step path draws
every step over its span ``[start, end)`` from the step times (:func:`step_path`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colors
from matplotlib.figure import Figure

from wiass.files import atomic_path, write_error
from wiass.inference.step_times import StepTimes
from wiass.runs import Alignment

ZOOM_SECONDS = 5.0
"""Length of the alignment figure's close-up of a track's start (seconds)."""
ACTIVITY_COLOURS = ("#ffffff", "#1f2933")
"""Colours of binary vocal activity in the side-information strip: silent (0), active (1)."""
TRUE_ALIGNMENT_STYLE: dict[str, Any] = {
    "color": "#22d3ee",
    "linewidth": 0.9,
    "linestyle": (0, (4, 3)),
    "alpha": 0.9,
}
"""The true alignment over the attention: thin and dashed, so the attention under it shows."""
STEP_PATH_STYLE: dict[str, Any] = {"color": "#a3e635", "linewidth": 0.9}
"""The step times (the alignment written to alignment.json): a thin solid line, edged in dark
grey so that it shows on the bright and the dark ends of the colour map."""
MAX_IMAGE_SIZE = 2000
"""Largest number of rows or columns of the attention drawn (averaged down beyond)."""
SPECTROGRAM_RANGE_DB = 80.0
"""Colour range of the spectrograms: from the loudest bin of a track down by this many dB."""
ENERGY_FRAME_SECONDS = 0.1
ENERGY_FLOOR_DB = -125.0


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` as PNG at ``path`` (written to a temporary name and renamed)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        try:
            fig.savefig(tmp, format="png")
        except OSError as exc:
            raise write_error(target, exc) from exc
    return target


# --------------------------------------------------------------------------- the alignment


def attention_extent(alignment: Alignment) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)`` of the attention image: rows over their frames' times
    (see the module docstring), steps ``m`` centred on ``y = m``."""
    rows, steps = alignment.attention.shape
    half = alignment.hop_seconds / 2
    return (-half, rows * alignment.frame_seconds - half, -0.5, steps - 0.5)


def true_times(true_alignment: np.ndarray, hop_seconds: float) -> np.ndarray:
    """Mixture time (s) of the centre of the model frame each step describes; NaN for padding."""
    times = true_alignment.astype(np.float64) * hop_seconds
    return np.where(true_alignment >= 0, times, np.nan)


def step_path(times: StepTimes) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the step path: step ``m`` drawn at ``y = m`` from its start to its end."""
    x = np.stack([times.start, times.end], axis=1).ravel()
    return x, np.repeat(np.arange(times.n_steps, dtype=np.float64), 2)


def _pool_mean(array: np.ndarray, axis: int, limit: int) -> np.ndarray:
    """``array`` averaged over consecutive groups along ``axis``, the smallest group size
    leaving at most ``limit`` entries."""
    size = array.shape[axis]
    factor = max(1, math.ceil(size / limit))
    if factor == 1:
        return array
    starts = np.arange(0, size, factor)
    counts = np.diff(np.append(starts, size)).astype(np.float32)
    shape = [1] * array.ndim
    shape[axis] = -1
    return np.add.reduceat(array, starts, axis=axis) / counts.reshape(shape)


def _side_info_strip(ax: Any, alignment: Alignment) -> list[Any]:
    """Draw the ``(steps, D)`` side information as a strip, step on y; returns legend handles
    (activity) or adds a colour bar under the strip (other kinds)."""
    from matplotlib.patches import Patch

    side = _pool_mean(alignment.side_info, 0, MAX_IMAGE_SIZE)
    steps, dim = alignment.side_info.shape
    style: dict[str, Any] = {"cmap": "Greys" if dim == 1 else "viridis"}
    if alignment.is_activity:
        style = {"cmap": colors.ListedColormap(ACTIVITY_COLOURS), "vmin": 0.0, "vmax": 1.0}
    image = ax.imshow(
        side,
        origin="lower",
        aspect="auto",
        extent=(-0.5, dim - 0.5, -0.5, steps - 0.5),
        interpolation="nearest",
        **style,
    )
    ax.set_xticks([] if dim == 1 else [0, dim - 1])
    ax.set_xlabel(("activity" if alignment.is_activity else "value") if dim == 1 else "band")
    ax.set_ylabel("side-information step")
    ax.set_title("side info", fontsize="medium")
    if not alignment.is_activity:
        ax.figure.colorbar(image, ax=ax, location="bottom", label="level (1: loudest)", pad=0.02)
        return []
    return [
        Patch(facecolor=ACTIVITY_COLOURS[1], label="side info 1: voice active"),
        Patch(facecolor=ACTIVITY_COLOURS[0], edgecolor="0.4", label="side info 0: silent"),
    ]


def _attention_panel(ax: Any, alignment: Alignment) -> Any:
    """Draw the attention ``(rows, steps)`` transposed (time on x), the true alignment (thin,
    dashed) where known and the step path (thin); returns the image."""
    shown = _pool_mean(_pool_mean(alignment.attention, 0, MAX_IMAGE_SIZE), 1, MAX_IMAGE_SIZE)
    image = ax.imshow(
        shown.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        norm=colors.PowerNorm(gamma=0.5, vmin=0.0, vmax=max(float(shown.max()), 1e-6)),
        extent=attention_extent(alignment),
        interpolation="antialiased",
    )
    if alignment.true_alignment is not None:
        times = true_times(alignment.true_alignment, alignment.hop_seconds)
        steps = np.arange(times.shape[0])
        ax.plot(times, steps, label="true alignment", **TRUE_ALIGNMENT_STYLE)
    from matplotlib import patheffects

    edge = [patheffects.withStroke(linewidth=2.0, foreground="#1f2933", alpha=0.6)]
    ax.plot(
        *step_path(alignment.step_times),
        label="step times (alignment.json)",
        path_effects=edge,
        **STEP_PATH_STYLE,
    )
    ax.set_xlim(0.0, alignment.seconds)
    ax.set_xlabel("mixture time (s)")
    return image


def _zoom_steps(alignment: Alignment, seconds: float) -> float:
    """The highest step to show in a close-up of the first ``seconds``: the last step the step
    times (or the true alignment) put there, plus a margin."""
    inside = np.flatnonzero(alignment.step_times.start < seconds)
    if alignment.true_alignment is not None:
        real = true_times(alignment.true_alignment, alignment.hop_seconds) < seconds
        inside = np.union1d(inside, np.flatnonzero(real))
    steps = alignment.attention.shape[1]
    last = int(inside.max()) if inside.size else steps - 1
    return min(steps - 0.5, last + max(2, round(0.15 * last)))


def has_close_up(alignment: Alignment, seconds: float = ZOOM_SECONDS) -> bool:
    """Whether the alignment figure gets a close-up: mixtures longer than twice ``seconds``."""
    return alignment.seconds > 2 * seconds


def alignment_figure(alignment: Alignment, title: str, zoom: float = ZOOM_SECONDS) -> Figure:
    """The alignment figure: the side information (left strip, step on y), the attention over
    the whole mixture (time on x) with the step times as a thin line and the true alignment,
    where known, as a thin dashed line, and, for mixtures longer than twice ``zoom`` seconds, a
    close-up of the first ``zoom`` seconds. A legend under the figure says what the strip's
    colours and the lines mean."""
    close_up = has_close_up(alignment, zoom)
    dim = alignment.side_info.shape[1]
    fig = Figure(figsize=(10.0 if close_up else 6.4, 3.8), dpi=110, layout="constrained")
    ratios = [0.6 + 0.12 * min(dim, 16), 6] + ([4] if close_up else [])
    grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios)
    whole_ax = fig.add_subplot(grid[1])
    strip_ax = fig.add_subplot(grid[0], sharey=whole_ax)
    whole_ax.tick_params(labelleft=False)
    handles = _side_info_strip(strip_ax, alignment)
    image = _attention_panel(whole_ax, alignment)
    whole_ax.set_title(title, fontsize="medium")
    colour_ax = whole_ax
    if close_up:
        colour_ax = fig.add_subplot(grid[2])
        _attention_panel(colour_ax, alignment)
        colour_ax.set_xlim(0.0, zoom)
        colour_ax.set_ylim(-0.5, _zoom_steps(alignment, zoom))
        colour_ax.set_title(f"close-up: first {zoom:g} s", fontsize="medium")
    fig.colorbar(image, ax=colour_ax, label="attention weight", pad=0.02, fraction=0.05)
    handles += whole_ax.get_legend_handles_labels()[0]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles) if len(handles) <= 3 or close_up else math.ceil(len(handles) / 2),
        frameon=False,
        fontsize="small",
    )
    return fig


def plot_alignment(
    alignment: Alignment, title: str, path: str | os.PathLike[str], zoom: float = ZOOM_SECONDS
) -> Path:
    """Draw :func:`alignment_figure` into the PNG file ``path``."""
    return save_figure(alignment_figure(alignment, title, zoom), path)


# --------------------------------------------------------------------------- audio


def spectrogram_db(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Log-magnitude spectrogram ``(frames, freq)`` in dB of the mono downmix of ``audio``.

    Windows of about 64 ms with a hop of a quarter window; returns the dB values
    (``20 log10(|X| + 1e-8)``) and the hop in seconds.
    """
    from wiass.transforms import STFTConfig, magnitude

    n_fft = 2 ** max(6, round(math.log2(0.064 * sample_rate)))
    config = STFTConfig(n_fft=n_fft, hop=n_fft // 4)
    mono = np.asarray(audio, dtype=np.float32).mean(axis=0)
    mag = magnitude(mono, config).numpy()
    return 20.0 * np.log10(mag + 1e-8), config.hop / sample_rate


def plot_spectrograms(
    signals: Mapping[str, tuple[np.ndarray, int]], paths: Mapping[str, Path]
) -> dict[str, Path]:
    """One spectrogram per signal (label -> ``((channels, samples), sample rate)``), all on one
    colour scale: from the loudest bin over all signals (0 dB) down by SPECTROGRAM_RANGE_DB,
    so the images of a track compare side by side. Writes ``paths[label]`` for every label."""
    spectra = {
        label: (*spectrogram_db(audio, rate), rate) for label, (audio, rate) in signals.items()
    }
    top = max(float(db.max()) for db, _, _ in spectra.values())
    for label, (db, hop_seconds, rate) in spectra.items():
        fig = Figure(figsize=(4.2, 2.6), dpi=110, layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(
            (db - top).T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-SPECTROGRAM_RANGE_DB,
            vmax=0.0,
            extent=(0.0, db.shape[0] * hop_seconds, 0.0, rate / 2000.0),
            interpolation="nearest",
        )
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (kHz)")
        fig.colorbar(image, ax=ax, label="dB", pad=0.02, fraction=0.05)
        save_figure(fig, paths[label])
    return dict(paths)


def frame_energy_db(audio: np.ndarray, sample_rate: int, frame_seconds: float) -> np.ndarray:
    """Energy in dB of consecutive frames of ``audio (channels, samples)`` (last frame partial).

    ``10 log10(energy + 1e-12)``: an all-zero frame is -120 dB.
    """
    size = max(1, round(frame_seconds * sample_rate))
    power = np.square(np.asarray(audio, dtype=np.float64)).sum(axis=0)
    n_frames = math.ceil(power.size / size)
    padded = np.zeros(n_frames * size)
    padded[: power.size] = power
    return 10.0 * np.log10(padded.reshape(n_frames, size).sum(axis=1) + 1e-12)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of the runs of True in a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def plot_energy(
    truth: np.ndarray, estimates: Mapping[str, np.ndarray], sample_rate: int, path: Path
) -> Path:
    """Energy over time of the true vocals and each estimate, silent true-vocal frames shaded.

    Shows where PES comes from: whatever an estimate puts into the shaded frames.
    """
    true_db = frame_energy_db(truth, sample_rate, ENERGY_FRAME_SECONDS)
    times = np.arange(true_db.size + 1) * ENERGY_FRAME_SECONDS
    fig = Figure(figsize=(10.0, 2.8), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for start, stop in _runs(true_db <= -120.0 + 1e-6):
        ax.axvspan(times[start], times[stop], color="0.88", linewidth=0)
    ax.stairs(true_db, times, baseline=None, color="black", linewidth=1.6, label="true vocals")
    palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
    for i, (label, audio) in enumerate(estimates.items()):
        db = frame_energy_db(audio, sample_rate, ENERGY_FRAME_SECONDS)[: true_db.size]
        ax.stairs(
            db,
            times[: db.size + 1],
            baseline=None,
            color=palette[i % len(palette)],
            linewidth=1.0,
            label=label,
        )
    ax.set_ylim(bottom=ENERGY_FLOOR_DB)
    ax.set_xlim(0.0, times[-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"energy per {ENERGY_FRAME_SECONDS * 1000:.0f} ms (dB)")
    fig.legend(loc="outside upper center", ncol=len(estimates) + 1, frameon=False)
    return save_figure(fig, path)


__all__ = [
    "ZOOM_SECONDS",
    "alignment_figure",
    "attention_extent",
    "frame_energy_db",
    "has_close_up",
    "plot_alignment",
    "plot_energy",
    "plot_spectrograms",
    "save_figure",
    "spectrogram_db",
    "step_path",
    "true_times",
]
