"""The separator a user loads: an ``nn.Module`` from mixture waveforms to vocals waveforms.

:class:`Separator` holds the network (:class:`~wiass.model.InformedSeparator`), the config it
was trained with and so its STFT; its :meth:`~Separator.forward` is the whole separation of a
batch of equal-length excerpts (as Open-Unmix's ``model.Separator``)::

    audio (B, C, T) ──STFT──► spec (B, C, N, F) ──mean over C, |.|──► mono magnitude (B, N, F)
        ──network (+ side information)──► estimate (B, N, F), attention (B, N, M)
        mask = estimate / mono magnitude, clipped to [0, 1]
        vocals spec = mask x every channel's spec  (or multichannel Wiener filtering, norbert)
        ──inverse STFT──► vocals (B, C, T)

For ``output="mask"`` models the estimate is the sigmoid mask times the mono magnitude, so the
ratio gives back the model's own mask; for ``output="magnitude"`` models it is the ratio mask of
the estimate. Chunking long files, side information over a whole file and resampling live in
:mod:`wiass.inference`.

A wiass checkpoint is a ``torch.save`` of a plain dict (loadable with ``weights_only=True``)::

    {"format": "wiass-separator", "format_version": 1, "wiass_version": "0.1.0",
     "config": {...}, "n_bins": 513, "side_dim": 1, "state_dict": {...}}

The normalisation (per-bin mean and scale of the mixture magnitude) lives in the state dict as
the network's buffers. Lightning's ``.ckpt`` files written by ``wiass train`` carry the same
dict under the key ``"wiass"``, so :func:`load_separator` accepts both.

Shipped models: the small separators in ``wiass/pretrained`` are found by name (``BL1``,
``A3.1``, ``M2``); ``pretrained/models.json`` holds what the checkpoints do not (a description,
the training data and command), :func:`shipped_model_lines` describes them for ``wiass models``.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from wiass import __version__
from wiass.config import Config
from wiass.errors import CheckpointError, WiassError
from wiass.files import atomic_path, write_error
from wiass.model import InformedSeparator
from wiass.sideinfo import SideInfoKind, get_kind, kind_dim
from wiass.transforms import STFTConfig, istft, stft

FORMAT = "wiass-separator"
FORMAT_VERSION = 1
SHIPPED_METADATA = "models.json"


class NonFiniteOutputError(CheckpointError):
    """The network gave NaN or infinity: the weights cannot separate this input."""


def build_model(config: Config) -> InformedSeparator:
    """The network that ``config`` describes (BL1 when the side-information kind is ``none``)."""
    side_dim = kind_dim(config.side_info.kind, config.side_info)
    symbols = get_kind(config.side_info.kind).symbols
    return InformedSeparator(config.audio.stft.n_bins, side_dim, config.model, symbols)


class Separator(nn.Module):
    """A trained separator: the network, the config it was trained with, and where it came
    from (``source``: its checkpoint, or a shipped model's name, for messages)."""

    def __init__(self, model: InformedSeparator, config: Config, source: str = "model") -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.source = source

    @property
    def stft(self) -> STFTConfig:
        return self.config.audio.stft

    @property
    def side_info_kind(self) -> str:
        return self.config.side_info.kind

    @property
    def kind(self) -> SideInfoKind:
        """The side-information kind the network was trained on."""
        return get_kind(self.config.side_info.kind)

    @property
    def sample_rate(self) -> int:
        return self.config.audio.sample_rate

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def forward(
        self,
        audio: torch.Tensor,
        side_info: torch.Tensor | None = None,
        side_mask: torch.Tensor | None = None,
        wiener: bool = False,
        bf16: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Vocals ``(B, C, T)`` of mixtures ``audio (B, C, T)`` at :attr:`sample_rate`, and the
        attention ``(B, N, M)`` over ``side_info (B, M, D)`` (None for BL1).

        ``side_mask (B, M)`` bool, True = real step (None: no padding). ``wiener``:
        multichannel Wiener filtering instead of plain masking. ``bf16``: the network runs
        under bfloat16 autocast (as it trained under ``bf16-mixed``; ask
        :func:`wiass.precision.inference_bf16` whether the device can), everything else in
        float32. Call in eval mode (as :func:`load_separator` returns it).
        NonFiniteOutputError when the network gives NaN or infinity."""
        spec = stft(audio, self.stft)
        mono = spec.mean(dim=1).abs()
        with torch.autocast(audio.device.type, dtype=torch.bfloat16, enabled=bf16):
            estimate, alpha = self.model(mono, side_info, side_mask)
        estimate = estimate.float()
        alpha = None if alpha is None else alpha.float()
        self._check_finite(estimate, alpha)
        mask = ratio_mask(estimate, mono)
        vocals = wiener_filter(spec, mask) if wiener else spec.mul_(mask[:, None])
        return istft(vocals, self.stft, audio.shape[-1]), alpha

    def _check_finite(self, estimate: torch.Tensor, alpha: torch.Tensor | None) -> None:
        finite = bool(torch.isfinite(estimate).all())
        if finite and (alpha is None or bool(torch.isfinite(alpha).all())):
            return
        raise NonFiniteOutputError(
            f"{self.source}: the model gave non-finite output (NaN or infinity); it cannot "
            "separate this audio"
        )


def ratio_mask(estimate: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """``estimate / mixture`` clipped to [0, 1], 0 where the mixture magnitude is 0; both
    ``(B, N, F)``."""
    return torch.where(mixture > 0, estimate / mixture.clamp_min(1e-20), 0.0).clamp(0.0, 1.0)


def wiener_filter(spec: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Vocals STFT ``(B, C, N, F)`` by multichannel Wiener filtering (norbert, one EM
    iteration) of the mixture ``spec (B, C, N, F)``, from the per-channel magnitude estimates
    ``mask * |spec|`` (vocals) and ``(1 - mask) * |spec|`` (accompaniment), ``mask (B, N, F)``."""
    with warnings.catch_warnings():  # norbert 0.2.1 imports a deprecated scipy namespace
        warnings.simplefilter("ignore", DeprecationWarning)
        import norbert

    out = torch.empty_like(spec)
    for row in range(spec.shape[0]):
        mix = np.ascontiguousarray(spec[row].permute(1, 2, 0).cpu().numpy())
        magnitude = np.abs(mix)
        gain = mask[row].cpu().numpy()[..., None]
        estimates = np.stack([gain * magnitude, (1.0 - gain) * magnitude], axis=-1)
        sources = norbert.wiener(estimates, mix, iterations=1, use_softmask=False)
        vocals = np.ascontiguousarray(sources[..., 0].transpose(2, 0, 1), dtype=np.complex64)
        out[row] = torch.from_numpy(vocals)
    return out


# ---------------------------------------------------------------------------------------------
# Checkpoints


def separator_payload(model: InformedSeparator, config: Config) -> dict[str, Any]:
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


def save_separator(path: str | os.PathLike[str], model: InformedSeparator, config: Config) -> None:
    """Write a wiass checkpoint of ``model`` (the network) trained with ``config`` atomically."""
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


def _restore(data: dict[str, Any], checkpoint: Path) -> tuple[InformedSeparator, Config]:
    """The network and config of a checkpoint dict; CheckpointError when they do not fit."""
    try:
        config = Config.from_dict(data["config"], source=f"{checkpoint} (config)")
        model = build_model(config)
        stored = (int(data["n_bins"]), int(data["side_dim"]))
        if stored != (model.n_bins, model.side_dim):
            raise CheckpointError(
                f"{checkpoint}: damaged wiass checkpoint (n_bins, side_dim {stored} do not fit "
                f"its config's {(model.n_bins, model.side_dim)})"
            )
        model.load_state_dict(data["state_dict"])
    except WiassError:
        raise
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: damaged wiass checkpoint ({exc})") from exc
    return model, config


def load_separator(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Separator:
    """Restore a separator, in eval mode on ``device``, from a wiass checkpoint
    (``separator.pt`` or a training ``.ckpt``) or a shipped model's name (``BL1``, ``A3.1``,
    ``M2``; an existing file of that name wins).

    CheckpointError for a missing, foreign, damaged or incompatible checkpoint, and for one
    whose weights hold NaN or infinity."""
    checkpoint = resolve_checkpoint(path)
    model, config = _restore(_read_payload(checkpoint), checkpoint)
    _check_finite_weights(model, checkpoint)
    source = str(path) if checkpoint != Path(path) else str(checkpoint)
    return Separator(model, config, source).to(device).eval()


def _check_finite_weights(model: nn.Module, checkpoint: Path) -> None:
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
    if kind.features == "symbols":
        return (
            "lyrics as text: one step per phoneme, pause or word boundary, no timing "
            "(aligned over the whole song by the model's symbol recogniser)"
        )
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


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "NonFiniteOutputError",
    "Separator",
    "ShippedModel",
    "build_model",
    "load_separator",
    "ratio_mask",
    "resolve_checkpoint",
    "save_separator",
    "separator_payload",
    "shipped_model_lines",
    "shipped_model_path",
    "shipped_models",
    "side_info_rates",
]
