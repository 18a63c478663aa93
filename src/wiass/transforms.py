"""Time-frequency transforms in torch: STFT, inverse STFT and magnitudes.

Spectrogram layout for the model is ``(..., frames, freq)`` (N, F in the paper); complex STFTs
returned here use the same layout. Waveforms are ``(..., samples)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class STFTConfig:
    """STFT parameters. ``n_fft // 2 + 1`` frequency bins, one frame every ``hop`` samples."""

    n_fft: int = 1024
    hop: int = 256

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def n_frames(self, n_samples: int) -> int:
        """Number of STFT frames of a signal of ``n_samples`` (centred, reflect-padded)."""
        return n_samples // self.hop + 1


def _as_tensor(audio: torch.Tensor | np.ndarray) -> torch.Tensor:
    if isinstance(audio, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    return audio


def stft(audio: torch.Tensor | np.ndarray, config: STFTConfig) -> torch.Tensor:
    """Complex STFT of ``audio (..., samples)`` as ``(..., frames, freq)``."""
    x = _as_tensor(audio)
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    window = torch.hann_window(config.n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(
        flat,
        n_fft=config.n_fft,
        hop_length=config.hop,
        window=window,
        center=True,
        pad_mode="reflect" if flat.shape[-1] > config.n_fft // 2 else "constant",
        return_complex=True,
    )
    return spec.transpose(-1, -2).reshape(*lead, spec.shape[-1], spec.shape[-2])


def istft(spec: torch.Tensor, config: STFTConfig, length: int) -> torch.Tensor:
    """Inverse of :func:`stft`: ``(..., frames, freq)`` complex to ``(..., length)`` real."""
    lead = spec.shape[:-2]
    flat = spec.reshape(-1, spec.shape[-2], spec.shape[-1]).transpose(-1, -2)
    window = torch.hann_window(config.n_fft, device=spec.device, dtype=spec.real.dtype)
    audio = torch.istft(
        flat, n_fft=config.n_fft, hop_length=config.hop, window=window, center=True, length=length
    )
    return audio.reshape(*lead, length)


def magnitude(audio: torch.Tensor | np.ndarray, config: STFTConfig) -> torch.Tensor:
    """Magnitude spectrogram ``(..., frames, freq)`` of ``audio (..., samples)``."""
    return stft(audio, config).abs()
