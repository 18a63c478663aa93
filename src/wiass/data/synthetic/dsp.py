"""Small signal helpers shared by the voice and the instruments.

Pitch to frequency, constant-power panning, RMS of the sounding part, band-limited noise and
band-limited wavetable oscillators. Everything is float64 numpy; mono signals are ``(samples,)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import signal

_TABLE_SIZE = 2048
"""Points per cycle of an oscillator's wavetable."""


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a smooth cubic in between."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    """Frequency (Hz) of a (fractional) MIDI pitch; 69 is A4 = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of ``(samples,)`` to ``(2, samples)``; position in [-1, 1]."""
    angle = (position + 1.0) * math.pi / 4.0
    return np.stack([math.cos(angle) * mono, math.sin(angle) * mono])


def rms(x: np.ndarray) -> float:
    """RMS over the non-zero samples of ``x`` (0 when all are zero)."""
    active = x[x != 0.0]
    return float(np.sqrt(np.mean(active**2))) if active.size else 0.0


@functools.lru_cache(maxsize=256)
def band_sos(low: float, high: float, sample_rate: int, order: int = 2) -> np.ndarray:
    """Butterworth band-pass (high-pass when ``high`` reaches the top) as SOS."""
    top = 0.45 * sample_rate
    high = min(high, top)
    low = min(low, 0.6 * high)
    if high >= top:
        return signal.butter(order, low, btype="highpass", fs=sample_rate, output="sos")
    return signal.butter(order, [low, high], btype="bandpass", fs=sample_rate, output="sos")


def filtered_noise(
    rng: np.random.Generator, n: int, low: float, high: float, sample_rate: int
) -> np.ndarray:
    """``n`` samples of band-limited noise with unit RMS."""
    noise = signal.sosfilt(band_sos(low, high, sample_rate), rng.standard_normal(n))
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


@functools.lru_cache(maxsize=128)
def _wavetable(exponent: float, harmonics: int) -> np.ndarray:
    """One cycle (``_TABLE_SIZE + 1`` points, last = first) of sum_k k**-exponent sin(2 pi k x)."""
    x = np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE
    k = np.arange(1, harmonics + 1)[:, None]
    table = np.sum(k ** (-exponent) * np.sin(2 * np.pi * k * x), axis=0)
    return table / np.max(np.abs(table))


def oscillator(
    exponent: float, max_harmonics: int, freq: float, n: int, sample_rate: int, phase: float
) -> np.ndarray:
    """A band-limited wavetable tone of ``n`` samples at ``freq`` Hz (no harmonic above 0.45 fs)."""
    harmonics = max(1, min(max_harmonics, int(0.45 * sample_rate / freq)))
    table = _wavetable(exponent, harmonics)
    x = (phase + freq * np.arange(n) / sample_rate) % 1.0
    return np.interp(x * _TABLE_SIZE, np.arange(_TABLE_SIZE + 1), table)
