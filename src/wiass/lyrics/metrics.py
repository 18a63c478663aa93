"""Alignment accuracy as the lyrics-alignment field measures it (MIREX, Jamendo benchmark).

Per word, the absolute difference between the estimated and the reference onset (seconds);
over a song or a set, the mean and the median of those errors and the share of onsets within a
tolerance (0.3 s, the "percentage of correct onsets" of the Jamendo protocol).
"""

from __future__ import annotations

import math

import numpy as np

from wiass.errors import MetricsError
from wiass.lyrics.timing import LyricsTiming

ONSET_TOLERANCE_S = 0.3
"""Tolerance of the share of correct onsets (seconds)."""


def word_onset_errors(estimate: LyricsTiming, reference: LyricsTiming) -> np.ndarray:
    """Absolute onset error of each word (seconds), shape (words,); the two timings must hold
    the same number of words, matched in order (MetricsError otherwise)."""
    if len(estimate.words) != len(reference.words):
        raise MetricsError(
            f"word onsets: the estimate has {len(estimate.words)} words, the reference "
            f"{len(reference.words)}; both must time the same lyrics"
        )
    found = np.array([w.start for w in estimate.words], dtype=np.float64)
    truth = np.array([w.start for w in reference.words], dtype=np.float64)
    return np.abs(found - truth)


def onset_summary(
    errors: np.ndarray | list[float], tolerance: float = ONSET_TOLERANCE_S
) -> dict[str, float]:
    """``mean_abs_error_s``, ``median_abs_error_s``, ``share_within`` (fraction of errors
    ``<= tolerance``) and ``words`` (how many) of absolute onset ``errors`` (seconds); the first
    three are NaN when there are no errors."""
    values = np.abs(np.asarray(errors, dtype=np.float64)).ravel()
    if values.size == 0:
        return {
            "mean_abs_error_s": math.nan,
            "median_abs_error_s": math.nan,
            "share_within": math.nan,
            "words": 0,
        }
    return {
        "mean_abs_error_s": float(values.mean()),
        "median_abs_error_s": float(np.median(values)),
        "share_within": float(np.mean(values <= tolerance)),
        "words": int(values.size),
    }


__all__ = ["ONSET_TOLERANCE_S", "onset_summary", "word_onset_errors"]
