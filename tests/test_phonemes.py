"""The phonemes kind: symbols in the model, lyric steps for training, whole-song alignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from helpers import TINY_MODEL

from wiass.config import Config, ModelConfig, SideInfoConfig
from wiass.errors import ConfigError
from wiass.inference.lyrics_alignment import ctc_path, step_confidence
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, SYMBOLS, WORD_BOUNDARY
from wiass.model import InformedSeparator
from wiass.separator import build_model
from wiass.sideinfo import get_kind
from wiass.sideinfo.phonemes import excerpt_phonemes, phoneme_steps
from wiass.training import ctc_loss


@dataclass
class _Phoneme:
    symbol: str
    start: float
    end: float


@dataclass
class _Word:
    text: str
    line: int
    phonemes: tuple[_Phoneme, ...]


@dataclass
class _Timing:
    lines: tuple[str, ...]
    words: tuple[_Word, ...]


def _timing() -> _Timing:
    """Two lines: "hi you" (1.0-1.6 s), then "no" (3.0-3.5 s)."""
    hi = _Word("hi", 0, (_Phoneme("HH", 1.0, 1.1), _Phoneme("AY", 1.1, 1.3)))
    you = _Word("you", 0, (_Phoneme("Y", 1.3, 1.4), _Phoneme("UW", 1.4, 1.6)))
    no = _Word("no", 1, (_Phoneme("N", 3.0, 3.1), _Phoneme("OW", 3.1, 3.5)))
    return _Timing(("hi you", "no"), (hi, you, no))


def test_phonemes_kind_is_symbolic_and_padded() -> None:
    kind = get_kind("PHONEMES")
    assert kind.features == "symbols" and kind.dim(SideInfoConfig()) == 1
    assert kind.symbols == len(SYMBOLS) and kind.informative and kind.padded
    assert not kind.generated and kind.has_alignment


def test_model_embeds_symbols() -> None:
    config = Config.from_dict({"side_info": {"kind": "phonemes"}, "model": TINY_MODEL})
    config.audio.n_fft = 64
    torch.manual_seed(0)
    model = build_model(config).eval()
    assert model.side_symbols == len(SYMBOLS) and hasattr(model, "side_embedding")
    log_probs = model.symbol_log_probs(torch.rand(1, 20, model.n_bins))
    assert log_probs.shape == (1, 20, len(SYMBOLS))
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(1, 20))
    mix = torch.rand(1, 20, model.n_bins)
    side = torch.tensor([[[1.0], [5.0], [9.0]]])
    other = torch.tensor([[[1.0], [5.0], [10.0]]])
    first, alpha = model(mix, side)
    second, _ = model(mix, other)
    assert alpha.shape == (1, 20, 3)
    assert not torch.allclose(first, second), "a different symbol must change the estimate"


def test_symbolic_model_needs_one_value_per_step() -> None:
    with pytest.raises(ConfigError, match="side_dim 1"):
        InformedSeparator(33, 2, ModelConfig(**TINY_MODEL), side_symbols=10)


def test_phoneme_steps_put_pauses_and_boundaries_between_words() -> None:
    steps = phoneme_steps(_timing(), duration=5.0)
    names = [SYMBOLS[i] for i in steps.symbols]
    assert names == [
        PAUSE, "HH", "AY", WORD_BOUNDARY, "Y", "UW", PAUSE, "N", "OW", PAUSE,
    ]  # fmt: skip
    np.testing.assert_allclose(steps.start, [0, 1.0, 1.1, 1.3, 1.3, 1.4, 1.6, 3.0, 3.1, 3.5])
    np.testing.assert_allclose(steps.end, [1.0, 1.1, 1.3, 1.3, 1.4, 1.6, 3.0, 3.1, 3.5, 5.0])
    assert steps.words.tolist() == [-1, 0, 0, -1, 1, 1, -1, 2, 2, -1]


def test_excerpt_takes_the_sounding_steps_and_pads_from_the_context() -> None:
    steps = phoneme_steps(_timing(), duration=5.0)
    frame_rate = 10.0  # frame n centred at n / 10 s
    params = SideInfoConfig(pad_range=(1, 1))
    side = excerpt_phonemes(steps, 12, 10, frame_rate, np.random.default_rng(0), params)
    names = [SYMBOLS[int(v)] for v in side.values[:, 0]]
    # frames 12..21 cover 1.15 s .. 2.15 s: AY, |, Y, UW and the pause; HH and N pad them
    assert names == ["HH", "AY", WORD_BOUNDARY, "Y", "UW", PAUSE, "N"]
    assert side.alignment[0] == -1 and side.alignment[-1] == -1
    # AY inside: 1.15 .. 1.3 s, middle 1.225 s -> frame 12 -> excerpt frame 0
    assert side.alignment[1] == 0
    # the boundary at 1.3 s -> frame 13 -> excerpt frame 1
    assert side.alignment[2] == 1
    # the pause 1.6 .. 3.0 s, inside to 2.15 s: middle 1.875 s -> frame 19 -> 7
    assert side.alignment[5] == 7
    assert np.all(np.diff(side.alignment[1:-1]) >= 0)


def test_excerpt_in_a_long_pause_gets_the_pause() -> None:
    steps = phoneme_steps(_timing(), duration=5.0)
    params = SideInfoConfig(pad_range=(0, 0))
    side = excerpt_phonemes(steps, 20, 5, 10.0, np.random.default_rng(0), params)
    assert [SYMBOLS[int(v)] for v in side.values[:, 0]] == [PAUSE]
    assert side.alignment.tolist() == [2]


def _spiky(durations: list[int], symbols: list[int], vocabulary: int = 8) -> np.ndarray:
    """CTC-like log-probabilities: each step's symbol spikes on its first frame, blank (0)
    on the others."""
    frames = sum(durations)
    probs = np.full((frames, vocabulary), 0.01)
    probs[:, 0] = 0.9
    start = 0
    for duration, symbol in zip(durations, symbols, strict=True):
        probs[start, :] = 0.01
        probs[start, symbol] = 0.9
        start += duration
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def test_ctc_path_puts_each_step_from_its_spike_to_the_next() -> None:
    durations, symbols = [5, 1, 3, 8, 2, 6], [1, 3, 4, 3, 5, 1]
    path = ctc_path(_spiky(durations, symbols), np.array(symbols))
    np.testing.assert_array_equal(path, np.repeat(np.arange(6), durations))


def test_ctc_path_follows_the_head_not_the_uniform_split() -> None:
    durations, symbols = [30, 2, 2, 20, 1, 40], [1, 5, 6, 7, 2, 1]
    path = ctc_path(_spiky(durations, symbols), np.array(symbols))
    starts = np.searchsorted(path, np.arange(6))
    np.testing.assert_array_equal(starts, np.cumsum([0, *durations[:-1]]))


def test_ctc_path_separates_repeated_symbols_by_a_blank() -> None:
    log_probs = np.log(np.full((6, 4), 0.25))
    path = ctc_path(log_probs, np.array([2, 2, 2]))
    assert path[0] == 0 and path[-1] == 2 and np.all(np.diff(path) >= 0)
    assert np.all(np.bincount(path, minlength=3) >= 1)


def test_ctc_path_visits_every_step_even_against_the_head() -> None:
    durations, symbols = [6, 6, 6], [1, 3, 4]
    log_probs = _spiky(durations, symbols)
    path = ctc_path(log_probs, np.array([1, 3, 4, 6]))
    assert path[0] == 0 and path[-1] == 3 and set(np.diff(path).tolist()) <= {0, 1}


def test_confidence_is_the_spike_height() -> None:
    durations, symbols = [4, 4, 4], [1, 3, 4]
    log_probs = _spiky(durations, symbols)
    path = np.repeat(np.arange(3), durations)
    confidence = step_confidence(log_probs, np.array(symbols), path)
    np.testing.assert_allclose(confidence, np.exp(log_probs[[0, 4, 8], symbols]))
    assert np.all(confidence > 0.5)
    wrong = step_confidence(log_probs, np.array([5, 6, 7]), path)
    assert np.all(wrong < 0.1)


def test_ctc_loss_uses_the_sung_symbols_only() -> None:
    log_probs = torch.log_softmax(torch.randn(3, 12, 8), dim=-1)
    batch = {
        "side_info": torch.tensor([[[2.0], [3.0], [4.0]], [[5.0], [6.0], [0.0]], [[0.0]] * 3]),
        "alignment": torch.tensor([[-1, 2, 7], [0, -1, -1], [-1, -1, -1]]),
    }
    loss = ctc_loss(log_probs, batch)
    expected = torch.nn.functional.ctc_loss(
        log_probs[:2].transpose(0, 1),
        torch.tensor([3, 4, 5]),
        torch.tensor([12, 12]),
        torch.tensor([2, 1]),
        blank=0,
        zero_infinity=True,
    )
    torch.testing.assert_close(loss, expected)


def test_symbol_indices_are_stable() -> None:
    assert SYMBOLS[0] == "<pad>" and SYMBOL_INDEX[PAUSE] == 1 and SYMBOL_INDEX[WORD_BOUNDARY] == 2
