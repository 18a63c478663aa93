"""Separation metrics: BSSEval v4 (museval-compatible numbers), PES, EPS and their aggregation.

Layouts
-------
The low-level functions use museval's layout, samples first:

* :func:`pes_eps` takes one source as ``(samples,)`` (mono) or ``(samples, channels)``;
* :func:`bss_eval_v4` takes all sources at once as ``(sources, samples, channels)``, or
  ``(sources, samples)`` for mono sources (exactly like ``numpy.atleast_3d`` in museval).

:func:`evaluate_track` is the wiass-facing entry point: it takes dicts of waveforms in the wiass
layout ``(channels, samples)`` (or ``(samples,)``) and converts at the boundary.

Definitions
-----------
* BSSEval v4 (Vincent et al. 2006; Liutkus et al. 2018), as computed by ``museval.evaluate(...,
  mode="v4")``: the estimate of source j is projected onto the span of the 512-tap delayed
  versions of (a) every channel of source j and (b) every channel of every reference source,
  with *one* set of distortion filters for the whole signal. Per frame, with ``s`` the true
  source image, ``P_j`` and ``P`` the two projections of the frame's references and ``e`` the
  estimate (all zero-padded by 511 samples, all channels together)::

      SDR = 10 log10 |s|^2 / |e - s|^2        ISR = 10 log10 |s|^2 / |P_j - s|^2
      SIR = 10 log10 |P_j|^2 / |P - P_j|^2    SAR = 10 log10 |P|^2 / |e - P|^2

  A frame is NaN for every source when, in that frame, any reference or any estimate is
  silent. museval calls a source silent when the sum over its channels is exactly zero at
  every sample (the same as "all samples zero" unless channels cancel exactly).
* PES (Predicted Energy at Silence): on each frame where the reference is silent (every sample
  of every channel exactly zero), the energy of the estimate in dB, ``10 log10(sum e^2 + 1e-12)``.
* EPS (Energy at Predicted Silence): on each frame where the estimate is silent, the energy of
  the reference in dB (also on frames where both are silent, -120 dB, unless
  ``eps_for_silent_target=False``, which reproduces the paper).

Aggregation (SiSEC convention): per track and target the median over frames of SDR/ISR/SIR/SAR
ignoring NaN frames and the mean of the PES/EPS values; over tracks the median and the mean of
those per-track values (see :func:`aggregate`).
"""

from __future__ import annotations

from wiass.metrics.bsseval import (
    BSS_METRICS,
    FILTERS_LEN,
    BssEvalScores,
    IllConditionedWarning,
    bss_eval_v4,
)
from wiass.metrics.silence import (
    ENERGY_FLOOR,
    SILENCE_METRICS,
    SilentFrameScores,
    energy_db,
    frame_count,
    pes_eps,
)
from wiass.metrics.tracks import TargetScores, TrackScores, aggregate, evaluate_track

__all__ = [
    "BSS_METRICS",
    "ENERGY_FLOOR",
    "FILTERS_LEN",
    "SILENCE_METRICS",
    "BssEvalScores",
    "IllConditionedWarning",
    "SilentFrameScores",
    "TargetScores",
    "TrackScores",
    "aggregate",
    "bss_eval_v4",
    "energy_db",
    "evaluate_track",
    "frame_count",
    "pes_eps",
]
