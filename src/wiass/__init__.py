"""wiass: weakly informed audio source separation.

Separate a target source (singing voice first) from a music mixture with the help of side
information that is not aligned with the audio; the model learns the alignment by attention
while it learns to separate.
"""

from typing import Any

from wiass.errors import WiassError

__version__ = "0.1.0"

__all__ = ["WiassError", "__version__", "load_separator", "separate"]

_LAZY = {"separate": "wiass.inference.api", "load_separator": "wiass.separator"}


def __getattr__(name: str) -> Any:
    """``separate`` and ``load_separator`` are imported on first use, so that ``import wiass``
    stays light (no torch)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'wiass' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
