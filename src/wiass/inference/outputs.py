"""What a separation writes beside its audio: the alignment files of a run's output folder.

The files and their fields are those of :mod:`wiass.runs` (``alignment.json`` with the step
times, ``alignment.npy``, ``side_info.npy``, ``true_alignment.npy`` where known,
``alignment_labels.txt`` for activity), plus ``alignment.png``, the alignment figure
(:func:`wiass.plots.plot_alignment`). ``wiass separate`` and ``wiass demo`` both write them with
:func:`write_alignment` from an :class:`~wiass.runs.Alignment` that
:func:`separation_alignment` builds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wiass.inference.step_times import StepTimes
from wiass.lyrics import LyricsTiming
from wiass.plots import plot_alignment
from wiass.runs import ALIGNMENT_FILES, Alignment
from wiass.runs import write_alignment as write_alignment_files
from wiass.separator import Separator
from wiass.sideinfo import SideInfo

AUDIO_OUTPUTS = ("vocals.wav", "accompaniment.wav")
ALIGNMENT_OUTPUTS = ("alignment.png", *ALIGNMENT_FILES)


def separation_alignment(
    separator: Separator,
    side_info: SideInfo,
    attention: np.ndarray,
    *,
    pool: int,
    seconds: float,
    step_times: StepTimes,
    mixture: str | None = None,
    lyrics: LyricsTiming | None = None,
) -> Alignment:
    """The :class:`~wiass.runs.Alignment` of a separation: ``attention (ceil(N / pool), M)``
    over ``side_info``, model frames pooled by ``pool``, a mixture of ``seconds``. The steps'
    nominal length is the side information's rate where it has one, else ``seconds / M``.
    ``lyrics``: the timed words and phonemes, for a separation with lyrics."""
    audio = separator.config.audio
    hop_seconds = audio.hop / audio.sample_rate
    nominal = side_info.rate * hop_seconds if side_info.rate else seconds / side_info.n_steps
    return Alignment(
        attention=np.asarray(attention, dtype=np.float32),
        side_info=side_info.values,
        kind=separator.side_info_kind,
        model_sample_rate=audio.sample_rate,
        hop=audio.hop,
        frame_pool=pool,
        seconds=seconds,
        step_times=step_times,
        true_alignment=side_info.alignment,
        step_seconds=nominal,
        mixture=mixture,
        lyrics=lyrics,
    )


def write_alignment(folder: Path, alignment: Alignment, title: str) -> list[Path]:
    """Write the alignment files and ``alignment.png`` (titled ``title``) into ``folder``;
    returns their paths, the figure first."""
    written = write_alignment_files(folder, alignment)
    return [plot_alignment(alignment, title, folder / "alignment.png"), *written]


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


__all__ = [
    "ALIGNMENT_OUTPUTS",
    "AUDIO_OUTPUTS",
    "remove_stale_alignment",
    "separation_alignment",
    "write_alignment",
]
