"""The informed separator: encoders, bilinear attention over side information, decoder.

Shapes follow the paper: the mixture magnitude is ``(B, N, F)`` (N frames, F bins), the side
information ``(B, M, D)`` (M steps of D values, not aligned with the frames), the side mask
``(B, M)`` bool (True = real step, False = padding; real steps come first), the attention
``alpha`` is ``(B, N, M)``.

Architecture (sizes from :class:`~wiass.config.ModelConfig`; every "hidden size" is per
direction, so a BLSTM's output has twice as many features)::

    g = BLSTM_mix(normalise(mix))           (B, N, 2H)  mixture encoding g_n, H = hidden_size
    h = BLSTM_side(side_info)                (B, M, 2S)  side encoding h_m, S = side_hidden_size
                                                         (symbols: BLSTM_side(Embed(side_info)))
    alpha = softmax_m(g_n . W . h_m          (B, N, M)   W: (2H, 2S); padding gets exactly 0
                      + phi(p_n) . P . phi(q_m))          optional position term, see below
    c = alpha @ h                            (B, N, 2S)  context per frame
    q = tanh(Linear([c ; g]))                (B, N, A)   A = attention_size
    estimate = out(Linear(BLSTM_dec(q)))     (B, N, F)   decoder hidden size H

With the paper preset (F = 513, every size 513, two layers per LSTM) that is 32.16 M parameters.
Position term (``position_frequencies`` K > 0; not in the paper): ``p_n = (n + 1/2) / N`` and
``q_m = (m + 1/2) / L`` place frame n and step m on [0, 1] (L: the example's real steps),
``phi(x) = [cos(pi k x), sin(pi k x)]_{k=1..K}`` and P ``(2K, 2K)`` is learned, initialised to
``position_prior * I``, which makes the term ``position_prior * sum_k cos(pi k (p_n - q_m))``: a
peak of width about 1/K on the diagonal. Weak side information covers roughly the span of the
audio it comes with (in training the excerpt plus some padding; at separation time each chunk's
window), so the attention starts near the diagonal and the separation loss only has to refine
it; with content-only scores the attention of the small preset stays spread out or collapses
onto fixed steps within its training budget (``benchmarks/results/README.md``).

``output="mask"`` (default): sigmoid mask times the raw mixture magnitude, so the estimate never
exceeds the mixture. ``output="clamped_mask"``: the mask is ``clamp(x + 1/2, 0, 1)``, bounded by
the mixture like the sigmoid mask but able to reach exactly 0 (silence) and 1; a sigmoid mask
stays 40-70 dB above silence on silent parts, which is what PES measures.
``output="magnitude"`` (the paper's choice): ReLU of the last layer, which can predict exact
silence but, like any ReLU output under an L1 loss on sparse targets, can collapse to all zeros
early in training. BL1 (``side_dim == 0``)
has no side encoder and no attention (``q = tanh(Linear(g))``, same decoder); BL2 is the complete
model fed random side information.

Speed: both attention projections act on the M side steps rather than the N frames
(``g.W.h = g.(W h)`` and ``Linear([c ; g]) = alpha @ (h Wc) + g Wg + b``): the same function
with less work and no ``(B, N, 2S + 2H)`` concatenation. The side encoder runs each direction
of each layer as a plain LSTM, over the sequence (forward) and over each example's own steps
reversed (backward), so padding never reaches a real step's encoding, and CPU runs keep oneDNN's
fast LSTM kernels (``pack_padded_sequence`` falls back to a kernel about 3x slower on CPU).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from wiass.config import ModelConfig
from wiass.errors import ConfigError, SideInfoError

OUTPUT_MODES = ("mask", "clamped_mask", "magnitude")


def _check_config(n_bins: int, side_dim: int, config: ModelConfig) -> None:
    if n_bins < 1:
        raise ConfigError(f"model: n_bins must be positive, got {n_bins}")
    if side_dim < 0:
        raise ConfigError(f"model: side_dim must be >= 0, got {side_dim}")
    if config.output not in OUTPUT_MODES:
        raise ConfigError(f"model.output: expected one of {OUTPUT_MODES}, got {config.output!r}")
    for name in ("hidden_size", "side_hidden_size", "attention_size"):
        if getattr(config, name) < 1:
            raise ConfigError(f"model.{name}: must be positive, got {getattr(config, name)}")
    if config.position_frequencies < 0:
        raise ConfigError(
            f"model.position_frequencies: must be >= 0, got {config.position_frequencies}"
        )
    for name in ("mix_layers", "side_layers", "decoder_layers"):
        if getattr(config, name) < 1:
            raise ConfigError(f"model.{name}: must be at least 1, got {getattr(config, name)}")
    if not 0.0 <= config.dropout < 1.0:
        raise ConfigError(f"model.dropout: must be in [0, 1), got {config.dropout}")


def _blstm(input_size: int, hidden_size: int, layers: int, dropout: float) -> nn.LSTM:
    """A batch-first bidirectional LSTM stack (dropout between layers, if there are several)."""
    return nn.LSTM(
        input_size,
        hidden_size,
        num_layers=layers,
        bidirectional=True,
        batch_first=True,
        dropout=dropout if layers > 1 else 0.0,
    )


def reverse_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Time index ``(B, steps)`` that reverses each example's first ``lengths[b]`` steps.

    Padding steps (``t >= lengths[b]``) stay where they are, so applying the index twice is
    the identity.
    """
    time = torch.arange(steps, device=lengths.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    return torch.where(time < lengths, lengths - 1 - time, time)


def masked_softmax(scores: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Softmax of ``scores (B, N, M)`` over the first ``lengths[b]`` steps; later steps get
    exactly 0, and an example with no real step gets all zeros (no NaN)."""
    if lengths is None:
        return torch.softmax(scores, dim=-1)
    empty = lengths == 0
    steps = torch.arange(scores.shape[-1], device=scores.device)
    keep = (steps.unsqueeze(0) < lengths.unsqueeze(1)) | empty.unsqueeze(1)
    alpha = torch.softmax(scores.masked_fill(~keep.unsqueeze(1), -math.inf), dim=-1)
    if bool(empty.any()):
        alpha = alpha.masked_fill(empty.view(-1, 1, 1), 0.0)
    return alpha


class SideEncoder(nn.Module):
    """Bidirectional LSTM stack that reads every example only up to its own length.

    The forward direction reads ``(B, M, D)`` as is (trailing padding comes after every real
    step); the backward direction reads each example's real steps reversed, padding last. The
    output ``(B, M, 2 * hidden_size)`` of a real step therefore never depends on padding.
    Parameters equal those of ``nn.LSTM(bidirectional=True)`` of the same sizes.
    """

    def __init__(self, input_size: int, hidden_size: int, layers: int, dropout: float) -> None:
        super().__init__()
        sizes = [input_size] + [2 * hidden_size] * (layers - 1)
        self.forward_layers = nn.ModuleList(
            nn.LSTM(s, hidden_size, batch_first=True) for s in sizes
        )
        self.backward_layers = nn.ModuleList(
            nn.LSTM(s, hidden_size, batch_first=True) for s in sizes
        )
        self.dropout = dropout

    def forward(self, side_info: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Encode ``side_info (B, M, D)``; ``lengths (B,)`` real steps per example, or None when
        no example is padded. Returns ``(B, M, 2 * hidden_size)``."""
        x = side_info
        index = None
        if lengths is not None:
            index = reverse_index(lengths, x.shape[1]).unsqueeze(-1)
        last = len(self.forward_layers) - 1
        for i, (fwd, bwd) in enumerate(zip(self.forward_layers, self.backward_layers, strict=True)):
            ahead = fwd(x)[0]
            back = bwd(self._reverse(x, index))[0]
            x = torch.cat((ahead, self._reverse(back, index)), dim=-1)
            if self.dropout > 0 and i < last:
                x = functional.dropout(x, self.dropout, self.training)
        return x

    @staticmethod
    def _reverse(x: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
        if index is None:
            return x.flip(1)
        return x.gather(1, index.expand(-1, -1, x.shape[-1]))


class InformedSeparator(nn.Module):
    """Separator of one target source, informed by weak side information through attention.

    ``n_bins``: F, frequency bins of the mixture magnitude; ``side_dim``: D, values per
    side-information step (0 = BL1, no side encoder, no attention); ``config``: sizes;
    ``side_symbols``: for symbolic side information (lyrics), the vocabulary size: each step
    holds one symbol index (``D = 1``) that an embedding of ``side_hidden_size`` values turns
    into the side encoder's input (0: the values are fed as they are).
    Buffers ``input_mean`` / ``input_scale`` ``(F,)`` normalise the mixture input
    (``(mix - mean) * scale``, default 0 / 1); set them with :meth:`set_normalization`.
    """

    def __init__(
        self, n_bins: int, side_dim: int, config: ModelConfig, side_symbols: int = 0
    ) -> None:
        super().__init__()
        _check_config(n_bins, side_dim, config)
        if side_symbols < 0 or (side_symbols and side_dim != 1):
            raise ConfigError(
                f"model: symbolic side information needs side_dim 1 and a vocabulary, got "
                f"side_dim {side_dim} and {side_symbols} symbols"
            )
        self.n_bins = n_bins
        self.side_dim = side_dim
        self.side_symbols = side_symbols
        self.config = config
        self.register_buffer("input_mean", torch.zeros(n_bins))
        self.register_buffer("input_scale", torch.ones(n_bins))
        hidden, side_hidden = config.hidden_size, config.side_hidden_size
        self.mix_encoder = _blstm(n_bins, hidden, config.mix_layers, config.dropout)
        self.mix_proj = nn.Linear(2 * hidden, config.attention_size)
        if side_dim > 0:
            side_input = side_dim
            if side_symbols:
                self.side_embedding = nn.Embedding(side_symbols, side_hidden)
                self.symbol_encoder = _blstm(n_bins, hidden, config.mix_layers, config.dropout)
                self.symbol_head = nn.Linear(2 * hidden, side_symbols)
                side_input = side_hidden
            self.side_encoder = SideEncoder(
                side_input, side_hidden, config.side_layers, config.dropout
            )
            self.attention_weight = nn.Parameter(torch.empty(2 * hidden, 2 * side_hidden))
            bound = 1.0 / math.sqrt(2 * side_hidden)
            nn.init.uniform_(self.attention_weight, -bound, bound)
            self.context_proj = nn.Linear(2 * side_hidden, config.attention_size, bias=False)
            if config.position_frequencies > 0:
                size = 2 * config.position_frequencies
                self.position_weight = nn.Parameter(config.position_prior * torch.eye(size))
        self.decoder = _blstm(config.attention_size, hidden, config.decoder_layers, config.dropout)
        self.output_layer = nn.Linear(2 * hidden, n_bins)

    @property
    def informed(self) -> bool:
        """True when the model has a side-information encoder and attention (not BL1)."""
        return self.side_dim > 0

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part: mixture encoder, side encoder, attention, decoder, ..."""
        parts = {
            "mix_encoder": [self.mix_encoder],
            "side_encoder": [
                getattr(self, "side_embedding", None),
                getattr(self, "side_encoder", None),
            ],
            "attention": [
                getattr(self, "attention_weight", None),
                getattr(self, "position_weight", None),
            ],
            "combination": [self.mix_proj, getattr(self, "context_proj", None)],
            "decoder": [self.decoder],
            "symbol_recogniser": [
                getattr(self, "symbol_encoder", None),
                getattr(self, "symbol_head", None),
            ],
            "output": [self.output_layer],
        }
        return {name: sum(_count(m) for m in modules) for name, modules in parts.items()}

    def describe(self) -> str:
        """One paragraph: kind, sizes and parameter counts."""
        kind = "informed (encoder, side encoder, attention, decoder)" if self.informed else "BL1"
        sizes = ", ".join(f"{k}={v}" for k, v in asdict(self.config).items())
        parts = ", ".join(f"{k} {v:,}" for k, v in self.parameter_counts().items() if v)
        return (
            f"InformedSeparator [{kind}] F={self.n_bins} D={self.side_dim}; {sizes}; "
            f"{self.n_parameters:,} parameters ({parts})"
        )

    def set_normalization(
        self, mean: torch.Tensor | np.ndarray, std: torch.Tensor | np.ndarray, eps: float = 1e-8
    ) -> None:
        """Store per-bin statistics ``(F,)`` of the training mixtures: the model then feeds
        ``(mix - mean) / max(std, eps)`` to its encoder."""
        mean_t = torch.as_tensor(mean, dtype=self.input_mean.dtype).flatten()
        std_t = torch.as_tensor(std, dtype=self.input_scale.dtype).flatten()
        for name, value in (("mean", mean_t), ("std", std_t)):
            if value.shape != (self.n_bins,):
                raise ConfigError(
                    f"normalisation {name}: expected {self.n_bins} values, got {tuple(value.shape)}"
                )
            if not torch.isfinite(value).all():
                raise ConfigError(f"normalisation {name}: contains NaN or infinite values")
        self.input_mean.copy_(mean_t)
        self.input_scale.copy_(1.0 / std_t.clamp_min(eps))

    def forward(
        self,
        mix: torch.Tensor,
        side_info: torch.Tensor | None = None,
        side_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Estimate the target magnitude.

        ``mix (B, N, F)`` mixture magnitude; ``side_info (B, M, D)`` (ignored by BL1);
        ``side_mask (B, M)`` bool, True = real step, None = no padding. Returns
        ``estimate (B, N, F)`` (non-negative) and ``alpha (B, N, M)`` (None for BL1); each row of
        ``alpha`` sums to 1 over the real steps, and is all zero for an example without any.
        """
        self._check_mix(mix)
        g = self.mix_encoder(self._normalise(mix))[0]
        mixed = self.mix_proj(g)
        alpha = None
        if self.informed:
            lengths = self._lengths(side_info, side_mask, mix.shape[0])
            mixed, alpha = self._attend(g, mixed, side_info, lengths)
        return self._decode(mixed, mix), alpha

    def symbol_log_probs(self, mix: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(B, N, V)`` (float32) of the V symbols at every frame of the
        mixture magnitude ``mix (B, N, F)``, symbol 0 (padding) standing for CTC's blank: the
        recogniser of a symbolic model (its own BLSTM and a linear head, learnt with a CTC loss
        on the lyrics of each excerpt), with which whole songs are aligned
        (:mod:`wiass.inference.lyrics_alignment`)."""
        self._check_mix(mix)
        encoded = self.symbol_encoder(self._normalise(mix))[0]
        return torch.log_softmax(self.symbol_head(encoded).float(), dim=-1)

    def _decode(self, mixed: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """The target magnitude ``(B, N, F)`` from the combined features ``(B, N, A)``."""
        decoded = self.output_layer(self.decoder(torch.tanh(mixed))[0])
        if self.config.output == "mask":
            return torch.sigmoid(decoded) * mix
        if self.config.output == "clamped_mask":
            return (decoded + 0.5).clamp(0.0, 1.0) * mix
        return torch.relu(decoded)

    @torch.inference_mode()
    def infer(
        self,
        mix: torch.Tensor,
        side_info: torch.Tensor | None = None,
        side_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`forward` in eval mode without autograd (``torch.inference_mode``); the
        module's train/eval mode is restored afterwards."""
        was_training = self.training
        self.eval()
        try:
            return self(mix, side_info, side_mask)
        finally:
            self.train(was_training)

    def _attend(
        self,
        g: torch.Tensor,
        mixed: torch.Tensor,
        side_info: torch.Tensor,
        lengths: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention of the frames ``g (B, N, 2H)`` over the side steps; adds the projected
        context to ``mixed (B, N, A)``. ``lengths`` None means no padding."""
        steps = side_info.shape[1]
        if steps == 0:
            return mixed, g.new_zeros(g.shape[0], g.shape[1], 0)
        h = self.side_encoder(self._side_input(side_info, g.dtype), lengths)
        keys = functional.linear(h, self.attention_weight)
        scores = torch.bmm(g, keys.transpose(1, 2))
        if self.config.position_frequencies > 0:
            scores = scores + self._position_scores(g.shape[1], steps, lengths, g)
        alpha = masked_softmax(scores.float(), lengths)  # float32 even under bf16 autocast
        return torch.baddbmm(mixed, alpha.to(mixed.dtype), self.context_proj(h)), alpha

    def _side_input(self, side_info: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The side encoder's input: the values, or the embedding of their symbol indices."""
        if not self.side_symbols:
            return side_info.to(dtype)
        index = side_info[..., 0].round().long().clamp(0, self.side_symbols - 1)
        return self.side_embedding(index).to(dtype)

    def _position_scores(
        self, frames: int, steps: int, lengths: torch.Tensor | None, like: torch.Tensor
    ) -> torch.Tensor:
        """The relative-position term ``phi(p_n) . P . phi(q_m)`` of the scores, ``(B, N, M)``
        or ``(1, N, M)``: ``p_n = (n + 1/2) / N`` and ``q_m = (m + 1/2) / L`` are the positions
        of frame n and step m as fractions of the frames and of the example's L real steps."""
        n = torch.arange(frames, device=like.device, dtype=like.dtype)
        frame_pos = ((n + 0.5) / frames).unsqueeze(0)
        m = torch.arange(steps, device=like.device, dtype=like.dtype).unsqueeze(0)
        if lengths is None:
            step_pos = (m + 0.5) / steps
        else:
            step_pos = (m + 0.5) / lengths.clamp_min(1).to(like.dtype).unsqueeze(1)
        frame_features = self._fourier(frame_pos) @ self.position_weight
        return torch.bmm(
            frame_features.expand(step_pos.shape[0], -1, -1),
            self._fourier(step_pos).transpose(1, 2),
        )

    def _fourier(self, positions: torch.Tensor) -> torch.Tensor:
        """``[cos(pi k x), sin(pi k x)]`` for k = 1..K of positions ``(B, L)``: ``(B, L, 2K)``."""
        k = torch.arange(
            1, self.config.position_frequencies + 1, device=positions.device, dtype=positions.dtype
        )
        angles = math.pi * positions.unsqueeze(-1) * k
        return torch.cat((torch.cos(angles), torch.sin(angles)), dim=-1)

    def _normalise(self, mix: torch.Tensor) -> torch.Tensor:
        """``(mix - mean) * scale`` in one pass (one temporary of the size of ``mix``)."""
        shift = -self.input_mean * self.input_scale
        return torch.addcmul(shift, mix, self.input_scale)

    def _check_mix(self, mix: torch.Tensor) -> None:
        if mix.dim() != 3 or mix.shape[-1] != self.n_bins:
            raise ConfigError(
                f"model input: expected a mixture magnitude (batch, frames, {self.n_bins}), "
                f"got shape {tuple(mix.shape)} (does the STFT size match the model's?)"
            )

    def _lengths(
        self, side_info: torch.Tensor | None, side_mask: torch.Tensor | None, batch: int
    ) -> torch.Tensor | None:
        """Validate the side information; real steps per example ``(B,)``, None if unpadded."""
        if side_info is None:
            raise SideInfoError("model input: this model needs side information, got none")
        if (
            side_info.dim() != 3
            or side_info.shape[0] != batch
            or side_info.shape[2] != self.side_dim
        ):
            raise SideInfoError(
                f"model input: expected side information ({batch}, steps, {self.side_dim}), "
                f"got shape {tuple(side_info.shape)}"
            )
        if side_mask is None:
            return None
        if side_mask.shape != side_info.shape[:2] or side_mask.dtype != torch.bool:
            raise SideInfoError(
                f"model input: side_mask must be bool {tuple(side_info.shape[:2])}, "
                f"got {side_mask.dtype} {tuple(side_mask.shape)}"
            )
        lengths = side_mask.sum(dim=1)
        valid = torch.arange(side_mask.shape[1], device=side_mask.device) < lengths.unsqueeze(1)
        if not torch.equal(valid, side_mask):
            raise SideInfoError("model input: side_mask must mark real steps first, padding last")
        return None if bool(side_mask.all()) else lengths


def _count(part: nn.Module | nn.Parameter | None) -> int:
    if part is None:
        return 0
    if isinstance(part, nn.Parameter):
        return part.numel()
    return sum(p.numel() for p in part.parameters())
