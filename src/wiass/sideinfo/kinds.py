"""The side-information kinds of DESIGN.md, their registry, and the :class:`SideInfo` they yield.

A kind is named by a string (``"A3.1"``, case-insensitive on lookup) and described by a
:class:`SideInfoKind`: what each step holds (:data:`Features`) and how the steps sit on the
frames (:data:`Timing`). Both are closed sets of strings, typed as ``Literal`` so that a type
checker catches a misspelt value while the strings stay what configs and checkpoints store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from wiass.config import SideInfoConfig
from wiass.errors import ConfigError, SideInfoError
from wiass.files import MAX_TEXT_BYTES
from wiass.lyrics.symbols import SYMBOLS

MAX_STEPS = 100_000
"""Longest side information accepted from a user (steps)."""


BAND_FMIN_HZ = 50.0
"""Lower edge of the lowest band of M1/M2; the highest band ends at the Nyquist frequency."""

BAND_RANGE_DB = 80.0
"""Dynamic range of the band features: ``[max - 80 dB, max]`` maps onto ``[0, 1]``."""

Features = Literal["nothing", "noise", "activity", "bands", "symbols"]
"""What each step holds: nothing (BL1), noise (BL2), binary activity, band features, or the
index of a symbol (a phoneme, a pause or a word boundary: :mod:`wiass.lyrics.symbols`)."""

Timing = Literal["unrelated", "aligned", "coarse", "offset", "warped", "spoken"]
"""How steps sit on the frames: unrelated to them, one step per frame, ``r`` frames per step,
coarse and padded from the context (unknown offset), time-warped and padded, or each step as
long as the sound it names (lyrics: a phoneme lasts as long as it is sung) and padded."""

PADDED_TIMINGS: tuple[Timing, ...] = ("offset", "warped", "spoken")
"""Timings whose steps are padded at both ends in training (A3.x, M2, phonemes)."""


@dataclass
class SideInfo:
    """Side information for one excerpt or file.

    ``values``: ``(M, D)`` float32 (for ``phonemes``, ``D = 1`` and each value is a symbol's
    index in :data:`wiass.lyrics.symbols.SYMBOLS`). ``alignment``: ``(M,)`` int64, the
    excerpt frame each step describes or -1 for padding; None when unknown (user input,
    ``random``, ``none``).
    ``kind``: the kind's name. ``rate``: frames per step (the mean for A3.2) where known.
    ``lyrics``: for ``phonemes`` from a lyrics text, the :class:`wiass.lyrics.Lyrics` whose
    symbols the steps are (so that step times become word times).
    """

    values: np.ndarray
    alignment: np.ndarray | None
    kind: str
    rate: float | None = None
    lyrics: Any = None

    @property
    def n_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True)
class SideInfoKind:
    """One kind of side information.

    ``features``: what each step holds (:data:`Features`). ``timing``: how the steps sit on the
    frames (:data:`Timing`). ``generated``: the values are derived from the true target (so a
    user can give them too). ``has_alignment``: :func:`~wiass.sideinfo.generate` returns a true
    alignment.
    """

    name: str
    description: str
    features: Features
    timing: Timing
    generated: bool
    has_alignment: bool

    def dim(self, params: SideInfoConfig) -> int:
        """Number of values per step (D) under ``params``."""
        return {"nothing": 0, "noise": 1, "activity": 1, "bands": params.bands, "symbols": 1}[
            self.features
        ]

    @property
    def symbols(self) -> int:
        """Size of the symbol vocabulary the model embeds (0: the values are fed as they are)."""
        return len(SYMBOLS) if self.features == "symbols" else 0

    @property
    def informative(self) -> bool:
        """Whether the side information says something of the target (not BL1's nothing or
        BL2's noise), so that a user gives it at separation time."""
        return self.features in ("activity", "bands", "symbols")

    @property
    def binary(self) -> bool:
        """Whether every value is 0 or 1."""
        return self.features == "activity"

    @property
    def padded(self) -> bool:
        """Whether training pads the steps at both ends (timing ``offset`` or ``warped``)."""
        return self.timing in PADDED_TIMINGS


_KIND_TABLE: tuple[tuple[str, str, Features, Timing], ...] = (
    ("none", "BL1: no side information, no attention", "nothing", "unrelated"),
    ("random", "BL2: uniform noise of a random length", "noise", "unrelated"),
    ("A1", "frame-aligned binary activity", "activity", "aligned"),
    ("A2", "binary activity at a coarser time scale", "activity", "coarse"),
    ("A3.1", "coarse activity at an unknown offset (padded from context)", "activity", "offset"),
    ("A3.2", "A3.1 with a smooth monotonic time warp", "activity", "warped"),
    ("M1", "frame-aligned log band magnitudes", "bands", "aligned"),
    ("M2", "M1 at a coarser time scale and an unknown offset", "bands", "offset"),
    ("phonemes", "the lyrics as ARPAbet phonemes, pauses and word boundaries", "symbols", "spoken"),
)

KINDS: dict[str, SideInfoKind] = {
    name: SideInfoKind(
        name,
        description,
        features,
        timing,
        generated=features in ("activity", "bands"),
        has_alignment=features in ("activity", "bands", "symbols"),
    )
    for name, description, features, timing in _KIND_TABLE
}
"""The side-information kinds by name, in the order of DESIGN.md."""


def get_kind(name: str | SideInfoKind) -> SideInfoKind:
    """The kind called ``name`` (case-insensitive; a kind is returned as it is);
    SideInfoError listing the known names."""
    if isinstance(name, SideInfoKind):
        return name
    for kind in KINDS.values():
        if kind.name.lower() == str(name).lower():
            return kind
    raise SideInfoError(f"unknown side-information kind '{name}' (known: {', '.join(KINDS)})")


def kind_dim(kind: str | SideInfoKind, params: SideInfoConfig) -> int:
    """Values per step (D) of ``kind``; 0 for ``none``, which the model treats as BL1."""
    return get_kind(kind).dim(params)


def check_params(params: SideInfoConfig) -> None:
    """Raise ConfigError when the generation parameters cannot be used."""
    ranges = {
        "rate_range": (params.rate_range, 1),
        "pad_range": (params.pad_range, 0),
        "random_length_range": (params.random_length_range, 1),
    }
    for name, ((low, high), minimum) in ranges.items():
        if low < minimum or high < low:
            raise ConfigError(
                f"side_info.{name}: expected {minimum} <= low <= high, got ({low}, {high})"
            )
    if params.bands < 1:
        raise ConfigError(f"side_info.bands: expected at least 1, got {params.bands}")
    if not (math.isfinite(params.warp_strength) and params.warp_strength >= 0):
        raise ConfigError(f"side_info.warp_strength: expected >= 0, got {params.warp_strength}")
    if not (math.isfinite(params.activity_threshold_db) and params.activity_threshold_db > 0):
        raise ConfigError(
            f"side_info.activity_threshold_db: expected > 0, got {params.activity_threshold_db}"
        )


__all__ = [
    "BAND_FMIN_HZ",
    "BAND_RANGE_DB",
    "KINDS",
    "MAX_STEPS",
    "MAX_TEXT_BYTES",
    "PADDED_TIMINGS",
    "Features",
    "SideInfo",
    "SideInfoKind",
    "Timing",
    "check_params",
    "get_kind",
    "kind_dim",
]
