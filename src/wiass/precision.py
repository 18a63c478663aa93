"""Whether a device runs the model in bfloat16, found once per process.

Training (:func:`wiass.training.resolve_precision`) and separation
(:func:`inference_bf16`) both ask :func:`bf16_support`. A CPU's answer comes from running a tiny
bidirectional LSTM under ``torch.autocast("cpu", dtype=torch.bfloat16)``: oneDNN runs it on CPUs
with AVX512 and refuses it on AVX2-only ones (e.g. many AMD EPYC), so the choice is made by what
the machine does, never by its name or its flags.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import torch

from wiass.errors import ConfigError

BF16_PROBE_ENV = "WIASS_BF16_PROBE"
"""Environment variable that forces the bf16 probe's answer: ``pass`` or ``fail`` (for tests)."""

SEPARATION_PRECISIONS = ("auto", "32-true", "bf16-mixed")
"""What separation accepts: ``32-true`` (float32 throughout), ``bf16-mixed`` (the network under
bfloat16 autocast; STFT, masks and filtering stay float32) or ``auto`` (``bf16-mixed`` where
:func:`bf16_support` says the device runs it, else ``32-true``)."""


@dataclass(frozen=True)
class Bf16Support:
    """Whether a device runs the model in bfloat16, and why (one phrase)."""

    ok: bool
    reason: str


def bf16_support(device: str = "cpu") -> Bf16Support:
    """Whether ``device`` (``cpu``, ``cuda`` or ``mps``) runs the model in bfloat16.

    CUDA: a GPU that computes in bf16 natively (compute capability 8 or more, or ROCm). CPU: a
    tiny bidirectional LSTM takes one forward and backward step under ``torch.autocast("cpu",
    dtype=torch.bfloat16)`` (once per process); oneDNN refuses the bf16 LSTM on CPUs without
    AVX512 (e.g. AVX2-only ones). :data:`BF16_PROBE_ENV` forces the answer.
    """
    forced = os.environ.get(BF16_PROBE_ENV, "").strip().lower()
    if forced in ("pass", "fail"):
        return Bf16Support(forced == "pass", f"forced by {BF16_PROBE_ENV}={forced}")
    if device == "cuda":
        name = torch.cuda.get_device_name()
        if torch.cuda.is_bf16_supported(including_emulation=False):
            return Bf16Support(True, f"the GPU {name} computes in bf16")
        return Bf16Support(False, f"the GPU {name} computes bf16 only by emulation")
    if device == "mps":
        return Bf16Support(False, "wiass does not train in bf16 on Apple GPUs (MPS)")
    return _probe_cpu_bf16()


@functools.cache
def _probe_cpu_bf16() -> Bf16Support:
    """One training step of a tiny LSTM in bfloat16 on the CPU."""
    lstm = torch.nn.LSTM(4, 4, batch_first=True, bidirectional=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output, _ = lstm(torch.randn(2, 3, 4))
        output.float().sum().backward()
    except RuntimeError as exc:
        detail = str(exc).split(". ")[0].strip()
        return Bf16Support(False, f"this CPU cannot run a bf16 LSTM: {detail}")
    if output.dtype != torch.bfloat16:
        return Bf16Support(False, f"autocast ran the CPU LSTM in {output.dtype}, not bf16")
    return Bf16Support(True, "this CPU's oneDNN runs a bf16 LSTM")


def inference_bf16(precision: str, device: str | torch.device = "cpu") -> bool:
    """Whether separation with ``precision`` (one of :data:`SEPARATION_PRECISIONS`) runs the
    network in bfloat16 on ``device``; :class:`ConfigError` for an unknown precision or an
    explicit ``bf16-mixed`` that the device cannot run."""
    if precision not in SEPARATION_PRECISIONS:
        raise ConfigError(f"precision: expected one of {SEPARATION_PRECISIONS}, got {precision!r}")
    if precision == "32-true":
        return False
    support = bf16_support(torch.device(device).type)
    if precision == "bf16-mixed" and not support.ok:
        raise ConfigError(
            f"precision: bf16-mixed cannot run here: {support.reason}; use auto or 32-true"
        )
    return support.ok


__all__ = [
    "BF16_PROBE_ENV",
    "SEPARATION_PRECISIONS",
    "Bf16Support",
    "bf16_support",
    "inference_bf16",
]
