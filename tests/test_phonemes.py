"""The phonemes kind: symbols in the model, lyric steps for training, whole-song alignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from helpers import TINY_MODEL

from wiass.config import Config, ModelConfig, SideInfoConfig
from wiass.errors import ConfigError
from wiass.inference.lyrics_alignment import (
    SymbolScores,
    scaled_likelihoods,
    step_confidence,
    symbol_path,
)
from wiass.lyrics import timing_from_json
from wiass.lyrics.symbols import PAUSE, SYMBOL_INDEX, SYMBOLS, WORD_BOUNDARY
from wiass.model import InformedSeparator
from wiass.separator import build_model
from wiass.sideinfo import get_kind
from wiass.sideinfo.phonemes import excerpt_phonemes, frame_symbols, phoneme_steps
from wiass.training import symbol_loss


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


def _posteriors(durations: list[int], symbols: list[int], vocabulary: int = 8) -> np.ndarray:
    """Log-probabilities that favour each step's symbol over its frames (0.6 against 0.4
    spread over the others)."""
    truth = np.repeat(np.array(symbols), durations)
    probs = np.full((truth.size, vocabulary), 0.4 / (vocabulary - 1))
    probs[np.arange(truth.size), truth] = 0.6
    return np.log(probs)


def test_symbol_path_recovers_uneven_step_lengths() -> None:
    durations, symbols = [30, 2, 2, 20, 1, 40, 7], [1, 5, 6, 7, 3, 6, 1]
    path = symbol_path(_posteriors(durations, symbols), np.array(symbols))
    np.testing.assert_array_equal(path, np.repeat(np.arange(7), durations))


def test_symbol_path_tells_repeated_symbols_apart_by_order() -> None:
    durations, symbols = [4, 6, 3, 6, 4], [1, 5, 6, 5, 1]
    path = symbol_path(_posteriors(durations, symbols), np.array(symbols))
    np.testing.assert_array_equal(path, np.repeat(np.arange(5), durations))


def test_symbol_path_visits_every_step_even_against_the_recogniser() -> None:
    log_probs = _posteriors([6, 6, 6], [1, 3, 4])
    path = symbol_path(log_probs, np.array([1, 3, 4, 6]))
    assert path[0] == 0 and path[-1] == 3 and set(np.diff(path).tolist()) <= {0, 1}


def test_symbol_path_coarse_to_fine_matches_the_full_search(monkeypatch) -> None:
    from wiass.inference import alignment

    rng = np.random.default_rng(1)
    durations = rng.integers(2, 12, size=60).tolist()
    symbols = (np.arange(60) % 6 + 1).tolist()
    log_probs = _posteriors(durations, symbols)
    monkeypatch.setattr(alignment, "MAX_CELLS", 4000)
    path = symbol_path(log_probs, np.array(symbols))
    np.testing.assert_array_equal(path, np.repeat(np.arange(60), durations))


def test_symbol_scores_pool_to_the_block_mean() -> None:
    rng = np.random.default_rng(0)
    scores = SymbolScores(rng.standard_normal((12, 4)), rng.standard_normal((6, 4)))
    full = scores.rows(slice(0, 12), slice(0, 6))
    pooled = scores.pooled(3).rows(slice(0, 4), slice(0, 2))
    np.testing.assert_allclose(pooled, full.reshape(4, 3, 2, 3).mean(axis=(1, 3)))


def test_confidence_is_the_mean_probability_of_the_step() -> None:
    durations, symbols = [4, 4, 4], [1, 3, 4]
    log_probs = _posteriors(durations, symbols)
    path = np.repeat(np.arange(3), durations)
    confidence = step_confidence(log_probs, np.array(symbols), path)
    np.testing.assert_allclose(confidence, 0.6)
    wrong = step_confidence(log_probs, np.array([5, 6, 7]), path)
    np.testing.assert_allclose(wrong, 0.4 / 7)


def test_frame_symbols_name_the_sung_symbol_and_pause_in_rests() -> None:
    steps = phoneme_steps(_timing(), duration=5.0)
    labels = frame_symbols(steps, 9, 10, 10.0)  # 0.9 .. 1.8 s
    names = [SYMBOLS[i] for i in labels]
    assert names == [PAUSE, "HH", "AY", "AY", "Y", "UW", "UW", PAUSE, PAUSE, PAUSE]
    gap = _Timing(
        ("a b",),
        (_Word("a", 0, (_Phoneme("AH", 1.0, 1.2),)), _Word("b", 0, (_Phoneme("B", 1.5, 1.6),))),
    )
    labels = frame_symbols(phoneme_steps(gap, 2.0), 10, 6, 10.0)
    assert [SYMBOLS[i] for i in labels] == ["AH", "AH", PAUSE, PAUSE, PAUSE, "B"]


def test_symbol_loss_is_the_frame_cross_entropy() -> None:
    log_probs = torch.log_softmax(torch.randn(2, 5, 8), dim=-1)
    labels = torch.tensor([[1, 1, 3, 3, 4], [2, 5, 5, 6, 1]])
    expected = -log_probs.gather(2, labels[..., None]).mean()
    torch.testing.assert_close(symbol_loss(log_probs, {"frame_symbols": labels}), expected)


def test_symbol_indices_are_stable() -> None:
    assert SYMBOLS[0] == "<pad>" and SYMBOL_INDEX[PAUSE] == 1 and SYMBOL_INDEX[WORD_BOUNDARY] == 2


def test_scaled_likelihoods_take_off_part_of_each_symbols_mean() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4]])
    scaled = scaled_likelihoods(np.log(probs), weight=0.5)
    expected = np.log(probs) - 0.5 * np.log(probs.mean(axis=0) + 1e-6)
    np.testing.assert_allclose(scaled, expected)
    np.testing.assert_allclose(scaled_likelihoods(np.log(probs), weight=0.0), np.log(probs))


def test_training_symbols_equal_those_of_the_songs_text() -> None:
    from wiass.data.synthetic import generate_song
    from wiass.lyrics import parse_lyrics

    song = generate_song(3, 20.0, 8000)
    timing = timing_from_json(song.metadata(), "song 3")
    assert timing is not None and len(timing.words) > 3
    steps = phoneme_steps(timing, song.seconds)
    text = parse_lyrics("\n".join(timing.lines), "song 3")
    np.testing.assert_array_equal(steps.symbols, text.symbol_indices())
