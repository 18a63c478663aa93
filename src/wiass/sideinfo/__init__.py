"""Side information: the kinds of DESIGN.md, their generation from the true target, user input.

Every kind yields a :class:`SideInfo`: ``values`` of shape ``(M, D)`` (float32) and, for kinds
generated from the true target, the true ``alignment``: for every step ``m`` the frame of the
excerpt it describes, or ``-1`` for a padding step. The model never sees the alignment; it is
the reference against which the learned attention is scored.

Kinds (see :data:`KINDS`):

* ``none`` (BL1): no side information, ``D = 0``, values of shape ``(0, 0)``.
* ``random`` (BL2): uniform noise in ``[0, 1)`` of a random length, ``D = 1``, no alignment.
* ``A1``: frame-aligned binary activity of the target (:func:`frame_activity`), ``M = N``.
* ``A2``: activity at a coarser time scale of ``r`` frames per step, ``M = ceil(N / r)``.
* ``A3.1``: A2 padded at both ends with steps taken from the activity just outside the excerpt.
* ``A3.2``: A3.1 with a random smooth monotonic time warp instead of a uniform rate.
* ``M1``: frame-aligned band features of the target (:func:`band_features`), ``D = bands``.
* ``M2``: M1 put through the A3.1 treatment.

One module per concern:

* :mod:`~wiass.sideinfo.kinds`: :class:`SideInfo`, :class:`SideInfoKind`, the registry
  (:data:`KINDS`, :func:`get_kind`, :func:`kind_dim`, :func:`check_params`), the limits;
* :mod:`~wiass.sideinfo.features`: what the kinds describe per frame of the target (activity,
  band features; :class:`TargetFeatures`);
* :mod:`~wiass.sideinfo.timeline`: where step ``m`` sits on the frame axis, in training and at
  separation (:class:`~wiass.sideinfo.timeline.Timeline`, :class:`StepMap`);
* :mod:`~wiass.sideinfo.generation`: side information from the true target (:func:`generate`,
  :func:`generate_from_features`, :func:`random_side_info`, :func:`whole_track_side_info`);
* :mod:`~wiass.sideinfo.resolve`: side information a user gives (:func:`resolve_side_info`, the
  one entry point for activity strings, arrays, text/CSV/``.npy`` files and Audacity labels).
"""

from wiass.sideinfo.features import (
    TargetFeatures,
    band_edges,
    band_features,
    band_matrix,
    band_power,
    energy_activity,
    frame_activity,
    frame_energy,
    power_features,
    target_features,
)
from wiass.sideinfo.generation import (
    drifted_side_info,
    generate,
    generate_from_features,
    random_side_info,
    whole_track_side_info,
)
from wiass.sideinfo.kinds import (
    BAND_FMIN_HZ,
    BAND_RANGE_DB,
    KINDS,
    MAX_STEPS,
    MAX_TEXT_BYTES,
    SideInfo,
    SideInfoKind,
    check_params,
    get_kind,
    kind_dim,
)
from wiass.sideinfo.resolve import (
    check_values,
    label_timing,
    labels_to_activity,
    parse_activity,
    read_labels,
    read_side_info,
    resolve_side_info,
)
from wiass.sideinfo.timeline import (
    StepMap,
    Timeline,
    coarse_frames,
    outside_frames,
    step_map,
    warped_frames,
)

__all__ = [
    "BAND_FMIN_HZ",
    "BAND_RANGE_DB",
    "KINDS",
    "MAX_STEPS",
    "MAX_TEXT_BYTES",
    "SideInfo",
    "SideInfoKind",
    "StepMap",
    "TargetFeatures",
    "Timeline",
    "band_edges",
    "band_features",
    "band_matrix",
    "band_power",
    "check_params",
    "check_values",
    "coarse_frames",
    "energy_activity",
    "frame_activity",
    "frame_energy",
    "generate",
    "generate_from_features",
    "get_kind",
    "kind_dim",
    "label_timing",
    "labels_to_activity",
    "outside_frames",
    "parse_activity",
    "power_features",
    "random_side_info",
    "read_labels",
    "read_side_info",
    "resolve_side_info",
    "step_map",
    "target_features",
    "warped_frames",
    "whole_track_side_info",
    "drifted_side_info",
]
