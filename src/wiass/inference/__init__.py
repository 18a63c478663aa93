"""Separation with a :class:`~wiass.separator.Separator` over whole arrays and files.

One home per step: :mod:`~wiass.inference.chunks` (chunk planning that knows nothing of the
model), :mod:`~wiass.inference.inputs` (the device, lengths and whole-file side information for a
separator), :mod:`~wiass.inference.runner` (batches of chunks through the separator),
:mod:`~wiass.inference.attention` (the chunks' attention on the whole file),
:mod:`~wiass.inference.stream` (streaming resample, chunk, crossfade and join, in threads),
:mod:`~wiass.inference.step_times` (the alignment as times: each step's start, end, confidence),
:mod:`~wiass.inference.api` (the public :func:`separate`), :mod:`~wiass.inference.jobs` (what
``wiass separate`` runs on files) and :mod:`~wiass.inference.outputs` (its alignment files).
"""

from wiass.inference.api import SeparationResult, separate

__all__ = ["SeparationResult", "separate"]
