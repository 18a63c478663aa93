"""The figures of a separation: the one alignment figure, spectrograms, energy over time.

Every figure is drawn on a :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state), so
memory stays flat however many are drawn, and saved atomically as PNG.

Time on the alignment figure follows :mod:`wiass.inference.step_times`: model frame ``n`` is
centred at ``n * hop_seconds`` (the STFT is centred), so the attention image puts row ``r`` over
``[r * frame_seconds - hop_seconds / 2, (r + 1) * frame_seconds - hop_seconds / 2)``
(:func:`attention_extent`), the true alignment puts step ``m`` at the centre of the frame it
describes, ``true_alignment[m] * hop_seconds`` (:func:`true_times`), and the step path draws
every step over its span ``[start, end)`` from the step times (:func:`step_path`).

Lyrics (the ``phonemes`` kind): the strip shows every step's symbol class (pause, word
boundary, vowel, consonant) and, where the steps are tall enough to read, the symbol's name;
the attention panels write each word at its found start on the step of its first phoneme
(:func:`word_steps`), leaving out a word whose label would overlap one already written.
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
from wiass.lyrics import PAUSE, SYMBOLS, WORD_BOUNDARY, LyricsTiming
from wiass.lyrics.symbols import PADDING, is_vowel
from wiass.runs import Alignment
from wiass.sideinfo import KINDS

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
SYMBOL_CLASSES = ("pause", "word boundary", "vowel", "consonant")
"""Classes of the lyrics symbols in the side-information strip, in the order of their colours."""
SYMBOL_COLOURS = ("#f8fafc", "#cbd5e1", "#f59e0b", "#0e7490")
"""Colours of :data:`SYMBOL_CLASSES` (a padding step, never written by wiass, shows as a pause)."""
SYMBOL_FONT_POINTS = 5.5
"""Font size of the symbol names in the strip; a name is written only where a step is at
least 1.15 times as tall."""
WORD_FONT_POINTS = 6.5
"""Font size of the word labels over the attention."""
WORD_LABEL_STYLE: dict[str, Any] = {"color": "#ffffff", "fontsize": WORD_FONT_POINTS}
"""Word labels: small white text edged in dark grey (readable on the whole colour map)."""
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


def is_symbolic(alignment: Alignment) -> bool:
    """Whether the side information is a symbol sequence (the ``phonemes`` kind: lyrics)."""
    kind = KINDS.get(alignment.kind)
    return kind is not None and kind.features == "symbols" and alignment.side_info.shape[1] == 1


def symbol_names(values: np.ndarray) -> list[str]:
    """The symbol of every step of ``values (M, 1)`` (indices into :data:`SYMBOLS`); ``?`` for
    an index outside the set."""
    indices = np.rint(np.asarray(values, dtype=np.float64).reshape(-1)).astype(np.int64)
    return [SYMBOLS[i] if 0 <= i < len(SYMBOLS) else "?" for i in indices]


def symbol_classes(names: list[str]) -> np.ndarray:
    """The index into :data:`SYMBOL_CLASSES` of every symbol ``(M,)`` (padding and unknown
    symbols count as pauses)."""

    def one(name: str) -> int:
        if name == WORD_BOUNDARY:
            return 1
        if name in (PAUSE, PADDING, "?"):
            return 0
        return 2 if is_vowel(name) else 3

    return np.array([one(name) for name in names], dtype=np.int64)


def _symbol_strip(ax: Any, alignment: Alignment) -> list[Any]:
    """Draw the lyrics symbols as a strip coloured by class (step on y); returns the legend
    handles of the classes. The names are written by :func:`_write_symbol_names` once the
    figure's layout is known."""
    from matplotlib.patches import Patch

    classes = symbol_classes(symbol_names(alignment.side_info))
    factor = max(1, math.ceil(classes.size / MAX_IMAGE_SIZE))
    steps = classes.size
    ax.imshow(
        classes[::factor, None],
        origin="lower",
        aspect="auto",
        extent=(-0.5, 0.5, -0.5, steps - 0.5),
        interpolation="nearest",
        cmap=colors.ListedColormap(SYMBOL_COLOURS),
        vmin=-0.5,
        vmax=len(SYMBOL_CLASSES) - 0.5,
    )
    ax.set_xticks([])
    ax.set_xlabel("symbol")
    return [
        Patch(facecolor=colour, edgecolor="0.6", label=name)
        for name, colour in zip(SYMBOL_CLASSES, SYMBOL_COLOURS, strict=True)
    ]


def _write_symbol_names(ax: Any, alignment: Alignment) -> bool:
    """Write every step's symbol into the strip ``ax`` when the steps are tall enough to read
    (after the layout: :meth:`Figure.draw_without_rendering`); returns whether it did."""
    names = symbol_names(alignment.side_info)
    step_points = ax.get_window_extent().height / len(names) * 72.0 / ax.figure.dpi
    if step_points < 1.15 * SYMBOL_FONT_POINTS:
        return False
    for step, (name, group) in enumerate(zip(names, symbol_classes(names), strict=True)):
        ax.text(
            0.0,
            step,
            name,
            ha="center",
            va="center",
            fontsize=SYMBOL_FONT_POINTS,
            color="#ffffff" if group == 3 else "#1f2933",
            clip_on=True,
        ).set_in_layout(False)
    return True


def _side_info_strip(ax: Any, alignment: Alignment) -> list[Any]:
    """Draw the ``(steps, D)`` side information as a strip, step on y; returns legend handles
    (activity, symbols) or adds a colour bar under the strip (other kinds)."""
    from matplotlib.patches import Patch

    ax.set_ylabel("side-information step")
    ax.set_title("side info", fontsize="medium")
    if is_symbolic(alignment):
        return _symbol_strip(ax, alignment)
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
    if not alignment.is_activity:
        ax.figure.colorbar(image, ax=ax, location="bottom", label="level (1: loudest)", pad=0.02)
        return []
    return [
        Patch(facecolor=ACTIVITY_COLOURS[1], label="side info 1: voice active"),
        Patch(facecolor=ACTIVITY_COLOURS[0], edgecolor="0.4", label="side info 0: silent"),
    ]


# --------------------------------------------------------------------------- words


def word_steps(lyrics: LyricsTiming, side_info: np.ndarray, times: StepTimes) -> np.ndarray:
    """The step of the first phoneme of every word ``(words,)`` int64.

    Read from the symbols of ``side_info (M, 1)``: the phoneme steps (all but pauses, word
    boundaries and padding) belong to the words in order, each word taking as many as it has
    phonemes. Where that does not add up (a timing without phonemes, or other side
    information), each word goes to the last step starting at or before its start time.
    """
    names = symbol_names(side_info)
    phoneme_steps = [
        m for m, name in enumerate(names) if name not in (PAUSE, WORD_BOUNDARY, PADDING)
    ]
    counts = [len(word.phonemes) for word in lyrics.words]
    if all(counts) and sum(counts) == len(phoneme_steps):
        firsts = np.cumsum([0, *counts[:-1]])
        return np.asarray(phoneme_steps, dtype=np.int64)[firsts]
    starts = np.array([word.start for word in lyrics.words], dtype=np.float64)
    found = np.searchsorted(times.start, starts, side="right") - 1
    return np.clip(found, 0, max(times.n_steps - 1, 0)).astype(np.int64)


_PLACEMENTS = (("right", "bottom", -2, 1), ("left", "bottom", 2, 1), ("right", "top", -2, -1))
"""Where a word label may sit around its point (alignment, offset in points): above and to
the left (off the path, which runs up and to the right), above and to the right, below left."""


def _fits(box: Any, inside: Any, kept: list[Any]) -> bool:
    """Whether the display box ``box`` lies within ``inside`` and overlaps no box of ``kept``."""
    within = (
        box.x0 >= inside.x0 - 1
        and box.x1 <= inside.x1 + 1
        and box.y0 >= inside.y0 - 1
        and box.y1 <= inside.y1 + 1
    )
    return within and not any(box.overlaps(other) for other in kept[-12:])


def label_words(ax: Any, lyrics: LyricsTiming, steps: np.ndarray) -> int:
    """Write each word of ``lyrics`` at ``(its start, its step)`` on the attention axes ``ax``
    with a small dot, once the figure's layout is known; a word whose label would leave the
    axes or overlap a label already written is left out. Returns how many were written."""
    from matplotlib import patheffects

    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    edge = [patheffects.withStroke(linewidth=1.6, foreground="#1f2933")]
    kept: list[Any] = []
    points: list[tuple[float, float]] = []
    for word, step in zip(lyrics.words, steps.tolist(), strict=True):
        if not (left <= word.start <= right and bottom <= step <= top):
            continue
        for ha, va, dx, dy in _PLACEMENTS:
            label = ax.annotate(
                word.text,
                (word.start, step),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                path_effects=edge,
                annotation_clip=True,
                **WORD_LABEL_STYLE,
            )
            label.set_in_layout(False)
            box = label.get_window_extent(renderer)
            if _fits(box, inside, kept):
                kept.append(box)
                points.append((word.start, step))
                break
            label.remove()
    if points:
        x, y = zip(*points, strict=True)
        ax.plot(x, y, linestyle="none", marker="o", markersize=1.8, color="#ffffff", zorder=3)
    return len(kept)


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


def _zoom_steps(alignment: Alignment, start: float, end: float) -> tuple[float, float]:
    """The steps to show in a close-up of ``[start, end)`` seconds: from the first to the last
    step the step times (or the true alignment) put there, plus a margin."""
    times = alignment.step_times
    inside = np.flatnonzero((times.start < end) & (times.end >= start))
    if alignment.true_alignment is not None:
        real = true_times(alignment.true_alignment, alignment.hop_seconds)
        inside = np.union1d(inside, np.flatnonzero((real >= start) & (real < end)))
    steps = alignment.attention.shape[1]
    if not inside.size:
        return -0.5, steps - 0.5
    first, last = int(inside.min()), int(inside.max())
    margin = max(2, round(0.15 * (last - first)))
    return max(-0.5, first - margin), min(steps - 0.5, last + margin)


def has_close_up(alignment: Alignment, seconds: float = ZOOM_SECONDS) -> bool:
    """Whether the alignment figure gets a close-up: mixtures longer than twice ``seconds``."""
    return alignment.seconds > 2 * seconds


def close_up_start(alignment: Alignment, seconds: float = ZOOM_SECONDS) -> float:
    """Where the close-up of ``seconds`` starts: at 0, or with lyrics half a second before the
    first word was found (whole seconds), so that the close-up shows the first words."""
    if alignment.lyrics is None or not alignment.lyrics.words:
        return 0.0
    first = min(word.start for word in alignment.lyrics.words)
    return float(max(0.0, min(math.floor(first - 0.5), alignment.seconds - seconds)))


def close_up_title(start: float, seconds: float) -> str:
    """'close-up: first 5 s', or 'close-up: 7–12 s' for one that starts later."""
    if start <= 0:
        return f"close-up: first {seconds:g} s"
    return f"close-up: {start:g}\u2013{start + seconds:g} s"


def alignment_figure(alignment: Alignment, title: str, zoom: float = ZOOM_SECONDS) -> Figure:
    """The alignment figure: the side information (left strip, step on y), the attention over
    the whole mixture (time on x) with the step times as a thin line and the true alignment,
    where known, as a thin dashed line, and, for mixtures longer than twice ``zoom`` seconds, a
    close-up of ``zoom`` seconds (the first, or from where the first word was found:
    :func:`close_up_start`). A legend under the figure says what the strip's
    colours and the lines mean. Lyrics: the symbols in the strip and the words over the
    attention (see the module)."""
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
        start = close_up_start(alignment, zoom)
        colour_ax.set_xlim(start, start + zoom)
        colour_ax.set_ylim(*_zoom_steps(alignment, start, start + zoom))
        colour_ax.set_title(close_up_title(start, zoom), fontsize="medium")
    fig.colorbar(image, ax=colour_ax, label="attention weight", pad=0.02, fraction=0.05)
    handles += whole_ax.get_legend_handles_labels()[0]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles) if len(handles) <= 4 or close_up else math.ceil(len(handles) / 2),
        frameon=False,
        fontsize="small",
    )
    if is_symbolic(alignment) or alignment.lyrics is not None:
        _write_lyrics(fig, alignment, [strip_ax, whole_ax] + ([colour_ax] if close_up else []))
    return fig


def _write_lyrics(fig: Figure, alignment: Alignment, axes: list[Any]) -> None:
    """After the layout: the symbol names into the strip ``axes[0]`` (where they fit) and the
    words onto the attention panels ``axes[1:]``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    if is_symbolic(alignment):
        _write_symbol_names(axes[0], alignment)
    if alignment.lyrics is not None and alignment.lyrics.words:
        steps = word_steps(alignment.lyrics, alignment.side_info, alignment.step_times)
        for ax in axes[1:]:
            label_words(ax, alignment.lyrics, steps)


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
    "close_up_start",
    "close_up_title",
    "frame_energy_db",
    "has_close_up",
    "is_symbolic",
    "label_words",
    "plot_alignment",
    "plot_energy",
    "plot_spectrograms",
    "save_figure",
    "spectrogram_db",
    "step_path",
    "symbol_classes",
    "symbol_names",
    "true_times",
    "word_steps",
]
