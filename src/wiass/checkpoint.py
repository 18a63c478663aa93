"""Separator checkpoints: weights, the full config, the normalisation and the wiass version.

A wiass checkpoint is a ``torch.save`` of a plain dict (loadable with ``weights_only=True``)::

    {"format": "wiass-separator", "format_version": 1, "wiass_version": "0.1.0",
     "config": {...}, "n_bins": 513, "side_dim": 1, "state_dict": {...}}

The normalisation (per-bin mean and scale of the mixture magnitude) lives in the state dict as
the model's buffers. Lightning's ``.ckpt`` files written by ``wiass train`` carry the same dict
under the key ``"wiass"``, so :func:`load_separator` accepts both.

Shipped models: the small separators in ``wiass/pretrained`` are found by name (``BL1``,
``A3.1``, ``M2``); ``pretrained/models.json`` holds what the checkpoints do not (a description,
the training data and command), :func:`shipped_model_lines` describes them for ``wiass models``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from wiass import __version__
from wiass.config import Config
from wiass.errors import CheckpointError, WiassError
from wiass.files import atomic_path, write_error
from wiass.sideinfo import get_kind

FORMAT = "wiass-separator"
FORMAT_VERSION = 1
SHIPPED_METADATA = "models.json"


@dataclass
class Separator:
    """A trained separator ready for inference: the model and the config it was trained with."""

    model: Any  # wiass.model.InformedSeparator (imported lazily to keep this module light)
    config: Config
    source: str = "model"
    """Where the model came from (its checkpoint, or a shipped model's name), for messages."""

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
        try:
            torch.save(separator_payload(model, config), tmp)
        except (OSError, RuntimeError) as exc:
            raise write_error(Path(path), exc, probe=tmp) from exc


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
    """Restore a separator from a wiass checkpoint (``separator.pt`` or a training ``.ckpt``)
    or a shipped model's name (``BL1``, ``A3.1``, ``M2``; an existing file of that name wins).

    CheckpointError for a missing, foreign, damaged or incompatible checkpoint, and for one
    whose weights hold NaN or infinity."""
    from wiass.model import InformedSeparator

    checkpoint = resolve_checkpoint(path)
    data = _read_payload(checkpoint)
    try:
        config = Config.from_dict(data["config"], source=f"{checkpoint} (config)")
        model = InformedSeparator(int(data["n_bins"]), int(data["side_dim"]), config.model)
        model.load_state_dict(data["state_dict"])
    except WiassError:
        raise
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: damaged wiass checkpoint ({exc})") from exc
    _check_finite(model, checkpoint)
    model.eval()
    source = str(path) if checkpoint != Path(path) else str(checkpoint)
    return Separator(model=model.to(device), config=config, source=source)


def _check_finite(model: torch.nn.Module, checkpoint: Path) -> None:
    """CheckpointError naming the first weight or buffer that holds NaN or infinity."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(
                f"{checkpoint}: weight '{name}' holds {bad} non-finite value(s) (NaN or "
                "infinity); the checkpoint is damaged or its training diverged"
            )


# ---------------------------------------------------------------------------------------------
# Shipped models by name


@dataclass(frozen=True)
class ShippedModel:
    """A model shipped in ``wiass/pretrained``: its file and what ``models.json`` says of it."""

    name: str
    path: Path
    description: str
    data: str
    command: str


def shipped_models() -> dict[str, ShippedModel]:
    """The shipped models by name, in the order of ``pretrained/models.json``."""
    folder = Path(str(resources.files("wiass") / "pretrained"))
    meta = json.loads((folder / SHIPPED_METADATA).read_text(encoding="utf-8"))
    return {
        name: ShippedModel(
            name, folder / entry["file"], entry["description"], meta["data"], entry["command"]
        )
        for name, entry in meta["models"].items()
    }


def shipped_model_path(name: str) -> Path:
    """The checkpoint of the shipped model ``name``; CheckpointError listing the names."""
    models = shipped_models()
    for model in models.values():
        if model.name.lower() == name.lower():
            return model.path
    raise CheckpointError(f"'{name}': not a shipped model (shipped: {', '.join(models)})")


def resolve_checkpoint(model: str | os.PathLike[str]) -> Path:
    """The checkpoint file ``model`` names: an existing file, else the shipped model of that
    name; CheckpointError listing the shipped names when it is neither."""
    path = Path(model)
    if _is_file(path):
        return path
    names = {name.lower(): found for name, found in shipped_models().items()}
    if str(model).lower() in names:
        return names[str(model).lower()].path
    problem = "is a folder, not a checkpoint file" if path.is_dir() else "no such checkpoint file"
    raise CheckpointError(
        f"{path}: {problem}, nor the name of a shipped model "
        f"(shipped: {', '.join(shipped_models())}; see 'wiass models')"
    )


def _is_file(path: Path) -> bool:
    """Whether ``path`` names an existing file (False for names the OS cannot look up)."""
    try:
        return path.is_file()
    except OSError:
        return False


def side_info_rates(config: Config) -> str:
    """The side information a model was trained on, with its rates in frames per step."""
    kind = get_kind(config.side_info.kind)
    params = config.side_info
    frame_ms = 1000 * config.audio.hop / config.audio.sample_rate
    if kind.features == "nothing":
        return "none (no side-information encoder, no attention)"
    if kind.features == "noise":
        low, high = params.random_length_range
        return f"random noise of {low}-{high} steps, drawn by the model itself"
    if kind.timing == "aligned":
        return f"one step per frame ({frame_ms:g} ms)"
    low, high = params.rate_range
    text = f"one step per {low}-{high} frames ({low * frame_ms:g}-{high * frame_ms:g} ms)"
    if kind.timing in ("offset", "warped"):
        pad_low, pad_high = params.pad_range
        text += f", {pad_low}-{pad_high} extra steps at each end (unknown offset)"
    if kind.timing == "warped":
        text += f", time-warped (strength {params.warp_strength:g})"
    return text


def shipped_model_lines(names: list[str] | None = None) -> list[str]:
    """What ``wiass models`` prints: per shipped model (all, or those ``names``) its kind, the
    side-information rates it was trained on (from its stored config), its training data and
    command, and its size. CheckpointError listing the names for an unknown name."""
    models = shipped_models()
    paths = [shipped_model_path(name) for name in names] if names else None
    lines = []
    for shipped in models.values():
        if paths is not None and shipped.path not in paths:
            continue
        separator = load_separator(shipped.path)
        config = separator.config
        parameters = sum(p.numel() for p in separator.model.parameters())
        megabytes = shipped.path.stat().st_size / 1e6
        lines += [
            f"{shipped.name}: {shipped.description}",
            f"  kind: {config.side_info.kind}",
            f"  side information: {side_info_rates(config)}",
            f"  audio: {config.audio.sample_rate} Hz, {config.audio.n_fft}-point STFT, "
            f"hop {config.audio.hop}",
            f"  trained on: {shipped.data}",
            f"  command: {shipped.command}",
            f"  size: {parameters:,} parameters, {megabytes:.1f} MB ({shipped.path})",
            "",
        ]
    return lines[:-1]
