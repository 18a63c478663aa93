"""Whole-song alignment of lyrics (the ``phonemes`` kind) from the model's symbol recogniser.

Activity and band side information can be compared with a blind estimate of the voice; phonemes
cannot: only the model knows what an ``AH`` sounds like. A symbolic model has a recogniser (a
BLSTM of its own on the mixture and a linear head) trained with a CTC loss on the symbols each
training excerpt sings (their order, not their timing: :func:`wiass.training.ctc_loss`), beside
the separator. At separation time the recogniser reads the whole song once and gives every
frame's log-probabilities of the symbols (symbol 0, padding, standing for CTC's blank), and the
best CTC path through the whole song's symbol sequence (:func:`ctc_path`: each frame emits the
current symbol, a blank, or the next symbol; the path starts at the opening pause and ends at
the closing one) places every symbol: a step lasts from the frame it is first emitted on to the
frame the next one is; word boundaries make no sound and take no time (they sit where the next
word starts). The chunks then attend to the steps the path puts near them, as for the
other kinds.

Why a recogniser: the attention's own content scores, learned only through the separation
loss, did not tell phonemes apart well enough to place words over a whole song (words 4.3 s
off on average; ``benchmarks/lyrics_alignment.md``).

The dynamic programme is written here: CTC forced alignment (``torchaudio.functional.
forced_align``) is being removed from torchaudio, which would also be a new dependency for one
function; it keeps one byte per frame and state for the back-trace (about 13 MB for a 3-minute
song of 600 symbols at 62.5 frames per second).
"""

from __future__ import annotations

import numpy as np
import torch

from wiass.inference.alignment import GlobalAlignment
from wiass.lyrics.symbols import SYMBOL_INDEX, WORD_BOUNDARY
from wiass.separator import Separator
from wiass.sideinfo import SideInfo
from wiass.transforms import stft


@torch.inference_mode()
def symbol_log_probs(separator: Separator, model_audio: np.ndarray) -> np.ndarray:
    """Log-probabilities ``(N, V)`` of the symbols at every frame of ``model_audio (C, T)``
    (at the model's rate), from the model's symbol head."""
    model = separator.model.eval()
    audio = torch.from_numpy(np.ascontiguousarray(model_audio, dtype=np.float32))
    mono = stft(audio[None].to(separator.device), separator.stft).mean(dim=1).abs()
    return model.symbol_log_probs(mono)[0].cpu().numpy().astype(np.float64)


def ctc_path(log_probs: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """The step of every frame ``(N,)`` on the best CTC path of ``symbols (M,)`` (indices, no
    blank among them) through ``log_probs (N, V)`` (blank = 0); needs ``N >= M``. A frame
    belongs to the last symbol emitted at or before it (the first symbol before any)."""
    n_frames, n_steps = log_probs.shape[0], symbols.size
    labels = np.zeros(2 * n_steps + 1, dtype=np.int64)
    labels[1::2] = symbols
    skip = np.zeros(labels.size, dtype=bool)
    skip[3::2] = symbols[1:] != symbols[:-1]
    total = np.full(labels.size, -np.inf)
    total[:2] = log_probs[0, labels[:2]]
    moves = np.zeros((n_frames, labels.size), dtype=np.int8)
    for n in range(1, n_frames):
        one = np.concatenate([[-np.inf], total[:-1]])
        two = np.where(skip, np.concatenate([[-np.inf, -np.inf], total[:-2]]), -np.inf)
        best = np.maximum(total, np.maximum(one, two))
        moves[n] = np.where(best == total, 0, np.where(best == one, 1, 2))
        total = best + log_probs[n, labels]
    state = labels.size - 1 if total[-1] >= total[-2] else labels.size - 2
    states = np.empty(n_frames, dtype=np.int64)
    for n in range(n_frames - 1, -1, -1):
        states[n] = state
        state -= int(moves[n, state])
    return np.maximum((states - 1) // 2, 0)


def step_confidence(log_probs: np.ndarray, symbols: np.ndarray, path: np.ndarray) -> np.ndarray:
    """``(M,)`` in [0, 1]: per step, the highest probability the head gives its symbol on the
    frames the path puts on it (0 for a step without frames)."""
    probability = np.exp(log_probs[np.arange(path.size), symbols[path]])
    peak = np.zeros(symbols.size)
    np.maximum.at(peak, path, probability)
    return peak


def align_lyrics(separator: Separator, side: SideInfo, model_audio: np.ndarray) -> GlobalAlignment:
    """The whole-song alignment of the symbol steps of ``side`` to the frames of
    ``model_audio (C, T)`` (the song must have at least as many frames as steps)."""
    log_probs = symbol_log_probs(separator, model_audio)
    symbols = side.values[:, 0].round().astype(np.int64)
    sounding = np.flatnonzero(symbols != SYMBOL_INDEX[WORD_BOUNDARY])
    path = sounding[ctc_path(log_probs, symbols[sounding])]
    steps = np.arange(symbols.size)
    first = np.searchsorted(path, steps, side="left")
    last = np.searchsorted(path, steps, side="right") - 1
    centres = (first + np.maximum(first, last)) / 2.0
    rate = log_probs.shape[0] / symbols.size
    confidence = step_confidence(log_probs, symbols, path)
    return GlobalAlignment(path, centres, rate, _boundary_confidence(confidence, symbols))


def _boundary_confidence(confidence: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """Word boundaries take no frames; each gets the mean confidence of its two neighbours."""
    out = confidence.copy()
    for step in np.flatnonzero(symbols == SYMBOL_INDEX[WORD_BOUNDARY]):
        out[step] = confidence[max(step - 1, 0) : step + 2 : 2].mean()
    return out


__all__ = ["align_lyrics", "ctc_path", "step_confidence", "symbol_log_probs"]
