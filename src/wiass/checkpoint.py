"""Separator checkpoints: weights, the full config, the normalisation and the wiass version.

A wiass checkpoint is a ``torch.save`` of a plain dict (loadable with ``weights_only=True``)::

    {"format": "wiass-separator", "format_version": 1, "wiass_version": "0.1.0",
     "config": {...}, "n_bins": 513, "side_dim": 1, "state_dict": {...}}

The normalisation (per-bin mean and scale of the mixture magnitude) lives in the state dict as
the model's buffers. Lightning's ``.ckpt`` files written by ``wiass train`` carry the same dict
under the key ``"wiass"``, so :func:`load_separator` accepts both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from wiass import __version__
from wiass.config import Config
from wiass.errors import CheckpointError, WiassError
from wiass.files import atomic_path

FORMAT = "wiass-separator"
FORMAT_VERSION = 1


@dataclass
class Separator:
    """A trained separator ready for inference: the model and the config it was trained with."""

    model: Any  # wiass.model.InformedSeparator (imported lazily to keep this module light)
    config: Config

    @property
    def side_info_kind(self) -> str:
        return self.config.side_info.kind

    @property
    def sample_rate(self) -> int:
        return self.config.audio.sample_rate


def separator_payload(model: torch.nn.Module, config: Config) -> dict[str, Any]:
    """The checkpoint dict for ``model`` trained with ``config``."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "wiass_version": __version__,
        "config": config.to_dict(),
        "n_bins": int(model.n_bins),
        "side_dim": int(model.side_dim),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def save_separator(path: str | os.PathLike[str], model: torch.nn.Module, config: Config) -> None:
    """Write a wiass checkpoint of ``model`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(separator_payload(model, config), tmp)


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a wiass checkpoint (cannot be read by torch)") from exc
    if isinstance(data, dict) and "wiass" in data and isinstance(data["wiass"], dict):
        data = data["wiass"]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a wiass checkpoint")
    if data.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {data.get('format_version')} was written by wiass "
            f"{data.get('wiass_version')}; this wiass {__version__} reads format {FORMAT_VERSION}"
        )
    return data


def load_separator(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Separator:
    """Restore a separator from a wiass checkpoint (``separator.pt`` or a training ``.ckpt``)."""
    from wiass.model import InformedSeparator

    checkpoint = Path(path)
    data = _read_payload(checkpoint)
    try:
        config = Config.from_dict(data["config"], source=f"{checkpoint} (config)")
        model = InformedSeparator(int(data["n_bins"]), int(data["side_dim"]), config.model)
        model.load_state_dict(data["state_dict"])
    except WiassError:
        raise
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: damaged wiass checkpoint ({exc})") from exc
    model.eval()
    return Separator(model=model.to(device), config=config)
