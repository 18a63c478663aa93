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
    spec = _frames_stft(flat, config, window, center=True)
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


def magnitude_in_blocks(
    audio: np.ndarray, config: STFTConfig, block_frames: int = 4096
) -> np.ndarray:
    """:func:`magnitude` of a long mono signal ``(samples,)`` as float32 ``(frames, freq)``,
    computed ``block_frames`` frames at a time, so that the complex STFT of the whole signal
    (twice the size of the result) never sits in memory. The frames are :func:`stft`'s: the
    signal is reflect-padded by ``n_fft // 2`` on each side once, as ``torch.stft`` pads it."""
    n_samples, half = audio.shape[-1], config.n_fft // 2
    n_frames = config.n_frames(n_samples)
    if n_samples <= half or n_frames <= block_frames:
        return magnitude(audio, config).numpy()
    padded = np.pad(np.asarray(audio, np.float32), half, mode="reflect")
    window = torch.hann_window(config.n_fft)
    result = np.empty((n_frames, config.n_bins), np.float32)
    for first in range(0, n_frames, block_frames):
        last = min(first + block_frames, n_frames)
        segment = torch.from_numpy(
            padded[first * config.hop : (last - 1) * config.hop + config.n_fft]
        )
        result[first:last] = _frames_stft(segment, config, window, center=False).abs().T.numpy()
    return result


def _frames_stft(
    signal: torch.Tensor, config: STFTConfig, window: torch.Tensor, *, center: bool
) -> torch.Tensor:
    """``torch.stft`` of ``signal (..., samples)`` as ``(..., freq, frames)``; ``center``: pad
    by ``n_fft // 2`` on each side (reflecting, or with zeros for a signal shorter than that)."""
    return torch.stft(
        signal,
        n_fft=config.n_fft,
        hop_length=config.hop,
        window=window,
        center=center,
        pad_mode="reflect" if signal.shape[-1] > config.n_fft // 2 else "constant",
        return_complex=True,
    )
